/* SPDX-License-Identifier: Apache-2.0 */
/* test-job.c - unit tests of p2m-job: device URI, argv, options, environment, subject/body/recipients. */
#include "config.h"

#include <string.h>

#include <glib.h>

#include "p2m-error.h"
#include "p2m-job.h"

/* ---- device URI ---- */

static void
test_uri_plain(void)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(p2m_uri) u = p2m_uri_parse("print2mail://scanner", &err);

	g_assert_no_error(err);
	g_assert_cmpstr(u->account, ==, "scanner");
	g_assert_nonnull(u->to);
	g_assert_null(u->to[0]);
}

static void
test_uri_to(void)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(p2m_uri) u = p2m_uri_parse("PRINT2MAIL://scan%2Dner/?to=Bob@Contoso.COM,alice%40contoso.com&to=bob@contoso.com", &err);

	g_assert_no_error(err);
	g_assert_cmpstr(u->account, ==, "scan-ner");
	g_assert_cmpstr(u->to[0], ==, "Bob@contoso.com");
	g_assert_cmpstr(u->to[1], ==, "alice@contoso.com");
	g_assert_null(u->to[2]);   /* the duplicate (case-insensitive) went */
}

static void
test_uri_plus_kept(void)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(p2m_uri) u = p2m_uri_parse("print2mail://a?to=bob+scans@contoso.com", &err);

	g_assert_no_error(err);
	g_assert_cmpstr(u->to[0], ==, "bob+scans@contoso.com");
}

/* Every malformed URI fails with the expected code, and no message echoes a secret. */
static void
test_uri_refused(void)
{
	static const struct { const char *uri; int code; const char *needle; } cases[] = {
		{ "print2mail://user:S3cretPw@scanner", P2M_E_URI, "user name or password" },
		{ "print2mail://S3cretPw@scanner", P2M_E_URI, "user name or password" },
		{ "print2mail://scanner:587", P2M_E_URI, "port" },
		{ "print2mail://", P2M_E_URI, "account name" },
		{ "print2mail:///x", P2M_E_URI, "account name" },
		{ "print2mail://a%zz", P2M_E_URI, "account name" },
		{ "print2mail://a%00b", P2M_E_URI, "account name" },
		{ "print2mail://scanner/path", P2M_E_URI, "path" },
		{ "print2mail://scanner#frag", P2M_E_URI, "path" },
		{ "print2mail://scanner?cc=x@y.com", P2M_E_URI, "unknown option 'cc'" },
		{ "print2mail://scanner?to", P2M_E_URI, "unknown option" },
		{ "print2mail://scanner?to=not-an-address", P2M_E_ADDRESS, "?to=" },
		{ "print2mail://scanner?to=a@b.com%0d%0aBcc:%20x@y.com", P2M_E_ADDRESS, "?to=" },
		{ "ipp://scanner", P2M_E_URI, "print2mail://" },
		{ "", P2M_E_URI, "DEVICE_URI" },
	};
	gsize i;

	for (i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) err = NULL;
		g_autoptr(p2m_uri) u = p2m_uri_parse(cases[i].uri, &err);

		g_test_message("%s", cases[i].uri);
		g_assert_null(u);
		g_assert_error(err, P2M_ERROR, cases[i].code);
		g_assert_nonnull(strstr(err->message, cases[i].needle));
		g_assert_null(strstr(err->message, "S3cretPw"));
	}
}

static void
test_uri_too_long(void)
{
	g_autoptr(GError) err = NULL;
	g_autofree char *pad = g_strnfill(P2M_JOB_URI_MAX, 'a');
	g_autofree char *uri = g_strconcat("print2mail://", pad, NULL);

	g_assert_null(p2m_uri_parse(uri, &err));
	g_assert_error(err, P2M_ERROR, P2M_E_URI);
}

/* ---- clean lines and templates ---- */

