/* SPDX-License-Identifier: Apache-2.0 */
/* p2m-reply.c - pure parser of one SMTP reply: basic code, enhanced code, text without the server's suffix. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "p2m-reply.h"

/* Codes found at the start of one reply line. */
typedef struct {
	int    code, cls, subject, detail;
	size_t text;    /* offset of the text after the codes */
} line_codes;

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static char
lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char) (c - 'A' + 'a') : c;
}

/* Reads 1..3 digits at S[*I]; -1 when there are none or more than three. */
static int
read_number(const char *s, size_t n, size_t *i)
{
	int v = 0, digits = 0;

	while (*i < n && is_digit(s[*i])) {
		if (++digits > 3)
			return -1;
		v = v * 10 + (s[*i] - '0');
		(*i)++;
	}
	return digits > 0 ? v : -1;
}

/* "C.S.D" at S (RFC 3463: class 2/4/5, subject and detail of 1-3 digits),
 * ended by the end, a blank or punctuation.  Returns its length or 0. */
static size_t
parse_enhanced(const char *s, size_t n, int *cls, int *subject, int *detail)
{
	size_t i = 1;
	int sub, det;

	if (n < 5 || (s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.')
		return 0;
	i = 2;
	if ((sub = read_number(s, n, &i)) < 0 || i >= n || s[i] != '.')
		return 0;
	i++;
	if ((det = read_number(s, n, &i)) < 0)
		return 0;
	if (i < n && !is_blank(s[i]) && s[i] != ';' && s[i] != ',' && s[i] != ':')
		return 0;
	*cls = s[0] - '0';
	*subject = sub;
	*detail = det;
	return i;
}

/* Codes of one line S[0..N): "535 5.7.3 text", "250-text", "421: 4.3.2 text",
 * "4.7.0 text", or plain text. */
static void
parse_line(const char *s, size_t n, line_codes *lc)
{
	size_t i = 0, k;

	memset(lc, 0, sizeof(*lc));
	while (i < n && is_blank(s[i]))
		i++;
	if (n - i >= 3 && s[i] >= '2' && s[i] <= '5' && is_digit(s[i + 1]) && is_digit(s[i + 2]) &&
	    (n - i == 3 || is_blank(s[i + 3]) || s[i + 3] == '-' || s[i + 3] == ':' || s[i + 3] == '\r')) {
		lc->code = (s[i] - '0') * 100 + (s[i + 1] - '0') * 10 + (s[i + 2] - '0');
		i += 3;
		if (i < n && (s[i] == '-' || s[i] == ':'))
			i++;
		while (i < n && is_blank(s[i]))
			i++;
	}
	if ((k = parse_enhanced(s + i, n - i, &lc->cls, &lc->subject, &lc->detail)) > 0) {
		i += k;
		while (i < n && (is_blank(s[i]) || s[i] == ':'))
			i++;
	}
	lc->text = i;
}

/* Appends S[0..N) to DST (length *DLEN, capacity CAP), control characters
 * turned into spaces so the text is safe in a one-line message. */
static void
append_clean(char *dst, size_t *dlen, size_t cap, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n && *dlen + 1 < cap; i++) {
		unsigned char c = (unsigned char) s[i];

		dst[(*dlen)++] = (c < 0x20 || c == 0x7f) ? ' ' : (char) c;
	}
	dst[*dlen] = '\0';
}

static void
trim_right(char *s, size_t *len)
{
	while (*len > 0 && (s[*len - 1] == ' ' || s[*len - 1] == '\t'))
		s[--(*len)] = '\0';
}

/* A Microsoft frontend name: "SN2PR00CA0018.namprd00.prod.outlook.com".
 * Needs a dot and a letter, so a bare IP address "[192.0.2.1]" (which names
 * the client and helps the admin) is not mistaken for per-connection noise. */
static int
looks_like_host(const char *s, size_t n)
{
	size_t i;
	int dot = 0, alpha = 0;

	if (n < 4)
		return 0;
	for (i = 0; i < n; i++) {
		char c = lower(s[i]);

		if (c == '.')
			dot = 1;
		else if (c >= 'a' && c <= 'z')
			alpha = 1;
		else if (!is_digit(c) && c != '-')
			return 0;
	}
	return dot && alpha;
}

/* The bracketed suffix content S[0..N): "HOST", "HOST TIMESTAMP HEXID"
 * (possibly cut short) or "Hostname=HOST". */
static int
looks_like_diag(const char *s, size_t n)
{
	size_t first = 0, i, tokens = 1;

	if (n >= 9 && strncmp(s, "Hostname=", 9) == 0)
		return 1;
	while (first < n && !is_blank(s[first]))
		first++;
	if (!looks_like_host(s, first))
		return 0;
	for (i = first; i < n; i++)
		if (is_blank(s[i]) && i + 1 < n && !is_blank(s[i + 1]))
			tokens++;
	return tokens <= 3;
}

/* Moves a trailing Microsoft suffix from OUT->text into OUT->diag. */
static void
strip_suffix(p2m_reply *out, size_t *len)
{
	char *open, *close;
	size_t start, end, n;

	trim_right(out->text, len);
	if ((open = strrchr(out->text, '[')) == NULL)
		return;
	start = (size_t) (open - out->text) + 1;
	close = strchr(open, ']');
	if (close != NULL && (size_t) (close - out->text) != *len - 1)
		return;         /* text goes on after the bracket: not a suffix */
	end = close != NULL ? (size_t) (close - out->text) : *len;
	if (!looks_like_diag(out->text + start, end - start))
		return;
	n = end - start < sizeof(out->diag) - 1 ? end - start : sizeof(out->diag) - 1;
	memcpy(out->diag, out->text + start, n);
	out->diag[n] = '\0';
	*len = start - 1;
	out->text[*len] = '\0';
	trim_right(out->text, len);
}

/* Offset of "Error: NNN " in TEXT (case-insensitive), pointing at NNN; 0 if none. */
static size_t
find_embedded(const char *text, size_t len)
{
	static const char key[] = "error: ";
	size_t i, k;

	for (i = 0; i + sizeof(key) - 1 + 4 <= len; i++) {
		for (k = 0; k < sizeof(key) - 1 && lower(text[i + k]) == key[k]; k++)
			;
		if (k < sizeof(key) - 1)
			continue;
		k = i + sizeof(key) - 1;
		if (text[k] >= '2' && text[k] <= '5' && is_digit(text[k + 1]) && is_digit(text[k + 2]) &&
		    (text[k + 3] == ' ' || text[k + 3] == '\0'))
			return k;
	}
	return 0;
}

/* Bounds [*S, *E) of the last non-empty line of BUF[0..N), or -1 if none. */
static int
last_line(const char *buf, size_t n, size_t *s, size_t *e)
{
	size_t end = n, i;

	while (end > 0 && (buf[end - 1] == '\r' || buf[end - 1] == '\n' || is_blank(buf[end - 1])))
		end--;
	if (end == 0)
		return -1;
	for (i = end; i > 0 && buf[i - 1] != '\n'; i--)
		;
	*s = i;
	*e = end;
	return 0;
}

int
p2m_reply_parse(const char *reply, size_t len, p2m_reply *out)
{
	line_codes last, lc;
	size_t ls, le, pos, eol, tlen = 0;

	memset(out, 0, sizeof(*out));
	if (reply == NULL)
		len = 0;
	if (len > P2M_REPLY_MAX)
		len = P2M_REPLY_MAX;
	if (last_line(reply, len, &ls, &le) != 0)
		return -1;
	parse_line(reply + ls, le - ls, &last);
	out->code = last.code;
	out->cls = last.cls;
	out->subject = last.subject;
	out->detail = last.detail;
	if (last.cls != 0)
		snprintf(out->enhanced, sizeof(out->enhanced), "%d.%d.%d", last.cls, last.subject, last.detail);

	/* Text: the lines of the same reply (same basic code) in order; a
	 * reply without a basic code is its last line alone. */
	for (pos = last.code != 0 ? 0 : ls; pos < le; pos = eol + 1) {
		const char *nl = memchr(reply + pos, '\n', le - pos);

		eol = nl != NULL ? (size_t) (nl - reply) : le;
		parse_line(reply + pos, eol - pos, &lc);
		if (lc.code != last.code || lc.text >= eol - pos)
			continue;
		if (tlen > 0)
			append_clean(out->text, &tlen, sizeof(out->text), " ", 1);
		append_clean(out->text, &tlen, sizeof(out->text), reply + pos + lc.text, eol - pos - lc.text);
		trim_right(out->text, &tlen);
	}
	strip_suffix(out, &tlen);
	out->embedded = find_embedded(out->text, tlen);
	return (out->code != 0 || out->cls != 0) ? 0 : -1;
}

int
p2m_reply_embedded(const p2m_reply *r, p2m_reply *inner)
{
	if (r == NULL || r->embedded == 0 || r->embedded >= sizeof(r->text)) {
		if (inner != NULL)
			memset(inner, 0, sizeof(*inner));
		return -1;
	}
	return p2m_reply_parse(r->text + r->embedded, strlen(r->text + r->embedded), inner);
}

int
p2m_reply_is(const p2m_reply *r, int cls, int subject, int detail)
{
	return r != NULL && r->cls == cls && r->subject == subject && r->detail == detail;
}
