/* SPDX-License-Identifier: Apache-2.0 */
/* test-compose.c - unit tests of p2m-compose: what Python's email package sees in a composed message, and envelope parsing. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <unistd.h>

#include "p2m-compose.h"
#include "p2m-error.h"

#define UTF8_TITLE "Raport lunar \xe2\x80\x94 \xc8\x99" "ablon \xe6\x8a\xa5\xe5\x91\x8a \xd0\x9e\xd1\x82\xd1\x87\xd1\x91\xd1\x82"
#define UTF8_BODY  "Bun\xc4\x83 ziua,\n\nDocumentul scanat este ata\xc8\x99" "at.\n\xe6\x89\x93\xe5\x8d\xb0 \xe2\x80\x94 \xd0\x9f\xd0\xb5\xd1\x87\xd0\xb0\xd1\x82\xd1\x8c\n"

/* Parses a message file with Python's email package (policy.default) and
 * prints what a mail reader would show, as JSON. */
static const char py_check[] =
	"import sys, email, hashlib, json\n"
	"from email import policy\n"
	"raw = open(sys.argv[1], 'rb').read()\n"
	"msg = email.message_from_bytes(raw, policy=policy.default)\n"
	"def defects(m):\n"
	"    out = [type(d).__name__ for d in m.defects]\n"
	"    for k, v in m.items():\n"
	"        out += ['%s:%s' % (k, type(d).__name__) for d in getattr(v, 'defects', ())]\n"
	"    for p in (m.iter_parts() if m.is_multipart() else []):\n"
	"        out += defects(p)\n"
	"    return out\n"
	"def addrs(h):\n"
	"    return [a.addr_spec for a in msg[h].addresses] if msg[h] is not None else []\n"
	"atts = list(msg.iter_attachments())\n"
	"body = msg.get_body(preferencelist=('plain',))\n"
	"head = raw.split(b'\\r\\n\\r\\n', 1)[0]\n"
	"print(json.dumps({\n"
	"  'defects': defects(msg),\n"
	"  'headers': list(msg.keys()),\n"
	"  'subject': str(msg['subject']),\n"
	"  'from': addrs('from'),\n"
	"  'from_name': [a.display_name for a in msg['from'].addresses],\n"
	"  'to': addrs('to'), 'cc': addrs('cc'), 'bcc': addrs('bcc'),\n"
	"  'parts': [p.get_content_type() for p in msg.walk()],\n"
	"  'part_headers': [list(p.keys()) for p in msg.walk()][1:],\n"
	"  'sha256': hashlib.sha256(atts[0].get_content()).hexdigest() if atts else '',\n"
	"  'filename': atts[0].get_filename() if atts else '',\n"
	"  'body': body.get_content() if body is not None else None,\n"
	"  'max_line': max(len(l) for l in raw.split(b'\\r\\n')),\n"
	"  'head_max_line': max(len(l) for l in head.split(b'\\r\\n')),\n"
	"  'bare_lf': raw.replace(b'\\r\\n', b'').count(b'\\n'),\n"
	"  'bare_cr': raw.replace(b'\\r\\n', b'').count(b'\\r'),\n"
	"}))\n";

typedef struct {
	char      *dir;
	GBytes    *doc;
	char      *doc_path;
} Fixture;

static void
fixture_setup(Fixture *f, gconstpointer size_p)
{
	gsize size = GPOINTER_TO_SIZE(size_p), i;
	guint8 *data = g_malloc(size + 1);
	GError *err = NULL;

	for (i = 0; i < size; i++)
		data[i] = (guint8) g_test_rand_int_range(0, 256);
	f->doc = g_bytes_new_take(data, size);
	f->dir = g_dir_make_tmp("p2m-compose-XXXXXX", &err);
	g_assert_no_error(err);
	f->doc_path = g_build_filename(f->dir, "doc.pdf", NULL);
	g_file_set_contents(f->doc_path, (const char *) data, (gssize) size, &err);
	g_assert_no_error(err);
}

static void
fixture_teardown(Fixture *f, gconstpointer unused)
{
	g_autofree char *eml = g_build_filename(f->dir, "msg.eml", NULL);

	g_unlink(eml);
	g_unlink(f->doc_path);
	g_rmdir(f->dir);
	g_free(f->doc_path);
	g_free(f->dir);
	g_bytes_unref(f->doc);
}

static const char *const to2[] = { "bob@contoso.com", "alice@fabrikam.com", NULL };
static const char *const cc1[] = { "carol@contoso.com", NULL };

