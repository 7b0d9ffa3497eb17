/* SPDX-License-Identifier: Apache-2.0 */
/* helper-log.c - print2mail-helper's log: syslog always, stderr too in the foreground. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>

#include "helper-log.h"
#include "p2m-debug.h"

static gboolean to_stderr;
static GMutex log_lock;

/* The library's transcript (token requests, SMTP tests, timings; never a
 * secret) at LOG_DEBUG.  Forked children inherit it: the unprivileged ones
 * that make the requests log under their own pid. */
static void
debug_sink(const char *line, void *ctx)
{
	helper_log(LOG_DEBUG, "%s", line);
}

void
helper_log_init(gboolean foreground, gboolean debug)
{
	to_stderr = foreground;
	openlog("print2mail-helper", LOG_PID, LOG_DAEMON);
	if (debug)
		p2m_debug_set_sink(debug_sink, NULL);
}

void
helper_log(int priority, const char *fmt, ...)
{
	g_autofree char *line = NULL;
	va_list ap;

	va_start(ap, fmt);
	line = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_mutex_lock(&log_lock);
	syslog(priority, "%s", line);
	if (to_stderr)
		fprintf(stderr, "print2mail-helper: %s%s\n",
		        priority <= LOG_ERR ? "error: " : priority == LOG_WARNING ? "warning: " :
		        priority == LOG_DEBUG ? "debug: " : "", line);
	g_mutex_unlock(&log_lock);
}
