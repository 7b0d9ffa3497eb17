/* SPDX-License-Identifier: Apache-2.0 */
/* test-reply.c - unit tests of the SMTP reply parser (lib/p2m-reply.c). */
#include "config.h"

#include <glib.h>
#include <string.h>

#include "p2m-reply.h"

static void
parse(const char *s, p2m_reply *r)
{
	p2m_reply_parse(s, strlen(s), r);
}

static void
test_basic_and_enhanced(void)
{
	p2m_reply r;

	parse("535 5.7.3 Authentication unsuccessful [SN2PR00CA0018.namprd00.prod.outlook.com]", &r);
	g_assert_cmpint(r.code, ==, 535);
	g_assert_cmpstr(r.enhanced, ==, "5.7.3");
	g_assert_true(p2m_reply_is(&r, 5, 7, 3));
	g_assert_cmpstr(r.text, ==, "Authentication unsuccessful");
	g_assert_cmpstr(r.diag, ==, "SN2PR00CA0018.namprd00.prod.outlook.com");
	g_assert_cmpuint(r.embedded, ==, 0);

	parse("535 5.7.139 Authentication unsuccessful, basic authentication is disabled. "
	      "[PN0PR01CA0024.INDPRD01.PROD.OUTLOOK.COM 2025-01-26T18:54:30.055Z 08DD3DD7D75D7743]\r\n", &r);
	g_assert_cmpint(r.code, ==, 535);
	g_assert_cmpint(r.cls, ==, 5);
	g_assert_cmpint(r.subject, ==, 7);
	g_assert_cmpint(r.detail, ==, 139);
	g_assert_cmpstr(r.text, ==, "Authentication unsuccessful, basic authentication is disabled.");
	g_assert_cmpstr(r.diag, ==, "PN0PR01CA0024.INDPRD01.PROD.OUTLOOK.COM 2025-01-26T18:54:30.055Z 08DD3DD7D75D7743");
}

static void
test_wild_forms(void)
{
	p2m_reply r;

	/* "421:" as MailKit logged it */
	parse("421: 4.3.2 Service not active [TYAPR01CA0229.jpnprd01.prod.outlook.com]", &r);
	g_assert_cmpint(r.code, ==, 421);
	g_assert_cmpstr(r.enhanced, ==, "4.3.2");
	g_assert_cmpstr(r.text, ==, "Service not active");

	/* no basic code */
	parse("4.7.0 Temporary server error. Please try again later. PRX4 [AM5PR0701CA0008.eurprd07.prod.outlook.com]", &r);
	g_assert_cmpint(r.code, ==, 0);
	g_assert_cmpstr(r.enhanced, ==, "4.7.0");
	g_assert_cmpstr(r.text, ==, "Temporary server error. Please try again later. PRX4");

	parse("5.7.57 SMTP; Client was not authenticated to send anonymous mail during MAIL FROM", &r);
	g_assert_true(p2m_reply_is(&r, 5, 7, 57));
	g_assert_cmpstr(r.text, ==, "SMTP; Client was not authenticated to send anonymous mail during MAIL FROM");

	/* [Hostname=...] */
	parse("432 4.3.2 STOREDRV.ClientSubmit; sender thread limit exceeded [Hostname=DM5SPR00MB2471.namprd08.prod.outlook.com]", &r);
	g_assert_cmpint(r.code, ==, 432);
	g_assert_cmpstr(r.text, ==, "STOREDRV.ClientSubmit; sender thread limit exceeded");
	g_assert_cmpstr(r.diag, ==, "Hostname=DM5SPR00MB2471.namprd08.prod.outlook.com");

	/* a bracket cut off by a log line */
	parse("530 5.7.57 Client not authenticated to send mail. [US22278CA0034.US7P278.PROD.OUTLOOK.COM 2024-10-24", &r);
	g_assert_cmpstr(r.text, ==, "Client not authenticated to send mail.");

	/* lowercase host, new timestamp and id */
	parse("535 5.7.3 authentication unsuccessful [ma0pr01ca0042.indprd01.prod.outlook.com 2026-11-11T11:11:11.111Z 08df00112233aabb]", &r);
	g_assert_cmpstr(r.text, ==, "authentication unsuccessful");
}

static void
test_brackets_kept(void)
{
	p2m_reply r;

	/* an IP address names the client: not per-connection noise */
	parse("550 5.7.511 Access denied, banned sender[198.51.100.25]", &r);
	g_assert_cmpstr(r.text, ==, "Access denied, banned sender[198.51.100.25]");
	g_assert_cmpstr(r.diag, ==, "");
	/* text after the bracket: not a suffix */
	parse("451 4.7.500 Server busy. Please try again later from [203.0.113.7]. (S77719)", &r);
	g_assert_cmpstr(r.text, ==, "Server busy. Please try again later from [203.0.113.7]. (S77719)");
	/* a bracket inside, a suffix at the end */
	parse("554 5.2.252 SendAsDenied; x [BeginDiagnosticData]Cannot submit message. [Hostname=SY5P282MB1234.AUSP282.PROD.OUTLOOK.COM]", &r);
	g_assert_cmpstr(r.text, ==, "SendAsDenied; x [BeginDiagnosticData]Cannot submit message.");
}

