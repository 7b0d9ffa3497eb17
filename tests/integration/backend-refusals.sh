#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# backend-refusals.sh - what goes wrong before or around SMTP gives one clear
# ERROR line and the documented exit code, never a crash and never
# CUPS_BACKEND_FAILED: an untrusted certificate stops the queue before AUTH,
# an unsafe password file, a recipient outside allowed_recipients (held
# before any connection), missing document, unknown account, bad URI,
# broken config, no recipient, unreachable server, too large a message.
set -u
. "$top_srcdir/tests/integration/backend-lib.sh"
p2m_setup
p2m_start_syslog
bk_users
make_pdf "$T/doc.pdf" 20000
URI="print2mail://scanner?to=bob@contoso.com"

# ---- untrusted certificate: queue stopped, nothing sent after the handshake ----
p2m_start_smtp --cert-prefix untrusted-
bk_conf
bk_run "$URI" 10 alice "t" "" "$T/doc.pdf"
is "$BACKEND_RC" "$RC_STOP" "untrusted certificate: exit STOP"
like "$(error_lines)" 'certificate' "untrusted certificate: ERROR names the certificate"
like "$(error_lines)" 'not trusted: SSL certificate problem' "untrusted certificate: ERROR quotes the TLS error"
like "$BACKEND_ERR" '^STATE: \+com\.print2mail-tls-verify-error$' "untrusted certificate: state reason"
check_one_error "untrusted certificate"
wait_lines "$SPOOL/sessions.jsonl" 1
S=$(last_session)
ok "$([ -n "$S" ]; echo $?)" "untrusted certificate: the server saw the session"
unlike "$(session_field "$S" commands)" 'AUTH' "untrusted certificate: no AUTH command reached the server"
is "$(session_field "$S" auth_user)" "" "untrusted certificate: no user name reached the server"
is "$(mail_count)" 0 "untrusted certificate: nothing delivered"
like "$(syslog_line 1)" '^<51>print2mail\[[0-9]+\]: job=10 .*outcome=account action="queue stopped".*rule=tls-verify' "untrusted certificate: syslog err line"

# ---- the rest against a trusted server ----
p2m_start_smtp
bk_conf

# password file others can read: refused, says which file and what to do
chmod 0644 "$T/password"
N=$(session_count)
bk_run "$URI" 11 alice "t" "" "$T/doc.pdf"
is "$BACKEND_RC" "$RC_STOP" "password_file 0644: exit STOP"
like "$(error_lines)" "$T/password" "password_file 0644: ERROR names the file"
like "$(error_lines)" '(chmod|mode) *6?00|600' "password_file 0644: ERROR says mode 600"
check_one_error "password_file 0644"
is "$(session_count)" "$N" "password_file 0644: no connection"
chmod 0600 "$T/password"

# recipient outside allowed_recipients (default: the sender's domain), before any connection
bk_run "print2mail://scanner?to=eve@fabrikam.com" 12 alice "t" "" "$T/doc.pdf"
is "$BACKEND_RC" "$RC_HOLD" "recipient outside the sender's domain: exit HOLD"
like "$(error_lines)" 'eve@fabrikam\.com' "recipient denied: ERROR names the address"
like "$(error_lines)" 'allowed_recipients' "recipient denied: ERROR names the setting"
like "$(error_lines)" 'contoso\.com' "recipient denied: ERROR names the default domain"
like "$(error_lines)" 'lp -i scan2mail-12 -o mailto=' "recipient denied: ERROR says how to correct the job"
check_one_error "recipient denied"
is "$(session_count)" "$N" "recipient denied: no connection"
unlike "$BACKEND_ERR" '^STATE: \+com\.print2mail' "recipient denied: no state reason (the account is fine)"
bk_conf "allowed_recipients = bob@contoso.com *.fabrikam.com"
bk_run "print2mail://scanner" 13 alice "t" "mailto=bob@contoso.com mailcc=carol@contoso.com" "$T/doc.pdf"
is "$BACKEND_RC" "$RC_HOLD" "Cc outside an explicit allowed_recipients: exit HOLD"
like "$(error_lines)" 'carol@contoso\.com.*allowed_recipients = bob@contoso\.com, \*\.fabrikam\.com' "explicit list: ERROR names address and the list"
is "$(session_count)" "$N" "explicit list: no connection"
bk_conf

# no recipient at all
bk_run "print2mail://scanner" 14 alice "t" "" "$T/doc.pdf"
is "$BACKEND_RC" "$RC_HOLD" "no recipient: exit HOLD"
like "$(error_lines)" 'mailto' "no recipient: ERROR says how to name one"
check_one_error "no recipient"

