/* SPDX-License-Identifier: Apache-2.0 */
/* helper-server.c - print2mail-helper's UNIX socket: one framed request per connection, authorized by peer uid. */
#include "config.h"

#include <errno.h>
#include <glib-unix.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
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
	g_autofree char *graph_identity = NULL;
	char user[NAME_MAX_LEN];

	if (!field(c, P2M_IPC_F_USER, user, sizeof(user)))
		g_strlcpy(user, c->peer, sizeof(user));
	if (c->uid != 0 && strcmp(user, c->peer) != 0) {
		reply_error(c, P2M_E_PERMISSION, "only root may forget another user's credentials");
		return;
	}
	identity = g_strconcat("user:", user, NULL);
	graph_identity = g_strconcat(identity, P2M_TOKEN_GRAPH_SUFFIX, NULL);
	helper_login_cancel(c->ctx->login, identity);
	helper_login_cancel(c->ctx->login, graph_identity);
	helper_refresh_drop(c->ctx->refresh, identity);
	helper_refresh_drop(c->ctx->refresh, graph_identity);
	if (!p2m_vault_forget(c->ctx->cfg->state_dir, user, &error)
	    || !p2m_token_remove(c->ctx->cfg->state_dir, identity, &error)
	    || !p2m_token_remove(c->ctx->cfg->state_dir, graph_identity, &error)) {
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
	char name[NAME_MAX_LEN], user[NAME_MAX_LEN];
	gboolean for_user;

	if (c->uid != 0) {
		reply_error(c, P2M_E_PERMISSION, "only root may force a refresh");
		return;
	}
	if (!field(c, P2M_IPC_F_ACCOUNT, name, sizeof(name)) || (a = p2m_config_find(c->ctx->cfg, name)) == NULL) {
		reply_error(c, P2M_E_ACCOUNT, "REFRESH needs a configured ACCOUNT");
		return;
	}
	/* A backend whose cached token is unusable asks here first, so that
	 * the request runs in the helper's unprivileged child and is recorded
	 * once; a token another job just renewed is not renewed again. */
	for_user = field(c, P2M_IPC_F_USER, user, sizeof(user));
	if ((t = p2m_token_refresh(c->ctx->cfg, a, for_user ? user : NULL, FALSE, &error)) == NULL) {
		reply_gerror(c, error);
		return;
	}
	helper_refresh_kick(c->ctx->refresh, a->name, for_user ? user : NULL);
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

/* ---- the server ----------------------------------------------------------------
 *
 * The main loop accepts and reads; worker threads run requests.  Reading is
 * non-blocking and bounded by HELPER_REQUEST_DEADLINE_MS, so an idle or
 * trickling client costs a file descriptor and a buffer, never a thread.
 * Connections are counted per peer uid (SO_PEERCRED, taken at accept): a
 * user over HELPER_MAX_PER_USER, or all users together over HELPER_MAX_USERS,
 * get a "busy" answer and are closed at once.  Root has its own count and
 * its own workers, so nothing a user does delays root's requests (the PAM
 * module's hand-over has a 1 s budget).  The queues and counters use
 * pthread primitives rather than GMutex: ThreadSanitizer sees those.
 */

#define ROOT_WORKERS 4
#define USER_WORKERS 8
#define REFUSED_LOG_EVERY_US (60 * G_USEC_PER_SEC)

typedef struct conn conn;
struct conn {
	helper_server *srv;
	conn          *next;     /* in a work queue */
	int            fd;
	uid_t          uid;
	gboolean       counted;  /* still counted against its uid's limit */
	GSource       *io;       /* main thread only, while reading */
	GSource       *timer;
	size_t         have;
	uint8_t        in[P2M_IPC_MAX_FRAME];
};

typedef struct {
	pthread_mutex_t lock;
	pthread_cond_t  ready;
	conn           *head, *tail;
	gboolean        stopping;
	pthread_t       threads[USER_WORKERS];
	unsigned        nthreads;
	helper_server  *srv;
} work_queue;

struct helper_server {
	helper_ctx      *ctx;
	int              listen_fd;
	GSource         *accept_src;
	GHashTable      *reading;     /* conns still reading (main thread only) */
	work_queue       root_q;
	work_queue       user_q;
	pthread_mutex_t  count_lock;
	GHashTable      *per_uid;     /* non-root uid -> open connections */
	unsigned         users_open;
	unsigned         root_open;
	unsigned         refused;     /* since the last log line (main thread only) */
	gint64           refused_logged;
};

/* Counts a new connection from UID; FALSE when it is over its limit. */
static gboolean
admit(helper_server *srv, uid_t uid)
{
	gboolean ok = FALSE;
	unsigned n;

	pthread_mutex_lock(&srv->count_lock);
	if (uid == 0) {
		if ((ok = srv->root_open < HELPER_MAX_ROOT))
			srv->root_open++;
	} else {
		n = GPOINTER_TO_UINT(g_hash_table_lookup(srv->per_uid, GUINT_TO_POINTER(uid)));
		if ((ok = n < HELPER_MAX_PER_USER && srv->users_open < HELPER_MAX_USERS)) {
			g_hash_table_insert(srv->per_uid, GUINT_TO_POINTER(uid), GUINT_TO_POINTER(n + 1));
			srv->users_open++;
		}
	}
	pthread_mutex_unlock(&srv->count_lock);
	return ok;
}

static void
release(helper_server *srv, uid_t uid)
{
	unsigned n;

	pthread_mutex_lock(&srv->count_lock);
	if (uid == 0) {
		srv->root_open--;
	} else {
		n = GPOINTER_TO_UINT(g_hash_table_lookup(srv->per_uid, GUINT_TO_POINTER(uid)));
		if (n <= 1)
			g_hash_table_remove(srv->per_uid, GUINT_TO_POINTER(uid));
		else
			g_hash_table_insert(srv->per_uid, GUINT_TO_POINTER(uid), GUINT_TO_POINTER(n - 1));
		srv->users_open--;
	}
	pthread_mutex_unlock(&srv->count_lock);
}

/* A short ERROR frame without waiting: the socket buffer of a connection we
 * never answered is empty, and a client that does not read it loses it. */
static void
send_error_now(int fd, int code, const char *text)
{
	uint8_t buf[512];
	p2m_ipc_builder b;
	char num[16];
	ssize_t len;

	g_snprintf(num, sizeof(num), "%d", code);
	p2m_ipc_begin(&b, buf, sizeof(buf), P2M_IPC_ERROR);
	p2m_ipc_add_str(&b, P2M_IPC_F_CODE, num);
	p2m_ipc_add_str(&b, P2M_IPC_F_TEXT, text);
	if ((len = p2m_ipc_finish(&b)) > 0 && send(fd, buf, (size_t) len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		return;  /* the client is gone or not reading: nothing to do */
}

static void
conn_release(conn *c)
{
	if (c->counted)
		release(c->srv, c->uid);
	c->counted = FALSE;
}

static void
conn_free(conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	conn_release(c);
	p2m_wipe(c->in, sizeof(c->in));  /* may have held a password */
	g_free(c);
}

/* Main thread: stop watching C (it is being queued or closed). */
static void
conn_unwatch(conn *c)
{
	if (c->io != NULL) {
		g_source_destroy(c->io);
		g_clear_pointer(&c->io, g_source_unref);
	}
	if (c->timer != NULL) {
		g_source_destroy(c->timer);
		g_clear_pointer(&c->timer, g_source_unref);
	}
	g_hash_table_remove(c->srv->reading, c);
}

static void
conn_drop(conn *c, int code, const char *text)
{
	conn_unwatch(c);
	if (text != NULL)
		send_error_now(c->fd, code, text);
	conn_free(c);
}

static void
queue_push(work_queue *q, conn *c)
{
	pthread_mutex_lock(&q->lock);
	c->next = NULL;
	if (q->tail != NULL)
		q->tail->next = c;
	else
		q->head = c;
	q->tail = c;
	pthread_cond_signal(&q->ready);
	pthread_mutex_unlock(&q->lock);
}

/* NULL once the server stops. */
static conn *
queue_pop(work_queue *q)
{
	conn *c;

	pthread_mutex_lock(&q->lock);
	while (q->head == NULL && !q->stopping)
		pthread_cond_wait(&q->ready, &q->lock);
	if ((c = q->head) != NULL && !q->stopping) {
		q->head = c->next;
		if (q->head == NULL)
			q->tail = NULL;
	} else {
		c = NULL;
	}
	pthread_mutex_unlock(&q->lock);
	return c;
}

static void
peer_name(uid_t uid, char *dst, size_t cap)
{
	struct passwd pw, *res = NULL;
	char buf[4096];

	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) == 0 && res != NULL)
		g_strlcpy(dst, pw.pw_name, cap);
	else
		g_snprintf(dst, cap, "%u", (unsigned) uid);
}

static void
send_reply(int fd, const uint8_t *buf, size_t len, gint64 deadline)
{
	size_t off = 0;

	while (off < len) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		gint64 left = (deadline - g_get_monotonic_time()) / 1000;
		ssize_t n;

		if (left <= 0)
			return;
		if (poll(&p, 1, (int) MIN(left, 60000)) < 0 && errno != EINTR)
			return;
		n = send(fd, buf + off, len - off, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0)
			off += (size_t) n;
		else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
			return;
	}
}

