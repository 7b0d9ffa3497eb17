/* SPDX-License-Identifier: Apache-2.0 */
/* test-rules.c - the classifier table: every documented reply, the table's invariants, the translations. */
#include "config.h"

#include <glib.h>
#include <string.h>

#include "p2m-error.h"
#include "p2m-fail.h"
#include "p2m-i18n.h"
#include "p2m-rules.h"

/* The catalogues test-rules checks, as cupsd would set LANG. */
static const char *const langs[] = { "fr_FR.UTF-8", "ro_RO.UTF-8", "zh_CN.UTF-8", "ru_RU.UTF-8", NULL };

/* The limits explained in lib/p2m-rules.c ("Matching"). */
#define ID_MAX      19
#define SUMMARY_MAX 80
#define MESSAGE_MAX 330

static char *
data_path(const char *name)
{
	const char *top = g_getenv("top_srcdir");

	return g_build_filename(top != NULL ? top : ".", "tests", "data", name, NULL);
}

static char *
locale_dir(void)
{
	const char *top = g_getenv("top_builddir");

	return g_build_filename(top != NULL ? top : ".", "po", "locale", NULL);
}

/* Every reply of m365-replies.md 1b gives the expected rule and class. */
static void
test_replies_tsv(void)
{
	g_autofree char *path = data_path("replies.tsv");
	g_autofree char *contents = NULL;
	g_auto(GStrv) lines = NULL;
	g_autoptr(GError) error = NULL;
	guint i, checked = 0;

	g_assert_true(g_file_get_contents(path, &contents, NULL, &error));
	g_assert_no_error(error);
	lines = g_strsplit(contents, "\n", -1);
	for (i = 0; lines[i] != NULL; i++) {
		g_auto(GStrv) f = NULL;
		g_auto(GStrv) parts = NULL;
		g_autofree char *reply = NULL;
		const p2m_rule *r;

		if (lines[i][0] == '#' || lines[i][0] == '\0')
			continue;
		f = g_strsplit(lines[i], "\t", 3);
		g_assert_cmpuint(g_strv_length(f), ==, 3);
		/* "\n" in a reply stands for a line break of a multi-line reply */
		parts = g_strsplit(f[2], "\\n", -1);
		reply = g_strjoinv("\r\n", parts);
		r = p2m_rules_classify_smtp(reply, strlen(reply));
		g_assert_nonnull(r);
		if (strcmp(r->id, f[0]) != 0 || strcmp(p2m_class_name(r->cls), f[1]) != 0)
			g_error("replies.tsv line %u: got %s (%s), want %s (%s): %s", i + 1, r->id,
				p2m_class_name(r->cls), f[0], f[1], f[2]);
		checked++;
	}
	g_assert_cmpuint(checked, >=, 90);
}

static gboolean
valid_id(const char *id)
{
	const char *p;

	for (p = id; *p != '\0'; p++)
		if (!g_ascii_islower(*p) && !g_ascii_isdigit(*p) && *p != '-')
			return FALSE;
	return p != id && strlen(id) <= ID_MAX;
}

static void
test_table_invariants(void)
{
	g_autoptr(GHashTable) ids = g_hash_table_new(g_str_hash, g_str_equal);
	size_t i;

	g_assert_cmpuint(p2m_rules_count(), >=, 80);
	g_assert_null(p2m_rules_get(p2m_rules_count()));
	for (i = 0; i < p2m_rules_count(); i++) {
		const p2m_rule *r = p2m_rules_get(i);
		g_autofree char *kw_e = g_strdup_printf("com.print2mail-%s-error", r->id);
		g_autofree char *kw_w = g_strdup_printf("com.print2mail-%s-warning", r->id);
		const char *v[3] = { r->user_id, r->oauth_id, r->app_id };
		int k;

		if (!valid_id(r->id))
			g_error("rule id '%s' is not [a-z0-9-]{1,%d}", r->id, ID_MAX);
		g_assert_false(g_hash_table_contains(ids, r->id));
		g_hash_table_add(ids, (gpointer) r->id);
		g_assert_true(p2m_rules_find(r->id) == r);
		if (strcmp(r->keyword, kw_e) != 0 && strcmp(r->keyword, kw_w) != 0)
			g_error("rule %s: keyword %s", r->id, r->keyword);
		/* warnings do nothing to the job; every error does something */
		g_assert_cmpint(g_str_has_suffix(r->keyword, "-warning"), ==, r->cls == P2M_CLASS_NONE);
		/* a PPD option keyword is at most 40 bytes */
		g_assert_cmpuint(strlen(r->keyword), <=, 40);
		g_assert_cmpuint(strlen(r->summary), >, 0);
		if (strlen(r->summary) > SUMMARY_MAX || strpbrk(r->summary, ":\"<") != NULL)
			g_error("rule %s: summary too long or with ':', '\"' or '<'", r->id);
		g_assert_true(g_str_has_prefix(r->url, "https://"));
		/* the URL gets a PPD line of its own: at most 255 bytes */
		g_assert_cmpuint(strlen(r->url), <, 255);
		g_assert_null(strpbrk(r->url, " \"<>"));
		g_assert_cmpuint(strlen(r->message), >, 20);
		if (strlen(r->message) > MESSAGE_MAX)
			g_error("rule %s: message of %zu bytes", r->id, strlen(r->message));
		g_assert_true(r->source == P2M_RULE_SMTP || r->source == P2M_RULE_TOKEN || r->source == P2M_RULE_LOCAL ||
		              r->source == P2M_RULE_GRAPH);
		g_assert_cmpint(r->cls, <, P2M_CLASS__COUNT);
		if (r->flags & P2M_RULE_F_BASIC)
			if (strstr(r->message, "auth = xoauth2") == NULL)
				g_error("basic-auth rule %s does not name auth = xoauth2", r->id);
		/* variants exist and the user variant really is per-user */
		for (k = 0; k < 3; k++) {
			const p2m_rule *var = v[k] != NULL ? p2m_rules_find(v[k]) : NULL;

			if (v[k] == NULL)
				continue;
			g_assert_nonnull(var);
			g_assert_true(var->flags & P2M_RULE_F_VARIANT);
			if (k == 0)
				g_assert_cmpint(var->cls, ==, P2M_CLASS_USER);
		}
	}
	g_assert_null(p2m_rules_find("no-such-rule"));
	g_assert_null(p2m_rules_find(NULL));
}

