/* SPDX-License-Identifier: Apache-2.0 */
/* p2m-mime.c - MIME building blocks: RFC 2047 header text, folding, RFC 2231 file names, base64, Date, Message-ID. */
#include "config.h"

#include <errno.h>
#include <string.h>
#ifdef HAVE_GETRANDOM
#include <sys/random.h>
#else
#include <fcntl.h>
#include <unistd.h>
#endif

#include "p2m-addr.h"
#include "p2m-error.h"
#include "p2m-mime.h"
#include "p2m-text.h"

#define EW_PREFIX   "=?UTF-8?B?"
#define EW_OVERHEAD 12      /* "=?UTF-8?B?" + "?=" */
#define EW_MIN      20      /* room for one encoded 4-byte character */

/* ---- header text ----------------------------------------------------- */

/* Characters that must never survive into a header: they end lines or
 * hide text (C0, DEL, C1, line/paragraph separators). */
static gboolean
is_header_control(gunichar c)
{
	return c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || c == 0x2028 || c == 0x2029;
}

char *
p2m_mime_header_clean(const char *text)
{
	g_autofree char *valid = g_utf8_make_valid(text ? text : "", -1);
	GString *out = g_string_sized_new(strlen(valid));
	gboolean pending_space = FALSE;
	const char *p;

	for (p = valid; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);

		if (is_header_control(c) || g_unichar_isspace(c)) {
			pending_space = TRUE;
			continue;
		}
		if (pending_space && out->len > 0)
			g_string_append_c(out, ' ');
		pending_space = FALSE;
		g_string_append_len(out, p, g_utf8_next_char(p) - p);
	}
	return g_string_free(out, FALSE);
}

void
p2m_mime_hdr_begin(p2m_mime_hdr *h, GString *out, const char *name)
{
	h->out = out;
	h->col = 0;
	h->fresh = TRUE;
	for (; *name != '\0'; name++, h->col++)
		g_string_append_c(out, g_ascii_isgraph(*name) && *name != ':' ? *name : '?');
	g_string_append_c(out, ':');
	h->col++;
}

/* Appends " TOKEN" (LEN bytes); folds before it unless it is the first
 * token, so a header never starts with an empty line. */
static void
hdr_put(p2m_mime_hdr *h, const char *tok, gsize len)
{
	gsize i;

	if (!h->fresh && h->col + 1 + len > P2M_MIME_LINE_MAX) {
		g_string_append(h->out, "\r\n");
		h->col = 0;
	}
	g_string_append_c(h->out, ' ');
	for (i = 0; i < len; i++)
		g_string_append_c(h->out, (tok[i] >= 0x20 && tok[i] < 0x7f) ? tok[i] : '?');
	h->col += 1 + len;
	h->fresh = FALSE;
}

void
p2m_mime_hdr_token(p2m_mime_hdr *h, const char *token)
{
	hdr_put(h, token, strlen(token));
}

void
p2m_mime_hdr_end(p2m_mime_hdr *h)
{
	g_string_append(h->out, "\r\n");
	h->col = 0;
}

/* Room for the next token on the current line, or on a new one when too
 * little is left for an encoded-word worth writing. */
static gsize
hdr_room(const p2m_mime_hdr *h)
{
	gsize room = h->col + 1 < P2M_MIME_LINE_MAX ? P2M_MIME_LINE_MAX - h->col - 1 : 0;

	if (room < EW_MIN)
		room = P2M_MIME_LINE_MAX - 1;
	return MIN(room, P2M_MIME_WORD_MAX);
}

/* TEXT (clean UTF-8, not empty) as "=?UTF-8?B?...?=" words, each filling
 * the room left on its line and ending on a character boundary. */
