/* SPDX-License-Identifier: Apache-2.0 */
/* test-mime.c - unit tests of p2m-mime: RFC 2047 text and folding, file names, base64, Date, Message-ID. */
#include "config.h"

#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "p2m-mime.h"
#include "p2m-error.h"

#define RO "Raport lunar \xe2\x80\x94 \xc8\x99" "ablon \xc8\x9b" "ar\xc4\x83"
#define ZH "\xe6\x89\x93\xe5\x8d\xb0\xe6\x8a\xa5\xe5\x91\x8a\xe6\x9c\x88\xe5\xba\xa6\xe6\xb1\x87\xe6\x80\xbb"
#define RU "\xd0\x9e\xd1\x82\xd1\x87\xd1\x91\xd1\x82 \xd0\xb7\xd0\xb0 \xd0\xbc\xd0\xb5\xd1\x81\xd1\x8f\xd1\x86"

/* ---- an independent RFC 2047 reader ------------------------------------ */

/* Decodes one header line "Name: value..." as a mail reader would: unfold,
 * decode "=?UTF-8?B?..?=" words, drop the blanks between adjacent ones.
 * Checks on the way what RFC 2047 and RFC 5322 ask of the writer. */
static char *
decode_header(const char *header, const char *name)
{
	g_autoptr(GString) out = g_string_new(NULL);
	g_auto(GStrv) lines = NULL;
	g_auto(GStrv) words = NULL;
	g_autofree char *unfolded = NULL;
	gboolean prev_ew = FALSE;
	gsize i;

	g_assert_true(g_str_has_suffix(header, "\r\n"));
	lines = g_strsplit(header, "\r\n", -1);
	for (i = 0; lines[i] != NULL && lines[i + 1] != NULL; i++) {
		g_assert_cmpuint(strlen(lines[i]), <=, 78);
		g_assert_null(strchr(lines[i], '\r'));
		g_assert_null(strchr(lines[i], '\n'));
		if (i > 0)
			g_assert_true(lines[i][0] == ' ');
	}
	g_assert_cmpstr(lines[i], ==, "");
	unfolded = g_strjoinv("", lines);
	g_assert_true(g_str_has_prefix(unfolded, name));
	g_assert_true(unfolded[strlen(name)] == ':');
	words = g_strsplit(unfolded + strlen(name) + 1, " ", -1);
	for (i = 0; words[i] != NULL; i++) {
		const char *w = words[i];
		gsize wl = strlen(w);

		if (wl == 0)
			continue;
		if (g_str_has_prefix(w, "=?") && g_str_has_suffix(w, "?=")) {
			g_autofree char *b64 = NULL;
			g_autofree guchar *raw = NULL;
			gsize rawlen;

			g_assert_cmpuint(wl, <=, 75);
			g_assert_true(g_str_has_prefix(w, "=?UTF-8?B?"));
			b64 = g_strndup(w + 10, wl - 12);
			raw = g_base64_decode(b64, &rawlen);
			/* each word holds whole characters */
			g_assert_true(g_utf8_validate((const char *) raw, (gssize) rawlen, NULL));
			g_string_append_len(out, (const char *) raw, (gssize) rawlen);
			prev_ew = TRUE;
		} else {
			g_assert_null(strstr(w, "=?"));
			if (out->len > 0)
				g_string_append_c(out, ' ');
			g_string_append(out, w);
			prev_ew = FALSE;
		}
		(void) prev_ew;
	}
	return g_string_free(g_steal_pointer(&out), FALSE);
}

static void
test_clean(void)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "plain", "plain" },
		{ "  a \t b\r\nc\n\nd  ", "a b c d" },
		{ "x\ry", "x y" },
		{ "bell\x07tab\x1b[31m", "bell tab [31m" },
		{ "del\x7fok", "del ok" },
		{ "c1\xc2\x85next\xe2\x80\xa8line", "c1 next line" },
		{ "bad\xff\xfeutf8", "bad\xef\xbf\xbd\xef\xbf\xbdutf8" },
		{ RO, RO },
		{ "", "" },
	};
	gsize i;

	for (i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *got = p2m_mime_header_clean(cases[i].in);
		g_assert_cmpstr(got, ==, cases[i].out);
	}
	g_free(p2m_mime_header_clean(NULL));
}

