/* SPDX-License-Identifier: Apache-2.0 */
/* p2m-job.c - a print job as CUPS hands it over, turned into recipients, subject, attachment name and body. */
#include "config.h"

#include <string.h>

#include <glib.h>

#include "p2m-addr.h"
#include "p2m-error.h"
#include "p2m-job.h"
#include "p2m-mime.h"
#include "p2m-options.h"
#include "p2m-text.h"

#define URI_SCHEME "print2mail://"
#define REASON_PREFIX "com.print2mail-"

/* ---- the device URI ------------------------------------------------------ */

void
p2m_uri_free(p2m_uri *u)
{
	if (u == NULL)
		return;
	g_free(u->account);
	g_strfreev(u->to);
	g_free(u);
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decode S[0..LEN); NULL on a malformed escape or a decoded NUL.
 * '+' stays '+': addresses may contain it. */
static char *
percent_decode(const char *s, gsize len)
{
	GString *out = g_string_sized_new(len);
	gsize i;

	for (i = 0; i < len; i++) {
		if (s[i] != '%') {
			g_string_append_c(out, s[i]);
			continue;
		}
		if (i + 2 >= len || hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0)
			goto bad;
		if (hexval(s[i + 1]) == 0 && hexval(s[i + 2]) == 0)
			goto bad;
		g_string_append_c(out, (char) (hexval(s[i + 1]) * 16 + hexval(s[i + 2])));
		i += 2;
	}
	return g_string_free(out, FALSE);
bad:
	g_string_free(out, TRUE);
	return NULL;
}

/* Account names are config section names: printable, no '/', bounded. */
static gboolean
account_name_ok(const char *name)
{
	const unsigned char *p;

	if (name == NULL || *name == '\0' || strlen(name) > P2M_JOB_ACCOUNT_MAX || !g_utf8_validate(name, -1, NULL))
		return FALSE;
	for (p = (const unsigned char *) name; *p != '\0'; p++)
		if (*p < 0x21 || *p == 0x7f || *p == '/' || *p == '[' || *p == ']')
			return FALSE;
	return TRUE;
}

/* Add the addresses of one ?to= value to TO (a GPtrArray of owned strings). */
static gboolean
add_query_to(GPtrArray *to, const char *raw, gsize len, GError **error)
{
	g_autofree char *value = percent_decode(raw, len);
	g_auto(GStrv) list = NULL;
	char **a;

	if (value == NULL) {
		g_set_error(error, P2M_ERROR, P2M_E_URI, "device URI: bad percent-encoding in ?to=");
		return FALSE;
	}
	if ((list = p2m_addr_parse_list(value, error)) == NULL) {
		g_prefix_error(error, "device URI ?to=: ");
		return FALSE;
	}
	for (a = list; *a != NULL; a++)
		g_ptr_array_add(to, g_strdup(*a));
	return TRUE;
}

static gboolean
parse_query(const char *q, p2m_uri *u, GError **error)
{
	g_autoptr(GPtrArray) to = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *joined = NULL;
	g_auto(GStrv) list = NULL;
	const char *p = q;

	while (p != NULL && *p != '\0') {
		const char *end = strchr(p, '&');
		gsize n = end != NULL ? (gsize) (end - p) : strlen(p);
		const char *eq = memchr(p, '=', n);

		if (n == 0) {
			/* "?to=a&&to=b": an empty pair says nothing */
		} else if (eq == NULL || (gsize) (eq - p) != 2 || g_ascii_strncasecmp(p, "to", 2) != 0) {
			g_autofree char *key = g_strndup(p, eq != NULL ? (gsize) (eq - p) : n);
			g_autofree char *shown = p2m_job_clean_line(key, 40);
			g_set_error(error, P2M_ERROR, P2M_E_URI,
			            "device URI: unknown option '%s' (only ?to=ADDRESS[,ADDRESS] is known)", shown);
			return FALSE;
		} else if (!add_query_to(to, eq + 1, n - 3, error)) {
			return FALSE;
		}
		p = end != NULL ? end + 1 : NULL;
	}
	/* Join and re-parse so duplicates across several to= go and the cap holds. */
	g_ptr_array_add(to, NULL);
	joined = g_strjoinv(",", (char **) to->pdata);
	if ((list = p2m_addr_parse_list(joined, error)) == NULL) {
		g_prefix_error(error, "device URI ?to=: ");
		return FALSE;
	}
	g_strfreev(u->to);
	u->to = g_steal_pointer(&list);
	return TRUE;
}

p2m_uri *
p2m_uri_parse(const char *uri, GError **error)
{
	g_autoptr(p2m_uri) u = g_new0(p2m_uri, 1);
	const char *auth, *end, *rest;
	g_autofree char *raw_account = NULL;

	u->to = g_new0(char *, 1);
	if (uri == NULL || *uri == '\0') {
		g_set_error(error, P2M_ERROR, P2M_E_URI, "no device URI (DEVICE_URI is not set)");
		return NULL;
	}
	if (strlen(uri) > P2M_JOB_URI_MAX) {
		g_set_error(error, P2M_ERROR, P2M_E_URI, "device URI longer than %d bytes", P2M_JOB_URI_MAX);
		return NULL;
	}
	if (g_ascii_strncasecmp(uri, URI_SCHEME, strlen(URI_SCHEME)) != 0) {
		g_set_error(error, P2M_ERROR, P2M_E_URI,
		            "device URI does not start with print2mail:// (expected print2mail://ACCOUNT[?to=ADDRESS])");
		return NULL;
	}
	auth = uri + strlen(URI_SCHEME);
	end = auth + strcspn(auth, "/?#");
	/* Checked before anything is echoed: what follows a '@' may be a password. */
	if (memchr(auth, '@', (gsize) (end - auth)) != NULL) {
		g_set_error(error, P2M_ERROR, P2M_E_URI,
		            "device URI contains a user name or password; secrets never go in a URI "
		            "(use print2mail://ACCOUNT and password_file or client_secret_file in the config)");
		return NULL;
	}
	if (memchr(auth, ':', (gsize) (end - auth)) != NULL) {
		g_set_error(error, P2M_ERROR, P2M_E_URI,
		            "device URI: no port after the account name (set port in the [account] section)");
		return NULL;
	}
	raw_account = percent_decode(auth, (gsize) (end - auth));
	if (!account_name_ok(raw_account)) {
		g_set_error(error, P2M_ERROR, P2M_E_URI,
		            "device URI: missing or malformed account name (expected print2mail://ACCOUNT)");
		return NULL;
	}
	rest = end;
	if (*rest == '/')
		rest++;
	if (*rest != '\0' && *rest != '?') {
		g_set_error(error, P2M_ERROR, P2M_E_URI,
		            "device URI: unexpected path or fragment after the account name");
		return NULL;
	}
	if (*rest == '?' && !parse_query(rest + 1, u, error))
		return NULL;
	u->account = g_steal_pointer(&raw_account);
	return g_steal_pointer(&u);
}

/* ---- text helpers ----------------------------------------------------------- */

char *
p2m_job_clean_line(const char *s, gsize max)
{
	/* The same cleaning as a header value: no control, no line break (also
	 * U+2028/2029 and C1), runs of space folded, valid UTF-8. */
	g_autofree char *clean = p2m_mime_header_clean(s);
	GString *out = g_string_new(clean);

	if (out->len > max) {
		g_string_truncate(out, p2m_text_utf8_cut(out->str, out->len, max));
		while (out->len > 0 && out->str[out->len - 1] == ' ')
			g_string_truncate(out, out->len - 1);
	}
	return g_string_free(out, FALSE);
}

char *
p2m_job_fill(const char *fmt, const char *const *args)
{
	GString *out = g_string_new(NULL);
	const char *p = fmt != NULL ? fmt : "";
	gsize nargs = 0, next = 0;

	while (args != NULL && args[nargs] != NULL)
		nargs++;
	while (*p != '\0') {
		gsize idx = next, skip = 0;

		if (p[0] != '%') {
			g_string_append_c(out, *p++);
			continue;
		}
		if (p[1] == '%') {
			g_string_append_c(out, '%');
			p += 2;
			continue;
		}
		/* "%s", "%d" or the positional "%2$s" translators may use */
		if (g_ascii_isdigit(p[1]) && p[2] == '$' && (p[3] == 's' || p[3] == 'd')) {
			idx = (gsize) (p[1] - '1');
			skip = 4;
		} else if (p[1] == 's' || p[1] == 'd') {
			next++;
			skip = 2;
		}
		if (skip == 0 || idx >= nargs) {
			g_string_append_c(out, *p++);
			continue;
		}
		g_string_append(out, args[idx]);
		p += skip;
	}
	return g_string_free(out, FALSE);
}

/* ---- the job ------------------------------------------------------------------ */

void
p2m_job_free(p2m_job *job)
{
	if (job == NULL)
		return;
	g_free(job->id);
	g_free(job->user);
	g_free(job->title);
	g_free(job->document);
	g_free(job->device_uri);
	g_free(job->printer);
	g_free(job->lang);
	g_free(job->content_type);
	g_strfreev(job->state_reasons);
	g_free(job->mailto);
	g_free(job->mailcc);
	g_free(job->mail_subject);
	g_free(job->uuid);
	p2m_uri_free(job->uri);
	g_strfreev(job->to);
	g_strfreev(job->cc);
	g_free(job->subject);
	g_free(job->attachment_name);
	g_free(job->body_text);
	g_free(job);
}

static gboolean
job_id_ok(const char *id)
{
	gsize n = strlen(id);
	return n > 0 && n <= 10 && strspn(id, "0123456789") == n;
}

/* argv[5], read as cupsParseOptions reads it (p2m-options.c). */
static void
read_options(p2m_job *job, const char *opts)
{
	g_autofree char *subject = NULL, *uuid = NULL;

	job->mailto = p2m_options_get(opts, P2M_JOB_OPTIONS_MAX, "mailto");
	job->mailcc = p2m_options_get(opts, P2M_JOB_OPTIONS_MAX, "mailcc");
	subject = p2m_options_get(opts, P2M_JOB_OPTIONS_MAX, "mail-subject");
	if (subject != NULL)
		job->mail_subject = p2m_job_clean_line(subject, P2M_JOB_TITLE_MAX);
	/* cupsd passes every job its own job-uuid: what tells a restarted job
	 * from a new one that got the same job id (ids start again at 1 when
	 * the spool is emptied). */
	uuid = p2m_options_get(opts, P2M_JOB_OPTIONS_MAX, "job-uuid");
	if (uuid != NULL && *uuid != '\0' && strlen(uuid) <= P2M_JOB_UUID_MAX &&
	    strspn(uuid, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:-") == strlen(uuid))
		job->uuid = g_steal_pointer(&uuid);
}

static char **
split_reasons(const char *s)
{
	g_auto(GStrv) parts = g_strsplit(s != NULL ? s : "", ",", 64);
	g_autoptr(GPtrArray) out = g_ptr_array_new();
	char **p;

	for (p = parts; *p != NULL; p++) {
		g_strstrip(*p);
		if (**p != '\0' && strcmp(*p, "none") != 0)
			g_ptr_array_add(out, g_strndup(*p, 255));
	}
	g_ptr_array_add(out, NULL);
	return (char **) g_ptr_array_free(g_steal_pointer(&out), FALSE);
}

static void
read_environment(p2m_job *job, char **envp)
{
	const char *v;

	if ((v = g_environ_getenv(envp, "DEVICE_URI")) != NULL && *v != '\0')
		job->device_uri = g_strdup(v);
	job->printer = p2m_job_clean_line(g_environ_getenv(envp, "PRINTER"), 127);
	if ((v = g_environ_getenv(envp, "LANG")) != NULL)
		job->lang = g_strndup(v, 64);
	if ((v = g_environ_getenv(envp, "FINAL_CONTENT_TYPE")) == NULL || *v == '\0')
		v = g_environ_getenv(envp, "CONTENT_TYPE");
	if (v != NULL && *v != '\0')
		job->content_type = g_strndup(v, 128);
	job->state_reasons = split_reasons(g_environ_getenv(envp, "PRINTER_STATE_REASONS"));
}

p2m_job *
p2m_job_new(int argc, char **argv, char **envp, GError **error)
{
	g_autoptr(p2m_job) job = NULL;
	g_auto(GStrv) own_env = NULL;

	if (argc < 6 || argc > 7) {
		g_set_error(error, P2M_ERROR, P2M_E_USAGE,
		            "Usage: %s job-id user title copies options [file]", argc > 0 ? argv[0] : "print2mail");
		return NULL;
	}
	if (!job_id_ok(argv[1])) {
		g_set_error(error, P2M_ERROR, P2M_E_USAGE, "job id '%.20s' is not a number", argv[1]);
		return NULL;
	}
	if (envp == NULL)
		envp = own_env = g_get_environ();
	job = g_new0(p2m_job, 1);
	job->id = g_strdup(argv[1]);
	job->user = p2m_job_clean_line(argv[2], P2M_JOB_USER_MAX);
	job->title = p2m_job_clean_line(argv[3], P2M_JOB_TITLE_MAX);
	if (argc == 7)
		job->document = g_strdup(argv[6]);
	read_options(job, argv[5]);
	read_environment(job, envp);
	if (job->device_uri == NULL)
		job->device_uri = g_strdup(argv[0]);
	return g_steal_pointer(&job);
}

gboolean
p2m_job_input_is_message(const p2m_job *job)
{
	return job->content_type != NULL && g_ascii_strcasecmp(job->content_type, "message/rfc822") == 0;
}

/* Parse one recipient option; the error names the option. */
static char **
option_list(const char *value, const char *option, GError **error)
{
	char **list = p2m_addr_parse_list(value, error);

	if (list == NULL)
		g_prefix_error(error, "%s: ", option);
	return list;
}

static gboolean
prepare_recipients(p2m_job *job, gboolean allow_none, GError **error)
{
	if (job->mailto != NULL && *job->mailto != '\0') {
		if ((job->to = option_list(job->mailto, "job option mailto", error)) == NULL)
			return FALSE;
	} else {
		job->to = g_strdupv(job->uri->to);
	}
	if ((job->cc = option_list(job->mailcc, "job option mailcc", error)) == NULL)
		return FALSE;
	if (job->to[0] == NULL && !allow_none) {
		g_set_error(error, P2M_ERROR, P2M_E_NO_RECIPIENT,
		            "the job names no recipient: print with -o mailto=ADDRESS, or give the queue "
		            "a default with print2mail://%s?to=ADDRESS", job->uri->account);
		return FALSE;
	}
	return TRUE;
}

static void
prepare_text(p2m_job *job, const p2m_catalog *cat)
{
	const char *body_args[] = {
		*job->printer != '\0' ? job->printer : "print2mail",
		*job->user != '\0' ? job->user : "?",
		job->id,
		NULL
	};

	if (job->mail_subject != NULL && *job->mail_subject != '\0')
		job->subject = g_strdup(job->mail_subject);
	else if (*job->title != '\0')
		job->subject = g_strdup(job->title);
	else
		job->subject = g_strdup_printf("%s-%s", *job->printer != '\0' ? job->printer : "print2mail", job->id);
	job->attachment_name = g_strdup(*job->title != '\0' ? job->title : "document");
	job->body_text = p2m_job_fill(p2m_i18n_get(cat, "Printed from %s by %s, job %d."), body_args);
}

gboolean
p2m_job_prepare(p2m_job *job, const p2m_catalog *cat, gboolean allow_no_recipient, GError **error)
{
	g_clear_pointer(&job->uri, p2m_uri_free);
	g_clear_pointer(&job->to, g_strfreev);
	g_clear_pointer(&job->cc, g_strfreev);
	g_clear_pointer(&job->subject, g_free);
	g_clear_pointer(&job->attachment_name, g_free);
	g_clear_pointer(&job->body_text, g_free);
	if ((job->uri = p2m_uri_parse(job->device_uri, error)) == NULL)
		return FALSE;
	if (!prepare_recipients(job, allow_no_recipient, error))
		return FALSE;
	prepare_text(job, cat);
	return TRUE;
}

/* The attachment's type: what CUPS typed the document as, when it is a
 * plain type/subtype; CUPS's own PDF flavour is just PDF to a mail reader. */
static const char *
document_type(const p2m_job *job)
{
	const char *t = job->content_type;
	const char *ok = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.+-/";

	if (t == NULL || p2m_job_input_is_message(job) || g_str_has_prefix(t, "application/vnd.cups-pdf") ||
	    strspn(t, ok) != strlen(t) || strchr(t, '/') == NULL || strchr(t, '/') != strrchr(t, '/'))
		return "application/pdf";
	return t;
}

void
p2m_job_compose_info(const p2m_job *job, const char *from, p2m_compose_info *info)
{
	memset(info, 0, sizeof(*info));
	info->from = from;
	info->to = (const char *const *) job->to;
	info->cc = (const char *const *) job->cc;
	info->subject = job->subject;
	info->attachment_name = job->attachment_name;
	info->content_type = document_type(job);
	info->body_text = job->body_text;
}

char **
p2m_job_our_reasons(const p2m_job *job)
{
	g_autoptr(GPtrArray) out = g_ptr_array_new();
	char **r;

	for (r = job->state_reasons; r != NULL && *r != NULL; r++)
		if (g_str_has_prefix(*r, REASON_PREFIX) &&
		    (g_str_has_suffix(*r, "-error") || g_str_has_suffix(*r, "-warning") || g_str_has_suffix(*r, "-report")))
			g_ptr_array_add(out, g_strdup(*r));
	g_ptr_array_add(out, NULL);
	return (char **) g_ptr_array_free(g_steal_pointer(&out), FALSE);
}

guint
p2m_job_retry_limit(const char *conf, gsize len)
{
	static const char key[] = "JobRetryLimit";
	guint limit = P2M_JOB_RETRY_LIMIT_DEFAULT;
	gsize i = 0;

	while (conf != NULL && i < len) {
		gsize end = i, p;
		guint64 v = 0;
		gsize digits = 0;

		while (end < len && conf[end] != '\n' && conf[end] != '\0')
			end++;
		p = i;
		while (p < end && (conf[p] == ' ' || conf[p] == '\t'))
			p++;
		if (end - p > sizeof key && g_ascii_strncasecmp(conf + p, key, sizeof key - 1) == 0 &&
		    (conf[p + sizeof key - 1] == ' ' || conf[p + sizeof key - 1] == '\t')) {
			p += sizeof key - 1;
			while (p < end && (conf[p] == ' ' || conf[p] == '\t'))
				p++;
			while (p < end && g_ascii_isdigit(conf[p]) && v <= 1000000) {
				v = v * 10 + (guint64) (conf[p] - '0');
				p++;
				digits++;
			}
			while (p < end && (conf[p] == ' ' || conf[p] == '\t' || conf[p] == '\r'))
				p++;
			if (digits > 0 && p == end && v <= 1000000)
				limit = (guint) v;
		}
		if (end < len && conf[end] == '\0')
			break;
		i = end + 1;
	}
	return limit;
}
