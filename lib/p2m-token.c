/* SPDX-License-Identifier: Apache-2.0 */
/* p2m-token.c - OAuth 2.0 access tokens for XOAUTH2: parse, cache, fetch and refresh under the identity lock. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <unistd.h>

#include "p2m-debug.h"
#include "p2m-error.h"
#include "p2m-ipc.h"
#include "p2m-fail.h"
#include "p2m-jwt.h"
#include "p2m-oauth.h"
#include "p2m-smtp.h"
#include "p2m-store.h"
#include "p2m-tokframe.h"
#include "p2m-token.h"
#include "p2m-tokstate.h"
#include "p2m-unpriv.h"

/* Long enough to outwait a refresh the helper is doing right now. */
#define TOKEN_LOCK_TIMEOUT_MS  ((P2M_OAUTH_TIMEOUT + 15) * 1000)
/* A REFRESH asked of the helper: its lock wait plus its request. */
#define TOKEN_HELPER_TIMEOUT_MS (TOKEN_LOCK_TIMEOUT_MS + P2M_OAUTH_TIMEOUT * 1000)
#define TOKEN_CACHE_MAX        (40 * 1024)
#define TOKEN_DEFAULT_LIFETIME 3600      /* when expires_in is missing */
#define TOKEN_REFRESH_MARGIN   600       /* renew at most 10 minutes before expiry */
#define TOKEN_REFRESH_DAILY    86400     /* use refresh tokens at least this often */
#define DEVICE_GRANT           "urn:ietf:params:oauth:grant-type:device_code"
#define ASSERTION_TYPE         "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

void
p2m_token_free(p2m_token *t)
{
	if (t == NULL)
		return;
	p2m_secret_free(t->access_token);
	p2m_secret_free(t->refresh_token);
	g_free(t);
}

static gint64
now_s(void)
{
	return g_get_real_time() / G_USEC_PER_SEC;
}

/* Tokens are opaque, but every real one is printable ASCII; refusing quotes
 * and backslashes lets the cache file be written without an escaper that
 * would leave copies behind. */
gboolean
p2m_token_chars_ok(const char *s)
{
	if (s == NULL || s[0] == '\0' || strlen(s) > P2M_TOKEN_MAX_LEN)
		return FALSE;
	for (; *s != '\0'; s++)
		if (*s < 0x21 || *s > 0x7e || *s == '"' || *s == '\\')
			return FALSE;
	return TRUE;
}

/* Copy a string member into a p2m_secret and wipe the parser's copy. */
static p2m_secret *
take_secret(JsonObject *obj, const char *name)
{
	const char *v = p2m_oauth_member_str(obj, name);
	p2m_secret *s;

	if (v == NULL)
		return NULL;
	s = p2m_secret_new(v, strlen(v));
	p2m_wipe((char *) v, strlen(v));
	return s;
}

static void
wipe_member(JsonObject *obj, const char *name)
{
	const char *v = p2m_oauth_member_str(obj, name);

	if (v != NULL)
		p2m_wipe((char *) v, strlen(v));
}

/* Fill a token from a success reply OBJ. */
static p2m_token *
token_from_reply(JsonObject *obj, gint64 now, GError **error)
{
	g_autoptr(p2m_token) t = g_new0(p2m_token, 1);
	const char *type = p2m_oauth_member_str(obj, "token_type");
	gint64 lifetime = p2m_oauth_member_int(obj, "expires_in", TOKEN_DEFAULT_LIFETIME);

	t->access_token = take_secret(obj, "access_token");
	t->refresh_token = take_secret(obj, "refresh_token");
	if (t->access_token == NULL || !p2m_token_chars_ok(t->access_token->data)) {
		g_set_error_literal(error, P2M_ERROR, P2M_E_PROTOCOL,
		                    "token endpoint reply has no usable access_token");
		return NULL;
	}
	if (t->refresh_token != NULL && !p2m_token_chars_ok(t->refresh_token->data)) {
		g_set_error_literal(error, P2M_ERROR, P2M_E_PROTOCOL,
		                    "token endpoint reply has a malformed refresh_token");
		return NULL;
	}
	if (type != NULL && g_ascii_strcasecmp(type, "Bearer") != 0) {
		g_set_error(error, P2M_ERROR, P2M_E_PROTOCOL, "token endpoint issued a '%.32s' token, not Bearer", type);
		return NULL;
	}
	if (lifetime <= 0 || lifetime > P2M_TOKEN_MAX_LIFETIME) {
		g_set_error(error, P2M_ERROR, P2M_E_PROTOCOL, "token endpoint reply has expires_in %" G_GINT64_FORMAT,
		            lifetime);
		return NULL;
	}
	t->obtained_at = now;
	t->expires_at = now + lifetime;
	return g_steal_pointer(&t);
}

