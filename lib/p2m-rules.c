/* SPDX-License-Identifier: Apache-2.0 */
/* p2m-rules.c - the classifier table: every documented Microsoft 365 / Entra refusal, its class and its fix. */
#include "config.h"

#include <glib.h>
#include <string.h>

#include "p2m-reply.h"
#include "p2m-rules.h"

/* xgettext --keyword=N_ collects the msgids; translation happens at run time
 * with p2m_i18n_get() in the job's language. */
#define N_(s) s

/*
 * Matching.  Rows are tried in order and the first match wins, so specific
 * rows come before the fallbacks.  A row matches when its code pattern
 * matches (or is NULL) and its text matches (or is NULL).
 *
 * SMTP code patterns, '|' between alternatives:
 *   "5.7.139"      exact enhanced code
 *   "4.7.500-699"  enhanced code with the detail in a range
 *   "5.7"          enhanced class and subject
 *   "53x"          basic code, x = any digit (only when the reply has one)
 *   "4"            class: the basic code's first digit, else the enhanced class
 * SMTP texts: '|'-separated substrings of the reply text without its
 * [HOST ...] suffix, compared case-insensitively.
 *
 * Token rows: match_code is a '|' list of AADSTS numbers (from
 * "error_codes"), match_text a '|' list of OAuth "error" values, equal
 * case-insensitively.
 *
 * Graph rows: match_code is a '|' list of HTTP statuses ("403", "4xx"
 * for a class), match_text a '|' list of error.code values (equal,
 * case-insensitively) or, written "~text", substrings of error.message
 * (case-insensitive); error.code decides first, the message text only
 * picks the fix (reference/graph.md 2).
 *
 * Placeholders in messages: {job} and {queue} (see p2m_rules_format()).
 * Limits checked by tests/unit/test-rules.c: ids of at most 19 characters,
 * because a PPD option keyword ("com.print2mail-ID-error" in *cupsIPPReason)
 * is at most 40 bytes or CUPS refuses the whole PPD; summaries <= 80 bytes
 * without ':' or '"' (PPD translation string); messages <= 330 bytes in
 * every language, because the backend adds the server reply and the URL and
 * cupsd keeps 1024 bytes of a message.
 */

#define KW_E(x) .id = x, .keyword = "com.print2mail-" x "-error"
#define KW_W(x) .id = x, .keyword = "com.print2mail-" x "-warning"

#define F_BASIC   P2M_RULE_F_BASIC
#define F_VARIANT P2M_RULE_F_VARIANT
#define F_GENERIC P2M_RULE_F_GENERIC

#define T_ P2M_CLASS_TRANSIENT
#define A_ P2M_CLASS_ACCOUNT
#define U_ P2M_CLASS_USER
#define M_ P2M_CLASS_MESSAGE

/* Documentation (m365-replies.md section 0); aka.ms links where Microsoft has them. */
#define U_AUTH_OFF "https://aka.ms/smtp_auth_disabled"
#define U_TLS      "https://aka.ms/smtp_auth_tls"
#define U_SUB      "https://learn.microsoft.com/en-us/exchange/clients-and-mobile-in-exchange-online/authenticated-client-smtp-submission"
#define U_PRN      "https://learn.microsoft.com/en-us/exchange/troubleshoot/email-delivery/fix-issues-with-printers-scanners-and-lob-applications-that-send-email-using-off"
#define U_NDRDIR   "https://learn.microsoft.com/en-us/exchange/troubleshoot/email-delivery/ndr/"
#define U_NDR      U_NDRDIR "non-delivery-reports-in-exchange-online"
#define U_N5757    U_NDRDIR "fix-error-code-5-7-57-in-exchange-online"
#define U_N5764    U_NDRDIR "fix-error-code-5-7-64-in-exchange-online"
#define U_NTA      U_NDRDIR "tenantattribution-ndr"
#define U_NQ       U_NDRDIR "fix-error-for-submission-quota-exceeded-in-exchange-online"
#define U_NAS      U_NDRDIR "fix-error-code-451-4-7-500-699-asxxx-in-exchange-online"
#define U_MFBP     "https://learn.microsoft.com/en-us/exchange/mail-flow-best-practices/"
#define U_N7XX     U_MFBP "non-delivery-reports-in-exchange-online/fix-error-code-5-7-700-through-5-7-750"
#define U_N518     U_MFBP "non-delivery-reports-in-exchange-online/fix-error-code-5-1-8-in-exchange-online"
#define U_CET      U_MFBP "continuous-error-throttling-smtp-auth-submissions"
#define U_SUBM     "https://learn.microsoft.com/en-us/exchange/troubleshoot/send-emails/smtp-submission-improvements"
#define U_OAUTH    "https://learn.microsoft.com/en-us/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth"
#define U_DS       "https://techcommunity.microsoft.com/blog/exchange/introducing-more-control-over-direct-send-in-exchange-online/4408790"
#define U_IDP      "https://learn.microsoft.com/en-us/entra/identity-platform/"
#define U_AAD      U_IDP "reference-error-codes"
#define U_DC       U_IDP "v2-oauth2-device-code"
#define U_CC       U_IDP "v2-oauth2-client-creds-grant-flow"
#define U_CERT     U_IDP "certificate-credentials"
#define U_RT       U_IDP "refresh-tokens"
#define U_GSEND    "https://learn.microsoft.com/en-us/graph/api/user-sendmail"
#define U_GRBAC    "https://learn.microsoft.com/en-us/exchange/permissions-exo/application-rbac"
#define U_GAAP     "https://learn.microsoft.com/en-us/graph/auth-limit-mailbox-access"
#define U_GLARGE   "https://learn.microsoft.com/en-us/graph/outlook-large-attachments"
#define U_GTHR     "https://learn.microsoft.com/en-us/graph/throttling-limits#outlook-service-limits"
#define U_GERR     "https://learn.microsoft.com/en-us/graph/errors"
#define U_GREST    "https://learn.microsoft.com/en-us/exchange/troubleshoot/user-and-shared-mailboxes/rest-api-is-not-yet-supported-for-this-mailbox-error"
#define U_GAUTH    "https://learn.microsoft.com/en-us/graph/auth-v2-service"

#define SMTP .source = P2M_RULE_SMTP
#define TOKEN .source = P2M_RULE_TOKEN
#define LOCAL .source = P2M_RULE_LOCAL
#define GRAPH .source = P2M_RULE_GRAPH

