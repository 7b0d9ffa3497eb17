/* SPDX-License-Identifier: Apache-2.0 */
/* p2m-ipc.h - frames spoken on the helper socket; plain C, no GLib (the PAM module links it). */
#ifndef P2M_IPC_H
#define P2M_IPC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * A frame is: "P2M1" magic (4 bytes), op (1 byte), field count (1 byte),
 * payload length (4 bytes, big endian), then the fields, each a tag (1 byte),
 * a length (2 bytes, big endian) and that many bytes.  One request frame, one
 * reply frame, then the connection closes.  The helper authorizes every
 * request by the peer's SO_PEERCRED uid, never by anything in the frame.
 */
#define P2M_IPC_MAGIC        "P2M1"
#define P2M_IPC_HEADER_SIZE  10
#define P2M_IPC_MAX_FRAME    (16 * 1024)
#define P2M_IPC_MAX_FIELDS   16

typedef enum {
	P2M_IPC_PUT_PASSWORD = 1,  /* root only: USER, SECRET -> OK */
	P2M_IPC_FORGET       = 2,  /* root for any USER; a user for itself -> OK */
	P2M_IPC_STATUS       = 3,  /* -> OK with TEXT (no secrets) */
	P2M_IPC_LOGIN_START  = 4,  /* ACCOUNT, or none = the caller's own login -> OK with URI, CODE, TEXT */
	P2M_IPC_LOGIN_WAIT   = 5,  /* same identity; waits at most 3 s -> OK with CODE "pending"
	                            * (ask again) or "done"; ERROR with CODE and TEXT on failure */
	P2M_IPC_REFRESH      = 6,  /* root: ACCOUNT [USER] -> OK once the token is renewed
	                            * (unless another process just did); ERROR otherwise */
	P2M_IPC_OK           = 0x80,
	P2M_IPC_ERROR        = 0x81 /* CODE (p2m_error as decimal text), TEXT */
} p2m_ipc_op;

typedef enum {
	P2M_IPC_F_USER    = 1,
	P2M_IPC_F_SECRET  = 2,
	P2M_IPC_F_ACCOUNT = 3,
	P2M_IPC_F_TEXT    = 4,
	P2M_IPC_F_CODE    = 5,
	P2M_IPC_F_URI     = 6
} p2m_ipc_tag;

typedef struct {
	uint8_t        tag;
	uint16_t       len;
	const uint8_t *data;   /* points into the parsed buffer; not NUL-terminated */
} p2m_ipc_field;

typedef struct {
	uint8_t       op;
	uint8_t       nfields;
	p2m_ipc_field fields[P2M_IPC_MAX_FIELDS];
} p2m_ipc_msg;

/* Pure: parse one frame at the start of BUF.  Returns the frame length when
 * complete and valid, 0 when more bytes are needed, -1 when malformed (bad
 * magic, over P2M_IPC_MAX_FRAME, too many fields, a field past the end). */
ssize_t p2m_ipc_parse(const uint8_t *buf, size_t len, p2m_ipc_msg *out);

/* First field with TAG, or NULL. */
const p2m_ipc_field *p2m_ipc_find(const p2m_ipc_msg *msg, uint8_t tag);
/* Copy a field into a NUL-terminated string of at most CAP bytes; -1 if it does not fit or holds a NUL. */
int p2m_ipc_field_str(const p2m_ipc_field *f, char *dst, size_t cap);

/* Build a frame in a caller buffer (no allocation, so secrets stay where the caller wipes them). */
typedef struct {
	uint8_t *buf;
	size_t   cap;
	size_t   len;
	int      failed;
} p2m_ipc_builder;
void    p2m_ipc_begin(p2m_ipc_builder *b, uint8_t *buf, size_t cap, uint8_t op);
void    p2m_ipc_add(p2m_ipc_builder *b, uint8_t tag, const void *data, size_t len);
void    p2m_ipc_add_str(p2m_ipc_builder *b, uint8_t tag, const char *s);
ssize_t p2m_ipc_finish(p2m_ipc_builder *b);   /* frame length, or -1 if it did not fit */

/* One request/reply exchange on the UNIX socket PATH, all of it (connect,
 * send, receive) within TIMEOUT_MS.  The reply frame lands in RESP.
 * Returns the reply length, or -1 with errno set (ETIMEDOUT, ECONNREFUSED,
 * ENOENT, EPROTO).  Safe to call from a PAM module: no signals, no GLib. */
ssize_t p2m_ipc_call(const char *path, const uint8_t *req, size_t req_len,
                     uint8_t *resp, size_t resp_cap, int timeout_ms);

/* As p2m_ipc_call, but after connecting checks the uid of the process that
 * listens (SO_PEERCRED): unless it is root or TRUSTED, nothing is sent and
 * -1 is returned with errno EPERM.  *PEER_UID (when not NULL) receives that
 * uid, or (uid_t) -1 if the call failed before the check.  For a client
 * about to send a secret: a socket file owned by root proves nothing about
 * who serves it. */
ssize_t p2m_ipc_call_trusted(const char *path, uid_t trusted, uid_t *peer_uid, const uint8_t *req, size_t req_len,
                             uint8_t *resp, size_t resp_cap, int timeout_ms);

#endif /* P2M_IPC_H */
