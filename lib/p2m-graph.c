/* SPDX-License-Identifier: Apache-2.0 */
/* p2m-graph.c - one message through Microsoft Graph with libcurl: sendMail, or draft + upload session + send; answers parsed by bounded pure functions. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "p2m-compose.h"
#include "p2m-curl.h"
#include "p2m-error.h"
#include "p2m-graph.h"
#include "p2m-text.h"

#define IO_CHUNK        (48 * 1024)           /* raw bytes per read: 64 KiB of base64 */
#define LINE_MAX_LEN    (64 * 1024)
#define FIELD_MAX       512
#define ID_MAX          1024
#define URL_MAX         8192
#define DRAFT_MAX       3000000u              /* raw MIME of the draft: its base64 fits one request */
#define RETRY_DEFAULT_S 5                     /* 503 without Retry-After */

/* ---- pure helpers ---------------------------------------------------------- */

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

guint64
p2m_graph_base64_len(guint64 n)
{
	return (n + 2) / 3 * 4;
}

gsize
p2m_graph_b64_feed(p2m_graph_b64 *st, const guchar *in, gsize len, char *out)
{
	gsize o = 0, i = 0;

	while (i < len) {
		st->carry[st->ncarry++] = in[i++];
		if (st->ncarry == 3) {
			out[o++] = b64chars[st->carry[0] >> 2];
			out[o++] = b64chars[((st->carry[0] & 3) << 4) | (st->carry[1] >> 4)];
			out[o++] = b64chars[((st->carry[1] & 15) << 2) | (st->carry[2] >> 6)];
			out[o++] = b64chars[st->carry[2] & 63];
			st->ncarry = 0;
		}
	}
	return o;
}

gsize
p2m_graph_b64_finish(p2m_graph_b64 *st, char *out)
{
	if (st->ncarry == 0)
		return 0;
	if (st->ncarry == 1)
		st->carry[1] = 0;
	out[0] = b64chars[st->carry[0] >> 2];
	out[1] = b64chars[((st->carry[0] & 3) << 4) | (st->carry[1] >> 4)];
	out[2] = st->ncarry == 2 ? b64chars[(st->carry[1] & 15) << 2] : '=';
	out[3] = '=';
	st->ncarry = 0;
	return 4;
}

/* Valid UTF-8 of at most MAX bytes, control characters as spaces: the text
 * ends up in one-line job messages and in JSON we send. */
static char *
clean_copy(const char *s, gsize max)
{
	g_autofree char *head = NULL;
	char *c;
	gsize i;

	if (s == NULL)
		return NULL;
	head = g_strndup(s, max);
	c = g_utf8_make_valid(head, -1);
	/* U+FFFD for a bad byte is 3 bytes: cut again, between characters */
	c[p2m_text_utf8_cut(c, strlen(c), max)] = '\0';
	for (i = 0; c[i] != '\0'; i++)
		if ((guchar) c[i] < 0x20 || c[i] == 0x7f)
			c[i] = ' ';
	return c;
}

/* The member NAME of OBJ in any letter case. */
static JsonNode *
member_ci(JsonObject *obj, const char *name)
{
	g_autoptr(GList) names = json_object_get_members(obj);
	GList *l;

	for (l = names; l != NULL; l = l->next)
		if (g_ascii_strcasecmp(l->data, name) == 0)
			return json_object_get_member(obj, l->data);
	return NULL;
}

static const char *
member_str_ci(JsonObject *obj, const char *name)
{
	JsonNode *n = member_ci(obj, name);

	return (n != NULL && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING)
	       ? json_node_get_string(n) : NULL;
}

static JsonParser *
parse_object(const char *body, gsize len, JsonObject **root)
{
	JsonParser *p;
	JsonNode *n;

	*root = NULL;
	if (body == NULL || len == 0 || len > P2M_GRAPH_RESPONSE_MAX || memchr(body, '\0', len) != NULL)
		return NULL;
	p = json_parser_new_immutable();
	if (!json_parser_load_from_data(p, body, (gssize) len, NULL) || (n = json_parser_get_root(p)) == NULL
	    || !JSON_NODE_HOLDS_OBJECT(n)) {
		g_object_unref(p);
		return NULL;
	}
	*root = json_node_get_object(n);
	return p;
}

gboolean
p2m_graph_parse_error(const char *body, gsize len, char **code, char **message)
{
	g_autoptr(JsonParser) p = NULL;
	JsonObject *root = NULL, *err;
	JsonNode *n;

	*code = NULL;
	*message = NULL;
	if ((p = parse_object(body, len, &root)) == NULL)
		return FALSE;
	n = member_ci(root, "error");
	/* Some Exchange answers come without the "error" wrapper. */
	if (n != NULL && JSON_NODE_HOLDS_OBJECT(n))
		err = json_node_get_object(n);
	else if (member_str_ci(root, "code") != NULL)
		err = root;
	else
		return FALSE;
	*code = clean_copy(member_str_ci(err, "code"), FIELD_MAX);
	*message = clean_copy(member_str_ci(err, "message"), FIELD_MAX);
	return *code != NULL || *message != NULL;
}

char *
p2m_graph_parse_member(const char *body, gsize len, const char *name, gsize max)
{
	g_autoptr(JsonParser) p = NULL;
	JsonObject *root = NULL;
	const char *v;

	if ((p = parse_object(body, len, &root)) == NULL)
		return NULL;
	v = member_str_ci(root, name);
	if (v == NULL || *v == '\0' || strlen(v) > max)
		return NULL;
	return g_strdup(v);
}

static const char *const months[] = { "jan", "feb", "mar", "apr", "may", "jun",
                                      "jul", "aug", "sep", "oct", "nov", "dec" };
static const char *const day_names[] = { "monday", "tuesday", "wednesday", "thursday",
                                         "friday", "saturday", "sunday" };

typedef struct {
	int day, month, year, hh, mm, ss;
} date_parts;

/* Two ASCII digits at P as a number, or -1. */
static int
two_digits(const char *p)
{
	return g_ascii_isdigit(p[0]) && g_ascii_isdigit(p[1]) ? (p[0] - '0') * 10 + (p[1] - '0') : -1;
}

/* Index in NAMES of the word W (LEN bytes): a name whole or its first three letters; -1 when none. */
static int
name_index(const char *w, gsize len, const char *const *names, gsize n)
{
	for (gsize i = 0; i < n; i++)
		if ((len == 3 || len == strlen(names[i])) && g_ascii_strncasecmp(w, names[i], len) == 0)
			return (int) i;
	return -1;
}

