/* SPDX-License-Identifier: Apache-2.0 */
/* p2m-unpriv.c - network exchanges without root: a child drops to lp, talks to the server, hands a bounded answer back over a pipe. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>

#include "p2m-cancel.h"
#include "p2m-curl.h"
#include "p2m-error.h"
#include "p2m-secret.h"
#include "p2m-unpriv.h"

/* The answer's own length goes first, so a child that dies mid-write is
 * told apart from a short answer. */
#define LEN_PREFIX   4
#define OUT_FD       3
/* Child exit statuses the parent explains. */
#define EXIT_DROP    3
#define EXIT_TOOBIG  4
#define EXIT_WRITE   5

/* What the root side sends the spawner with each request, with two
 * descriptors: where the answer goes, and where the request comes from
 * (a stream, so its size is bounded by nothing but P2M_UNPRIV_REQUEST_MAX). */
typedef struct {
	uintptr_t fn;
	int32_t   timeout_s;
	uint32_t  req_len;
} spawn_hdr;

/* Root's end of the socket to the spawner; -1 = fork the caller instead. */
static int spawner_fd = -1;
static pid_t spawner_pid;


/* ---- the field codec ---------------------------------------------------------- */

gsize
p2m_unpriv_field_size(gsize len)
{
	return 4 + len;
}

void
p2m_unpriv_put(GByteArray *b, const void *data, gsize len)
{
	guint8 n[4] = { (guint8) (len >> 24), (guint8) (len >> 16), (guint8) (len >> 8), (guint8) len };

	g_byte_array_append(b, n, 4);
	if (len > 0)
		g_byte_array_append(b, data, (guint) len);
}

gboolean
p2m_unpriv_get(const guint8 **p, gsize *left, gsize max, const guint8 **data, gsize *len)
{
	gsize n;

	*data = NULL;
	*len = 0;
	if (*left < 4)
		return FALSE;
	n = ((gsize) (*p)[0] << 24) | ((gsize) (*p)[1] << 16) | ((gsize) (*p)[2] << 8) | (gsize) (*p)[3];
	if (n > max || n > *left - 4)
		return FALSE;
	*data = *p + 4;
	*len = n;
	*p += 4 + n;
	*left -= 4 + n;
	return TRUE;
}

/* ---- dropping root ------------------------------------------------------------- */

/* The user to become, looked up as root before any fork.  Not root: no drop. */
static gboolean
check_user(const char *user, GError **error)
{
	struct passwd *pw;

	if (geteuid() != 0)
		return TRUE;
	errno = 0;
	if ((pw = getpwnam(user)) == NULL || pw->pw_uid == 0) {
		g_set_error(error, P2M_ERROR, P2M_E_PERMISSION, "cannot drop privileges: no user '%s'", user);
		return FALSE;
	}
	return TRUE;
}

gboolean
p2m_unpriv_drop(const char *user, GError **error)
{
	struct passwd *pw;
	gid_t gid;
	uid_t uid;

	if (geteuid() != 0)
		return TRUE;
	if (!check_user(user, error))
		return FALSE;
	pw = getpwnam(user);
	uid = pw->pw_uid;
	gid = pw->pw_gid;
	if (setgroups(1, &gid) != 0 || setgid(gid) != 0 || setuid(uid) != 0) {
		g_set_error(error, P2M_ERROR, P2M_E_PERMISSION, "cannot become '%s': %s", user, g_strerror(errno));
		return FALSE;
	}
	/* Checked, not assumed: a setuid that half worked must stop here. */
	if (getuid() != uid || geteuid() != uid || getgid() != gid || getegid() != gid || setuid(0) == 0) {
		g_set_error(error, P2M_ERROR, P2M_E_PERMISSION, "dropping privileges to '%s' did not take", user);
		return FALSE;
	}
	/* The kernel already cleared it with the uid change; said anyway,
	 * since a process that was never root has it set. */
	(void) prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	return TRUE;
}

/* ---- the child --------------------------------------------------------------- */

static void
close_from(int lowfd)
{
#ifdef SYS_close_range
	if (syscall(SYS_close_range, (unsigned) lowfd, ~0U, 0) == 0)
		return;
#endif
	for (long fd = lowfd, max = sysconf(_SC_OPEN_MAX); fd < (max > 0 ? max : 1024); fd++)
		(void) close((int) fd);
}

/* Standard input and output on /dev/null, OUT on OUT_FD, nothing else but
 * standard error: the child must not touch the job's document, cupsd's
 * back channel, lock files or the helper's sockets. */
