/* SPDX-License-Identifier: Apache-2.0 */
/* p2m-vault.c - per-user passwords sealed with AES-256-GCM under a root-only key kept outside the store. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "p2m-error.h"
#include "p2m-secret.h"
#include "p2m-store.h"
#include "p2m-vault.h"

#define VAULT_MAGIC      "P2MV1"
#define VAULT_MAGIC_LEN  5
#define VAULT_KEY_LEN    32
#define VAULT_NONCE_LEN  12
#define VAULT_TAG_LEN    16
#define VAULT_HEAD_LEN   (VAULT_MAGIC_LEN + VAULT_NONCE_LEN + VAULT_TAG_LEN)
#define VAULT_MAX_RECORD (VAULT_HEAD_LEN + P2M_SECRET_MAX)
/* A login name; anything longer is not one (and would not fit an IPC field). */
#define VAULT_MAX_USER   256

/* The associated data binds a record to its format version and to its user,
 * so a file copied or renamed to another user's name fails to decrypt. */
static gboolean
set_aad(EVP_CIPHER_CTX *ctx, const char *user)
{
	int outl = 0;

	if (EVP_CipherUpdate(ctx, NULL, &outl, (const unsigned char *) VAULT_MAGIC, VAULT_MAGIC_LEN) != 1)
		return FALSE;
	return EVP_CipherUpdate(ctx, NULL, &outl, (const unsigned char *) user, (int) strlen(user)) == 1;
}

static gboolean
check_user(const char *user, GError **error)
{
	gsize n = user != NULL ? strlen(user) : 0;
	gsize i;

	if (n == 0 || n > VAULT_MAX_USER) {
		g_set_error(error, P2M_ERROR, P2M_E_STORE, "invalid user name (empty or longer than %d bytes)",
		            VAULT_MAX_USER);
		return FALSE;
	}
	for (i = 0; i < n; i++) {
		if ((unsigned char) user[i] < 0x20 || user[i] == 0x7f) {
			g_set_error(error, P2M_ERROR, P2M_E_STORE, "invalid user name (control character)");
			return FALSE;
		}
	}
	return TRUE;
}

/* Starts a GCM context for KEY and NONCE; ENC 1 seals, 0 opens. */
static EVP_CIPHER_CTX *
gcm_start(const guint8 key[32], const guint8 *nonce, int enc)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();

	if (ctx == NULL)
		return NULL;
	if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, VAULT_NONCE_LEN, NULL) != 1 ||
	    EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, enc) != 1) {
		EVP_CIPHER_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

GBytes *
p2m_vault_seal(const guint8 key[32], const char *user, const p2m_secret *plain, GError **error)
{
	EVP_CIPHER_CTX *ctx = NULL;
	guint8 *rec = NULL;
	guint8 *nonce, *tag, *ct;
	gsize total = 0;
	int outl = 0, finl = 0;
	GBytes *out = NULL;

	if (!check_user(user, error))
		goto out;
	if (plain == NULL || plain->len > P2M_SECRET_MAX) {
		g_set_error(error, P2M_ERROR, P2M_E_SECRET, "password missing or longer than 64 KiB");
		goto out;
	}
	total = VAULT_HEAD_LEN + plain->len;
	rec = g_malloc0(total);
	memcpy(rec, VAULT_MAGIC, VAULT_MAGIC_LEN);
	nonce = rec + VAULT_MAGIC_LEN;
	tag = nonce + VAULT_NONCE_LEN;
	ct = tag + VAULT_TAG_LEN;
	/* A fresh random nonce per record: GCM is broken by nonce reuse. */
	if (RAND_bytes(nonce, VAULT_NONCE_LEN) != 1 ||
	    (ctx = gcm_start(key, nonce, 1)) == NULL || !set_aad(ctx, user) ||
	    EVP_EncryptUpdate(ctx, ct, &outl, (const unsigned char *) plain->data, (int) plain->len) != 1 ||
	    EVP_EncryptFinal_ex(ctx, ct + outl, &finl) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, VAULT_TAG_LEN, tag) != 1) {
		g_set_error(error, P2M_ERROR, P2M_E_INTERNAL, "AES-256-GCM encryption failed");
		goto out;
	}
	out = g_bytes_new_take(g_steal_pointer(&rec), total);
out:
	EVP_CIPHER_CTX_free(ctx);
	g_free(rec);
	return out;
}

