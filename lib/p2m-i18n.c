/* SPDX-License-Identifier: Apache-2.0 */
/* p2m-i18n.c - reads print2mail.mo for the language named by LANG, without setlocale() or gettext(). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "p2m-i18n.h"

#ifndef P2M_LOCALEDIR
#define P2M_LOCALEDIR "/usr/share/locale"
#endif

/* Our catalogues are a few hundred kilobytes; anything bigger is not ours. */
#define MO_MAX_SIZE   (4u << 20)
#define MO_MAGIC      0x950412deu
#define MO_HEADER_LEN 28u
#define LANG_MAX      16

typedef struct {
	const char *key;   /* msgid (singular), NUL-terminated inside data */
	const char *val;   /* msgstr[0], NUL-terminated inside data */
} mo_entry;

struct p2m_catalog {
	unsigned char *data;     /* private copy of the .mo image */
	size_t         size;
	mo_entry      *entries;  /* sorted by key (strcmp) */
	size_t         count;
	char           lang[LANG_MAX + 1];
};

static uint32_t
get_u32(const unsigned char *p, int swap)
{
	return swap ? ((uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3])
		    : ((uint32_t) p[3] << 24 | (uint32_t) p[2] << 16 | (uint32_t) p[1] << 8 | p[0]);
}

/* The string of descriptor I in the table at TABLE: checked to lie inside
 * the image and to end with a NUL (msgfmt always writes one).  NULL if not. */
static const char *
mo_string(const p2m_catalog *cat, uint32_t table, uint32_t i, int swap)
{
	uint64_t at = (uint64_t) table + (uint64_t) i * 8u;
	uint32_t len, off;

	if (at + 8u > cat->size)
		return NULL;
	len = get_u32(cat->data + at, swap);
	off = get_u32(cat->data + at + 4u, swap);
	if ((uint64_t) off + len >= cat->size || cat->data[(size_t) off + len] != '\0')
		return NULL;
	return (const char *) cat->data + off;
}

static int
by_key(const void *a, const void *b)
{
	return strcmp(((const mo_entry *) a)->key, ((const mo_entry *) b)->key);
}