/* Take one word W (LEN bytes, at least 1) of an HTTP-date into D; FALSE
 * when it is no part of one, or a part already taken. */
static gboolean
date_word(date_parts *d, const char *w, gsize len)
{
	int i;

	if (d->month < 0 && (i = name_index(w, len, months, G_N_ELEMENTS(months))) >= 0) {
		d->month = i + 1;
		return TRUE;
	}
	/* The day name says nothing the date does not. */
	if (name_index(w, len, day_names, G_N_ELEMENTS(day_names)) >= 0)
		return TRUE;
	if (len == 3 && (g_ascii_strncasecmp(w, "GMT", 3) == 0 || g_ascii_strncasecmp(w, "UTC", 3) == 0))
		return TRUE;
	if (len == 8 && d->hh < 0 && w[2] == ':' && w[5] == ':') {
		d->hh = two_digits(w);
		d->mm = two_digits(w + 3);
		d->ss = two_digits(w + 6);
		return d->hh >= 0 && d->mm >= 0 && d->ss >= 0;
	}
	if (strspn(w, "0123456789") < len)
		return FALSE;
	if (len <= 2 && d->day < 0) {
		d->day = (int) g_ascii_strtoll(w, NULL, 10);
		return TRUE;
	}
	if ((len == 2 || len == 4) && d->year < 0) {
		d->year = (int) g_ascii_strtoll(w, NULL, 10);
		if (len == 2)  /* RFC 850's year: 70 to 99 are the last century */
			d->year += d->year >= 70 ? 1900 : 2000;
		return TRUE;
	}
	return FALSE;
}

/* An HTTP-date in any of RFC 9110's three forms, "Sun, 06 Nov 1994 08:49:37
 * GMT", "Sunday, 06-Nov-94 08:49:37 GMT" and "Sun Nov  6 08:49:37 1994"
 * (UTC for GMT too), taken as words in whichever order.  Ours rather than
 * curl_getdate: a pure parser the fuzzer and the unit test run without
 * libcurl, which only a process about to make an HTTPS exchange loads. */
static gboolean
http_date(const char *s, gint64 *t)
{
	date_parts d = { -1, -1, -1, -1, -1, -1 };
	g_autoptr(GDateTime) dt = NULL;

	for (;;) {
		const char *w = s + strspn(s, " \t\r\n,-");
		gsize len = strcspn(w, " \t\r\n,-");

		if (len == 0)
			break;
		if (!date_word(&d, w, len))
			return FALSE;
		s = w + len;
	}
	if (d.day < 0 || d.month < 0 || d.year < 0 || d.hh < 0)
		return FALSE;
	/* NULL for what no calendar has: 31 Feb, 25:00:00. */
	if ((dt = g_date_time_new_utc(d.year, d.month, d.day, d.hh, d.mm, d.ss)) == NULL)
		return FALSE;
	*t = g_date_time_to_unix(dt);
	return TRUE;
}

long
p2m_graph_parse_retry_after(const char *value, gint64 now)
{
	char *end = NULL;
	guint64 n;
	gint64 t;

	if (value == NULL)
		return -1;
	while (*value == ' ' || *value == '\t')
		value++;
	if (g_ascii_isdigit(*value)) {
		errno = 0;
		n = g_ascii_strtoull(value, &end, 10);
		while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
			end++;
		if (errno != 0 || *end != '\0' || n > 86400 * 7)
			return -1;
		return (long) n;
	}
	if (strlen(value) > 64)
		return -1;
	if (!http_date(value, &t))
		return -1;
	return t <= now ? 0 : (long) MIN(t - now, (gint64) 86400 * 7);
}

/* Value of header NAME in a header block (unfolded, first occurrence), or NULL. */
static char *
header_value(const char *hdr, gsize len, const char *name)
{
	gsize nlen = strlen(name), i = 0;

	while (i < len) {
		gsize eol = i;
		GString *v;

		while (eol < len && hdr[eol] != '\n')
			eol++;
		if (eol - i > nlen && g_ascii_strncasecmp(hdr + i, name, nlen) == 0 && hdr[i + nlen] == ':') {
			v = g_string_new(NULL);
			g_string_append_len(v, hdr + i + nlen + 1, (gssize) (eol - i - nlen - 1));
			/* folded continuation lines */
			while (eol + 1 < len && (hdr[eol + 1] == ' ' || hdr[eol + 1] == '\t')) {
				gsize s = eol + 1;

				eol = s;
				while (eol < len && hdr[eol] != '\n')
					eol++;
				g_string_append_len(v, hdr + s, (gssize) (eol - s));
			}
			g_strdelimit(v->str, "\r\t", ' ');
			g_strstrip(v->str);
			return g_string_free(v, FALSE);
		}
		i = eol + 1;
	}
	return NULL;
}

/* Parameter PARAM of a structured header value ("a/b; name=\"x\""), or NULL. */
static char *
header_param(const char *value, const char *param)
{
	gsize plen = strlen(param);
	const char *p = value;

	while (value != NULL && (p = strchr(p, ';')) != NULL) {
		p++;
		while (*p == ' ')
			p++;
		if (g_ascii_strncasecmp(p, param, plen) == 0 && p[plen] == '=') {
			const char *v = p + plen + 1, *e;

			if (*v == '"') {
				v++;
				e = strchr(v, '"');
			} else {
				e = v + strcspn(v, "; ");
			}
			if (e == NULL || e == v || (gsize) (e - v) > 255)
				return NULL;
			return g_strndup(v, (gsize) (e - v));
		}
	}
	return NULL;
}

char *
p2m_graph_boundary(const char *hdr, gsize len)
{
	g_autofree char *ct = NULL;
	char *b;

	if (len > P2M_HEADER_BLOCK_MAX || (ct = header_value(hdr, len, "Content-Type")) == NULL)
		return NULL;
	if (g_ascii_strncasecmp(ct, "multipart/", 10) != 0)
		return NULL;
	b = header_param(ct, "boundary");
	if (b != NULL && (strlen(b) > 70 || strpbrk(b, "\r\n") != NULL))
		g_clear_pointer(&b, g_free);
	return b;
}

