/* SPDX-License-Identifier: Apache-2.0 */
/* p2m-net.h - the network waits of one job, whatever the transport (SMTP, Graph, the token endpoint): one timeout, and what a failed transfer means. */
#ifndef P2M_NET_H
#define P2M_NET_H

#include <curl/curl.h>
#include <glib.h>

/*
 * Bound every wait of a libcurl transfer by TIMEOUT_S seconds (0 = the
 * default, P2M_DEFAULT_TIMEOUT): connecting (TCP and TLS), each reply of a
 * server (SMTP, IMAP...: CURLOPT_SERVER_RESPONSE_TIMEOUT) and any stretch of
 * TIMEOUT_S seconds in which not one byte moves in either direction
 * (CURLOPT_LOW_SPEED_LIMIT/TIME), which also covers waiting for an HTTP
 * answer.  There is no limit on a whole transfer: a large upload that keeps
 * moving is never cut.  Returns the first failing option's code.  H comes
 * from p2m_curl()->easy_init(): libcurl is loaded (p2m-curl.h).
 */
CURLcode p2m_net_set_timeouts(CURL *h, unsigned timeout_s);

/* What went wrong on the wire, for the message a user reads. */
typedef enum {
	P2M_NET_OK = 0,
	P2M_NET_UNREACHABLE,  /* never connected: DNS, refused, no route, connect timeout */
	P2M_NET_STALLED,      /* connected, then nothing moved for the timeout */
	P2M_NET_LOST,         /* connected, then the connection was closed or reset */
	P2M_NET_OTHER,        /* anything else (TLS, protocol, our own abort) */
} p2m_net_fault;

/*
 * Pure: classify CURL_CODE (a CURLcode) of a transfer that had (CONNECTED)
 * or had not yet established its connection.  A timeout before the
 * connection is UNREACHABLE; after it, STALLED.
 */
p2m_net_fault p2m_net_fault_of(long curl_code, gboolean connected);

/* "unreachable", "stalled", "lost", "other", "ok". */
const char *p2m_net_fault_name(p2m_net_fault f);

#endif /* P2M_NET_H */
