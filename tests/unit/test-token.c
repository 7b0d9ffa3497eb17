/* SPDX-License-Identifier: Apache-2.0 */
/* test-token.c - unit tests for token replies, the token cache and its timing rules. */
#include "config.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

#include "p2m-error.h"
#include "p2m-fail.h"
#include "p2m-token.h"
#include "p2m-tokstate.h"

static p2m_token *
parse_ok(const char *json, gint64 now)
{
	g_autoptr(GError) error = NULL;
	p2m_token *t = NULL;

	g_assert_true(p2m_token_parse_response(json, strlen(json), now, &t, &error));
	g_assert_no_error(error);
	g_assert_nonnull(t);
	return t;
}

static void
test_parse_success(void)
{
	g_autoptr(p2m_token) t = parse_ok("{\"token_type\":\"Bearer\",\"scope\":\"https://outlook.office365.com/.default\","
	                                  "\"expires_in\":3599,\"ext_expires_in\":3599,"
	                                  "\"access_token\":\"eyJ0eXAi.eyJhdWQi.c2ln\",\"refresh_token\":\"0.AAA-rt_1\"}",
	                                  1000);

	g_assert_cmpstr(t->access_token->data, ==, "eyJ0eXAi.eyJhdWQi.c2ln");
	g_assert_cmpstr(t->refresh_token->data, ==, "0.AAA-rt_1");
	g_assert_cmpint(t->obtained_at, ==, 1000);
	g_assert_cmpint(t->expires_at, ==, 4599);
}

static void
test_parse_variants(void)
{
	/* Entra v1 sent expires_in as a string; client credentials give no refresh token */
	g_autoptr(p2m_token) a = parse_ok("{\"token_type\":\"bearer\",\"expires_in\":\"60\",\"access_token\":\"abc\"}", 10);
	/* a missing expires_in means the usual hour */
	g_autoptr(p2m_token) b = parse_ok("{\"access_token\":\"abc\"}", 10);

	g_assert_cmpint(a->expires_at, ==, 70);
	g_assert_null(a->refresh_token);
	g_assert_cmpint(b->expires_at, ==, 3610);
}

static void
check_refusal(const char *json, const char *expect_in_message, p2m_class cls)
{
	g_autoptr(GError) error = NULL;
	const p2m_rule *rule;
	p2m_token *t = NULL;

	g_assert_false(p2m_token_parse_response(json, strlen(json), 0, &t, &error));
	g_assert_null(t);
	g_assert_error(error, P2M_ERROR, P2M_E_TOKEN);
	/* the classified rule travels with the error */
	rule = p2m_fail_rule(error);
	g_assert_nonnull(rule);
	g_assert_cmpint(rule->source, ==, P2M_RULE_TOKEN);
	g_assert_nonnull(strstr(error->message, expect_in_message));
	/* the trace lines after the first line of the description are dropped */
	g_assert_null(strstr(error->message, "Trace ID"));
	if (cls != P2M_CLASS_NONE)
		g_assert_cmpint(rule->cls, ==, cls);
}

static void
test_parse_aadsts(void)
{
	check_refusal("{\"error\":\"invalid_client\",\"error_description\":\"AADSTS7000222: The provided client "
	              "secret keys for app 'x' are expired.\\r\\nTrace ID: 1\\r\\nCorrelation ID: 2\","
	              "\"error_codes\":[7000222],\"timestamp\":\"2025-01-01 00:00:00Z\"}",
	              "AADSTS7000222", P2M_CLASS_ACCOUNT);
	check_refusal("{\"error\":\"invalid_client\",\"error_description\":\"AADSTS7000215: Invalid client secret "
	              "provided.\\r\\nTrace ID: 1\",\"error_codes\":[7000215]}",
	              "AADSTS7000215", P2M_CLASS_ACCOUNT);
	check_refusal("{\"error\":\"invalid_grant\",\"error_description\":\"AADSTS700082: The refresh token has "
	              "expired due to inactivity.\\r\\nTrace ID: 1\",\"error_codes\":[700082]}",
	              "AADSTS700082", P2M_CLASS_NONE);
	/* codes only, no description */
	check_refusal("{\"error\":\"invalid_request\",\"error_codes\":[90002]}", "AADSTS90002", P2M_CLASS_NONE);
	/* the OAuth error alone */
	check_refusal("{\"error\":\"unauthorized_client\"}", "unauthorized_client", P2M_CLASS_NONE);
}

