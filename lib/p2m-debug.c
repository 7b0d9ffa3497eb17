/* SPDX-License-Identifier: Apache-2.0 */
/* p2m-debug.c - the transcript sink (see p2m-debug.h). */
#include "config.h"

#include <stdarg.h>

#include "p2m-debug.h"

static p2m_debug_sink debug_sink;
static void *debug_ctx;

void
p2m_debug_set_sink(p2m_debug_sink sink, void *ctx)
{
	debug_sink = sink;
	debug_ctx = ctx;
}

gboolean
p2m_debug_enabled(void)
{
	return debug_sink != NULL;
}

void
p2m_debug(const char *fmt, ...)
{
	g_autofree char *line = NULL;
	va_list ap;

	if (debug_sink == NULL)
		return;
	va_start(ap, fmt);
	line = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	debug_sink(line, debug_ctx);
}
