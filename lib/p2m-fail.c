/* SPDX-License-Identifier: Apache-2.0 */
/* p2m-fail.c - the P2M_ERROR domain with a rule in each error (G_DEFINE_EXTENDED_ERROR). */
#include "config.h"

#include <stdarg.h>

#include "p2m-fail.h"

typedef struct {
	const p2m_rule *rule;   /* static (the rule table); NULL = the rule of the code */
} P2mErrorPrivate;

static void
p2m_error_private_init(P2mErrorPrivate *priv)
{
	priv->rule = NULL;
}

static void
p2m_error_private_copy(const P2mErrorPrivate *src, P2mErrorPrivate *dest)
{
	dest->rule = src->rule;
}

static void
p2m_error_private_clear(P2mErrorPrivate *priv)
{
	priv->rule = NULL;
}

G_DEFINE_EXTENDED_ERROR(P2mError, p2m_error)

void
p2m_fail_set(GError **error, p2m_error code, const p2m_rule *rule, const char *fmt, ...)
{
	GError *e;
	va_list ap;

	if (error == NULL)
		return;
	va_start(ap, fmt);
	e = g_error_new_valist(P2M_ERROR, (gint) code, fmt, ap);
	va_end(ap);
	p2m_fail_attach(e, rule);
	g_propagate_error(error, e);
}

const p2m_rule *
p2m_fail_rule(const GError *error)
{
	const P2mErrorPrivate *priv;

	if (error == NULL)
		return NULL;
	if (error->domain != P2M_ERROR)
		return p2m_rules_for_error(P2M_E_INTERNAL);
	priv = p2m_error_get_private(error);
	return priv->rule != NULL ? priv->rule : p2m_rules_for_error((p2m_error) error->code);
}

p2m_class
p2m_fail_class(const GError *error)
{
	if (error == NULL || (error->domain == P2M_ERROR && error->code == P2M_E_CANCELED))
		return P2M_CLASS_NONE;
	return p2m_fail_rule(error)->cls;
}

void
p2m_fail_attach(GError *error, const p2m_rule *rule)
{
	if (error != NULL && error->domain == P2M_ERROR)
		p2m_error_get_private(error)->rule = rule;
}

void
p2m_fail_refine(GError *error, unsigned ctx)
{
	P2mErrorPrivate *priv;

	if (error == NULL || error->domain != P2M_ERROR)
		return;
	priv = p2m_error_get_private(error);
	if (priv->rule != NULL)
		priv->rule = p2m_rules_refine(priv->rule, ctx);
}
