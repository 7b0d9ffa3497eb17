/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz-options.c - libFuzzer target: what cupsd hands the backend: a job's options string (p2m-options and libcups must agree) and cupsd.conf's JobRetryLimit. */
#include "config.h"

#include <cups/cups.h>
#include <stdint.h>
#include <stdlib.h>

#include "p2m-job.h"
#include "p2m-options.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *names[] = { "mailto", "mailcc", "mail-subject", "a", "no", "{a" };
	char *s = g_strndup((const char *) data, size);
	cups_option_t *options = NULL;
	int n = cupsParseOptions(s, 0, &options);

	for (size_t k = 0; k < G_N_ELEMENTS(names); k++) {
		char *got = p2m_options_get((const char *) data, size, names[k]);

		if (g_strcmp0(got, cupsGetOption(names[k], n, options)) != 0)
			abort();
		g_free(got);
	}
	cupsFreeOptions(n, options);
	g_free(s);
	if (p2m_job_retry_limit((const char *) data, size) > 1000000)
		abort();
	return 0;
}
