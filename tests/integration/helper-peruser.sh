#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# helper-peruser.sh - per-user OAuth end to end: a non-root user runs print2mailctl login --me,
# the real helper stores the token under that user's identity and keeps it fresh, and the
# backend sends that user's jobs with it; nobody can set or delete another user's login.
set -u
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/backend-lib.sh"
. "$top_srcdir/tests/integration/helper-lib.sh"

[ "$(id -u)" -eq 0 ] || skip_all "needs root (creates throwaway users)"
command -v useradd >/dev/null 2>&1 && command -v userdel >/dev/null 2>&1 || skip_all "useradd/userdel missing"
command -v setpriv >/dev/null 2>&1 || skip_all "setpriv not installed"
[ -x "$HELPER" ] && [ -x "$CTL" ] && [ -x "$P2M_BACKEND" ] || skip_all "helper, print2mailctl or backend not built"

# Two throwaway users, named per run so parallel runs never share (or delete) each other's.
U1="p2mu$$"
U2="p2mv$$"
P2M_USERS=""
peruser_cleanup() {
	local u
	p2m_cleanup
	for u in $P2M_USERS; do userdel "$u" >/dev/null 2>&1; done
	return 0
}
p2m_setup
CTL=$(p2m_public "$CTL") || exit 1  # run below as other users: must be reachable
trap peruser_cleanup EXIT
for u in "$U1" "$U2"; do
	getent passwd "$u" >/dev/null && { echo "Bail out! user $u already exists"; exit 1; }
	useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$u" ||
		{ echo "Bail out! cannot create user $u"; exit 1; }
	P2M_USERS="$P2M_USERS $u"
done

# as USER CMD...: run CMD as USER (real and effective ids, no supplementary groups), 60 s at most.
as() {
	local u="$1"
	shift
	timeout 60 setpriv --reuid="$u" --regid="$(id -g "$u")" --clear-groups -- \
		env -i PATH=/usr/bin:/bin LANG=C.UTF-8 HOME=/nonexistent "$@"
}

p2m_start_tokend
tokend_config "{\"clients\": {\"pub1\": {\"public_client\": true, \"tenant\": \"contoso.com\"}},
	\"token_lifetime\": 3599, \"device_interval\": 1, \"device_approve_after\": 2,
	\"device_user\": \"$U1@contoso.com\"}"
smtp_script "{\"users\": {}, \"token_db\": \"$T/tokend/tokens.jsonl\"}"
p2m_start_smtp
{
	printf '[global]\nstate_dir = %s\nhelper_socket = %s\nkey_file = %s\n\n' \
		"$T/state" "$T/run/helper.sock" "$T/store.key"
	printf '[account me]\nauth = xoauth2\noauth_flow = device-code\nsend_as = job-user\n'
	printf 'user_address = %%u@contoso.com\ntenant = contoso.com\nclient_id = pub1\n'
	printf 'oauth_authority = %s\nca_file = %s\nserver = 127.0.0.1\nport = %s\n' \
		"$AUTHORITY" "$T/certs/ca.pem" "$SMTP_PORT"
} >"$PRINT2MAIL_CONF"
chmod 0644 "$PRINT2MAIL_CONF"
make_pdf "$T/doc.pdf" 5000
URI="print2mail://me?to=bob@contoso.com"
TOKFILE1="$T/state/tokens/$(printf 'user:%s' "$U1" | "$PYTHON3" -c 'import sys, urllib.parse
print(urllib.parse.quote(sys.stdin.read(), safe=""))').json"
start_helper

# ---- 2. login --me as a non-root user ------------------------------------------
out=$(as "$U1" "$CTL" --config "$PRINT2MAIL_CONF" login --me 2>&1); rc=$?
printf '%s\n' "$out" >"$T/login1.out"
is "$rc" 0 "login --me as non-root $U1 exits 0 once signed in"
like "$out" 'open https://microsoft.com/devicelogin .*enter the code [A-Z]{4}-[A-Z]{4}' \
	"login --me shows the verification URL and the user code"
like "$out" "Signed in: the login for $U1 is stored" "login --me names the calling user"
polls=$(grep -c '"grant_type": *"urn:ietf:params:oauth:grant-type:device_code"' "$T/tokend/requests.jsonl")
[ "$polls" -ge 3 ]
ok $? "the helper polled through the pending answers ($polls polls)"
[ -f "$TOKFILE1" ] && [ "$(stat -c '%a %U' "$TOKFILE1")" = "600 root" ]
ok $? "the token is stored under user:$U1, mode 0600, owned by root"
grep -q '"refresh_token"' "$TOKFILE1" 2>/dev/null
ok $? "... with its refresh token"
like "$(cat "$T/helper.log")" "user:$U1: device login completed" "the helper logs the login under the caller's identity"
is "$(ls "$T/state/tokens" | grep -c '\.json$')" 1 "exactly one token file: no account or other identity was written"