static void
test_embedded(void)
{
	p2m_reply r, inner;

	parse("530 5.7.57 Client not authenticated to send mail. Error: 535 5.7.139 Authentication unsuccessful, "
	      "SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more "
	      "information. [SA1PR02CA0001.namprd02.prod.outlook.com 2024-02-02T02:02:02.222Z 08DC23AB45CD67EF]", &r);
	g_assert_true(p2m_reply_is(&r, 5, 7, 57));
	g_assert_cmpuint(r.embedded, >, 0);
	g_assert_cmpint(p2m_reply_embedded(&r, &inner), ==, 0);
	g_assert_cmpint(inner.code, ==, 535);
	g_assert_cmpstr(inner.enhanced, ==, "5.7.139");
	g_assert_true(g_str_has_suffix(inner.text, "disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information."));

	parse("535 5.7.3 Authentication unsuccessful", &r);
	g_assert_cmpint(p2m_reply_embedded(&r, &inner), ==, -1);
	g_assert_cmpint(inner.code, ==, 0);
}

static void
test_multiline(void)
{
	p2m_reply r;

	parse("250-SN4PR0501CA0001.outlook.office365.com Hello [192.0.2.1]\r\n250-SIZE 157286400\r\n"
	      "250-AUTH LOGIN XOAUTH2\r\n250 SMTPUTF8\r\n", &r);
	g_assert_cmpint(r.code, ==, 250);
	g_assert_cmpint(r.cls, ==, 0);
	g_assert_true(strstr(r.text, "SIZE 157286400 AUTH LOGIN XOAUTH2 SMTPUTF8") != NULL);

	/* the last line gives the codes */
	parse("550-5.7.1 first part\r\n550 5.7.1 Unable to relay\r\n", &r);
	g_assert_cmpint(r.code, ==, 550);
	g_assert_cmpstr(r.enhanced, ==, "5.7.1");
	g_assert_cmpstr(r.text, ==, "first part Unable to relay");
}

static void
test_garbage(void)
{
	p2m_reply r;
	char big[6000];
	const char ctl[] = "550 5.7.1 bad\001text\0more\r\n";
	size_t i;

	g_assert_cmpint(p2m_reply_parse(NULL, 10, &r), ==, -1);
	g_assert_cmpint(r.code, ==, 0);
	g_assert_cmpstr(r.text, ==, "");
	g_assert_cmpint(p2m_reply_parse("", 0, &r), ==, -1);
	g_assert_cmpint(p2m_reply_parse("hello world", 11, &r), ==, -1);
	g_assert_cmpstr(r.text, ==, "hello world");
	/* not an enhanced code: 4 digits, class 6, missing part */
	parse("550 5.7.1234 x", &r);
	g_assert_cmpint(r.cls, ==, 0);
	g_assert_cmpint(r.code, ==, 550);
	parse("550 6.1.1 x", &r);
	g_assert_cmpint(r.cls, ==, 0);
	parse("550 5.7 x", &r);
	g_assert_cmpint(r.cls, ==, 0);
	parse("5501 5.7.1 x", &r);
	g_assert_cmpint(r.code, ==, 0);

	/* control characters never reach the text */
	g_assert_cmpint(p2m_reply_parse(ctl, sizeof(ctl) - 1, &r), ==, 0);
	for (i = 0; r.text[i] != '\0'; i++)
		g_assert_cmpint((unsigned char) r.text[i], >=, 0x20);
	g_assert_cmpstr(r.text, ==, "bad text more");

	/* input beyond P2M_REPLY_MAX is ignored */
	memset(big, 'A', sizeof(big));
	memcpy(big, "550 5.7.1 ", 10);
	g_assert_cmpint(p2m_reply_parse(big, sizeof(big), &r), ==, 0);
	g_assert_cmpuint(strlen(r.text), <, P2M_REPLY_MAX);
	g_assert_cmpuint(strlen(r.text), >=, P2M_REPLY_MAX - 20);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/reply/basic-and-enhanced", test_basic_and_enhanced);
	g_test_add_func("/reply/wild-forms", test_wild_forms);
	g_test_add_func("/reply/brackets-kept", test_brackets_kept);
	g_test_add_func("/reply/embedded", test_embedded);
	g_test_add_func("/reply/multiline", test_multiline);
	g_test_add_func("/reply/garbage", test_garbage);
	return g_test_run();
}
