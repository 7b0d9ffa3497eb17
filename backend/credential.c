/* credential.c - who the backend signs in as and with what: the account's secret, or the job user's password or token. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "credential.h"
#include "p2m-error.h"
#include "p2m-token.h"
#include "p2m-vault.h"

void
p2m_cred_free(p2m_cred *c)
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

p2m_cred *
p2m_cred_identify(const p2m_account *acct, const p2m_job *job, GError **error)
{
	g_autoptr(p2m_cred) c = g_new0(p2m_cred, 1);
	const char *auth_user = g_getenv("AUTH_USERNAME");

	if (acct->send_as == P2M_SEND_AS_ACCOUNT) {
		c->sender = g_strdup(acct->from);
		c->username = g_strdup(acct->username != NULL ? acct->username : acct->from);
		if (acct->auth == P2M_AUTH_XOAUTH2)
			c->refine = acct->oauth_flow == P2M_FLOW_CLIENT_CREDENTIALS ? P2M_REFINE_APP_ONLY : P2M_REFINE_XOAUTH2;
		return g_steal_pointer(&c);
	}
	/* The user who gave cupsd a password is the one it belongs to. */
	c->user = p2m_job_clean_line(auth_user != NULL && *auth_user != '\0' ? auth_user : job->user, 255);
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
fetch_token(p2m_cred *c, const p2m_config *cfg, const p2m_account *acct, const char *user, GError **error)
{
	g_autoptr(p2m_token) t = p2m_token_get(cfg, acct, user, error);

	if (t == NULL)
		return FALSE;
	c->bearer = g_steal_pointer(&t->access_token);
	return TRUE;
}

gboolean
p2m_cred_fetch(p2m_cred *c, const p2m_config *cfg, const p2m_account *acct, GError **error)
{
	if (c->user == NULL) {
		if (acct->auth == P2M_AUTH_XOAUTH2)
			return fetch_token(c, cfg, acct, NULL, error);
		c->password = p2m_secret_read_file(acct->password_file, error);
		return c->password != NULL;
	}
	/* A password from cupsd (AuthInfoRequired) can only sign in with AUTH
	 * LOGIN: an xoauth2 account uses the user's token whatever CUPS holds,
	 * but the password still leaves the environment. */
	c->password = take_env_password();
	if (acct->auth == P2M_AUTH_XOAUTH2) {
		g_clear_pointer(&c->password, p2m_secret_free);
		c->refine |= P2M_REFINE_XOAUTH2;
		return fetch_token(c, cfg, acct, c->user, error);
	}
	if (c->password != NULL)
		return TRUE;
	c->password = p2m_vault_get(cfg->state_dir, cfg->key_file, c->user, error);
	return c->password != NULL;
}
