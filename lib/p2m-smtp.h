/* SPDX-License-Identifier: Apache-2.0 */
/* p2m-smtp.h - one message over SMTP submission (on OpenSSL, lib/p2m-wire.c): TLS always, AUTH LOGIN or XOAUTH2, the server's words kept. */
#ifndef P2M_SMTP_H
#define P2M_SMTP_H

#include <signal.h>

#include <glib.h>

#include "p2m-config.h"
#include "p2m-secret.h"

/* Longest server reply kept (a multi-line reply joined); Microsoft's are a few hundred bytes. */
#define P2M_SMTP_REPLY_MAX 2048
/* After a cancel, how long the server's answer to the final "." is awaited
 * (cupsd's JobKillDelay is 30 s). */
#define P2M_SMTP_CANCEL_GRACE_S 15u
/* Largest extra trust anchor file (ca_file) accepted. */
#define P2M_SMTP_CA_MAX (1024 * 1024)
/* The system trust store, always used besides ca_file. */
#define P2M_SMTP_CAPATH "/etc/ssl/certs"

/* The SMTP step a reply answered (names as the test server's stages). */
typedef enum {
	P2M_SMTP_STAGE_CONNECT = 0,  /* greeting, or no command sent yet */
	P2M_SMTP_STAGE_EHLO,
	P2M_SMTP_STAGE_STARTTLS,
	P2M_SMTP_STAGE_AUTH,
	P2M_SMTP_STAGE_MAIL,
	P2M_SMTP_STAGE_RCPT,
	P2M_SMTP_STAGE_DATA,         /* the DATA command itself */
	P2M_SMTP_STAGE_DATA_END,     /* the final "." after the message */
	P2M_SMTP_STAGE_QUIT,
	P2M_SMTP_STAGE__COUNT
} p2m_smtp_stage;

/* "connect", "ehlo", "starttls", "auth", "mail", "rcpt", "data", "data_end", "quit". */
const char *p2m_smtp_stage_name(p2m_smtp_stage s);

/* Pull up to LEN bytes of the message into BUF: > 0 bytes, 0 at the end,
 * -1 with ERROR set on failure. */
typedef gssize (*p2m_smtp_read_fn)(void *ctx, char *buf, gsize len, GError **error);

typedef struct {
	const p2m_account *account;    /* server, port, tls */
	GBytes            *ca_pem;     /* account's ca_file contents (p2m_smtp_read_ca), or NULL */
	const char        *username;   /* SMTP login (AUTH LOGIN user or XOAUTH2 user=) */
	const p2m_secret  *password;   /* AUTH LOGIN; exactly one of password / bearer */
	const p2m_secret  *bearer;     /* XOAUTH2 access token */
	const char        *mail_from;  /* envelope sender, bare address */
	const char *const *rcpt;       /* envelope recipients, NULL-terminated, at least one */
	p2m_smtp_read_fn   read;       /* the message, CRLF line ends, not dot-stuffed */
	void              *read_ctx;
	/* Set asynchronously (SIGTERM): the transfer is abandoned before the
	 * final "." so the server accepts nothing.  May be NULL. */
	volatile sig_atomic_t *cancel;
	long               timeout_s;  /* every single wait (p2m_wire_new), 0 = P2M_DEFAULT_TIMEOUT */
	/* The message's exact size when known, else 0.  It must be exact:
	 * it is announced (SIZE= on MAIL FROM, RFC 1870) and the upload ends
	 * after that many bytes (a reader that ends sooner fails the job). */
	guint64            size;
	/* Our own limit (max_message_size), 0 = none.  The smaller of it and
	 * the server's EHLO SIZE is enforced: a known SIZE over it stops the
	 * dialogue before AUTH (or at the latest before the first byte of the
	 * message); an unknown one is counted as read and the transfer
	 * abandoned, before the final ".", the moment it passes the limit. */
	guint64            max_size;
} p2m_smtp_request;

typedef struct {
	/* The last 4xx/5xx reply, lines joined with one space, control
	 * characters removed, verbatim otherwise; NULL when there was none. */
	char           *reply;
	p2m_smtp_stage  stage;       /* the step REPLY answered (or where the transfer failed) */
	int             code;        /* basic code of REPLY, 0 when none */
	char           *final_reply; /* on success: the server's answer to the final "." */
	guint64         bytes;       /* message bytes read and sent (before dot-stuffing) */
	int             fault;       /* p2m_net_fault: unreachable, stalled, lost ... */
	/* The connection was lost after the final "." went out and before the
	 * server answered it: the server may have accepted the message. */
	gboolean        after_dot;
} p2m_smtp_result;

void p2m_smtp_result_clear(p2m_smtp_result *res);

