/* SPDX-License-Identifier: Apache-2.0 */
/* test-vault.c - unit tests of the per-user password vault: sealing, tampering, key file rules, the store. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "p2m-error.h"
#include "p2m-secret.h"
#include "p2m-vault.h"

#define HEAD_LEN (5 + 12 + 16)

static const guint8 test_key[32] = {
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
	17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32
};

static GBytes *
seal_str(const guint8 *key, const char *user, const char *pw)
{
	g_autoptr(p2m_secret) s = p2m_secret_new(pw, strlen(pw));
	g_autoptr(GError) err = NULL;
	GBytes *rec = p2m_vault_seal(key, user, s, &err);

	g_assert_no_error(err);
	g_assert_nonnull(rec);
	return rec;
}

/* Opens DATA and asserts it fails as a damaged record. */
static void
assert_open_fails(const guint8 *key, const char *user, const guint8 *data, gsize len)
{
	g_autoptr(GError) err = NULL;
	p2m_secret *s = p2m_vault_open(key, user, data, len, &err);

	g_assert_null(s);
	g_assert_error(err, P2M_ERROR, P2M_E_STORE);
}

static void
test_round_trip(void)
{
	g_autoptr(GBytes) rec = seal_str(test_key, "alice", "pw1 with spaces ");
	g_autoptr(GError) err = NULL;
	gsize len;
	const guint8 *d = g_bytes_get_data(rec, &len);
	g_autoptr(p2m_secret) s = p2m_vault_open(test_key, "alice", d, len, &err);

	g_assert_no_error(err);
	g_assert_nonnull(s);
	g_assert_cmpuint(s->len, ==, strlen("pw1 with spaces "));
	g_assert_cmpstr(s->data, ==, "pw1 with spaces ");
	g_assert_cmpuint(len, ==, HEAD_LEN + s->len);
	g_assert_cmpmem(d, 5, "P2MV1", 5);
	/* the password is not in the record in clear */
	g_assert_null(memmem(d, len, "pw1", 3));
}

/* A record made by an independent implementation (Python "cryptography",
 * AESGCM): key 32 x 0x42, nonce 00..0b, AAD "P2MV1" "alice", password "pw1".
 * It pins the on-disk format, so a change to it cannot pass unnoticed. */
static void
test_known_answer(void)
{
	static const guint8 key[32] = {
		0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
		0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42
	};
	static const guint8 rec[] = {
		0x50, 0x32, 0x4d, 0x56, 0x31, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a,
		0x0b, 0x39, 0x37, 0xfc, 0x2b, 0x74, 0x29, 0x2e, 0x5e, 0x91, 0x5a, 0x8f, 0x4e, 0x9a, 0xac, 0x3a,
		0x18, 0x75, 0xa9, 0xa0
	};
	g_autoptr(GError) err = NULL;
	g_autoptr(p2m_secret) s = p2m_vault_open(key, "alice", rec, sizeof(rec), &err);

	g_assert_no_error(err);
	g_assert_cmpstr(s->data, ==, "pw1");
}

static void
test_nonce_fresh(void)
{
	g_autoptr(GBytes) a = seal_str(test_key, "alice", "same");
	g_autoptr(GBytes) b = seal_str(test_key, "alice", "same");

	g_assert_false(g_bytes_equal(a, b));
}

static void
test_wrong_user(void)
{
	g_autoptr(GBytes) rec = seal_str(test_key, "alice", "pw1");
	gsize len;
	const guint8 *d = g_bytes_get_data(rec, &len);

	assert_open_fails(test_key, "bob", d, len);
	assert_open_fails(test_key, "alic", d, len);
	assert_open_fails(test_key, "alicee", d, len);
}

static void
test_wrong_key(void)
{
	g_autoptr(GBytes) rec = seal_str(test_key, "alice", "pw1");
	guint8 other[32];
	gsize len;
	const guint8 *d = g_bytes_get_data(rec, &len);

	memcpy(other, test_key, sizeof(other));
	other[31] ^= 1;
	assert_open_fails(other, "alice", d, len);
}

/* Every single flipped bit, in magic, nonce, tag or ciphertext, is caught. */
static void
test_tampered(void)
{
	g_autoptr(GBytes) rec = seal_str(test_key, "alice", "password");
	gsize len, i;
	const guint8 *d = g_bytes_get_data(rec, &len);
	g_autofree guint8 *copy = g_memdup2(d, len);

	for (i = 0; i < len; i++) {
		copy[i] ^= 0x01;
		assert_open_fails(test_key, "alice", copy, len);
		copy[i] ^= 0x01;
	}
}