p2m_secret *
p2m_vault_open(const guint8 key[32], const char *user, const guint8 *data, gsize len, GError **error)
{
	EVP_CIPHER_CTX *ctx = NULL;
	p2m_secret *plain = NULL, *out = NULL;
	const guint8 *nonce, *tag, *ct;
	gsize ct_len;
	int outl = 0, finl = 0;

	if (!check_user(user, error))
		goto out;
	if (data == NULL || len < VAULT_HEAD_LEN || len > VAULT_MAX_RECORD ||
	    memcmp(data, VAULT_MAGIC, VAULT_MAGIC_LEN) != 0) {
		g_set_error(error, P2M_ERROR, P2M_E_STORE, "not a print2mail credential record");
		goto out;
	}
	nonce = data + VAULT_MAGIC_LEN;
	tag = nonce + VAULT_NONCE_LEN;
	ct = tag + VAULT_TAG_LEN;
	ct_len = len - VAULT_HEAD_LEN;
	plain = g_new0(p2m_secret, 1);
	plain->data = g_malloc0(ct_len + 1);
	plain->len = ct_len;
	/* The tag cast drops const only because OpenSSL's ctrl takes void *; it is not written. */
	if ((ctx = gcm_start(key, nonce, 0)) == NULL || !set_aad(ctx, user) ||
	    EVP_DecryptUpdate(ctx, (unsigned char *) plain->data, &outl, ct, (int) ct_len) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, VAULT_TAG_LEN, (void *) tag) != 1 ||
	    EVP_DecryptFinal_ex(ctx, (unsigned char *) plain->data + outl, &finl) != 1) {
		g_set_error(error, P2M_ERROR, P2M_E_STORE,
		            "credential record does not decrypt (damaged, another user's, or the key changed)");
		goto out;
	}
	out = g_steal_pointer(&plain);
out:
	EVP_CIPHER_CTX_free(ctx);
	/* On failure the buffer may hold unauthenticated plaintext: wiped here. */
	p2m_secret_free(plain);
	return out;
}

/* Reads the 32-byte key.  p2m_store_read refuses a file others can read or
 * that another uid owns; the size check catches a truncated or foreign file. */
static gboolean
load_key(const char *key_file, guint8 key[32], GError **error)
{
	char *buf = NULL;
	gsize len = 0;
	gboolean ok = FALSE;

	if (!p2m_store_read(key_file, VAULT_KEY_LEN + 1, &buf, &len, error))
		goto out;
	if (len != VAULT_KEY_LEN) {
		g_set_error(error, P2M_ERROR, P2M_E_STORE,
		            "%s: the key file must hold exactly %d bytes, it holds %" G_GSIZE_FORMAT
		            "; restore it from backup (a new key makes stored passwords unreadable)",
		            key_file, VAULT_KEY_LEN, len);
		goto out;
	}
	memcpy(key, buf, VAULT_KEY_LEN);
	ok = TRUE;
out:
	if (buf != NULL) {
		p2m_wipe(buf, len);
		g_free(buf);
	}
	return ok;
}

