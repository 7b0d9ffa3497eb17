#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# backend-replies.sh - every reply of tests/data/replies.tsv, sent by the local
# server at the stage Microsoft sends it (AUTH, MAIL, RCPT, end of DATA,
# greeting), through the real backend: the exit code of the table's class, a
# vendor state reason for account-wide refusals, the reply quoted verbatim in
# one ERROR line localized in the job's language, and a syslog line with the
# job id, the code and the rule the table expects.  A row where backend and
# table disagree is a failing test naming the row.
set -u
. "$top_srcdir/tests/integration/backend-lib.sh"
TSV="$top_srcdir/tests/data/replies.tsv"
[ -r "$TSV" ] || skip_all "no $TSV"
bk_start
printf 'small document\n' >"$T/doc.txt"
LANGS="fr_FR.UTF-8 ro_RO.UTF-8 zh_CN.UTF-8 ru_RU.UTF-8"

# The table has no stage column: Microsoft's stage follows from the code.
stage_of() {
	case "$1" in
	421*) echo connect ;;
	# Exchange says 432 4.3.2 (connections per mailbox) after the message
	432*) echo data_end ;;
	*"Recipient address rejected"*) echo rcpt ;;
	530*|"451 5.7.3"*) echo mail ;;
	535*|504*|*" 5.7.139 "*|*" 5.7.30 "*|"501 5.5.12"*) echo auth ;;
	[45][0-9][0-9][-\ ]5.1.[0-9]*) echo rcpt ;;
	*) echo data_end ;;
	esac
}
exit_of() {
	case "$1" in
	account) echo "$RC_STOP" ;; transient) echo "$RC_RETRY" ;;
	message) echo "$RC_HOLD" ;; user) echo "$RC_AUTH" ;; *) echo "?" ;;
	esac
}
# script_for STAGE REPLY: the server script refusing at STAGE ("\n" separates lines).
script_for() {
	"$PYTHON3" - "$1" "$2" "$PASSWORD" <<'PY'
import json, sys
stage, reply, pw = sys.argv[1], sys.argv[2], sys.argv[3]
lines = reply.split("\\n")
print(json.dumps({"users": {"scanner@contoso.com": pw},
                  "reject": [{"stage": stage, "reply": lines if len(lines) > 1 else lines[0]}]}))
PY
}

JOB=100
LOGN=0
ROW=0
SKIPPED=""
while IFS=$'\t' read -r rule cls reply; do
	case "$rule" in ''|'#'*) continue ;; esac
	ROW=$((ROW + 1))
	# The server can only send what starts with a 3-digit 4xx/5xx code.
	if ! printf '%s' "$reply" | grep -Eq '^[45][0-9][0-9]([ -]|$)'; then
		SKIPPED="$SKIPPED $ROW"
		continue
	fi
	stage=$(stage_of "$reply")
	# a multi-line reply is quoted as one: "451-a\n451 b" -> "451 a b"
	first=$(printf '%s' "$reply" | sed 's/\\n.*//; s/ \[.*//; s/^\([0-9][0-9][0-9]\)-/\1 /' | cut -c1-60)
	what="row $ROW ($rule, $stage): ${reply:0:70}"
	smtp_script "$(script_for "$stage" "$reply")"

	JOB=$((JOB + 1))
	JOB_LANG=en.UTF-8 bk_run "print2mail://scanner?to=bob@contoso.com" "$JOB" alice "t" "" "$T/doc.txt"
	LOGN=$((LOGN + 1))
	is "$BACKEND_RC" "$(exit_of "$cls")" "$what: exit code of class $cls"
	L=$(syslog_line "$LOGN")
	like "$L" "job=$JOB .*rule=$rule( |$)" "$what: rule $rule (syslog)"
	like "$L" "code=\"?${reply:0:3}" "$what: syslog has the code"
	fixed=$(printf '%s\n' "$first" | sed 's/[][\\.*^$(){}?+|/]/\\&/g')
	like "$(error_lines)" "$fixed" "$what: ERROR quotes the reply"
	if [ "$cls" = account ]; then
		like "$BACKEND_ERR" "^STATE: \\+com\\.print2mail-$rule-error\$" "$what: state reason"
	fi
	ok "$([ "$(error_lines | wc -l)" = 1 ] && [ -z "$(after_error)" ] &&
		[ "$(error_lines | sed 's/^ERROR: //' | wc -c)" -le 1001 ]; echo $?)" "$what: one ERROR line, last, <= 1000 bytes"
	EN=$(error_lines | cut -c1-48)

	# the same refusal in one of the other languages, in turn
	set -- $LANGS
	shift $((ROW % 4))
	lang=$1
	JOB=$((JOB + 1))
	JOB_LANG=$lang bk_run "print2mail://scanner?to=bob@contoso.com" "$JOB" alice "t" "" "$T/doc.txt"
	LOGN=$((LOGN + 1))
	is "$BACKEND_RC" "$(exit_of "$cls")" "$what [$lang]: same exit code"
	ok "$([ "$(error_lines | cut -c1-48)" != "$EN" ] && [ -n "$(error_lines)" ]; echo $?)" "$what [$lang]: ERROR translated"
	like "$(error_lines)" "$fixed" "$what [$lang]: reply still quoted verbatim"
	case "$lang" in zh_CN*|ru_RU*)
		like "$(error_lines)" '[^ -~]' "$what [$lang]: ERROR in the job's script" ;;
	esac
done <"$TSV"

diag "rows the server cannot send as a reply (no 3-digit code), not run:$SKIPPED"
unlike "$(cat "$T/all.err" "$T/syslog.txt")" 'Pa55-w0rd' "no password on stderr or in syslog"
done_testing
