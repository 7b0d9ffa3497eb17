/* SPDX-License-Identifier: Apache-2.0 */
/* test-ipc.c - unit tests for the helper socket's frames and the bounded request/reply call. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <glib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "p2m-cancel.h"
#include "p2m-ipc.h"

static void
test_roundtrip(void)
{
	uint8_t buf[256];
	p2m_ipc_builder b;
	p2m_ipc_msg msg;
	char s[64];
	ssize_t n;

	p2m_ipc_begin(&b, buf, sizeof(buf), P2M_IPC_PUT_PASSWORD);
	p2m_ipc_add_str(&b, P2M_IPC_F_USER, "bob");
	p2m_ipc_add(&b, P2M_IPC_F_SECRET, "pw\0x", 4);
	p2m_ipc_add_str(&b, P2M_IPC_F_TEXT, "");
	n = p2m_ipc_finish(&b);
	g_assert_cmpint(n, ==, P2M_IPC_HEADER_SIZE + 3 + 3 + 3 + 4 + 3);
	g_assert_cmpmem(buf, 4, "P2M1", 4);
	g_assert_cmpint(p2m_ipc_parse(buf, (size_t) n, &msg), ==, n);
	g_assert_cmpint(msg.op, ==, P2M_IPC_PUT_PASSWORD);
	g_assert_cmpint(msg.nfields, ==, 3);
	g_assert_cmpint(p2m_ipc_field_str(p2m_ipc_find(&msg, P2M_IPC_F_USER), s, sizeof(s)), ==, 0);
	g_assert_cmpstr(s, ==, "bob");
	/* a field holding a NUL is not a string */
	g_assert_cmpint(p2m_ipc_find(&msg, P2M_IPC_F_SECRET)->len, ==, 4);
	g_assert_cmpint(p2m_ipc_field_str(p2m_ipc_find(&msg, P2M_IPC_F_SECRET), s, sizeof(s)), ==, -1);
	g_assert_cmpint(p2m_ipc_field_str(p2m_ipc_find(&msg, P2M_IPC_F_TEXT), s, sizeof(s)), ==, 0);
	g_assert_cmpstr(s, ==, "");
	g_assert_null(p2m_ipc_find(&msg, P2M_IPC_F_URI));
	/* too small a destination */
	g_assert_cmpint(p2m_ipc_field_str(p2m_ipc_find(&msg, P2M_IPC_F_USER), s, 3), ==, -1);
	/* trailing bytes after a whole frame are the caller's business */
	g_assert_cmpint(p2m_ipc_parse(buf, sizeof(buf), &msg), ==, n);
}

static void
test_incomplete(void)
{
	uint8_t buf[64];
	p2m_ipc_builder b;
	p2m_ipc_msg msg;
	ssize_t n;
	size_t i;

	p2m_ipc_begin(&b, buf, sizeof(buf), P2M_IPC_STATUS);
	p2m_ipc_add_str(&b, P2M_IPC_F_ACCOUNT, "scanner");
	n = p2m_ipc_finish(&b);
	for (i = 0; i < (size_t) n; i++)
		g_assert_cmpint(p2m_ipc_parse(buf, i, &msg), ==, 0);
	g_assert_cmpint(p2m_ipc_parse(buf, (size_t) n, &msg), ==, n);
}

