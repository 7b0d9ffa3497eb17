/* SPDX-License-Identifier: Apache-2.0 */
/* print2mailctl.c - the admin and user command line: status, login, test, explain, forget. */
#include "config.h"

#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "ctl-common.h"
#include "helper-status.h"
#include "p2m-error.h"

#define CALL_TIMEOUT_MS  5000
#define LOGIN_TIMEOUT_MS 45000  /* LOGIN_START waits for one HTTPS request */

static int
usage(FILE *fp, int rc)
{
	fprintf(fp, "Usage: print2mailctl [--config FILE] VERB [ARGS]\n\n"
	        "  status                    every account: auth kind, token expiry, last refresh, last error and its fix\n"
	        "  login ACCOUNT             sign in a device-code account (root)\n"
	        "  login --me                sign in yourself, for jobs sent as you\n"
	        "  test ACCOUNT --to ADDR    send a test message and explain the outcome\n"
	        "  explain 'REPLY TEXT'      the meaning and fix of a server reply (--list: all of them)\n"
	        "  forget [--me | USER]      delete stored credentials (another USER: root)\n\n"
	        "VERB --help describes each verb.  Exit status: 0 success, 1 failed (the output says\n"
	        "why and how to fix it), 2 usage or configuration error, 3 print2mail-helper is not\n"
	        "running, 4 permission denied.\n");
	return rc;
}

static gboolean
wants_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return TRUE;
	return FALSE;
}

static int
verb_status(const p2m_config *cfg, int argc, char **argv)
{
	g_autofree char *text = NULL;
	ctl_reply r;
	int rc;

	if (wants_help(argc, argv) || argc != 1) {
		gboolean help = wants_help(argc, argv);

		fprintf(help ? stdout : stderr, "Usage: print2mailctl status\n"
		        "List every account with its auth kind, token expiry, last refresh and last error\n"
		        "with its fix; never a token.  Root reads the store; others ask print2mail-helper.\n"
		        "Exit status: 0, or 3 when a non-root caller cannot reach the helper.\n");
		return help ? CTL_EXIT_OK : CTL_EXIT_USAGE;
	}
	if (geteuid() == 0) {
		text = helper_status_format(cfg, NULL);
		fputs(text, stdout);
		return CTL_EXIT_OK;
	}
	if ((rc = ctl_call(cfg, P2M_IPC_STATUS, NULL, NULL, CALL_TIMEOUT_MS, &r)) != CTL_EXIT_OK)
		return rc;
	rc = r.op == P2M_IPC_OK ? CTL_EXIT_OK : ctl_report_error(&r);
	if (rc == CTL_EXIT_OK && r.text != NULL)
		fputs(r.text, stdout);
	ctl_reply_clear(&r);
	return rc;
}

/* Poll LOGIN_WAIT until the helper says done or failed. */
static int
wait_login(const p2m_config *cfg, const char *account)
{
	ctl_reply r;
	int rc;

	for (;;) {
		if ((rc = ctl_call(cfg, P2M_IPC_LOGIN_WAIT, account, NULL, CALL_TIMEOUT_MS * 2, &r)) != CTL_EXIT_OK)
			return rc;
		if (r.op != P2M_IPC_OK) {
			rc = ctl_report_error(&r);
			ctl_reply_clear(&r);
			return rc;
		}
		if (g_strcmp0(r.code_str, "done") == 0) {
			ctl_reply_clear(&r);
			return CTL_EXIT_OK;
		}
		ctl_reply_clear(&r);
	}
}