static const char *
msg(const char *id)
{
	const p2m_rule *r = p2m_rules_find(id);

	g_assert_nonnull(r);
	return r->message;
}

/* The seed articles' three fixes, named when their refusal comes. */
static void
test_seed_fixes(void)
{
	const char *sd = "535 5.7.139 Authentication unsuccessful, user is locked by your organization's "
			 "security defaults policy. Contact your administrator.";
	const p2m_rule *r = p2m_rules_classify_smtp(sd, strlen(sd));

	g_assert_cmpstr(r->id, ==, "security-defaults");
	g_assert_nonnull(strstr(r->message, "Microsoft Entra ID > Properties > Manage security defaults"));
	g_assert_nonnull(strstr(msg("auth-off-mailbox"), "Authenticated SMTP"));
	g_assert_nonnull(strstr(msg("auth-off-mailbox"), "Set-CASMailbox -Identity <mailbox> -SmtpClientAuthenticationDisabled $false"));
	g_assert_nonnull(strstr(msg("auth-off-tenant"), "Set-TransportConfig -SmtpClientAuthenticationDisabled $false"));
	g_assert_nonnull(strstr(msg("auth-failed"), "Users > Active users > Multi-factor authentication"));
	g_assert_nonnull(strstr(msg("oauth-app-refused"), "New-ServicePrincipal"));
	g_assert_nonnull(strstr(msg("oauth-app-refused"), "Add-MailboxPermission"));
	g_assert_nonnull(strstr(msg("oauth-refused"), "https://outlook.office.com/SMTP.Send"));
	/* every basic-auth refusal names the lasting fix */
	g_assert_nonnull(strstr(msg("bad-password"), "auth = xoauth2"));
	g_assert_nonnull(strstr(msg("basic-retired"), "auth = xoauth2"));
	/* SMTP AUTH off blocks XOAUTH2 too: enable it, then xoauth2 lasts */
	g_assert_nonnull(strstr(msg("auth-off-tenant"), "XOAUTH2 needs it too; auth = xoauth2"));
	g_assert_nonnull(strstr(msg("auth-off-mailbox"), "XOAUTH2 needs it too; auth = xoauth2"));
	/* recipient refusals say how to correct the held job */
	g_assert_nonnull(strstr(msg("rcpt-unknown"), "lp -i {queue}-{job} -o mailto=ADDRESS -H resume"));
	g_assert_nonnull(strstr(msg("recipient-denied"), "lp -i {queue}-{job} -o mailto=ADDRESS -H resume"));
}