static void
test_malformed(void)
{
	uint8_t buf[64];
	p2m_ipc_builder b;
	p2m_ipc_msg msg;
	ssize_t n;

	/* bad magic, even before the header is complete */
	g_assert_cmpint(p2m_ipc_parse((const uint8_t *) "GET / HTTP/1.1\r\n", 16, &msg), ==, -1);
	g_assert_cmpint(p2m_ipc_parse((const uint8_t *) "X", 1, &msg), ==, -1);
	/* a payload over the frame cap */
	memcpy(buf, "P2M1\x03\x00\x00\x01\x00\x00", 10);
	g_assert_cmpint(p2m_ipc_parse(buf, 10, &msg), ==, -1);
	/* too many fields */
	memcpy(buf, "P2M1\x03\x11\x00\x00\x00\x00", 10);
	g_assert_cmpint(p2m_ipc_parse(buf, 10, &msg), ==, -1);
	/* a field running past the payload */
	memcpy(buf, "P2M1\x03\x01\x00\x00\x00\x04\x01\x00\x05x", 14);
	g_assert_cmpint(p2m_ipc_parse(buf, 14, &msg), ==, -1);
	/* fewer fields than announced */
	memcpy(buf, "P2M1\x03\x02\x00\x00\x00\x04\x01\x00\x01x", 14);
	g_assert_cmpint(p2m_ipc_parse(buf, 14, &msg), ==, -1);
	/* bytes left over after the announced fields */
	p2m_ipc_begin(&b, buf, sizeof(buf), P2M_IPC_STATUS);
	p2m_ipc_add_str(&b, P2M_IPC_F_TEXT, "ab");
	n = p2m_ipc_finish(&b);
	buf[5] = 0;
	g_assert_cmpint(p2m_ipc_parse(buf, (size_t) n, &msg), ==, -1);
}

static void
test_builder_limits(void)
{
	static uint8_t big[P2M_IPC_MAX_FRAME + 100];
	uint8_t small[16];
	p2m_ipc_builder b;
	int i;

	p2m_ipc_begin(&b, small, sizeof(small), P2M_IPC_STATUS);
	p2m_ipc_add_str(&b, P2M_IPC_F_TEXT, "this does not fit");
	g_assert_cmpint(p2m_ipc_finish(&b), ==, -1);
	/* the frame cap holds even with a bigger buffer */
	p2m_ipc_begin(&b, big, sizeof(big), P2M_IPC_STATUS);
	p2m_ipc_add(&b, P2M_IPC_F_TEXT, big, 0xffff);
	g_assert_cmpint(p2m_ipc_finish(&b), ==, -1);
	p2m_ipc_begin(&b, big, sizeof(big), P2M_IPC_STATUS);
	for (i = 0; i <= P2M_IPC_MAX_FIELDS; i++)
		p2m_ipc_add_str(&b, P2M_IPC_F_TEXT, "x");
	g_assert_cmpint(p2m_ipc_finish(&b), ==, -1);
	p2m_ipc_begin(&b, big, sizeof(big), P2M_IPC_STATUS);
	p2m_ipc_add_str(&b, P2M_IPC_F_TEXT, NULL);
	g_assert_cmpint(p2m_ipc_finish(&b), ==, -1);
}

/* ---- p2m_ipc_call against a socket in this process ---------------------- */

typedef struct {
	int         listen_fd;
	const char *reply;     /* NULL: accept, read, never answer */
	size_t      reply_len;
} server;

static gpointer
serve_one(gpointer data)
{
	server *s = data;
	uint8_t buf[256];
	int fd = accept(s->listen_fd, NULL, NULL);

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(read(fd, buf, sizeof(buf)), >, 0);
	if (s->reply != NULL)
		g_assert_cmpint(write(fd, s->reply, s->reply_len), ==, (ssize_t) s->reply_len);
	else
		g_usleep(G_USEC_PER_SEC / 2);
	close(fd);
	return NULL;
}

static int
listen_at(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	g_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
	g_assert_cmpint(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), ==, 0);
	g_assert_cmpint(listen(fd, 1), ==, 0);
	return fd;
}

static ssize_t
call_server(server *s, const char *path, uint8_t *resp, size_t cap, int timeout_ms)
{
	uint8_t req[64];
	p2m_ipc_builder b;
	GThread *t = g_thread_new("server", serve_one, s);
	ssize_t n;

	p2m_ipc_begin(&b, req, sizeof(req), P2M_IPC_STATUS);
	n = p2m_ipc_call(path, req, (size_t) p2m_ipc_finish(&b), resp, cap, timeout_ms);
	g_thread_join(t);
	return n;
}

