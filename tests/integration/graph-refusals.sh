#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# graph-refusals.sh - what each class of Graph refusal does to the job, with
# graph.md's error bodies from the Graph-like server: 403 stops the queue
# naming the permission/RBAC fix, an unknown mailbox stops it naming the
# mailbox, 429 with Retry-After is waited out and delivered, a 504 after
# the whole request holds the job instead of sending twice, a missing
# Mail.ReadWrite on the draft path is named (small jobs still go out), a
# mailbox size refusal holds, an SMTP-audience token is refused as the wrong
# audience, and SIGTERM during an upload deletes the draft.
set -u
. "$top_srcdir/tests/integration/graph-lib.sh"
graph_start
graph_conf
URI="print2mail://scanner?to=bob@contoso.com"
make_pdf "$T/doc.pdf" 20000
make_pdf "$T/big.pdf" $((4 * 1024 * 1024))

DENIED='"code": "ErrorAccessDenied", "message": "Access is denied. Check credentials and try again."'

# 403 ErrorAccessDenied on sendMail: no Mail.Send / outside the RBAC scope
graph_script "{\"errors\": [{\"op\": \"sendMail\", \"status\": 403, $DENIED}]}"
bk_run "$URI" 71 alice "t" "" "$T/doc.pdf"
is "$BACKEND_RC" "$RC_STOP" "403 ErrorAccessDenied: exit STOP (queue stopped)"
like "$BACKEND_ERR" '^STATE: \+com\.print2mail-graph-denied-error$' "403: state reason graph-denied"
like "$(error_lines)" 'Mail\.Send.*New-ManagementRoleAssignment .*-CustomResourceScope.*Test-ServicePrincipalAuthorization' "403: the fix names Mail.Send, the RBAC cmdlets"
like "$(error_lines)" 'HTTP 403 ErrorAccessDenied: Access is denied' "403: Graph's answer quoted"
check_one_error "403"
like "$(syslog_line 1)" 'job=71 .*graph-denied' "403: syslog names the rule"
is "$(mail_count)" 0 "403: nothing delivered"

# the same in French, through the job's language
JOB_LANG=fr_FR.UTF-8 bk_run "$URI" 72 alice "t" "" "$T/doc.pdf"
like "$(error_lines)" 'Accordez-le avec consentement' "403: the fix in the job's language (fr)"

# application access policy (RAOP)
graph_script '{"errors": [{"op": "sendMail", "status": 403, "code": "ErrorAccessDenied", "message": "Access to OData is disabled: [RAOP] : Blocked by tenant configured AppOnly AccessPolicy settings."}]}'
bk_run "$URI" 73 alice "t" "" "$T/doc.pdf"
is "$BACKEND_RC" "$RC_STOP" "RAOP: exit STOP"
like "$(error_lines)" 'Test-ApplicationAccessPolicy' "RAOP: names the application access policy check"

# unknown mailbox: 404 ErrorInvalidUser names it
graph_script '{"mailboxes": ["someone-else@contoso.com"]}'
bk_run "$URI" 74 alice "t" "" "$T/doc.pdf"
is "$BACKEND_RC" "$RC_STOP" "unknown mailbox: exit STOP"
like "$BACKEND_ERR" 'graph-no-user-error' "unknown mailbox: state reason graph-no-user"
like "$(error_lines)" "scanner@contoso\\.com" "unknown mailbox: the ERROR names the mailbox"

# unlicensed mailbox
graph_script '{"errors": [{"op": "sendMail", "status": 404, "code": "MailboxNotEnabledForRESTAPI", "message": "The mailbox is either inactive, soft-deleted, or is hosted on-premise."}]}'
bk_run "$URI" 75 alice "t" "" "$T/doc.pdf"
is "$BACKEND_RC" "$RC_STOP" "MailboxNotEnabledForRESTAPI: exit STOP"
like "$(error_lines)" 'Exchange Online licence' "MailboxNotEnabledForRESTAPI: names the licence"

