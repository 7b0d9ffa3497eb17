/* SPDX-License-Identifier: Apache-2.0 */
/* print2mail-helper.c - the root daemon that keeps OAuth tokens fresh and takes credentials over its socket. */
#include "config.h"

#include <gio/gio.h>
#include <glib-unix.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helper-log.h"
#include "helper-login.h"
#include "helper-refresh.h"
#include "helper-server.h"
#include "p2m-error.h"
#include "p2m-store.h"
#include "p2m-unpriv.h"
#include "p2m-vault.h"

static gboolean spawner_died;

static gboolean
on_quit(gpointer loop)
{
	g_main_loop_quit(loop);
	return G_SOURCE_CONTINUE;
}

/* Without its spawner the helper could renew nothing (it cannot fork a new
 * one safely once threads run): exit with an error, so systemd restarts it. */
static void
on_spawner_exit(GPid pid, gint status, gpointer loop)
{
	helper_log(LOG_ERR, "the unprivileged process that makes token requests exited (status %d); stopping", status);
	spawner_died = TRUE;
	g_main_loop_quit(loop);
}

/* Everything that must hold before we serve: the store and the vault key. */
static gboolean
prepare(const p2m_config *cfg, GError **error)
{
	g_autoptr(GError) kerr = NULL;

	if (!p2m_store_ensure_dir(cfg->state_dir, error))
		return FALSE;
	/* Without the key only per-user passwords fail; tokens still work. */
	if (!p2m_vault_ensure_key(cfg->key_file, &kerr))
		helper_log(LOG_ERR, "per-user passwords cannot be stored: %s", kerr->message);
	return TRUE;
}

static int
serve(p2m_config *cfg)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
	helper_server *server = NULL;
	helper_ctx ctx = { cfg, NULL, NULL };

	if (!prepare(cfg, &error)) {
		helper_log(LOG_ERR, "%s", error->message);
		return EXIT_FAILURE;
	}
	ctx.refresh = helper_refresh_new(cfg);
	ctx.login = helper_login_new(cfg, ctx.refresh);
	if ((server = helper_server_start(&ctx, &error)) == NULL) {
		helper_log(LOG_ERR, "%s", error->message);
		return EXIT_FAILURE;
	}
	g_unix_signal_add(SIGTERM, on_quit, loop);
	g_unix_signal_add(SIGINT, on_quit, loop);
	if (p2m_unpriv_spawner_pid() > 0)
		g_child_watch_add(p2m_unpriv_spawner_pid(), on_spawner_exit, loop);
	helper_refresh_start(ctx.refresh);
	helper_log(LOG_INFO, "listening on %s, state in %s", cfg->helper_socket, cfg->state_dir);
	g_main_loop_run(loop);
	helper_server_free(server);
	unlink(cfg->helper_socket);
	helper_login_free(ctx.login);
	helper_refresh_free(ctx.refresh);
	helper_log(LOG_INFO, "stopped");
	return spawner_died ? EXIT_FAILURE : EXIT_SUCCESS;
}

int
main(int argc, char **argv)
{
	gboolean foreground = FALSE, debug = FALSE, version = FALSE;
	g_autofree char *config_path = NULL;
	GOptionEntry entries[] = {
		{ "foreground", 'f', 0, G_OPTION_ARG_NONE, &foreground, "Log to stderr as well as syslog", NULL },
		{ "debug", 'd', 0, G_OPTION_ARG_NONE, &debug,
		  "Also log each token request and its timing (LOG_DEBUG; never a secret)", NULL },
		{ "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path,
		  "Configuration file (default: $PRINT2MAIL_CONF or " P2M_CONF_FILE ")", "FILE" },
		{ "version", 0, 0, G_OPTION_ARG_NONE, &version, "Print the version and exit", NULL },
		{ NULL }
	};
	g_autoptr(GOptionContext) opts = g_option_context_new("- keep print2mail's OAuth tokens fresh");
	g_autoptr(GError) error = NULL;
	g_autoptr(p2m_config) cfg = NULL;

	prctl(PR_SET_DUMPABLE, 0);  /* first: no core dumps with tokens in them */
	umask(077);
	g_option_context_add_main_entries(opts, entries, NULL);
	if (!g_option_context_parse(opts, &argc, &argv, &error)) {
		fprintf(stderr, "print2mail-helper: %s (see --help)\n", error->message);
		return 2;
	}
	if (version) {
		printf("print2mail-helper %s\n", PACKAGE_VERSION);
		return EXIT_SUCCESS;
	}
	helper_log_init(foreground, debug);
	if ((cfg = p2m_config_load(config_path, &error)) == NULL) {
		helper_log(LOG_ERR, "%s", error->message);
		return EXIT_FAILURE;
	}
	/* The error domain registers itself on first use through GLib's
	 * g_once, whose release ThreadSanitizer cannot see: register it here,
	 * before the threads, so every later use is ordered after it. */
	(void) P2M_ERROR;
	/* Also before any thread: every token request runs in a child of
	 * this unprivileged spawner, never as root.  Only the spawner loads
	 * libcurl (p2m-curl.h): this root process never maps it. */
	if (!p2m_unpriv_start_spawner(&error)) {
		helper_log(LOG_ERR, "%s", error->message);
		return EXIT_FAILURE;
	}
	return serve(cfg);
}
