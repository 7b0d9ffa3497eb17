/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz-reply.c - libFuzzer target: the SMTP reply parser, the EHLO line helpers, dot-stuffing and the classifier never crash and stay bounded. */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include <glib.h>

#include "p2m-reply.h"
#include "p2m-rules.h"
#include "p2m-smtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_reply(const p2m_reply *r)
{
	size_t i, n = strlen(r->text);

	g_assert_cmpuint(n, <, sizeof(r->text));
	for (i = 0; i < n; i++)
		g_assert_true((unsigned char) r->text[i] >= 0x20 && r->text[i] != 0x7f);
	g_assert_true(r->code == 0 || (r->code >= 200 && r->code <= 599));
	g_assert_true(r->cls == 0 || r->cls == 2 || r->cls == 4 || r->cls == 5);
	g_assert_true(r->embedded < n || r->embedded == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	p2m_reply r, inner;
	const p2m_rule *rule, *refined;
	long codes[4] = { 0 };
	size_t i;
	char *msg;

	p2m_reply_parse((const char *) data, size, &r);
	check_reply(&r);
	if (p2m_reply_embedded(&r, &inner) == 0)
		check_reply(&inner);

	/* the same bytes as one EHLO reply line: its SIZE read within SIZE
	 * bytes, its AUTH line read without overrun */
	{
		guint64 limit = 1;

		if (!p2m_smtp_parse_ehlo_size((const char *) data, size, &limit))
			g_assert_cmpuint(limit, ==, 0);
		(void) p2m_smtp_ehlo_offers_auth((const char *) data, size, "XOAUTH2");
	}

	/* the same bytes as a message: dot-stuffed in two pieces, it reads
	 * back as the bytes it was, and never holds a line "." before its end */
	{
		char *out = g_malloc(2 * size + 8);
		p2m_smtp_stuffer st;
		gsize n, half = size / 2, k = 0, j;

		p2m_smtp_stuffer_init(&st);
		n = p2m_smtp_stuff(&st, (const char *) data, half, out);
		n += p2m_smtp_stuff(&st, (const char *) data + half, size - half, out + n);
		g_assert_cmpuint(n, <=, 2 * size);
		for (j = 0; j < n; j++) {   /* undo: drop the first "." of a line that starts with one */
			gboolean bol = j == 0 || (j >= 2 && out[j - 2] == '\r' && out[j - 1] == '\n');

			if (bol && out[j] == '.') {
				g_assert_true(j + 1 < n && out[j + 1] == '.');
				j++;
			}
			g_assert_cmpint(out[j], ==, (char) data[k]);
			k++;
		}
		g_assert_cmpuint(k, ==, size);
		g_free(out);
	}

	/* the same bytes as a whole dialogue from a hostile server: each line
	 * a reply line, a command between replies; what is kept stays bounded
	 * and printable */
	{
		static const char *const cmds[] = { "EHLO x\r\n", "STARTTLS\r\n", "AUTH LOGIN\r\n", "c2VjcmV0\r\n",
		                                    "MAIL FROM:<a@b>\r\n", "RCPT TO:<c@d>\r\n", "DATA\r\n", "QUIT\r\n" };
		p2m_smtp_tracker *t = p2m_smtp_tracker_new();
		const char *p = (const char *) data, *end = p + size, *nl, *kept[2];
		gsize c = 0, m;

		while (p < end) {
			nl = memchr(p, '\n', (size_t) (end - p));
			nl = nl != NULL ? nl + 1 : end;
			p2m_smtp_tracker_reply_line(t, p, (gsize) (nl - p));
			if (*p != '\0' && (p[0] & 1))
				p2m_smtp_tracker_command(t, cmds[c++ % G_N_ELEMENTS(cmds)], 6);
			p = nl;
		}
		kept[0] = p2m_smtp_tracker_refusal(t, NULL, NULL);
		kept[1] = p2m_smtp_tracker_last_reply(t);
		for (i = 0; i < 2; i++) {
			if (kept[i] == NULL)
				continue;
			g_assert_cmpuint(strlen(kept[i]), <=, P2M_SMTP_REPLY_MAX);
			for (m = 0; kept[i][m] != '\0'; m++)
				g_assert_true((unsigned char) kept[i][m] >= 0x20 && kept[i][m] != 0x7f);
			g_assert_true(g_utf8_validate(kept[i], -1, NULL));
		}
		p2m_smtp_tracker_free(t);
	}

	rule = p2m_rules_classify_smtp((const char *) data, size);
	g_assert_nonnull(rule);
	g_assert_true(rule->source == P2M_RULE_SMTP);
	g_assert_false(rule->flags & P2M_RULE_F_VARIANT);
	for (i = 0; i < 8; i++) {
		refined = p2m_rules_refine(rule, (unsigned) i);
		g_assert_nonnull(refined);
	}
	msg = p2m_rules_format(rule->message, "q", "1");
	g_assert_null(strchr(msg, '{'));
	g_free(msg);

	/* the same bytes as a token error: a string and some AADSTS numbers */
	if (size > 0) {
		char *err = g_strndup((const char *) data, size < 64 ? size : 64);

		for (i = 0; i < 4 && i * 4 + 4 <= size; i++)
			codes[i] = (long) data[i * 4] << 24 | data[i * 4 + 1] << 16 | data[i * 4 + 2] << 8 | data[i * 4 + 3];
		rule = p2m_rules_classify_token(err, codes, i, size > 1 ? data[1] * 3 : 0);
		g_assert_nonnull(rule);
		g_assert_true(rule->source != P2M_RULE_SMTP);
		g_free(err);
	}
	return 0;
}
