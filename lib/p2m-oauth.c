/* SPDX-License-Identifier: Apache-2.0 */
/* p2m-oauth.c - HTTPS form POSTs to the Entra token and device-code endpoints, and device-code replies. */
#include "config.h"

#include <glib.h>
#include <string.h>

#include "p2m-curl.h"
#include "p2m-debug.h"
#include "p2m-error.h"
#include "p2m-fail.h"
#include "p2m-oauth.h"
#include "p2m-secret.h"
#include "p2m-smtp.h"
#include "p2m-tokframe.h"
#include "p2m-unpriv.h"

#define P2M_OAUTH_CONNECT_TIMEOUT 10
#define P2M_OAUTH_DESC_MAX        300
#define P2M_OAUTH_MAX_CODES       8
#define P2M_OAUTH_MAX_DEPTH       32

struct p2m_oauth_form {
	GString *body;
	char    *grant;   /* grant_type and scope, for the transcript (never secret) */
	char    *scope;
};

p2m_oauth_form *
p2m_oauth_form_new(void)
{
	p2m_oauth_form *f = g_new0(p2m_oauth_form, 1);

	/* Pre-sized so the secret is not left behind in freed, unwiped
	 * blocks when the string grows. */
	f->body = g_string_sized_new(4096);
	return f;
}

/* Percent-encode S into F (RFC 3986 unreserved characters stay). */
static void
form_escape(GString *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char) *s;

		if (g_ascii_isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
			g_string_append_c(out, (char) c);
		} else {
			g_string_append_c(out, '%');
			g_string_append_c(out, hex[c >> 4]);
			g_string_append_c(out, hex[c & 15]);
		}
	}
}

void
p2m_oauth_form_add(p2m_oauth_form *f, const char *name, const char *value)
{
	gsize need;

	/* Grow by hand, wiping the old block, because g_string_append would
	 * realloc and leave a copy of the secret in freed memory. */
	need = f->body->len + 3 * (strlen(name) + strlen(value)) + 3;
	if (need >= f->body->allocated_len) {
		GString *bigger = g_string_sized_new(need * 2);

		g_string_append_len(bigger, f->body->str, (gssize) f->body->len);
		p2m_wipe(f->body->str, f->body->allocated_len);
		g_string_free(f->body, TRUE);
		f->body = bigger;
	}
	if (strcmp(name, "grant_type") == 0) {
		g_free(f->grant);
		f->grant = g_strdup(value);
	} else if (strcmp(name, "scope") == 0) {
		g_free(f->scope);
		f->scope = g_strdup(value);
	}
	if (f->body->len > 0)
		g_string_append_c(f->body, '&');
	form_escape(f->body, name);
	g_string_append_c(f->body, '=');
	form_escape(f->body, value);
}

const char *
p2m_oauth_form_body(const p2m_oauth_form *f)
{
	return f->body->str;
}

void
p2m_oauth_form_free(p2m_oauth_form *f)
{
	if (f == NULL)
		return;
	p2m_wipe(f->body->str, f->body->allocated_len);
	g_string_free(f->body, TRUE);
	g_free(f->grant);
	g_free(f->scope);
	g_free(f);
}

/* ---- HTTPS ---------------------------------------------------------------- */

typedef struct {
	GString  *buf;
	gboolean  too_big;
} reply_sink;

static size_t
on_body(char *data, size_t size, size_t nmemb, void *user)
{
	reply_sink *sink = user;
	size_t n = size * nmemb;

	if (sink->buf->len + n > P2M_OAUTH_REPLY_MAX) {
		sink->too_big = TRUE;
		return 0;  /* aborts the transfer */
	}
	g_string_append_len(sink->buf, data, (gssize) n);
	return n;
}

static gboolean
setup_handle(CURL *c, const char *url, GBytes *ca_pem, const char *body, long timeout_s,
             reply_sink *sink, char *errbuf)
{
	const p2m_curl_fns *curl = p2m_curl();
	long limit = timeout_s > 0 ? timeout_s : P2M_DEFAULT_TIMEOUT;
	gboolean ok = TRUE;

	ok &= curl->easy_setopt(c, CURLOPT_URL, url) == CURLE_OK;
#if LIBCURL_VERSION_NUM >= 0x075500
	ok &= curl->easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https") == CURLE_OK;
	ok &= curl->easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "https") == CURLE_OK;
