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

/* Refuse a secret others could have read: a leaked password file is a leaked
 * password, and saying so beats sending with it. */
static gboolean
check_mode(const char *path, const struct stat *st, GError **error)
{
	if (!S_ISREG(st->st_mode)) {
		g_set_error(error, P2M_ERROR, P2M_E_SECRET, "%s: not a regular file", path);
		return FALSE;
	}
	if ((st->st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		g_set_error(error, P2M_ERROR, P2M_E_SECRET_MODE,
		            "%s: mode %04o lets other users read the secret; run: chmod 600 %s",
		            path, (unsigned) (st->st_mode & 07777), path);
		return FALSE;
	}
	return TRUE;
}

p2m_secret *
p2m_secret_read_file(const char *path, GError **error)
{
	p2m_secret *s = NULL;
	struct stat st;
	char *buf = NULL;
	gsize len = 0;
	ssize_t n;
	int fd = -1;

	if (path == NULL || *path == '\0') {
		g_set_error(error, P2M_ERROR, P2M_E_SECRET, "no secret file configured");
		goto out;
	}
	/* O_NOFOLLOW|O_NONBLOCK: no symlink games, no hanging on a FIFO. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)) < 0) {
		g_set_error(error, P2M_ERROR, P2M_E_SECRET, "%s: %s", path, g_strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) != 0) {
		g_set_error(error, P2M_ERROR, P2M_E_SECRET, "%s: %s", path, g_strerror(errno));
		goto out;
	}
	if (!check_mode(path, &st, error))
		goto out;
	if (st.st_size <= 0 || st.st_size > P2M_SECRET_MAX) {
		g_set_error(error, P2M_ERROR, P2M_E_SECRET, "%s: %s", path,
		            st.st_size <= 0 ? "empty" : "larger than 64 KiB");
		goto out;
	}
	buf = g_malloc((gsize) st.st_size + 1);
	while (len < (gsize) st.st_size) {
		n = read(fd, buf + len, (gsize) st.st_size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			g_set_error(error, P2M_ERROR, P2M_E_SECRET, "%s: short read", path);
			goto out;
		}
		len += (gsize) n;
	}
	if (len > 0 && buf[len - 1] == '\n')
		len--;
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	if (len == 0) {
		g_set_error(error, P2M_ERROR, P2M_E_SECRET, "%s: empty", path);
		goto out;
	}
	s = p2m_secret_new(buf, len);
out:
	if (buf != NULL) {
		p2m_wipe(buf, (gsize) st.st_size + 1);
		g_free(buf);
	}
	if (fd >= 0)
		close(fd);
	return s;
}