/* The parser behind p2m_token_parse_response, also giving the HTTP status to
 * the classifier and the OAuth "error" string to device polling. */
static gboolean
parse_reply(const char *json, gsize len, gint64 now, int http, p2m_token **out, char **oauth_error,
            GError **error)
{
	g_autoptr(JsonParser) parser = NULL;
	JsonObject *root = NULL;
	const char *err;

	*out = NULL;
	if ((parser = p2m_oauth_parse_object(json, len, &root, error)) == NULL)
		return FALSE;
	if (json_object_has_member(root, "error")) {
		err = p2m_oauth_set_error(root, http, error);
		if (oauth_error != NULL)
			*oauth_error = g_strdup(err);
		return FALSE;
	}
	*out = token_from_reply(root, now, error);
	wipe_member(root, "access_token");
	wipe_member(root, "refresh_token");
	return *out != NULL;
}

gboolean
p2m_token_parse_response(const char *json, gsize len, gint64 now, p2m_token **out, GError **error)
{
	return parse_reply(json, len, now, 400, out, NULL, error);
}

/* ---- the cache file ----------------------------------------------------------- */

char *
p2m_token_identity(const p2m_account *account, const char *user)
{
	const char *aud = account->transport == P2M_TRANSPORT_GRAPH ? P2M_TOKEN_GRAPH_SUFFIX : "";

	return user != NULL ? g_strconcat("user:", user, aud, NULL) : g_strconcat(account->name, aud, NULL);
}

char *
p2m_token_cache_path(const char *state_dir, const char *identity)
{
	g_autofree char *esc = p2m_store_escape(identity);
	g_autofree char *name = g_strconcat(esc, ".json", NULL);

	return g_build_filename(state_dir, "tokens", name, NULL);
}

static p2m_token *
cache_parse(const char *data, gsize len, GError **error)
{
	g_autoptr(JsonParser) parser = json_parser_new_immutable();
	g_autoptr(p2m_token) t = NULL;
	JsonNode *root;
	JsonObject *obj;

	if (memchr(data, '\0', len) != NULL || !json_parser_load_from_data(parser, data, (gssize) len, NULL)
	    || (root = json_parser_get_root(parser)) == NULL || !JSON_NODE_HOLDS_OBJECT(root)) {
		g_set_error_literal(error, P2M_ERROR, P2M_E_STORE, "not a token object");
		return NULL;
	}
	obj = json_node_get_object(root);
	t = g_new0(p2m_token, 1);
	t->access_token = take_secret(obj, "access_token");
	t->refresh_token = take_secret(obj, "refresh_token");
	t->expires_at = p2m_oauth_member_int(obj, "expires_at", 0);
	t->obtained_at = p2m_oauth_member_int(obj, "obtained_at", 0);
	if ((t->access_token == NULL && t->refresh_token == NULL) || t->expires_at < 0 || t->obtained_at < 0) {
		g_set_error_literal(error, P2M_ERROR, P2M_E_STORE, "no token in it");
		return NULL;
	}
	return g_steal_pointer(&t);
}

gboolean
p2m_token_load(const char *state_dir, const char *identity, p2m_token **out, GError **error)
{
	g_autofree char *path = p2m_token_cache_path(state_dir, identity);
	g_autoptr(GError) perr = NULL;
	char *data = NULL;
	gsize len = 0;

	*out = NULL;
	if (!p2m_store_exists(path))
		return TRUE;
	if (!p2m_store_read(path, TOKEN_CACHE_MAX, &data, &len, error))
		return FALSE;
	*out = cache_parse(data, len, &perr);
	p2m_wipe_free(data);
	if (*out == NULL) {
		g_set_error(error, P2M_ERROR, P2M_E_STORE,
		            "%s: damaged token file (%s); delete it and log in again", path, perr->message);
		return FALSE;
	}
	return TRUE;
}

