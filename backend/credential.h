/* SPDX-License-Identifier: Apache-2.0 */
/* credential.h - who the backend signs in as and with what: the account's secret, or the job user's password or token. */
#ifndef BK_CREDENTIAL_H
#define BK_CREDENTIAL_H

#include <glib.h>

#include "p2m-config.h"
#include "p2m-job.h"
#include "p2m-rules.h"
#include "p2m-secret.h"

/* What cupsd proved about the job's user (argv[2]); DESIGN-NOTES.md 16. */
typedef enum {
	BK_PROOF_NONE = 0, /* a name the client merely claimed: selects nothing */
	BK_PROOF_PAIR,     /* AUTH_USERNAME = the job's user with a non-empty AUTH_PASSWORD, auth = login:
	                     * that pair signs in, for this job only */
	BK_PROOF_PEER,     /* AUTH_UID is the uid of the job's user: cupsd checked the peer
	                     * credentials of its local socket (PeerCred), so a stored credential may be used */
} bk_proof;

typedef struct {
	char       *user;      /* the job user we send as (send_as = job-user), else NULL */
	char       *sender;    /* envelope and header From */
	char       *username;  /* SMTP login */
	p2m_secret *password;  /* AUTH LOGIN, or NULL */
	p2m_secret *bearer;    /* XOAUTH2 access token, or NULL */
	unsigned    refine;    /* P2M_REFINE_* flags for p2m_rules_refine() */
	bk_proof    proof;     /* with user: what cupsd proved about that user */
} bk_cred;

/* Who sends: the account's from, or with send_as = job-user the address
 * user_address makes of the job's user (argv[2]), and what cupsd proved about
 * that user ($AUTH_USERNAME/$AUTH_PASSWORD, $AUTH_UID).  P2M_E_ADDRESS when
 * that is no valid address. */
bk_cred *bk_cred_identify(const p2m_account *acct, const p2m_job *job, GError **error);

/*
 * Fetch the secret: password_file (auth = login) or an access token
 * (auth = xoauth2, p2m_token_get) for the account.  For a job user, by
 * c->proof: PAIR, the password cupsd supplied in $AUTH_PASSWORD (this job
 * only); PEER, the user's stored password (auth = login, p2m_vault_get) or
 * token (auth = xoauth2); NONE, nothing: P2M_E_UNPROVEN.  $AUTH_PASSWORD is
 * wiped from the environment in every case.  Errors as those functions
 * (P2M_E_SECRET, P2M_E_SECRET_MODE, P2M_E_TOKEN with its rule attached,
 * P2M_E_TOKEN_UNAVAILABLE, P2M_E_STORE, P2M_E_NO_CREDENTIAL) and
 * P2M_E_UNPROVEN.
 */
gboolean bk_cred_fetch(bk_cred *c, const p2m_config *cfg, const p2m_account *acct, GError **error);

void bk_cred_free(bk_cred *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(bk_cred, bk_cred_free)

#endif /* BK_CREDENTIAL_H */
