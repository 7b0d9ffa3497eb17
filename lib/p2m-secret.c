/* SPDX-License-Identifier: Apache-2.0 */
/* p2m-secret.c - secrets read from protected files and wiped before they are freed. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "p2m-error.h"
#include "p2m-secret.h"

void
p2m_wipe(void *p, gsize n)
{
	if (p != NULL && n > 0)
		explicit_bzero(p, n);
}

void
p2m_wipe_free(char *s)
{
	if (s == NULL)
		return;
	p2m_wipe(s, strlen(s));
	g_free(s);
}

p2m_secret *
p2m_secret_new(const char *data, gsize len)
{
	p2m_secret *s = g_new0(p2m_secret, 1);

	s->data = g_malloc(len + 1);
	memcpy(s->data, data, len);
	s->data[len] = '\0';
	s->len = len;
	return s;
}

void
p2m_secret_free(p2m_secret *s)
{
	if (s == NULL)
		return;
	if (s->data != NULL) {
		p2m_wipe(s->data, s->len + 1);
		g_free(s->data);
	}
	g_free(s);
}

/* The careful open and read of every private file (secrets, keys, the
 * token store): no symlink is followed and no FIFO waited on (O_NOFOLLOW,
 * O_NONBLOCK), and the file is checked on the descriptor that is read, so
 * it cannot be swapped in between.  Refused: not a regular file, another
 * owner than the caller or root (whoever owns it can change it), readable by
 * group or others (a leaked password file is a leaked password, and saying
 * so beats sending with it), larger than MAX.  A refusal for the mode gets
 * MODE_ERR, every other failure ERR.  The buffer is NUL-terminated; it is
 * wiped on failure. */
gboolean
p2m_secret_read_private(const char *path, gsize max, p2m_error err, p2m_error mode_err,
                        char **data, gsize *len, GError **error)
{
	struct stat st;
	char *buf = NULL;
	gsize got = 0, size = 0;
	ssize_t n;
	int fd = -1;
	gboolean ok = FALSE;

	*data = NULL;
	*len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)) < 0) {
		g_set_error(error, P2M_ERROR, err, "%s: %s", path, g_strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		g_set_error(error, P2M_ERROR, err, "%s: not a regular file", path);
		goto out;
	}
	if (st.st_uid != geteuid() && st.st_uid != 0) {
		g_set_error(error, P2M_ERROR, err, "%s: owned by uid %u, not by root; run: chown root %s",
		            path, (unsigned) st.st_uid, path);
		goto out;
	}
	if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		g_set_error(error, P2M_ERROR, mode_err, "%s: mode %04o lets other users read it; run: chmod 600 %s",
		            path, (unsigned) (st.st_mode & 07777), path);
		goto out;
	}
	if (st.st_size < 0 || (guint64) st.st_size > max) {
		g_set_error(error, P2M_ERROR, err, "%s: larger than %" G_GSIZE_FORMAT " bytes", path, max);
		goto out;
	}
	size = (gsize) st.st_size;
	buf = g_malloc(size + 1);
	while (got < size) {
		n = read(fd, buf + got, size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (gsize) n;
	}
	if (got != size) {
		g_set_error(error, P2M_ERROR, err, "%s: short read", path);
		goto out;
	}
	buf[got] = '\0';
	*data = g_steal_pointer(&buf);
	*len = got;
	ok = TRUE;
out:
	if (buf != NULL) {
		p2m_wipe(buf, size + 1);
		g_free(buf);
	}
	if (fd >= 0)
		close(fd);
	return ok;
}

p2m_secret *
p2m_secret_read_file(const char *path, GError **error)
{
	p2m_secret *s = NULL;
	char *buf = NULL;
	gsize size = 0, len;

	if (path == NULL || *path == '\0') {
		g_set_error(error, P2M_ERROR, P2M_E_SECRET, "no secret file configured");
		return NULL;
	}
	if (!p2m_secret_read_private(path, P2M_SECRET_MAX, P2M_E_SECRET, P2M_E_SECRET_MODE, &buf, &size, error))
		return NULL;
	len = size;
	if (len > 0 && buf[len - 1] == '\n')
		len--;
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	if (len == 0)
		g_set_error(error, P2M_ERROR, P2M_E_SECRET, "%s: empty", path);
	else
		s = p2m_secret_new(buf, len);
	p2m_wipe(buf, size);
	g_free(buf);
	return s;
}
