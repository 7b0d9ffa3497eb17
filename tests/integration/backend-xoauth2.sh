#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# backend-xoauth2.sh - an app-only (client credentials) account: the backend
# gets a token from the OAuth endpoint, signs in with AUTH XOAUTH2 and the
# mail goes out; a second job uses the cached token (no token request); a
# refused token request stops the queue with the AADSTS fix; neither client
# secret nor access token ever appears on stderr or in syslog.
set -u
. "$top_srcdir/tests/integration/backend-lib.sh"
p2m_setup
p2m_start_syslog

CLIENT=11111111-aaaa-4bbb-8ccc-000000000001
SECRET='app-S3cret-value~client'
tokend_config "{\"clients\": {\"$CLIENT\": {\"secret\": \"$SECRET\", \"mailbox\": \"scanner@contoso.com\"}}}"
p2m_start_tokend
smtp_script "{\"token_db\": \"$T/tokend/tokens.jsonl\"}"
p2m_start_smtp
write_secret "$T/client.secret" "$SECRET"

xoauth2_conf() {
	write_global
	write_account scanner "from = scanner@contoso.com" "auth = xoauth2" "oauth_flow = client-credentials" \
		"tenant = contoso.onmicrosoft.com" "client_id = ${1:-$CLIENT}" \
		"client_secret_file = $T/client.secret" "oauth_authority = $AUTHORITY"
}
xoauth2_conf
make_pdf "$T/doc.pdf" 100000
URI="print2mail://scanner?to=bob@contoso.com"

bk_run "$URI" 51 alice "OAuth scan" "" "$T/doc.pdf"
is "$BACKEND_RC" "$RC_OK" "XOAUTH2 job: exit OK"
M=$(last_mail)
ok "$([ -n "$M" ]; echo $?)" "XOAUTH2 job: delivered"
is "$(mail_field "$M" attachment-sha256)" "$(sha256_of "$T/doc.pdf")" "XOAUTH2 job: attachment bytes equal the document"
is "$(mail_field "$M" From)" "scanner@contoso.com" "XOAUTH2 job: From"
is "$(mail_field "$M" defects)" "" "XOAUTH2 job: no defects"
is "$(meta_field "$M" auth_mech)" "XOAUTH2" "XOAUTH2 job: signed in with XOAUTH2"
is "$(meta_field "$M" auth_user)" "scanner@contoso.com" "XOAUTH2 job: user= is the mailbox"
is "$(token_requests client_credentials)" 1 "XOAUTH2 job: one token request"

bk_run "$URI" 52 alice "OAuth scan 2" "" "$T/doc.pdf"
is "$BACKEND_RC" "$RC_OK" "second XOAUTH2 job: exit OK"
is "$(mail_count)" 2 "second XOAUTH2 job: delivered"
is "$(token_requests)" 1 "second XOAUTH2 job: no token request (cached token)"

# the cache in state_dir is private
ok "$([ -z "$(find "$T/state" -type f -perm /077)" ]; echo $?)" "token cache files are 0600"

# a refused token request (secret expired): queue stopped with the Entra fix, nothing sent
rm -rf "$T/state"/tokens
tokend_config "{\"clients\": {\"$CLIENT\": {\"secret\": \"$SECRET\", \"mailbox\": \"scanner@contoso.com\"}}, \"errors\": {\"$CLIENT\": {\"code\": 7000222}}}"
N=$(session_count)
bk_run "$URI" 53 alice "t" "" "$T/doc.pdf"
is "$BACKEND_RC" "$RC_STOP" "expired client secret: exit STOP"
like "$BACKEND_ERR" '^STATE: \+com\.print2mail-[a-z0-9-]+-error$' "expired client secret: state reason"
like "$(error_lines)" '7000222' "expired client secret: ERROR quotes the AADSTS code"
check_one_error "expired client secret"
is "$(session_count)" "$N" "expired client secret: no SMTP connection"

# the endpoint down: retried later
tokend_config "{\"clients\": {}, \"fail_http\": 503}"
bk_run "$URI" 54 alice "t" "" "$T/doc.pdf"
is "$BACKEND_RC" "$RC_RETRY" "token endpoint down: exit RETRY"
check_one_error "token endpoint down"

