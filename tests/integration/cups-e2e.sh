#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# cups-e2e.sh - print2mail through a real (private) cupsd: PDF, text and JPEG
# jobs arrive at the local Microsoft-365-like server as correct mail; an
# account-wide refusal stops the queue with the fix where admins look (IPP,
# lpstat, web UI) and the same job is delivered after the fix and cupsenable;
# recipient problems hold the job instead of failing it; a cancel during a
# slow DATA leaves no message; no password reaches cupsd's log or syslog.
set -u
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/cups-lib.sh"

PW_SCANNER='pw-scanner-S3cret!'
PW_LOCKED='pw-locked-S3cret!'
REFUSAL='535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information.'
REASON=com.print2mail-auth-off-tenant-error
FIX_RE='Set-TransportConfig -SmtpClientAuthenticationDisabled'

# write_config: two accounts on the local server; "locked" is the one the
# server will refuse.  Secrets in 0600 files, the config 0644 (lp reads it).
write_config() {
	write_secret "$T/scanner.password" "$PW_SCANNER"
	write_secret "$T/locked.password" "$PW_LOCKED"
	write_global "helper_socket = $T/helper.sock"
	write_account scanner "from = scanner@contoso.com" "from_name = Scanner" \
		"password_file = $T/scanner.password" "allowed_recipients = contoso.com"
	write_account locked "from = locked@contoso.com" "password_file = $T/locked.password"
}

# smtp_users [REJECT-JSON]: both mailboxes known, optional reject list.
smtp_users() {
	smtp_script "{\"users\": {\"scanner@contoso.com\": \"$PW_SCANNER\", \"locked@contoso.com\": \"$PW_LOCKED\"}${1:+, $1}}"
}

