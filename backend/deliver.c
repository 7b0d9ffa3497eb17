/* SPDX-License-Identifier: Apache-2.0 */
/* deliver.c - one job from the config to the server's last word: every step before and after SMTP, as the backend runs it. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "attempt.h"
#include "credential.h"
#include "deliver.h"
#include "p2m-addr.h"
#include "p2m-config.h"
#include "p2m-error.h"
#include "p2m-graph.h"
#include "p2m-net.h"
#include "p2m-pace.h"
#include "p2m-fail.h"
#include "p2m-secret.h"
#include "p2m-smtp.h"
#include "p2m-token.h"
#include "privs.h"
#include "source.h"

typedef struct {
	p2m_job                *job;
	const p2m_catalog      *cat;
	volatile sig_atomic_t  *cancel;
	bk_outcome             *out;
	p2m_config             *cfg;
	const p2m_account      *acct;
	bk_cred                *cred;
	bk_source              *src;
	GBytes                 *ca;
	p2m_pace               *pace;
	int                     rejected_fd;  /* the identity's .rejected file, opened as root; -1 */
	gboolean                forced;       /* this run's token was refreshed because Graph rejected the last */
	bk_attempt             *attempt;
	gboolean                already_sent;  /* an earlier attempt had it accepted: send nothing */
	guint                   retry_limit;   /* cupsd's JobRetryLimit, 0 = none */
} run;

/* Record ERR (consumed) as the outcome, with the rule it carries. */
static gboolean
fail(run *r, GError *err)
{
	bk_outcome_fail(r->out, err);
	g_error_free(err);
	return FALSE;
}

static gboolean
find_account(run *r)
{
	GError *err = NULL;

	if ((r->cfg = p2m_config_load(NULL, &err)) == NULL)
		return fail(r, err);
	if (!p2m_job_prepare(r->job, r->cat, p2m_job_input_is_message(r->job), &err))
		return fail(r, err);
	r->out->account = g_strdup(r->job->uri->account);
	if ((r->acct = p2m_config_find(r->cfg, r->job->uri->account)) == NULL) {
		err = g_error_new(P2M_ERROR, P2M_E_ACCOUNT, "no [account %s] in %s", r->job->uri->account, r->cfg->path);
		return fail(r, err);
	}
	return TRUE;
}

static gboolean
open_message(run *r)
{
	GError *err = NULL;

	if ((r->cred = bk_cred_identify(r->acct, r->job, &err)) == NULL)
		return fail(r, err);
	r->out->sender = g_strdup(r->cred->sender);
	r->out->per_user = (r->cred->refine & P2M_REFINE_PER_USER) != 0;
	if ((r->src = bk_source_open(r->job, r->cred->sender, r->acct->from_name, &err)) == NULL)
		return fail(r, err);
	r->out->recipients = g_strdupv((char **) bk_source_recipients(r->src));
	return TRUE;
}

/* Refused before any connection: the message says which address and which setting. */
static gboolean
check_recipients(run *r)
{
	const char *const *rcpt = bk_source_recipients(r->src);
	const char *const *allowed = (const char *const *) r->acct->allowed_recipients;
	const char *domain = p2m_addr_domain(r->cred->sender);
	const char *denied = p2m_addr_first_denied(rcpt, allowed, domain);
	g_autofree char *list = NULL;
	GError *err;

	if (denied == NULL)
		return TRUE;
	if (allowed != NULL && allowed[0] != NULL) {
		list = g_strjoinv(", ", (char **) allowed);
		err = g_error_new(P2M_ERROR, P2M_E_RECIPIENT_DENIED,
		                  "%s is not allowed by allowed_recipients = %s of [account %s] in %s",
		                  denied, list, r->acct->name, r->cfg->path);
	} else {
		err = g_error_new(P2M_ERROR, P2M_E_RECIPIENT_DENIED,
		                  "%s is not allowed: [account %s] in %s sets no allowed_recipients, so only "
		                  "addresses at %s are allowed", denied, r->acct->name, r->cfg->path,
		                  domain != NULL ? domain : "the sender's domain");
	}
	return fail(r, err);
}

/* max_message_size, checked before connecting when the size is known:
 * exactly for a message composed from a file, at least the file's size for
 * one passed through (bare LFs only grow).  A size shown only while sending
 * (a pipe) is counted by p2m_smtp_send, which also knows the server's SIZE. */
static gboolean
check_size(run *r)
{
	guint64 limit = r->acct->max_message_size;
	guint64 exact = bk_source_message_size(r->src);
	guint64 least = p2m_job_input_is_message(r->job) ? bk_source_document_size(r->src) : 0;

	if (limit == 0 || (exact <= limit && least <= limit))
		return TRUE;
	return fail(r, g_error_new(P2M_ERROR, P2M_E_TOO_LARGE,
	                           "the message is %s%" G_GUINT64_FORMAT " bytes, over max_message_size = %"
	                           G_GUINT64_FORMAT " of [account %s] in %s; nothing was sent",
	                           exact != 0 ? "" : "at least ", exact != 0 ? exact : least, limit,
	                           r->acct->name, r->cfg->path));
}