static p2m_compose_info
base_info(void)
{
	p2m_compose_info info = {
		.from = "scanner@contoso.com",
		.from_name = "Scanner \xc8\x98" "tefan",
		.to = to2,
		.cc = cc1,
		.subject = UTF8_TITLE,
		.attachment_name = NULL,
		.content_type = "application/pdf",
		.body_text = UTF8_BODY,
		.date = 1736254980,
		.message_id_domain = NULL,
	};
	return info;
}

/* The whole message, pulled BUFSIZE bytes at a time, with per-read checks. */
static GBytes *
compose_all(const p2m_compose_info *info, const char *path, gsize bufsize, GError **error)
{
	g_autoptr(p2m_composer) c = NULL;
	g_autoptr(GByteArray) out = g_byte_array_new();
	g_autofree char *buf = g_malloc(bufsize);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	gssize n;

	g_assert_cmpint(fd, >=, 0);
	c = p2m_compose_new(info, fd, error);
	if (c == NULL) {
		close(fd);
		return NULL;
	}
	while ((n = p2m_compose_read(c, buf, bufsize, error)) > 0) {
		g_assert_cmpint(n, <=, (gssize) bufsize);
		g_byte_array_append(out, (const guint8 *) buf, (guint) n);
	}
	close(fd);
	if (n < 0)
		return NULL;
	/* the end stays the end */
	g_assert_cmpint(p2m_compose_read(c, buf, bufsize, error), ==, 0);
	return g_byte_array_free_to_bytes(g_steal_pointer(&out));
}

/* Python's view of MSG as a JSON object. */
static JsonObject *
python_parse(Fixture *f, GBytes *msg)
{
	g_autofree char *eml = g_build_filename(f->dir, "msg.eml", NULL);
	const char *py = g_getenv("PYTHON3") ? g_getenv("PYTHON3") : "/usr/bin/python3";
	const char *argv[] = { py, "-c", py_check, eml, NULL };
	g_autofree char *out = NULL, *err_text = NULL;
	g_autoptr(JsonParser) parser = json_parser_new();
	GError *err = NULL;
	int status = 0;

	g_file_set_contents(eml, g_bytes_get_data(msg, NULL), (gssize) g_bytes_get_size(msg), &err);
	g_assert_no_error(err);
	g_spawn_sync(NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err_text, &status, &err);
	g_assert_no_error(err);
	if (!g_spawn_check_wait_status(status, NULL))
		g_error("python failed: %s", err_text);
	json_parser_load_from_data(parser, out, -1, &err);
	g_assert_no_error(err);
	return json_object_ref(json_node_get_object(json_parser_get_root(parser)));
}

/* JSON array of strings ARR joined with '|'. */
static char *
joined(JsonObject *o, const char *member)
{
	JsonArray *a = json_object_get_array_member(o, member);
	g_autoptr(GString) s = g_string_new(NULL);
	guint i;

	for (i = 0; i < json_array_get_length(a); i++)
		g_string_append_printf(s, "%s%s", i ? "|" : "", json_array_get_string_element(a, i));
	return g_string_free(g_steal_pointer(&s), FALSE);
}

static void
assert_clean(JsonObject *o)
{
	g_autofree char *defects = joined(o, "defects");

	g_assert_cmpstr(defects, ==, "");
	g_assert_cmpint(json_object_get_int_member(o, "bare_lf"), ==, 0);
	g_assert_cmpint(json_object_get_int_member(o, "bare_cr"), ==, 0);
	g_assert_cmpint(json_object_get_int_member(o, "max_line"), <=, 998);
	g_assert_cmpint(json_object_get_int_member(o, "head_max_line"), <=, 78);
}

