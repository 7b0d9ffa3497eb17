/* helper-server.c - print2mail-helper's UNIX socket: one framed request per connection, authorized by peer uid. */
#include "config.h"

#include <errno.h>
#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helper-log.h"
#include "helper-server.h"
#include "helper-status.h"
#include "p2m-error.h"
#include "p2m-ipc.h"
#include "p2m-fail.h"
#include "p2m-rules.h"
#include "p2m-secret.h"
#include "p2m-token.h"
#include "p2m-vault.h"

#define NAME_MAX_LEN  256
#define MAX_WORKERS   8

/* One connection: the peer, its request and the reply being built. */
typedef struct {
	helper_ctx      *ctx;
	uid_t            uid;
	char             peer[NAME_MAX_LEN];  /* the peer's user name */
	p2m_ipc_msg      req;
	p2m_ipc_builder  reply;
	uint8_t          out[P2M_IPC_MAX_FRAME];
} client;

static void
reply_error(client *c, int code, const char *text)
{
	char num[16];

	g_snprintf(num, sizeof(num), "%d", code);
	p2m_ipc_begin(&c->reply, c->out, sizeof(c->out), P2M_IPC_ERROR);
	p2m_ipc_add_str(&c->reply, P2M_IPC_F_CODE, num);
	p2m_ipc_add(&c->reply, P2M_IPC_F_TEXT, text, MIN(strlen(text), (size_t) P2M_IPC_MAX_FRAME - 64));
}

/* An error with the fix of its rule, as print2mailctl prints it. */
static void
reply_gerror(client *c, const GError *e)
{
	int code = e->domain == P2M_ERROR ? e->code : P2M_E_INTERNAL;
	const p2m_rule *rule = p2m_fail_rule(e);
	g_autofree char *fix = p2m_rules_format(rule->message, NULL, NULL);
	g_autofree char *text = NULL;

	/* A wrong request to the helper says what is wrong itself: the usage
	 * and permission rules speak of the backend's command line and uid. */
	if (code == P2M_E_USAGE || code == P2M_E_PERMISSION)
		text = g_strdup(e->message);
	else
		text = g_strdup_printf("%s\nfix [%s]: %s", e->message, rule->id, fix);
	reply_error(c, code, text);
}

static gboolean
field(const client *c, uint8_t tag, char *dst, size_t cap)
{
	return p2m_ipc_field_str(p2m_ipc_find(&c->req, tag), dst, cap) == 0 && dst[0] != '\0';
}

static void
do_put_password(client *c)
{
	const p2m_ipc_field *sf = p2m_ipc_find(&c->req, P2M_IPC_F_SECRET);
	g_autoptr(p2m_secret) secret = NULL;
	g_autoptr(GError) error = NULL;
	char user[NAME_MAX_LEN];

	if (c->uid != 0) {
		reply_error(c, P2M_E_PERMISSION, "only root may store a password");
		return;
	}
	if (!field(c, P2M_IPC_F_USER, user, sizeof(user)) || sf == NULL || sf->len == 0) {
		reply_error(c, P2M_E_PROTOCOL, "PUT_PASSWORD needs USER and SECRET");
		return;
	}
	secret = p2m_secret_new((const char *) sf->data, sf->len);
	if (!p2m_vault_put(c->ctx->cfg->state_dir, c->ctx->cfg->key_file, user, secret, &error)) {
		helper_log(LOG_ERR, "cannot store the password of %s: %s", user, error->message);
		reply_gerror(c, error);
		return;
	}
	helper_log(LOG_INFO, "stored the password of %s", user);
	p2m_ipc_begin(&c->reply, c->out, sizeof(c->out), P2M_IPC_OK);
}

