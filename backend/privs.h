/* SPDX-License-Identifier: Apache-2.0 */
/* privs.h - what the backend does last as root before the network: become lp. */
#ifndef BK_PRIVS_H
#define BK_PRIVS_H

#include <glib.h>

/* The user cupsd runs filters as; the backend drops to it. */
#define BK_PRIVS_USER "lp"

/* When running as root: become BK_PRIVS_USER for good (supplementary
 * groups, gid, uid), checked by trying to get root back, and not dumpable.
 * Not root: nothing to do.  P2M_E_PERMISSION on any failure. */
gboolean bk_privs_drop(GError **error);

#endif /* BK_PRIVS_H */
