/* SPDX-License-Identifier: Apache-2.0 */
/* p2m-fail.h - a failure that carries its rule: the P2M_ERROR domain as an extended GError. */
#ifndef P2M_FAIL_H
#define P2M_FAIL_H

#include <glib.h>

#include "p2m-error.h"
#include "p2m-rules.h"

/*
 * Where a failure is known, its meaning is known: the token endpoint's
 * refusal is classified in p2m-oauth.c, the server's reply in p2m-smtp.c, a
 * local failure by its code.  The rule (class, keyword, fix) travels with
 * the GError from there to the one place that reports it, so no caller
 * parses a reply again or derives a class of its own.
 *
 * Every GError in the P2M_ERROR domain can carry a rule; one set with plain
 * g_set_error() carries none and stands for the rule of its code
 * (p2m_rules_for_error), so local errors need nothing but their code.
 */

/* Set ERROR (if not NULL) to CODE with RULE attached (NULL = the rule of CODE). */
void p2m_fail_set(GError **error, p2m_error code, const p2m_rule *rule, const char *fmt, ...) G_GNUC_PRINTF(4, 5);

/* The rule ERROR carries: the attached one, else the rule of its code, else
 * (another domain) the "internal" rule.  Never NULL for a non-NULL ERROR;
 * NULL for a NULL ERROR. */
const p2m_rule *p2m_fail_rule(const GError *error);

/* What ERROR means for the job: p2m_fail_rule(ERROR)->cls; a cancel is
 * P2M_CLASS_NONE. */
p2m_class p2m_fail_class(const GError *error);

/* Attach RULE to ERROR (a P2M_ERROR; other domains are left alone). */
void p2m_fail_attach(GError *error, const p2m_rule *rule);

/* Refine the attached rule with what the caller knows about the sign-in
 * (P2M_REFINE_* flags, see p2m_rules_refine).  Only an attached rule is
 * refined: a code's own rule has no variants. */
void p2m_fail_refine(GError *error, unsigned ctx);

#endif /* P2M_FAIL_H */
