#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# helper-flood.sh - an unprivileged user floods the helper's 0666 socket (idle connections, half-sent
# frames): the helper stays up, root's PAM hand-over still completes within the module's own 1 s
# budget, another user is still served, and a client that never finishes its frame is dropped.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/integration/helper-lib.sh"

[ "$(id -u)" -eq 0 ] || skip_all "needs root (runs clients as nobody and daemon)"
MODULE="$top_builddir/pam/.libs/pam_print2mail.so"
CTL="$top_builddir/helper/print2mailctl"
PWRAP_LIB=$(ls /usr/lib/*/libpam_wrapper.so 2>/dev/null | head -n 1)
PWRAP_MODDIR=$(ls -d /usr/lib/*/pam_wrapper 2>/dev/null | head -n 1)
PAM_DENY=$(ls /lib/*/security/pam_deny.so /usr/lib/*/security/pam_deny.so 2>/dev/null | head -n 1)
[ -n "$PWRAP_LIB" ] && [ -f "$PWRAP_MODDIR/pam_matrix.so" ] || skip_all "pam_wrapper not installed (apt-get install libpam-wrapper)"
command -v pamtester >/dev/null 2>&1 || skip_all "pamtester not installed"
command -v setpriv >/dev/null 2>&1 || skip_all "setpriv not installed"
[ -f "$MODULE" ] && [ -x "$HELPER" ] && [ -x "$CTL" ] || skip_all "PAM module, helper or print2mailctl not built"

ASAN_RT=$(ldd "$MODULE" 2>/dev/null | awk '/libasan|libtsan/ { print $3 }')
PRELOAD="$PWRAP_LIB"
[ -n "$ASAN_RT" ] && PRELOAD="$ASAN_RT $PWRAP_LIB"

p2m_setup
CTL=$(p2m_public "$CTL") || exit 1  # run below as other users: must be reachable
SOCK="$T/run/helper.sock"
KEY="$T/etc/store.key"
mkdir -p "$T/etc" "$T/services"
SMTP_PORT=25   # the account is never used to send here
write_global "helper_socket = $SOCK" "key_file = $KEY"
write_account people "tls = starttls" "auth = login" "send_as = job-user" "user_address = %u@contoso.com"

start_helper

# The module with its default budget (timeout=1000 is the default; said
# explicitly so the assertion below names what it relies on).
cat >"$T/services/login" <<EOS
auth     [success=1 default=ignore] $PWRAP_MODDIR/pam_matrix.so passdb=$T/passdb
auth     requisite $PAM_DENY
auth     required  $PWRAP_MODDIR/pam_set_items.so
auth     optional  $MODULE socket=$SOCK timeout=1000 debug
account  required  $PWRAP_MODDIR/pam_matrix.so passdb=$T/passdb
session  required  $PWRAP_MODDIR/pam_matrix.so passdb=$T/passdb
EOS
echo "auth required $PAM_DENY" >"$T/services/other"
printf 'alice:pw1-Alice:login\nbob:pw1-Bob:login\ncarol:pw1-Carol:login\n' >"$T/passdb"

# handover USER PASSWORD: pamtester authenticate as root under pam_wrapper; output in $T/pam.out.
# A ThreadSanitizer build of the module cannot be loaded by pamtester (pam_wrapper
# dlopens libpam with RTLD_DEEPBIND): there root sends the module's request itself,
# PUT_PASSWORD with the module's 1000 ms budget, and says what the module would.
handover() {
	if ldd "$MODULE" 2>/dev/null | grep -q libtsan; then
		"$PYTHON3" - "$SOCK" "$1" "$2" <<'PY' >"$T/pam.out" 2>&1
import socket, struct, sys, time
path, user, pw = sys.argv[1], sys.argv[2].encode(), sys.argv[3].encode()
f = [(1, user), (2, pw)]
body = b"".join(struct.pack(">BH", t, len(v)) + v for t, v in f)
end = time.monotonic() + 1.0
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    s.settimeout(1.0)
    s.connect(path)
    s.sendall(b"P2M1" + struct.pack(">BBI", 1, len(f), len(body)) + body)
    r = b""
    while len(r) < 10 or len(r) < 10 + struct.unpack(">I", r[6:10])[0]:
        s.settimeout(max(0.001, end - time.monotonic()))
        d = s.recv(65536)
        if not d:
            break
        r += d
    ok = len(r) >= 10 and r[4] == 0x80
    print(("credential of %s handed to print2mail-helper" if ok else "refused: %r") % (user.decode() if ok else r))
except socket.timeout:
    print("print2mail-helper did not answer within 1000 ms")
PY
		PT_RC=0
		cat "$T/pam.out" >>"$T/pam-all.out"
		return
	fi
	printf '%s\n' "$2" | env PAM_AUTHTOK="$2" LD_PRELOAD="$PRELOAD" PAM_WRAPPER=1 \
		PAM_WRAPPER_SERVICE_DIR="$T/services" PAM_WRAPPER_DEBUGLEVEL=2 \
		${ASAN_RT:+PAM_WRAPPER_DISABLE_DEEPBIND=1 ASAN_OPTIONS=detect_leaks=0} \
		pamtester -v login "$1" authenticate >"$T/pam.out" 2>&1
	PT_RC=$?
	cat "$T/pam.out" >>"$T/pam-all.out"
}

