/* SPDX-License-Identifier: Apache-2.0 */
/* test-smtp.c - unit tests of the SMTP dialogue tracker (which refusal is kept, which step it answered, no secret looked at) and the EHLO line helpers. */
#include "config.h"

#include <string.h>

#include <glib.h>

#include "p2m-smtp.h"

static void
reply(p2m_smtp_tracker *t, const char *line)
{
	p2m_smtp_tracker_reply_line(t, line, strlen(line));
}

static void
command(p2m_smtp_tracker *t, const char *line)
{
	p2m_smtp_tracker_command(t, line, strlen(line));
}

/* The usual start of a Microsoft 365 session, up to AUTH. */
static void
session_start(p2m_smtp_tracker *t)
{
	reply(t, "220 SN2PR00CA0018.outlook.office365.com Microsoft ESMTP MAIL Service ready\r\n");
	command(t, "EHLO host\r\n");
	reply(t, "250-SN2PR00CA0018.outlook.office365.com Hello [127.0.0.1]\r\n");
	reply(t, "250-STARTTLS\r\n");
	reply(t, "250 SMTPUTF8\r\n");
	command(t, "STARTTLS\r\n");
	reply(t, "220 2.0.0 SMTP server ready\r\n");
	command(t, "EHLO host\r\n");
	reply(t, "250-AUTH LOGIN XOAUTH2\r\n");
	reply(t, "250 SMTPUTF8\r\n");
}

static void
test_auth_refused(void)
{
	g_autoptr(p2m_smtp_tracker) t = p2m_smtp_tracker_new();
	p2m_smtp_stage stage;
	int code;
	const char *r;

	session_start(t);
	command(t, "AUTH LOGIN\r\n");
	reply(t, "334 VXNlcm5hbWU6\r\n");
	command(t, "c2Nhbm5lckBjb250b3NvLmNvbQ==\r\n");
	reply(t, "334 UGFzc3dvcmQ6\r\n");
	/* a password whose base64 looks like a verb must not move the stage */
	command(t, "DATA\r\n");
	reply(t, "535 5.7.139 Authentication unsuccessful, the user credentials were incorrect. [PH0PR07CA0004.namprd07.prod.outlook.com]\r\n");
	command(t, "QUIT\r\n");
	reply(t, "221 2.0.0 Service closing transmission channel\r\n");
	r = p2m_smtp_tracker_refusal(t, &stage, &code);
	g_assert_cmpstr(r, ==, "535 5.7.139 Authentication unsuccessful, the user credentials were incorrect. [PH0PR07CA0004.namprd07.prod.outlook.com]");
	g_assert_cmpint(stage, ==, P2M_SMTP_STAGE_AUTH);
	g_assert_cmpint(code, ==, 535);
}

/* Google-style XOAUTH2 refusal: a 334 with a JSON error before the 535.
 * The 535 after it is read untracked, so the challenge is the refusal. */
static void
test_xoauth2_challenge(void)
{
	g_autoptr(p2m_smtp_tracker) t = p2m_smtp_tracker_new();
	p2m_smtp_stage stage;
	int code;

	session_start(t);
	command(t, "AUTH XOAUTH2 dXNlcj1hAWF1dGg9QmVhcmVyIHNlY3JldAEB\r\n");
	/* base64 of {"status":"400","schemes":"Bearer"} */
	reply(t, "334 eyJzdGF0dXMiOiI0MDAiLCJzY2hlbWVzIjoiQmVhcmVyIn0=\r\n");
	g_assert_cmpstr(p2m_smtp_tracker_refusal(t, &stage, &code), ==, "334 {\"status\":\"400\",\"schemes\":\"Bearer\"}");
	g_assert_cmpint(stage, ==, P2M_SMTP_STAGE_AUTH);
	g_assert_cmpint(code, ==, 334);
	/* when the 535 does come, it is the refusal */
	command(t, "\r\n");
	reply(t, "535 5.7.3 Authentication unsuccessful\r\n");
	g_assert_cmpstr(p2m_smtp_tracker_refusal(t, NULL, &code), ==, "535 5.7.3 Authentication unsuccessful");
}

