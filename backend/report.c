/* SPDX-License-Identifier: Apache-2.0 */
/* report.c - the one place the backend talks to cupsd (STATE/ATTR/INFO/ERROR lines on stderr) and to syslog. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include <cups/backend.h>
#include <glib.h>

#include "p2m-fail.h"
#include "p2m-reply.h"
#include "p2m-text.h"
#include "report.h"

#define LINE_MAX_BYTES 2000   /* cupsd reads lines of CUPS_MAX_MESSAGE (2047) bytes */
#define LOG_VALUE_MAX  400    /* one value in the syslog line */
#define ELLIPSIS "\xe2\x80\xa6"

/* ---- outcome ------------------------------------------------------------------ */

void
bk_outcome_clear(bk_outcome *o)
{
	if (o == NULL)
		return;
	g_free(o->detail);
	g_free(o->reply);
	g_free(o->account);
	g_free(o->sender);
	g_strfreev(o->recipients);
	g_free(o->final_reply);
	memset(o, 0, sizeof(*o));
}

void
bk_outcome_fail(bk_outcome *o, const GError *err)
{
	o->err = err->domain == P2M_ERROR ? (p2m_error) err->code : P2M_E_INTERNAL;
	o->rule = o->err == P2M_E_CANCELED ? NULL : p2m_fail_rule(err);
	g_free(o->detail);
	o->detail = g_strdup(err->message);
}

/* A refusal of the job user's own sign-in or mailbox, which an admin fixes
 * for that user while everyone else's jobs go on. */
static gboolean
held_for_user(const bk_outcome *o)
{
	return o->per_user && o->rule != NULL && o->rule->cls == P2M_CLASS_ACCOUNT &&
	       (o->err == P2M_E_SMTP || o->err == P2M_E_TOKEN);
}

p2m_class
bk_outcome_class(const bk_outcome *o)
{
	if (o->err == P2M_OK || o->err == P2M_E_CANCELED)
		return P2M_CLASS_NONE;
	if (held_for_user(o))
		return P2M_CLASS_MESSAGE;
	if (o->retries > 0)
		return P2M_CLASS_ACCOUNT;
	return (o->rule != NULL ? o->rule : p2m_rules_for_error(o->err))->cls;
}

/* ---- lines for cupsd ------------------------------------------------------------ */

void
bk_report_line(const char *prefix, const char *text)
{
	g_autofree char *line = p2m_job_clean_line(text, LINE_MAX_BYTES);

	fprintf(stderr, "%s: %s\n", prefix, line);
}

void
bk_report_debug(const char *line, void *ctx)
{
	(void) ctx;
	bk_report_line("DEBUG", line);
}

void
bk_report_info(const p2m_catalog *cat, const char *msgid, const char *const *args)
{
	g_autofree char *text = p2m_job_fill(p2m_i18n_get(cat, msgid), args);

	bk_report_line("INFO", text);
}

/* S cut to at most MAX bytes on a character boundary, "…" marking a cut. */
static char *
cut_utf8(const char *s, gsize max)
{
	g_autofree char *head = NULL;

	if (strlen(s) <= max)
		return g_strdup(s);
	if (max < strlen(ELLIPSIS))
		return g_strdup("");
	head = g_strndup(s, p2m_text_utf8_cut(s, strlen(s), max - strlen(ELLIPSIS)));
	return g_strconcat(head, ELLIPSIS, NULL);
}

/* The quoted part: the server's words under a label, or the local detail. */
static char *
quote_text(const bk_outcome *o, const p2m_catalog *cat, gsize budget)
{
	const char *label = o->reply != NULL ? p2m_i18n_get(cat, "The mail server said: %s") : "%s";
	const char *empty[] = { "\"\"", NULL };
	g_autofree char *frame = p2m_job_fill(label, empty);
	g_autofree char *clean = p2m_job_clean_line(o->reply != NULL ? o->reply : o->detail, BK_REPORT_ERROR_MAX);
	g_autofree char *inner = NULL;
	g_autofree char *quoted = NULL;
	const char *args[2] = { NULL, NULL };

	if (*clean == '\0' || budget < strlen(frame) + 16)
		return g_strdup("");
	inner = cut_utf8(clean, budget - strlen(frame));
	quoted = g_strdup_printf("\"%s\"", inner);
	args[0] = quoted;
	return p2m_job_fill(label, args);
}

