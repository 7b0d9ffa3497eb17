/* SPDX-License-Identifier: Apache-2.0 */
/* attempt.c - one live attempt per job (a flock in state_dir/jobs) and the record of a job the server accepted. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "attempt.h"
#include "p2m-error.h"
#include "p2m-job.h"
#include "p2m-store.h"

#define RECORD_MAX 4096
#define POLL_MS    100
#define CUPSD_CONF_MAX (1024 * 1024)

struct bk_attempt {
	int   fd;
	char *fingerprint;
	guint failures;
};

/* Records of jobs long done go, so the directory stays small. */
static void
prune(const char *dir)
{
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	time_t old = time(NULL) - BK_ATTEMPT_KEEP_S;
	const char *name;

	while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
		g_autofree char *path = g_build_filename(dir, name, NULL);
		struct stat st;

		if (g_str_has_suffix(name, ".job") && lstat(path, &st) == 0 && st.st_mtime < old)
			(void) g_unlink(path);
	}
}

/* The job's record: "FINGERPRINT\nREPLY\nFAILURES\n", REPLY the server's
 * answer when an attempt had the message accepted (else empty), FAILURES
 * how many attempts ended in a retry.  Returns the reply or NULL; *FAILURES
 * is 0 unless the record is this job's. */
static char *
read_record(int fd, const char *fingerprint, guint *failures)
{
	char buf[RECORD_MAX + 1];
	gsize got = 0;
	ssize_t n;
	char *nl, *reply, *count;

	*failures = 0;
	while (got < RECORD_MAX && (n = pread(fd, buf + got, RECORD_MAX - got, (off_t) got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return NULL;
		got += (gsize) n;
	}
	buf[got] = '\0';
	if ((nl = strchr(buf, '\n')) == NULL)
		return NULL;
	*nl = '\0';
	if (strcmp(buf, fingerprint) != 0)
		return NULL;
	reply = nl + 1;
	if ((nl = strchr(reply, '\n')) == NULL)
		return NULL;   /* cut short: not a record */
	*nl = '\0';
	count = nl + 1;
	if ((nl = strchr(count, '\n')) != NULL && nl > count && nl - count <= 6 &&
	    strspn(count, "0123456789") == (gsize) (nl - count))
		*failures = (guint) g_ascii_strtoull(count, NULL, 10);
	return *reply != '\0' ? g_strdup(reply) : NULL;
}

static void
write_record(bk_attempt *a, const char *reply)
{
	g_autofree char *rec = g_strdup_printf("%s\n%s\n%u\n", a->fingerprint, reply, a->failures);
	gsize len = MIN(strlen(rec), (gsize) RECORD_MAX);

	if (ftruncate(a->fd, 0) == 0 && pwrite(a->fd, rec, len, 0) == (ssize_t) len)
		(void) fdatasync(a->fd);
}

bk_attempt *
bk_attempt_begin(const char *state_dir, const char *printer, const char *job_id, const char *fingerprint,
                 unsigned wait_s, volatile sig_atomic_t *cancel, char **sent_reply, GError **error)
{
	g_autofree char *dir = g_build_filename(state_dir, "jobs", NULL);
	g_autofree char *id = g_strdup_printf("%s-%s", printer != NULL && *printer ? printer : "-", job_id);
	g_autofree char *name = p2m_store_escape(id);
	g_autofree char *file = g_strconcat(name, ".job", NULL);
	g_autofree char *path = g_build_filename(dir, file, NULL);
	gint64 deadline = g_get_monotonic_time() + (gint64) wait_s * G_USEC_PER_SEC;
	bk_attempt *a = NULL;
	int fd = -1;

	*sent_reply = NULL;
	if (!p2m_store_ensure_dir(state_dir, error) || !p2m_store_ensure_dir(dir, error))
		return NULL;
	prune(dir);
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0) {
		g_set_error(error, P2M_ERROR, P2M_E_STORE, "%s: %s", path, g_strerror(errno));
		return NULL;
	}
	while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			g_set_error(error, P2M_ERROR, P2M_E_STORE, "%s: %s", path, g_strerror(errno));
			goto fail;
		}
		if (cancel != NULL && *cancel) {
			g_set_error(error, P2M_ERROR, P2M_E_CANCELED,
			            "the job was canceled while an earlier attempt of it was ending");
			goto fail;
		}
		if (g_get_monotonic_time() >= deadline) {
			g_set_error(error, P2M_ERROR, P2M_E_CONNECT,
			            "an earlier attempt of job %s is still running after %u s; it is tried again later",
			            id, wait_s);
			goto fail;
		}
		g_usleep(POLL_MS * 1000);
	}
	a = g_new0(bk_attempt, 1);
	a->fd = fd;
	a->fingerprint = g_strdup(fingerprint);
	*sent_reply = read_record(fd, fingerprint, &a->failures);
	return a;
fail:
	close(fd);
	return NULL;
}

void
bk_attempt_sent(bk_attempt *a, const char *final_reply)
{
	g_autofree char *reply = NULL;

	if (a == NULL)
		return;
	reply = g_strdup(final_reply != NULL && *final_reply != '\0' ? final_reply : "250");
	g_strdelimit(reply, "\r\n", ' ');
	write_record(a, reply);
}

guint
bk_attempt_failed(bk_attempt *a)
{
	if (a == NULL)
		return 0;
	a->failures++;
	write_record(a, "");
	return a->failures;
}

void
bk_attempt_end(bk_attempt *a)
{
	if (a == NULL)
		return;
	close(a->fd);   /* releases the flock; the record stays for a restarted job */
	g_free(a->fingerprint);
	g_free(a);
}

/* $CUPS_SERVERROOT/cupsd.conf, read as root (it is root:lp 0640). */
guint
bk_attempt_retry_limit(void)
{
	const char *root = g_getenv("CUPS_SERVERROOT");
	g_autofree char *path = g_build_filename(root != NULL && *root == '/' ? root : "/etc/cups", "cupsd.conf", NULL);
	g_autofree char *buf = NULL;
	struct stat st;
	gsize got = 0;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0)
		return P2M_JOB_RETRY_LIMIT_DEFAULT;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > CUPSD_CONF_MAX) {
		close(fd);
		return P2M_JOB_RETRY_LIMIT_DEFAULT;
	}
	buf = g_malloc((gsize) st.st_size + 1);
	while (got < (gsize) st.st_size && (n = read(fd, buf + got, (gsize) st.st_size - got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		got += (gsize) n;
	}
	close(fd);
	return p2m_job_retry_limit(buf, got);
}
