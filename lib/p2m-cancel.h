/* SPDX-License-Identifier: Apache-2.0 */
/* p2m-cancel.h - the process's cancel: a flag its SIGTERM handler sets, which every long wait of the library watches. */
#ifndef P2M_CANCEL_H
#define P2M_CANCEL_H

#include <signal.h>

/* Watch FLAG (set by a signal handler; NULL: nothing to watch).  Set it
 * once, before any wait.  Plain C: the PAM module links it too. */
void p2m_cancel_watch(volatile sig_atomic_t *flag);

/* Nonzero once the watched flag is set.  A wait that checks it polls in
 * slices of at most P2M_CANCEL_SLICE_MS, since a signal that comes just
 * before poll() starts interrupts nothing. */
int p2m_canceled(void);

/* Nonzero when a flag is watched: only then are waits cut into slices. */
int p2m_cancel_watched(void);

#define P2M_CANCEL_SLICE_MS 1000

#endif /* P2M_CANCEL_H */
