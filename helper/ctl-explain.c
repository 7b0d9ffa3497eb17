/* SPDX-License-Identifier: Apache-2.0 */
/* ctl-explain.c - print2mailctl explain: what a server reply means and the documented fix, from the shared rule table. */
#include "config.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl-common.h"
#include "p2m-error.h"
#include "p2m-i18n.h"
#include "p2m-rules.h"

#define EXPLAIN_MAX 4096

/* An AADSTS code anywhere in TEXT ("AADSTS7000222: ..."), or 0. */
static long
aadsts_code(const char *text)
{
	const char *p = strstr(text, "AADSTS");

	return p != NULL ? strtol(p + 6, NULL, 10) : 0;
}

static const p2m_rule *
classify(const char *text)
{
	long code = aadsts_code(text);

	if (code > 0)
		return p2m_rules_classify_token(NULL, &code, 1, 400);
	return p2m_rules_classify_smtp(text, strnlen(text, EXPLAIN_MAX));
}

static void
print_rule(const p2m_rule *r, const p2m_catalog *cat, gboolean brief)
{
	g_autofree char *fix = p2m_rules_format(p2m_i18n_get(cat, r->message), NULL, NULL);

	printf("rule:    %s\n", r->id);
	printf("class:   %s\n", p2m_class_name(r->cls));
	if (!brief) {
		printf("job:     %s\n", p2m_i18n_get(cat, p2m_class_action(r->cls)));
		if (r->keyword != NULL)
			printf("reason:  %s\n", r->keyword);
	}
	printf("fix:     %s\n", fix);
	if (r->url != NULL)
		printf("see:     %s\n", r->url);
}

static int
usage(FILE *fp, int rc)
{
	fprintf(fp, "Usage: print2mailctl explain [--lang LL] 'REPLY TEXT'\n"
	        "       print2mailctl explain [--lang LL] --list\n"
	        "Print what a Microsoft 365 SMTP reply (\"535 5.7.139 ...\") or token-endpoint error\n"
	        "(\"AADSTS7000222 ...\") means for a print job and the documented fix.\n"
	        "--list prints the whole rule table.  --lang picks the language (fr, ro, ru, zh_CN, ...).\n"
	        "Exit status: 0 explained, 2 usage error.\n");
	return rc;
}

int
ctl_explain(const p2m_config *cfg, int argc, char **argv)
{
	g_autofree char *lang = NULL;
	gboolean list = FALSE, help = FALSE;
	GOptionEntry entries[] = {
		{ "lang", 'l', 0, G_OPTION_ARG_STRING, &lang, "Language of the fix", "LL" },
		{ "list", 0, 0, G_OPTION_ARG_NONE, &list, "Print the whole table", NULL },
		{ "help", 'h', 0, G_OPTION_ARG_NONE, &help, "Show help", NULL },
		{ NULL }
	};
	p2m_catalog *cat;
	size_t i;

	switch (ctl_parse_options(entries, &help, &argc, &argv)) {
	case CTL_PARSE_HELP:
		return usage(stdout, CTL_EXIT_OK);
	case CTL_PARSE_ERROR:
		return usage(stderr, CTL_EXIT_USAGE);
	}
	if (list == (argc == 2) || argc > 2)
		return usage(stderr, CTL_EXIT_USAGE);
	cat = p2m_i18n_load(lang != NULL ? lang : g_getenv("LANG"), NULL);
	if (list) {
		for (i = 0; i < p2m_rules_count(); i++) {
			print_rule(p2m_rules_get(i), cat, TRUE);
			printf("\n");
		}
	} else {
		print_rule(classify(argv[1]), cat, FALSE);
	}
	p2m_i18n_free(cat);
	return CTL_EXIT_OK;
}
