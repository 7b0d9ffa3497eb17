#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# graph-helper.sh - Graph tokens in the helper: app-only fetched for the Graph
# audience and refreshed ahead of expiry, shown by print2mailctl status on
# their own line; a device-code login asks for Graph's Mail.Send; the cache
# file is not the SMTP token's.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/helper-lib.sh"
p2m_setup
p2m_start_tokend
tokend_app '"token_lifetime": 3599'
helper_conf "client_secret_file = $T/client.secret" "transport = graph"

start_helper
wait_for 10 at_least 1
is "$(token_requests client_credentials)" 1 "the helper fetches the Graph token at start"
like "$(grep '"scope"' "$T/tokend/tokens.jsonl" | tail -n 1)" '"scope": *"https://graph\.microsoft\.com/\.default"' "app-only scope is https://graph.microsoft.com/.default"
ok "$([ -f "$T/state/tokens/scanner%23graph.json" ] && [ ! -e "$T/state/tokens/scanner.json" ]; echo $?)" "the Graph token has its own cache file"
like "$("$TOKGET" scanner)" '^ok expires_at=' "a job gets the helper's Graph token"
is "$(token_requests)" 1 "... without a token request"

status=$("$CTL" status)
like "$status" 'account scanner: Microsoft Graph, client credentials \(client secret\)' "status names Graph"
like "$status" '  graph token: valid until' "status shows the Graph token on its own line"
no_token_in "$status" "status never prints a token or secret"

# refreshed ahead by the helper alone
stop_helper
tokend_app '"token_lifetime": 8'
rm -f "$T/state/tokens/scanner%23graph.json"
before=$(token_requests)
start_helper
wait_for 20 at_least $((before + 2))
ok $? "an 8-second Graph token is refreshed by the helper alone"
stop_helper

# device code: the login asks for Graph's delegated Mail.Send
tokend_config '{"clients": {"pub1": {"public_client": true, "tenant": "contoso.com"}},
	"token_lifetime": 3599, "device_interval": 1, "device_approve_after": 1}'
helper_conf "oauth_flow = device-code" "transport = graph"
sed -i 's/^client_id = app1/client_id = pub1/' "$PRINT2MAIL_CONF"
start_helper
out=$("$CTL" login scanner 2>&1); rc=$?
is $rc 0 "device-code login for a Graph account"
like "$(tail -n 1 "$T/tokend/tokens.jsonl")" '"scope": *"https://graph\.microsoft\.com/Mail\.Send"' "the login token is for Graph Mail.Send"
like "$("$CTL" status)" 'graph token: valid until .*refresh token stored' "status shows the delegated Graph token"
no_token_in "$(cat "$T/helper.log")" "the helper log holds no token or secret"
done_testing