static void
test_call(void)
{
	g_autofree char *dir = g_dir_make_tmp("p2m-ipc-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "s", NULL);
	uint8_t ok_frame[32], resp[64];
	p2m_ipc_builder b;
	p2m_ipc_msg msg;
	server s;
	ssize_t n;

	p2m_ipc_begin(&b, ok_frame, sizeof(ok_frame), P2M_IPC_OK);
	p2m_ipc_add_str(&b, P2M_IPC_F_TEXT, "fine");
	s.listen_fd = listen_at(path);
	s.reply = (const char *) ok_frame;
	s.reply_len = (size_t) p2m_ipc_finish(&b);
	n = call_server(&s, path, resp, sizeof(resp), 2000);
	g_assert_cmpint(n, ==, (ssize_t) s.reply_len);
	g_assert_cmpint(p2m_ipc_parse(resp, (size_t) n, &msg), ==, n);
	g_assert_cmpint(msg.op, ==, P2M_IPC_OK);
	/* garbage back: EPROTO */
	s.reply = "HTTP/1.1 200 OK\r\n";
	s.reply_len = 17;
	g_assert_cmpint(call_server(&s, path, resp, sizeof(resp), 2000), ==, -1);
	g_assert_cmpint(errno, ==, EPROTO);
	/* a helper that never answers: ETIMEDOUT within the deadline */
	s.reply = NULL;
	g_assert_cmpint(call_server(&s, path, resp, sizeof(resp), 100), ==, -1);
	g_assert_cmpint(errno, ==, ETIMEDOUT);
	close(s.listen_fd);
	unlink(path);
	/* nobody listening */
	g_assert_cmpint(p2m_ipc_call(path, ok_frame, 10, resp, sizeof(resp), 100), ==, -1);
	g_assert_cmpint(errno, ==, ENOENT);
	rmdir(dir);
}

/* The caller's own process serving the socket is trusted (as root is), and
 * the call reports who it was. */
static void
test_call_trusted(void)
{
	g_autofree char *dir = g_dir_make_tmp("p2m-ipc-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "s", NULL);
	uint8_t ok_frame[32], req[64], resp[64];
	p2m_ipc_builder b;
	GThread *t;
	server s;
	uid_t peer = 12345;

	p2m_ipc_begin(&b, ok_frame, sizeof(ok_frame), P2M_IPC_OK);
	s.listen_fd = listen_at(path);
	s.reply = (const char *) ok_frame;
	s.reply_len = (size_t) p2m_ipc_finish(&b);
	t = g_thread_new("server", serve_one, &s);
	p2m_ipc_begin(&b, req, sizeof(req), P2M_IPC_STATUS);
	g_assert_cmpint(p2m_ipc_call_trusted(path, geteuid(), &peer, req, (size_t) p2m_ipc_finish(&b),
	                                     resp, sizeof(resp), 2000), ==, (ssize_t) s.reply_len);
	g_thread_join(t);
	g_assert_cmpuint(peer, ==, geteuid());
	close(s.listen_fd);
	unlink(path);
	/* nobody listening: the peer is unknown */
	g_assert_cmpint(p2m_ipc_call_trusted(path, geteuid(), &peer, req, 10, resp, sizeof(resp), 100), ==, -1);
	g_assert_cmpint(errno, ==, ENOENT);
	g_assert_cmpuint(peer, ==, (uid_t) -1);
	rmdir(dir);
}

/* A listener whose backlog is full: the call waits for room (connect()
 * answers EAGAIN meanwhile) instead of sending on an unconnected socket. */
typedef struct {
	server server;
	int    fillers;
} backlog_server;

static gpointer
serve_after_fillers(gpointer data)
{
	backlog_server *bs = data;
	int i;

	g_usleep(G_USEC_PER_SEC / 5);
	for (i = 0; i < bs->fillers; i++)
		close(accept(bs->server.listen_fd, NULL, NULL));
	return serve_one(&bs->server);
}

static void
test_call_full_backlog(void)
{
	g_autofree char *dir = g_dir_make_tmp("p2m-ipc-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "s", NULL);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	uint8_t ok_frame[32], req[64], resp[64];
	int fillers[64];
	p2m_ipc_builder b;
	backlog_server bs;
	GThread *t;
	int i;

	g_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
	p2m_ipc_begin(&b, ok_frame, sizeof(ok_frame), P2M_IPC_OK);
	bs.server.listen_fd = listen_at(path);
	bs.server.reply = (const char *) ok_frame;
	bs.server.reply_len = (size_t) p2m_ipc_finish(&b);
	for (bs.fillers = 0; bs.fillers < (int) G_N_ELEMENTS(fillers); bs.fillers++) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);

		if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) != 0) {
			g_assert_cmpint(errno, ==, EAGAIN);
			close(fd);
			break;
		}
		fillers[bs.fillers] = fd;
	}
	g_assert_cmpint(bs.fillers, <, (int) G_N_ELEMENTS(fillers));
	t = g_thread_new("server", serve_after_fillers, &bs);
	p2m_ipc_begin(&b, req, sizeof(req), P2M_IPC_STATUS);
	g_assert_cmpint(p2m_ipc_call(path, req, (size_t) p2m_ipc_finish(&b), resp, sizeof(resp), 10000),
	                ==, (ssize_t) bs.server.reply_len);
	g_thread_join(t);
	for (i = 0; i < bs.fillers; i++)
		close(fillers[i]);
	close(bs.server.listen_fd);
	unlink(path);
	rmdir(dir);
}

