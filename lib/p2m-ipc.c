/* SPDX-License-Identifier: Apache-2.0 */
/* p2m-ipc.c - frames spoken on the helper socket; plain C, no GLib (the PAM module links it). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "p2m-cancel.h"
#include "p2m-ipc.h"

#define FIELD_HEADER 3  /* tag + 2-byte length */

static uint32_t
get_be32(const uint8_t *p)
{
	return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16) | ((uint32_t) p[2] << 8) | (uint32_t) p[3];
}

static void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t) (v >> 24);
	p[1] = (uint8_t) (v >> 16);
	p[2] = (uint8_t) (v >> 8);
	p[3] = (uint8_t) v;
}

/* Walk the NFIELDS fields of PAYLOAD, which must fill it exactly. */
static int
parse_fields(const uint8_t *payload, size_t plen, unsigned nfields, p2m_ipc_msg *out)
{
	size_t off = 0;
	unsigned i;

	for (i = 0; i < nfields; i++) {
		uint16_t flen;

		if (plen - off < FIELD_HEADER)
			return -1;
		flen = (uint16_t) ((payload[off + 1] << 8) | payload[off + 2]);
		off += FIELD_HEADER;
		if (plen - off < flen)
			return -1;
		out->fields[i].tag = payload[off - FIELD_HEADER];
		out->fields[i].len = flen;
		out->fields[i].data = payload + off;
		off += flen;
	}
	return off == plen ? 0 : -1;
}

ssize_t
p2m_ipc_parse(const uint8_t *buf, size_t len, p2m_ipc_msg *out)
{
	size_t magic_len = len < 4 ? len : 4;
	uint32_t plen;
	unsigned nfields;

	memset(out, 0, sizeof(*out));
	/* Refuse a wrong prefix at once instead of waiting for more bytes. */
	if (memcmp(buf, P2M_IPC_MAGIC, magic_len) != 0)
		return -1;
	if (len < P2M_IPC_HEADER_SIZE)
		return 0;
	nfields = buf[5];
	plen = get_be32(buf + 6);
	if (nfields > P2M_IPC_MAX_FIELDS || plen > P2M_IPC_MAX_FRAME - P2M_IPC_HEADER_SIZE)
		return -1;
	if (len < P2M_IPC_HEADER_SIZE + (size_t) plen)
		return 0;
	if (parse_fields(buf + P2M_IPC_HEADER_SIZE, plen, nfields, out) != 0) {
		memset(out, 0, sizeof(*out));
		return -1;
	}
	out->op = buf[4];
	out->nfields = (uint8_t) nfields;
	return (ssize_t) (P2M_IPC_HEADER_SIZE + plen);
}

const p2m_ipc_field *
p2m_ipc_find(const p2m_ipc_msg *msg, uint8_t tag)
{
	unsigned i;

	for (i = 0; i < msg->nfields && i < P2M_IPC_MAX_FIELDS; i++)
		if (msg->fields[i].tag == tag)
			return &msg->fields[i];
	return NULL;
}

int
p2m_ipc_field_str(const p2m_ipc_field *f, char *dst, size_t cap)
{
	if (cap == 0)
		return -1;
	dst[0] = '\0';
	if (f == NULL || (size_t) f->len >= cap || (f->len > 0 && memchr(f->data, '\0', f->len) != NULL))
		return -1;
	if (f->len > 0)
		memcpy(dst, f->data, f->len);
	dst[f->len] = '\0';
	return 0;
}

/* ---- building ---------------------------------------------------------------- */

void
p2m_ipc_begin(p2m_ipc_builder *b, uint8_t *buf, size_t cap, uint8_t op)
{
	b->buf = buf;
	b->cap = cap < P2M_IPC_MAX_FRAME ? cap : P2M_IPC_MAX_FRAME;
	b->len = 0;
	b->failed = 0;
	if (buf == NULL || b->cap < P2M_IPC_HEADER_SIZE) {
		b->failed = 1;
		return;
	}
	memcpy(buf, P2M_IPC_MAGIC, 4);
	buf[4] = op;
	buf[5] = 0;
	put_be32(buf + 6, 0);
	b->len = P2M_IPC_HEADER_SIZE;
}

void
p2m_ipc_add(p2m_ipc_builder *b, uint8_t tag, const void *data, size_t len)
{
	if (b->failed)
		return;
	if (len > 0xffff || b->buf[5] >= P2M_IPC_MAX_FIELDS || b->cap - b->len < FIELD_HEADER + len
	    || (len > 0 && data == NULL)) {
		b->failed = 1;
		return;
	}
	b->buf[b->len] = tag;
	b->buf[b->len + 1] = (uint8_t) (len >> 8);
	b->buf[b->len + 2] = (uint8_t) len;
	if (len > 0)
		memcpy(b->buf + b->len + FIELD_HEADER, data, len);
	b->len += FIELD_HEADER + len;
	b->buf[5]++;
}

void
p2m_ipc_add_str(p2m_ipc_builder *b, uint8_t tag, const char *s)
{
	if (s == NULL) {
		b->failed = 1;
		return;
	}
	p2m_ipc_add(b, tag, s, strlen(s));
}