gboolean
p2m_graph_part_attachment(const char *hdr, gsize len, char **content_type, char **name)
{
	g_autofree char *cte = NULL;
	g_autofree char *ct = NULL;
	g_autofree char *cd = NULL;
	char *n = NULL;

	*content_type = NULL;
	*name = NULL;
	if (len > P2M_HEADER_BLOCK_MAX)
		return FALSE;
	cte = header_value(hdr, len, "Content-Transfer-Encoding");
	if (cte == NULL || g_ascii_strcasecmp(cte, "base64") != 0)
		return FALSE;
	ct = header_value(hdr, len, "Content-Type");
	cd = header_value(hdr, len, "Content-Disposition");
	if (ct == NULL || g_ascii_strncasecmp(ct, "multipart/", 10) == 0)
		return FALSE;
	/* The body text (base64 too, when it is UTF-8) stays in the draft. */
	if ((cd == NULL || g_ascii_strncasecmp(cd, "attachment", 10) != 0) && g_ascii_strncasecmp(ct, "text/", 5) == 0)
		return FALSE;
	n = header_param(ct, "name");
	if (n == NULL)
		n = header_param(cd, "filename");
	if (n == NULL)
		n = g_strdup("document");
	*name = clean_copy(n, 255);
	g_free(n);
	ct[strcspn(ct, "; ")] = '\0';
	*content_type = clean_copy(ct, 127);
	return TRUE;
}

void
p2m_graph_result_clear(p2m_graph_result *res)
{
	if (res == NULL)
		return;
	g_free(res->code);
	g_free(res->message);
	g_free(res->request_id);
	g_free(res->reply);
	memset(res, 0, sizeof(*res));
}

/* ---- HTTP ------------------------------------------------------------------- */

/* A request body: PREFIX, then LEN bytes of FD from OFF (base64-encoded
 * when B64), then SUFFIX.  Streamed; nothing is held beyond one piece. */
typedef struct {
	const char *prefix;
	int         fd;
	guint64     off, len;
	gboolean    b64;
	const char *suffix;
	/* progress */
	guint       part;        /* 0 prefix, 1 file, 2 suffix, 3 done */
	gsize       pos;         /* in prefix/suffix */
	guint64     done;        /* file bytes read */
	p2m_graph_b64 st;
	char        pending[IO_CHUNK / 3 * 4 + 8];
	gsize       pend_len, pend_pos;
	guint64     total, sent;
	int         read_errno;
} body_src;

static guint64
body_total(const body_src *b)
{
	guint64 file = b->fd >= 0 ? (b->b64 ? p2m_graph_base64_len(b->len) : b->len) : 0;

	return (b->prefix != NULL ? strlen(b->prefix) : 0) + file + (b->suffix != NULL ? strlen(b->suffix) : 0);
}

/* Fill the pending buffer with the next piece of the file part. */
static gboolean
body_refill(body_src *b)
{
	guchar raw[IO_CHUNK];
	gsize want = (gsize) MIN((guint64) IO_CHUNK, b->len - b->done);
	ssize_t n = 0;

	b->pend_len = b->pend_pos = 0;
	if (want > 0) {
		do
			n = pread(b->fd, raw, want, (off_t) (b->off + b->done));
		while (n < 0 && errno == EINTR);
		if (n <= 0) {
			b->read_errno = n < 0 ? errno : EIO;
			return FALSE;
		}
		b->done += (guint64) n;
		if (b->b64) {
			b->pend_len = p2m_graph_b64_feed(&b->st, raw, (gsize) n, b->pending);
		} else {
			memcpy(b->pending, raw, (gsize) n);
			b->pend_len = (gsize) n;
		}
	}
	if (b->done == b->len && b->b64)
		b->pend_len += p2m_graph_b64_finish(&b->st, b->pending + b->pend_len);
	return TRUE;
}

typedef struct {
	const p2m_graph_request *req;
	p2m_graph_result        *res;
	CURL                    *h;
	char                     errbuf[CURL_ERROR_SIZE];
	GString                 *body;       /* the answer, capped */
	char                    *request_id;
	char                    *retry_after;
	body_src                *src;
	gboolean                 ignore_cancel;  /* deleting the draft after a cancel */
	gboolean                 canceled;
} xfer;

static gboolean
is_canceled(const xfer *x)
{
	return !x->ignore_cancel && x->req->cancel != NULL && *x->req->cancel;
}

static size_t
read_cb(char *buf, size_t size, size_t nitems, void *userp)
{
	xfer *x = userp;
	body_src *b = x->src;
	size_t room = size * nitems, out = 0;

	if (is_canceled(x)) {
		x->canceled = TRUE;
		return CURL_READFUNC_ABORT;
	}
	while (out < room && b->part < 3) {
		const char *s = b->part == 0 ? b->prefix : b->part == 2 ? b->suffix : NULL;

		if (b->part != 1) {
			gsize n = s != NULL ? MIN(strlen(s) - b->pos, room - out) : 0;

			memcpy(buf + out, s != NULL ? s + b->pos : "", n);
			out += n;
			b->pos += n;
			if (s == NULL || b->pos == strlen(s)) {
				b->part++;
				b->pos = 0;
				if (b->part == 1 && b->fd < 0)
					b->part = 2;
			}
			continue;
		}
		if (b->pend_pos == b->pend_len) {
			if (b->done == b->len && b->st.ncarry == 0) {
				b->part = 2;
				continue;
			}
			if (!body_refill(b))
				return CURL_READFUNC_ABORT;
			continue;
		}
		{
			gsize n = MIN(b->pend_len - b->pend_pos, room - out);

			memcpy(buf + out, b->pending + b->pend_pos, n);
			out += n;
			b->pend_pos += n;
		}
	}
	b->sent += out;
	return out;
}

static size_t
write_cb(char *data, size_t size, size_t nmemb, void *userp)
{
	xfer *x = userp;
	size_t n = size * nmemb;

	/* Graph's answers are small; keep the head of a big one and drop the rest. */
	if (x->body->len < P2M_GRAPH_RESPONSE_MAX)
		g_string_append_len(x->body, data, (gssize) MIN(n, P2M_GRAPH_RESPONSE_MAX - x->body->len));
	return n;
}

static void
keep_header(char **dst, const char *line, gsize len, const char *name)
{
	gsize nlen = strlen(name);

	if (len > nlen + 1 && len < 512 && g_ascii_strncasecmp(line, name, nlen) == 0 && line[nlen] == ':') {
		g_autofree char *v = g_strndup(line + nlen + 1, len - nlen - 1);

		g_free(*dst);
		*dst = clean_copy(g_strstrip(v), 256);
	}
}

