#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# faults-cups.sh - faults through a real (private) cupsd, the mail server
# behind tests/servers/faultproxy.py, timeout = 5: a 20 s stall is given up
# after the timeout, retried by cupsd and delivered once, with a job message
# saying the server stopped answering; a dropped upload says the connection
# was lost; cupsd stopped and started in the middle of a job delivers exactly
# one copy and never runs two connections for it; a fault that outlasts
# cupsd's JobRetryLimit stops the queue instead of losing the job.
set -u
. "$top_srcdir/tests/integration/faults-lib.sh"
. "$top_srcdir/tests/cups-lib.sh"

main() {
	cups_require
	[ -x "$top_builddir/filter/print2mail-compose" ] || skip_all "filter not built"
	p2m_setup
	p2m_start_syslog
	bk_users
	p2m_start_smtp
	p2m_start_proxy px "$SMTP_PORT"
	SMTP_PORT=$PROXY_PORT
	write_secret "$T/password" "$PASSWORD"
	write_global
	write_account scanner "from = scanner@contoso.com" "password_file = $T/password" "timeout = 5"
	cups_setup
	cups_install_print2mail
	cups_start
	cups_add_queue scan2mail "print2mail://scanner?to=bob@contoso.com"
	make_pdf "$T/doc.pdf" 300000
	make_pdf "$T/big.pdf" 12000000

	# ---- a 20 s stall with timeout = 5: given up, retried, delivered once ----
	before=$(mail_count)
	proxy_control px '{"stall": {"client_bytes": 0, "seconds": 20}, "times": 1}'
	t0=$(date +%s)
	cups_submit scan2mail "$T/doc.pdf" -t "stalled"
	is "$(cups_job_end "$JOB")" completed "20 s stall: the job completes"
	ok "$([ "$(elapsed_since "$t0")" -lt 20 ]; echo $?)" "20 s stall: delivered before the stall would have ended ($(elapsed_since "$t0") s)"
	is "$(mail_count)" "$((before + 1))" "20 s stall: exactly one copy"
	like "$(cups_job_said "$JOB" 'stopped answering')" 'stopped answering' \
		"20 s stall: the job's message said the server stopped answering"

	# ---- dropped in the middle of DATA: retried, the message says lost ----
	before=$(mail_count)
	proxy_control px '{"drop": {"client_bytes": 400000}, "times": 1}'
	# raw: pdftopdf would drop the padding that makes the document big
	cups_submit scan2mail "$T/big.pdf" -t "dropped" -o raw
	is "$(cups_job_end "$JOB")" completed "drop in DATA: the job completes"
	is "$(mail_count)" "$((before + 1))" "drop in DATA: exactly one copy"
	like "$(cups_job_said "$JOB" 'was lost')" 'connection to the mail server was lost' \
		"drop in DATA: the job's message said the connection was lost"
	unlike "$(cups_job_log "$JOB")" 'cannot be reached' "drop in DATA: not called unreachable"

	# ---- cupsd stopped and started in the middle of a job ----
	before=$(mail_count)
	proxy_control px '{"stall": {"client_bytes": 400000, "seconds": 8}, "times": 1}'
	cups_submit scan2mail "$T/big.pdf" -t "restarted" -o raw
	i=0
	while [ "$(proxy_stat px stalls)" = 0 ] || [ "$(proxy_stat px now)" = 0 ]; do
		sleep 0.1; i=$((i + 1)); [ $i -lt 300 ] || break
	done
	is "$(proxy_stat px now)" 1 "restart: the job is in the middle of its upload"
	cups_stop
	cups_start
	is "$(cups_job_end "$JOB")" completed "restart: the job completes after cupsd restarts"
	is "$(mail_count)" "$((before + 1))" "restart: exactly one copy"
	ok "$([ "$(proxy_stat px peak)" -le 1 ]; echo $?)" "restart: never two connections for the job (peak $(proxy_stat px peak))"
	is "$(mail_field "$(last_mail)" attachment-sha256)" "$(sha256_of "$T/big.pdf")" "restart: the copy is whole"

	# ---- a fault that outlasts cupsd's retries (JobRetryLimit 3 here) ----
	# cupsd aborts a job after JobRetryLimit retries: the retry that would
	# do so stops the queue instead, and the job is delivered after
	# cupsenable.
	before=$(mail_count)
	proxy_control px '{"refuse": true}'
	cups_submit scan2mail "$T/doc.pdf" -t "long outage"
	is "$(wait_printer_state scan2mail stopped)" stopped "long outage: the queue is stopped once the retries are used up"
	is "$(job_attr "$JOB" job-state)" pending "long outage: the job is kept (pending), not aborted"
	like "$(printer_attr scan2mail printer-state-message)" 'JobRetryLimit.*cupsenable scan2mail' \
		"long outage: the queue's message says why it stopped and what to run"
	like "$(printer_attr scan2mail printer-state-message)" 'cannot be reached' \
		"long outage: ... and what failed"
	proxy_control px '{}'
	cupsenable scan2mail
	is "$(cups_job_end "$JOB")" completed "long outage: after cupsenable the job completes"
	is "$(mail_count)" "$((before + 1))" "long outage: exactly one copy"
	done_testing
}

main "$@"