static const p2m_rule rules[] = {
	/* ---- 535 5.7.139: one code, many causes, told apart by the text ---- */
	{ KW_E("auth-off-tenant"), .cls = A_, SMTP, .match_code = "5.7.139", .match_text = "disabled for the tenant",
	  .summary = N_("SMTP AUTH is disabled for the tenant"),
	  .message = N_("SMTP AUTH is off for the whole tenant. Run Set-TransportConfig -SmtpClientAuthenticationDisabled $false, or enable only this mailbox with Set-CASMailbox. XOAUTH2 needs it too; auth = xoauth2 is the lasting fix. Or transport = graph: Graph needs no SMTP AUTH."),
	  .url = U_AUTH_OFF },
	{ KW_E("auth-off-mailbox"), .cls = A_, SMTP, .match_code = "5.7.139", .match_text = "disabled for the mailbox",
	  .summary = N_("SMTP AUTH is disabled for the mailbox"),
	  .message = N_("SMTP AUTH is off for this mailbox. Tick Authenticated SMTP in admin center > Active users > (user) > Mail > Manage email apps, or run Set-CASMailbox -Identity <mailbox> -SmtpClientAuthenticationDisabled $false. XOAUTH2 needs it too; auth = xoauth2 is the lasting fix. Or: transport = graph."),
	  .url = U_AUTH_OFF },
	{ KW_E("bad-password"), .cls = A_, SMTP, .match_code = "5.7.139", .match_text = "credentials were incorrect",
	  .flags = F_BASIC, .user_id = "user-bad-password",
	  .summary = N_("Username or password refused"),
	  .message = N_("Microsoft 365 refused the username or password. Put the right password in password_file; username is the full address. Repeated tries lock the account. Lasting fix: auth = xoauth2."),
	  .url = U_PRN },
	{ KW_E("account-locked"), .cls = A_, SMTP, .match_code = "5.7.139", .match_text = "account locked|account is locked",
	  .flags = F_BASIC, .user_id = "user-locked",
	  .summary = N_("Account locked after failed sign-ins"),
	  .message = N_("Microsoft 365 locked the account after failed sign-ins. Wait or have an admin unblock it (Entra sign-in logs, error 50053), then fix password_file. Lasting fix: auth = xoauth2."),
	  .url = U_PRN },
	{ KW_E("security-defaults"), .cls = A_, SMTP, .match_code = "5.7.139", .match_text = "security defaults",
	  .flags = F_BASIC,
	  .summary = N_("Security defaults block basic SMTP AUTH"),
	  .message = N_("Security defaults block basic SMTP AUTH. Lasting fix: auth = xoauth2. Otherwise in Microsoft Entra ID > Properties > Manage security defaults set Enable security defaults to No (this weakens security)."),
	  .url = U_PRN },
	{ KW_E("basic-auth-off"), .cls = A_, SMTP, .match_code = "5.7.139", .match_text = "basic authentication is disabled",
	  .flags = F_BASIC,
	  .summary = N_("Basic authentication is disabled"),
	  .message = N_("Basic authentication is off for this account. Set auth = xoauth2 (the lasting fix). Stopgap: Set-AuthenticationPolicy <policy> -AllowBasicAuthSmtp, then Set-User <user> -AuthenticationPolicy <policy>."),
	  .url = U_OAUTH },
	{ KW_E("ca-policy"), .cls = A_, SMTP, .match_code = "5.7.139", .match_text = "did not meet the criteria",
	  .flags = F_BASIC,
	  .summary = N_("Conditional Access refused the sign-in"),
	  .message = N_("The sign-in did not meet the criteria of a Conditional Access policy (location, app, MFA or device). Microsoft Entra admin center > Sign-in logs shows which policy and why. Lasting fix: auth = xoauth2."),
	  .url = U_PRN },
	{ KW_E("sts-unreachable"), .cls = T_, SMTP, .match_code = "5.7.139", .match_text = "sts service was unreachable|sts was unreachable",
	  .flags = F_BASIC,
	  .summary = N_("Federation server unreachable"),
	  .message = N_("Microsoft 365 could not reach your federation server (AD FS) to check the password; print2mail retries later. Make it reachable, or set auth = xoauth2."),
	  .url = U_PRN },
	{ KW_E("sts-no-https"), .cls = A_, SMTP, .match_code = "5.7.139", .match_text = "does not support https",
	  .flags = F_BASIC,
	  .summary = N_("Federation server lacks HTTPS"),
	  .message = N_("The URL of your federation server (AD FS) does not support HTTPS with TLS 1.2. Fix its TLS setup, or set auth = xoauth2 (the lasting fix)."),
	  .url = U_PRN },
	{ KW_E("account-issue"), .cls = A_, SMTP, .match_code = "5.7.139", .match_text = "account has an issue",
	  .flags = F_BASIC,
	  .summary = N_("Microsoft 365 reports an account issue"),
	  .message = N_("Microsoft 365 refused the sign-in: the account has an issue. An admin should look it up in the Entra sign-in logs. Lasting fix: auth = xoauth2."),
	  .url = U_PRN },
	{ KW_E("auth-refused"), .cls = A_, SMTP, .match_code = "5.7.139",
	  .flags = F_BASIC,
	  .summary = N_("Sign-in refused"),
	  .message = N_("Microsoft 365 refused the sign-in. Check the account in the Entra sign-in logs. Lasting fix: auth = xoauth2."),
	  .url = U_PRN },

	/* ---- 5.7.3: STARTTLS (a configuration error despite 4xx), then AUTH ---- */
	{ KW_E("starttls-required"), .cls = A_, SMTP, .match_text = "starttls is required|must issue a starttls",
	  .summary = N_("STARTTLS required"),
	  .message = N_("The server wants STARTTLS before mail commands. Set tls = starttls and port = 587 for the account."),
	  .url = U_SUB },
	{ KW_E("auth-failed"), .cls = A_, SMTP, .match_code = "5.7.3",
	  .flags = F_BASIC, .user_id = "user-auth-failed", .oauth_id = "oauth-refused", .app_id = "oauth-app-refused",
	  .summary = N_("Authentication unsuccessful"),
	  .message = N_("Sign-in refused. Lasting fix: auth = xoauth2. Else check password_file, Authenticated SMTP and per-user MFA (admin center > Users > Active users > Multi-factor authentication)."),
	  .url = U_PRN },
	{ KW_E("user-auth-failed"), .cls = U_, SMTP, .flags = F_VARIANT,
	  .summary = N_("Your sign-in was refused"),
	  .message = N_("Microsoft 365 refused your password. Log in to this computer again so print2mail gets the current one, then: lp -i {queue}-{job} -H resume"),
	  .url = U_PRN },
	{ KW_E("user-bad-password"), .cls = U_, SMTP, .flags = F_VARIANT,
	  .summary = N_("Your password was refused"),
	  .message = N_("Microsoft 365 says your username or password is incorrect. Log in to this computer again with the current password, then: lp -i {queue}-{job} -H resume"),
	  .url = U_PRN },
	{ KW_E("user-locked"), .cls = U_, SMTP, .flags = F_VARIANT,
	  .summary = N_("Your account is locked"),
	  .message = N_("Microsoft 365 locked your account after failed sign-ins. Wait or ask your administrator to unblock it, then log in again."),
	  .url = U_AAD },
	{ KW_E("oauth-refused"), .cls = A_, SMTP, .flags = F_VARIANT, .user_id = "user-token-refused",
	  .summary = N_("XOAUTH2 token refused"),
	  .message = N_("Exchange refused the OAuth token. It must be for https://outlook.office.com/SMTP.Send (not Graph) and the mailbox in username, with SMTP AUTH on. Run print2mailctl login ACCOUNT again."),
	  .url = U_OAUTH },
	{ KW_E("user-token-refused"), .cls = U_, SMTP, .flags = F_VARIANT,
	  .summary = N_("Your sign-in token was refused"),
	  .message = N_("Exchange refused your OAuth token. Run print2mailctl login --me, then: lp -i {queue}-{job} -H resume"),
	  .url = U_OAUTH },
	{ KW_E("oauth-app-refused"), .cls = A_, SMTP, .flags = F_VARIANT,
	  .summary = N_("App-only XOAUTH2 token refused"),
	  .message = N_("Exchange refused the app's token. Run New-ServicePrincipal -AppId <client_id> -ObjectId <Enterprise application object ID>, then Add-MailboxPermission -Identity <mailbox> -User <service principal ID> -AccessRights FullAccess."),
	  .url = U_OAUTH },

	/* ---- 5.7.57: classified by its embedded "Error: 535 ..." first ---- */
	{ KW_E("not-authenticated"), .cls = A_, SMTP, .match_code = "5.7.57",
	  .flags = F_BASIC,
	  .summary = N_("Client not authenticated"),
	  .message = N_("The server will not send without a sign-in. Check username, password_file and that STARTTLS works. Lasting fix: auth = xoauth2."),
	  .url = U_N5757 },
	{ KW_E("basic-retired"), .cls = A_, SMTP, .match_code = "5.7.30", .flags = F_BASIC,
	  .summary = N_("Basic authentication is no longer supported"),
	  .message = N_("Microsoft 365 no longer accepts basic authentication for SMTP. Set auth = xoauth2 for the account: that is the lasting fix."),
	  .url = U_OAUTH },
	{ KW_E("auth-mechanism"), .cls = A_, SMTP, .match_code = "5.7.4", .flags = F_BASIC,
	  .summary = N_("Authentication mechanism not accepted"),
	  .message = N_("The server refused the AUTH mechanism. Use port 587 with tls = starttls and auth = login or auth = xoauth2."),
	  .url = U_PRN },
	{ KW_E("tls-too-old"), .cls = A_, SMTP, .match_code = "4.7.66",
	  .summary = N_("TLS 1.2 or newer required"),
	  .message = N_("The server requires TLS 1.2 or newer. print2mail offers it, so look for a proxy or crypto policy that lowers the TLS version."),
	  .url = U_TLS },

	/* ---- sender rights, throttling, quotas (some arrive after DATA) ---- */
	{ KW_E("cet-throttled"), .cls = T_, SMTP, .match_text = "throttled due to continuous",
	  .summary = N_("Mailbox throttled after repeated errors"),
	  .message = N_("Microsoft 365 blocks this mailbox for a while after repeated identical errors; support cannot lift it. print2mail retries later; fix the error named in the reply meanwhile."),
	  .url = U_CET },
	{ KW_E("send-as-denied"), .cls = A_, SMTP, .match_text = "send as this sender|sendasdenied",
	  .summary = N_("Not allowed to send as this sender"),
	  .message = N_("The account may not send as this From address. Send from its own address, or grant the right: Add-RecipientPermission -Identity <from address> -Trustee <account mailbox> -AccessRights SendAs."),
	  .url = U_OAUTH },
	{ KW_E("submission-quota"), .cls = T_, SMTP, .match_text = "submissionquotaexceeded|submission quota|daily limit for message recipients",
	  .summary = N_("Daily recipient limit reached"),
	  .message = N_("The mailbox passed 10,000 recipients in 24 hours. Admins cannot lift this; print2mail retries as the window moves on. Check that the account is not compromised."),
	  .url = U_NQ },
	{ KW_E("mailbox-full"), .cls = A_, SMTP, .match_text = "mailbox full|quotaexceeded",
	  .summary = N_("Sending mailbox is full"),
	  .message = N_("The sending mailbox is full: SMTP submissions fill its Sent Items. Empty Sent Items, give it a retention policy, or raise the mailbox quota."),
	  .url = U_SUBM },
	{ KW_E("thread-limit"), .cls = T_, SMTP, .match_text = "thread limit|concurrent connections limit",
	  .summary = N_("Too many connections for this mailbox"),
	  .message = N_("More than 3 connections to this mailbox at once (does another program use it?). print2mail retries shortly."),
	  .url = U_SUBM },
	{ KW_E("temp-error"), .cls = T_, SMTP, .match_text = "temporary server error",
	  .summary = N_("Temporary server error"),
	  .message = N_("Microsoft 365 reported a temporary server error. print2mail retries later; if it lasts for days, open a Microsoft support case."),
	  .url = U_NDR },
	{ KW_E("service-inactive"), .cls = T_, SMTP, .match_code = "4.3.2",
	  .summary = N_("Mail service temporarily unavailable"),
	  .message = N_("The Microsoft 365 server is restarting or busy. print2mail retries later."),
	  .url = U_NDR },
	{ KW_E("server-busy"), .cls = T_, SMTP, .match_code = "4.7.500-699",
	  .summary = N_("Server busy, throttling"),
	  .message = N_("Microsoft 365 is throttling this connection. print2mail retries later; relay traffic needs an inbound connector."),
	  .url = U_NAS },
	{ KW_E("ext-rcpt-limit"), .cls = T_, SMTP, .match_code = "5.7.232|5.7.233|4.7.232|4.7.233",
	  .summary = N_("Tenant external recipient limit reached"),
	  .message = N_("The tenant reached its daily limit of external recipients. print2mail retries when the 24-hour window moves on."),
	  .url = U_NDR },

	/* ---- the account or tenant is blocked ---- */
	{ KW_E("restricted-sender"), .cls = A_, SMTP, .match_code = "5.1.8",
	  .summary = N_("Account restricted for sending spam"),
	  .message = N_("Microsoft 365 blocked this account for sending spam, usually after a compromise. Secure it (new password), then release it at https://security.microsoft.com/restrictedusers"),
	  .url = U_N518 },
	{ KW_E("spam-banned"), .cls = A_, SMTP, .match_code = "5.7.501-503",
	  .summary = N_("Account banned for spam"),
	  .message = N_("Microsoft 365 banned this account for spam. Secure it, reset its credentials and open a Microsoft support case."),
	  .url = U_NDR },
	{ KW_E("ip-banned"), .cls = A_, SMTP, .match_code = "5.7.511|5.7.606-649",
	  .summary = N_("Sender or IP address banned"),
	  .message = N_("Microsoft 365 banned this sender or IP address. Ask for removal at https://sender.office.com or from delist@microsoft.com."),
	  .url = U_NDR },
	{ KW_E("tenant-threshold"), .cls = A_, SMTP, .match_code = "5.7.705",
	  .summary = N_("Tenant exceeded its threshold"),
	  .message = N_("The tenant is blocked for too much spam (or briefly after a renewed subscription). Clean up the tenant, then open a Microsoft support case."),
	  .url = U_N7XX },
	{ KW_E("ip-not-accepted"), .cls = A_, SMTP, .match_code = "5.7.708",
	  .summary = N_("Traffic not accepted from this IP"),
	  .message = N_("Microsoft 365 does not accept mail from this IP address (low reputation, typical for new or trial tenants). Open a Microsoft support case."),
	  .url = U_N7XX },
	{ KW_E("unregistered-domain"), .cls = A_, SMTP, .match_code = "5.7.750",
	  .summary = N_("Sending domain not registered"),
	  .message = N_("Mail from domains not added to the tenant is blocked. Add and verify every sending domain in Microsoft 365 admin center > Settings > Domains."),
	  .url = U_N7XX },
	{ KW_E("relay-denied"), .cls = A_, SMTP, .match_code = "5.7.64",
	  .summary = N_("Relay access denied by the connector"),
	  .message = N_("The inbound connector no longer matches this server's IP address or certificate. Update the connector, or send the full certificate chain."),
	  .url = U_N5764 },
	{ KW_E("direct-send-off"), .cls = A_, SMTP, .match_code = "5.7.68",
	  .summary = N_("Direct Send not allowed"),
	  .message = N_("This tenant rejects Direct Send (Set-OrganizationConfig -RejectDirectSend $true). Use smtp.office365.com port 587 with a sign-in, or a partner connector."),
	  .url = U_DS },
	{ KW_E("forwarding-blocked"), .cls = A_, SMTP, .match_code = "5.7.520",
	  .summary = N_("External forwarding not allowed"),
	  .message = N_("The outbound spam policy forbids automatic forwarding from this mailbox. Change the automatic forwarding setting of the outbound anti-spam policy."),
	  .url = U_NDR },
	/* RFC 4954's "535 5.7.8 Authentication credentials invalid": what
	 * Postfix, Dovecot and most relays (and Gmail) answer a wrong password. */
	{ KW_E("auth-invalid"), .cls = A_, SMTP, .match_code = "5.7.8",
	  .flags = F_BASIC, .user_id = "user-bad-password", .oauth_id = "oauth-refused",
	  .summary = N_("Credentials invalid"),
	  .message = N_("The server refused the username or password (5.7.8: credentials invalid). Put the right password in password_file; username is usually the full address. On Microsoft 365 the lasting fix is auth = xoauth2."),
	  .url = U_PRN },
	/* A permanent refusal of one recipient, whatever its subject code:
	 * Exchange's Directory-Based Edge Blocking says 550 5.4.1, Postfix
	 * 554 5.7.1.  The job is held, never retried. */
	{ KW_E("rcpt-rejected"), .cls = M_, SMTP, .match_code = "5", .match_text = "recipient address rejected",
	  .summary = N_("Recipient address rejected"),
	  .message = N_("The server rejected a recipient (Exchange Online does so for an address its directory does not know). Check the address, then correct it with: lp -i {queue}-{job} -o mailto=ADDRESS -H resume"),
	  .url = U_NDR },
	{ KW_E("not-authorized"), .cls = M_, SMTP, .match_code = "5.7.1", .match_text = "delivery not authorized",
	  .summary = N_("Delivery not authorized"),
	  .message = N_("A recipient (often a group) does not accept mail from this sender. Ask its owner to allow it, or correct it with: lp -i {queue}-{job} -o mailto=ADDRESS -H resume"),
	  .url = U_NDR },
	{ KW_E("relay-refused"), .cls = A_, SMTP, .match_code = "5.7.1", .match_text = "unable to relay|not authenticated",
	  .flags = F_BASIC,
	  .summary = N_("Relay refused, client not signed in"),
	  .message = N_("The server refused to relay because the client is not signed in. Check username and password_file, or set auth = xoauth2 (the lasting fix)."),
	  .url = U_NDR },

	/* ---- this message ---- */
	{ KW_E("header-too-big"), .cls = M_, SMTP, .match_text = "header size exceeds",
	  .summary = N_("Message header too large"),
	  .message = N_("The message header is too large (too many recipients or a long subject). Correct it with: lp -i {queue}-{job} -o mail-subject=SUBJECT -H resume"),
	  .url = U_NDR },
	{ KW_E("too-big"), .cls = M_, SMTP, .match_text = "maxsubmissionexceeded|message size exceeds",
	  .summary = N_("Message too large"),
	  .message = N_("The message is larger than the mailbox may send (35 MB by default; base64 adds a third). Print fewer pages or at a lower resolution; remove this job with: cancel {queue}-{job}"),
	  .url = U_NDR },
	{ KW_E("size-limit"), .cls = M_, SMTP, .match_code = "5.3.4",
	  .summary = N_("Message too large"),
	  .message = N_("The message is larger than the mailbox may send (35 MB by default; base64 adds a third). Print fewer pages or at a lower resolution; remove this job with: cancel {queue}-{job}"),
	  .url = U_NDR },
	{ KW_E("rcpt-unknown"), .cls = M_, SMTP, .match_code = "5.1.1|5.1.10",
	  .summary = N_("Recipient not found"),
	  .message = N_("The recipient address does not exist. Correct it with: lp -i {queue}-{job} -o mailto=ADDRESS -H resume"),
	  .url = U_NDR },
	{ KW_E("hve-bad-user"), .cls = A_, SMTP, .match_code = "5.5.124",
	  .summary = N_("XOAUTH2 user address not valid"),
	  .message = N_("The server refused the XOAUTH2 user address. Set username to the mailbox the token was issued for (on smtp-hve.office365.com, the HVE account)."),
	  .url = U_OAUTH },
	{ KW_E("hve-token-expiring"), .cls = T_, SMTP, .match_code = "5.5.127",
	  .summary = N_("Token about to expire"),
	  .message = N_("The server refused a token that expires soon. print2mail retries with a fresh one; keep print2mail-helper running so tokens are renewed early."),
	  .url = U_OAUTH },

	/* ---- fallbacks by code: the server's own text is quoted by the backend ---- */
	{ KW_E("smtp-temporary"), .cls = T_, SMTP, .match_code = "4", .flags = F_GENERIC,
	  .summary = N_("Temporary refusal"),
	  .message = N_("The mail server refused temporarily. print2mail retries later."),
	  .url = U_NDR },
	{ KW_E("smtp-address"), .cls = M_, SMTP, .match_code = "5.1", .flags = F_GENERIC,
	  .summary = N_("Address refused"),
	  .message = N_("The mail server refused an address of this message. Correct it with: lp -i {queue}-{job} -o mailto=ADDRESS -H resume"),
	  .url = U_NDR },
	{ KW_E("smtp-mailbox"), .cls = A_, SMTP, .match_code = "5.2", .flags = F_GENERIC,
	  .summary = N_("Sending mailbox refused"),
	  .message = N_("The mail server refused because of the sending mailbox (quota, licence or state). An admin should check that mailbox."),
	  .url = U_NDR },
	{ KW_E("smtp-system"), .cls = M_, SMTP, .match_code = "5.3", .flags = F_GENERIC,
	  .summary = N_("Mail system problem"),
	  .message = N_("The mail server refused this message for a problem of its own and will not take it later either. Try again with: lp -i {queue}-{job} -H resume, or remove it: cancel {queue}-{job}"),
	  .url = U_NDR },
	{ KW_E("smtp-network"), .cls = M_, SMTP, .match_code = "5.4", .flags = F_GENERIC,
	  .summary = N_("Network or routing problem"),
	  .message = N_("The mail server cannot route this message and refused it for good. Check the recipients, then: lp -i {queue}-{job} -H resume (or cancel {queue}-{job})"),
	  .url = U_NDR },
	{ KW_E("smtp-protocol"), .cls = A_, SMTP, .match_code = "5.5", .flags = F_GENERIC,
	  .summary = N_("SMTP command refused"),
	  .message = N_("The mail server refused an SMTP command. Check server, port and tls for the account; if they are right, report a print2mail bug."),
	  .url = U_PRN },
	{ KW_E("smtp-content"), .cls = M_, SMTP, .match_code = "5.6", .flags = F_GENERIC,
	  .summary = N_("Message content refused"),
	  .message = N_("The mail server refused the content of this message. Check the document; remove this job with: cancel {queue}-{job}"),
	  .url = U_NDR },
	{ KW_E("smtp-security"), .cls = A_, SMTP, .match_code = "5.7", .flags = F_GENERIC,
	  .summary = N_("Refused for a security or policy reason"),
	  .message = N_("The mail server refused for a security or policy reason. An admin should check the account against the server's reply."),
	  .url = U_NDR },
	{ KW_E("smtp-auth-refused"), .cls = A_, SMTP, .match_code = "530|534|535|538", .flags = F_GENERIC | F_BASIC,
	  .summary = N_("Authentication refused"),
	  .message = N_("The mail server refused the sign-in. Check username and password_file, or set auth = xoauth2 (the lasting fix)."),
	  .url = U_PRN },
	{ KW_E("smtp-refused"), .cls = M_, SMTP, .match_code = "5", .flags = F_GENERIC,
	  .summary = N_("Message refused"),
	  .message = N_("The mail server refused this message. Correct what its reply names, then: lp -i {queue}-{job} -H resume (or cancel {queue}-{job})"),
	  .url = U_NDR },
	{ KW_E("smtp-unknown"), .cls = T_, SMTP, .flags = F_GENERIC,
	  .summary = N_("Unexpected server answer"),
	  .message = N_("The mail server gave an answer print2mail does not understand. print2mail retries later."),
	  .url = U_PRN },

	/* ---- token endpoint (AADSTS codes first, then the OAuth error) ---- */
	{ KW_E("aad-secret-invalid"), .cls = A_, TOKEN, .match_code = "7000215",
	  .summary = N_("Client secret invalid"),
	  .message = N_("The client secret was refused: client_secret_file must hold the secret's Value, not its Secret ID (App registrations > Certificates & secrets)."),
	  .url = U_CC },
	{ KW_E("aad-secret-expired"), .cls = A_, TOKEN, .match_code = "7000222",
	  .summary = N_("Client secret expired"),
	  .message = N_("The client secret has expired. Create one in App registrations > (app) > Certificates & secrets and put its Value in client_secret_file, or use a certificate."),
	  .url = U_CC },
	{ KW_E("aad-app-disabled"), .cls = A_, TOKEN, .match_code = "7000112",
	  .summary = N_("Application disabled"),
	  .message = N_("The app (client_id) is disabled. Re-enable it in Microsoft Entra admin center > Enterprise applications > (app) > Properties > Enabled for users to sign-in; if Microsoft disabled it, register a new app."),
	  .url = U_AAD },
	{ KW_E("aad-app-not-found"), .cls = A_, TOKEN, .match_code = "700016|70001",
	  .summary = N_("Application not found in the tenant"),
	  .message = N_("The app (client_id) is unknown or disabled in this tenant. Check client_id and tenant; a multi-tenant app needs admin consent in this tenant."),
	  .url = U_AAD },
	{ KW_E("aad-no-consent"), .cls = A_, TOKEN, .match_code = "65001|650056|650057|65005|500011",
	  .summary = N_("Permission or consent missing"),
	  .message = N_("The app lacks a permission or consent. Under API permissions add SMTP.Send (delegated) or SMTP.SendAsApp (application) and grant admin consent."),
	  .url = U_OAUTH },
	{ KW_E("aad-inactive"), .cls = A_, TOKEN, .match_code = "700082", .user_id = "user-signin-expired",
	  .summary = N_("Sign-in expired after 90 days unused"),
	  .message = N_("The saved sign-in went unused for 90 days and expired. Run print2mailctl login ACCOUNT, and keep print2mail-helper running so it stays fresh."),
	  .url = U_RT },
	{ KW_E("aad-grant-invalid"), .cls = A_, TOKEN, .match_code = "70000|70008|70043|50173|50089|54005",
	  .match_text = "invalid_grant", .user_id = "user-signin-expired",
	  .summary = N_("Saved sign-in no longer valid"),
	  .message = N_("The saved sign-in was revoked, expired or cut short by Conditional Access. Run print2mailctl login ACCOUNT again."),
	  .url = U_RT },
	{ KW_E("user-signin-expired"), .cls = U_, TOKEN, .flags = F_VARIANT,
	  .summary = N_("Your saved sign-in expired"),
	  .message = N_("Your saved Microsoft 365 sign-in is no longer valid. Run print2mailctl login --me, then: lp -i {queue}-{job} -H resume"),
	  .url = U_RT },
	{ KW_E("aad-mfa"), .cls = A_, TOKEN, .match_code = "50076|50079|50074|50072", .user_id = "user-mfa",
	  .summary = N_("Multi-factor sign-in required"),
	  .message = N_("Microsoft 365 requires multi-factor authentication for this account. Run print2mailctl login ACCOUNT: the device code sign-in supports it."),
	  .url = U_DC },
	{ KW_E("user-mfa"), .cls = U_, TOKEN, .flags = F_VARIANT,
	  .summary = N_("You must sign in with MFA"),
	  .message = N_("Your account needs multi-factor sign-in. Run print2mailctl login --me, then: lp -i {queue}-{job} -H resume"),
	  .url = U_DC },
	{ KW_E("aad-ca-blocked"), .cls = A_, TOKEN, .match_code = "53003|530035|53000|53001",
	  .summary = N_("Blocked by Conditional Access"),
	  .message = N_("Conditional Access or security defaults blocked the sign-in. Check the Entra sign-in logs and adjust the policy for this account or app."),
	  .url = U_AAD },
	{ KW_E("aad-tenant"), .cls = A_, TOKEN, .match_code = "90002|50194|9001023|90130",
	  .summary = N_("Tenant not found or not allowed"),
	  .message = N_("The tenant is wrong or not allowed for this app. Set tenant to the tenant ID or domain, not common or organizations."),
	  .url = U_CC },
	{ KW_E("aad-locked"), .cls = A_, TOKEN, .match_code = "50053", .user_id = "user-locked",
	  .summary = N_("Account locked"),
	  .message = N_("Microsoft 365 locked the account (smart lockout or a blocked IP; see Entra sign-in logs). Wait or have an admin unblock it, then run print2mailctl login ACCOUNT."),
	  .url = U_AAD },
	/* A signed assertion outside its time window: AADSTS700024, or the
	 * older AADSTS70002 + 50012 "not within its valid time range". */
	{ KW_E("aad-clock"), .cls = A_, TOKEN, .match_code = "700024",
	  .summary = N_("This host's clock is wrong"),
	  .message = N_("Microsoft refused the signed client assertion as outside its valid time: this host's clock is off. Check it with timedatectl and turn on NTP (timedatectl set-ntp true)."),
	  .url = U_CERT },
	{ KW_E("aad-clock-skew"), .cls = A_, TOKEN, .match_code = "70002|50012|50013", .match_desc = "valid time range",
	  .summary = N_("This host's clock is wrong"),
	  .message = N_("Microsoft refused the signed client assertion as outside its valid time: this host's clock is off. Check it with timedatectl and turn on NTP (timedatectl set-ntp true)."),
	  .url = U_CERT },
	{ KW_E("aad-bad-cert"), .cls = A_, TOKEN, .match_code = "700027|50012|700030",
	  .summary = N_("Client certificate refused"),
	  .message = N_("The client certificate or its signature was refused. Upload client_certificate to the app registration (Certificates & secrets); it must match client_key."),
	  .url = U_CERT },
	{ KW_E("aad-bad-scope"), .cls = A_, TOKEN, .match_code = "70011|28002|700022", .match_text = "invalid_scope",
	  .summary = N_("Invalid scope"),
	  .message = N_("The token request used an invalid scope. Use https://outlook.office.com/SMTP.Send offline_access (delegated) or https://outlook.office365.com/.default (app)."),
	  .url = U_OAUTH },
	{ KW_E("aad-bad-password"), .cls = A_, TOKEN, .match_code = "50126|50055|50144", .user_id = "user-bad-password",
	  .summary = N_("Username or password refused"),
	  .message = N_("Microsoft 365 refused the username or password, or the password has expired. Correct it, then run print2mailctl login ACCOUNT."),
	  .url = U_AAD },
	/* The account that signed in is not one of this tenant's: a personal
	 * Microsoft account or a guest (50020), or no such user (50034). */
	{ KW_E("aad-wrong-account"), .cls = A_, TOKEN, .match_code = "50020|50034",
	  .summary = N_("Signed in with an account of another tenant"),
	  .message = N_("The account that signed in is not in this tenant (a personal Microsoft account, a guest or a typo). Run print2mailctl login ACCOUNT and sign in with the mailbox's work account, or fix tenant."),
	  .url = U_AAD },
	{ KW_E("aad-user-unknown"), .cls = A_, TOKEN, .match_code = "51004|50057",
	  .summary = N_("User not found or disabled"),
	  .message = N_("The user is not in this tenant or is disabled. Check username and tenant; an admin may need to enable the account."),
	  .url = U_AAD },
	{ KW_E("aad-login-declined"), .cls = A_, TOKEN, .match_code = "65004|70019|70018",
	  .match_text = "authorization_declined|expired_token|bad_verification_code",
	  .summary = N_("Device sign-in not completed"),
	  .message = N_("The device code sign-in was declined, mistyped or not finished within 15 minutes. Run print2mailctl login ACCOUNT again."),
	  .url = U_DC },
	/* print2mail always sends grant_type, scope and client_id: a request
	 * that arrives without one was altered on its way. */
	{ KW_E("aad-request-altered"), .cls = A_, TOKEN, .match_code = "900144|90014",
	  .summary = N_("Token request altered on its way"),
	  .message = N_("The token request reached Microsoft without a field print2mail always sends (grant_type, scope, client_id): something on the way altered it. Check oauth_authority and any proxy between this host and Microsoft, not the app registration."),
	  .url = U_AAD },
	{ KW_E("aad-bad-request"), .cls = A_, TOKEN, .match_code = "7000218|700025",
	  .summary = N_("Token request malformed"),
	  .message = N_("The token request lacks a field or does not suit the app type (a public client sent a secret). Check client_id and the app's platform settings."),
	  .url = U_AAD },
	{ KW_E("aad-pending"), .cls = T_, TOKEN, .match_code = "70016", .match_text = "authorization_pending|slow_down",
	  .summary = N_("Waiting for the device sign-in"),
	  .message = N_("The device code sign-in is not finished yet; print2mail keeps waiting."),
	  .url = U_DC },
	{ KW_E("aad-unavailable"), .cls = T_, TOKEN, .match_code = "50033|90006|90024|90033|90090|50087|90055|50196",
	  .match_text = "temporarily_unavailable|server_error",
	  .summary = N_("Sign-in service unavailable"),
	  .message = N_("The Microsoft sign-in service is busy or unavailable. print2mail retries later and keeps using a token that is still valid."),
	  .url = U_AAD },
	{ KW_E("aad-refused"), .cls = A_, TOKEN, .flags = F_GENERIC,
	  .summary = N_("Sign-in service refused the request"),
	  .message = N_("The Microsoft sign-in service refused the token request. Look up the AADSTS code of its reply in the Entra error code reference."),
	  .url = U_AAD },

	/* ---- local failures (p2m_rules_for_error) ---- */
	{ KW_E("tls-verify"), .cls = A_, LOCAL,
	  .summary = N_("Server certificate not trusted"),
	  .message = N_("The mail server's certificate is not trusted. Check server and the system trust store; if a proxy re-signs TLS, name its CA in ca_file."),
	  .url = U_SUB },
	{ KW_E("tls"), .cls = T_, LOCAL,
	  .summary = N_("TLS negotiation failed"),
	  .message = N_("TLS negotiation with the mail server failed. print2mail retries later; if it persists, look for a proxy between this host and the server."),
	  .url = U_TLS },
	{ KW_E("connect"), .cls = T_, LOCAL,
	  .summary = N_("Mail server unreachable"),
	  .message = N_("The mail server cannot be reached (DNS, firewall or network). print2mail retries later; check that this host reaches server and port."),
	  .url = U_PRN },
	{ KW_E("conn-lost"), .cls = T_, LOCAL,
	  .summary = N_("Connection to the mail server lost"),
	  .message = N_("The connection to the mail server was lost during the upload. print2mail retries later; if it keeps happening, check the network between this host and the server."),
	  .url = U_PRN },
	{ KW_E("stalled"), .cls = T_, LOCAL,
	  .summary = N_("Mail server stopped answering"),
	  .message = N_("The mail server stopped answering for longer than timeout (print2mail.conf). print2mail retries later; raise timeout if the network is slow."),
	  .url = U_PRN },
	{ KW_E("recipient-denied"), .cls = M_, LOCAL,
	  .summary = N_("Recipient not allowed"),
	  .message = N_("A recipient is not in allowed_recipients of this account. Correct it with: lp -i {queue}-{job} -o mailto=ADDRESS -H resume"),
	  .url = U_PRN },
	{ KW_E("no-recipient"), .cls = M_, LOCAL,
	  .summary = N_("No recipient"),
	  .message = N_("The job names no recipient. Add one with: lp -i {queue}-{job} -o mailto=ADDRESS -H resume"),
	  .url = U_PRN },
	{ KW_E("address"), .cls = M_, LOCAL,
	  .summary = N_("Invalid e-mail address"),
	  .message = N_("An e-mail address of this job is invalid. Correct it with: lp -i {queue}-{job} -o mailto=ADDRESS -H resume"),
	  .url = U_PRN },
	{ KW_E("too-large"), .cls = M_, LOCAL,
	  .summary = N_("Message too large"),
	  .message = N_("The message exceeds the size limit (max_message_size or the server's). Print fewer pages or at a lower resolution; remove this job with: cancel {queue}-{job}"),
	  .url = U_SUBM },
	{ KW_E("secret-mode"), .cls = A_, LOCAL,
	  .summary = N_("Secret file readable by others"),
	  .message = N_("A secret file (password_file, client_secret_file or client_key) is readable by other users, so it was refused. Make it owned by root with mode 600."),
	  .url = U_PRN },
	{ KW_E("secret"), .cls = A_, LOCAL,
	  .summary = N_("Secret file unreadable"),
	  .message = N_("A secret file (password_file, client_secret_file or client_key) is missing or unreadable. Check its path in print2mail.conf, then: cupsenable {queue}"),
	  .url = U_PRN },
	{ KW_E("config"), .cls = A_, LOCAL,
	  .summary = N_("Configuration invalid"),
	  .message = N_("The print2mail configuration is invalid. Fix print2mail.conf (the log names the line), then: cupsenable {queue}"),
	  .url = U_PRN },
	{ KW_E("account"), .cls = A_, LOCAL,
	  .summary = N_("Account not configured"),
	  .message = N_("The queue names an account missing from print2mail.conf. Add an [account NAME] section or fix the device URI, then: cupsenable {queue}"),
	  .url = U_PRN },
	{ KW_E("uri"), .cls = A_, LOCAL,
	  .summary = N_("Device URI malformed"),
	  .message = N_("The device URI is malformed: it must be print2mail://ACCOUNT, optionally with ?to=ADDRESS. Fix it with: lpadmin -p {queue} -v URI"),
	  .url = U_PRN },
	{ KW_E("store"), .cls = A_, LOCAL,
	  .summary = N_("Credential store damaged or unsafe"),
	  .message = N_("The credential store is damaged or has unsafe permissions (it must be root's, mode 700). Fix it, or run print2mailctl forget and sign in again."),
	  .url = U_PRN },
	{ KW_E("store-busy"), .cls = T_, LOCAL,
	  .summary = N_("Credential store busy or disk full"),
	  .message = N_("The credential store was busy too long or could not be written (disk full?). print2mail retries later; if it lasts, free space in state_dir."),
	  .url = U_PRN },
	{ KW_E("truncated"), .cls = T_, LOCAL,
	  .summary = N_("Composed message incomplete"),
	  .message = N_("print2mail-compose stopped before the message was complete (its DEBUG lines in the CUPS error log say why). Nothing was sent; print2mail retries later."),
	  .url = U_PRN },
	{ KW_E("document"), .cls = M_, LOCAL,
	  .summary = N_("Document unreadable"),
	  .message = N_("The document of this job cannot be read or is empty. Print it again and remove this job with: cancel {queue}-{job}"),
	  .url = U_PRN },
	{ KW_E("no-credential"), .cls = U_, LOCAL,
	  .summary = N_("No credential stored for you"),
	  .message = N_("print2mail has no credential to send as you. Run print2mailctl login --me or log in to this computer again, then: lp -i {queue}-{job} -H resume"),
	  .url = U_OAUTH },
	{ KW_E("user-unproven"), .cls = M_, LOCAL,
	  .summary = N_("Job user not authenticated by CUPS"),
	  .message = N_("CUPS did not authenticate who printed this job, so it is not sent as them. The admin runs: lpadmin -p {queue} -o printer-op-policy=print2mail (see README); then print again."),
	  .url = U_PRN },
	{ KW_E("no-login"), .cls = A_, LOCAL,
	  .summary = N_("Nobody has signed in for this account"),
	  .message = N_("Nobody has signed in for this device-code account yet. Run as root: print2mailctl login ACCOUNT, then: cupsenable {queue}"),
	  .url = U_OAUTH },
	{ KW_E("helper"), .cls = T_, LOCAL,
	  .summary = N_("print2mail-helper unreachable"),
	  .message = N_("print2mail-helper is not running; print2mail retries later. Start it with: systemctl start print2mail-helper"),
	  .url = U_OAUTH },
	{ KW_E("protocol"), .cls = T_, LOCAL,
	  .summary = N_("Malformed server answer"),
	  .message = N_("The server's answer could not be read. print2mail retries later."),
	  .url = U_PRN },
	{ KW_E("token-unavailable"), .cls = T_, LOCAL,
	  .summary = N_("Sign-in service unreachable"),
	  .message = N_("The Microsoft sign-in service cannot be reached (network or proxy). print2mail retries later."),
	  .url = U_AAD },
	{ KW_E("no-starttls"), .cls = A_, LOCAL,
	  .summary = N_("The port offers no STARTTLS"),
	  .message = N_("The server offers no STARTTLS on this port, so nothing was sent. For Microsoft 365 set server = smtp.office365.com, port = 587 and tls = starttls; use tls = implicit only with port = 465."),
	  .url = U_SUB },
	{ KW_E("no-auth-mechanism"), .cls = A_, LOCAL,
	  .summary = N_("The port offers no usable AUTH mechanism"),
	  .message = N_("After STARTTLS the server offers neither AUTH LOGIN nor XOAUTH2 on this port (a relay or MX port, such as 25), so nothing was sent. Set server = smtp.office365.com, port = 587 and tls = starttls."),
	  .url = U_SUB },
	{ KW_E("permission"), .cls = A_, LOCAL,
	  .summary = N_("Cannot drop root privileges"),
	  .message = N_("print2mail could not drop root privileges to user lp before connecting, so nothing was sent; the reason follows. Check that user lp exists, then: cupsenable {queue}"),
	  .url = U_PRN },
	{ KW_E("usage"), .cls = A_, LOCAL,
	  .summary = N_("Backend started with a wrong command line"),
	  .message = N_("The print2mail backend was started with a wrong command line; only cupsd should run it. Check the queue with lpstat -v {queue}, then: cupsenable {queue}"),
	  .url = U_PRN },
	{ KW_E("internal"), .cls = T_, LOCAL,
	  .summary = N_("Internal error"),
	  .message = N_("print2mail hit an internal error and retries later. Please report it with the log lines of this job."),
	  .url = U_PRN },
	{ KW_W("secret-expiring"), .cls = P2M_CLASS_NONE, LOCAL,
	  .summary = N_("Client secret expires soon"),
	  .message = N_("The client secret of this account expires soon. Create a new one in App registrations > Certificates & secrets and put its Value in client_secret_file."),
	  .url = U_CC },

	/* ---- Microsoft Graph (transport = graph), reference/graph.md 5 ---- */
	{ KW_E("graph-maybe-sent"), .cls = M_, GRAPH, .flags = F_VARIANT,
	  .summary = N_("Graph may have sent it already"),
	  .message = N_("Graph may have sent this mail (504 or lost answer). Check Sent Items, then: lp -i {queue}-{job} -H resume to send again, or cancel {queue}-{job}"),
	  .url = U_GERR },
	{ KW_E("graph-token-expired"), .cls = T_, GRAPH, .match_code = "401", .match_text = "~expired|~lifetime validation",
	  .summary = N_("Graph token expired"),
	  .message = N_("Graph refused the token as expired (check the clock). print2mail retries with a new token."),
	  .url = U_GAUTH },
	{ KW_E("graph-audience"), .cls = A_, GRAPH, .match_code = "401", .match_text = "~audience", .user_id = "user-token-refused",
	  .summary = N_("Token not for Microsoft Graph"),
	  .message = N_("Graph refused a token for another service. It must be for https://graph.microsoft.com; keep print2mail-helper running."),
	  .url = U_GAUTH },
	{ KW_E("graph-token-refused"), .cls = A_, GRAPH, .match_code = "401", .user_id = "user-token-refused",
	  .summary = N_("Graph refused the token"),
	  .message = N_("Graph refused the token. Add the Microsoft Graph application permission Mail.Send and grant admin consent."),
	  .url = U_GAUTH },
	{ KW_E("graph-policy"), .cls = A_, GRAPH, .match_code = "403", .match_text = "~RAOP|~access to odata is disabled",
	  .summary = N_("Access policy blocks the mailbox"),
	  .message = N_("An application access policy blocks this mailbox (changes take up to an hour). Add it to the policy's group; check with Test-ApplicationAccessPolicy."),
	  .url = U_GAAP },
	{ KW_E("graph-send-as"), .cls = A_, GRAPH, .match_code = "403", .match_text = "ErrorSendAsDenied",
	  .summary = N_("Graph may not send as this sender"),
	  .message = N_("The mailbox may not send as the From address. Use its own address, or Add-RecipientPermission -Identity <from> -Trustee <mailbox> -AccessRights SendAs."),
	  .url = U_GSEND },
	{ KW_E("graph-readwrite"), .cls = A_, GRAPH, .flags = F_VARIANT,
	  .summary = N_("Mail.ReadWrite missing"),
	  .message = N_("Jobs over 3 MB go through a draft, which needs Mail.ReadWrite too. Grant it with admin consent (RBAC: Application Mail.ReadWrite). Smaller jobs still go out."),
	  .url = U_GLARGE },
	{ KW_E("graph-denied"), .cls = A_, GRAPH, .match_code = "403",
	  .summary = N_("Graph denied the mailbox"),
	  .message = N_("No Mail.Send for this mailbox. Grant it with admin consent, or add the mailbox to the app's New-ManagementRoleAssignment -CustomResourceScope; check: Test-ServicePrincipalAuthorization."),
	  .url = U_GRBAC },
	{ KW_E("graph-no-mailbox"), .cls = A_, GRAPH, .match_code = "404",
	  .match_text = "MailboxNotEnabledForRESTAPI|MailboxNotSupportedForRESTAPI",
	  .summary = N_("Mailbox has no Exchange licence"),
	  .message = N_("The sending mailbox is inactive, unlicensed or on-premises. Assign it an Exchange Online licence, or use a shared mailbox."),
	  .url = U_GREST },
	{ KW_E("graph-no-user"), .cls = A_, GRAPH, .match_code = "404",
	  .summary = N_("Sending mailbox not found"),
	  .message = N_("Graph does not know the sending mailbox (see its reply). Set from to the mailbox's UPN, then: cupsenable {queue}"),
	  .url = U_GSEND },
	{ KW_E("graph-too-big"), .cls = M_, GRAPH,
	  .match_text = "ErrorMessageSizeExceeded|ErrorAttachmentSizeLimitExceeded|RequestEntityTooLarge|~maximum request length",
	  .summary = N_("Message too large"),
	  .message = N_("The message is over the mailbox size limit (35 MB by default). Print fewer pages or run Set-Mailbox -MaxSendSize 150MB. Remove it with: cancel {queue}-{job}"),
	  .url = U_GLARGE },
	{ KW_E("graph-mailbox-full"), .cls = A_, GRAPH, .match_text = "ErrorQuotaExceeded",
	  .summary = N_("Sending mailbox is full"),
	  .message = N_("The sending mailbox is full (sent mail fills Sent Items). Empty Sent Items or give it a retention policy."),
	  .url = U_GSEND },
	{ KW_E("graph-recipients"), .cls = M_, GRAPH, .match_code = "400", .match_text = "ErrorInvalidRecipients",
	  .summary = N_("Address refused"),
	  .message = N_("Graph refused a recipient. Correct it with: lp -i {queue}-{job} -o mailto=ADDRESS -H resume"),
	  .url = U_GSEND },
	{ KW_E("graph-throttled"), .cls = T_, GRAPH, .match_code = "429",
	  .summary = N_("Server busy, throttling"),
	  .message = N_("Graph throttles this app or mailbox. print2mail waits as asked (Retry-After) and retries; is another program using the app?"),
	  .url = U_GTHR },
	{ KW_E("graph-busy"), .cls = T_, GRAPH, .match_code = "5xx",
	  .summary = N_("Mail service temporarily unavailable"),
	  .message = N_("Microsoft Graph is busy or unavailable. print2mail retries later."),
	  .url = U_GERR },
	{ KW_E("graph-refused"), .cls = M_, GRAPH, .flags = F_GENERIC,
	  .summary = N_("Message refused"),
	  .message = N_("Microsoft Graph refused this message. Correct what its reply names, then: lp -i {queue}-{job} -H resume (or cancel {queue}-{job})"),
	  .url = U_GERR },
};

