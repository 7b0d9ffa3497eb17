#!/bin/bash
# backend-peruser.sh - send_as = job-user: the job goes out as the user who
# printed (From and login = user_address), with the password cupsd supplied
# (AuthInfoRequired) for this job only; no credential, or a refused one,
# holds the job for authentication instead of stopping the queue.
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

N=$(session_count)
bk_run "$URI" 72 carol "t" "" "$T/doc.pdf"
is "$BACKEND_RC" "$RC_AUTH" "no credential for the user: exit AUTH_REQUIRED"
like "$BACKEND_ERR" '^ATTR: auth-info-required=username,password$' "no credential: asks cupsd for username and password"
check_one_error "no credential"
unlike "$BACKEND_ERR" '^STATE: \+com\.print2mail' "no credential: the queue is not marked (other users go on)"
is "$(session_count)" "$N" "no credential: no connection"

bk_run "$URI" 73 alice "t" "" "$T/doc.pdf" AUTH_USERNAME=alice AUTH_PASSWORD='wrong-Pw-S3cret'
is "$BACKEND_RC" "$RC_AUTH" "wrong user password: exit AUTH_REQUIRED, not STOP"
like "$(error_lines)" '535 5\.7\.3 Authentication unsuccessful' "wrong user password: reply quoted"
like "$BACKEND_ERR" '^ATTR: auth-info-required=username,password$' "wrong user password: asks again"
unlike "$BACKEND_ERR" '^STATE: \+com\.print2mail' "wrong user password: the queue is not stopped"
check_one_error "wrong user password"

bk_run "$URI" 74 'bad user!' "t" "" "$T/doc.pdf"
unlike "$BACKEND_RC" "^[01]$" "user name that makes no address: neither OK nor FAILED"
check_one_error "user name that makes no address"

unlike "$(cat "$T/all.err" "$T/syslog.txt")" 'S3cret' "no password on stderr or in syslog"
done_testing
