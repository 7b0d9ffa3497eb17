/* SPDX-License-Identifier: Apache-2.0 */
/* helper-status.h - the text of print2mailctl status: every account and login, never a token. */
#ifndef HELPER_STATUS_H
#define HELPER_STATUS_H

#include <glib.h>

#include "p2m-config.h"
#include "p2m-rules.h"

/* Status of every account in CFG, then of stored per-user logins: all of
 * them when USER is NULL (root), else only USER's own.  Read from the state
 * files (the caller must be able to read them: root).  Caller frees. */
char *helper_status_format(const p2m_config *cfg, const char *user);

/* RULE as it applies to IDENTITY (an account name, or "user:NAME"): a
 * user's login gets the per-user variant, as the backend refines it for
 * that user's jobs.  NULL when RULE is NULL. */
const p2m_rule *helper_status_rule(const p2m_rule *rule, const char *identity);
/* The fix to show for RULE recorded on IDENTITY (refined as above), or NULL
 * when RULE is NULL.  Caller frees. */
char *helper_status_fix(const p2m_rule *rule, const char *identity);

/* "client credentials (client secret)", "device code", "password file", ... */
const char *helper_status_auth_kind(const p2m_account *a);

/* The identities ("user:NAME") of every per-user login in the store. */
GPtrArray *helper_status_user_identities(const char *state_dir);

/* The account per-user logins use: the first xoauth2 account with
 * send_as = job-user, else the first device-code account, else NULL. */
const p2m_account *helper_status_user_account(const p2m_config *cfg);

#endif /* HELPER_STATUS_H */