gboolean
p2m_token_save(const char *state_dir, const char *identity, const p2m_token *t, GError **error)
{
	g_autofree char *dir = g_build_filename(state_dir, "tokens", NULL);
	g_autofree char *path = p2m_token_cache_path(state_dir, identity);
	GString *buf;
	gboolean ok;

	if (!p2m_store_ensure_dir(state_dir, error) || !p2m_store_ensure_dir(dir, error))
		return FALSE;
	/* Sized up front so growing never leaves an unwiped copy behind. */
	buf = g_string_sized_new(2 * P2M_TOKEN_MAX_LEN + 256);
	g_string_append(buf, "{\"version\":1");
	if (t->access_token != NULL && p2m_token_chars_ok(t->access_token->data))
		g_string_append_printf(buf, ",\"access_token\":\"%s\"", t->access_token->data);
	if (t->refresh_token != NULL && p2m_token_chars_ok(t->refresh_token->data))
		g_string_append_printf(buf, ",\"refresh_token\":\"%s\"", t->refresh_token->data);
	g_string_append_printf(buf, ",\"expires_at\":%" G_GINT64_FORMAT ",\"obtained_at\":%" G_GINT64_FORMAT "}\n",
	                       t->expires_at, t->obtained_at);
	ok = p2m_store_write(path, buf->str, buf->len, 0600, error);
	p2m_wipe(buf->str, buf->allocated_len);
	g_string_free(buf, TRUE);
	return ok;
}

static gboolean
unlink_file(const char *path, GError **error)
{
	if (unlink(path) != 0 && errno != ENOENT) {
		g_set_error(error, P2M_ERROR, P2M_E_STORE, "%s: cannot delete: %s", path, g_strerror(errno));
		return FALSE;
	}
	return TRUE;
}

gboolean
p2m_token_remove(const char *state_dir, const char *identity, GError **error)
{
	g_autofree char *tok = p2m_token_cache_path(state_dir, identity);
	g_autofree char *st = p2m_tokstate_path(state_dir, identity);

	return unlink_file(tok, error) && unlink_file(st, error);
}

/* ---- timing ----------------------------------------------------------------- */

static gint64
lifetime_of(const p2m_token *t)
{
	return MAX(t->expires_at - t->obtained_at, 1);
}

gboolean
p2m_token_usable(const p2m_token *t, gint64 now)
{
	gint64 margin;

	if (t == NULL || t->access_token == NULL)
		return FALSE;
	margin = MIN((gint64) P2M_TOKEN_MIN_LIFETIME, MAX(lifetime_of(t) / 4, 1));
	return t->expires_at - now >= margin;
}

gint64
p2m_token_refresh_at(const p2m_token *t)
{
	gint64 at;

	if (t == NULL || t->access_token == NULL)
		return 0;
	at = t->expires_at - MIN((gint64) TOKEN_REFRESH_MARGIN, lifetime_of(t) / 4);
	if (t->refresh_token != NULL)
		at = MIN(at, t->obtained_at + TOKEN_REFRESH_DAILY);
	return at;
}

/* ---- talking to the endpoint ------------------------------------------------- */

/* The app's own credential: a client secret, or a certificate proven with a
 * signed assertion.  REQUIRED for client credentials; optional (confidential
 * clients) for refresh and device grants. */
