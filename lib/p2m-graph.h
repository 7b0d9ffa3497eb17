/* SPDX-License-Identifier: Apache-2.0 */
/* p2m-graph.h - one message through Microsoft Graph: MIME sendMail, or a draft, an attachment upload session and send for large ones. */
#ifndef P2M_GRAPH_H
#define P2M_GRAPH_H

#include <signal.h>

#include <glib.h>

#include "p2m-config.h"
#include "p2m-secret.h"
#include "p2m-smtp.h"

/* Graph refuses request bodies over 4 MB (reference/graph.md 3); the
 * base64 of the message must stay under it, with a margin for "MB" meaning
 * 10^6. */
#define P2M_GRAPH_REQUEST_LIMIT  4000000u
/* An attachment of at least this size goes through an upload session; a
 * smaller one would be refused (ErrorAttachmentSizeShouldNotBeLessThanMinimumSize). */
#define P2M_GRAPH_UPLOAD_MIN     (3u * 1024 * 1024)
/* Bytes per PUT to an upload session (Graph allows up to 4 MB). */
#define P2M_GRAPH_CHUNK          (3u * 1024 * 1024)
/* Exchange's default MaxSendSize (encoded), used when max_message_size is unset. */
#define P2M_GRAPH_DEFAULT_MAX    (35ull * 1024 * 1024)
/* Longest Graph answer kept (errors are a few hundred bytes). */
#define P2M_GRAPH_RESPONSE_MAX   (64 * 1024)
/* The longest Retry-After print2mail waits for inside one job; longer
 * ones end the attempt as transient and cupsd retries the job later. */
#define P2M_GRAPH_RETRY_WAIT_MAX 120
/* Tries of one request refused with 429/503 before giving up for now. */
#define P2M_GRAPH_TRIES          3

typedef struct {
	const p2m_account *account;   /* graph_endpoint */
	GBytes            *ca_pem;    /* account's ca_file contents (p2m_smtp_read_ca), or NULL */
	const p2m_secret  *bearer;    /* access token for the Graph audience */
	const char        *mailbox;   /* the sending mailbox: /users/{mailbox}/... */
	p2m_smtp_read_fn   read;      /* the composed message, CRLF line ends */
	void              *read_ctx;
	volatile sig_atomic_t *cancel; /* SIGTERM: stop; a draft is deleted, nothing is sent */
	guint64            max_size;  /* max_message_size, 0 = P2M_GRAPH_DEFAULT_MAX for the large path */
	long               timeout_s; /* inactivity limit, 0 = 300 s */
	/* For tests and bench: request limit instead of P2M_GRAPH_REQUEST_LIMIT when not 0. */
	guint64            request_limit;
} p2m_graph_request;

typedef struct {
	int        http;          /* status of the last answer, 0 when none */
	char      *code;          /* its error.code, or NULL */
	char      *message;       /* its error.message (control characters removed), or NULL */
	char      *request_id;    /* its request-id header, or NULL */
	const char *step;         /* "sendMail", "draft", "upload session", "upload", "send", "delete draft" */
	gboolean   draft_path;    /* the message went the draft + upload session way */
	gboolean   maybe_sent;    /* the send request went out whole but no clear answer came (504, lost connection) */
	long       retry_after;   /* seconds the last answer asked to wait, 0 when none */
	guint64    bytes;         /* message bytes read */
	char      *reply;         /* one line for the job log: "HTTP 403 ErrorAccessDenied: ... (request-id ...)" */
} p2m_graph_result;

void p2m_graph_result_clear(p2m_graph_result *res);

