/* SPDX-License-Identifier: Apache-2.0 */
/* test-i18n.c - unit tests of the .mo reader and of choosing a catalogue from LANG (lib/p2m-i18n.c). */
#include "config.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "p2m-i18n.h"

/* Builds a .mo image of the N pairs in KV (msgid, msgstr, ...), in the
 * byte order BIG, the way msgfmt lays it out (tables, then strings). */
static GByteArray *
build_mo(const char *const *kv, guint n, gboolean big)
{
	GByteArray *mo = g_byte_array_new();
	guint32 hdr[7], orig = 28, trans = 28 + 8 * n, strings = 28 + 16 * n, pos = strings;
	GByteArray *tables = g_byte_array_new(), *data = g_byte_array_new();
	guint i, pass, k;

	hdr[0] = 0x950412de; hdr[1] = 0; hdr[2] = n; hdr[3] = orig; hdr[4] = trans; hdr[5] = 0; hdr[6] = 0;
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < n; i++) {
			const char *s = kv[2 * i + pass];
			/* a plural msgid/msgstr is "one\0two": the length spans both */
			guint32 len = (guint32) (strlen(s) + (strncmp(s, "PLURAL", 6) == 0 ? 1 + strlen(s + strlen(s) + 1) : 0));
			guint32 d[2] = { len, pos };

			for (k = 0; k < 2; k++) {
				guint32 v = big ? GUINT32_TO_BE(d[k]) : GUINT32_TO_LE(d[k]);
				g_byte_array_append(tables, (const guint8 *) &v, 4);
			}
			g_byte_array_append(data, (const guint8 *) s, len + 1);
			pos += len + 1;
		}
	}
	for (k = 0; k < 7; k++) {
		guint32 v = big ? GUINT32_TO_BE(hdr[k]) : GUINT32_TO_LE(hdr[k]);
		g_byte_array_append(mo, (const guint8 *) &v, 4);
	}
	g_byte_array_append(mo, tables->data, tables->len);
	g_byte_array_append(mo, data->data, data->len);
	g_byte_array_unref(tables);
	g_byte_array_unref(data);
	return mo;
}

static const char *const sample[] = {
	"", "Content-Type: text/plain; charset=UTF-8\n",
	"Hello", "Bonjour",
	"Internal error", "Erreur interne",
	"PLURAL one\0PLURAL many", "PLURAL un\0PLURAL plusieurs",
	"Untranslated", "",
};

static void
test_parse_both_orders(void)
{
	gboolean big;

	for (big = FALSE; big <= TRUE; big++) {
		GByteArray *mo = build_mo(sample, 5, big);
		p2m_catalog *cat = p2m_i18n_parse_mo(mo->data, mo->len);

		g_assert_nonnull(cat);
		g_assert_cmpstr(p2m_i18n_get(cat, "Hello"), ==, "Bonjour");
		g_assert_cmpstr(p2m_i18n_get(cat, "Internal error"), ==, "Erreur interne");
		/* msgstr[0] of a plural entry, looked up by its singular msgid */
		g_assert_cmpstr(p2m_i18n_get(cat, "PLURAL one"), ==, "PLURAL un");
		/* untranslated and unknown msgids come back as they are */
		g_assert_cmpstr(p2m_i18n_get(cat, "Untranslated"), ==, "Untranslated");
		g_assert_cmpstr(p2m_i18n_get(cat, "Nope"), ==, "Nope");
		g_assert_cmpstr(p2m_i18n_get(cat, ""), ==, "");
		/* the image was copied */
		memset(mo->data, 0, mo->len);
		g_assert_cmpstr(p2m_i18n_get(cat, "Hello"), ==, "Bonjour");
		p2m_i18n_free(cat);
		g_byte_array_unref(mo);
	}
	g_assert_cmpstr(p2m_i18n_get(NULL, "Hello"), ==, "Hello");
	g_assert_cmpstr(p2m_i18n_language(NULL), ==, "en");
	p2m_i18n_free(NULL);
}

static void
put32(GByteArray *mo, guint off, guint32 v)
{
	v = GUINT32_TO_LE(v);
	memcpy(mo->data + off, &v, 4);
}

static void
test_malformed(void)
{
	GByteArray *mo = build_mo(sample, 5, FALSE);
	GByteArray *bad;
	guint i;
	guint8 *huge;

	g_assert_null(p2m_i18n_parse_mo(NULL, 100));
	g_assert_null(p2m_i18n_parse_mo(mo->data, 27));
	/* every truncation of a valid image is refused, none crashes */
	for (i = 0; i < mo->len; i++)
		g_assert_null(p2m_i18n_parse_mo(mo->data, i));

#define MUTATE(off, value) do { \
		bad = g_byte_array_sized_new(mo->len); \
		g_byte_array_append(bad, mo->data, mo->len); \
		put32(bad, (off), (value)); \
		g_assert_null(p2m_i18n_parse_mo(bad->data, bad->len)); \
		g_byte_array_unref(bad); \
	} while (0)

	MUTATE(0, 0x12345678);           /* magic */
	MUTATE(4, 0x00020000);           /* major revision 2 */
	MUTATE(8, 0x40000000);           /* count far beyond the file */
	MUTATE(12, 0xfffffff0);          /* msgid table offset wraps */
	MUTATE(16, (guint32) mo->len);   /* msgstr table past the end */
	MUTATE(28 + 8, 0xffffffff);      /* a string length past the end */
	MUTATE(28 + 12, (guint32) mo->len - 1); /* a string offset with no room */
	MUTATE(28 + 8, 2);               /* a string not ending in NUL */

	/* more than 4 MB is not a catalogue of ours */
	huge = g_malloc0((4u << 20) + 1);
	memcpy(huge, mo->data, mo->len);
	g_assert_null(p2m_i18n_parse_mo(huge, (4u << 20) + 1));
	g_free(huge);
	g_byte_array_unref(mo);
}

