/* SPDX-License-Identifier: Apache-2.0 */
/* p2m-wire.c - one client connection: deadlines on every wait, a stop check each second, verified TLS over a non-blocking socket. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <netdb.h>
#include <poll.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <glib.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "p2m-cancel.h"
#include "p2m-wire.h"

#define WIRE_BUF 4096   /* received and not yet handed out; reply lines are < 1 KB */

struct p2m_wire {
	char            *host;
	guint            port;
	gint64           timeout_us;
	p2m_wire_stop_fn stop;
	void            *stop_ctx;
	int              fd;
	SSL_CTX         *ctx;
	SSL             *ssl;
	char             peer[INET6_ADDRSTRLEN + 16];
	char            *detail;
	gint64           t_start, t_dns, t_conn, t_tls;
	char             buf[WIRE_BUF];
	gsize            off, len;
	gboolean         skipping;   /* inside an overlong line: drop bytes up to its LF */
};

static p2m_wire_status
fail(p2m_wire *w, p2m_wire_status st, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

static p2m_wire_status
fail(p2m_wire *w, p2m_wire_status st, const char *fmt, ...)
{
	va_list ap;

	g_free(w->detail);
	va_start(ap, fmt);
	w->detail = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	return st;
}

p2m_wire *
p2m_wire_new(const char *host, guint port, unsigned timeout_s, p2m_wire_stop_fn stop, void *stop_ctx)
{
	p2m_wire *w = g_new0(p2m_wire, 1);

	w->host = g_strdup(host);
	w->port = port;
	w->timeout_us = (gint64) MAX(timeout_s, 1u) * G_USEC_PER_SEC;
	w->stop = stop;
	w->stop_ctx = stop_ctx;
	w->fd = -1;
	w->detail = g_strdup("no failure");
	return w;
}

void
p2m_wire_free(p2m_wire *w)
{
	if (w == NULL)
		return;
	if (w->ssl != NULL)
		SSL_free(w->ssl);
	if (w->ctx != NULL)
		SSL_CTX_free(w->ctx);
	if (w->fd >= 0)
		close(w->fd);
	OPENSSL_cleanse(w->buf, sizeof(w->buf));
	g_free(w->host);
	g_free(w->detail);
	g_free(w);
}

static gboolean
stopped(const p2m_wire *w)
{
	return w->stop != NULL && w->stop(w->stop_ctx);
}

/* Wait for EVENTS until DEADLINE (monotonic µs), asking the stop function
 * at least once a slice.  OK also on POLLERR/POLLHUP: the next read or
 * write says what happened. */
static p2m_wire_status
wait_fd(p2m_wire *w, short events, gint64 deadline)
{
	for (;;) {
		struct pollfd p = { .fd = w->fd, .events = events };
		gint64 left = deadline - g_get_monotonic_time();
		int r;

		if (stopped(w))
			return fail(w, P2M_WIRE_STOPPED, "stopped");
		if (left <= 0)
			return P2M_WIRE_STALLED;
		r = poll(&p, 1, (int) MIN((left + 999) / 1000, P2M_CANCEL_SLICE_MS));
		if (r > 0)
			return P2M_WIRE_OK;
		if (r < 0 && errno != EINTR)
			return fail(w, P2M_WIRE_LOST, "poll: %s", g_strerror(errno));
	}
}

/* ---- name resolution, bounded -------------------------------------------- */

/* getaddrinfo has no timeout and cannot be interrupted: it runs in a
 * thread, which is left behind (and frees its own state) if the timeout or
 * a stop comes first.  An IP literal needs no thread. */
typedef struct {
	gint             refs;
	char            *host;
	char             port[8];
	GMutex           lock;
	GCond            done_cond;
	gboolean         done;
	int              rc;
	struct addrinfo *res;
} lookup;

static void
lookup_unref(lookup *l)
{
	if (!g_atomic_int_dec_and_test(&l->refs))
		return;
	if (l->res != NULL)
		freeaddrinfo(l->res);
	g_mutex_clear(&l->lock);
	g_cond_clear(&l->done_cond);
	g_free(l->host);
	g_free(l);
}

static gpointer
lookup_thread(gpointer data)
{
	lookup *l = data;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM };   /* no AI_ADDRCONFIG: with only loopback up it finds nothing */
	struct addrinfo *res = NULL;
	int rc = getaddrinfo(l->host, l->port, &hints, &res);

	g_mutex_lock(&l->lock);
	l->rc = rc;
	l->res = res;
	l->done = TRUE;
	g_cond_signal(&l->done_cond);
	g_mutex_unlock(&l->lock);
	lookup_unref(l);
	return NULL;
}

