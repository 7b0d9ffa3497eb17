/* SPDX-License-Identifier: Apache-2.0 */
/* p2m-compose.c - stream a document out as a MIME message, and read the envelope of a composed one. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "p2m-addr.h"
#include "p2m-compose.h"
#include "p2m-error.h"
#include "p2m-mime.h"

/* 57 bytes make one 76-character base64 line: reading in multiples of it
 * keeps lines whole per chunk (not needed for correctness, only tidy). */
#define DOC_CHUNK   (57 * 1024)
#define TAIL_MAX    128

typedef enum { ST_HEAD, ST_DOC, ST_DONE, ST_ERROR } compose_state;

struct p2m_composer {
	compose_state state;
	GString      *head;         /* headers, text part, attachment part headers */
	char         *boundary;
	int           fd;
	guint64       doc_bytes;
	p2m_mime_b64  b64;
	guint8       *in;           /* DOC_CHUNK bytes of document */
	char         *out;          /* their base64, or the closing lines */
	const char   *pending;      /* what read() hands out next ... */
	gsize         pending_len;  /* ... and how much of it is left */
	GError       *failure;      /* kept so every later read fails the same way */
};

/* "NAME: a@x, b@y" folded after the commas. */
static void
add_address_list(GString *out, const char *name, const char *const *addrs)
{
	p2m_mime_hdr h;
	gsize i;

	p2m_mime_hdr_begin(&h, out, name);
	for (i = 0; addrs[i] != NULL; i++) {
		g_autofree char *tok = g_strconcat(addrs[i], addrs[i + 1] ? "," : "", NULL);

		p2m_mime_hdr_token(&h, tok);
	}
	p2m_mime_hdr_end(&h);
}

static void
add_text_header(GString *out, const char *name, const char *text)
{
	p2m_mime_hdr h;

	p2m_mime_hdr_begin(&h, out, name);
	p2m_mime_hdr_text(&h, text);
	p2m_mime_hdr_end(&h);
}

/* Every address valid, at least one To, at most P2M_ADDR_MAX_RECIPIENTS each. */
static gboolean
check_addresses(const p2m_compose_info *info, GError **error)
{
	const char *const *lists[2] = { info->to, info->cc };
	const char *names[2] = { "To", "Cc" };
	gsize i, n;

	if (!p2m_addr_check(info->from, error)) {
		g_prefix_error(error, "From: ");
		return FALSE;
	}
	if (info->to == NULL || info->to[0] == NULL) {
		g_set_error(error, P2M_ERROR, P2M_E_NO_RECIPIENT, "the message has no recipient");
		return FALSE;
	}
	for (i = 0; i < 2; i++) {
		for (n = 0; lists[i] != NULL && lists[i][n] != NULL; n++) {
			if (!p2m_addr_check(lists[i][n], error)) {
				g_prefix_error(error, "%s: ", names[i]);
				return FALSE;
			}
		}
		if (n > P2M_ADDR_MAX_RECIPIENTS) {
			g_set_error(error, P2M_ERROR, P2M_E_ADDRESS, "%s: too many recipients (%" G_GSIZE_FORMAT
			            ", at most %d)", names[i], n, P2M_ADDR_MAX_RECIPIENTS);
			return FALSE;
		}
	}
	return TRUE;
}

/* BODY as canonical text (CRLF line ends, valid UTF-8), base64 encoded. */
static void
add_body_part(GString *out, const char *body)
{
	g_autofree char *valid = g_utf8_make_valid(body ? body : "", -1);
	g_autoptr(GString) crlf = g_string_sized_new(strlen(valid) + 64);
	p2m_mime_b64 b64;
	gsize start, n;
	const char *p;

	for (p = valid; *p != '\0'; p++) {
		if (*p == '\r' || *p == '\n') {
			g_string_append(crlf, "\r\n");
			if (p[0] == '\r' && p[1] == '\n')
				p++;
		} else {
			g_string_append_c(crlf, *p);
		}
	}
	g_string_append(out, "Content-Type: text/plain; charset=utf-8\r\n"
	                     "Content-Transfer-Encoding: base64\r\n\r\n");
	p2m_mime_b64_init(&b64);
	start = out->len;
	g_string_set_size(out, start + P2M_MIME_B64_OUT_MAX(crlf->len));
	n = p2m_mime_b64_feed(&b64, crlf->str, crlf->len, out->str + start);
	n += p2m_mime_b64_finish(&b64, out->str + start + n);
	g_string_set_size(out, start + n);
	/* an empty body still needs the CRLF that belongs to the next delimiter */
	if (n == 0)
		g_string_append(out, "\r\n");
}

