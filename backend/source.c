/* SPDX-License-Identifier: Apache-2.0 */
/* source.c - the message the backend sends: composed from the document, or a message print2mail-compose already made. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "p2m-compose.h"
#include "p2m-error.h"
#include "source.h"

#define READ_CHUNK 32768

struct bk_source {
	int            fd;
	gboolean       own_fd;
	guint64        size;       /* a file's size (what is left to read), 0 when unknown */
	gboolean       regular;    /* the document is a regular file: SIZE is exact */
	char         **rcpt;
	p2m_composer  *composer;   /* composing; NULL when passing a message through */
	GByteArray    *pending;    /* passing through: bytes already read (the header block and more) */
	gsize          pending_off;
	gboolean       eof;
	char           prev;       /* last byte handed out, for bare LF or CR -> CRLF */
	char          *close;      /* passing a multipart message through: its "--BOUNDARY--" */
	gboolean       closed;     /* ... seen at the start of a line */
	char           line[80];   /* the start of the current line, to compare with close */
	gsize          line_len;   /* bytes of the current line so far (may exceed sizeof(line)) */
};

void
bk_source_free(bk_source *s)
{
	if (s == NULL)
		return;
	p2m_compose_free(s->composer);
	if (s->pending != NULL)
		g_byte_array_unref(s->pending);
	if (s->own_fd && s->fd >= 0)
		close(s->fd);
	g_strfreev(s->rcpt);
	g_free(s->close);
	g_free(s);
}