# ErrorSendAsDenied
graph_script '{"errors": [{"op": "sendMail", "status": 403, "code": "ErrorSendAsDenied", "message": "The user account which was used to submit this request does not have the right to send mail on behalf of the specified sending account., Cannot submit message."}]}'
bk_run "$URI" 76 alice "t" "" "$T/doc.pdf"
is "$BACKEND_RC" "$RC_STOP" "ErrorSendAsDenied: exit STOP"
like "$(error_lines)" 'Add-RecipientPermission' "ErrorSendAsDenied: names Add-RecipientPermission"

# 429 with Retry-After: waited out, then delivered in the same run
graph_script '{"errors": [{"op": "sendMail", "status": 429, "code": "ApplicationThrottled", "message": "Application is over its MailboxConcurrency limit.", "retry_after": "1", "times": 1}]}'
bk_run "$URI" 77 alice "t" "" "$T/doc.pdf"
is "$BACKEND_RC" "$RC_OK" "429 Retry-After 1: delivered"
is "$(mail_count)" 1 "429 Retry-After 1: one message"
is "$(graph_requests sendMail 429)" 1 "429 Retry-After 1: one throttled try"

# 429 for ever with a long Retry-After: transient, the job is retried later
graph_script '{"errors": [{"op": "sendMail", "status": 429, "code": "ApplicationThrottled", "message": "Application is over its MailboxConcurrency limit.", "retry_after": "3600"}]}'
bk_run "$URI" 78 alice "t" "" "$T/doc.pdf"
is "$BACKEND_RC" "$RC_RETRY" "429 Retry-After 3600: exit RETRY"
like "$(error_lines)" 'Retry-After' "429: the message says print2mail honours Retry-After"

# 503: transient
graph_script '{"errors": [{"op": "sendMail", "status": 503, "code": "ResourceUnhealthy", "message": "MdbReplicationProtectionUtilizationMonitor is unhealthy.", "retry_after": "1"}]}'
bk_run "$URI" 79 alice "t" "" "$T/doc.pdf"
is "$BACKEND_RC" "$RC_RETRY" "503: exit RETRY"
is "$(graph_requests sendMail 503)" 3 "503: tried 3 times in all"

# 504 after Graph had the whole request (and sent it): held, never sent twice
N=$(mail_count)
graph_script '{"errors": [{"op": "sendMail", "status": 504, "code": "GatewayTimeout", "message": "Gateway Timeout", "deliver": true}]}'
bk_run "$URI" 80 alice "t" "" "$T/doc.pdf"
is "$BACKEND_RC" "$RC_HOLD" "504: exit HOLD"
like "$(error_lines)" 'Sent Items' "504: says to check Sent Items"
is "$(mail_count)" $((N + 1)) "504: the one copy Graph sent, no second"
is "$(graph_requests sendMail 504)" 1 "504: not retried"

# connection lost after the whole request: same
graph_script '{"errors": [{"op": "sendMail", "drop": true, "deliver": true}]}'
bk_run "$URI" 81 alice "t" "" "$T/doc.pdf"
is "$BACKEND_RC" "$RC_HOLD" "lost answer: exit HOLD"
is "$(mail_count)" $((N + 2)) "lost answer: not sent twice"

# draft path without Mail.ReadWrite: named; a small job still goes out
graph_script "{\"errors\": [{\"op\": \"draft\", \"status\": 403, $DENIED}]}"
bk_run "$URI" 82 alice "t" "" "$T/big.pdf"
is "$BACKEND_RC" "$RC_STOP" "no Mail.ReadWrite (large job): exit STOP"
like "$(error_lines)" 'Mail\.ReadWrite' "no Mail.ReadWrite: named"
like "$BACKEND_ERR" 'graph-readwrite-error' "no Mail.ReadWrite: state reason"
N=$(mail_count)
bk_run "$URI" 83 alice "t" "" "$T/doc.pdf"
is "$BACKEND_RC" "$RC_OK" "no Mail.ReadWrite: a small job still goes out"

