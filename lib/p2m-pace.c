/* SPDX-License-Identifier: Apache-2.0 */
/* p2m-pace.c - Microsoft's per-mailbox limits kept on this host: connection slots held as flocks, a one-minute message log rewritten under its flock. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <glib.h>

#include "p2m-error.h"
#include "p2m-pace.h"
#include "p2m-store.h"

#define POLL_MS 200

struct p2m_pace {
	int     slot_fd;      /* flock held = one connection of the mailbox */
	int     log_fd;       /* the message log, -1 when not paced */
	gint64  entry_ms;     /* our entry in the log */
	char   *warning;      /* why the messages are not paced, or NULL */
};

/* ---- pure parts ------------------------------------------------------------- */

static int
cmp_entry(const void *a, const void *b)
{
	const p2m_pace_entry *x = a, *y = b;

	return x->ms < y->ms ? -1 : x->ms > y->ms;
}

/* One decimal number of at most 18 digits at *P; advances *P. */
static gboolean
parse_num(const char **p, const char *end, gint64 *out)
{
	gint64 v = 0;
	int digits = 0;

	while (*p < end && g_ascii_isdigit(**p) && digits < 18) {
		v = v * 10 + (**p - '0');
		(*p)++;
		digits++;
	}
	*out = v;
	return digits > 0 && (*p == end || !g_ascii_isdigit(**p));
}

gsize
p2m_pace_parse(const char *data, gsize len, gint64 now_ms, p2m_pace_entry *out, gsize cap)
{
	const char *p = data, *end;
	gsize n = 0;

	if (len > P2M_PACE_LOG_MAX)
		len = P2M_PACE_LOG_MAX;
	end = data + len;
	while (p < end && n < cap) {
		const char *eol = memchr(p, '\n', (gsize) (end - p));
		const char *q = p;
		gint64 ms = 0, pid = 0;

		if (eol == NULL)
			eol = end;   /* a last line cut short by a full disk: read what is there */
		if (parse_num(&q, eol, &ms) && q < eol && *q++ == ' ' && parse_num(&q, eol, &pid) && q == eol &&
		    ms > now_ms - P2M_PACE_WINDOW_MS && ms <= now_ms) {
			out[n].ms = ms;
			out[n].pid = pid;
			n++;
		}
		p = eol + 1;
	}
	qsort(out, n, sizeof(*out), cmp_entry);
	return n;
}

char *
p2m_pace_format(const p2m_pace_entry *e, gsize n)
{
	GString *s = g_string_sized_new(n * 24);
	gsize i;

	for (i = 0; i < n; i++)
		g_string_append_printf(s, "%" G_GINT64_FORMAT " %" G_GINT64_FORMAT "\n", e[i].ms, e[i].pid);
	return g_string_free(s, FALSE);
}

gint64
p2m_pace_next_slot(const p2m_pace_entry *e, gsize n, unsigned max, gint64 now_ms)
{
	gint64 at;

	if (max == 0 || n < max)
		return 0;
	/* The oldest of the last MAX must leave the window first. */
	at = e[n - max].ms + P2M_PACE_WINDOW_MS;
	return at > now_ms ? at : 0;
}

/* ---- the files ------------------------------------------------------------------ */

static gint64
now_ms(void)
{
	return g_get_real_time() / 1000;
}

static char *
pace_path(const char *state_dir, const char *mailbox, const char *suffix)
{
	g_autofree char *lower = g_ascii_strdown(mailbox, -1);
	g_autofree char *name = p2m_store_escape(lower);
	g_autofree char *file = g_strconcat(name, suffix, NULL);

	return g_build_filename(state_dir, "pace", file, NULL);
}

static int
open_state_file(const char *path, GError **error)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd < 0)
		g_set_error(error, P2M_ERROR, P2M_E_STORE, "%s: %s", path, g_strerror(errno));
	return fd;
}