static void
do_forget(client *c)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *identity = NULL;
	char user[NAME_MAX_LEN];

	if (!field(c, P2M_IPC_F_USER, user, sizeof(user)))
		g_strlcpy(user, c->peer, sizeof(user));
	if (c->uid != 0 && strcmp(user, c->peer) != 0) {
		reply_error(c, P2M_E_PERMISSION, "only root may forget another user's credentials");
		return;
	}
	identity = g_strconcat("user:", user, NULL);
	helper_login_cancel(c->ctx->login, identity);
	helper_refresh_drop(c->ctx->refresh, identity);
	if (!p2m_vault_forget(c->ctx->cfg->state_dir, user, &error)
	    || !p2m_token_remove(c->ctx->cfg->state_dir, identity, &error)) {
		reply_gerror(c, error);
		return;
	}
	helper_log(LOG_INFO, "forgot the credentials of %s", user);
	p2m_ipc_begin(&c->reply, c->out, sizeof(c->out), P2M_IPC_OK);
}

static void
do_status(client *c)
{
	g_autofree char *text = helper_status_format(c->ctx->cfg, c->uid == 0 ? NULL : c->peer);
	size_t max = P2M_IPC_MAX_FRAME - 64;

	p2m_ipc_begin(&c->reply, c->out, sizeof(c->out), P2M_IPC_OK);
	if (strlen(text) > max)
		memcpy(text + max - 16, "\n(truncated)\n", 14);
	p2m_ipc_add_str(&c->reply, P2M_IPC_F_TEXT, text);
}

/* Which login a LOGIN_* request means: ACCOUNT (root only) or the caller's own. */
static const p2m_account *
login_target(client *c, const char **user)
{
	char name[NAME_MAX_LEN];
	const p2m_account *a;

	*user = NULL;
	if (!field(c, P2M_IPC_F_ACCOUNT, name, sizeof(name))) {
		if ((a = helper_status_user_account(c->ctx->cfg)) == NULL)
			reply_error(c, P2M_E_CONFIG, "no account uses per-user OAuth logins "
			            "(auth = xoauth2 with send_as = job-user or oauth_flow = device-code)");
		*user = c->peer;
		return a;
	}
	if (c->uid != 0) {
		reply_error(c, P2M_E_PERMISSION, "only root may log in for an account; use 'print2mailctl login --me'");
		return NULL;
	}
	a = p2m_config_find(c->ctx->cfg, name);
	if (a == NULL || a->auth != P2M_AUTH_XOAUTH2 || a->oauth_flow != P2M_FLOW_DEVICE_CODE) {
		g_autofree char *text = g_strdup_printf("account %s is not configured with auth = xoauth2 and "
		                                        "oauth_flow = device-code", name);

		reply_error(c, a == NULL ? P2M_E_ACCOUNT : P2M_E_CONFIG, text);
		return NULL;
	}
	return a;
}

static void
do_login_start(client *c)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *uri = NULL, *code = NULL, *message = NULL;
	const char *user = NULL;
	const p2m_account *a = login_target(c, &user);

	if (a == NULL)
		return;
	if (!helper_login_start(c->ctx->login, a, user, &uri, &code, &message, &error)) {
		reply_gerror(c, error);
		return;
	}
	p2m_ipc_begin(&c->reply, c->out, sizeof(c->out), P2M_IPC_OK);
	p2m_ipc_add_str(&c->reply, P2M_IPC_F_URI, uri);
	p2m_ipc_add_str(&c->reply, P2M_IPC_F_CODE, code);
	p2m_ipc_add_str(&c->reply, P2M_IPC_F_TEXT, message);
}

static void
do_login_wait(client *c)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *identity = NULL;
	const char *user = NULL;
	const p2m_account *a = login_target(c, &user);
	helper_login_state st;

	if (a == NULL)
		return;
	identity = p2m_token_identity(a, user);
	st = helper_login_wait(c->ctx->login, identity, HELPER_LOGIN_WAIT_MS, &error);
	if (st == HELPER_LOGIN_FAILED) {
		reply_gerror(c, error);
		return;
	}
	p2m_ipc_begin(&c->reply, c->out, sizeof(c->out), P2M_IPC_OK);
	p2m_ipc_add_str(&c->reply, P2M_IPC_F_CODE, st == HELPER_LOGIN_DONE ? "done" : "pending");
}