static gboolean
add_client_credential(p2m_oauth_form *form, const p2m_account *a, const char *url, gint64 now,
                      gboolean required, GError **error)
{
	g_autoptr(p2m_secret) secret = NULL;

	if (a->client_secret_file != NULL) {
		if ((secret = p2m_secret_read_file(a->client_secret_file, error)) == NULL)
			return FALSE;
		p2m_oauth_form_add(form, "client_secret", secret->data);
	} else if (a->client_certificate != NULL && a->client_key != NULL) {
		secret = p2m_jwt_assertion(a->client_certificate, a->client_key, a->client_id, url, now, error);
		if (secret == NULL)
			return FALSE;
		p2m_oauth_form_add(form, "client_assertion_type", ASSERTION_TYPE);
		p2m_oauth_form_add(form, "client_assertion", secret->data);
	} else if (required) {
		g_set_error(error, P2M_ERROR, P2M_E_CONFIG,
		            "[account %s] needs client_secret_file, or client_certificate and client_key", a->name);
		return FALSE;
	}
	return TRUE;
}

/* POST BODY to URL and parse what comes back: what the unprivileged child
 * does.  *OAUTH_ERROR is the reply's OAuth "error" string, if any. */
static p2m_token *
post_and_parse(const char *url, GBytes *ca, const char *body, long timeout_s, char **oauth_error,
               GError **error)
{
	p2m_token *t = NULL;
	char *answer = NULL;
	gsize len = 0;
	long http = 0;

	if (!p2m_oauth_post(url, ca, body, timeout_s, &http, &answer, &len, error))
		return NULL;
	if (http >= 500 || http == 429)
		g_set_error(error, P2M_ERROR, P2M_E_TOKEN_UNAVAILABLE, "%s: HTTP status %ld", url, http);
	else
		parse_reply(answer, len, now_s(), (int) http, &t, oauth_error, error);
	p2m_wipe_free(answer);
	return t;
}

/* The child's side of post_token_form (REQ: p2m_oauth_request_pack). */
static void
exchange_in_child(const guint8 *req, gsize req_len, GByteArray *reply)
{
	g_autofree char *url = NULL;
	g_autoptr(GBytes) ca = NULL;
	g_autoptr(GError) err = NULL;
	g_autofree char *oauth_error = NULL;
	g_autoptr(p2m_token) t = NULL;
	const p2m_rule *rule = NULL;
	char *body = NULL;
	long timeout_s = 0;

	if (!p2m_oauth_request_unpack(req, req_len, &url, &ca, &timeout_s, &body))
		g_set_error_literal(&err, P2M_ERROR, P2M_E_INTERNAL, "malformed token request");
	else
		t = post_and_parse(url, ca, body, timeout_s, &oauth_error, &err);
	if (body != NULL)
		p2m_wipe(body, strlen(body));
	g_free(body);
	/* The rule the parser attached travels in the frame; root checks it. */
	if (t == NULL && err != NULL && err->domain == P2M_ERROR && err->code == P2M_E_TOKEN)
		rule = p2m_fail_rule(err);
	if (t != NULL)
		p2m_tokframe_put_token(reply, t);
	else
		p2m_tokframe_put_error(reply, err, rule, oauth_error);
}

/* POST FORM to the account's token endpoint and parse what comes back, in
 * a child without root (p2m-unpriv.h): TLS, HTTP and the JSON answer are
 * hostile input.  Root reads the CA file and re-validates the child's
 * answer (p2m_tokframe_parse) before anything is stored. */
static p2m_token *
post_token_form(const p2m_account *a, const char *url, const p2m_oauth_form *form, char **oauth_error,
                GError **error)
{
	const p2m_rule *rule = NULL;
	g_autoptr(GBytes) ca = NULL;
	g_autoptr(GError) err = NULL;
	GByteArray *req = NULL, *reply = NULL;
	p2m_token *t = NULL;
	gint64 now = now_s();

	if (!p2m_smtp_read_ca(a, &ca, error))
		return NULL;
	req = p2m_oauth_request_pack(url, ca, (long) a->timeout_s, p2m_oauth_form_body(form));
	if (p2m_unpriv_run(exchange_in_child, req->data, req->len, p2m_oauth_child_deadline((long) a->timeout_s),
	                   &reply, &err))
	{
		if (!p2m_tokframe_parse(reply->data, reply->len, now, &t, oauth_error, &rule, error) &&
		    rule != NULL && error != NULL && *error != NULL)
			p2m_fail_attach(*error, rule);
	} else if (err->code == P2M_E_CANCELED) {
		g_propagate_error(error, g_steal_pointer(&err));
	} else {
		g_set_error(error, P2M_ERROR, err->code == P2M_E_PERMISSION ? P2M_E_PERMISSION : P2M_E_TOKEN_UNAVAILABLE,
		            "%s: %s", url, err->message);
	}
	p2m_unpriv_reply_free(reply);
	p2m_unpriv_reply_free(req);
	return t;
}

