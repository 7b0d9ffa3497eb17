# SPDX-License-Identifier: Apache-2.0
# backend-lib.sh - what the backend-*.sh tests share on top of tests/lib.sh:
# a login account on the local server, waiting for the server's and the
# syslog listener's lines, and the checks every refusal test makes.
. "$top_srcdir/tests/lib.sh"

PASSWORD='Pa55-w0rd!S3cret-login'

# bk_users [EXTRA-JSON]: the server knows scanner@contoso.com with PASSWORD.
bk_users() {
	smtp_script "{\"users\": {\"scanner@contoso.com\": \"$PASSWORD\"}${1:+, $1}}"
}

# bk_conf [LINE...]: one [account scanner] (AUTH LOGIN, STARTTLS, the test CA),
# LINEs appended to its section (keys it does not already have).
bk_conf() {
	write_secret "$T/password" "$PASSWORD"
	write_global
	write_account scanner "from = scanner@contoso.com" "auth = login" "password_file = $T/password" "$@"
}

# bk_start [LINE...]: the usual start of a backend test: $T, the syslog
# listener, the local server knowing scanner@contoso.com, and bk_conf LINE...
bk_start() {
	p2m_setup
	p2m_start_syslog
	bk_users
	p2m_start_smtp
	bk_conf "$@"
}

# wait_lines FILE N: until FILE has N lines (10 s at most; the server writes
# a session line a moment after a client that just goes away).
wait_lines() {
	local i=0
	while [ "$(cat "$1" 2>/dev/null | wc -l)" -lt "$2" ] && [ $i -lt 200 ]; do
		sleep 0.05
		i=$((i + 1))
	done
}
session_count() { cat "$SPOOL/sessions.jsonl" 2>/dev/null | wc -l; }
last_session() { tail -n 1 "$SPOOL/sessions.jsonl" 2>/dev/null; }
# session_field JSON-LINE FIELD: one field of a session line (lists joined by ',').
session_field() {
	printf '%s\n' "$1" | "$PYTHON3" -c 'import json,sys
v = json.loads(sys.stdin.read()).get(sys.argv[1])
print(",".join(map(str, v)) if isinstance(v, list) else ("" if v is None else v))' "$2"
}

# meta_field EML FIELD: a field of the server's NNNN.json beside a delivered message.
meta_field() { session_field "$(tr -d '\n' <"${1%.eml}.json")" "$2"; }

# syslog_line N: the Nth line the syslog listener got (waits for it).
syslog_line() {
	wait_lines "$T/syslog.txt" "$1"
	sed -n "${1}p" "$T/syslog.txt"
}

# error_lines: the ERROR: lines of the last run; after_error: the non-DEBUG
# lines printed after the first ERROR: line.
error_lines() { printf '%s\n' "$BACKEND_ERR" | grep '^ERROR: '; }
after_error() {
	printf '%s\n' "$BACKEND_ERR" | sed -n '/^ERROR: /,$p' | sed 1d |
		grep -E '^(EMERG|ALERT|CRIT|ERROR|WARNING|NOTICE|INFO|STATE|ATTR):'
}

# check_one_error DESC: exactly one ERROR line, nothing above DEBUG after it,
# at most 1000 bytes of message, never a bare STATE.
check_one_error() {
	is "$(error_lines | wc -l)" 1 "$1: exactly one ERROR line"
	is "$(after_error)" "" "$1: nothing above DEBUG after the ERROR line"
	ok "$([ "$(error_lines | sed 's/^ERROR: //' | wc -c)" -le 1001 ]; echo $?)" "$1: ERROR message at most 1000 bytes"
	unlike "$BACKEND_ERR" '^STATE: [^-+]' "$1: STATE lines always +/-"
}

# bk_run: run_backend, keeping every run's stderr in $T/all.err (secret checks).
bk_run() {
	run_backend "$@"
	cat "$T/backend.err" >>"$T/all.err"
}

# CUPS exit codes (cups/backend.h)
RC_OK=0 RC_FAILED=1 RC_AUTH=2 RC_HOLD=3 RC_STOP=4 RC_CANCEL=5 RC_RETRY=6