static void
test_full_message(Fixture *f, gconstpointer unused)
{
	p2m_compose_info info = base_info();
	g_autoptr(GError) err = NULL;
	g_autoptr(GBytes) msg = compose_all(&info, f->doc_path, 65536, &err);
	g_autoptr(JsonObject) o = NULL;
	g_autofree char *sha = g_compute_checksum_for_bytes(G_CHECKSUM_SHA256, f->doc);
	g_autofree char *headers = NULL, *to = NULL, *cc = NULL, *from = NULL, *parts = NULL;
	g_autofree char *body = NULL, *part_headers = NULL;

	g_assert_no_error(err);
	o = python_parse(f, msg);
	assert_clean(o);
	headers = joined(o, "headers");
	g_assert_cmpstr(headers, ==, "From|To|Cc|Subject|Date|Message-ID|MIME-Version|"
	                "Auto-Submitted|X-Mailer|Content-Type");
	g_assert_cmpstr(json_object_get_string_member(o, "subject"), ==, UTF8_TITLE);
	from = joined(o, "from");
	g_assert_cmpstr(from, ==, "scanner@contoso.com");
	g_assert_cmpstr(json_array_get_string_element(json_object_get_array_member(o, "from_name"), 0),
	                ==, "Scanner \xc8\x98" "tefan");
	to = joined(o, "to");
	g_assert_cmpstr(to, ==, "bob@contoso.com|alice@fabrikam.com");
	cc = joined(o, "cc");
	g_assert_cmpstr(cc, ==, "carol@contoso.com");
	parts = joined(o, "parts");
	g_assert_cmpstr(parts, ==, "multipart/mixed|text/plain|application/pdf");
	g_assert_cmpstr(json_object_get_string_member(o, "sha256"), ==, sha);
	g_assert_cmpstr(json_object_get_string_member(o, "filename"), ==, UTF8_TITLE ".pdf");
	/* the text part is canonical (CRLF); its text is the given one */
	body = g_strdup(json_object_get_string_member(o, "body"));
	{
		g_auto(GStrv) lines = g_strsplit(body, "\r\n", -1);
		g_autofree char *lf = g_strjoinv("\n", lines);
		g_assert_cmpstr(lf, ==, UTF8_BODY);
	}
	g_assert_nonnull(g_strstr_len(g_bytes_get_data(msg, NULL), 4096, "\r\nX-Mailer: print2mail/" PACKAGE_VERSION "\r\n"));
	g_assert_nonnull(g_strstr_len(g_bytes_get_data(msg, NULL), 4096, "\r\nDate: "));
}

/* A message with its random parts (boundary, Message-ID) made fixed. */
static char *
normalized(GBytes *msg)
{
	g_autofree char *s = g_strndup(g_bytes_get_data(msg, NULL), g_bytes_get_size(msg));
	const char *b = strstr(s, "boundary=\""), *m = strstr(s, "Message-ID: <");
	g_autofree char *boundary = NULL, *msgid = NULL;
	g_auto(GStrv) pieces = NULL, pieces2 = NULL;
	g_autofree char *step = NULL;

	g_assert_nonnull(b);
	g_assert_nonnull(m);
	boundary = g_strndup(b + 10, strcspn(b + 10, "\""));
	msgid = g_strndup(m + 12, strcspn(m + 12, "\r"));
	g_assert_cmpuint(strlen(boundary), ==, 6 + 32);
	pieces = g_strsplit(s, boundary, -1);
	step = g_strjoinv("BOUNDARY", pieces);
	pieces2 = g_strsplit(step, msgid, -1);
	return g_strjoinv("<MSGID>", pieces2);
}

static void
test_buffer_sizes(Fixture *f, gconstpointer unused)
{
	static const gsize sizes[] = { 80, 81, 997, 65536, 1024 * 1024 };
	p2m_compose_info info = base_info();
	g_autofree char *reference = NULL;
	gsize i;

	for (i = 0; i < G_N_ELEMENTS(sizes); i++) {
		g_autoptr(GError) err = NULL;
		g_autoptr(GBytes) msg = compose_all(&info, f->doc_path, sizes[i], &err);
		g_autofree char *norm = NULL;

		g_assert_no_error(err);
		norm = normalized(msg);
		g_test_message("buffer %" G_GSIZE_FORMAT ": %" G_GSIZE_FORMAT " bytes", sizes[i], strlen(norm));
		if (reference == NULL) {
			g_autoptr(JsonObject) o = python_parse(f, msg);
			assert_clean(o);
			reference = g_steal_pointer(&norm);
		} else {
			g_assert_cmpuint(strlen(norm), ==, strlen(reference));
			g_assert_true(strcmp(norm, reference) == 0);
		}
	}
}

