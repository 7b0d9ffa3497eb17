/* SPDX-License-Identifier: Apache-2.0 */
/* p2m-text.h - UTF-8 text helpers shared by every module that cuts text to a byte limit. */
#ifndef P2M_TEXT_H
#define P2M_TEXT_H

#include <stddef.h>

/* The length of the longest prefix of S[0..LEN) that is at most MAX bytes
 * and does not end inside a UTF-8 sequence: LEN when LEN <= MAX, else MAX
 * backed up to the start of the character that straddles it.  Bytes are
 * only looked at, never validated: clean the text first.  Pure, plain C
 * (the PAM module links it too). */
size_t p2m_text_utf8_cut(const char *s, size_t len, size_t max);

#endif /* P2M_TEXT_H */