make_jpeg() {
	"$PYTHON3" - "$1" <<'PY'
import sys
from PIL import Image
im = Image.new("RGB", (320, 200))
im.putdata([(x % 256, y * 255 // 200, (x * y) % 256) for y in range(200) for x in range(320)])
im.save(sys.argv[1], "JPEG", quality=85)
PY
}

# new_mail BEFORE: the newest .eml once the count went past BEFORE (bounded).
new_mail() {
	local i=0
	while [ "$(mail_count)" -le "$1" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	[ "$(mail_count)" -gt "$1" ] && last_mail
}

# attachment_to FILE EML: the attachment's bytes.
attachment_to() {
	"$PYTHON3" - "$2" "$1" <<'PY'
import sys, email
from email import policy
msg = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=policy.default)
att = next(msg.iter_attachments())
open(sys.argv[2], "wb").write(att.get_content())
PY
}

test_discovery() {
	local devices
	devices=$(lpinfo --timeout 30 -v 2>/dev/null)
	like "$devices" 'print2mail://scanner' "lpinfo -v offers print2mail://scanner"
	like "$devices" 'print2mail://locked' "lpinfo -v offers print2mail://locked"
	like "$(lpinfo -m 2>/dev/null)" '^print2mail/print2mail\.ppd print2mail e-mail' "lpinfo -m lists the model"
	lpadmin -p scan2mail -E -v print2mail://scanner -m "$(cups_model)" 2>"$T/lpadmin.err"
	ok $? "lpadmin -p scan2mail -E -v print2mail://scanner -m $(cups_model)"
	is "$(printer_attr scan2mail printer-make-and-model)" \
		"print2mail e-mail through Microsoft 365 (PDF attachment)" "the queue uses the print2mail model"
}

# deliver FILE TITLE LABEL: print to scan2mail for bob, check the mail.
# Sets EML.
deliver() {
	local before st
	before=$(mail_count)
	cups_submit scan2mail "$1" -t "$2" -o mailto=bob@contoso.com
	st=$(wait_job_state "$JOB" completed aborted canceled processing-stopped pending-held)
	is "$st" completed "$3 job $JOB completes"
	[ "$st" = completed ] || diag "job message: $(job_attr "$JOB" job-printer-state-message)" \
		"$(cups_job_log "$JOB" | grep -E 'ERROR|WARN|exited' | tail -5)"
	EML=$(new_mail "$before")
	ok $([ -n "$EML" ]; echo $?) "$3 arrives at the server"
	[ -n "$EML" ] || return 1
	is "$(mail_field "$EML" To)" "bob@contoso.com" "$3: To is the job's mailto"
	is "$(mail_field "$EML" From)" "Scanner <scanner@contoso.com>" "$3: From is the account"
	is "$(mail_field "$EML" Subject)" "$2" "$3: Subject is the job title"
	is "$(mail_field "$EML" defects)" "" "$3: the message parses without defects"
	is "$(mail_field "$EML" attachment-type)" application/pdf "$3: the attachment is a PDF"
	attachment_to "$T/att.pdf" "$EML"
	is "$(head -c 5 "$T/att.pdf")" "%PDF-" "$3: the attachment holds a PDF"
}

test_delivery() {
	make_pdf "$T/report.pdf"
	deliver "$T/report.pdf" "Quarterly report" PDF &&
		like "$(pdftotext "$T/att.pdf" - 2>/dev/null)" 'print2mail test page' \
			"PDF: the attachment has the document's text"
	is "$(mail_field "$EML" attachment-filename)" "Quarterly report.pdf" "PDF: attachment named after the title"

	printf 'Invoice 4711\nTotal: 99 EUR\n' >"$T/invoice.txt"
	# texttopdf embeds a subset font without a ToUnicode map, so pdftotext
	# cannot read the words back; its signature and the page count can.
	deliver "$T/invoice.txt" "Invoice 4711" text &&
		like "$(pdfinfo "$T/att.pdf" 2>/dev/null)" 'Creator: +texttopdf' \
			"text: cups-filters' texttopdf made the PDF"

	if make_jpeg "$T/photo.jpg" 2>/dev/null; then
		deliver "$T/photo.jpg" "Photo" JPEG &&
			like "$(pdfimages -list "$T/att.pdf" 2>/dev/null)" ' 320 +200 ' \
				"JPEG: the PDF holds the 320x200 image"
	else
		ok 0 "# SKIP JPEG: python3-pil missing (scripts/deps.sh installs it)"
	fi
}

# An account-wide refusal: queue stopped, fix visible; after the fix the
# same job goes out and the reason is cleared.
test_refusal() {
	local before st msg
	smtp_users "\"reject\": [{\"stage\": \"auth\", \"when_user\": \"locked@contoso.com\", \"reply\": \"$REFUSAL\"}]"
	lpadmin -p locked -E -v print2mail://locked -m "$(cups_model)" 2>/dev/null
	before=$(mail_count)
	cups_submit locked "$T/report.pdf" -t "Contract" -o mailto=bob@contoso.com
	LOCKED_JOB=$JOB
	wait_printer_state locked stopped >/dev/null
	is "$(printer_attr locked printer-state)" stopped "refusal: the queue is stopped"
	st=$(job_attr "$JOB" job-state)
	is "$st" pending "refusal: the job stays pending at the head of the queue"
	msg=$(job_attr "$JOB" job-printer-state-message)
	like "$msg" "$FIX_RE" "refusal: job-printer-state-message names the fix (IPP)"
	like "$(printer_attr locked printer-state-message)" "$FIX_RE" \
		"refusal: printer-state-message names the fix (IPP)"
	like "$(printer_attr locked printer-state-reasons)" "$REASON" \
		"refusal: printer-state-reasons has $REASON"
	like "$(printer_attr locked printer-state-reasons)" 'paused' "refusal: the queue is paused"
	like "$(lpstat -l -p locked 2>&1)" "$FIX_RE" "refusal: lpstat -l -p shows the fix"
	like "$(lpstat -l -p locked 2>&1)" "Alerts:.*$REASON" "refusal: lpstat -l -p shows the reason"
	like "$(lpstat -W all -l -o locked 2>&1)" "Status: .*$FIX_RE" "refusal: lpstat -W all -l -o shows the fix"
	like "$(web_text /printers/ | grep -A3 'locked')" "Paused.*$FIX_RE" \
		"refusal: web UI /printers/ shows Paused and the fix"
	like "$(web_text /jobs/)" "$FIX_RE" "refusal: web UI /jobs/ shows the fix"
	is "$(mail_count)" "$before" "refusal: nothing was delivered"

	# The admin fixes the tenant (the server stops refusing) and resumes.
	smtp_users
	cupsenable locked
	st=$(wait_job_state "$LOCKED_JOB" completed aborted canceled processing-stopped pending-held)
	is "$st" completed "after the fix, cupsenable delivers the same job"
	wait_printer_state locked idle >/dev/null
	unlike "$(printer_attr locked printer-state-reasons)" "$REASON|paused" \
		"after the fix, the state reason is cleared"
	EML=$(new_mail "$before")
	is "$(mail_field "$EML" Subject)" "Contract" "after the fix, the held mail arrives"
	is "$(mail_field "$EML" From)" "locked@contoso.com" "after the fix, sent as the locked account"
	is "$(printer_attr locked printer-state-message)" "" "after the fix, the queue message is blank"
}

# The fix in the language of the person who printed: lp under LANG=xx sends
# attributes-natural-language, cupsd turns it into the backend's LANG, and
# the message is translated though this machine has no locales installed.
test_language() {
	local lang expect st
	for lang in fr_FR ru_RU zh_CN ro_RO; do
		case $lang in
		fr_FR) expect='désactivé pour tout le locataire' ;;
		ru_RU) expect='отключён для всей организации' ;;
		zh_CN) expect='整个租户已关闭 SMTP AUTH' ;;
		ro_RO) expect='dezactivat pentru întreaga organizație' ;;
		esac
		smtp_users "\"reject\": [{\"stage\": \"auth\", \"when_user\": \"locked@contoso.com\", \"reply\": \"$REFUSAL\"}]"
		LANG=$lang.UTF-8 cups_submit locked "$T/report.pdf" -t "Langue $lang" -o mailto=bob@contoso.com
		wait_printer_state locked stopped >/dev/null
		like "$(job_attr "$JOB" job-printer-state-message)" "$expect" \
			"$lang client: the job's message gives the fix in its language"
		like "$(lpstat -l -p locked 2>&1)" "$expect" "$lang client: lpstat -l -p shows it too"
		smtp_users
		cupsenable locked
		st=$(wait_job_state "$JOB" completed aborted canceled processing-stopped pending-held)
		is "$st" completed "$lang client: delivered after the fix"
		wait_printer_state locked idle >/dev/null
	done
}