static void
test_refine(void)
{
	const char *r573 = "535 5.7.3 Authentication unsuccessful [SN2PR00CA0018.namprd00.prod.outlook.com]";
	const p2m_rule *r = p2m_rules_classify_smtp(r573, strlen(r573));

	g_assert_cmpstr(r->id, ==, "auth-failed");
	g_assert_cmpint(r->cls, ==, P2M_CLASS_ACCOUNT);
	g_assert_cmpstr(p2m_rules_refine(r, 0)->id, ==, "auth-failed");
	g_assert_cmpstr(p2m_rules_for_user(r)->id, ==, "user-auth-failed");
	g_assert_cmpint(p2m_rules_for_user(r)->cls, ==, P2M_CLASS_USER);
	g_assert_cmpstr(p2m_rules_refine(r, P2M_REFINE_XOAUTH2)->id, ==, "oauth-refused");
	g_assert_cmpstr(p2m_rules_refine(r, P2M_REFINE_XOAUTH2 | P2M_REFINE_APP_ONLY)->id, ==, "oauth-app-refused");
	g_assert_cmpstr(p2m_rules_refine(r, P2M_REFINE_XOAUTH2 | P2M_REFINE_PER_USER)->id, ==, "user-token-refused");
	/* an app-only token is the account's, never a job user's */
	g_assert_cmpstr(p2m_rules_refine(r, P2M_REFINE_XOAUTH2 | P2M_REFINE_APP_ONLY | P2M_REFINE_PER_USER)->id, ==,
			"oauth-app-refused");
	g_assert_cmpstr(p2m_rules_for_user(p2m_rules_find("bad-password"))->id, ==, "user-bad-password");
	g_assert_cmpstr(p2m_rules_for_user(p2m_rules_find("account-locked"))->id, ==, "user-locked");
	g_assert_cmpstr(p2m_rules_for_user(p2m_rules_find("aad-grant-invalid"))->id, ==, "user-signin-expired");
	/* tenant-wide refusals stay account-wide whoever signed in */
	g_assert_cmpstr(p2m_rules_for_user(p2m_rules_find("auth-off-tenant"))->id, ==, "auth-off-tenant");
	g_assert_null(p2m_rules_refine(NULL, P2M_REFINE_PER_USER));
}

static void
test_token(void)
{
	static const struct { const char *error; long code; int http; const char *id; } cases[] = {
		{ "invalid_client", 7000215, 401, "aad-secret-invalid" },
		{ "invalid_client", 7000222, 401, "aad-secret-expired" },
		{ "unauthorized_client", 700016, 400, "aad-app-not-found" },
		{ "invalid_grant", 65001, 400, "aad-no-consent" },
		{ "invalid_request", 500011, 400, "aad-no-consent" },
		{ "invalid_grant", 700082, 400, "aad-inactive" },
		{ "invalid_grant", 70043, 400, "aad-grant-invalid" },
		{ "invalid_grant", 0, 400, "aad-grant-invalid" },
		{ "interaction_required", 50076, 400, "aad-mfa" },
		{ "invalid_grant", 53003, 400, "aad-ca-blocked" },
		{ "invalid_grant", 530035, 400, "aad-ca-blocked" },
		{ "invalid_request", 90002, 400, "aad-tenant" },
		{ "invalid_request", 9001023, 400, "aad-tenant" },
		{ "invalid_grant", 50053, 400, "aad-locked" },
		{ "invalid_client", 700027, 401, "aad-bad-cert" },
		{ "invalid_scope", 70011, 400, "aad-bad-scope" },
		{ "invalid_scope", 0, 400, "aad-bad-scope" },
		{ "invalid_grant", 50126, 400, "aad-bad-password" },
		{ "invalid_grant", 50057, 400, "aad-user-unknown" },
		{ "authorization_declined", 0, 400, "aad-login-declined" },
		{ "expired_token", 70019, 400, "aad-login-declined" },
		{ "authorization_pending", 0, 400, "aad-pending" },
		{ "temporarily_unavailable", 0, 503, "aad-unavailable" },
		{ NULL, 0, 502, "aad-unavailable" },
		{ NULL, 0, 429, "aad-unavailable" },
		{ NULL, 0, 0, "token-unavailable" },
		{ "invalid_request", 0, 400, "aad-refused" },
		{ "something_new", 99999999, 400, "aad-refused" },
	};
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(cases); i++) {
		const p2m_rule *r = p2m_rules_classify_token(cases[i].error, cases[i].code ? &cases[i].code : NULL,
							     cases[i].code ? 1 : 0, cases[i].http);

		if (strcmp(r->id, cases[i].id) != 0)
			g_error("token %s/%ld/%d: got %s, want %s", cases[i].error, cases[i].code, cases[i].http,
				r->id, cases[i].id);
	}
	/* issue 13: codes told apart from their neighbours, with the texts of public reports */
	{
		static const struct { const char *error; long codes[2]; const char *desc; const char *id; } more[] = {
			/* Azure/login#180, AzureAD/microsoft-authentication-library-for-java#984 */
			{ "invalid_client", { 700024, 0 }, "AADSTS700024: Client assertion is not within its valid time range. "
			  "Current time: 2025-08-29T05:47:32.1501147Z, assertion valid from 1970-01-01T00:00:00.0000000Z", "aad-clock" },
			{ "invalid_client", { 700024, 0 }, NULL, "aad-clock" },
			/* AzureAD/azure-activedirectory-library-for-java#46 */
			{ "invalid_client", { 70002, 50012 }, "AADSTS70002: Error validating credentials. AADSTS50012: Client "
			  "assertion is not within its valid time range.", "aad-clock-skew" },
			{ "invalid_client", { 50012, 0 }, "AADSTS50012: Invalid client secret provided.", "aad-bad-cert" },
			{ "invalid_client", { 50012, 0 }, NULL, "aad-bad-cert" },
			/* isaacrlevin/presencelight#935, Worklytics/psoxy#74 */
			{ "unauthorized_client", { 7000112, 0 }, "AADSTS7000112: Application 'f8119f58-4523-44c1-ab72-b2e0c815bd6a'"
			  "(Presence Light) is disabled.", "aad-app-disabled" },
			/* O365/python-o365#1119, OfficeDev/O365-ASPNETMVC-Start#42 */
			{ "invalid_request", { 50020, 0 }, "AADSTS50020: User account 'x@outlook.com' from identity provider "
			  "'live.com' does not exist in tenant 'Contoso'", "aad-wrong-account" },
			{ "invalid_grant", { 50034, 0 }, "AADSTS50034: The user account does not exist in the directory.",
			  "aad-wrong-account" },
			/* MicrosoftDocs/azure-docs#43780, jasonjoh/node-tutorial#23 */
			{ "invalid_request", { 900144, 0 }, "AADSTS900144: The request body must contain the following "
			  "parameter: 'grant_type'.", "aad-request-altered" },
			{ "invalid_request", { 90014, 0 }, "AADSTS90014: The request body must contain the following "
			  "parameter: 'client_id'.", "aad-request-altered" },
		};

		for (i = 0; i < G_N_ELEMENTS(more); i++) {
			size_t n = more[i].codes[1] != 0 ? 2 : 1;
			const p2m_rule *r = p2m_rules_classify_token_desc(more[i].error, more[i].codes, n, 400, more[i].desc);

			if (strcmp(r->id, more[i].id) != 0)
				g_error("token %ld: got %s, want %s", more[i].codes[0], r->id, more[i].id);
			g_assert_cmpint(r->cls, ==, P2M_CLASS_ACCOUNT);
		}
		g_assert_nonnull(strstr(msg("aad-clock"), "timedatectl"));
		g_assert_nonnull(strstr(msg("aad-app-disabled"), "Enabled for users to sign-in"));
		g_assert_nonnull(strstr(msg("aad-wrong-account"), "tenant"));
		g_assert_nonnull(strstr(msg("aad-request-altered"), "oauth_authority"));
		g_assert_null(strstr(msg("aad-request-altered"), "client_id and the app"));
	}
	g_assert_cmpint(p2m_rules_find("aad-unavailable")->cls, ==, P2M_CLASS_TRANSIENT);
	g_assert_cmpint(p2m_rules_find("aad-secret-expired")->cls, ==, P2M_CLASS_ACCOUNT);
	g_assert_cmpint(p2m_rules_for_user(p2m_rules_find("aad-mfa"))->cls, ==, P2M_CLASS_USER);
}

