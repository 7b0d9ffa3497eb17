/* SPDX-License-Identifier: Apache-2.0 */
/* p2m-text.c - cutting UTF-8 text on a character boundary (see p2m-text.h). */
#include "config.h"

#include "p2m-text.h"

size_t
p2m_text_utf8_cut(const char *s, size_t len, size_t max)
{
	size_t n;

	if (len <= max)
		return len;
	/* S[MAX] is the first byte dropped: while it continues a sequence,
	 * the sequence it belongs to goes too. */
	for (n = max; n > 0 && ((unsigned char) s[n] & 0xc0) == 0x80; n--)
		;
	return n;
}
