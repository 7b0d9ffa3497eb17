/* SPDX-License-Identifier: Apache-2.0 */
/* p2m-gen.c - build-time generator: PPD state reasons, help page and man page rule list from the rule table. */
#include "config.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p2m-error.h"
#include "p2m-i18n.h"
#include "p2m-rules.h"
#include "p2m-text.h"

#ifndef P2M_DOC_BASE
#define P2M_DOC_BASE "/help/print2mail.html"
#endif

/* The languages of po/LINGUAS, with the PPD prefix CUPS expects
 * (doc/help/spec-ppd.html: *ll.Keyword or *ll_CC.Keyword). */
static const char *const languages[] = { "fr", "ro", "zh_CN", "ru", NULL };

/* PPD limits (cups/ppd.c ppd_read): a translation string of at most 80
 * bytes that ends at the first ':' and has no '"' or '<' (hex escapes). */
#define PPD_TEXT_MAX 80

static void
usage(FILE *fp)
{
	fputs("Usage: p2m-gen MODE [LOCALEDIR]\n"
	      "Print what is made from print2mail's rule table (lib/p2m-rules.c).\n"
	      "\n"
	      "Modes:\n"
	      "  ppd-reasons LOCALEDIR  *cupsIPPReason lines for the PPD, one per rule, then the\n"
	      "                         *fr. *ro. *zh_CN. *ru.cupsIPPReason variants translated\n"
	      "                         from LOCALEDIR/LL/LC_MESSAGES/print2mail.mo\n"
	      "  help-html [LOCALEDIR]  the English CUPS help page (install as\n"
	      "                         DocumentRoot/help/print2mail.html): one row per rule\n"
	      "  man-rules              .TP entries for the rule list of print2mail(8)\n"
	      "  list                   the rules as a plain table, for people\n"
	      "  --help                 this text\n"
	      "\n"
	      "Each rule turns a Microsoft 365 reply, a token-endpoint error or a local\n"
	      "failure into a class (what happens to the job), a printer-state-reason\n"
	      "keyword, a message that names the fix, and a documentation URL.\n", fp);
}

/* Copies S into BUF as a PPD translation string: forbidden characters
 * replaced, cut at a UTF-8 character boundary within PPD_TEXT_MAX bytes. */
static const char *
ppd_text(const char *s, char *buf, size_t size)
{
	size_t i, n = 0;

	for (i = 0; s[i] != '\0' && n + 1 < size; i++) {
		unsigned char c = (unsigned char) s[i];

		buf[n++] = (c == ':' || c == '"' || c == '<' || c < 0x20) ? ' ' : (char) c;
	}
	buf[n] = '\0';
	if (n > PPD_TEXT_MAX) {
		n = p2m_text_utf8_cut(buf, n, PPD_TEXT_MAX);
		buf[n] = '\0';
	}
	return buf;
}

static int
mode_ppd(const char *localedir)
{
	p2m_catalog *cats[sizeof(languages) / sizeof(languages[0])] = { NULL };
	char text[256], lang[32];
	size_t i, l;
	int r = 1;

	for (l = 0; languages[l] != NULL; l++) {
		snprintf(lang, sizeof(lang), "%s.UTF-8", languages[l]);
		if ((cats[l] = p2m_i18n_load(lang, localedir)) == NULL) {
			fprintf(stderr, "p2m-gen: no catalogue for %s in %s\n", languages[l], localedir);
			goto out;
		}
	}
	puts("*% print2mail state reasons, made by tools/p2m-gen from lib/p2m-rules.c");
	for (i = 0; i < p2m_rules_count(); i++) {
		const p2m_rule *rule = p2m_rules_get(i);

		printf("*cupsIPPReason %s/%s: \"\n%s\n%s#%s\"\n", rule->keyword,
		       ppd_text(rule->summary, text, sizeof(text)), rule->url, P2M_DOC_BASE, rule->id);
		for (l = 0; languages[l] != NULL; l++)
			printf("*%s.cupsIPPReason %s/%s: \"\n%s\n%s#%s\"\n", languages[l], rule->keyword,
			       ppd_text(p2m_i18n_get(cats[l], rule->summary), text, sizeof(text)),
			       rule->url, P2M_DOC_BASE, rule->id);
	}
	r = 0;
out:
	for (l = 0; languages[l] != NULL; l++)
		p2m_i18n_free(cats[l]);
	return r;
}

