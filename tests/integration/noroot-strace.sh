#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# noroot-strace.sh - no TCP connection while holding root, in any process of
# the backend or the helper: strace -f of the backend run as cupsd runs it
# (root) for AUTH LOGIN and for XOAUTH2 with an empty token cache (helper
# down, helper up), and of print2mail-helper while it fetches a token and
# while it runs a device-code login; a helper whose unprivileged spawner
# died stops instead of failing every refresh.
# Every AF_INET connect() must come from a process whose uids are no longer
# 0 (tests/integration/strace-root.py follows uids per pid across forks).
set -u
. "$top_srcdir/tests/integration/backend-lib.sh"
. "$top_srcdir/tests/integration/helper-lib.sh"
[ "$(id -u)" = 0 ] || skip_all "needs root: the backend drops privileges only when cupsd runs it as root"
STRACE=$(command -v strace) || { echo "Bail out! strace is missing (scripts/deps.sh installs it)"; exit 1; }
TRACE="connect,setuid,setresuid,setgid,setresgid,setgroups,clone,clone3,fork,vfork"
ANALYZE="$top_srcdir/tests/integration/strace-root.py"

p2m_setup
p2m_start_syslog
CLIENT=11111111-aaaa-4bbb-8ccc-000000000009
SECRET='app-S3cret-value~noroot'
tokend_config "{\"clients\": {\"$CLIENT\": {\"secret\": \"$SECRET\", \"mailbox\": \"scanner@contoso.com\"},
	\"pub1\": {\"public_client\": true, \"tenant\": \"contoso.com\"}}, \"device_interval\": 1, \"device_approve_after\": 2}"
p2m_start_tokend
smtp_script "{\"users\": {\"scanner@contoso.com\": \"$PASSWORD\"}, \"token_db\": \"$T/tokend/tokens.jsonl\"}"
p2m_start_smtp
write_secret "$T/password" "$PASSWORD"
write_secret "$T/client.secret" "$SECRET"
mkdir -p "$T/run"
make_pdf "$T/doc.pdf" 20000
URI="print2mail://scanner?to=bob@contoso.com"

login_conf() {
	write_global "helper_socket = $T/run/helper.sock"
	write_account scanner "from = scanner@contoso.com" "auth = login" "password_file = $T/password"
}
xoauth2_conf() {
	write_global "helper_socket = $T/run/helper.sock" "key_file = $T/store.key"
	write_account scanner "from = scanner@contoso.com" "auth = xoauth2" "oauth_flow = client-credentials" \
		"tenant = contoso.onmicrosoft.com" "client_id = $CLIENT" \
		"client_secret_file = $T/client.secret" "oauth_authority = $AUTHORITY"
}

# traced_backend NAME JOB: run the backend under strace -f; the report of
# strace-root.py lands in $T/NAME.connects.
traced_backend() {
	P2M_WRAPPER="$STRACE -f -qq -o $T/$1.strace -e trace=$TRACE" bk_run "$URI" "$2" alice "noroot $1" "" "$T/doc.pdf"
	"$PYTHON3" "$ANALYZE" "$T/$1.strace" >"$T/$1.connects"
}
# check_connects NAME DESC PORT...: no connect() as root; one as another user to each PORT.
check_connects() {
	local name="$1" desc="$2" p
	shift 2
	is "$(grep -c '^root' "$T/$name.connects")" 0 "$desc: no TCP connect() while holding root"
	[ "$(grep -c '^root' "$T/$name.connects")" = 0 ] || diag "$(cat "$T/$name.connects")"
	for p in "$@"; do
		grep -q "^user .* port=$p\$" "$T/$name.connects"
		ok $? "$desc: connect() to port $p as an unprivileged user"
	done
}

# 1. AUTH LOGIN: the password is read as root, SMTP runs as lp.
login_conf
traced_backend login 71
is "$BACKEND_RC" "$RC_OK" "AUTH LOGIN: exit OK"
is "$(mail_count)" 1 "AUTH LOGIN: delivered"
check_connects login "AUTH LOGIN" "$SMTP_PORT"

# 2. XOAUTH2, empty cache, no helper: the backend fetches the token itself.
xoauth2_conf
rm -rf "$T/state/tokens"
traced_backend nohelper 72
is "$BACKEND_RC" "$RC_OK" "XOAUTH2, helper down: exit OK"
is "$(mail_count)" 2 "XOAUTH2, helper down: delivered"
is "$(token_requests client_credentials)" 1 "XOAUTH2, helper down: one token request"
check_connects nohelper "XOAUTH2, helper down" "$TOKEN_PORT" "$SMTP_PORT"
ok "$([ -z "$(find "$T/state" -newer "$T/doc.pdf" ! -user root)" ]; echo $?)" \
	"XOAUTH2, helper down: everything in the store is still root's"

