# SPDX-License-Identifier: Apache-2.0
# tests/integration/helper-lib.sh - shared by the helper-*.sh and ctl-*.sh tests: config, helper start, bounded waits.
# Source after tests/lib.sh and p2m_setup.

HELPER="$top_builddir/helper/print2mail-helper"
CTL="$top_builddir/helper/print2mailctl"
TOKGET="$top_builddir/tests/integration/helper-token-get"
SECRET_VALUE="s3cret-Value~42"

# helper_conf [ACCOUNT-LINES...]: a config with [account scanner] talking to tokend with a client
# secret, plus extra lines for that account (later keys win: none are repeated by callers).
helper_conf() {
	write_secret "$T/client.secret" "$SECRET_VALUE"
	{
		printf '[global]\nstate_dir = %s\nhelper_socket = %s\nkey_file = %s\n\n' \
			"$T/state" "$T/run/helper.sock" "$T/store.key"
		printf '[account scanner]\nfrom = scan@contoso.com\nauth = xoauth2\ntenant = contoso.com\n'
		printf 'client_id = app1\noauth_authority = %s\nca_file = %s\n' "$AUTHORITY" "$T/certs/ca.pem"
		for l in "$@"; do printf '%s\n' "$l"; done
	} >"$PRINT2MAIL_CONF"
}

# tokend_app [EXTRA-JSON]: tokend knows client app1 with our secret and the test certificate.
tokend_app() {
	cp "$T/certs/client.pem" "$T/client-registered.pem"
	tokend_config "{\"clients\": {\"app1\": {\"secret\": \"$SECRET_VALUE\", \"certificate\": \"client-registered.pem\",
		\"mailbox\": \"scan@contoso.com\", \"tenant\": \"contoso.com\"}}${1:+, $1}}"
}

# wait_for SECONDS COMMAND...: poll COMMAND every 0.1 s until it succeeds; false on time out.
wait_for() {
	local limit=$(( $1 * 10 )) i=0
	shift
	while ! "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -gt $limit ] && return 1
		sleep 0.1
	done
	return 0
}

# start_helper [OPTION...]: print2mail-helper in the foreground, log in $T/helper.log; waits for its socket.
start_helper() {
	"$HELPER" --foreground --config "$PRINT2MAIL_CONF" "$@" >>"$T/helper.log" 2>&1 &
	HELPER_PID=$!
	P2M_PIDS="$P2M_PIDS $HELPER_PID"
	wait_for 10 test -S "$T/run/helper.sock" || { echo "Bail out! helper did not start"; cat "$T/helper.log" >&2; exit 1; }
}

stop_helper() {
	kill -TERM "$HELPER_PID" 2>/dev/null
	wait "$HELPER_PID" 2>/dev/null
	return 0
}

# trace_helper_start_fetch OUT: from an empty token store, the helper run under
# strace (-e trace=$TRACE, written to OUT) until it fetched its start-up token
# and saved it; then stopped.  Sets one ok line.
trace_helper_start_fetch() {
	local before pid
	rm -rf "$T/state/tokens"
	before=$(token_requests client_credentials)
	"$STRACE" -f -qq -o "$1" -e trace="$TRACE" \
		"$HELPER" --foreground --config "$PRINT2MAIL_CONF" >>"$T/helper.log" 2>&1 &
	pid=$!
	P2M_PIDS="$P2M_PIDS $pid"
	wait_for 20 at_least $((before + 1)) client_credentials
	ok $? "traced helper: fetched a token"
	wait_for 10 test -s "$T/state/tokens/scanner.json"
	kill -TERM "$(pgrep -P "$pid" | head -n 1)" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

# at_least N GRANT: true once tokend answered at least N token requests (of GRANT).
at_least() { [ "$(token_requests ${2:-})" -ge "$1" ]; }

# no_token_in TEXT DESC: none of the access or refresh tokens tokend issued appears in TEXT.
no_token_in() {
	local found=0 tok
	for tok in $(sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p' "$T/tokend/tokens.jsonl" 2>/dev/null); do
		case "$1" in *"$tok"*) found=1 ;; esac
	done
	case "$1" in *"$SECRET_VALUE"*) found=1 ;; esac
	ok $found "$2"
}

# raw_put_password SOCK USER PASSWORD [RUNNER...]: a PUT_PASSWORD frame made by
# hand (what the PAM module sends), run through RUNNER (e.g. setpriv as another
# user); prints "reply-op=N" with the helper's answer op, or "reply-op=none".
raw_put_password() {
	local sock="$1" user="$2" pw="$3"
	shift 3
	"$@" "$PYTHON3" - "$sock" "$user" "$pw" <<'PY'
import socket, struct, sys
f = [(1, sys.argv[2].encode()), (2, sys.argv[3].encode())]
body = b"".join(struct.pack(">BH", t, len(v)) + v for t, v in f)
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(sys.argv[1])
s.sendall(b"P2M1" + struct.pack(">BBI", 1, len(f), len(body)) + body)
r = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    r += d
print("reply-op=%d" % r[4] if len(r) >= 10 else "reply-op=none")
PY
}
