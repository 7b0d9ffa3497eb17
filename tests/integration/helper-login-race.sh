#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# helper-login-race.sh - rounds of parallel 'print2mailctl login --me' by one user for the same
# identity: the helper stays up (under ASan in scripts/test.sh's sanitizer pass, a use-after-free
# aborts it), and a login after the storm still completes and is stored.
set -u
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/helper-lib.sh"

[ "$(id -u)" -eq 0 ] || skip_all "needs root (runs print2mailctl as nobody)"
command -v setpriv >/dev/null 2>&1 || skip_all "setpriv not installed"
[ -x "$HELPER" ] && [ -x "$CTL" ] || skip_all "helper or print2mailctl not built"

ROUNDS=${P2M_LOGIN_ROUNDS:-6}
PARALLEL=4   # HELPER_MAX_PER_USER: every one of them is served

p2m_setup
CTL=$(p2m_public "$CTL") || exit 1  # run below as nobody: must be reachable
p2m_start_tokend
tokend_config '{"clients": {"pub1": {"public_client": true, "tenant": "contoso.com"}},
	"token_lifetime": 3599, "device_interval": 1, "device_approve_after": 1,
	"device_user": "nobody@contoso.com"}'
{
	printf '[global]\nstate_dir = %s\nhelper_socket = %s\nkey_file = %s\n\n' \
		"$T/state" "$T/run/helper.sock" "$T/store.key"
	printf '[account me]\nauth = xoauth2\noauth_flow = device-code\nsend_as = job-user\n'
	printf 'user_address = %%u@contoso.com\ntenant = contoso.com\nclient_id = pub1\n'
	printf 'oauth_authority = %s\nca_file = %s\nserver = 127.0.0.1\nport = 25\n' \
		"$AUTHORITY" "$T/certs/ca.pem"
} >"$PRINT2MAIL_CONF"
chmod 0644 "$PRINT2MAIL_CONF"
TOKFILE="$T/state/tokens/user%3Anobody.json"
mkdir -p "$T/out"
chmod 0777 "$T/out"
start_helper

# login_as_nobody OUT: print2mailctl login --me as nobody, 90 s at most; exit status in OUT.rc.
login_as_nobody() {
	timeout 90 setpriv --reuid=nobody --regid=nogroup --clear-groups -- \
		env -i PATH=/usr/bin:/bin LANG=C.UTF-8 HOME=/nonexistent \
		"$CTL" --config "$PRINT2MAIL_CONF" login --me >"$1" 2>&1
	echo $? >"$1.rc"
}

alive() { kill -0 "$HELPER_PID" 2>/dev/null; }
r=1
while [ $r -le "$ROUNDS" ]; do
	pids=""
	i=1
	while [ $i -le $PARALLEL ]; do
		login_as_nobody "$T/out/r$r-$i" &
		pids="$pids $!"
		i=$((i + 1))
	done
	for p in $pids; do wait "$p"; done
	alive || break
	r=$((r + 1))
done
alive; ok $? "the helper survives $ROUNDS rounds of $PARALLEL parallel 'login --me' for one identity"
unlike "$(cat "$T/helper.log")" 'AddressSanitizer|ThreadSanitizer|runtime error' "no sanitizer report in the helper's log"
done_ok=$(cat "$T"/out/*.rc 2>/dev/null | grep -c '^0$')
diag "logins that reported success: $done_ok of $((ROUNDS * PARALLEL))"
[ "$done_ok" -ge "$ROUNDS" ]; ok $? "at least one login per round completed ($done_ok)"

rm -f "$TOKFILE"
login_as_nobody "$T/out/final"
is "$(cat "$T/out/final.rc")" 0 "a login --me after the storm completes"
[ -s "$TOKFILE" ]; ok $? "and its token is stored under user:nobody"
alive; ok $? "the helper is alive at the end"
no_token_in "$(cat "$T/helper.log" "$T"/out/* 2>/dev/null)" "no token in the helper log or print2mailctl output"
done_testing
