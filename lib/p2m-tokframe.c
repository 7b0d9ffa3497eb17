/* SPDX-License-Identifier: Apache-2.0 */
/* p2m-tokframe.c - a token-endpoint outcome as the unprivileged child hands it to root: builders and a pure, bounded parser. */
#include "config.h"

#include <string.h>

#include <glib.h>

#include "p2m-error.h"
#include "p2m-job.h"
#include "p2m-secret.h"
#include "p2m-tokframe.h"
#include "p2m-unpriv.h"

#define MAGIC       "P2TK"
#define FRAME_VERSION 1
#define HEAD_LEN    6
#define KIND_TOKEN  'T'
#define KIND_ERROR  'E'
#define KIND_DEVICE 'D'
#define NUM_MAX     12

static void
put_head(GByteArray *out, char kind)
{
	guint8 head[HEAD_LEN] = { 'P', '2', 'T', 'K', FRAME_VERSION, (guint8) kind };

	g_byte_array_append(out, head, HEAD_LEN);
}

static void
put_str(GByteArray *out, const char *s)
{
	p2m_unpriv_put(out, s != NULL ? s : "", s != NULL ? strlen(s) : 0);
}

void
p2m_tokframe_put_token(GByteArray *out, const p2m_token *t)
{
	char life[NUM_MAX + 1];

	g_snprintf(life, sizeof(life), "%" G_GINT64_FORMAT, t->expires_at - t->obtained_at);
	put_head(out, KIND_TOKEN);
	put_str(out, t->access_token != NULL ? t->access_token->data : NULL);
	put_str(out, t->refresh_token != NULL ? t->refresh_token->data : NULL);
	put_str(out, life);
}

void
p2m_tokframe_put_error(GByteArray *out, const GError *e, const p2m_rule *rule, const char *oauth_error)
{
	g_autofree char *msg = p2m_job_clean_line(e->message, P2M_TOKFRAME_TEXT_MAX);
	char code[NUM_MAX + 1];

	g_snprintf(code, sizeof(code), "%d", e->domain == P2M_ERROR ? e->code : P2M_E_INTERNAL);
	put_head(out, KIND_ERROR);
	put_str(out, code);
	put_str(out, rule != NULL ? rule->id : NULL);
	put_str(out, oauth_error != NULL && strlen(oauth_error) <= P2M_TOKFRAME_OAUTH_MAX ? oauth_error : NULL);
	put_str(out, msg[0] != '\0' ? msg : "the token exchange failed");
}

void
p2m_tokframe_put_device(GByteArray *out, const p2m_oauth_device *d, gint64 now)
{
	g_autofree char *msg = p2m_job_clean_line(d->message != NULL ? d->message : "", P2M_TOKFRAME_TEXT_MAX);
	char interval[NUM_MAX + 1], life[NUM_MAX + 1];

	g_snprintf(interval, sizeof(interval), "%d", d->interval);
	g_snprintf(life, sizeof(life), "%" G_GINT64_FORMAT, d->expires_at - now);
	put_head(out, KIND_DEVICE);
	put_str(out, d->device_code);
	put_str(out, d->user_code);
	put_str(out, d->verification_uri);
	put_str(out, msg);
	put_str(out, interval);
	put_str(out, life);
}

/* ---- the parser ---------------------------------------------------------------- */

/* A field as a NUL-terminated copy, or NULL when it is over MAX bytes or
 * holds a NUL.  Wiped on free by the caller when it may be a token. */
static char *
take(const guint8 **p, gsize *left, gsize max)
{
	const guint8 *d;
	gsize n;
	char *s;

	if (!p2m_unpriv_get(p, left, max, &d, &n) || memchr(d, '\0', n) != NULL)
		return NULL;
	s = g_malloc(n + 1);
	memcpy(s, d, n);
	s[n] = '\0';
	return s;
}

/* Only digits, no sign, no leading zeros beyond "0". */
static gboolean
number(const char *s, gint64 max, gint64 *v)
{
	gint64 n = 0;

	if (s == NULL || s[0] == '\0' || (s[0] == '0' && s[1] != '\0') || strlen(s) > NUM_MAX)
		return FALSE;
	for (; *s != '\0'; s++) {
		if (!g_ascii_isdigit(*s))
			return FALSE;
		n = n * 10 + (*s - '0');
	}
	*v = n;
	return n <= max;
}