static void
isolate_fds(int out)
{
	int o = fcntl(out, F_DUPFD, OUT_FD);
	int null = open("/dev/null", O_RDWR);

	if (o < 0 || null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(null, STDOUT_FILENO) < 0)
		_exit(EXIT_WRITE);
	if (o != OUT_FD && dup2(o, OUT_FD) < 0)
		_exit(EXIT_WRITE);
	close_from(OUT_FD + 1);
}

/* All of P to FD: a pipe (write), or a socket (send, no SIGPIPE) when SOCK. */
static gboolean
write_all(int fd, const guint8 *p, gsize len, gboolean sock)
{
	while (len > 0) {
		ssize_t n = sock ? send(fd, p, len, MSG_NOSIGNAL) : write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return FALSE;
		p += n;
		len -= (gsize) n;
	}
	return TRUE;
}

static void G_GNUC_NORETURN
child_main(p2m_unpriv_fn fn, const guint8 *req, gsize req_len, int out, int timeout_s, gboolean drop)
{
	GByteArray *reply;
	guint8 n[LEN_PREFIX];
	gboolean ok;

	isolate_fds(out);
	signal(SIGTERM, SIG_DFL);
	signal(SIGALRM, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	alarm((unsigned) timeout_s);
	if (drop && !p2m_unpriv_drop(P2M_UNPRIV_USER, NULL))
		_exit(EXIT_DROP);
	/* After the drop, which clears the first; the second also when
	 * there was nothing to drop: the child holds the request's secrets. */
	(void) prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	(void) prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	reply = g_byte_array_sized_new(P2M_UNPRIV_REPLY_MAX + 1);
	fn(req, req_len, reply);
	if (reply->len > P2M_UNPRIV_REPLY_MAX)
		_exit(EXIT_TOOBIG);
	n[0] = (guint8) (reply->len >> 24);
	n[1] = (guint8) (reply->len >> 16);
	n[2] = (guint8) (reply->len >> 8);
	n[3] = (guint8) reply->len;
	ok = write_all(OUT_FD, n, LEN_PREFIX, FALSE) && write_all(OUT_FD, reply->data, reply->len, FALSE);
	p2m_wipe(reply->data, reply->len);
	/* _exit: no atexit handler or stdio buffer of the parent runs twice. */
	_exit(ok ? 0 : EXIT_WRITE);
}

/* ---- the root side ------------------------------------------------------------ */

/* Read the child's whole answer from FD until EOF or DEADLINE (monotonic µs). */
static gboolean
read_answer(int fd, gint64 deadline, GByteArray **reply, GError **error)
{
	gsize cap = LEN_PREFIX + P2M_UNPRIV_REPLY_MAX + 1, have = 0, want;
	guint8 *buf = g_malloc(cap);
	gboolean ok = FALSE;

	for (;;) {
		gint64 left = deadline - g_get_monotonic_time();
		struct pollfd pfd = { fd, POLLIN, 0 };
		ssize_t n;
		int r;

		if (left <= 0) {
			g_set_error_literal(error, P2M_ERROR, P2M_E_CONNECT, "the unprivileged exchange did not answer in time");
			goto out;
		}
		if (p2m_canceled()) {
			g_set_error_literal(error, P2M_ERROR, P2M_E_CANCELED,
			                    "the job was canceled while waiting for the token endpoint");
			goto out;
		}
		r = poll(&pfd, 1, (int) MIN(left / 1000 + 1, p2m_cancel_watched() ? P2M_CANCEL_SLICE_MS : 60000));
		if (r < 0 && errno != EINTR) {
			g_set_error(error, P2M_ERROR, P2M_E_INTERNAL, "poll: %s", g_strerror(errno));
			goto out;
		}
		if (r <= 0)
			continue;
		if ((n = read(fd, buf + have, cap - have)) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			g_set_error(error, P2M_ERROR, P2M_E_INTERNAL, "read: %s", g_strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		have += (gsize) n;
		if (have == cap) {
			g_set_error(error, P2M_ERROR, P2M_E_INTERNAL, "the unprivileged exchange answered over %d bytes",
			            P2M_UNPRIV_REPLY_MAX);
			goto out;
		}
	}
	want = have >= LEN_PREFIX ? ((gsize) buf[0] << 24 | (gsize) buf[1] << 16 | (gsize) buf[2] << 8 | buf[3]) : 0;
	if (have < LEN_PREFIX || want != have - LEN_PREFIX) {
		g_set_error_literal(error, P2M_ERROR, P2M_E_INTERNAL, "the unprivileged exchange ended without a complete answer");
		goto out;
	}
	*reply = g_byte_array_sized_new((guint) MAX(want, 1));
	g_byte_array_append(*reply, buf + LEN_PREFIX, (guint) want);
	ok = TRUE;
out:
	p2m_wipe(buf, cap);
	g_free(buf);
	return ok;
}

static gboolean
reap(pid_t pid, gboolean answered, GError **error)
{
	int status = 0;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return answered;
	if (!answered || (WIFEXITED(status) && WEXITSTATUS(status) == 0))
		return answered;
	if (WIFEXITED(status) && WEXITSTATUS(status) == EXIT_DROP)
		g_set_error(error, P2M_ERROR, P2M_E_PERMISSION, "the child could not become '%s'", P2M_UNPRIV_USER);
	else if (WIFSIGNALED(status))
		g_set_error(error, P2M_ERROR, P2M_E_INTERNAL, "the unprivileged exchange was killed by signal %d",
		            WTERMSIG(status));
	else
		g_set_error(error, P2M_ERROR, P2M_E_INTERNAL, "the unprivileged exchange failed (exit %d)",
		            WEXITSTATUS(status));
	return FALSE;
}

/* fork() with FDS[0..1] (a pipe or a socket pair) closed on failure. */
static pid_t
fork_with(int fds[2], GError **error)
{
	pid_t pid = fork();

	if (pid < 0) {
		g_set_error(error, P2M_ERROR, P2M_E_INTERNAL, "fork: %s", g_strerror(errno));
		close(fds[0]);
		close(fds[1]);
	}
	return pid;
}

static gboolean
run_forked(p2m_unpriv_fn fn, const guint8 *req, gsize req_len, int timeout_s, GByteArray **reply, GError **error)
{
	gint64 deadline = g_get_monotonic_time() + (gint64) (timeout_s + 2) * G_USEC_PER_SEC;
	gboolean ok;
	int fds[2];
	pid_t pid;

	if (!check_user(P2M_UNPRIV_USER, error))
		return FALSE;
	if (pipe2(fds, O_CLOEXEC) != 0) {
		g_set_error(error, P2M_ERROR, P2M_E_INTERNAL, "pipe: %s", g_strerror(errno));
		return FALSE;
	}
	if ((pid = fork_with(fds, error)) < 0)
		return FALSE;
	if (pid == 0) {
		close(fds[0]);
		child_main(fn, req, req_len, fds[1], timeout_s, TRUE);
	}
	close(fds[1]);
	ok = read_answer(fds[0], deadline, reply, error);
	close(fds[0]);
	if (!ok)
		(void) kill(pid, SIGKILL);
	if (!reap(pid, ok, error)) {
		p2m_unpriv_reply_free(*reply);
		*reply = NULL;
		return FALSE;
	}
	return TRUE;
}

static gboolean
run_spawned(p2m_unpriv_fn fn, const guint8 *req, gsize req_len, int timeout_s, GByteArray **reply, GError **error)
{
	gint64 deadline = g_get_monotonic_time() + (gint64) (timeout_s + 2) * G_USEC_PER_SEC;
	spawn_hdr hdr = { (uintptr_t) fn, timeout_s, (uint32_t) req_len };
	struct iovec iov = { &hdr, sizeof(hdr) };
	char cbuf[CMSG_SPACE(2 * sizeof(int))];
	struct msghdr msg;
	struct cmsghdr *cm;
	gboolean ok = FALSE;
	int out[2] = { -1, -1 }, in[2] = { -1, -1 }, give[2];

	if (pipe2(out, O_CLOEXEC) != 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) != 0) {
		g_set_error(error, P2M_ERROR, P2M_E_INTERNAL, "pipe: %s", g_strerror(errno));
		goto out;
	}
	memset(&msg, 0, sizeof(msg));
	memset(cbuf, 0, sizeof(cbuf));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cbuf;
	msg.msg_controllen = sizeof(cbuf);
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(2 * sizeof(int));
	give[0] = out[1];
	give[1] = in[1];
	memcpy(CMSG_DATA(cm), give, sizeof(give));
	if (sendmsg(spawner_fd, &msg, MSG_NOSIGNAL) < 0) {
		g_set_error(error, P2M_ERROR, P2M_E_INTERNAL, "the unprivileged spawner is gone: %s", g_strerror(errno));
		goto out;
	}
	close(out[1]);
	close(in[1]);
	out[1] = in[1] = -1;
	/* The child reads it all before it answers; a child that died early
	 * shows as EPIPE here and as a missing answer below. */
	(void) write_all(in[0], req, req_len, TRUE);
	shutdown(in[0], SHUT_WR);
	ok = read_answer(out[0], deadline, reply, error);
out:
	for (int i = 0; i < 2; i++) {
		if (out[i] >= 0)
			close(out[i]);
		if (in[i] >= 0)
			close(in[i]);
	}
	return ok;
}

gboolean
p2m_unpriv_run(p2m_unpriv_fn fn, const guint8 *req, gsize req_len, int timeout_s,
               GByteArray **reply, GError **error)
{
	*reply = NULL;
	if (req_len > P2M_UNPRIV_REQUEST_MAX) {
		g_set_error(error, P2M_ERROR, P2M_E_INTERNAL, "request over %d bytes", P2M_UNPRIV_REQUEST_MAX);
		return FALSE;
	}
	if (spawner_fd >= 0)
		return run_spawned(fn, req, req_len, timeout_s, reply, error);
	return run_forked(fn, req, req_len, timeout_s, reply, error);
}

void
p2m_unpriv_reply_free(GByteArray *reply)
{
	if (reply == NULL)
		return;
	p2m_wipe(reply->data, reply->len);
	g_byte_array_free(reply, TRUE);
}

/* ---- the spawner ------------------------------------------------------------- */

/* Receive one request header and its two descriptors (answer, request);
 * FALSE at EOF.  *OK is FALSE for anything malformed. */
static gboolean
spawner_receive(int sock, spawn_hdr *hdr, int fds[2], gboolean *ok)
{
	char cbuf[CMSG_SPACE(2 * sizeof(int))];
	struct iovec iov = { hdr, sizeof(*hdr) };
	struct msghdr msg;
	struct cmsghdr *cm;
	ssize_t n;

	fds[0] = fds[1] = -1;
	*ok = FALSE;
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cbuf;
	msg.msg_controllen = sizeof(cbuf);
	while ((n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC)) < 0)
		if (errno != EINTR)
			return FALSE;
	if (n == 0)
		return FALSE;
	for (cm = CMSG_FIRSTHDR(&msg); cm != NULL; cm = CMSG_NXTHDR(&msg, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS && cm->cmsg_len == CMSG_LEN(2 * sizeof(int)))
			memcpy(fds, CMSG_DATA(cm), 2 * sizeof(int));
	*ok = n == (ssize_t) sizeof(*hdr) && (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) == 0 && fds[0] >= 0
	      && fds[1] >= 0 && hdr->req_len <= P2M_UNPRIV_REQUEST_MAX;
	return TRUE;
}

/* In the spawner's child: the whole request from FD (exactly LEN bytes). */
static guint8 *
read_request(int fd, gsize len)
{
	guint8 *buf = g_malloc(MAX(len, 1));
	gsize have = 0;

	while (have < len) {
		ssize_t n = read(fd, buf + have, len - have);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(EXIT_WRITE);
		have += (gsize) n;
	}
	return buf;
}

static void G_GNUC_NORETURN
spawner_main(int sock)
{
	spawn_hdr hdr;
	gboolean ok;
	int fds[2];

	isolate_fds(sock);
	if (!p2m_unpriv_drop(P2M_UNPRIV_USER, NULL))
		_exit(EXIT_DROP);
	(void) prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (getppid() == 1)
		_exit(0);
	/* Every exchange of a child is HTTPS: load libcurl once here, now
	 * that we are not root, instead of once per child; the root process
	 * never maps it.  A failure is the child's to report (it tries again
	 * and puts the error in its answer). */
	(void) p2m_curl_load(NULL);
	signal(SIGCHLD, SIG_IGN);  /* children are never waited for */
	while (spawner_receive(OUT_FD, &hdr, fds, &ok)) {
		/* The function pointer is trusted: only root's end of an unnamed
		 * socketpair, in the process we were forked from, can send it. */
		if (ok && fork() == 0) {
			int timeout_s = CLAMP(hdr.timeout_s, 1, 600);

			alarm((unsigned) timeout_s);
			child_main((p2m_unpriv_fn) hdr.fn, read_request(fds[1], hdr.req_len), hdr.req_len, fds[0],
			           timeout_s, FALSE);
		}
		if (fds[0] >= 0)
			close(fds[0]);
		if (fds[1] >= 0)
			close(fds[1]);
	}
	_exit(0);
}

gboolean
p2m_unpriv_start_spawner(GError **error)
{
	int sv[2];
	pid_t pid;

	if (spawner_fd >= 0)
		return TRUE;
	if (!check_user(P2M_UNPRIV_USER, error))
		return FALSE;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
		g_set_error(error, P2M_ERROR, P2M_E_INTERNAL, "socketpair: %s", g_strerror(errno));
		return FALSE;
	}
	if ((pid = fork_with(sv, error)) < 0)
		return FALSE;
	if (pid == 0) {
		close(sv[0]);
		spawner_main(sv[1]);
	}
	close(sv[1]);
	spawner_fd = sv[0];
	spawner_pid = pid;
	return TRUE;
}

GPid
p2m_unpriv_spawner_pid(void)
{
	return spawner_pid;
}