static void
test_empty_document(Fixture *f, gconstpointer unused)
{
	p2m_compose_info info = base_info();
	g_autoptr(GError) err = NULL;
	g_autoptr(GBytes) msg = NULL;
	g_autoptr(JsonObject) o = NULL;
	g_autofree char *parts = NULL;

	info.body_text = "";
	info.cc = NULL;
	msg = compose_all(&info, f->doc_path, 4096, &err);
	g_assert_no_error(err);
	o = python_parse(f, msg);
	assert_clean(o);
	parts = joined(o, "parts");
	g_assert_cmpstr(parts, ==, "multipart/mixed|text/plain|application/pdf");
	g_assert_cmpstr(json_object_get_string_member(o, "sha256"), ==,
	                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	g_assert_cmpstr(json_object_get_string_member(o, "body"), ==, "");
	{
		g_autofree char *headers = joined(o, "headers");
		g_assert_null(strstr(headers, "Cc"));
	}
}

/* CR/LF in every job-supplied text must not add a header, a part header
 * or a recipient; the texts still arrive, with the breaks as spaces. */
static void
test_injection(Fixture *f, gconstpointer unused)
{
	p2m_compose_info info = base_info();
	g_autoptr(GError) err = NULL;
	g_autoptr(GBytes) msg = NULL;
	g_autoptr(JsonObject) o = NULL;
	g_autofree char *headers = NULL, *to = NULL, *cc = NULL, *bcc = NULL, *part_headers = NULL;
	JsonArray *ph;

	info.subject = "Hello\r\nBcc: evil@evil.org\r\nX-Evil: 1";
	info.from_name = "Bob\r\nTo: evil@evil.org\n";
	info.attachment_name = "a.pdf\"\r\nContent-Type: text/html\r\nX-Evil: 2";
	info.body_text = "text\r\n\r\n--=_p2m_\r\nX-Evil: 3\r\n.\r\n";
	msg = compose_all(&info, f->doc_path, 81, &err);
	g_assert_no_error(err);
	o = python_parse(f, msg);
	assert_clean(o);
	headers = joined(o, "headers");
	g_assert_cmpstr(headers, ==, "From|To|Cc|Subject|Date|Message-ID|MIME-Version|"
	                "Auto-Submitted|X-Mailer|Content-Type");
	to = joined(o, "to");
	cc = joined(o, "cc");
	bcc = joined(o, "bcc");
	g_assert_cmpstr(to, ==, "bob@contoso.com|alice@fabrikam.com");
	g_assert_cmpstr(cc, ==, "carol@contoso.com");
	g_assert_cmpstr(bcc, ==, "");
	g_assert_cmpstr(json_object_get_string_member(o, "subject"), ==, "Hello Bcc: evil@evil.org X-Evil: 1");
	ph = json_object_get_array_member(o, "part_headers");
	g_assert_cmpuint(json_array_get_length(ph), ==, 2);
	for (guint i = 0; i < 2; i++) {
		JsonArray *a = json_array_get_array_element(ph, i);
		g_autoptr(GString) s = g_string_new(NULL);

		for (guint j = 0; j < json_array_get_length(a); j++)
			g_string_append_printf(s, "%s|", json_array_get_string_element(a, j));
		g_assert_cmpstr(s->str, ==, i == 0 ? "Content-Type|Content-Transfer-Encoding|"
		                : "Content-Type|Content-Disposition|Content-Transfer-Encoding|");
	}
	g_assert_cmpstr(json_object_get_string_member(o, "filename"), ==,
	                "html X-Evil_ 2.pdf");   /* basename: after the last slash */
	{
		g_autofree char *sha = g_compute_checksum_for_bytes(G_CHECKSUM_SHA256, f->doc);
		g_assert_cmpstr(json_object_get_string_member(o, "sha256"), ==, sha);
	}
}

static void
test_long_texts(Fixture *f, gconstpointer unused)
{
	p2m_compose_info info = base_info();
	g_autoptr(GError) err = NULL;
	g_autoptr(GBytes) msg = NULL;
	g_autoptr(JsonObject) o = NULL;
	g_autoptr(GString) subject = g_string_new(NULL);
	g_autofree char *longword = g_strnfill(150, 'x');
	int i;

	for (i = 0; i < 12; i++)
		g_string_append(subject, "\xd0\x9e\xd1\x82\xd1\x87\xd1\x91\xd1\x82 \xe6\x8a\xa5\xe5\x91\x8a plain words ");
	g_string_append(subject, longword);
	info.subject = subject->str;
	info.from_name = "A very long, \"quoted\" display name that cannot fit on one header line at all";
	msg = compose_all(&info, f->doc_path, 997, &err);
	g_assert_no_error(err);
	o = python_parse(f, msg);
	assert_clean(o);
	g_strchomp(subject->str);
	g_assert_cmpstr(json_object_get_string_member(o, "subject"), ==, subject->str);
	g_assert_cmpstr(json_array_get_string_element(json_object_get_array_member(o, "from_name"), 0),
	                ==, info.from_name);
}

static void
test_bad_input(void)
{
	static const char *const bad_to[] = { "bob@contoso.com", "a@b.com\r\nBcc: x@y.com", NULL };
	static const char *const none[] = { NULL };
	p2m_compose_info info = base_info();
	GError *err = NULL;

	info.to = bad_to;
	g_assert_null(p2m_compose_new(&info, 0, &err));
	g_assert_error(err, P2M_ERROR, P2M_E_ADDRESS);
	g_clear_error(&err);
	info.to = none;
	g_assert_null(p2m_compose_new(&info, 0, &err));
	g_assert_error(err, P2M_ERROR, P2M_E_NO_RECIPIENT);
	g_clear_error(&err);
	info = base_info();
	info.from = "Scanner <scanner@contoso.com>";
	g_assert_null(p2m_compose_new(&info, 0, &err));
	g_assert_error(err, P2M_ERROR, P2M_E_ADDRESS);
	g_clear_error(&err);
	info = base_info();
	info.content_type = "application/pdf\r\nX-Evil: 1";
	g_assert_null(p2m_compose_new(&info, 0, &err));
	g_assert_error(err, P2M_ERROR, P2M_E_DOCUMENT);
	g_clear_error(&err);
	info = base_info();
	info.message_id_domain = "bad domain";
	g_assert_null(p2m_compose_new(&info, 0, &err));
	g_assert_error(err, P2M_ERROR, P2M_E_ADDRESS);
	g_clear_error(&err);
}

/* A directory opens but cannot be read: the error a broken spool file gives. */
static void
test_read_error(void)
{
	p2m_compose_info info = base_info();
	g_autoptr(p2m_composer) c = NULL;
	g_autoptr(GError) err = NULL;
	char buf[4096];
	gssize n;
	int fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	g_assert_cmpint(fd, >=, 0);
	c = p2m_compose_new(&info, fd, &err);
	g_assert_no_error(err);
	while ((n = p2m_compose_read(c, buf, sizeof(buf), &err)) > 0)
		;
	g_assert_cmpint(n, ==, -1);
	g_assert_error(err, P2M_ERROR, P2M_E_DOCUMENT);
	g_clear_error(&err);
	/* and it stays failed */
	g_assert_cmpint(p2m_compose_read(c, buf, sizeof(buf), &err), ==, -1);
	g_assert_error(err, P2M_ERROR, P2M_E_DOCUMENT);
	close(fd);
}

static gpointer
pipe_writer(gpointer data)
{
	gpointer *args = data;
	int fd = GPOINTER_TO_INT(args[0]);
	GBytes *doc = args[1];
	const guint8 *p = g_bytes_get_data(doc, NULL);
	gsize left = g_bytes_get_size(doc), n, step = 1;

	/* odd, growing write sizes: the composer sees short reads */
	while (left > 0) {
		n = MIN(left, step);
		g_assert_cmpint(write(fd, p, n), ==, (gssize) n);
		p += n;
		left -= n;
		step = step * 3 + 7;
		if (step > 100000)
			step = 13;
	}
	close(fd);
	return NULL;
}

/* The filter reads the document from a pipe (stdin). */
static void
test_pipe(Fixture *f, gconstpointer unused)
{
	p2m_compose_info info = base_info();
	g_autoptr(p2m_composer) c = NULL;
	g_autoptr(GError) err = NULL;
	g_autoptr(GByteArray) out = g_byte_array_new();
	g_autoptr(GBytes) msg = NULL;
	g_autoptr(JsonObject) o = NULL;
	gpointer args[2];
	GThread *t;
	char buf[8192];
	gssize n;
	int fds[2];

	g_assert_cmpint(pipe(fds), ==, 0);
	args[0] = GINT_TO_POINTER(fds[1]);
	args[1] = f->doc;
	t = g_thread_new("writer", pipe_writer, args);
	c = p2m_compose_new(&info, fds[0], &err);
	g_assert_no_error(err);
	while ((n = p2m_compose_read(c, buf, sizeof(buf), &err)) > 0)
		g_byte_array_append(out, (const guint8 *) buf, (guint) n);
	g_assert_no_error(err);
	g_thread_join(t);
	close(fds[0]);
	g_assert_cmpuint(p2m_compose_document_bytes(c), ==, g_bytes_get_size(f->doc));
	msg = g_byte_array_free_to_bytes(g_steal_pointer(&out));
	o = python_parse(f, msg);
	assert_clean(o);
	{
		g_autofree char *sha = g_compute_checksum_for_bytes(G_CHECKSUM_SHA256, f->doc);
		g_assert_cmpstr(json_object_get_string_member(o, "sha256"), ==, sha);
	}
}


/* ---- size prediction ----------------------------------------------------- */

/* Bytes p2m_compose_read produces for the file PATH, pulled BUFSIZE at a
 * time; *PREDICTED is what p2m_compose_message_size said before reading. */
static guint64
composed_length(const p2m_compose_info *info, const char *path, guint64 doc_size, gsize bufsize,
                guint64 *predicted)
{
	g_autoptr(p2m_composer) c = NULL;
	g_autoptr(GError) err = NULL;
	g_autofree char *buf = g_malloc(bufsize);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	guint64 total = 0;
	gssize n;

	g_assert_cmpint(fd, >=, 0);
	c = p2m_compose_new(info, fd, &err);
	g_assert_no_error(err);
	*predicted = p2m_compose_message_size(c, doc_size);
	while ((n = p2m_compose_read(c, buf, bufsize, &err)) > 0)
		total += (guint64) n;
	g_assert_no_error(err);
	g_assert_cmpint(n, ==, 0);
	/* reading does not change the prediction */
	g_assert_cmpuint(p2m_compose_message_size(c, doc_size), ==, *predicted);
	close(fd);
	return total;
}

/* The prediction is exact for every size around the base64 group (3) and
 * line (57) boundaries, the composer's read chunk (57 KiB) and 1 MB + odd,
 * with different header blocks and read sizes. */
static void
test_predict_size(void)
{
	static const guint64 sizes[] = {
		0, 1, 2, 3, 4, 55, 56, 57, 58, 59, 113, 114, 115, 170, 171, 172, 1000, 4095,
		57 * 1024 - 1, 57 * 1024, 57 * 1024 + 1, 2 * 57 * 1024 + 2, 1024 * 1024 + 1, 1024 * 1024 + 37,
	};
	static const gsize bufsizes[] = { 4096, 997 };
	g_autoptr(GError) err = NULL;
	g_autofree char *dir = g_dir_make_tmp("p2m-predict-XXXXXX", &err);
	g_autofree char *path = NULL;
	p2m_compose_info infos[2] = { base_info(), base_info() };
	gsize i, k;

	g_assert_no_error(err);
	path = g_build_filename(dir, "doc.pdf", NULL);
	infos[1].cc = NULL;
	infos[1].body_text = NULL;
	infos[1].subject = "";
	infos[1].from_name = NULL;
	for (i = 0; i < G_N_ELEMENTS(sizes); i++) {
		g_autofree guint8 *data = g_malloc(sizes[i] + 1);
		guint64 j, predicted = 0, got;

		for (j = 0; j < sizes[i]; j++)
			data[j] = (guint8) g_test_rand_int_range(0, 256);
		g_file_set_contents(path, (const char *) data, (gssize) sizes[i], &err);
		g_assert_no_error(err);
		for (k = 0; k < G_N_ELEMENTS(infos); k++) {
			got = composed_length(&infos[k], path, sizes[i], bufsizes[(i + k) % 2], &predicted);
			g_test_message("document %" G_GUINT64_FORMAT ": message %" G_GUINT64_FORMAT, sizes[i], got);
			g_assert_cmpuint(predicted, ==, got);
		}
	}
	g_unlink(path);
	g_rmdir(dir);
}


/* ---- envelope ---------------------------------------------------------- */

static void
test_envelope_of_composed(Fixture *f, gconstpointer unused)
{
	p2m_compose_info info = base_info();
	g_autoptr(GError) err = NULL;
	g_autoptr(GBytes) msg = NULL;
	g_autofree char *from = NULL, *to = NULL, *cc = NULL;
	g_auto(GStrv) tov = NULL, ccv = NULL;
	gsize len;
	const char *data;

	info.from_name = "Doe, John \"JD\" <john@evil.org>\r\nTo: evil@evil.org";
	msg = compose_all(&info, f->doc_path, 65536, &err);
	g_assert_no_error(err);
	data = g_bytes_get_data(msg, &len);
	g_assert_true(p2m_compose_parse_envelope(data, len, &from, &tov, &ccv, &err));
	g_assert_no_error(err);
	g_assert_cmpstr(from, ==, "scanner@contoso.com");
	to = g_strjoinv("|", tov);
	cc = g_strjoinv("|", ccv);
	g_assert_cmpstr(to, ==, "bob@contoso.com|alice@fabrikam.com");
	g_assert_cmpstr(cc, ==, "carol@contoso.com");
}

static void
test_envelope_table(void)
{
	static const struct {
		const char *hdr;
		const char *from, *to, *cc;   /* from NULL: must fail */
	} cases[] = {
		{ "From: a@b.com\r\nTo: c@d.com\r\n\r\nbody", "a@b.com", "c@d.com", "" },
		{ "from: a@b.com\nTO: c@d.com\ncc: e@f.com\n\n", "a@b.com", "c@d.com", "e@f.com" },
		{ "From: Name <a@b.com>\r\nTo: \"Quoted, Name\" <c@d.com>, x@y.com,\r\n Other <z@w.org>\r\n\r\n",
		  "a@b.com", "c@d.com|x@y.com|z@w.org", "" },
		{ "From: =?UTF-8?B?w4ljb2xl?= <a@b.com>\r\nTo: =?UTF-8?Q?Bob=2C_Smith?= <c@d.com>\r\n\r\n",
		  "a@b.com", "c@d.com", "" },
		{ "From: a@b.com (the scanner)\r\nTo: c@d.com (Carol, (nested) <x@y.org>)\r\n\r\n",
		  "a@b.com", "c@d.com", "" },
		{ "From: \"a <x@y.com>\" <a@b.com>\r\nSubject: To: evil@evil.org\r\nTo: c@d.com\r\n\r\n",
		  "a@b.com", "c@d.com", "" },
		{ "From: a@b.com\r\nSubject: x\r\nX-Long: y\r\n\tz\r\n\r\n", "a@b.com", "", "" },
		{ "From: a@b.com\r\nTo:\r\n c@d.com,\r\n\te@f.com\r\n\r\n", "a@b.com", "c@d.com|e@f.com", "" },
		{ "From: a@b.com\r\nTo: c@d.com,,e@f.com,\r\n\r\n", "a@b.com", "c@d.com|e@f.com", "" },
		{ "From: a@b.com\r\nTo: c@d.com", "a@b.com", "c@d.com", "" },
		{ "To: c@d.com\r\n\r\n", NULL, NULL, NULL },
		{ "From: a@b.com, x@y.com\r\nTo: c@d.com\r\n\r\n", NULL, NULL, NULL },
		{ "From: a@b.com\r\nTo: c@d.com\r\nTo: e@f.com\r\n\r\n", NULL, NULL, NULL },
		{ "From: a@b.com\r\nTo: c@d.com\rBcc: e@f.com\r\n\r\n", NULL, NULL, NULL },
		{ "From: a@b.com\r\nTo: Bob c@d.com\r\n\r\n", NULL, NULL, NULL },
		{ "From: a@b.com\r\nTo: <c@d.com> junk\r\n\r\n", NULL, NULL, NULL },
		{ "From: a@b.com\r\nTo: \"unterminated <c@d.com>\r\n\r\n", NULL, NULL, NULL },
		{ "From: a@b.com\r\nTo: <c@d.com\r\n\r\n", NULL, NULL, NULL },
		{ "From: a@b.com\r\nTo: undisclosed-recipients:;\r\n\r\n", NULL, NULL, NULL },
		{ "From: a@b.com\r\nTo: \"x\"@d.com\r\n\r\n", NULL, NULL, NULL },
		{ "From: a@b.com\r\nTo: c@d\r\n\r\n", NULL, NULL, NULL },
		{ " From: a@b.com\r\nTo: c@d.com\r\n\r\n", NULL, NULL, NULL },
		{ "From a@b.com\r\nTo: c@d.com\r\n\r\n", NULL, NULL, NULL },
		{ "From: a@b.com\r\nTo: (((((((((((deep)))))))))) c@d.com\r\n\r\n", NULL, NULL, NULL },
	};
	gsize i;

	for (i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) err = NULL;
		g_autofree char *from = NULL;
		g_auto(GStrv) to = NULL, cc = NULL;
		gboolean ok;

		g_test_message("case %" G_GSIZE_FORMAT, i);
		ok = p2m_compose_parse_envelope(cases[i].hdr, strlen(cases[i].hdr), &from, &to, &cc, &err);
		if (cases[i].from == NULL) {
			g_assert_false(ok);
			g_assert_error(err, P2M_ERROR, P2M_E_ADDRESS);
			g_assert_null(from);
			g_assert_null(to);
			g_assert_null(cc);
		} else {
			g_autofree char *tos = NULL, *ccs = NULL;

			g_assert_no_error(err);
			g_assert_true(ok);
			g_assert_cmpstr(from, ==, cases[i].from);
			tos = g_strjoinv("|", to);
			ccs = g_strjoinv("|", cc);
			g_assert_cmpstr(tos, ==, cases[i].to);
			g_assert_cmpstr(ccs, ==, cases[i].cc);
		}
	}
}

