/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz-uri.c - libFuzzer target: the device URI parser and the one-line cleaner never crash and stay bounded. */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include <glib.h>

#include "p2m-job.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autofree char *s = g_strndup((const char *) data, size);
	g_autoptr(GError) err = NULL;
	g_autoptr(p2m_uri) u = p2m_uri_parse(s, &err);
	g_autofree char *line = p2m_job_clean_line(s, 255);

	/* exactly one of a result and an error */
	g_assert_true((u == NULL) != (err == NULL));
	if (u != NULL)
		g_assert_nonnull(u->to);
	g_assert_true(strlen(line) <= 255 && g_utf8_validate(line, -1, NULL));
	g_assert_null(strpbrk(line, "\r\n"));
	return 0;
}
