/* helper-login.c - device-code logins run by print2mail-helper for print2mailctl login. */
#include "config.h"

#include <glib.h>
#include <string.h>

#include "helper-log.h"
#include "helper-login.h"
#include "p2m-error.h"
#include "p2m-oauth.h"
#include "p2m-secret.h"
#include "p2m-token.h"

#define SLOW_DOWN_STEP 5    /* RFC 8628 §3.5 */

typedef struct {
	gint                refs;
	helper_login       *owner;
	char               *account;
	char               *user;
	char               *identity;
	char               *device_code;
	int                 interval;
	gint64              expires_at;
	helper_login_state  state;
	gboolean            cancelled;
	GError             *error;
} session;

struct helper_login {
	const p2m_config *cfg;
	helper_refresh   *refresh;
	GMutex            lock;
	GCond             changed;
	GHashTable       *sessions;  /* identity -> session */
};

static void
session_unref(session *s)
{
	if (s == NULL || !g_atomic_int_dec_and_test(&s->refs))
		return;
	g_free(s->account);
	g_free(s->user);
	g_free(s->identity);
	p2m_wipe_free(s->device_code);
	g_clear_error(&s->error);
	g_free(s);
}

helper_login *
helper_login_new(const p2m_config *cfg, helper_refresh *refresh)
{
	helper_login *l = g_new0(helper_login, 1);

	l->cfg = cfg;
	l->refresh = refresh;
	g_mutex_init(&l->lock);
	g_cond_init(&l->changed);
	l->sessions = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify) session_unref);
	return l;
}

void
helper_login_free(helper_login *l)
{
	GHashTableIter it;
	gpointer v;

	if (l == NULL)
		return;
	g_mutex_lock(&l->lock);
	g_hash_table_iter_init(&it, l->sessions);
	while (g_hash_table_iter_next(&it, NULL, &v))
		((session *) v)->cancelled = TRUE;
	g_cond_broadcast(&l->changed);
	g_mutex_unlock(&l->lock);
	/* Poll threads hold their own references and exit on their next wake-up;
	 * the helper is exiting, so l itself is not freed under them. */
}

static void
finish(session *s, helper_login_state state, GError *error)
{
	helper_login *l = s->owner;

	g_mutex_lock(&l->lock);
	s->state = state;
	s->error = error;
	g_cond_broadcast(&l->changed);
	g_mutex_unlock(&l->lock);
}

/* Sleep SECONDS unless the session is cancelled first; TRUE if cancelled. */
static gboolean
sleep_cancellable(session *s, int seconds)
{
	helper_login *l = s->owner;
	gint64 until = g_get_monotonic_time() + (gint64) seconds * G_USEC_PER_SEC;
	gboolean cancelled;

	g_mutex_lock(&l->lock);
	while (!s->cancelled && g_cond_wait_until(&l->changed, &l->lock, until))
		;
	cancelled = s->cancelled;
	g_mutex_unlock(&l->lock);
	return cancelled;
}

static gpointer
poll_thread(gpointer data)
{
	session *s = data;
	const p2m_account *a = p2m_config_find(s->owner->cfg, s->account);
	GError *error = NULL;
	p2m_token_poll r = P2M_TOKEN_POLL_PENDING;

	while (a != NULL && !sleep_cancellable(s, s->interval)) {
		if (g_get_real_time() / G_USEC_PER_SEC >= s->expires_at) {
			error = g_error_new(P2M_ERROR, P2M_E_TOKEN, "the code expired before the sign-in was "
			                    "completed: run print2mailctl login again");
			break;
		}
		r = p2m_token_poll_device(s->owner->cfg, a, s->user, s->device_code, &error);
		if (r == P2M_TOKEN_POLL_SLOW_DOWN)
			s->interval += SLOW_DOWN_STEP;
		if (r == P2M_TOKEN_POLL_DONE || r == P2M_TOKEN_POLL_FAILED)
			break;
	}
	if (r == P2M_TOKEN_POLL_DONE) {
		helper_log(LOG_INFO, "%s: device login completed", s->identity);
		helper_refresh_kick(s->owner->refresh, s->account, s->user);
		finish(s, HELPER_LOGIN_DONE, NULL);
	} else {
		if (error == NULL)
			error = g_error_new_literal(P2M_ERROR, P2M_E_CANCELED, "the login was abandoned");
		helper_log(LOG_WARNING, "%s: device login failed: %s", s->identity, error->message);
		finish(s, HELPER_LOGIN_FAILED, error);
	}
	session_unref(s);
	return NULL;
}

void
helper_login_cancel(helper_login *l, const char *identity)
{
	session *s;

	g_mutex_lock(&l->lock);
	if ((s = g_hash_table_lookup(l->sessions, identity)) != NULL) {
		s->cancelled = TRUE;
		g_hash_table_remove(l->sessions, identity);
	}
	g_cond_broadcast(&l->changed);
	g_mutex_unlock(&l->lock);
}

gboolean
helper_login_start(helper_login *l, const p2m_account *account, const char *user,
                   char **uri, char **code, char **message, GError **error)
{
	g_autoptr(p2m_oauth_device) d = NULL;
	session *s;

	*uri = *code = *message = NULL;
	if ((d = p2m_oauth_device_start(account, P2M_SCOPE_DELEGATED, error)) == NULL)
		return FALSE;
	s = g_new0(session, 1);
	s->refs = 2;  /* the table's and the poll thread's */
	s->owner = l;
	s->account = g_strdup(account->name);
	s->user = g_strdup(user);
	s->identity = p2m_token_identity(account, user);
	s->device_code = g_steal_pointer(&d->device_code);
	s->interval = d->interval;
	s->expires_at = d->expires_at;
	helper_login_cancel(l, s->identity);
	g_mutex_lock(&l->lock);
	g_hash_table_insert(l->sessions, s->identity, s);
	g_mutex_unlock(&l->lock);
	g_thread_unref(g_thread_new("p2m-login", poll_thread, s));
	*uri = g_strdup(d->verification_uri);
	*code = g_strdup(d->user_code);
	*message = g_strdup(d->message != NULL ? d->message : "");
	helper_log(LOG_INFO, "%s: device login started", s->identity);
	return TRUE;
}

helper_login_state
helper_login_wait(helper_login *l, const char *identity, int wait_ms, GError **error)
{
	gint64 until = g_get_monotonic_time() + (gint64) wait_ms * 1000;
	helper_login_state state;
	session *s;

	g_mutex_lock(&l->lock);
	while ((s = g_hash_table_lookup(l->sessions, identity)) != NULL && s->state == HELPER_LOGIN_PENDING
	       && g_cond_wait_until(&l->changed, &l->lock, until))
		;
	if (s == NULL) {
		g_set_error(error, P2M_ERROR, P2M_E_USAGE, "no login is running for %s: start one first", identity);
		state = HELPER_LOGIN_FAILED;
	} else {
		state = s->state;
		if (state == HELPER_LOGIN_FAILED && error != NULL)
			*error = g_error_copy(s->error);
	}
	g_mutex_unlock(&l->lock);
	return state;
}