static size_t
header_cb(char *buf, size_t size, size_t nitems, void *userp)
{
	xfer *x = userp;
	gsize n = size * nitems;

	/* A new status line (after 100 Continue) starts a new header set. */
	if (n > 5 && strncmp(buf, "HTTP/", 5) == 0) {
		g_clear_pointer(&x->request_id, g_free);
		g_clear_pointer(&x->retry_after, g_free);
	}
	keep_header(&x->request_id, buf, n, "request-id");
	keep_header(&x->retry_after, buf, n, "Retry-After");
	return n;
}

static int
progress_cb(void *userp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	xfer *x = userp;

	if (is_canceled(x)) {
		x->canceled = TRUE;
		return 1;
	}
	return 0;
}

typedef struct {
	const char *method;       /* "POST", "PUT", "DELETE" */
	const char *url;
	const char *content_type; /* NULL: no body */
	gboolean    auth;         /* Bearer token (never on an uploadUrl) */
	const char *content_range;
} http_req;

static CURLcode
setup(xfer *x, const http_req *hr, struct curl_slist **hdrs)
{
	const p2m_graph_request *req = x->req;
	const p2m_curl_fns *curl = p2m_curl();
	long timeout = req->timeout_s > 0 ? req->timeout_s : 300;
	CURLcode rc = CURLE_OK;
	char line[160];

	curl->easy_reset(x->h);
	rc |= curl->easy_setopt(x->h, CURLOPT_URL, hr->url);
#if LIBCURL_VERSION_NUM >= 0x075500
	rc |= curl->easy_setopt(x->h, CURLOPT_PROTOCOLS_STR, "https");
#else
	rc |= curl->easy_setopt(x->h, CURLOPT_PROTOCOLS, (long) CURLPROTO_HTTPS);
#endif
	rc |= curl->easy_setopt(x->h, CURLOPT_SSLVERSION, (long) CURL_SSLVERSION_TLSv1_2);
	rc |= curl->easy_setopt(x->h, CURLOPT_SSL_VERIFYPEER, 1L);
	rc |= curl->easy_setopt(x->h, CURLOPT_SSL_VERIFYHOST, 2L);
	rc |= curl->easy_setopt(x->h, CURLOPT_CAPATH, P2M_SMTP_CAPATH);
	if (req->ca_pem != NULL) {
		struct curl_blob blob;
		gsize len = 0;

		blob.data = (void *) g_bytes_get_data(req->ca_pem, &len);
		blob.len = len;
		blob.flags = CURL_BLOB_COPY;
		rc |= curl->easy_setopt(x->h, CURLOPT_CAINFO_BLOB, &blob);
	}
	rc |= curl->easy_setopt(x->h, CURLOPT_PROXY, "");
	rc |= curl->easy_setopt(x->h, CURLOPT_NOSIGNAL, 1L);
	rc |= curl->easy_setopt(x->h, CURLOPT_FOLLOWLOCATION, 0L);
	rc |= curl->easy_setopt(x->h, CURLOPT_ERRORBUFFER, x->errbuf);
	rc |= curl->easy_setopt(x->h, CURLOPT_CONNECTTIMEOUT, 30L);
	rc |= curl->easy_setopt(x->h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	rc |= curl->easy_setopt(x->h, CURLOPT_LOW_SPEED_TIME, timeout);
	rc |= curl->easy_setopt(x->h, CURLOPT_USERAGENT, PACKAGE_NAME "/" PACKAGE_VERSION);
	if (hr->auth) {
		/* libcurl writes the header itself: no copy of the token here. */
		rc |= curl->easy_setopt(x->h, CURLOPT_HTTPAUTH, (long) CURLAUTH_BEARER);
		rc |= curl->easy_setopt(x->h, CURLOPT_XOAUTH2_BEARER, req->bearer->data);
	}
	rc |= curl->easy_setopt(x->h, CURLOPT_CUSTOMREQUEST, hr->method);
	if (x->src != NULL) {
		rc |= curl->easy_setopt(x->h, CURLOPT_UPLOAD, 1L);
		rc |= curl->easy_setopt(x->h, CURLOPT_INFILESIZE_LARGE, (curl_off_t) x->src->total);
		rc |= curl->easy_setopt(x->h, CURLOPT_READFUNCTION, read_cb);
		rc |= curl->easy_setopt(x->h, CURLOPT_READDATA, x);
		rc |= curl->easy_setopt(x->h, CURLOPT_UPLOAD_BUFFERSIZE, 64L * 1024);
	} else if (strcmp(hr->method, "POST") == 0) {
		rc |= curl->easy_setopt(x->h, CURLOPT_POSTFIELDS, "");
		rc |= curl->easy_setopt(x->h, CURLOPT_POSTFIELDSIZE, 0L);
	}
	rc |= curl->easy_setopt(x->h, CURLOPT_WRITEFUNCTION, write_cb);
	rc |= curl->easy_setopt(x->h, CURLOPT_WRITEDATA, x);
	rc |= curl->easy_setopt(x->h, CURLOPT_HEADERFUNCTION, header_cb);
	rc |= curl->easy_setopt(x->h, CURLOPT_HEADERDATA, x);
	rc |= curl->easy_setopt(x->h, CURLOPT_XFERINFOFUNCTION, progress_cb);
	rc |= curl->easy_setopt(x->h, CURLOPT_XFERINFODATA, x);
	rc |= curl->easy_setopt(x->h, CURLOPT_NOPROGRESS, 0L);
	/* Graph answers 4xx before the body often enough; no 1 s Expect wait. */
	*hdrs = curl->slist_append(*hdrs, "Expect:");
	if (hr->content_type != NULL) {
		g_snprintf(line, sizeof(line), "Content-Type: %s", hr->content_type);
		*hdrs = curl->slist_append(*hdrs, line);
	}
	if (hr->content_range != NULL) {
		g_snprintf(line, sizeof(line), "Content-Range: %s", hr->content_range);
		*hdrs = curl->slist_append(*hdrs, line);
	}
	rc |= curl->easy_setopt(x->h, CURLOPT_HTTPHEADER, *hdrs);
	return rc;
}

/* One request.  TRUE when an HTTP answer came (any status, in *STATUS);
 * FALSE with ERROR for a transfer that got none.  *WHOLE_SENT: every byte
 * of the body went out. */
static gboolean
http(xfer *x, const http_req *hr, body_src *src, long *status, gboolean *whole_sent, GError **error)
{
	const p2m_curl_fns *curl = p2m_curl();
	struct curl_slist *hdrs = NULL;
	CURLcode rc;

	*status = 0;
	*whole_sent = FALSE;
	x->src = src;
	if (src != NULL)
		src->total = body_total(src);
	g_string_truncate(x->body, 0);
	g_clear_pointer(&x->request_id, g_free);
	g_clear_pointer(&x->retry_after, g_free);
	x->errbuf[0] = '\0';
	if (setup(x, hr, &hdrs) != CURLE_OK) {
		curl->slist_free_all(hdrs);
		g_set_error_literal(error, P2M_ERROR, P2M_E_INTERNAL, "libcurl could not be set up for HTTPS");
		return FALSE;
	}
	rc = curl->easy_perform(x->h);
	curl->slist_free_all(hdrs);
	{
		long request_bytes = 0;

		/* The request line and headers went out (not a failed connect)
		 * and so did every byte of the body. */
		curl->easy_getinfo(x->h, CURLINFO_REQUEST_SIZE, &request_bytes);
		*whole_sent = request_bytes > 0 && (src == NULL || src->sent == src->total);
	}
	if (rc == CURLE_OK) {
		curl->easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, status);
		return TRUE;
	}
	if (x->canceled || is_canceled(x)) {
		g_set_error_literal(error, P2M_ERROR, P2M_E_CANCELED, "the job was canceled");
		return FALSE;
	}
	if (src != NULL && src->read_errno != 0) {
		g_set_error(error, P2M_ERROR, P2M_E_DOCUMENT, "reading the spooled message: %s", g_strerror(src->read_errno));
		return FALSE;
	}
	switch (rc) {
	case CURLE_PEER_FAILED_VERIFICATION:
		g_set_error(error, P2M_ERROR, P2M_E_TLS_VERIFY, "Graph's certificate is not trusted: %s",
		            x->errbuf[0] ? x->errbuf : curl->easy_strerror(rc));
		break;
	case CURLE_SSL_CONNECT_ERROR:
		g_set_error(error, P2M_ERROR, P2M_E_TLS, "TLS with Graph failed: %s",
		            x->errbuf[0] ? x->errbuf : curl->easy_strerror(rc));
		break;
	default:
		g_set_error(error, P2M_ERROR, P2M_E_CONNECT, "Graph %s: %s", x->res->step,
		            x->errbuf[0] ? x->errbuf : curl->easy_strerror(rc));
		break;
	}
	return FALSE;
}

