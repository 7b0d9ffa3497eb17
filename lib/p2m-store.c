/* SPDX-License-Identifier: Apache-2.0 */
/* p2m-store.c - the state directory: private files written atomically, and per-identity locks. */
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

#include "p2m-cancel.h"
#include "p2m-error.h"
#include "p2m-secret.h"
#include "p2m-store.h"

struct p2m_store_lock {
	int   fd;
	char *path;
};

gboolean
p2m_store_ensure_dir(const char *dir, GError **error)
{
	struct stat st;

	if (g_mkdir_with_parents(dir, 0700) != 0) {
		g_set_error(error, P2M_ERROR, P2M_E_STORE, "%s: cannot create: %s", dir, g_strerror(errno));
		return FALSE;
	}
	if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		g_set_error(error, P2M_ERROR, P2M_E_STORE, "%s: not a directory", dir);
		return FALSE;
	}
	if (st.st_uid != geteuid()) {
		g_set_error(error, P2M_ERROR, P2M_E_STORE, "%s: owned by uid %u, not %u; run: chown %u %s",
		            dir, (unsigned) st.st_uid, (unsigned) geteuid(), (unsigned) geteuid(), dir);
		return FALSE;
	}
	if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		g_set_error(error, P2M_ERROR, P2M_E_STORE,
		            "%s: mode %04o lets other users into the credential store; run: chmod 700 %s",
		            dir, (unsigned) (st.st_mode & 07777), dir);
		return FALSE;
	}
	return TRUE;
}

static gboolean
write_all(int fd, const char *data, gsize len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return FALSE;
		data += n;
		len -= (gsize) n;
	}
	return TRUE;
}

/* A failed write is not a damaged store: a full disk or quota passes, so
 * the job is retried; only a permission problem needs an admin. */
static p2m_error
write_error(int err)
{
	return err == EACCES || err == EPERM ? P2M_E_STORE : P2M_E_STORE_BUSY;
}

gboolean
p2m_store_write(const char *path, const void *data, gsize len, mode_t mode, GError **error)
{
	g_autofree char *dir = g_path_get_dirname(path);
	g_autofree char *tmp = g_strdup_printf("%s.tmp.XXXXXX", path);
	gboolean ok = FALSE;
	int fd = -1, dfd = -1;

	/* The temp file is private from its first byte; rename makes the new
	 * content appear whole or not at all, even across a crash. */
	if ((fd = g_mkstemp_full(tmp, O_RDWR | O_CLOEXEC, mode & 0600)) < 0) {
		g_set_error(error, P2M_ERROR, write_error(errno), "%s: cannot create: %s", tmp, g_strerror(errno));
		goto out;
	}
	if (fchmod(fd, mode) != 0 || !write_all(fd, data, len) || fsync(fd) != 0) {
		g_set_error(error, P2M_ERROR, write_error(errno), "%s: cannot write: %s", tmp, g_strerror(errno));
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		g_set_error(error, P2M_ERROR, write_error(errno), "%s: cannot write: %s", tmp, g_strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		g_set_error(error, P2M_ERROR, write_error(errno), "%s: cannot rename: %s", path, g_strerror(errno));
		goto out;
	}
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0)
		(void) fsync(dfd);
	ok = TRUE;
out:
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	if (!ok)
		(void) g_unlink(tmp);
	return ok;
}

gboolean
p2m_store_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

gboolean
p2m_store_read(const char *path, gsize max, char **data, gsize *len, GError **error)
{
	gsize n = 0;
	gboolean ok = p2m_secret_read_private(path, max, P2M_E_STORE, P2M_E_STORE, data, &n, error);

	if (len != NULL)
		*len = n;
	return ok;
}

char *
p2m_store_escape(const char *identity)
{
	GString *s = g_string_new(NULL);
	const unsigned char *p;

	for (p = (const unsigned char *) identity; *p != '\0'; p++) {
		if (g_ascii_isalnum(*p) || *p == '-' || *p == '_' || *p == '@' || (*p == '.' && p != (const unsigned char *) identity))
			g_string_append_c(s, (char) *p);
		else
			g_string_append_printf(s, "%%%02X", *p);
	}
	return g_string_free(s, FALSE);
}

p2m_store_lock *
p2m_store_lock_identity(const char *state_dir, const char *identity, int timeout_ms, GError **error)
{
	g_autofree char *dir = g_build_filename(state_dir, "locks", NULL);
	g_autofree char *name = p2m_store_escape(identity);
	g_autofree char *file = g_strconcat(name, ".lock", NULL);
	g_autofree char *path = g_build_filename(dir, file, NULL);
	p2m_store_lock *lock = NULL;
	gint64 deadline = g_get_monotonic_time() + (gint64) timeout_ms * 1000;
	int fd = -1;

	if (!p2m_store_ensure_dir(dir, error))
		goto out;
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0) {
		g_set_error(error, P2M_ERROR, P2M_E_STORE, "%s: %s", path, g_strerror(errno));
		goto out;
	}
	/* Poll rather than block: a stuck holder must not hang a print job. */
	while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			g_set_error(error, P2M_ERROR, P2M_E_STORE, "%s: %s", path, g_strerror(errno));
			goto out;
		}
		if (p2m_canceled()) {
			g_set_error(error, P2M_ERROR, P2M_E_CANCELED, "%s: canceled while waiting for the lock", path);
			goto out;
		}
		if (g_get_monotonic_time() >= deadline) {
			/* Another job or the helper holds it (a slow token endpoint):
			 * nothing is damaged, so the job is retried, not stopped. */
			g_set_error(error, P2M_ERROR, P2M_E_STORE_BUSY, "%s: lock busy for %d ms", path, timeout_ms);
			goto out;
		}
		g_usleep(20 * 1000);
	}
	lock = g_new0(p2m_store_lock, 1);
	lock->fd = fd;
	lock->path = g_steal_pointer(&path);
	fd = -1;
out:
	if (fd >= 0)
		close(fd);
	return lock;
}

void
p2m_store_unlock(p2m_store_lock *lock)
{
	if (lock == NULL)
		return;
	if (lock->fd >= 0)
		close(lock->fd);   /* closing releases the flock */
	g_free(lock->path);
	g_free(lock);
}
