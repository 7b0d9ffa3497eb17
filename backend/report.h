/* SPDX-License-Identifier: Apache-2.0 */
/* report.h - the one place the backend talks to cupsd (STATE/ATTR/INFO/ERROR lines on stderr) and to syslog. */
#ifndef BK_REPORT_H
#define BK_REPORT_H

#include <glib.h>

#include "p2m-config.h"
#include "p2m-error.h"
#include "p2m-i18n.h"
#include "p2m-job.h"
#include "p2m-rules.h"

/* Longest text after "ERROR: ": cupsd keeps 1024 bytes of a state message. */
#define BK_REPORT_ERROR_MAX 1000
/* Added to the fix when a per-user refusal holds only this job (a msgid,
 * listed in p2m-rules.c's extra_msgids so its translations are checked). */
#define BK_REPORT_HELD_FOR_USER "Only this job is held; other jobs go on. After the fix: lp -i {queue}-{job} -H resume"
/* Appended when the retries are used up (cupsd would abort the job). */
#define BK_REPORT_RETRIES_USED_UP "cupsd gives a job up after JobRetryLimit failed attempts, so the queue is stopped instead and the job kept. Once the cause is gone: cupsenable {queue}"

/* How one job ended, filled by the delivery and read by the report. */
typedef struct {
	p2m_error       err;          /* P2M_OK: delivered */
	const p2m_rule *rule;         /* the classified refusal; NULL when delivered or canceled */
	char           *detail;       /* what the failing module said (English, no secret), or NULL */
	char           *reply;        /* the server's reply verbatim, or NULL */
	const char     *stage;        /* the SMTP step the reply answered, or NULL */
	char           *account;      /* account name, or NULL when unknown */
	char           *sender;       /* envelope sender, or NULL */
	char          **recipients;   /* envelope recipients, or NULL */
	char           *final_reply;  /* the server's "250 ... Queued" on success */
	guint64         bytes;        /* message bytes sent */
	const p2m_rule *warning;      /* a warning to show even on success (expiring secret), or NULL */
	gboolean        per_user;     /* signed in with the job user's own credential (send_as = job-user) */
	gint64          warning_until; /* when the credential WARNING is about expires (unix s), 0 = unknown */
	guint           retries;      /* set (the count) when a retry now would make cupsd give the job up */
} bk_outcome;

void bk_outcome_clear(bk_outcome *o);
/* The debug sink (p2m-debug.h) of the backend: one "DEBUG: " line for cupsd,
 * which logs it at LogLevel debug. */
void bk_report_debug(const char *line, void *ctx);
/* Record a failure: ERR's code, the rule it carries (p2m_fail_rule) and its message. */
void bk_outcome_fail(bk_outcome *o, const GError *err);
/* What happens to the job.  With per_user, a server's account-class
 * refusal (SMTP or token endpoint) holds only this job: one user's mailbox
 * or sign-in never stops a shared queue (DESIGN-NOTES.md). */
p2m_class bk_outcome_class(const bk_outcome *o);

/* One "PREFIX: text" line on stderr, TEXT made one line of valid UTF-8.
 * PREFIX is INFO, DEBUG, STATE or ATTR; ERROR goes only through
 * bk_report_outcome(). */
void bk_report_line(const char *prefix, const char *text);
/* INFO line from a translated FMT ("%s" conversions, see p2m_job_fill). */
void bk_report_info(const p2m_catalog *cat, const char *msgid, const char *const *args);

/* The ERROR text: the localized fix (placeholders filled), then the server's
 * reply (or the local detail) quoted, then the documentation URL; at most
 * BK_REPORT_ERROR_MAX bytes, only the quote is ever shortened.  Caller frees. */
char *bk_report_error_text(const bk_outcome *o, const p2m_job *job, const p2m_catalog *cat);

/* Everything cupsd must hear about the outcome, in the order cupsd needs:
 * STATE -/+ reasons, ATTR, then INFO on success or exactly one ERROR line
 * last.  Returns the CUPS exit code (p2m_class_to_cups). */
int bk_report_outcome(const bk_outcome *o, const p2m_job *job, const p2m_catalog *cat);

/* One syslog line (LOG_LPR, ident print2mail) for the outcome: info when
 * delivered, err when the queue stops, warning otherwise.  With
 * $PRINT2MAIL_SYSLOG_SOCKET set (tests) an RFC 3164 datagram goes to that
 * AF_UNIX socket instead. */
void bk_report_syslog(const bk_outcome *o, const p2m_job *job);

/* Discovery: one "direct print2mail://NAME ..." line per account on stdout.
 * An unreadable config prints nothing. */
void bk_report_devices(const p2m_config *cfg);

#endif /* BK_REPORT_H */