/* A worker: one whole request, parsed and complete, then the reply. */
static void
serve_one(helper_server *srv, conn *conn_in)
{
	g_autofree client *c = g_new0(client, 1);
	ssize_t out;

	c->ctx = srv->ctx;
	c->uid = conn_in->uid;
	peer_name(c->uid, c->peer, sizeof(c->peer));
	if (p2m_ipc_parse(conn_in->in, conn_in->have, &c->req) <= 0) {
		reply_error(c, P2M_E_PROTOCOL, "malformed request");
	} else {
		reply_error(c, P2M_E_INTERNAL, "no reply");  /* every handler replaces it */
		dispatch(c);
	}
	out = p2m_ipc_finish(&c->reply);
	if (out < 0) {
		reply_error(c, P2M_E_INTERNAL, "reply too large");
		out = p2m_ipc_finish(&c->reply);
	}
	/* The request is done: the client may connect again as soon as it has
	 * the reply (print2mailctl login asks again at once), so it no longer
	 * counts; the reply (at most 16 KiB) fits the socket buffer.  It gets its
	 * own deadline: a slow request (a login's HTTPS request) must not cost
	 * the client its answer. */
	conn_release(conn_in);
	send_reply(conn_in->fd, c->out, (size_t) out, g_get_monotonic_time() + HELPER_REPLY_DEADLINE_MS * 1000);
	p2m_wipe(c, sizeof(*c));
	conn_free(conn_in);
}