gboolean
p2m_vault_ensure_key(const char *key_file, GError **error)
{
	guint8 key[VAULT_KEY_LEN];
	char *dir = NULL;
	gboolean ok = FALSE;

	if (key_file == NULL || *key_file != '/') {
		g_set_error(error, P2M_ERROR, P2M_E_CONFIG, "key_file must be an absolute path");
		goto out;
	}
	if (p2m_store_exists(key_file)) {
		ok = load_key(key_file, key, error);
		goto out;
	}
	/* The key's directory is /etc/print2mail, which also holds the
	 * readable config: created 0755 if missing, the key itself is 0600. */
	dir = g_path_get_dirname(key_file);
	if (g_mkdir_with_parents(dir, 0755) != 0) {
		g_set_error(error, P2M_ERROR, P2M_E_STORE, "%s: %s", dir, g_strerror(errno));
		goto out;
	}
	if (RAND_bytes(key, VAULT_KEY_LEN) != 1) {
		g_set_error(error, P2M_ERROR, P2M_E_INTERNAL, "no random bytes for the store key");
		goto out;
	}
	ok = p2m_store_write(key_file, key, VAULT_KEY_LEN, 0600, error);
out:
	p2m_wipe(key, sizeof(key));
	g_free(dir);
	return ok;
}

/* STATE_DIR/users/<escaped user>.cred, or NULL + error for a bad user name. */
static char *
record_path(const char *state_dir, const char *user, GError **error)
{
	g_autofree char *esc = NULL;
	g_autofree char *name = NULL;

	if (!check_user(user, error))
		return NULL;
	esc = p2m_store_escape(user);
	name = g_strconcat(esc, ".cred", NULL);
	return g_build_filename(state_dir, "users", name, NULL);
}

gboolean
p2m_vault_put(const char *state_dir, const char *key_file, const char *user,
              const p2m_secret *password, GError **error)
{
	guint8 key[VAULT_KEY_LEN];
	g_autofree char *path = NULL;
	g_autofree char *dir = NULL;
	GBytes *rec = NULL;
	gboolean ok = FALSE;

	if ((path = record_path(state_dir, user, error)) == NULL)
		goto out;
	if (password == NULL || password->len == 0) {
		g_set_error(error, P2M_ERROR, P2M_E_SECRET, "empty password for %s: not stored", user);
		goto out;
	}
	dir = g_path_get_dirname(path);
	if (!p2m_store_ensure_dir(dir, error) || !p2m_vault_ensure_key(key_file, error) ||
	    !load_key(key_file, key, error))
		goto out;
	if ((rec = p2m_vault_seal(key, user, password, error)) == NULL)
		goto out;
	ok = p2m_store_write(path, g_bytes_get_data(rec, NULL), g_bytes_get_size(rec), 0600, error);
out:
	p2m_wipe(key, sizeof(key));
	if (rec != NULL)
		g_bytes_unref(rec);
	return ok;
}

p2m_secret *
p2m_vault_get(const char *state_dir, const char *key_file, const char *user, GError **error)
{
	guint8 key[VAULT_KEY_LEN];
	g_autofree char *path = NULL;
	char *buf = NULL;
	gsize len = 0;
	p2m_secret *out = NULL;
	GError *err = NULL;

	if ((path = record_path(state_dir, user, error)) == NULL)
		goto out;
	if (!p2m_store_exists(path)) {
		g_set_error(error, P2M_ERROR, P2M_E_NO_CREDENTIAL, "no stored password for %s", user);
		goto out;
	}
	if (!p2m_store_read(path, VAULT_MAX_RECORD, &buf, &len, error) || !load_key(key_file, key, error))
		goto out;
	if ((out = p2m_vault_open(key, user, (const guint8 *) buf, len, &err)) == NULL) {
		g_set_error(error, P2M_ERROR, P2M_E_STORE, "%s: %s", path, err->message);
		g_clear_error(&err);
	}
out:
	p2m_wipe(key, sizeof(key));
	g_free(buf);
	return out;
}

gboolean
p2m_vault_forget(const char *state_dir, const char *user, GError **error)
{
	g_autofree char *path = NULL;

	if ((path = record_path(state_dir, user, error)) == NULL)
		return FALSE;
	/* Forgetting what is not there is success: the outcome is the same. */
	if (unlink(path) != 0 && errno != ENOENT) {
		g_set_error(error, P2M_ERROR, P2M_E_STORE, "%s: %s", path, g_strerror(errno));
		return FALSE;
	}
	return TRUE;
}
