/* SPDX-License-Identifier: Apache-2.0 */
/* test-store.c - secrets and the state store refuse unsafe files and write atomically. */
#include "config.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "p2m-error.h"
#include "p2m-fail.h"
#include "p2m-secret.h"
#include "p2m-store.h"

static char *
tmpdir(void)
{
	GError *error = NULL;
	char *d = g_dir_make_tmp("p2m-store-XXXXXX", &error);

	g_assert_no_error(error);
	return d;
}

static void
test_secret_modes(void)
{
	g_autofree char *d = tmpdir();
	g_autofree char *f = g_build_filename(d, "pw", NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(p2m_secret) s = NULL;

	g_assert_true(g_file_set_contents(f, "s3cret\r\n", -1, NULL));
	g_assert_cmpint(g_chmod(f, 0644), ==, 0);
	s = p2m_secret_read_file(f, &error);
	g_assert_null(s);
	g_assert_error(error, P2M_ERROR, P2M_E_SECRET_MODE);
	g_assert_nonnull(strstr(error->message, "chmod 600"));
	g_assert_null(strstr(error->message, "s3cret"));
	g_clear_error(&error);

	g_assert_cmpint(g_chmod(f, 0600), ==, 0);
	s = p2m_secret_read_file(f, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(s->data, ==, "s3cret");
	g_assert_cmpuint(s->len, ==, 6);

	g_assert_null(p2m_secret_read_file("/nonexistent/pw", &error));
	g_assert_error(error, P2M_ERROR, P2M_E_SECRET);
	g_unlink(f);
	g_rmdir(d);
}

/* One reader for secrets and the store: a file another user owns is refused
 * by both (that user could change it), a symlink and a FIFO too. */
static void
test_read_private(void)
{
	g_autofree char *d = tmpdir();
	g_autofree char *f = g_build_filename(d, "key", NULL);
	g_autofree char *link = g_build_filename(d, "link", NULL);
	g_autofree char *fifo = g_build_filename(d, "fifo", NULL);
	g_autoptr(GError) error = NULL;
	char *data = NULL;
	gsize len = 0;

	g_assert_true(g_file_set_contents(f, "0123456789", -1, NULL));
	g_assert_cmpint(g_chmod(f, 0600), ==, 0);
	g_assert_true(p2m_store_read(f, 10, &data, &len, &error));
	g_assert_cmpstr(data, ==, "0123456789");
	g_assert_cmpuint(len, ==, 10);
	p2m_wipe_free(data);
	/* one byte over MAX */
	g_assert_false(p2m_store_read(f, 9, &data, &len, &error));
	g_assert_error(error, P2M_ERROR, P2M_E_STORE);
	g_assert_null(data);
	g_clear_error(&error);
	g_assert_cmpint(symlink(f, link), ==, 0);
	g_assert_null(p2m_secret_read_file(link, &error));
	g_assert_error(error, P2M_ERROR, P2M_E_SECRET);
	g_clear_error(&error);
	g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);
	g_assert_false(p2m_store_read(fifo, 100, &data, &len, &error));
	g_assert_nonnull(strstr(error->message, "not a regular file"));
	g_clear_error(&error);
	if (geteuid() == 0) {
		/* nobody's file, read by root */
		g_assert_cmpint(chown(f, 65534, 65534), ==, 0);
		g_assert_null(p2m_secret_read_file(f, &error));
		g_assert_error(error, P2M_ERROR, P2M_E_SECRET);
		g_assert_nonnull(strstr(error->message, "owned by uid 65534"));
		g_clear_error(&error);
		g_assert_false(p2m_store_read(f, 100, &data, &len, &error));
		g_assert_error(error, P2M_ERROR, P2M_E_STORE);
		g_clear_error(&error);
	}
	g_unlink(fifo);
	g_unlink(link);
	g_unlink(f);
	g_rmdir(d);
}

static void
test_write_read(void)
{
	g_autofree char *d = tmpdir();
	g_autofree char *f = g_build_filename(d, "tok", NULL);
	g_autoptr(GError) error = NULL;
	g_autofree char *data = NULL;
	struct stat st;
	gsize len;

	g_assert_true(p2m_store_write(f, "abc", 3, 0600, &error));
	g_assert_no_error(error);
	g_assert_cmpint(stat(f, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0600);
	g_assert_true(p2m_store_read(f, 100, &data, &len, &error));
	g_assert_cmpstr(data, ==, "abc");
	g_clear_pointer(&data, g_free);

	g_assert_false(p2m_store_read(f, 2, &data, &len, &error));
	g_assert_error(error, P2M_ERROR, P2M_E_STORE);
	g_clear_error(&error);

	g_assert_cmpint(g_chmod(f, 0644), ==, 0);
	g_assert_false(p2m_store_read(f, 100, &data, &len, &error));
	g_assert_error(error, P2M_ERROR, P2M_E_STORE);
	g_assert_nonnull(strstr(error->message, f));
	g_assert_nonnull(strstr(error->message, "0644"));
	g_unlink(f);
	g_rmdir(d);
}

static void
test_dir_mode(void)
{
	g_autofree char *d = tmpdir();
	g_autofree char *sub = g_build_filename(d, "state", NULL);
	g_autoptr(GError) error = NULL;
	struct stat st;

	g_assert_true(p2m_store_ensure_dir(sub, &error));
	g_assert_cmpint(stat(sub, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0700);
	g_assert_cmpint(g_chmod(sub, 0755), ==, 0);
	g_assert_false(p2m_store_ensure_dir(sub, &error));
	g_assert_error(error, P2M_ERROR, P2M_E_STORE);
	g_rmdir(sub);
	g_rmdir(d);
}

/* Two processes: the second must not get the lock while the first holds it. */
static void
test_lock(void)
{
	g_autofree char *d = tmpdir();
	g_autoptr(GError) error = NULL;
	g_autoptr(p2m_store_lock) lock = NULL;
	int status = 0;
	pid_t pid;

	lock = p2m_store_lock_identity(d, "scanner", 100, &error);
	g_assert_no_error(error);
	g_assert_nonnull(lock);
	pid = fork();
	if (pid == 0) {
		GError *e = NULL;
		p2m_store_lock *l = p2m_store_lock_identity(d, "scanner", 100, &e);
		/* busy is transient (retry the job), never "the store is damaged" */
		_exit(l == NULL && e != NULL && e->code == P2M_E_STORE_BUSY &&
		      p2m_fail_class(e) == P2M_CLASS_TRANSIENT ? 0 : 1);
	}
	g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
	g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	g_clear_pointer(&lock, p2m_store_unlock);
	lock = p2m_store_lock_identity(d, "user:bob", 100, &error);
	g_assert_no_error(error);
}

static void
test_escape(void)
{
	g_autofree char *a = p2m_store_escape("user:bob");
	g_autofree char *b = p2m_store_escape("../etc/passwd");
	g_autofree char *c = p2m_store_escape("scanner.main");

	g_assert_cmpstr(a, ==, "user%3Abob");
	g_assert_null(strchr(b, '/'));
	g_assert_false(g_str_has_prefix(b, "."));
	g_assert_cmpstr(c, ==, "scanner.main");
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/secret/modes", test_secret_modes);
	g_test_add_func("/store/read-private", test_read_private);
	g_test_add_func("/store/write-read", test_write_read);
	g_test_add_func("/store/dir-mode", test_dir_mode);
	g_test_add_func("/store/lock", test_lock);
	g_test_add_func("/store/escape", test_escape);
	return g_test_run();
}