static void
add_attachment_headers(GString *out, const char *ct, const char *filename)
{
	g_autofree char *ascii = p2m_mime_ascii_filename(filename);
	g_autofree char *ct_tok = g_strconcat(ct, ";", NULL);
	p2m_mime_hdr h;

	/* The ASCII name in Content-Type is for readers that know no RFC 2231;
	 * the real name is in Content-Disposition.  Having both forms in one
	 * header would be a duplicate parameter to strict parsers. */
	p2m_mime_hdr_begin(&h, out, "Content-Type");
	p2m_mime_hdr_token(&h, ct_tok);
	p2m_mime_hdr_filename(&h, "name", ascii, TRUE);
	p2m_mime_hdr_end(&h);
	p2m_mime_hdr_begin(&h, out, "Content-Disposition");
	p2m_mime_hdr_token(&h, "attachment;");
	p2m_mime_hdr_filename(&h, "filename", filename, TRUE);
	p2m_mime_hdr_end(&h);
	g_string_append(out, "Content-Transfer-Encoding: base64\r\n\r\n");
}

/* Everything before the document: the header block, the text part and the
 * attachment's part headers. */
static gboolean
build_head(p2m_composer *c, const p2m_compose_info *info, const char *ct, GError **error)
{
	g_autofree char *filename = NULL, *subject = NULL, *date = NULL, *msgid = NULL;
	const char *msgid_domain = info->message_id_domain ? info->message_id_domain
	                                                   : p2m_addr_domain(info->from);
	GString *out = c->head;
	p2m_mime_hdr h;

	filename = p2m_mime_safe_filename(info->attachment_name ? info->attachment_name : info->subject, ct);
	subject = p2m_mime_header_clean(info->subject);
	if (*subject == '\0') {
		g_free(subject);
		subject = g_strdup(filename);
	}
	if ((msgid = p2m_mime_message_id(msgid_domain, error)) == NULL)
		return FALSE;
	if ((c->boundary = p2m_mime_boundary(error)) == NULL)
		return FALSE;
	date = p2m_mime_date(info->date);

	p2m_mime_hdr_begin(&h, out, "From");
	p2m_mime_hdr_phrase(&h, info->from_name);
	{
		g_autofree char *angle = g_strdup_printf("<%s>", info->from);
		p2m_mime_hdr_token(&h, angle);
	}
	p2m_mime_hdr_end(&h);
	add_address_list(out, "To", info->to);
	if (info->cc != NULL && info->cc[0] != NULL)
		add_address_list(out, "Cc", info->cc);
	add_text_header(out, "Subject", subject);
	g_string_append_printf(out, "Date: %s\r\n", date);
	g_string_append_printf(out, "Message-ID: %s\r\n", msgid);
	g_string_append(out, "MIME-Version: 1.0\r\n"
	                     "Auto-Submitted: auto-generated\r\n"
	                     "X-Mailer: print2mail/" PACKAGE_VERSION "\r\n");
	g_string_append_printf(out, "Content-Type: multipart/mixed;\r\n boundary=\"%s\"\r\n\r\n", c->boundary);

	g_string_append_printf(out, "--%s\r\n", c->boundary);
	add_body_part(out, info->body_text);
	g_string_append_printf(out, "--%s\r\n", c->boundary);
	add_attachment_headers(out, ct, filename);
	return TRUE;
}

