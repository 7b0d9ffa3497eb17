#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# graph-cups.sh - transport = graph through a real (private) cupsd: PDF and
# text jobs arrive through Graph with the attachment intact; a 403 stops the
# queue with the Graph fix where admins look (IPP, lpstat) and the job goes
# out after the fix and cupsenable; no token or secret in cupsd's log.
set -u
. "$top_srcdir/tests/integration/graph-lib.sh"
. "$top_srcdir/tests/cups-lib.sh"

new_mail() {
	local i=0
	while [ "$(mail_count)" -le "$1" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	[ "$(mail_count)" -gt "$1" ] && last_mail
}

main() {
	local before st EML msg
	cups_require
	[ -x "$top_builddir/filter/print2mail-compose" ] || skip_all "filter not built"
	graph_start
	graph_conf "from_name = Scanner" "allowed_recipients = contoso.com"
	sed -i "s|^\\[global\\]|[global]\\nhelper_socket = $T/helper.sock|" "$PRINT2MAIL_CONF"
	cups_setup
	cups_install_print2mail
	cups_start
	cups_add_queue scan2mail print2mail://scanner

	make_pdf "$T/report.pdf" 300000
	before=$(mail_count)
	cups_submit scan2mail "$T/report.pdf" -t "Graph report" -o mailto=bob@contoso.com
	st=$(wait_job_state "$JOB" completed aborted canceled processing-stopped pending-held)
	is "$st" completed "cupsd PDF job through Graph completes"
	[ "$st" = completed ] || diag "job message: $(job_attr "$JOB" job-printer-state-message)"
	EML=$(new_mail "$before")
	ok $([ -n "$EML" ]; echo $?) "cupsd PDF job: arrives through Graph"
	is "$(meta_field "$EML" via)" "sendMail" "cupsd PDF job: MIME sendMail"
	is "$(mail_field "$EML" To)" "bob@contoso.com" "cupsd PDF job: To"
	is "$(mail_field "$EML" From)" "Scanner <scanner@contoso.com>" "cupsd PDF job: From"
	is "$(mail_field "$EML" Subject)" "Graph report" "cupsd PDF job: Subject"
	is "$(mail_field "$EML" attachment-type)" application/pdf "cupsd PDF job: a PDF attachment"
	is "$(mail_field "$EML" defects)" "" "cupsd PDF job: no defects"

	printf 'Invoice 4711\nTotal: 99 EUR\n' >"$T/invoice.txt"
	before=$(mail_count)
	cups_submit scan2mail "$T/invoice.txt" -t "Invoice" -o mailto=bob@contoso.com
	st=$(wait_job_state "$JOB" completed aborted canceled processing-stopped pending-held)
	is "$st" completed "cupsd text job through Graph completes"
	EML=$(new_mail "$before")
	is "$(mail_field "$EML" attachment-type)" application/pdf "cupsd text job: arrives as a PDF"

	# 403: queue stopped with the Graph fix; after the fix the job goes out
	graph_script '{"errors": [{"op": "sendMail", "status": 403, "code": "ErrorAccessDenied", "message": "Access is denied. Check credentials and try again."}]}'
	before=$(mail_count)
	cups_submit scan2mail "$T/report.pdf" -t "Denied" -o mailto=bob@contoso.com
	wait_printer_state scan2mail stopped >/dev/null
	is "$(printer_attr scan2mail printer-state)" stopped "403: the queue is stopped"
	msg=$(job_attr "$JOB" job-printer-state-message)
	like "$msg" 'Mail\.Send.*New-ManagementRoleAssignment' "403: job-printer-state-message names the Graph fix"
	like "$(printer_attr scan2mail printer-state-reasons)" 'com\.print2mail-graph-denied-error' "403: printer-state-reasons"
	like "$(lpstat -l -p scan2mail 2>&1)" 'Test-ServicePrincipalAuthorization' "403: lpstat -l -p shows the fix"
	graph_script '{}'
	cupsenable scan2mail
	st=$(wait_job_state "$JOB" completed aborted canceled processing-stopped pending-held)
	is "$st" completed "403 fixed: after cupsenable the job completes"
	ok $([ -n "$(new_mail "$before")" ]; echo $?) "403 fixed: the mail arrives"

	unlike "$(cat "$CUPS_BASE/log/error_log" "$T/syslog.txt" 2>/dev/null)" "$GSECRET|eyJ0eXAiOiJKV1Qi" \
		"no client secret or token in cupsd's error_log or syslog"
	done_testing
}

main "$@"
