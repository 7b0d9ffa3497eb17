#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# selftest.sh: prove the local test servers (m365smtp.py, tokend.py, mkcerts.sh) do what the
# rest of the test suite trusts them to do, using the same clients print2mail uses (curl/libcurl,
# openssl).  Prints TAP and exits non-zero on any failure.  Runs in well under 60 s.
# KEEP=1 keeps the work directory for inspection.
set -u

here=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3          # Debian's interpreter: it has python3-aiosmtpd and python3-cryptography
CURL=/usr/bin/curl
work=$(mktemp -d "${TMPDIR:-/tmp}/p2m-servers.XXXXXX")
pids=()
declare -A pid_of
n=0
failed=0

cleanup() {
    local p
    for p in "${pids[@]}"; do
        kill -TERM "$p" 2>/dev/null
    done
    wait 2>/dev/null
    if [ "${KEEP:-0}" = 1 ]; then
        echo "# kept $work"
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
    n=$((n + 1)); failed=$((failed + 1))
    echo "not ok $n - $1"
    shift
    local l
    for l in "$@"; do echo "#   $l"; done
}
# check DESC CMD...: one TAP line from a command's exit status.
check() {
    local desc=$1
    shift
    if "$@"; then ok "$desc"; else not_ok "$desc" "failed: $*"; fi
}
# jcheck FILE EXPR: EXPR (Python, 'd' is the JSON document) is true.  jlast: the file's last line.
jcheck() { "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' "$1" "$2"; }
jlast() { "$PY" -c 'import json,sys; d=json.loads(open(sys.argv[1]).read().splitlines()[-1]); sys.exit(0 if eval(sys.argv[2]) else 1)' "$1" "$2"; }
# jfield FILE KEY: print one top-level string field of a JSON file.
jfield() { "$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }
count_eml() { find "$1" -maxdepth 1 -name '*.eml' | wc -l; }
# wait_lines FILE N: wait (max 5 s) until FILE has at least N lines; sessions are logged when they end.
wait_lines() {
    local i
    for i in $(seq 50); do
        [ -f "$1" ] && [ "$(wc -l <"$1")" -ge "$2" ] && return 0
        sleep 0.1
    done
    return 1
}
lines() { if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi; }
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }

# ---- 1. certificates ---------------------------------------------------------------------------
certs=$work/certs
"$here/mkcerts.sh" "$certs"
want="ca.pem ca.key server.pem server.key untrusted-ca.pem untrusted-server.pem untrusted-server.key client.pem client.key client-expiring.pem client-expiring.key"
missing=""
for f in $want; do [ -s "$certs/$f" ] || missing="$missing $f"; done
badmode=$(find "$certs" -name '*.key' ! -perm 0600)
if [ -z "$missing" ] && [ -z "$badmode" ]; then ok "mkcerts.sh made every file, keys 0600"; else
    not_ok "mkcerts.sh made every file, keys 0600" "missing:$missing" "bad modes: $badmode"; fi
sums1=$(cd "$certs" && md5sum ./*)
"$here/mkcerts.sh" "$certs"
sums2=$(cd "$certs" && md5sum ./*)
check "mkcerts.sh is idempotent (second run changes nothing)" test "$sums1" = "$sums2"
check "server.pem verifies against ca.pem, untrusted-server.pem does not" \
    bash -c "openssl verify -CAfile '$certs/ca.pem' '$certs/server.pem' >/dev/null 2>&1 &&
             ! openssl verify -CAfile '$certs/ca.pem' '$certs/untrusted-server.pem' >/dev/null 2>&1"
exp_days=$(( ($(date -d "$(openssl x509 -in "$certs/client-expiring.pem" -noout -enddate | cut -d= -f2)" +%s) - $(date +%s)) / 86400 ))
check "client-expiring.pem expires in 4-5 days (is $exp_days)" test "$exp_days" -ge 4 -a "$exp_days" -le 5

# ---- 2. start the servers --------------------------------------------------------------------------
state=$work/state
mkdir -p "$state"
cat >"$work/smtp.json" <<EOF
{"users": {"alice@contoso.com": "Alice-Pa55!", "carol@contoso.com": "Carol-Pa55!"},
 "token_db": "$state/tokens.jsonl",
 "reject": [
  {"stage": "auth", "when_user": "carol@contoso.com", "times": 1,
   "reply": "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information."},
  {"stage": "data_end", "when_rcpt": "sendas@contoso.com",
   "reply": "550 5.7.60 SMTP; Client does not have permissions to send as this sender"}
 ],
 "close_after": [{"stage": "data_end", "when_rcpt": "drop@contoso.com"}]
}
EOF
cat >"$work/tokend.json" <<EOF
{"clients": {
   "11111111-aaaa-4bbb-8ccc-000000000001": {"secret": "app-secret-value", "mailbox": "scanner@contoso.com",
                                            "certificate": "$certs/client.pem"},
   "22222222-aaaa-4bbb-8ccc-000000000002": {"mailbox": null},
   "33333333-aaaa-4bbb-8ccc-000000000003": {"secret": "old"}},
 "errors": {"33333333-aaaa-4bbb-8ccc-000000000003": {"code": 7000222}},
 "device_approve_after": 2,
 "device_user": "bob@contoso.com",
 "device_interval": 1
}
EOF

start() {   # start NAME CMD...: run a server in the background, remember its pid
    local name=$1
    shift
    "$@" 2>"$work/$name.err" &
    pids+=($!)
    pid_of[$name]=$!
}
start smtp "$PY" "$here/m365smtp.py" --cert "$certs/server.pem" --key "$certs/server.key" \
    --port-file "$work/smtp.port" --spool "$work/spool" --script "$work/smtp.json" --pid-file "$work/smtp.pid"
start bad "$PY" "$here/m365smtp.py" --cert "$certs/untrusted-server.pem" --key "$certs/untrusted-server.key" \
    --port-file "$work/bad.port" --spool "$work/spool-bad" --script "$work/smtp.json"
start tls "$PY" "$here/m365smtp.py" --cert "$certs/server.pem" --key "$certs/server.key" --implicit-tls \
    --port-file "$work/tls.port" --spool "$work/spool-tls" --script "$work/smtp.json"
start tok "$PY" "$here/tokend.py" --cert "$certs/server.pem" --key "$certs/server.key" \
    --port-file "$work/tok.port" --state-dir "$state" --config "$work/tokend.json" --pid-file "$work/tok.pid"
for i in $(seq 100); do
    [ -s "$work/smtp.port" ] && [ -s "$work/bad.port" ] && [ -s "$work/tls.port" ] && [ -s "$work/tok.port" ] && break
    sleep 0.1
done
if [ -s "$work/smtp.port" ] && [ -s "$work/bad.port" ] && [ -s "$work/tls.port" ] && [ -s "$work/tok.port" ]; then
    ok "all four servers wrote their port files"
else
    not_ok "all four servers wrote their port files" "$(cat "$work"/*.err)"
    echo "1..$n"
    exit 1
fi
SP=$(cat "$work/smtp.port"); BP=$(cat "$work/bad.port"); TP=$(cat "$work/tls.port"); KP=$(cat "$work/tok.port")
spool=$work/spool
check "pid files hold the server pids" test "$(cat "$work/smtp.pid")" = "${pid_of[smtp]}" -a "$(cat "$work/tok.pid")" = "${pid_of[tok]}"

CURL_SMTP=("$CURL" -sS -v --ssl-reqd --cacert "$certs/ca.pem" --max-time 20)
CURL_TOK=("$CURL" -sS --cacert "$certs/ca.pem" --max-time 20)
TENANT=contoso.onmicrosoft.com
TOKEN_URL=https://127.0.0.1:$KP/$TENANT/oauth2/v2.0/token
DEVICE_URL=https://127.0.0.1:$KP/$TENANT/oauth2/v2.0/devicecode
APP=11111111-aaaa-4bbb-8ccc-000000000001
PUB=22222222-aaaa-4bbb-8ccc-000000000002
OLD=33333333-aaaa-4bbb-8ccc-000000000003

check "tokend /_test/health answers 200" \
    test "$("${CURL_TOK[@]}" -o /dev/null -w '%{http_code}' "https://127.0.0.1:$KP/_test/health")" = 200

# The test message: CRLF line ends, a line starting with '.', which curl dot-stuffs and the
# server must unstuff, and no final line without CRLF (curl then adds only ".\r\n").
msg=$work/msg.eml
printf 'From: alice@contoso.com\r\nTo: bob@contoso.com\r\nSubject: selftest\r\nMessage-ID: <selftest-1@contoso.com>\r\n\r\nHello.\r\n.a line that starts with a dot\r\n..two dots\r\nEnd.\r\n' >"$msg"

# smtp LOG ARGS...: curl -v for SMTP, its dialogue in LOG without curl's CRs; returns curl's status.
smtp() {
    local log=$1 rc
    shift
    "${CURL_SMTP[@]}" "$@" >"$log" 2>&1
    rc=$?
    sed -i 's/\r$//' "$log"
    return $rc
}
# send_login LOG USER PASS RCPT [extra curl args]: AUTH LOGIN send of $msg.
send_login() {
    local log=$1 user=$2 pass=$3 rcpt=$4
    shift 4
    smtp "$log" "smtp://127.0.0.1:$SP" --mail-from "$user" --mail-rcpt "$rcpt" \
        --user "$user:$pass" --login-options AUTH=LOGIN -T "$msg" "$@"
}

# ---- 3. basic auth delivery -------------------------------------------------------------------------
send_login "$work/c1.log" alice@contoso.com 'Alice-Pa55!' bob@contoso.com
rc=$?
if [ $rc = 0 ] && [ -f "$spool/0001.eml" ] && cmp -s "$msg" "$spool/0001.eml"; then
    ok "AUTH LOGIN message delivered with the exact bytes sent (dot-unstuffed, CRLF kept)"
else
    not_ok "AUTH LOGIN message delivered with the exact bytes sent" "curl rc=$rc" "$(grep -E '^[<>*] ' "$work/c1.log" | tail -5)"
fi
check "250 2.6.0 reply echoes the Message-ID and says Queued mail for delivery" \
    grep -qE '^< 250 2\.6\.0 <selftest-1@contoso\.com> \[InternalId=[0-9]+, Hostname=[^]]+\] Queued mail for delivery' "$work/c1.log"
pre=$(sed -n '/^> STARTTLS/q;p' "$work/c1.log")
post=$(sed -n '/^> STARTTLS/,$p' "$work/c1.log")
if grep -q '^< 250-STARTTLS' <<<"$pre" && ! grep -q '^< 250-AUTH' <<<"$pre" &&
    grep -qx '< 250-AUTH LOGIN XOAUTH2' <<<"$post" && grep -qx '< 250-SIZE 157286400' <<<"$post" &&
    grep -qx '< 250 SMTPUTF8' <<<"$post" && ! grep -q '^< 250-STARTTLS' <<<"$post"; then
    ok "EHLO offers STARTTLS and no AUTH before TLS, AUTH LOGIN XOAUTH2 and SIZE after"
else
    not_ok "EHLO offers STARTTLS and no AUTH before TLS, AUTH LOGIN XOAUTH2 and SIZE after" "$(grep '^< 250' "$work/c1.log")"
fi
check "greeting is Exchange's" \
    grep -qE '^< 220 SN2PR00CA0018\.outlook\.office365\.com Microsoft ESMTP MAIL Service ready at [A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} \+0000' "$work/c1.log"
msg_size=$(stat -c %s "$msg")
check "0001.json records envelope, mechanism, user, TLS version and size" \
    jcheck "$spool/0001.json" 'd["mail_from"]=="alice@contoso.com" and d["rcpt_tos"]==["bob@contoso.com"] and d["auth_mech"]=="LOGIN" and d["auth_user"]=="alice@contoso.com" and d["tls_version"] in ("TLSv1.2","TLSv1.3") and d["size"]=='"$msg_size"
wait_lines "$spool/sessions.jsonl" 1
check "sessions.jsonl has the session's command verbs in order and the delivered file" \
    jlast "$spool/sessions.jsonl" 'd["commands"]==["EHLO","STARTTLS","EHLO","AUTH","MAIL","RCPT","DATA","QUIT"] and d["delivered"]=="0001.eml" and d["auth_ok"] and d["tls"] and d["auth_user"]=="alice@contoso.com"'
check "no password appears anywhere in the spool" bash -c "! grep -rqF 'Alice-Pa55!' '$spool'"

# ---- 4. refusals ----------------------------------------------------------------------------------------
send_login "$work/c2.log" alice@contoso.com 'wrong' bob@contoso.com
rc=$?
check "wrong password: curl exit 67 and the exact 535 5.7.3 line" \
    bash -c "[ $rc = 67 ] && grep -qxF '< 535 5.7.3 Authentication unsuccessful [SN2PR00CA0018.namprd00.prod.outlook.com 2026-11-23T10:00:00.000Z 08DE0123456789AB]' '$work/c2.log'"

# Raw protocol checks curl cannot make (it never sends AUTH before TLS or PLAIN unoffered).
cat >"$work/raw.py" <<'EOF'
import socket, ssl, sys
port, ca = int(sys.argv[1]), sys.argv[2]
S = " [SN2PR00CA0018.namprd00.prod.outlook.com 2026-11-23T10:00:00.000Z 08DE0123456789AB]"
def reply(f):
    lines = []
    while True:
        l = f.readline().decode().rstrip("\r\n")
        lines.append(l)
        if len(l) < 4 or l[3] == " ":
            return lines
def cmd(s, f, c):
    s.sendall(c.encode() + b"\r\n")
    return reply(f)[-1]
s = socket.create_connection(("127.0.0.1", port), timeout=10); f = s.makefile("rb")
reply(f); cmd(s, f, "EHLO selftest")
got = [cmd(s, f, "AUTH LOGIN"), cmd(s, f, "MAIL FROM:<alice@contoso.com>")]
cmd(s, f, "STARTTLS")
s = ssl.create_default_context(cafile=ca).wrap_socket(s, server_hostname="localhost"); f = s.makefile("rb")
cmd(s, f, "EHLO selftest")
got += [cmd(s, f, "MAIL FROM:<alice@contoso.com>"), cmd(s, f, "AUTH PLAIN AGFsaWNlAHg=")]
want = ["504 5.7.4 Unrecognized authentication type" + S, "451 5.7.3 STARTTLS is required to send mail" + S,
        "530 5.7.57 Client not authenticated to send mail." + S, "504 5.7.4 Unrecognized authentication type" + S]
for g, w in zip(got, want):
    if g != w:
        print("# got:  %s\n# want: %s" % (g, w)); sys.exit(1)
cmd(s, f, "QUIT")
EOF
check "raw: AUTH before TLS 504 5.7.4, MAIL before TLS 451 5.7.3, MAIL unauthenticated 530 5.7.57, AUTH PLAIN 504 5.7.4" \
    "$PY" "$work/raw.py" "$SP" "$certs/ca.pem"

send_login "$work/c3.log" carol@contoso.com 'Carol-Pa55!' bob@contoso.com
rc=$?
check "scripted 535 5.7.139 at AUTH reaches curl verbatim with the Microsoft suffix (exit 67)" \
    bash -c "[ $rc = 67 ] && grep -qxF '< 535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information. [SN2PR00CA0018.namprd00.prod.outlook.com 2026-11-23T10:00:00.000Z 08DE0123456789AB]' '$work/c3.log'"
send_login "$work/c4.log" carol@contoso.com 'Carol-Pa55!' bob@contoso.com
check "'times': 1 refusal applies once; the next connection is accepted" test $? = 0

before=$(count_eml "$spool")
send_login "$work/c5.log" alice@contoso.com 'Alice-Pa55!' sendas@contoso.com
rc=$?
check "550 5.7.60 after the body (data_end) reaches curl, nothing delivered" \
    bash -c "[ $rc != 0 ] && grep -qF '< 550 5.7.60 SMTP; Client does not have permissions to send as this sender [SN2PR00CA0018' '$work/c5.log' && [ $(count_eml "$spool") = $before ]"

send_login "$work/c6.log" alice@contoso.com 'Alice-Pa55!' drop@contoso.com
rc=$?
case $rc in 52 | 55 | 56) netfail=1 ;; *) netfail=0 ;; esac
check "close_after data_end: connection dropped without a reply (curl exit $rc), nothing delivered" \
    bash -c "[ $netfail = 1 ] && ! grep -q '^< 250 2.6.0' '$work/c6.log' && [ $(count_eml "$spool") = $before ]"

# A client killed in the middle of DATA leaves no message and no temp file behind.
"$PY" - "$SP" "$certs/ca.pem" <<'EOF'
import smtplib, ssl, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=10)
s.starttls(context=ssl.create_default_context(cafile=sys.argv[2]))
s.login("alice@contoso.com", "Alice-Pa55!")
s.mail("alice@contoso.com"); s.rcpt("bob@contoso.com")
s.putcmd("data"); s.getreply()
s.send(b"Subject: half\r\n\r\nonly half of the body\r\n")
s.sock.close()
EOF
wait_lines "$spool/sessions.jsonl" 7
check "client gone mid-DATA: no .eml, no temp file, session logged undelivered" \
    bash -c "[ $(count_eml "$spool") = $before ] && [ -z \"\$(find '$spool' -name '*.tmp')\" ]" 
check "...and its sessions.jsonl line ends in DATA with delivered null" \
    jlast "$spool/sessions.jsonl" 'd["commands"][-1]=="DATA" and d["delivered"] is None'

# ---- 5. TLS ------------------------------------------------------------------------------------------------
smtp "$work/c7.log" "smtp://127.0.0.1:$BP" --mail-from alice@contoso.com --mail-rcpt bob@contoso.com \
    --user 'alice@contoso.com:Alice-Pa55!' --login-options AUTH=LOGIN -T "$msg"
rc=$?
wait_lines "$work/spool-bad/sessions.jsonl" 1
check "certificate from an untrusted CA: curl fails before AUTH (exit 60)" \
    bash -c "[ $rc = 60 ] && ! grep -q '^> AUTH' '$work/c7.log'"
check "...and the server's session shows no AUTH, no TLS" \
    jlast "$work/spool-bad/sessions.jsonl" '"AUTH" not in d["commands"] and d["commands"][:2]==["EHLO","STARTTLS"] and not d["tls"] and not d["auth_ok"]'

smtp "$work/c8.log" "smtps://127.0.0.1:$TP" --mail-from alice@contoso.com --mail-rcpt bob@contoso.com \
    --user 'alice@contoso.com:Alice-Pa55!' --login-options AUTH=LOGIN -T "$msg"
rc=$?
check "--implicit-tls: smtps:// delivery, no STARTTLS offered" \
    bash -c "[ $rc = 0 ] && cmp -s '$msg' '$work/spool-tls/0001.eml' && ! grep -q '250-STARTTLS' '$work/c8.log'"

# ---- 6. tokens and XOAUTH2 ---------------------------------------------------------------------------------
"${CURL_TOK[@]}" -o "$work/t1.json" -w '%{http_code}' "$TOKEN_URL" -d grant_type=client_credentials \
    --data-urlencode "client_id=$APP" --data-urlencode client_secret=app-secret-value \
    --data-urlencode scope=https://outlook.office365.com/.default >"$work/t1.code"
check "client_credentials with a secret: 200, Bearer, expires_in 3599, token eyJ0..." \
    bash -c "[ \$(cat '$work/t1.code') = 200 ] && $PY -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d[\"token_type\"]==\"Bearer\" and d[\"expires_in\"]==3599 and d[\"ext_expires_in\"]==3599 and d[\"access_token\"].startswith(\"eyJ0\") and len(d[\"access_token\"])>=40 and \"refresh_token\" not in d else 1)' '$work/t1.json'"
AT=$(jfield "$work/t1.json" access_token 2>/dev/null)
check "tokens.jsonl records the token for the app's mailbox" \
    "$PY" -c 'import json,sys,time; r=[json.loads(l) for l in open(sys.argv[1])]; sys.exit(0 if any(x["access_token"]==sys.argv[2] and x["mailbox"]=="scanner@contoso.com" and x["expires_at"]>time.time()+3000 for x in r) else 1)' "$state/tokens.jsonl" "$AT"

smtp "$work/c9.log" "smtp://127.0.0.1:$SP" --mail-from scanner@contoso.com --mail-rcpt bob@contoso.com \
    --user scanner@contoso.com --oauth2-bearer "$AT" --login-options AUTH=XOAUTH2 -T "$msg"
rc=$?
files=("$spool"/[0-9]*.json)      # zero-padded names: glob order is delivery order
last=$(basename "${files[-1]}")
check "XOAUTH2 with a tokend token delivers, recorded as XOAUTH2 for the mailbox" \
    bash -c "[ $rc = 0 ] && grep -q '^< 235 2.7.0 Authentication successful' '$work/c9.log'" 
check "...with auth_mech XOAUTH2 and auth_user scanner@contoso.com in the .json" \
    jcheck "$spool/$last" 'd["auth_mech"]=="XOAUTH2" and d["auth_user"]=="scanner@contoso.com"'
check "the bearer token never appears in the spool" bash -c "! grep -rqF '$AT' '$spool'"

smtp "$work/c10.log" --sasl-ir "smtp://127.0.0.1:$SP" --mail-from bob@contoso.com --mail-rcpt bob@contoso.com \
    --user bob@contoso.com --oauth2-bearer "$AT" --login-options AUTH=XOAUTH2 -T "$msg"
rc=$?
check "XOAUTH2 (initial response) with the token for another mailbox: 535 5.7.3" \
    bash -c "[ $rc = 67 ] && grep -qF '< 535 5.7.3 Authentication unsuccessful [' '$work/c10.log'"

# ---- 7. device code flow ---------------------------------------------------------------------------------
"${CURL_TOK[@]}" -o "$work/d0.json" "$DEVICE_URL" --data-urlencode "client_id=$PUB" \
    --data-urlencode "scope=https://outlook.office.com/SMTP.Send offline_access"
check "devicecode: user_code ABCD-EFGH, verification_uri, interval, expires_in 900, message" \
    jcheck "$work/d0.json" '__import__("re").fullmatch(r"[A-Z]{4}-[A-Z]{4}", d["user_code"]) and d["verification_uri"]=="https://microsoft.com/devicelogin" and d["interval"]==1 and d["expires_in"]==900 and d["user_code"] in d["message"] and d["message"].startswith("To sign in, use a web browser")'
DC=$(jfield "$work/d0.json" device_code 2>/dev/null)
poll() { "${CURL_TOK[@]}" -o "$1" -w '%{http_code}' "$TOKEN_URL" --data-urlencode "client_id=$PUB" \
    --data-urlencode "grant_type=urn:ietf:params:oauth:grant-type:device_code" --data-urlencode "device_code=$DC"; }
c1=$(poll "$work/d1.json"); c2=$(poll "$work/d2.json"); c3=$(poll "$work/d3.json"); c4=$(poll "$work/d4.json")
check "polls 1 and 2: 400 authorization_pending [70016]" \
    bash -c "[ $c1 = 400 ] && [ $c2 = 400 ] && grep -q '\"error\": \"authorization_pending\"' '$work/d1.json' && grep -q '\"error_codes\": \\[70016\\]' '$work/d2.json'"
check "poll 3: token with refresh_token and scope SMTP.Send" \
    bash -c "[ $c3 = 200 ] && $PY -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d[\"scope\"]==\"https://outlook.office.com/SMTP.Send\" and d[\"refresh_token\"] and d[\"access_token\"].startswith(\"eyJ0\") and d[\"expires_in\"]==3599 else 1)' '$work/d3.json'"
check "poll 4: the device code was already redeemed (invalid_grant)" \
    bash -c "[ $c4 = 400 ] && grep -q '\"error\": \"invalid_grant\"' '$work/d4.json'"
RT=$(jfield "$work/d3.json" refresh_token 2>/dev/null)
BOB_AT=$(jfield "$work/d3.json" access_token 2>/dev/null)
smtp "$work/c11.log" "smtp://127.0.0.1:$SP" --mail-from bob@contoso.com --mail-rcpt alice@contoso.com \
    --user bob@contoso.com --oauth2-bearer "$BOB_AT" --login-options AUTH=XOAUTH2 -T "$msg"
check "the device-flow token sends as the signed-in user bob@contoso.com" test $? = 0

refresh() { "${CURL_TOK[@]}" -o "$1" -w '%{http_code}' "$TOKEN_URL" --data-urlencode "client_id=$PUB" \
    -d grant_type=refresh_token --data-urlencode "refresh_token=$2" \
    --data-urlencode "scope=https://outlook.office.com/SMTP.Send offline_access"; }
r1=$(refresh "$work/r1.json" "$RT"); r2=$(refresh "$work/r2.json" "$RT"); r3=$(refresh "$work/r3.json" "not-a-token")
RT1=$(jfield "$work/r1.json" refresh_token 2>/dev/null)
check "refresh_token grant: a new refresh token each time, the old one keeps working, an unknown one is invalid_grant 70000" \
    bash -c "[ $r1 = 200 ] && [ $r2 = 200 ] && [ $r3 = 400 ] && [ -n '$RT1' ] && [ '$RT1' != '$RT' ] && grep -q '\"error_codes\": \\[70000\\]' '$work/r3.json'"

# ---- 8. certificate assertion (signed with openssl, as the C helper will) ----------------------------------
make_assertion() {   # make_assertion ALG AUD: a JWT client assertion for $APP signed with client.key
    local alg=$1 aud=$2 now hdr pl sigopts=()
    now=$(date +%s)
    x5t=$(openssl x509 -in "$certs/client.pem" -outform DER | openssl dgst -sha256 -binary | b64url)
    hdr=$(printf '{"alg":"%s","typ":"JWT","x5t#S256":"%s"}' "$alg" "$x5t" | b64url)
    pl=$(printf '{"aud":"%s","iss":"%s","sub":"%s","jti":"%s","nbf":%d,"iat":%d,"exp":%d}' \
        "$aud" "$APP" "$APP" "$(cat /proc/sys/kernel/random/uuid)" "$now" "$now" $((now + 300)) | b64url)
    [ "$alg" = PS256 ] && sigopts=(-sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32)
    printf '%s.%s.%s' "$hdr" "$pl" \
        "$(printf '%s.%s' "$hdr" "$pl" | openssl dgst -sha256 -sign "$certs/client.key" "${sigopts[@]}" -binary | b64url)"
}
assert_req() {   # assert_req OUT JWT: client_credentials with a client assertion
    "${CURL_TOK[@]}" -o "$1" -w '%{http_code}' "$TOKEN_URL" -d grant_type=client_credentials \
        --data-urlencode "client_id=$APP" \
        --data-urlencode client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer \
        --data-urlencode "client_assertion=$2" --data-urlencode scope=https://outlook.office365.com/.default
}
JWT=$(make_assertion PS256 "$TOKEN_URL")
a1=$(assert_req "$work/a1.json" "$JWT")
check "PS256 certificate assertion (openssl, x5t#S256, aud = this endpoint) accepted" \
    bash -c "[ $a1 = 200 ] && grep -q '\"access_token\": \"eyJ0' '$work/a1.json'"
a2=$(assert_req "$work/a2.json" "$JWT")
check "the same assertion replayed: 401 invalid_client AADSTS700027" \
    bash -c "[ $a2 = 401 ] && grep -q '\"error\": \"invalid_client\"' '$work/a2.json' && grep -q '\"error_codes\": \\[700027\\]' '$work/a2.json'"
a3=$(assert_req "$work/a3.json" "$(make_assertion RS256 "$TOKEN_URL")")
a4=$(assert_req "$work/a4.json" "$(make_assertion PS256 "https://login.microsoftonline.com/$TENANT/oauth2/v2.0/token")")
check "RS256 (not enabled) and a foreign aud are refused with 700027" \
    bash -c "[ $a3 = 401 ] && [ $a4 = 401 ] && grep -q '700027' '$work/a3.json' && grep -q '700027' '$work/a4.json'"

# ---- 9. forced errors, HTTP failures ---------------------------------------------------------------------------
e1=$("${CURL_TOK[@]}" -o "$work/e1.json" -w '%{http_code}' "$TOKEN_URL" -d grant_type=client_credentials \
    --data-urlencode "client_id=$OLD" -d client_secret=old --data-urlencode scope=https://outlook.office365.com/.default)
check "forced AADSTS7000222: 401 invalid_client with Microsoft's JSON shape" \
    bash -c "[ $e1 = 401 ] && $PY -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d[\"error\"]==\"invalid_client\" and d[\"error_codes\"]==[7000222] and d[\"error_description\"].startswith(\"AADSTS7000222: The provided client secret keys for app\") and \"\\r\\nTrace ID: \" in d[\"error_description\"] and d[\"error_uri\"]==\"https://login.microsoftonline.com/error?code=7000222\" and d[\"trace_id\"] and d[\"correlation_id\"] and d[\"timestamp\"] else 1)' '$work/e1.json'"
"$PY" - "$work/tokend.json" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1])); c["fail_http"] = 503; c["fail_http_times"] = 1
open(sys.argv[1] + ".new", "w").write(json.dumps(c))
EOF
mv "$work/tokend.json.new" "$work/tokend.json"
h1=$("${CURL_TOK[@]}" -o "$work/h1.html" -w '%{http_code}' "$TOKEN_URL" -d grant_type=client_credentials \
    --data-urlencode "client_id=$APP" -d client_secret=app-secret-value --data-urlencode scope=https://outlook.office365.com/.default)
h2=$("${CURL_TOK[@]}" -o "$work/h2.json" -w '%{http_code}' "$TOKEN_URL" -d grant_type=client_credentials \
    --data-urlencode "client_id=$APP" -d client_secret=app-secret-value --data-urlencode scope=https://outlook.office365.com/.default)
check "fail_http 503 (times 1): one HTML 503, then tokens again" \
    bash -c "[ $h1 = 503 ] && grep -q '<html>' '$work/h1.html' && [ $h2 = 200 ]"

# ---- 10. load: concurrency and a large message --------------------------------------------------------------------
big=$work/big.eml
"$PY" - "$big" <<'EOF'
import base64, os, sys
with open(sys.argv[1], "wb") as f:
    f.write(b"From: alice@contoso.com\r\nTo: bob@contoso.com\r\nSubject: big\r\n\r\n")
    b = base64.b64encode(os.urandom(15 * 1024 * 1024))
    f.write(b"\r\n".join(b[i:i + 76] for i in range(0, len(b), 76)) + b"\r\n.\r\n.end\r\n")
EOF
before=$(count_eml "$spool")
cpids=()
for i in 1 2 3; do
    # --max-time: a generous bound, not a speed check (3 x 20 MB on a loaded machine).
    "${CURL_SMTP[@]}" --max-time 300 "smtp://127.0.0.1:$SP" --mail-from alice@contoso.com --mail-rcpt "r$i@contoso.com" \
        --user 'alice@contoso.com:Alice-Pa55!' --login-options AUTH=LOGIN -T "$big" >"$work/p$i.log" 2>&1 &
    cpids+=($!)
done
prc=0
for p in "${cpids[@]}"; do wait "$p" || prc=1; done
same=1
files=("$spool"/[0-9]*.eml)
for f in "${files[@]: -3}"; do cmp -s "$big" "$f" || same=0; done
check "3 concurrent 20 MB messages all delivered byte for byte" \
    bash -c "[ $prc = 0 ] && [ $(count_eml "$spool") = $((before + 3)) ] && [ $same = 1 ]"

# ---- 11. what tokend logged ------------------------------------------------------------------------------------------
check "requests.jsonl: 4 device_code polls, 1 devicecode request, 3 refresh requests" \
    "$PY" -c 'import json,sys; r=[json.loads(l) for l in open(sys.argv[1])]; g=lambda k: sum(1 for x in r if x["grant_type"]==k); sys.exit(0 if g("urn:ietf:params:oauth:grant-type:device_code")==4 and sum(1 for x in r if x["path"].endswith("/devicecode"))==1 and g("refresh_token")==3 and [x["error_code"] for x in r if x["grant_type"]=="urn:ietf:params:oauth:grant-type:device_code"]==[70016,70016,None,54005] else 1)' "$state/requests.jsonl"
check "requests.jsonl: client_credentials statuses in order (200 200 401 401 401 401 503 200)" \
    "$PY" -c 'import json,sys; r=[json.loads(l) for l in open(sys.argv[1])]; s=[x["status"] for x in r if x["grant_type"]=="client_credentials"]; sys.exit(0 if s==[200,200,401,401,401,401,503,200] else print("#", s) or 1)' "$state/requests.jsonl"
check "requests.jsonl holds no secret, assertion or token" \
    bash -c "! grep -qF -e app-secret-value -e '$JWT' -e '$AT' -e '$RT' -e eyJ0 -e 0.A '$state/requests.jsonl'"

# ---- 12. clean shutdown -------------------------------------------------------------------------------------------------
t0=$(date +%s%N)
kill -TERM "${pids[@]}"
src=0
for p in "${pids[@]}"; do wait "$p" || src=$?; done
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
pids=()
check "SIGTERM: every server exits 0 within 3 s (took ${ms} ms) and removes its port file" \
    bash -c "[ $src = 0 ] && [ $ms -lt 3000 ] && [ ! -e '$work/smtp.port' ] && [ ! -e '$work/tok.port' ]"

echo "1..$n"
if [ "$failed" -ne 0 ]; then
    echo "# $failed of $n failed; server logs:"
    for f in "$work"/*.err; do sed "s|^|# $(basename "$f"): |" "$f"; done
    exit 1
fi