/* The error names the header that is wrong. */
static void
test_envelope_names_header(void)
{
	static const char hdr[] = "From: a@b.com\r\nTo: c@d.com\r\nCc: bad@@x.com\r\n\r\n";
	g_autoptr(GError) err = NULL;
	g_autofree char *from = NULL;
	g_auto(GStrv) to = NULL, cc = NULL;

	g_assert_false(p2m_compose_parse_envelope(hdr, strlen(hdr), &from, &to, &cc, &err));
	g_assert_error(err, P2M_ERROR, P2M_E_ADDRESS);
	g_assert_nonnull(strstr(err->message, "Cc"));
	g_assert_nonnull(strstr(err->message, "bad@@x.com"));
}

static void
test_envelope_cap(void)
{
	g_autoptr(GString) big = g_string_new("From: a@b.com\r\nX-Pad: ");
	g_autoptr(GError) err = NULL;
	g_autofree char *from = NULL;
	g_auto(GStrv) to = NULL, cc = NULL;

	while (big->len < P2M_HEADER_BLOCK_MAX + 10)
		g_string_append(big, "padding\r\n ");
	g_string_append(big, "x\r\nTo: c@d.com\r\n\r\n");
	g_assert_false(p2m_compose_parse_envelope(big->str, big->len, &from, &to, &cc, &err));
	g_assert_error(err, P2M_ERROR, P2M_E_ADDRESS);
}