# the server refuses the token: app-only fix, queue stopped
tokend_config "{\"clients\": {\"$CLIENT\": {\"secret\": \"$SECRET\", \"mailbox\": \"scanner@contoso.com\"}}}"
smtp_script "{\"token_db\": \"$T/tokend/tokens.jsonl\", \"reject\": [{\"stage\": \"auth\", \"reply\": \"535 5.7.3 Authentication unsuccessful\"}]}"
bk_run "$URI" 55 alice "t" "" "$T/doc.pdf"
is "$BACKEND_RC" "$RC_STOP" "token refused by SMTP: exit STOP"
like "$(error_lines)" '535 5\.7\.3 Authentication unsuccessful \[SN2PR00CA0018' "token refused by SMTP: reply quoted verbatim"
check_one_error "token refused by SMTP"
like "$(syslog_line 5)" 'job=55 .*code="535 5\.7\.3".*stage=auth' "token refused by SMTP: syslog with code and stage"
# A token carries the roles of its issue time: after the fix (say, the app
# given SMTP.SendAsApp) and cupsenable, the cached token would be refused the
# same way until it expires.  The refused token's digest is recorded, and the
# next attempt fetches a new one.
is "$(wc -c <"$T/state/tokens/scanner.json.rejected" 2>/dev/null)" 64 "token refused by SMTP: the refused token's digest recorded"
smtp_script "{\"token_db\": \"$T/tokend/tokens.jsonl\"}"
N=$(token_requests client_credentials)
M=$(mail_count)
bk_run "$URI" 59 alice "t" "" "$T/doc.pdf"
is "$BACKEND_RC" "$RC_OK" "after the fix: delivered"
is "$(token_requests client_credentials)" "$((N + 1))" "after the fix: with a new token, not the refused one"
is "$(mail_count)" "$((M + 1))" "after the fix: one message"
is "$(wc -c <"$T/state/tokens/scanner.json.rejected")" 0 "after the fix: the record is cleared"

# Gmail-style refusal: a 334 JSON error challenge before the 535.  libcurl
# stops at the 334; the job must still read as a refused token, not as a
# network failure retried for ever.
smtp_script "{\"token_db\": \"$T/tokend/tokens.jsonl\", \"xoauth2_challenge\": true}"
printf '{"version":1,"access_token":"stale-token-42","expires_at":%s,"obtained_at":%s}\n' \
	"$(( $(date +%s) + 3000 ))" "$(date +%s)" >"$T/state/tokens/scanner.json"
bk_run "$URI" 56 alice "t" "" "$T/doc.pdf"
is "$BACKEND_RC" "$RC_STOP" "334 error challenge: exit STOP"
like "$BACKEND_ERR" '^STATE: \+com\.print2mail-oauth-app-refused-error$' "334 error challenge: the app-only token fix"
like "$(error_lines)" '334 \{"status": "401"' "334 error challenge: the decoded challenge quoted"
check_one_error "334 error challenge"
rm -f "$T/state/tokens/scanner.json"

# EHLO keywords in lower case (RFC 5321: case-insensitive): still STARTTLS
# and AUTH, never a mail sent without signing in
smtp_script "{\"token_db\": \"$T/tokend/tokens.jsonl\", \"ehlo_lowercase\": true}"
N=$(mail_count)
bk_run "$URI" 57 alice "t" "" "$T/doc.pdf"
is "$BACKEND_RC" "$RC_OK" "lower-case EHLO keywords: delivered"
is "$(mail_count)" "$((N + 1))" "lower-case EHLO keywords: one more message"
like "$(last_session)" '"auth_mech": ?"XOAUTH2"' "lower-case EHLO keywords: signed in with XOAUTH2"

# a device-code account nobody signed in to: the admin's to fix, so the
# queue stops with the login command; no user is asked for a password
write_account office "from = office@contoso.com" "auth = xoauth2" "oauth_flow = device-code" \
	"tenant = contoso.onmicrosoft.com" "client_id = $CLIENT" "oauth_authority = $AUTHORITY"
N=$(token_requests)
bk_run "print2mail://office?to=bob@contoso.com" 58 alice "t" "" "$T/doc.pdf"
is "$BACKEND_RC" "$RC_STOP" "device-code account without a login: queue stopped"
like "$BACKEND_ERR" '^STATE: \+com\.print2mail-no-login-error' "device-code account without a login: state reason"
like "$(error_lines)" 'print2mailctl login' "device-code account without a login: ERROR names print2mailctl login"
unlike "$BACKEND_ERR" 'auth-info-required' "device-code account without a login: no password asked of the user"
is "$(token_requests)" "$N" "device-code account without a login: no token request"

# no secret anywhere
TOKENS=$(sed -n 's/.*"access_token": *"\([^"]*\)".*/\1/p' "$T/tokend/tokens.jsonl" | sort -u)
ok "$([ -n "$TOKENS" ]; echo $?)" "tokens were issued (the leak check below has something to look for)"
LEAK=0
for tok in $TOKENS "$SECRET"; do
	grep -qF -- "$tok" "$T/all.err" "$T/syslog.txt" && LEAK=1
done
is "$LEAK" 0 "no client secret or access token on stderr or in syslog"

done_testing