static p2m_wire_status
resolve(p2m_wire *w, gint64 deadline, struct addrinfo **out)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV };
	char port[8];
	lookup *l;
	GThread *t;
	p2m_wire_status st = P2M_WIRE_OK;
	int rc;

	g_snprintf(port, sizeof(port), "%u", w->port);
	if (g_hostname_is_ip_address(w->host)) {
		rc = getaddrinfo(w->host, port, &hints, out);
		return rc == 0 ? P2M_WIRE_OK : fail(w, P2M_WIRE_UNREACHABLE, "Could not resolve host: %s (%s)",
		                                    w->host, gai_strerror(rc));
	}
	l = g_new0(lookup, 1);
	l->refs = 2;
	l->host = g_strdup(w->host);
	g_strlcpy(l->port, port, sizeof(l->port));
	g_mutex_init(&l->lock);
	g_cond_init(&l->done_cond);
	if ((t = g_thread_try_new("p2m-resolve", lookup_thread, l, NULL)) == NULL) {
		l->refs = 1;
		lookup_unref(l);
		return fail(w, P2M_WIRE_UNREACHABLE, "Could not resolve host: %s (no thread)", w->host);
	}
	g_thread_unref(t);
	g_mutex_lock(&l->lock);
	while (!l->done && st == P2M_WIRE_OK) {
		gint64 slice = MIN(deadline, g_get_monotonic_time() + P2M_CANCEL_SLICE_MS * 1000);

		if (!g_cond_wait_until(&l->done_cond, &l->lock, slice) && !l->done) {
			if (stopped(w))
				st = fail(w, P2M_WIRE_STOPPED, "stopped");
			else if (g_get_monotonic_time() >= deadline)
				st = fail(w, P2M_WIRE_UNREACHABLE, "Could not resolve host: %s (no answer within %"
				          G_GINT64_FORMAT " s)", w->host, w->timeout_us / G_USEC_PER_SEC);
		}
	}
	if (st == P2M_WIRE_OK && l->rc != 0)
		st = fail(w, P2M_WIRE_UNREACHABLE, "Could not resolve host: %s (%s)", w->host, gai_strerror(l->rc));
	if (st == P2M_WIRE_OK) {
		*out = l->res;
		l->res = NULL;
	}
	g_mutex_unlock(&l->lock);
	lookup_unref(l);
	return st;
}

/* ---- connecting ------------------------------------------------------------ */

static void
note_peer(p2m_wire *w, const struct addrinfo *ai)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	const void *a = ai->ai_family == AF_INET6 ? (const void *) &((struct sockaddr_in6 *) ai->ai_addr)->sin6_addr :
	                                            (const void *) &((struct sockaddr_in *) ai->ai_addr)->sin_addr;

	(void) inet_ntop(ai->ai_family, a, ip, sizeof(ip));
	g_snprintf(w->peer, sizeof(w->peer), "%s port %u", ip, w->port);
}