char *
bk_report_error_text(const bk_outcome *o, const p2m_job *job, const p2m_catalog *cat)
{
	const p2m_rule *r = o->rule != NULL ? o->rule : p2m_rules_for_error(o->err);
	g_autofree char *rule_fix = p2m_rules_format(p2m_i18n_get(cat, r->message), job->printer, job->id);
	g_autofree char *release = held_for_user(o) ?
		p2m_rules_format(p2m_i18n_get(cat, BK_REPORT_HELD_FOR_USER), job->printer, job->id) : NULL;
	g_autofree char *used_up = o->retries > 0 ?
		p2m_rules_format(p2m_i18n_get(cat, BK_REPORT_RETRIES_USED_UP), job->printer, job->id) : NULL;
	g_autofree char *fix = release != NULL ? g_strconcat(rule_fix, " ", release, NULL) :
	                       used_up != NULL ? g_strconcat(rule_fix, " ", used_up, NULL) : g_strdup(rule_fix);
	const char *url_args[] = { r->url, NULL };
	g_autofree char *more = p2m_job_fill(p2m_i18n_get(cat, "More: %s"), url_args);
	gsize used = strlen(fix) + 1 + strlen(more);
	g_autofree char *quote = NULL;
	GString *out = g_string_new(fix);

	/* The fix is never cut; the quote gets what is left of the budget. */
	quote = quote_text(o, cat, used + 1 < BK_REPORT_ERROR_MAX ? BK_REPORT_ERROR_MAX - used - 1 : 0);
	if (*quote != '\0')
		g_string_append_printf(out, " %s", quote);
	if (out->len + 1 + strlen(more) <= BK_REPORT_ERROR_MAX || out->len == strlen(fix))
		g_string_append_printf(out, " %s", more);
	return g_string_free(out, FALSE);
}

static gboolean
strv_has(char **v, const char *s)
{
	return v != NULL && s != NULL && g_strv_contains((const char *const *) v, s);
}

/* Our reasons still set on the printer go when this outcome makes them stale. */
static void
clear_reasons(char **ours, const char *keep, gboolean errors_only)
{
	char **r;

	for (r = ours; r != NULL && *r != NULL; r++) {
		if (keep != NULL && strcmp(*r, keep) == 0)
			continue;
		if (errors_only && !g_str_has_suffix(*r, "-error"))
			continue;
		fprintf(stderr, "STATE: -%s\n", *r);
	}
}

/* The queue's message is its last INFO line (printer-state-message), and
 * the CUPS 2.4 web UI shows no reason text: a pending warning goes last,
 * with its date and its fix, or the admin only ever reads "Sent to ...". */
static void
report_warning(const bk_outcome *o, const p2m_catalog *cat)
{
	g_autoptr(GDateTime) until = o->warning_until > 0 ? g_date_time_new_from_unix_utc(o->warning_until) : NULL;
	g_autofree char *date = until != NULL ? g_date_time_format(until, "%Y-%m-%d") : g_strdup("?");
	g_autofree char *fix = NULL;
	const char *args[3] = { date, NULL, NULL };

	if (o->warning == NULL)
		return;
	fix = p2m_rules_format(p2m_i18n_get(cat, o->warning->message), NULL, NULL);
	args[1] = fix;
	bk_report_info(cat, "Expires on %s: %s", args);
}