#define N_RULES (sizeof(rules) / sizeof(rules[0]))

/* Strings the backend and filter show besides the rules, listed so that
 * test-rules can check their translations (lib/p2m-error.c marks its own
 * messages with N_(); test-rules checks those through p2m_error_message()). */
static const char *const extra_msgids[] = {
	N_("Sent to %s (message %s)."),
	N_("Sending to %s through %s"),
	N_("Printed from %s by %s, job %d."),
	N_("Document: %s"),
	N_("The mail server said: %s"),
	N_("More: %s"),
	N_("Job held: %s"),
	N_("Queue stopped: %s"),
	N_("Only this job is held; other jobs go on. After the fix: lp -i {queue}-{job} -H resume"),
	N_("cupsd gives a job up after JobRetryLimit failed attempts, so the queue is stopped instead and the job kept. Once the cause is gone: cupsenable {queue}"),
	N_("Waiting for one of the %s connections allowed for %s (max_connections)"),
	N_("%s has sent its %s messages for this minute; waiting until %s (max_messages_per_minute)"),
	N_("Expires on %s: %s"),
	NULL
};

/* ---- matching ---- */

static char
lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char) (c - 'A' + 'a') : c;
}

/* Reads a decimal number of at most 9 digits at P[*I..N); -1 if none. */
static long
read_num(const char *p, size_t n, size_t *i)
{
	long v = 0;
	size_t start = *i;

	while (*i < n && p[*i] >= '0' && p[*i] <= '9' && *i - start < 9)
		v = v * 10 + (p[(*i)++] - '0');
	return *i > start ? v : -1;
}

