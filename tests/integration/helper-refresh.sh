#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# helper-refresh.sh - the helper fetches at start, refreshes before expiry, and jobs then ask nobody.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/helper-lib.sh"
p2m_setup
p2m_start_tokend
tokend_app '"token_lifetime": 3599'
helper_conf "client_secret_file = $T/client.secret"

start_helper
wait_for 10 at_least 1
is "$(token_requests client_credentials)" 1 "the helper fetches the account's token at start"

out=$("$TOKGET" scanner)
like "$out" '^ok expires_at=' "a job gets the helper's token"
"$TOKGET" scanner >/dev/null; "$TOKGET" scanner >/dev/null
is "$(token_requests)" 1 "three jobs make no token request while the helper runs"

status=$("$CTL" status)
like "$status" 'account scanner: XOAUTH2, client credentials \(client secret\)' "status names the auth kind"
like "$status" 'token: valid until' "status shows the token expiry"
like "$status" 'last refresh: [0-9]{4}-' "status shows the last refresh"
like "$status" 'last error: none' "status shows no error"
no_token_in "$status" "status never prints a token or secret"

# A short-lived token is renewed before it expires, with no job asking.
stop_helper
tokend_app '"token_lifetime": 8'
rm -f "$T/state/tokens/scanner.json"
before=$(token_requests)
start_helper
wait_for 20 at_least $((before + 2))
ok $? "an 8-second token is refreshed by the helper alone"
first_exp=$(grep -o '"expires_at":[0-9]*' "$T/tokend/tokens.jsonl" | tail -n 2 | head -n 1 | cut -d: -f2)
second_time=$(grep '"grant_type":"client_credentials"' "$T/tokend/requests.jsonl" | tail -n 1 | grep -o '"time":[0-9]*' | cut -d: -f2)
[ "$second_time" -lt "$first_exp" ]
ok $? "the new token was requested before the old one expired"

perms=$(find "$T/state" -perm /077 ! -type d -o -perm /077 -type d ! -path "$T/state" | head -n 5)
is "$perms" "" "no file or directory in the store is accessible by others"
ls -l "$T/run/helper.sock" | grep -q '^srw-rw-rw-'
ok $? "the socket is 0666 (authorization is by peer uid)"
no_token_in "$(cat "$T/helper.log")" "the helper log holds no token or secret"

# --debug: each token request in the log, from the unprivileged child, and
# still no token, secret or form body.
stop_helper
: >"$T/helper.log"
rm -f "$T/state/tokens/scanner.json"
start_helper --debug
wait_for 10 grep -q 'debug: oauth: HTTP 200' "$T/helper.log"
ok $? "--debug: the token request's answer is logged"
like "$(cat "$T/helper.log")" "debug: oauth: POST https://127\.0\.0\.1:$TOKEN_PORT/[^ ]*/token grant_type=client_credentials scope=" \
	"--debug: the endpoint, grant and scope are logged"
unlike "$(cat "$T/helper.log")" 'client_secret=|client_assertion=' "--debug: no form body in the log"
no_token_in "$(cat "$T/helper.log")" "--debug: the log holds no token or secret"
stop_helper
done_testing