static void
do_refresh(client *c)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(p2m_token) t = NULL;
	const p2m_account *a;
	char name[NAME_MAX_LEN];

	if (c->uid != 0) {
		reply_error(c, P2M_E_PERMISSION, "only root may force a refresh");
		return;
	}
	if (!field(c, P2M_IPC_F_ACCOUNT, name, sizeof(name)) || (a = p2m_config_find(c->ctx->cfg, name)) == NULL) {
		reply_error(c, P2M_E_ACCOUNT, "REFRESH needs a configured ACCOUNT");
		return;
	}
	if ((t = p2m_token_refresh(c->ctx->cfg, a, NULL, TRUE, &error)) == NULL) {
		reply_gerror(c, error);
		return;
	}
	helper_refresh_kick(c->ctx->refresh, a->name, NULL);
	p2m_ipc_begin(&c->reply, c->out, sizeof(c->out), P2M_IPC_OK);
}

static void
dispatch(client *c)
{
	switch (c->req.op) {
	case P2M_IPC_PUT_PASSWORD: do_put_password(c); break;
	case P2M_IPC_FORGET:       do_forget(c); break;
	case P2M_IPC_STATUS:       do_status(c); break;
	case P2M_IPC_LOGIN_START:  do_login_start(c); break;
	case P2M_IPC_LOGIN_WAIT:   do_login_wait(c); break;
	case P2M_IPC_REFRESH:      do_refresh(c); break;
	default:                   reply_error(c, P2M_E_PROTOCOL, "unknown request"); break;
	}
}

/* ---- connections ------------------------------------------------------------ */

static gboolean
peer_of(GSocket *sock, client *c)
{
	g_autoptr(GCredentials) cred = g_socket_get_credentials(sock, NULL);
	struct passwd pw, *res = NULL;
	char buf[4096];
	uid_t uid;

	if (cred == NULL || (uid = g_credentials_get_unix_user(cred, NULL)) == (uid_t) -1)
		return FALSE;
	c->uid = uid;
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) == 0 && res != NULL)
		g_strlcpy(c->peer, pw.pw_name, sizeof(c->peer));
	else
		g_snprintf(c->peer, sizeof(c->peer), "%u", (unsigned) uid);
	return TRUE;
}

/* Read one request frame into BUF before DEADLINE (monotonic µs). */
static ssize_t
read_request(GSocket *sock, uint8_t *buf, size_t cap, gint64 deadline)
{
	size_t have = 0;
	p2m_ipc_msg msg;

	for (;;) {
		gint64 left = deadline - g_get_monotonic_time();
		ssize_t r;
		gssize n;

		if (have > 0 && (r = p2m_ipc_parse(buf, have, &msg)) != 0)
			return r;
		if (left <= 0 || have == cap || !g_socket_condition_timed_wait(sock, G_IO_IN, left, NULL, NULL))
			return -1;
		n = g_socket_receive(sock, (gchar *) buf + have, cap - have, NULL, NULL);
		if (n <= 0)
			return -1;
		have += (size_t) n;
	}
}

static void
send_reply(GSocket *sock, const uint8_t *buf, size_t len, gint64 deadline)
{
	size_t off = 0;

	while (off < len) {
		gint64 left = deadline - g_get_monotonic_time();
		gssize n;

		if (left <= 0 || !g_socket_condition_timed_wait(sock, G_IO_OUT, left, NULL, NULL))
			return;
		n = g_socket_send_with_blocking(sock, (const gchar *) buf + off, len - off, FALSE, NULL, NULL);
		if (n <= 0)
			return;
		off += (size_t) n;
	}
}

