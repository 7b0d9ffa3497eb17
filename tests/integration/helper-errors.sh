#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# helper-errors.sh - refusals a person must fix are recorded with their fix and stop the next job;
# a helper killed mid-way leaves the backend to fetch alone; two backends racing ask once; a bad store file is named.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/helper-lib.sh"
p2m_setup
p2m_start_tokend
tokend_app '"token_lifetime": 3599'
helper_conf "client_secret_file = $T/client.secret"

# Two backends at once with an empty cache and no helper: one token request.
"$TOKGET" scanner >"$T/a.out" & a=$!
"$TOKGET" scanner >"$T/b.out" & b=$!
wait $a; ra=$?; wait $b; rb=$?
[ $ra -eq 0 ] && [ $rb -eq 0 ]
ok $? "two racing jobs both get a token"
is "$(token_requests)" 1 "two racing jobs make one token request"

# The helper is killed: the next job, with the cached token about to expire, fetches alone.
start_helper
kill -KILL "$HELPER_PID"; wait "$HELPER_PID" 2>/dev/null
tokend_app '"token_lifetime": 60'
rm -f "$T/state/tokens/scanner.json"
before=$(token_requests)
out=$("$TOKGET" scanner)
like "$out" '^ok ' "with the helper dead a job fetches the token itself"
is "$(token_requests)" $((before + 1)) "... with exactly one request"

# A store file readable by others, then a damaged one: a clear error naming the file.
chmod 0644 "$T/state/tokens/scanner.json"
out=$("$TOKGET" scanner)
like "$out" "error store .*$T/state/tokens/scanner.json" "a 0644 token file is refused, naming the file"
chmod 0600 "$T/state/tokens/scanner.json"
printf '{"access_tok' >"$T/state/tokens/scanner.json"
out=$("$TOKGET" scanner)
like "$out" "error store .*$T/state/tokens/scanner.json.*damaged" "a damaged token file is refused, naming the file"
rm -f "$T/state/tokens/scanner.json"

# AADSTS7000222: the helper records it with the fix; the next job stops with that rule.
tokend_app '"token_lifetime": 3599, "errors": {"app1": {"code": 7000222}}'
start_helper
wait_for 10 grep -q 'aad-secret-expired' "$T/helper.log"
ok $? "the helper logs the expired secret with its rule"
like "$(cat "$T/helper.log")" 'Certificates & secrets' "... and the fix"
status=$("$CTL" status)
like "$status" 'last error: aad-secret-expired' "status shows the last error's rule"
like "$status" 'fix: .*client secret has expired' "status shows the fix"
out=$("$TOKGET" scanner)
like "$out" '^error token rule=aad-secret-expired: .*AADSTS7000222' "the next job fails with the rule (queue stopped)"

# Once fixed, a job works again without restarting anything.
tokend_app '"token_lifetime": 3599'
out=$("$TOKGET" scanner)
like "$out" '^ok ' "after the secret is fixed the next job gets a token"
like "$("$CTL" status)" 'last error: none' "... and status is clear again"
no_token_in "$(cat "$T/helper.log" "$T"/*.out)" "no token or secret in any output"
done_testing