static void
test_clean_line(void)
{
	g_autofree char *a = p2m_job_clean_line("  Scan\r\nBcc: evil@x.com\t ok  ", 255);
	g_autofree char *b = p2m_job_clean_line("bad \xff byte", 255);
	g_autofree char *c = p2m_job_clean_line("\xc3\xa9\xc3\xa9\xc3\xa9", 5);  /* "ééé", cut inside the 3rd */
	g_autofree char *d = p2m_job_clean_line(NULL, 10);
	g_autofree char *e = p2m_job_clean_line("a\xe2\x80\xa8" "b", 10);      /* U+2028 */

	g_assert_cmpstr(a, ==, "Scan Bcc: evil@x.com ok");
	g_assert_null(strchr(a, '\r'));
	g_assert_true(g_utf8_validate(b, -1, NULL));
	g_assert_cmpstr(c, ==, "\xc3\xa9\xc3\xa9");
	g_assert_cmpstr(d, ==, "");
	g_assert_cmpstr(e, ==, "a b");
}

static void
test_fill(void)
{
	const char *args[] = { "scan2mail", "alice", "42", NULL };
	g_autofree char *a = p2m_job_fill("Printed from %s by %s, job %d. 100%% %x %s %s", args);
	g_autofree char *b = p2m_job_fill("%3$s: %1$s (%2$s) %9$s", args);
	g_autofree char *c = p2m_job_fill("%s %n %s", NULL);

	g_assert_cmpstr(a, ==, "Printed from scan2mail by alice, job 42. 100% %x %s %s");
	g_assert_cmpstr(b, ==, "42: scan2mail (alice) %9$s");
	g_assert_cmpstr(c, ==, "%s %n %s");
}

/* ---- the job ---- */

static char **
env_of(const char *first, ...)
{
	GPtrArray *a = g_ptr_array_new();
	va_list ap;
	const char *s;

	va_start(ap, first);
	for (s = first; s != NULL; s = va_arg(ap, const char *))
		g_ptr_array_add(a, g_strdup(s));
	va_end(ap);
	g_ptr_array_add(a, NULL);
	return (char **) g_ptr_array_free(a, FALSE);
}

static void
test_job_argv(void)
{
	g_autoptr(GError) err = NULL;
	g_auto(GStrv) env = env_of("DEVICE_URI=print2mail://scanner?to=desk@contoso.com", "PRINTER=scan2mail",
	                           "LANG=fr_FR.UTF-8", "CONTENT_TYPE=application/pdf",
	                           "PRINTER_STATE_REASONS=paused,com.print2mail-smtp-auth-disabled-tenant-error,com.other-error", NULL);
	char *argv[] = { "print2mail://scanner", "42", "alice", "Scan\r\nBcc: x@evil.com", "1",
	                 "mailcc=boss@contoso.com mail-subject='Quarterly\nreport'", "/tmp/doc.pdf", NULL };
	g_autoptr(p2m_job) job = p2m_job_new(7, argv, env, &err);
	g_auto(GStrv) ours = NULL;

	g_assert_no_error(err);
	g_assert_cmpstr(job->id, ==, "42");
	g_assert_cmpstr(job->user, ==, "alice");
	g_assert_cmpstr(job->title, ==, "Scan Bcc: x@evil.com");
	g_assert_cmpstr(job->document, ==, "/tmp/doc.pdf");
	g_assert_cmpstr(job->lang, ==, "fr_FR.UTF-8");
	g_assert_false(p2m_job_input_is_message(job));
	g_assert_true(p2m_job_prepare(job, NULL, FALSE, &err));
	g_assert_no_error(err);
	g_assert_cmpstr(job->to[0], ==, "desk@contoso.com");
	g_assert_null(job->to[1]);
	g_assert_cmpstr(job->cc[0], ==, "boss@contoso.com");
	g_assert_cmpstr(job->subject, ==, "Quarterly report");
	g_assert_cmpstr(job->attachment_name, ==, "Scan Bcc: x@evil.com");
	g_assert_nonnull(strstr(job->body_text, "scan2mail"));
	g_assert_nonnull(strstr(job->body_text, "42"));
	g_assert_nonnull(strstr(job->body_text, "alice"));
	ours = p2m_job_our_reasons(job);
	g_assert_cmpstr(ours[0], ==, "com.print2mail-smtp-auth-disabled-tenant-error");
	g_assert_null(ours[1]);
}