static gboolean
on_run(GThreadedSocketService *service, GSocketConnection *conn, GObject *source, gpointer data)
{
	GSocket *sock = g_socket_connection_get_socket(conn);
	g_autofree client *c = g_new0(client, 1);
	uint8_t in[P2M_IPC_MAX_FRAME];
	gint64 deadline = g_get_monotonic_time() + HELPER_CLIENT_DEADLINE_MS * 1000;
	ssize_t n, out;

	c->ctx = data;
	g_socket_set_blocking(sock, FALSE);
	if (!peer_of(sock, c))
		return TRUE;
	if ((n = read_request(sock, in, sizeof(in), deadline)) <= 0 || p2m_ipc_parse(in, (size_t) n, &c->req) <= 0) {
		reply_error(c, P2M_E_PROTOCOL, "malformed or late request");
	} else {
		reply_error(c, P2M_E_INTERNAL, "no reply");  /* every handler replaces it */
		dispatch(c);
	}
	out = p2m_ipc_finish(&c->reply);
	if (out < 0) {
		reply_error(c, P2M_E_INTERNAL, "reply too large");
		out = p2m_ipc_finish(&c->reply);
	}
	/* The reply gets its own deadline: a slow request (a login's HTTPS
	 * request) must not cost the client its answer. */
	send_reply(sock, c->out, (size_t) out, g_get_monotonic_time() + HELPER_CLIENT_DEADLINE_MS * 1000);
	p2m_wipe(in, sizeof(in));  /* may have held a password */
	p2m_wipe(c, sizeof(*c));
	g_io_stream_close(G_IO_STREAM(conn), NULL, NULL);
	return TRUE;
}

/* ---- the listening socket ---------------------------------------------------- */

/* A socket file left by a helper that died is removed; a live one is not. */
static gboolean
clear_stale(const char *path, GError **error)
{
	struct stat st;
	uint8_t req[P2M_IPC_HEADER_SIZE], resp[256];
	p2m_ipc_builder b;

	if (lstat(path, &st) != 0)
		return TRUE;
	if (!S_ISSOCK(st.st_mode)) {
		g_set_error(error, P2M_ERROR, P2M_E_CONFIG, "%s exists and is not a socket", path);
		return FALSE;
	}
	p2m_ipc_begin(&b, req, sizeof(req), P2M_IPC_STATUS);
	if (p2m_ipc_call(path, req, (size_t) p2m_ipc_finish(&b), resp, sizeof(resp), 1000) >= 0
	    || errno == ETIMEDOUT) {
		g_set_error(error, P2M_ERROR, P2M_E_HELPER, "%s: another print2mail-helper is running", path);
		return FALSE;
	}
	if (unlink(path) != 0) {
		g_set_error(error, P2M_ERROR, P2M_E_CONFIG, "%s: cannot remove stale socket: %s", path, g_strerror(errno));
		return FALSE;
	}
	return TRUE;
}

static GSocket *
listen_at(const char *path, GError **error)
{
	g_autofree char *dir = g_path_get_dirname(path);
	g_autoptr(GSocket) sock = NULL;
	g_autoptr(GSocketAddress) addr = NULL;

	/* Our umask is 077; users must reach the socket for login --me, so a
	 * directory we create is made 0755 explicitly (an existing one is left
	 * as the admin or systemd's RuntimeDirectoryMode made it). */
	if (!g_file_test(dir, G_FILE_TEST_IS_DIR)
	    && (g_mkdir_with_parents(dir, 0755) != 0 || chmod(dir, 0755) != 0)) {
		g_set_error(error, P2M_ERROR, P2M_E_CONFIG, "%s: cannot create: %s", dir, g_strerror(errno));
		return NULL;
	}
	if (!clear_stale(path, error))
		return NULL;
	if ((sock = g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT, error)) == NULL)
		return NULL;
	addr = g_unix_socket_address_new(path);
	if (!g_socket_bind(sock, addr, FALSE, error) || !g_socket_listen(sock, error))
		return NULL;
	/* Everyone may connect (login --me, status); each request is authorized by peer uid. */
	if (chmod(path, 0666) != 0) {
		g_set_error(error, P2M_ERROR, P2M_E_CONFIG, "%s: chmod: %s", path, g_strerror(errno));
		return NULL;
	}
	return g_steal_pointer(&sock);
}

GSocketService *
helper_server_start(helper_ctx *ctx, GError **error)
{
	g_autoptr(GSocket) sock = listen_at(ctx->cfg->helper_socket, error);
	g_autoptr(GSocketService) service = NULL;

	if (sock == NULL)
		return NULL;
	service = g_threaded_socket_service_new(MAX_WORKERS);
	if (!g_socket_listener_add_socket(G_SOCKET_LISTENER(service), sock, NULL, error))
		return NULL;
	g_signal_connect(service, "run", G_CALLBACK(on_run), ctx);
	g_socket_service_start(service);
	return g_steal_pointer(&service);
}
