/* SPDX-License-Identifier: Apache-2.0 */
/* p2m-secret.h - secrets as their own type: read from protected files, wiped before free. */
#ifndef P2M_SECRET_H
#define P2M_SECRET_H

#include <glib.h>

#define P2M_SECRET_MAX (64 * 1024)

/* A NUL-terminated secret; never logged, never in argv/env/URI. */
typedef struct {
	char  *data;
	gsize  len;
} p2m_secret;

p2m_secret *p2m_secret_new(const char *data, gsize len);
/* Read a secret file.  Refused (P2M_E_SECRET_MODE, message names the file and
 * its mode and says "chmod 600") when group or others can read it; P2M_E_SECRET
 * when missing, not a regular file, empty or larger than P2M_SECRET_MAX.  One
 * trailing newline (LF or CRLF) is removed. */
p2m_secret *p2m_secret_read_file(const char *path, GError **error);
/* Wipes and frees; accepts NULL. */
void p2m_secret_free(p2m_secret *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(p2m_secret, p2m_secret_free)

/* explicit_bzero that the compiler cannot drop. */
void p2m_wipe(void *p, gsize n);
/* Wipe a C string's bytes and g_free it; accepts NULL. */
void p2m_wipe_free(char *s);

#endif /* P2M_SECRET_H */
