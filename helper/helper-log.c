/* SPDX-License-Identifier: Apache-2.0 */
/* helper-log.c - print2mail-helper's log: syslog always, stderr too in the foreground. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>

#include "helper-log.h"

static gboolean to_stderr;
static GMutex log_lock;

void
helper_log_init(gboolean foreground)
{
	to_stderr = foreground;
	openlog("print2mail-helper", LOG_PID, LOG_DAEMON);
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
		        priority <= LOG_ERR ? "error: " : priority == LOG_WARNING ? "warning: " : "", line);
	g_mutex_unlock(&log_lock);
}