ssize_t
p2m_ipc_finish(p2m_ipc_builder *b)
{
	if (b->failed)
		return -1;
	put_be32(b->buf + 6, (uint32_t) (b->len - P2M_IPC_HEADER_SIZE));
	return (ssize_t) b->len;
}

/* ---- one exchange -------------------------------------------------------------- */

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for EVENTS on FD until DEADLINE (monotonic ms); 0 ready, -1 errno set. */
static int
wait_fd(int fd, short events, long long deadline)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = events };
		long long left = deadline - now_ms();
		int r;

		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (p2m_canceled()) {
			errno = ECANCELED;
			return -1;
		}
		if (p2m_cancel_watched() && left > P2M_CANCEL_SLICE_MS)
			left = P2M_CANCEL_SLICE_MS;
		r = poll(&p, 1, left > 60000 ? 60000 : (int) left);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
	}
}

static int
connect_unix(const char *path, long long deadline)
{
	struct sockaddr_un sa;
	socklen_t elen = sizeof(int);
	int fd, r, err = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0)
		return -1;
	/* A non-blocking UNIX connect() fails with EAGAIN, not EINPROGRESS,
	 * while the listener's backlog is full (other clients' burst): the
	 * socket is left unconnected, so try again until the deadline. */
	while ((r = connect(fd, (struct sockaddr *) &sa, sizeof(sa))) != 0 && errno == EAGAIN) {
		struct timespec pause = { 0, 10 * 1000 * 1000 };

		if (now_ms() >= deadline) {
			errno = ETIMEDOUT;
			goto fail;
		}
		nanosleep(&pause, NULL);
	}
	if (r == 0)
		return fd;
	if (errno != EINPROGRESS)
		goto fail;
	if (wait_fd(fd, POLLOUT, deadline) != 0)
		goto fail;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0)
		goto fail;
	if (err != 0) {
		errno = err;
		goto fail;
	}
	return fd;
fail:
	err = errno;
	close(fd);
	errno = err;
	return -1;
}

static int
send_all(int fd, const uint8_t *buf, size_t len, long long deadline)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = send(fd, buf + off, len - off, MSG_NOSIGNAL);

		if (n > 0) {
			off += (size_t) n;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
			if (wait_fd(fd, POLLOUT, deadline) != 0)
				return -1;
		} else {
			return -1;
		}
	}
	return 0;
}

/* Read until RESP holds one whole frame; its length, or -1 with errno. */
static ssize_t
recv_frame(int fd, uint8_t *resp, size_t cap, long long deadline)
{
	p2m_ipc_msg msg;
	size_t have = 0;

	for (;;) {
		ssize_t n, r;

		if (have > 0 && (r = p2m_ipc_parse(resp, have, &msg)) != 0) {
			if (r < 0)
				errno = EPROTO;
			return r;
		}
		if (have == cap) {
			errno = EPROTO;
			return -1;
		}
		n = recv(fd, resp + have, cap - have, 0);
		if (n > 0) {
			have += (size_t) n;
		} else if (n == 0) {
			errno = EPROTO;  /* closed before a whole frame */
			return -1;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
			if (wait_fd(fd, POLLIN, deadline) != 0)
				return -1;
		} else {
			return -1;
		}
	}
}

/* The uid of the process that listens on FD's peer socket; -1 with errno. */
static int
peer_uid_of(int fd, uid_t *uid)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
		return -1;
	if (len != sizeof(cred)) {
		errno = EPROTO;
		return -1;
	}
	*uid = cred.uid;
	return 0;
}

/* TRUSTED NULL: any peer; otherwise root or *TRUSTED, checked before a byte is sent. */
static ssize_t
call(const char *path, const uid_t *trusted, uid_t *peer, const uint8_t *req, size_t req_len,
     uint8_t *resp, size_t resp_cap, int timeout_ms)
{
	long long deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	uid_t uid = (uid_t) -1;
	ssize_t r = -1;
	int fd, saved;

	if (peer != NULL)
		*peer = uid;
	if ((fd = connect_unix(path, deadline)) < 0)
		return -1;
	if (trusted != NULL && peer_uid_of(fd, &uid) != 0)
		goto out;
	if (peer != NULL)
		*peer = uid;
	if (trusted != NULL && uid != 0 && uid != *trusted) {
		errno = EPERM;
		goto out;
	}
	/* A helper that refuses at once (busy) answers and closes before our
	 * request is sent: its answer is still worth reading. */
	if (send_all(fd, req, req_len, deadline) == 0 || errno == EPIPE || errno == ECONNRESET)
		r = recv_frame(fd, resp, resp_cap, deadline);
out:
	saved = errno;
	close(fd);
	errno = saved;
	return r;
}

ssize_t
p2m_ipc_call(const char *path, const uint8_t *req, size_t req_len,
             uint8_t *resp, size_t resp_cap, int timeout_ms)
{
	return call(path, NULL, NULL, req, req_len, resp, resp_cap, timeout_ms);
}

ssize_t
p2m_ipc_call_trusted(const char *path, uid_t trusted, uid_t *peer_uid, const uint8_t *req, size_t req_len,
                     uint8_t *resp, size_t resp_cap, int timeout_ms)
{
	return call(path, &trusted, peer_uid, req, req_len, resp, resp_cap, timeout_ms);
}
