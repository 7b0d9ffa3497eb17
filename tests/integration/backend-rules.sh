#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# backend-rules.sh - failures classified where they are known (issue 13):
# a port without STARTTLS or without a usable AUTH mechanism stops the queue
# naming port and tls (nothing sent, no credential offered).
set -u
. "$top_srcdir/tests/integration/backend-lib.sh"
bk_start
printf 'small document\n' >"$T/doc.txt"
URI="print2mail://scanner?to=bob@contoso.com"
ehlo_json() {   # ehlo_json WHEN_TLS LINE...: a scripted EHLO answer
	local when="$1" l out=""
	shift
	for l in "$@"; do out="$out${out:+, }\"$l\""; done
	printf '{"stage": "ehlo", "when_tls": %s, "reply": [%s], "suffix": false}' "$when" "$out"
}

# ---- no STARTTLS on the port: configuration, not a retry ----
bk_users "\"reject\": [$(ehlo_json false "250-m365smtp.test Hello" "250-SIZE 157286400" "250 AUTH LOGIN")]"
N=$(session_count)
bk_run "$URI" 301 alice "t" "" "$T/doc.txt"
is "$BACKEND_RC" "$RC_STOP" "no STARTTLS: exit STOP (not a retry)"
like "$BACKEND_ERR" '^STATE: \+com\.print2mail-no-starttls-error$' "no STARTTLS: state reason"
like "$(error_lines)" 'port = 587.*tls = starttls' "no STARTTLS: the fix names port and tls"
like "$(error_lines)" 'does not offer STARTTLS' "no STARTTLS: the detail says what the server lacked"
check_one_error "no STARTTLS"
wait_lines "$SPOOL/sessions.jsonl" $((N + 1))
unlike "$(session_field "$(last_session)" commands)" 'AUTH|MAIL' "no STARTTLS: no AUTH or MAIL reached the server"
like "$(syslog_line 1)" 'job=301 .*outcome=account .*rule=no-starttls' "no STARTTLS: syslog rule"

# ---- STARTTLS, but no AUTH mechanism we use after it (a relay/MX port) ----
for offer in "250 AUTH PLAIN" "250 8BITMIME"; do
	bk_users "\"reject\": [$(ehlo_json true "250-m365smtp.test Hello" "250-SIZE 157286400" "$offer")]"
	N=$(session_count)
	bk_run "$URI" 302 alice "t" "" "$T/doc.txt"
	is "$BACKEND_RC" "$RC_STOP" "EHLO '$offer' under TLS: exit STOP"
	like "$BACKEND_ERR" '^STATE: \+com\.print2mail-no-auth-mechanism-error$' "EHLO '$offer': state reason"
	like "$(error_lines)" 'port = 587.*tls = starttls' "EHLO '$offer': the fix names port and tls"
	check_one_error "EHLO '$offer'"
	wait_lines "$SPOOL/sessions.jsonl" $((N + 1))
	unlike "$(session_field "$(last_session)" commands)" 'AUTH|MAIL' "EHLO '$offer': no AUTH or MAIL: nothing sent unauthenticated"
done
is "$(mail_count)" 0 "nothing delivered"

# ---- the debug transcript of a delivered AUTH LOGIN job (LogLevel debug shows DEBUG: lines) ----
bk_users
bk_run "$URI" 303 alice "t" "" "$T/doc.txt"
is "$BACKEND_RC" "$RC_OK" "transcript job: delivered"
D=$(printf '%s\n' "$BACKEND_ERR" | grep '^DEBUG: ')
like "$D" '^DEBUG: smtp \+[0-9.]+s \* Connected to ' "transcript: the connection"
like "$D" '^DEBUG: smtp \+[0-9.]+s C: EHLO ' "transcript: EHLO sent"
like "$D" '^DEBUG: smtp \+[0-9.]+s S: 250-STARTTLS' "transcript: EHLO keywords before TLS"
like "$D" '^DEBUG: smtp \+[0-9.]+s \* SSL connection using TLSv1\.[23] / [A-Z0-9_-]+' "transcript: TLS version and cipher"
like "$D" '^DEBUG: smtp \+[0-9.]+s S: 250-AUTH LOGIN XOAUTH2' "transcript: AUTH mechanisms after TLS"
like "$D" '^DEBUG: smtp \+[0-9.]+s C: AUTH LOGIN$' "transcript: AUTH mechanism"
like "$D" '^DEBUG: smtp \+[0-9.]+s C: <hidden>$' "transcript: AUTH payload hidden"
like "$D" '^DEBUG: smtp \+[0-9.]+s S: 235 ' "transcript: AUTH answer"
like "$D" '^DEBUG: smtp \+[0-9.]+s C: RCPT TO:<bob@contoso\.com>' "transcript: RCPT"
like "$D" '^DEBUG: smtp: done after [0-9.]+ s \(DNS [0-9.]+ s, connected [0-9.]+ s, TLS up [0-9.]+ s\)' "transcript: timings"