# The attacker: keeps N connections open as nobody, reopening each one the
# helper closes, until killed.  MODE idle sends nothing; MODE trickle sends a
# frame header promising a payload, then one byte every half second.
# Writes "opened N closed-by-server M" to STATUS after each round.
cat >"$T/flood.py" <<'PY'
import os, socket, struct, sys, time
path, n, mode, status = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
conns, opened, dropped = [], 0, 0
def connect():
    global opened
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.setblocking(False)
    try:
        s.connect(path)
    except (BlockingIOError, InterruptedError):
        pass
    except OSError:
        s.close()
        return None
    opened += 1
    if mode == "trickle":
        try:
            s.send(b"P2M1" + struct.pack(">BBI", 3, 1, 1000))
        except OSError:
            pass
    return s
while True:
    while len(conns) < n:
        s = connect()
        if s is None:
            time.sleep(0.05)
            break
        conns.append(s)
    alive = []
    for s in conns:
        try:
            d = s.recv(65536)
            gone = d == b""
        except BlockingIOError:
            gone = False
        except OSError:
            gone = True
        if not gone and mode == "trickle":
            try:
                s.send(b"\x04")
            except BlockingIOError:
                pass
            except OSError:
                gone = True
        if gone:
            dropped += 1
            s.close()
        else:
            alive.append(s)
    conns = alive
    with open(status + ".tmp", "w") as f:
        f.write("opened %d closed-by-server %d\n" % (opened, dropped))
    os.replace(status + ".tmp", status)
    time.sleep(0.5)
PY

mkdir -p "$T/flood"
chmod 0777 "$T/flood"   # nobody writes its status there
# flood MODE: start the attacker as nobody with 40 connections; waits until it opened them.
flood() {
	rm -f "$T/flood/status"
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$PYTHON3" "$T/flood.py" "$SOCK" 40 "$1" "$T/flood/status" \
		>"$T/flood.log" 2>&1 &
	FLOOD_PID=$!
	P2M_PIDS="$P2M_PIDS $FLOOD_PID"
	i=0
	while ! grep -qE 'opened ([4-9][0-9]|[0-9]{3,})' "$T/flood/status" 2>/dev/null && [ $i -lt 300 ]; do
		sleep 0.1; i=$((i + 1))
	done
	diag "flood ($1): $(cat "$T/flood/status" 2>/dev/null)"
	# Let the helper see them all (and a restart-at-the-limit happen, on a tree that has one).
	sleep 3
}
unflood() { kill "$FLOOD_PID" 2>/dev/null; wait "$FLOOD_PID" 2>/dev/null; }

alive() { kill -0 "$HELPER_PID" 2>/dev/null; }
stored() { [ -s "$T/state/users/$1.cred" ]; }

# 1. 40 idle connections from nobody, then root hands over alice's password
flood idle
alive; ok $? "the helper is alive under 40 idle connections from nobody"
handover alice pw1-Alice
is "$PT_RC" 0 "alice's login succeeds during the flood"
like "$(cat "$T/pam.out")" 'credential of alice handed to print2mail-helper' \
	"the PAM module handed alice's password over within its 1000 ms budget"
unlike "$(cat "$T/pam.out")" 'did not answer|not running' "and did not report the helper as hung or down"
stored alice; ok $? "the helper stored alice's password"
out=$(setpriv --reuid=daemon --regid=daemon --clear-groups timeout 60 "$CTL" --config "$PRINT2MAIL_CONF" status 2>&1); rc=$?
is "$rc" 0 "another user (daemon) still gets the status during nobody's flood"
# The flood's connections are dropped every 2 s and reopened within half a
# second, so nobody is at its limit most of the time, not always: ask a few times.
i=0
while [ $i -lt 30 ]; do
	out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups timeout 60 "$CTL" --config "$PRINT2MAIL_CONF" status 2>&1)
	case "$out" in *busy*) break ;; esac
	i=$((i + 1))
	sleep 0.1
done
like "$out" 'busy: too many connections from this user' "nobody itself, at its limit, is told the helper is busy"
alive; ok $? "the helper is still alive"
unflood

# 2. 40 connections that each send a frame header and then trickle one byte at a time
flood trickle
alive; ok $? "the helper is alive under 40 trickling half-frames from nobody"
handover bob pw1-Bob
like "$(cat "$T/pam.out")" 'credential of bob handed to print2mail-helper' \
	"root's hand-over of bob's password completes within the module's budget during the trickle flood"
stored bob; ok $? "the helper stored bob's password"
sleep 5
st=$(cat "$T/flood/status" 2>/dev/null)
diag "after the trickle flood: $st"
dropped=$(echo "$st" | awk '{ print $4 }')
[ "${dropped:-0}" -ge 40 ]; ok $? "the helper dropped the trickling clients instead of waiting for their frames ($st)"
unflood

# 3. one slowloris client: a partial frame and then silence is dropped after the read deadline
setpriv --reuid=nobody --regid=nogroup --clear-groups "$PYTHON3" - "$SOCK" <<'PY' >"$T/slow.out" 2>&1
import socket, struct, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(b"P2M1" + struct.pack(">BBI", 3, 0, 0)[:3])   # 7 of the 10 header bytes
s.settimeout(60)   # generous: the helper's deadline is seconds, not a minute
try:
    d = s.recv(65536)
    print("dropped" if d == b"" or d[4:5] == b"\x81" else "answered")
except socket.timeout:
    print("held")
except OSError as e:
    print("dropped (%s)" % e.strerror)
PY
like "$(cat "$T/slow.out")" '^dropped' "a client that stops mid-frame is dropped by the helper (not held for a minute)"
alive; ok $? "the helper is alive at the end"
handover carol pw1-Carol
like "$(cat "$T/pam.out")" 'credential of carol handed to print2mail-helper' "and still takes a hand-over"

grep -q 'pw1-' "$T/helper.log"; r=$?
[ $r -ne 0 ]; ok $? "no password appears in the helper's log"
done_testing