/* One pass over the slots without waiting: the fd of the one taken, or -1. */
static int
try_slots(const p2m_pace_request *req, GError **error)
{
	unsigned i;

	for (i = 1; i <= req->max_connections; i++) {
		g_autofree char *suffix = g_strdup_printf(".conn%u", i);
		g_autofree char *path = pace_path(req->state_dir, req->mailbox, suffix);
		int fd = open_state_file(path, error);

		if (fd < 0)
			return -2;
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return fd;
		close(fd);
	}
	return -1;
}

static gboolean
canceled(const p2m_pace_request *req, const char *what, GError **error)
{
	if (req->cancel == NULL || *req->cancel == 0)
		return FALSE;
	g_set_error(error, P2M_ERROR, P2M_E_CANCELED, "the job was canceled while waiting for %s", what);
	return TRUE;
}

/* Sleep up to MS, waking early on a cancel. */
static void
nap(const p2m_pace_request *req, gint64 ms)
{
	while (ms > 0 && (req->cancel == NULL || *req->cancel == 0)) {
		gint64 step = MIN(ms, POLL_MS);

		g_usleep((gulong) step * 1000);
		ms -= step;
	}
}

static int
take_slot(const p2m_pace_request *req, gint64 deadline, GError **error)
{
	gboolean told = FALSE;
	int fd;

	while ((fd = try_slots(req, error)) == -1) {
		if (canceled(req, "a connection slot", error))
			return -1;
		if (g_get_monotonic_time() >= deadline) {
			g_set_error(error, P2M_ERROR, P2M_E_CONNECT,
			            "all %u connections allowed for %s (max_connections) stayed busy for %u s",
			            req->max_connections, req->mailbox, req->max_wait_s);
			return -1;
		}
		if (!told && req->on_wait != NULL)
			req->on_wait(req->ctx, TRUE, 0);
		told = TRUE;
		nap(req, POLL_MS);
	}
	return fd;
}

