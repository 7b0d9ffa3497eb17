/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz-ipc.c - libFuzzer target: helper socket frames through p2m_ipc_parse and back. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "p2m-ipc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[P2M_IPC_MAX_FRAME];
	p2m_ipc_msg msg;
	p2m_ipc_builder b;
	char s[256];
	ssize_t n = p2m_ipc_parse(data, size, &msg);
	unsigned i;

	if (n <= 0)
		return 0;
	if ((size_t) n > size)
		abort();
	/* every field lies inside the frame, and rebuilding gives the same bytes */
	p2m_ipc_begin(&b, out, sizeof(out), msg.op);
	for (i = 0; i < msg.nfields; i++) {
		if (msg.fields[i].data < data || msg.fields[i].data + msg.fields[i].len > data + n)
			abort();
		p2m_ipc_field_str(&msg.fields[i], s, sizeof(s));
		p2m_ipc_add(&b, msg.fields[i].tag, msg.fields[i].data, msg.fields[i].len);
	}
	if (p2m_ipc_finish(&b) != n || memcmp(out, data, (size_t) n) != 0)
		abort();
	return 0;
}
