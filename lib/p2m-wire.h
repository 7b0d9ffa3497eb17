/* SPDX-License-Identifier: Apache-2.0 */
/* p2m-wire.h - one client connection as a line-and-byte stream: every wait bounded and cancellable, TLS always verified. */
#ifndef P2M_WIRE_H
#define P2M_WIRE_H

#include <glib.h>

/*
 * Why not libcurl for SMTP: the dialogue is a dozen lines, and libcurl's
 * SMTP hid the server's replies behind callbacks (the transcript, the
 * refusal, the step it answered were all rebuilt from debug output), matched
 * EHLO keywords case-sensitively, dropped connections without QUIT and
 * mapped its whole dependency tree (about 5 MB) into every job.  This module
 * is the part libcurl did well: connecting, TLS, and waiting.
 */

/* How an operation ended.  Every failure leaves a text (p2m_wire_detail). */
typedef enum {
	P2M_WIRE_OK = 0,
	P2M_WIRE_UNREACHABLE,  /* DNS, refused, no route, connect timeout: never connected */
	P2M_WIRE_STALLED,      /* connected, then nothing moved for the timeout */
	P2M_WIRE_LOST,         /* connected, then closed or reset under us */
	P2M_WIRE_TLS,          /* TLS could not be negotiated */
	P2M_WIRE_TLS_VERIFY,   /* the server's certificate or name is not trusted */
	P2M_WIRE_STOPPED,      /* the caller's stop function said so */
	P2M_WIRE_PROTOCOL,     /* a line over the caller's limit */
} p2m_wire_status;

/* Asked at least once a second while waiting (P2M_CANCEL_SLICE_MS): TRUE
 * ends the wait with P2M_WIRE_STOPPED. */
typedef gboolean (*p2m_wire_stop_fn)(void *ctx);

typedef struct p2m_wire p2m_wire;

/* A connection to HOST (a DNS name or an IP literal) port PORT, every wait
 * at most TIMEOUT_S seconds.  Nothing happens until p2m_wire_connect. */
p2m_wire *p2m_wire_new(const char *host, guint port, unsigned timeout_s, p2m_wire_stop_fn stop, void *stop_ctx);
/* Closes with a reset (SO_LINGER 0): what is still unsent in the socket
 * buffer is thrown away, never delivered after the caller gave up.  Only
 * call it after the peer's last answer.  Accepts NULL. */
void p2m_wire_free(p2m_wire *w);

/* Resolve and connect (each address in turn, all within the timeout). */
p2m_wire_status p2m_wire_connect(p2m_wire *w);
/* TLS 1.2 or later on the connection, the certificate verified against the
 * system store (CAPATH, a hashed directory: only the certificates needed
 * are read) plus CA_PEM (extra anchors, may be NULL), and HOST checked
 * against it (DNS name or IP address). */
p2m_wire_status p2m_wire_start_tls(p2m_wire *w, const char *capath, GBytes *ca_pem);
/* The moment the timeout from now ends (monotonic µs): one deadline for
 * all the lines of a reply. */
gint64 p2m_wire_deadline(const p2m_wire *w);
/* One line (up to and without its LF; a CR before it is kept) into LINE of
 * MAX bytes, *LEN set, by DEADLINE (p2m_wire_deadline).  A longer line: its
 * first MAX - 1 bytes, the rest is skipped. */
p2m_wire_status p2m_wire_read_line(p2m_wire *w, gint64 deadline, char *line, gsize max, gsize *len);
/* All of DATA; the timeout counts from the last byte that moved. */
p2m_wire_status p2m_wire_write(p2m_wire *w, const void *data, gsize len);
/* Every wait from now on at most TIMEOUT_S seconds (a short one for a QUIT). */
void p2m_wire_set_timeout(p2m_wire *w, unsigned timeout_s);
/* Shut the connection down now (both ways): a blocked peer sees it at once. */
void p2m_wire_cut(p2m_wire *w);

/* What the last failure was (never NULL). */
const char *p2m_wire_detail(const p2m_wire *w);
/* Whether the TCP connection was made, and TLS is up. */
gboolean p2m_wire_connected(const p2m_wire *w);
gboolean p2m_wire_tls(const p2m_wire *w);
/* "TLSv1.3 / TLS_AES_256_GCM_SHA384", the peer address "127.0.0.1 port 587",
 * the certificate's subject and issuer (one line): for the transcript. */
char *p2m_wire_describe_tls(const p2m_wire *w);
const char *p2m_wire_peer(const p2m_wire *w);
/* Seconds from p2m_wire_connect to name resolved, connected, TLS up (0 when not reached). */
void p2m_wire_times(const p2m_wire *w, double *dns, double *connected, double *tls);

#endif /* P2M_WIRE_H */