static void
test_job_mailto_overrides_uri(void)
{
	g_autoptr(GError) err = NULL;
	g_auto(GStrv) env = env_of("DEVICE_URI=print2mail://scanner?to=desk@contoso.com", NULL);
	char *argv[] = { "x", "7", "bob", "", "1", "mailto=a@contoso.com,b@contoso.com", NULL };
	g_autoptr(p2m_job) job = p2m_job_new(6, argv, env, &err);

	g_assert_nonnull(job);
	g_assert_null(job->document);
	g_assert_true(p2m_job_prepare(job, NULL, FALSE, &err));
	g_assert_cmpstr(job->to[0], ==, "a@contoso.com");
	g_assert_cmpstr(job->to[1], ==, "b@contoso.com");
	g_assert_null(job->to[2]);
	g_assert_null(job->cc[0]);
	/* no title: a subject naming the job, a neutral file name */
	g_assert_cmpstr(job->subject, ==, "print2mail-7");
	g_assert_cmpstr(job->attachment_name, ==, "document");
}

static void
test_job_injected_option(void)
{
	g_autoptr(GError) err = NULL;
	g_auto(GStrv) env = env_of("DEVICE_URI=print2mail://scanner", NULL);
	char *argv[] = { "x", "7", "bob", "t", "1", "mailto='a@contoso.com\r\nBcc: x@evil.com'", NULL };
	g_autoptr(p2m_job) job = p2m_job_new(6, argv, env, &err);

	g_assert_false(p2m_job_prepare(job, NULL, FALSE, &err));
	g_assert_error(err, P2M_ERROR, P2M_E_ADDRESS);
	g_assert_nonnull(strstr(err->message, "mailto"));
}

static void
test_job_uuid(void)
{
	g_autoptr(GError) err = NULL;
	g_auto(GStrv) env = env_of("DEVICE_URI=print2mail://scanner", NULL);
	char *ok_argv[] = { "x", "7", "bob", "t", "1",
		"finishings=3 job-uuid=urn:uuid:0a1b2c3d-0000-4000-8000-000000000001 time-at-creation=1", NULL };
	char *bad_argv[] = { "x", "7", "bob", "t", "1", "job-uuid='urn:uuid:a|b'", NULL };
	char *none_argv[] = { "x", "7", "bob", "t", "1", "finishings=3", NULL };
	g_autoptr(p2m_job) a = p2m_job_new(6, ok_argv, env, &err);
	g_autoptr(p2m_job) b = p2m_job_new(6, bad_argv, env, &err);
	g_autoptr(p2m_job) c = p2m_job_new(6, none_argv, env, &err);

	g_assert_no_error(err);
	g_assert_cmpstr(a->uuid, ==, "urn:uuid:0a1b2c3d-0000-4000-8000-000000000001");
	/* only what a job-uuid can hold: it goes into the attempt record's key */
	g_assert_null(b->uuid);
	g_assert_null(c->uuid);
}

