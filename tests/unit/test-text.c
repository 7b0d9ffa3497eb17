/* SPDX-License-Identifier: Apache-2.0 */
/* test-text.c - cutting UTF-8 text on a character boundary. */
#include "config.h"

#include <glib.h>
#include <string.h>

#include "p2m-text.h"

static void
test_cut(void)
{
	/* "é" is 2 bytes, "€" 3, "𝄞" 4 */
	static const struct { const char *s; size_t max, want; } cases[] = {
		{ "abc", 5, 3 }, { "abc", 3, 3 }, { "abc", 2, 2 }, { "abc", 0, 0 },
		{ "aé", 2, 1 }, { "aé", 3, 3 }, { "a€b", 2, 1 }, { "a€b", 3, 1 }, { "a€b", 4, 4 },
		{ "𝄞x", 1, 0 }, { "𝄞x", 3, 0 }, { "𝄞x", 4, 4 }, { "ééé", 5, 4 },
	};
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(cases); i++) {
		size_t got = p2m_text_utf8_cut(cases[i].s, strlen(cases[i].s), cases[i].max);

		if (got != cases[i].want)
			g_error("'%s' max %zu: got %zu, want %zu", cases[i].s, cases[i].max, got, cases[i].want);
		g_assert_true(g_utf8_validate(cases[i].s, (gssize) got, NULL));
	}
	/* stray continuation bytes never send it past the start */
	g_assert_cmpuint(p2m_text_utf8_cut("\x80\x80\x80\x80", 4, 2), ==, 0);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/text/utf8-cut", test_cut);
	return g_test_run();
}