p2m_composer *
p2m_compose_new(const p2m_compose_info *info, int doc_fd, GError **error)
{
	g_autoptr(p2m_composer) c = NULL;
	const char *ct = info->content_type ? info->content_type : "application/pdf";

	if (!check_addresses(info, error))
		return NULL;
	if (!p2m_mime_content_type_is_valid(ct)) {
		g_set_error(error, P2M_ERROR, P2M_E_DOCUMENT, "'%s' is not a valid document type", ct);
		return NULL;
	}
	if (doc_fd < 0) {
		g_set_error(error, P2M_ERROR, P2M_E_DOCUMENT, "no document to attach");
		return NULL;
	}
	c = g_new0(p2m_composer, 1);
	c->fd = doc_fd;
	c->head = g_string_sized_new(4096);
	c->in = g_malloc(DOC_CHUNK);
	c->out = g_malloc(P2M_MIME_B64_OUT_MAX(DOC_CHUNK) + TAIL_MAX);
	p2m_mime_b64_init(&c->b64);
	if (!build_head(c, info, ct, error))
		return NULL;
	c->state = ST_HEAD;
	c->pending = c->head->str;
	c->pending_len = c->head->len;
	return g_steal_pointer(&c);
}

/* Reads the next piece of the document and makes its base64 pending; at
 * the end, the last base64 line and the closing delimiter. */
static gboolean
refill(p2m_composer *c, GError **error)
{
	ssize_t r;
	gsize n;

	do
		r = read(c->fd, c->in, DOC_CHUNK);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		int e = errno;

		g_set_error(error, P2M_ERROR, P2M_E_DOCUMENT, "cannot read the document: %s", g_strerror(e));
		return FALSE;
	}
	if (r > 0) {
		c->doc_bytes += (guint64) r;
		n = p2m_mime_b64_feed(&c->b64, c->in, (gsize) r, c->out);
	} else {
		n = p2m_mime_b64_finish(&c->b64, c->out);
		/* the delimiter needs a CRLF of its own after an empty part */
		if (c->doc_bytes == 0)
			c->out[n++] = '\r', c->out[n++] = '\n';
		n += (gsize) g_snprintf(c->out + n, TAIL_MAX, "--%s--\r\n", c->boundary);
		c->state = ST_DONE;
	}
	c->pending = c->out;
	c->pending_len = n;
	return TRUE;
}

gssize
p2m_compose_read(p2m_composer *c, char *buf, gsize len, GError **error)
{
	gsize done = 0, n;

	g_return_val_if_fail(c != NULL && buf != NULL, -1);
	while (done < len) {
		if (c->state == ST_ERROR) {
			if (error != NULL)
				*error = g_error_copy(c->failure);
			return -1;
		}
		if (c->pending_len > 0) {
			n = MIN(len - done, c->pending_len);
			memcpy(buf + done, c->pending, n);
			c->pending += n;
			c->pending_len -= n;
			done += n;
			continue;
		}
		if (c->state == ST_DONE)
			break;
		c->state = ST_DOC;
		if (!refill(c, &c->failure))
			c->state = ST_ERROR;
	}
	return (gssize) done;
}

guint64
p2m_compose_document_bytes(const p2m_composer *c)
{
	return c ? c->doc_bytes : 0;
}

/* What p2m_mime_b64_feed and _finish make of N bytes: 4 characters per 3
 * bytes (the last group padded), a CRLF after every 76 and after the last
 * line. */
static guint64
b64_size(guint64 n)
{
	guint64 chars = (n / 3 + (n % 3 != 0)) * 4;

	return chars + (chars + P2M_MIME_B64_LINE - 1) / P2M_MIME_B64_LINE * 2;
}

guint64
p2m_compose_message_size(const p2m_composer *c, guint64 doc_size)
{
	/* what refill() writes at the end: an empty part's own CRLF, then the
	 * closing delimiter "--BOUNDARY--\r\n" */
	guint64 tail = (doc_size == 0 ? 2 : 0) + strlen(c->boundary) + 6;

	return c->head->len + b64_size(doc_size) + tail;
}

