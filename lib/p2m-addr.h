/* SPDX-License-Identifier: Apache-2.0 */
/* p2m-addr.h - e-mail addresses: strict validation, recipient lists, allowed_recipients matching. */
#ifndef P2M_ADDR_H
#define P2M_ADDR_H

#include <glib.h>

#define P2M_ADDR_MAX           254   /* whole addr-spec, bytes */
#define P2M_ADDR_LOCAL_MAX     64    /* local part, bytes */
#define P2M_ADDR_MAX_RECIPIENTS 100  /* per list (mailto=, mailcc=, a To or Cc header) */

/*
 * The only addresses print2mail accepts are plain addr-specs "local@domain":
 *  - local part: RFC 5322 dot-atom of atext (letters, digits and
 *    !#$%&'*+-/=?^_`{|}~), no leading, trailing or double dot, 1..64 bytes;
 *  - domain: at least two LDH labels (letters, digits, '-', not at either end
 *    of a label) of 1..63 bytes separated by single dots, no trailing dot;
 *  - at most 254 bytes in all, ASCII only.
 * Everything else (quoted local parts, comments, IP literals, spaces,
 * controls, CR/LF, quotes, angle brackets, commas, a second '@', non-ASCII)
 * is rejected: an address that reaches a header or an SMTP command can never
 * carry anything but itself.
 */

/* TRUE when ADDR (NUL-terminated, NULL allowed) is such an addr-spec. */
gboolean p2m_addr_is_valid(const char *addr);

/* Same check with a reason: P2M_E_ADDRESS "'ADDR' is not a valid e-mail
 * address: REASON" (ADDR shown with controls escaped). */
gboolean p2m_addr_check(const char *addr, GError **error);

/* The domain part of a valid address (points into ADDR, after the '@'), or
 * NULL when ADDR is not valid. */
const char *p2m_addr_domain(const char *addr);

/* TRUE when DOMAIN is a host name as allowed after the '@' above. */
gboolean p2m_addr_domain_is_valid(const char *domain);

/* Split a valid ADDR into newly allocated LOCAL and DOMAIN (either may be
 * NULL when not wanted).  FALSE, outputs set to NULL, when ADDR is invalid. */
gboolean p2m_addr_split(const char *addr, char **local, char **domain);

/* A copy of a valid ADDR with its domain lowercased (the local part is kept
 * as is); NULL when ADDR is invalid.  Caller frees. */
char *p2m_addr_normalize(const char *addr);

/*
 * Parse a recipient list as given in a job option or the device URI query
 * ("a@x.com,b@y.com"; ',', ';', spaces and tabs all separate; percent-decoding
 * is the caller's job).  Returns a NULL-terminated strv of normalized
 * addresses (p2m_addr_normalize), duplicates (case-insensitive) dropped, first
 * occurrence kept, in the given order; an empty or NULL LIST gives an empty
 * strv (the caller decides whether that is P2M_E_NO_RECIPIENT).
 * Errors (P2M_ERROR):
 *   P2M_E_ADDRESS  an entry is not a valid address (the message names it),
 *                  or the list has more than P2M_ADDR_MAX_RECIPIENTS entries.
 * Caller frees with g_strfreev.
 */
char **p2m_addr_parse_list(const char *list, GError **error);

/*
 * Is ADDR allowed by PATTERNS (an account's allowed_recipients)?  Each
 * pattern, matched case-insensitively, is one of:
 *   "bob@contoso.com"                          exactly that address
 *   "contoso.com", "@contoso.com", "*@contoso.com"  any address at that domain
 *   "*.contoso.com", "*@*.contoso.com"         any address at a subdomain
 *                                              (not contoso.com itself)
 *   "*"                                        any address
 * When PATTERNS is NULL or empty the account set none, and the default is
 * SENDER_DOMAIN (the domain of the account's From), matched as "@domain";
 * with no SENDER_DOMAIN either, nothing is allowed.  An invalid ADDR is never
 * allowed.  Pure.
 */
gboolean p2m_addr_allowed(const char *addr, const char *const *patterns, const char *sender_domain);

/* The first address of ADDRS (NULL-terminated) that p2m_addr_allowed()
 * refuses, or NULL when all are allowed.  Points into ADDRS. */
const char *p2m_addr_first_denied(const char *const *addrs, const char *const *patterns,
                                  const char *sender_domain);

/* TRUE when PATTERN has one of the forms above (for config checks). */
gboolean p2m_addr_pattern_is_valid(const char *pattern);

#endif /* P2M_ADDR_H */
