/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz-vault.c - libFuzzer target: p2m_vault_open on arbitrary bytes, under a fixed key, for two users. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "p2m-secret.h"
#include "p2m-vault.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The corpus seeds were sealed under this key for user "alice"; the key is
 * fixed so that valid records reach the decryption path. */
static const guint8 fuzz_key[32] = {
	0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
	0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *users[] = { "alice", "bob" };
	GError *error = NULL;
	p2m_secret *s;
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(users); i++) {
		s = p2m_vault_open(fuzz_key, users[i], data, size, &error);
		/* either a secret or an error, never both, never neither */
		if ((s == NULL) == (error == NULL))
			__builtin_trap();
		if (s != NULL && s->data[s->len] != '\0')
			__builtin_trap();
		p2m_secret_free(s);
		g_clear_error(&error);
	}
	return 0;
}