static void
html_puts(const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '<': fputs("&lt;", stdout); break;
		case '>': fputs("&gt;", stdout); break;
		case '&': fputs("&amp;", stdout); break;
		case '"': fputs("&quot;", stdout); break;
		default: putchar(*s);
		}
	}
}

/* The rule whose variant R is, and how it is reached; NULL if R is not one. */
static const p2m_rule *
variant_parent(const p2m_rule *r, const char **how)
{
	size_t i;

	for (i = 0; i < p2m_rules_count(); i++) {
		const p2m_rule *p = p2m_rules_get(i);

		if (p->user_id != NULL && strcmp(p->user_id, r->id) == 0) {
			*how = "when the credential was a job user's";
			return p;
		}
		if (p->oauth_id != NULL && strcmp(p->oauth_id, r->id) == 0) {
			*how = "when the account signs in with XOAUTH2";
			return p;
		}
		if (p->app_id != NULL && strcmp(p->app_id, r->id) == 0) {
			*how = "when the account uses an app-only XOAUTH2 token";
			return p;
		}
	}
	return NULL;
}

/* "a|b" of the table as "Qa" SEP "Qb" (Q quotes each alternative). */
static void
put_alternatives(const char *list, const char *quote, const char *sep, void (*put)(const char *))
{
	char buf[512];
	const char *p = list, *bar;

	for (;;) {
		bar = strchr(p, '|');
		snprintf(buf, sizeof(buf), "%s%.*s%s", quote, (int) (bar != NULL ? (size_t) (bar - p) : strlen(p)), p, quote);
		put(buf);
		if (bar == NULL)
			return;
		put(sep);
		p = bar + 1;
	}
}

/* What a rule matches, in words: "5.7.139 with "disabled for the tenant"". */
static void
describe_match(const p2m_rule *r, void (*put)(const char *))
{
	const p2m_rule *parent;
	const char *how = NULL;
	char buf[128];

	if ((parent = variant_parent(r, &how)) != NULL) {
		describe_match(parent, put);
		snprintf(buf, sizeof(buf), ", %s", how);
		put(buf);
		return;
	}
	if (r->source == P2M_RULE_LOCAL) {
		put("(detected by print2mail)");
		return;
	}
	if (r->match_code == NULL && r->match_text == NULL) {
		put(r->source == P2M_RULE_TOKEN ? "any other token error" : "any other answer");
		return;
	}
	if (r->match_code != NULL) {
		put(r->source == P2M_RULE_TOKEN ? "AADSTS " : "");
		put_alternatives(r->match_code, "", ", ", put);
	}
	if (r->match_text != NULL) {
		put(r->match_code != NULL ? (r->source == P2M_RULE_TOKEN ? " or error " : " with ") : "");
		put_alternatives(r->match_text, "\"", " or ", put);
	}
}

static void
html_row(const p2m_rule *r)
{
	char *msg = p2m_rules_format(r->message, "QUEUE", NULL);

	printf("<TR ID=\"%s\"><TD><CODE>", r->id);
	describe_match(r, html_puts);
	printf("</CODE></TD><TD>");
	html_puts(r->summary);
	printf("</TD><TD>%s</TD><TD>", r->cls == P2M_CLASS_NONE ? "warning only" : p2m_class_action(r->cls));
	html_puts(msg);
	printf("<BR><SMALL><CODE>%s</CODE></SMALL></TD><TD><A HREF=\"", r->keyword);
	html_puts(r->url);
	printf("\">documentation</A></TD></TR>\n");
	g_free(msg);
}

