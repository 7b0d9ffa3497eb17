/* SPDX-License-Identifier: Apache-2.0 */
/* helper-status.c - the text of print2mailctl status: every account and login, never a token. */
#include "config.h"

#include <glib.h>
#include <string.h>

#include "helper-status.h"
#include "p2m-error.h"
#include "p2m-rules.h"
#include "p2m-store.h"
#include "p2m-token.h"
#include "p2m-tokstate.h"

const char *
helper_status_auth_kind(const p2m_account *a)
{
	if (a->transport == P2M_TRANSPORT_GRAPH) {
		if (a->send_as == P2M_SEND_AS_JOB_USER)
			return "Microsoft Graph, each job user's own login (print2mailctl login --me)";
		if (a->oauth_flow == P2M_FLOW_DEVICE_CODE)
			return "Microsoft Graph, delegated login (device code)";
		if (a->client_certificate != NULL)
			return "Microsoft Graph, client credentials (certificate)";
		return "Microsoft Graph, client credentials (client secret)";
	}
	if (a->auth != P2M_AUTH_XOAUTH2)
		return "AUTH LOGIN (password file)";
	if (a->send_as == P2M_SEND_AS_JOB_USER)
		return "XOAUTH2, each job user's own login (print2mailctl login --me)";
	if (a->oauth_flow == P2M_FLOW_DEVICE_CODE)
		return "XOAUTH2, delegated login (device code)";
	if (a->client_certificate != NULL)
		return "XOAUTH2, client credentials (certificate)";
	return "XOAUTH2, client credentials (client secret)";
}

static gboolean
is_user_identity(const char *identity)
{
	return g_str_has_prefix(identity, "user:");
}

const p2m_rule *
helper_status_rule(const p2m_rule *rule, const char *identity)
{
	/* The status file keeps the endpoint's rule, which names the account's
	 * fix ("print2mailctl login ACCOUNT"); the user must hear what their
	 * held job says (login --me). */
	if (rule == NULL || !is_user_identity(identity))
		return rule;
	return p2m_rules_refine(rule, P2M_REFINE_PER_USER | P2M_REFINE_XOAUTH2);
}

char *
helper_status_fix(const p2m_rule *rule, const char *identity)
{
	if ((rule = helper_status_rule(rule, identity)) == NULL)
		return NULL;
	/* The table cannot name the account; root's log and status can. */
	if (rule == p2m_rules_find("no-login") && !is_user_identity(identity))
		return g_strdup_printf("Run print2mailctl login %.*s as root to sign the account in with the device code.",
		                       (int) (strlen(identity) - (g_str_has_suffix(identity, P2M_TOKEN_GRAPH_SUFFIX)
		                                                  ? strlen(P2M_TOKEN_GRAPH_SUFFIX) : 0)), identity);
	return p2m_rules_format(rule->message, NULL, NULL);
}

const p2m_account *
helper_status_user_account(const p2m_config *cfg)
{
	guint i;

	for (i = 0; i < cfg->accounts->len; i++) {
		const p2m_account *a = g_ptr_array_index(cfg->accounts, i);

		if (a->auth == P2M_AUTH_XOAUTH2 && a->send_as == P2M_SEND_AS_JOB_USER)
			return a;
	}
	for (i = 0; i < cfg->accounts->len; i++) {
		const p2m_account *a = g_ptr_array_index(cfg->accounts, i);

		if (a->auth == P2M_AUTH_XOAUTH2 && a->oauth_flow == P2M_FLOW_DEVICE_CODE)
			return a;
	}
	return NULL;
}

GPtrArray *
helper_status_user_identities(const char *state_dir)
{
	g_autofree char *dir = g_build_filename(state_dir, "tokens", NULL);
	GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	g_autofree char *prefix = p2m_store_escape("user:");
	const char *name;

	while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
		g_autofree char *user = NULL;

		if (!g_str_has_prefix(name, prefix) || !g_str_has_suffix(name, ".json"))
			continue;
		user = g_uri_unescape_segment(name + strlen(prefix), name + strlen(name) - 5, NULL);
		if (user != NULL && user[0] != '\0')
			g_ptr_array_add(out, g_strconcat("user:", user, NULL));
	}
	return out;
}

static char *
when(gint64 t)
{
	g_autoptr(GDateTime) dt = g_date_time_new_from_unix_local(t);
	gint64 delta = t - g_get_real_time() / G_USEC_PER_SEC;
	g_autofree char *abs = dt != NULL ? g_date_time_format(dt, "%Y-%m-%d %H:%M:%S %Z") : g_strdup("?");

	if (delta >= 0 && delta < 7200)
		return g_strdup_printf("%s (in %" G_GINT64_FORMAT " min %" G_GINT64_FORMAT " s)", abs,
		                       delta / 60, delta % 60);
	if (delta < 0 && delta > -7200)
		return g_strdup_printf("%s (%" G_GINT64_FORMAT " min ago)", abs, -delta / 60);
	return g_steal_pointer(&abs);
}

