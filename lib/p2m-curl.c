/* SPDX-License-Identifier: Apache-2.0 */
/* p2m-curl.c - libcurl, loaded at run time by the process about to make an HTTPS exchange, never linked. */
#include "config.h"

#include <dlfcn.h>
#include <string.h>
#include <unistd.h>

#include "p2m-curl.h"
#include "p2m-error.h"

/* The oldest libcurl the code built here may run with: the headers'
 * major.minor (libcurl adds options and codes only in minor releases, and
 * the code picks them with #if LIBCURL_VERSION_NUM). */
#define MIN_VERSION (LIBCURL_VERSION_NUM & 0xffff00)

static GMutex lock;
static gint loaded;        /* atomic: TRUE once fns is complete and libcurl initialized */
static p2m_curl_fns fns;

/* dlsym NAME from H into *SLOT; FALSE with ERROR when it is missing. */
static gboolean
resolve(void *h, const char *name, void *slot, GError **error)
{
	void *sym = dlsym(h, name);

	if (sym == NULL) {
		g_set_error(error, P2M_ERROR, P2M_E_INTERNAL, "%s lacks %s: install the Debian package %s",
		            P2M_CURL_SONAME, name, P2M_CURL_PACKAGE);
		return FALSE;
	}
	/* dlsym hands back functions as void *, which POSIX makes safe. */
	G_STATIC_ASSERT(sizeof(void *) == sizeof(void (*)(void)));
	memcpy(slot, &sym, sizeof(sym));
	return TRUE;
}

/* Fill T from H, check the version, initialize libcurl. */
static gboolean
load(void *h, p2m_curl_fns *t, GError **error)
{
	__typeof__(curl_version_info) *version_info = NULL;
	__typeof__(curl_global_init) *global_init = NULL;
	const curl_version_info_data *v;
	CURLcode rc;

	if (!resolve(h, "curl_version_info", &version_info, error) ||
	    !resolve(h, "curl_global_init", &global_init, error) ||
	    !resolve(h, "curl_easy_init", &t->easy_init, error) ||
	    !resolve(h, "curl_easy_setopt", &t->easy_setopt, error) ||
	    !resolve(h, "curl_easy_perform", &t->easy_perform, error) ||
	    !resolve(h, "curl_easy_getinfo", &t->easy_getinfo, error) ||
	    !resolve(h, "curl_easy_reset", &t->easy_reset, error) ||
	    !resolve(h, "curl_easy_cleanup", &t->easy_cleanup, error) ||
	    !resolve(h, "curl_easy_strerror", &t->easy_strerror, error) ||
	    !resolve(h, "curl_slist_append", &t->slist_append, error) ||
	    !resolve(h, "curl_slist_free_all", &t->slist_free_all, error))
		return FALSE;
	v = version_info(CURLVERSION_NOW);
	if (v == NULL || v->version_num < MIN_VERSION) {
		g_set_error(error, P2M_ERROR, P2M_E_INTERNAL,
		            "%s is version %s, older than the %u.%u print2mail was built for: upgrade the Debian package %s",
		            P2M_CURL_SONAME, v != NULL && v->version != NULL ? v->version : "unknown",
		            (unsigned) (MIN_VERSION >> 16), (unsigned) ((MIN_VERSION >> 8) & 0xff), P2M_CURL_PACKAGE);
		return FALSE;
	}
	if ((rc = global_init(CURL_GLOBAL_DEFAULT)) != CURLE_OK) {
		g_set_error(error, P2M_ERROR, P2M_E_INTERNAL, "%s: curl_global_init failed (%s)", P2M_CURL_SONAME,
		            t->easy_strerror(rc));
		return FALSE;
	}
	return TRUE;
}

gboolean
p2m_curl_load(GError **error)
{
	p2m_curl_fns t = { 0 };
	uid_t ruid, euid, suid;
	gboolean ok = FALSE;
	void *h = NULL;

	if (g_atomic_int_get(&loaded))
		return TRUE;
	g_mutex_lock(&lock);
	if (g_atomic_int_get(&loaded)) {
		ok = TRUE;
		goto out;
	}
	/* The design, checked: HTTPS only ever runs after the drop to lp,
	 * which leaves no uid 0 behind, real, effective or saved. */
	if (getresuid(&ruid, &euid, &suid) != 0 || ruid == 0 || euid == 0 || suid == 0) {
		g_set_error(error, P2M_ERROR, P2M_E_INTERNAL,
		            "refusing to load %s as root: HTTPS runs only after dropping privileges (a bug)",
		            P2M_CURL_SONAME);
		goto out;
	}
	if ((h = dlopen(P2M_CURL_SONAME, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		const char *why = dlerror();

		g_set_error(error, P2M_ERROR, P2M_E_INTERNAL,
		            "cannot load %s (%s): install the Debian package %s", P2M_CURL_SONAME,
		            why != NULL ? why : "unknown reason", P2M_CURL_PACKAGE);
		goto out;
	}
	if (!load(h, &t, error))
		goto out;
	fns = t;
	g_atomic_int_set(&loaded, TRUE);
	h = NULL;  /* stays loaded for the life of the process */
	ok = TRUE;
out:
	if (h != NULL)
		dlclose(h);
	g_mutex_unlock(&lock);
	return ok;
}

const p2m_curl_fns *
p2m_curl(void)
{
	if (!g_atomic_int_get(&loaded))
		g_error("p2m_curl() called before a successful p2m_curl_load()");
	return &fns;
}
