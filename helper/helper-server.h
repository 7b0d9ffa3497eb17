/* helper-server.h - print2mail-helper's UNIX socket: one framed request per connection, authorized by peer uid. */
#ifndef HELPER_SERVER_H
#define HELPER_SERVER_H

#include <gio/gio.h>

#include "helper-login.h"
#include "helper-refresh.h"
#include "p2m-config.h"

/* Each client gets this long to send its request and take the reply. */
#define HELPER_CLIENT_DEADLINE_MS 5000
/* LOGIN_WAIT answers "pending" after at most this long; the client asks again. */
#define HELPER_LOGIN_WAIT_MS      3000

typedef struct {
	const p2m_config *cfg;
	helper_refresh   *refresh;
	helper_login     *login;
} helper_ctx;

/* Listen on cfg->helper_socket: its directory is created 0755, a stale
 * socket is removed (a live helper there is an error), the socket is 0666
 * because every request is authorized by SO_PEERCRED. */
GSocketService *helper_server_start(helper_ctx *ctx, GError **error);

#endif /* HELPER_SERVER_H */