/* One address: a non-blocking connect awaited until DEADLINE. */
static p2m_wire_status
try_address(p2m_wire *w, const struct addrinfo *ai, gint64 deadline)
{
	/* Reset, not close, whenever this process lets go (p2m_wire_free) or
	 * dies: a message half in the socket buffer never trickles out after
	 * the job was given up. */
	struct linger lg = { 1, 0 };
	int err = 0;
	socklen_t elen = sizeof(err);
	p2m_wire_status st;

	note_peer(w, ai);
	w->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
	if (w->fd < 0)
		return fail(w, P2M_WIRE_UNREACHABLE, "socket: %s", g_strerror(errno));
	(void) setsockopt(w->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	if (connect(w->fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return P2M_WIRE_OK;
	if (errno != EINPROGRESS)
		err = errno;
	else if ((st = wait_fd(w, POLLOUT, deadline)) == P2M_WIRE_STALLED)
		err = ETIMEDOUT;
	else if (st != P2M_WIRE_OK)
		return st;
	else if (getsockopt(w->fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0)
		err = errno;
	if (err == 0)
		return P2M_WIRE_OK;
	close(w->fd);
	w->fd = -1;
	return fail(w, P2M_WIRE_UNREACHABLE, "Failed to connect to %s port %u: %s", w->host, w->port, g_strerror(err));
}

p2m_wire_status
p2m_wire_connect(p2m_wire *w)
{
	struct addrinfo *res = NULL, *ai;
	gint64 deadline;
	p2m_wire_status st;

	w->t_start = g_get_monotonic_time();
	deadline = w->t_start + w->timeout_us;
	if ((st = resolve(w, deadline, &res)) != P2M_WIRE_OK)
		return st;
	w->t_dns = g_get_monotonic_time();
	st = fail(w, P2M_WIRE_UNREACHABLE, "Could not resolve host: %s (no address)", w->host);
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
			continue;
		if ((st = try_address(w, ai, deadline)) != P2M_WIRE_UNREACHABLE)
			break;
	}
	freeaddrinfo(res);
	if (st == P2M_WIRE_OK)
		w->t_conn = g_get_monotonic_time();
	return st;
}

/* ---- TLS ------------------------------------------------------------------- */

/* The oldest queued OpenSSL error, or WHAT. */
static const char *
ssl_text(const char *what, char *buf, gsize len)
{
	unsigned long e = ERR_peek_error();

	if (e == 0)
		return what;
	ERR_error_string_n(e, buf, len);
	return buf;
}

static gboolean
add_anchors(SSL_CTX *ctx, GBytes *pem)
{
	gsize len = 0;
	const void *data = g_bytes_get_data(pem, &len);
	BIO *bio = BIO_new_mem_buf(data, (int) len);
	X509_STORE *store = SSL_CTX_get_cert_store(ctx);
	X509 *cert;
	int added = 0;

	if (bio == NULL)
		return FALSE;
	while ((cert = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (X509_STORE_add_cert(store, cert) == 1)
			added++;
		X509_free(cert);
	}
	ERR_clear_error();   /* the end of the PEM data reads as an error */
	BIO_free(bio);
	return added > 0;
}

static p2m_wire_status
setup_tls(p2m_wire *w, const char *capath, GBytes *ca_pem)
{
	X509_VERIFY_PARAM *param;

	ERR_clear_error();
	if ((w->ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    SSL_CTX_set_min_proto_version(w->ctx, TLS1_2_VERSION) != 1)
		return fail(w, P2M_WIRE_TLS, "TLS cannot be set up");
	SSL_CTX_set_verify(w->ctx, SSL_VERIFY_PEER, NULL);
	/* A hashed directory: OpenSSL reads only the certificates a chain
	 * needs, not the whole bundle (curl's default) into every job. */
	if (capath != NULL && SSL_CTX_load_verify_locations(w->ctx, NULL, capath) != 1)
		ERR_clear_error();   /* no system store: ca_file may still do */
	if (ca_pem != NULL && !add_anchors(w->ctx, ca_pem))
		return fail(w, P2M_WIRE_TLS_VERIFY, "ca_file holds no usable certificate");
	if ((w->ssl = SSL_new(w->ctx)) == NULL || SSL_set_fd(w->ssl, w->fd) != 1)
		return fail(w, P2M_WIRE_TLS, "TLS cannot be set up");
	param = SSL_get0_param(w->ssl);
	X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (g_hostname_is_ip_address(w->host)) {
		if (X509_VERIFY_PARAM_set1_ip_asc(param, w->host) != 1)
			return fail(w, P2M_WIRE_TLS, "TLS cannot check the address %s", w->host);
	} else if (SSL_set1_host(w->ssl, w->host) != 1 || SSL_set_tlsext_host_name(w->ssl, w->host) != 1) {
		return fail(w, P2M_WIRE_TLS, "TLS cannot check the name %s", w->host);
	}
	return P2M_WIRE_OK;
}

p2m_wire_status
p2m_wire_start_tls(p2m_wire *w, const char *capath, GBytes *ca_pem)
{
	gint64 deadline = g_get_monotonic_time() + w->timeout_us;
	p2m_wire_status st;
	char ebuf[256];

	if ((st = setup_tls(w, capath, ca_pem)) != P2M_WIRE_OK)
		return st;
	/* Plain text the server sent after its "220 ready to start TLS" is
	 * not part of the TLS session: kept, it would read as the first
	 * protected reply (the STARTTLS injection of CVE-2011-0411's kind). */
	w->off = w->len = 0;
	w->skipping = FALSE;
	for (;;) {
		int r, e;
		long v;

		ERR_clear_error();
		errno = 0;
		if ((r = SSL_connect(w->ssl)) == 1)
			break;
		e = SSL_get_error(w->ssl, r);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			st = wait_fd(w, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline);
			if (st == P2M_WIRE_STALLED)
				return fail(w, st, "TLS handshake: nothing moved for %" G_GINT64_FORMAT " s",
				            w->timeout_us / G_USEC_PER_SEC);
			if (st != P2M_WIRE_OK)
				return st;
			continue;
		}
		if ((v = SSL_get_verify_result(w->ssl)) != X509_V_OK)
			return fail(w, P2M_WIRE_TLS_VERIFY, "SSL certificate problem: %s", X509_verify_cert_error_string(v));
		if (e == SSL_ERROR_SYSCALL || e == SSL_ERROR_ZERO_RETURN)
			return fail(w, P2M_WIRE_LOST, "the connection was closed during the TLS handshake%s%s",
			            errno != 0 ? ": " : "", errno != 0 ? g_strerror(errno) : "");
		return fail(w, P2M_WIRE_TLS, "TLS handshake failed: %s", ssl_text("unknown error", ebuf, sizeof(ebuf)));
	}
	w->t_tls = g_get_monotonic_time();
	return P2M_WIRE_OK;
}

/* ---- reading and writing ---------------------------------------------------- */

/* More bytes into the buffer (which has room), waiting until DEADLINE. */
static p2m_wire_status
fill(p2m_wire *w, gint64 deadline)
{
	char ebuf[256];

	for (;;) {
		short want = POLLIN;
		p2m_wire_status st;
		ssize_t n;

		if (w->ssl != NULL) {
			int r, e;

			ERR_clear_error();
			errno = 0;
			if ((r = SSL_read(w->ssl, w->buf + w->len, (int) (sizeof(w->buf) - w->len))) > 0) {
				w->len += (gsize) r;
				return P2M_WIRE_OK;
			}
			e = SSL_get_error(w->ssl, r);
			if (e == SSL_ERROR_WANT_WRITE)
				want = POLLOUT;
			else if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && errno == 0))
				return fail(w, P2M_WIRE_LOST, "the server closed the connection");
			else if (e == SSL_ERROR_SYSCALL)
				return fail(w, P2M_WIRE_LOST, "Recv failure: %s", g_strerror(errno));
			else if (e != SSL_ERROR_WANT_READ)
				return fail(w, P2M_WIRE_LOST, "TLS: %s", ssl_text("receive failed", ebuf, sizeof(ebuf)));
		} else if ((n = recv(w->fd, w->buf + w->len, sizeof(w->buf) - w->len, 0)) > 0) {
			w->len += (gsize) n;
			return P2M_WIRE_OK;
		} else if (n == 0) {
			return fail(w, P2M_WIRE_LOST, "the server closed the connection");
		} else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			return fail(w, P2M_WIRE_LOST, "Recv failure: %s", g_strerror(errno));
		}
		if ((st = wait_fd(w, want, deadline)) != P2M_WIRE_OK)
			return st == P2M_WIRE_STALLED ? fail(w, st, "no answer") : st;
	}
}

gint64
p2m_wire_deadline(const p2m_wire *w)
{
	return g_get_monotonic_time() + w->timeout_us;
}

p2m_wire_status
p2m_wire_read_line(p2m_wire *w, gint64 deadline, char *line, gsize max, gsize *len)
{
	p2m_wire_status st;

	*len = 0;
	w->skipping = FALSE;   /* a line cut short by a failure is not finished by the next call */
	if (w->fd < 0)
		return fail(w, P2M_WIRE_LOST, "not connected");
	for (;;) {
		char *lf = memchr(w->buf + w->off, '\n', w->len - w->off);
		gsize avail = lf != NULL ? (gsize) (lf - (w->buf + w->off)) : w->len - w->off;
		gsize take = MIN(avail, max - 1 - *len);

		if (!w->skipping) {
			memcpy(line + *len, w->buf + w->off, take);
			*len += take;
		}
		w->off += lf != NULL ? avail + 1 : avail;
		if (lf != NULL) {
			line[*len] = '\0';
			w->skipping = FALSE;
			return P2M_WIRE_OK;
		}
		if (*len == max - 1)
			w->skipping = TRUE;   /* keep what fits, read on to the LF */
		w->off = w->len = 0;
		/* Also while bytes keep coming: an endless line, or a flood of
		 * TLS records, must not outlast the deadline or a cancel. */
		if (stopped(w))
			return fail(w, P2M_WIRE_STOPPED, "stopped");
		if (g_get_monotonic_time() >= deadline)
			return fail(w, P2M_WIRE_STALLED, "no whole line in time");
		if ((st = fill(w, deadline)) != P2M_WIRE_OK)
			return st;
	}
}

p2m_wire_status
p2m_wire_write(p2m_wire *w, const void *data, gsize len)
{
	const char *p = data;
	char ebuf[256];

	if (w->fd < 0)
		return fail(w, P2M_WIRE_LOST, "not connected");
	while (len > 0) {
		short want = POLLOUT;
		p2m_wire_status st;
		ssize_t n;

		if (w->ssl != NULL) {
			int chunk = (int) MIN(len, (gsize) G_MAXINT), r, e;

			ERR_clear_error();
			errno = 0;
			if ((r = SSL_write(w->ssl, p, chunk)) > 0) {
				p += r;
				len -= (gsize) r;
				continue;
			}
			e = SSL_get_error(w->ssl, r);
			if (e == SSL_ERROR_WANT_READ)
				want = POLLIN;
			else if (e == SSL_ERROR_SYSCALL || e == SSL_ERROR_ZERO_RETURN)
				return fail(w, P2M_WIRE_LOST, "Send failure: %s",
				            errno != 0 ? g_strerror(errno) : "the server closed the connection");
			else if (e != SSL_ERROR_WANT_WRITE)
				return fail(w, P2M_WIRE_LOST, "TLS: %s", ssl_text("send failed", ebuf, sizeof(ebuf)));
		} else if ((n = send(w->fd, p, len, MSG_NOSIGNAL)) >= 0) {
			p += n;
			len -= (gsize) n;
			continue;
		} else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			return fail(w, P2M_WIRE_LOST, "Send failure: %s", g_strerror(errno));
		}
		/* Each wait gets the whole timeout: it counts from the last
		 * byte that moved, so a slow but moving upload is never cut. */
		if ((st = wait_fd(w, want, g_get_monotonic_time() + w->timeout_us)) != P2M_WIRE_OK)
			return st == P2M_WIRE_STALLED ? fail(w, st, "the upload made no progress") : st;
	}
	return P2M_WIRE_OK;
}

