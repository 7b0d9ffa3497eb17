/* SPDX-License-Identifier: Apache-2.0 */
/* helper-server.h - print2mail-helper's UNIX socket: one framed request per connection, authorized by peer uid. */
#ifndef HELPER_SERVER_H
#define HELPER_SERVER_H

#include <glib.h>

#include "helper-login.h"
#include "helper-refresh.h"
#include "p2m-config.h"

/* A client has this long from connecting to sending its whole request
 * frame (the PAM module and print2mailctl send it at once), and then this
 * long to take the reply once it is ready. */
#define HELPER_REQUEST_DEADLINE_MS 2000
#define HELPER_REPLY_DEADLINE_MS   5000
/* Open connections: per non-root uid, all non-root uids together, root
 * (counted apart, and served by its own workers). */
#define HELPER_MAX_PER_USER        4
#define HELPER_MAX_USERS           64
#define HELPER_MAX_ROOT            64
/* LOGIN_WAIT answers "pending" after at most this long; the client asks again. */
#define HELPER_LOGIN_WAIT_MS      3000

typedef struct {
	const p2m_config *cfg;
	helper_refresh   *refresh;
	helper_login     *login;
} helper_ctx;

typedef struct helper_server helper_server;

/* Listen on cfg->helper_socket: its directory is created 0755, a stale
 * socket is removed (a live helper there is an error), the socket is 0666
 * because every request is authorized by SO_PEERCRED.  Connections are
 * accepted and read in the default main context; requests run in worker
 * threads, root's apart from everyone else's.  Errors: P2M_E_CONFIG,
 * P2M_E_HELPER (another helper is running), P2M_E_INTERNAL. */
helper_server *helper_server_start(helper_ctx *ctx, GError **error);

/* Stop listening, drop connections still sending, wait for the requests
 * being served.  Accepts NULL. */
void helper_server_free(helper_server *srv);

#endif /* HELPER_SERVER_H */
