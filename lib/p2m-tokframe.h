/* SPDX-License-Identifier: Apache-2.0 */
/* p2m-tokframe.h - a token-endpoint outcome as the unprivileged child hands it to root: builders and a pure, bounded parser. */
#ifndef P2M_TOKFRAME_H
#define P2M_TOKFRAME_H

#include <glib.h>

#include "p2m-oauth.h"
#include "p2m-rules.h"
#include "p2m-token.h"

/*
 * A frame is "P2TK", a version byte (1), a kind byte, then fields, each a
 * 4-byte big-endian length and that many bytes (p2m_unpriv_put):
 *   kind 'T' (a token): access token, refresh token (empty: none),
 *            lifetime in seconds (decimal);
 *   kind 'D' (a device code, RFC 8628): device code, user code,
 *            verification URI, message (may be empty), interval and
 *            lifetime in seconds (decimal);
 *   kind 'E' (a failure): p2m_error code (decimal), rule id (empty: the
 *            code's own), OAuth "error" string (may be empty), message.
 * Nothing may follow the last field.  The frame carries no times: root
 * counts the lifetime from its own clock.
 */
#define P2M_TOKFRAME_MAX      (64 * 1024)
#define P2M_TOKFRAME_TEXT_MAX 1024   /* a failure's message, bytes */
#define P2M_TOKFRAME_OAUTH_MAX 64    /* the OAuth "error" string */

/* Append T (access token, refresh token or none, lifetime) to OUT. */
void p2m_tokframe_put_token(GByteArray *out, const p2m_token *t);
/* Append a failure: E's code and message (cleaned to one line of at most
 * P2M_TOKFRAME_TEXT_MAX bytes), RULE (may be NULL), OAUTH_ERROR (may be NULL). */
void p2m_tokframe_put_error(GByteArray *out, const GError *e, const p2m_rule *rule, const char *oauth_error);

/*
 * Pure: parse and re-validate a frame of LEN bytes (at most
 * P2M_TOKFRAME_MAX).  A token frame -> TRUE and *out (obtained_at = NOW,
 * expires_at = NOW + lifetime); tokens must pass p2m_token_chars_ok and the
 * lifetime be 1 s to 7 days.  A failure frame -> FALSE with ERROR carrying
 * its code (only the codes a token exchange can produce) and message, *rule
 * the known rule it names (P2M_E_TOKEN always names one), *oauth_error a
 * copy of the OAuth error string or NULL.  Anything else -> FALSE with
 * P2M_E_PROTOCOL.  OAUTH_ERROR and RULE may be NULL.
 */
gboolean p2m_tokframe_parse(const guint8 *buf, gsize len, gint64 now, p2m_token **out, char **oauth_error,
                            const p2m_rule **rule, GError **error);

/* Append D (its lifetime counted from NOW) to OUT; the message is cleaned
 * to one line of at most P2M_TOKFRAME_TEXT_MAX bytes. */
void p2m_tokframe_put_device(GByteArray *out, const p2m_oauth_device *d, gint64 now);
/* Pure: as p2m_tokframe_parse, for a device-code frame: TRUE and *out
 * (expires_at = NOW + lifetime, 1 s to a day; interval 1 to 300 s; codes
 * printable ASCII, user code at most 64 bytes, URI at most 512, texts one
 * line), or FALSE for a failure frame (as above) or anything else. */
gboolean p2m_tokframe_parse_device(const guint8 *buf, gsize len, gint64 now, p2m_oauth_device **out,
                                   const p2m_rule **rule, GError **error);

#endif /* P2M_TOKFRAME_H */