# 3. XOAUTH2, empty cache, helper up (not traced here; it is below).
rm -rf "$T/state/tokens"
start_helper
wait_for 20 at_least 2 client_credentials
ok $? "the helper fetched the account's token at start"
# The request is counted before the helper stores its answer: removing the
# cache before the file exists would let the late write serve the backend.
wait_for 10 test -s "$T/state/tokens/scanner.json"
rm -rf "$T/state/tokens"
before=$(token_requests client_credentials)
traced_backend helper 73
is "$BACKEND_RC" "$RC_OK" "XOAUTH2, helper up: exit OK"
is "$(mail_count)" 3 "XOAUTH2, helper up: delivered"
check_connects helper "XOAUTH2, helper up" "$SMTP_PORT"
is "$(grep -c "port=$TOKEN_PORT\$" "$T/helper.connects")" 0 \
	"XOAUTH2, helper up: the backend asked the helper instead of the token endpoint"
is "$(token_requests client_credentials)" $((before + 1)) "XOAUTH2, helper up: the helper made one token request"
stop_helper

# 4. The helper itself, traced while it fetches a token at start.
trace_helper_start_fetch "$T/helperd.strace"
"$PYTHON3" "$ANALYZE" "$T/helperd.strace" >"$T/helperd.connects"
check_connects helperd "traced helper" "$TOKEN_PORT"
ok "$([ -z "$(find "$T/state" ! -user root)" ]; echo $?)" "traced helper: everything in the store is root's"
is "$(find "$T/state/tokens" -type f -perm /077 | wc -l)" 0 "traced helper: token files stay 0600"

# 5. The helper's device-code login (print2mailctl login), traced: the
# devicecode request and every poll run in its unprivileged children.
{
	printf '\n[account desk]\nserver = 127.0.0.1\nport = %s\nca_file = %s\nfrom = desk@contoso.com\n' \
		"$SMTP_PORT" "$T/certs/ca.pem"
	printf 'auth = xoauth2\noauth_flow = device-code\ntenant = contoso.com\nclient_id = pub1\noauth_authority = %s\n' \
		"$AUTHORITY"
} >>"$PRINT2MAIL_CONF"
"$STRACE" -f -qq -o "$T/devlogin.strace" -e trace="$TRACE" \
	"$HELPER" --foreground --config "$PRINT2MAIL_CONF" >>"$T/helper.log" 2>&1 &
STRACE_PID=$!
P2M_PIDS="$P2M_PIDS $STRACE_PID"
wait_for 10 test -S "$T/run/helper.sock"
out=$("$CTL" login desk 2>&1)
is $? 0 "traced helper: print2mailctl login desk signed in"
like "$out" 'enter the code [A-Z]{4}-[A-Z]{4}' "traced helper: the login showed the user code"
kill -TERM "$(pgrep -P "$STRACE_PID" | head -n 1)" 2>/dev/null
wait "$STRACE_PID" 2>/dev/null
"$PYTHON3" "$ANALYZE" "$T/devlogin.strace" >"$T/devlogin.connects"
check_connects devlogin "traced helper, device login" "$TOKEN_PORT"
ok "$([ "$(grep -c "^user .* port=$TOKEN_PORT\$" "$T/devlogin.connects")" -ge 3 ]; echo $?)" \
	"traced helper, device login: devicecode request and polls ($(grep -c "port=$TOKEN_PORT\$" "$T/devlogin.connects")) all unprivileged"
grep -q '"refresh_token"' "$T/state/tokens/desk.json"
ok $? "traced helper, device login: the token is stored (by root)"
is "$(stat -c %U:%a "$T/state/tokens/desk.json")" "root:600" "traced helper, device login: token file root's, 0600"

# 6. A helper whose unprivileged spawner died cannot renew anything: it
# says so and exits non-zero (systemd restarts it), instead of failing
# every refresh for ever.
start_helper
SPAWNER=$(pgrep -P "$HELPER_PID" | head -n 1)
ok "$([ -n "$SPAWNER" ] && [ "$(stat -c %u "/proc/$SPAWNER")" != 0 ]; echo $?)" "the helper's spawner runs unprivileged"
kill -KILL "$SPAWNER"
wait_for 10 sh -c "! kill -0 $HELPER_PID 2>/dev/null"
ok $? "the helper stops when its spawner dies"
wait "$HELPER_PID"
ok "$([ $? -ne 0 ]; echo $?)" "... with a failure exit status"
like "$(cat "$T/helper.log")" 'token requests exited' "... and says why"

done_testing
