/* SPDX-License-Identifier: Apache-2.0 */
/* p2m-job.h - a print job as CUPS hands it over (argv, options, DEVICE_URI, environment), turned into what the mail says. */
#ifndef P2M_JOB_H
#define P2M_JOB_H

#include <glib.h>

#include "p2m-compose.h"
#include "p2m-i18n.h"

/*
 * Shared by the backend and the print2mail-compose filter, so this module
 * holds no secret and does no I/O beyond reading its arguments: everything
 * it knows comes from argv and the environment given to p2m_job_new().
 */

#define P2M_JOB_URI_MAX      2048  /* DEVICE_URI bytes accepted */
#define P2M_JOB_ACCOUNT_MAX  64    /* account name bytes */
#define P2M_JOB_TITLE_MAX    255   /* subject / title bytes kept (IPP name(MAX)) */
#define P2M_JOB_USER_MAX     255   /* job user bytes kept */
#define P2M_JOB_OPTIONS_MAX  (64 * 1024) /* argv[5] bytes parsed */
#define P2M_JOB_UUID_MAX     128         /* a job-uuid longer than this is ignored */

/* What the device URI says: print2mail://ACCOUNT[/][?to=ADDR[,ADDR]]. */
typedef struct {
	char  *account;  /* percent-decoded account name */
	char **to;       /* normalized addresses from ?to=, empty strv when none */
} p2m_uri;

/*
 * Parse URI (pure).  Refused with P2M_E_URI, the message saying what is
 * wrong: another scheme, a user name or password in the URI (secrets never go
 * in a URI: cupsd shows it to every filter), an empty or malformed account
 * name, a port, a path, an unknown query key, bad percent-encoding; with
 * P2M_E_ADDRESS when a ?to= entry is not a valid address.  The URI in
 * messages is cut before any '@' so a mistyped secret is never echoed.
 */
p2m_uri *p2m_uri_parse(const char *uri, GError **error);
void p2m_uri_free(p2m_uri *u);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(p2m_uri, p2m_uri_free)

typedef struct {
	/* argv */
	char      *id;            /* job id as given (digits) */
	char      *user;          /* requesting user, control characters removed */
	char      *title;         /* job title, one line of valid UTF-8, capped */
	char      *document;      /* argv[6], or NULL = standard input */
	/* environment */
	char      *device_uri;    /* DEVICE_URI (else argv[0]) */
	char      *printer;       /* $PRINTER (queue name), or "" */
	char      *lang;          /* $LANG, or NULL */
	char      *content_type;  /* $FINAL_CONTENT_TYPE, else $CONTENT_TYPE, or NULL */
	char     **state_reasons; /* $PRINTER_STATE_REASONS split at ',' ("none" = empty) */
	/* options (argv[5]) */
	char      *mailto;        /* "mailto" option, or NULL */
	char      *mailcc;        /* "mailcc" option, or NULL */
	char      *mail_subject;  /* "mail-subject" option, one line, capped, or NULL */
	char      *uuid;          /* "job-uuid" option (cupsd's urn:uuid:...), or NULL */
	/* what the mail says, filled by p2m_job_prepare() */
	p2m_uri   *uri;
	char     **to;
	char     **cc;
	char      *subject;
	char      *attachment_name;
	char      *body_text;
} p2m_job;

/*
 * Take a job from ARGV (ARGC 6 or 7, as a CUPS backend or filter gets it) and
 * ENVP (a NULL-terminated environment as g_get_environ() returns; NULL means
 * the process environment).  Fails with P2M_E_USAGE on the wrong number of
 * arguments or a job id that is not a number.  The URI is not parsed yet.
 */
p2m_job *p2m_job_new(int argc, char **argv, char **envp, GError **error);
void p2m_job_free(p2m_job *job);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(p2m_job, p2m_job_free)

/* TRUE when the input is already a composed message (message/rfc822). */
gboolean p2m_job_input_is_message(const p2m_job *job);

/*
 * Parse the device URI, then work out the recipients (the mailto option,
 * else the URI's ?to=; Cc from mailcc), the subject (mail-subject, else the
 * title, else "QUEUE-ID"), the attachment name (the title) and the text body,
 * translated with CAT (may be NULL), naming the printer, the job and the
 * user.  Errors: P2M_E_URI, P2M_E_ADDRESS (names the bad address and the
 * option it came from), P2M_E_NO_RECIPIENT unless ALLOW_NO_RECIPIENT (the
 * backend sending a composed message takes recipients from its headers).
 */
gboolean p2m_job_prepare(p2m_job *job, const p2m_catalog *cat, gboolean allow_no_recipient, GError **error);

/* Fill INFO for p2m_compose_new(): pointers into JOB (valid while JOB lives)
 * plus FROM, which the caller owns. */
void p2m_job_compose_info(const p2m_job *job, const char *from, p2m_compose_info *info);

/* Our printer-state-reasons present in $PRINTER_STATE_REASONS
 * ("com.print2mail-...-error" / "-warning"), as a NULL-terminated strv. */
char **p2m_job_our_reasons(const p2m_job *job);

/* Pure helpers, exposed for tests and the filter. */
/* One line of valid UTF-8: invalid bytes replaced, every control character
 * (CR, LF, TAB, ...) turned into a space, runs of spaces collapsed, ends
 * trimmed, cut to at most MAX bytes on a character boundary. */
char *p2m_job_clean_line(const char *s, gsize max);
/* printf for translated formats without trusting them: each "%s"/"%d"
 * (or positional "%1$s") takes the next (or the Nth) string of the
 * NULL-terminated ARGS; "%%" is '%'; anything else, and a conversion with
 * no argument left, is copied as it is. */
char *p2m_job_fill(const char *fmt, const char *const *args);

/* cupsd's default JobRetryLimit (CUPS 2.4, cupsd.conf(5)). */
#define P2M_JOB_RETRY_LIMIT_DEFAULT 5
/* The JobRetryLimit that a cupsd.conf text of LEN bytes sets: the last
 * "JobRetryLimit N" line (the directive in any letter case, leading blanks
 * allowed, N decimal), else P2M_JOB_RETRY_LIMIT_DEFAULT.  0 means no limit.
 * A value that is not a number up to 1000000 is ignored, as cupsd ignores
 * it.  Pure, reads at most LEN bytes. */
guint p2m_job_retry_limit(const char *conf, gsize len);

#endif /* P2M_JOB_H */
