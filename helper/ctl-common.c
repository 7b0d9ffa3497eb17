/* SPDX-License-Identifier: Apache-2.0 */
/* ctl-common.c - what print2mailctl's verbs share: exit codes and one request to the helper. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl-common.h"
#include "p2m-error.h"

void
ctl_reply_clear(ctl_reply *r)
{
	g_clear_pointer(&r->text, g_free);
	g_clear_pointer(&r->code_str, g_free);
	g_clear_pointer(&r->uri, g_free);
	r->op = 0;
	r->code = 0;
}

static char *
copy_field(const p2m_ipc_msg *m, uint8_t tag)
{
	const p2m_ipc_field *f = p2m_ipc_find(m, tag);

	return f != NULL ? g_strndup((const char *) f->data, f->len) : NULL;
}

int
ctl_call(const p2m_config *cfg, int op, const char *account, const char *user, int timeout_ms, ctl_reply *reply)
{
	static uint8_t req[1024], resp[P2M_IPC_MAX_FRAME];
	p2m_ipc_builder b;
	p2m_ipc_msg msg;
	ssize_t n, len;

	memset(reply, 0, sizeof(*reply));
	p2m_ipc_begin(&b, req, sizeof(req), (uint8_t) op);
	if (account != NULL)
		p2m_ipc_add_str(&b, P2M_IPC_F_ACCOUNT, account);
	if (user != NULL)
		p2m_ipc_add_str(&b, P2M_IPC_F_USER, user);
	if ((len = p2m_ipc_finish(&b)) < 0) {
		fprintf(stderr, "print2mailctl: request too long\n");
		return CTL_EXIT_USAGE;
	}
	n = p2m_ipc_call(cfg->helper_socket, req, (size_t) len, resp, sizeof(resp), timeout_ms);
	if (n < 0 || p2m_ipc_parse(resp, (size_t) n, &msg) <= 0) {
		fprintf(stderr, "print2mailctl: print2mail-helper does not answer on %s: %s\n"
		        "Start it with 'systemctl start print2mail-helper' (or run print2mail-helper --foreground).\n",
		        cfg->helper_socket, n < 0 ? g_strerror(errno) : "malformed reply");
		return CTL_EXIT_NO_HELPER;
	}
	reply->op = msg.op;
	reply->text = copy_field(&msg, P2M_IPC_F_TEXT);
	reply->code_str = copy_field(&msg, P2M_IPC_F_CODE);
	reply->uri = copy_field(&msg, P2M_IPC_F_URI);
	/* A code is a p2m_error: anything else is "internal", never UB. */
	if (msg.op == P2M_IPC_ERROR && reply->code_str != NULL) {
		guint64 code = 0;

		reply->code = g_ascii_string_to_unsigned(reply->code_str, 10, 0, P2M_E__COUNT - 1, &code, NULL) ?
		              (int) code : P2M_E_INTERNAL;
	}
	return CTL_EXIT_OK;
}

int
ctl_report_error(const ctl_reply *r)
{
	fprintf(stderr, "print2mailctl: %s\n", r->text != NULL ? r->text : "the helper refused the request");
	switch (r->code) {
	case P2M_E_PERMISSION:
		return CTL_EXIT_PERMISSION;
	case P2M_E_USAGE:
	case P2M_E_CONFIG:
	case P2M_E_ACCOUNT:
		return CTL_EXIT_USAGE;
	default:
		return CTL_EXIT_FAILED;
	}
}

int
ctl_parse_options(GOptionEntry *entries, const gboolean *help, int *argc, char ***argv)
{
	g_autoptr(GOptionContext) opts = g_option_context_new(NULL);

	/* The verbs print their own usage, in print2mailctl's words. */
	g_option_context_set_help_enabled(opts, FALSE);
	g_option_context_add_main_entries(opts, entries, NULL);
	if (!g_option_context_parse(opts, argc, argv, NULL))
		return CTL_PARSE_ERROR;
	return *help ? CTL_PARSE_HELP : CTL_PARSE_OK;
}