/* A permanent basic code (5xx) is never retried because of a fallback:
 * only rules for Microsoft's documented "later" refusals are transient. */
static void
test_permanent(void)
{
	static const char *const documented_later[] = {
		"sts-unreachable", "cet-throttled", "submission-quota", "ext-rcpt-limit", "hve-token-expiring", NULL
	};
	static const char *const probes[] = {
		"550 5.4.1 Recipient address rejected: Access denied", "554 5.4.4 Unable to route",
		"552 5.3.1 Mail system full", "550 4.4.7 Message delayed", "554 4.3.0 whatever", "550 Requested action not taken",
		"535 5.7.8 Error: authentication failed: authentication failure", NULL
	};
	size_t i;

	for (i = 0; i < p2m_rules_count(); i++) {
		const p2m_rule *r = p2m_rules_get(i);

		if (r->source != P2M_RULE_SMTP || r->cls != P2M_CLASS_TRANSIENT || r->match_code == NULL)
			continue;
		/* a transient rule keyed on a 5 code must be a documented "later" */
		if ((r->match_code[0] == '5' || strstr(r->match_code, "|5") != NULL) &&
		    !g_strv_contains(documented_later, r->id))
			g_error("rule %s retries a permanent code %s", r->id, r->match_code);
	}
	for (i = 0; probes[i] != NULL; i++) {
		const p2m_rule *r = p2m_rules_classify_smtp(probes[i], strlen(probes[i]));

		if (r->cls == P2M_CLASS_TRANSIENT)
			g_error("'%s' is retried (rule %s)", probes[i], r->id);
	}
	g_assert_cmpint(p2m_rules_classify_smtp("451 4.4.7 later", 15)->cls, ==, P2M_CLASS_TRANSIENT);
	g_assert_cmpstr(p2m_rules_classify_smtp("432 4.3.2 Concurrent connections limit exceeded.", 48)->id, ==,
			"thread-limit");
	g_assert_cmpstr(p2m_rules_for_user(p2m_rules_find("auth-invalid"))->id, ==, "user-bad-password");
}