static void
test_rfc2047(void)
{
	g_autofree char *long_ascii = NULL;
	g_autofree char *long_word = g_strnfill(200, 'w');
	g_autoptr(GString) mixed = g_string_new(NULL);
	const char *texts[] = {
		"Hello world", RO, ZH, RU, RO " " ZH " " RU, "=?UTF-8?B?Zm9v?= literal",
		"Bcc: evil@x.org", "tab\there\r\nBcc: evil@x.org", "\xf0\x9f\x93\x84 emoji \xf0\x9f\x96\xa8",
		NULL, NULL, NULL,
	};
	const char *names[] = { "Subject", "X-A-Much-Longer-Header-Name", NULL };
	gsize i, j;
	int k;

	long_ascii = g_strjoin(" ", "word", "list", "that", "is", "long", "enough", "to", "need",
	                       "folding", "on", "more", "than", "one", "line", "of", "seventy", "eight",
	                       "columns", "for", "sure", NULL);
	for (k = 0; k < 30; k++)
		g_string_append(mixed, k % 3 ? ZH : "a" RU "\xc8\x99");
	texts[9] = long_ascii;
	texts[10] = long_word;
	texts[11] = mixed->str;
	for (j = 0; names[j] != NULL; j++) {
		for (i = 0; i < G_N_ELEMENTS(texts); i++) {
			g_autofree char *h = p2m_mime_header(names[j], texts[i]);
			g_autofree char *clean = p2m_mime_header_clean(texts[i]);
			g_autofree char *back = NULL;

			g_test_message("%s", h);
			back = decode_header(h, names[j]);
			g_assert_cmpstr(back, ==, clean);
		}
	}
}

/* Plain ASCII stays readable; everything else is encoded. */
static void
test_rfc2047_choice(void)
{
	g_autofree char *plain = p2m_mime_header("Subject", "Scan from printer 3");
	g_autofree char *eq = p2m_mime_header("Subject", "a =?x?= b");
	g_autofree char *utf = p2m_mime_header("Subject", "caf\xc3\xa9");
	g_autofree char *inj = p2m_mime_header("Subject", "a\r\nBcc: x@y.org");

	g_assert_cmpstr(plain, ==, "Subject: Scan from printer 3\r\n");
	g_assert_true(g_str_has_prefix(eq, "Subject: =?UTF-8?B?"));
	g_assert_cmpstr(utf, ==, "Subject: =?UTF-8?B?Y2Fmw6k=?=\r\n");
	g_assert_cmpstr(inj, ==, "Subject: a Bcc: x@y.org\r\n");
}

static void
test_phrase(void)
{
	static const struct {
		const char *name, *header;
	} cases[] = {
		{ "Scanner 3", "From: Scanner 3 <s@x.com>\r\n" },
		{ "Doe, John", "From: \"Doe, John\" <s@x.com>\r\n" },
		{ "a \"b\" \\c", "From: \"a \\\"b\\\" \\\\c\" <s@x.com>\r\n" },
		{ "Bob\r\nTo: e@x.org", "From: \"Bob To: e@x.org\" <s@x.com>\r\n" },
		{ "\xc8\x98tefan", "From: =?UTF-8?B?yJh0ZWZhbg==?= <s@x.com>\r\n" },
		{ "=?UTF-8?B?Zm9v?=", "From: =?UTF-8?B?PT9VVEYtOD9CP1ptOXY/PQ==?= <s@x.com>\r\n" },
		{ "", "From: <s@x.com>\r\n" },
	};
	gsize i;

	for (i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GString) out = g_string_new(NULL);
		p2m_mime_hdr h;

		p2m_mime_hdr_begin(&h, out, "From");
		p2m_mime_hdr_phrase(&h, cases[i].name);
		p2m_mime_hdr_token(&h, "<s@x.com>");
		p2m_mime_hdr_end(&h);
		g_assert_cmpstr(out->str, ==, cases[i].header);
	}
}