static void
check_malformed(const char *json, gsize len)
{
	g_autoptr(GError) error = NULL;
	p2m_token *t = NULL;

	g_assert_false(p2m_token_parse_response(json, len, 0, &t, &error));
	g_assert_null(t);
	g_assert_error(error, P2M_ERROR, P2M_E_PROTOCOL);
	g_assert_cmpstr(p2m_fail_rule(error)->id, ==, "protocol");
}

static void
test_parse_malformed(void)
{
	static const char *const cases[] = {
		"", "{", "[]", "null", "\"x\"", "{}", "{\"access_token\":5}", "{\"access_token\":\"\"}",
		"{\"access_token\":\"two words\"}", "{\"access_token\":\"quo\\\"te\"}",
		"{\"access_token\":\"a\",\"token_type\":\"mac\"}", "{\"access_token\":\"a\",\"expires_in\":-5}",
		"{\"access_token\":\"a\",\"expires_in\":0}", "{\"access_token\":\"a\",\"refresh_token\":\"r\\n\"}",
		"<html>502 Bad Gateway</html>", "{\"access_token\":\"a\"} trailing",
	};
	gsize i;

	for (i = 0; i < G_N_ELEMENTS(cases); i++)
		check_malformed(cases[i], strlen(cases[i]));
	check_malformed("{\"access_token\":\"a\0b\"}", 21);
}

static void
test_parse_huge(void)
{
	gsize n = P2M_TOKEN_RESPONSE_MAX + 1;
	g_autofree char *big = g_malloc(n + 1);
	g_autofree char *deep = NULL;
	GString *s;

	/* just over the cap: refused without looking inside */
	memset(big, ' ', n);
	memcpy(big, "{\"access_token\":\"a\"}", 20);
	big[n] = '\0';
	check_malformed(big, n);
	/* just under the cap still parses */
	{
		g_autoptr(p2m_token) t = NULL;
		g_autoptr(GError) error = NULL;

		g_assert_true(p2m_token_parse_response(big, n - 1, 0, &t, &error));
		g_assert_no_error(error);
	}
	/* deep nesting is refused before it reaches the recursive parser */
	s = g_string_new(NULL);
	while (s->len < 40000)
		g_string_append(s, "[");
	deep = g_string_free(s, FALSE);
	check_malformed(deep, strlen(deep));
}

/* ---- cache ---------------------------------------------------------------- */

static char *
make_state_dir(void)
{
	g_autoptr(GError) error = NULL;
	char *dir = g_dir_make_tmp("p2m-token-XXXXXX", &error);

	g_assert_no_error(error);
	g_assert_cmpint(g_chmod(dir, 0700), ==, 0);
	return dir;
}

static void
rm_rf(const char *dir)
{
	g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);

	g_assert_cmpint(system(cmd), ==, 0);
}

static p2m_token *
token_new(const char *access, const char *refresh, gint64 obtained, gint64 expires)
{
	p2m_token *t = g_new0(p2m_token, 1);

	t->access_token = p2m_secret_new(access, strlen(access));
	if (refresh != NULL)
		t->refresh_token = p2m_secret_new(refresh, strlen(refresh));
	t->obtained_at = obtained;
	t->expires_at = expires;
	return t;
}

