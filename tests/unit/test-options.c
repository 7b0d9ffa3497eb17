/* SPDX-License-Identifier: Apache-2.0 */
/* test-options.c - a job's options string read as libcups reads it, checked against libcups itself. */
#include "config.h"

#include <cups/cups.h>
#include <glib.h>
#include <string.h>

#include "p2m-options.h"

/* What libcups makes of OPTS for NAME (a new string or NULL). */
static char *
cups_value(const char *opts, const char *name)
{
	cups_option_t *options = NULL;
	int n = cupsParseOptions(opts, 0, &options);
	const char *v = cupsGetOption(name, n, options);
	char *copy = g_strdup(v);

	cupsFreeOptions(n, options);
	return copy;
}

static void
check(const char *opts, const char *name, const char *want)
{
	g_autofree char *got = p2m_options_get(opts, strlen(opts), name);
	g_autofree char *cups = cups_value(opts, name);

	if (g_strcmp0(got, want) != 0)
		g_error("[%s] %s: got %s, want %s", opts, name, got ? got : "(none)", want ? want : "(none)");
	/* the table itself must say what libcups says */
	if (g_strcmp0(cups, want) != 0)
		g_error("[%s] %s: libcups says %s, the table %s", opts, name, cups ? cups : "(none)",
			want ? want : "(none)");
}

static void
test_options_table(void)
{
	static const struct { const char *opts, *name, *want; } cases[] = {
		{ "", "mailto", NULL },
		{ "mailto=a@contoso.com", "mailto", "a@contoso.com" },
		{ "  mailto=a@contoso.com  job-uuid=x ", "mailto", "a@contoso.com" },
		{ "MailTo=a@contoso.com", "mailto", "a@contoso.com" },
		{ "mailto=a@x mailto=b@x", "mailto", "b@x" },
		{ "mailto='a@x, b@x'", "mailto", "a@x, b@x" },
		{ "mail-subject=\"Q3 report\" copies=1", "mail-subject", "Q3 report" },
		{ "mail-subject='it\\'s' x=1", "mail-subject", "it's" },
		{ "mail-subject=a\\ b", "mail-subject", "a b" },
		{ "mail-subject=a'b c'd", "mail-subject", "a'b" },
		{ "mail-subject='a b'\"c d\"", "mail-subject", "a bc d" },
		{ "mailto=a,b", "mailto", "a,b" },
		{ "media-col={media-size={x-dimension=1 y-dimension=2}} mailto=z", "media-col",
		  "{media-size={x-dimension=1 y-dimension=2}}" },
		{ "media-col={a=\\} b} mailto=z", "mailto", "z" },
		{ "media-col={a=\\} b} mailto=z", "media-col", "{a=} b}" },
		{ "{mailto=a b=c}", "mailto", "a" },
		{ "{mailto=a b=c", "{mailto", "a" },
		{ "mailto = a", "mailto", "" },
		{ "mailto = a", "a", "true" },
		{ "landscape", "landscape", "true" },
		{ "nolandscape", "landscape", "false" },
		{ "NOmailto", "mailto", "false" },
		{ "no", "no", NULL },
		{ "n", "n", "true" },
		{ "=x mailto=a", "mailto", NULL },
		{ "mailto=", "mailto", "" },
		{ "mailto='unterminated", "mailto", "unterminated" },
		{ "mailto=a\tmailcc=b\nmail-subject=c", "mailcc", "b" },
		{ "mailto=a\\", "mailto", "a\\" },
		{ "mailto=\"a\\\"b\"", "mailto", "a\"b" },
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++)
		check(cases[i].opts, cases[i].name, cases[i].want);
}

/* LEN bounds the read: a longer string is cut, a NUL ends it earlier. */
static void
test_options_bounded(void)
{
	g_autofree char *a = p2m_options_get("mailto=abcdef", 10, "mailto");
	g_autofree char *b = p2m_options_get("mailto=abc\0mailcc=x", 20, "mailcc");

	g_assert_cmpstr(a, ==, "abc");
	g_assert_null(b);
	g_assert_null(p2m_options_get(NULL, 5, "mailto"));
	g_assert_null(p2m_options_get("mailto=a", 8, ""));
}

/* Random strings from the characters that matter, against libcups. */
static void
test_options_random(void)
{
	static const char alphabet[] = "ab=no '\"\\{},\t";
	static const char *names[] = { "a", "b", "ab", "no", "o", "{a", "a}", "b}" };
	GRand *rand = g_rand_new_with_seed(20261207);
	char s[24];

	for (int round = 0; round < 200000; round++) {
		int len = g_rand_int_range(rand, 0, (gint32) sizeof s);

		for (int i = 0; i < len; i++)
			s[i] = alphabet[g_rand_int_range(rand, 0, (gint32) sizeof alphabet - 1)];
		s[len] = '\0';
		for (gsize k = 0; k < G_N_ELEMENTS(names); k++) {
			g_autofree char *got = p2m_options_get(s, (gsize) len, names[k]);
			g_autofree char *cups = cups_value(s, names[k]);

			if (g_strcmp0(got, cups) != 0)
				g_error("[%s] %s: got %s, libcups %s", s, names[k], got ? got : "(none)",
					cups ? cups : "(none)");
		}
	}
	g_rand_free(rand);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/options/table", test_options_table);
	g_test_add_func("/options/bounded", test_options_bounded);
	g_test_add_func("/options/random-against-libcups", test_options_random);
	return g_test_run();
}
