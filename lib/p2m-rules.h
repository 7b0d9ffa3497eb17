/* SPDX-License-Identifier: Apache-2.0 */
/* p2m-rules.h - the classifier: one table of rules for SMTP replies, token-endpoint errors and local failures. */
#ifndef P2M_RULES_H
#define P2M_RULES_H

#include <stddef.h>

#include "p2m-error.h"

/*
 * A rule says what a refusal means and what fixes it.  The table is data: to
 * teach print2mail a new reply, add a row, its translations in po/ and a test
 * reply text.  Rules are static; pointers stay valid for the process lifetime.
 */
typedef struct p2m_rule {
	const char *id;       /* stable, e.g. "auth-off-tenant"; in syslog and tests; [a-z0-9-]{1,19}
	                       * so that the keyword fits a PPD option name (40 bytes) */
	p2m_class   cls;      /* what happens to the job */
	const char *keyword;  /* printer-state-reason, "com.print2mail-<id>-error" (or -warning) */
	const char *summary;  /* English, <= 80 chars, for *cupsIPPReason and lists (msgid) */
	const char *message;  /* English sentence naming the fix (msgid); translate with p2m_i18n_get() */
	const char *url;      /* Microsoft documentation URL */
	/* matching data (used by the classifier; see p2m-rules.c) */
	int         source;   /* P2M_RULE_SMTP, P2M_RULE_TOKEN, P2M_RULE_LOCAL */
	const char *match_code;   /* enhanced code "5.7.139", basic code "535", or AADSTS "7000222" / OAuth error "invalid_grant" */
	const char *match_text;   /* case-insensitive substring of the reply text, or NULL */
	const char *match_desc;   /* token rows: '|' list of substrings one of which the
	                           * error_description must hold, or NULL */
	/* added by the rules module (see "Matching" in p2m-rules.c) */
	unsigned    flags;        /* P2M_RULE_F_* */
	const char *user_id;      /* the USER-class variant when the credential was a job user's, or NULL */
	const char *oauth_id;     /* the variant when the account signs in with XOAUTH2 (delegated), or NULL */
	const char *app_id;       /* the variant for XOAUTH2 with an app-only (client credentials) token, or NULL */
} p2m_rule;

enum { P2M_RULE_SMTP = 1, P2M_RULE_TOKEN = 2, P2M_RULE_LOCAL = 3, P2M_RULE_GRAPH = 4 };

/* Rule flags. */
enum {
	P2M_RULE_F_BASIC   = 1 << 0, /* a basic-auth refusal: the message names auth = xoauth2 as the lasting fix */
	P2M_RULE_F_VARIANT = 1 << 1, /* reached only through p2m_rules_refine(), never matched directly */
	P2M_RULE_F_GENERIC = 1 << 2, /* a fallback by code class: the server's own text matters most */
};

/* What the backend knows about the sign-in that the reply itself does not say. */
enum {
	P2M_REFINE_PER_USER = 1 << 0, /* the credential was a job user's (send_as = job-user, AUTH_USERNAME) */
	P2M_REFINE_XOAUTH2  = 1 << 1, /* the account signed in with AUTH XOAUTH2 (auth = xoauth2) */
	P2M_REFINE_APP_ONLY = 1 << 2, /* ... with an app-only token (oauth_flow = client-credentials) */
};

/* Microsoft 365 gives the same "535 5.7.3 Authentication unsuccessful" for a
 * wrong password and for a token Exchange does not accept, and the same
 * refusal whether the credential was the account's or a job user's.  The
 * backend classifies the reply, then refines the rule with what it knows:
 * CTX is a set of P2M_REFINE_* flags.  First the sign-in method picks the
 * XOAUTH2 variant (app_id for app-only tokens, else oauth_id), then
 * P2M_REFINE_PER_USER picks the USER-class variant (user_id), so the job is
 * held for authentication instead of stopping the queue for everyone.
 * Rules without a matching variant come back unchanged.  Never NULL when R
 * is not NULL. */
const p2m_rule *p2m_rules_refine(const p2m_rule *r, unsigned ctx);

/* p2m_rules_refine(R, P2M_REFINE_PER_USER): re-class a credential refusal
 * (535 5.7.3, 535 5.7.139 "user credentials were incorrect", account
 * locked, AADSTS invalid_grant/MFA/bad password) as P2M_CLASS_USER. */
const p2m_rule *p2m_rules_for_user(const p2m_rule *r);

/* Substitute the placeholders a rule message may hold, "{job}" (JOB, the
 * job id as CUPS gave it, or "JOB" when NULL or empty) and "{queue}" (QUEUE, or "QUEUE" when NULL), in a
 * message already translated with p2m_i18n_get().  Returns a newly
 * allocated string (g_free); NULL only when TRANSLATED_MESSAGE is NULL. */
char *p2m_rules_format(const char *translated_message, const char *queue, const char *job);

/* The other msgids of the backend and filter ("The mail server said: %s",
 * ...) and the p2m_error_message() strings, so that po/ holds every string
 * print2mail shows.  Returns a NULL-terminated array; sets *N if N given. */
const char *const *p2m_rules_extra_msgids(size_t *n);

/* Classify one SMTP reply line (e.g. "535 5.7.139 Authentication unsuccessful, ...
 * [HOST TIMESTAMP ID]").  Never NULL: an unknown reply yields a generic rule
 * classed from its basic/enhanced code.  Pure; LEN bounded by the caller.
 * Matches the enhanced code first, then the text before the server's suffix
 * (p2m-reply.h), case-insensitively.  A 5.7.57 that embeds the earlier AUTH
 * failure ("... Error: 535 5.7.139 ...") yields the embedded reply's rule.
 * The same reply can mean different fixes for XOAUTH2 and per-user
 * credentials: pass the result through p2m_rules_refine().  Rules with
 * P2M_RULE_F_GENERIC say little beyond the code: show the server's text. */
const p2m_rule *p2m_rules_classify_smtp(const char *reply, size_t len);

/* Classify a token-endpoint error: OAuth "error" string (may be NULL), the
 * AADSTS codes from "error_codes" (may be empty), the HTTP status (0 = no
 * answer).  Never NULL. */
const p2m_rule *p2m_rules_classify_token(const char *error, const long *codes, size_t ncodes, int http_status);
/* The same with the reply's "error_description" (may be NULL): some codes
 * mean different things told apart only by it (AADSTS50012 "not within its
 * valid time range" is the host's clock, otherwise a bad certificate). */
const p2m_rule *p2m_rules_classify_token_desc(const char *error, const long *codes, size_t ncodes,
                                              int http_status, const char *description);

/* Classify a Microsoft Graph error answer: HTTP status, error.code and
 * error.message (either may be NULL).  DRAFT: it answered a step of the
 * large-message path (draft, attachment, upload session), where a plain
 * ErrorAccessDenied means Mail.ReadWrite is missing.  MAYBE_SENT: the send
 * request went out whole without a clear answer (504, connection lost).
 * Never NULL. */
const p2m_rule *p2m_rules_classify_graph(int http_status, const char *code, const char *message,
                                         int draft, int maybe_sent);

/* The rule for a local failure (P2M_E_TLS_VERIFY, P2M_E_CONNECT, P2M_E_RECIPIENT_DENIED, ...).  Never NULL. */
const p2m_rule *p2m_rules_for_error(p2m_error e);

/* The rule table, for print2mailctl explain --list, the PPD and the help page. */
size_t p2m_rules_count(void);
const p2m_rule *p2m_rules_get(size_t i);
const p2m_rule *p2m_rules_find(const char *id);

#endif /* P2M_RULES_H */