static void
format_rule(GString *out, const char *identity, const char *label, const char *rule_id, const char *message,
            gint64 at)
{
	const p2m_rule *rule = helper_status_rule(rule_id != NULL ? p2m_rules_find(rule_id) : NULL, identity);
	g_autofree char *fix = helper_status_fix(rule, identity);

	g_string_append_printf(out, "  %s: %s", label, rule != NULL ? rule->id : rule_id != NULL ? rule_id : "?");
	if (at > 0) {
		g_autofree char *w = when(at);

		g_string_append_printf(out, " at %s", w);
	}
	g_string_append_printf(out, "\n    %s\n", message != NULL ? message : "");
	if (fix != NULL)
		g_string_append_printf(out, "    fix: %s\n", fix);
	if (rule != NULL && rule->url != NULL)
		g_string_append_printf(out, "    see: %s\n", rule->url);
}

/* The token and status lines of one identity. */
static void
format_identity(GString *out, const p2m_config *cfg, const char *identity)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(p2m_tokstate) st = p2m_tokstate_load(cfg->state_dir, identity, &error);
	g_autoptr(p2m_token) t = NULL;
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;

	if (!p2m_token_load(cfg->state_dir, identity, &t, error == NULL ? &error : NULL) || error != NULL) {
		g_string_append_printf(out, "  store: %s\n", error->message);
		return;
	}
	/* Graph tokens are for another audience: their own line, never
	 * mistaken for the SMTP token. */
	const char *label = g_str_has_suffix(identity, P2M_TOKEN_GRAPH_SUFFIX) ? "graph token" : "token";

	if (t == NULL || t->access_token == NULL) {
		g_string_append_printf(out, "  %s: none yet\n", label);
	} else {
		g_autofree char *w = when(t->expires_at);

		g_string_append_printf(out, "  %s: %s %s%s\n", label, t->expires_at > now ? "valid until" : "expired",
		                       w, t->refresh_token != NULL ? ", refresh token stored" : "");
	}
	if (st->last_refresh > 0) {
		g_autofree char *w = when(st->last_refresh);

		g_string_append_printf(out, "  last refresh: %s\n", w);
	} else {
		g_string_append(out, "  last refresh: never\n");
	}
	if (st->error_rule != NULL)
		format_rule(out, identity, "last error", st->error_rule, st->error_message, st->error_time);
	else
		g_string_append(out, "  last error: none\n");
	if (st->warning_rule != NULL)
		format_rule(out, identity, "warning", st->warning_rule, st->warning_message, 0);
}

static void
format_account(GString *out, const p2m_config *cfg, const p2m_account *a)
{
	g_autofree char *identity = NULL;
	const p2m_rule *warn;

	g_string_append_printf(out, "account %s: %s\n", a->name, helper_status_auth_kind(a));
	if (a->auth != P2M_AUTH_XOAUTH2 || a->send_as == P2M_SEND_AS_JOB_USER) {
		g_string_append(out, "  no account token (nothing to refresh)\n");
		return;
	}
	identity = p2m_token_identity(a, NULL);
	format_identity(out, cfg, identity);
	/* The helper records warnings too, but check now in case it is not running. */
	warn = p2m_token_warning(cfg, a);
	if (warn != NULL) {
		g_autofree char *fix = p2m_rules_format(warn->message, NULL, NULL);

		g_string_append_printf(out, "  expiring: %s: %s\n", warn->id, fix);
	}
}

char *
helper_status_format(const p2m_config *cfg, const char *user)
{
	GString *out = g_string_new(NULL);
	g_autoptr(GPtrArray) users = helper_status_user_identities(cfg->state_dir);
	g_autofree char *own = user != NULL ? g_strconcat("user:", user, NULL) : NULL;
	g_autofree char *own_graph = user != NULL ? g_strconcat(own, P2M_TOKEN_GRAPH_SUFFIX, NULL) : NULL;
	guint i;

	for (i = 0; i < cfg->accounts->len; i++)
		format_account(out, cfg, g_ptr_array_index(cfg->accounts, i));
	if (cfg->accounts->len == 0)
		g_string_append_printf(out, "no accounts in %s\n", cfg->path);
	for (i = 0; i < users->len; i++) {
		const char *id = g_ptr_array_index(users, i);

		if (own != NULL && strcmp(own, id) != 0 && strcmp(own_graph, id) != 0)
			continue;
		g_string_append_printf(out, "login %s: %s, per-user login\n", id,
		                       g_str_has_suffix(id, P2M_TOKEN_GRAPH_SUFFIX) ? "Microsoft Graph" : "XOAUTH2");
		format_identity(out, cfg, id);
	}
	return g_string_free(out, FALSE);
}