static void
test_local(void)
{
	int e;

	/* Every code has its own rule, named by the error table, and the class
	 * is the rule's: there is no second table to drift from it. */
	for (e = 1; e < P2M_E__COUNT; e++) {
		const char *id = p2m_error_rule_id((p2m_error) e);
		const p2m_rule *r = p2m_rules_for_error((p2m_error) e);

		if (e == P2M_E_CANCELED) {
			g_assert_null(id);
			continue;
		}
		if (id == NULL || p2m_rules_find(id) == NULL)
			g_error("%s: no rule (id %s)", p2m_error_name((p2m_error) e), id != NULL ? id : "NULL");
		g_assert_true(r == p2m_rules_find(id));
		/* only real bugs (and running out of memory) get the "internal" rule */
		if (strcmp(r->id, "internal") == 0 && e != P2M_E_INTERNAL && e != P2M_E_NOMEM)
			g_error("%s falls back to the internal rule", p2m_error_name((p2m_error) e));
		if (r->source == P2M_RULE_LOCAL && e != P2M_E_NOMEM)
			g_assert_cmpstr(r->id, ==, p2m_error_name((p2m_error) e));
		g_assert_cmpint(r->cls, >, P2M_CLASS_NONE);
		g_assert_cmpint(r->cls, <, P2M_CLASS__COUNT);
		g_assert_true(g_str_has_suffix(r->keyword, "-error"));
	}
	g_assert_null(p2m_error_rule_id(P2M_OK));
	g_assert_cmpstr(p2m_rules_for_error(P2M_E__COUNT + 2)->id, ==, "internal");
	g_assert_cmpstr(p2m_rules_for_error(P2M_E_TLS_VERIFY)->id, ==, "tls-verify");
	g_assert_nonnull(strstr(p2m_rules_for_error(P2M_E_TLS_VERIFY)->message, "ca_file"));
	g_assert_cmpint(p2m_rules_for_error(P2M_E_TLS_VERIFY)->cls, ==, P2M_CLASS_ACCOUNT);
	g_assert_cmpint(p2m_rules_for_error(P2M_E_CONNECT)->cls, ==, P2M_CLASS_TRANSIENT);
	g_assert_cmpint(p2m_rules_for_error(P2M_E_RECIPIENT_DENIED)->cls, ==, P2M_CLASS_MESSAGE);
	g_assert_cmpint(p2m_rules_for_error(P2M_E_NO_CREDENTIAL)->cls, ==, P2M_CLASS_USER);
	g_assert_cmpstr(p2m_rules_for_error(P2M_E_SMTP)->id, ==, "smtp-unknown");
	g_assert_cmpstr(p2m_rules_for_error(P2M_E_TOKEN)->id, ==, "aad-refused");
	/* privileges that cannot be dropped stop the queue, never a retry loop */
	g_assert_cmpstr(p2m_rules_for_error(P2M_E_PERMISSION)->id, ==, "permission");
	g_assert_cmpint(p2m_rules_for_error(P2M_E_PERMISSION)->cls, ==, P2M_CLASS_ACCOUNT);
	g_assert_nonnull(strstr(p2m_rules_for_error(P2M_E_PERMISSION)->message, "user lp"));
	g_assert_cmpint(p2m_rules_for_error(P2M_E_USAGE)->cls, ==, P2M_CLASS_ACCOUNT);
	g_assert_cmpstr(p2m_rules_find("secret-expiring")->keyword, ==, "com.print2mail-secret-expiring-warning");
}

/* The rule travels with the GError from where it is known (p2m-fail.h). */
static void
test_fail(void)
{
	const char *reply = "535 5.7.139 Authentication unsuccessful, the user credentials were incorrect.";
	g_autoptr(GError) plain = NULL;
	g_autoptr(GError) classified = NULL;
	g_autoptr(GError) copy = NULL;
	g_autoptr(GError) other = g_error_new_literal(G_FILE_ERROR, G_FILE_ERROR_NOENT, "x");

	g_set_error_literal(&plain, P2M_ERROR, P2M_E_PERMISSION, "cannot become 'lp'");
	g_assert_cmpstr(p2m_fail_rule(plain)->id, ==, "permission");
	g_assert_cmpint(p2m_fail_class(plain), ==, P2M_CLASS_ACCOUNT);
	p2m_fail_set(&classified, P2M_E_SMTP, p2m_rules_classify_smtp(reply, strlen(reply)), "refused: %s", reply);
	g_assert_error(classified, P2M_ERROR, P2M_E_SMTP);
	g_assert_cmpstr(p2m_fail_rule(classified)->id, ==, "bad-password");
	copy = g_error_copy(classified);
	g_assert_cmpstr(p2m_fail_rule(copy)->id, ==, "bad-password");
	p2m_fail_refine(copy, P2M_REFINE_PER_USER);
	g_assert_cmpstr(p2m_fail_rule(copy)->id, ==, "user-bad-password");
	g_assert_cmpint(p2m_fail_class(copy), ==, P2M_CLASS_USER);
	g_assert_cmpstr(p2m_fail_rule(classified)->id, ==, "bad-password");
	/* a code's own rule has no variants to pick */
	p2m_fail_refine(plain, P2M_REFINE_PER_USER);
	g_assert_cmpstr(p2m_fail_rule(plain)->id, ==, "permission");
	g_assert_cmpstr(p2m_fail_rule(other)->id, ==, "internal");
	g_assert_null(p2m_fail_rule(NULL));
	g_assert_cmpint(p2m_fail_class(NULL), ==, P2M_CLASS_NONE);
	p2m_fail_set(NULL, P2M_E_SMTP, NULL, "ignored");
}

