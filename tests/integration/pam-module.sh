#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# pam-module.sh - pam_print2mail under cwrap's pam_wrapper, against a fake helper: what it sends, and that no helper never hurts a login.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"

MODULE="$top_builddir/pam/.libs/pam_print2mail.so"
PWRAP_LIB=$(ls /usr/lib/*/libpam_wrapper.so 2>/dev/null | head -n 1)
PWRAP_MODDIR=$(ls -d /usr/lib/*/pam_wrapper 2>/dev/null | head -n 1)
[ -n "$PWRAP_LIB" ] && [ -f "$PWRAP_MODDIR/pam_matrix.so" ] || skip_all "pam_wrapper not installed (apt-get install libpam-wrapper)"
command -v pamtester >/dev/null 2>&1 || skip_all "pamtester not installed"
[ -f "$MODULE" ] || skip_all "module not built"
PAM_DENY=$(ls /lib/*/security/pam_deny.so /usr/lib/*/security/pam_deny.so 2>/dev/null | head -n 1)

# No p2m_setup: this test needs no certificates or servers, only a temp dir.
T=$(mktemp -d /tmp/p2m-test.XXXXXX)
trap p2m_cleanup EXIT; P2M_KEEP=${P2M_KEEP:-}
trap 'exit 130' INT TERM
W="$T/pam"
mkdir -p "$W/services"
SOCK="$W/helper.sock"
REQS="$W/requests.jsonl"

# A module built with ASan needs the runtime loaded first (and no DEEPBIND).
ASAN_RT=$(ldd "$MODULE" 2>/dev/null | awk '/libasan/ { print $3 }')
PRELOAD="$PWRAP_LIB"
[ -n "$ASAN_RT" ] && PRELOAD="$ASAN_RT $PWRAP_LIB"

