#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# backend-size.sh - the size limits are kept, not discovered: the exact size
# of a message composed from a file is known before connecting (refused over
# max_message_size with no connection, announced as SIZE= otherwise, stopped
# at EHLO when over the server's SIZE), a document on a pipe is counted and
# the transfer abandoned before the final "." once over a limit; each is
# held (exit 3) as too large, and a message at the limit is delivered.
set -u
. "$top_srcdir/tests/integration/backend-lib.sh"
bk_start
make_pdf "$T/doc.pdf" 20000
URI="print2mail://scanner?to=bob@contoso.com"
# Job numbers all have two digits: the body names the job, so every
# message below is the same size.

# feed_fifo: $T/fifo gets the document from a writer in the background,
# so the backend's standard input is a pipe (its size unknown).
feed_fifo() {
	rm -f "$T/fifo"
	mkfifo "$T/fifo"
	cat "$T/doc.pdf" >"$T/fifo" 2>/dev/null &
}
# new_session_commands N: the commands of the newest session (waits for N+1 lines).
new_session_commands() {
	wait_lines "$SPOOL/sessions.jsonl" $(($1 + 1))
	session_field "$(last_session)" commands
}

# ---- no limit: the size announced (SIZE=) is the size received ----
bk_run "$URI" 31 alice "size" "" "$T/doc.pdf"
is "$BACKEND_RC" "$RC_OK" "no limit: delivered"
M=$(last_mail)
SIZE=$(meta_field "$M" size)
like "$SIZE" '^[0-9]+$' "no limit: the server reports the message size"
is "$(stat -c %s "$M")" "$SIZE" "no limit: the .eml has that size"
like "$(meta_field "$M" mail_options)" "(^|,)SIZE=$SIZE(,|\$)" "no limit: MAIL FROM announced SIZE=$SIZE, the exact size"
UNDER=$((SIZE - 1))

# ---- (i) a file over max_message_size: held, no connection ----
N=$(session_count)
MAILS=$(mail_count)
bk_conf "max_message_size = $UNDER"
bk_run "$URI" 32 alice "size" "" "$T/doc.pdf"
is "$BACKEND_RC" "$RC_HOLD" "file over max_message_size: exit HOLD"
like "$(error_lines)" "max_message_size = $UNDER" "file over max_message_size: ERROR names the setting and the limit"
like "$(error_lines)" "is $SIZE bytes" "file over max_message_size: ERROR gives the exact size"
like "$(error_lines)" 'lower resolution' "file over max_message_size: ERROR says how to make it smaller"
check_one_error "file over max_message_size"
is "$(session_count)" "$N" "file over max_message_size: no connection"
like "$(syslog_line 2)" 'job=32 .*outcome=message action=held rule=too-large' "file over max_message_size: syslog rule too-large"

# the same from standard input that is a file (fstat says regular)
STDIN_FILE="$T/doc.pdf"
bk_run "$URI" 33 alice "size" "" -
is "$BACKEND_RC" "$RC_HOLD" "regular stdin over max_message_size: exit HOLD"
like "$(error_lines)" "is $SIZE bytes, over max_message_size = $UNDER" "regular stdin: exact size known"
is "$(session_count)" "$N" "regular stdin over max_message_size: no connection"

# ---- (iv) exactly at both limits: delivered ----
bk_users "\"max_size\": $SIZE"
bk_conf "max_message_size = $SIZE"
bk_run "$URI" 34 alice "size" "" "$T/doc.pdf"
is "$BACKEND_RC" "$RC_OK" "file at both limits: delivered"
is "$(meta_field "$(last_mail)" size)" "$SIZE" "file at both limits: the whole message arrived"
N=$(session_count)
feed_fifo
STDIN_FILE="$T/fifo"
bk_run "$URI" 35 alice "size" "" -
is "$BACKEND_RC" "$RC_OK" "pipe at both limits: delivered (counted, not over)"
is "$(meta_field "$(last_mail)" size)" "$SIZE" "pipe at both limits: the whole message arrived"
unlike "$(meta_field "$(last_mail)" mail_options)" 'SIZE=' "pipe: no SIZE= announced (the size is not known)"
is "$(mail_count)" $((MAILS + 2)) "at the limits: two more messages"
MAILS=$(mail_count)

