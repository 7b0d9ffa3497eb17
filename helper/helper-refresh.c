/* SPDX-License-Identifier: Apache-2.0 */
/* helper-refresh.c - print2mail-helper's schedule: every token renewed well before it expires. */
#include "config.h"

#include <gio/gio.h>
#include <string.h>

#include "helper-log.h"
#include "helper-refresh.h"
#include "helper-status.h"
#include "p2m-error.h"
#include "p2m-fail.h"
#include "p2m-store.h"
#include "p2m-token.h"
#include "p2m-tokstate.h"

#define BACKOFF_FIRST      5
#define REFUSED_FIRST      60
#define WARN_EVERY         86400

struct helper_refresh {
	const p2m_config *cfg;
	GHashTable       *entries;   /* identity -> entry */
	guint             running;   /* refreshes in worker threads (main thread only) */
};

typedef struct {
	helper_refresh *owner;
	char           *account;
	char           *user;        /* NULL for an account's own token */
	char           *identity;
	guint           timer;
	gboolean        busy;
	gboolean        dropped;     /* freed when the running refresh returns */
	guint           backoff;
	char           *logged_rule; /* last refusal logged, to log each once */
	gint64          warned_at;
} entry;

/* What a refresh in a worker thread found. */
typedef struct {
	gboolean        ok;
	gint64          refresh_at;
	gint64          expires_at;
	const p2m_rule *rule;
	int             code;
	char           *message;
} outcome;

static void schedule(entry *e, gint64 delay_ms);

static void
entry_free(entry *e)
{
	if (e == NULL)
		return;
	if (e->timer != 0)
		g_source_remove(e->timer);
	g_free(e->account);
	g_free(e->user);
	g_free(e->identity);
	g_free(e->logged_rule);
	g_free(e);
}

static void
outcome_free(outcome *o)
{
	if (o == NULL)
		return;
	g_free(o->message);
	g_free(o);
}

static gint64
now_s(void)
{
	return g_get_real_time() / G_USEC_PER_SEC;
}

static const p2m_account *
account_of(const entry *e)
{
	return p2m_config_find(e->owner->cfg, e->account);
}

/* Record (or clear) the expiring-credential warning in the status file, and
 * log it at most daily. */
static void
check_warning(entry *e)
{
	const p2m_config *cfg = e->owner->cfg;
	const p2m_account *a = account_of(e);
	const p2m_rule *warn = (a != NULL && e->user == NULL) ? p2m_token_warning(cfg, a) : NULL;
	g_autoptr(p2m_store_lock) lock = NULL;
	g_autoptr(p2m_tokstate) st = NULL;
	g_autofree char *fix = NULL;
	gint64 not_after = 0;
	char msg[256] = "";

	if (warn != NULL && p2m_token_credential_expiry(cfg, a, &not_after, NULL) && not_after > 0) {
		g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(not_after);
		g_autofree char *day = g_date_time_format(dt, "%Y-%m-%d");

		g_snprintf(msg, sizeof(msg), "the %s of account %s expires on %s",
		           a->client_certificate != NULL ? "client certificate" : "client secret", a->name, day);
	}
	lock = p2m_store_lock_identity(cfg->state_dir, e->identity, 5000, NULL);
	st = lock != NULL ? p2m_tokstate_load(cfg->state_dir, e->identity, NULL) : NULL;
	if (st != NULL && (warn != NULL || st->warning_rule != NULL)) {
		p2m_tokstate_set_warning(st, warn, msg);
		p2m_tokstate_save(cfg->state_dir, st, NULL);
	}
	if (warn != NULL && now_s() - e->warned_at >= WARN_EVERY) {
		fix = p2m_rules_format(warn->message, NULL, NULL);
		helper_log(LOG_WARNING, "%s [%s]: %s", msg, warn->id, fix);
		e->warned_at = now_s();
	}
}