#else
	ok &= curl->easy_setopt(c, CURLOPT_PROTOCOLS, (long) CURLPROTO_HTTPS) == CURLE_OK;
#endif
	ok &= curl->easy_setopt(c, CURLOPT_NOSIGNAL, 1L) == CURLE_OK;
	ok &= curl->easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK;
	ok &= curl->easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK;
	ok &= curl->easy_setopt(c, CURLOPT_SSLVERSION, (long) CURL_SSLVERSION_TLSv1_2) == CURLE_OK;
	/* The system store stays trusted; ca_file adds an anchor (tests, private PKI). */
	ok &= curl->easy_setopt(c, CURLOPT_CAPATH, "/etc/ssl/certs") == CURLE_OK;
	if (ca_pem != NULL) {
		struct curl_blob blob;
		gsize len = 0;

		/* Bytes, not a path: root read the file; the child that runs
		 * this may not be allowed to. */
		blob.data = (void *) g_bytes_get_data(ca_pem, &len);
		blob.len = len;
		blob.flags = CURL_BLOB_COPY;
		ok &= curl->easy_setopt(c, CURLOPT_CAINFO_BLOB, &blob) == CURLE_OK;
	}
	ok &= curl->easy_setopt(c, CURLOPT_CONNECTTIMEOUT, MIN((long) P2M_OAUTH_CONNECT_TIMEOUT, limit)) == CURLE_OK;
	ok &= curl->easy_setopt(c, CURLOPT_TIMEOUT, MIN((long) P2M_OAUTH_TIMEOUT, limit)) == CURLE_OK;
	ok &= curl->easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK;
	ok &= curl->easy_setopt(c, CURLOPT_POSTFIELDS, body) == CURLE_OK;
	ok &= curl->easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body) == CURLE_OK;
	ok &= curl->easy_setopt(c, CURLOPT_WRITEDATA, sink) == CURLE_OK;
	ok &= curl->easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf) == CURLE_OK;
	ok &= curl->easy_setopt(c, CURLOPT_USERAGENT, PACKAGE_NAME "/" PACKAGE_VERSION) == CURLE_OK;
	return ok;
}

static void
set_curl_error(CURLcode rc, const char *url, const char *errbuf, gboolean too_big, GError **error)
{
	const char *detail = errbuf[0] != '\0' ? errbuf : p2m_curl()->easy_strerror(rc);

	if (too_big)
		g_set_error(error, P2M_ERROR, P2M_E_TOKEN_UNAVAILABLE,
		            "%s: reply larger than %d bytes", url, P2M_OAUTH_REPLY_MAX);
	else if (rc == CURLE_OPERATION_TIMEDOUT)
		g_set_error(error, P2M_ERROR, P2M_E_TOKEN_UNAVAILABLE,
		            "%s: the token endpoint did not answer in time (%s)", url, detail);
	else if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE)
		g_set_error(error, P2M_ERROR, P2M_E_TLS_VERIFY,
		            "%s: certificate not trusted: %s", url, detail);
	else
		g_set_error(error, P2M_ERROR, P2M_E_TOKEN_UNAVAILABLE, "%s: %s", url, detail);
}

/* The decoded value of NAME in the form BODY, for the transcript: only
 * grant_type and scope are ever asked for, never a secret. */
static char *
form_field(const char *body, const char *name)
{
	size_t n = strlen(name);
	const char *p = body;

	while (p != NULL && *p != '\0') {
		const char *end = strchr(p, '&');
		size_t len = end != NULL ? (size_t) (end - p) : strlen(p);

		if (len > n && strncmp(p, name, n) == 0 && p[n] == '=') {
			g_autofree char *raw = g_strndup(p + n + 1, len - n - 1);

			g_strdelimit(raw, "+", ' ');
			return g_uri_unescape_string(raw, NULL);
		}
		p = end != NULL ? end + 1 : NULL;
	}
	return NULL;
}

