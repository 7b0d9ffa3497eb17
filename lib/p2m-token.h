/* p2m-token.h - OAuth 2.0 access tokens for XOAUTH2: fetch, parse, cache, refresh. */
#ifndef P2M_TOKEN_H
#define P2M_TOKEN_H

#include <glib.h>

#include "p2m-config.h"
#include "p2m-rules.h"
#include "p2m-secret.h"

#define P2M_TOKEN_RESPONSE_MAX (64 * 1024)
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
 * On a refusal: P2M_E_TOKEN with *rule set to the classified rule; endpoint
 * unreachable or 5xx: P2M_E_TOKEN_UNAVAILABLE.  The token never appears in
 * any message. */
p2m_token *p2m_token_get(const p2m_config *cfg, const p2m_account *account, const char *user,
                         const p2m_rule **rule, GError **error);

/* Pure: parse a token-endpoint JSON answer (at most P2M_TOKEN_RESPONSE_MAX bytes).
 * Success -> TRUE and *out filled (expires_at = NOW + expires_in).  An OAuth
 * error object -> FALSE with P2M_E_TOKEN and *rule classified from "error" and
 * "error_codes"; malformed -> FALSE with P2M_E_PROTOCOL. */
gboolean p2m_token_parse_response(const char *json, gsize len, gint64 now, p2m_token **out,
                                  const p2m_rule **rule, GError **error);

#endif /* P2M_TOKEN_H */
