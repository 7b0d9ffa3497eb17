/* SPDX-License-Identifier: Apache-2.0 */
/* p2m-options.h - a CUPS job's options string (argv[5]) read the way libcups 2.4 reads it. */
#ifndef P2M_OPTIONS_H
#define P2M_OPTIONS_H

#include <glib.h>

/* The value of option NAME in OPTS, read as cupsParseOptions() of CUPS 2.4
 * reads it (so a job means here what it means to cupsd and to every other
 * backend): space-separated name=value pairs, values unquoted ('...' and
 * "...") and unescaped (\x), collections {...} kept whole, a bare name is
 * "true" and a bare noNAME "false", names compared without regard to ASCII
 * case, the last one given wins.  At most LEN bytes of OPTS are read (it may
 * end earlier at a NUL).  A new string, or NULL when NAME is not there.
 * Pure, linear in LEN: it owns argv[5] so the backend does not link libcups
 * (and its avahi, D-Bus, GnuTLS and Kerberos) for three lookups. */
char *p2m_options_get(const char *opts, gsize len, const char *name);

#endif /* P2M_OPTIONS_H */
