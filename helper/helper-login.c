/* SPDX-License-Identifier: Apache-2.0 */
/* helper-login.c - device-code logins run by print2mail-helper for print2mailctl login. */
#include "config.h"

#include <errno.h>
#include <glib.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

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
	/* pthread rather than GMutex/GCond: ThreadSanitizer sees these. */
	pthread_mutex_t   lock;
	pthread_cond_t    changed;   /* on CLOCK_MONOTONIC, as g_get_monotonic_time() */
	GHashTable       *sessions;  /* identity (its own copy) -> session */
	unsigned          polling;   /* poll threads still running */
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
	pthread_condattr_t attr;

	l->cfg = cfg;
	l->refresh = refresh;
	pthread_mutex_init(&l->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&l->changed, &attr);
	pthread_condattr_destroy(&attr);
	/* The table owns a copy of each key: a session's own identity would be
	 * freed with the session while the table still hashes it. */
	l->sessions = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify) session_unref);
	return l;
}

void
helper_login_free(helper_login *l)
{
	GHashTableIter it;
	gpointer v;

	if (l == NULL)
		return;
	pthread_mutex_lock(&l->lock);
	g_hash_table_iter_init(&it, l->sessions);
	while (g_hash_table_iter_next(&it, NULL, &v))
		((session *) v)->cancelled = TRUE;
	pthread_cond_broadcast(&l->changed);
	/* A poll thread reads the configuration and L: wait until each has
	 * seen the cancellation (at most one token request each). */
	while (l->polling > 0)
		pthread_cond_wait(&l->changed, &l->lock);
	pthread_mutex_unlock(&l->lock);
	g_hash_table_unref(l->sessions);
	pthread_cond_destroy(&l->changed);
	pthread_mutex_destroy(&l->lock);
	g_free(l);
}

/* With L's lock held: wait for a change until UNTIL (monotonic µs); FALSE once it passed. */
static gboolean
wait_until(helper_login *l, gint64 until)
{
	struct timespec ts = { .tv_sec = until / G_USEC_PER_SEC, .tv_nsec = (until % G_USEC_PER_SEC) * 1000 };

	return pthread_cond_timedwait(&l->changed, &l->lock, &ts) != ETIMEDOUT;
}

static void
finish(session *s, helper_login_state state, GError *error)
{
	helper_login *l = s->owner;

	pthread_mutex_lock(&l->lock);
	s->state = state;
	s->error = error;
	pthread_cond_broadcast(&l->changed);
	pthread_mutex_unlock(&l->lock);
}

/* Sleep SECONDS unless the session is cancelled first; TRUE if cancelled. */
static gboolean
sleep_cancellable(session *s, int seconds)
{
	helper_login *l = s->owner;
	gint64 until = g_get_monotonic_time() + (gint64) seconds * G_USEC_PER_SEC;
	gboolean cancelled;

	pthread_mutex_lock(&l->lock);
	while (!s->cancelled && wait_until(l, until))
		;
	cancelled = s->cancelled;
	pthread_mutex_unlock(&l->lock);
	return cancelled;
}

static gpointer
poll_thread(gpointer data)
{
	session *s = data;
	helper_login *l = s->owner;  /* S may be gone by the end */
	const p2m_account *a = p2m_config_find(l->cfg, s->account);
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
	pthread_mutex_lock(&l->lock);
	l->polling--;
	pthread_cond_broadcast(&l->changed);
	pthread_mutex_unlock(&l->lock);
	return NULL;
}

/* With L's lock held: abandon IDENTITY's session and drop the table's reference. */
static void
cancel_locked(helper_login *l, const char *identity)
{
	session *s = g_hash_table_lookup(l->sessions, identity);

	if (s != NULL) {
		s->cancelled = TRUE;
		g_hash_table_remove(l->sessions, identity);
	}
	pthread_cond_broadcast(&l->changed);
}

void
helper_login_cancel(helper_login *l, const char *identity)
{
	pthread_mutex_lock(&l->lock);
	cancel_locked(l, identity);
	pthread_mutex_unlock(&l->lock);
}

gboolean
helper_login_start(helper_login *l, const p2m_account *account, const char *user,
                   char **uri, char **code, char **message, GError **error)
{
	g_autoptr(p2m_oauth_device) d = NULL;
	session *s;

	*uri = *code = *message = NULL;
	if ((d = p2m_oauth_device_start(account, p2m_account_scope(account, FALSE), error)) == NULL)
		return FALSE;
	s = g_new0(session, 1);
	/* The table's, the poll thread's and ours: a concurrent start for the
	 * same identity may drop the table's reference, and the poll thread may
	 * end, while we still log with S below. */
	s->refs = 3;
	s->owner = l;
	s->account = g_strdup(account->name);
	s->user = g_strdup(user);
	s->identity = p2m_token_identity(account, user);
	s->device_code = g_steal_pointer(&d->device_code);
	s->interval = d->interval;
	s->expires_at = d->expires_at;
	/* Abandoning the old login and publishing the new one is one step:
	 * two starts in parallel leave exactly one session in the table. */
	pthread_mutex_lock(&l->lock);
	cancel_locked(l, s->identity);
	g_hash_table_replace(l->sessions, g_strdup(s->identity), s);
	l->polling++;
	pthread_mutex_unlock(&l->lock);
	g_thread_unref(g_thread_new("p2m-login", poll_thread, s));
	*uri = g_strdup(d->verification_uri);
	*code = g_strdup(d->user_code);
	*message = g_strdup(d->message != NULL ? d->message : "");
	helper_log(LOG_INFO, "%s: device login started", s->identity);
	session_unref(s);
	return TRUE;
}

helper_login_state
helper_login_wait(helper_login *l, const char *identity, int wait_ms, GError **error)
{
	gint64 until = g_get_monotonic_time() + (gint64) wait_ms * 1000;
	helper_login_state state;
	session *s;

	pthread_mutex_lock(&l->lock);
	while ((s = g_hash_table_lookup(l->sessions, identity)) != NULL && s->state == HELPER_LOGIN_PENDING
	       && wait_until(l, until))
		;
	if (s == NULL) {
		g_set_error(error, P2M_ERROR, P2M_E_USAGE, "no login is running for %s: start one first", identity);
		state = HELPER_LOGIN_FAILED;
	} else {
		state = s->state;
		if (state == HELPER_LOGIN_FAILED && error != NULL)
			*error = g_error_copy(s->error);
	}
	pthread_mutex_unlock(&l->lock);
	return state;
}
