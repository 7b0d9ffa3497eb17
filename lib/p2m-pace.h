/* SPDX-License-Identifier: Apache-2.0 */
/* p2m-pace.h - Microsoft's per-mailbox limits kept on this host, whatever the transport: connections at once and messages a minute, shared by every backend through state_dir. */
#ifndef P2M_PACE_H
#define P2M_PACE_H

#include <signal.h>

#include <glib.h>

/* The window Microsoft counts messages in. */
#define P2M_PACE_WINDOW_MS   60000
/* Largest message log read (a mailbox sends at most a few thousand a minute). */
#define P2M_PACE_LOG_MAX     (64 * 1024)
/* Entries kept at most, whatever the file says. */
#define P2M_PACE_ENTRIES_MAX 4096

/*
 * State in STATE_DIR/pace (0700, root's like the rest of state_dir):
 *   MAILBOX.conn1 .. .connN  one lock file per connection slot: a backend
 *                            holds the flock of one while it may connect, so
 *                            a backend that dies frees its slot with it;
 *   MAILBOX.log              the times (ms since the epoch) and process ids
 *                            of the messages sent in the last minute, one
 *                            "MS PID" per line, rewritten under its flock.
 *                            Entries older than the window are dropped at
 *                            every reading, so a crashed backend's entry
 *                            counts for at most one minute (a message it may
 *                            have sent), never for ever; entries in the
 *                            future (the clock went back) are dropped too.
 */
typedef struct p2m_pace p2m_pace;

/* Called while a job waits: UNTIL_MS is when the wait ends at the latest
 * (ms since the epoch) and BUSY_CONNECTIONS says which limit is reached. */
typedef void (*p2m_pace_wait_fn)(void *ctx, gboolean busy_connections, gint64 until_ms);

typedef struct {
	const char            *state_dir;
	const char            *mailbox;             /* the sending mailbox (case-insensitive) */
	unsigned               max_connections;     /* at least 1 */
	unsigned               max_per_minute;      /* 0 = not paced */
	unsigned               max_wait_s;          /* give up after this (P2M_E_CONNECT, retried) */
	volatile sig_atomic_t *cancel;              /* set by SIGTERM: stop waiting (P2M_E_CANCELED) */
	p2m_pace_wait_fn       on_wait;             /* may be NULL; called when a wait starts or its end moves */
	void                  *ctx;
} p2m_pace_request;

/*
 * Take a connection slot, then a place in the minute's budget (the slot
 * first, so the time recorded is right before connecting).  Waits while
 * either is used up, at most REQ->max_wait_s.  The slot and the log stay
 * open after privileges are dropped: p2m_pace_done() needs no access to
 * state_dir.  Errors: P2M_E_STORE (state_dir unusable, e.g. full: the
 * message says so), P2M_E_CONNECT (still busy after max_wait_s),
 * P2M_E_CANCELED.
 */
p2m_pace *p2m_pace_acquire(const p2m_pace_request *req, GError **error);

/* Why messages are not paced although they should be (the log could not
 * be written: state_dir full), or NULL.  The job still goes. */
const char *p2m_pace_warning(const p2m_pace *pace);

/* The message went (SENT: its entry moves to now, when the server had it)
 * or did not (its entry is removed: nothing was counted).  Then frees PACE
 * and its slot.  Accepts NULL. */
void p2m_pace_done(p2m_pace *pace, gboolean sent);
void p2m_pace_free(p2m_pace *pace);   /* = p2m_pace_done(pace, TRUE) */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(p2m_pace, p2m_pace_free)

/* ---- pure parts (tests, fuzzing) ---- */

typedef struct {
	gint64 ms;
	gint64 pid;
} p2m_pace_entry;

/*
 * Parse a message log of LEN bytes (at most P2M_PACE_LOG_MAX looked at)
 * into OUT (capacity CAP), keeping only entries in the window ending at
 * NOW_MS (NOW_MS - WINDOW < ms <= NOW_MS).  Malformed lines are skipped.
 * Returns the number kept, sorted by time.
 */
gsize p2m_pace_parse(const char *data, gsize len, gint64 now_ms, p2m_pace_entry *out, gsize cap);

/* Text of N entries, one "MS PID\n" each; caller frees. */
char *p2m_pace_format(const p2m_pace_entry *e, gsize n);

/* With the N entries of the window (sorted) and a budget of MAX a minute:
 * 0 when one more may go now, else when (ms since the epoch) the next may
 * go.  MAX 0 = no limit. */
gint64 p2m_pace_next_slot(const p2m_pace_entry *e, gsize n, unsigned max, gint64 now_ms);

#endif /* P2M_PACE_H */
