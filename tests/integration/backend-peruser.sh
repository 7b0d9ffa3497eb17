#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# backend-peruser.sh - send_as = job-user: the job goes out as the user who
# printed (From and login = user_address), with the password cupsd supplied
# (AuthInfoRequired) for this job only; no credential, or a refused one,
# holds the job for authentication instead of stopping the queue; a user name
# cupsd did not authenticate (no AUTH_UID of that user, no AUTH_USERNAME/
# AUTH_PASSWORD pair for it) is held and selects nothing.
set -u
. "$top_srcdir/tests/integration/backend-lib.sh"
p2m_setup
p2m_start_syslog
ALICE_PW='alice-Pw-S3cret!'
smtp_script "{\"users\": {\"alice@contoso.com\": \"$ALICE_PW\"}}"
p2m_start_smtp
write_global "key_file = $T/store.key"
write_account people "auth = login" "send_as = job-user" "user_address = %u@contoso.com"
make_pdf "$T/doc.pdf" 10000
URI="print2mail://people?to=bob@contoso.com"

bk_run "$URI" 71 alice "mine" "" "$T/doc.pdf" AUTH_USERNAME=alice AUTH_PASSWORD="$ALICE_PW"
is "$BACKEND_RC" "$RC_OK" "cupsd-supplied password: exit OK"
M=$(last_mail)
is "$(mail_field "$M" From)" "alice@contoso.com" "From is the user's address"
is "$(meta_field "$M" mail_from)" "alice@contoso.com" "envelope sender is the user's address"
is "$(meta_field "$M" auth_user)" "alice@contoso.com" "signed in as the user"
like "$(syslog_line 1)" 'job=71 .*user=alice .*outcome=delivered' "syslog: delivered for alice"

# nobody is a real account: AUTH_UID proves the job is nobody's, who has no
# stored credential.
N=$(session_count)
bk_run "$URI" 72 nobody "t" "" "$T/doc.pdf" AUTH_UID="$(id -u nobody)"
is "$BACKEND_RC" "$RC_AUTH" "no credential for the user: exit AUTH_REQUIRED"
like "$BACKEND_ERR" '^ATTR: auth-info-required=username,password$' "no credential: asks cupsd for username and password"
check_one_error "no credential"
unlike "$BACKEND_ERR" '^STATE: \+com\.print2mail' "no credential: the queue is not marked (other users go on)"
is "$(session_count)" "$N" "no credential: no connection"

# ---- claimed, not proven (issue 9) --------------------------------------------
# unproven CASE-NAME JOB-USER [VAR=VALUE ...]: held (not AUTH_REQUIRED, not
# STOP), the message names the queue setting, nothing reaches the server.
unproven() {
	local desc="$1" user="$2" n
	shift 2
	n=$(session_count)
	bk_run "$URI" 75 "$user" "t" "" "$T/doc.pdf" "$@"
	is "$BACKEND_RC" "$RC_HOLD" "$desc: held"
	like "$(error_lines)" 'printer-op-policy=print2mail' "$desc: the message names the queue setting"
	unlike "$BACKEND_ERR" '^STATE: \+com\.print2mail' "$desc: the queue is not marked"
	unlike "$BACKEND_ERR" '^ATTR: auth-info-required' "$desc: the queue's auth-info-required is left alone"
	check_one_error "$desc"
	is "$(session_count)" "$n" "$desc: no connection to the mail server"
}
unproven "no AUTH_* at all" alice
unproven "AUTH_USERNAME=alice with an empty AUTH_PASSWORD" alice AUTH_USERNAME=alice AUTH_PASSWORD=
unproven "AUTH_USERNAME=alice alone" alice AUTH_USERNAME=alice
unproven "alice's password for a job of mallory" mallory AUTH_USERNAME=alice AUTH_PASSWORD="$ALICE_PW"
unproven "AUTH_UID of nobody for a job of alice" alice AUTH_UID="$(id -u nobody)"
unproven "AUTH_UID 0 for a job of root" root AUTH_UID=0
unproven "AUTH_UID not a number" nobody AUTH_UID="$(id -u nobody)x"
like "$(syslog_line 3)" 'outcome=message .*rule=user-unproven' "syslog: held as user-unproven"

bk_run "$URI" 73 alice "t" "" "$T/doc.pdf" AUTH_USERNAME=alice AUTH_PASSWORD='wrong-Pw-S3cret'
is "$BACKEND_RC" "$RC_AUTH" "wrong user password: exit AUTH_REQUIRED, not STOP"
like "$(error_lines)" '535 5\.7\.3 Authentication unsuccessful' "wrong user password: reply quoted"
like "$BACKEND_ERR" '^ATTR: auth-info-required=username,password$' "wrong user password: asks again"
unlike "$BACKEND_ERR" '^STATE: \+com\.print2mail' "wrong user password: the queue is not stopped"
check_one_error "wrong user password"

# ---- one user's mailbox refusal holds only that user's job (issue 9) -------------
# refused STAGE REPLY RULE: alice's own credential, the server refuses at STAGE:
# held (never STOP), the queue is not marked, the fix and how to release it shown.
refused() {
	local stage="$1" reply="$2" rule="$3"
	smtp_script "{\"users\": {\"alice@contoso.com\": \"$ALICE_PW\"}, \"reject\": [{\"stage\": \"$stage\", \"reply\": \"$reply\"}]}"
	bk_run "$URI" 76 alice "t" "" "$T/doc.pdf" AUTH_USERNAME=alice AUTH_PASSWORD="$ALICE_PW"
	is "$BACKEND_RC" "$RC_HOLD" "$rule with alice's own credential: held, not STOP"
	unlike "$BACKEND_ERR" '^STATE: \+com\.print2mail' "$rule: the shared queue is not marked"
	like "$(error_lines)" 'Only this job is held.*lp -i scan2mail-76 -H resume' "$rule: says only this job is held and how to release it"
	check_one_error "$rule per user"
}
refused auth '535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox. Visit https://aka.ms/smtp_auth_disabled for more information.' auth-off-mailbox
refused auth '535 5.7.139 Authentication unsuccessful, the request did not meet the criteria to be authenticated successfully. Contact your administrator.' ca-policy
refused auth '535 5.7.139 Authentication unsuccessful, basic authentication is disabled.' basic-auth-off
refused auth '535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information.' auth-off-tenant
refused data_end '550 5.7.60 SMTP; Client does not have permissions to send as this sender' send-as-denied
wait_lines "$T/syslog.txt" 15
like "$(grep "rule=ca-policy" "$T/syslog.txt")" "outcome=message action=held " "syslog: a per-user refusal is logged as held"
smtp_script "{\"users\": {\"alice@contoso.com\": \"$ALICE_PW\"}}"

bk_run "$URI" 74 'bad user!' "t" "" "$T/doc.pdf"
unlike "$BACKEND_RC" "^[01]$" "user name that makes no address: neither OK nor FAILED"
check_one_error "user name that makes no address"

unlike "$(cat "$T/all.err" "$T/syslog.txt")" 'S3cret' "no password on stderr or in syslog"
done_testing
