/* SPDX-License-Identifier: Apache-2.0 */
/* p2m-tokstate.c - per-identity token status in the store: last refresh, last refusal and its fix, warnings. */
#include "config.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "p2m-error.h"
#include "p2m-store.h"
#include "p2m-tokstate.h"

p2m_tokstate *
p2m_tokstate_new(const char *identity)
{
	p2m_tokstate *st = g_new0(p2m_tokstate, 1);

	st->identity = g_strdup(identity);
	return st;
}

void
p2m_tokstate_free(p2m_tokstate *st)
{
	if (st == NULL)
		return;
	g_free(st->identity);
	g_free(st->error_rule);
	g_free(st->error_message);
	g_free(st->warning_rule);
	g_free(st->warning_message);
	g_free(st);
}

char *
p2m_tokstate_path(const char *state_dir, const char *identity)
{
	g_autofree char *esc = p2m_store_escape(identity);
	g_autofree char *name = g_strconcat(esc, ".json", NULL);

	return g_build_filename(state_dir, "status", name, NULL);
}

static void
add_str(JsonBuilder *b, const char *name, const char *value)
{
	if (value == NULL)
		return;
	json_builder_set_member_name(b, name);
	json_builder_add_string_value(b, value);
}

static void
add_int(JsonBuilder *b, const char *name, gint64 value)
{
	json_builder_set_member_name(b, name);
	json_builder_add_int_value(b, value);
}

char *
p2m_tokstate_to_json(const p2m_tokstate *st)
{
	g_autoptr(JsonBuilder) b = json_builder_new();
	g_autoptr(JsonNode) root = NULL;

	json_builder_begin_object(b);
	add_int(b, "version", 1);
	add_str(b, "identity", st->identity);
	add_int(b, "last_refresh", st->last_refresh);
	add_int(b, "expires_at", st->expires_at);
	add_str(b, "error_rule", st->error_rule);
	add_str(b, "error_message", st->error_message);
	add_int(b, "error_time", st->error_time);
	add_str(b, "warning_rule", st->warning_rule);
	add_str(b, "warning_message", st->warning_message);
	json_builder_end_object(b);
	root = json_builder_get_root(b);
	return json_to_string(root, TRUE);
}

static char *
get_str(JsonObject *o, const char *name)
{
	JsonNode *n = json_object_get_member(o, name);

	if (n == NULL || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
		return NULL;
	return g_strdup(json_node_get_string(n));
}

static gint64
get_int(JsonObject *o, const char *name)
{
	JsonNode *n = json_object_get_member(o, name);

	if (n == NULL || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64)
		return 0;
	return json_node_get_int(n);
}

p2m_tokstate *
p2m_tokstate_parse(const char *json, gsize len, GError **error)
{
	g_autoptr(JsonParser) parser = json_parser_new_immutable();
	g_autoptr(GError) jerr = NULL;
	JsonNode *root;
	JsonObject *o;
	p2m_tokstate *st;

	if (len > P2M_TOKSTATE_MAX || memchr(json, '\0', len) != NULL
	    || !json_parser_load_from_data(parser, json, (gssize) len, &jerr)
	    || (root = json_parser_get_root(parser)) == NULL || !JSON_NODE_HOLDS_OBJECT(root)) {
		g_set_error(error, P2M_ERROR, P2M_E_STORE, "not a status object%s%s",
		            jerr != NULL ? ": " : "", jerr != NULL ? jerr->message : "");
		return NULL;
	}
	o = json_node_get_object(root);
	st = g_new0(p2m_tokstate, 1);
	st->identity = get_str(o, "identity");
	st->last_refresh = get_int(o, "last_refresh");
	st->expires_at = get_int(o, "expires_at");
	st->error_rule = get_str(o, "error_rule");
	st->error_message = get_str(o, "error_message");
	st->error_time = get_int(o, "error_time");
	st->warning_rule = get_str(o, "warning_rule");
	st->warning_message = get_str(o, "warning_message");
	return st;
}

p2m_tokstate *
p2m_tokstate_load(const char *state_dir, const char *identity, GError **error)
{
	g_autofree char *path = p2m_tokstate_path(state_dir, identity);
	g_autofree char *data = NULL;
	g_autoptr(GError) perr = NULL;
	p2m_tokstate *st;
	gsize len = 0;

	if (!p2m_store_exists(path))
		return p2m_tokstate_new(identity);
	if (!p2m_store_read(path, P2M_TOKSTATE_MAX, &data, &len, error))
		return NULL;
	if ((st = p2m_tokstate_parse(data, len, &perr)) == NULL) {
		g_set_error(error, P2M_ERROR, P2M_E_STORE, "%s: damaged status file (%s); delete it to start afresh",
		            path, perr->message);
		return NULL;
	}
	g_free(st->identity);
	st->identity = g_strdup(identity);
	return st;
}

gboolean
p2m_tokstate_save(const char *state_dir, const p2m_tokstate *st, GError **error)
{
	g_autofree char *dir = g_build_filename(state_dir, "status", NULL);
	g_autofree char *path = p2m_tokstate_path(state_dir, st->identity);
	g_autofree char *json = NULL;

	if (!p2m_store_ensure_dir(dir, error))
		return FALSE;
	json = p2m_tokstate_to_json(st);
	return p2m_store_write(path, json, strlen(json), 0600, error);
}

void
p2m_tokstate_set_ok(p2m_tokstate *st, gint64 now, gint64 expires_at)
{
	st->last_refresh = now;
	st->expires_at = expires_at;
	g_clear_pointer(&st->error_rule, g_free);
	g_clear_pointer(&st->error_message, g_free);
	st->error_time = 0;
}

void
p2m_tokstate_set_error(p2m_tokstate *st, gint64 now, const p2m_rule *rule, const char *message)
{
	g_free(st->error_rule);
	g_free(st->error_message);
	st->error_rule = g_strdup(rule != NULL ? rule->id : "unknown");
	st->error_message = g_strdup(message);
	st->error_time = now;
}

void
p2m_tokstate_set_warning(p2m_tokstate *st, const p2m_rule *rule, const char *message)
{
	g_free(st->warning_rule);
	g_free(st->warning_message);
	st->warning_rule = rule != NULL ? g_strdup(rule->id) : NULL;
	st->warning_message = rule != NULL ? g_strdup(message) : NULL;
}

const p2m_rule *
p2m_tokstate_blocking_rule(const p2m_tokstate *st)
{
	const p2m_rule *rule;

	if (st == NULL || st->error_rule == NULL)
		return NULL;
	rule = p2m_rules_find(st->error_rule);
	if (rule == NULL || rule->cls == P2M_CLASS_TRANSIENT || rule->cls == P2M_CLASS_NONE)
		return NULL;
	return rule;
}