/* Whatever a caller passes as a token, the header stays one header. */
static void
test_token_sanitized(void)
{
	g_autoptr(GString) out = g_string_new(NULL);
	p2m_mime_hdr h;

	p2m_mime_hdr_begin(&h, out, "X-T\r\nEvil");
	p2m_mime_hdr_token(&h, "a\r\nBcc: b\xc3\xa9");
	p2m_mime_hdr_end(&h);
	g_assert_cmpstr(out->str, ==, "X-T??Evil: a??Bcc: b??\r\n");
}

/* Reads back "ATTR*=UTF-8''..." or its continuations from a header. */
static char *
decode_2231(const char *header, const char *attr)
{
	g_auto(GStrv) lines = g_strsplit(header, "\r\n", -1);
	g_autofree char *unfolded = g_strjoinv("", lines);
	g_autoptr(GString) pct = g_string_new(NULL);
	g_autofree char *single = g_strdup_printf("%s*=UTF-8''", attr);
	const char *p;
	guint n;

	for (gsize i = 0; lines[i] != NULL; i++)
		g_assert_cmpuint(strlen(lines[i]), <=, 78);
	if ((p = strstr(unfolded, single)) != NULL) {
		g_string_append_len(pct, p + strlen(single), (gssize) strcspn(p + strlen(single), "; "));
	} else {
		for (n = 0;; n++) {
			g_autofree char *key = g_strdup_printf("%s*%u*=%s", attr, n, n == 0 ? "UTF-8''" : "");

			if ((p = strstr(unfolded, key)) == NULL)
				break;
			p += strlen(key);
			g_string_append_len(pct, p, (gssize) strcspn(p, "; "));
		}
		g_assert_cmpuint(n, >, 1);
	}
	return g_uri_unescape_string(pct->str, NULL);
}

static void
test_filename_param(void)
{
	const char *names[] = { "report.pdf", RO ".pdf", ZH ZH ZH ZH ".pdf", "a\"b.pdf", NULL };
	gsize i;

	for (i = 0; names[i] != NULL; i++) {
		g_autoptr(GString) out = g_string_new(NULL);
		p2m_mime_hdr h;

		p2m_mime_hdr_begin(&h, out, "Content-Disposition");
		p2m_mime_hdr_token(&h, "attachment;");
		p2m_mime_hdr_filename(&h, "filename", names[i], TRUE);
		p2m_mime_hdr_end(&h);
		g_test_message("%s", out->str);
		if (i == 0) {
			g_assert_cmpstr(out->str, ==, "Content-Disposition: attachment; filename=\"report.pdf\"\r\n");
		} else {
			g_autofree char *back = decode_2231(out->str, "filename");
			g_assert_cmpstr(back, ==, names[i]);
		}
	}
}

static void
test_safe_filename(void)
{
	static const struct {
		const char *title, *type, *name;
	} cases[] = {
		{ "report.pdf", NULL, "report.pdf" },
		{ "report", NULL, "report.pdf" },
		{ "Report.PDF", "application/pdf", "Report.PDF" },
		{ "smbprn.00000123 Microsoft Word - report.docx", NULL, "report.pdf" },
		{ "smbprn.00000123 Quarterly figures.xlsx", NULL, "Quarterly figures.pdf" },
		{ "Microsoft Excel - Budget 2025.xlsx", NULL, "Budget 2025.pdf" },
		{ "C:\\Users\\bob\\Documents\\scan.tiff", NULL, "scan.pdf" },
		{ "/home/bob/notes.txt", NULL, "notes.pdf" },
		{ "/etc/passwd", NULL, "passwd.pdf" },
		{ "../../etc/passwd", NULL, "passwd.pdf" },
		{ "dir/", NULL, "document.pdf" },
		{ "", NULL, "document.pdf" },
		{ "   ", NULL, "document.pdf" },
		{ "...hidden", NULL, "___hidden.pdf" },
		{ "a:b*c?d\"e<f>g|h", NULL, "a_b_c_d_e_f_g_h.pdf" },
		{ "tab\tand\r\nnewline", NULL, "tab and newline.pdf" },
		{ "evil\xe2\x80\xae" "fdp.exe", NULL, "evilfdp.exe.pdf" },
		{ "trailing dots... ", NULL, "trailing dots.pdf" },
		{ RO, NULL, RO ".pdf" },
		{ "photo", "image/jpeg", "photo.jpg" },
		{ "photo.JPEG", "image/jpeg", "photo.JPEG" },
		{ "page", "application/octet-stream", "page" },
		{ "page", "text/plain", "page.txt" },
		{ "smbprn.x report", NULL, "smbprn.x report.pdf" },
	};
	g_autoptr(GString) zh = g_string_new(NULL);
	g_autofree char *capped = NULL;
	gsize i;

	for (i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *got = p2m_mime_safe_filename(cases[i].title, cases[i].type);

		g_test_message("'%s' -> '%s'", cases[i].title, got);
		g_assert_cmpstr(got, ==, cases[i].name);
	}
	/* 60 Chinese characters (180 bytes): cut on a character boundary */
	for (i = 0; i < 6; i++)
		g_string_append(zh, ZH ZH);
	capped = p2m_mime_safe_filename(zh->str, NULL);
	g_assert_cmpuint(strlen(capped), <=, P2M_MIME_FILENAME_MAX);
	g_assert_true(g_utf8_validate(capped, -1, NULL));
	g_assert_true(g_str_has_suffix(capped, ".pdf"));
	g_assert_cmpuint(strlen(capped), ==, 114 + 4);
}