void
p2m_compose_free(p2m_composer *c)
{
	if (c == NULL)
		return;
	if (c->head != NULL)
		g_string_free(c->head, TRUE);
	g_free(c->boundary);
	g_free(c->in);
	g_free(c->out);
	g_clear_error(&c->failure);
	g_free(c);
}

/* ---- envelope of a composed message ------------------------------------ */

#define COMMENT_DEPTH_MAX 8

/* LEN bytes of TEXT fit for an error message: cut, controls and
 * non-ASCII escaped (the message may end up in a CUPS job message). */
static char *
shown_text(const char *text, gsize len)
{
	g_autofree char *cut = g_strndup(text, MIN(len, 80));

	return g_strescape(cut, NULL);
}

/* One mailbox of a list, up to the next top-level ',' (*PP left on it or
 * on the NUL).  Display names, quoted strings and comments are skipped; the
 * address is the <angle-addr> if there is one, else the bare text.  *ADDR
 * is NULL for an empty list element. */
static gboolean
parse_mailbox(const char **pp, char **addr, GError **error)
{
	g_autoptr(GString) bare = g_string_new(NULL);
	g_autoptr(GString) angle = NULL;
	const char *p = *pp;
	gboolean in_quote = FALSE, in_angle = FALSE, after_angle = FALSE, display = FALSE, gap = FALSE;
	guint depth = 0;

	*addr = NULL;
	for (; *p != '\0' && (*p != ',' || in_quote || in_angle || depth > 0); p++) {
		if (in_quote || depth > 0) {
			if (*p == '\\' && p[1] != '\0')
				p++;
			else if (in_quote && *p == '"')
				in_quote = FALSE;
			else if (!in_quote && *p == '(' && ++depth > COMMENT_DEPTH_MAX)
				goto bad;
			else if (!in_quote && *p == ')')
				depth--;
		} else if (in_angle) {
			if (*p == '>')
				in_angle = FALSE, after_angle = TRUE;
			else if (*p == '<')
				goto bad;
			else
				g_string_append_c(angle, *p);
		} else if (*p == ' ' || *p == '\t') {
			gap = bare->len > 0;
		} else if (*p == '(') {
			gap = bare->len > 0;
			depth = 1;
		} else if (after_angle || *p == '>') {
			goto bad;
		} else if (*p == '<') {
			in_angle = TRUE;
			angle = g_string_new(NULL);
		} else if (*p == '"') {
			in_quote = display = TRUE;
		} else {
			/* a second word: only a display name may have several */
			display = display || gap;
			g_string_append_c(bare, *p);
		}
	}
	if (in_quote || in_angle || depth > 0)
		goto bad;
	*pp = p;
	if (angle != NULL)
		*addr = g_strdup(g_strstrip(angle->str));
	else if (display)
		goto bad;
	else if (bare->len > 0)
		*addr = g_strdup(bare->str);
	if (*addr != NULL && !p2m_addr_check(*addr, error)) {
		g_clear_pointer(addr, g_free);
		return FALSE;
	}
	return TRUE;
bad:
	{
		g_autofree char *shown = shown_text(*pp, strcspn(*pp, ","));

		g_set_error(error, P2M_ERROR, P2M_E_ADDRESS, "'%s' is not a mailbox", shown);
	}
	return FALSE;
}

static char **
parse_mailbox_list(const char *name, const char *value, GError **error)
{
	g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);
	const char *p = value;
	char *addr;

	for (;;) {
		if (!parse_mailbox(&p, &addr, error)) {
			g_prefix_error(error, "%s header: ", name);
			return NULL;
		}
		if (addr != NULL)
			g_ptr_array_add(out, addr);
		if (out->len > P2M_ADDR_MAX_RECIPIENTS) {
			g_set_error(error, P2M_ERROR, P2M_E_ADDRESS, "%s header: more than %d addresses",
			            name, P2M_ADDR_MAX_RECIPIENTS);
			return NULL;
		}
		if (*p == '\0')
			break;
		p++;   /* the ',' */
	}
	g_ptr_array_add(out, NULL);
	return (char **) g_ptr_array_free(g_steal_pointer(&out), FALSE);
}