# Recipient problems: the job is held with the reason, never stopped by a
# failing filter.
test_recipients() {
	local st
	cups_submit scan2mail "$T/report.pdf" -t "Outside" -o mailto=eve@fabrikam.com
	st=$(wait_job_state "$JOB" pending-held completed aborted canceled processing-stopped)
	is "$st" pending-held "recipient outside allowed_recipients: job held"
	like "$(job_attr "$JOB" job-printer-state-message)" 'eve@fabrikam\.com|allowed_recipients' \
		"recipient outside allowed_recipients: the message says why"
	cancel "$JOB" 2>/dev/null

	cups_submit scan2mail "$T/report.pdf" -t "Typo" -o mailto=bob@
	st=$(wait_job_state "$JOB" pending-held completed aborted canceled processing-stopped)
	is "$st" pending-held "malformed mailto: job held, not stopped by the filter"
	like "$(job_attr "$JOB" job-printer-state-message)" 'bob@|mailto' \
		"malformed mailto: the message names the option"
	# The user corrects it; cupsd reruns the whole chain with the new option.
	lp -i "$JOB" -o mailto=bob@contoso.com -H resume >/dev/null 2>&1
	st=$(wait_job_state "$JOB" completed aborted canceled processing-stopped pending-held)
	is "$st" completed "malformed mailto: corrected with lp -i -o mailto= -H resume, delivered"
	is "$(printer_attr scan2mail printer-state)" idle "recipient problems never stop the queue"
}

