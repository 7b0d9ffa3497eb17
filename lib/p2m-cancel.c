/* SPDX-License-Identifier: Apache-2.0 */
/* p2m-cancel.c - the process's cancel flag, watched by the library's long waits. */
#include "config.h"

#include "p2m-cancel.h"

static volatile sig_atomic_t *watched;

void
p2m_cancel_watch(volatile sig_atomic_t *flag)
{
	watched = flag;
}

int
p2m_canceled(void)
{
	return watched != NULL && *watched != 0;
}

int
p2m_cancel_watched(void)
{
	return watched != NULL;
}
