/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz-token.c - libFuzzer target: token-endpoint and device-code replies through their pure parsers. */
#include "config.h"

#include <glib.h>
#include <stdint.h>
#include <stdlib.h>

#include "p2m-error.h"
#include "p2m-fail.h"
#include "p2m-oauth.h"
#include "p2m-token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	p2m_token *t = NULL;
	p2m_oauth_device *d = NULL;
	GError *error = NULL;
	gboolean ok;

	ok = p2m_token_parse_response((const char *) data, size, 1000, &t, &error);
	/* success gives a token and no error; failure an error and no token */
	if (ok != (t != NULL) || ok == (error != NULL))
		abort();
	/* a refusal carries a token-endpoint rule */
	if (error != NULL && error->code == P2M_E_TOKEN && p2m_fail_rule(error)->source != P2M_RULE_TOKEN)
		abort();
	if (t != NULL && (t->access_token == NULL || t->expires_at <= 1000))
		abort();
	p2m_token_free(t);
	g_clear_error(&error);
	ok = p2m_oauth_device_parse((const char *) data, size, 1000, &d, &error);
	if (ok != (d != NULL) || ok == (error != NULL))
		abort();
	p2m_oauth_device_free(d);
	g_clear_error(&error);
	return 0;
}
