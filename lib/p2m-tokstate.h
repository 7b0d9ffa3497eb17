/* SPDX-License-Identifier: Apache-2.0 */
/* p2m-tokstate.h - per-identity token status in the store: last refresh, last refusal and its fix, warnings. */
#ifndef P2M_TOKSTATE_H
#define P2M_TOKSTATE_H

#include <glib.h>

#include "p2m-rules.h"

#define P2M_TOKSTATE_MAX (16 * 1024)

/* STATE_DIR/status/<escaped identity>.json, 0600.  Holds no secret, so
 * print2mailctl status can show all of it. */
typedef struct {
	char   *identity;
	gint64  last_refresh;      /* unix seconds of the last token obtained, 0 = never */
	gint64  expires_at;        /* of that token, 0 = none */
	char   *error_rule;        /* rule id of the last failed refresh, NULL = none since */
	char   *error_message;     /* what the endpoint said (no secrets) */
	gint64  error_time;
	char   *warning_rule;      /* e.g. the secret-expiring rule id, NULL = none */
	char   *warning_message;
} p2m_tokstate;

p2m_tokstate *p2m_tokstate_new(const char *identity);
void p2m_tokstate_free(p2m_tokstate *st);  /* accepts NULL */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(p2m_tokstate, p2m_tokstate_free)

char *p2m_tokstate_path(const char *state_dir, const char *identity);
/* A missing file gives an empty status; a damaged or unsafe one P2M_E_STORE naming it. */
p2m_tokstate *p2m_tokstate_load(const char *state_dir, const char *identity, GError **error);
gboolean p2m_tokstate_save(const char *state_dir, const p2m_tokstate *st, GError **error);

/* Pure: JSON text <-> status.  Parse errors are P2M_E_STORE. */
char *p2m_tokstate_to_json(const p2m_tokstate *st);
p2m_tokstate *p2m_tokstate_parse(const char *json, gsize len, GError **error);

/* Record a success (clears the error) or a refusal. */
void p2m_tokstate_set_ok(p2m_tokstate *st, gint64 now, gint64 expires_at);
void p2m_tokstate_set_error(p2m_tokstate *st, gint64 now, const p2m_rule *rule, const char *message);
void p2m_tokstate_set_warning(p2m_tokstate *st, const p2m_rule *rule, const char *message);

/* The recorded refusal when a person must fix it (its rule is not
 * transient), else NULL. */
const p2m_rule *p2m_tokstate_blocking_rule(const p2m_tokstate *st);

#endif /* P2M_TOKSTATE_H */
