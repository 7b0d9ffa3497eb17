/* SPDX-License-Identifier: Apache-2.0 */
/* p2m-curl.h - libcurl, loaded at run time by the process about to make an HTTPS exchange, never linked. */
#ifndef P2M_CURL_H
#define P2M_CURL_H

/*
 * Why not link it: libcurl's dependency tree (nghttp2, idn2, ssh2, krb5,
 * and gnutls through ldap and rtmp) costs about 5 MB of memory in every
 * process and runs constructors there, while only Microsoft Graph and the
 * OAuth token endpoint need it (SMTP does not).  And those exchanges
 * already run without root (the unprivileged child of p2m-unpriv.h, or the
 * backend after it became lp), so a root process never maps libcurl or any
 * library it pulls in: p2m_curl_load() refuses to run as root.
 *
 * <curl/curl.h> still gives the types and constants (CURLOPT_..., CURLE_...);
 * its functions are called through the table, never by name.  Note that
 * libcurl's compile-time check of curl_easy_setopt()'s argument types
 * (typecheck-gcc.h) does not see calls through the table: pass long values
 * as long (1L, (long) x) and pointers as the option documents.
 */
#include <curl/curl.h>
#include <glib.h>

/* The soname dlopen()ed, and the Debian package that ships it. */
#define P2M_CURL_SONAME  "libcurl.so.4"
#define P2M_CURL_PACKAGE "libcurl4"

/* The libcurl functions print2mail calls, with libcurl's own prototypes
 * (the variadic ones stay variadic: calling them through a variadic
 * pointer is the same call as by name). */
typedef struct {
	__typeof__(curl_easy_init)      *easy_init;
	__typeof__(curl_easy_setopt)    *easy_setopt;
	__typeof__(curl_easy_perform)   *easy_perform;
	__typeof__(curl_easy_getinfo)   *easy_getinfo;
	__typeof__(curl_easy_reset)     *easy_reset;
	__typeof__(curl_easy_cleanup)   *easy_cleanup;
	__typeof__(curl_easy_strerror)  *easy_strerror;
	__typeof__(curl_slist_append)   *slist_append;
	__typeof__(curl_slist_free_all) *slist_free_all;
} p2m_curl_fns;

/*
 * Load libcurl into this process, once (thread-safe; later calls return
 * TRUE at once): dlopen P2M_CURL_SONAME, resolve the table, check that the
 * library is at least the major.minor release of the headers we were built
 * with (an option those headers offer exists in every such release), and
 * curl_global_init().  Nothing is unloaded at exit: libcurl's global
 * cleanup frees memory the exit frees anyway.  A failure is not
 * remembered: the next call tries again (a helper's child after the admin
 * installed P2M_CURL_PACKAGE).
 * Errors: P2M_E_INTERNAL, naming the library and the package to install
 * (not installed, too old, a symbol missing), or when called as root.
 */
gboolean p2m_curl_load(GError **error);

/* The table.  Only after p2m_curl_load() returned TRUE in this process (or
 * the process it was forked from): before, it aborts (a programming error). */
const p2m_curl_fns *p2m_curl(void);

#endif /* P2M_CURL_H */