static void
test_format(void)
{
	g_autofree char *a = p2m_rules_format(msg("rcpt-unknown"), "scan2mail", "42");
	g_autofree char *b = p2m_rules_format("{queue}-{job} {job}{queue} {other}", NULL, NULL);

	g_assert_true(g_str_has_suffix(a, "lp -i scan2mail-42 -o mailto=ADDRESS -H resume"));
	g_assert_null(strchr(a, '{'));
	g_assert_cmpstr(b, ==, "QUEUE-JOB JOBQUEUE {other}");
	g_assert_null(p2m_rules_format(NULL, "q", "1"));
	/* CUPS job ids run past INT_MAX in ten digits: the id is copied, never converted */
	{
		g_autofree char *big = p2m_rules_format("cancel {queue}-{job}", "q", "4294967297");

		g_assert_cmpstr(big, ==, "cancel q-4294967297");
	}
}

static guint
count(const char *s, const char *needle)
{
	guint n = 0;

	while ((s = strstr(s, needle)) != NULL) {
		n++;
		s += strlen(needle);
	}
	return n;
}

/* What a translation must keep verbatim: placeholders, config keys and
 * commands, printf conversions. */
static void
check_kept(const char *id, const char *lang, const char *en, const char *tr)
{
	static const char *const keep[] = {
		"{job}", "{queue}", "{printer}", "{user}", "%s", "%d", "auth = xoauth2", "Set-CASMailbox",
		"Set-TransportConfig -SmtpClientAuthenticationDisabled $false", "New-ServicePrincipal",
		"Add-MailboxPermission", "Add-RecipientPermission", "Set-AuthenticationPolicy",
		"print2mailctl login", "print2mailctl login ACCOUNT", "lp -i {queue}-{job}", "cancel {queue}-{job}", "cupsenable {queue}",
		"password_file", "client_secret_file", "https://", NULL
	};
	int k;

	for (k = 0; keep[k] != NULL; k++)
		if (count(en, keep[k]) != count(tr, keep[k]))
			g_error("%s [%s]: '%s' not kept: %s", id, lang, keep[k], tr);
}

static void
check_translation(const char *id, const char *lang, const char *en, const char *tr, size_t max)
{
	if (strcmp(en, tr) == 0)
		g_error("%s: no %s translation of \"%s\"", id, lang, en);
	if (!g_utf8_validate(tr, -1, NULL))
		g_error("%s [%s]: not UTF-8", id, lang);
	if (strlen(tr) > max)
		g_error("%s [%s]: %zu bytes (max %zu): %s", id, lang, strlen(tr), max, tr);
	check_kept(id, lang, en, tr);
}

static void
test_translations(void)
{
	g_autofree char *dir = locale_dir();
	size_t nextra, i, j;
	const char *const *extra = p2m_rules_extra_msgids(&nextra);
	int l, e;

	g_assert_cmpuint(nextra, >=, 8);
	for (l = 0; langs[l] != NULL; l++) {
		p2m_catalog *cat = p2m_i18n_load(langs[l], dir);

		if (cat == NULL)
			g_error("no catalogue for %s in %s (make builds po/locale)", langs[l], dir);
		for (i = 0; i < p2m_rules_count(); i++) {
			const p2m_rule *r = p2m_rules_get(i);
			const char *s = p2m_i18n_get(cat, r->summary);

			check_translation(r->id, langs[l], r->summary, s, SUMMARY_MAX);
			/* a PPD translation string ends at ':' and may not hold '"' */
			if (strpbrk(s, ":\"<") != NULL)
				g_error("%s [%s]: summary with ':', '\"' or '<': %s", r->id, langs[l], s);
			check_translation(r->id, langs[l], r->message, p2m_i18n_get(cat, r->message), MESSAGE_MAX);
		}
		for (e = 1; e < P2M_E__COUNT; e++)
			check_translation(p2m_error_name((p2m_error) e), langs[l], p2m_error_message((p2m_error) e),
					  p2m_i18n_get(cat, p2m_error_message((p2m_error) e)), 1024);
		for (j = 0; j < nextra; j++)
			check_translation("extra", langs[l], extra[j], p2m_i18n_get(cat, extra[j]), 1024);
		p2m_i18n_free(cat);
	}
}