static void
run_refresh(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
	entry *e = data;
	const p2m_account *a = account_of(e);
	g_autoptr(GError) error = NULL;
	g_autoptr(p2m_token) t = NULL;
	outcome *o = g_new0(outcome, 1);

	if (a == NULL) {
		o->code = P2M_E_ACCOUNT;
		o->message = g_strdup_printf("account %s is no longer configured", e->account);
	} else if ((t = p2m_token_refresh(e->owner->cfg, a, e->user, FALSE, &error)) != NULL) {
		o->ok = TRUE;
		o->refresh_at = p2m_token_refresh_at(t);
		o->expires_at = t->expires_at;
	} else {
		o->code = error->domain == P2M_ERROR ? error->code : P2M_E_INTERNAL;
		o->message = g_strdup(error->message);
		o->rule = p2m_fail_rule(error);
	}
	g_task_return_pointer(task, o, (GDestroyNotify) outcome_free);
}

static void
log_refusal(entry *e, const outcome *o)
{
	const p2m_rule *rule = helper_status_rule(o->rule, e->identity);
	g_autofree char *fix = NULL;

	if (rule != NULL && g_strcmp0(e->logged_rule, rule->id) == 0)
		return;
	g_free(e->logged_rule);
	e->logged_rule = g_strdup(rule != NULL ? rule->id : "unknown");
	fix = helper_status_fix(rule, e->identity);
	helper_log(LOG_ERR, "%s: token refresh refused [%s]: %s; fix: %s%s%s", e->identity, e->logged_rule,
	           o->message, fix != NULL ? fix : "", rule != NULL && rule->url ? " See " : "",
	           rule != NULL && rule->url ? rule->url : "");
}

/* A failure: back off; a person-fix refusal is retried rarely, a missing
 * login not at all (the login kicks us). */
static void
after_failure(entry *e, const outcome *o)
{
	gboolean refused = o->rule != NULL && o->rule->cls != P2M_CLASS_TRANSIENT;

	if (refused) {
		log_refusal(e, o);
		if (o->code == P2M_E_NO_CREDENTIAL)
			return;
		e->backoff = e->backoff == 0 ? REFUSED_FIRST : MIN(e->backoff * 2, HELPER_RETRY_REFUSED);
	} else {
		e->backoff = e->backoff == 0 ? BACKOFF_FIRST : MIN(e->backoff * 2, HELPER_BACKOFF_MAX);
		helper_log(LOG_WARNING, "%s: token refresh failed, retrying in %u s: %s", e->identity, e->backoff,
		           o->message != NULL ? o->message : "the token endpoint did not answer");
	}
	schedule(e, (gint64) e->backoff * 1000);
}

static void
refresh_done(GObject *source, GAsyncResult *res, gpointer data)
{
	entry *e = data;
	outcome *o = g_task_propagate_pointer(G_TASK(res), NULL);
	gint64 now = now_s();

	e->busy = FALSE;
	e->owner->running--;
	if (e->dropped) {
		outcome_free(o);
		entry_free(e);
		return;
	}
	if (o->ok && o->refresh_at > now) {
		if (e->logged_rule != NULL || e->backoff != 0)
			helper_log(LOG_INFO, "%s: token refreshed again", e->identity);
		g_clear_pointer(&e->logged_rule, g_free);
		e->backoff = 0;
		schedule(e, (o->refresh_at - now) * 1000);
	} else if (o->ok) {
		/* A still-valid token came back from the cache: the endpoint failed
		 * transiently (recorded in the status file). */
		outcome fake = { .message = (char *) "the token endpoint is unreachable; keeping the current token" };

		after_failure(e, &fake);
	} else {
		after_failure(e, o);
	}
	check_warning(e);
	outcome_free(o);
}

static gboolean
on_timer(gpointer data)
{
	entry *e = data;
	g_autoptr(GTask) task = NULL;

	e->timer = 0;
	if (e->busy)
		return G_SOURCE_REMOVE;
	e->busy = TRUE;
	e->owner->running++;
	task = g_task_new(NULL, NULL, refresh_done, e);
	g_task_set_task_data(task, e, NULL);
	g_task_run_in_thread(task, run_refresh);
	return G_SOURCE_REMOVE;
}

static void
schedule(entry *e, gint64 delay_ms)
{
	if (e->timer != 0)
		g_source_remove(e->timer);
	delay_ms = CLAMP(delay_ms, 0, (gint64) HELPER_MAX_SLEEP * 1000);
	e->timer = g_timeout_add((guint) delay_ms, on_timer, e);
}

