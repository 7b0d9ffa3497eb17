/* SPDX-License-Identifier: Apache-2.0 */
/* privs.c - what the backend does last as root before the network: become lp. */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <glib.h>

#include "p2m-error.h"
#include "p2m-unpriv.h"
#include "privs.h"

gboolean
bk_privs_drop(GError **error)
{
	/* The same drop as the token request's child: one implementation. */
	return p2m_unpriv_drop(BK_PRIVS_USER, error);
}