static void
hdr_encoded_words(p2m_mime_hdr *h, const char *text)
{
	const char *p = text;

	while (*p != '\0') {
		gsize max = (hdr_room(h) - EW_OVERHEAD) / 4 * 3;
		gsize n = 0, clen;
		g_autofree char *b64 = NULL;
		g_autofree char *word = NULL;

		while (p[n] != '\0') {
			clen = (gsize) (g_utf8_next_char(p + n) - (p + n));
			if (n + clen > max)
				break;
			n += clen;
		}
		b64 = g_base64_encode((const guchar *) p, n);
		word = g_strconcat(EW_PREFIX, b64, "?=", NULL);
		hdr_put(h, word, strlen(word));
		p += n;
	}
}

/* Can TEXT be written as its own space-separated words?  Only printable
 * ASCII without "=?" (a decoder would take it for an encoded-word) and
 * with every word short enough to fold.  ATOMS restricts it to atext. */
static gboolean
plain_words_ok(const p2m_mime_hdr *h, const char *text, gboolean atoms)
{
	gsize word = 0, first_room = P2M_MIME_LINE_MAX - MIN(h->col + 1, P2M_MIME_LINE_MAX);
	gboolean first = h->fresh;
	const char *p;

	if (strstr(text, "=?") != NULL)
		return FALSE;
	for (p = text;; p++) {
		if (*p == ' ' || *p == '\0') {
			if (word > (first ? first_room : P2M_MIME_LINE_MAX - 1))
				return FALSE;
			first = FALSE;
			word = 0;
			if (*p == '\0')
				return TRUE;
			continue;
		}
		if (*p < 0x21 || *p > 0x7e)
			return FALSE;
		if (atoms && !(g_ascii_isalnum(*p) || strchr("!#$%&'*+-/=?^_`{|}~", *p) != NULL))
			return FALSE;
		word++;
	}
}

static void
hdr_plain_words(p2m_mime_hdr *h, const char *text)
{
	const char *p = text, *sp;

	while (*p != '\0') {
		sp = strchr(p, ' ');
		hdr_put(h, p, sp ? (gsize) (sp - p) : strlen(p));
		p = sp ? sp + 1 : p + strlen(p);
	}
}

void
p2m_mime_hdr_text(p2m_mime_hdr *h, const char *text)
{
	g_autofree char *clean = p2m_mime_header_clean(text);

	if (*clean == '\0')
		return;
	if (plain_words_ok(h, clean, FALSE))
		hdr_plain_words(h, clean);
	else
		hdr_encoded_words(h, clean);
}

/* NAME as a quoted-string, written word by word so it can fold at its
 * spaces (FWS inside a quoted-string keeps the space when unfolded); FALSE
 * when NAME is not printable ASCII or has a word too long to fold. */
static gboolean
hdr_quoted(p2m_mime_hdr *h, const char *name)
{
	g_autoptr(GString) q = g_string_new("\"");
	g_auto(GStrv) words = NULL;
	const char *p;
	gsize i;

	for (p = name; *p != '\0'; p++)
		if (*p < 0x20 || *p > 0x7e)
			return FALSE;
	words = g_strsplit(name, " ", -1);
	for (i = 0; words[i] != NULL; i++) {
		gsize len = strlen(words[i]);

		for (p = words[i]; *p != '\0'; p++)
			len += (*p == '"' || *p == '\\');
		if (len > P2M_MIME_LINE_MAX - 8)
			return FALSE;
	}
	for (i = 0; words[i] != NULL; i++) {
		for (p = words[i]; *p != '\0'; p++) {
			if (*p == '"' || *p == '\\')
				g_string_append_c(q, '\\');
			g_string_append_c(q, *p);
		}
		if (words[i + 1] == NULL)
			g_string_append_c(q, '"');
		hdr_put(h, q->str, q->len);
		g_string_truncate(q, 0);
	}
	return TRUE;
}

