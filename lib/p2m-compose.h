/* SPDX-License-Identifier: Apache-2.0 */
/* p2m-compose.h - stream a document out as a MIME message, and read the envelope of a composed one. */
#ifndef P2M_COMPOSE_H
#define P2M_COMPOSE_H

#include <glib.h>
#include <time.h>

#define P2M_HEADER_BLOCK_MAX (64 * 1024)

/* What the message says.  All strings UTF-8; the composer validates and
 * encodes them (RFC 2047, RFC 2231), so CR/LF in a title or option can never
 * start a header or add a recipient. */
typedef struct {
	const char        *from;             /* addr-spec, e.g. scanner@contoso.com */
	const char        *from_name;        /* display name or NULL */
	const char *const *to;               /* NULL-terminated addr-specs (at least one) */
	const char *const *cc;               /* NULL-terminated or NULL */
	const char        *subject;          /* job title or mail-subject */
	const char        *attachment_name;  /* file name (made safe, ".pdf" added when missing) */
	const char        *content_type;     /* document type, default "application/pdf" */
	const char        *body_text;        /* text/plain body, UTF-8 */
	time_t             date;             /* 0 = now */
	const char        *message_id_domain;/* right side of Message-ID, default: from's domain */
} p2m_compose_info;

typedef struct p2m_composer p2m_composer;

/* Start composing; the document is read from DOC_FD as the message is pulled
 * (the fd is not closed).  Fails with P2M_E_ADDRESS for an invalid address. */
/*
 * Details of the message (see also p2m-mime.h):
 *  - addresses must pass p2m_addr_is_valid(); they are written as given;
 *  - SUBJECT is cleaned (controls and line breaks become spaces); when it is
 *    empty, the attachment file name is the subject;
 *  - ATTACHMENT_NAME NULL: the file name comes from SUBJECT; either way it
 *    goes through p2m_mime_safe_filename();
 *  - BODY_TEXT NULL means an empty text part; its line ends become CRLF;
 *  - header lines stay within 78 columns, base64 lines are 76.
 * Errors (P2M_ERROR):
 *   P2M_E_ADDRESS       FROM, a TO/CC entry or MESSAGE_ID_DOMAIN is invalid,
 *                       or TO or CC has more than P2M_ADDR_MAX_RECIPIENTS
 *   P2M_E_NO_RECIPIENT  TO is NULL or empty
 *   P2M_E_DOCUMENT      DOC_FD < 0, or CONTENT_TYPE is not a type/subtype
 *   P2M_E_INTERNAL      no random numbers for Message-ID and boundary
 * An empty document makes a valid message with an empty attachment: check
 * p2m_compose_document_bytes() at the end if that must be refused.
 */
p2m_composer *p2m_compose_new(const p2m_compose_info *info, int doc_fd, GError **error);
/* Pull up to LEN bytes of the message into BUF (LEN >= 80).  Returns the
 * number of bytes written, 0 at the end, -1 on a read error (P2M_E_DOCUMENT).
 * Memory use is constant whatever the document size. */
/* (Any LEN >= 1 works and the output does not depend on it.  Each call
 * fills BUF completely unless the message ends; reads interrupted by a
 * signal (EINTR) are retried; after -1 every later call fails the same way,
 * after 0 every later call returns 0.) */
gssize p2m_compose_read(p2m_composer *c, char *buf, gsize len, GError **error);
/* Document bytes consumed so far. */
guint64 p2m_compose_document_bytes(const p2m_composer *c);
/* The exact number of bytes p2m_compose_read produces in all when the
 * document turns out to be DOC_SIZE bytes long (e.g. a regular file's
 * st_size), whatever has been read so far.  Pure: the headers, the text
 * part and the boundary are fixed by p2m_compose_new. */
guint64 p2m_compose_message_size(const p2m_composer *c, guint64 doc_size);
void p2m_compose_free(p2m_composer *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(p2m_composer, p2m_compose_free)

/* (Envelope details: header names are matched case-insensitively, folded
 * lines are unfolded, lines may end in CRLF or LF; each of From, To, Cc may
 * appear once; an address is the <angle-addr> of a mailbox or a bare
 * addr-spec, display names, quoted strings, comments and RFC 2047 words
 * are skipped, never decoded; every address must pass p2m_addr_is_valid();
 * From must name exactly one; a missing To or Cc gives an empty strv; at
 * most P2M_ADDR_MAX_RECIPIENTS per header; a stray CR or NUL, a group, or
 * a line without a colon is an error whose message names the header.
 * FROM, TO, CC may be NULL when not wanted; on failure they are NULL.) */
/* The envelope of an already composed message (what print2mail-compose made):
 * parse the header block HDR (LEN bytes, up to the empty line, at most
 * P2M_HEADER_BLOCK_MAX) and return the To and Cc addr-specs (NULL-terminated,
 * g_strfreev) and the From addr-spec.  Pure; fails with P2M_E_ADDRESS on a
 * malformed header. */
gboolean p2m_compose_parse_envelope(const char *hdr, gsize len, char **from, char ***to, char ***cc, GError **error);

/* The boundary of a multipart message's top-level Content-Type in the header
 * block HDR (LEN bytes, as p2m_compose_parse_envelope), so the backend can
 * tell a complete message (its close delimiter "--BOUNDARY--" seen) from one
 * cut short.  NULL when the message is not multipart or has no valid boundary
 * (1-70 characters of RFC 2046 bchars, quoted or not).  Pure, bounded;
 * g_free the result. */
char *p2m_compose_parse_boundary(const char *hdr, gsize len);

#endif /* P2M_COMPOSE_H */
