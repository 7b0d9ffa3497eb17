/* privs.c - what the backend does as root before the network: take a connection slot, then become lp. */
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

#define SLOT_POLL_MS 250

/* One pass over the slots without waiting; NULL when all are busy. */
static p2m_store_lock *
try_slots(const char *state_dir, const char *mailbox)
{
	int i;

	for (i = 1; i <= P2M_PRIVS_SLOTS; i++) {
		g_autofree char *id = g_strdup_printf("smtp-slot:%s:%d", mailbox, i);
		g_autoptr(GError) busy = NULL;
		p2m_store_lock *lock = p2m_store_lock_identity(state_dir, id, 0, &busy);

		if (lock != NULL)
			return lock;
	}
	return NULL;
}

p2m_store_lock *
p2m_privs_take_slot(const char *state_dir, const char *mailbox, int max_wait_s,
                    volatile sig_atomic_t *cancel, gboolean *waited, GError **error)
{
	g_autofree char *dir = g_build_filename(state_dir, "locks", NULL);
	g_autofree char *lower = g_ascii_strdown(mailbox, -1);
	gint64 deadline = g_get_monotonic_time() + (gint64) max_wait_s * G_USEC_PER_SEC;
	p2m_store_lock *lock;

	*waited = FALSE;
	/* Surface a real problem with the directory now, so that below a
	 * failure to lock can only mean "busy". */
	if (!p2m_store_ensure_dir(state_dir, error) || !p2m_store_ensure_dir(dir, error))
		return NULL;
	while ((lock = try_slots(state_dir, lower)) == NULL) {
		if (cancel != NULL && *cancel) {
			g_set_error(error, P2M_ERROR, P2M_E_CANCELED, "the job was canceled while waiting for a connection slot");
			return NULL;
		}
		if (g_get_monotonic_time() >= deadline) {
			g_set_error(error, P2M_ERROR, P2M_E_CONNECT,
			            "all %d SMTP connections Microsoft 365 allows for %s were busy for %d s",
			            P2M_PRIVS_SLOTS, mailbox, max_wait_s);
			return NULL;
		}
		*waited = TRUE;
		g_usleep(SLOT_POLL_MS * 1000);
	}
	return lock;
}

gboolean
p2m_privs_drop(GError **error)
{
	/* The same drop as the token request's child: one implementation. */
	return p2m_unpriv_drop(P2M_PRIVS_USER, error);
}
