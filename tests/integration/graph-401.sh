#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# graph-401.sh - a Graph token refused with 401 before its expiry (revoked,
# password reset, CAE) is not reused until it expires: the attempt that got
# the 401 records the token's SHA-256, the next attempt's root phase forces
# one refresh and the job is delivered with exactly one new token request; a
# token refused again right after that refresh ends the job with the 401
# rule's message instead of refreshing on every retry.
set -u
. "$top_srcdir/tests/integration/graph-lib.sh"
graph_start
graph_conf
URI="print2mail://scanner?to=bob@contoso.com"
make_pdf "$T/doc.pdf" 20000
REJ="$T/state/tokens/scanner%23graph.json.rejected"

# a token that works, so the cache holds one still valid for an hour
bk_run "$URI" 91 alice "t" "" "$T/doc.pdf"
is "$BACKEND_RC" "$RC_OK" "setup: delivered"
is "$(token_requests)" 1 "setup: one token request"

# the cached token is revoked: the attempt fails transiently and records it
graph_script '{"revoke_tokens": 1}'
bk_run "$URI" 92 alice "t" "" "$T/doc.pdf"
is "$BACKEND_RC" "$RC_RETRY" "revoked token: exit RETRY (transient)"
like "$(error_lines)" 'Graph refused the token as expired' "revoked token: the 401 expired rule's message"
is "$(token_requests)" 1 "revoked token: no token request yet (root has dropped)"
TOKEN=$(sed -n 's/.*"access_token": *"\([^"]*\)".*/\1/p' "$T/state/tokens/scanner%23graph.json")
is "$(cat "$REJ" 2>/dev/null)" "$(printf '%s' "$TOKEN" | sha256sum | cut -d' ' -f1)" "revoked token: its SHA-256 recorded"
is "$(stat -c '%U %a' "$REJ" 2>/dev/null)" "$(id -un) 600" "revoked token: the record is the store owner's, 0600"
is "$(grep -c -F "$TOKEN" "$REJ")" 0 "revoked token: the token itself is not in the record"

# the job's retry: one forced refresh, then delivered
bk_run "$URI" 92 alice "t" "" "$T/doc.pdf"
is "$BACKEND_RC" "$RC_OK" "retry after revocation: delivered"
is "$(token_requests)" 2 "retry after revocation: exactly one new token request"
is "$(mail_count)" 2 "retry after revocation: the mail is there"
is "$(graph_requests sendMail 401)" 1 "retry after revocation: one 401 in all"
is "$(cat "$REJ" 2>/dev/null)" "" "retry after revocation: record cleared on success"

# the next job uses the new cached token without a token request
bk_run "$URI" 93 alice "t" "" "$T/doc.pdf"
is "$BACKEND_RC" "$RC_OK" "next job: delivered"
is "$(token_requests)" 2 "next job: no token request"

# a token refused twice: the forced refresh's token is refused as well
graph_script '{"revoke_tokens": 3}'
bk_run "$URI" 94 alice "t" "" "$T/doc.pdf"
is "$BACKEND_RC" "$RC_RETRY" "refused twice, first attempt: RETRY"
bk_run "$URI" 94 alice "t" "" "$T/doc.pdf"
ok "$([ "$BACKEND_RC" != "$RC_RETRY" ] && [ "$BACKEND_RC" != "$RC_OK" ]; echo $?)" "refused twice, second attempt: final (rc $BACKEND_RC), not retried"
like "$BACKEND_ERR" 'graph-token-refused' "refused twice: the 401 refused rule"
like "$(error_lines)" 'Graph refused the token' "refused twice: the rule's message"
is "$(token_requests)" 3 "refused twice: one forced refresh, no more"
is "$(mail_count)" 3 "refused twice: nothing more delivered"
check_one_error "refused twice"

TOKENS=$("$PYTHON3" -c 'import json,sys; print("\n".join(json.loads(l)["access_token"] for l in open(sys.argv[1])))' "$T/tokend/tokens.jsonl")
LEAK=0
for tok in $TOKENS "$GSECRET"; do
	grep -qF -- "$tok" "$T/all.err" "$T/syslog.txt" "$REJ" 2>/dev/null && LEAK=1
done
is "$LEAK" 0 "no access token or client secret in backend output, syslog or the record"

done_testing