void
p2m_mime_hdr_phrase(p2m_mime_hdr *h, const char *name)
{
	g_autofree char *clean = p2m_mime_header_clean(name);

	if (*clean == '\0')
		return;
	if (plain_words_ok(h, clean, TRUE))
		hdr_plain_words(h, clean);
	else if (strstr(clean, "=?") != NULL || !hdr_quoted(h, clean))
		/* RFC 2047 6.2: the space between adjacent encoded-words is not
		 * part of the text.  (Python 3.11's address parser keeps it, as
		 * it does for its own output; RFC readers do not.) */
		hdr_encoded_words(h, clean);
}

char *
p2m_mime_header(const char *name, const char *text)
{
	GString *out = g_string_new(NULL);
	p2m_mime_hdr h;

	p2m_mime_hdr_begin(&h, out, name);
	p2m_mime_hdr_text(&h, text);
	p2m_mime_hdr_end(&h);
	return g_string_free(out, FALSE);
}

/* ---- file name parameters (RFC 2231) --------------------------------- */

static gboolean
is_attr_char(unsigned char ch)
{
	return g_ascii_isalnum(ch) || (ch != 0 && strchr("!#$&+-.^_`|~", ch) != NULL);
}

/* Percent-encoded pieces of NAME, one per UTF-8 character, so a
 * continuation never splits a character. */
static GPtrArray *
rfc2231_pieces(const char *name)
{
	GPtrArray *pieces = g_ptr_array_new_with_free_func(g_free);
	const char *p, *next;

	for (p = name; *p != '\0'; p = next) {
		GString *piece = g_string_new(NULL);

		next = g_utf8_next_char(p);
		for (; p < next; p++) {
			if (is_attr_char((unsigned char) *p))
				g_string_append_c(piece, *p);
			else
				g_string_append_printf(piece, "%%%02X", (unsigned char) *p);
		}
		g_ptr_array_add(pieces, g_string_free(piece, FALSE));
	}
	return pieces;
}

static void
hdr_param(p2m_mime_hdr *h, GString *param, gboolean last)
{
	if (!last)
		g_string_append_c(param, ';');
	hdr_put(h, param->str, param->len);
}

static void
hdr_filename_2231(p2m_mime_hdr *h, const char *attr, const char *name, gboolean last)
{
	g_autoptr(GPtrArray) pieces = rfc2231_pieces(name);
	g_autoptr(GString) seg = g_string_new(NULL);
	/* a segment and its ';' fit on a continuation line */
	const gsize max = P2M_MIME_LINE_MAX - 2;
	guint i, n = 0;

	g_string_printf(seg, "%s*=UTF-8''", attr);
	for (i = 0; i < pieces->len; i++)
		g_string_append(seg, g_ptr_array_index(pieces, i));
	if (seg->len <= max) {
		hdr_param(h, seg, last);
		return;
	}
	g_string_printf(seg, "%s*0*=UTF-8''", attr);
	for (i = 0; i < pieces->len; i++) {
		const char *piece = g_ptr_array_index(pieces, i);

		if (seg->len + strlen(piece) > max) {
			hdr_param(h, seg, FALSE);
			g_string_printf(seg, "%s*%u*=", attr, ++n);
		}
		g_string_append(seg, piece);
	}
	hdr_param(h, seg, last);
}

void
p2m_mime_hdr_filename(p2m_mime_hdr *h, const char *attr, const char *name, gboolean last)
{
	g_autoptr(GString) param = g_string_new(NULL);
	const char *p;

	for (p = name; *p != '\0'; p++)
		if (*p < 0x20 || *p > 0x7e || *p == '"' || *p == '\\')
			break;
	g_string_printf(param, "%s=\"%s\"", attr, name);
	if (*p == '\0' && param->len <= P2M_MIME_LINE_MAX - 2)
		hdr_param(h, param, last);
	else
		hdr_filename_2231(h, attr, name, last);
}

/* ---- safe file names --------------------------------------------------- */

static const struct {
	const char *type;
	const char *ext;
	const char *also;   /* another accepted spelling */
} type_ext[] = {
	{ "application/pdf", "pdf", NULL },
	{ "application/postscript", "ps", NULL },
	{ "image/jpeg", "jpg", "jpeg" },
	{ "image/png", "png", NULL },
	{ "image/tiff", "tif", "tiff" },
	{ "text/plain", "txt", NULL },
};