# fake_helper MODE: a stand-in for print2mail-helper speaking the frames of
# lib/p2m-ipc.h, written from the header alone so it checks the module's
# framing independently of lib/p2m-ipc.c.  Each request becomes one JSON
# line in $REQS.  MODE: ok (answers OK), hang (accepts, never answers),
# drop-first (closes the first connection unanswered, then ok), refuse
# (answers ERROR store).
fake_helper() {
	rm -f "$SOCK" "$W/helper.ready"
	"$PYTHON3" - "$SOCK" "$REQS" "$1" "$W/helper.ready" <<'PY' >"$W/helper.log" 2>&1 &
import json, socket, struct, sys, time
path, reqs, mode, ready = sys.argv[1:5]
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(16)
open(ready, "w").close()
def frame(op, fields=()):
    body = b"".join(struct.pack(">BH", t, len(v)) + v for t, v in fields)
    return b"P2M1" + struct.pack(">BBI", op, len(fields), len(body)) + body
def read_frame(c):
    buf = b""
    while len(buf) < 10:
        d = c.recv(65536)
        if not d:
            return None
        buf += d
    magic, (op, n, plen) = buf[:4], struct.unpack(">BBI", buf[4:10])
    while len(buf) < 10 + plen:
        d = c.recv(65536)
        if not d:
            return None
        buf += d
    rec = {"magic": magic.decode("latin-1"), "op": op, "fields": {}, "trailing": len(buf) - 10 - plen}
    body, i = buf[10:10 + plen], 0
    for _ in range(n):
        t, ln = struct.unpack(">BH", body[i:i + 3])
        rec["fields"][str(t)] = body[i + 3:i + 3 + ln].decode("utf-8", "replace")
        i += 3 + ln
    rec["exact"] = i == plen
    return rec
held, count = [], 0
while True:
    c, _ = srv.accept()
    count += 1
    if mode == "hang":
        held.append(c)
        continue
    rec = read_frame(c)
    if mode == "drop-first" and count == 1:
        c.close()
        continue
    with open(reqs, "a") as f:
        f.write(json.dumps(rec) + "\n")
    if mode == "refuse":
        c.sendall(frame(0x81, [(5, b"9"), (4, b"store unwritable (test)")]))
    else:
        c.sendall(frame(0x80))
    c.close()
PY
	P2M_PIDS="$P2M_PIDS $!"
	HELPER_PID=$!
	local i=0
	while [ ! -e "$W/helper.ready" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
}
stop_helper() {
	kill "$HELPER_PID" 2>/dev/null
	wait "$HELPER_PID" 2>/dev/null
	rm -f "$SOCK"
	: >"$REQS"
}

# service NAME OPTIONS: the shape of Debian's common-* files after
# pam-auth-update: the primary module jumps over pam_deny on success, our
# module is an "Additional" optional line.  pam_matrix plays pam_unix, but it
# zeroes PAM_AUTHTOK after checking it, so pam_set_items puts back the
# password from $PAM_AUTHTOK as pam_unix would have left it.
service() {
	cat >"$W/services/$1" <<EOF
auth     [success=1 default=ignore] $PWRAP_MODDIR/pam_matrix.so passdb=$W/passdb
auth     requisite $PAM_DENY
auth     required  $PWRAP_MODDIR/pam_set_items.so
auth     optional  $MODULE $2
account  required  $PWRAP_MODDIR/pam_matrix.so passdb=$W/passdb
password [success=1 default=ignore] $PWRAP_MODDIR/pam_matrix.so passdb=$W/passdb
password requisite $PAM_DENY
password required  $PWRAP_MODDIR/pam_set_items.so
password optional  $MODULE $2
session  required  $PWRAP_MODDIR/pam_matrix.so passdb=$W/passdb
session  optional  $MODULE $2
EOF
}
echo "auth required $PAM_DENY" >"$W/services/other"

# pt STDIN PAM_AUTHTOK ARGS...: pamtester under pam_wrapper; output in $W/out,
# exit status in PT_RC, wall time in PT_MS.
pt() {
	local input="$1" tok="$2" t0 t1
	shift 2
	t0=$(date +%s%N)
	printf '%s' "$input" | env PAM_AUTHTOK="$tok" LD_PRELOAD="$PRELOAD" PAM_WRAPPER=1 \
		PAM_WRAPPER_SERVICE_DIR="$W/services" PAM_WRAPPER_DEBUGLEVEL=2 \
		${ASAN_RT:+PAM_WRAPPER_DISABLE_DEEPBIND=1 ASAN_OPTIONS=detect_leaks=0} \
		pamtester -v "$@" >"$W/out" 2>&1
	PT_RC=$?
	t1=$(date +%s%N)
	PT_MS=$(((t1 - t0) / 1000000))
	cat "$W/out" >>"$W/all-output"
}
# req N FIELD: field of the Nth request the fake helper saw (op, user, secret, exact, magic, trailing).
req() {
	"$PYTHON3" - "$REQS" "$1" "$2" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
n, field = int(sys.argv[2]), sys.argv[3]
if n > len(lines):
    sys.exit(0)
r = lines[n - 1]
tags = {"user": "1", "secret": "2"}
print(r["fields"].get(tags[field], "") if field in tags else r[field])
PY
}
nreq() { awk 'NF { n++ } END { print n + 0 }' "$REQS" 2>/dev/null; }
login() { pt "$3
" "$3" "$1" "$2" authenticate open_session close_session; }

printf 'alice:Pw1-alice:login\nbob:Pw-bob:login\n' >"$W/passdb"
chmod 0666 "$W/passdb"
: >"$REQS"
: >"$W/all-output"
OPTS="socket=$SOCK timeout=1000 debug"
service login "$OPTS"

# 1. a login hands alice's password to the helper, once, in a valid frame
fake_helper ok
login login alice Pw1-alice
is "$PT_RC" 0 "login succeeds with the helper running"
is "$(nreq)" 1 "the helper got exactly one request (auth delivered; the session did not resend)"
is "$(req 1 op)" 1 "it is PUT_PASSWORD"
is "$(req 1 user)" alice "for alice"
is "$(req 1 secret)" Pw1-alice "with her password"
is "$(req 1 magic)/$(req 1 exact)/$(req 1 trailing)" "P2M1/True/0" "the frame matches lib/p2m-ipc.h exactly"
stop_helper

# 2. a wrong password hands nothing over (the module sits after the primary's success jump)
fake_helper ok
login login alice wrong-password
isnt_zero=0; [ "$PT_RC" -ne 0 ] || isnt_zero=1
ok $isnt_zero "a wrong password still fails the login"
is "$(nreq)" 0 "and nothing reaches the helper"
stop_helper

# 3. chauthtok sends the NEW password (once: UPDATE_AUTHTOK, not PRELIM_CHECK)
fake_helper ok
pt "Pw1-alice
Pw2-alice
Pw2-alice
" Pw2-alice login alice chauthtok
is "$PT_RC" 0 "password change succeeds"
grep -q '^alice:Pw2-alice:' "$W/passdb"; ok $? "the password really changed"
is "$(nreq)" 1 "one request for the change"
is "$(req 1 op)/$(req 1 user)/$(req 1 secret)" "1/alice/Pw2-alice" "PUT_PASSWORD alice with the new password"
stop_helper

# 4. forget_on_logout: close_session asks the helper to forget
service login "$OPTS forget_on_logout"
fake_helper ok
login login alice Pw2-alice
is "$PT_RC" 0 "login with forget_on_logout succeeds"
is "$(req 2 op)/$(req 2 user)/$(req 2 secret)" "2/alice/" "logout sends FORGET alice, with no secret"
stop_helper
service login "$OPTS"

# 5. helper down at auth, back at session start: the stash is delivered then
fake_helper drop-first
login login bob Pw-bob
is "$PT_RC" 0 "login succeeds when the helper drops the auth-phase request"
is "$(nreq)" 1 "the session phase delivered the kept copy"
is "$(req 1 op)/$(req 1 user)/$(req 1 secret)" "1/bob/Pw-bob" "PUT_PASSWORD bob from the session phase"
stop_helper

# 6. no helper at all: the login succeeds, within the bound
login login alice Pw2-alice
is "$PT_RC" 0 "login succeeds with no helper"
[ "$PT_MS" -lt 3000 ]; ok $? "and takes < 3 s with timeout=1000 (took ${PT_MS} ms)"
grep -q 'not running' "$W/out"; ok $? "a warning says the helper is not running"

# 7. a helper that accepts and never answers: same
fake_helper hang
login login alice Pw2-alice
is "$PT_RC" 0 "login succeeds with a hung helper"
[ "$PT_MS" -lt 3000 ]; ok $? "and takes < 3 s with timeout=1000 (took ${PT_MS} ms)"
like "$(cat "$W/out")" 'did not answer within 1000 ms' "a warning names the bound"
pt "Pw2-alice
Pw3-alice
Pw3-alice
" Pw3-alice login alice chauthtok
is "$PT_RC" 0 "password change succeeds with a hung helper"
[ "$PT_MS" -lt 3000 ]; ok $? "within the bound (took ${PT_MS} ms)"
stop_helper

# 8. a helper that refuses: logged with its reason, login unaffected
fake_helper refuse
login login alice Pw3-alice
is "$PT_RC" 0 "login succeeds when the helper refuses"
like "$(cat "$W/out")" 'did not take the credential of alice: store: store unwritable' "the refusal is logged with the helper's reason"
stop_helper

# 9. a socket path that is not a socket is not trusted
echo "not a socket" >"$SOCK"
login login alice Pw3-alice
is "$PT_RC" 0 "login succeeds when the socket path is a plain file"
like "$(cat "$W/out")" 'is not a socket owned by root' "and the module says why it handed nothing over"
rm -f "$SOCK"

# 10. options: an unknown one and a bad timeout are logged, not fatal
service login "$OPTS frobnicate timeout=abc"
fake_helper ok
login login alice Pw3-alice
is "$PT_RC" 0 "login succeeds with bad options"
like "$(cat "$W/out")" 'unknown option ignored: frobnicate' "unknown option logged"
like "$(cat "$W/out")" 'timeout=abc: not a timeout' "bad timeout logged"
is "$(req 1 secret)" Pw3-alice "and the password still goes over"
stop_helper
service login "$OPTS"

# 13. a socket file owned by root but served by a non-root process gets nothing
#     (the path check passes; SO_PEERCRED says who listens).  Needs root to
#     run the fake as nobody and chown its socket.
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null 2>&1; then
	NB="$W/nb"
	mkdir -p "$NB"
	chmod 0711 "$T" "$W"
	chmod 0777 "$NB"
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$PYTHON3" - "$NB/helper.sock" "$NB/got" <<'PY' >"$W/nb.log" 2>&1 &
import socket, sys
path, got = sys.argv[1:3]
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(4)
open(got + ".ready", "w").close()
while True:
    c, _ = srv.accept()
    c.settimeout(2)
    data = b""
    try:
        while True:
            d = c.recv(65536)
            if not d:
                break
            data += d
    except OSError:
        pass
    with open(got, "a") as f:
        f.write("%d\n" % len(data))
    c.close()
PY
	NB_PID=$!
	P2M_PIDS="$P2M_PIDS $NB_PID"
	i=0
	while [ ! -e "$NB/got.ready" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	chown root:root "$NB/helper.sock"
	is "$(stat -c '%U' "$NB/helper.sock")" root "(the fake helper's socket file is owned by root)"
	service login "socket=$NB/helper.sock timeout=1000 debug"
	login login alice Pw3-alice
	is "$PT_RC" 0 "login succeeds when a non-root process serves the socket"
	like "$(cat "$W/out")" 'is served by uid 65534, not root: not handing it anything' \
		"the module names the serving uid and hands nothing over"
	i=0
	while [ ! -s "$NB/got" ] && [ $i -lt 40 ]; do sleep 0.1; i=$((i + 1)); done
	is "$(awk '{ n += $1 } END { print n + 0 }' "$NB/got" 2>/dev/null)" 0 "the impostor received no byte (no frame, no password)"
	kill "$NB_PID" 2>/dev/null
	wait "$NB_PID" 2>/dev/null
	service login "$OPTS"
else
	ok 0 "# SKIP impostor helper needs root and setpriv"
fi

# 11. no password in any output or log line, debug on throughout
for pw in Pw1-alice Pw2-alice Pw3-alice Pw-bob wrong-password; do
	grep -q -- "$pw" "$W/all-output"; r=$?
	[ $r -ne 0 ]; ok $? "'$pw' appears in no pamtester output or module log line"
done
grep -q 'SYSLOG(7): credential of alice handed to print2mail-helper' "$W/all-output"; ok $? "(the module's debug lines were captured, so the checks above can fail)"

# 12. only the pam_sm_* entry points are exported
syms=$(nm -D --defined-only "$MODULE" | awk '{ print $3 }' | grep -v '^_' | sort | tr '\n' ' ')
is "$syms" "pam_sm_authenticate pam_sm_chauthtok pam_sm_close_session pam_sm_open_session pam_sm_setcred " "exports only pam_sm_*"
ldd "$MODULE" | grep -q 'libglib'; r=$?
[ $r -ne 0 ]; ok $? "links no GLib"

done_testing
