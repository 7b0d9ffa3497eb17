/* SPDX-License-Identifier: Apache-2.0 */
/* test-unpriv.c - unit tests for the unprivileged child (p2m-unpriv) and the token answer it hands back (p2m-tokframe). */
#include "config.h"

#include <glib.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "p2m-error.h"
#include "p2m-secret.h"
#include "p2m-tokframe.h"
#include "p2m-unpriv.h"

/* ---- p2m-unpriv ---------------------------------------------------------------- */

/* Echo the request, then who we are and whether we are dumpable. */
static void
fn_echo(const guint8 *req, gsize len, GByteArray *reply)
{
	char who[64];

	g_byte_array_append(reply, req, (guint) len);
	g_snprintf(who, sizeof(who), " uid=%u dumpable=%d", (unsigned) geteuid(), prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
	g_byte_array_append(reply, (const guint8 *) who, (guint) strlen(who));
}

static void
fn_len(const guint8 *req, gsize len, GByteArray *reply)
{
	char n[32];

	g_snprintf(n, sizeof(n), "%" G_GSIZE_FORMAT, len);
	g_byte_array_append(reply, (const guint8 *) n, (guint) strlen(n));
}

static void
fn_crash(const guint8 *req, gsize len, GByteArray *reply)
{
	raise(SIGSEGV);
}

static void
fn_huge(const guint8 *req, gsize len, GByteArray *reply)
{
	g_byte_array_set_size(reply, P2M_UNPRIV_REPLY_MAX + 1);
}

static void
fn_hang(const guint8 *req, gsize len, GByteArray *reply)
{
	for (;;)
		pause();
}

static void
test_run_echo(void)
{
	g_autoptr(GError) error = NULL;
	GByteArray *reply = NULL;
	g_autofree char *text = NULL;

	g_assert_true(p2m_unpriv_run(fn_echo, (const guint8 *) "hello", 5, 10, &reply, &error));
	g_assert_no_error(error);
	text = g_strndup((const char *) reply->data, reply->len);
	g_assert_true(g_str_has_prefix(text, "hello uid="));
	/* As root the child is lp, never root; not dumpable either way. */
	if (geteuid() == 0)
		g_assert_null(strstr(text, "uid=0 "));
	g_test_message("%s", text);
	g_assert_nonnull(strstr(text, "dumpable=0"));
	p2m_unpriv_reply_free(reply);
}

static void
test_run_failures(void)
{
	GByteArray *reply = NULL;
	GError *error = NULL;

	g_assert_false(p2m_unpriv_run(fn_crash, NULL, 0, 10, &reply, &error));
	g_assert_error(error, P2M_ERROR, P2M_E_INTERNAL);
	g_assert_null(reply);
	g_clear_error(&error);
	g_assert_false(p2m_unpriv_run(fn_huge, NULL, 0, 10, &reply, &error));
	g_assert_error(error, P2M_ERROR, P2M_E_INTERNAL);
	g_clear_error(&error);
	/* alarm() in the child ends it; the parent's deadline is a backstop */
	g_assert_false(p2m_unpriv_run(fn_hang, NULL, 0, 1, &reply, &error));
	g_assert_nonnull(error);
	g_assert_null(reply);
	g_clear_error(&error);
}

/* The same through the helper's spawner, with a request bigger than any
 * socket buffer (a CA bundle); runs last, since it changes the mode for
 * the rest of the process. */
static void
test_spawner(void)
{
	gsize big = 1024 * 1024;
	g_autofree guint8 *req = g_malloc(big);
	GByteArray *reply = NULL;
	GError *error = NULL;

	memset(req, 'x', big);
	g_assert_true(p2m_unpriv_start_spawner(&error));
	g_assert_no_error(error);
	g_assert_cmpint(p2m_unpriv_spawner_pid(), >, 0);
	g_assert_true(p2m_unpriv_run(fn_echo, (const guint8 *) "hello", 5, 10, &reply, &error));
	g_assert_no_error(error);
	g_assert_cmpmem(reply->data, 10, "hello uid=", 10);
	if (geteuid() == 0)
		g_assert_null(g_strstr_len((const char *) reply->data, reply->len, "uid=0 "));
	p2m_unpriv_reply_free(reply);
	/* fn_len answers how many bytes it got */
	g_assert_true(p2m_unpriv_run(fn_len, req, big, 10, &reply, &error));
	g_assert_no_error(error);
	g_assert_cmpmem(reply->data, reply->len, "1048576", 7);
	p2m_unpriv_reply_free(reply);
	g_assert_false(p2m_unpriv_run(fn_crash, NULL, 0, 10, &reply, &error));
	g_assert_error(error, P2M_ERROR, P2M_E_INTERNAL);
	g_clear_error(&error);
	/* still serving after a child crashed */
	g_assert_true(p2m_unpriv_run(fn_echo, (const guint8 *) "again", 5, 10, &reply, &error));
	p2m_unpriv_reply_free(reply);
}

static void
test_fields(void)
{
	g_autoptr(GByteArray) b = g_byte_array_new();
	const guint8 *p, *d;
	gsize left, n;

	p2m_unpriv_put(b, "abc", 3);
	p2m_unpriv_put(b, "", 0);
	g_assert_cmpuint(b->len, ==, p2m_unpriv_field_size(3) + p2m_unpriv_field_size(0));
	p = b->data;
	left = b->len;
	g_assert_true(p2m_unpriv_get(&p, &left, 16, &d, &n));
	g_assert_cmpmem(d, n, "abc", 3);
	g_assert_true(p2m_unpriv_get(&p, &left, 16, &d, &n));
	g_assert_cmpuint(n, ==, 0);
	g_assert_cmpuint(left, ==, 0);
	g_assert_false(p2m_unpriv_get(&p, &left, 16, &d, &n));
	/* over MAX, or longer than what is left */
	p = b->data;
	left = b->len;
	g_assert_false(p2m_unpriv_get(&p, &left, 2, &d, &n));
	left = 5;
	g_assert_false(p2m_unpriv_get(&p, &left, 16, &d, &n));
}

/* ---- p2m-tokframe ------------------------------------------------------------- */

static void
test_frame_token(void)
{
	g_autoptr(GByteArray) b = g_byte_array_new();
	g_autoptr(p2m_token) in = g_new0(p2m_token, 1);
	g_autoptr(p2m_token) out = NULL;
	g_autoptr(GError) error = NULL;
	const p2m_rule *rule = NULL;

	in->access_token = p2m_secret_new("eyJ0.eyJh.c2ln", 14);
	in->refresh_token = p2m_secret_new("0.AAA-rt", 8);
	in->obtained_at = 50;
	in->expires_at = 3649;
	p2m_tokframe_put_token(b, in);
	g_assert_true(p2m_tokframe_parse(b->data, b->len, 1000, &out, NULL, &rule, &error));
	g_assert_no_error(error);
	g_assert_cmpstr(out->access_token->data, ==, "eyJ0.eyJh.c2ln");
	g_assert_cmpstr(out->refresh_token->data, ==, "0.AAA-rt");
	/* root's clock, not the child's */
	g_assert_cmpint(out->obtained_at, ==, 1000);
	g_assert_cmpint(out->expires_at, ==, 4599);
	g_clear_pointer(&out, p2m_token_free);
	/* no refresh token */
	g_clear_pointer(&in->refresh_token, p2m_secret_free);
	g_byte_array_set_size(b, 0);
	p2m_tokframe_put_token(b, in);
	g_assert_true(p2m_tokframe_parse(b->data, b->len, 1000, &out, NULL, NULL, &error));
	g_assert_null(out->refresh_token);
}

static void
test_frame_error(void)
{
	g_autoptr(GByteArray) b = g_byte_array_new();
	g_autoptr(GError) e = g_error_new_literal(P2M_ERROR, P2M_E_TOKEN, "AADSTS7000222: secret expired\r\nInjected: x");
	g_autoptr(GError) error = NULL;
	g_autofree char *oauth = NULL;
	const p2m_rule *rule = NULL;
	p2m_token *out = NULL;

	p2m_tokframe_put_error(b, e, p2m_rules_find("aad-secret-expired"), "invalid_client");
	g_assert_false(p2m_tokframe_parse(b->data, b->len, 1000, &out, &oauth, &rule, &error));
	g_assert_null(out);
	g_assert_error(error, P2M_ERROR, P2M_E_TOKEN);
	/* one line: what root logs cannot be split by the child */
	g_assert_null(strchr(error->message, '\n'));
	g_assert_nonnull(strstr(error->message, "AADSTS7000222"));
	g_assert_nonnull(rule);
	g_assert_cmpstr(rule->id, ==, "aad-secret-expired");
	g_assert_cmpstr(oauth, ==, "invalid_client");
}

static void
test_frame_device(void)
{
	g_autoptr(GByteArray) b = g_byte_array_new();
	g_autoptr(p2m_oauth_device) in = g_new0(p2m_oauth_device, 1);
	g_autoptr(p2m_oauth_device) out = NULL;
	g_autoptr(GError) error = NULL;
	p2m_token *t = NULL;

	in->device_code = g_strdup("DAQABAAEAAAD--device_code");
	in->user_code = g_strdup("HJTP-SBBP");
	in->verification_uri = g_strdup("https://microsoft.com/devicelogin");
	in->message = g_strdup("To sign in,\nuse a web browser");
	in->interval = 5;
	in->expires_at = 1900;
	p2m_tokframe_put_device(b, in, 1000);
	g_assert_true(p2m_tokframe_parse_device(b->data, b->len, 2000, &out, NULL, &error));
	g_assert_no_error(error);
	g_assert_cmpstr(out->device_code, ==, in->device_code);
	g_assert_cmpstr(out->user_code, ==, "HJTP-SBBP");
	g_assert_cmpstr(out->verification_uri, ==, in->verification_uri);
	g_assert_cmpstr(out->message, ==, "To sign in, use a web browser");
	g_assert_cmpint(out->interval, ==, 5);
	g_assert_cmpint(out->expires_at, ==, 2900);
	/* a device frame is no token, and a token frame no device code */
	g_assert_false(p2m_tokframe_parse(b->data, b->len, 2000, &t, NULL, NULL, &error));
	g_assert_error(error, P2M_ERROR, P2M_E_PROTOCOL);
	g_clear_error(&error);
	g_byte_array_set_size(b, 0);
	in->interval = 301;
	p2m_tokframe_put_device(b, in, 1000);
	g_clear_pointer(&out, p2m_oauth_device_free);
	g_assert_false(p2m_tokframe_parse_device(b->data, b->len, 2000, &out, NULL, &error));
	g_assert_error(error, P2M_ERROR, P2M_E_PROTOCOL);
}

/* A valid frame with one byte changed, cut or grown must never pass as a token it is not. */
static void
test_frame_hostile(void)
{
#define F(what, bytes) { what, bytes, sizeof(bytes) - 1 }
	static const struct {
		const char *what;
		const char *bytes;
		gsize len;
	} bad[] = {
		F("empty", ""),
		F("magic", "P2TX\1T"),
		F("version", "P2TK\2T"),
		F("kind", "P2TK\1X"),
		F("no fields", "P2TK\1T"),
		/* access "a b" (space), refresh "", lifetime "60" */
		F("space in token", "P2TK\1T\0\0\0\3a b\0\0\0\0\0\0\0\00260"),
		/* lifetime 0 */
		F("lifetime 0", "P2TK\1T\0\0\0\1a\0\0\0\0\0\0\0\0010"),
		/* lifetime 8 days */
		F("lifetime 8 days", "P2TK\1T\0\0\0\1a\0\0\0\0\0\0\0\006691200"),
		/* field length past the end */
		F("length past end", "P2TK\1T\0\0\0\11a"),
		/* trailing byte */
		F("trailing", "P2TK\1T\0\0\0\1a\0\0\0\0\0\0\0\00260!"),
		/* error code 10 (P2M_E_ADDRESS): not something a token exchange says */
		F("foreign code", "P2TK\1E\0\0\0\00210\0\0\0\0\0\0\0\0\0\0\0\1x"),
		/* P2M_E_TOKEN without a rule */
		F("refusal without rule", "P2TK\1E\0\0\0\00219\0\0\0\0\0\0\0\0\0\0\0\1x"),
		/* unknown rule */
		F("unknown rule", "P2TK\1E\0\0\0\00219\0\0\0\3zzz\0\0\0\0\0\0\0\1x"),
		/* newline in the message */
		F("newline", "P2TK\1E\0\0\0\00220\0\0\0\0\0\0\0\0\0\0\0\2x\n"),
	};
#undef F
	gsize i;

	for (i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GError) error = NULL;
		p2m_token *out = NULL;

		g_test_message("%s", bad[i].what);
		g_assert_false(p2m_tokframe_parse((const guint8 *) bad[i].bytes, bad[i].len, 1000, &out, NULL, NULL, &error));
		g_assert_null(out);
		g_assert_error(error, P2M_ERROR, P2M_E_PROTOCOL);
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/unpriv/run/echo", test_run_echo);
	g_test_add_func("/unpriv/run/failures", test_run_failures);
	g_test_add_func("/unpriv/fields", test_fields);
	g_test_add_func("/tokframe/token", test_frame_token);
	g_test_add_func("/tokframe/error", test_frame_error);
	g_test_add_func("/tokframe/device", test_frame_device);
	g_test_add_func("/tokframe/hostile", test_frame_hostile);
	g_test_add_func("/spawner/run", test_spawner);
	return g_test_run();
}