static gboolean
text_ok(const char *s)
{
	if (s == NULL || s[0] == '\0' || !g_utf8_validate(s, -1, NULL))
		return FALSE;
	for (; *s != '\0'; s++)
		if ((guchar) *s < 0x20 || *s == 0x7f)
			return FALSE;
	return TRUE;
}

static gboolean
oauth_ok(const char *s)
{
	for (; *s != '\0'; s++)
		if (!g_ascii_islower(*s) && *s != '_')
			return FALSE;
	return TRUE;
}

/* What a token exchange can fail with; anything else is a lie. */
static gboolean
code_ok(gint64 code)
{
	switch (code) {
	case P2M_E_TOKEN: case P2M_E_TOKEN_UNAVAILABLE: case P2M_E_PROTOCOL: case P2M_E_TLS_VERIFY:
	case P2M_E_CONFIG: case P2M_E_INTERNAL: case P2M_E_NOMEM:
		return TRUE;
	default:
		return FALSE;
	}
}

/* Printable ASCII (no space), 1 to MAX bytes. */
static gboolean
code_chars_ok(const char *s, gsize max)
{
	gsize n = s != NULL ? strlen(s) : 0;

	if (n == 0 || n > max)
		return FALSE;
	for (; *s != '\0'; s++)
		if (*s < 0x21 || *s > 0x7e)
			return FALSE;
	return TRUE;
}

static void
malformed(GError **error, const char *what)
{
	g_set_error(error, P2M_ERROR, P2M_E_PROTOCOL, "malformed answer from the unprivileged token exchange: %s", what);
}

static gboolean
parse_token(const guint8 *p, gsize left, gint64 now, p2m_token **out, GError **error)
{
	char *access = take(&p, &left, P2M_TOKEN_MAX_LEN);
	char *refresh = take(&p, &left, P2M_TOKEN_MAX_LEN);
	char *life = take(&p, &left, NUM_MAX);
	gint64 lifetime = 0;
	gboolean ok = FALSE;

	if (access == NULL || refresh == NULL || life == NULL || left != 0)
		malformed(error, "truncated or trailing bytes");
	else if (!p2m_token_chars_ok(access) || (refresh[0] != '\0' && !p2m_token_chars_ok(refresh)))
		malformed(error, "a token with characters no token has");
	else if (!number(life, P2M_TOKEN_MAX_LIFETIME, &lifetime) || lifetime < 1)
		malformed(error, "lifetime out of range");
	else
		ok = TRUE;
	if (ok) {
		*out = g_new0(p2m_token, 1);
		(*out)->access_token = p2m_secret_new(access, strlen(access));
		if (refresh[0] != '\0')
			(*out)->refresh_token = p2m_secret_new(refresh, strlen(refresh));
		(*out)->obtained_at = now;
		(*out)->expires_at = now + lifetime;
	}
	if (access != NULL)
		p2m_wipe(access, strlen(access));
	if (refresh != NULL)
		p2m_wipe(refresh, strlen(refresh));
	g_free(access);
	g_free(refresh);
	g_free(life);
	return ok;
}

static void
parse_error(const guint8 *p, gsize left, char **oauth_error, const p2m_rule **rule, GError **error)
{
	g_autofree char *code = take(&p, &left, NUM_MAX);
	g_autofree char *id = take(&p, &left, 64);
	g_autofree char *oauth = take(&p, &left, P2M_TOKFRAME_OAUTH_MAX);
	g_autofree char *msg = take(&p, &left, P2M_TOKFRAME_TEXT_MAX);
	const p2m_rule *r = NULL;
	const char *why = NULL;
	gint64 c = 0;

	if (code == NULL || id == NULL || oauth == NULL || msg == NULL || left != 0)
		why = "truncated or trailing bytes";
	else if (!number(code, P2M_E__COUNT, &c) || !code_ok(c))
		why = "an error code a token exchange cannot have";
	else if (id[0] != '\0' && (r = p2m_rules_find(id)) == NULL)
		why = "an unknown rule";
	else if (c == P2M_E_TOKEN && r == NULL)
		why = "a refusal without its rule";
	else if (!oauth_ok(oauth) || !text_ok(msg))
		why = "a message with control characters or invalid UTF-8";
	if (why != NULL) {
		malformed(error, why);
		return;
	}
	if (rule != NULL)
		*rule = r;
	if (oauth_error != NULL && oauth[0] != '\0')
		*oauth_error = g_strdup(oauth);
	g_set_error_literal(error, P2M_ERROR, (int) c, msg);
}

