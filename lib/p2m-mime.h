/* SPDX-License-Identifier: Apache-2.0 */
/* p2m-mime.h - MIME building blocks: RFC 2047 header text, folding, RFC 2231 file names, base64, Date, Message-ID. */
#ifndef P2M_MIME_H
#define P2M_MIME_H

#include <glib.h>
#include <time.h>

#define P2M_MIME_LINE_MAX      78    /* preferred header line length, CRLF excluded */
#define P2M_MIME_WORD_MAX      75    /* longest RFC 2047 encoded-word */
#define P2M_MIME_FILENAME_MAX  120   /* bytes of a safe attachment file name */
#define P2M_MIME_FALLBACK_MAX  60    /* bytes of the ASCII fallback file name */
#define P2M_MIME_B64_LINE      76    /* base64 characters per body line */

/*
 * Header text from jobs (title, user name, options) is first cleaned:
 * invalid UTF-8 is repaired (U+FFFD), every control character (C0, DEL, C1,
 * U+2028/2029) becomes a space, whitespace runs become one space, and both
 * ends are trimmed.  Only then is it encoded, so no CR or LF from a job can
 * ever reach a header.  Caller frees.
 */
char *p2m_mime_header_clean(const char *text);

/*
 * A folding header writer.  Lines are kept within P2M_MIME_LINE_MAX columns
 * by breaking before a token with CRLF SP; a token longer than a line stands
 * alone on its line (never more than 998 bytes for what this module makes).
 * Every byte a token adds is printable ASCII: anything else is written as
 * '?', so no caller can put CR/LF into a header through this API.
 */
typedef struct {
	GString *out;
	gsize    col;      /* columns used on the current line */
	gboolean fresh;    /* nothing after "Name:" yet */
} p2m_mime_hdr;

/* Append "NAME:" to OUT and start a header (NAME: ASCII field name). */
void p2m_mime_hdr_begin(p2m_mime_hdr *h, GString *out, const char *name);
/* Append " TOKEN", folding first when it would not fit. */
void p2m_mime_hdr_token(p2m_mime_hdr *h, const char *token);
/* Append unstructured TEXT (UTF-8; cleaned as p2m_mime_header_clean):
 * printable ASCII stays readable; anything else, text containing "=?", or a
 * word too long to fold becomes RFC 2047 "=?UTF-8?B?...?=" encoded-words of
 * at most 75 characters, split only between UTF-8 characters. */
void p2m_mime_hdr_text(p2m_mime_hdr *h, const char *text);
/* Append a display name (RFC 5322 phrase): atoms when it is plain ASCII
 * words, a quoted-string (folded at its spaces) when ASCII with specials,
 * else encoded-words. */
void p2m_mime_hdr_phrase(p2m_mime_hdr *h, const char *name);
/* Append a file name parameter ATTR for the safe file name NAME: ATTR="NAME"
 * when NAME is printable ASCII without '"' and '\\', else the RFC 2231 form
 * ATTR*=UTF-8''%XX.. (split into ATTR*0*=, ATTR*1*=... continuations to keep
 * lines short, never inside a UTF-8 character).  LAST says whether it is the
 * last parameter (otherwise ';' follows). */
void p2m_mime_hdr_filename(p2m_mime_hdr *h, const char *attr, const char *name, gboolean last);
/* End the header with CRLF. */
void p2m_mime_hdr_end(p2m_mime_hdr *h);

/* "NAME: TEXT\r\n" folded, TEXT encoded as p2m_mime_hdr_text.  Caller frees. */
char *p2m_mime_header(const char *name, const char *text);

/*
 * A safe attachment file name from a job title: leading "smbprn.NNNN "
 * (Windows clients) and "Microsoft Word - " style prefixes removed, only
 * the part after the last '/' or '\\', control and format characters dropped,
 * "*:<>?|/\\ and leading dots replaced by '_', whitespace collapsed, at most
 * P2M_MIME_FILENAME_MAX bytes on a UTF-8 boundary, "document" when nothing is
 * left.  For CONTENT_TYPE application/pdf (NULL means that) a name without
 * ".pdf" gets it, replacing an office document extension (".docx" ...);
 * a few other types get their usual extension the same way.  Caller frees.
 */
char *p2m_mime_safe_filename(const char *title, const char *content_type);

/* ASCII fallback of a safe file name for old readers: transliterated,
 * anything else '_', at most P2M_MIME_FALLBACK_MAX bytes with the extension
 * kept.  Caller frees. */
char *p2m_mime_ascii_filename(const char *name);

/* TRUE when CT is a plain "type/subtype" of RFC 2045 token characters. */
gboolean p2m_mime_content_type_is_valid(const char *ct);

/*
 * Streaming base64 (RFC 2045): lines of 76 characters ending in CRLF.
 * p2m_mime_b64_feed writes at most P2M_MIME_B64_OUT_MAX(len) bytes to OUT and
 * returns how many; p2m_mime_b64_finish flushes the last group and ends the
 * last line (at most P2M_MIME_B64_OUT_MAX(0) bytes).  Nothing fed, nothing out.
 */
typedef struct {
	guint8 carry[3];
	guint  ncarry;
	guint  col;
} p2m_mime_b64;

#define P2M_MIME_B64_OUT_MAX(len) ((((gsize) (len) / 3) + 2) * 4 + ((((gsize) (len) / 3) + 2) * 4 / P2M_MIME_B64_LINE + 1) * 2)

void  p2m_mime_b64_init(p2m_mime_b64 *s);
gsize p2m_mime_b64_feed(p2m_mime_b64 *s, const void *in, gsize len, char *out);
gsize p2m_mime_b64_finish(p2m_mime_b64 *s, char *out);

/* RFC 5322 date of T (0 = now) in local time, English names whatever the
 * locale: "Tue, 07 Jan 2025 14:03:00 +0100".  Caller frees. */
char *p2m_mime_date(time_t t);

/* "<32 hex digits from getrandom(2)@DOMAIN>"; DOMAIN must be a valid host
 * name.  Errors: P2M_E_ADDRESS (bad domain), P2M_E_INTERNAL (no randomness).
 * Caller frees. */
char *p2m_mime_message_id(const char *domain, GError **error);

/* A MIME boundary "=_p2m_" + 32 random hex digits; "=_" cannot occur in
 * base64 or quoted-printable text, so it never collides with a part.
 * Errors: P2M_E_INTERNAL.  Caller frees. */
char *p2m_mime_boundary(GError **error);

#endif /* P2M_MIME_H */