/* DIR/LANG/LC_MESSAGES/print2mail.mo with msgid "Hello" -> TEXT. */
static void
install_mo(const char *dir, const char *lang, const char *text)
{
	const char *kv[] = { "Hello", text };
	GByteArray *mo = build_mo(kv, 1, FALSE);
	g_autofree char *sub = g_build_filename(dir, lang, "LC_MESSAGES", NULL);
	g_autofree char *path = g_build_filename(sub, "print2mail.mo", NULL);

	g_assert_cmpint(g_mkdir_with_parents(sub, 0755), ==, 0);
	g_assert_true(g_file_set_contents(path, (const char *) mo->data, mo->len, NULL));
	g_byte_array_unref(mo);
}

static void
expect(const char *lang, const char *dir, const char *hello, const char *language)
{
	p2m_catalog *cat = p2m_i18n_load(lang, dir);

	if (hello == NULL) {
		if (cat != NULL)
			g_error("LANG=%s: loaded %s, want English", lang, p2m_i18n_language(cat));
	} else {
		g_assert_nonnull(cat);
		g_assert_cmpstr(p2m_i18n_get(cat, "Hello"), ==, hello);
		g_assert_cmpstr(p2m_i18n_language(cat), ==, language);
	}
	p2m_i18n_free(cat);
}

static void
test_load_from_lang(void)
{
	g_autofree char *dir = g_dir_make_tmp("p2m-i18n-XXXXXX", NULL);
	g_autofree char *saved = g_strdup(g_getenv("PRINT2MAIL_LOCALEDIR"));
	g_autofree char *cmd = NULL;

	g_assert_nonnull(dir);
	install_mo(dir, "fr", "Bonjour");
	install_mo(dir, "fr_CA", "Allô");
	install_mo(dir, "zh_CN", "你好");
	install_mo(dir, "ru", "Привет");
	install_mo(dir, "ro", "Salut");

	/* The catalogue comes from LANG alone; this machine has no locales,
	 * so setlocale() fails, and that must not matter. */
	setlocale(LC_ALL, "fr_FR.UTF-8");
	expect("fr_FR.UTF-8", dir, "Bonjour", "fr");
	expect("fr_CA.UTF-8", dir, "Allô", "fr_CA");
	expect("fr", dir, "Bonjour", "fr");
	expect("fr_FR@euro", dir, "Bonjour", "fr");
	expect("zh_CN.UTF-8", dir, "你好", "zh_CN");
	expect("zh_TW.UTF-8", dir, NULL, NULL);
	expect("ru.UTF-8", dir, "Привет", "ru");
	expect("ru_RU.UTF-8", dir, "Привет", "ru");
	expect("ro_RO.UTF-8", dir, "Salut", "ro");
	expect("C", dir, NULL, NULL);
	expect("C.UTF-8", dir, NULL, NULL);
	expect("POSIX", dir, NULL, NULL);
	expect("en_US.UTF-8", dir, NULL, NULL);
	expect("en", dir, NULL, NULL);
	expect("", dir, NULL, NULL);
	expect(NULL, dir, NULL, NULL);
	expect("de_DE.UTF-8", dir, NULL, NULL);
	/* LANG comes from a job: it never walks the file system */
	expect("../fr", dir, NULL, NULL);
	expect("fr/../../etc", dir, NULL, NULL);
	expect("averyveryverylonglanguagename_XX", dir, NULL, NULL);
	setlocale(LC_ALL, "C");

	/* no localedir given: $PRINT2MAIL_LOCALEDIR */
	g_setenv("PRINT2MAIL_LOCALEDIR", dir, TRUE);
	expect("fr_FR.UTF-8", NULL, "Bonjour", "fr");
	g_unsetenv("PRINT2MAIL_LOCALEDIR");
	expect("fr_FR.UTF-8", "/nonexistent", NULL, NULL);
	if (saved != NULL)
		g_setenv("PRINT2MAIL_LOCALEDIR", saved, TRUE);

	cmd = g_strdup_printf("rm -rf '%s'", dir);
	g_assert_cmpint(system(cmd), ==, 0);
}

/* The real catalogues built from po/ (make check sets PRINT2MAIL_LOCALEDIR). */
static void
test_real_catalogues(void)
{
	static const struct { const char *lang, *language; } real[] = {
		{ "fr_FR.UTF-8", "fr" }, { "ro_RO.UTF-8", "ro" }, { "zh_CN.UTF-8", "zh_CN" }, { "ru_RU.UTF-8", "ru" },
	};
	guint i;

	if (g_getenv("PRINT2MAIL_LOCALEDIR") == NULL) {
		g_test_skip("PRINT2MAIL_LOCALEDIR not set (run through make check)");
		return;
	}
	for (i = 0; i < G_N_ELEMENTS(real); i++) {
		p2m_catalog *cat = p2m_i18n_load(real[i].lang, NULL);

		g_assert_nonnull(cat);
		g_assert_cmpstr(p2m_i18n_language(cat), ==, real[i].language);
		g_assert_cmpstr(p2m_i18n_get(cat, "Internal error"), !=, "Internal error");
		p2m_i18n_free(cat);
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/i18n/parse-both-orders", test_parse_both_orders);
	g_test_add_func("/i18n/malformed", test_malformed);
	g_test_add_func("/i18n/load-from-lang", test_load_from_lang);
	g_test_add_func("/i18n/real-catalogues", test_real_catalogues);
	return g_test_run();
}