static void
test_truncated(void)
{
	g_autoptr(GBytes) rec = seal_str(test_key, "alice", "password");
	g_autofree guint8 *longer = NULL;
	gsize len, n;
	const guint8 *d = g_bytes_get_data(rec, &len);

	for (n = 0; n < len; n++)
		assert_open_fails(test_key, "alice", d, n);
	longer = g_malloc0(len + 1);
	memcpy(longer, d, len);
	assert_open_fails(test_key, "alice", longer, len + 1);
	assert_open_fails(test_key, "alice", NULL, 0);
}

static void
test_bad_user_name(void)
{
	g_autoptr(p2m_secret) s = p2m_secret_new("pw", 2);
	g_autoptr(GError) err = NULL;
	g_autofree char *lng = g_strnfill(300, 'a');

	g_assert_null(p2m_vault_seal(test_key, "", s, &err));
	g_assert_error(err, P2M_ERROR, P2M_E_STORE);
	g_clear_error(&err);
	g_assert_null(p2m_vault_seal(test_key, "al\nice", s, &err));
	g_assert_error(err, P2M_ERROR, P2M_E_STORE);
	g_clear_error(&err);
	g_assert_null(p2m_vault_seal(test_key, lng, s, &err));
	g_assert_error(err, P2M_ERROR, P2M_E_STORE);
}

/* A temp dir holding state/ (0700) and etc/; removed at the end. */
typedef struct {
	char *top;
	char *state;
	char *key;
} fixture;

static void
fixture_setup(fixture *f, gconstpointer data)
{
	g_autoptr(GError) err = NULL;

	f->top = g_dir_make_tmp("test-vault-XXXXXX", &err);
	g_assert_no_error(err);
	f->state = g_build_filename(f->top, "state", NULL);
	g_assert_cmpint(g_mkdir(f->state, 0700), ==, 0);
	f->key = g_build_filename(f->top, "etc", "store.key", NULL);
}

static void
fixture_teardown(fixture *f, gconstpointer data)
{
	g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", f->top);

	g_assert_cmpint(system(cmd), ==, 0);
	g_free(f->top);
	g_free(f->state);
	g_free(f->key);
}

static void
write_key(const char *path, gsize len, mode_t mode)
{
	g_autofree char *dir = g_path_get_dirname(path);
	g_autoptr(GError) err = NULL;
	guint8 buf[64] = { 7 };

	g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
	g_assert_true(g_file_set_contents(path, (const char *) buf, (gssize) len, &err));
	g_assert_no_error(err);
	g_assert_cmpint(g_chmod(path, mode), ==, 0);
}

static void
test_key_created(fixture *f, gconstpointer data)
{
	g_autoptr(GError) err = NULL;
	g_autofree char *k1 = NULL, *k2 = NULL;
	gsize n1 = 0, n2 = 0;
	struct stat st;

	g_assert_true(p2m_vault_ensure_key(f->key, &err));
	g_assert_no_error(err);
	g_assert_cmpint(g_stat(f->key, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 07777, ==, 0600);
	g_assert_true(g_file_get_contents(f->key, &k1, &n1, NULL));
	g_assert_cmpuint(n1, ==, 32);
	/* a second start keeps the key: a new one would orphan every record */
	g_assert_true(p2m_vault_ensure_key(f->key, &err));
	g_assert_true(g_file_get_contents(f->key, &k2, &n2, NULL));
	g_assert_cmpmem(k1, n1, k2, n2);
}

static void
test_key_mode_refused(fixture *f, gconstpointer data)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(p2m_secret) pw = p2m_secret_new("pw1", 3);

	write_key(f->key, 32, 0644);
	g_assert_false(p2m_vault_ensure_key(f->key, &err));
	g_assert_error(err, P2M_ERROR, P2M_E_STORE);
	g_assert_nonnull(strstr(err->message, f->key));
	g_clear_error(&err);
	g_assert_false(p2m_vault_put(f->state, f->key, "alice", pw, &err));
	g_assert_error(err, P2M_ERROR, P2M_E_STORE);
}

static void
test_key_size_refused(fixture *f, gconstpointer data)
{
	g_autoptr(GError) err = NULL;

	write_key(f->key, 31, 0600);
	g_assert_false(p2m_vault_ensure_key(f->key, &err));
	g_assert_error(err, P2M_ERROR, P2M_E_STORE);
	g_assert_nonnull(strstr(err->message, "32 bytes"));
}