static int
mode_html(void)
{
	static const struct { int source; const char *title; } sections[] = {
		{ P2M_RULE_SMTP, "Replies of the mail server" },
		{ P2M_RULE_TOKEN, "Errors of the Microsoft sign-in service (token endpoint)" },
		{ P2M_RULE_LOCAL, "Problems print2mail finds itself" },
	};
	size_t s, i;

	puts("<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01 Transitional//EN\" "
	     "\"http://www.w3.org/TR/html4/loose.dtd\">\n<HTML>\n<!-- SECTION: Printing -->\n<HEAD>\n"
	     "<META HTTP-EQUIV=\"Content-Type\" CONTENT=\"text/html; charset=utf-8\">\n"
	     "<TITLE>print2mail: Microsoft 365 refusals and their fixes</TITLE>\n"
	     "<LINK REL=\"STYLESHEET\" TYPE=\"text/css\" HREF=\"../cups-printable.css\">\n</HEAD>\n<BODY>\n"
	     "<H1 CLASS=\"title\">print2mail: Microsoft 365 refusals and their fixes</H1>\n"
	     "<P>print2mail queues send each job as an e-mail through Microsoft 365. When the mail "
	     "server or the Microsoft sign-in service refuses, the job's status message says what is "
	     "wrong and how to fix it, and the printer gets the state reason shown below. "
	     "<EM>Retried later</EM>: the job stays queued and is sent again. <EM>Queue stopped</EM>: "
	     "an administrator must fix the account, then run <CODE>cupsenable QUEUE</CODE>; the job "
	     "is kept. <EM>Held for authentication</EM>: only this user's credential is wrong; other "
	     "users' jobs go on. <EM>Held</EM>: correct this job and resume it with "
	     "<CODE>lp -i QUEUE-JOB ... -H resume</CODE>.</P>\n"
	     "<P>Basic authentication (a password) for SMTP is off by default for Microsoft 365 "
	     "tenants from the end of December 2026. Setting <CODE>auth = xoauth2</CODE> for the "
	     "account in <CODE>print2mail.conf</CODE> is the lasting fix for every password "
	     "refusal.</P>");
	for (s = 0; s < sizeof(sections) / sizeof(sections[0]); s++) {
		printf("<H2 CLASS=\"title\">%s</H2>\n<TABLE CLASS=\"list\" SUMMARY=\"%s\">\n"
		       "<TR><TH>Reply or code</TH><TH>What it means</TH><TH>What happens to the job</TH>"
		       "<TH>The fix</TH><TH>More</TH></TR>\n", sections[s].title, sections[s].title);
		for (i = 0; i < p2m_rules_count(); i++)
			if (p2m_rules_get(i)->source == sections[s].source)
				html_row(p2m_rules_get(i));
		puts("</TABLE>");
	}
	puts("</BODY>\n</HTML>");
	return 0;
}

/* roff: a backslash is \e, a hyphen \- (so options copy as typed), and a
 * line must not start with '.' or '\''. */
static void
roff_puts(const char *s)
{
	if (*s == '.' || *s == '\'')
		fputs("\\&", stdout);
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			fputs("\\e", stdout);
		else if (*s == '-')
			fputs("\\-", stdout);
		else if (*s == '\n')
			putchar(' ');
		else
			putchar(*s);
	}
}

static int
mode_man(void)
{
	size_t i;

	for (i = 0; i < p2m_rules_count(); i++) {
		const p2m_rule *r = p2m_rules_get(i);
		char *msg = p2m_rules_format(r->message, "QUEUE", NULL);

		puts(".TP");
		fputs(".B ", stdout);
		roff_puts(r->id);
		fputs("\n(", stdout);
		describe_match(r, roff_puts);
		printf("; %s)\n", r->cls == P2M_CLASS_NONE ? "warning" : p2m_class_action(r->cls));
		roff_puts(msg);
		putchar('\n');
		g_free(msg);
	}
	return 0;
}

static void
plain_puts(const char *s)
{
	fputs(s, stdout);
}

static int
mode_list(void)
{
	size_t i;

	for (i = 0; i < p2m_rules_count(); i++) {
		const p2m_rule *r = p2m_rules_get(i);

		printf("%-20s %-9s ", r->id, p2m_class_name(r->cls));
		describe_match(r, plain_puts);
		printf("\n    %s\n    %s\n    %s\n", r->summary, r->message, r->url);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "ppd-reasons") == 0 && argc == 3)
		return mode_ppd(argv[2]);
	if (argc >= 2 && strcmp(argv[1], "help-html") == 0 && argc <= 3)
		return mode_html();
	if (argc == 2 && strcmp(argv[1], "man-rules") == 0)
		return mode_man();
	if (argc == 2 && strcmp(argv[1], "list") == 0)
		return mode_list();
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return 0;
	}
	usage(stderr);
	return 2;
}