static gboolean
check_account(const p2m_account *a, GError **error)
{
	if (a->auth != P2M_AUTH_XOAUTH2 || a->client_id == NULL || a->tenant == NULL) {
		g_set_error(error, P2M_ERROR, P2M_E_CONFIG,
		            "[account %s] needs auth = xoauth2, client_id and tenant for OAuth", a->name);
		return FALSE;
	}
	return TRUE;
}

/* Obtain a new token: client credentials for an app-only account, else the
 * refresh-token grant with the stored refresh token. */
static p2m_token *
fetch(const p2m_account *a, const char *user, const p2m_token *cached, GError **error)
{
	g_autoptr(p2m_oauth_form) form = p2m_oauth_form_new();
	g_autofree char *url = p2m_account_token_url(a);
	gboolean app = user == NULL && a->oauth_flow != P2M_FLOW_DEVICE_CODE;
	p2m_token *t;

	if (!check_account(a, error))
		return NULL;
	if (!app && (cached == NULL || cached->refresh_token == NULL)) {
		if (user != NULL)
			g_set_error(error, P2M_ERROR, P2M_E_NO_CREDENTIAL,
			            "%s has no OAuth login stored: run 'print2mailctl login --me' as %s", user, user);
		else {
			/* The admin's to fix, for every job: stop the queue rather
			 * than ask the job's user for a password. */
			p2m_fail_set(error, P2M_E_NO_CREDENTIAL, p2m_rules_find("no-login"),
			             "account %s has no OAuth login stored: run 'print2mailctl login %s' as root",
			             a->name, a->name);
		}
		return NULL;
	}
	p2m_oauth_form_add(form, "client_id", a->client_id);
	if (app) {
		p2m_oauth_form_add(form, "grant_type", "client_credentials");
		p2m_oauth_form_add(form, "scope", p2m_account_scope(a, TRUE));
	} else {
		p2m_oauth_form_add(form, "grant_type", "refresh_token");
		p2m_oauth_form_add(form, "refresh_token", cached->refresh_token->data);
		p2m_oauth_form_add(form, "scope", p2m_account_scope(a, FALSE));
	}
	if (!add_client_credential(form, a, url, now_s(), app, error))
		return NULL;
	t = post_token_form(a, url, form, NULL, error);
	/* Entra normally rotates the refresh token; when it does not, the old
	 * one stays valid and must be kept. */
	if (t != NULL && t->refresh_token == NULL && cached != NULL && cached->refresh_token != NULL)
		t->refresh_token = p2m_secret_new(cached->refresh_token->data, cached->refresh_token->len);
	return t;
}

static p2m_token *
token_copy(const p2m_token *t)
{
	p2m_token *c = g_new0(p2m_token, 1);

	if (t->access_token != NULL)
		c->access_token = p2m_secret_new(t->access_token->data, t->access_token->len);
	if (t->refresh_token != NULL)
		c->refresh_token = p2m_secret_new(t->refresh_token->data, t->refresh_token->len);
	c->expires_at = t->expires_at;
	c->obtained_at = t->obtained_at;
	return c;
}


typedef enum { RENEW_IF_UNUSABLE, RENEW_IF_DUE, RENEW_ALWAYS } renew_mode;

/* Fetch and store, recording the outcome in the status file.  A transient
 * failure still hands out a usable cached token. */