/* One alternative P[0..N) of an SMTP code pattern (see "Matching"). */
static int
code_alt_matches(const char *p, size_t n, const p2m_reply *r)
{
	size_t i = 0, k;
	long c, s, d1, d2;

	if (memchr(p, '.', n) == NULL) {
		/* The basic code decides permanence (RFC 5321 4.2.1): a 550
		 * with a 4.x.x enhanced code is still a permanent refusal. */
		if (n == 1)
			return (r->code != 0 ? r->code / 100 : r->cls) == p[0] - '0';
		if (n != 3 || r->code == 0)
			return 0;
		for (k = 0; k < 3; k++) {
			char want = p[k], got = (char) ('0' + (k == 0 ? r->code / 100 : k == 1 ? r->code / 10 % 10 : r->code % 10));

			if (want != 'x' && want != got)
				return 0;
		}
		return 1;
	}
	if (r->cls == 0)
		return 0;
	c = read_num(p, n, &i);
	if (i >= n || p[i++] != '.' || (s = read_num(p, n, &i)) < 0 || c != r->cls || s != r->subject)
		return 0;
	if (i == n)
		return 1;       /* "C.S" */
	if (p[i++] != '.' || (d1 = read_num(p, n, &i)) < 0)
		return 0;
	d2 = d1;
	if (i < n && p[i] == '-') {
		i++;
		if ((d2 = read_num(p, n, &i)) < 0)
			return 0;
	}
	return i == n && r->detail >= d1 && r->detail <= d2;
}

