/* SPDX-License-Identifier: Apache-2.0 */
/* ctl-common.h - what print2mailctl's verbs share: exit codes and one request to the helper. */
#ifndef CTL_COMMON_H
#define CTL_COMMON_H

#include <glib.h>

#include "p2m-config.h"
#include "p2m-ipc.h"

/* print2mailctl's exit codes (documented in print2mailctl(1)). */
enum {
	CTL_EXIT_OK         = 0,  /* done; for test: the message was delivered */
	CTL_EXIT_FAILED     = 1,  /* refused or failed; the output says why and how to fix it */
	CTL_EXIT_USAGE      = 2,  /* wrong command line or configuration */
	CTL_EXIT_NO_HELPER  = 3,  /* print2mail-helper is not running */
	CTL_EXIT_PERMISSION = 4   /* only root may do this */
};

/* A reply from the helper, with its fields copied out. */
typedef struct {
	int   op;       /* P2M_IPC_OK or P2M_IPC_ERROR */
	int   code;     /* P2M_IPC_ERROR: the p2m_error */
	char *text;
	char *code_str; /* the CODE field as sent */
	char *uri;
} ctl_reply;

void ctl_reply_clear(ctl_reply *r);

/* Send OP with the optional ACCOUNT and USER fields to cfg->helper_socket and
 * wait up to TIMEOUT_MS.  Returns CTL_EXIT_OK with *reply filled, or
 * CTL_EXIT_NO_HELPER after printing why. */
int ctl_call(const p2m_config *cfg, int op, const char *account, const char *user, int timeout_ms,
             ctl_reply *reply);

/* Map a P2M_IPC_ERROR reply to an exit code after printing its text. */
int ctl_report_error(const ctl_reply *r);

/* Parse a verb's options (ENTRIES must include --help) without GLib's own
 * help: CTL_PARSE_OK, CTL_PARSE_HELP (print the verb's usage to stdout) or
 * CTL_PARSE_ERROR (usage to stderr). */
enum { CTL_PARSE_OK, CTL_PARSE_HELP, CTL_PARSE_ERROR };
int ctl_parse_options(GOptionEntry *entries, const gboolean *help, int *argc, char ***argv);

/* Verbs implemented in their own files; explain needs no CFG (may be NULL). */
int ctl_explain(const p2m_config *cfg, int argc, char **argv);
int ctl_test(const p2m_config *cfg, int argc, char **argv);

#endif /* CTL_COMMON_H */