/* Record a Graph error answer in RES and ERROR. */
static gboolean
graph_refused(xfer *x, long status, GError **error)
{
	p2m_graph_result *res = x->res;
	GString *line = g_string_new(NULL);

	res->http = (int) status;
	g_clear_pointer(&res->code, g_free);
	g_clear_pointer(&res->message, g_free);
	p2m_graph_parse_error(x->body->str, x->body->len, &res->code, &res->message);
	g_free(res->request_id);
	res->request_id = g_strdup(x->request_id);
	g_string_append_printf(line, "HTTP %ld", status);
	if (res->code != NULL)
		g_string_append_printf(line, " %s", res->code);
	if (res->message != NULL)
		g_string_append_printf(line, ": %s", res->message);
	if (res->request_id != NULL)
		g_string_append_printf(line, " (request-id %s)", res->request_id);
	g_free(res->reply);
	res->reply = g_string_free(line, FALSE);
	g_set_error(error, P2M_ERROR, P2M_E_GRAPH, "Graph %s refused: %s", res->step, res->reply);
	return FALSE;
}

static gboolean
wait_canceled(xfer *x, long seconds)
{
	gint64 until = g_get_monotonic_time() + (gint64) seconds * G_USEC_PER_SEC;

	while (g_get_monotonic_time() < until) {
		if (is_canceled(x))
			return TRUE;
		g_usleep(100 * 1000);
	}
	return is_canceled(x);
}

/* A request Graph may refuse for load (429, 503): wait as told and try
 * again, a few times.  A send that may already have gone out is never
 * repeated.  TRUE with *STATUS for any other answer. */
static gboolean
request(xfer *x, const http_req *hr, body_src *src, gboolean sends, long *status, GError **error)
{
	int tries;

	for (tries = 1;; tries++) {
		GError *e = NULL;
		gboolean whole = FALSE;
		long wait;

		if (src != NULL) {
			body_src fresh = *src;

			/* every try starts the body from its beginning */
			memset(&fresh, 0, sizeof(fresh));
			fresh.prefix = src->prefix;
			fresh.fd = src->fd;
			fresh.off = src->off;
			fresh.len = src->len;
			fresh.b64 = src->b64;
			fresh.suffix = src->suffix;
			*src = fresh;
		}
		if (!http(x, hr, src, status, &whole, &e)) {
			/* The whole request went out and the answer was lost: Graph
			 * may have sent it. */
			if (sends && whole && e->code == P2M_E_CONNECT)
				x->res->maybe_sent = TRUE;
			g_propagate_error(error, e);
			return FALSE;
		}
		x->res->http = (int) *status;
		wait = p2m_graph_parse_retry_after(x->retry_after, g_get_real_time() / G_USEC_PER_SEC);
		x->res->retry_after = MAX(wait, 0);
		if (*status == 504 && sends) {
			x->res->maybe_sent = TRUE;
			return TRUE;
		}
		if (*status != 429 && *status != 503)
			return TRUE;
		if (wait < 0)
			wait = RETRY_DEFAULT_S * tries;
		if (tries >= P2M_GRAPH_TRIES || wait > P2M_GRAPH_RETRY_WAIT_MAX)
			return TRUE;
		if (wait_canceled(x, wait)) {
			g_set_error_literal(error, P2M_ERROR, P2M_E_CANCELED, "the job was canceled");
			return FALSE;
		}
	}
}

/* ---- the message ------------------------------------------------------------ */

/* An unnamed temporary file (O_TMPFILE): nothing of the job stays behind
 * whatever happens.  cupsd's TMPDIR first; privileges are dropped by now,
 * so a TMPDIR only root may write falls back to the system's. */
static int
spool_open(GError **error)
{
	const char *dirs[] = { g_get_tmp_dir(), "/var/tmp", "/tmp" };
	int fd = -1, saved = 0;
	gsize i;

	for (i = 0; i < G_N_ELEMENTS(dirs) && fd < 0; i++) {
		fd = open(dirs[i], O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
		if (fd < 0 && saved == 0)
			saved = errno;
	}
	if (fd < 0)
		g_set_error(error, P2M_ERROR, P2M_E_DOCUMENT, "cannot make a temporary file in %s: %s", dirs[0],
		            g_strerror(saved));
	return fd;
}

static gboolean
write_all(int fd, const char *buf, gsize len, GError **error)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			g_set_error(error, P2M_ERROR, P2M_E_DOCUMENT, "writing a temporary file: %s", g_strerror(errno));
			return FALSE;
		}
		buf += n;
		len -= (gsize) n;
	}
	return TRUE;
}

