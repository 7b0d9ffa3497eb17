# SPDX-License-Identifier: Apache-2.0
# graph-lib.sh - what the graph-*.sh tests share on top of backend-lib.sh: the
# OAuth endpoint, the Graph-like server (tests/servers/graphd.py) and an
# app-only account with transport = graph.
. "$top_srcdir/tests/integration/backend-lib.sh"

GCLIENT=22222222-aaaa-4bbb-8ccc-000000000002
GSECRET='graph-S3cret-value~client'

# graph_script JSON: replace graphd's behaviour (next request on).
graph_script() { printf '%s\n' "$1" >"$T/graph.json.tmp" && mv "$T/graph.json.tmp" "$T/graph.json"; }

# p2m_start_graphd: the Graph-like server, trusting tokend's tokens.
# Sets GRAPH_PORT, GRAPH (https://127.0.0.1:PORT), SPOOL (its spool).
p2m_start_graphd() {
	SPOOL="$T/graph-spool"
	mkdir -p "$SPOOL"
	[ -f "$T/graph.json" ] || graph_script '{}'
	"$PYTHON3" "$top_srcdir/tests/servers/graphd.py" \
		--cert "$T/certs/server.pem" --key "$T/certs/server.key" --port-file "$T/graph.port" \
		--spool "$SPOOL" --tokens "$T/tokend/tokens.jsonl" --script "$T/graph.json" \
		>"$T/graphd.log" 2>&1 &
	P2M_PIDS="$P2M_PIDS $!"
	GRAPH_PORT=$(wait_port_file "$T/graph.port")
	GRAPH="https://127.0.0.1:$GRAPH_PORT"
}

# graph_start: $T, syslog, tokend knowing GCLIENT (mailbox scanner@contoso.com), graphd.
graph_start() {
	p2m_setup
	p2m_start_syslog
	tokend_config "{\"clients\": {\"$GCLIENT\": {\"secret\": \"$GSECRET\", \"mailbox\": \"scanner@contoso.com\"}}}"
	p2m_start_tokend
	p2m_start_graphd
	SMTP_PORT=1   # write_account writes server/port, which Graph accounts do not use
	write_secret "$T/graph.secret" "$GSECRET"
}

# graph_conf [LINE...]: one app-only Graph account "scanner".
graph_conf() {
	write_global
	write_account scanner "from = scanner@contoso.com" "transport = graph" "graph_endpoint = $GRAPH" \
		"tenant = contoso.onmicrosoft.com" "client_id = $GCLIENT" \
		"client_secret_file = $T/graph.secret" "oauth_authority = $AUTHORITY" "$@"
}

# graph_requests OP [STATUS]: how many requests graphd got for OP (with STATUS).
graph_requests() {
	"$PYTHON3" - "$SPOOL/requests.jsonl" "$1" "${2:-}" <<'PY'
import json, sys
n = 0
try:
    for l in open(sys.argv[1]):
        r = json.loads(l)
        if r["op"] == sys.argv[2] and (not sys.argv[3] or str(r["status"]) == sys.argv[3]):
            n += 1
except OSError:
    pass
print(n)
PY
}
# graph_upload_auth: how many upload PUTs carried an Authorization header.
graph_upload_auth() { grep '"op":"upload"' "$SPOOL/requests.jsonl" 2>/dev/null | grep -c '"authorization":true' || true; }