/* Calls MATCH on each '|'-separated alternative of LIST; 1 if one matches. */
static int
any_alt(const char *list, int (*match)(const char *p, size_t n, const void *arg), const void *arg)
{
	const char *p = list, *bar;

	for (;;) {
		bar = strchr(p, '|');
		if (match(p, bar != NULL ? (size_t) (bar - p) : strlen(p), arg))
			return 1;
		if (bar == NULL)
			return 0;
		p = bar + 1;
	}
}

static int
code_alt_cb(const char *p, size_t n, const void *arg)
{
	return n > 0 && code_alt_matches(p, n, arg);
}

/* Case-insensitive: does the reply text contain P[0..N)? */
static int
text_alt_cb(const char *p, size_t n, const void *arg)
{
	const char *text = arg;
	size_t tlen = strlen(text), i, k;

	if (n == 0 || n > tlen)
		return 0;
	for (i = 0; i + n <= tlen; i++) {
		for (k = 0; k < n && lower(text[i + k]) == lower(p[k]); k++)
			;
		if (k == n)
			return 1;
	}
	return 0;
}

static const p2m_rule *
classify_parsed(const p2m_reply *r)
{
	size_t i;

	for (i = 0; i < N_RULES; i++) {
		const p2m_rule *rule = &rules[i];

		if (rule->source != P2M_RULE_SMTP || (rule->flags & P2M_RULE_F_VARIANT))
			continue;
		if (rule->match_code != NULL && !any_alt(rule->match_code, code_alt_cb, r))
			continue;
		if (rule->match_text != NULL && !any_alt(rule->match_text, text_alt_cb, r->text))
			continue;
		return rule;
	}
	return p2m_rules_find("smtp-unknown");
}

