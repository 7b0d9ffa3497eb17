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
unlike "$(cat "$T/all.err" "$T/syslog.txt")" "$SECRET" "no client secret on stderr or in syslog"
unlike "$(cat "$T/all.err" "$T/syslog.txt")" 'Pa55-w0rd' "no password on stderr or in syslog"
done_testing