/* AUTH LOGIN's own challenges are never refusals. */
static void
test_login_challenges_not_refusals(void)
{
	g_autoptr(p2m_smtp_tracker) t = p2m_smtp_tracker_new();

	session_start(t);
	command(t, "AUTH LOGIN\r\n");
	reply(t, "334 VXNlcm5hbWU6\r\n");
	reply(t, "334 UGFzc3dvcmQ6\r\n");
	reply(t, "235 2.7.0 Authentication successful\r\n");
	g_assert_null(p2m_smtp_tracker_refusal(t, NULL, NULL));
}

/* Stuff IN as pieces of CUT bytes; the wire form with its end. */
static char *
stuffed(const char *in, gsize cut)
{
	GString *out = g_string_new(NULL);
	p2m_smtp_stuffer st;
	gsize len = strlen(in), off;

	p2m_smtp_stuffer_init(&st);
	for (off = 0; off < len; off += cut) {
		gsize n = MIN(cut, len - off);
		char buf[64];

		g_assert_cmpuint(n * 2, <=, sizeof(buf));
		g_string_append_len(out, buf, (gssize) p2m_smtp_stuff(&st, in + off, n, buf));
	}
	g_string_append(out, p2m_smtp_stuff_end(&st));
	return g_string_free(out, FALSE);
}

/* RFC 5321 4.5.2, whatever the pieces: a "." starting a line is doubled
 * (the message's first line too), the end is a "." alone on its line. */
static void
test_stuffing(void)
{
	static const struct { const char *in, *want; } cases[] = {
		{ "a\r\nb\r\n", "a\r\nb\r\n.\r\n" },
		{ "a\r\nb", "a\r\nb\r\n.\r\n" },
		{ ".x\r\n", "..x\r\n.\r\n" },
		{ "a\r\n.\r\n..\r\n", "a\r\n..\r\n...\r\n.\r\n" },
		{ "a\n.b\r\n", "a\n.b\r\n.\r\n" },      /* only after CRLF: the source makes every LF one */
		{ "a.\r\nb.c\r\n", "a.\r\nb.c\r\n.\r\n" },
		{ "a\r\r\n.\r\n", "a\r\r\n..\r\n.\r\n" },
		{ "", ".\r\n" },
	};
	gsize i, cut;

	for (i = 0; i < G_N_ELEMENTS(cases); i++)
		for (cut = 1; cut <= 8; cut++) {
			g_autofree char *got = stuffed(cases[i].in, cut);

			g_assert_cmpstr(got, ==, cases[i].want);
		}
}

static void
test_rcpt_and_multiline(void)
{
	g_autoptr(p2m_smtp_tracker) t = p2m_smtp_tracker_new();
	p2m_smtp_stage stage;
	int code;

	session_start(t);
	command(t, "AUTH XOAUTH2 dXNlcj1hAWF1dGg9QmVhcmVyIHNlY3JldAEB\r\n");
	reply(t, "235 2.7.0 Authentication successful\r\n");
	command(t, "MAIL FROM:<scanner@contoso.com>\r\n");
	reply(t, "250 2.1.0 Sender OK\r\n");
	command(t, "RCPT TO:<nobody@contoso.com>\r\n");
	reply(t, "550-5.1.10 RESOLVER.ADR.RecipientNotFound;\r\n");
	reply(t, "550 Recipient not found by SMTP address lookup\r\n");
	g_assert_cmpstr(p2m_smtp_tracker_refusal(t, &stage, &code), ==,
	                "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup");
	g_assert_cmpint(stage, ==, P2M_SMTP_STAGE_RCPT);
	g_assert_cmpint(code, ==, 550);
}

static void
test_data_end(void)
{
	g_autoptr(p2m_smtp_tracker) t = p2m_smtp_tracker_new();
	p2m_smtp_stage stage;

	session_start(t);
	command(t, "AUTH LOGIN\r\n");
	reply(t, "235 2.7.0 Authentication successful\r\n");
	command(t, "MAIL FROM:<a@contoso.com>\r\n");
	reply(t, "250 2.1.0 Sender OK\r\n");
	command(t, "RCPT TO:<b@contoso.com>\r\n");
	reply(t, "250 2.1.5 Recipient OK\r\n");
	command(t, "DATA\r\n");
	reply(t, "354 Start mail input; end with <CRLF>.<CRLF>\r\n");
	g_assert_null(p2m_smtp_tracker_refusal(t, NULL, NULL));
	reply(t, "550 5.7.60 SMTP; Client does not have permissions to send as this sender [MW2PR1901MB2155.namprd19.prod.outlook.com]\r\n");
	g_assert_nonnull(p2m_smtp_tracker_refusal(t, &stage, NULL));
	g_assert_cmpint(stage, ==, P2M_SMTP_STAGE_DATA_END);
}

