#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# backend-hostile.sh - the mail server's replies are hostile input (lib/p2m-smtp.c
# reads every one of them itself): a reply that never ends, a line of 9 KB,
# control characters, a reply out of turn.  The backend stays bounded, reports
# what happened, and never sends the message where the server did not ask for it.
# Also the wire form of a message: lines that are a single "." and a last line
# without its line end arrive as they were.
set -u
. "$top_srcdir/tests/integration/backend-lib.sh"
bk_start
printf 'small document\n' >"$T/doc.txt"
URI="print2mail://scanner?to=bob@contoso.com"

# ---- an EHLO reply of 300 lines: given up after 256, retried ----
lines=$("$PYTHON3" -c 'import json; print(json.dumps(["250-X-FILLER-%d" % i for i in range(300)] + ["250 AUTH LOGIN"]))')
bk_users "\"reject\": [{\"stage\": \"ehlo\", \"when_tls\": true, \"reply\": $lines, \"suffix\": false}]"
bk_run "$URI" 401 alice "t" "" "$T/doc.txt"
is "$BACKEND_RC" "$RC_RETRY" "endless EHLO reply: retried"
like "$(error_lines)" 'a reply of more than 256 lines' "endless EHLO reply: the message says what was wrong"
is "$(mail_count)" 0 "endless EHLO reply: nothing delivered"

# ---- a 9 KB refusal line with control characters: quoted, bounded, cleaned ----
long=$("$PYTHON3" -c 'import json; print(json.dumps("550 5.1.10 RESOLVER.ADR.RecipientNotFound; \u0007\u001b[31m" + "A" * 9000))')
bk_users "\"reject\": [{\"stage\": \"rcpt\", \"reply\": $long, \"suffix\": false}]"
bk_run "$URI" 402 alice "t" "" "$T/doc.txt"
like "$(error_lines)" 'RESOLVER\.ADR\.RecipientNotFound' "9 KB refusal: quoted"
E=$(error_lines | head -n 1)
ok "$([ ${#E} -lt 4096 ]; echo $?)" "9 KB refusal: the ERROR line is bounded (${#E} bytes)"
ok "$(printf '%s' "$BACKEND_ERR" | LC_ALL=C grep -q $'\x1b\|\x07'; [ $? -ne 0 ]; echo $?)" "9 KB refusal: no control character reaches the job's messages"
is "$(mail_count)" 0 "9 KB refusal: nothing delivered"

# ---- a 250 where DATA wants 354: the message is not sent as commands ----
bk_users "\"reject\": [{\"stage\": \"data\", \"reply\": \"250 2.0.0 OK\", \"suffix\": false}]"
N=$(session_count)
bk_run "$URI" 403 alice "t" "" "$T/doc.txt"
is "$BACKEND_RC" "$RC_RETRY" "250 to DATA: retried"
like "$(error_lines)" 'unexpected reply to data' "250 to DATA: the message names the step"
wait_lines "$SPOOL/sessions.jsonl" $((N + 1))
like "$(session_field "$(last_session)" commands)" 'DATA,QUIT$' "250 to DATA: QUIT follows, no message text as commands"
is "$(mail_count)" 0 "250 to DATA: nothing delivered"

# ---- the wire form: "." lines, a leading "." and no final line end ----
bk_users
printf 'From: scanner@contoso.com\nTo: bob@contoso.com\nSubject: dots\nMIME-Version: 1.0\nContent-Type: text/plain\n\n.\n..\n.leading\nmiddle.\n.' >"$T/msg.eml"
bk_run "print2mail://scanner" 404 alice "ignored" "" "$T/msg.eml" FINAL_CONTENT_TYPE=message/rfc822
is "$BACKEND_RC" "$RC_OK" "dot lines: delivered"
M=$(last_mail)
is "$(tr -d '\r' <"$M" | tail -n 5)" "$(printf '.\n..\n.leading\nmiddle.\n.')" "dot lines: every line arrives as it was"

# ---- bare CR and LF passed through become CRLF: "<CR>.<CR><LF>" (SMTP smuggling)
# reaches the server as a "." line of the body, dot-stuffed, never as the end
# of the data followed by commands ----
printf 'From: scanner@contoso.com\nTo: bob@contoso.com\nSubject: smuggle\nMIME-Version: 1.0\nContent-Type: text/plain\n\nstart\r.\r\nMAIL FROM:<eve@evil.example>\r\nRCPT TO:<eve@evil.example>\r\nlast\r\n' >"$T/smuggle.eml"
N=$(mail_count)
bk_run "print2mail://scanner" 408 alice "ignored" "" "$T/smuggle.eml" FINAL_CONTENT_TYPE=message/rfc822
is "$BACKEND_RC" "$RC_OK" "bare CR before a dot: delivered"
is "$(mail_count)" "$((N + 1))" "bare CR before a dot: one message"
M=$(last_mail)
ok "$(LC_ALL=C grep -c $'^\.\r$' "$M" | grep -qx 1; echo $?)" "bare CR before a dot: the \".\" arrives as a line of its own"
ok "$(LC_ALL=C grep -q $'^MAIL FROM:<eve@evil.example>\r$' "$M"; echo $?)" "bare CR before a dot: what follows is body text"
is "$(meta_field "$M" rcpt_tos)" "bob@contoso.com" "bare CR before a dot: no smuggled recipient"