static void *
worker(void *data)
{
	work_queue *q = data;
	conn *c;

	while ((c = queue_pop(q)) != NULL)
		serve_one(q->srv, c);
	return NULL;
}

static gboolean
on_late(gpointer data)
{
	conn *c = data;

	conn_drop(c, P2M_E_PROTOCOL, "request not complete in time");
	return G_SOURCE_REMOVE;
}

static gboolean
on_readable(gint fd, GIOCondition cond, gpointer data)
{
	conn *c = data;
	p2m_ipc_msg msg;
	ssize_t n, r;

	for (;;) {
		n = recv(fd, c->in + c->have, sizeof(c->in) - c->have, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return G_SOURCE_CONTINUE;
		if (n <= 0) {
			conn_drop(c, 0, NULL);  /* gone before a whole frame */
			return G_SOURCE_REMOVE;
		}
		c->have += (size_t) n;
		if ((r = p2m_ipc_parse(c->in, c->have, &msg)) < 0 || (r == 0 && c->have == sizeof(c->in))) {
			conn_drop(c, P2M_E_PROTOCOL, "malformed request");
			return G_SOURCE_REMOVE;
		}
		if (r > 0) {
			/* One request per connection: bytes after it are ignored. */
			c->have = (size_t) r;
			conn_unwatch(c);
			queue_push(c->uid == 0 ? &c->srv->root_q : &c->srv->user_q, c);
			return G_SOURCE_REMOVE;
		}
	}
}

static void
note_refused(helper_server *srv, uid_t uid)
{
	gint64 now = g_get_monotonic_time();

	srv->refused++;
	if (now - srv->refused_logged < REFUSED_LOG_EVERY_US && srv->refused_logged != 0)
		return;
	helper_log(LOG_WARNING, "too many connections (uid %u at its limit of %d, or %d from all users): "
	           "refused %u in the last minute", (unsigned) uid, HELPER_MAX_PER_USER, HELPER_MAX_USERS,
	           srv->refused);
	srv->refused = 0;
	srv->refused_logged = now;
}

static void
accept_one(helper_server *srv, int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	conn *c;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || len != sizeof(cred)) {
		close(fd);
		return;
	}
	if (!admit(srv, cred.uid)) {
		note_refused(srv, cred.uid);
		send_error_now(fd, P2M_E_HELPER, "print2mail-helper is busy: too many connections "
		               "from this user; try again");
		close(fd);
		return;
	}
	c = g_new0(conn, 1);
	c->srv = srv;
	c->fd = fd;
	c->uid = cred.uid;
	c->counted = TRUE;
	g_hash_table_add(srv->reading, c);
	c->io = g_unix_fd_source_new(fd, G_IO_IN | G_IO_HUP | G_IO_ERR);
	g_source_set_callback(c->io, (GSourceFunc) (void (*)(void)) on_readable, c, NULL);
	g_source_attach(c->io, NULL);
	c->timer = g_timeout_source_new(HELPER_REQUEST_DEADLINE_MS);
	g_source_set_callback(c->timer, on_late, c, NULL);
	g_source_attach(c->timer, NULL);
}