/* Extensions of what a print job was made from: replaced, not kept, when
 * the attachment is really a PDF ("report.docx" -> "report.pdf"). */
static const char *const source_ext[] = {
	"doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt", "ods", "odp", "rtf",
	"txt", "htm", "html", "xps", "oxps", "ps", "jpg", "jpeg", "png", "tif", "tiff", NULL
};

/* Skips a "smbprn.00000123 " spool prefix and a "Microsoft Word - " style
 * application prefix that Windows clients put in front of the title. */
static const char *
skip_client_prefix(const char *s)
{
	const char *p;

	if (g_ascii_strncasecmp(s, "smbprn.", 7) == 0 && g_ascii_isdigit(s[7])) {
		for (p = s + 7; g_ascii_isdigit(*p); p++)
			;
		if (*p == ' ')
			s = p + 1;
	}
	if (g_str_has_prefix(s, "Microsoft ")) {
		for (p = s + 10; g_ascii_isalpha(*p) && p - s < 40; p++)
			;
		if (g_str_has_prefix(p, " - ") && p[3] != '\0')
			s = p + 3;
	}
	return s;
}

/* The last path component of S, whichever slash a client used. */
static const char *
last_component(const char *s)
{
	const char *slash = strrchr(s, '/'), *back = strrchr(s, '\\');

	if (back != NULL && (slash == NULL || back > slash))
		slash = back;
	return slash ? slash + 1 : s;
}

/* Copies S without format characters (bidi overrides could disguise the
 * extension) and with the characters Windows forbids replaced. */
static GString *
filename_chars(const char *s)
{
	GString *out = g_string_new(NULL);
	const char *p;

	for (p = s; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);

		if (g_unichar_type(c) == G_UNICODE_FORMAT)
			continue;
		if (c < 0x80 && strchr("\"*/:<>?\\|", (int) c) != NULL)
			g_string_append_c(out, '_');
		else
			g_string_append_len(out, p, g_utf8_next_char(p) - p);
	}
	return out;
}

static void
trim_end(GString *s)
{
	while (s->len > 0 && (s->str[s->len - 1] == ' ' || s->str[s->len - 1] == '.'))
		g_string_truncate(s, s->len - 1);
}

/* Cuts S to at most MAX bytes on a UTF-8 boundary. */
static void
cut_utf8(GString *s, gsize max)
{
	if (s->len <= max)
		return;
	g_string_truncate(s, p2m_text_utf8_cut(s->str, s->len, max));
	trim_end(s);
}

static const char *
ext_of(const char *name)
{
	const char *dot = strrchr(name, '.');

	return (dot != NULL && dot != name) ? dot + 1 : NULL;
}

/* Gives STEM (no leading dot, trimmed) the extension TYPE calls for. */
static void
set_extension(GString *stem, const char *content_type)
{
	const char *ext, *want = NULL, *also = NULL;
	gsize i;

	for (i = 0; i < G_N_ELEMENTS(type_ext); i++)
		if (g_ascii_strcasecmp(content_type, type_ext[i].type) == 0) {
			want = type_ext[i].ext;
			also = type_ext[i].also;
		}
	if (want == NULL)
		return;
	ext = ext_of(stem->str);
	if (ext != NULL && (g_ascii_strcasecmp(ext, want) == 0 || (also && g_ascii_strcasecmp(ext, also) == 0)))
		return;
	for (i = 0; ext != NULL && source_ext[i] != NULL; i++)
		if (g_ascii_strcasecmp(ext, source_ext[i]) == 0) {
			g_string_truncate(stem, (gsize) (ext - 1 - stem->str));
			trim_end(stem);
			break;
		}
	cut_utf8(stem, P2M_MIME_FILENAME_MAX - 1 - strlen(want));
	if (stem->len == 0)
		g_string_assign(stem, "document");
	g_string_append_printf(stem, ".%s", want);
}

