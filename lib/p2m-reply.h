/* SPDX-License-Identifier: Apache-2.0 */
/* p2m-reply.h - pure parser of one SMTP reply: basic code, enhanced code, text without the server's suffix. */
#ifndef P2M_REPLY_H
#define P2M_REPLY_H

#include <stddef.h>

/* Input beyond this many bytes is ignored: Microsoft 365 replies are one
 * line of a few hundred bytes, and RFC 5321 caps a reply line at 512. */
#define P2M_REPLY_MAX 2048

/* Longest enhanced code kept, "5.7.139" is 7; class.subject.detail allow
 * 1.3.3 digits (RFC 3463), so 9 plus the NUL. */
#define P2M_REPLY_ENHANCED_MAX 12

/* Longest server suffix kept ("[HOST ISO-TIMESTAMP HEXID]"). */
#define P2M_REPLY_DIAG_MAX 160

/*
 * One parsed reply.  All fields are filled by p2m_reply_parse(); strings are
 * NUL-terminated and contain no control characters (they are replaced by
 * spaces), so they can go into a CUPS message or a log line as they are.
 */
typedef struct p2m_reply {
	int    code;       /* basic code 200..599, or 0 when the reply has none ("4.7.0 Temporary ...") */
	int    cls;        /* enhanced class 2, 4 or 5; 0 when there is no enhanced code */
	int    subject;    /* enhanced subject (0..999) */
	int    detail;     /* enhanced detail (0..999) */
	char   enhanced[P2M_REPLY_ENHANCED_MAX]; /* "5.7.139", or "" */
	/* The reply text after the codes with the Microsoft per-connection
	 * suffix removed: "[HOST]", "[HOST ISO-TIMESTAMP HEXID]" or
	 * "[Hostname=HOST]", also when the bracket was cut off.  For a
	 * multi-line reply, the texts of its lines joined by one space. */
	char   text[P2M_REPLY_MAX];
	char   diag[P2M_REPLY_DIAG_MAX]; /* the removed suffix without brackets, or "" */
	/* Offset in TEXT of an embedded reply ("... Error: 535 5.7.139 ..."),
	 * which Microsoft 365 appends to 5.7.57 to name the earlier AUTH
	 * failure; 0 = none (an embedded reply never starts the text). */
	size_t embedded;
} p2m_reply;

/*
 * Parse REPLY (LEN bytes; at most P2M_REPLY_MAX are read; need not be
 * NUL-terminated; may hold several CRLF-separated lines "250-..."/"250 ...",
 * of which the last non-empty one gives the codes).  Accepts "535 5.7.3 text",
 * "421: 4.3.2 text", "4.7.0 text" (no basic code) and plain text (no codes).
 * Pure and bounded; never fails: on garbage the codes are 0 and TEXT holds
 * what could be kept.  Returns 0 when a basic or enhanced code was found,
 * -1 otherwise (OUT is filled either way).
 */
int p2m_reply_parse(const char *reply, size_t len, p2m_reply *out);

/* Parse the reply embedded in R (see p2m_reply.embedded) into INNER.
 * Returns 0 when R has one, -1 (INNER cleared) otherwise. */
int p2m_reply_embedded(const p2m_reply *r, p2m_reply *inner);

/* 1 when R's enhanced code is exactly "C.S.D" given as numbers. */
int p2m_reply_is(const p2m_reply *r, int cls, int subject, int detail);

#endif /* P2M_REPLY_H */
