/* SPDX-License-Identifier: Apache-2.0 */
/* test-addr.c - unit tests of p2m-addr: validation, recipient lists, allowed_recipients. */
#include "config.h"

#include <string.h>

#include "p2m-addr.h"
#include "p2m-error.h"

static void
test_valid(void)
{
	static const char *const good[] = {
		"bob@contoso.com", "a@b.co", "first.last@mail.contoso.com",
		"o'brien+scan@contoso.com", "x_y-z@sub-domain.example.org",
		"!#$%&'*+-/=?^_`{|}~@x.org", "UPPER@CONTOSO.COM",
		"1234567890123456789012345678901234567890123456789012345678901234@x.com",
		NULL
	};
	gsize i;

	for (i = 0; good[i] != NULL; i++) {
		g_test_message("%s", good[i]);
		g_assert_true(p2m_addr_is_valid(good[i]));
		g_assert_true(p2m_addr_check(good[i], NULL));
	}
}

static void
test_invalid(void)
{
	g_autofree char *local65 = g_strnfill(65, 'a');
	g_autofree char *addr65 = g_strconcat(local65, "@x.com", NULL);
	g_autofree char *label64 = g_strnfill(64, 'b');
	g_autofree char *longlabel = g_strconcat("a@", label64, ".com", NULL);
	g_autofree char *l63 = g_strnfill(63, 'c');
	/* 64 + 1 + 4 * 64 - 1 = 320 > 254, every piece valid on its own */
	g_autofree char *toolong = g_strdup_printf("%.64s@%s.%s.%s.%s", local65, l63, l63, l63, l63);
	const char *bad[] = {
		"", "bob", "bob@", "@contoso.com", "bob@contoso", "bob@@contoso.com",
		"a@b.com\r\nBcc: x@y.com", "a@b.com,evil@x.org", "a@b.com evil@x.org",
		"a@b.com\n", "a@b.com\r", " a@b.com", "a@b.com ", "a\t@b.com",
		"\"quoted\"@b.com", "<a@b.com>", "Bob <a@b.com>", "a@[10.0.0.1]",
		"a..b@c.com", ".a@c.com", "a.@c.com", "a@c..com", "a@.c.com", "a@c.com.",
		"a@-c.com", "a@c-.com", "a@c_d.com", "a(comment)@c.com", "a@c.com;b@d.com",
		"jos\xc3\xa9@c.com", "a@c\xc3\xa9.com", "a\x01@c.com", "a\x7f@c.com",
		addr65, longlabel, toolong, NULL
	};
	gsize i;

	for (i = 0; bad[i] != NULL; i++) {
		g_autoptr(GError) err = NULL;

		g_test_message("%s", bad[i]);
		g_assert_false(p2m_addr_is_valid(bad[i]));
		g_assert_false(p2m_addr_check(bad[i], &err));
		g_assert_error(err, P2M_ERROR, P2M_E_ADDRESS);
		/* the message shows the address with controls escaped, never raw */
		g_assert_null(strchr(err->message, '\r'));
		g_assert_null(strchr(err->message, '\n'));
	}
	g_assert_false(p2m_addr_is_valid(NULL));
	g_assert_cmpuint(strlen(addr65), ==, 71);
}

static void
test_split_domain(void)
{
	g_autofree char *local = NULL, *domain = NULL, *norm = NULL;

	g_assert_cmpstr(p2m_addr_domain("bob@Contoso.COM"), ==, "Contoso.COM");
	g_assert_null(p2m_addr_domain("bob"));
	g_assert_true(p2m_addr_split("Bob.Smith@Contoso.COM", &local, &domain));
	g_assert_cmpstr(local, ==, "Bob.Smith");
	g_assert_cmpstr(domain, ==, "Contoso.COM");
	g_clear_pointer(&local, g_free);
	g_clear_pointer(&domain, g_free);
	g_assert_false(p2m_addr_split("x@y", &local, &domain));
	g_assert_null(local);
	g_assert_null(domain);
	norm = p2m_addr_normalize("Bob.Smith@Contoso.COM");
	g_assert_cmpstr(norm, ==, "Bob.Smith@contoso.com");
	g_assert_null(p2m_addr_normalize("nope"));
	g_assert_true(p2m_addr_domain_is_valid("contoso.com"));
	g_assert_false(p2m_addr_domain_is_valid("contoso"));
}