/* The whole message into FD; its size in *SIZE. */
static gboolean
spool(xfer *x, int fd, guint64 *size, GError **error)
{
	char buf[IO_CHUNK];
	gssize n;

	*size = 0;
	for (;;) {
		if (is_canceled(x)) {
			g_set_error_literal(error, P2M_ERROR, P2M_E_CANCELED, "the job was canceled");
			return FALSE;
		}
		if ((n = x->req->read(x->req->read_ctx, buf, sizeof(buf), error)) < 0)
			return FALSE;
		if (n == 0)
			return TRUE;
		if (!write_all(fd, buf, (gsize) n, error))
			return FALSE;
		*size += (guint64) n;
	}
}

static char *
users_url(const p2m_graph_request *req, const char *tail)
{
	g_autofree char *mbx = g_uri_escape_string(req->mailbox, "@", FALSE);

	return g_strdup_printf("%s/v1.0/users/%s%s", req->account->graph_endpoint, mbx, tail);
}

static gboolean
send_mail(xfer *x, int fd, guint64 size, long *status, GError **error)
{
	g_autofree char *url = users_url(x->req, "/sendMail");
	http_req hr = { "POST", url, "text/plain", TRUE, NULL };
	body_src src = { .fd = fd, .off = 0, .len = size, .b64 = TRUE };

	x->res->step = "sendMail";
	if (!request(x, &hr, &src, TRUE, status, error))
		return FALSE;
	if (*status == 202)
		return TRUE;
	if (*status == 413)
		return FALSE;  /* the caller takes the large path */
	return graph_refused(x, *status, error);
}

/* ---- the large path ------------------------------------------------------- */

typedef struct {
	int     fd;
	char    buf[IO_CHUNK];
	gsize   len, pos;
	gboolean eof;
} line_reader;

/* The next line with its line end into LINE (cleared first); FALSE at the end. */
static gboolean
next_line(line_reader *r, GString *line, GError **error)
{
	g_string_truncate(line, 0);
	for (;;) {
		char *nl;

		if (r->pos == r->len) {
			ssize_t n;

			if (r->eof)
				return line->len > 0;
			do
				n = read(r->fd, r->buf, sizeof(r->buf));
			while (n < 0 && errno == EINTR);
			if (n < 0) {
				g_set_error(error, P2M_ERROR, P2M_E_DOCUMENT, "reading the spooled message: %s", g_strerror(errno));
				return FALSE;
			}
			r->len = (gsize) n;
			r->pos = 0;
			r->eof = n == 0;
			continue;
		}
		nl = memchr(r->buf + r->pos, '\n', r->len - r->pos);
		g_string_append_len(line, r->buf + r->pos, (gssize) ((nl != NULL ? (gsize) (nl - r->buf) + 1 : r->len) - r->pos));
		r->pos = nl != NULL ? (gsize) (nl - r->buf) + 1 : r->len;
		if (line->len > LINE_MAX_LEN) {
			g_set_error_literal(error, P2M_ERROR, P2M_E_DOCUMENT, "the message has a line over 64 KiB");
			return FALSE;
		}
		if (nl != NULL)
			return TRUE;
	}
}

static int
b64_value(char c)
{
	const char *p = c != '\0' ? strchr(b64chars, c) : NULL;

	return p != NULL ? (int) (p - b64chars) : -1;
}

typedef struct {
	guint32 acc;
	int     bits;
} b64_decoder;

/* Decode one base64 line (whitespace and padding skipped) and append to FD. */
static gboolean
decode_line(b64_decoder *d, const char *s, gsize len, int fd, guint64 *out, GError **error)
{
	char buf[LINE_MAX_LEN / 4 * 3 + 4];
	gsize n = 0, i;

	for (i = 0; i < len; i++) {
		int v = b64_value(s[i]);

		if (v < 0)
			continue;
		d->acc = (d->acc << 6) | (guint32) v;
		d->bits += 6;
		if (d->bits >= 8) {
			d->bits -= 8;
			buf[n++] = (char) ((d->acc >> d->bits) & 0xff);
		}
	}
	*out += n;
	return write_all(fd, buf, n, error);
}

typedef struct {
	GString *draft;       /* the message without its big attachment */
	int      att_fd;      /* the attachment, decoded */
	guint64  att_size;
	char    *att_type;
	char    *att_name;
} split;

static void
split_clear(split *s)
{
	if (s->draft != NULL)
		g_string_free(s->draft, TRUE);
	if (s->att_fd >= 0)
		close(s->att_fd);
	g_free(s->att_type);
	g_free(s->att_name);
}

static gboolean
draft_add(split *s, const GString *line, GError **error)
{
	if (s->draft->len + line->len > DRAFT_MAX) {
		g_set_error_literal(error, P2M_ERROR, P2M_E_TOO_LARGE,
		                    "the message without its attachment is still over Graph's 4 MB request limit");
		return FALSE;
	}
	g_string_append_len(s->draft, line->str, (gssize) line->len);
	return TRUE;
}

/* Take the first base64 part out of the spooled message: the rest becomes
 * the draft, the part's content is decoded into a temporary file. */
