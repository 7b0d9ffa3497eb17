#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# backend-truncated.sh - a composed message that ends before its MIME
# structure closes (print2mail-compose died mid-stream) is never delivered:
# the backend abandons the transfer before the final ".", exits RETRY, and
# the server accepts nothing; the complete message goes out unchanged.
set -u
. "$top_srcdir/tests/integration/backend-lib.sh"
bk_start
make_pdf "$T/doc.pdf" 60000
URI="print2mail://scanner"

# The shape print2mail-compose writes: multipart/mixed, a text part, the PDF
# in base64, the close delimiter last.
{
	printf 'From: scanner@contoso.com\nTo: bob@contoso.com\nSubject: parts\nMIME-Version: 1.0\n'
	printf 'Content-Type: multipart/mixed;\n boundary="=_p2m_test"\n\n'
	printf -- '--=_p2m_test\nContent-Type: text/plain; charset=utf-8\n\nhello\n'
	printf -- '--=_p2m_test\nContent-Type: application/pdf; name="doc.pdf"\n'
	printf 'Content-Disposition: attachment; filename="doc.pdf"\nContent-Transfer-Encoding: base64\n\n'
	base64 -w 76 "$T/doc.pdf"
	printf -- '--=_p2m_test--\n'
} >"$T/full.eml"
SIZE=$(stat -c %s "$T/full.eml")
head -c $((SIZE / 2)) "$T/full.eml" >"$T/half.eml"
head -c $((SIZE - 15)) "$T/full.eml" >"$T/noclose.eml"

# was_cut DESC N: the last run abandoned a cut message.
was_cut() {
	is "$BACKEND_RC" "$RC_RETRY" "$1: exit RETRY"
	like "$(error_lines)" 'print2mail-compose stopped before the message was complete' "$1: the message names the cause"
	like "$BACKEND_ERR" 'no --=_p2m_test-- line' "$1: the detail names the missing close delimiter"
	check_one_error "$1"
	is "$(mail_count)" "$SENT" "$1: nothing delivered"
	wait_lines "$SPOOL/sessions.jsonl" "$2"
	S=$(last_session)
	like "$(session_field "$S" commands)" 'DATA' "$1: the session had reached DATA"
	is "$(session_field "$S" delivered)" "" "$1: the server accepted nothing"
}

SENT=0
bk_run "$URI" 95 alice "t" "" "$T/half.eml" FINAL_CONTENT_TYPE=message/rfc822
was_cut "cut in the middle of the attachment" 1
bk_run "$URI" 96 alice "t" "" "$T/noclose.eml" FINAL_CONTENT_TYPE=message/rfc822
was_cut "everything but the close delimiter" 2
STDIN_FILE="$T/half.eml" CONTENT_TYPE=message/rfc822 bk_run "$URI" 97 alice "t" "" - FINAL_CONTENT_TYPE=message/rfc822
was_cut "cut message on standard input (the filter's pipe)" 3

bk_run "$URI" 98 alice "t" "" "$T/full.eml" FINAL_CONTENT_TYPE=message/rfc822
is "$BACKEND_RC" "$RC_OK" "the complete message: exit OK"
M=$(last_mail)
is "$(mail_field "$M" defects)" "" "the complete message: no MIME defects"
is "$(mail_field "$M" attachment-sha256)" "$(sha256_of "$T/doc.pdf")" "the complete message: the attachment is whole"
done_testing
