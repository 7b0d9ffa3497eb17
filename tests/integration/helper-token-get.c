/* SPDX-License-Identifier: Apache-2.0 */
/* helper-token-get.c - test driver: what the backend does for a token (p2m_token_get), printed without the token. */
#include "config.h"

#include <glib.h>
#include <stdio.h>

#include "p2m-error.h"
#include "p2m-fail.h"
#include "p2m-token.h"

/* Usage: helper-token-get ACCOUNT [USER].  Prints "ok expires_at=N" or
 * "error NAME rule=ID: MESSAGE", and "warning RULE" when the credential is
 * about to expire.  Exit 0 on a token, 1 otherwise. */
int
main(int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(p2m_config) cfg = NULL;
	g_autoptr(p2m_token) t = NULL;
	const p2m_account *a;
	const p2m_rule *warn;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: %s ACCOUNT [USER]\n", argv[0]);
		return 2;
	}
	if ((cfg = p2m_config_load(NULL, &error)) == NULL || (a = p2m_config_find(cfg, argv[1])) == NULL) {
		printf("error config: %s\n", error != NULL ? error->message : "no such account");
		return 1;
	}
	if ((warn = p2m_token_warning(cfg, a)) != NULL)
		printf("warning %s\n", warn->keyword);
	if ((t = p2m_token_get(cfg, a, argc == 3 ? argv[2] : NULL, &error)) == NULL) {
		printf("error %s rule=%s: %s\n", p2m_error_name((p2m_error) error->code),
		       p2m_fail_rule(error)->id, error->message);
		return 1;
	}
	printf("ok expires_at=%" G_GINT64_FORMAT "\n", t->expires_at);
	return 0;
}
