/* SPDX-License-Identifier: Apache-2.0 */
/* p2m-oauth.h - HTTPS form POSTs to the Entra token and device-code endpoints, and device-code replies. */
#ifndef P2M_OAUTH_H
#define P2M_OAUTH_H

#include <glib.h>
#include <json-glib/json-glib.h>

#include "p2m-config.h"
#include "p2m-rules.h"

/* Replies larger than this are refused: a token reply is a few kilobytes. */
#define P2M_OAUTH_REPLY_MAX   (64 * 1024)
#define P2M_OAUTH_TIMEOUT     30   /* seconds for one whole request */

/* An application/x-www-form-urlencoded body.  It carries client secrets and
 * refresh tokens, so it is wiped on free. */
typedef struct p2m_oauth_form p2m_oauth_form;
p2m_oauth_form *p2m_oauth_form_new(void);
void p2m_oauth_form_add(p2m_oauth_form *f, const char *name, const char *value);
const char *p2m_oauth_form_body(const p2m_oauth_form *f);
void p2m_oauth_form_free(p2m_oauth_form *f);  /* wipes; accepts NULL */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(p2m_oauth_form, p2m_oauth_form_free)

/* POST FORM to the https URL, the server certificate verified against the
 * system store plus the PEM CA_PEM (may be NULL;
 * p2m_smtp_read_ca reads the account's ca_file), TLS 1.2 or later.  The
 * whole request ends within P2M_OAUTH_TIMEOUT or TIMEOUT_S (the
 * account's timeout, 0 = the default),
 * whichever is shorter (a hanging endpoint never holds a job longer than
 * the account says any wait may last).  Any HTTP answer
 * -> TRUE with *http_status and *body (NUL-terminated, free with
 * p2m_wipe_free: it may hold a token).  Errors: P2M_E_TLS_VERIFY (untrusted
 * certificate), P2M_E_TOKEN_UNAVAILABLE (DNS, connect, timeout, a reply over
 * P2M_OAUTH_REPLY_MAX), P2M_E_CONFIG (not an https URL), P2M_E_INTERNAL
 * (libcurl cannot be loaded, or the caller is root: p2m_curl_load; call it
 * in p2m-unpriv's child). */
gboolean p2m_oauth_post(const char *url, GBytes *ca_pem, const char *form_body, long timeout_s,
                        long *http_status, char **body, gsize *len, GError **error);

/* A POST for the unprivileged child (p2m-unpriv.h): URL, the CA PEM (may
 * be NULL), the timeout (p2m_oauth_post) and the form body packed into one buffer, sized once so that
 * the secrets in the body leave no copy behind (free it with
 * p2m_unpriv_reply_free).  Unpack gives pointers into REQ (*ca a static
 * GBytes over it, NULL when empty) and a copy of the body the caller wipes;
 * FALSE when REQ is malformed. */
GByteArray *p2m_oauth_request_pack(const char *url, GBytes *ca_pem, long timeout_s, const char *form_body);
gboolean p2m_oauth_request_unpack(const guint8 *req, gsize len, char **url, GBytes **ca_pem,
                                  long *timeout_s, char **form_body);
/* Seconds the unprivileged child may take for one POST with TIMEOUT_S. */
int p2m_oauth_child_deadline(long timeout_s);

/* Pure: parse JSON text of at most P2M_OAUTH_REPLY_MAX bytes whose root must
 * be an object; the parser owns *root.  Malformed -> NULL, P2M_E_PROTOCOL. */
JsonParser *p2m_oauth_parse_object(const char *json, gsize len, JsonObject **root, GError **error);

/* Members of a parsed reply: a string (NULL when absent or another type);
 * an integer, also from a decimal string as Entra v1 sent them (DFLT when
 * absent or malformed). */
const char *p2m_oauth_member_str(JsonObject *obj, const char *name);
gint64 p2m_oauth_member_int(JsonObject *obj, const char *name, gint64 dflt);

/* Pure: OBJ is an OAuth error reply ("error", "error_codes",
 * "error_description"): classify it (p2m_rules_classify_token) and set
 * P2M_E_TOKEN on ERROR with that rule attached (p2m-fail.h) and the first
 * line of the description.  Returns the
 * "error" string (owned by OBJ) or "" when absent. */
const char *p2m_oauth_set_error(JsonObject *obj, int http_status, GError **error);

/* A device-code authorization in progress (RFC 8628). */
typedef struct {
	char   *device_code;       /* secret-ish: only the helper sees it */
	char   *user_code;
	char   *verification_uri;
	char   *message;           /* Entra's own sentence, may be NULL */
	int     interval;          /* seconds between polls, >= 1 */
	gint64  expires_at;        /* unix seconds */
} p2m_oauth_device;
void p2m_oauth_device_free(p2m_oauth_device *d);  /* accepts NULL */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(p2m_oauth_device, p2m_oauth_device_free)

/* Pure: parse a devicecode endpoint reply (at most P2M_OAUTH_REPLY_MAX bytes).
 * An OAuth error object -> FALSE, P2M_E_TOKEN with its rule; malformed ->
 * FALSE, P2M_E_PROTOCOL. */
gboolean p2m_oauth_device_parse(const char *json, gsize len, gint64 now, p2m_oauth_device **out,
                                GError **error);

/* Ask ACCOUNT's devicecode endpoint for a code for SCOPE. */
p2m_oauth_device *p2m_oauth_device_start(const p2m_account *account, const char *scope, GError **error);

#endif /* P2M_OAUTH_H */
