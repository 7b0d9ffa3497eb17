/* privs.h - what the backend does as root before the network: take a connection slot, then become lp. */
#ifndef P2M_PRIVS_H
#define P2M_PRIVS_H

#include <signal.h>

#include <glib.h>

#include "p2m-store.h"

/* Microsoft 365 allows 3 concurrent SMTP connections per mailbox (432 4.3.2 beyond). */
#define P2M_PRIVS_SLOTS 3
/* The user cupsd runs filters as; the backend drops to it. */
#define P2M_PRIVS_USER "lp"

/*
 * Take one of the P2M_PRIVS_SLOTS connection slots of MAILBOX (a flock in
 * STATE_DIR/locks, shared by every backend on this host), waiting up to
 * MAX_WAIT_S seconds while all are busy, less if *CANCEL is set.  The slot is
 * held until p2m_store_unlock().  Errors: P2M_E_STORE when the lock
 * directory is unusable, P2M_E_CONNECT when every slot stayed busy (the job
 * is retried later), P2M_E_CANCELED.  *WAITED is set when the caller had to
 * wait (so it can say so).
 */
p2m_store_lock *p2m_privs_take_slot(const char *state_dir, const char *mailbox, int max_wait_s,
                                    volatile sig_atomic_t *cancel, gboolean *waited, GError **error);

/* When running as root: become P2M_PRIVS_USER for good (supplementary
 * groups, gid, uid), checked by trying to get root back, and not dumpable.
 * Not root: nothing to do.  P2M_E_PERMISSION on any failure. */
gboolean p2m_privs_drop(GError **error);

#endif /* P2M_PRIVS_H */