static void
add_envelope_tests(void)
{
	g_test_add("/compose/envelope-of-composed", Fixture, GSIZE_TO_POINTER(5000),
	           fixture_setup, test_envelope_of_composed, fixture_teardown);
	g_test_add_func("/compose/envelope-table", test_envelope_table);
	g_test_add_func("/compose/envelope-names-header", test_envelope_names_header);
	g_test_add_func("/compose/envelope-cap", test_envelope_cap);
}

/* The close delimiter the backend waits for comes from this: quoted or not,
 * folded, case-insensitive names; nothing for non-multipart or bad values. */
static void
test_boundary(void)
{
	static const struct { const char *hdr; const char *want; } cases[] = {
		{ "From: a@b.c\r\nContent-Type: multipart/mixed;\r\n boundary=\"=_p2m_abc\"\r\n\r\nbody", "=_p2m_abc" },
		{ "content-type: Multipart/Mixed; BOUNDARY=simple\n\n", "simple" },
		{ "Content-Type: multipart/mixed; charset=x; boundary = \"a b'()+_,-./:=?\"\n\n", "a b'()+_,-./:=?" },
		{ "Content-Type: text/plain\n\n", NULL },
		{ "Content-Type: multipart/mixed\n\n", NULL },
		{ "Content-Type: multipart/mixed; boundary=\"\"\n\n", NULL },
		{ "Content-Type: multipart/mixed; boundary=\"unterminated\n\n", NULL },
		{ "Content-Type: multipart/mixed; boundary=bad<char>\n\n", NULL },
		{ "Content-Type: multipart/mixed; boundary=\"trailing \"\n\n", NULL },
		{ "Content-Type: multipart/mixed; boundary="
		  "12345678901234567890123456789012345678901234567890123456789012345678901\n\n", NULL },
		{ "no colon here\n\n", NULL },
		{ "Subject: x\n\nContent-Type: multipart/mixed; boundary=inbody\n", NULL },
		{ "Content-Type: multipart/mixed; boundary=first\nContent-Type: multipart/mixed; boundary=second\n\n", "first" },
	};
	gsize i;

	for (i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *b = p2m_compose_parse_boundary(cases[i].hdr, strlen(cases[i].hdr));

		g_test_message("%s", cases[i].hdr);
		g_assert_cmpstr(b, ==, cases[i].want);
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add("/compose/full-message", Fixture, GSIZE_TO_POINTER(300 * 1024),
	           fixture_setup, test_full_message, fixture_teardown);
	g_test_add("/compose/buffer-sizes", Fixture, GSIZE_TO_POINTER(300 * 1024 + 7),
	           fixture_setup, test_buffer_sizes, fixture_teardown);
	g_test_add("/compose/empty-document", Fixture, GSIZE_TO_POINTER(0),
	           fixture_setup, test_empty_document, fixture_teardown);
	g_test_add("/compose/injection", Fixture, GSIZE_TO_POINTER(1000),
	           fixture_setup, test_injection, fixture_teardown);
	g_test_add("/compose/long-texts", Fixture, GSIZE_TO_POINTER(58),
	           fixture_setup, test_long_texts, fixture_teardown);
	g_test_add("/compose/pipe", Fixture, GSIZE_TO_POINTER(1024 * 1024 + 1),
	           fixture_setup, test_pipe, fixture_teardown);
	g_test_add_func("/compose/boundary", test_boundary);
	g_test_add_func("/compose/bad-input", test_bad_input);
	g_test_add_func("/compose/read-error", test_read_error);
	g_test_add_func("/compose/predict-size", test_predict_size);
	add_envelope_tests();
	return g_test_run();
}