# ---- 3. a job as that user goes out with that user's token ------------------------
before=$(token_requests)
bk_run "$URI" 81 "$U1" "mine" "" "$T/doc.pdf" AUTH_UID="$(id -u "$U1")"
is "$BACKEND_RC" "$RC_OK" "a job of $U1 is delivered"
M=$(last_mail)
is "$(mail_field "$M" From)" "$U1@contoso.com" "From is $U1@contoso.com"
is "$(meta_field "$M" auth_mech)" "XOAUTH2" "the server saw AUTH XOAUTH2"
is "$(meta_field "$M" auth_user)" "$U1@contoso.com" "... as $U1@contoso.com"
wait_lines "$SPOOL/sessions.jsonl" 1
S=$(last_session)
[ "$(session_field "$S" auth_mech)" = XOAUTH2 ] && [ "$(session_field "$S" auth_user)" = "$U1@contoso.com" ] &&
	[ "$(session_field "$S" auth_ok)" = True ]
ok $? "sessions.jsonl: AUTH XOAUTH2 as $U1@contoso.com succeeded"
is "$(token_requests)" "$before" "the job made no token request of its own while the helper ran"

# ---- 4. another user, never logged in: held for authentication --------------------
N=$(session_count)
bk_run "$URI" 82 "$U2" "theirs" "" "$T/doc.pdf" AUTH_UID="$(id -u "$U2")"
is "$BACKEND_RC" "$RC_AUTH" "a job of $U2 (no login) exits AUTH_REQUIRED"
like "$BACKEND_ERR" '^ATTR: auth-info-required=username,password$' "... asking cupsd for username and password"
like "$(error_lines)" 'print2mailctl login --me' "... with a message naming print2mailctl login --me"
check_one_error "no login"
unlike "$BACKEND_ERR" '^STATE: \+com\.print2mail' "... and the queue is not marked (other users go on)"
is "$(session_count)" "$N" "... and no connection was made"

# ---- 5. nobody sets or deletes another user's login ------------------------------
out=$(as "$U2" "$CTL" --config "$PRINT2MAIL_CONF" forget "$U1" 2>&1); rc=$?
is "$rc" 4 "forget $U1 as $U2: exit 4 (permission)"
like "$out" "only root may forget another user's credentials" "... with a clear message"
[ -f "$TOKFILE1" ]
ok $? "... and $U1's token is still there"
out=$(as "$U2" "$CTL" --config "$PRINT2MAIL_CONF" login me 2>&1); rc=$?
is "$rc" 4 "login ACCOUNT as non-root: exit 4"
like "$out" "only root may sign in account me; use 'print2mailctl login --me'" "... pointing at login --me"

# Raw frames, as any local program could send them: the helper takes the identity from the
# peer uid only.  A USER field naming someone else is ignored by LOGIN_START/LOGIN_WAIT and
# refused by FORGET; ACCOUNT, PUT_PASSWORD and REFRESH are root's.
cat >"$T/ipc.py" <<'PY'
import socket, struct, sys
path, op = sys.argv[1], int(sys.argv[2])
fields = [(int(t), v.encode()) for t, v in (a.split("=", 1) for a in sys.argv[3:])]
payload = b"".join(struct.pack(">BH", t, len(v)) + v for t, v in fields)
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(20)
s.connect(path)
s.sendall(b"P2M1" + struct.pack(">BBI", op, len(fields), len(payload)) + payload)
buf = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    buf += d
rop, n, ln = struct.unpack(">BBI", buf[4:10])
off, out = 10, ["op=%d" % rop]
for _ in range(n):
    t, l = struct.unpack(">BH", buf[off:off + 3])
    out.append("%d=%s" % (t, buf[off + 3:off + 3 + l].decode(errors="replace")))
    off += 3 + l
print(" ".join(out))
PY
chmod 0644 "$T/ipc.py"
ipc() { local u="$1"; shift; as "$u" "$PYTHON3" "$T/ipc.py" "$T/run/helper.sock" "$@" 2>&1; }
# tags: 1 USER, 2 SECRET, 3 ACCOUNT; ops: 1 PUT_PASSWORD, 2 FORGET, 4 LOGIN_START, 5 LOGIN_WAIT, 6 REFRESH
like "$(ipc "$U2" 2 "1=$U1")" "^op=129 5=[0-9]+ 4=only root may forget another user" "raw FORGET naming $U1 from $U2 is refused"
like "$(ipc "$U2" 1 "1=$U1" "2=pw")" "^op=129 .*only root may store a password" "raw PUT_PASSWORD from a user is refused"
like "$(ipc "$U2" 4 "3=me")" "^op=129 .*only root may log in for an account" "raw LOGIN_START naming an account from a user is refused"
like "$(ipc "$U2" 6 "3=me")" "^op=129 .*only root may force a refresh" "raw REFRESH from a user is refused"
sum1=$(sha256sum <"$TOKFILE1")
# No automatic approval now: a login stays pending until /_test/approve.
tokend_config "{\"clients\": {\"pub1\": {\"public_client\": true, \"tenant\": \"contoso.com\"}},
	\"token_lifetime\": 3599, \"device_interval\": 1}"
