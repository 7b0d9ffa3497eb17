/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz-pace.c - libFuzzer target: the pacing log parser keeps only sorted in-window entries and its output parses back the same. */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include <glib.h>

#include "p2m-pace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static p2m_pace_entry e[64], again[64];
	const gint64 now = 1800000000000;
	g_autofree char *text = NULL;
	gsize n, m, i;

	n = p2m_pace_parse((const char *) data, size, now, e, G_N_ELEMENTS(e));
	g_assert_true(n <= G_N_ELEMENTS(e));
	for (i = 0; i < n; i++) {
		g_assert_true(e[i].ms > now - P2M_PACE_WINDOW_MS && e[i].ms <= now);
		g_assert_true(i == 0 || e[i - 1].ms <= e[i].ms);
	}
	text = p2m_pace_format(e, n);
	m = p2m_pace_parse(text, strlen(text), now, again, G_N_ELEMENTS(again));
	g_assert_cmpuint(m, ==, n);
	g_assert_true(memcmp(e, again, n * sizeof(*e)) == 0);
	g_assert_true(p2m_pace_next_slot(e, n, 30, now) == 0 || p2m_pace_next_slot(e, n, 30, now) > now);
	return 0;
}