/* A server that never answers, with the process's cancel flag set by
 * another thread (the backend's SIGTERM): the call ends at the next slice
 * with ECANCELED instead of waiting out its 30 s timeout. */
static volatile sig_atomic_t cancel_flag;

static gpointer
cancel_soon(gpointer data)
{
	g_usleep(G_USEC_PER_SEC / 5);
	cancel_flag = 1;
	return NULL;
}

static void
test_call_canceled(void)
{
	g_autofree char *dir = g_dir_make_tmp("p2m-ipc-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "s", NULL);
	int listen_fd = listen_at(path);
	uint8_t req[64], resp[64];
	p2m_ipc_builder b;
	GThread *t;
	int fd;

	p2m_cancel_watch(&cancel_flag);
	t = g_thread_new("cancel", cancel_soon, NULL);
	p2m_ipc_begin(&b, req, sizeof(req), P2M_IPC_STATUS);
	g_assert_cmpint(p2m_ipc_call(path, req, (size_t) p2m_ipc_finish(&b), resp, sizeof(resp), 30000), ==, -1);
	/* not ETIMEDOUT: the cancel ended the wait, not the 30 s timeout */
	g_assert_cmpint(errno, ==, ECANCELED);
	g_thread_join(t);
	p2m_cancel_watch(NULL);
	cancel_flag = 0;
	fd = accept(listen_fd, NULL, NULL);
	if (fd >= 0)
		close(fd);
	close(listen_fd);
	unlink(path);
	rmdir(dir);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/ipc/roundtrip", test_roundtrip);
	g_test_add_func("/ipc/incomplete", test_incomplete);
	g_test_add_func("/ipc/malformed", test_malformed);
	g_test_add_func("/ipc/builder-limits", test_builder_limits);
	g_test_add_func("/ipc/call", test_call);
	g_test_add_func("/ipc/call-trusted", test_call_trusted);
	g_test_add_func("/ipc/call-full-backlog", test_call_full_backlog);
	g_test_add_func("/ipc/call-canceled", test_call_canceled);
	return g_test_run();
}
