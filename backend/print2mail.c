/* SPDX-License-Identifier: Apache-2.0 */
/* print2mail.c - the CUPS backend: one print job becomes one e-mail through Microsoft 365 SMTP submission. */
#include "config.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cups/backend.h>
#include <glib.h>

#include "deliver.h"
#include "p2m-cancel.h"
#include "p2m-config.h"
#include "p2m-debug.h"
#include "p2m-fail.h"
#include "p2m-i18n.h"
#include "p2m-job.h"
#include "report.h"

static volatile sig_atomic_t canceled;
static int devnull_fd = -1;

/* cupsd cancels a job with SIGTERM.  The flag stops the transfer before the
 * final "." (the server then accepts nothing); pointing standard input at
 * /dev/null ends a read blocked on a stalled filter, since the composer
 * retries interrupted reads. */
static void
on_sigterm(int sig)
{
	canceled = 1;
	if (devnull_fd >= 0)
		(void) dup2(devnull_fd, STDIN_FILENO);
}

static void
setup_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	devnull_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	sa.sa_handler = on_sigterm;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;   /* no SA_RESTART: a blocked read or poll must return */
	sigaction(SIGTERM, &sa, NULL);
	/* The library's long waits (a token request, the helper, a store
	 * lock) end with the cancel too. */
	p2m_cancel_watch(&canceled);
}

/* No arguments: list the configured accounts for lpinfo -v. */
static int
discover(void)
{
	g_autoptr(p2m_config) cfg = p2m_config_load(NULL, NULL);

	bk_report_devices(cfg);
	return CUPS_BACKEND_OK;
}

int
main(int argc, char **argv)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(p2m_job) job = NULL;
	p2m_catalog *cat = NULL;
	bk_outcome outcome = { 0 };
	int status;

	/* First: the root phase reads passwords and tokens, and a core file or
	 * a ptrace by another lp process must not find them. */
	(void) prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	setbuf(stderr, NULL);
	setup_signals();
	if (argc == 1)
		return discover();
	if ((job = p2m_job_new(argc, argv, NULL, &err)) == NULL) {
		bk_report_line("ERROR", err->message);
		return p2m_class_to_cups(p2m_fail_class(err));
	}
	p2m_debug_set_sink(bk_report_debug, NULL);
	cat = p2m_i18n_load(job->lang, NULL);
	/* No curl_global_init: a Graph send loads and initializes libcurl
	 * itself, after the drop to lp (p2m-curl.h); SMTP never maps it. */
	bk_deliver(job, cat, &canceled, &outcome);
	status = bk_report_outcome(&outcome, job, cat);
	bk_report_syslog(&outcome, job);
	bk_outcome_clear(&outcome);
	p2m_i18n_free(cat);
	return status;
}
