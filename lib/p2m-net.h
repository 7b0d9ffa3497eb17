/* SPDX-License-Identifier: Apache-2.0 */
/* p2m-net.h - what a failed exchange on the wire means for the job, whatever the transport. */
#ifndef P2M_NET_H
#define P2M_NET_H

#include <glib.h>

#include "p2m-wire.h"

/* What went wrong on the wire, for the message a user reads. */
typedef enum {
	P2M_NET_OK = 0,
	P2M_NET_UNREACHABLE,  /* never connected: DNS, refused, no route, connect timeout */
	P2M_NET_STALLED,      /* connected, then nothing moved for the timeout */
	P2M_NET_LOST,         /* connected, then the connection was closed or reset */
	P2M_NET_OTHER,        /* anything else (TLS, protocol, our own abort) */
} p2m_net_fault;

/*
 * Pure: classify how a connection ended (ST) when the server had (REACHED:
 * it said something, or heard a command) or had not yet been reached.  A
 * server that accepts the TCP connection and then says nothing, or closes
 * it, was not reached: a firewall or proxy in between does exactly that.
 */
p2m_net_fault p2m_net_fault_of(p2m_wire_status st, gboolean reached);

/* "unreachable", "stalled", "lost", "other", "ok". */
const char *p2m_net_fault_name(p2m_net_fault f);

#endif /* P2M_NET_H */