static void
report_delivered(const bk_outcome *o, const p2m_catalog *cat, char **ours)
{
	g_autofree char *to = o->recipients != NULL ? g_strjoinv(", ", o->recipients) : g_strdup("");
	const char *kw = o->warning != NULL ? o->warning->keyword : NULL;
	g_autofree char *id = NULL;
	const char *lt, *gt;
	const char *args[3] = { to, NULL, NULL };

	clear_reasons(ours, kw, FALSE);
	if (kw != NULL && !strv_has(ours, kw))
		fprintf(stderr, "STATE: +%s\n", kw);
	/* Microsoft answers "250 2.6.0 <message-id> [...] Queued mail for delivery". */
	if (o->final_reply != NULL && (lt = strchr(o->final_reply, '<')) != NULL && (gt = strchr(lt, '>')) != NULL)
		id = g_strndup(lt, (gsize) (gt - lt + 1));
	else
		id = g_strdup(o->final_reply != NULL ? o->final_reply : "-");
	args[1] = id;
	bk_report_info(cat, "Sent to %s (message %s).", args);
	report_warning(o, cat);
}

int
bk_report_outcome(const bk_outcome *o, const p2m_job *job, const p2m_catalog *cat)
{
	g_auto(GStrv) ours = p2m_job_our_reasons(job);
	p2m_class cls = bk_outcome_class(o);
	g_autofree char *text = NULL;

	if (o->err == P2M_OK) {
		report_delivered(o, cat, ours);
		return p2m_class_to_cups(P2M_CLASS_NONE);
	}
	if (o->err == P2M_E_CANCELED) {
		/* Not delivered, so never OK: when cupsd canceled or held the job
		 * it ignores the status (job.c finalize_job acts only on a job it
		 * still counts as printing), but a SIGTERM it did not send (systemd
		 * stopping the whole cups.service cgroup on restart) reaches us
		 * while the job is still "processing", and OK would record an
		 * undelivered job as completed.  RETRY keeps it; DESIGN-NOTES 17. */
		bk_report_line("INFO", p2m_i18n_get(cat, p2m_error_message(P2M_E_CANCELED)));
		return p2m_class_to_cups(P2M_CLASS_TRANSIENT);
	}
	if (cls == P2M_CLASS_ACCOUNT && o->rule != NULL) {
		clear_reasons(ours, o->rule->keyword, TRUE);
		if (!strv_has(ours, o->rule->keyword))
			fprintf(stderr, "STATE: +%s\n", o->rule->keyword);
	}
	if (cls == P2M_CLASS_USER)
		fprintf(stderr, "ATTR: auth-info-required=username,password\n");
	/* The one ERROR line, and nothing above DEBUG after it (cups.md §0). */
	text = bk_report_error_text(o, job, cat);
	bk_report_line("ERROR", text);
	return p2m_class_to_cups(cls);
}

/* ---- syslog ------------------------------------------------------------------------ */

static void
add_field(GString *s, const char *key, const char *value)
{
	g_autofree char *clean = NULL;
	char *p;

	if (value == NULL || *value == '\0')
		return;
	clean = p2m_job_clean_line(value, LOG_VALUE_MAX);
	for (p = clean; *p != '\0'; p++)
		if (*p == '"')
			*p = '\'';
	if (strpbrk(clean, " =") != NULL)
		g_string_append_printf(s, "%s%s=\"%s\"", s->len > 0 ? " " : "", key, clean);
	else
		g_string_append_printf(s, "%s%s=%s", s->len > 0 ? " " : "", key, clean);
}

/* "535 5.7.139": the codes of the server's reply. */
static char *
reply_codes(const char *reply)
{
	p2m_reply r;

	if (reply == NULL || p2m_reply_parse(reply, strlen(reply), &r) != 0)
		return NULL;
	if (r.code != 0 && r.enhanced[0] != '\0')
		return g_strdup_printf("%d %s", r.code, r.enhanced);
	return r.code != 0 ? g_strdup_printf("%d", r.code) : g_strdup(r.enhanced);
}