static gboolean
parse_device(const guint8 *p, gsize left, gint64 now, p2m_oauth_device **out, GError **error)
{
	g_autofree char *code = take(&p, &left, P2M_TOKEN_MAX_LEN);
	g_autofree char *user = take(&p, &left, 64);
	g_autofree char *uri = take(&p, &left, 512);
	g_autofree char *msg = take(&p, &left, P2M_TOKFRAME_TEXT_MAX);
	g_autofree char *interval = take(&p, &left, NUM_MAX);
	g_autofree char *life = take(&p, &left, NUM_MAX);
	gint64 every = 0, lifetime = 0;

	if (code == NULL || user == NULL || uri == NULL || msg == NULL || interval == NULL || life == NULL || left != 0)
		malformed(error, "truncated or trailing bytes");
	else if (!p2m_token_chars_ok(code) || !code_chars_ok(user, 64) || !code_chars_ok(uri, 512))
		malformed(error, "a code or URI with characters no code has");
	else if (msg[0] != '\0' && !text_ok(msg))
		malformed(error, "a message with control characters or invalid UTF-8");
	else if (!number(interval, 300, &every) || every < 1 || !number(life, 86400, &lifetime) || lifetime < 1)
		malformed(error, "interval or lifetime out of range");
	else {
		*out = g_new0(p2m_oauth_device, 1);
		(*out)->device_code = g_steal_pointer(&code);
		(*out)->user_code = g_steal_pointer(&user);
		(*out)->verification_uri = g_steal_pointer(&uri);
		(*out)->message = msg[0] != '\0' ? g_steal_pointer(&msg) : NULL;
		(*out)->interval = (int) every;
		(*out)->expires_at = now + lifetime;
		return TRUE;
	}
	return FALSE;
}

gboolean
p2m_tokframe_parse_device(const guint8 *buf, gsize len, gint64 now, p2m_oauth_device **out,
                          const p2m_rule **rule, GError **error)
{
	*out = NULL;
	if (rule != NULL)
		*rule = NULL;
	if (len > P2M_TOKFRAME_MAX || len < HEAD_LEN || memcmp(buf, MAGIC, 4) != 0 || buf[4] != FRAME_VERSION) {
		malformed(error, "no frame header");
		return FALSE;
	}
	if (buf[5] == KIND_DEVICE)
		return parse_device(buf + HEAD_LEN, len - HEAD_LEN, now, out, error);
	if (buf[5] == KIND_ERROR)
		parse_error(buf + HEAD_LEN, len - HEAD_LEN, NULL, rule, error);
	else
		malformed(error, "unknown kind");
	return FALSE;
}

gboolean
p2m_tokframe_parse(const guint8 *buf, gsize len, gint64 now, p2m_token **out, char **oauth_error,
                   const p2m_rule **rule, GError **error)
{
	*out = NULL;
	if (oauth_error != NULL)
		*oauth_error = NULL;
	if (rule != NULL)
		*rule = NULL;
	if (len > P2M_TOKFRAME_MAX || len < HEAD_LEN || memcmp(buf, MAGIC, 4) != 0 || buf[4] != FRAME_VERSION) {
		malformed(error, "no frame header");
		return FALSE;
	}
	if (buf[5] == KIND_TOKEN)
		return parse_token(buf + HEAD_LEN, len - HEAD_LEN, now, out, error);
	if (buf[5] == KIND_ERROR)
		parse_error(buf + HEAD_LEN, len - HEAD_LEN, oauth_error, rule, error);
	else
		malformed(error, "unknown kind");
	return FALSE;
}
