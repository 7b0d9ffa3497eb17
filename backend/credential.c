/* SPDX-License-Identifier: Apache-2.0 */
/* credential.c - who the backend signs in as and with what: the account's secret, or the job user's password or token. */
#include "config.h"

#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "credential.h"
#include "p2m-error.h"
#include "p2m-token.h"
#include "p2m-vault.h"

void
bk_cred_free(bk_cred *c)
{
	if (c == NULL)
		return;
	g_free(c->user);
	g_free(c->sender);
	g_free(c->username);
	p2m_secret_free(c->password);
	p2m_secret_free(c->bearer);
	g_free(c);
}

/* AUTH_UID names USER's account.  cupsd sets it (ipp.c save_auth_info) only
 * from con->gss_uid, which only PeerCred on its domain socket (checked
 * against SO_PEERCRED) or Kerberos over that socket set; a client cannot
 * supply it.  Root (uid 0) proves nothing: cupsd never sets 0. */
static gboolean
uid_is_users(const char *auth_uid, const char *user)
{
	guint64 uid = 0;
	struct passwd *pw;

	if (auth_uid == NULL || !g_ascii_string_to_unsigned(auth_uid, 10, 1, G_MAXUINT32 - 1, &uid, NULL))
		return FALSE;
	errno = 0;
	pw = getpwnam(user);
	return pw != NULL && pw->pw_uid != 0 && (guint64) pw->pw_uid == uid;
}

/* What cupsd proved about USER; the rule and why: DESIGN-NOTES.md 16.
 * AUTH_USERNAME alone proves nothing: with auth-info-required=username,
 * password it is whatever the client typed, and cupsd itself switches a
 * queue to that setting after an AUTH_REQUIRED exit (job.c). */
static bk_proof
judge(const p2m_account *acct, const char *user)
{
	const char *name = g_getenv("AUTH_USERNAME");
	const char *pw = g_getenv("AUTH_PASSWORD");

	if (acct->auth == P2M_AUTH_LOGIN && name != NULL && strcmp(name, user) == 0 && pw != NULL && *pw != '\0')
		return BK_PROOF_PAIR;
	if (uid_is_users(g_getenv("AUTH_UID"), user))
		return BK_PROOF_PEER;
	return BK_PROOF_NONE;
}

bk_cred *
bk_cred_identify(const p2m_account *acct, const p2m_job *job, GError **error)
{
	g_autoptr(bk_cred) c = g_new0(bk_cred, 1);

	if (acct->send_as == P2M_SEND_AS_ACCOUNT) {
		c->sender = g_strdup(acct->from);
		c->username = g_strdup(acct->username != NULL ? acct->username : acct->from);
		if (acct->auth == P2M_AUTH_XOAUTH2)
			c->refine = acct->oauth_flow == P2M_FLOW_CLIENT_CREDENTIALS ? P2M_REFINE_APP_ONLY : P2M_REFINE_XOAUTH2;
		return g_steal_pointer(&c);
	}
	/* Always the job's user: AUTH_USERNAME may be a name the client typed. */
	c->user = p2m_job_clean_line(job->user, 255);
	c->proof = judge(acct, job->user);
	if ((c->sender = p2m_account_user_address(acct, c->user, error)) == NULL) {
		g_prefix_error(error, "send_as = job-user: ");
		return NULL;
	}
	c->username = g_strdup(c->sender);
	c->refine = P2M_REFINE_PER_USER;
	return g_steal_pointer(&c);
}

/* cupsd's AUTH_PASSWORD, taken once: the environment copy is wiped so no
 * later code (or a core file) finds it there. */
static p2m_secret *
take_env_password(void)
{
	char *pw = getenv("AUTH_PASSWORD");
	p2m_secret *s = NULL;

	if (pw == NULL)
		return NULL;
	if (*pw != '\0')
		s = p2m_secret_new(pw, strlen(pw));
	p2m_wipe(pw, strlen(pw));
	unsetenv("AUTH_PASSWORD");
	return s;
}

static gboolean
fetch_token(bk_cred *c, const p2m_config *cfg, const p2m_account *acct, const char *user, GError **error)
{
	g_autoptr(p2m_token) t = p2m_token_get(cfg, acct, user, error);

	if (t == NULL)
		return FALSE;
	c->bearer = g_steal_pointer(&t->access_token);
	return TRUE;
}

gboolean
bk_cred_fetch(bk_cred *c, const p2m_config *cfg, const p2m_account *acct, GError **error)
{
	if (c->user == NULL) {
		if (acct->auth == P2M_AUTH_XOAUTH2)
			return fetch_token(c, cfg, acct, NULL, error);
		c->password = p2m_secret_read_file(acct->password_file, error);
		return c->password != NULL;
	}
	/* The password leaves the environment whatever happens to it. */
	c->password = take_env_password();
	if (c->proof == BK_PROOF_PAIR && c->password != NULL)
		return TRUE;
	g_clear_pointer(&c->password, p2m_secret_free);
	if (c->proof != BK_PROOF_PEER) {
		g_set_error(error, P2M_ERROR, P2M_E_UNPROVEN,
		            "send_as = job-user: cupsd did not authenticate the job's user '%s' (no AUTH_UID of "
		            "that user, no AUTH_USERNAME/AUTH_PASSWORD pair for it), so no stored credential is "
		            "used; the queue needs printer-op-policy=print2mail and jobs printed through cupsd's "
		            "local socket; nothing was sent", c->user);
		return FALSE;
	}
	if (acct->auth == P2M_AUTH_XOAUTH2) {
		c->refine |= P2M_REFINE_XOAUTH2;
		return fetch_token(c, cfg, acct, c->user, error);
	}
	c->password = p2m_vault_get(cfg->state_dir, cfg->key_file, c->user, error);
	return c->password != NULL;
}