gboolean
p2m_oauth_post(const char *url, GBytes *ca_pem, const char *form_body, long timeout_s,
               long *http_status, char **body, gsize *len, GError **error)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	reply_sink sink = { NULL, FALSE };
	const p2m_curl_fns *curl = NULL;
	CURL *c = NULL;
	CURLcode rc;
	double total = 0;
	gboolean ok = FALSE;

	*http_status = 0;
	*body = NULL;
	*len = 0;
	if (!g_str_has_prefix(url, "https://")) {
		g_set_error(error, P2M_ERROR, P2M_E_CONFIG, "%s: the token endpoint must be an https URL", url);
		goto out;
	}
	if (!p2m_curl_load(error))
		goto out;
	curl = p2m_curl();
	sink.buf = g_string_sized_new(P2M_OAUTH_REPLY_MAX + 1);
	if ((c = curl->easy_init()) == NULL || !setup_handle(c, url, ca_pem, form_body, timeout_s, &sink, errbuf)) {
		g_set_error(error, P2M_ERROR, P2M_E_INTERNAL, "%s: cannot set up libcurl", url);
		goto out;
	}
	/* The transcript names the request, never its body: that holds the
	 * client secret, the assertion or the refresh token. */
	if (p2m_debug_enabled()) {
		g_autofree char *grant = form_field(form_body, "grant_type");
		g_autofree char *scope = form_field(form_body, "scope");

		p2m_debug("oauth: POST %s grant_type=%s scope=%s", url, grant != NULL ? grant : "-",
		          scope != NULL ? scope : "-");
	}
	rc = curl->easy_perform(c);
	curl->easy_getinfo(c, CURLINFO_TOTAL_TIME, &total);
	if (rc != CURLE_OK) {
		p2m_debug("oauth: no answer after %.3f s: curl %d (%s)", total, (int) rc,
		          errbuf[0] != '\0' ? errbuf : curl->easy_strerror(rc));
		set_curl_error(rc, url, errbuf, sink.too_big, error);
		goto out;
	}
	curl->easy_getinfo(c, CURLINFO_RESPONSE_CODE, http_status);
	p2m_debug("oauth: HTTP %ld after %.3f s, %zu bytes", *http_status, total, sink.buf->len);
	*len = sink.buf->len;
	*body = g_string_free(sink.buf, FALSE);
	sink.buf = NULL;
	ok = TRUE;
out:
	if (sink.buf != NULL) {
		p2m_wipe(sink.buf->str, sink.buf->allocated_len);
		g_string_free(sink.buf, TRUE);
	}
	if (c != NULL)
		curl->easy_cleanup(c);
	return ok;
}

GByteArray *
p2m_oauth_request_pack(const char *url, GBytes *ca_pem, long timeout_s, const char *form_body)
{
	gsize ca_len = ca_pem != NULL ? g_bytes_get_size(ca_pem) : 0;
	char t[24];
	GByteArray *req;

	g_snprintf(t, sizeof t, "%ld", CLAMP(timeout_s, 0L, 86400L));
	req = g_byte_array_sized_new((guint) (p2m_unpriv_field_size(strlen(url))
	                                      + p2m_unpriv_field_size(ca_len)
	                                      + p2m_unpriv_field_size(strlen(t))
	                                      + p2m_unpriv_field_size(strlen(form_body))));
	p2m_unpriv_put(req, url, strlen(url));
	p2m_unpriv_put(req, ca_pem != NULL ? g_bytes_get_data(ca_pem, NULL) : "", ca_len);
	p2m_unpriv_put(req, t, strlen(t));
	p2m_unpriv_put(req, form_body, strlen(form_body));
	return req;
}

gboolean
p2m_oauth_request_unpack(const guint8 *req, gsize len, char **url, GBytes **ca_pem,
                         long *timeout_s, char **form_body)
{
	const guint8 *f[4];
	gsize n[4];
	char t[24];
	guint64 v = 0;
	int i;

	*url = *form_body = NULL;
	*ca_pem = NULL;
	*timeout_s = 0;
	for (i = 0; i < 4; i++)
		if (!p2m_unpriv_get(&req, &len, P2M_UNPRIV_REQUEST_MAX, &f[i], &n[i]))
			return FALSE;
	if (n[2] == 0 || n[2] >= sizeof t)
		return FALSE;
	memcpy(t, f[2], n[2]);
	t[n[2]] = '\0';
	if (!g_ascii_string_to_unsigned(t, 10, 0, 86400, &v, NULL))
		return FALSE;
	*timeout_s = (long) v;
	*url = g_strndup((const char *) f[0], n[0]);
	*ca_pem = n[1] > 0 ? g_bytes_new_static(f[1], n[1]) : NULL;
	*form_body = g_strndup((const char *) f[3], n[3]);
	return TRUE;
}

