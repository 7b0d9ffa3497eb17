#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# ctl-basics.sh - print2mailctl explain/status/forget and the helper's peer-uid checks, as root and as nobody.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/helper-lib.sh"
p2m_setup
CTL=$(p2m_public "$CTL") || exit 1  # run below as other users: must be reachable
p2m_start_tokend
tokend_app '"token_lifetime": 3599'
helper_conf "client_secret_file = $T/client.secret"
chmod 0644 "$PRINT2MAIL_CONF"

out=$("$CTL" explain '535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information.')
like "$out" 'rule: +auth-off-tenant' "explain names the rule"
like "$out" 'job: +queue stopped' "explain says what happens to the job"
like "$out" 'fix: +.*Set-TransportConfig' "explain gives the fix"
like "$out" 'see: +https://' "explain gives the URL"
like "$("$CTL" explain 'AADSTS7000222: The provided client secret keys are expired.')" 'rule: +aad-secret-expired' \
	"explain knows token-endpoint errors"
is "$("$CTL" explain --list | grep -c '^rule:')" "$("$CTL" explain --list | grep -c '^fix:')" "explain --list prints every rule with its fix"
"$CTL" explain >/dev/null 2>&1; is $? 2 "explain without text is a usage error (exit 2)"
for v in status login test explain forget; do
	"$CTL" $v --help | grep -q '^Usage: print2mailctl'
	ok $? "$v --help"
done
"$CTL" status >/dev/null 2>&1 </dev/null
is $? 0 "status as root works without the helper (reads the store)"

if ! command -v setpriv >/dev/null || [ "$(id -u)" -ne 0 ]; then
	done_testing; exit $?
fi
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
as_nobody "$CTL" status >/dev/null 2>&1
is $? 3 "status as a user without the helper exits 3"
start_helper
wait_for 10 at_least 1
out=$(as_nobody "$CTL" status 2>&1)
like "$out" 'account scanner' "a user's status comes from the helper"
no_token_in "$out" "... without any token"
as_nobody "$CTL" login scanner >/dev/null 2>&1
is $? 4 "a user may not log in an account (exit 4)"
as_nobody "$CTL" forget root >/dev/null 2>&1
is $? 4 "a user may not forget another user (exit 4)"
as_nobody "$CTL" forget --me >/dev/null 2>&1
is $? 0 "a user may forget itself"
# PUT_PASSWORD from a non-root peer: ERROR with P2M_E_PERMISSION, nothing stored.
reply=$(as_nobody "$PYTHON3" - "$T/run/helper.sock" <<'PY'
import socket, struct, sys
def frame(op, fields):
    p = b"".join(bytes([t]) + struct.pack(">H", len(d)) + d for t, d in fields)
    return b"P2M1" + bytes([op, len(fields)]) + struct.pack(">I", len(p)) + p
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(frame(1, [(1, b"bob"), (2, b"hunter2")]))
r = b""
while True:
    d = s.recv(4096)
    if not d: break
    r += d
print(hex(r[4]), "".join(c for c in r[10:].decode("latin-1") if c.isprintable()))
PY
)
like "$reply" '^0x81 .*permission|^0x81 .*root' "PUT_PASSWORD from a non-root peer is refused"
[ ! -e "$T/state/users/bob.cred" ]
ok $? "... and nothing is stored"
# A client that connects and says nothing is dropped after the deadline; the helper goes on.
"$PYTHON3" -c 'import socket,sys,time; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); time.sleep(7); print(len(s.recv(100)) > 0)' "$T/run/helper.sock" >"$T/idle.out" &
idle=$!
like "$(as_nobody "$CTL" status 2>&1)" 'account scanner' "a silent client does not block others"
wait $idle
is "$(cat "$T/idle.out")" "True" "a silent client gets an error reply after the deadline"
done_testing