static p2m_token *
renew(const p2m_config *cfg, const p2m_account *a, const char *user, const char *identity,
      p2m_token *cached, p2m_tokstate *st, GError **error)
{
	g_autoptr(GError) err = NULL;
	p2m_token *t;
	gint64 now = now_s();

	if ((t = fetch(a, user, cached, &err)) != NULL) {
		if (!p2m_token_save(cfg->state_dir, identity, t, error)) {
			p2m_token_free(t);
			return NULL;
		}
		p2m_tokstate_set_ok(st, now, t->expires_at);
		p2m_tokstate_save(cfg->state_dir, st, NULL);  /* informational only */
		return t;
	}
	p2m_tokstate_set_error(st, now, p2m_fail_rule(err), err->message);
	p2m_tokstate_save(cfg->state_dir, st, NULL);
	if (p2m_fail_class(err) == P2M_CLASS_TRANSIENT && p2m_token_usable(cached, now))
		return token_copy(cached);
	g_propagate_error(error, g_steal_pointer(&err));
	return NULL;
}

/* Under IDENTITY's lock: re-read cache and status (another process may have
 * done the work while we waited), then renew when MODE says so. */
static p2m_token *
renew_locked(const p2m_config *cfg, const p2m_account *a, const char *user, renew_mode mode,
             GError **error)
{
	g_autofree char *identity = p2m_token_identity(a, user);
	g_autoptr(p2m_store_lock) lock = NULL;
	g_autoptr(p2m_tokstate) st = NULL;
	g_autoptr(p2m_token) cached = NULL;
	gboolean blocked;
	gint64 now;

	if (!p2m_store_ensure_dir(cfg->state_dir, error))
		return NULL;
	if ((lock = p2m_store_lock_identity(cfg->state_dir, identity, TOKEN_LOCK_TIMEOUT_MS, error)) == NULL)
		return NULL;
	if ((st = p2m_tokstate_load(cfg->state_dir, identity, error)) == NULL)
		return NULL;
	if (!p2m_token_load(cfg->state_dir, identity, &cached, error))
		return NULL;
	now = now_s();
	blocked = p2m_tokstate_blocking_rule(st) != NULL;
	if (!blocked && mode == RENEW_IF_UNUSABLE && p2m_token_usable(cached, now))
		return g_steal_pointer(&cached);
	if (!blocked && mode == RENEW_IF_DUE && cached != NULL && now < p2m_token_refresh_at(cached))
		return g_steal_pointer(&cached);
	return renew(cfg, a, user, identity, cached, st, error);
}

/* Ask a running print2mail-helper to renew IDENTITY's token (REFRESH).
 * Returns the p2m_error it answered (P2M_OK for a renewed token), or -1
 * when no helper answered (not running, not reachable, not root). */
static int
ask_helper(const p2m_config *cfg, const p2m_account *account, const char *user)
{
	uint8_t req[1024], resp[P2M_IPC_MAX_FRAME];
	char code[16] = "";
	p2m_ipc_builder b;
	p2m_ipc_msg msg;
	ssize_t n, len;

	if (cfg->helper_socket == NULL)
		return -1;
	p2m_ipc_begin(&b, req, sizeof(req), P2M_IPC_REFRESH);
	p2m_ipc_add_str(&b, P2M_IPC_F_ACCOUNT, account->name);
	if (user != NULL)
		p2m_ipc_add_str(&b, P2M_IPC_F_USER, user);
	if ((len = p2m_ipc_finish(&b)) < 0)
		return -1;
	n = p2m_ipc_call(cfg->helper_socket, req, (size_t) len, resp, sizeof(resp), TOKEN_HELPER_TIMEOUT_MS);
	if (n < 0 || p2m_ipc_parse(resp, (size_t) n, &msg) <= 0)
		return -1;
	if (msg.op == P2M_IPC_OK)
		return P2M_OK;
	if (msg.op != P2M_IPC_ERROR || p2m_ipc_field_str(p2m_ipc_find(&msg, P2M_IPC_F_CODE), code, sizeof(code)) != 0)
		return -1;
	n = g_ascii_strtoll(code, NULL, 10);
	return n > 0 && n < P2M_E__COUNT && n != P2M_E_PERMISSION ? (int) n : -1;
}

/* After the helper answered: its token, or the endpoint's answer it
 * recorded (a refusal with its rule, or unreachable).  NULL with no ERROR
 * when the job should try itself (any other failure: those need no
 * network, and give the job its own exact error). */