# Cancel while the server sits on DATA: the backend stops at once and the
# server never accepts the message.  The server answers DATA after 3 s, before
# cupsd's SIGKILL (JobKillDelay 5 s): a backend that ignored SIGTERM would go
# on and deliver, so "no message" is a real check.
test_cancel() {
	local before st i=0
	before=$(mail_count)
	SESSIONS_BEFORE=$(grep -c . "$SPOOL/sessions.jsonl" 2>/dev/null)
	smtp_users '"delay": [{"stage": "data", "seconds": 3}]'
	cups_submit scan2mail "$T/report.pdf" -t "Slow" -o mailto=bob@contoso.com
	wait_job_state "$JOB" processing >/dev/null
	# Wait (bounded) until the backend is connected to the server.
	while ! ss -tn state established "( dport = :$SMTP_PORT )" 2>/dev/null | grep -q 127.0.0.1 &&
		[ $i -lt 100 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	sleep 0.3 # EHLO, STARTTLS, AUTH, MAIL, RCPT, DATA take a few ms
	cancel "$JOB"
	st=$(wait_job_state "$JOB" canceled completed aborted)
	is "$st" canceled "cancel during a slow DATA: job canceled"
	# cups-exec gives the backend the device URI as argv[0].
	i=0
	while pgrep -f "^print2mail://scanner $JOB " >/dev/null 2>&1 && [ $i -lt 20 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	ok $(! pgrep -f "^print2mail://scanner $JOB " >/dev/null 2>&1; echo $?) \
		"cancel: the backend exits on SIGTERM, before the server answers DATA"
	# The server logs a session when it ends: after its wait, when it finds
	# the client gone.  Only then is "no message" final.
	i=0
	while [ "$(grep -c . "$SPOOL/sessions.jsonl" 2>/dev/null)" -le "$SESSIONS_BEFORE" ] && [ $i -lt 150 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	like "$(tail -n 1 "$SPOOL/sessions.jsonl" 2>/dev/null)" '"commands": *\[[^]]*"DATA"' \
		"cancel: the backend had reached DATA"
	is "$(mail_count)" "$before" "cancel: the server accepted no message"
	smtp_users
}

test_no_secrets() {
	local b64
	b64=$(printf '%s' "$PW_SCANNER" | base64)
	unlike "$(cat "$CUPS_BASE/log/error_log" "$T/syslog.txt" 2>/dev/null)" \
		"$(printf '%s' "$PW_SCANNER" | sed 's/[]!.*^$[]/\\&/g')|$PW_LOCKED|$b64" \
		"no password (plain or base64) in cupsd's error_log or syslog"
	like "$(cat "$T/syslog.txt" 2>/dev/null)" 'print2mail' "the backend logged to syslog"
	# LogLevel debug: the backend's transcript reaches cupsd's log, AUTH hidden
	like "$(cat "$CUPS_BASE/log/error_log")" 'smtp \+[0-9.]+s C: AUTH LOGIN' "error_log has the SMTP transcript"
	like "$(cat "$CUPS_BASE/log/error_log")" 'smtp \+[0-9.]+s C: <hidden>' "error_log shows the AUTH payload as <hidden>"
}

main() {
	cups_require
	[ -x "$top_builddir/filter/print2mail-compose" ] || skip_all "filter not built"
	command -v pdftotext >/dev/null 2>&1 || skip_all "poppler-utils missing"
	p2m_setup
	p2m_start_syslog
	p2m_start_smtp
	smtp_users
	write_config
	cups_setup
	cups_install_print2mail
	cups_start

	test_discovery
	test_delivery
	test_refusal
	test_language
	test_recipients
	test_cancel
	test_no_secrets
	done_testing
}

main "$@"
