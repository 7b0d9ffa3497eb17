/* SPDX-License-Identifier: Apache-2.0 */
/* print2mail-compose.c - CUPS filter: turns a print2mail job's PDF into the finished e-mail (message/rfc822) the backend sends. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "p2m-compose.h"
#include "p2m-config.h"
#include "p2m-error.h"
#include "p2m-i18n.h"
#include "p2m-job.h"

/*
 * cupsd runs this as the unprivileged CUPS user, after pdftopdf, imagetopdf or
 * texttopdf (see conf/print2mail.ppd.in), with the job's argv and environment.
 * It needs no network and no secret: only the sender address from the
 * non-secret config and what the job says.
 *
 * A filter that exits non-zero stops the job whatever the queue's error
 * policy, with cupsd's generic "filter failed" text.  So every problem the
 * backend can explain better (config, account, recipients) must not fail
 * here: the filter then passes the PDF through unchanged, and the backend,
 * seeing a PDF instead of a message, composes it itself as on a raw queue and
 * reports the problem with its fix.  Only a document that cannot be read or an
 * output that cannot be written is fatal.
 *
 * Status lines are DEBUG only: any WARNING from a filter would pin the job's
 * state message, and INFO lines would replace the printer's.
 */

#define COPY_BUF_SIZE (64 * 1024)

typedef enum { OUT_OK, OUT_READ_ERROR, OUT_CLOSED, OUT_WRITE_ERROR } out_status;

static int write_errno; /* errno of the failed write, for the message */

/* Write all of BUF to stdout; EPIPE means the backend stopped reading. */
static out_status
write_all(const char *buf, gsize len)
{
	while (len > 0) {
		ssize_t n = write(STDOUT_FILENO, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			write_errno = errno;
			return errno == EPIPE ? OUT_CLOSED : OUT_WRITE_ERROR;
		}
		buf += n;
		len -= (gsize) n;
	}
	return OUT_OK;
}

/* The document unchanged: the backend composes it and explains the problem. */
static out_status
pass_through(int fd)
{
	g_autofree char *buf = g_malloc(COPY_BUF_SIZE);
	out_status st = OUT_OK;
	ssize_t n;

	while (st == OUT_OK && (n = read(fd, buf, COPY_BUF_SIZE)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return OUT_READ_ERROR;
		st = write_all(buf, (gsize) n);
	}
	return st;
}

/* Stream the composed message to stdout; memory stays constant. */
static out_status
stream_message(p2m_composer *c, GError **error)
{
	g_autofree char *buf = g_malloc(COPY_BUF_SIZE);
	out_status st = OUT_OK;
	gssize n;

	while (st == OUT_OK && (n = p2m_compose_read(c, buf, COPY_BUF_SIZE, error)) != 0) {
		if (n < 0)
			return OUT_READ_ERROR;
		st = write_all(buf, (gsize) n);
	}
	return st;
}

/*
 * What the message says: recipients and text from the job, the sender from
 * the queue's account.  Returns the sender address (caller frees) and sets
 * *FROM_NAME to a copy of the display name, or NULL with ERROR saying why the
 * backend must take over.
 */
static char *
job_sender(p2m_job *job, const p2m_catalog *cat, char **from_name, GError **error)
{
	g_autoptr(p2m_config) cfg = NULL;
	const p2m_account *a;

	*from_name = NULL;
	/* Recipient problems are the backend's to report (it holds the job). */
	if (!p2m_job_prepare(job, cat, TRUE, error))
		return NULL;
	if (job->to == NULL || job->to[0] == NULL) {
		g_set_error(error, P2M_ERROR, P2M_E_NO_RECIPIENT, "the job names no recipient");
		return NULL;
	}
	if ((cfg = p2m_config_load(NULL, error)) == NULL)
		return NULL;
	if ((a = p2m_config_find(cfg, job->uri->account)) == NULL) {
		g_set_error(error, P2M_ERROR, P2M_E_ACCOUNT, "no [account %s] in %s",
		            job->uri->account, cfg->path);
		return NULL;
	}
	*from_name = g_strdup(a->from_name);
	if (a->send_as == P2M_SEND_AS_JOB_USER)
		return p2m_account_user_address(a, job->user, error);
	return g_strdup(a->from);
}

/* Compose, or pass through when the backend has to explain something. */
static out_status
filter_document(p2m_job *job, const p2m_catalog *cat, int fd)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(p2m_composer) c = NULL;
	g_autofree char *from = NULL;
	g_autofree char *from_name = NULL;
	p2m_compose_info info;
	out_status st;

	from = job_sender(job, cat, &from_name, &error);
	if (from != NULL) {
		p2m_job_compose_info(job, from, &info);
		info.from_name = from_name;
		c = p2m_compose_new(&info, fd, &error);
	}
	if (c == NULL) {
		fprintf(stderr, "DEBUG: print2mail-compose: %s (%s); passing the document on "
		        "for the backend to report\n", error->message,
		        p2m_error_name((p2m_error) error->code));
		return pass_through(fd);
	}
	fprintf(stderr, "DEBUG: print2mail-compose: message from %s to %s%s%s\n", from, job->to[0],
	        job->to[1] != NULL ? " and others" : "",
	        job->cc != NULL && job->cc[0] != NULL ? " (with Cc)" : "");
	st = stream_message(c, &error);
	if (st == OUT_READ_ERROR)
		fprintf(stderr, "DEBUG: print2mail-compose: %s\n", error->message);
	else if (st == OUT_OK)
		fprintf(stderr, "DEBUG: print2mail-compose: %" G_GUINT64_FORMAT " document bytes composed\n",
		        p2m_compose_document_bytes(c));
	return st;
}

int
main(int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(p2m_job) job = NULL;
	p2m_catalog *cat = NULL;
	int fd = -1;
	int ret = 1;

	setbuf(stderr, NULL);
	/* A closed pipe means the backend has already decided; see write_all(). */
	signal(SIGPIPE, SIG_IGN);

	if ((job = p2m_job_new(argc, argv, NULL, &error)) == NULL) {
		fprintf(stderr, "%s\n", error->message);
		goto out;
	}
	fd = job->document != NULL ? open(job->document, O_RDONLY | O_CLOEXEC) : STDIN_FILENO;
	if (fd < 0) {
		fprintf(stderr, "ERROR: print2mail-compose: cannot read the document: %s\n", g_strerror(errno));
		goto out;
	}
	cat = p2m_i18n_load(job->lang, NULL);
	switch (filter_document(job, cat, fd)) {
	case OUT_OK:
		ret = 0;
		break;
	case OUT_CLOSED:
		fprintf(stderr, "DEBUG: print2mail-compose: the backend stopped reading\n");
		ret = 0;
		break;
	case OUT_READ_ERROR:
		fprintf(stderr, "ERROR: print2mail-compose: cannot read the document\n");
		break;
	case OUT_WRITE_ERROR:
		fprintf(stderr, "ERROR: print2mail-compose: cannot write the message: %s\n", g_strerror(write_errno));
		break;
	}
out:
	if (fd > STDIN_FILENO)
		close(fd);
	p2m_i18n_free(cat);
	return ret;
}