static gboolean
split_message(int fd, split *s, GError **error)
{
	line_reader r = { .fd = fd };
	g_autoptr(GString) line = g_string_new(NULL);
	g_autoptr(GString) part = g_string_new(NULL);
	g_autofree char *boundary = NULL;
	g_autofree char *delim = NULL;
	g_autofree char *close_delim = NULL;
	enum { HEAD, BODY, PART_HEAD, ATTACH, DONE } state = HEAD;
	b64_decoder dec = { 0, 0 };
	gsize mark = 0;   /* where the current part's delimiter line starts in the draft */

	s->draft = g_string_new(NULL);
	s->att_fd = -1;
	if (lseek(fd, 0, SEEK_SET) != 0) {
		g_set_error(error, P2M_ERROR, P2M_E_DOCUMENT, "rewinding the spooled message: %s", g_strerror(errno));
		return FALSE;
	}
	while (next_line(&r, line, error)) {
		gsize blen = line->len;

		while (blen > 0 && (line->str[blen - 1] == '\n' || line->str[blen - 1] == '\r'))
			blen--;
		switch (state) {
		case HEAD:
			if (!draft_add(s, line, error))
				return FALSE;
			if (blen == 0) {
				boundary = p2m_graph_boundary(s->draft->str, s->draft->len);
				if (boundary == NULL) {
					g_set_error_literal(error, P2M_ERROR, P2M_E_TOO_LARGE,
					                    "the message is over Graph's 4 MB request limit and has no attachment to upload apart");
					return FALSE;
				}
				delim = g_strconcat("--", boundary, NULL);
				close_delim = g_strconcat(delim, "--", NULL);
				state = BODY;
			} else if (s->draft->len > P2M_HEADER_BLOCK_MAX) {
				g_set_error_literal(error, P2M_ERROR, P2M_E_DOCUMENT, "the message header is over 64 KiB");
				return FALSE;
			}
			break;
		case BODY:
		case ATTACH:
			if (blen == strlen(delim) && memcmp(line->str, delim, blen) == 0) {
				state = PART_HEAD;
				g_string_truncate(part, 0);
				mark = s->draft->len;
				if (!draft_add(s, line, error))
					return FALSE;
			} else if (blen == strlen(close_delim) && memcmp(line->str, close_delim, blen) == 0) {
				state = DONE;
				if (!draft_add(s, line, error))
					return FALSE;
			} else if (state == ATTACH) {
				if (!decode_line(&dec, line->str, blen, s->att_fd, &s->att_size, error))
					return FALSE;
			} else if (!draft_add(s, line, error)) {
				return FALSE;
			}
			break;
		case PART_HEAD:
			g_string_append_len(part, line->str, (gssize) line->len);
			if (part->len > P2M_HEADER_BLOCK_MAX) {
				g_set_error_literal(error, P2M_ERROR, P2M_E_DOCUMENT, "a part header is over 64 KiB");
				return FALSE;
			}
			if (blen > 0)
				break;
			if (s->att_fd < 0 && p2m_graph_part_attachment(part->str, part->len, &s->att_type, &s->att_name)) {
				/* The part leaves the draft altogether: drop its delimiter line. */
				g_string_truncate(s->draft, mark);
				if ((s->att_fd = spool_open(error)) < 0)
					return FALSE;
				state = ATTACH;
			} else {
				if (s->draft->len + part->len > DRAFT_MAX) {
					g_set_error_literal(error, P2M_ERROR, P2M_E_TOO_LARGE,
					                    "the message without its attachment is still over Graph's 4 MB request limit");
					return FALSE;
				}
				g_string_append_len(s->draft, part->str, (gssize) part->len);
				state = BODY;
			}
			break;
		case DONE:
			if (!draft_add(s, line, error))
				return FALSE;
			break;
		}
	}
	if (error != NULL && *error != NULL)
		return FALSE;
	if (s->att_fd < 0 || state != DONE) {
		g_set_error_literal(error, P2M_ERROR, P2M_E_TOO_LARGE,
		                    "the message is over Graph's 4 MB request limit and has no base64 attachment to upload apart");
		return FALSE;
	}
	return TRUE;
}

static void
json_str(GString *out, const char *s)
{
	g_string_append_c(out, '"');
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			g_string_append_printf(out, "\\%c", *s);
		else if ((guchar) *s < 0x20)
			g_string_append_printf(out, "\\u%04x", (guchar) *s);
		else
			g_string_append_c(out, *s);
	}
	g_string_append_c(out, '"');
}

static gboolean
create_draft(xfer *x, const split *s, char **id, GError **error)
{
	g_autofree char *url = users_url(x->req, "/messages");
	http_req hr = { "POST", url, "text/plain", TRUE, NULL };
	int fd = spool_open(error);
	body_src src = { .fd = fd, .off = 0, .len = s->draft->len, .b64 = TRUE };
	long status = 0;
	gboolean ok;

	x->res->step = "draft";
	if (fd < 0)
		return FALSE;
	ok = write_all(fd, s->draft->str, s->draft->len, error) && request(x, &hr, &src, FALSE, &status, error);
	close(fd);
	if (!ok)
		return FALSE;
	if (status != 201 && status != 200)
		return graph_refused(x, status, error);
	if ((*id = p2m_graph_parse_member(x->body->str, x->body->len, "id", ID_MAX)) == NULL) {
		g_set_error_literal(error, P2M_ERROR, P2M_E_PROTOCOL, "Graph made a draft but gave no id for it");
		return FALSE;
	}
	return TRUE;
}

static char *
message_url(xfer *x, const char *id, const char *tail)
{
	g_autofree char *eid = g_uri_escape_string(id, NULL, FALSE);
	g_autofree char *t = g_strconcat("/messages/", eid, tail, NULL);

	return users_url(x->req, t);
}

/* A small attachment in one JSON request, its bytes base64-streamed. */
static gboolean
post_attachment(xfer *x, const char *id, const split *s, GError **error)
{
	g_autofree char *url = message_url(x, id, "/attachments");
	http_req hr = { "POST", url, "application/json", TRUE, NULL };
	g_autoptr(GString) pre = g_string_new("{\"@odata.type\":\"#microsoft.graph.fileAttachment\",\"name\":");
	body_src src = { .fd = s->att_fd, .off = 0, .len = s->att_size, .b64 = TRUE, .suffix = "\"}" };
	long status = 0;

	json_str(pre, s->att_name);
	g_string_append(pre, ",\"contentType\":");
	json_str(pre, s->att_type);
	g_string_append(pre, ",\"contentBytes\":\"");
	src.prefix = pre->str;
	x->res->step = "attachment";
	if (!request(x, &hr, &src, FALSE, &status, error))
		return FALSE;
	return status == 201 || status == 200 ? TRUE : graph_refused(x, status, error);
}