static void
test_list(void)
{
	static const struct {
		const char *in;
		const char *out;   /* joined by '|', NULL = error */
	} cases[] = {
		{ "a@x.com", "a@x.com" },
		{ "a@x.com,b@y.com", "a@x.com|b@y.com" },
		{ "a@x.com; b@y.com  c@z.com\t,d@w.com", "a@x.com|b@y.com|c@z.com|d@w.com" },
		{ " ,;a@X.COM,,", "a@x.com" },
		{ "a@x.com,A@x.com,a@X.com,b@y.com", "a@x.com|b@y.com" },
		{ "", "" },
		{ " , ; ", "" },
		{ "a@x.com,bob", NULL },
		{ "a@x.com,b@y.com\r\nBcc: c@z.com", NULL },
		{ "a@x.com,<b@y.com>", NULL },
		{ "a@x.com,\"b\"@y.com", NULL },
	};
	gsize i;

	for (i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) err = NULL;
		g_auto(GStrv) v = p2m_addr_parse_list(cases[i].in, &err);

		g_test_message("list '%s'", cases[i].in);
		if (cases[i].out == NULL) {
			g_assert_null(v);
			g_assert_error(err, P2M_ERROR, P2M_E_ADDRESS);
		} else {
			g_autofree char *joined = NULL;

			g_assert_no_error(err);
			joined = g_strjoinv("|", v);
			g_assert_cmpstr(joined, ==, cases[i].out);
		}
	}
}

static void
test_list_names_bad_entry(void)
{
	g_autoptr(GError) err = NULL;
	g_auto(GStrv) v = p2m_addr_parse_list("good@x.com,bad@@x.com", &err);

	g_assert_null(v);
	g_assert_error(err, P2M_ERROR, P2M_E_ADDRESS);
	g_assert_nonnull(strstr(err->message, "bad@@x.com"));
}

static void
test_list_cap(void)
{
	g_autoptr(GString) list = g_string_new(NULL);
	g_autoptr(GError) err = NULL;
	g_auto(GStrv) ok = NULL;
	g_auto(GStrv) over = NULL;
	int i;

	for (i = 0; i < P2M_ADDR_MAX_RECIPIENTS; i++)
		g_string_append_printf(list, "u%d@x.com,", i);
	ok = p2m_addr_parse_list(list->str, &err);
	g_assert_no_error(err);
	g_assert_cmpuint(g_strv_length(ok), ==, P2M_ADDR_MAX_RECIPIENTS);
	/* duplicates do not count against the cap */
	g_string_append(list, "u0@x.com,U1@X.COM");
	g_strfreev(p2m_addr_parse_list(list->str, &err));
	g_assert_no_error(err);
	g_string_append(list, ",one-more@x.com");
	over = p2m_addr_parse_list(list->str, &err);
	g_assert_null(over);
	g_assert_error(err, P2M_ERROR, P2M_E_ADDRESS);
	g_assert_nonnull(strstr(err->message, "too many"));
}

