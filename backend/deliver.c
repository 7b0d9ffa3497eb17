/* deliver.c - one job from the config to the server's last word: every step before and after SMTP, as the backend runs it. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "attempt.h"
#include "credential.h"
#include "deliver.h"
#include "p2m-addr.h"
#include "p2m-config.h"
#include "p2m-error.h"
#include "p2m-net.h"
#include "p2m-pace.h"
#include "p2m-smtp.h"
#include "p2m-token.h"
#include "privs.h"
#include "source.h"

typedef struct {
	p2m_job                *job;
	const p2m_catalog      *cat;
	volatile sig_atomic_t  *cancel;
	p2m_outcome            *out;
	p2m_config             *cfg;
	const p2m_account      *acct;
	p2m_cred               *cred;
	p2m_source             *src;
	GBytes                 *ca;
	p2m_pace               *pace;
	p2m_attempt            *attempt;
	gboolean                already_sent;  /* an earlier attempt had it accepted: send nothing */
} run;

/* Record ERR (consumed) as the outcome; RULE NULL = the rule of its code. */
static gboolean
fail(run *r, GError *err, const p2m_rule *rule)
{
	p2m_outcome_fail(r->out, (p2m_error) err->code, rule, err->message);
	g_error_free(err);
	return FALSE;
}

static gboolean
find_account(run *r)
{
	GError *err = NULL;

	if ((r->cfg = p2m_config_load(NULL, &err)) == NULL)
		return fail(r, err, NULL);
	if (!p2m_job_prepare(r->job, r->cat, p2m_job_input_is_message(r->job), &err))
		return fail(r, err, NULL);
	r->out->account = g_strdup(r->job->uri->account);
	if ((r->acct = p2m_config_find(r->cfg, r->job->uri->account)) == NULL) {
		err = g_error_new(P2M_ERROR, P2M_E_ACCOUNT, "no [account %s] in %s", r->job->uri->account, r->cfg->path);
		return fail(r, err, NULL);
	}
	return TRUE;
}

static gboolean
open_message(run *r)
{
	GError *err = NULL;

	if ((r->cred = p2m_cred_identify(r->acct, r->job, &err)) == NULL)
		return fail(r, err, NULL);
	r->out->sender = g_strdup(r->cred->sender);
	if ((r->src = p2m_source_open(r->job, r->cred->sender, r->acct->from_name, &err)) == NULL)
		return fail(r, err, NULL);
	r->out->recipients = g_strdupv((char **) p2m_source_recipients(r->src));
	return TRUE;
}

/* Refused before any connection: the message says which address and which setting. */
static gboolean
check_recipients(run *r)
{
	const char *const *rcpt = p2m_source_recipients(r->src);
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
	return fail(r, err, NULL);
}

/* max_message_size, checked before connecting when the size is known:
 * exactly for a message composed from a file, at least the file's size for
 * one passed through (bare LFs only grow).  A size shown only while sending
 * (a pipe) is counted by p2m_smtp_send, which also knows the server's SIZE. */
static gboolean
check_size(run *r)
{
	guint64 limit = r->acct->max_message_size;
	guint64 exact = p2m_source_message_size(r->src);
	guint64 least = p2m_job_input_is_message(r->job) ? p2m_source_document_size(r->src) : 0;

	if (limit == 0 || (exact <= limit && least <= limit))
		return TRUE;
	return fail(r, g_error_new(P2M_ERROR, P2M_E_TOO_LARGE,
	                           "the message is %s%" G_GUINT64_FORMAT " bytes, over max_message_size = %"
	                           G_GUINT64_FORMAT " of [account %s] in %s; nothing was sent",
	                           exact != 0 ? "" : "at least ", exact != 0 ? exact : least, limit,
	                           r->acct->name, r->cfg->path), NULL);
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
		p2m_report_info(r->cat, "Waiting for one of the %s connections allowed for %s (max_connections)",
		                conn_args);
	else
		p2m_report_info(r->cat, "%s has sent its %s messages for this minute; waiting until %s "
		                "(max_messages_per_minute)", rate_args);
}

/* A connection slot and a place in the minute's budget of the mailbox. */
static gboolean
take_pace(run *r)
{
	p2m_pace_request req = {
		.state_dir = r->cfg->state_dir, .mailbox = r->cred->username,
		.max_connections = r->acct->max_connections, .max_per_minute = r->acct->max_messages_per_minute,
		.max_wait_s = P2M_DELIVER_SLOT_WAIT_S, .cancel = r->cancel, .on_wait = on_pace_wait, .ctx = r,
	};
	GError *err = NULL;

	if ((r->pace = p2m_pace_acquire(&req, &err)) == NULL)
		return fail(r, err, NULL);
	if (p2m_pace_warning(r->pace) != NULL)
		p2m_report_line("INFO", p2m_pace_warning(r->pace));
	return TRUE;
}

