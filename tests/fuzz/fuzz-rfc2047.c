/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz-rfc2047.c - libFuzzer target: header text, display names and file names from arbitrary bytes stay one well-formed header. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "p2m-mime.h"

/* Every line ends in CRLF, only continuation lines start with a blank,
 * no line is longer than 78, and no CR or LF stands alone. */
static void
check_header(const char *h, const char *name)
{
	const char *p = h, *eol;

	if (strncmp(h, name, strlen(name)) != 0 || h[strlen(name)] != ':')
		abort();
	for (; *p != '\0'; p = eol + 2) {
		eol = strstr(p, "\r\n");
		if (eol == NULL)
			abort();
		if (memchr(p, '\r', (size_t) (eol - p)) || memchr(p, '\n', (size_t) (eol - p)))
			abort();
		if (eol - p > 78)
			abort();
		if (p != h && *p != ' ')
			abort();
		for (const char *q = p; q < eol; q++)
			if ((unsigned char) *q < 0x20 || (unsigned char) *q > 0x7e)
				abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* NUL cannot come from a C string: make it another control char */
	char *text = g_malloc(size + 1);
	char *h, *name;
	GString *out = g_string_new(NULL);
	p2m_mime_hdr hdr;

	for (size_t i = 0; i < size; i++)
		text[i] = data[i] ? (char) data[i] : '\x01';
	text[size] = '\0';

	h = p2m_mime_header("Subject", text);
	check_header(h, "Subject");
	g_free(h);

	p2m_mime_hdr_begin(&hdr, out, "From");
	p2m_mime_hdr_phrase(&hdr, text);
	p2m_mime_hdr_token(&hdr, "<a@b.com>");
	p2m_mime_hdr_end(&hdr);
	check_header(out->str, "From");

	name = p2m_mime_safe_filename(text, NULL);
	if (strlen(name) > P2M_MIME_FILENAME_MAX || !g_utf8_validate(name, -1, NULL) || strpbrk(name, "/\\\"\r\n"))
		abort();
	g_string_truncate(out, 0);
	p2m_mime_hdr_begin(&hdr, out, "Content-Disposition");
	p2m_mime_hdr_token(&hdr, "attachment;");
	p2m_mime_hdr_filename(&hdr, "filename", name, TRUE);
	p2m_mime_hdr_end(&hdr);
	check_header(out->str, "Content-Disposition");
	g_free(name);

	g_string_free(out, TRUE);
	g_free(text);
	return 0;
}