static void
test_allowed(void)
{
	static const char *const exact[] = { "bob@contoso.com", NULL };
	static const char *const domain[] = { "contoso.com", NULL };
	static const char *const at_domain[] = { "@contoso.com", NULL };
	static const char *const star_domain[] = { "*@contoso.com", NULL };
	static const char *const subs[] = { "*.contoso.com", NULL };
	static const char *const star_subs[] = { "*@*.contoso.com", NULL };
	static const char *const any[] = { "*", NULL };
	static const char *const several[] = { " fabrikam.com ", "alice@partner.org", NULL };
	static const char *const none[] = { NULL };
	static const struct {
		const char        *addr;
		const char *const *patterns;
		const char        *sender_domain;
		gboolean           allowed;
	} cases[] = {
		{ "bob@contoso.com", exact, NULL, TRUE },
		{ "BOB@Contoso.Com", exact, NULL, TRUE },
		{ "alice@contoso.com", exact, NULL, FALSE },
		{ "bob@contoso.com.evil.org", exact, NULL, FALSE },
		{ "alice@contoso.com", domain, NULL, TRUE },
		{ "alice@CONTOSO.COM", domain, NULL, TRUE },
		{ "alice@eu.contoso.com", domain, NULL, FALSE },
		{ "alice@evilcontoso.com", domain, NULL, FALSE },
		{ "alice@contoso.com", at_domain, NULL, TRUE },
		{ "alice@contoso.org", at_domain, NULL, FALSE },
		{ "alice@contoso.com", star_domain, NULL, TRUE },
		{ "alice@eu.contoso.com", star_domain, NULL, FALSE },
		{ "alice@eu.contoso.com", subs, NULL, TRUE },
		{ "alice@a.b.contoso.com", subs, NULL, TRUE },
		{ "alice@contoso.com", subs, NULL, FALSE },
		{ "alice@evilcontoso.com", subs, NULL, FALSE },
		{ "alice@eu.contoso.com", star_subs, NULL, TRUE },
		{ "anyone@anywhere.net", any, NULL, TRUE },
		{ "x@fabrikam.com", several, NULL, TRUE },
		{ "alice@partner.org", several, NULL, TRUE },
		{ "bob@partner.org", several, NULL, FALSE },
		/* nothing configured: the sender's domain */
		{ "alice@contoso.com", NULL, "contoso.com", TRUE },
		{ "alice@Contoso.com", none, "CONTOSO.com", TRUE },
		{ "alice@fabrikam.com", NULL, "contoso.com", FALSE },
		{ "alice@eu.contoso.com", NULL, "contoso.com", FALSE },
		{ "alice@contoso.com", NULL, NULL, FALSE },
		/* an invalid address is never allowed, not even by "*" */
		{ "a@b.com\r\nBcc: x@y.com", any, NULL, FALSE },
		{ "bob", any, NULL, FALSE },
	};
	gsize i;

	for (i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_test_message("%s vs %s", cases[i].addr,
		               cases[i].patterns && cases[i].patterns[0] ? cases[i].patterns[0] : "(default)");
		g_assert_cmpint(p2m_addr_allowed(cases[i].addr, cases[i].patterns, cases[i].sender_domain),
		                ==, cases[i].allowed);
	}
}

static void
test_first_denied(void)
{
	static const char *const pats[] = { "contoso.com", NULL };
	static const char *const all_ok[] = { "a@contoso.com", "b@contoso.com", NULL };
	static const char *const one_bad[] = { "a@contoso.com", "eve@evil.org", "b@contoso.com", NULL };

	g_assert_null(p2m_addr_first_denied(all_ok, pats, NULL));
	g_assert_cmpstr(p2m_addr_first_denied(one_bad, pats, NULL), ==, "eve@evil.org");
	g_assert_cmpstr(p2m_addr_first_denied(one_bad, NULL, "evil.org"), ==, "a@contoso.com");
}

static void
test_pattern_valid(void)
{
	static const char *const good[] = { "*", "contoso.com", "@contoso.com", "*@contoso.com",
	                                    "*.contoso.com", "*@*.contoso.com", "bob@contoso.com", NULL };
	static const char *const bad[] = { "", "**", "contoso", "*@", "@", "bob@", "*.", "con toso.com",
	                                   "bob@@contoso.com", "a*b.com", NULL };
	gsize i;

	for (i = 0; good[i]; i++)
		g_assert_true(p2m_addr_pattern_is_valid(good[i]));
	for (i = 0; bad[i]; i++) {
		g_test_message("pattern '%s'", bad[i]);
		g_assert_false(p2m_addr_pattern_is_valid(bad[i]));
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/addr/valid", test_valid);
	g_test_add_func("/addr/invalid", test_invalid);
	g_test_add_func("/addr/split-domain", test_split_domain);
	g_test_add_func("/addr/list", test_list);
	g_test_add_func("/addr/list-names-bad-entry", test_list_names_bad_entry);
	g_test_add_func("/addr/list-cap", test_list_cap);
	g_test_add_func("/addr/allowed", test_allowed);
	g_test_add_func("/addr/first-denied", test_first_denied);
	g_test_add_func("/addr/pattern-valid", test_pattern_valid);
	return g_test_run();
}