/* A job over the mailbox's limits says what it waits for, and until when. */
static void
on_pace_wait(void *ctx, gboolean busy_connections, gint64 until_ms)
{
	run *r = ctx;
	g_autofree char *n = g_strdup_printf("%u", busy_connections ? r->acct->max_connections
	                                                            : r->acct->max_messages_per_minute);
	g_autoptr(GDateTime) t = g_date_time_new_from_unix_local(until_ms / 1000);
	g_autofree char *until = t != NULL ? g_date_time_format(t, "%H:%M:%S") : g_strdup("?");
	const char *conn_args[] = { n, r->cred->username, NULL };
	const char *rate_args[] = { r->cred->username, n, until, NULL };

	if (busy_connections)
		bk_report_info(r->cat, "Waiting for one of the %s connections allowed for %s (max_connections)",
		               conn_args);
	else
		bk_report_info(r->cat, "%s has sent its %s messages for this minute; waiting until %s "
		               "(max_messages_per_minute)", rate_args);
}

/* A connection slot and a place in the minute's budget of the mailbox. */
static gboolean
take_pace(run *r)
{
	p2m_pace_request req = {
		.state_dir = r->cfg->state_dir, .mailbox = r->cred->username,
		.max_connections = r->acct->max_connections, .max_per_minute = r->acct->max_messages_per_minute,
		.max_wait_s = BK_DELIVER_SLOT_WAIT_S, .cancel = r->cancel, .on_wait = on_pace_wait, .ctx = r,
	};
	GError *err = NULL;

	if ((r->pace = p2m_pace_acquire(&req, &err)) == NULL)
		return fail(r, err);
	if (p2m_pace_warning(r->pace) != NULL)
		bk_report_line("INFO", p2m_pace_warning(r->pace));
	return TRUE;
}

/* A Graph 401 or an SMTP AUTH refusal of a token before it expires (revoked,
 * password reset, CAE, or a permission granted since it was issued: a token
 * carries the roles of its issue time) happens after the drop to lp, which
 * cannot write the root-only token store.  The lp side records the refused
 * token's SHA-256 (never the token) through a descriptor root opened; the
 * next attempt's root phase, finding the cached token's digest there, forces
 * a refresh (DESIGN-NOTES 23): after the fix and cupsenable, the job goes out
 * with a new token instead of meeting the same refusal until the old one
 * expires. */
static char *
rejected_path(run *r)
{
	g_autofree char *id = p2m_token_identity(r->acct, r->cred->user);
	g_autofree char *cache = p2m_token_cache_path(r->cfg->state_dir, id);

	return g_strconcat(cache, ".rejected", NULL);
}

static gboolean
uses_token(run *r)
{
	return r->acct->auth == P2M_AUTH_XOAUTH2;
}

/* The digest recorded by the last attempt, or NULL: at most one line of hex. */
static char *
read_rejected(const char *path)
{
	char buf[2 * 32 + 2];
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return NULL;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n != 64)
		return NULL;
	buf[n] = '\0';
	return g_strdup(buf);
}

/* After bk_cred_fetch, so that a job user is proven before any refresh. */
static gboolean
renew_rejected(run *r)
{
	g_autofree char *path = NULL;
	g_autofree char *seen = NULL;
	g_autofree char *digest = NULL;
	g_autoptr(p2m_token) fresh = NULL;
	GError *err = NULL;

	if (!uses_token(r) || r->cred->bearer == NULL)
		return TRUE;
	path = rejected_path(r);
	if ((seen = read_rejected(path)) == NULL)
		return TRUE;
	digest = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *) r->cred->bearer->data,
	                                     r->cred->bearer->len);
	if (strcmp(digest, seen) != 0)
		return TRUE;  /* renewed meanwhile (the helper) */
	if ((fresh = p2m_token_refresh(r->cfg, r->acct, r->cred->user, TRUE, &err)) == NULL) {
		p2m_fail_refine(err, r->cred->refine);
		return fail(r, err);
	}
	p2m_secret_free(r->cred->bearer);
	r->cred->bearer = g_steal_pointer(&fresh->access_token);
	r->forced = TRUE;
	return TRUE;
}

/* Opened while root; the file stays root's, 0600.  No record on failure:
 * the token then expires as before. */
static void
open_rejected(run *r)
{
	g_autofree char *path = NULL;
	struct stat st;

	if (!uses_token(r))
		return;
	path = rejected_path(r);
	r->rejected_fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (r->rejected_fd >= 0 && (fstat(r->rejected_fd, &st) != 0 || !S_ISREG(st.st_mode))) {
		close(r->rejected_fd);
		r->rejected_fd = -1;
	}
}