static void
test_put_get_forget(fixture *f, gconstpointer data)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(p2m_secret) pw = p2m_secret_new("pw1-secret", 10);
	g_autoptr(p2m_secret) got = NULL;
	g_autofree char *path = g_build_filename(f->state, "users", "alice.cred", NULL);
	g_autofree char *contents = NULL;
	gsize n = 0;
	struct stat st;

	g_assert_true(p2m_vault_put(f->state, f->key, "alice", pw, &err));
	g_assert_no_error(err);
	g_assert_cmpint(g_stat(path, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 07777, ==, 0600);
	g_assert_true(g_file_get_contents(path, &contents, &n, NULL));
	g_assert_null(memmem(contents, n, "pw1-secret", 10));

	got = p2m_vault_get(f->state, f->key, "alice", &err);
	g_assert_no_error(err);
	g_assert_cmpstr(got->data, ==, "pw1-secret");
	g_clear_pointer(&got, p2m_secret_free);

	got = p2m_vault_get(f->state, f->key, "bob", &err);
	g_assert_null(got);
	g_assert_error(err, P2M_ERROR, P2M_E_NO_CREDENTIAL);
	g_clear_error(&err);

	g_assert_true(p2m_vault_forget(f->state, "alice", &err));
	got = p2m_vault_get(f->state, f->key, "alice", &err);
	g_assert_null(got);
	g_assert_error(err, P2M_ERROR, P2M_E_NO_CREDENTIAL);
	g_clear_error(&err);
	/* forgetting twice is not an error */
	g_assert_true(p2m_vault_forget(f->state, "alice", &err));
	g_assert_no_error(err);
}

/* alice's record copied to bob's name does not give bob alice's password. */
static void
test_swapped_record(fixture *f, gconstpointer data)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(p2m_secret) pw = p2m_secret_new("pw1", 3);
	g_autofree char *a = g_build_filename(f->state, "users", "alice.cred", NULL);
	g_autofree char *b = g_build_filename(f->state, "users", "bob.cred", NULL);
	g_autofree char *contents = NULL;
	gsize n = 0;

	g_assert_true(p2m_vault_put(f->state, f->key, "alice", pw, &err));
	g_assert_true(g_file_get_contents(a, &contents, &n, NULL));
	g_assert_true(g_file_set_contents(b, contents, (gssize) n, NULL));
	g_assert_cmpint(g_chmod(b, 0600), ==, 0);
	g_assert_null(p2m_vault_get(f->state, f->key, "bob", &err));
	g_assert_error(err, P2M_ERROR, P2M_E_STORE);
}

/* A new key (say the key file was lost) makes old records unreadable, loudly. */
static void
test_key_replaced(fixture *f, gconstpointer data)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(p2m_secret) pw = p2m_secret_new("pw1", 3);

	g_assert_true(p2m_vault_put(f->state, f->key, "alice", pw, &err));
	g_assert_cmpint(g_unlink(f->key), ==, 0);
	g_assert_true(p2m_vault_ensure_key(f->key, &err));
	g_assert_null(p2m_vault_get(f->state, f->key, "alice", &err));
	g_assert_error(err, P2M_ERROR, P2M_E_STORE);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/vault/round-trip", test_round_trip);
	g_test_add_func("/vault/known-answer", test_known_answer);
	g_test_add_func("/vault/nonce-fresh", test_nonce_fresh);
	g_test_add_func("/vault/wrong-user", test_wrong_user);
	g_test_add_func("/vault/wrong-key", test_wrong_key);
	g_test_add_func("/vault/tampered", test_tampered);
	g_test_add_func("/vault/truncated", test_truncated);
	g_test_add_func("/vault/bad-user-name", test_bad_user_name);
	g_test_add("/vault/key-created", fixture, NULL, fixture_setup, test_key_created, fixture_teardown);
	g_test_add("/vault/key-mode-refused", fixture, NULL, fixture_setup, test_key_mode_refused, fixture_teardown);
	g_test_add("/vault/key-size-refused", fixture, NULL, fixture_setup, test_key_size_refused, fixture_teardown);
	g_test_add("/vault/put-get-forget", fixture, NULL, fixture_setup, test_put_get_forget, fixture_teardown);
	g_test_add("/vault/swapped-record", fixture, NULL, fixture_setup, test_swapped_record, fixture_teardown);
	g_test_add("/vault/key-replaced", fixture, NULL, fixture_setup, test_key_replaced, fixture_teardown);
	return g_test_run();
}