static gboolean
on_accept(gint lfd, GIOCondition cond, gpointer data)
{
	helper_server *srv = data;
	int fd;

	/* Drain the backlog: root's connection may be behind a user's burst. */
	while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0)
		accept_one(srv, fd);
	if (errno == EMFILE || errno == ENFILE)
		helper_log(LOG_ERR, "cannot accept a connection: %s", g_strerror(errno));
	return G_SOURCE_CONTINUE;
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

static int
listen_at(const char *path, GError **error)
{
	g_autofree char *dir = g_path_get_dirname(path);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		g_set_error(error, P2M_ERROR, P2M_E_CONFIG, "%s: socket path too long", path);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	/* Our umask is 077; users must reach the socket for login --me, so a
	 * directory we create is made 0755 explicitly (an existing one is left
	 * as the admin or systemd's RuntimeDirectoryMode made it). */
	if (!g_file_test(dir, G_FILE_TEST_IS_DIR)
	    && (g_mkdir_with_parents(dir, 0755) != 0 || chmod(dir, 0755) != 0)) {
		g_set_error(error, P2M_ERROR, P2M_E_CONFIG, "%s: cannot create: %s", dir, g_strerror(errno));
		return -1;
	}
	if (!clear_stale(path, error))
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0) {
		g_set_error(error, P2M_ERROR, P2M_E_CONFIG, "socket: %s", g_strerror(errno));
		return -1;
	}
	/* A deep backlog: a burst of users' connections must not make root's
	 * connect() fail while the main loop catches up. */
	if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) != 0 || listen(fd, SOMAXCONN) != 0
	    /* Everyone may connect (login --me, status); each request is authorized by peer uid. */
	    || chmod(path, 0666) != 0) {
		g_set_error(error, P2M_ERROR, P2M_E_CONFIG, "%s: %s", path, g_strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static gboolean
queue_start(work_queue *q, helper_server *srv, unsigned n, GError **error)
{
	int err;

	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->ready, NULL);
	q->srv = srv;
	for (q->nthreads = 0; q->nthreads < n; q->nthreads++) {
		if ((err = pthread_create(&q->threads[q->nthreads], NULL, worker, q)) != 0) {
			g_set_error(error, P2M_ERROR, P2M_E_INTERNAL, "cannot start a worker thread: %s", g_strerror(err));
			return FALSE;
		}
	}
	return TRUE;
}

/* Waits for the running requests; queued ones are closed unanswered. */
static void
queue_stop(work_queue *q)
{
	conn *c;
	unsigned i;

	if (q->srv == NULL)
		return;  /* never started */
	pthread_mutex_lock(&q->lock);
	q->stopping = TRUE;
	pthread_cond_broadcast(&q->ready);
	pthread_mutex_unlock(&q->lock);
	for (i = 0; i < q->nthreads; i++)
		pthread_join(q->threads[i], NULL);
	while ((c = q->head) != NULL) {
		q->head = c->next;
		conn_free(c);
	}
	q->tail = NULL;
	pthread_cond_destroy(&q->ready);
	pthread_mutex_destroy(&q->lock);
}

helper_server *
helper_server_start(helper_ctx *ctx, GError **error)
{
	helper_server *srv = g_new0(helper_server, 1);

	srv->ctx = ctx;
	srv->listen_fd = -1;
	pthread_mutex_init(&srv->count_lock, NULL);
	srv->per_uid = g_hash_table_new(g_direct_hash, g_direct_equal);
	srv->reading = g_hash_table_new(g_direct_hash, g_direct_equal);
	if (!queue_start(&srv->root_q, srv, ROOT_WORKERS, error)
	    || !queue_start(&srv->user_q, srv, USER_WORKERS, error)
	    || (srv->listen_fd = listen_at(ctx->cfg->helper_socket, error)) < 0) {
		helper_server_free(srv);
		return NULL;
	}
	srv->accept_src = g_unix_fd_source_new(srv->listen_fd, G_IO_IN);
	g_source_set_callback(srv->accept_src, (GSourceFunc) (void (*)(void)) on_accept, srv, NULL);
	g_source_attach(srv->accept_src, NULL);
	return srv;
}

void
helper_server_free(helper_server *srv)
{
	g_autoptr(GList) pending = NULL;
	GList *l;

	if (srv == NULL)
		return;
	if (srv->accept_src != NULL) {
		g_source_destroy(srv->accept_src);
		g_source_unref(srv->accept_src);
	}
	if (srv->listen_fd >= 0)
		close(srv->listen_fd);
	pending = g_hash_table_get_keys(srv->reading);
	for (l = pending; l != NULL; l = l->next)
		conn_drop(l->data, 0, NULL);
	queue_stop(&srv->root_q);
	queue_stop(&srv->user_q);
	g_hash_table_unref(srv->reading);
	g_hash_table_unref(srv->per_uid);
	pthread_mutex_destroy(&srv->count_lock);
	g_free(srv);
}