static void
test_ascii_filename(void)
{
	g_autofree char *ro = p2m_mime_ascii_filename(RO ".pdf");
	g_autofree char *zh = p2m_mime_ascii_filename(ZH ".pdf");
	g_autofree char *lng = NULL;
	g_autofree char *src = g_strconcat(ZH ZH ZH ZH ZH ZH ZH, ".pdf", NULL);
	g_autofree char *plain = p2m_mime_ascii_filename("report.pdf");

	g_assert_cmpstr(plain, ==, "report.pdf");
	g_assert_cmpstr(ro, ==, "Raport lunar -- sablon tara.pdf");
	g_assert_cmpstr(zh, ==, "________.pdf");
	lng = p2m_mime_ascii_filename(src);
	g_assert_cmpuint(strlen(lng), ==, P2M_MIME_FALLBACK_MAX);
	g_assert_true(g_str_has_suffix(lng, "_.pdf"));
}

static void
test_content_type(void)
{
	g_assert_true(p2m_mime_content_type_is_valid("application/pdf"));
	g_assert_true(p2m_mime_content_type_is_valid("application/vnd.cups-raster"));
	g_assert_false(p2m_mime_content_type_is_valid(NULL));
	g_assert_false(p2m_mime_content_type_is_valid("pdf"));
	g_assert_false(p2m_mime_content_type_is_valid("application/"));
	g_assert_false(p2m_mime_content_type_is_valid("/pdf"));
	g_assert_false(p2m_mime_content_type_is_valid("a/b/c"));
	g_assert_false(p2m_mime_content_type_is_valid("application/pdf; x=1"));
	g_assert_false(p2m_mime_content_type_is_valid("application/pdf\r\nX: y"));
}

/* The streaming encoder, fed in random pieces, equals g_base64_encode. */
static void
test_base64(void)
{
	static const gsize sizes[] = { 0, 1, 2, 3, 4, 56, 57, 58, 113, 114, 115, 1000, 57 * 1024, 300001 };
	gsize s;

	for (s = 0; s < G_N_ELEMENTS(sizes); s++) {
		gsize len = sizes[s], i, pos = 0, o = 0;
		g_autofree guint8 *data = g_malloc(len + 1);
		g_autofree char *out = g_malloc(2 * len + 100);
		g_autofree char *want = NULL;
		g_autoptr(GString) flat = g_string_new(NULL);
		g_auto(GStrv) lines = NULL;
		p2m_mime_b64 b;

		for (i = 0; i < len; i++)
			data[i] = (guint8) g_test_rand_int_range(0, 256);
		p2m_mime_b64_init(&b);
		while (pos < len) {
			gsize r = (gsize) g_test_rand_int_range(0, 5000);   /* MIN evaluates twice */
			gsize n = MIN(len - pos, r);
			gsize w = p2m_mime_b64_feed(&b, data + pos, n, out + o);

			g_assert_cmpuint(w, <=, P2M_MIME_B64_OUT_MAX(n));
			o += w;
			pos += n;
		}
		o += p2m_mime_b64_finish(&b, out + o);
		out[o] = '\0';
		want = g_base64_encode(data, len);
		lines = g_strsplit(out, "\r\n", -1);
		for (i = 0; lines[i] != NULL; i++) {
			if (lines[i + 1] == NULL)          /* after the last CRLF: nothing */
				g_assert_cmpstr(lines[i], ==, "");
			else if (lines[i + 2] != NULL)     /* full lines */
				g_assert_cmpuint(strlen(lines[i]), ==, 76);
			else                               /* the last line */
				g_assert_cmpuint(strlen(lines[i]), >, 0);
			g_assert_cmpuint(strlen(lines[i]), <=, 76);
			g_string_append(flat, lines[i]);
		}
		g_assert_cmpstr(flat->str, ==, want);
		g_assert_true(len == 0 ? o == 0 : g_str_has_suffix(out, "\r\n"));
	}
}

