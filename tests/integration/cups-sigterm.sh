#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# cups-sigterm.sh - a SIGTERM that cupsd did not send (systemd signals the
# whole cups.service cgroup on "systemctl restart cups") reaches the backend
# while cupsd still counts the job as printing: the undelivered job is kept
# and retried, never recorded as completed, and goes out exactly once.
set -u
. "$top_srcdir/tests/integration/backend-lib.sh"
. "$top_srcdir/tests/cups-lib.sh"
cups_require
p2m_setup
p2m_start_syslog
# The server waits before its 354, so the backend is inside DATA when signalled.
smtp_script "{\"users\": {\"scanner@contoso.com\": \"$PASSWORD\"}, \"delay\": {\"data\": 60}}"
p2m_start_smtp
bk_conf
make_pdf "$T/doc.pdf" 20000
chmod 0644 "$T/doc.pdf"
cups_setup
cups_install_print2mail
cups_start
cups_add_queue q 'print2mail://scanner?to=bob%40contoso.com'
ok $? "queue added"

cups_submit q "$T/doc.pdf"
[ -n "$JOB" ]; ok $? "job submitted"
# backend_pid: cupsd's child running the backend (its comm is the program name).
backend_pid() {
	local p
	for p in $(ps -o pid= --ppid "$CUPS_PID"); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = print2mail ] && { echo "$p"; return 0; }
	done
	return 1
}
i=0
BPID=""
while [ $i -lt 300 ]; do
	BPID=$(backend_pid) && printer_attr q printer-state-reasons | grep -q connecting-to-device && break
	sleep 0.1
	i=$((i + 1))
done
[ -n "$BPID" ]; ok $? "the backend is connected to the mail server"
sleep 1
smtp_script "{\"users\": {\"scanner@contoso.com\": \"$PASSWORD\"}}"   # the retry goes through
kill -TERM "$BPID"
st=$(wait_job_state "$JOB" completed aborted canceled)
is "$st" "completed" "the job completes in the end"
is "$(mail_count)" 1 "... only because it was delivered (exactly once) after the retry"
like "$(cups_job_log "$JOB")" 'Backend returned status 6' "cupsd saw RETRY from the signalled backend, not OK"
done_testing