const p2m_rule *
p2m_rules_classify_smtp(const char *reply, size_t len)
{
	p2m_reply outer, inner;
	const p2m_rule *r;

	p2m_reply_parse(reply, len, &outer);
	/* A 334 is a refusal only as an XOAUTH2 error challenge (JSON
	 * {"status":"400",...} before the 535, Google style): the server
	 * refused the token, which Microsoft says as 535 5.7.3. */
	if (outer.code == 334)
		return p2m_rules_find("auth-failed");
	/* 5.7.57 names the earlier AUTH failure ("Error: 535 5.7.139 ..."):
	 * its fix is the one to show, unless the embedded reply is unknown. */
	if (p2m_reply_is(&outer, 5, 7, 57) && p2m_reply_embedded(&outer, &inner) == 0) {
		r = classify_parsed(&inner);
		if (!(r->flags & P2M_RULE_F_GENERIC))
			return r;
	}
	return classify_parsed(&outer);
}

/* ---- token endpoint ---- */

static int
aadsts_cb(const char *p, size_t n, const void *arg)
{
	size_t i = 0;
	long v = read_num(p, n, &i);

	return v >= 0 && i == n && v == *(const long *) arg;
}

static int
error_cb(const char *p, size_t n, const void *arg)
{
	const char *e = arg;
	size_t k;

	if (strlen(e) != n)
		return 0;
	for (k = 0; k < n && lower(e[k]) == lower(p[k]); k++)
		;
	return k == n;
}

