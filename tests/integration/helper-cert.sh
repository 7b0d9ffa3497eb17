#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# helper-cert.sh - certificate credentials (PS256 client assertion) accepted by the endpoint; expiry warnings.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/helper-lib.sh"
p2m_setup
p2m_start_tokend
tokend_app '"token_lifetime": 3599'
helper_conf "client_certificate = $T/certs/client.pem" "client_key = $T/certs/client.key"

out=$("$TOKGET" scanner)
like "$out" '^ok expires_at=' "a certificate assertion gets a token"
grep -q '"auth":"assertion","status":200' "$T/tokend/requests.jsonl"
ok $? "the endpoint verified the assertion (PS256, x5t#S256, aud, lifetime)"
unlike "$out" '^warning' "a certificate with 20+ days left raises no warning"

# A certificate that expires within 14 days: warning, but jobs still go out.
cp "$T/certs/client-expiring.pem" "$T/client-registered.pem"
helper_conf "client_certificate = $T/certs/client-expiring.pem" "client_key = $T/certs/client-expiring.key"
rm -f "$T/state/tokens/scanner.json"
out=$("$TOKGET" scanner)
like "$out" 'warning com.print2mail-secret-expiring-warning' "an expiring certificate gives the warning keyword"
like "$out" '^ok ' "... and the job still gets its token"
start_helper
wait_for 10 grep -q 'expires on' "$T/helper.log"
ok $? "the helper logs a warning naming the expiry date"
like "$("$CTL" status)" 'warning: secret-expiring' "status shows the warning"

# A client secret with client_secret_expires in 3 days.
stop_helper
soon=$(date -u -d '+3 days' +%Y-%m-%d)
helper_conf "client_secret_file = $T/client.secret" "client_secret_expires = $soon"
like "$("$TOKGET" scanner)" 'warning com.print2mail-secret-expiring-warning' "client_secret_expires within 14 days warns"

# A key readable by others is refused, naming the file.
cp "$T/certs/client.key" "$T/loose.key"; chmod 0644 "$T/loose.key"
helper_conf "client_certificate = $T/certs/client.pem" "client_key = $T/loose.key"
rm -f "$T/state/tokens/scanner.json" "$T/state/status/scanner.json"
like "$("$TOKGET" scanner)" "^error secret-mode .*$T/loose.key" "a group/world-readable client_key is refused"
done_testing
