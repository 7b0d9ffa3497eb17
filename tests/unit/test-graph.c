/* SPDX-License-Identifier: Apache-2.0 */
/* test-graph.c - p2m-graph's pure parts: streamed base64, Graph's error and resource answers, Retry-After, MIME part headers. */
#include "config.h"

#include <glib.h>
#include <string.h>

#include "p2m-graph.h"

static void
test_base64(void)
{
	guchar data[1000];
	gsize n, cut;

	for (n = 0; n < sizeof(data); n++)
		data[n] = (guchar) g_random_int();
	/* any split of the input gives GLib's encoding of the whole */
	for (n = 0; n <= 20; n++) {
		for (cut = 0; cut <= n; cut++) {
			p2m_graph_b64 st = { { 0 }, 0 };
			char out[64];
			gsize o = 0;
			g_autofree char *want = g_base64_encode(data, n);

			o += p2m_graph_b64_feed(&st, data, cut, out + o);
			o += p2m_graph_b64_feed(&st, data + cut, n - cut, out + o);
			o += p2m_graph_b64_finish(&st, out + o);
			out[o] = '\0';
			g_assert_cmpstr(out, ==, want);
			g_assert_cmpuint(o, ==, p2m_graph_base64_len(n));
		}
	}
	g_assert_cmpuint(p2m_graph_base64_len(3000000), ==, 4000000);
	g_assert_cmpuint(p2m_graph_base64_len(3000001), ==, 4000004);
}

static void
test_parse_error(void)
{
	static const char full[] = "{\"error\":{\"code\":\"ErrorAccessDenied\",\"message\":\"Access is denied. Check "
	                           "credentials and try again.\",\"innerError\":{\"request-id\":\"49fef2a7\"}}}";
	static const char bare[] = "{\"code\":\"ErrorSendAsDenied\",\"message\":\"The user account ...\"}";
	static const char upper[] = "{\"Error\":{\"Code\":\"ApplicationThrottled\",\"Message\":\"line\\nbreak\"}}";
	const char *bad[] = { "", "not json", "[1,2]", "{\"value\":[]}", "{\"error\":\"text\"}", NULL };
	char *code = NULL, *message = NULL;
	gsize i;

	g_assert_true(p2m_graph_parse_error(full, strlen(full), &code, &message));
	g_assert_cmpstr(code, ==, "ErrorAccessDenied");
	g_assert_cmpstr(message, ==, "Access is denied. Check credentials and try again.");
	g_clear_pointer(&code, g_free);
	g_clear_pointer(&message, g_free);
	g_assert_true(p2m_graph_parse_error(bare, strlen(bare), &code, &message));
	g_assert_cmpstr(code, ==, "ErrorSendAsDenied");
	g_clear_pointer(&code, g_free);
	g_clear_pointer(&message, g_free);
	/* keys in any case (graph.md 8); control characters never reach a job message */
	g_assert_true(p2m_graph_parse_error(upper, strlen(upper), &code, &message));
	g_assert_cmpstr(code, ==, "ApplicationThrottled");
	g_assert_cmpstr(message, ==, "line break");
	g_clear_pointer(&code, g_free);
	g_clear_pointer(&message, g_free);
	for (i = 0; bad[i] != NULL; i++) {
		g_assert_false(p2m_graph_parse_error(bad[i], strlen(bad[i]), &code, &message));
		g_assert_null(code);
		g_assert_null(message);
	}
	/* capped: a huge answer is not parsed at all */
	{
		gsize big = P2M_GRAPH_RESPONSE_MAX + 10;
		g_autofree char *huge = g_malloc(big);

		memset(huge, ' ', big);
		memcpy(huge, full, strlen(full));
		g_assert_false(p2m_graph_parse_error(huge, big, &code, &message));
	}
}

static void
test_parse_member(void)
{
	static const char draft[] = "{\"@odata.context\":\"x\",\"id\":\"AAMkAD-_x=\",\"isDraft\":true}";
	static const char session[] = "{\"UploadUrl\":\"https://outlook.office.com/api/v2.0/x?authtoken=eyJ\","
	                              "\"nextExpectedRanges\":[\"0-\"]}";
	g_autofree char *id = p2m_graph_parse_member(draft, strlen(draft), "id", 1024);
	g_autofree char *url = p2m_graph_parse_member(session, strlen(session), "uploadUrl", 8192);
	g_autofree char *none = p2m_graph_parse_member(draft, strlen(draft), "isDraft", 1024);
	g_autofree char *too_long = p2m_graph_parse_member(draft, strlen(draft), "id", 4);

	g_assert_cmpstr(id, ==, "AAMkAD-_x=");
	g_assert_cmpstr(url, ==, "https://outlook.office.com/api/v2.0/x?authtoken=eyJ");
	g_assert_null(none);
	g_assert_null(too_long);
}