/* Fills CAT->entries from CAT->data; -1 if the image is malformed. */
static int
mo_index(p2m_catalog *cat)
{
	const unsigned char *d = cat->data;
	uint32_t magic, revision, n, orig, trans, i;
	int swap;

	if (cat->size < MO_HEADER_LEN)
		return -1;
	magic = get_u32(d, 0);
	if (magic == MO_MAGIC)
		swap = 0;
	else if (get_u32(d, 1) == MO_MAGIC)
		swap = 1;
	else
		return -1;
	revision = get_u32(d + 4, swap);
	n = get_u32(d + 8, swap);
	orig = get_u32(d + 12, swap);
	trans = get_u32(d + 16, swap);
	if ((revision >> 16) > 1 || n > cat->size / 16u)
		return -1;
	if (n > 0 && (cat->entries = calloc(n, sizeof(mo_entry))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		const char *key = mo_string(cat, orig, i, swap);
		const char *val = mo_string(cat, trans, i, swap);

		if (key == NULL || val == NULL)
			return -1;
		/* The header (msgid "") and untranslated entries give nothing. */
		if (*key == '\0' || *val == '\0')
			continue;
		cat->entries[cat->count].key = key;
		cat->entries[cat->count].val = val;
		cat->count++;
	}
	if (cat->count > 1)
		qsort(cat->entries, cat->count, sizeof(mo_entry), by_key);
	return 0;
}

p2m_catalog *
p2m_i18n_parse_mo(const unsigned char *data, size_t len)
{
	p2m_catalog *cat = NULL;

	if (data == NULL || len < MO_HEADER_LEN || len > MO_MAX_SIZE)
		return NULL;
	if ((cat = calloc(1, sizeof(*cat))) == NULL)
		return NULL;
	if ((cat->data = malloc(len)) == NULL)
		goto fail;
	memcpy(cat->data, data, len);
	cat->size = len;
	if (mo_index(cat) != 0)
		goto fail;
	return cat;
fail:
	p2m_i18n_free(cat);
	return NULL;
}

/* Reads PATH whole if it is a regular file of at most MO_MAX_SIZE bytes. */
static p2m_catalog *
load_file(const char *path)
{
	p2m_catalog *cat = NULL;
	unsigned char *buf = NULL;
	struct stat st;
	size_t got = 0;
	ssize_t r;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return NULL;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 || (uint64_t) st.st_size > MO_MAX_SIZE)
		goto out;
	if ((buf = malloc((size_t) st.st_size)) == NULL)
		goto out;
	while (got < (size_t) st.st_size) {
		r = read(fd, buf + got, (size_t) st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			goto out;
		got += (size_t) r;
	}
	cat = p2m_i18n_parse_mo(buf, got);
out:
	free(buf);
	close(fd);
	return cat;
}

/* "fr_FR.UTF-8@euro" -> "fr_FR" in OUT.  0 when it names a language we
 * may have; -1 for English, C, POSIX, empty or anything that is not a
 * plain ll or ll_CC (the value comes from a job and ends up in a path). */
static int
lang_base(const char *value, char *out)
{
	size_t i, n;

	if (value == NULL)
		return -1;
	n = strcspn(value, ".@");
	if (n == 0 || n > LANG_MAX)
		return -1;
	for (i = 0; i < n; i++) {
		char c = value[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'))
			return -1;
	}
	memcpy(out, value, n);
	out[n] = '\0';
	if (strcmp(out, "C") == 0 || strcmp(out, "POSIX") == 0 ||
	    (strncmp(out, "en", 2) == 0 && (out[2] == '\0' || out[2] == '_')))
		return -1;
	return 0;
}

static p2m_catalog *
load_lang(const char *dir, const char *lang)
{
	char path[4096];
	p2m_catalog *cat;
	int n;

	n = snprintf(path, sizeof(path), "%s/%s/LC_MESSAGES/print2mail.mo", dir, lang);
	if (n < 0 || (size_t) n >= sizeof(path))
		return NULL;
	if ((cat = load_file(path)) != NULL)
		snprintf(cat->lang, sizeof(cat->lang), "%s", lang);
	return cat;
}

p2m_catalog *
p2m_i18n_load(const char *lang_value, const char *localedir)
{
	char lang[LANG_MAX + 1];
	const char *env;
	p2m_catalog *cat;
	char *underscore;

	if (lang_base(lang_value, lang) != 0)
		return NULL;
	if (localedir == NULL) {
		env = getenv("PRINT2MAIL_LOCALEDIR");
		localedir = (env != NULL && *env != '\0') ? env : P2M_LOCALEDIR;
	}
	if ((cat = load_lang(localedir, lang)) != NULL)
		return cat;
	/* "fr_FR" has no catalogue of its own: try "fr". */
	if ((underscore = strchr(lang, '_')) == NULL)
		return NULL;
	*underscore = '\0';
	if (lang[0] == '\0')
		return NULL;
	return load_lang(localedir, lang);
}

const char *
p2m_i18n_get(const p2m_catalog *cat, const char *msgid)
{
	mo_entry key, *hit;

	if (cat == NULL || msgid == NULL || cat->count == 0)
		return msgid;
	key.key = msgid;
	key.val = NULL;
	hit = bsearch(&key, cat->entries, cat->count, sizeof(mo_entry), by_key);
	return hit != NULL ? hit->val : msgid;
}

const char *
p2m_i18n_language(const p2m_catalog *cat)
{
	return (cat != NULL && cat->lang[0] != '\0') ? cat->lang : "en";
}

void
p2m_i18n_free(p2m_catalog *cat)
{
	if (cat == NULL)
		return;
	free(cat->entries);
	free(cat->data);
	free(cat);
}
