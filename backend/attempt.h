/* SPDX-License-Identifier: Apache-2.0 */
/* attempt.h - one live attempt per job, and a record of a job the server accepted, so a job cupsd restarts is neither sent twice at once nor sent again. */
#ifndef BK_ATTEMPT_H
#define BK_ATTEMPT_H

#include <signal.h>

#include <glib.h>

/* How long a record of an accepted job is kept (cupsd restarts a job within minutes). */
#define BK_ATTEMPT_KEEP_S (7 * 24 * 3600)

typedef struct bk_attempt bk_attempt;

/*
 * As root, before the network.  STATE_DIR/jobs/PRINTER-JOB.job is flocked
 * for as long as this attempt lives, so a second attempt of the same job
 * (cupsd stopped and started while the first was still ending) waits up to
 * WAIT_S seconds for the first to end: never two connections for one job.
 * FINGERPRINT tells this job from another one that got the same number
 * (cupsd's state wiped).  When an earlier attempt of this same job had the
 * message accepted and could not tell cupsd, *SENT_REPLY is set to the
 * server's answer then (caller frees): report it, send nothing.
 * Errors: P2M_E_STORE (state_dir unusable), P2M_E_CONNECT (the earlier
 * attempt is still running after WAIT_S), P2M_E_CANCELED.
 */
bk_attempt *bk_attempt_begin(const char *state_dir, const char *printer, const char *job_id,
                             const char *fingerprint, unsigned wait_s, volatile sig_atomic_t *cancel,
                             char **sent_reply, GError **error);

/* The server accepted the message with FINAL_REPLY: recorded through the
 * descriptor opened as root, so it works after privileges are dropped.
 * Best effort: a full disk loses the record, never the message. */
void bk_attempt_sent(bk_attempt *a, const char *final_reply);

/* This attempt ends in a retry: counted in the record (through the same
 * descriptor), and the count of such attempts of this job so far returned,
 * this one included.  cupsd gives a job up after JobRetryLimit retries;
 * the caller stops the queue instead.  0 for NULL. */
guint bk_attempt_failed(bk_attempt *a);

/* cupsd's JobRetryLimit ($CUPS_SERVERROOT/cupsd.conf, else /etc/cups;
 * its default when unreadable); 0 = no limit.  Needs root. */
guint bk_attempt_retry_limit(void);

/* Release the job's lock.  Accepts NULL. */
void bk_attempt_end(bk_attempt *a);

#endif /* BK_ATTEMPT_H */
