# SPDX-License-Identifier: Apache-2.0
# tests/lib.sh - shared harness for integration tests: TAP output, test CA,
# the local Microsoft-365-like SMTP server and OAuth endpoint, and running the
# backend exactly as cupsd runs it.  Source it from a test script:
#   . "$top_srcdir/tests/lib.sh"; p2m_setup
# Servers listen on 127.0.0.1 ports chosen at run time and are stopped by the
# EXIT trap, whatever happens.

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${PYTHON3:=/usr/bin/python3}"
export top_srcdir top_builddir PYTHON3
: "${PRINT2MAIL_LOCALEDIR:=$top_builddir/po/locale}"
export PRINT2MAIL_LOCALEDIR

P2M_BACKEND="${P2M_BACKEND:-$top_builddir/backend/print2mail}"
P2M_TESTS_RUN=0
P2M_TESTS_FAILED=0
P2M_PIDS=""

# ---- TAP ------------------------------------------------------------------
plan() { echo "1..$1"; }
ok() {   # ok CONDITION-EXIT-STATUS DESCRIPTION  (use: cmd; ok $? "desc")
	P2M_TESTS_RUN=$((P2M_TESTS_RUN + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $P2M_TESTS_RUN - $2"
	else
		echo "not ok $P2M_TESTS_RUN - $2"
		P2M_TESTS_FAILED=$((P2M_TESTS_FAILED + 1))
	fi
}
is() {   # is GOT EXPECTED DESCRIPTION
	[ "$1" = "$2" ]; local r=$?
	ok $r "$3"
	[ $r -eq 0 ] || diag "got '$1', expected '$2'"
	return $r
}
like() { # like TEXT REGEX DESCRIPTION   (grep -E)
	printf '%s\n' "$1" | grep -Eq -- "$2"; local r=$?
	ok $r "$3"
	[ $r -eq 0 ] || diag "'$(printf '%s' "$1" | head -c 600)' does not match /$2/"
	return $r
}
unlike() { # unlike TEXT REGEX DESCRIPTION
	! printf '%s\n' "$1" | grep -Eq -- "$2"; local r=$?
	ok $r "$3"
	[ $r -eq 0 ] || diag "'$(printf '%s' "$1" | grep -E -- "$2" | head -c 600)' matches /$2/"
	return $r
}
diag() { printf '# %s\n' "$@" | sed '2,$s/^/# /'; }
skip_all() { echo "1..0 # SKIP $*"; exit 0; }
skip() {  # skip DESCRIPTION WHY: one test that cannot run here, as TAP's SKIP
	P2M_TESTS_RUN=$((P2M_TESTS_RUN + 1))
	echo "ok $P2M_TESTS_RUN - $1 # SKIP $2"
}
done_testing() { echo "1..$P2M_TESTS_RUN"; [ "$P2M_TESTS_FAILED" -eq 0 ]; }

# ---- setup and cleanup ------------------------------------------------------
p2m_cleanup() {
	local p
	for p in $P2M_PIDS; do kill -TERM "$p" 2>/dev/null; done
	for p in $P2M_PIDS; do wait "$p" 2>/dev/null; done
	if [ -n "${T:-}" ] && [ -z "${P2M_KEEP:-}" ]; then rm -rf "$T"; fi
	[ -n "${P2M_KEEP:-}" ] && echo "# kept $T" >&2
	return 0
}

# p2m_setup: temp dir $T (0755 so cupsd's lp user can traverse it), test CA in $T/certs.
p2m_setup() {
	T=$(mktemp -d /tmp/p2m-test.XXXXXX)
	chmod 0755 "$T"
	trap p2m_cleanup EXIT
	trap 'exit 130' INT TERM
	bash "$top_srcdir/tests/servers/mkcerts.sh" "$T/certs" >/dev/null 2>&1 ||
		{ echo "Bail out! cannot make test certificates"; exit 1; }
	mkdir -p "$T/state"
	chmod 0700 "$T/state"
	export PRINT2MAIL_CONF="$T/print2mail.conf"
	# The filter and the backend read catalogues as lp (cupsd, or after the
	# backend's drop of privileges).
	PRINT2MAIL_LOCALEDIR=$(p2m_public "$PRINT2MAIL_LOCALEDIR") || exit 1
}

# p2m_reachable PATH: true when an unprivileged user (nobody) can reach PATH.
# Only root can switch users, so anyone else reaches what it can.
p2m_reachable() {
	[ "$(id -u)" = 0 ] || return 0
	setpriv --reuid=nobody --regid=nogroup --clear-groups test -r "$1" 2>/dev/null
}

# p2m_public PATH: PATH, or when other users cannot reach it (a clone under
# /root is 0700) a world-readable copy of it under $T/public, so that steps
# run as lp or a throwaway user find what they run without anyone's home
# being opened up.  Prints the path to use (PATH itself when it does not
# exist yet: the demo builds after its setup).
p2m_public() {
	local dst
	if [ ! -e "$1" ] || p2m_reachable "$1"; then
		printf '%s\n' "$1"
		return 0
	fi
	dst="$T/public/$(printf '%s' "$1" | sed 's|^/||; s|/|_|g')"
	if [ ! -e "$dst" ]; then
		mkdir -p "$T/public" && chmod 0755 "$T/public" &&
			cp -R "$1" "$dst" && chmod -R a+rX "$dst" ||
			{ echo "Bail out! cannot copy $1 to $T/public" >&2; return 1; }
	fi
	printf '%s\n' "$dst"
}

# wait_port_file FILE: the port a server wrote once listening (10 s at most).
wait_port_file() {
	local i=0
	while [ ! -s "$1" ]; do
		i=$((i + 1))
		[ $i -gt 200 ] && { echo "Bail out! server did not start ($1)"; exit 1; }
		sleep 0.05
	done
	cat "$1"
}

# p2m_start_smtp [--implicit-tls] [--cert-prefix untrusted-]: starts the
# M365-like server; behaviour comes from $T/smtp.json (write it with
# smtp_script, re-read at every connection).  Sets SMTP_PORT, SPOOL.
p2m_start_smtp() {
	local prefix="" tls=""
	while [ $# -gt 0 ]; do
		case "$1" in
		--implicit-tls) tls="--implicit-tls" ;;
		--cert-prefix) prefix="$2"; shift ;;
		esac
		shift
	done
	SPOOL="$T/spool"
	mkdir -p "$SPOOL"
	[ -f "$T/smtp.json" ] || smtp_script '{"users": {}}'
	rm -f "$T/smtp.port"
	"$PYTHON3" "$top_srcdir/tests/servers/m365smtp.py" \
		--cert "$T/certs/${prefix}server.pem" --key "$T/certs/${prefix}server.key" \
		--port-file "$T/smtp.port" --spool "$SPOOL" --script "$T/smtp.json" $tls \
		>"$T/smtp.log" 2>&1 &
	P2M_PIDS="$P2M_PIDS $!"
	SMTP_PORT=$(wait_port_file "$T/smtp.port")
}

# smtp_script JSON: replace the SMTP server's behaviour (next connection on).
smtp_script() { printf '%s\n' "$1" >"$T/smtp.json.tmp" && mv "$T/smtp.json.tmp" "$T/smtp.json"; }

# p2m_start_tokend: the local OAuth endpoint; config in $T/tokend.json
# (tokend_config).  Sets TOKEN_PORT, AUTHORITY (https://127.0.0.1:PORT).
p2m_start_tokend() {
	mkdir -p "$T/tokend"
	[ -f "$T/tokend.json" ] || tokend_config '{"clients": {}}'
	rm -f "$T/tokend.port"
	"$PYTHON3" "$top_srcdir/tests/servers/tokend.py" \
		--cert "$T/certs/server.pem" --key "$T/certs/server.key" \
		--port-file "$T/tokend.port" --state-dir "$T/tokend" --config "$T/tokend.json" \
		>"$T/tokend.log" 2>&1 &
	P2M_PIDS="$P2M_PIDS $!"
	TOKEN_PORT=$(wait_port_file "$T/tokend.port")
	AUTHORITY="https://127.0.0.1:$TOKEN_PORT"
}
tokend_config() { printf '%s\n' "$1" >"$T/tokend.json.tmp" && mv "$T/tokend.json.tmp" "$T/tokend.json"; }
# token_requests [GRANT]: how many token requests the endpoint has answered.
token_requests() {
	if [ -n "${1:-}" ]; then
		grep -c "\"grant_type\": *\"$1\"" "$T/tokend/requests.jsonl" 2>/dev/null || true
	else
		grep -c '"path": *"[^"]*/token"' "$T/tokend/requests.jsonl" 2>/dev/null || true
	fi
}

# write_secret FILE CONTENT: a 0600 secret file.
write_secret() { (umask 077; printf '%s\n' "$2" >"$1"); chmod 0600 "$1"; }

# ---- print2mail.conf ------------------------------------------------------
# write_global [LINE ...]: start $PRINT2MAIL_CONF, mode 0644 (cupsd's lp user
# reads it), with a [global] section: state_dir = $T/state, then each LINE
# ("key = value") as given.
write_global() {
	local l
	{
		printf '[global]\nstate_dir = %s\n' "$T/state"
		for l in "$@"; do printf '%s\n' "$l"; done
	} >"$PRINT2MAIL_CONF"
	chmod 0644 "$PRINT2MAIL_CONF"
}

# write_account NAME [LINE ...]: append an [account NAME] section on the
# local SMTP server (server 127.0.0.1, port $SMTP_PORT, ca_file the test CA),
# then each LINE ("key = value") as given.
write_account() {
	local name="$1" l
	shift
	{
		printf '\n[account %s]\nserver = 127.0.0.1\nport = %s\nca_file = %s\n' \
			"$name" "$SMTP_PORT" "$T/certs/ca.pem"
		for l in "$@"; do printf '%s\n' "$l"; done
	} >>"$PRINT2MAIL_CONF"
}

# ---- running the backend as cupsd does ------------------------------------
# run_backend URI JOB USER TITLE OPTIONS FILE [VAR=VALUE ...]
# argv[0] is the sanitized URI, the environment is cupsd's (reference/cups.md
# §1.3), stdin is /dev/null.  Sets BACKEND_RC and BACKEND_ERR (stderr text);
# stderr is also in $T/backend.err.  FILE "-" means the document comes on stdin
# from $STDIN_FILE.
run_backend() {
	local uri="$1" job="$2" user="$3" title="$4" opts="$5" file="$6"
	shift 6
	local input=/dev/null
	local args="$file"
	if [ "$file" = "-" ]; then input="$STDIN_FILE"; args=""; fi
	env -i PATH=/usr/bin:/bin \
		DEVICE_URI="$uri" PRINTER="${PRINTER:-scan2mail}" PRINTER_INFO="Scan to mail" \
		PRINTER_LOCATION="Office" PRINTER_STATE_REASONS=none CONTENT_TYPE="${CONTENT_TYPE:-application/pdf}" \
		CHARSET=utf-8 LANG="${JOB_LANG:-en.UTF-8}" CUPS_SERVERBIN=/usr/lib/cups \
		CUPS_SERVERROOT=/etc/cups CUPS_DATADIR=/usr/share/cups CUPS_MAX_MESSAGE=2047 \
		HOME="$T" TMPDIR="$T" USER=root SOFTWARE=CUPS/2.4.2 AUTH_INFO_REQUIRED=none \
		PRINT2MAIL_CONF="$PRINT2MAIL_CONF" PRINT2MAIL_LOCALEDIR="$PRINT2MAIL_LOCALEDIR" \
		${P2M_SYSLOG_SOCKET:+PRINT2MAIL_SYSLOG_SOCKET=$P2M_SYSLOG_SOCKET} \
		"$@" \
		${P2M_WRAPPER:-} "$P2M_BACKEND" "$job" "$user" "$title" 1 "$opts" $args \
		<"$input" >"$T/backend.out" 2>"$T/backend.err"
	BACKEND_RC=$?
	BACKEND_ERR=$(cat "$T/backend.err")
	argv0_note=$uri  # cupsd passes the sanitized URI as argv[0]; ours has no secrets
	return 0
}

# ---- what the server received ---------------------------------------------
# last_mail: path of the newest delivered .eml, or empty.
last_mail() { ls "$SPOOL"/*.eml 2>/dev/null | sort | tail -n 1; }
mail_count() { ls "$SPOOL"/*.eml 2>/dev/null | wc -l; }

# mail_field EML FIELD: parse EML with Python's email package (policy
# default) and print one field: a header name ("Subject", decoded), or
# "defects" (all defects of all parts, empty when clean), "attachment-sha256",
# "attachment-filename", "attachment-type", "body" (text part), "parts".
mail_field() {
	"$PYTHON3" - "$1" "$2" <<'PY'
import sys, email, hashlib
from email import policy
path, field = sys.argv[1], sys.argv[2]
with open(path, "rb") as f:
    msg = email.message_from_binary_file(f, policy=policy.default)
def walk_defects(m):
    out = [type(d).__name__ for d in m.defects]
    for p in m.iter_parts() if m.is_multipart() else []:
        out += walk_defects(p)
    return out
atts = [p for p in msg.iter_attachments()]
if field == "defects":
    print(",".join(walk_defects(msg)))
elif field == "attachment-sha256":
    print(hashlib.sha256(atts[0].get_content()).hexdigest() if atts else "")
elif field == "attachment-filename":
    print(atts[0].get_filename() if atts else "")
elif field == "attachment-type":
    print(atts[0].get_content_type() if atts else "")
elif field == "body":
    b = msg.get_body(preferencelist=("plain",))
    print(b.get_content() if b is not None else "")
elif field == "parts":
    print(",".join(p.get_content_type() for p in msg.walk()))
else:
    v = msg.get_all(field)
    print("\n".join(str(x) for x in v) if v else "")
PY
}
sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

# make_pdf FILE [SIZE-BYTES]: a valid small PDF, padded with a stream of
# random bytes up to SIZE when given (for size and streaming tests).
make_pdf() {
	"$PYTHON3" - "$1" "${2:-0}" <<'PY'
import sys, os
path, size = sys.argv[1], int(sys.argv[2])
pad = max(0, size - 600)
content = b"BT /F1 24 Tf 72 720 Td (print2mail test page) Tj ET"
objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
with open(path, "wb") as f:
    f.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offs = []
    for i, o in enumerate(objs, 1):
        offs.append(f.tell())
        f.write(b"%d 0 obj\n" % i + o + b"\nendobj\n")
    if pad:
        offs.append(f.tell())
        f.write(b"6 0 obj\n<< /Length %d >>\nstream\n" % pad)
        left = pad
        while left:
            n = min(left, 1 << 20); f.write(os.urandom(n)); left -= n
        f.write(b"\nendstream\nendobj\n")
    xref = f.tell()
    f.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(offs) + 1))
    for o in offs:
        f.write(b"%010d 00000 n \n" % o)
    f.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(offs) + 1, xref))
PY
}

# ---- syslog ---------------------------------------------------------------
# p2m_start_syslog: a datagram listener; the backend logs there when
# PRINT2MAIL_SYSLOG_SOCKET names it (tests only; production uses syslog(3)).
# Lines land in $T/syslog.txt.
p2m_start_syslog() {
	P2M_SYSLOG_SOCKET="$T/syslog.sock"
	"$PYTHON3" - "$P2M_SYSLOG_SOCKET" "$T/syslog.txt" <<'PY' &
import socket, sys, os
path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path); os.chmod(path, 0o666)
with open(out, "ab", buffering=0) as f:
    while True:
        d = s.recv(65536)
        f.write(d.rstrip(b"\0\n") + b"\n")
PY
	P2M_PIDS="$P2M_PIDS $!"
	local i=0
	while [ ! -S "$P2M_SYSLOG_SOCKET" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	export P2M_SYSLOG_SOCKET
}
