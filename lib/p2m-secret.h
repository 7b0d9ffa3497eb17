/* SPDX-License-Identifier: Apache-2.0 */
/* p2m-secret.h - secrets as their own type: read from protected files, wiped before free. */
#ifndef P2M_SECRET_H
#define P2M_SECRET_H

#include <glib.h>

#include "p2m-error.h"

#define P2M_SECRET_MAX (64 * 1024)

/* A NUL-terminated secret; never logged, never in argv/env/URI. */
typedef struct {
	char  *data;
	gsize  len;
} p2m_secret;

p2m_secret *p2m_secret_new(const char *data, gsize len);
/* Read a private file of at most MAX bytes, the one way every secret, key
 * and token file is read.  Refused (the message names the file and the fix)
 * when it is missing, not a regular file, owned by another user than the
 * caller or root, larger than MAX (all ERR), or readable by group or others
 * (MODE_ERR).  *data is NUL-terminated, *len its length; free it with
 * p2m_wipe_free() when it is secret. */
gboolean p2m_secret_read_private(const char *path, gsize max, p2m_error err, p2m_error mode_err,
                                 char **data, gsize *len, GError **error);
/* Read a secret file (p2m_secret_read_private with P2M_E_SECRET, and
 * P2M_E_SECRET_MODE for the mode); also P2M_E_SECRET when it is empty.  One
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