typedef struct {
	char **from, **to, **cc;
	gboolean boundary_only;   /* p2m_compose_parse_boundary: addresses are not looked at */
	char    *boundary;
} envelope;

/* RFC 2046 bchars: DIGIT / ALPHA / "'()+_,-./:=?" and space, not last. */
static gboolean
boundary_ok(const char *b, gsize n)
{
	gsize i;

	if (n == 0 || n > 70 || b[n - 1] == ' ')
		return FALSE;
	for (i = 0; i < n; i++)
		if (!g_ascii_isalnum(b[i]) && strchr("'()+_,-./:=? ", b[i]) == NULL)
			return FALSE;
	return TRUE;
}

/* The boundary parameter of a multipart/... Content-Type VALUE, or NULL. */
static char *
content_type_boundary(const char *value)
{
	const char *p = value + strspn(value, " \t");
	const char *b, *e;

	if (g_ascii_strncasecmp(p, "multipart/", 10) != 0)
		return NULL;
	while ((p = strchr(p, ';')) != NULL) {
		p++;
		p += strspn(p, " \t");
		if (g_ascii_strncasecmp(p, "boundary", 8) != 0)
			continue;
		b = p + 8 + strspn(p + 8, " \t");
		if (*b != '=')
			continue;
		b++;
		b += strspn(b, " \t");
		if (*b == '"') {
			b++;
			if ((e = strchr(b, '"')) == NULL)
				return NULL;
		} else {
			e = b + strcspn(b, "; \t");
		}
		return boundary_ok(b, (gsize) (e - b)) ? g_strndup(b, (gsize) (e - b)) : NULL;
	}
	return NULL;
}

/* Takes one unfolded header; only From, To and Cc matter, each at most once. */
static gboolean
envelope_field(envelope *env, const char *name, gsize name_len, const char *value, GError **error)
{
	static const char *const fields[] = { "From", "To", "Cc" };
	char ***slot[] = { &env->from, &env->to, &env->cc };
	gsize i;

	if (name_len == 12 && g_ascii_strncasecmp(name, "Content-Type", 12) == 0) {
		/* the first one counts; a second is not ours to judge here */
		if (env->boundary == NULL)
			env->boundary = content_type_boundary(value);
		return TRUE;
	}
	if (env->boundary_only)
		return TRUE;

	for (i = 0; i < G_N_ELEMENTS(fields); i++) {
		if (strlen(fields[i]) != name_len || g_ascii_strncasecmp(name, fields[i], name_len) != 0)
			continue;
		if (*slot[i] != NULL) {
			g_set_error(error, P2M_ERROR, P2M_E_ADDRESS, "the message has more than one %s header", fields[i]);
			return FALSE;
		}
		if ((*slot[i] = parse_mailbox_list(fields[i], value, error)) == NULL)
			return FALSE;
		if (i == 0 && g_strv_length(env->from) != 1) {
			g_set_error(error, P2M_ERROR, P2M_E_ADDRESS, "From header: it must name exactly one address");
			return FALSE;
		}
	}
	return TRUE;
}

/* Length of the header block (the empty line excluded), or -1 when there
 * is no end within P2M_HEADER_BLOCK_MAX bytes. */
static gssize
header_block_len(const char *hdr, gsize len)
{
	gsize i, lim = MIN(len, (gsize) P2M_HEADER_BLOCK_MAX);

	if (lim > 0 && (hdr[0] == '\n' || (lim > 1 && hdr[0] == '\r' && hdr[1] == '\n')))
		return 0;
	for (i = 0; i < lim; i++) {
		if (hdr[i] != '\n')
			continue;
		if (i + 1 < lim && hdr[i + 1] == '\n')
			return (gssize) i + 1;
		if (i + 2 < lim && hdr[i + 1] == '\r' && hdr[i + 2] == '\n')
			return (gssize) i + 1;
	}
	return len <= P2M_HEADER_BLOCK_MAX ? (gssize) len : -1;
}