/* DIGEST NULL: the token was accepted, forget any earlier rejection. */
static void
record_rejected(run *r, const char *digest)
{
	gsize len = digest != NULL ? strlen(digest) : 0;

	if (r->rejected_fd < 0 || ftruncate(r->rejected_fd, 0) != 0 || len == 0)
		return;
	/* A short write leaves a digest that matches nothing: harmless, and
	 * truncating again would fail the same way. */
	if (pwrite(r->rejected_fd, digest, len, 0) != (ssize_t) len)
		return;
}

/* One live attempt per job; a job cupsd restarts after the server accepted
 * it (cupsd stopped before it heard so) is reported, not sent again. */
static gboolean
begin_attempt(run *r)
{
	const p2m_job *j = r->job;
	g_autofree char *fp = g_strjoin("|", j->user, j->title, j->mailto ? j->mailto : "", j->mailcc ? j->mailcc : "",
	                                j->mail_subject ? j->mail_subject : "", j->uuid ? j->uuid : "", NULL);
	char *sent = NULL;
	GError *err = NULL;

	g_strdelimit(fp, "\r\n", ' ');
	r->retry_limit = bk_attempt_retry_limit();
	r->attempt = bk_attempt_begin(r->cfg->state_dir, j->printer, j->id, fp, r->acct->timeout_s + 10,
	                              r->cancel, &sent, &err);
	if (r->attempt == NULL)
		return fail(r, err);
	if (sent != NULL) {
		r->already_sent = TRUE;
		r->out->err = P2M_OK;
		r->out->final_reply = sent;
	}
	return TRUE;
}

/* Everything that needs root: secrets, tokens, the CA file, the pacing state. */
static gboolean
prepare_as_root(run *r)
{
	GError *err = NULL;

	if (!begin_attempt(r))
		return FALSE;
	if (r->already_sent)
		return TRUE;
	if (!bk_cred_fetch(r->cred, r->cfg, r->acct, &err)) {
		p2m_fail_refine(err, r->cred->refine);
		return fail(r, err);
	}
	if (!renew_rejected(r))
		return FALSE;
	if (r->acct->auth == P2M_AUTH_XOAUTH2 && r->cred->user == NULL &&
	    (r->out->warning = p2m_token_warning(r->cfg, r->acct)) != NULL)
		(void) p2m_token_credential_expiry(r->cfg, r->acct, &r->out->warning_until, NULL);
	if (!p2m_smtp_read_ca(r->acct, &r->ca, &err))
		return fail(r, err);
	if (!take_pace(r))
		return FALSE;
	open_rejected(r);
	if (!bk_privs_drop(&err))
		return fail(r, err);
	return TRUE;
}

static void
announce(run *r)
{
	g_autofree char *to = g_strjoinv(", ", r->out->recipients);
	g_autofree char *server = g_strdup_printf("%s:%u", r->acct->server, (unsigned) r->acct->port);
	const char *args[] = { to, server, NULL };

	bk_report_info(r->cat, "Sending to %s through %s", args);
	bk_report_line("STATE", "+connecting-to-device");
}

/* A failed transfer: the error carries the reply's rule; what the backend
 * knows about the sign-in picks its variant (p2m_rules_refine). */
static void
classify(run *r, const p2m_smtp_result *res, GError *err)
{
	r->out->stage = p2m_smtp_stage_name(res->stage);
	r->out->reply = g_strdup(res->reply);
	/* The server was reached: say what happened, not "cannot be reached". */
	if (res->stage == P2M_SMTP_STAGE_AUTH && res->reply != NULL && r->cred->bearer != NULL) {
		g_autofree char *digest = g_compute_checksum_for_data(G_CHECKSUM_SHA256,
		                                                      (const guchar *) r->cred->bearer->data,
		                                                      r->cred->bearer->len);
		record_rejected(r, digest);
	}
	if (err->domain == P2M_ERROR && err->code == P2M_E_CONNECT && res->fault == P2M_NET_LOST)
		p2m_fail_attach(err, p2m_rules_find("conn-lost"));
	else if (err->domain == P2M_ERROR && err->code == P2M_E_CONNECT && res->fault == P2M_NET_STALLED)
		p2m_fail_attach(err, p2m_rules_find("stalled"));
	p2m_fail_refine(err, r->cred->refine);
	fail(r, err);
}

