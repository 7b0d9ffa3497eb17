#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# backend-deliver.sh - the backend run as cupsd runs it delivers correct mail:
# AUTH LOGIN over STARTTLS and implicit TLS, file and stdin, headers a mail
# reader parses cleanly, the attachment byte for byte, no header or recipient
# injected through title or options, an already composed message sent as is,
# discovery, success clears our state reasons, one syslog line, no secret.
set -u
. "$top_srcdir/tests/integration/backend-lib.sh"
bk_start "allowed_recipients = contoso.com, fabrikam.com"
make_pdf "$T/doc.pdf" 300000

# ---- 1. AUTH LOGIN job, file argument ----
TITLE='Quarterly report été – 報告'
bk_run "print2mail://scanner?to=bob@contoso.com" 42 alice "$TITLE" "mailcc=carol@fabrikam.com" "$T/doc.pdf" \
	PRINTER_STATE_REASONS=com.print2mail-auth-off-tenant-error,paused
is "$BACKEND_RC" "$RC_OK" "login job: exit OK"
M=$(last_mail)
ok "$([ -n "$M" ]; echo $?)" "login job: a message was delivered"
is "$(mail_field "$M" From)" "scanner@contoso.com" "From is the account"
is "$(mail_field "$M" To)" "bob@contoso.com" "To from the device URI"
is "$(mail_field "$M" Cc)" "carol@fabrikam.com" "Cc from mailcc"
is "$(mail_field "$M" Subject)" "$TITLE" "non-ASCII title is the subject"
is "$(mail_field "$M" Auto-Submitted)" "auto-generated" "Auto-Submitted: auto-generated"
like "$(mail_field "$M" Message-ID)" '^<[^<>@ ]+@[^<>@ ]+>$' "Message-ID present and well-formed"
is "$(mail_field "$M" defects)" "" "no defects in any part"
is "$(mail_field "$M" attachment-sha256)" "$(sha256_of "$T/doc.pdf")" "attachment bytes equal the document"
is "$(mail_field "$M" attachment-filename)" "$TITLE.pdf" "attachment named after the title"
like "$(mail_field "$M" body)" 'scan2mail.*alice.*42' "body names printer, user and job"
S=$(last_session)
is "$(session_field "$S" auth_mech)" "LOGIN" "AUTH LOGIN used"
is "$(session_field "$S" commands)" "EHLO,STARTTLS,EHLO,AUTH,MAIL,RCPT,RCPT,DATA,QUIT" "STARTTLS before AUTH"
like "$(session_field "$S" tls_version)" '^TLSv1\.[23]$' "TLS 1.2 or later"
is "$(meta_field "$M" rcpt_tos)" "bob@contoso.com,carol@fabrikam.com" "envelope: To and Cc"
like "$BACKEND_ERR" '^INFO: Sent to bob@contoso.com, carol@fabrikam.com' "INFO names the recipients"
like "$BACKEND_ERR" '^STATE: -com.print2mail-auth-off-tenant-error$' "success clears our state reason"
unlike "$BACKEND_ERR" '^STATE: -paused' "success leaves other reasons alone"
unlike "$BACKEND_ERR" '^(WARNING|ERROR|NOTICE):' "no WARNING/ERROR on success"
L=$(syslog_line 1)
like "$L" '^<54>print2mail\[[0-9]+\]: job=42 queue=scan2mail user=alice account=scanner outcome=delivered' "syslog: info line with job, queue, account"
like "$L" 'code="250 2\.6\.0"' "syslog: reply code"

# ---- 2. the document on stdin ----
STDIN_FILE="$T/doc.pdf"
bk_run "print2mail://scanner" 43 alice "scan" "mailto=dave@contoso.com mail-subject='From stdin'" -
is "$BACKEND_RC" "$RC_OK" "stdin job: exit OK"
M=$(last_mail)
is "$(mail_field "$M" To)" "dave@contoso.com" "stdin job: To from mailto"
is "$(mail_field "$M" Subject)" "From stdin" "stdin job: Subject from mail-subject"
is "$(mail_field "$M" attachment-sha256)" "$(sha256_of "$T/doc.pdf")" "stdin job: attachment bytes equal the document"

# ---- 3. CR/LF in title and options add no header and no recipient ----
N=$(mail_count)
bk_run "print2mail://scanner?to=bob@contoso.com" 44 alice "$(printf 'Scan\r\nBcc: eve@evil.example\r\nX-Injected: 1')" \
	"mail-subject='$(printf 'Hi\r\nBcc: eve@evil.example')'" "$T/doc.pdf"
is "$BACKEND_RC" "$RC_OK" "injection job: exit OK"
M=$(last_mail)
is "$(mail_field "$M" Bcc)" "" "no Bcc header"
is "$(mail_field "$M" X-Injected)" "" "no injected header"
is "$(mail_field "$M" defects)" "" "injection job: no defects"
is "$(meta_field "$M" rcpt_tos)" "bob@contoso.com" "no injected envelope recipient"
like "$(mail_field "$M" Subject)" '^Hi Bcc: eve@evil.example$' "CR/LF in mail-subject became a space"
bk_run "print2mail://scanner" 45 alice "t" "$(printf "mailto='bob@contoso.com\r\nBcc: eve@evil.example'")" "$T/doc.pdf"
is "$BACKEND_RC" "$RC_HOLD" "CR/LF in mailto: job held"
is "$(mail_count)" "$((N + 1))" "CR/LF in mailto: nothing sent"