# ---- (ii) a file over the server's SIZE: stopped at EHLO, nothing sent ----
bk_users "\"max_size\": $UNDER"
bk_conf
N=$(session_count)
bk_run "$URI" 36 alice "size" "" "$T/doc.pdf"
is "$BACKEND_RC" "$RC_HOLD" "file over the server's SIZE: exit HOLD"
like "$(error_lines)" "is $SIZE bytes, over the $UNDER bytes the mail server 127\\.0\\.0\\.1:$SMTP_PORT accepts \\(its EHLO SIZE\\)" \
	"file over the server's SIZE: ERROR names the size and the server's limit"
check_one_error "file over the server's SIZE"
C=$(new_session_commands "$N")
unlike "$C" 'DATA' "file over the server's SIZE: no DATA command"
unlike "$C" 'MAIL|AUTH' "file over the server's SIZE: stopped before AUTH and MAIL"
like "$C" '^EHLO,STARTTLS,EHLO' "file over the server's SIZE: SIZE read from the EHLO under TLS"
is "$(mail_count)" "$MAILS" "file over the server's SIZE: no .eml"

# ---- (iii) a pipe over the server's SIZE: counted, abandoned before "." ----
N=$(session_count)
feed_fifo
bk_run "$URI" 37 alice "size" "" -
is "$BACKEND_RC" "$RC_HOLD" "pipe over the server's SIZE: exit HOLD"
like "$(error_lines)" "message passed the $UNDER bytes the mail server 127\\.0\\.0\\.1:$SMTP_PORT accepts" \
	"pipe over the server's SIZE: ERROR names the server's limit"
like "$(error_lines)" 'accepted nothing' "pipe over the server's SIZE: ERROR says nothing was accepted"
unlike "$BACKEND_ERR" 'canceled|Cannot reach' "pipe over the server's SIZE: neither a cancel nor a network error"
check_one_error "pipe over the server's SIZE"
S=$(wait_lines "$SPOOL/sessions.jsonl" $((N + 1)); last_session)
like "$(session_field "$S" commands)" 'DATA' "pipe over the server's SIZE: the body had started (DATA)"
is "$(session_field "$S" delivered)" "" "pipe over the server's SIZE: the session delivered nothing"
is "$(mail_count)" "$MAILS" "pipe over the server's SIZE: no .eml"

# a pipe over max_message_size, the server without a lower limit
bk_users
bk_conf "max_message_size = $UNDER"
feed_fifo
bk_run "$URI" 38 alice "size" "" -
is "$BACKEND_RC" "$RC_HOLD" "pipe over max_message_size: exit HOLD"
like "$(error_lines)" "message passed max_message_size = $UNDER of \\[account scanner\\]" "pipe over max_message_size: ERROR names the setting"
check_one_error "pipe over max_message_size"
is "$(mail_count)" "$MAILS" "pipe over max_message_size: no .eml"

# ---- a composed message passed through: at least its file's size ----
bk_conf "max_message_size = 1000"
N=$(session_count)
bk_run "print2mail://scanner" 39 alice "ignored" "" "$M" FINAL_CONTENT_TYPE=message/rfc822
is "$BACKEND_RC" "$RC_HOLD" "composed message over max_message_size: exit HOLD"
like "$(error_lines)" "at least $SIZE bytes, over max_message_size = 1000" "composed message: ERROR gives the lower bound"
is "$(session_count)" "$N" "composed message over max_message_size: no connection"

unlike "$(cat "$T/all.err" "$T/syslog.txt")" 'Pa55-w0rd' "no password on stderr or in syslog"

done_testing