static int
verb_login(const p2m_config *cfg, int argc, char **argv)
{
	gboolean me = argc == 2 && strcmp(argv[1], "--me") == 0;
	const char *account = me ? NULL : argv[1];
	ctl_reply r;
	int rc;

	if (wants_help(argc, argv) || argc != 2) {
		fprintf(argc != 2 ? stderr : stdout, "Usage: print2mailctl login ACCOUNT | --me\n"
		        "Sign in with the device code flow: open the address shown, enter the code, and\n"
		        "print2mail-helper stores the login and keeps it fresh.  ACCOUNT needs root and\n"
		        "oauth_flow = device-code; --me signs in the calling user for jobs sent as them.\n"
		        "Exit status: 0 signed in, 1 refused or expired, 2 usage, 3 no helper, 4 not root.\n");
		return argc != 2 ? CTL_EXIT_USAGE : CTL_EXIT_OK;
	}
	if (!me && geteuid() != 0) {
		fprintf(stderr, "print2mailctl: only root may sign in account %s; use 'print2mailctl login --me'\n",
		        account);
		return CTL_EXIT_PERMISSION;
	}
	if ((rc = ctl_call(cfg, P2M_IPC_LOGIN_START, account, NULL, LOGIN_TIMEOUT_MS, &r)) != CTL_EXIT_OK)
		return rc;
	if (r.op != P2M_IPC_OK) {
		rc = ctl_report_error(&r);
		ctl_reply_clear(&r);
		return rc;
	}
	printf("To sign in, open %s in a browser and enter the code %s\n", r.uri, r.code_str);
	if (r.text != NULL && r.text[0] != '\0')
		printf("(%s)\n", r.text);
	printf("Waiting for the sign-in to complete...\n");
	fflush(stdout);
	ctl_reply_clear(&r);
	if ((rc = wait_login(cfg, account)) == CTL_EXIT_OK)
		printf("Signed in: the login for %s is stored; print2mail-helper keeps it fresh.\n",
		       me ? g_get_user_name() : account);
	return rc;
}

static int
verb_forget(const p2m_config *cfg, int argc, char **argv)
{
	const char *user = argc == 2 && strcmp(argv[1], "--me") != 0 ? argv[1] : NULL;
	ctl_reply r;
	int rc;

	if (wants_help(argc, argv) || argc > 2) {
		fprintf(argc > 2 ? stderr : stdout, "Usage: print2mailctl forget [--me | USER]\n"
		        "Delete the stored password and OAuth login of the calling user, or (root) of USER.\n"
		        "Exit status: 0 forgotten, 3 no helper, 4 not allowed.\n");
		return argc > 2 ? CTL_EXIT_USAGE : CTL_EXIT_OK;
	}
	if ((rc = ctl_call(cfg, P2M_IPC_FORGET, NULL, user, CALL_TIMEOUT_MS, &r)) != CTL_EXIT_OK)
		return rc;
	rc = r.op == P2M_IPC_OK ? CTL_EXIT_OK : ctl_report_error(&r);
	if (rc == CTL_EXIT_OK)
		printf("Forgot the credentials of %s.\n", user != NULL ? user : g_get_user_name());
	ctl_reply_clear(&r);
	return rc;
}

/* Every verb; explain needs no configuration (it explains a reply text). */
static const struct {
	const char *name;
	gboolean    needs_config;
	int       (*run)(const p2m_config *cfg, int argc, char **argv);
} verbs[] = {
	{ "status",  TRUE,  verb_status },
	{ "login",   TRUE,  verb_login },
	{ "test",    TRUE,  ctl_test },
	{ "forget",  TRUE,  verb_forget },
	{ "explain", FALSE, ctl_explain },
};

static int
run_verb(const char *config_path, int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(p2m_config) cfg = NULL;
	gsize i;

	for (i = 0; i < G_N_ELEMENTS(verbs) && strcmp(argv[0], verbs[i].name) != 0; i++)
		;
	if (i == G_N_ELEMENTS(verbs)) {
		fprintf(stderr, "print2mailctl: unknown verb '%s'\n", argv[0]);
		return usage(stderr, CTL_EXIT_USAGE);
	}
	if (verbs[i].needs_config && (cfg = p2m_config_load(config_path, &error)) == NULL) {
		fprintf(stderr, "print2mailctl: %s\n", error->message);
		return CTL_EXIT_USAGE;
	}
	return verbs[i].run(cfg, argc, argv);
}

int
main(int argc, char **argv)
{
	const char *config_path = NULL;
	int i = 1;

	/* First: login and status hold tokens; no core file or ptrace finds them. */
	(void) prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if (argc > 2 && strcmp(argv[1], "--config") == 0) {
		config_path = argv[2];
		i = 3;
	}
	if (i >= argc)
		return usage(stderr, CTL_EXIT_USAGE);
	if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "help") == 0)
		return usage(stdout, CTL_EXIT_OK);
	if (strcmp(argv[i], "--version") == 0) {
		printf("print2mailctl %s\n", PACKAGE_VERSION);
		return CTL_EXIT_OK;
	}
	return run_verb(config_path, argc - i, argv + i);
}
