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
	const char *id;       /* stable, e.g. "smtp-auth-disabled-tenant"; in syslog and tests */
	p2m_class   cls;      /* what happens to the job */
	const char *keyword;  /* printer-state-reason, "com.print2mail-<id>-error" (or -warning) */
	const char *summary;  /* English, <= 80 chars, for *cupsIPPReason and lists (msgid) */
	const char *message;  /* English sentence naming the fix (msgid); translate with p2m_i18n_get() */
	const char *url;      /* Microsoft documentation URL */
	/* matching data (used by the classifier; see p2m-rules.c) */
	int         source;   /* P2M_RULE_SMTP, P2M_RULE_TOKEN, P2M_RULE_LOCAL */
	const char *match_code;   /* enhanced code "5.7.139", basic code "535", or AADSTS "7000222" / OAuth error "invalid_grant" */
	const char *match_text;   /* case-insensitive substring of the reply text, or NULL */
} p2m_rule;

enum { P2M_RULE_SMTP = 1, P2M_RULE_TOKEN = 2, P2M_RULE_LOCAL = 3 };

/* Classify one SMTP reply line (e.g. "535 5.7.139 Authentication unsuccessful, ...
 * [HOST TIMESTAMP ID]").  Never NULL: an unknown reply yields a generic rule
 * classed from its basic/enhanced code.  Pure; LEN bounded by the caller. */
const p2m_rule *p2m_rules_classify_smtp(const char *reply, size_t len);

/* Classify a token-endpoint error: OAuth "error" string (may be NULL), the
 * AADSTS codes from "error_codes" (may be empty), the HTTP status (0 = no
 * answer).  Never NULL. */
const p2m_rule *p2m_rules_classify_token(const char *error, const long *codes, size_t ncodes, int http_status);

/* The rule for a local failure (P2M_E_TLS_VERIFY, P2M_E_CONNECT, P2M_E_RECIPIENT_DENIED, ...).  Never NULL. */
const p2m_rule *p2m_rules_for_error(p2m_error e);

/* The rule table, for print2mailctl explain --list, the PPD and the help page. */
size_t p2m_rules_count(void);
const p2m_rule *p2m_rules_get(size_t i);
const p2m_rule *p2m_rules_find(const char *id);

#endif /* P2M_RULES_H */
