/* SPDX-License-Identifier: Apache-2.0 */
/* p2m-unpriv.h - network exchanges without root: a child drops to lp, talks to the server, hands a bounded answer back over a pipe. */
#ifndef P2M_UNPRIV_H
#define P2M_UNPRIV_H

#include <glib.h>

/* The user every network exchange runs as (cupsd runs filters as lp). */
#define P2M_UNPRIV_USER        "lp"
/* Caps on what crosses the boundary in each direction. */
#define P2M_UNPRIV_REQUEST_MAX (2 * 1024 * 1024)   /* a CA bundle of up to 1 MiB and a form */
#define P2M_UNPRIV_REPLY_MAX   (64 * 1024)

/*
 * What a child runs, already without root: REQ in (the caller's bytes: in
 * the child's copy of the caller's memory, or received over the spawner's
 * socket), its answer appended to REPLY.  Every outcome, failures included,
 * is encoded in REPLY; the root side treats REPLY as hostile input and
 * re-validates it with a pure parser.  REPLY over P2M_UNPRIV_REPLY_MAX
 * bytes fails the call.
 */
typedef void (*p2m_unpriv_fn)(const guint8 *req, gsize req_len, GByteArray *reply);

/* When running as root: become USER for good (supplementary groups, gid,
 * uid), checked by trying to get root back, and not dumpable.  Not root:
 * nothing to do.  P2M_E_PERMISSION on any failure. */
gboolean p2m_unpriv_drop(const char *user, GError **error);

/*
 * For a program with threads (print2mail-helper): fork, while still
 * single-threaded, a spawner process that drops to P2M_UNPRIV_USER at once
 * and from then on forks one child per p2m_unpriv_run() call, which reads
 * its request from a socket only root writes to.  fork() in a
 * threaded program would copy locks other threads hold (OpenSSL's, GLib's)
 * into a child that can never release them.  The spawner loads libcurl
 * (p2m_curl_load) once it is no longer root, so that its children find it
 * loaded; this process does not.  Without a spawner
 * p2m_unpriv_run() forks the caller itself, which is right for a
 * single-threaded program (the backend).  The spawner exits when this
 * process does.  P2M_E_PERMISSION when there is no such user, P2M_E_INTERNAL
 * when fork or socketpair fail.
 */
gboolean p2m_unpriv_start_spawner(GError **error);
/* The spawner's pid, or 0 when none was started: a program watches it,
 * since a dead spawner cannot be forked again once threads run. */
GPid p2m_unpriv_spawner_pid(void);

/*
 * Run FN(REQ) in a child that is not root (P2M_UNPRIV_USER when this
 * process is root; otherwise this process's own user), and wait at most
 * TIMEOUT_S seconds for its answer, which lands in *REPLY (free it with
 * p2m_unpriv_reply_free: it may hold a token).  The child's standard input
 * and output are /dev/null and it inherits no other descriptor but standard
 * error; it is killed by SIGALRM at TIMEOUT_S.  Errors: P2M_E_PERMISSION (no
 * such user), P2M_E_INTERNAL (fork, pipe, a child that died or exited
 * without a complete answer, an answer over P2M_UNPRIV_REPLY_MAX, a request
 * over P2M_UNPRIV_REQUEST_MAX), P2M_E_CONNECT (no answer within TIMEOUT_S),
 * P2M_E_CANCELED (p2m_canceled(): the child is killed within a second).
 * Thread-safe once a spawner runs.
 */
gboolean p2m_unpriv_run(p2m_unpriv_fn fn, const guint8 *req, gsize req_len, int timeout_s,
                        GByteArray **reply, GError **error);

/* Wipe and free an answer; accepts NULL. */
void p2m_unpriv_reply_free(GByteArray *reply);

/* ---- a field codec for requests and answers: pure and bounded ------------ */

/* Append one field (a 4-byte big-endian length, then LEN bytes) to B.
 * Size B up front (p2m_unpriv_field_size) so that it never grows: a realloc
 * would leave an unwiped copy of a secret behind. */
void p2m_unpriv_put(GByteArray *b, const void *data, gsize len);
gsize p2m_unpriv_field_size(gsize len);
/* Take the next field from *P (*LEFT bytes remain): TRUE with *DATA (not
 * NUL-terminated, pointing into the buffer) and *LEN; FALSE when the
 * buffer ends early or the field is over MAX bytes. */
gboolean p2m_unpriv_get(const guint8 **p, gsize *left, gsize max, const guint8 **data, gsize *len);

#endif /* P2M_UNPRIV_H */
