#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# helper-device.sh - print2mailctl login: device code shown, pending polls and slow_down honoured, token stored and refreshed.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/helper-lib.sh"
p2m_setup
p2m_start_tokend
tokend_config '{"clients": {"pub1": {"public_client": true, "tenant": "contoso.com"}},
	"token_lifetime": 3599, "device_interval": 1, "device_approve_after": 3, "slow_down_on": [2]}'
helper_conf "oauth_flow = device-code"
sed -i 's/^client_id = app1/client_id = pub1/' "$PRINT2MAIL_CONF"

like "$("$TOKGET" scanner)" 'error no-credential.*print2mailctl login scanner' "before login a job says how to log in"
start_helper
# An account nobody signed in yet: the fix is root's login for that account, not a user's login --me.
wait_for 10 grep -q 'scanner: token refresh refused \[no-login\]' "$T/helper.log"
ok $? "before login the helper logs that the account has no login"
fixline=$(grep 'refused \[no-login\]' "$T/helper.log")
like "$fixline" 'fix: Run print2mailctl login scanner as root' "... with the account's fix"
unlike "$fixline" 'login --me' "... not the per-user one"
like "$("$CTL" status)" 'fix: Run print2mailctl login scanner as root' "status shows the account's fix too"
out=$("$CTL" login scanner 2>&1); rc=$?
is $rc 0 "print2mailctl login exits 0 once signed in"
like "$out" 'open https://microsoft.com/devicelogin .*enter the code [A-Z]{4}-[A-Z]{4}' "login shows the URL and the user code"
like "$out" 'Signed in' "login says it is done"
polls=$(grep -c '"grant_type":"urn:ietf:params:oauth:grant-type:device_code"' "$T/tokend/requests.jsonl")
[ "$polls" -ge 4 ]
ok $? "the helper polled through pending and slow_down ($polls polls)"
gaps=$(grep 'device_code' "$T/tokend/requests.jsonl" | grep -o '"time":[0-9.]*' | cut -d: -f2 |
	awk 'NR > 1 { if ($1 - prev < 0.9) bad = 1 } { prev = $1 } END { print bad + 0 }')
is "$gaps" 0 "polls are at least the interval apart"
slow=$(grep 'device_code' "$T/tokend/requests.jsonl" | awk -F'"time":' '{ split($2, a, ","); t = a[1] }
	seen { print t - s; exit } /"error":"slow_down"/ { seen = 1; s = t }')
awk -v g="$slow" 'BEGIN { exit !(g >= 5.5) }'
ok $? "after slow_down the next poll waits 5 s longer (waited ${slow} s)"
like "$("$TOKGET" scanner)" '^ok ' "after login a job gets the token"
is "$(token_requests refresh_token)" 0 "... from the cache"
grep -q '"refresh_token"' "$T/state/tokens/scanner.json"
ok $? "the refresh token is stored"

# The refresh token is used by the helper (here: a forced refresh, as the schedule would).
stop_helper
python3 - "$T/state/tokens/scanner.json" <<'PY'
import json, sys, time
p = sys.argv[1]; d = json.load(open(p)); d["expires_at"] = int(time.time()) + 30; d["obtained_at"] = int(time.time()) - 3570
open(p + ".tmp", "w").write(json.dumps(d))
PY
chmod 0600 "$T/state/tokens/scanner.json.tmp"; mv "$T/state/tokens/scanner.json.tmp" "$T/state/tokens/scanner.json"
start_helper
wait_for 10 at_least 1 refresh_token
ok $? "the helper refreshes a token near its end with the refresh token"
no_token_in "$out$(cat "$T/helper.log")" "no token in login output or log"
done_testing