static void
classify_graph(run *r, const p2m_graph_result *res, GError *err)
{
	const p2m_rule *rule = NULL;
	const p2m_rule *audience = p2m_rules_find("graph-audience");
	g_autofree char *digest = NULL;

	r->out->stage = res->step;
	r->out->reply = g_strdup(res->reply);
	if (res->maybe_sent || (err->domain == P2M_ERROR && err->code == P2M_E_GRAPH))
		rule = p2m_rules_classify_graph(res->http, res->code, res->message, res->draft_path, res->maybe_sent);
	/* A token for another audience gets no better by renewing it. */
	if (res->http == 401 && rule != audience && r->cred->bearer != NULL) {
		digest = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *) r->cred->bearer->data,
		                                     r->cred->bearer->len);
		record_rejected(r, digest);
		/* Rejected again straight after a forced refresh: final, not a loop. */
		if (r->forced)
			rule = p2m_rules_find("graph-token-refused");
	}
	if (rule != NULL)
		p2m_fail_attach(err, rule);
	p2m_fail_refine(err, r->cred->refine);
	fail(r, err);
}

/* transport = graph: the same composed message, through Graph's sendMail
 * (or a draft and an upload session when it is large). */
static void
send_graph(run *r)
{
	p2m_graph_request req = { 0 };
	p2m_graph_result res = { 0 };
	GError *err = NULL;
	g_autofree char *to = g_strjoinv(", ", r->out->recipients);
	const char *args[] = { to, r->acct->graph_endpoint, NULL };

	req.account = r->acct;
	req.ca_pem = r->ca;
	req.bearer = r->cred->bearer;
	req.mailbox = r->cred->sender;
	req.read = bk_source_read;
	req.read_ctx = r->src;
	req.cancel = r->cancel;
	req.max_size = r->acct->max_message_size;
	bk_report_info(r->cat, "Sending to %s through %s", args);
	bk_report_line("STATE", "+connecting-to-device");
	if (p2m_graph_send(&req, &res, &err)) {
		r->out->err = P2M_OK;
		r->out->final_reply = g_strdup_printf("202 Accepted by Microsoft Graph %s", res.draft_path ? "send" : "sendMail");
		record_rejected(r, NULL);
	} else {
		classify_graph(r, &res, err);
	}
	r->out->bytes = res.bytes;
	bk_report_line("STATE", "-connecting-to-device");
	p2m_graph_result_clear(&res);
}

static void
send_message(run *r)
{
	p2m_smtp_request req = { 0 };
	p2m_smtp_result res = { 0 };
	GError *err = NULL;

	req.account = r->acct;
	req.ca_pem = r->ca;
	req.username = r->cred->username;
	req.password = r->cred->password;
	req.bearer = r->cred->bearer;
	req.mail_from = r->cred->sender;
	req.rcpt = bk_source_recipients(r->src);
	req.read = bk_source_read;
	req.read_ctx = r->src;
	req.cancel = r->cancel;
	req.size = bk_source_message_size(r->src);
	req.max_size = r->acct->max_message_size;
	req.timeout_s = r->acct->timeout_s;
	announce(r);
	if (p2m_smtp_send(&req, &res, &err)) {
		bk_attempt_sent(r->attempt, res.final_reply);
		r->out->err = P2M_OK;
		r->out->final_reply = g_strdup(res.final_reply);
		record_rejected(r, NULL);
	} else {
		classify(r, &res, err);
	}
	r->out->bytes = res.bytes;
	/* Counted against the minute once any of the message went out. */
	p2m_pace_done(g_steal_pointer(&r->pace), r->out->err == P2M_OK || res.bytes > 0);
	bk_report_line("STATE", "-connecting-to-device");
	p2m_smtp_result_clear(&res);
}

void
bk_deliver(p2m_job *job, const p2m_catalog *cat, volatile sig_atomic_t *cancel, bk_outcome *out)
{
	run r = { .job = job, .cat = cat, .cancel = cancel, .out = out, .rejected_fd = -1 };

	if (find_account(&r) && open_message(&r) && check_recipients(&r) && check_size(&r) &&
	    prepare_as_root(&r) && !r.already_sent) {
		if (r.acct->transport == P2M_TRANSPORT_GRAPH)
			send_graph(&r);
		else
			send_message(&r);
	}
	/* cupsd gives a job up once it has retried it JobRetryLimit times: the
	 * retry that would do so stops the queue instead, and the job waits. */
	if (r.attempt != NULL && bk_outcome_class(out) == P2M_CLASS_TRANSIENT && out->err != P2M_E_CANCELED) {
		guint failed = bk_attempt_failed(r.attempt);

		if (r.retry_limit > 0 && failed > r.retry_limit)
			out->retries = failed;
	}
	/* Secrets go first: nothing after this needs them. */
	bk_cred_free(r.cred);
	p2m_pace_done(r.pace, FALSE);
	bk_attempt_end(r.attempt);
	bk_source_free(r.src);
	if (r.ca != NULL)
		g_bytes_unref(r.ca);
	if (r.rejected_fd >= 0)
		close(r.rejected_fd);
	p2m_config_free(r.cfg);
}
