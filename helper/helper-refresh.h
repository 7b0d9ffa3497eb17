/* SPDX-License-Identifier: Apache-2.0 */
/* helper-refresh.h - print2mail-helper's schedule: every token renewed well before it expires. */
#ifndef HELPER_REFRESH_H
#define HELPER_REFRESH_H

#include <glib.h>

#include "p2m-config.h"

/* Transient failures are retried after 5 s, doubling up to this. */
#define HELPER_BACKOFF_MAX      300
/* Refusals a person must fix are retried this often at most, so a fixed
 * credential is picked up without a restart. */
#define HELPER_RETRY_REFUSED    3600
/* Timers never sleep longer than this, so a suspend or a clock jump is noticed. */
#define HELPER_MAX_SLEEP        3600

typedef struct helper_refresh helper_refresh;

/* CFG must outlive the scheduler.  Nothing runs before helper_refresh_start. */
helper_refresh *helper_refresh_new(const p2m_config *cfg);
/* Schedule every xoauth2 account and every stored per-user login; those
 * without a fresh token are fetched at once.  Main thread. */
void helper_refresh_start(helper_refresh *r);
/* (Re)schedule the identity of ACCOUNT / USER now, e.g. after a login.
 * Safe from any thread. */
void helper_refresh_kick(helper_refresh *r, const char *account, const char *user);
/* Stop renewing IDENTITY (after forget).  Safe from any thread. */
void helper_refresh_drop(helper_refresh *r, const char *identity);
void helper_refresh_free(helper_refresh *r);  /* accepts NULL */

#endif /* HELPER_REFRESH_H */