# ---- 4. an already composed message (print2mail-compose's output) goes out unchanged ----
printf 'From: scanner@contoso.com\nTo: bob@contoso.com\nCc: carol@fabrikam.com\nSubject: composed\nMessage-ID: <composed-1@contoso.com>\nMIME-Version: 1.0\nContent-Type: text/plain\n\nline one\n.line with a dot\nlast\n' >"$T/msg.eml"
bk_run "print2mail://scanner" 46 alice "ignored" "" "$T/msg.eml" FINAL_CONTENT_TYPE=message/rfc822
is "$BACKEND_RC" "$RC_OK" "composed message: exit OK"
M=$(last_mail)
is "$(mail_field "$M" Subject)" "composed" "composed message: headers unchanged"
is "$(tr -d '\r' <"$M")" "$(cat "$T/msg.eml")" "composed message: body byte for byte (CRLF aside, dot kept)"
is "$(meta_field "$M" rcpt_tos)" "bob@contoso.com,carol@fabrikam.com" "composed message: envelope from To and Cc"

# ---- 5. implicit TLS ----
smtp_port_starttls=$SMTP_PORT
SPOOL_STARTTLS=$SPOOL
p2m_start_smtp --implicit-tls
bk_conf "tls = implicit"
bk_run "print2mail://scanner?to=bob@contoso.com" 47 alice "implicit" "" "$T/doc.pdf"
is "$BACKEND_RC" "$RC_OK" "implicit TLS: exit OK"
S=$(last_session)
is "$(session_field "$S" commands)" "EHLO,AUTH,MAIL,RCPT,DATA,QUIT" "implicit TLS: no STARTTLS needed"
is "$(session_field "$S" tls)" "True" "implicit TLS: the session was TLS"

# ---- 6. discovery ----
cat >>"$PRINT2MAIL_CONF" <<EOF2

[account second]
server = 127.0.0.1
from = desk@contoso.com
password_file = $T/password
EOF2
OUT=$(env -i PATH=/usr/bin:/bin PRINT2MAIL_CONF="$PRINT2MAIL_CONF" "$P2M_BACKEND"; echo "rc=$?")
like "$OUT" '^direct print2mail://scanner "[^"]+" "[^"]*scanner[^"]*"( "[^"]*")*$' "discovery: scanner"
like "$OUT" '^direct print2mail://second "[^"]+" "[^"]*"( "[^"]*")*$' "discovery: second"
like "$OUT" 'rc=0$' "discovery: exit 0"
OUT=$(env -i PATH=/usr/bin:/bin PRINT2MAIL_CONF="$T/none.conf" "$P2M_BACKEND" 2>&1; echo "rc=$?")
is "$OUT" "rc=0" "discovery without a config: nothing, exit 0"

# ---- 7. at most 3 connections per mailbox (Microsoft's limit), the others wait ----
bk_conf "tls = implicit"   # the implicit-TLS server of section 5
smtp_script "{\"users\": {\"scanner@contoso.com\": \"$PASSWORD\"}, \"max_connections_per_user\": 3, \"delay\": {\"data_end\": 1}}"
N=$(mail_count)
JOBS=""
for j in 81 82 83 84 85; do
	# each run in its own directory: run_backend writes $T/backend.err
	( T="$T/par.$j"; mkdir -p "$T"
	  run_backend "print2mail://scanner?to=bob@contoso.com" $j alice "parallel $j" "" "$T/../doc.pdf"
	  echo "$BACKEND_RC" >"$T/rc" ) &
	JOBS="$JOBS $!"
done
wait $JOBS   # not the servers
is "$(cat "$T"/par.*/rc | sort -u)" "$RC_OK" "5 jobs at once: all delivered"
is "$(mail_count)" "$((N + 5))" "5 jobs at once: 5 messages"
MAXC=$(tail -n 5 "$SPOOL/sessions.jsonl" | "$PYTHON3" -c 'import json,sys; print(max(json.loads(l).get("concurrent_same_user", 0) for l in sys.stdin))')
ok "$([ "$MAXC" -le 3 ]; echo $?)" "5 jobs at once: never more than 3 sessions for the mailbox (saw $MAXC)"

# ---- 7b. a job the server accepted is not sent again when cupsd restarts it,
# but a new job that got the same job id (ids start again at 1 when the spool
# is emptied) is: cupsd's job-uuid tells them apart ----
smtp_script "{\"users\": {\"scanner@contoso.com\": \"$PASSWORD\"}}"
N=$(mail_count)
U1="job-uuid=urn:uuid:0a1b2c3d-0000-4000-8000-000000000091"
U2="job-uuid=urn:uuid:0a1b2c3d-0000-4000-8000-000000000092"
run_backend "print2mail://scanner?to=bob@contoso.com" 91 alice "Scan" "$U1 job-originating-host-name=localhost" "$T/doc.pdf"
is "$BACKEND_RC" "$RC_OK" "job 91: delivered"
run_backend "print2mail://scanner?to=bob@contoso.com" 91 alice "Scan" "$U1 job-originating-host-name=localhost" "$T/doc.pdf"
is "$BACKEND_RC" "$RC_OK" "job 91 restarted (same job-uuid): reported delivered"
is "$(mail_count)" "$((N + 1))" "job 91 restarted (same job-uuid): not sent again"
run_backend "print2mail://scanner?to=bob@contoso.com" 91 alice "Scan" "$U2 job-originating-host-name=localhost" "$T/doc.pdf"
is "$BACKEND_RC" "$RC_OK" "a new job 91 (another job-uuid): exit OK"
is "$(mail_count)" "$((N + 2))" "a new job 91 (another job-uuid): sent"

# ---- 8. no secret anywhere ----
unlike "$(cat "$T/all.err" "$T/syslog.txt")" 'Pa55-w0rd|UGE1NS13MHJk' "no password (plain or base64) on stderr or in syslog"

done_testing