out=$(ipc "$U2" 4 "1=$U1")
like "$out" '^op=128 ' "raw LOGIN_START from $U2 with USER=$U1 starts a login ..."
code=$(printf '%s\n' "$out" | sed -n 's/.* 5=\([A-Z]\{4\}-[A-Z]\{4\}\).*/\1/p')
wait_for 5 grep -q "user:$U2: device login started" "$T/helper.log"
ok $? "... for $U2, the caller"
is "$(grep -c "user:$U1: device login started" "$T/helper.log")" 1 "... not for $U1 (only its own login of step 2)"
# $U1's finished login would answer "done": "pending" proves the wait is on $U2's.
like "$(ipc "$U2" 5 "1=$U1")" '^op=128 5=pending' "raw LOGIN_WAIT with USER=$U1 waits on $U2's own pending login"
# $U2 signs in at the endpoint, as in the browser.
curl -sf --max-time 10 --cacert "$T/certs/ca.pem" -H 'Content-Type: application/json' \
	-d "{\"user_code\": \"$code\", \"user\": \"$U2@contoso.com\"}" "$AUTHORITY/_test/approve" >/dev/null
ok $? "the endpoint approves $U2's code $code"
i=0
while [ $i -lt 10 ]; do
	out=$(ipc "$U2" 5)
	case "$out" in *"5=pending"*) i=$((i + 1)) ;; *) break ;; esac
done
like "$out" '^op=128 5=done' "$U2's login completes"
TOKFILE2="${TOKFILE1%/*}/$(basename "$TOKFILE1" | sed "s/$U1/$U2/")"
[ -f "$TOKFILE2" ] && [ "$(sha256sum <"$TOKFILE1")" = "$sum1" ]
ok $? "$U2's login went to $U2's identity, $U1's is untouched"
bk_run "$URI" 83 "$U2" "theirs" "" "$T/doc.pdf" AUTH_UID="$(id -u "$U2")"
is "$BACKEND_RC" "$RC_OK" "now a job of $U2 is delivered"
is "$(meta_field "$(last_mail)" auth_user)" "$U2@contoso.com" "... signed in as $U2@contoso.com with $U2's token"
out=$(as "$U1" "$CTL" --config "$PRINT2MAIL_CONF" status 2>&1); rc=$?
is "$rc" 0 "status as non-root $U1 works through the helper"
like "$out" "login user:$U1: XOAUTH2, per-user login" "... and shows $U1's own login"
unlike "$out" "user:$U2" "... but not $U2's"
out=$(as "$U2" "$CTL" --config "$PRINT2MAIL_CONF" forget --me 2>&1); rc=$?
is "$rc" 0 "$U2 may forget its own login"
[ ! -f "$TOKFILE2" ] && [ -f "$TOKFILE1" ]
ok $? "... which removes $U2's token and leaves $U1's"

# ---- 6. the per-user refresh token is kept alive --------------------------------
tokend_config "{\"clients\": {\"pub1\": {\"public_client\": true, \"tenant\": \"contoso.com\"}},
	\"token_lifetime\": 8, \"device_interval\": 1, \"device_approve_after\": 1,
	\"device_user\": \"$U1@contoso.com\"}"
out=$(as "$U1" "$CTL" --config "$PRINT2MAIL_CONF" login --me 2>&1); rc=$?
printf '%s\n' "$out" >>"$T/login1.out"
is "$rc" 0 "$U1 logs in again, now with 8 s tokens"
r0=$(token_requests refresh_token)
wait_for 20 at_least $((r0 + 2)) refresh_token
ok $? "the helper refreshes $U1's token before it expires, again and again"
grep '"grant_type": *"refresh_token"' "$T/tokend/requests.jsonl" | grep -v '"client_id": *"pub1"' >"$T/other-rt"
grep '"grant_type": *"refresh_token"' "$T/tokend/requests.jsonl" | grep -q '"status": *200'
ok $? "requests.jsonl: successful refresh_token grants for client pub1"
is "$(wc -l <"$T/other-rt")" 0 "... and none for any other client"
exp=$("$PYTHON3" -c 'import json, sys; print(json.load(open(sys.argv[1]))["expires_at"])' "$TOKFILE1")
[ "$exp" -gt "$(date +%s)" ]
ok $? "$U1's stored token is still valid"
status=$("$CTL" --config "$PRINT2MAIL_CONF" status)
like "$status" "login user:$U1: XOAUTH2, per-user login" "status (root) lists user:$U1"
like "$status" "user:$U1: XOAUTH2, per-user login
  token: valid until [0-9-]+ [0-9:]+ .*refresh token stored" "... with its expiry"