static void
test_greeting_refused(void)
{
	g_autoptr(p2m_smtp_tracker) t = p2m_smtp_tracker_new();
	p2m_smtp_stage stage;

	reply(t, "421 4.3.2 Service not active [TYAPR01CA0229.jpnprd01.prod.outlook.com]\r\n");
	g_assert_nonnull(p2m_smtp_tracker_refusal(t, &stage, NULL));
	g_assert_cmpint(stage, ==, P2M_SMTP_STAGE_CONNECT);
}

/* Controls and invalid UTF-8 from a server never reach a CUPS line; length is capped. */
static void
test_hostile_reply(void)
{
	g_autoptr(p2m_smtp_tracker) t = p2m_smtp_tracker_new();
	g_autofree char *huge = NULL;
	GString *s = g_string_new("550 ");
	const char *r;
	int i;

	reply(t, "550 5.7.1 bad\x01\x1b[31m \xff\xfe text\r\n");
	r = p2m_smtp_tracker_refusal(t, NULL, NULL);
	g_assert_true(g_utf8_validate(r, -1, NULL));
	for (i = 0; r[i] != '\0'; i++)
		g_assert_cmpint((unsigned char) r[i], >=, 0x20);
	for (i = 0; i < 100; i++)
		g_string_append(s, "x");
	for (i = 0; i < 100; i++)
		reply(t, "550-5.7.1 continuation line with some text in it to pass the cap\r\n");
	huge = g_string_free(s, FALSE);
	reply(t, huge);
	g_assert_cmpuint(strlen(p2m_smtp_tracker_refusal(t, NULL, NULL)), <=, P2M_SMTP_REPLY_MAX);
}

/* RFC 1870's SIZE in an EHLO reply: the limit, no limit, or not a SIZE line. */
static void
test_ehlo_size(void)
{
	static const struct { const char *line; gboolean ok; guint64 size; } cases[] = {
		{ "250-SIZE 157286400\r\n", TRUE, 157286400 },
		{ "250 SIZE 36700160\r\n", TRUE, 36700160 },
		{ "250-size 1000", TRUE, 1000 },
		{ "250-Size  42 \r\n", TRUE, 42 },
		{ "250-SIZE\r\n", TRUE, 0 },
		{ "250-SIZE 0\r\n", TRUE, 0 },
		{ "250-SIZE 18446744073709551615\r\n", TRUE, G_MAXUINT64 },
		{ "250-SIZE 18446744073709551616\r\n", FALSE, 0 },
		{ "250-SIZE 99999999999999999999999\r\n", FALSE, 0 },
		{ "250-SIZE -1\r\n", FALSE, 0 },
		{ "250-SIZE 12x\r\n", FALSE, 0 },
		{ "250-SIZE 1 2\r\n", FALSE, 0 },
		{ "250-SIZE12\r\n", FALSE, 0 },
		{ "250-SIZEX 12\r\n", FALSE, 0 },
		{ "250-SMTPUTF8\r\n", FALSE, 0 },
		{ "550-SIZE 12\r\n", FALSE, 0 },
		{ "250SIZE 12\r\n", FALSE, 0 },
		{ "250-SIZ", FALSE, 0 },
		{ "", FALSE, 0 },
	};
	gsize i;

	for (i = 0; i < G_N_ELEMENTS(cases); i++) {
		guint64 size = 7;

		g_test_message("%s", cases[i].line);
		g_assert_cmpint(p2m_smtp_parse_ehlo_size(cases[i].line, strlen(cases[i].line), &size), ==, cases[i].ok);
		g_assert_cmpuint(size, ==, cases[i].size);
	}
	/* bounded by LEN, not by a NUL: "250-SIZE 12" of a longer buffer */
	{
		guint64 size = 0;

		g_assert_true(p2m_smtp_parse_ehlo_size("250-SIZE 1234", 11, &size));
		g_assert_cmpuint(size, ==, 12);
	}
}

