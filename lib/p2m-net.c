/* SPDX-License-Identifier: Apache-2.0 */
/* p2m-net.c - what a failed exchange on the wire means for the job. */
#include "config.h"

#include <glib.h>

#include "p2m-net.h"

p2m_net_fault
p2m_net_fault_of(p2m_wire_status st, gboolean reached)
{
	switch (st) {
	case P2M_WIRE_OK:
		return P2M_NET_OK;
	case P2M_WIRE_UNREACHABLE:
		return P2M_NET_UNREACHABLE;
	case P2M_WIRE_STALLED:
		return reached ? P2M_NET_STALLED : P2M_NET_UNREACHABLE;
	case P2M_WIRE_LOST:
		return reached ? P2M_NET_LOST : P2M_NET_UNREACHABLE;
	default:
		return P2M_NET_OTHER;
	}
}

const char *
p2m_net_fault_name(p2m_net_fault f)
{
	static const char *const names[] = { "ok", "unreachable", "stalled", "lost", "other" };

	return (unsigned) f < G_N_ELEMENTS(names) ? names[f] : "other";
}