printf '%s\n' "$status" >"$T/status.out"

# A restarted helper finds per-user logins in the store and refreshes a due one.
stop_helper
"$PYTHON3" - "$TOKFILE1" <<'PY'
import json, sys, time
p = sys.argv[1]; d = json.load(open(p)); now = int(time.time())
d["expires_at"] = now + 2; d["obtained_at"] = now - 6
open(p + ".tmp", "w").write(json.dumps(d))
PY
chmod 0600 "$TOKFILE1.tmp"; mv "$TOKFILE1.tmp" "$TOKFILE1"
r0=$(token_requests refresh_token)
start_helper
wait_for 10 at_least $((r0 + 1)) refresh_token
ok $? "a restarted helper refreshes a due per-user token"

# The user's sign-in is revoked: the helper, status and the next job all tell the user to run
# login --me (not root's "login ACCOUNT"), and only that user's job is held.
curl -sf --max-time 10 --cacert "$T/certs/ca.pem" -H 'Content-Type: application/json' \
	-d "{\"mailbox\": \"$U1@contoso.com\"}" "$AUTHORITY/_test/revoke" >/dev/null
ok $? "the endpoint revokes $U1's refresh tokens"
wait_for 15 grep -q "user:$U1: token refresh refused" "$T/helper.log"
ok $? "the helper's next refresh of $U1's token is refused"
line=$(grep "user:$U1: token refresh refused" "$T/helper.log" | head -n 1)
like "$line" 'refused \[user-signin-expired\].*fix: .*print2mailctl login --me' "... logged with the per-user rule and fix"
unlike "$line" 'login ACCOUNT' "... not the account's fix"
status=$("$CTL" --config "$PRINT2MAIL_CONF" status)
printf '%s\n' "$status" >>"$T/status.out"
like "$status" "last error: user-signin-expired" "status shows $U1's refusal with the per-user rule"
like "$status" 'fix: .*print2mailctl login --me' "... and the per-user fix"
bk_run "$URI" 84 "$U1" "after revoke" "" "$T/doc.pdf" AUTH_UID="$(id -u "$U1")"
is "$BACKEND_RC" "$RC_AUTH" "$U1's next job is held for authentication, the queue is not stopped"
like "$(error_lines)" 'print2mailctl login --me' "... telling $U1 to run login --me"
unlike "$BACKEND_ERR" '^STATE: \+com\.print2mail' "... and the queue is not marked"

# ---- a claimed name selects nothing (issue 9) ------------------------------------
# cupsd sets AUTH_UID only for a user it authenticated over its local socket;
# without it, $U1 is whatever the client claimed (lp -U), so $U1's token is not used.
N=$(session_count)
bk_run "$URI" 85 "$U1" "claimed" "" "$T/doc.pdf"
is "$BACKEND_RC" "$RC_HOLD" "a job that merely claims $U1 (no AUTH_UID) is held"
like "$(error_lines)" 'printer-op-policy=print2mail' "... naming the queue setting"
unlike "$BACKEND_ERR" '^STATE: \+com\.print2mail' "... and the queue is not marked"
bk_run "$URI" 86 "$U1" "claimed" "" "$T/doc.pdf" AUTH_USERNAME="$U1" AUTH_PASSWORD="guess-Pw"
is "$BACKEND_RC" "$RC_HOLD" "AUTH_USERNAME=$U1 with a password on an xoauth2 account: held, the token is not used"
bk_run "$URI" 87 "$U1" "claimed" "" "$T/doc.pdf" AUTH_UID="$(id -u "$U2")"
is "$BACKEND_RC" "$RC_HOLD" "AUTH_UID of another user: held"
is "$(session_count)" "$N" "none of these connected to the mail server"

# ---- secrets ------------------------------------------------------------------
rts=$("$PYTHON3" -c 'import json, sys; print("\n".join(json.load(open(sys.argv[1])).keys()))' \
	"$T/tokend/refresh.json" 2>/dev/null)
texts="$(cat "$T/helper.log" "$T/login1.out" "$T/status.out" "$T/all.err")"
found=0
for rt in $rts; do case "$texts" in *"$rt"*) found=1 ;; esac; done
[ -n "$rts" ]
ok $? "tokend issued refresh tokens to look for"
ok $found "no refresh token in the helper log, ctl output, status or backend stderr"
no_token_in "$texts" "no access token in the helper log, ctl output, status or backend stderr"
done_testing
