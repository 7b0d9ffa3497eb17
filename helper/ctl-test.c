/* SPDX-License-Identifier: Apache-2.0 */
/* ctl-test.c - print2mailctl test: send a short message through the installed backend, as cupsd would, and explain the outcome. */
#include "config.h"

#include <cups/backend.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "ctl-common.h"

/* PRINTER of the test run: no such queue exists. */
#define TEST_QUEUE "print2mail-test"

static const char *
backend_path(void)
{
	const char *env = g_getenv("PRINT2MAIL_BACKEND");

	return env != NULL && env[0] != '\0' ? env : P2M_BACKEND_PATH;
}

/* What an exit code means for a print job, in plain words. */
static const char *
outcome_text(int rc)
{
	switch (rc) {
	case CUPS_BACKEND_OK:
		return "Delivered: the server accepted the test message.";
	case CUPS_BACKEND_AUTH_REQUIRED:
		return "Not sent: the credentials were refused. A print job would be held for authentication\n"
		       "until its user signs in again; then: lp -i QUEUE-JOB -H resume (lpstat -o lists the jobs).";
	case CUPS_BACKEND_HOLD:
		return "Not sent: the message itself was refused. A print job would be held until corrected;\n"
		       "release it with: lp -i QUEUE-JOB -H resume, or remove it: cancel QUEUE-JOB (lpstat -o lists the jobs).";
	case CUPS_BACKEND_STOP:
		return "Not sent: the account needs an administrator's fix. A print job would stop the queue;\n"
		       "after the fix: cupsenable QUEUE (lpstat -p shows stopped queues).";
	case CUPS_BACKEND_RETRY:
	case CUPS_BACKEND_RETRY_CURRENT:
		return "Not sent yet: a temporary problem. A print job would be retried later.";
	case CUPS_BACKEND_CANCEL:
		return "Not sent: the job was cancelled.";
	default:
		return "Not sent: the backend failed.";
	}
}

/* The test runs as job JOB_ID of a queue that does not exist: in the fix
 * the backend wrote, name the placeholders a real job is released with. */
static char *
real_names(const char *text, const char *job_id)
{
	g_autofree char *test_job = g_strconcat(TEST_QUEUE "-", job_id, NULL);
	g_auto(GStrv) a = g_strsplit(text, test_job, -1);
	g_autofree char *b = g_strjoinv("QUEUE-JOB", a);
	g_auto(GStrv) c = g_strsplit(b, TEST_QUEUE, -1);

	return g_strjoinv("QUEUE", c);
}

/* The printer state reasons the backend leaves set (its STATE: +/- lines
 * applied in order: "connecting-to-device" comes and goes), the last INFO:
 * line (the queue's message) and the ERROR: line. */
static void
print_findings(const char *err, const char *job_id)
{
	g_auto(GStrv) lines = g_strsplit(err != NULL ? err : "", "\n", -1);
	g_autoptr(GPtrArray) reasons = g_ptr_array_new_with_free_func(g_free);
	const char *last_error = NULL, *last_info = NULL;
	guint k;
	int i;

	for (i = 0; lines[i] != NULL; i++) {
		const char *l = lines[i];

		if (g_str_has_prefix(l, "ERROR: "))
			last_error = l + 7;
		else if (g_str_has_prefix(l, "INFO: "))
			last_info = l + 6;
		else if (g_str_has_prefix(l, "STATE: +") || g_str_has_prefix(l, "STATE: -"))
			for (k = 0; k <= reasons->len; k++) {
				if (k == reasons->len) {
					if (l[7] == '+')
						g_ptr_array_add(reasons, g_strdup(l + 8));
					break;
				}
				if (strcmp(g_ptr_array_index(reasons, k), l + 8) == 0) {
					if (l[7] == '-')
						g_ptr_array_remove_index(reasons, k);
					break;
				}
			}
	}
	for (k = 0; k < reasons->len; k++)
		printf("Printer state: %s\n", (const char *) g_ptr_array_index(reasons, k));
	if (last_error != NULL) {
		g_autofree char *fix = real_names(last_error, job_id);

		printf("%s\n", fix);
	} else if (last_info != NULL) {
		printf("Queue message: %s\n", last_info);
	}
}

static char *
write_document(const char *dir, const char *account, const char *to)
{
	g_autofree char *path = g_build_filename(dir, "test.txt", NULL);
	g_autoptr(GDateTime) now = g_date_time_new_now_local();
	g_autofree char *when = g_date_time_format(now, "%Y-%m-%d %H:%M:%S %Z");
	g_autofree char *text = g_strdup_printf("This is a test message from print2mail.\n\n"
	                                        "Account: %s\nRecipient: %s\nSent: %s\n\n"
	                                        "If you can read this, printing to e-mail works.\n",
	                                        account, to, when);

	if (!g_file_set_contents(path, text, -1, NULL) || g_chmod(path, 0644) != 0)
		return NULL;
	return g_steal_pointer(&path);
}