/* A row's description condition: none, or one of its substrings in DESC. */
static int
desc_matches(const p2m_rule *r, const char *desc)
{
	if (r->match_desc == NULL)
		return 1;
	return desc != NULL && strlen(desc) < 4096 && any_alt(r->match_desc, text_alt_cb, desc);
}

const p2m_rule *
p2m_rules_classify_token(const char *error, const long *codes, size_t ncodes, int http_status)
{
	return p2m_rules_classify_token_desc(error, codes, ncodes, http_status, NULL);
}

const p2m_rule *
p2m_rules_classify_token_desc(const char *error, const long *codes, size_t ncodes, int http_status,
                              const char *description)
{
	size_t i, c;

	/* The AADSTS numbers are specific; the OAuth error is a family. */
	for (c = 0; codes != NULL && c < ncodes && c < 16; c++)
		for (i = 0; i < N_RULES; i++)
			if (rules[i].source == P2M_RULE_TOKEN && rules[i].match_code != NULL &&
			    any_alt(rules[i].match_code, aadsts_cb, &codes[c]) && desc_matches(&rules[i], description))
				return &rules[i];
	if (error != NULL && *error != '\0' && strlen(error) < 128)
		for (i = 0; i < N_RULES; i++)
			if (rules[i].source == P2M_RULE_TOKEN && rules[i].match_text != NULL &&
			    any_alt(rules[i].match_text, error_cb, error))
				return &rules[i];
	if (http_status >= 500 || http_status == 429)
		return p2m_rules_find("aad-unavailable");
	if (http_status == 0 && (error == NULL || *error == '\0') && ncodes == 0)
		return p2m_rules_for_error(P2M_E_TOKEN_UNAVAILABLE);
	return p2m_rules_find("aad-refused");
}