static gboolean
upload_attachment(xfer *x, const char *id, const split *s, GError **error)
{
	g_autofree char *url = message_url(x, id, "/attachments/createUploadSession");
	g_autofree char *upload = NULL;
	g_autoptr(GString) json = g_string_new("{\"AttachmentItem\":{\"attachmentType\":\"file\",\"name\":");
	http_req hr = { "POST", url, "application/json", TRUE, NULL };
	body_src src = { .fd = -1 };
	guint64 off;
	long status = 0;

	json_str(json, s->att_name);
	g_string_append_printf(json, ",\"size\":%" G_GUINT64_FORMAT ",\"contentType\":", s->att_size);
	json_str(json, s->att_type);
	g_string_append(json, "}}");
	src.prefix = json->str;
	x->res->step = "upload session";
	if (!request(x, &hr, &src, FALSE, &status, error))
		return FALSE;
	if (status != 201 && status != 200)
		return graph_refused(x, status, error);
	upload = p2m_graph_parse_member(x->body->str, x->body->len, "uploadUrl", URL_MAX);
	if (upload == NULL || !g_str_has_prefix(upload, "https://")) {
		g_set_error_literal(error, P2M_ERROR, P2M_E_PROTOCOL, "Graph's upload session has no https uploadUrl");
		return FALSE;
	}
	x->res->step = "upload";
	for (off = 0; off < s->att_size; off += P2M_GRAPH_CHUNK) {
		guint64 n = MIN((guint64) P2M_GRAPH_CHUNK, s->att_size - off);
		char range[96];
		/* The uploadUrl is pre-authenticated for another audience: a
		 * Bearer header there is refused (and would leak the token). */
		http_req put = { "PUT", upload, "application/octet-stream", FALSE, range };
		body_src chunk = { .fd = s->att_fd, .off = off, .len = n };

		g_snprintf(range, sizeof(range), "bytes %" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT,
		           off, off + n - 1, s->att_size);
		if (!request(x, &put, &chunk, FALSE, &status, error))
			return FALSE;
		if (off + n < s->att_size ? status != 200 && status != 202 : status != 201 && status != 200)
			return graph_refused(x, status, error);
	}
	return TRUE;
}

static gboolean
send_draft(xfer *x, const char *id, GError **error)
{
	g_autofree char *url = message_url(x, id, "/send");
	http_req hr = { "POST", url, NULL, TRUE, NULL };
	long status = 0;

	x->res->step = "send";
	if (!request(x, &hr, NULL, TRUE, &status, error))
		return FALSE;
	return status == 202 ? TRUE : graph_refused(x, status, error);
}

/* Best effort: a draft left behind is clutter, not a sent mail. */
static void
delete_draft(xfer *x, const char *id)
{
	g_autofree char *url = message_url(x, id, "");
	http_req hr = { "DELETE", url, NULL, TRUE, NULL };
	g_autoptr(GError) ignored = NULL;
	long status = 0;
	gboolean whole;
	const char *step = x->res->step;

	x->ignore_cancel = TRUE;
	x->res->step = "delete draft";
	http(x, &hr, NULL, &status, &whole, &ignored);
	x->res->step = step;
	x->ignore_cancel = FALSE;
}

static gboolean
send_large(xfer *x, int fd, guint64 size, GError **error)
{
	guint64 limit = x->req->max_size != 0 ? x->req->max_size : P2M_GRAPH_DEFAULT_MAX;
	split s = { NULL, -1, 0, NULL, NULL };
	g_autofree char *id = NULL;
	gboolean ok = FALSE;

	x->res->draft_path = TRUE;
	/* Exchange counts the encoded message against MaxSendSize; refuse
	 * here rather than after uploading most of it. */
	if (size > limit) {
		g_set_error(error, P2M_ERROR, P2M_E_TOO_LARGE,
		            "the message is %" G_GUINT64_FORMAT " bytes, over the mailbox limit of %" G_GUINT64_FORMAT
		            " bytes (%s); nothing was sent", size, limit,
		            x->req->max_size != 0 ? "max_message_size" : "Exchange's default MaxSendSize, 35 MB");
		return FALSE;
	}
	if (!split_message(fd, &s, error))
		goto out;
	if (!create_draft(x, &s, &id, error))
		goto out;
	if (s.att_size >= P2M_GRAPH_UPLOAD_MIN ? !upload_attachment(x, id, &s, error)
	                                        : !post_attachment(x, id, &s, error))
		goto out;
	if (is_canceled(x)) {
		g_set_error_literal(error, P2M_ERROR, P2M_E_CANCELED, "the job was canceled before it was sent");
		goto out;
	}
	ok = send_draft(x, id, error);
out:
	/* Never delete what may have been sent: its copy is the proof. */
	if (!ok && id != NULL && !x->res->maybe_sent)
		delete_draft(x, id);
	split_clear(&s);
	return ok;
}

gboolean
p2m_graph_send(const p2m_graph_request *req, p2m_graph_result *res, GError **error)
{
	xfer x = { .req = req, .res = res };
	guint64 limit = req->request_limit != 0 ? req->request_limit : P2M_GRAPH_REQUEST_LIMIT;
	guint64 size = 0;
	gboolean ok = FALSE;
	GError *e = NULL;
	long status = 0;
	int fd = -1;

	memset(res, 0, sizeof(*res));
	res->step = "spool";
	if (req->bearer == NULL || req->mailbox == NULL || req->account == NULL) {
		g_set_error_literal(error, P2M_ERROR, P2M_E_INTERNAL, "Graph request without token or mailbox");
		return FALSE;
	}
	/* First: without libcurl, spooling the message would be for nothing. */
	if (!p2m_curl_load(error))
		return FALSE;
	x.body = g_string_sized_new(1024);
	if ((x.h = p2m_curl()->easy_init()) == NULL) {
		g_set_error_literal(error, P2M_ERROR, P2M_E_INTERNAL, "libcurl could not be set up");
		goto out;
	}
	if ((fd = spool_open(error)) < 0 || !spool(&x, fd, &size, error))
		goto out;
	res->bytes = size;
	if (req->max_size != 0 && size > req->max_size) {
		g_set_error(error, P2M_ERROR, P2M_E_TOO_LARGE,
		            "the message is %" G_GUINT64_FORMAT " bytes, over max_message_size = %" G_GUINT64_FORMAT
		            "; nothing was sent", size, req->max_size);
		goto out;
	}
	if (p2m_graph_base64_len(size) <= limit) {
		if (send_mail(&x, fd, size, &status, &e)) {
			ok = TRUE;
			goto out;
		}
		if (e != NULL || status != 413) {
			g_propagate_error(error, e);
			goto out;
		}
		/* Graph's own limit is lower than ours: the large path it is. */
	}
	ok = send_large(&x, fd, size, error);
out:
	if (fd >= 0)
		close(fd);
	if (x.h != NULL)
		p2m_curl()->easy_cleanup(x.h);
	g_string_free(x.body, TRUE);
	g_free(x.request_id);
	g_free(x.retry_after);
	return ok;
}