static void
add_entry(helper_refresh *r, const char *account, const char *user)
{
	const p2m_account *a = p2m_config_find(r->cfg, account);
	g_autofree char *identity = a != NULL ? p2m_token_identity(a, user) : NULL;
	entry *e;

	if (identity == NULL)
		return;
	e = g_hash_table_lookup(r->entries, identity);

	if (e == NULL) {
		e = g_new0(entry, 1);
		e->owner = r;
		e->account = g_strdup(account);
		e->user = g_strdup(user);
		e->identity = g_steal_pointer(&identity);
		g_hash_table_insert(r->entries, e->identity, e);
	}
	e->backoff = 0;
	g_clear_pointer(&e->logged_rule, g_free);
	if (!e->busy)
		schedule(e, 0);
}

helper_refresh *
helper_refresh_new(const p2m_config *cfg)
{
	helper_refresh *r = g_new0(helper_refresh, 1);

	r->cfg = cfg;
	r->entries = g_hash_table_new(g_str_hash, g_str_equal);
	return r;
}

void
helper_refresh_start(helper_refresh *r)
{
	const p2m_account *ua = helper_status_user_account(r->cfg);
	g_autoptr(GPtrArray) users = helper_status_user_identities(r->cfg->state_dir);
	guint i;

	for (i = 0; i < r->cfg->accounts->len; i++) {
		const p2m_account *a = g_ptr_array_index(r->cfg->accounts, i);

		if (a->auth == P2M_AUTH_XOAUTH2 && a->send_as != P2M_SEND_AS_JOB_USER)
			add_entry(r, a->name, NULL);
	}
	for (i = 0; ua != NULL && i < users->len; i++) {
		const char *user = (const char *) g_ptr_array_index(users, i) + strlen("user:");
		gboolean graph = g_str_has_suffix(user, P2M_TOKEN_GRAPH_SUFFIX);
		g_autofree char *name = g_strndup(user, strlen(user) - (graph ? strlen(P2M_TOKEN_GRAPH_SUFFIX) : 0));

		/* Logins for the other audience stay on disk but are not kept fresh. */
		if (graph == (ua->transport == P2M_TRANSPORT_GRAPH))
			add_entry(r, ua->name, name);
	}
}

typedef struct {
	helper_refresh *r;
	char           *account;
	char           *user;
	char           *drop;
} kick_call;

static gboolean
kick_in_main(gpointer data)
{
	kick_call *k = data;
	entry *e;

	if (k->drop != NULL) {
		if ((e = g_hash_table_lookup(k->r->entries, k->drop)) != NULL) {
			g_hash_table_remove(k->r->entries, k->drop);
			if (e->busy)
				e->dropped = TRUE;
			else
				entry_free(e);
		}
	} else {
		add_entry(k->r, k->account, k->user);
	}
	g_free(k->account);
	g_free(k->user);
	g_free(k->drop);
	g_free(k);
	return G_SOURCE_REMOVE;
}

void
helper_refresh_kick(helper_refresh *r, const char *account, const char *user)
{
	kick_call *k = g_new0(kick_call, 1);

	k->r = r;
	k->account = g_strdup(account);
	k->user = g_strdup(user);
	g_main_context_invoke(NULL, kick_in_main, k);
}

void
helper_refresh_drop(helper_refresh *r, const char *identity)
{
	kick_call *k = g_new0(kick_call, 1);

	k->r = r;
	k->drop = g_strdup(identity);
	g_main_context_invoke(NULL, kick_in_main, k);
}

void
helper_refresh_free(helper_refresh *r)
{
	GHashTableIter it;
	gpointer value;

	if (r == NULL)
		return;
	g_hash_table_iter_init(&it, r->entries);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		entry *e = value;

		if (e->busy)
			e->dropped = TRUE;  /* freed by refresh_done below */
		else
			entry_free(e);
	}
	g_hash_table_destroy(r->entries);
	/* A worker still reads the config the caller frees next: wait for its
	 * answer (refresh_done runs in this thread), at most one token request. */
	while (r->running > 0)
		g_main_context_iteration(NULL, TRUE);
	g_free(r);
}