# ---- polite endings: QUIT after a refusal (Postfix logs "lost connection after AUTH" otherwise) ----
for case in "auth|535 5.7.3 Authentication unsuccessful" \
	"rcpt|550 5.4.1 Recipient address rejected: Access denied. AS(201806281)" \
	"data_end|554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException"; do
	stage=${case%%|*} reply=${case#*|}
	bk_users "\"reject\": [{\"stage\": \"$stage\", \"reply\": \"$reply\"}]"
	N=$(session_count)
	bk_run "$URI" 304 alice "t" "" "$T/doc.txt"
	like "$(error_lines)" "${reply:0:12}" "refused at $stage: the refusal is reported"
	wait_lines "$SPOOL/sessions.jsonl" $((N + 1))
	S=$(last_session)
	like "$(session_field "$S" commands)" ',QUIT$' "refused at $stage: the last command is QUIT"
	is "$(session_field "$S" closed)" quit "refused at $stage: the server saw a QUIT, not a lost connection"
	like "$BACKEND_ERR" '^DEBUG: smtp \+[0-9.]+s S: 221 ' "refused at $stage: the server's 221 is read before closing"
done
bk_users

# ---- print2mailctl test: the final state, and a real way to release a job ----
CTL="$top_builddir/helper/print2mailctl"
ctl_test() {
	env PRINT2MAIL_BACKEND="$P2M_BACKEND" PRINT2MAIL_CONF="$PRINT2MAIL_CONF" \
		PRINT2MAIL_LOCALEDIR="$PRINT2MAIL_LOCALEDIR" LANG=C.UTF-8 "$CTL" test scanner --to bob@contoso.com 2>&1
}
out=$(ctl_test)
like "$out" '^Delivered' "ctl test, delivered: says so"
unlike "$out" 'connecting-to-device' "ctl test, delivered: no stale connecting-to-device state"
bk_users "\"reject\": [{\"stage\": \"rcpt\", \"reply\": \"550 5.4.1 Recipient address rejected: Access denied. AS(201806281)\"}]"
out=$(ctl_test)
like "$out" 'held until corrected' "ctl test, refused recipient: a print job would be held"
like "$out" 'lp -i QUEUE-JOB -o mailto=ADDRESS -H resume' "ctl test, refused recipient: the fix names how to release a job"
unlike "$out" 'print2mail-test' "ctl test: no made-up queue name in the fix"
bk_users "\"reject\": [{\"stage\": \"auth\", \"reply\": \"535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.\"}]"
out=$(ctl_test)
like "$out" 'cupsenable QUEUE' "ctl test, account refusal: names cupsenable"
like "$out" '^Printer state: com\.print2mail-auth-off-tenant-error$' "ctl test, account refusal: the reason left set"
bk_users

# ---- token-endpoint refusals of public reports, sent by the local endpoint ----
CLIENT=11111111-aaaa-4bbb-8ccc-000000000001
SECRET='app-S3cret-value~client'
write_secret "$T/client.secret" "$SECRET"
tokend_config "{\"clients\": {\"$CLIENT\": {\"secret\": \"$SECRET\"}}}"
p2m_start_tokend
write_global
write_account scanner "from = scanner@contoso.com" "auth = xoauth2" "oauth_flow = client-credentials" \
	"tenant = contoso.onmicrosoft.com" "client_id = $CLIENT" \
	"client_secret_file = $T/client.secret" "oauth_authority = $AUTHORITY"
JOB=310
# token_case RULE FIX-REGEX ERROR CODE DESCRIPTION
token_case() {
	tokend_config "{\"clients\": {\"$CLIENT\": {\"secret\": \"$SECRET\"}},
		\"errors\": {\"*\": {\"error\": \"$3\", \"code\": $4, \"description\": \"$5\"}}}"
	JOB=$((JOB + 1))
	bk_run "$URI" "$JOB" alice "t" "" "$T/doc.txt"
	is "$BACKEND_RC" "$RC_STOP" "AADSTS$4: exit STOP"
	like "$BACKEND_ERR" "^STATE: \\+com\\.print2mail-$1-error\$" "AADSTS$4: state reason $1"
	like "$(error_lines)" "$2" "AADSTS$4: the fix names $2"
	check_one_error "AADSTS$4"
}
# Azure/login#180; AzureAD/microsoft-authentication-library-for-java#984
token_case aad-clock 'timedatectl' invalid_client 700024 \
	"AADSTS700024: Client assertion is not within its valid time range. Current time: 2025-08-29T05:47:32.1501147Z, assertion valid from 1970-01-01T00:00:00.0000000Z, expiry time of assertion 2025-08-29T00:30:05.0000000Z."
# AzureAD/azure-activedirectory-library-for-java#46 (one code here: tokend sends one)
token_case aad-clock-skew 'timedatectl' invalid_client 70002 \
	"AADSTS70002: Error validating credentials. AADSTS50012: Client assertion is not within its valid time range."
# Worklytics/psoxy#74
token_case aad-app-disabled 'Enabled for users to sign-in' unauthorized_client 7000112 \
	"AADSTS7000112: Application '8b0c024c-7823-3774-2da8-a8d8b7ed331a'(worklytics-azuread-connector) is disabled."
# OfficeDev/O365-ASPNETMVC-Start#42
token_case aad-wrong-account "work account, or fix tenant" invalid_request 50020 \
	"AADSTS50020: User account 'testing@outlook.com' from identity provider 'live.com' does not exist in tenant 'Contoso' and cannot access the application."
# MicrosoftDocs/azure-docs#43780
token_case aad-request-altered 'oauth_authority and any proxy' invalid_request 900144 \
	"AADSTS900144: The request body must contain the following parameter: 'grant_type'."
# a delivered XOAUTH2 job: the token request in the transcript, no secret or token anywhere
tokend_config "{\"clients\": {\"$CLIENT\": {\"secret\": \"$SECRET\", \"mailbox\": \"scanner@contoso.com\"}}}"
smtp_script "{\"token_db\": \"$T/tokend/tokens.jsonl\"}"
rm -rf "$T/state"
bk_run "$URI" 320 alice "t" "" "$T/doc.txt"
is "$BACKEND_RC" "$RC_OK" "XOAUTH2 transcript job: delivered"
D=$(printf '%s\n' "$BACKEND_ERR" | grep '^DEBUG: ')
like "$D" "^DEBUG: oauth: POST $AUTHORITY/contoso\\.onmicrosoft\\.com/oauth2/v2\\.0/token grant_type=client_credentials scope=https://outlook\\.office365\\.com/\\.default$" "transcript: token endpoint, grant and scope"
like "$D" '^DEBUG: oauth: HTTP 200 after [0-9.]+ s' "transcript: token HTTP status and time"
like "$D" '^DEBUG: smtp \+[0-9.]+s C: AUTH XOAUTH2 <hidden>$' "transcript: XOAUTH2 mechanism, its initial response hidden"
like "$D" '^DEBUG: smtp \+[0-9.]+s S: 235 ' "transcript: XOAUTH2 answer"
like "$(grep -h '^DEBUG: oauth: refused' "$T/all.err")" 'error=invalid_client AADSTS700024, rule aad-clock' "transcript: the AADSTS code of a refusal"
# a delivered job while the client secret expires within 14 days: the queue's
# message (the last INFO line, printer-state-message) is the warning, in the job's language
EXP=$(date -u -d '+5 days' +%Y-%m-%d)
write_global
write_account scanner "from = scanner@contoso.com" "auth = xoauth2" "oauth_flow = client-credentials" \
	"tenant = contoso.onmicrosoft.com" "client_id = $CLIENT" "client_secret_file = $T/client.secret" \
	"client_secret_expires = $EXP" "oauth_authority = $AUTHORITY"
bk_run "$URI" 321 alice "t" "" "$T/doc.txt"
is "$BACKEND_RC" "$RC_OK" "secret expiring: the job is delivered"
like "$BACKEND_ERR" '^STATE: \+com\.print2mail-secret-expiring-warning$' "secret expiring: warning reason"
like "$(printf '%s\n' "$BACKEND_ERR" | grep '^INFO: ' | tail -n 1)" "^INFO: Expires on $EXP: The client secret of this account expires soon\\. .*client_secret_file" "secret expiring: the queue's last message is the warning with its date and fix"
JOB_LANG=fr_FR.UTF-8 bk_run "$URI" 322 alice "t" "" "$T/doc.txt"
like "$(printf '%s\n' "$BACKEND_ERR" | grep '^INFO: ' | tail -n 1)" "^INFO: Expire le $EXP : .*client_secret_file" "secret expiring: the warning in the job's language"
bk_run "$URI" 323 alice "t" "" "$T/doc.txt"
like "$(printf '%s\n' "$BACKEND_ERR" | grep '^INFO: ' | tail -n 1)" '^INFO: Expires on ' "secret expiring: still the last message on the next job"

# every secret and token this test used, also base64-encoded as AUTH carries them
TOKENS=$("$PYTHON3" -c 'import json,sys
for l in open(sys.argv[1]):
    l = l.strip()
    if l: print(json.loads(l).get("token") or json.loads(l).get("access_token") or "")' "$T/tokend/tokens.jsonl" 2>/dev/null)
ok "$([ -n "$TOKENS" ]; echo $?)" "the endpoint issued a token to look for"
ALL=$(cat "$T/all.err" "$T/syslog.txt")
for s in "$PASSWORD" "$SECRET" $TOKENS "$(printf '%s' "$PASSWORD" | base64 -w0)" \
	"$(printf 'user=scanner@contoso.com\001auth=Bearer %s\001\001' "$(printf '%s\n' $TOKENS | head -n 1)" | base64 -w0)"; do
	[ -n "$s" ] || continue
	case "$ALL" in *"$s"*) ok 1 "a secret or token (${#s} bytes) appears on stderr or in syslog" ;;
	*) ok 0 "secret or token of ${#s} bytes: not on stderr or in syslog" ;; esac
done
unlike "$(cat "$T/all.err" "$T/syslog.txt")" 'Pa55-w0rd' "no password on stderr or in syslog"
done_testing
