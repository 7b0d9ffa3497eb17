/* SPDX-License-Identifier: Apache-2.0 */
/* p2m-store.h - the state directory: private files written atomically, and per-identity locks. */
#ifndef P2M_STORE_H
#define P2M_STORE_H

#include <glib.h>
#include <sys/types.h>

/* Create DIR (and parents) 0700 if missing.  An existing DIR that group or
 * others can access, or that another user owns, is refused (P2M_E_STORE). */
gboolean p2m_store_ensure_dir(const char *dir, GError **error);

/* Write PATH atomically: temp file in the same directory with MODE (e.g. 0600),
 * write, fsync, rename, fsync the directory. */
gboolean p2m_store_write(const char *path, const void *data, gsize len, mode_t mode, GError **error);

/* Read a private file of at most MAX bytes: p2m_secret_read_private() with
 * P2M_E_STORE for every refusal.  Call p2m_store_exists() first when absence
 * is normal.  *data is NUL-terminated; free it with p2m_wipe_free() when it
 * is secret.  LEN may be NULL. */
gboolean p2m_store_read(const char *path, gsize max, char **data, gsize *len, GError **error);
gboolean p2m_store_exists(const char *path);

/* An exclusive lock for one identity (an account name or "user:NAME"), shared
 * by helper and backend: flock() on STATE_DIR/locks/IDENTITY.lock.  Blocks up
 * to TIMEOUT_MS (then P2M_E_STORE "lock busy").  Unlock with p2m_store_unlock. */
typedef struct p2m_store_lock p2m_store_lock;
p2m_store_lock *p2m_store_lock_identity(const char *state_dir, const char *identity, int timeout_ms, GError **error);
void p2m_store_unlock(p2m_store_lock *lock);  /* accepts NULL */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(p2m_store_lock, p2m_store_unlock)

/* File name safe form of an identity (letters, digits, '-', '_', '.', '@'; others %XX). Caller frees. */
char *p2m_store_escape(const char *identity);

#endif /* P2M_STORE_H */