/* ---- Microsoft Graph ---- */

static int
status_cb(const char *p, size_t n, const void *arg)
{
	int status = *(const int *) arg;
	size_t k;

	if (n != 3)
		return 0;
	for (k = 0; k < 3; k++) {
		int got = k == 0 ? status / 100 : k == 1 ? status / 10 % 10 : status % 10;

		if (p[k] != 'x' && p[k] - '0' != got)
			return 0;
	}
	return 1;
}

typedef struct {
	const char *code;
	const char *message;
} graph_answer;

static int
graph_text_cb(const char *p, size_t n, const void *arg)
{
	const graph_answer *a = arg;

	if (n > 1 && p[0] == '~')
		return a->message != NULL && text_alt_cb(p + 1, n - 1, a->message);
	return a->code != NULL && error_cb(p, n, a->code);
}

const p2m_rule *
p2m_rules_classify_graph(int http_status, const char *code, const char *message, int draft, int maybe_sent)
{
	graph_answer a = { code, message };
	size_t i;

	if (maybe_sent)
		return p2m_rules_find("graph-maybe-sent");
	if (code != NULL && strlen(code) >= 128)
		a.code = NULL;
	for (i = 0; i < N_RULES; i++) {
		const p2m_rule *rule = &rules[i];

		if (rule->source != P2M_RULE_GRAPH || (rule->flags & (P2M_RULE_F_VARIANT | P2M_RULE_F_GENERIC)))
			continue;
		if (rule->match_code != NULL && !any_alt(rule->match_code, status_cb, &http_status))
			continue;
		if (rule->match_text != NULL && !any_alt(rule->match_text, graph_text_cb, &a))
			continue;
		/* On the draft path a bare access denial is the missing
		 * Mail.ReadWrite: sendMail itself needs only Mail.Send. */
		if (draft && strcmp(rule->id, "graph-denied") == 0)
			return p2m_rules_find("graph-readwrite");
		return rule;
	}
	return p2m_rules_find("graph-refused");
}

/* ---- local failures ---- */

/* The error table (p2m-error.c) names each code's rule; the class is the rule's. */
const p2m_rule *
p2m_rules_for_error(p2m_error e)
{
	const p2m_rule *r = p2m_rules_find(p2m_error_rule_id(e));

	return r != NULL ? r : p2m_rules_find("internal");
}

/* ---- variants, formatting, listing ---- */

const p2m_rule *
p2m_rules_refine(const p2m_rule *r, unsigned ctx)
{
	const p2m_rule *v;

	if (r == NULL)
		return NULL;
	if ((ctx & P2M_REFINE_APP_ONLY) && r->app_id != NULL && (v = p2m_rules_find(r->app_id)) != NULL)
		r = v;
	else if ((ctx & (P2M_REFINE_XOAUTH2 | P2M_REFINE_APP_ONLY)) && r->oauth_id != NULL &&
		 (v = p2m_rules_find(r->oauth_id)) != NULL)
		r = v;
	if ((ctx & P2M_REFINE_PER_USER) && r->user_id != NULL && (v = p2m_rules_find(r->user_id)) != NULL)
		r = v;
	return r;
}

const p2m_rule *
p2m_rules_for_user(const p2m_rule *r)
{
	return p2m_rules_refine(r, P2M_REFINE_PER_USER);
}

char *
p2m_rules_format(const char *translated_message, const char *queue, const char *job)
{
	GString *out;
	const char *p;

	if (translated_message == NULL)
		return NULL;
	out = g_string_sized_new(strlen(translated_message) + 32);
	for (p = translated_message; *p != '\0'; p++) {
		if (strncmp(p, "{job}", 5) == 0) {
			g_string_append(out, job != NULL && *job != '\0' ? job : "JOB");
			p += 4;
		} else if (strncmp(p, "{queue}", 7) == 0) {
			g_string_append(out, queue != NULL ? queue : "QUEUE");
			p += 6;
		} else {
			g_string_append_c(out, *p);
		}
	}
	return g_string_free(out, FALSE);
}

size_t
p2m_rules_count(void)
{
	return N_RULES;
}

const p2m_rule *
p2m_rules_get(size_t i)
{
	return i < N_RULES ? &rules[i] : NULL;
}

const p2m_rule *
p2m_rules_find(const char *id)
{
	size_t i;

	for (i = 0; id != NULL && i < N_RULES; i++)
		if (strcmp(rules[i].id, id) == 0)
			return &rules[i];
	return NULL;
}

const char *const *
p2m_rules_extra_msgids(size_t *n)
{
	if (n != NULL)
		*n = sizeof(extra_msgids) / sizeof(extra_msgids[0]) - 1;
	return extra_msgids;
}