static char *
syslog_text(const bk_outcome *o, const p2m_job *job)
{
	p2m_class cls = bk_outcome_class(o);
	GString *s = g_string_new(NULL);
	g_autofree char *to = o->recipients != NULL ? g_strjoinv(",", o->recipients) : NULL;
	g_autofree char *codes = reply_codes(o->err == P2M_OK ? o->final_reply : o->reply);
	g_autofree char *bytes = g_strdup_printf("%" G_GUINT64_FORMAT, o->bytes);

	add_field(s, "job", job->id);
	add_field(s, "queue", job->printer);
	add_field(s, "user", job->user);
	add_field(s, "account", o->account);
	add_field(s, "outcome", o->err == P2M_E_CANCELED ? "canceled" : p2m_class_name(cls));
	add_field(s, "action", o->err == P2M_E_CANCELED ? "canceled" : p2m_class_action(cls));
	add_field(s, "code", codes);
	add_field(s, "rule", o->rule != NULL ? o->rule->id : NULL);
	add_field(s, "stage", o->err != P2M_OK ? o->stage : NULL);
	add_field(s, "from", o->sender);
	add_field(s, "to", to);
	if (o->err == P2M_OK)
		add_field(s, "bytes", bytes);
	add_field(s, "reply", o->err == P2M_OK ? o->final_reply : o->reply);
	add_field(s, "detail", o->reply == NULL ? o->detail : NULL);
	add_field(s, "url", o->rule != NULL ? o->rule->url : NULL);
	return g_string_free(s, FALSE);
}

/* Tests listen on a datagram socket instead of the system log. */
static void
send_datagram(const char *path, int pri, const char *msg)
{
	struct sockaddr_un sa;
	g_autofree char *dgram = g_strdup_printf("<%d>print2mail[%d]: %s", LOG_LPR | pri, (int) getpid(), msg);
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return;
	(void) sendto(fd, dgram, strlen(dgram), 0, (struct sockaddr *) &sa, sizeof(sa));
	close(fd);
}

void
bk_report_syslog(const bk_outcome *o, const p2m_job *job)
{
	g_autofree char *msg = syslog_text(o, job);
	const char *sock = g_getenv("PRINT2MAIL_SYSLOG_SOCKET");
	p2m_class cls = bk_outcome_class(o);
	int pri = cls == P2M_CLASS_NONE ? LOG_INFO : cls == P2M_CLASS_ACCOUNT ? LOG_ERR : LOG_WARNING;

	if (sock != NULL && *sock != '\0') {
		send_datagram(sock, pri, msg);
		return;
	}
	openlog("print2mail", LOG_PID, LOG_LPR);
	syslog(pri, "%s", msg);
	closelog();
}

/* ---- discovery ---------------------------------------------------------------------- */

/* A quoted backend(7) discovery field: backslash and double quote escaped. */
static void
append_quoted(GString *out, const char *s)
{
	g_string_append_c(out, '"');
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			g_string_append_c(out, '\\');
		g_string_append_c(out, (char) (*s == '\n' ? ' ' : *s));
	}
	g_string_append_c(out, '"');
}

void
bk_report_devices(const p2m_config *cfg)
{
	g_autoptr(GString) out = g_string_new(NULL);
	const char *p;
	ssize_t n;
	guint i;

	for (i = 0; cfg != NULL && i < cfg->accounts->len; i++) {
		const p2m_account *a = g_ptr_array_index(cfg->accounts, i);
		const char *who = a->send_as == P2M_SEND_AS_JOB_USER ? a->user_address : a->from;
		g_autofree char *info = g_strdup_printf("E-mail via %s: %s (%s)", a->server, a->name, who != NULL ? who : "");

		g_string_append_printf(out, "direct print2mail://%s ", a->name);
		append_quoted(out, "print2mail Microsoft 365 e-mail");
		g_string_append_c(out, ' ');
		append_quoted(out, info);
		g_string_append(out, " \"\" \"\"\n");
	}
	/* One write for all lines, not cupsBackendReport()'s flush per line:
	 * cups-deviced stops reading a backend once it has exited, so a line
	 * that arrives in a later read than the others can be lost (seen with
	 * two accounts under load).  Lines sent together are read together. */
	for (p = out->str; p < out->str + out->len; p += n) {
		n = write(STDOUT_FILENO, p, (size_t) (out->str + out->len - p));
		if (n < 0 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n <= 0)
			break;
	}
}
