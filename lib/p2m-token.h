/* SPDX-License-Identifier: Apache-2.0 */
/* p2m-token.h - OAuth 2.0 access tokens for XOAUTH2: fetch, parse, cache, refresh. */
#ifndef P2M_TOKEN_H
#define P2M_TOKEN_H

#include <glib.h>

#include "p2m-config.h"
#include "p2m-rules.h"
#include "p2m-secret.h"

#define P2M_TOKEN_RESPONSE_MAX (64 * 1024)
#define P2M_TOKEN_MAX_LEN      (16 * 1024)   /* an access or refresh token */
#define P2M_TOKEN_MAX_LIFETIME (7 * 86400)   /* longer expires_in is refused */
/* A cached token is used only while it has at least this long to live. */
#define P2M_TOKEN_MIN_LIFETIME 120

typedef struct {
	p2m_secret *access_token;
	p2m_secret *refresh_token;  /* NULL for client credentials */
	gint64      expires_at;     /* unix seconds */
	gint64      obtained_at;    /* unix seconds */
} p2m_token;

void p2m_token_free(p2m_token *t);  /* wipes; accepts NULL */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(p2m_token, p2m_token_free)

/* A valid access token for ACCOUNT (USER NULL) or for USER's delegated login
 * (send_as = job-user with xoauth2).  Uses the cache in cfg->state_dir when
 * the token lives at least P2M_TOKEN_MIN_LIFETIME more seconds; otherwise,
 * under the identity's lock (shared with print2mail-helper), fetches or
 * refreshes it and stores the result (0600, atomic).  If the helper recorded
 * an error a person must fix for this identity, that is returned.
 * Every error carries its rule (p2m_fail_rule): on a refusal P2M_E_TOKEN
 * with the classified rule; endpoint unreachable or 5xx:
 * P2M_E_TOKEN_UNAVAILABLE; no login stored: P2M_E_NO_CREDENTIAL, with the
 * rule "no-login" for a device-code account (the admin's to fix) and the
 * code's own ("no-credential") for a user.  The token never appears in
 * any message. */
p2m_token *p2m_token_get(const p2m_config *cfg, const p2m_account *account, const char *user,
                         GError **error);

/* Pure: parse a token-endpoint JSON answer (at most P2M_TOKEN_RESPONSE_MAX bytes).
 * Success -> TRUE and *out filled (expires_at = NOW + expires_in).  An OAuth
 * error object -> FALSE with P2M_E_TOKEN and the rule classified from "error" and
 * "error_codes"; malformed -> FALSE with P2M_E_PROTOCOL. */
gboolean p2m_token_parse_response(const char *json, gsize len, gint64 now, p2m_token **out,
                                  GError **error);

/* Pure: S is a usable token: 1 to P2M_TOKEN_MAX_LEN printable ASCII
 * characters, no quote or backslash (so cache files need no escaper). */
gboolean p2m_token_chars_ok(const char *s);

/* ---- helpers shared by the backend, print2mail-helper and print2mailctl ---- */

/* Appended to the identity of a token for Graph (transport = graph): Graph
 * and SMTP tokens are for different audiences, so they never share a cache
 * file, a lock or a status ('#' cannot occur in account or user names). */
#define P2M_TOKEN_GRAPH_SUFFIX "#graph"

/* The store identity: "user:NAME" for USER's delegated login, else the
 * account name; with P2M_TOKEN_GRAPH_SUFFIX for a Graph account.  Caller frees. */
char *p2m_token_identity(const p2m_account *account, const char *user);
/* STATE_DIR/tokens/<escaped identity>.json.  Caller frees. */
char *p2m_token_cache_path(const char *state_dir, const char *identity);

/* Read IDENTITY's cached token.  No cache -> TRUE with *out NULL.  A damaged
 * or unsafe file -> P2M_E_STORE naming it. */
gboolean p2m_token_load(const char *state_dir, const char *identity, p2m_token **out, GError **error);
/* Write it (0600, atomic; the tokens/ directory is created 0700). */
gboolean p2m_token_save(const char *state_dir, const char *identity, const p2m_token *t, GError **error);
/* Delete IDENTITY's cached token and status; absent is fine. */
gboolean p2m_token_remove(const char *state_dir, const char *identity, GError **error);

/* TRUE when T may still go to an SMTP server at NOW: it lives at least
 * P2M_TOKEN_MIN_LIFETIME more seconds, or a quarter of its lifetime when that
 * is shorter (tokens of a few seconds in tests). */
gboolean p2m_token_usable(const p2m_token *t, gint64 now);
/* When the helper should renew T: when a quarter of its lifetime remains, at
 * most 10 minutes before expiry, and at least daily while it has a refresh
 * token (so 90 days of inactivity never kill it). */
gint64 p2m_token_refresh_at(const p2m_token *t);

/* Fetch or refresh IDENTITY's token now, under its lock, and store it with
 * its status.  Unless FORCE, a token another process renewed meanwhile (no
 * longer due per p2m_token_refresh_at) is returned as is.  What the helper
 * calls; errors as p2m_token_get, and each refusal is recorded in the status
 * file (p2m-tokstate.h). */
p2m_token *p2m_token_refresh(const p2m_config *cfg, const p2m_account *account, const char *user,
                             gboolean force, GError **error);

/* One poll of the token endpoint for a device code (RFC 8628 §3.4).  DONE:
 * the token is stored for IDENTITY (ACCOUNT, or "user:USER").  PENDING and
 * SLOW_DOWN: poll again after the interval (SLOW_DOWN: 5 s more).  FAILED:
 * ERROR set (P2M_E_TOKEN with its rule for a refusal, expired or declined). */
typedef enum {
	P2M_TOKEN_POLL_DONE,
	P2M_TOKEN_POLL_PENDING,
	P2M_TOKEN_POLL_SLOW_DOWN,
	P2M_TOKEN_POLL_FAILED
} p2m_token_poll;
p2m_token_poll p2m_token_poll_device(const p2m_config *cfg, const p2m_account *account, const char *user,
                                     const char *device_code, GError **error);

/* Days before a client secret or certificate expires that a warning starts. */
#define P2M_TOKEN_WARN_DAYS 14
/* When ACCOUNT's client credential expires: the certificate's notAfter, or
 * the optional client_secret_expires = YYYY-MM-DD key.  TRUE with
 * *not_after = 0 when unknown. */
gboolean p2m_token_credential_expiry(const p2m_config *cfg, const p2m_account *account,
                                     gint64 *not_after, GError **error);
/* The "secret-expiring" warning rule when ACCOUNT's client secret or
 * certificate expires within P2M_TOKEN_WARN_DAYS days, else NULL.  Jobs still
 * go out; the backend shows STATE: +<rule keyword>. */
const p2m_rule *p2m_token_warning(const p2m_config *cfg, const p2m_account *account);

#endif /* P2M_TOKEN_H */
