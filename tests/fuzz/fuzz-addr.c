/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz-addr.c - libFuzzer target: address validation, recipient lists and allowed_recipients patterns. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "p2m-addr.h"

/* What every accepted address must be, whatever the checker's code says. */
static void
check_valid(const char *a)
{
	const char *at = strchr(a, '@');

	if (at == NULL || strchr(at + 1, '@') != NULL || strlen(a) > P2M_ADDR_MAX || at - a > 64)
		abort();
	for (const char *p = a; *p; p++)
		if ((unsigned char) *p <= 0x20 || (unsigned char) *p >= 0x7f || strchr("\"<>(),;:[]\\", *p))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = g_strndup((const char *) data, size);
	const char *pats[] = { s, NULL };
	char **list;
	GError *err = NULL;

	if (p2m_addr_is_valid(s)) {
		char *norm = p2m_addr_normalize(s);

		check_valid(s);
		if (norm == NULL || !p2m_addr_is_valid(norm) || p2m_addr_domain(s) == NULL)
			abort();
		g_free(norm);
	}
	list = p2m_addr_parse_list(s, &err);
	if ((list == NULL) == (err == NULL))
		abort();
	for (size_t i = 0; list != NULL && list[i] != NULL; i++) {
		check_valid(list[i]);
		if (i >= P2M_ADDR_MAX_RECIPIENTS)
			abort();
	}
	g_strfreev(list);
	g_clear_error(&err);
	(void) p2m_addr_pattern_is_valid(s);
	(void) p2m_addr_allowed("bob@contoso.com", pats, NULL);
	(void) p2m_addr_allowed(s, NULL, "contoso.com");
	g_free(s);
	return 0;
}
