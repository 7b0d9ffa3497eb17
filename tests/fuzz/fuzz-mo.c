/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz-mo.c - libFuzzer target: the .mo catalogue parser never crashes, whatever the file holds. */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include <glib.h>

#include "p2m-i18n.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = { "", "Internal error", "Message too large", "Sign-in refused", "zzz" };
	p2m_catalog *cat = p2m_i18n_parse_mo(data, size);
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(keys); i++) {
		const char *t = p2m_i18n_get(cat, keys[i]);

		/* an answer is always a string; without a catalogue, the msgid */
		g_assert_nonnull(t);
		if (cat == NULL)
			g_assert_true(t == keys[i]);
		else
			(void) strlen(t);
	}
	g_assert_nonnull(p2m_i18n_language(cat));
	p2m_i18n_free(cat);
	return 0;
}