char *
p2m_mime_safe_filename(const char *title, const char *content_type)
{
	g_autofree char *clean = p2m_mime_header_clean(title);
	GString *name;
	gsize i;

	name = filename_chars(last_component(skip_client_prefix(clean)));
	/* collapsed by header_clean, but the cut ends may have left blanks */
	while (name->len > 0 && name->str[0] == ' ')
		g_string_erase(name, 0, 1);
	for (i = 0; i < name->len && name->str[i] == '.'; i++)
		name->str[i] = '_';
	trim_end(name);
	cut_utf8(name, P2M_MIME_FILENAME_MAX);
	if (name->len == 0)
		g_string_assign(name, "document");
	set_extension(name, content_type ? content_type : "application/pdf");
	return g_string_free(name, FALSE);
}

char *
p2m_mime_ascii_filename(const char *name)
{
	g_autofree char *valid = g_utf8_make_valid(name ? name : "", -1);
	g_autofree char *ascii = g_str_to_ascii(valid, "C");
	GString *out = g_string_new(NULL);
	const char *p, *ext;
	gsize extlen;

	for (p = ascii; *p != '\0'; p++)
		g_string_append_c(out, (*p >= 0x20 && *p < 0x7f && strchr("\"*/:<>?\\|", *p) == NULL) ? *p : '_');
	if (out->len > P2M_MIME_FALLBACK_MAX) {
		ext = ext_of(out->str);
		extlen = (ext != NULL && strlen(ext) < 10) ? strlen(ext) + 1 : 0;
		memmove(out->str + P2M_MIME_FALLBACK_MAX - extlen, out->str + out->len - extlen, extlen);
		g_string_truncate(out, P2M_MIME_FALLBACK_MAX);
	}
	if (out->len == 0)
		g_string_assign(out, "document");
	return g_string_free(out, FALSE);
}

gboolean
p2m_mime_content_type_is_valid(const char *ct)
{
	const char *p;
	guint slashes = 0;

	if (ct == NULL || *ct == '\0' || *ct == '/' || strlen(ct) > 127)
		return FALSE;
	for (p = ct; *p != '\0'; p++) {
		if (*p == '/') {
			if (++slashes > 1 || p[1] == '\0')
				return FALSE;
			continue;
		}
		if (*p <= 0x20 || *p >= 0x7f || strchr("()<>@,;:\\\"[]?=", *p) != NULL)
			return FALSE;
	}
	return slashes == 1;
}

/* ---- base64 ------------------------------------------------------------ */

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* One group of N (1..3) bytes as 4 characters, then CRLF at 76 columns. */
static gsize
b64_group(p2m_mime_b64 *s, const guint8 *in, gsize n, char *out)
{
	guint32 v = (guint32) in[0] << 16 | (n > 1 ? (guint32) in[1] << 8 : 0) | (n > 2 ? in[2] : 0);
	gsize o = 0;

	out[o++] = b64_alphabet[(v >> 18) & 63];
	out[o++] = b64_alphabet[(v >> 12) & 63];
	out[o++] = n > 1 ? b64_alphabet[(v >> 6) & 63] : '=';
	out[o++] = n > 2 ? b64_alphabet[v & 63] : '=';
	s->col += 4;
	if (s->col >= P2M_MIME_B64_LINE) {
		out[o++] = '\r';
		out[o++] = '\n';
		s->col = 0;
	}
	return o;
}

void
p2m_mime_b64_init(p2m_mime_b64 *s)
{
	memset(s, 0, sizeof(*s));
}

