/* SPDX-License-Identifier: Apache-2.0 */
/* p2m-options.c - a CUPS job's options string (argv[5]) read the way libcups 2.4 reads it. */
#include "config.h"

#include <string.h>

#include "p2m-options.h"

/* cups/string-private.h's _cups_isspace(): the name and value separators. */
static gboolean
opt_space(char c)
{
	return c == ' ' || c == '\f' || c == '\n' || c == '\r' || c == '\t' || c == '\v';
}

/* One value starting at *R, unquoted and unescaped into W (never past *R,
 * so the buffer is rewritten in place in one pass, where libcups shifts the
 * rest of the string for each character it removes).  Returns the end of
 * the value written; *R is left on the separator or the NUL. */
static char *
opt_value(char **r, char *w)
{
	char *p = *r;

	while (*p != '\0' && !opt_space(*p)) {
		if (*p == '\'' || *p == '"') {
			char quote = *p++;

			while (*p != quote && *p != '\0') {
				if (*p == '\\' && p[1] != '\0')
					p++;
				*w++ = *p++;
			}
			if (*p != '\0')
				p++;
		} else if (*p == '{') {
			/* A collection keeps its braces; \x inside it is x, and an
			 * escaped brace does not count. */
			int depth = 0;

			while (*p != '\0') {
				if (*p == '\\' && p[1] != '\0') {
					p++;
				} else if (*p == '{') {
					depth++;
				} else if (*p == '}' && --depth == 0) {
					*w++ = *p++;
					break;
				}
				*w++ = *p++;
			}
		} else if (*p == ',') {
			*w++ = *p++;
		} else {
			while (*p != '\0' && !opt_space(*p)) {
				if (*p == '\\' && p[1] != '\0')
					p++;
				*w++ = *p++;
			}
		}
	}
	*r = p;
	return w;
}

char *
p2m_options_get(const char *opts, gsize len, const char *name)
{
	g_autofree char *buf = NULL;
	char *p, *found = NULL;
	gsize n;

	if (opts == NULL || name == NULL || *name == '\0')
		return NULL;
	buf = g_strndup(opts, len);
	p = buf;
	n = strlen(buf);
	/* "{a=1 b=2}" is read without its outer braces, as libcups does. */
	if (n > 1 && buf[0] == '{' && buf[n - 1] == '}') {
		buf[n - 1] = '\0';
		p++;
	}
	while (opt_space(*p))
		p++;
	while (*p != '\0') {
		char *key = p, *val, *end;
		gsize key_len;

		while (*p != '\0' && !opt_space(*p) && *p != '=')
			p++;
		if (p == key)
			break;
		key_len = (gsize) (p - key);
		while (opt_space(*p))
			*p++ = '\0';
		if (*p != '=') {
			/* A bare name: NAME is true, noNAME is false ("no" alone is nothing). */
			gboolean no = key_len >= 2 && g_ascii_strncasecmp(key, "no", 2) == 0;
			const char *k = no ? key + 2 : key;

			key[key_len] = '\0';
			if (g_ascii_strcasecmp(k, name) == 0) {
				g_free(found);
				found = g_strdup(no ? "false" : "true");
			}
			continue;
		}
		key[key_len] = '\0';
		p++;
		val = p;
		end = opt_value(&p, val);
		if (*p != '\0')
			p++;
		*end = '\0';
		while (opt_space(*p))
			p++;
		if (g_ascii_strcasecmp(key, name) == 0) {
			g_free(found);
			found = g_strdup(val);
		}
	}
	return found;
}
