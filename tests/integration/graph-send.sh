#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# graph-send.sh - transport = graph through the backend as cupsd runs it: PDF
# and text jobs go out through MIME sendMail with the attachment intact, a
# large one through a draft, an upload session (Content-Range, no
# Authorization on the uploadUrl) and send; a second job makes no token
# request; the Graph token is for Graph's audience; no token or secret in
# any output.
set -u
. "$top_srcdir/tests/integration/graph-lib.sh"
graph_start
graph_conf
URI="print2mail://scanner?to=bob@contoso.com"

make_pdf "$T/doc.pdf" 100000
bk_run "$URI" 61 alice "Graph scan" "" "$T/doc.pdf"
is "$BACKEND_RC" "$RC_OK" "Graph PDF job: exit OK"
M=$(last_mail)
ok "$([ -n "$M" ]; echo $?)" "Graph PDF job: delivered"
is "$(meta_field "$M" via)" "sendMail" "Graph PDF job: through MIME sendMail"
is "$(mail_field "$M" attachment-sha256)" "$(sha256_of "$T/doc.pdf")" "Graph PDF job: attachment bytes equal the document"
is "$(mail_field "$M" From)" "scanner@contoso.com" "Graph PDF job: From"
is "$(mail_field "$M" To)" "bob@contoso.com" "Graph PDF job: To"
is "$(mail_field "$M" defects)" "" "Graph PDF job: no MIME defects"
like "$(meta_field "$M" scope)" '^https://graph\.microsoft\.com/\.default$' "Graph PDF job: token for the Graph audience"
is "$(token_requests client_credentials)" 1 "Graph PDF job: one token request"
ok "$([ -f "$T/state/tokens/scanner%23graph.json" ]; echo $?)" "Graph token cached apart from SMTP tokens"
like "$(error_lines; printf '%s\n' "$BACKEND_ERR" | grep '^INFO')" 'bob@contoso\.com' "Graph PDF job: INFO names the recipient"

bk_run "$URI" 62 alice "Graph scan 2" "" "$T/doc.pdf"
is "$BACKEND_RC" "$RC_OK" "second Graph job: exit OK"
is "$(mail_count)" 2 "second Graph job: delivered"
is "$(token_requests)" 1 "second Graph job: no token request (cached token)"

printf 'Hello from print2mail\nline two\n' >"$T/note.txt"
CONTENT_TYPE=text/plain bk_run "print2mail://scanner?to=carol@contoso.com" 63 alice "note" "mailcc=dave@contoso.com" "$T/note.txt"
is "$BACKEND_RC" "$RC_OK" "Graph text job: exit OK"
M=$(last_mail)
is "$(mail_field "$M" attachment-type)" "text/plain" "Graph text job: the text document attached"
is "$(mail_field "$M" Cc)" "dave@contoso.com" "Graph text job: Cc kept (Graph takes recipients from the headers)"

# a document on stdin (a pipe, as when cupsd runs filters)
STDIN_FILE="$T/doc.pdf" bk_run "$URI" 64 alice "piped" "" -
is "$BACKEND_RC" "$RC_OK" "Graph job from a pipe: exit OK"
is "$(mail_field "$(last_mail)" attachment-sha256)" "$(sha256_of "$T/doc.pdf")" "Graph job from a pipe: attachment intact"

# large (20 MB): over the 4 MB request limit -> draft + upload session + send
make_pdf "$T/big.pdf" $((20 * 1024 * 1024 + 123))
bk_run "$URI" 65 alice "Big scan" "" "$T/big.pdf"
is "$BACKEND_RC" "$RC_OK" "large Graph job: exit OK"
M=$(last_mail)
is "$(meta_field "$M" via)" "draft" "large Graph job: through a draft"
is "$(mail_field "$M" attachment-sha256)" "$(sha256_of "$T/big.pdf")" "large Graph job: attachment bytes equal the document"
is "$(mail_field "$M" attachment-filename)" "Big scan.pdf" "large Graph job: attachment name"
is "$(mail_field "$M" To)" "bob@contoso.com" "large Graph job: To"
is "$(graph_requests sendMail)" 4 "large Graph job: sendMail not tried (known too big)"
is "$(graph_requests upload 200)" 6 "large Graph job (20 MB): six non-final chunks (3 MiB each)"
is "$(graph_requests upload 201)" 1 "large Graph job: one final chunk"
is "$(graph_upload_auth)" 0 "large Graph job: no Authorization header on the uploadUrl"
is "$(graph_requests delete)" 0 "large Graph job: no draft deleted"

# a message between 3 and 4.2 MB: the attachment goes as one JSON attachment
make_pdf "$T/mid.pdf" $((2500 * 1024))
bk_run "$URI" 66 alice "Mid scan" "" "$T/mid.pdf"
is "$BACKEND_RC" "$RC_OK" "mid-size Graph job: exit OK"
is "$(mail_field "$(last_mail)" attachment-sha256)" "$(sha256_of "$T/mid.pdf")" "mid-size Graph job: attachment intact"
is "$(graph_requests attachment 201)" 1 "mid-size Graph job: attachment posted with the draft"

# a From display name that is an address: Graph refuses it unquoted
# (ErrorSendAsDenied, SMTP2Graph#28); the composer quotes it
graph_conf "from_name = printer@contoso.com"
bk_run "$URI" 67 alice "named" "" "$T/doc.pdf"
is "$BACKEND_RC" "$RC_OK" "From name with @: delivered"
like "$(grep -a '^From:' "$(last_mail)")" '^From: "printer@contoso\.com" <scanner@contoso\.com>' "From name with @: quoted"
graph_conf

# print2mailctl test goes through Graph too
out=$(PRINT2MAIL_BACKEND="$P2M_BACKEND" "$top_builddir/helper/print2mailctl" test scanner --to bob@contoso.com 2>&1)
like "$out" 'Delivered' "print2mailctl test: delivered through Graph"
printf '%s\n' "$out" >>"$T/all.err"
is "$(meta_field "$(last_mail)" via)" "sendMail" "print2mailctl test: the test message came through sendMail"

# no token or secret anywhere
TOKENS=$("$PYTHON3" -c 'import json,sys; print("\n".join(json.loads(l)["access_token"] for l in open(sys.argv[1])))' "$T/tokend/tokens.jsonl")
LEAK=0
for tok in $TOKENS "$GSECRET"; do
	grep -qF -- "$tok" "$T/all.err" "$T/syslog.txt" "$T/graphd.log" 2>/dev/null && LEAK=1
done
is "$LEAK" 0 "no access token or client secret in backend output, syslog or server log"

done_testing
