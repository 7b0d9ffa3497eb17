/* SPDX-License-Identifier: Apache-2.0 */
/* p2m-vault.h - per-user passwords encrypted at rest (AES-256-GCM), keyed by a root-only file outside the store. */
#ifndef P2M_VAULT_H
#define P2M_VAULT_H

#include <glib.h>

#include "p2m-secret.h"

/* Create KEY_FILE (32 random bytes, 0600 root, atomic) if missing; refuse one
 * that is group/other-readable or the wrong size (P2M_E_STORE). */
gboolean p2m_vault_ensure_key(const char *key_file, GError **error);

/* Store USER's password in STATE_DIR/users/<escaped user>.cred, encrypted with
 * AES-256-GCM under KEY_FILE's key (random 96-bit nonce, the user name as
 * associated data so a file renamed to another user fails to decrypt). */
gboolean p2m_vault_put(const char *state_dir, const char *key_file, const char *user,
                       const p2m_secret *password, GError **error);
/* USER's password; P2M_E_NO_CREDENTIAL when none is stored, P2M_E_STORE when
 * the file is damaged, unsafe, or does not decrypt. */
p2m_secret *p2m_vault_get(const char *state_dir, const char *key_file, const char *user, GError **error);
gboolean p2m_vault_forget(const char *state_dir, const char *user, GError **error);

/* Pure: seal / open one record (format: "P2MV1" | nonce(12) | tag(16) | ciphertext). */
GBytes *p2m_vault_seal(const guint8 key[32], const char *user, const p2m_secret *plain, GError **error);
p2m_secret *p2m_vault_open(const guint8 key[32], const char *user, const guint8 *data, gsize len, GError **error);

#endif /* P2M_VAULT_H */