int
p2m_oauth_child_deadline(long timeout_s)
{
	long limit = timeout_s > 0 ? timeout_s : P2M_DEFAULT_TIMEOUT;

	/* The child's own curl timeout ends first; the margin covers fork and exit. */
	return (int) MIN((long) P2M_OAUTH_TIMEOUT, limit) + 5;
}

/* ---- JSON replies ----------------------------------------------------------- */

/* json-glib's parser recurses per nesting level; real replies nest two
 * levels, so refuse deep input before it reaches the parser. */
static gboolean
nesting_ok(const char *json, gsize len)
{
	gboolean in_string = FALSE, escaped = FALSE;
	int depth = 0;
	gsize i;

	for (i = 0; i < len; i++) {
		char c = json[i];

		if (in_string) {
			if (escaped)
				escaped = FALSE;
			else if (c == '\\')
				escaped = TRUE;
			else if (c == '"')
				in_string = FALSE;
		} else if (c == '"') {
			in_string = TRUE;
		} else if (c == '{' || c == '[') {
			if (++depth > P2M_OAUTH_MAX_DEPTH)
				return FALSE;
		} else if (c == '}' || c == ']') {
			depth--;
		}
	}
	return TRUE;
}

JsonParser *
p2m_oauth_parse_object(const char *json, gsize len, JsonObject **root, GError **error)
{
	g_autoptr(JsonParser) parser = NULL;
	g_autoptr(GError) jerr = NULL;
	JsonNode *node;

	*root = NULL;
	if (json == NULL || len == 0 || len > P2M_OAUTH_REPLY_MAX) {
		g_set_error(error, P2M_ERROR, P2M_E_PROTOCOL,
		            "token endpoint reply is empty or larger than %d bytes", P2M_OAUTH_REPLY_MAX);
		return NULL;
	}
	if (memchr(json, '\0', len) != NULL) {
		g_set_error_literal(error, P2M_ERROR, P2M_E_PROTOCOL, "token endpoint reply holds a NUL byte");
		return NULL;
	}
	if (!nesting_ok(json, len)) {
		g_set_error(error, P2M_ERROR, P2M_E_PROTOCOL, "token endpoint reply nests deeper than %d levels",
		            P2M_OAUTH_MAX_DEPTH);
		return NULL;
	}
	parser = json_parser_new_immutable();
	if (!json_parser_load_from_data(parser, json, (gssize) len, &jerr)) {
		g_set_error(error, P2M_ERROR, P2M_E_PROTOCOL, "token endpoint reply is not JSON: %s", jerr->message);
		return NULL;
	}
	node = json_parser_get_root(parser);
	if (node == NULL || !JSON_NODE_HOLDS_OBJECT(node)) {
		g_set_error_literal(error, P2M_ERROR, P2M_E_PROTOCOL, "token endpoint reply is not a JSON object");
		return NULL;
	}
	*root = json_node_get_object(node);
	return g_steal_pointer(&parser);
}

