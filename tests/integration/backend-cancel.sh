#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# backend-cancel.sh - cupsd cancels a job with SIGTERM: while the document is
# still streaming (a stalled filter) or while the server is slow to answer,
# the backend exits at once, never sends the final ".", and nothing is
# delivered; the exit status is RETRY, never OK, so a SIGTERM cupsd did not
# send (systemctl restart cups) never records the job as completed.  After
# the final "." the server's answer is awaited 15 s at most; a token request
# that hangs ends with the cancel too.
set -u
. "$top_srcdir/tests/integration/faults-lib.sh"
bk_start
make_pdf "$T/big.pdf" 4000000
printf '#!/bin/sh\necho $$ >"%s/backend.pid"\nexec "$@"\n' "$T" >"$T/wrap.sh"
chmod 0755 "$T/wrap.sh"
mkfifo "$T/fifo"
URI="print2mail://scanner?to=bob@contoso.com"

# start_backend JOB FILE: the backend in the background, its pid in BPID.
start_backend() {
	rm -f "$T/backend.pid" "$T/rc"
	( P2M_WRAPPER="$T/wrap.sh" run_backend "$URI" "$1" alice "cancel me" "" "$2"; echo "$BACKEND_RC" >"$T/rc" ) &
	BG=$!
}
wait_pid_file() {
	local i=0
	while [ ! -s "$T/backend.pid" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
	BPID=$(cat "$T/backend.pid")
}
# ended_within N: the background run finished (polled N times 0.05 s); a hang fails.
ended_within() {
	local i=0
	while kill -0 "$BG" 2>/dev/null && [ $i -lt "$1" ]; do sleep 0.05; i=$((i + 1)); done
	! kill -0 "$BG" 2>/dev/null
}

# canceled_cleanly DESC N: SIGTERM to the backend; it exits within 3 s with
# RETRY, says "canceled" with no ERROR line, and sent nothing (N mails before).
canceled_cleanly() {
	kill -TERM "$BPID"
	ended_within 60; ok $? "$1: the backend exits within 3 s of SIGTERM"
	wait "$BG" 2>/dev/null
	is "$(cat "$T/rc" 2>/dev/null)" "$RC_RETRY" "$1: exit RETRY"
	like "$(cat "$T/backend.err")" '^INFO: The job was canceled' "$1: the job says canceled"
	unlike "$(cat "$T/backend.err")" '^ERROR:' "$1: no ERROR for a cancel"
	is "$(mail_count)" "$2" "$1: nothing sent"
}

# ---- 1. cancel while the document is still coming (stalled filter on stdin) ----
STDIN_FILE="$T/fifo"
start_backend 61 -
exec 3>"$T/fifo"
wait_pid_file
# The write completes only once the backend has read most of it, which it
# does only after the server's 354: the backend is inside DATA now.
head -c 1048576 "$T/big.pdf" >&3
# ... and blocked reading the rest (the kernel names the wait: [anon_]pipe_read).
i=0
while ! grep -q 'pipe_read$' "/proc/$BPID/wchan" 2>/dev/null && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
like "$(cat "/proc/$BPID/wchan" 2>/dev/null)" 'pipe_read$' "stalled document: the backend waits for the document"
kill -TERM "$BPID"
ended_within 200; ok $? "stalled document: the backend exits after SIGTERM"
exec 3>&-
wait "$BG" 2>/dev/null
is "$(cat "$T/rc" 2>/dev/null)" "$RC_RETRY" "stalled document: exit RETRY, never OK: nothing was delivered (a canceled job ignores it; a restart keeps the job)"
is "$(mail_count)" 0 "stalled document: nothing delivered"
wait_lines "$SPOOL/sessions.jsonl" 1
S=$(last_session)
like "$(session_field "$S" commands)" 'DATA' "stalled document: the session had reached DATA"
is "$(session_field "$S" delivered)" "" "stalled document: the server accepted nothing"
unlike "$(cat "$T/backend.err")" '^(ERROR|WARNING):' "stalled document: no ERROR for a cancel"
like "$(syslog_line 1)" 'job=61 .*outcome=canceled' "stalled document: syslog says canceled"

# ---- 2. cancel while the server stalls before its 354 ----
smtp_script "{\"users\": {\"scanner@contoso.com\": \"$PASSWORD\"}, \"delay\": {\"data\": 60}}"
start_backend 62 "$T/big.pdf"
wait_pid_file
i=0
while ! grep -q '^STATE: +connecting-to-device' "$T/backend.err" 2>/dev/null && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
kill -TERM "$BPID"
ended_within 100; ok $? "slow server: the backend exits after SIGTERM without waiting for the server"
wait "$BG" 2>/dev/null
is "$(cat "$T/rc" 2>/dev/null)" "$RC_RETRY" "slow server: exit RETRY, never OK"
is "$(mail_count)" 0 "slow server: nothing delivered"

# ---- 3. cancel after the final ".", the server slow to confirm it ----
# Its answer is awaited (cut earlier, the server may keep a message we
# never learn of), but only P2M_SMTP_CANCEL_GRACE_S (15 s): cupsd kills a
# backend 30 s after its SIGTERM, and a killed backend says nothing.
smtp_script "{\"users\": {\"scanner@contoso.com\": \"$PASSWORD\"}, \"delay\": {\"data_end\": 60}}"
make_pdf "$T/small.pdf" 20000
start_backend 63 "$T/small.pdf"
wait_pid_file
i=0
while ! grep -q '^DEBUG: smtp .* S: 354' "$T/backend.err" 2>/dev/null && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
sleep 1   # 20 KB over loopback: all of it, the final "." too, is sent
kill -TERM "$BPID"
t0=$(date +%s)
ended_within 500; ok $? "after the final dot: the backend exits after SIGTERM, before cupsd's 30 s kill"
elapsed=$(($(date +%s) - t0))
wait "$BG" 2>/dev/null
ok "$([ "$elapsed" -ge 13 ] && [ "$elapsed" -le 20 ]; echo $?)" \
	"after the final dot: the server's answer was awaited about 15 s (${elapsed} s)"
is "$(cat "$T/rc" 2>/dev/null)" "$RC_RETRY" "after the final dot: exit RETRY, never OK"
like "$(syslog_line 3)" 'job=63 .*outcome=canceled.*may have been delivered' \
	"after the final dot: syslog says the message may have been delivered"

# ---- 4. cancel while the token endpoint hangs (XOAUTH2, empty cache) ----
# The request runs in an unprivileged child the backend waits for as root:
# the wait ends with the cancel, and the child with it.
CLIENT=11111111-aaaa-4bbb-8ccc-000000000064
write_secret "$T/client.secret" "cancel-S3cret"
tokend_config "{\"clients\": {\"$CLIENT\": {\"secret\": \"cancel-S3cret\", \"mailbox\": \"scanner@contoso.com\"}}}"
p2m_start_tokend
p2m_start_proxy tk "$TOKEN_PORT"
proxy_control tk '{"stall": {"client_bytes": 0, "seconds": 60}}'
write_global "key_file = $T/store.key" "helper_socket = $T/no-helper.sock"
write_account scanner "from = scanner@contoso.com" "auth = xoauth2" "oauth_flow = client-credentials" \
	"tenant = contoso.onmicrosoft.com" "client_id = $CLIENT" "client_secret_file = $T/client.secret" \
	"oauth_authority = https://127.0.0.1:$PROXY_PORT"
N=$(mail_count)
start_backend 64 "$T/small.pdf"
wait_pid_file
i=0
while [ "$(proxy_stat tk stalls)" != 1 ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
is "$(proxy_stat tk stalls)" 1 "hung token endpoint: the backend waits for its answer"
kids=$(pgrep -P "$BPID" | tr '\n' ' ')
canceled_cleanly "hung token endpoint" "$N"
left=""
for k in $kids; do kill -0 "$k" 2>/dev/null && left="$left $k"; done
is "$left" "" "hung token endpoint: the unprivileged child is gone too (${kids:-none})"

# ---- 5. cancel while a hung print2mail-helper is asked for the token ----
# (it accepts the connection and never answers): the backend's wait for it
# ends with the cancel, as its wait for a store lock would.
mkdir -p "$T/run"
"$PYTHON3" - "$T/run/hung.sock" "$T/hung.accepted" <<'PY' &
import os, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(4)
conns = []
while True:
    c, _ = s.accept(); conns.append(c)
    open(sys.argv[2], "a").write("x")
PY
P2M_PIDS="$P2M_PIDS $!"
i=0
while [ ! -S "$T/run/hung.sock" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
write_global "key_file = $T/store.key" "helper_socket = $T/run/hung.sock"
write_account scanner "from = scanner@contoso.com" "auth = xoauth2" "oauth_flow = client-credentials" \
	"tenant = contoso.onmicrosoft.com" "client_id = $CLIENT" "client_secret_file = $T/client.secret" \
	"oauth_authority = https://127.0.0.1:$PROXY_PORT"
rm -rf "$T/state/tokens"
N=$(mail_count)
start_backend 65 "$T/small.pdf"
wait_pid_file
i=0
while [ ! -s "$T/hung.accepted" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
ok "$([ -s "$T/hung.accepted" ]; echo $?)" "hung helper: the backend asked it"
canceled_cleanly "hung helper" "$N"

done_testing