gsize
p2m_mime_b64_feed(p2m_mime_b64 *s, const void *in, gsize len, char *out)
{
	const guint8 *p = in;
	gsize o = 0;

	while (s->ncarry > 0 && s->ncarry < 3 && len > 0) {
		s->carry[s->ncarry++] = *p++;
		len--;
	}
	if (s->ncarry == 3) {
		o += b64_group(s, s->carry, 3, out + o);
		s->ncarry = 0;
	}
	for (; len >= 3; p += 3, len -= 3)
		o += b64_group(s, p, 3, out + o);
	while (len-- > 0)
		s->carry[s->ncarry++] = *p++;
	return o;
}

gsize
p2m_mime_b64_finish(p2m_mime_b64 *s, char *out)
{
	gsize o = 0;

	if (s->ncarry > 0)
		o += b64_group(s, s->carry, s->ncarry, out);
	if (s->col > 0) {
		out[o++] = '\r';
		out[o++] = '\n';
	}
	p2m_mime_b64_init(s);
	return o;
}

/* ---- Date, Message-ID, boundary ---------------------------------------- */

char *
p2m_mime_date(time_t t)
{
	static const char *const days[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	g_autoptr(GDateTime) dt = t ? g_date_time_new_from_unix_local((gint64) t) : g_date_time_new_now_local();
	gint64 off;
	char sign;

	if (dt == NULL)   /* out of GDateTime's range: the epoch is a valid date */
		dt = g_date_time_new_from_unix_utc(0);
	off = g_date_time_get_utc_offset(dt) / G_TIME_SPAN_MINUTE;
	sign = off < 0 ? '-' : '+';
	off = off < 0 ? -off : off;
	return g_strdup_printf("%s, %02d %s %04d %02d:%02d:%02d %c%02d%02d",
	                       days[g_date_time_get_day_of_week(dt) - 1],
	                       g_date_time_get_day_of_month(dt),
	                       months[g_date_time_get_month(dt) - 1],
	                       g_date_time_get_year(dt),
	                       g_date_time_get_hour(dt), g_date_time_get_minute(dt),
	                       g_date_time_get_second(dt), sign, (int) (off / 60), (int) (off % 60));
}

/* LEN random bytes from the kernel; never from a time seed. */
static gboolean
random_bytes(guint8 *buf, gsize len, GError **error)
{
	gsize got = 0;
	ssize_t r;
#ifndef HAVE_GETRANDOM
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		goto fail;
#endif
	while (got < len) {
#ifdef HAVE_GETRANDOM
		r = getrandom(buf + got, len - got, 0);
#else
		r = read(fd, buf + got, len - got);
#endif
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			goto fail;
		got += (gsize) r;
	}
#ifndef HAVE_GETRANDOM
	close(fd);
#endif
	return TRUE;
fail:
	g_set_error(error, P2M_ERROR, P2M_E_INTERNAL, "no random numbers from the kernel: %s",
	            g_strerror(errno));
#ifndef HAVE_GETRANDOM
	if (fd >= 0)
		close(fd);
#endif
	return FALSE;
}

static char *
random_hex(GError **error)
{
	guint8 r[16];
	char hex[33];
	gsize i;

	if (!random_bytes(r, sizeof(r), error))
		return NULL;
	for (i = 0; i < sizeof(r); i++)
		g_snprintf(hex + 2 * i, 3, "%02x", r[i]);
	return g_strdup(hex);
}

char *
p2m_mime_message_id(const char *domain, GError **error)
{
	g_autofree char *hex = NULL;

	if (!p2m_addr_domain_is_valid(domain)) {
		g_autofree char *shown = g_strescape(domain ? domain : "", NULL);

		g_set_error(error, P2M_ERROR, P2M_E_ADDRESS,
		            "'%s' is not a valid domain for a Message-ID", shown);
		return NULL;
	}
	if ((hex = random_hex(error)) == NULL)
		return NULL;
	return g_strdup_printf("<%s@%s>", hex, domain);
}

char *
p2m_mime_boundary(GError **error)
{
	g_autofree char *hex = random_hex(error);

	return hex ? g_strconcat("=_p2m_", hex, NULL) : NULL;
}
