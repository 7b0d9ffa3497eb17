/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz-config.c - libFuzzer target: p2m_config_parse on arbitrary bytes. */
#include "config.h"

#include <glib.h>
#include <stdint.h>

#include "p2m-config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	GError *error = NULL;
	p2m_config *cfg = p2m_config_parse((const char *) data, size, "fuzz.conf", &error);

	/* Exactly one of result and error. */
	if ((cfg == NULL) == (error == NULL))
		__builtin_trap();
	p2m_config_free(cfg);
	g_clear_error(&error);
	return 0;
}
