#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# faults-backend.sh - the network fails under the backend (tests/servers/faultproxy.py
# between it and the local mail server, timeout = 5): refused, dropped during
# the TLS handshake, after AUTH and in the middle of DATA, stalled shorter and
# longer than timeout.  Each fault: the job is retried (exit 6) with a message
# saying what happened, the server accepted nothing, and once the fault is gone
# the same job is delivered exactly once.
set -u
. "$top_srcdir/tests/integration/faults-lib.sh"

p2m_setup
p2m_start_syslog
bk_users
p2m_start_smtp
REAL_PORT=$SMTP_PORT
p2m_start_proxy px "$REAL_PORT"
SMTP_PORT=$PROXY_PORT
bk_conf "timeout = 5"
make_pdf "$T/doc.pdf" 1000000
# Big enough that a drop after 400 KB comes while the client is still
# writing: loopback socket buffers take a few MB without the server reading.
make_pdf "$T/big.pdf" 12000000
URI="print2mail://scanner?to=bob@contoso.com"
JOBNO=100

# fault NAME CONTROL-JSON RC MESSAGE-REGEX: one run of a new job under the
# fault, then the same job again with the fault gone.
fault() {
	local name="$1" control="$2" rc="$3" re="$4" before t0 doc="${DOC:-$T/doc.pdf}"
	JOBNO=$((JOBNO + 1))
	before=$(mail_count)
	proxy_control px "$control"
	t0=$(date +%s)
	bk_run "$URI" "$JOBNO" alice "$name" "" "$doc"
	ELAPSED=$(elapsed_since "$t0")
	is "$BACKEND_RC" "$rc" "$name: exit $rc"
	like "$(error_lines)" "$re" "$name: the message says what happened"
	[ "$rc" = "$RC_OK" ] || check_one_error "$name"
	if [ "$rc" != "$RC_OK" ]; then
		is "$(mail_count)" "$before" "$name: the server accepted nothing"
		proxy_control px '{}'
		bk_run "$URI" "$JOBNO" alice "$name" "" "$doc"
		is "$BACKEND_RC" "$RC_OK" "$name: once the fault is gone the job is delivered"
	fi
	is "$(mail_count)" "$((before + 1))" "$name: exactly one copy arrived"
	is "$(mail_field "$(last_mail)" attachment-sha256)" "$(sha256_of "$doc")" "$name: the copy is whole"
}

fault "refused" '{"refuse": true}' "$RC_RETRY" 'cannot be reached'
fault "TLS handshake dropped" '{"drop": {"tls_handshake": true}}' "$RC_RETRY" 'TLS|lost'
fault "dropped after AUTH" '{"drop": {"client_record": 6}}' "$RC_RETRY" \
	'connection to the mail server was lost.*lost during mail, before the message was sent'
S=$(grep -v '"delivered": "' "$SPOOL/sessions.jsonl" | tail -n 1)
like "$(session_field "$S" auth_ok)" 'True' "dropped after AUTH: the server had accepted AUTH"
DOC="$T/big.pdf" fault "dropped in the middle of DATA" '{"drop": {"client_bytes": 400000}}' "$RC_RETRY" \
	'lost during the upload.*after [0-9]+ bytes of the message; the server accepted nothing'
unlike "$(error_lines)" 'cannot be reached' "dropped in DATA: not called unreachable"
fault "stall of 2 s in DATA (timeout 5)" '{"stall": {"client_bytes": 400000, "seconds": 2}}' "$RC_OK" '^$'
# The proxy takes the whole message and holds it: from the backend's side
# the final "." went out and no answer came, so it may have been kept.
fault "stall of 20 s in DATA (timeout 5)" '{"stall": {"client_bytes": 400000, "seconds": 20}}' "$RC_RETRY" \
	'stopped answering.*nothing moved for 5 s|did not confirm the message within 5 s .*may arrive twice'
ok "$([ "$ELAPSED" -lt 18 ]; echo $?)" "stall of 20 s: the job gave up before the stall ended (${ELAPSED} s)"
fault "stall of 20 s before the greeting" '{"stall": {"client_bytes": 0, "seconds": 20}}' "$RC_RETRY" \
	'stopped answering|stalled'

# SIGTERM while the server stalls in DATA: nothing accepted, and out within
# the timeout: once the whole message is handed over (1 MB: all of it is in
# socket buffers) the server's answer is awaited, at most timeout = 5 s.
proxy_control px '{"stall": {"client_bytes": 400000, "seconds": 30}}'
before=$(mail_count)
printf '#!/bin/sh\necho $$ >"%s/backend.pid"\nexec "$@"\n' "$T" >"$T/wrap.sh"
chmod 0755 "$T/wrap.sh"
rm -f "$T/backend.pid"
( P2M_WRAPPER="$T/wrap.sh" run_backend "$URI" 200 alice "term" "" "$T/doc.pdf"; echo "$BACKEND_RC" >"$T/rc" ) &
BG=$!
stalls=$(proxy_stat px stalls)
i=0
while [ "$(proxy_stat px stalls)" -le "$stalls" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
kill -TERM "$(cat "$T/backend.pid")"
i=0
while kill -0 "$BG" 2>/dev/null && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
! kill -0 "$BG" 2>/dev/null; ok $? "SIGTERM in a stalled DATA: the backend is gone within timeout + 5 s"
wait "$BG" 2>/dev/null
is "$(mail_count)" "$before" "SIGTERM in a stalled DATA: nothing accepted"
proxy_control px '{}'

# Never more than max_connections at once for the mailbox (3 by default):
# the proxy's peak starts again with the control file.
i=0
while [ "$(proxy_stat px now)" != 0 ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
is "$(proxy_stat px now)" 0 "no connection left open by a job that gave up or was canceled"
proxy_control px '{}'
before=$(mail_count)
pids=""
for j in 1 2 3 4 5 6; do
	mkdir -p "$T/b$j"
	( T="$T/b$j" run_backend "$URI" $((300 + j)) alice "burst $j" "" "$T/doc.pdf" ) &
	pids="$pids $!"
done
wait $pids
is "$(mail_count)" "$((before + 6))" "burst of 6: all delivered"
ok "$([ "$(proxy_stat px peak)" -le 3 ]; echo $?)" "burst of 6: at most 3 connections at once (peak $(proxy_stat px peak))"
done_testing
