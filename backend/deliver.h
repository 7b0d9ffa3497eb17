/* SPDX-License-Identifier: Apache-2.0 */
/* deliver.h - one job from the config to the server's last word: every step before and after SMTP, as the backend runs it. */
#ifndef BK_DELIVER_H
#define BK_DELIVER_H

#include <signal.h>

#include "p2m-i18n.h"
#include "p2m-job.h"
#include "report.h"

/* How long a job waits for a connection slot and a place in the minute's budget of its mailbox. */
#define BK_DELIVER_SLOT_WAIT_S 300

/*
 * Deliver JOB: load the config, find the account, work out sender and
 * recipients, refuse a recipient outside allowed_recipients before any
 * connection, read the credential, take a connection slot, drop privileges,
 * send, and classify what went wrong.  OUT says how it ended; INFO and STATE
 * progress lines go to stderr on the way, the outcome lines do not (see
 * bk_report_outcome).  *CANCEL is set by SIGTERM.
 */
void bk_deliver(p2m_job *job, const p2m_catalog *cat, volatile sig_atomic_t *cancel, bk_outcome *out);

#endif /* BK_DELIVER_H */