static p2m_token *
helper_result(const p2m_config *cfg, const char *identity, int answer, gint64 asked_at, GError **error)
{
	g_autoptr(p2m_tokstate) st = p2m_tokstate_load(cfg->state_dir, identity, NULL);
	g_autoptr(p2m_token) cached = NULL;
	const p2m_rule *r;

	if (st == NULL || !p2m_token_load(cfg->state_dir, identity, &cached, NULL))
		return NULL;
	if (answer == P2M_OK)
		return p2m_tokstate_blocking_rule(st) == NULL && p2m_token_usable(cached, now_s())
		       ? g_steal_pointer(&cached) : NULL;
	if ((answer != P2M_E_TOKEN && answer != P2M_E_TOKEN_UNAVAILABLE) || st->error_rule == NULL
	    || st->error_time < asked_at || (r = p2m_rules_find(st->error_rule)) == NULL)
		return NULL;
	p2m_fail_set(error, answer, answer == P2M_E_TOKEN ? r : NULL, "%s",
	             st->error_message != NULL ? st->error_message : "the token endpoint refused");
	return NULL;
}

p2m_token *
p2m_token_get(const p2m_config *cfg, const p2m_account *account, const char *user, GError **error)
{
	g_autofree char *identity = p2m_token_identity(account, user);
	g_autoptr(p2m_tokstate) st = NULL;
	g_autoptr(p2m_token) cached = NULL;
	g_autoptr(GError) herr = NULL;
	p2m_token *t;
	gint64 asked_at;
	int answer;

	if (!check_account(account, error))
		return NULL;
	/* The fast path takes no lock: the helper keeps this file fresh. */
	if ((st = p2m_tokstate_load(cfg->state_dir, identity, error)) == NULL)
		return NULL;
	if (!p2m_token_load(cfg->state_dir, identity, &cached, error))
		return NULL;
	if (p2m_tokstate_blocking_rule(st) == NULL && p2m_token_usable(cached, now_s())) {
		p2m_debug("token: %s: cached token, %" G_GINT64_FORMAT " s left", identity, cached->expires_at - now_s());
		return g_steal_pointer(&cached);
	}
	p2m_debug("token: %s: %s, asking the helper", identity, cached == NULL ? "no cached token" :
	          p2m_tokstate_blocking_rule(st) != NULL ? "a refusal is recorded" : "cached token about to expire");
	/* Missing, about to expire, or a recorded refusal: the running helper
	 * renews it (and records what the endpoint said) ... */
	asked_at = now_s();
	if ((answer = ask_helper(cfg, account, user)) >= 0) {
		if ((t = helper_result(cfg, identity, answer, asked_at, &herr)) != NULL)
			return t;
		if (herr != NULL) {
			g_propagate_error(error, g_steal_pointer(&herr));
			return NULL;
		}
	}
	/* ... else the job tries once itself, so a fixed credential works
	 * without waiting for the helper. */
	return renew_locked(cfg, account, user, RENEW_IF_UNUSABLE, error);
}

p2m_token *
p2m_token_refresh(const p2m_config *cfg, const p2m_account *account, const char *user,
                  gboolean force, GError **error)
{
	if (!check_account(account, error))
		return NULL;
	return renew_locked(cfg, account, user, force ? RENEW_ALWAYS : RENEW_IF_DUE, error);
}

/* Store a token from a completed device login, under the lock. */
static gboolean
store_login(const p2m_config *cfg, const char *identity, const p2m_token *t, GError **error)
{
	g_autoptr(p2m_store_lock) lock = NULL;
	g_autoptr(p2m_tokstate) st = NULL;

	if (!p2m_store_ensure_dir(cfg->state_dir, error))
		return FALSE;
	if ((lock = p2m_store_lock_identity(cfg->state_dir, identity, TOKEN_LOCK_TIMEOUT_MS, error)) == NULL)
		return FALSE;
	if (!p2m_token_save(cfg->state_dir, identity, t, error))
		return FALSE;
	st = p2m_tokstate_load(cfg->state_dir, identity, NULL);
	if (st == NULL)
		st = p2m_tokstate_new(identity);
	p2m_tokstate_set_ok(st, t->obtained_at, t->expires_at);
	return p2m_tokstate_save(cfg->state_dir, st, error);
}

