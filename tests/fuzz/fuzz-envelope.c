/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz-envelope.c - libFuzzer target: the envelope (From, To, Cc) and the multipart boundary of a message's header block. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "p2m-addr.h"
#include "p2m-compose.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *from = NULL, **to = NULL, **cc = NULL;
	GError *err = NULL;
	gboolean ok = p2m_compose_parse_envelope((const char *) data, size, &from, &to, &cc, &err);
	char *boundary = p2m_compose_parse_boundary((const char *) data, size);

	/* a boundary is 1-70 characters with no CR, LF, quote or NUL */
	if (boundary != NULL && (*boundary == '\0' || strlen(boundary) > 70 || strpbrk(boundary, "\r\n\"") != NULL))
		abort();
	g_free(boundary);

	/* either a full envelope of valid addresses, or an error and nothing */
	if (ok != (err == NULL) || ok != (from != NULL) || ok != (to != NULL) || ok != (cc != NULL))
		abort();
	if (ok) {
		if (!p2m_addr_is_valid(from))
			abort();
		for (size_t i = 0; to[i] != NULL; i++)
			if (!p2m_addr_is_valid(to[i]))
				abort();
		for (size_t i = 0; cc[i] != NULL; i++)
			if (!p2m_addr_is_valid(cc[i]))
				abort();
	}
	g_free(from);
	g_strfreev(to);
	g_strfreev(cc);
	g_clear_error(&err);
	return 0;
}