# ---- a reply trickled a line a second with timeout = 3: each line is in
# time, the reply is not (one deadline for the whole reply; per line, the
# job would wait out all 40 lines and fail later, at STARTTLS) ----
cat >"$T/trickle.py" <<'PY'
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
print(s.getsockname()[1], flush=True)
c, _ = s.accept()
c.sendall(b"220 trickle ESMTP\r\n")
c.recv(1024)
try:
    for i in range(40):
        c.sendall(b"250-LINE%d\r\n" % i)
        time.sleep(1)
    c.sendall(b"250 STARTTLS\r\n")
    time.sleep(10)
except OSError:
    pass
PY
"$PYTHON3" "$T/trickle.py" >"$T/trickle.port" &
P2M_PIDS="$P2M_PIDS $!"
i=0; while [ ! -s "$T/trickle.port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
cp "$PRINT2MAIL_CONF" "$T/conf.keep"
sed -i "s/^port = .*/port = $(cat "$T/trickle.port")/" "$PRINT2MAIL_CONF"
printf 'timeout = 3\n' >>"$PRINT2MAIL_CONF"
bk_run "$URI" 406 alice "t" "" "$T/doc.txt"
is "$BACKEND_RC" "$RC_RETRY" "trickled reply: retried"
like "$(error_lines)" 'stopped answering during ehlo: nothing moved for 3 s' "trickled reply: stalled during EHLO, not 40 s later"
cp "$T/conf.keep" "$PRINT2MAIL_CONF"

# ---- STARTTLS injection (RFC 3207 5, CVE-2011-0411's kind): plain text sent
# with the "220" must not be read as the first reply under TLS ----
cat >"$T/inject.py" <<'PY'
import socket, ssl, sys
certs = sys.argv[1]
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
print(s.getsockname()[1], flush=True)
c, _ = s.accept()
f = c.makefile("rb")
c.sendall(b"220 inject ESMTP\r\n")
f.readline()                                      # EHLO
c.sendall(b"250-inject\r\n250 STARTTLS\r\n")
f.readline()                                      # STARTTLS
c.sendall(b"220 go ahead\r\n250 INJECTED-EHLO-ANSWER\r\n")
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(certs + "/server.pem", certs + "/server.key")
t = ctx.wrap_socket(c, server_side=True)
g = t.makefile("rb")
g.readline()                                      # EHLO under TLS
t.sendall(b"250-inject\r\n250 AUTH LOGIN\r\n")
g.readline()                                      # AUTH LOGIN
t.sendall(b"535 5.7.3 Authentication unsuccessful\r\n")
g.readline()                                      # QUIT
t.sendall(b"221 bye\r\n")
PY
"$PYTHON3" "$T/inject.py" "$T/certs" >"$T/inject.port" 2>"$T/inject.err" &
P2M_PIDS="$P2M_PIDS $!"
i=0; while [ ! -s "$T/inject.port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
sed -i "s/^port = .*/port = $(cat "$T/inject.port")/" "$PRINT2MAIL_CONF"
bk_run "$URI" 407 alice "t" "" "$T/doc.txt"
like "$(error_lines)" '535 5\.7\.3' "STARTTLS injection: the reply under TLS is the server's real one (535 to AUTH)"
unlike "$BACKEND_ERR" 'INJECTED' "STARTTLS injection: the injected line was never read as a reply"
cp "$T/conf.keep" "$PRINT2MAIL_CONF"

# ---- the server by name: resolved (in a thread, bounded), every address tried, the name verified ----
# (A minimal Debian without an /etc/hosts entry for it cannot resolve
# "localhost": glibc has no built-in answer.)
if getent ahostsv4 localhost | grep -q '^127\.0\.0\.1 '; then
	sed -i 's/^server = 127\.0\.0\.1$/server = localhost/' "$PRINT2MAIL_CONF"
	bk_run "$URI" 405 alice "by name" "" "$T/doc.txt"
	is "$BACKEND_RC" "$RC_OK" "server = localhost: delivered (certificate names DNS:localhost)"
	like "$(printf '%s\n' "$BACKEND_ERR" | grep '^DEBUG: ')" 'Connected to localhost \(127\.0\.0\.1 port' "server = localhost: connected to the IPv4 address"
else
	skip "server = localhost" "localhost does not resolve to 127.0.0.1 here (no /etc/hosts entry)"
	skip "server = localhost: connected" "localhost does not resolve here"
fi

done_testing
