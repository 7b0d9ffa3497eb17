/* SPDX-License-Identifier: Apache-2.0 */
/* p2m-error.h - the one error table of print2mail and its single mapping to CUPS exit codes. */
#ifndef P2M_ERROR_H
#define P2M_ERROR_H

/*
 * Every failure in print2mail is one of these codes.  Library code returns a
 * code (plain C modules) or sets a GError in the P2M_ERROR domain whose code is
 * one of these (GLib modules); only programs print or log.
 *
 * What happens to a job is decided by its rule (p2m-rules.h), which holds
 * the class (p2m_class); this table only names each code's rule, and the
 * class is turned into a CUPS backend exit code in exactly one place:
 * p2m_class_to_cups().  A GError carries the rule of the place that knew it
 * (a classified SMTP or token-endpoint refusal, see p2m-fail.h); one
 * without stands for the rule of its code.
 */
typedef enum {
	P2M_OK = 0,
	P2M_E_NOMEM,             /* out of memory */
	P2M_E_USAGE,             /* wrong command line */
	P2M_E_CONFIG,            /* config file missing, unreadable or invalid */
	P2M_E_ACCOUNT,           /* the URI names an account the config lacks */
	P2M_E_URI,               /* malformed device URI */
	P2M_E_DOCUMENT,          /* document missing, unreadable or empty */
	P2M_E_SECRET,            /* secret file missing or unreadable */
	P2M_E_SECRET_MODE,       /* secret file readable by group/other: refused */
	P2M_E_STORE,             /* state store corrupt, wrong owner or mode */
	P2M_E_ADDRESS,           /* an address is not a valid mailbox */
	P2M_E_NO_RECIPIENT,      /* the job names no recipient */
	P2M_E_RECIPIENT_DENIED,  /* recipient outside allowed_recipients */
	P2M_E_TOO_LARGE,         /* over max_message_size or the server's SIZE */
	P2M_E_CANCELED,          /* job canceled (SIGTERM) while sending */
	P2M_E_CONNECT,           /* DNS, connect, reset, timeout */
	P2M_E_TLS,               /* TLS handshake failed (not a trust problem) */
	P2M_E_TLS_VERIFY,        /* the server certificate is not trusted */
	P2M_E_SMTP,              /* the SMTP server refused: see the rule */
	P2M_E_TOKEN,             /* the token endpoint refused: see the rule */
	P2M_E_TOKEN_UNAVAILABLE, /* the token endpoint is unreachable or 5xx */
	P2M_E_NO_CREDENTIAL,     /* no stored credential for this user */
	P2M_E_HELPER,            /* print2mail-helper unreachable */
	P2M_E_PROTOCOL,          /* malformed IPC frame or server answer */
	P2M_E_PERMISSION,        /* caller may not do this (peer uid check) */
	P2M_E_INTERNAL,          /* a bug */
	P2M_E_UNPROVEN,          /* send_as = job-user, but cupsd did not authenticate the job's user */
	P2M_E_STORE_BUSY,        /* store lock held too long, or a store file cannot be written now (disk full) */
	P2M_E_TRUNCATED,         /* the composed message ended before its MIME structure closed */
	P2M_E_GRAPH,             /* Microsoft Graph refused: see the rule */
	P2M_E__COUNT
} p2m_error;

/* What a failure means for the job; see DESIGN.md "What a refusal becomes". */
typedef enum {
	P2M_CLASS_NONE = 0,   /* delivered */
	P2M_CLASS_TRANSIENT,  /* keep the job, retry later */
	P2M_CLASS_ACCOUNT,    /* stop the queue, keep the job: an admin must fix the account */
	P2M_CLASS_USER,       /* hold for authentication: this user's credential */
	P2M_CLASS_MESSAGE,    /* hold this job: correct it and resume */
	P2M_CLASS__COUNT
} p2m_class;

/* Stable short name, e.g. "tls-verify"; used in syslog and tests. */
const char *p2m_error_name(p2m_error e);
/* English one-line description (a msgid: translate with p2m_i18n_get). */
const char *p2m_error_message(p2m_error e);
/* Id of the rule (p2m-rules.h) that says what E means, how it is classed and
 * what fixes it; NULL for P2M_OK and P2M_E_CANCELED, which need no fix. */
const char *p2m_error_rule_id(p2m_error e);

/* "transient", "account", "user", "message", "delivered". */
const char *p2m_class_name(p2m_class c);
/* The single place where a class becomes a CUPS_BACKEND_* exit code.
 * Never returns CUPS_BACKEND_FAILED: its meaning depends on the queue's
 * error policy (retry-job on Debian). */
int p2m_class_to_cups(p2m_class c);
/* "retried", "queue stopped", "held for authentication", "held", "delivered". */
const char *p2m_class_action(p2m_class c);

/* GError domain for GLib code; codes are p2m_error values.  An extended
 * domain whose errors carry a rule: see p2m-fail.h (libp2m). */
#ifdef __G_LIB_H__
GQuark p2m_error_quark(void);
#define P2M_ERROR (p2m_error_quark())
#endif

#endif /* P2M_ERROR_H */
