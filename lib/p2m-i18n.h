/* SPDX-License-Identifier: Apache-2.0 */
/* p2m-i18n.h - message catalogues chosen from the job's LANG, without setlocale(). */
#ifndef P2M_I18N_H
#define P2M_I18N_H

#include <stddef.h>

/*
 * cupsd sets LANG from the submitting client's locale (fr_FR.UTF-8, zh_CN.UTF-8,
 * ...) but print servers often have no locales installed, so setlocale() fails
 * and gettext() would return English.  This module reads the compiled .mo file
 * for the language named by LANG itself: LOCALEDIR/ll_CC/LC_MESSAGES/print2mail.mo,
 * then LOCALEDIR/ll/LC_MESSAGES/print2mail.mo.
 */
typedef struct p2m_catalog p2m_catalog;

/* LOCALEDIR NULL = $PRINT2MAIL_LOCALEDIR if set, else the compiled-in LOCALEDIR.
 * LANG_VALUE as in the LANG variable ("fr_FR.UTF-8", "zh_CN", "ru", "C", NULL).
 * Returns NULL for English/C/unknown languages; NULL is a valid catalogue. */
p2m_catalog *p2m_i18n_load(const char *lang_value, const char *localedir);
/* Translation of MSGID, or MSGID itself; CAT may be NULL. */
const char *p2m_i18n_get(const p2m_catalog *cat, const char *msgid);
/* "fr", "zh_CN", ... of the loaded catalogue, or "en". */
const char *p2m_i18n_language(const p2m_catalog *cat);
void p2m_i18n_free(p2m_catalog *cat);

/* Pure: parse a .mo image of LEN bytes (copied).  NULL if malformed. */
p2m_catalog *p2m_i18n_parse_mo(const unsigned char *data, size_t len);

#endif /* P2M_I18N_H */