/* The document: the spool file cupsd names in argv[6], else standard input. */
static gboolean
open_document(bk_source *s, const char *path, GError **error)
{
	struct stat st;

	if (path == NULL) {
		s->fd = STDIN_FILENO;
		if (fstat(s->fd, &st) == 0 && S_ISREG(st.st_mode)) {
			/* what is left after the offset (0 unless someone read first) */
			off_t pos = lseek(s->fd, 0, SEEK_CUR);

			s->regular = pos >= 0 && pos <= st.st_size;
			s->size = s->regular ? (guint64) (st.st_size - pos) : 0;
		}
		return TRUE;
	}
	if ((s->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		g_set_error(error, P2M_ERROR, P2M_E_DOCUMENT, "document %s: %s", path, g_strerror(errno));
		return FALSE;
	}
	s->own_fd = TRUE;
	if (fstat(s->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		g_set_error(error, P2M_ERROR, P2M_E_DOCUMENT, "document %s: not a regular file", path);
		return FALSE;
	}
	if (st.st_size == 0) {
		g_set_error(error, P2M_ERROR, P2M_E_DOCUMENT, "document %s is empty", path);
		return FALSE;
	}
	s->size = (guint64) st.st_size;
	s->regular = TRUE;
	return TRUE;
}

/* Read into S->pending until the empty line that ends the headers. */
static gssize
read_header_block(bk_source *s, GError **error)
{
	guint8 chunk[READ_CHUNK];
	gsize scanned = 0;

	for (;;) {
		const guint8 *d = s->pending->data;
		gsize i;
		ssize_t r;

		for (i = scanned; i + 1 < s->pending->len; i++) {
			if (d[i] == '\n' && d[i + 1] == '\n')
				return (gssize) (i + 2);
			if (d[i] == '\n' && d[i + 1] == '\r' && i + 2 < s->pending->len && d[i + 2] == '\n')
				return (gssize) (i + 3);
		}
		scanned = s->pending->len > 2 ? s->pending->len - 2 : 0;
		if (s->pending->len > P2M_HEADER_BLOCK_MAX)
			break;
		if ((r = read(s->fd, chunk, sizeof(chunk))) < 0) {
			g_set_error(error, P2M_ERROR, P2M_E_DOCUMENT, "cannot read the message: %s", g_strerror(errno));
			return -1;
		}
		if (r == 0)
			break;
		g_byte_array_append(s->pending, chunk, (guint) r);
	}
	g_set_error(error, P2M_ERROR, P2M_E_DOCUMENT,
	            "the input is typed message/rfc822 but has no header block of at most %d bytes",
	            P2M_HEADER_BLOCK_MAX);
	return -1;
}

/* To then Cc, each address once. */
static char **
join_recipients(char **to, char **cc)
{
	g_autoptr(GPtrArray) all = g_ptr_array_new();
	char **lists[2] = { to, cc };
	guint i, j, k;

	for (i = 0; i < 2; i++) {
		for (j = 0; lists[i] != NULL && lists[i][j] != NULL; j++) {
			gboolean dup = FALSE;
			for (k = 0; k < all->len && !dup; k++)
				dup = g_ascii_strcasecmp(g_ptr_array_index(all, k), lists[i][j]) == 0;
			if (!dup)
				g_ptr_array_add(all, g_strdup(lists[i][j]));
		}
	}
	g_ptr_array_add(all, NULL);
	return (char **) g_ptr_array_free(g_steal_pointer(&all), FALSE);
}

static gboolean
open_message(bk_source *s, GError **error)
{
	g_autofree char *from = NULL;
	g_auto(GStrv) to = NULL;
	g_auto(GStrv) cc = NULL;
	g_autofree char *boundary = NULL;
	gssize hlen;

	s->pending = g_byte_array_new();
	if ((hlen = read_header_block(s, error)) < 0) {
		/* print2mail-compose passes the PDF through when it cannot
		 * compose; say so instead of blaming the header block. */
		if (s->pending->len >= 5 && memcmp(s->pending->data, "%PDF-", 5) == 0) {
			g_clear_error(error);
			g_set_error(error, P2M_ERROR, P2M_E_DOCUMENT,
			            "print2mail-compose could not compose the message and passed the PDF through "
			            "(its DEBUG lines in the CUPS error log say why)");
		}
		return FALSE;
	}
	if (!p2m_compose_parse_envelope((const char *) s->pending->data, (gsize) hlen, &from, &to, &cc, error)) {
		g_prefix_error(error, "the composed message: ");
		return FALSE;
	}
	s->rcpt = join_recipients(to, cc);
	boundary = p2m_compose_parse_boundary((const char *) s->pending->data, (gsize) hlen);
	if (boundary != NULL)
		s->close = g_strdup_printf("--%s--", boundary);
	if (s->rcpt[0] == NULL) {
		g_set_error(error, P2M_ERROR, P2M_E_NO_RECIPIENT, "the composed message has no To or Cc address");
		return FALSE;
	}
	return TRUE;
}

bk_source *
bk_source_open(const p2m_job *job, const char *from, const char *from_name, GError **error)
{
	g_autoptr(bk_source) s = g_new0(bk_source, 1);
	p2m_compose_info info;

	s->fd = -1;
	if (!open_document(s, job->document, error))
		return NULL;
	if (p2m_job_input_is_message(job))
		return open_message(s, error) ? g_steal_pointer(&s) : NULL;
	p2m_job_compose_info(job, from, &info);
	info.from_name = from_name;
	if ((s->composer = p2m_compose_new(&info, s->fd, error)) == NULL)
		return NULL;
	s->rcpt = join_recipients(job->to, job->cc);
	return g_steal_pointer(&s);
}

const char *const *
bk_source_recipients(const bk_source *s)
{
	return (const char *const *) s->rcpt;
}

guint64
bk_source_document_size(const bk_source *s)
{
	return s->size;
}

/* Only a composed message: its lines are headers, base64 and boundaries,
 * none starts with ".", so dot-stuffing adds nothing on the wire either.
 * One passed through may have such lines, and bare LFs. */
guint64
bk_source_message_size(const bk_source *s)
{
	if (s->composer == NULL || !s->regular)
		return 0;
	return p2m_compose_message_size(s->composer, s->size);
}

/* The message size was announced (SIZE=, and libcurl stops at it): a
 * document that grows or shrinks while it is read would make a cut or
 * short message, so that is a failure, not a silently broken mail.
 * The composer reads the document ahead of what it hands out, so growth
 * shows before libcurl has taken the announced number of bytes. */
static gboolean
document_kept_size(const bk_source *s, gssize n, GError **error)
{
	guint64 got = p2m_compose_document_bytes(s->composer);

	if (!s->regular || (got <= s->size && (n != 0 || got == s->size)))
		return TRUE;
	g_set_error(error, P2M_ERROR, P2M_E_DOCUMENT,
	            "the document changed size while it was being sent (it was %" G_GUINT64_FORMAT
	            " bytes, %" G_GUINT64_FORMAT " were read)", s->size, got);
	return FALSE;
}

/* The line in S->line ended: is it the close delimiter (transport padding
 * allowed after it, RFC 2046)? */
static void
end_line(bk_source *s)
{
	gsize n = MIN(s->line_len, sizeof(s->line)), k = strlen(s->close);

	while (n > 0 && (s->line[n - 1] == '\r' || s->line[n - 1] == ' ' || s->line[n - 1] == '\t'))
		n--;
	if (s->line_len <= sizeof(s->line) && n == k && memcmp(s->line, s->close, k) == 0)
		s->closed = TRUE;
	s->line_len = 0;
}

static void
track_line(bk_source *s, char c)
{
	if (c == '\n') {
		end_line(s);
		return;
	}
	if (s->line_len < sizeof(s->line))
		s->line[s->line_len] = c;
	s->line_len++;
}

/* At the end of the input: a multipart message whose close delimiter never
 * came was cut short (the composer died): fail the read, so the transfer is
 * abandoned before the final "." and the server accepts nothing. */
static gboolean
complete_at_eof(bk_source *s, GError **error)
{
	if (s->close == NULL || s->closed)
		return TRUE;
	if (s->line_len > 0)
		end_line(s);
	if (s->closed)
		return TRUE;
	g_set_error(error, P2M_ERROR, P2M_E_TRUNCATED,
	            "the composed message ended before its last MIME part was closed (no %s line)", s->close);
	return FALSE;
}

/* Pass the message through with every line end CRLF: SMTP has no bare LF
 * or CR (RFC 5321 2.3.8), and a server that took "<CR>.<CR><LF>" or
 * "<LF>.<CR><LF>" for the end of the data would read what follows as
 * commands under our account (SMTP smuggling).  Each bare one becomes CRLF,
 * so the "." after it is a line's first character, and doubled. */
static gssize
read_through(bk_source *s, char *buf, gsize len, GError **error)
{
	guint8 in[READ_CHUNK];
	gsize want = MIN(len / 2, sizeof(in)), got = 0, out = 0, i;

	if (s->pending_off < s->pending->len) {
		got = MIN(want, s->pending->len - s->pending_off);
		memcpy(in, s->pending->data + s->pending_off, got);
		s->pending_off += got;
	} else if (!s->eof) {
		ssize_t r = read(s->fd, in, want);

		if (r < 0) {
			/* EINTR included: only SIGTERM interrupts us, and that is a cancel */
			g_set_error(error, P2M_ERROR, P2M_E_DOCUMENT, "cannot read the message: %s", g_strerror(errno));
			return -1;
		}
		s->eof = r == 0;
		got = (gsize) r;
		if (s->eof && !complete_at_eof(s, error))
			return -1;
	}
	for (i = 0; i < got; i++) {
		if (in[i] == '\n' && s->prev != '\r')
			buf[out++] = '\r';
		else if (in[i] != '\n' && s->prev == '\r')
			buf[out++] = '\n';   /* the CR before was bare */
		buf[out++] = (char) in[i];
		s->prev = (char) in[i];
		if (s->close != NULL && !s->closed)
			track_line(s, (char) in[i]);
	}
	return (gssize) out;
}

gssize
bk_source_read(void *source, char *buf, gsize len, GError **error)
{
	bk_source *s = source;
	gssize n;

	if (s->composer == NULL)
		return read_through(s, buf, len, error);
	n = p2m_compose_read(s->composer, buf, len, error);
	if (n >= 0 && !document_kept_size(s, n, error))
		return -1;
	return n;
}
