/* SPDX-License-Identifier: Apache-2.0 */
/* helper-login.h - device-code logins run by print2mail-helper for print2mailctl login. */
#ifndef HELPER_LOGIN_H
#define HELPER_LOGIN_H

#include <glib.h>

#include "helper-refresh.h"
#include "p2m-config.h"

typedef struct helper_login helper_login;

typedef enum { HELPER_LOGIN_PENDING, HELPER_LOGIN_DONE, HELPER_LOGIN_FAILED } helper_login_state;

helper_login *helper_login_new(const p2m_config *cfg, helper_refresh *refresh);
/* Cancels every login and waits for their poll threads.  Accepts NULL. */
void helper_login_free(helper_login *l);

/* Ask ACCOUNT's devicecode endpoint for a code for ACCOUNT (USER NULL) or
 * USER's own login, and poll the token endpoint in the background honouring
 * the interval, slow_down (+5 s) and the code's expiry.  A login already
 * running for the same identity is abandoned.  Blocks for one HTTPS request. */
gboolean helper_login_start(helper_login *l, const p2m_account *account, const char *user,
                            char **uri, char **code, char **message, GError **error);

/* Wait up to WAIT_MS for the login of IDENTITY to end.  FAILED sets ERROR
 * (with the fix when the endpoint refused). */
helper_login_state helper_login_wait(helper_login *l, const char *identity, int wait_ms, GError **error);

/* Abandon IDENTITY's login, if any. */
void helper_login_cancel(helper_login *l, const char *identity);

#endif /* HELPER_LOGIN_H */