const char *
p2m_oauth_member_str(JsonObject *obj, const char *name)
{
	JsonNode *n = json_object_get_member(obj, name);

	if (n == NULL || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
		return NULL;
	return json_node_get_string(n);
}

/* The AADSTS codes of "error_codes" (numbers), at most P2M_OAUTH_MAX_CODES. */
static size_t
error_codes(JsonObject *obj, long *codes)
{
	JsonNode *n = json_object_get_member(obj, "error_codes");
	JsonArray *arr;
	size_t count = 0;
	guint i;

	if (n == NULL || !JSON_NODE_HOLDS_ARRAY(n))
		return 0;
	arr = json_node_get_array(n);
	for (i = 0; i < json_array_get_length(arr) && count < P2M_OAUTH_MAX_CODES; i++) {
		JsonNode *e = json_array_get_element(arr, i);

		if (JSON_NODE_HOLDS_VALUE(e) && json_node_get_value_type(e) == G_TYPE_INT64)
			codes[count++] = (long) json_node_get_int(e);
	}
	return count;
}

/* First line of the description, printable characters only, capped. */
static char *
short_description(const char *desc)
{
	GString *out = g_string_new(NULL);

	for (; desc != NULL && *desc != '\0' && *desc != '\r' && *desc != '\n'; desc++) {
		if (out->len >= P2M_OAUTH_DESC_MAX) {
			g_string_append(out, "...");
			break;
		}
		g_string_append_c(out, g_ascii_iscntrl(*desc) ? ' ' : *desc);
	}
	return g_string_free(out, FALSE);
}

const char *
p2m_oauth_set_error(JsonObject *obj, int http_status, GError **error)
{
	long codes[P2M_OAUTH_MAX_CODES];
	size_t ncodes = error_codes(obj, codes);
	const char *err = p2m_oauth_member_str(obj, "error");
	g_autofree char *desc = short_description(p2m_oauth_member_str(obj, "error_description"));
	const p2m_rule *r = p2m_rules_classify_token_desc(err, codes, ncodes, http_status,
	                                                  p2m_oauth_member_str(obj, "error_description"));

	if (p2m_debug_enabled()) {
		g_autoptr(GString) list = g_string_new(NULL);
		size_t i;

		for (i = 0; i < ncodes; i++)
			g_string_append_printf(list, " AADSTS%ld", codes[i]);
		p2m_debug("oauth: refused: error=%s%s, rule %s", err != NULL ? err : "-", list->str, r->id);
	}
	if (desc[0] != '\0')
		p2m_fail_set(error, P2M_E_TOKEN, r, "token endpoint refused (%s): %s",
		             err != NULL ? err : "no error code", desc);
	else if (ncodes > 0)
		p2m_fail_set(error, P2M_E_TOKEN, r, "token endpoint refused (%s): AADSTS%ld",
		             err != NULL ? err : "no error code", codes[0]);
	else
		p2m_fail_set(error, P2M_E_TOKEN, r, "token endpoint refused (%s)",
		             err != NULL ? err : "no error code");
	return err != NULL ? err : "";
}

/* ---- device code ------------------------------------------------------------ */

void
p2m_oauth_device_free(p2m_oauth_device *d)
{
	if (d == NULL)
		return;
	p2m_wipe_free(d->device_code);
	g_free(d->user_code);
	g_free(d->verification_uri);
	g_free(d->message);
	g_free(d);
}

gint64
p2m_oauth_member_int(JsonObject *obj, const char *name, gint64 dflt)
{
	JsonNode *n = json_object_get_member(obj, name);

	if (n == NULL || !JSON_NODE_HOLDS_VALUE(n))
		return dflt;
	if (json_node_get_value_type(n) == G_TYPE_INT64)
		return json_node_get_int(n);
	if (json_node_get_value_type(n) == G_TYPE_STRING) {
		const char *s = json_node_get_string(n);
		char *end = NULL;
		gint64 v = g_ascii_strtoll(s, &end, 10);

		if (end != s && *end == '\0')
			return v;
	}
	return dflt;
}

gboolean
p2m_oauth_device_parse(const char *json, gsize len, gint64 now, p2m_oauth_device **out,
                       GError **error)
{
	g_autoptr(JsonParser) parser = NULL;
	g_autoptr(p2m_oauth_device) d = NULL;
	JsonObject *root = NULL;
	const char *code, *user_code, *uri;

	*out = NULL;
	if ((parser = p2m_oauth_parse_object(json, len, &root, error)) == NULL)
		return FALSE;
	if (json_object_has_member(root, "error")) {
		p2m_oauth_set_error(root, 400, error);
		return FALSE;
	}
	code = p2m_oauth_member_str(root, "device_code");
	user_code = p2m_oauth_member_str(root, "user_code");
	uri = p2m_oauth_member_str(root, "verification_uri");
	if (uri == NULL)
		uri = p2m_oauth_member_str(root, "verification_url");  /* older v1 spelling */
	if (code == NULL || user_code == NULL || uri == NULL || code[0] == '\0'
	    || strlen(user_code) > 64 || strlen(uri) > 512) {
		g_set_error_literal(error, P2M_ERROR, P2M_E_PROTOCOL,
		                    "device code reply lacks device_code, user_code or verification_uri");
		return FALSE;
	}
	d = g_new0(p2m_oauth_device, 1);
	d->device_code = g_strdup(code);
	d->user_code = g_strdup(user_code);
	d->verification_uri = g_strdup(uri);
	d->message = g_strdup(p2m_oauth_member_str(root, "message"));
	d->interval = (int) CLAMP(p2m_oauth_member_int(root, "interval", 5), 1, 300);
	d->expires_at = now + CLAMP(p2m_oauth_member_int(root, "expires_in", 900), 1, 86400);
	*out = g_steal_pointer(&d);
	return TRUE;
}

/* The child's side of p2m_oauth_device_start: POST, parse, frame. */
static void
device_start_in_child(const guint8 *req, gsize req_len, GByteArray *reply)
{
	g_autofree char *url = NULL;
	g_autoptr(GBytes) ca = NULL;
	g_autoptr(GError) err = NULL;
	g_autoptr(p2m_oauth_device) d = NULL;
	const p2m_rule *rule = NULL;
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;
	char *form = NULL, *body = NULL;
	gsize len = 0;
	long http = 0, timeout_s = 0;

	if (!p2m_oauth_request_unpack(req, req_len, &url, &ca, &timeout_s, &form)) {
		g_set_error_literal(&err, P2M_ERROR, P2M_E_INTERNAL, "malformed device code request");
	} else if (p2m_oauth_post(url, ca, form, timeout_s, &http, &body, &len, &err)) {
		if (http >= 500)
			g_set_error(&err, P2M_ERROR, P2M_E_TOKEN_UNAVAILABLE, "%s: HTTP status %ld", url, http);
		else
			p2m_oauth_device_parse(body, len, now, &d, &err);
	}
	if (err != NULL)
		rule = p2m_fail_rule(err);
	p2m_wipe_free(body);
	if (form != NULL)
		p2m_wipe(form, strlen(form));
	g_free(form);
	if (d != NULL)
		p2m_tokframe_put_device(reply, d, now);
	else
		p2m_tokframe_put_error(reply, err, rule, NULL);
}

p2m_oauth_device *
p2m_oauth_device_start(const p2m_account *account, const char *scope, GError **error)
{
	g_autoptr(p2m_oauth_form) form = p2m_oauth_form_new();
	g_autofree char *url = p2m_account_devicecode_url(account);
	g_autoptr(GBytes) ca = NULL;
	g_autoptr(GError) err = NULL;
	GByteArray *req = NULL, *reply = NULL;
	p2m_oauth_device *d = NULL;
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;

	if (account->client_id == NULL || account->tenant == NULL) {
		g_set_error(error, P2M_ERROR, P2M_E_CONFIG,
		            "[account %s] needs client_id and tenant for a device login", account->name);
		return NULL;
	}
	p2m_oauth_form_add(form, "client_id", account->client_id);
	p2m_oauth_form_add(form, "scope", scope);
	if (!p2m_smtp_read_ca(account, &ca, error))
		return NULL;
	/* The exchange and its JSON run without root (p2m-unpriv.h). */
	req = p2m_oauth_request_pack(url, ca, (long) account->timeout_s, p2m_oauth_form_body(form));
	if (p2m_unpriv_run(device_start_in_child, req->data, req->len,
	                   p2m_oauth_child_deadline((long) account->timeout_s), &reply, &err)) {
		const p2m_rule *rule = NULL;

		if (!p2m_tokframe_parse_device(reply->data, reply->len, now, &d, &rule, error) &&
		    rule != NULL && error != NULL && *error != NULL)
			p2m_fail_attach(*error, rule);
	} else {
		g_set_error(error, P2M_ERROR, err->code == P2M_E_PERMISSION ? P2M_E_PERMISSION : P2M_E_TOKEN_UNAVAILABLE,
		            "%s: %s", url, err->message);
	}
	p2m_unpriv_reply_free(reply);
	p2m_unpriv_reply_free(req);
	return d;
}