/* Graph answers (reference/graph.md 5) and the fix each gets. */
static void
test_graph(void)
{
	static const struct {
		int http; const char *code; const char *message; int draft; int maybe; const char *want; p2m_class cls;
	} cases[] = {
		{ 401, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired.", 0, 0, "graph-token-expired", P2M_CLASS_TRANSIENT },
		{ 401, "InvalidAuthenticationToken", "Access token has expired or is not yet valid.", 0, 0, "graph-token-expired", P2M_CLASS_TRANSIENT },
		{ 401, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience.", 0, 0, "graph-audience", P2M_CLASS_ACCOUNT },
		{ 401, "InvalidAuthenticationToken", "Access token is empty.", 0, 0, "graph-token-refused", P2M_CLASS_ACCOUNT },
		{ 403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.", 0, 0, "graph-denied", P2M_CLASS_ACCOUNT },
		{ 403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.", 1, 0, "graph-readwrite", P2M_CLASS_ACCOUNT },
		{ 403, "ErrorAccessDenied", "Access to OData is disabled: [RAOP] : Blocked by tenant configured AppOnly AccessPolicy settings.", 0, 0, "graph-policy", P2M_CLASS_ACCOUNT },
		{ 403, "ErrorAccessDenied", "Access to OData is disabled.", 1, 0, "graph-policy", P2M_CLASS_ACCOUNT },
		{ 403, "ErrorSendAsDenied", "The user account which was used to submit this request does not have the right to send mail on behalf of the specified sending account., Cannot submit message.", 0, 0, "graph-send-as", P2M_CLASS_ACCOUNT },
		{ 404, "ErrorInvalidUser", "The requested user 'x@contoso.com' is invalid.", 0, 0, "graph-no-user", P2M_CLASS_ACCOUNT },
		{ 404, "ResourceNotFound", "Resource could not be discovered.", 0, 0, "graph-no-user", P2M_CLASS_ACCOUNT },
		{ 404, "MailboxNotEnabledForRESTAPI", "The mailbox is either inactive, soft-deleted, or is hosted on-premise.", 0, 0, "graph-no-mailbox", P2M_CLASS_ACCOUNT },
		{ 404, "MailboxNotSupportedForRESTAPI", "REST API is not yet supported for this mailbox.", 0, 0, "graph-no-mailbox", P2M_CLASS_ACCOUNT },
		{ 400, "ErrorMessageSizeExceeded", "The message exceeds the maximum supported size.", 1, 0, "graph-too-big", P2M_CLASS_MESSAGE },
		{ 413, "BadRequest", "The maximum request length supported is 4MB.", 1, 0, "graph-too-big", P2M_CLASS_MESSAGE },
		{ 400, "ErrorQuotaExceeded", "Mailbox has exceeded maximum mailbox size.", 0, 0, "graph-mailbox-full", P2M_CLASS_ACCOUNT },
		{ 400, "ErrorInvalidRecipients", "At least one recipient isn't valid.", 0, 0, "graph-recipients", P2M_CLASS_MESSAGE },
		{ 429, "ApplicationThrottled", "Application is over its MailboxConcurrency limit.", 0, 0, "graph-throttled", P2M_CLASS_TRANSIENT },
		{ 503, "ResourceUnhealthy", "MdbReplicationProtectionUtilizationMonitor is unhealthy.", 0, 0, "graph-busy", P2M_CLASS_TRANSIENT },
		{ 504, NULL, NULL, 0, 1, "graph-maybe-sent", P2M_CLASS_MESSAGE },
		{ 0, NULL, NULL, 0, 1, "graph-maybe-sent", P2M_CLASS_MESSAGE },
		{ 400, "ErrorMimeContentInvalidBase64String", "Invalid base64 string for MIME content.", 0, 0, "graph-refused", P2M_CLASS_MESSAGE },
		{ 418, NULL, NULL, 0, 0, "graph-refused", P2M_CLASS_MESSAGE },
	};
	gsize i;

	for (i = 0; i < G_N_ELEMENTS(cases); i++) {
		const p2m_rule *r = p2m_rules_classify_graph(cases[i].http, cases[i].code, cases[i].message,
		                                             cases[i].draft, cases[i].maybe);

		if (strcmp(r->id, cases[i].want) != 0)
			g_error("case %" G_GSIZE_FORMAT ": %s, expected %s", i, r->id, cases[i].want);
		g_assert_cmpint(r->cls, ==, cases[i].cls);
	}
	/* the fixes the issue asks for are named */
	g_assert_nonnull(strstr(msg("graph-denied"), "New-ManagementRoleAssignment"));
	g_assert_nonnull(strstr(msg("graph-denied"), "-CustomResourceScope"));
	g_assert_nonnull(strstr(msg("graph-denied"), "Test-ServicePrincipalAuthorization"));
	g_assert_nonnull(strstr(msg("graph-readwrite"), "Mail.ReadWrite"));
	g_assert_nonnull(strstr(msg("graph-token-refused"), "Mail.Send"));
	/* SMTP AUTH off: Graph sends without it */
	g_assert_nonnull(strstr(msg("auth-off-tenant"), "transport = graph"));
	g_assert_nonnull(strstr(msg("auth-off-mailbox"), "transport = graph"));
	/* a per-user token refusal holds that user's job */
	g_assert_cmpint(p2m_rules_refine(p2m_rules_find("graph-token-refused"), P2M_REFINE_PER_USER | P2M_REFINE_XOAUTH2)->cls,
	                ==, P2M_CLASS_USER);
	g_assert_cmpstr(p2m_rules_for_error(P2M_E_GRAPH)->id, ==, "graph-refused");
}

/* The seed fixes name what the admin finds on screen: the labels of
 * Microsoft's localized admin help (../shared/reference/ui-terms.md), and
 * never the wording of another setting or right. */
static void
test_ui_terms(void)
{
	static const struct {
		const char *lang;
		const char *manage, *enable, *smtp, *active, *mfa, *send_as;
		const char *wrong[4];
	} terms[] = {
		{ "fr_FR.UTF-8", "Gérer les paramètres de sécurité par défaut", "Activer les valeurs par défaut de la sécurité",
		  "Authenticated SMTP", "Utilisateurs actifs", "Authentification multifactorielle", "Envoyer en tant que",
		  { "SMTP authentifié", "au nom de", "de la part de", NULL } },
		{ "ro_RO.UTF-8", "Gestionați setările implicite de securitate", "Activați valorile implicite de securitate",
		  "SMTP autentificat", "Utilizatori activi", "Multi-Factor Authentication", "Trimitere ca",
		  { "în numele", NULL } },
		{ "zh_CN.UTF-8", "管理安全性默认设置", "启用安全性默认设置", "已验证的 SMTP", "活动用户", "多重身份验证", "发送方式",
		  { "活跃用户", "经过身份验证的 SMTP", "安全默认值", "代理发送" } },
		{ "ru_RU.UTF-8", "Управление параметрами безопасности по умолчанию",
		  "Включение параметров безопасности по умолчанию", "SMTP с проверкой подлинности", "Активные пользователи",
		  "Многофакторная проверка подлинности", "Отправить как", { "центре админ.", "от имени", NULL } },
	};
	static const char *const seeds[] = { "security-defaults", "auth-off-mailbox", "auth-off-tenant", "auth-failed",
					      "send-as-denied", NULL };
	g_autofree char *dir = locale_dir();
	size_t l, k, w;

	/* English first: the setting to set to No is "Enable security defaults" */
	g_assert_nonnull(strstr(msg("security-defaults"), "Manage security defaults set Enable security defaults to No"));
	for (l = 0; l < G_N_ELEMENTS(terms); l++) {
		p2m_catalog *cat = p2m_i18n_load(terms[l].lang, dir);
		const char *sd, *mb, *af, *sa;

		g_assert_nonnull(cat);
		sd = p2m_i18n_get(cat, msg("security-defaults"));
		mb = p2m_i18n_get(cat, msg("auth-off-mailbox"));
		af = p2m_i18n_get(cat, msg("auth-failed"));
		sa = p2m_i18n_get(cat, msg("send-as-denied"));
		if (strstr(sd, terms[l].manage) == NULL || strstr(sd, terms[l].enable) == NULL)
			g_error("%s security-defaults: not the glossary's labels: %s", terms[l].lang, sd);
		if (strstr(mb, terms[l].smtp) == NULL || strstr(mb, terms[l].active) == NULL)
			g_error("%s auth-off-mailbox: not the glossary's labels: %s", terms[l].lang, mb);
		if (strstr(af, terms[l].mfa) == NULL || strstr(af, terms[l].active) == NULL)
			g_error("%s auth-failed: not the glossary's labels: %s", terms[l].lang, af);
		if (strstr(sa, terms[l].send_as) == NULL)
			g_error("%s send-as-denied: not the Send As right: %s", terms[l].lang, sa);
		for (k = 0; seeds[k] != NULL; k++) {
			const char *t = p2m_i18n_get(cat, msg(seeds[k]));

			for (w = 0; w < G_N_ELEMENTS(terms[l].wrong) && terms[l].wrong[w] != NULL; w++)
				if (strstr(t, terms[l].wrong[w]) != NULL)
					g_error("%s %s: '%s' is not the UI's word: %s", terms[l].lang, seeds[k],
						terms[l].wrong[w], t);
		}
		p2m_i18n_free(cat);
	}
	/* the tenant fix enables SMTP AUTH for one mailbox, it does not "enable the mailbox" */
	{
		p2m_catalog *cat = p2m_i18n_load("ru_RU.UTF-8", dir);

		g_assert_nonnull(strstr(p2m_i18n_get(cat, msg("auth-off-tenant")), "SMTP AUTH только для этого ящика"));
		p2m_i18n_free(cat);
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/rules/replies-tsv", test_replies_tsv);
	g_test_add_func("/rules/table-invariants", test_table_invariants);
	g_test_add_func("/rules/seed-fixes", test_seed_fixes);
	g_test_add_func("/rules/refine", test_refine);
	g_test_add_func("/rules/token", test_token);
	g_test_add_func("/rules/local", test_local);
	g_test_add_func("/rules/permanent", test_permanent);
	g_test_add_func("/rules/fail", test_fail);
	g_test_add_func("/rules/format", test_format);
	g_test_add_func("/rules/translations", test_translations);
	g_test_add_func("/rules/graph", test_graph);
	g_test_add_func("/rules/ui-terms", test_ui_terms);
	return g_test_run();
}
