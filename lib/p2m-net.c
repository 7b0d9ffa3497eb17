/* SPDX-License-Identifier: Apache-2.0 */
/* p2m-net.c - the network waits of one job, whatever the transport: one timeout, and what a failed transfer means. */
#include "config.h"

#include <glib.h>

#include "p2m-config.h"
#include "p2m-curl.h"
#include "p2m-net.h"

CURLcode
p2m_net_set_timeouts(CURL *h, unsigned timeout_s)
{
	long t = timeout_s > 0 ? (long) timeout_s : P2M_DEFAULT_TIMEOUT;
	const p2m_curl_fns *c = p2m_curl();
	CURLcode rc;

	if ((rc = c->easy_setopt(h, CURLOPT_CONNECTTIMEOUT, t)) != CURLE_OK ||
	    (rc = c->easy_setopt(h, CURLOPT_SERVER_RESPONSE_TIMEOUT, t)) != CURLE_OK ||
	    /* Below 1 byte/s for T seconds = nothing moved in T seconds. */
	    (rc = c->easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L)) != CURLE_OK ||
	    (rc = c->easy_setopt(h, CURLOPT_LOW_SPEED_TIME, t)) != CURLE_OK)
		return rc;
	return CURLE_OK;
}

p2m_net_fault
p2m_net_fault_of(long curl_code, gboolean connected)
{
	switch ((CURLcode) curl_code) {
	case CURLE_OK:
		return P2M_NET_OK;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
		return P2M_NET_UNREACHABLE;
	case CURLE_OPERATION_TIMEDOUT:
		return connected ? P2M_NET_STALLED : P2M_NET_UNREACHABLE;
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
		return connected ? P2M_NET_LOST : P2M_NET_UNREACHABLE;
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