/*
 * Send one message as REQ->mailbox.  The message is read once into an
 * unlinked temporary file (memory stays flat whatever its size; retries
 * and the large path read it again).  When its base64 fits the request
 * limit: POST {endpoint}/v1.0/users/{mailbox}/sendMail, Content-Type
 * text/plain, the base64 streamed from the file.  Otherwise the message's
 * first base64 attachment is taken out: a draft is made of the rest
 * (POST .../messages, MIME), the attachment goes through
 * createUploadSession and PUTs with Content-Range (no Authorization on
 * the uploadUrl), then POST .../messages/{id}/send; on any failure or a
 * cancel before send the draft is deleted.  202 is success.  429 and 503
 * are retried up to P2M_GRAPH_TRIES times after Retry-After when it is at
 * most P2M_GRAPH_RETRY_WAIT_MAX.  A send that may have gone out (504, a
 * connection lost after the whole request) is never repeated: RES->maybe_sent.
 * TLS 1.2+, peer verified against the system store and REQ->ca_pem.
 * Errors (P2M_ERROR):
 *   P2M_E_GRAPH       Graph answered with an error: RES has status, code, message
 *   P2M_E_TOO_LARGE   over max_message_size (or 35 MB) before anything was uploaded
 *   P2M_E_TLS_VERIFY, P2M_E_TLS, P2M_E_CONNECT as for SMTP
 *   P2M_E_CANCELED    *cancel was set (nothing was sent)
 *   P2M_E_DOCUMENT    the message could not be read or spooled
 *   P2M_E_PROTOCOL    an answer that makes no sense (no id, no uploadUrl)
 *   P2M_E_INTERNAL    libcurl cannot be loaded, or the caller is root (p2m_curl_load)
 * The token never appears in any message.
 */
gboolean p2m_graph_send(const p2m_graph_request *req, p2m_graph_result *res, GError **error);

/* ---- pure helpers (tests, fuzzing) ---- */

/* Graph's error body {"error":{"code":"...","message":"..."}}, at most
 * P2M_GRAPH_RESPONSE_MAX bytes, keys in any case.  TRUE with *code and
 * *message (either may be NULL; control characters become spaces, each
 * at most 512 bytes) when it is such an object; FALSE otherwise. */
gboolean p2m_graph_parse_error(const char *body, gsize len, char **code, char **message);
/* A string member NAME (case-insensitive) of the top-level JSON object in
 * BODY, at most P2M_GRAPH_RESPONSE_MAX bytes and MAX bytes of value: the
 * draft's "id", the upload session's "uploadUrl".  NULL when absent. */
char *p2m_graph_parse_member(const char *body, gsize len, const char *name, gsize max);
/* Retry-After: delay-seconds or an HTTP-date (any of RFC 9110's three
 * forms), relative to NOW (unix s).
 * Seconds to wait (0 for a date in the past), -1 when unparsable. */
long p2m_graph_parse_retry_after(const char *value, gint64 now);
/* Length of the unwrapped base64 of N bytes. */
guint64 p2m_graph_base64_len(guint64 n);

/* Incremental base64 (no line breaks): feed any pieces, then finish. */
typedef struct {
	guchar carry[3];
	guint  ncarry;
} p2m_graph_b64;
/* Encode IN[0..LEN) into OUT (at least (LEN + 2) / 3 * 4 + 4 bytes); returns bytes written. */
gsize p2m_graph_b64_feed(p2m_graph_b64 *st, const guchar *in, gsize len, char *out);
/* The last group with padding into OUT (4 bytes); returns bytes written. */
gsize p2m_graph_b64_finish(p2m_graph_b64 *st, char *out);

/* What the large path needs from a MIME part's header block (LEN bytes,
 * at most P2M_HEADER_BLOCK_MAX): whether it is a base64 attachment, its
 * (base64, and Content-Disposition: attachment or not text/...), its
 * type ("application/pdf") and file name (Content-Type name= or
 * Content-Disposition filename=, quotes removed, at most 255 bytes).
 * FALSE when it is no base64 part (it then stays in the draft). */
gboolean p2m_graph_part_attachment(const char *hdr, gsize len, char **content_type, char **name);
/* The boundary of a multipart message from its header block, or NULL. */
char *p2m_graph_boundary(const char *hdr, gsize len);

#endif /* P2M_GRAPH_H */