# missing document
bk_run "$URI" 15 alice "t" "" "$T/nonexistent.pdf"
is "$BACKEND_RC" "$RC_HOLD" "missing document: exit HOLD (job kept)"
like "$(error_lines)" 'nonexistent\.pdf.*No such file' "missing document: ERROR names the file"
check_one_error "missing document"
: >"$T/empty.pdf"
bk_run "$URI" 16 alice "t" "" "$T/empty.pdf"
is "$BACKEND_RC" "$RC_HOLD" "empty document: exit HOLD"
like "$(error_lines)" 'empty' "empty document: ERROR says empty"

# unknown account
bk_run "print2mail://nosuch?to=bob@contoso.com" 17 alice "t" "" "$T/doc.pdf"
is "$BACKEND_RC" "$RC_STOP" "unknown account: exit STOP"
like "$(error_lines)" 'no \[account nosuch\]' "unknown account: ERROR names the account"
like "$BACKEND_ERR" '^STATE: \+com\.print2mail-account-error$' "unknown account: state reason"
check_one_error "unknown account"

# bad URIs, one with a secret in it that must not be echoed
bk_run "print2mail://scanner:Hunter2Secret@scanner?to=bob@contoso.com" 18 alice "t" "" "$T/doc.pdf"
is "$BACKEND_RC" "$RC_STOP" "URI with a password: exit STOP"
like "$(error_lines)" 'user name or password' "URI with a password: ERROR says why"
unlike "$BACKEND_ERR$(cat "$T/syslog.txt")" 'Hunter2Secret' "URI with a password: the password is not echoed"
check_one_error "URI with a password"
bk_run "ipp://printer/x" 19 alice "t" "" "$T/doc.pdf"
is "$BACKEND_RC" "$RC_STOP" "other scheme: exit STOP"
like "$(error_lines)" 'print2mail://' "other scheme: ERROR shows the expected form"

# broken config: file, line, key
printf '[global]\nstate_dir = %s\n\n[account scanner]\nserver = 127.0.0.1\nport = many\nfrom = scanner@contoso.com\npassword_file = %s\n' \
	"$T/state" "$T/password" >"$PRINT2MAIL_CONF"
bk_run "$URI" 20 alice "t" "" "$T/doc.pdf"
is "$BACKEND_RC" "$RC_STOP" "broken config: exit STOP"
like "$(error_lines)" "print2mail\\.conf:6.*port" "broken config: ERROR names file, line and key"
like "$BACKEND_ERR" '^STATE: \+com\.print2mail-config-error$' "broken config: state reason"
check_one_error "broken config"
rm -f "$PRINT2MAIL_CONF"
bk_run "$URI" 21 alice "t" "" "$T/doc.pdf"
is "$BACKEND_RC" "$RC_STOP" "missing config: exit STOP"
like "$(error_lines)" 'print2mail\.conf' "missing config: ERROR names the file"
bk_conf

# too large for max_message_size: held before connecting
N=$(session_count)
bk_conf "max_message_size = 10000"
bk_run "$URI" 22 alice "t" "" "$T/doc.pdf"
is "$BACKEND_RC" "$RC_HOLD" "over max_message_size: exit HOLD"
like "$(error_lines)" 'max_message_size = 10000' "over max_message_size: ERROR names the setting"
is "$(session_count)" "$N" "over max_message_size: no connection"
bk_conf

# server unreachable: retried later
PORT_SAVED=$SMTP_PORT
SMTP_PORT=1
bk_conf
bk_run "$URI" 23 alice "t" "" "$T/doc.pdf"
is "$BACKEND_RC" "$RC_RETRY" "server unreachable: exit RETRY"
like "$(error_lines)" '127\.0\.0\.1:1' "server unreachable: ERROR names server and port"
check_one_error "server unreachable"
SMTP_PORT=$PORT_SAVED
bk_conf

# wrong number of arguments
OUT=$(env -i PATH=/usr/bin:/bin PRINT2MAIL_CONF="$PRINT2MAIL_CONF" "$P2M_BACKEND" 1 2 3 2>&1; echo "rc=$?")
like "$OUT" '^ERROR: Usage: ' "wrong argument count: usage on an ERROR line"
unlike "$OUT" 'rc=(0|1)$' "wrong argument count: neither OK nor FAILED"

# nothing ever exits FAILED, nothing leaks the password
unlike "$(cat "$T/all.err" "$T/syslog.txt")" 'Pa55-w0rd' "no password on stderr or in syslog"

done_testing
