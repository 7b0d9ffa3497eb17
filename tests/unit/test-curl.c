/* SPDX-License-Identifier: Apache-2.0 */
/* test-curl.c - unit tests for p2m-curl: libcurl loaded at run time, never as root, its table only once loaded. */
#include "config.h"

#include <glib.h>
#include <string.h>
#include <unistd.h>

#include "p2m-curl.h"
#include "p2m-error.h"
#include "p2m-unpriv.h"

/* Each case runs in its own process (g_test_trap_subprocess): a load
 * cannot be undone, and a root one must not happen in the test runner. */

static void
test_load(void)
{
	g_autoptr(GError) error = NULL;
	const p2m_curl_fns *c;
	CURL *h;

	if (g_test_subprocess()) {
		/* As the backend and the helper's spawner do before they load it. */
		g_assert_true(p2m_unpriv_drop(P2M_UNPRIV_USER, &error));
		g_assert_true(p2m_curl_load(&error));
		g_assert_no_error(error);
		g_assert_true(p2m_curl_load(&error));  /* once per process: the second is free */
		c = p2m_curl();
		g_assert_nonnull(c->easy_init);
		g_assert_nonnull(c->slist_free_all);
		h = c->easy_init();
		g_assert_nonnull(h);
		/* the variadic call through the table, a long and a string */
		g_assert_cmpint(c->easy_setopt(h, CURLOPT_TIMEOUT, 5L), ==, CURLE_OK);
		g_assert_cmpint(c->easy_setopt(h, CURLOPT_URL, "https://127.0.0.1:1/"), ==, CURLE_OK);
		c->easy_cleanup(h);
		g_assert_cmpstr(c->easy_strerror(CURLE_OK), ==, "No error");
		return;
	}
	g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
	g_test_trap_assert_passed();
}

static void
test_root(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *maps = NULL;

	if (geteuid() != 0) {
		g_test_skip("needs root");
		return;
	}
	if (g_test_subprocess()) {
		g_assert_false(p2m_curl_load(&error));
		g_assert_error(error, P2M_ERROR, P2M_E_INTERNAL);
		g_assert_nonnull(strstr(error->message, "as root"));
		/* and nothing was mapped */
		g_assert_true(g_file_get_contents("/proc/self/maps", &maps, NULL, NULL));
		g_assert_null(strstr(maps, "libcurl"));
		return;
	}
	g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
	g_test_trap_assert_passed();
}

static void
test_unloaded(void)
{
	if (g_test_subprocess()) {
		(void) p2m_curl();
		return;
	}
	g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
	g_test_trap_assert_failed();
	g_test_trap_assert_stderr("*p2m_curl() called before a successful p2m_curl_load()*");
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/curl/load", test_load);
	g_test_add_func("/curl/root", test_root);
	g_test_add_func("/curl/unloaded", test_unloaded);
	return g_test_run();
}