static void
test_retry_after(void)
{
	g_assert_cmpint(p2m_graph_parse_retry_after("1", 1000), ==, 1);
	g_assert_cmpint(p2m_graph_parse_retry_after(" 120\r\n", 1000), ==, 120);
	g_assert_cmpint(p2m_graph_parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412470), ==, 10);
	g_assert_cmpint(p2m_graph_parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412490), ==, 0);
	/* RFC 9110's obsolete forms, which a recipient must still read */
	g_assert_cmpint(p2m_graph_parse_retry_after("Wednesday, 21-Oct-15 07:28:00 GMT", 1445412470), ==, 10);
	g_assert_cmpint(p2m_graph_parse_retry_after("Wed Oct 21 07:28:00 2015", 1445412470), ==, 10);
	g_assert_cmpint(p2m_graph_parse_retry_after("wed, 21 oct 2015 07:28:00 utc\r\n", 1445412470), ==, 10);
	g_assert_cmpint(p2m_graph_parse_retry_after("Sat, 29 Feb 2020 00:00:00 GMT", 1582934390), ==, 10);
	/* what no calendar or clock has, and what is no HTTP-date */
	g_assert_cmpint(p2m_graph_parse_retry_after("Fri, 29 Feb 2019 00:00:00 GMT", 1000), ==, -1);
	g_assert_cmpint(p2m_graph_parse_retry_after("Wed, 21 Oct 2015 24:00:00 GMT", 1000), ==, -1);
	g_assert_cmpint(p2m_graph_parse_retry_after("Wed, 21 Oct 2015 07:28 GMT", 1000), ==, -1);
	g_assert_cmpint(p2m_graph_parse_retry_after("Wed, 21 Foo 2015 07:28:00 GMT", 1000), ==, -1);
	g_assert_cmpint(p2m_graph_parse_retry_after("Wed, 21 Oct 2015 07:28:00 PST", 1000), ==, -1);
	g_assert_cmpint(p2m_graph_parse_retry_after("Wed, 21 Oct Oct 2015 07:28:00 GMT", 1000), ==, -1);
	g_assert_cmpint(p2m_graph_parse_retry_after("Wed, 21 Oct 2015", 1000), ==, -1);
	g_assert_cmpint(p2m_graph_parse_retry_after("soon", 1000), ==, -1);
	g_assert_cmpint(p2m_graph_parse_retry_after("12x", 1000), ==, -1);
	g_assert_cmpint(p2m_graph_parse_retry_after("99999999999999999999", 1000), ==, -1);
	g_assert_cmpint(p2m_graph_parse_retry_after(NULL, 1000), ==, -1);
}

static void
test_parts(void)
{
	static const char pdf[] = "Content-Type: application/pdf; name=\"Scan 1.pdf\"\r\n"
	                          "Content-Disposition: attachment; filename=\"Scan 1.pdf\"\r\n"
	                          "Content-Transfer-Encoding: base64\r\n\r\n";
	static const char text[] = "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n";
	static const char textatt[] = "Content-Type: text/plain; charset=utf-8\r\nContent-Disposition: attachment;\r\n"
	                              " filename=note.txt\r\nContent-Transfer-Encoding: BASE64\r\n\r\n";
	static const char qp[] = "Content-Type: application/pdf\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n";
	static const char top[] = "From: <a@b.c>\r\nContent-Type: multipart/mixed;\r\n boundary=\"=_p2m_42\"\r\n\r\n";
	char *ct = NULL, *name = NULL;
	g_autofree char *b = NULL;
	g_autofree char *nob = NULL;

	g_assert_true(p2m_graph_part_attachment(pdf, strlen(pdf), &ct, &name));
	g_assert_cmpstr(ct, ==, "application/pdf");
	g_assert_cmpstr(name, ==, "Scan 1.pdf");
	g_clear_pointer(&ct, g_free);
	g_clear_pointer(&name, g_free);
	/* the body text stays in the draft */
	g_assert_false(p2m_graph_part_attachment(text, strlen(text), &ct, &name));
	g_assert_null(ct);
	g_assert_true(p2m_graph_part_attachment(textatt, strlen(textatt), &ct, &name));
	g_assert_cmpstr(name, ==, "note.txt");
	g_clear_pointer(&ct, g_free);
	g_clear_pointer(&name, g_free);
	g_assert_false(p2m_graph_part_attachment(qp, strlen(qp), &ct, &name));
	b = p2m_graph_boundary(top, strlen(top));
	g_assert_cmpstr(b, ==, "=_p2m_42");
	nob = p2m_graph_boundary(pdf, strlen(pdf));
	g_assert_null(nob);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/graph/base64", test_base64);
	g_test_add_func("/graph/parse-error", test_parse_error);
	g_test_add_func("/graph/parse-member", test_parse_member);
	g_test_add_func("/graph/retry-after", test_retry_after);
	g_test_add_func("/graph/parts", test_parts);
	return g_test_run();
}