/* Run the backend the way cupsd does: argv[0] the URI, six arguments, the
 * document as a file, cupsd's environment. */
static int
run_backend(const p2m_config *cfg, const char *account, const char *to, const char *doc, const char *job_id,
            char **err_text)
{
	g_autofree char *uri = g_strconcat("print2mail://", account, NULL);
	g_autofree char *mailto = g_strconcat("mailto=", to, NULL);
	g_autofree char *env_uri = g_strconcat("DEVICE_URI=", uri, NULL);
	g_autofree char *env_conf = g_strconcat("PRINT2MAIL_CONF=", cfg->path, NULL);
	g_autofree char *env_lang = g_strconcat("LANG=", g_getenv("LANG") ? g_getenv("LANG") : "C", NULL);
	const char *user = g_get_user_name();
	/* G_SPAWN_FILE_AND_ARGV_ZERO: the path to run, then argv[0] = the URI, as cupsd does. */
	const char *argv[] = { backend_path(), uri, job_id, user, "print2mail test", "1", mailto, doc, NULL };
	const char *envp[] = { "PATH=/usr/bin:/bin", env_uri, env_conf, env_lang, "PRINTER=" TEST_QUEUE,
	                       "CONTENT_TYPE=text/plain", "CHARSET=utf-8", "SOFTWARE=print2mailctl",
	                       "AUTH_INFO_REQUIRED=none", NULL };
	g_autoptr(GError) error = NULL;
	int status = 0;

	if (!g_spawn_sync(NULL, (char **) argv, (char **) envp, G_SPAWN_FILE_AND_ARGV_ZERO | G_SPAWN_STDOUT_TO_DEV_NULL,
	                  NULL, NULL, NULL, err_text, &status, &error)) {
		fprintf(stderr, "print2mailctl: cannot run the backend %s: %s\n", backend_path(), error->message);
		return -1;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : CUPS_BACKEND_FAILED;
}

static int
usage(FILE *fp, int rc)
{
	fprintf(fp, "Usage: print2mailctl test ACCOUNT --to ADDRESS\n"
	        "Send a short test message through ACCOUNT by running the print2mail backend\n"
	        "exactly as CUPS would, and say in plain words what a print job would do.\n"
	        "Exit status: 0 delivered, 1 not delivered (the output names the fix), 2 usage error.\n");
	return rc;
}

int
ctl_test(const p2m_config *cfg, int argc, char **argv)
{
	g_autofree char *to = NULL, *dir = NULL, *doc = NULL, *err_text = NULL;
	/* A job number of its own per test: the backend keeps a record of each
	 * accepted job (backend/attempt.c), and a second test under the same
	 * number would be reported delivered without being sent. */
	g_autofree char *job_id = g_strdup_printf("%" G_GINT64_FORMAT, g_get_real_time() / 1000 % 1000000000 + 1);
	gboolean help = FALSE;
	GOptionEntry entries[] = {
		{ "to", 't', 0, G_OPTION_ARG_STRING, &to, "Recipient", "ADDRESS" },
		{ "help", 'h', 0, G_OPTION_ARG_NONE, &help, "Show help", NULL },
		{ NULL }
	};
	int rc;

	switch (ctl_parse_options(entries, &help, &argc, &argv)) {
	case CTL_PARSE_HELP:
		return usage(stdout, CTL_EXIT_OK);
	case CTL_PARSE_ERROR:
		return usage(stderr, CTL_EXIT_USAGE);
	}
	if (argc != 2 || to == NULL)
		return usage(stderr, CTL_EXIT_USAGE);
	if (p2m_config_find(cfg, argv[1]) == NULL) {
		fprintf(stderr, "print2mailctl: no [account %s] in %s\n", argv[1], cfg->path);
		return CTL_EXIT_USAGE;
	}
	if ((dir = g_dir_make_tmp("print2mailctl-XXXXXX", NULL)) == NULL || g_chmod(dir, 0755) != 0
	    || (doc = write_document(dir, argv[1], to)) == NULL) {
		fprintf(stderr, "print2mailctl: cannot write the test document\n");
		return CTL_EXIT_FAILED;
	}
	rc = run_backend(cfg, argv[1], to, doc, job_id, &err_text);
	g_unlink(doc);
	g_rmdir(dir);
	if (rc < 0)
		return CTL_EXIT_FAILED;
	printf("%s\n", outcome_text(rc));
	print_findings(err_text, job_id);
	return rc == CUPS_BACKEND_OK ? CTL_EXIT_OK : CTL_EXIT_FAILED;
}