static void
test_cache_roundtrip(void)
{
	g_autofree char *dir = make_state_dir();
	g_autoptr(p2m_token) t = token_new("acc.ess-tok_en", "0.refresh", 100, 3700);
	g_autoptr(p2m_token) back = NULL;
	g_autoptr(p2m_token) none = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *path = p2m_token_cache_path(dir, "user:bob");
	struct stat st;

	g_assert_true(p2m_token_load(dir, "user:bob", &none, &error));
	g_assert_no_error(error);
	g_assert_null(none);
	g_assert_true(p2m_token_save(dir, "user:bob", t, &error));
	g_assert_no_error(error);
	g_assert_cmpint(stat(path, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 07777, ==, 0600);
	g_assert_true(p2m_token_load(dir, "user:bob", &back, &error));
	g_assert_no_error(error);
	g_assert_cmpstr(back->access_token->data, ==, "acc.ess-tok_en");
	g_assert_cmpstr(back->refresh_token->data, ==, "0.refresh");
	g_assert_cmpint(back->obtained_at, ==, 100);
	g_assert_cmpint(back->expires_at, ==, 3700);
	g_assert_true(p2m_token_remove(dir, "user:bob", &error));
	g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
	rm_rf(dir);
}

static void
test_cache_refused(void)
{
	g_autofree char *dir = make_state_dir();
	g_autoptr(p2m_token) t = token_new("abc", NULL, 0, 10);
	g_autoptr(p2m_token) back = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *path = p2m_token_cache_path(dir, "scanner");

	g_assert_true(p2m_token_save(dir, "scanner", t, &error));
	/* readable by others: refused, naming the file */
	g_assert_cmpint(g_chmod(path, 0644), ==, 0);
	g_assert_false(p2m_token_load(dir, "scanner", &back, &error));
	g_assert_error(error, P2M_ERROR, P2M_E_STORE);
	g_assert_nonnull(strstr(error->message, path));
	g_clear_error(&error);
	/* damaged: refused, naming the file */
	g_assert_true(g_file_set_contents(path, "{\"access_tok", -1, NULL));
	g_assert_cmpint(g_chmod(path, 0600), ==, 0);
	g_assert_false(p2m_token_load(dir, "scanner", &back, &error));
	g_assert_error(error, P2M_ERROR, P2M_E_STORE);
	g_assert_nonnull(strstr(error->message, path));
	g_assert_null(back);
	rm_rf(dir);
}

static void
test_timing(void)
{
	g_autoptr(p2m_token) hour = token_new("a", NULL, 0, 3600);
	g_autoptr(p2m_token) tiny = token_new("a", NULL, 100, 108);
	g_autoptr(p2m_token) days = token_new("a", "r", 0, 5 * 86400);

	/* an hour-long token: backends use it until two minutes are left ... */
	g_assert_true(p2m_token_usable(hour, 3600 - P2M_TOKEN_MIN_LIFETIME));
	g_assert_false(p2m_token_usable(hour, 3600 - P2M_TOKEN_MIN_LIFETIME + 1));
	/* ... the helper renews it ten minutes before expiry */
	g_assert_cmpint(p2m_token_refresh_at(hour), ==, 3000);
	/* an 8-second token: renewed with a quarter left, usable until then */
	g_assert_cmpint(p2m_token_refresh_at(tiny), ==, 106);
	g_assert_true(p2m_token_usable(tiny, 106));
	g_assert_false(p2m_token_usable(tiny, 107));
	/* a refresh token is used at least daily, whatever the access token says */
	g_assert_cmpint(p2m_token_refresh_at(days), ==, 86400);
	g_assert_false(p2m_token_usable(NULL, 0));
}

/* ---- p2m_token_get without the network ------------------------------------ */

static p2m_config *
config_for(const char *dir, const char *account_lines)
{
	g_autofree char *text = g_strdup_printf("[global]\nstate_dir = %s\n\n[account mail]\nfrom = scan@contoso.com\n"
	                                        "auth = xoauth2\ntenant = contoso.com\nclient_id = 1234\n"
	                                        "oauth_authority = https://127.0.0.1:1\n%s",
	                                        dir, account_lines);
	g_autoptr(GError) error = NULL;
	p2m_config *cfg = p2m_config_parse(text, strlen(text), "test.conf", &error);

	g_assert_no_error(error);
	return cfg;
}

static void
test_get_cached(void)
{
	g_autofree char *dir = make_state_dir();
	g_autoptr(p2m_config) cfg = config_for(dir, "oauth_flow = client-credentials\nclient_secret_file = /nonexistent\n");
	const p2m_account *a = p2m_config_find(cfg, "mail");
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;
	g_autoptr(p2m_token) t = token_new("cached-token", NULL, now, now + 3600);
	g_autoptr(p2m_token) got = NULL;
	g_autoptr(GError) error = NULL;

	/* a fresh cached token is used as is: the endpoint (port 1) is never asked */
	g_assert_true(p2m_token_save(dir, "mail", t, &error));
	got = p2m_token_get(cfg, a, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(got->access_token->data, ==, "cached-token");
	rm_rf(dir);
}

static void
test_get_no_login(void)
{
	g_autofree char *dir = make_state_dir();
	g_autoptr(p2m_config) cfg = config_for(dir, "oauth_flow = device-code\n");
	const p2m_account *a = p2m_config_find(cfg, "mail");
	g_autoptr(p2m_tokstate) st = NULL;
	g_autoptr(GError) error = NULL;
	p2m_token *t;

	/* a delegated account nobody logged in to says how to log in */
	t = p2m_token_get(cfg, a, NULL, &error);
	g_assert_null(t);
	g_assert_error(error, P2M_ERROR, P2M_E_NO_CREDENTIAL);
	/* the admin's to fix: the queue stops, no user is asked */
	g_assert_cmpstr(p2m_fail_rule(error)->id, ==, "no-login");
	g_assert_cmpint(p2m_fail_class(error), ==, P2M_CLASS_ACCOUNT);
	g_assert_nonnull(strstr(error->message, "print2mailctl login mail"));
	/* and the status file records it for print2mailctl status */
	st = p2m_tokstate_load(dir, "mail", NULL);
	g_assert_nonnull(st);
	g_assert_nonnull(st->error_message);
	g_assert_nonnull(strstr(st->error_message, "print2mailctl login mail"));
	rm_rf(dir);
}

static void
test_status_roundtrip(void)
{
	g_autoptr(p2m_tokstate) st = p2m_tokstate_new("scanner");
	g_autoptr(p2m_tokstate) back = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *json = NULL;
	const p2m_rule *rule = p2m_rules_classify_token("invalid_client", (const long[]) { 7000222 }, 1, 401);

	p2m_tokstate_set_ok(st, 5, 3605);
	p2m_tokstate_set_error(st, 7, rule, "AADSTS7000222: expired \"secret\"");
	json = p2m_tokstate_to_json(st);
	back = p2m_tokstate_parse(json, strlen(json), &error);
	g_assert_no_error(error);
	g_assert_cmpint(back->last_refresh, ==, 5);
	g_assert_cmpint(back->expires_at, ==, 3605);
	g_assert_cmpstr(back->error_rule, ==, rule->id);
	g_assert_cmpstr(back->error_message, ==, "AADSTS7000222: expired \"secret\"");
	g_assert_true(p2m_tokstate_blocking_rule(back) == rule);
	p2m_tokstate_set_ok(back, 9, 99);
	g_assert_null(p2m_tokstate_blocking_rule(back));
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/token/parse/success", test_parse_success);
	g_test_add_func("/token/parse/variants", test_parse_variants);
	g_test_add_func("/token/parse/aadsts", test_parse_aadsts);
	g_test_add_func("/token/parse/malformed", test_parse_malformed);
	g_test_add_func("/token/parse/huge", test_parse_huge);
	g_test_add_func("/token/cache/roundtrip", test_cache_roundtrip);
	g_test_add_func("/token/cache/refused", test_cache_refused);
	g_test_add_func("/token/timing", test_timing);
	g_test_add_func("/token/get/cached", test_get_cached);
	g_test_add_func("/token/get/no-login", test_get_no_login);
	g_test_add_func("/token/status/roundtrip", test_status_roundtrip);
	return g_test_run();
}