void
p2m_wire_set_timeout(p2m_wire *w, unsigned timeout_s)
{
	w->timeout_us = (gint64) MAX(timeout_s, 1u) * G_USEC_PER_SEC;
}

void
p2m_wire_cut(p2m_wire *w)
{
	if (w != NULL && w->fd >= 0)
		(void) shutdown(w->fd, SHUT_RDWR);
}

/* ---- for the transcript ------------------------------------------------------- */

const char *
p2m_wire_detail(const p2m_wire *w)
{
	return w->detail;
}

gboolean
p2m_wire_connected(const p2m_wire *w)
{
	return w->t_conn != 0;
}

gboolean
p2m_wire_tls(const p2m_wire *w)
{
	return w->t_tls != 0;
}

const char *
p2m_wire_peer(const p2m_wire *w)
{
	return w->peer;
}

char *
p2m_wire_describe_tls(const p2m_wire *w)
{
	X509 *cert;
	char subject[256] = "?", issuer[256] = "?";

	if (w->ssl == NULL || w->t_tls == 0)
		return g_strdup("no TLS");
	if ((cert = SSL_get1_peer_certificate(w->ssl)) != NULL) {
		X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof(subject));
		X509_NAME_oneline(X509_get_issuer_name(cert), issuer, sizeof(issuer));
		X509_free(cert);
	}
	return g_strdup_printf("SSL connection using %s / %s; server certificate subject %s, issuer %s",
	                       SSL_get_version(w->ssl), SSL_get_cipher_name(w->ssl), subject, issuer);
}

void
p2m_wire_times(const p2m_wire *w, double *dns, double *connected, double *tls)
{
	*dns = w->t_dns != 0 ? (double) (w->t_dns - w->t_start) / G_USEC_PER_SEC : 0;
	*connected = w->t_conn != 0 ? (double) (w->t_conn - w->t_start) / G_USEC_PER_SEC : 0;
	*tls = w->t_tls != 0 ? (double) (w->t_tls - w->t_start) / G_USEC_PER_SEC : 0;
}
