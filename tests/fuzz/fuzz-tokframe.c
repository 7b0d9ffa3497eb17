/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz-tokframe.c - libFuzzer target: the unprivileged child's token and device-code answers through root's pure parsers. */
#include "config.h"

#include <glib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "p2m-error.h"
#include "p2m-tokframe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	p2m_token *t = NULL;
	p2m_oauth_device *d = NULL;
	const p2m_rule *rule = NULL;
	char *oauth = NULL;
	GError *error = NULL;
	gboolean ok;

	ok = p2m_tokframe_parse(data, size, 1000, &t, &oauth, &rule, &error);
	/* success gives a token and no error; failure an error and no token */
	if (ok != (t != NULL) || ok == (error != NULL))
		abort();
	if (t != NULL && (t->access_token == NULL || !p2m_token_chars_ok(t->access_token->data)
	                  || t->expires_at <= 1000 || t->expires_at > 1000 + P2M_TOKEN_MAX_LIFETIME))
		abort();
	/* a refusal always names its rule; a message is one line */
	if (error != NULL && error->code == P2M_E_TOKEN && rule == NULL)
		abort();
	if (error != NULL && (strchr(error->message, '\n') != NULL || strchr(error->message, '\r') != NULL))
		abort();
	p2m_token_free(t);
	g_free(oauth);
	g_clear_error(&error);
	ok = p2m_tokframe_parse_device(data, size, 1000, &d, &rule, &error);
	if (ok != (d != NULL) || ok == (error != NULL))
		abort();
	if (d != NULL && (d->device_code == NULL || d->user_code == NULL || d->verification_uri == NULL
	                  || d->interval < 1 || d->interval > 300 || d->expires_at <= 1000))
		abort();
	p2m_oauth_device_free(d);
	g_clear_error(&error);
	return 0;
}
