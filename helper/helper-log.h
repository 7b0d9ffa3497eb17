/* SPDX-License-Identifier: Apache-2.0 */
/* helper-log.h - print2mail-helper's log: syslog always, stderr too in the foreground. */
#ifndef HELPER_LOG_H
#define HELPER_LOG_H

#include <glib.h>
#include <syslog.h>

void helper_log_init(gboolean foreground, gboolean debug);
/* One line at PRIORITY (LOG_ERR, LOG_WARNING, LOG_INFO).  Never pass a secret. */
void helper_log(int priority, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

#endif /* HELPER_LOG_H */