static void
test_date(void)
{
	g_autofree char *utc = NULL, *ro = NULL, *ind = NULL, *leap = NULL, *now = NULL;

	setlocale(LC_ALL, "fr_FR.UTF-8");   /* names stay English whatever the locale */
	g_setenv("TZ", "UTC", TRUE);
	utc = p2m_mime_date(1736254980);
	g_assert_cmpstr(utc, ==, "Tue, 07 Jan 2025 13:03:00 +0000");
	leap = p2m_mime_date(951782400);
	g_assert_cmpstr(leap, ==, "Tue, 29 Feb 2000 00:00:00 +0000");
	g_setenv("TZ", "EET-2EEST,M3.5.0/3,M10.5.0/4", TRUE);
	ro = p2m_mime_date(1736254980);
	g_assert_cmpstr(ro, ==, "Tue, 07 Jan 2025 15:03:00 +0200");
	g_setenv("TZ", "<-0330>3:30", TRUE);
	ind = p2m_mime_date(1736254980);
	g_assert_cmpstr(ind, ==, "Tue, 07 Jan 2025 09:33:00 -0330");
	now = p2m_mime_date(0);
	g_assert_true(g_regex_match_simple("^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-3][0-9] "
	                                   "(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
	                                   "[0-9]{4} [0-2][0-9]:[0-5][0-9]:[0-6][0-9] [+-][0-9]{4}$", now, 0, 0));
	g_unsetenv("TZ");
	setlocale(LC_ALL, "C");
}

static void
test_message_id(void)
{
	g_autoptr(GError) err = NULL;
	g_autofree char *a = p2m_mime_message_id("contoso.com", &err);
	g_autofree char *b = p2m_mime_message_id("contoso.com", &err);
	g_autofree char *bad = NULL;
	g_autofree char *ba = p2m_mime_boundary(&err);
	g_autofree char *bb = p2m_mime_boundary(&err);

	g_assert_no_error(err);
	g_assert_true(g_regex_match_simple("^<[0-9a-f]{32}@contoso\\.com>$", a, 0, 0));
	g_assert_cmpstr(a, !=, b);
	g_assert_true(g_regex_match_simple("^=_p2m_[0-9a-f]{32}$", ba, 0, 0));
	g_assert_cmpstr(ba, !=, bb);
	bad = p2m_mime_message_id("x>\r\nBcc: y", &err);
	g_assert_null(bad);
	g_assert_error(err, P2M_ERROR, P2M_E_ADDRESS);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/mime/clean", test_clean);
	g_test_add_func("/mime/rfc2047", test_rfc2047);
	g_test_add_func("/mime/rfc2047-choice", test_rfc2047_choice);
	g_test_add_func("/mime/phrase", test_phrase);
	g_test_add_func("/mime/token-sanitized", test_token_sanitized);
	g_test_add_func("/mime/filename-param", test_filename_param);
	g_test_add_func("/mime/safe-filename", test_safe_filename);
	g_test_add_func("/mime/ascii-filename", test_ascii_filename);
	g_test_add_func("/mime/content-type", test_content_type);
	g_test_add_func("/mime/base64", test_base64);
	g_test_add_func("/mime/date", test_date);
	g_test_add_func("/mime/message-id", test_message_id);
	return g_test_run();
}