/* The log's entries in the window, read under the caller's flock. */
static gsize
read_log(int fd, p2m_pace_entry *e, gsize cap, gint64 now)
{
	g_autofree char *buf = g_malloc(P2M_PACE_LOG_MAX);
	gsize got = 0;
	ssize_t n;

	while (got < P2M_PACE_LOG_MAX && (n = pread(fd, buf + got, P2M_PACE_LOG_MAX - got, (off_t) got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		got += (gsize) n;
	}
	return p2m_pace_parse(buf, got, now, e, cap);
}

static gboolean
write_log(int fd, const p2m_pace_entry *e, gsize n)
{
	g_autofree char *text = p2m_pace_format(e, n);
	gsize len = strlen(text), off = 0;
	ssize_t w;

	if (ftruncate(fd, 0) != 0)
		return FALSE;
	while (off < len) {
		w = pwrite(fd, text + off, len - off, (off_t) off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return FALSE;
		off += (gsize) w;
	}
	return TRUE;
}

static void
lock_log(int fd)
{
	while (flock(fd, LOCK_EX) != 0 && errno == EINTR)
		;
}

/* Wait for a place in the minute's budget and record it. */
static gboolean
take_budget(const p2m_pace_request *req, p2m_pace *pace, const char *path, gint64 deadline, GError **error)
{
	p2m_pace_entry *e = g_new(p2m_pace_entry, P2M_PACE_ENTRIES_MAX + 1);
	gint64 told = -1, next = 0;
	gboolean ok = FALSE;

	for (;;) {
		gint64 now;
		gsize n;

		/* The time is read under the lock: read before, an entry another
		 * process wrote while we waited would look like the future and
		 * be dropped from the log, and its message not counted. */
		lock_log(pace->log_fd);
		now = now_ms();
		n = read_log(pace->log_fd, e, P2M_PACE_ENTRIES_MAX, now);
		if ((next = p2m_pace_next_slot(e, n, req->max_per_minute, now)) == 0) {
			e[n].ms = pace->entry_ms = now;
			e[n].pid = (gint64) getpid();
			if (!write_log(pace->log_fd, e, n + 1))
				pace->warning = g_strdup_printf("%s: %s; messages are not paced", path, g_strerror(errno));
			flock(pace->log_fd, LOCK_UN);
			ok = TRUE;
			break;
		}
		flock(pace->log_fd, LOCK_UN);
		if (canceled(req, "the minute's message budget", error))
			break;
		if (g_get_monotonic_time() + (next - now) * 1000 > deadline) {
			g_set_error(error, P2M_ERROR, P2M_E_CONNECT,
			            "%s sent its %u messages a minute (max_messages_per_minute); no place within %u s",
			            req->mailbox, req->max_per_minute, req->max_wait_s);
			break;
		}
		if (next != told && req->on_wait != NULL)
			req->on_wait(req->ctx, FALSE, next);
		told = next;
		nap(req, MIN(next - now, 1000));
	}
	g_free(e);
	return ok;
}

p2m_pace *
p2m_pace_acquire(const p2m_pace_request *req, GError **error)
{
	g_autofree char *dir = g_build_filename(req->state_dir, "pace", NULL);
	g_autofree char *log = pace_path(req->state_dir, req->mailbox, ".log");
	gint64 deadline = g_get_monotonic_time() + (gint64) req->max_wait_s * G_USEC_PER_SEC;
	p2m_pace *pace = g_new0(p2m_pace, 1);

	pace->slot_fd = pace->log_fd = -1;
	if (req->max_connections == 0) {
		g_set_error(error, P2M_ERROR, P2M_E_INTERNAL, "p2m_pace_acquire: max_connections 0");
		goto fail;
	}
	if (!p2m_store_ensure_dir(req->state_dir, error) || !p2m_store_ensure_dir(dir, error))
		goto fail;
	if ((pace->slot_fd = take_slot(req, deadline, error)) < 0)
		goto fail;
	if (req->max_per_minute == 0)
		return pace;
	if ((pace->log_fd = open_state_file(log, error)) < 0 || !take_budget(req, pace, log, deadline, error))
		goto fail;
	return pace;
fail:
	p2m_pace_done(pace, FALSE);
	return NULL;
}

const char *
p2m_pace_warning(const p2m_pace *pace)
{
	return pace != NULL ? pace->warning : NULL;
}

void
p2m_pace_done(p2m_pace *pace, gboolean sent)
{
	if (pace == NULL)
		return;
	if (pace->log_fd >= 0 && pace->entry_ms != 0 && pace->warning == NULL) {
		p2m_pace_entry *e = g_new(p2m_pace_entry, P2M_PACE_ENTRIES_MAX + 1);
		gint64 now, pid = (gint64) getpid();
		gboolean found = FALSE;
		gsize n, i, j;

		lock_log(pace->log_fd);
		now = now_ms();   /* under the lock, as in take_budget */
		n = read_log(pace->log_fd, e, P2M_PACE_ENTRIES_MAX, now);
		for (i = j = 0; i < n; i++) {
			if (e[i].pid == pid && e[i].ms == pace->entry_ms && !found) {
				found = TRUE;
				if (!sent)
					continue;   /* nothing reached the server: nothing to count */
				e[i].ms = now;  /* counted from when the server had it */
			}
			e[j++] = e[i];
		}
		/* A transfer longer than the window: its entry left with it. */
		if (sent && !found) {
			e[j].ms = now;
			e[j++].pid = pid;
		}
		qsort(e, j, sizeof(*e), cmp_entry);
		(void) write_log(pace->log_fd, e, j);
		flock(pace->log_fd, LOCK_UN);
		g_free(e);
	}
	if (pace->log_fd >= 0)
		close(pace->log_fd);
	if (pace->slot_fd >= 0)
		close(pace->slot_fd);   /* closing releases the flock */
	g_free(pace->warning);
	g_free(pace);
}

void
p2m_pace_free(p2m_pace *pace)
{
	p2m_pace_done(pace, TRUE);
}