static void
test_stage_names(void)
{
	g_assert_cmpstr(p2m_smtp_stage_name(P2M_SMTP_STAGE_DATA_END), ==, "data_end");
	g_assert_cmpstr(p2m_smtp_stage_name(P2M_SMTP_STAGE__COUNT), ==, "unknown");
}

/* Which EHLO lines offer the mechanism print2mail pinned. */
static void
test_ehlo_auth(void)
{
	static const struct { const char *line, *mech; int want; } cases[] = {
		{ "250-AUTH LOGIN XOAUTH2\r\n", "LOGIN", 1 },
		{ "250-AUTH LOGIN XOAUTH2\r\n", "XOAUTH2", 1 },
		{ "250 auth login xoauth2", "XOAUTH2", 1 },
		{ "250-AUTH=LOGIN PLAIN\r\n", "LOGIN", 1 },
		{ "250-AUTH PLAIN\r\n", "LOGIN", 0 },
		{ "250-AUTH PLAIN LOGINX\r\n", "LOGIN", 0 },
		{ "250-AUTH XOAUTH2\r\n", "LOGIN", 0 },
		{ "250-AUTH\r\n", "LOGIN", 0 },
		{ "250-AUTHX LOGIN\r\n", "LOGIN", -1 },
		{ "250-SIZE 157286400\r\n", "LOGIN", -1 },
		{ "250-STARTTLS", "LOGIN", -1 },
		{ "250-AUT", "LOGIN", -1 },
		{ "", "LOGIN", -1 },
	};
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(cases); i++)
		if (p2m_smtp_ehlo_offers_auth(cases[i].line, strlen(cases[i].line), cases[i].mech) != cases[i].want)
			g_error("'%s' / %s: want %d", cases[i].line, cases[i].mech, cases[i].want);
	/* bounded by LEN, not by a NUL */
	g_assert_cmpint(p2m_smtp_ehlo_offers_auth("250-AUTH LOGIN", 12, "LOGIN"), ==, 0);
}

/* The transcript shows commands, never what AUTH carries. */
static void
test_debug_command(void)
{
	static const struct { const char *line; gboolean in_auth; const char *want; } cases[] = {
		{ "EHLO printserver\r\n", FALSE, "EHLO printserver" },
		{ "MAIL FROM:<scanner@contoso.com> SIZE=1234\r\n", FALSE, "MAIL FROM:<scanner@contoso.com> SIZE=1234" },
		{ "AUTH LOGIN\r\n", FALSE, "AUTH LOGIN" },
		{ "AUTH LOGIN c2Nhbm5lckBjb250b3NvLmNvbQ==\r\n", FALSE, "AUTH LOGIN <hidden>" },
		{ "AUTH XOAUTH2 dXNlcj1zY2FubmVyAWF1dGg9QmVhcmVyIGV5SjAB\r\n", FALSE, "AUTH XOAUTH2 <hidden>" },
		{ "auth   xoauth2   dXNlcj0=\r\n", FALSE, "AUTH xoauth2 <hidden>" },
		{ "UGE1NS13MHJkIQ==\r\n", TRUE, "<hidden>" },
		{ "\r\n", TRUE, "<hidden>" },
		{ "QUIT\r\n", FALSE, "QUIT" },
	};
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *got = p2m_smtp_debug_command(cases[i].line, strlen(cases[i].line), cases[i].in_auth);

		g_assert_cmpstr(got, ==, cases[i].want);
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/smtp/tracker/auth-refused", test_auth_refused);
	g_test_add_func("/smtp/tracker/rcpt-multiline", test_rcpt_and_multiline);
	g_test_add_func("/smtp/tracker/xoauth2-challenge", test_xoauth2_challenge);
	g_test_add_func("/smtp/tracker/login-challenges", test_login_challenges_not_refusals);
	g_test_add_func("/smtp/dot-stuffing", test_stuffing);
	g_test_add_func("/smtp/tracker/data-end", test_data_end);
	g_test_add_func("/smtp/tracker/greeting", test_greeting_refused);
	g_test_add_func("/smtp/tracker/hostile", test_hostile_reply);
	g_test_add_func("/smtp/stage-names", test_stage_names);
	g_test_add_func("/smtp/ehlo-size", test_ehlo_size);
	g_test_add_func("/smtp/ehlo-auth", test_ehlo_auth);
	g_test_add_func("/smtp/debug-command", test_debug_command);
	return g_test_run();
}
