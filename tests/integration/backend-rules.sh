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
unlike "$(cat "$T/all.err" "$T/syslog.txt")" 'Pa55-w0rd' "no password on stderr or in syslog"
done_testing