p2m_token_poll
p2m_token_poll_device(const p2m_config *cfg, const p2m_account *account, const char *user,
                      const char *device_code, GError **error)
{
	g_autoptr(p2m_oauth_form) form = p2m_oauth_form_new();
	g_autofree char *url = p2m_account_token_url(account);
	g_autofree char *identity = p2m_token_identity(account, user);
	g_autofree char *oauth_error = NULL;
	g_autoptr(p2m_token) t = NULL;
	g_autoptr(GError) err = NULL;

	if (!check_account(account, error))
		return P2M_TOKEN_POLL_FAILED;
	p2m_oauth_form_add(form, "grant_type", DEVICE_GRANT);
	p2m_oauth_form_add(form, "client_id", account->client_id);
	p2m_oauth_form_add(form, "device_code", device_code);
	if (user == NULL && !add_client_credential(form, account, url, now_s(), FALSE, error))
		return P2M_TOKEN_POLL_FAILED;
	if ((t = post_token_form(account, url, form, &oauth_error, &err)) == NULL) {
		if (g_strcmp0(oauth_error, "authorization_pending") == 0)
			return P2M_TOKEN_POLL_PENDING;
		if (g_strcmp0(oauth_error, "slow_down") == 0)
			return P2M_TOKEN_POLL_SLOW_DOWN;
		g_propagate_error(error, g_steal_pointer(&err));
		return P2M_TOKEN_POLL_FAILED;
	}
	if (t->refresh_token == NULL) {
		g_set_error_literal(error, P2M_ERROR, P2M_E_PROTOCOL,
		                    "the login gave no refresh token (is offline_access allowed for the app?)");
		return P2M_TOKEN_POLL_FAILED;
	}
	return store_login(cfg, identity, t, error) ? P2M_TOKEN_POLL_DONE : P2M_TOKEN_POLL_FAILED;
}

/* ---- credentials that are about to expire ------------------------------------ */

/* client_secret_expires = YYYY-MM-DD: the day the secret stops working. */
static gboolean
secret_expiry(const p2m_config *cfg, const p2m_account *a, gint64 *not_after, GError **error)
{
	g_autoptr(GDateTime) dt = NULL;
	int y = 0, m = 0, d = 0;
	char tail = 0;

	if (a->client_secret_expires == NULL)
		return TRUE;
	if (sscanf(a->client_secret_expires, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3
	    || (dt = g_date_time_new_utc(y, m, d, 0, 0, 0)) == NULL) {
		g_set_error(error, P2M_ERROR, P2M_E_CONFIG,
		            "%s: [account %s] client_secret_expires: not a date YYYY-MM-DD: '%s'",
		            cfg->path != NULL ? cfg->path : "config", a->name, a->client_secret_expires);
		return FALSE;
	}
	*not_after = g_date_time_to_unix(dt);
	return TRUE;
}

gboolean
p2m_token_credential_expiry(const p2m_config *cfg, const p2m_account *account, gint64 *not_after, GError **error)
{
	*not_after = 0;
	if (account->auth != P2M_AUTH_XOAUTH2)
		return TRUE;
	if (account->client_secret_file != NULL)
		return secret_expiry(cfg, account, not_after, error);
	if (account->client_certificate != NULL)
		return p2m_jwt_cert_not_after(account->client_certificate, not_after, error);
	return TRUE;
}

static const p2m_rule *
expiring_rule(void)
{
	size_t i;

	for (i = 0; i < p2m_rules_count(); i++) {
		const p2m_rule *r = p2m_rules_get(i);

		if (r->keyword != NULL && strcmp(r->keyword, "com.print2mail-secret-expiring-warning") == 0)
			return r;
	}
	return p2m_rules_find("secret-expiring");
}

const p2m_rule *
p2m_token_warning(const p2m_config *cfg, const p2m_account *account)
{
	gint64 not_after = 0;

	if (!p2m_token_credential_expiry(cfg, account, &not_after, NULL) || not_after == 0)
		return NULL;
	if (not_after - now_s() > (gint64) P2M_TOKEN_WARN_DAYS * 86400)
		return NULL;
	return expiring_rule();
}