/*
 * Send one message.  TLS is required (STARTTLS, or implicit TLS when
 * account->tls says so), TLS 1.2 at least, the server
 * certificate verified against the system store (P2M_SMTP_CAPATH) plus
 * REQ->ca_pem (read by p2m_smtp_read_ca before privileges are dropped, so a
 * root-only ca_file works too).  The AUTH mechanism is
 * pinned (AUTH=LOGIN or AUTH=XOAUTH2): credentials are never sent in clear
 * nor with another mechanism.  RES is filled in every case.
 * Errors (P2M_ERROR):
 *   P2M_E_SMTP        the server refused; RES->reply holds its words and the
 *                     error carries the reply's rule (p2m_fail_rule)
 *   P2M_E_CONFIG      the port offers no STARTTLS, or no AUTH mechanism we
 *                     use after it (rules "no-starttls", "no-auth-mechanism");
 *                     nothing was sent
 *   P2M_E_TLS_VERIFY  the certificate is not trusted (nothing was sent after STARTTLS)
 *   P2M_E_TLS         TLS could not be negotiated
 *   P2M_E_CONNECT     DNS, connection refused or reset, timeout; RES->fault
 *                     tells unreachable, stalled (nothing moved for the
 *                     timeout) and lost (closed under us) apart
 *   P2M_E_TOO_LARGE   over REQ->max_size or the server's SIZE; the server
 *                     accepted nothing (the message says which limit)
 *   P2M_E_CANCELED    *cancel was set
 *   P2M_E_DOCUMENT    (or the reader's own code) the reader failed
 *   P2M_E_INTERNAL    an incomplete request
 * No message ever contains the password or the token; the AUTH lines are
 * wiped after use.  The caller ignores SIGPIPE (OpenSSL writes with
 * write(2); the backend does).
 */
gboolean p2m_smtp_send(const p2m_smtp_request *req, p2m_smtp_result *res, GError **error);

/* Read ACCOUNT's ca_file (at most P2M_SMTP_CA_MAX bytes of PEM).  No
 * ca_file: TRUE with *pem NULL.  P2M_E_CONFIG naming the file when it cannot
 * be read or holds no certificate. */
gboolean p2m_smtp_read_ca(const p2m_account *account, GBytes **pem, GError **error);

/* ---- pure helpers (tests, fuzzing) ---- */

typedef struct p2m_smtp_tracker p2m_smtp_tracker;
/* Follows the dialogue: feed it every reply line the server sent and the
 * verb of every command the client sent; it keeps the last refusal and the
 * step it answered.  Lines are capped; never stores what follows AUTH. */
p2m_smtp_tracker *p2m_smtp_tracker_new(void);
void p2m_smtp_tracker_free(p2m_smtp_tracker *t);
void p2m_smtp_tracker_reply_line(p2m_smtp_tracker *t, const char *line, gsize len);
void p2m_smtp_tracker_command(p2m_smtp_tracker *t, const char *line, gsize len);
const char *p2m_smtp_tracker_refusal(const p2m_smtp_tracker *t, p2m_smtp_stage *stage, int *code);
const char *p2m_smtp_tracker_last_reply(const p2m_smtp_tracker *t);
/* The limit one EHLO reply line announces (RFC 1870): TRUE with *SIZE set
 * for "250-SIZE 157286400" or "250 SIZE 157286400" (keyword in any case,
 * CRLF optional), *SIZE 0 for "250-SIZE" or "250-SIZE 0" (no fixed limit).
 * FALSE, *SIZE 0, for any other line or a malformed or overflowing number. */
gboolean p2m_smtp_parse_ehlo_size(const char *line, gsize len, guint64 *size);
/* Does one EHLO reply line offer the SASL mechanism MECH ("LOGIN",
 * "XOAUTH2")?  1 for "250-AUTH LOGIN XOAUTH2" (or the old "250-AUTH=LOGIN"),
 * keyword and names in any case; 0 for an AUTH line without MECH; -1 for
 * any other line. */
int p2m_smtp_ehlo_offers_auth(const char *line, gsize len, const char *mech);

/* What the debug transcript shows of one command line the client sent:
 * the line without CRLF or control characters; during an AUTH exchange
 * (IN_AUTH: the lines after the AUTH command) "<hidden>", and of an AUTH
 * command its mechanism only ("AUTH XOAUTH2 <hidden>").  Caller frees. */
char *p2m_smtp_debug_command(const char *line, gsize len, gboolean in_auth);

/* Dot-stuffing (RFC 5321 4.5.2) of a message that comes in pieces: a "."
 * that starts a line is doubled.  OUT has room for twice LEN.  The end:
 * ".\r\n" after a message that ended its last line, else "\r\n.\r\n". */
typedef struct { unsigned crlf; } p2m_smtp_stuffer;
void p2m_smtp_stuffer_init(p2m_smtp_stuffer *s);
gsize p2m_smtp_stuff(p2m_smtp_stuffer *s, const char *in, gsize len, char *out);
const char *p2m_smtp_stuff_end(const p2m_smtp_stuffer *s);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(p2m_smtp_tracker, p2m_smtp_tracker_free)

#endif /* P2M_SMTP_H */