# the mailbox's size limit hit mid-upload: held, draft deleted
graph_script '{"max_message_size": 4000000}'
D=$(graph_requests delete 204)
bk_run "$URI" 84 alice "t" "" "$T/big.pdf"
is "$BACKEND_RC" "$RC_HOLD" "ErrorMessageSizeExceeded: exit HOLD"
like "$(error_lines)" 'MaxSendSize' "ErrorMessageSizeExceeded: names MaxSendSize"
is "$(graph_requests delete 204)" $((D + 1)) "ErrorMessageSizeExceeded: the draft is deleted"

# over max_message_size: held before anything is uploaded
graph_script '{}'
graph_conf "max_message_size = 2M"
R=$(wc -l <"$SPOOL/requests.jsonl")
bk_run "$URI" 85 alice "t" "" "$T/big.pdf"
is "$BACKEND_RC" "$RC_HOLD" "over max_message_size: exit HOLD"
is "$(wc -l <"$SPOOL/requests.jsonl")" "$R" "over max_message_size: no request to Graph"
graph_conf

# an SMTP-audience token: refused as the wrong audience, queue stopped
"$PYTHON3" - "$T/tokend/tokens.jsonl" "$T/state/tokens/scanner%23graph.json" <<'PY'
import json, sys, time
tok = "eyJ0eXAiOiJKV1QifQ.eyJhdWQiOiJodHRwczovL291dGxvb2sub2ZmaWNlLmNvbSJ9.smtp-audience-token"
with open(sys.argv[1], "a") as f:
    f.write(json.dumps({"access_token": tok, "scope": "https://outlook.office365.com/.default",
                        "expires_at": int(time.time()) + 3000}) + "\n")
with open(sys.argv[2], "w") as f:
    json.dump({"version": 1, "access_token": tok, "expires_at": int(time.time()) + 3000,
               "obtained_at": int(time.time())}, f)
PY
chmod 0600 "$T/state/tokens/scanner%23graph.json"
bk_run "$URI" 86 alice "t" "" "$T/doc.pdf"
is "$BACKEND_RC" "$RC_STOP" "SMTP token sent to Graph: exit STOP"
like "$BACKEND_ERR" 'graph-audience-error' "SMTP token sent to Graph: wrong audience named"
like "$(error_lines)" 'https://graph\.microsoft\.com' "SMTP token sent to Graph: names the Graph audience"
rm -f "$T/state/tokens/scanner%23graph.json"

# Graph unreachable: nothing went out, so the job is retried (not held)
sed -i "s|^graph_endpoint = .*|graph_endpoint = https://127.0.0.1:1|" "$PRINT2MAIL_CONF"
bk_run "$URI" 88 alice "t" "" "$T/doc.pdf"
is "$BACKEND_RC" "$RC_RETRY" "Graph unreachable: exit RETRY"
unlike "$BACKEND_ERR" 'maybe-sent' "Graph unreachable: not taken for a mail that may have gone out"
graph_conf

# SIGTERM while the attachment uploads: the draft is deleted, nothing sent
graph_script '{"delays": {"upload": 2}}'
printf '#!/bin/sh\necho $$ >"%s/backend.pid"\nexec "$@"\n' "$T" >"$T/wrap.sh"
chmod 0755 "$T/wrap.sh"
rm -f "$T/backend.pid"
N=$(mail_count)
D=$(graph_requests delete 204)
S=$(graph_requests session 201)
( P2M_WRAPPER="$T/wrap.sh" run_backend "$URI" 87 alice "cancel me" "" "$T/big.pdf"; echo "$BACKEND_RC" >"$T/rc" ) &
BG=$!
i=0
while [ "$(graph_requests session 201)" -le "$S" ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i + 1)); done
kill -TERM "$(cat "$T/backend.pid")"
wait "$BG"
is "$(mail_count)" "$N" "SIGTERM during upload: nothing sent"
is "$(graph_requests delete 204)" $((D + 1)) "SIGTERM during upload: the draft is deleted"
is "$(graph_requests send)" 0 "SIGTERM during upload: send never requested"

done_testing