/* One live attempt per job; a job cupsd restarts after the server accepted
 * it (cupsd stopped before it heard so) is reported, not sent again. */
static gboolean
begin_attempt(run *r)
{
	const p2m_job *j = r->job;
	g_autofree char *fp = g_strjoin("|", j->user, j->title, j->mailto ? j->mailto : "", j->mailcc ? j->mailcc : "",
	                                j->mail_subject ? j->mail_subject : "", NULL);
	char *sent = NULL;
	GError *err = NULL;

	g_strdelimit(fp, "\r\n", ' ');
	r->attempt = p2m_attempt_begin(r->cfg->state_dir, j->printer, j->id, fp, r->acct->timeout_s + 10,
	                               r->cancel, &sent, &err);
	if (r->attempt == NULL)
		return fail(r, err, NULL);
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
	const p2m_rule *rule = NULL;
	GError *err = NULL;

	if (!begin_attempt(r))
		return FALSE;
	if (r->already_sent)
		return TRUE;

	if (!p2m_cred_fetch(r->cred, r->cfg, r->acct, &rule, &err))
		return fail(r, err, rule != NULL ? p2m_rules_refine(rule, r->cred->refine) : NULL);
	if (r->acct->auth == P2M_AUTH_XOAUTH2 && r->cred->user == NULL)
		r->out->warning = p2m_token_warning(r->cfg, r->acct);
	if (!p2m_smtp_read_ca(r->acct, &r->ca, &err))
		return fail(r, err, NULL);
	if (!take_pace(r))
		return FALSE;
	if (!p2m_privs_drop(&err))
		return fail(r, err, NULL);
	return TRUE;
}

static void
announce(run *r)
{
	g_autofree char *to = g_strjoinv(", ", r->out->recipients);
	g_autofree char *server = g_strdup_printf("%s:%u", r->acct->server, (unsigned) r->acct->port);
	const char *args[] = { to, server, NULL };

	p2m_report_info(r->cat, "Sending to %s through %s", args);
	p2m_report_line("STATE", "+connecting-to-device");
}

/* What a failed transfer means, from the server's words when it had any. */
static void
classify(run *r, const p2m_smtp_result *res, GError *err)
{
	const p2m_rule *rule = NULL;

	r->out->stage = p2m_smtp_stage_name(res->stage);
	r->out->reply = g_strdup(res->reply);
	if (err->code == P2M_E_SMTP && res->reply != NULL)
		rule = p2m_rules_refine(p2m_rules_classify_smtp(res->reply, strlen(res->reply)), r->cred->refine);
	/* The server was reached: say what happened, not "cannot be reached". */
	else if (err->code == P2M_E_CONNECT && res->fault == P2M_NET_LOST)
		rule = p2m_rules_find("conn-lost");
	else if (err->code == P2M_E_CONNECT && res->fault == P2M_NET_STALLED)
		rule = p2m_rules_find("stalled");
	fail(r, err, rule);
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
	req.rcpt = p2m_source_recipients(r->src);
	req.read = p2m_source_read;
	req.read_ctx = r->src;
	req.cancel = r->cancel;
	req.size = p2m_source_message_size(r->src);
	req.max_size = r->acct->max_message_size;
	req.timeout_s = r->acct->timeout_s;
	announce(r);
	if (p2m_smtp_send(&req, &res, &err)) {
		p2m_attempt_sent(r->attempt, res.final_reply);
		r->out->err = P2M_OK;
		r->out->final_reply = g_strdup(res.final_reply);
	} else {
		classify(r, &res, err);
	}
	r->out->bytes = res.bytes;
	/* Counted against the minute once any of the message went out. */
	p2m_pace_done(g_steal_pointer(&r->pace), r->out->err == P2M_OK || res.bytes > 0);
	p2m_report_line("STATE", "-connecting-to-device");
	p2m_smtp_result_clear(&res);
}

void
p2m_deliver(p2m_job *job, const p2m_catalog *cat, volatile sig_atomic_t *cancel, p2m_outcome *out)
{
	run r = { .job = job, .cat = cat, .cancel = cancel, .out = out };

	if (find_account(&r) && open_message(&r) && check_recipients(&r) && check_size(&r) &&
	    prepare_as_root(&r) && !r.already_sent)
		send_message(&r);
	/* Secrets go first: nothing after this needs them. */
	p2m_cred_free(r.cred);
	p2m_pace_done(r.pace, FALSE);
	p2m_attempt_end(r.attempt);
	p2m_source_free(r.src);
	if (r.ca != NULL)
		g_bytes_unref(r.ca);
	p2m_config_free(r.cfg);
}
