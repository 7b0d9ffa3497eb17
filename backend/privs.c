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
#include "privs.h"

gboolean
p2m_privs_drop(GError **error)
{
	struct passwd *pw;
	gid_t gid;
	uid_t uid;

	if (geteuid() != 0)
		return TRUE;
	errno = 0;
	if ((pw = getpwnam(P2M_PRIVS_USER)) == NULL || pw->pw_uid == 0) {
		g_set_error(error, P2M_ERROR, P2M_E_PERMISSION, "cannot drop privileges: no user '%s'", P2M_PRIVS_USER);
		return FALSE;
	}
	uid = pw->pw_uid;
	gid = pw->pw_gid;
	if (setgroups(1, &gid) != 0 || setgid(gid) != 0 || setuid(uid) != 0) {
		g_set_error(error, P2M_ERROR, P2M_E_PERMISSION, "cannot become '%s': %s", P2M_PRIVS_USER, g_strerror(errno));
		return FALSE;
	}
	/* Checked, not assumed: a setuid that half worked must stop the job. */
	if (getuid() != uid || geteuid() != uid || getgid() != gid || getegid() != gid || setuid(0) == 0) {
		g_set_error(error, P2M_ERROR, P2M_E_PERMISSION, "dropping privileges to '%s' did not take", P2M_PRIVS_USER);
		return FALSE;
	}
	(void) prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	return TRUE;
}