/* Walks the header lines of BLOCK, unfolding continuations into one field. */
static gboolean
envelope_walk(envelope *env, const char *block, gsize len, GError **error)
{
	g_autoptr(GString) field = g_string_new(NULL);
	const char *line = block, *end = block + len, *eol, *colon;
	gsize n;

	while (line < end || field->len > 0) {
		eol = line < end ? memchr(line, '\n', (gsize) (end - line)) : NULL;
		n = line < end ? (gsize) ((eol ? eol : end) - line) : 0;
		if (n > 0 && line[n - 1] == '\r')
			n--;
		if (memchr(line, '\r', n) != NULL || memchr(line, '\0', n) != NULL) {
			g_set_error(error, P2M_ERROR, P2M_E_ADDRESS, "the header block has a stray CR or NUL");
			return FALSE;
		}
		if (line < end && n > 0 && (line[0] == ' ' || line[0] == '\t')) {
			if (field->len == 0)
				goto bad;
			g_string_append_len(field, line, n);
		} else {
			if (field->len > 0) {
				colon = strchr(field->str, ':');
				if (!envelope_field(env, field->str, (gsize) (colon - field->str), colon + 1, error))
					return FALSE;
				g_string_truncate(field, 0);
			}
			if (line >= end)
				break;
			colon = memchr(line, ':', n);
			if (colon == NULL || colon == line)
				goto bad;
			for (const char *q = line; q < colon; q++)
				if (*q < 0x21 || *q > 0x7e)
					goto bad;
			g_string_append_len(field, line, n);
		}
		line = eol ? eol + 1 : end;
	}
	return TRUE;
bad:
	{
		g_autofree char *shown = shown_text(line, n);

		g_set_error(error, P2M_ERROR, P2M_E_ADDRESS, "malformed header line '%s'", shown);
	}
	return FALSE;
}

gboolean
p2m_compose_parse_envelope(const char *hdr, gsize len, char **from, char ***to, char ***cc, GError **error)
{
	envelope env = { NULL, NULL, NULL, FALSE, NULL };
	gssize blen = header_block_len(hdr, len);
	gboolean ok = FALSE;

	if (from != NULL)
		*from = NULL;
	if (to != NULL)
		*to = NULL;
	if (cc != NULL)
		*cc = NULL;
	if (blen < 0) {
		g_set_error(error, P2M_ERROR, P2M_E_ADDRESS,
		            "the message headers do not end within %d bytes", P2M_HEADER_BLOCK_MAX);
		goto out;
	}
	if (!envelope_walk(&env, hdr, (gsize) blen, error))
		goto out;
	if (env.from == NULL) {
		g_set_error(error, P2M_ERROR, P2M_E_ADDRESS, "the message has no From header");
		goto out;
	}
	if (from != NULL)
		*from = g_strdup(env.from[0]);
	if (to != NULL)
		*to = env.to ? g_steal_pointer(&env.to) : g_new0(char *, 1);
	if (cc != NULL)
		*cc = env.cc ? g_steal_pointer(&env.cc) : g_new0(char *, 1);
	ok = TRUE;
out:
	g_strfreev(env.from);
	g_strfreev(env.to);
	g_strfreev(env.cc);
	g_free(env.boundary);
	return ok;
}

char *
p2m_compose_parse_boundary(const char *hdr, gsize len)
{
	envelope env = { NULL, NULL, NULL, TRUE, NULL };
	gssize blen = header_block_len(hdr, len);

	if (blen < 0 || !envelope_walk(&env, hdr, (gsize) blen, NULL)) {
		g_free(env.boundary);
		return NULL;
	}
	return env.boundary;
}
