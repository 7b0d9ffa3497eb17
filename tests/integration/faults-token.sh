#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# faults-token.sh - the token endpoint's faults through a real (private)
# cupsd, with tests/servers/faultproxy.py between print2mail and the local
# OAuth endpoint (XOAUTH2, client credentials, timeout = 5): an endpoint that
# refuses connections and one that hangs are each retried and delivered once
# when they come back, with a job message naming the sign-in service; a
# print2mail-helper killed in the middle of a token refresh leaves a store
# that the next job and the next helper use as it is, and no orphan child.
set -u
. "$top_srcdir/tests/integration/faults-lib.sh"
. "$top_srcdir/tests/cups-lib.sh"
. "$top_srcdir/tests/integration/helper-lib.sh"

CLIENT=11111111-aaaa-4bbb-8ccc-000000000012
SECRET='app-S3cret-value~faults'

# token_files_sane: every token file of the store is whole JSON (beside it at
# most a refused token's digest), root's, 0600, and no temporary file is left.
token_files_sane() {
	local f
	for f in "$T/state/tokens"/*; do
		[ -e "$f" ] || continue
		case "$f" in
		*.json)
			"$PYTHON3" -c 'import json,sys; json.load(open(sys.argv[1]))' "$f" 2>/dev/null ||
				{ echo "not JSON: $f"; return 1; } ;;
		*.json.rejected)   # a refused token's SHA-256, or nothing
			grep -qvE '^([0-9a-f]{64})?$' "$f" && { echo "not a digest: $f"; return 1; } ;;
		*) echo "stray file $f"; return 1 ;;
		esac
		[ "$(stat -c '%U %a' "$f")" = "root 600" ] || { echo "owner/mode: $(stat -c '%U %a' "$f")"; return 1; }
	done
	return 0
}

main() {
	cups_require
	[ -x "$top_builddir/filter/print2mail-compose" ] || skip_all "filter not built"
	p2m_setup
	p2m_start_syslog
	tokend_config "{\"clients\": {\"$CLIENT\": {\"secret\": \"$SECRET\", \"mailbox\": \"scanner@contoso.com\"}}}"
	p2m_start_tokend
	p2m_start_proxy tk "$TOKEN_PORT"
	TK_PORT=$PROXY_PORT
	smtp_script "{\"token_db\": \"$T/tokend/tokens.jsonl\"}"
	p2m_start_smtp
	write_secret "$T/client.secret" "$SECRET"
	mkdir -p "$T/run"
	write_global "helper_socket = $T/run/helper.sock" "key_file = $T/store.key"
	write_account scanner "from = scanner@contoso.com" "auth = xoauth2" "oauth_flow = client-credentials" \
		"tenant = contoso.onmicrosoft.com" "client_id = $CLIENT" "client_secret_file = $T/client.secret" \
		"oauth_authority = https://127.0.0.1:$TK_PORT" "timeout = 5"
	cups_setup
	cups_install_print2mail
	cups_start
	cups_add_queue scan2mail "print2mail://scanner?to=bob@contoso.com"
	make_pdf "$T/doc.pdf" 100000

	# ---- the token endpoint refuses connections, then comes back ----
	rm -rf "$T/state/tokens"
	before=$(mail_count)
	proxy_control tk '{"refuse": true}'
	cups_submit scan2mail "$T/doc.pdf" -t "endpoint down"
	i=0
	until [ -n "$(cups_job_said "$JOB" 'sign-in service|token endpoint')" ] || [ $i -ge 300 ]; do sleep 0.1; i=$((i + 1)); done
	like "$(cups_job_said "$JOB" 'sign-in service|token endpoint')" 'cannot be reached' \
		"endpoint down: the job's message says the sign-in service cannot be reached"
	is "$(mail_count)" "$before" "endpoint down: nothing sent while there is no token"
	proxy_control tk '{}'
	is "$(cups_job_end "$JOB")" completed "endpoint down: the job completes once the endpoint is back"
	is "$(mail_count)" "$((before + 1))" "endpoint down: exactly one copy"
	ok "$(token_files_sane >/dev/null; echo $?)" "endpoint down: the token store is whole"

	# ---- the token endpoint hangs (accepts, never answers) for one connection ----
	rm -rf "$T/state/tokens"
	before=$(mail_count)
	proxy_control tk '{"stall": {"client_bytes": 0, "seconds": 40}, "times": 1}'
	t0=$(date +%s)
	cups_submit scan2mail "$T/doc.pdf" -t "endpoint hangs"
	is "$(cups_job_end "$JOB")" completed "endpoint hangs: the job completes"
	ok "$([ "$(elapsed_since "$t0")" -lt 40 ]; echo $?)" \
		"endpoint hangs: delivered before the hang would have ended ($(elapsed_since "$t0") s)"
	is "$(mail_count)" "$((before + 1))" "endpoint hangs: exactly one copy"
	like "$(cups_job_said "$JOB" 'did not answer|in time|timed out')" '.' \
		"endpoint hangs: the job's message says the endpoint did not answer in time"
	is "$(proxy_stat tk stalls)" 1 "endpoint hangs: the hung connection was the first attempt's"

	# ---- print2mail-helper killed in the middle of a token refresh ----
	rm -rf "$T/state/tokens"
	proxy_control tk '{"stall": {"client_bytes": 0, "seconds": 60}, "times": 1}'
	start_helper
	i=0
	until [ "$(proxy_stat tk now)" = 1 ] && [ "$(proxy_stat tk stalls)" -ge 1 ] || [ $i -ge 200 ]; do sleep 0.1; i=$((i + 1)); done
	is "$(proxy_stat tk now)" 1 "helper killed: its token request hangs (the refresh is under way)"
	kids=$(pgrep -P "$HELPER_PID" | tr '\n' ' ')
	kill -KILL "$HELPER_PID"
	wait "$HELPER_PID" 2>/dev/null
	gone=0
	for k in $kids; do wait_for 5 sh -c "! kill -0 $k" || gone=1; done
	ok "$gone" "helper killed: no child of it is left behind (${kids:-none})"
	ok "$(token_files_sane >/dev/null; echo $?)" "helper killed: the token store is whole ($(token_files_sane))"
	proxy_control tk '{}'
	before=$(mail_count)
	cups_submit scan2mail "$T/doc.pdf" -t "helper gone"
	is "$(cups_job_end "$JOB")" completed "helper killed: the next job completes without the helper"
	is "$(mail_count)" "$((before + 1))" "helper killed: exactly one copy"
	# Only the token goes: whatever lock or state the killed helper left stays.
	rm -f "$T/state/tokens/scanner.json"
	start_helper
	wait_for 20 test -s "$T/state/tokens/scanner.json"
	ok $? "helper killed: a new helper refreshes on the store the killed one left"
	ok "$(token_files_sane >/dev/null; echo $?)" "helper killed: the store is whole after the new helper's refresh"
	stop_helper
	done_testing
}

main "$@"