static void
test_job_retry_limit(void)
{
	static const struct { const char *conf; guint want; } cases[] = {
		{ "", P2M_JOB_RETRY_LIMIT_DEFAULT },
		{ "LogLevel warn\nJobRetryLimit 3\n", 3 },
		{ "  jobretrylimit\t7\r\n", 7 },
		{ "JobRetryLimit 3\nJobRetryLimit 0\n", 0 },
		{ "# JobRetryLimit 9\n", P2M_JOB_RETRY_LIMIT_DEFAULT },
		{ "JobRetryLimitX 9\nJobRetryLimit\nJobRetryLimit 1x\n", P2M_JOB_RETRY_LIMIT_DEFAULT },
		{ "JobRetryLimit 99999999999999999999\n", P2M_JOB_RETRY_LIMIT_DEFAULT },
		{ "JobRetryLimit 1000000", 1000000 },
		{ "JobRetryInterval 30\nJobRetryLimit 2", 2 },
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++)
		g_assert_cmpuint(p2m_job_retry_limit(cases[i].conf, strlen(cases[i].conf)), ==, cases[i].want);
	/* LEN bounds the read: the directive past it is not seen */
	g_assert_cmpuint(p2m_job_retry_limit("JobRetryLimit 2", 14), ==, P2M_JOB_RETRY_LIMIT_DEFAULT);
	g_assert_cmpuint(p2m_job_retry_limit("JobRetryLimit 2\0JobRetryLimit 4", 31), ==, 2);
	g_assert_cmpuint(p2m_job_retry_limit(NULL, 10), ==, P2M_JOB_RETRY_LIMIT_DEFAULT);
}

static void
test_job_no_recipient(void)
{
	g_autoptr(GError) err = NULL;
	g_auto(GStrv) env = env_of("DEVICE_URI=print2mail://scanner", "FINAL_CONTENT_TYPE=message/rfc822", NULL);
	char *argv[] = { "x", "7", "bob", "t", "1", "", NULL };
	g_autoptr(p2m_job) job = p2m_job_new(6, argv, env, &err);

	g_assert_true(p2m_job_input_is_message(job));
	g_assert_false(p2m_job_prepare(job, NULL, FALSE, &err));
	g_assert_error(err, P2M_ERROR, P2M_E_NO_RECIPIENT);
	g_clear_error(&err);
	/* a composed message brings its own recipients */
	g_assert_true(p2m_job_prepare(job, NULL, TRUE, &err));
	g_assert_no_error(err);
}

static void
test_job_usage(void)
{
	g_autoptr(GError) err = NULL;
	char *argv[] = { "x", "7", "bob", "t", "1", NULL };
	char *bad_id[] = { "x", "7; rm", "bob", "t", "1", "", NULL };

	g_assert_null(p2m_job_new(5, argv, NULL, &err));
	g_assert_error(err, P2M_ERROR, P2M_E_USAGE);
	g_clear_error(&err);
	g_assert_null(p2m_job_new(6, bad_id, NULL, &err));
	g_assert_error(err, P2M_ERROR, P2M_E_USAGE);
}

static void
test_job_argv0_uri(void)
{
	g_autoptr(GError) err = NULL;
	g_auto(GStrv) env = env_of("PATH=/bin", NULL);
	char *argv[] = { "print2mail://other?to=x@contoso.com", "1", "u", "t", "1", "", NULL };
	g_autoptr(p2m_job) job = p2m_job_new(6, argv, env, &err);

	g_assert_true(p2m_job_prepare(job, NULL, FALSE, &err));
	g_assert_cmpstr(job->uri->account, ==, "other");
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/job/uri/plain", test_uri_plain);
	g_test_add_func("/job/uri/to", test_uri_to);
	g_test_add_func("/job/uri/plus-kept", test_uri_plus_kept);
	g_test_add_func("/job/uri/refused", test_uri_refused);
	g_test_add_func("/job/uri/too-long", test_uri_too_long);
	g_test_add_func("/job/clean-line", test_clean_line);
	g_test_add_func("/job/fill", test_fill);
	g_test_add_func("/job/argv", test_job_argv);
	g_test_add_func("/job/mailto-overrides-uri", test_job_mailto_overrides_uri);
	g_test_add_func("/job/injected-option", test_job_injected_option);
	g_test_add_func("/job/uuid", test_job_uuid);
	g_test_add_func("/job/retry-limit", test_job_retry_limit);
	g_test_add_func("/job/no-recipient", test_job_no_recipient);
	g_test_add_func("/job/usage", test_job_usage);
	g_test_add_func("/job/argv0-uri", test_job_argv0_uri);
	return g_test_run();
}
