#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# cups-instructions.sh - what README and the man pages tell an admin works as
# written on a real (private) cupsd: SetEnv PRINT2MAIL_CONF belongs in
# cups-files.conf (cupsd 2.4 ignores it in cupsd.conf), and a subject with
# spaces needs the inner quotes of -o "mail-subject='Signed contract'".
set -u
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/cups-lib.sh"

# An account name no system config has: the backend falls back to
# /etc/print2mail/print2mail.conf when PRINT2MAIL_CONF does not reach it.
ACCT="instr$$"
PW='pw-instr-S3cret!'

cups_require
p2m_setup
p2m_start_smtp
write_secret "$T/acct.password" "$PW"
write_global "helper_socket = $T/helper.sock"
write_account "$ACCT" "from = scanner@contoso.com" "password_file = $T/acct.password"
smtp_script "{\"users\": {\"scanner@contoso.com\": \"$PW\"}}"
cups_setup
cups_install_print2mail

# ---- 1. SetEnv in cupsd.conf: ignored ---------------------------------------
grep '^SetEnv ' "$CUPS_BASE/etc/cups-files.conf" >>"$CUPS_BASE/etc/cupsd.conf"
sed -i '/^SetEnv /d' "$CUPS_BASE/etc/cups-files.conf"
cups_start
unlike "$(lpinfo -v 2>&1)" "print2mail://$ACCT\b" \
	"SetEnv PRINT2MAIL_CONF in cupsd.conf does not reach the backend"
like "$(cat "$CUPS_BASE/log/error_log")" 'Please move "SetEnv PRINT2MAIL_CONF' \
	"... and cupsd says to move it to cups-files.conf"
cups_stop

# ---- 2. SetEnv in cups-files.conf, as README says: reaches the backend ---------
cups_write_conf
mv "$CUPS_BASE/log/error_log" "$CUPS_BASE/log/error_log.cupsd-conf"
grep -q '^SetEnv PRINT2MAIL_CONF ' "$CUPS_BASE/etc/cups-files.conf"
ok $? "the SetEnv line is in cups-files.conf only"
cups_start
like "$(lpinfo -v 2>&1)" "print2mail://$ACCT\b" \
	"SetEnv PRINT2MAIL_CONF in cups-files.conf reaches the backend (lpinfo -v lists the account)"
unlike "$(grep 'Please move' "$CUPS_BASE/log/error_log")" 'SetEnv' "... and cupsd has nothing to complain about"

# ---- 3. a subject with spaces through lp ------------------------------------
cups_add_queue scan2mail "print2mail://$ACCT"
ok $? "lpadmin adds the queue"
make_pdf "$T/contract.pdf"

# subject_of LP-ARGS...: print with LP-ARGS; the Subject of the mail that arrived.
subject_of() {
	local before st
	before=$(mail_count)
	cups_submit scan2mail "$T/contract.pdf" -t "Job title" "$@"
	st=$(wait_job_state "$JOB" completed aborted canceled processing-stopped pending-held)
	[ "$st" = completed ] || diag "job $JOB: $st: $(job_attr "$JOB" job-printer-state-message)"
	[ "$(mail_count)" -gt "$before" ] && mail_field "$(last_mail)" Subject
}

is "$(subject_of -o mailto=bob@contoso.com -o "mail-subject='Signed contract'")" "Signed contract" \
	"lp -o \"mail-subject='Signed contract'\" sends the whole subject"
is "$(subject_of -o "mailto=bob@contoso.com mail-subject='Signed contract'")" "Signed contract" \
	"... as does one -o with both options"
# Why the inner quotes: lp splits an option's value at spaces.
is "$(subject_of -o mailto=bob@contoso.com -o mail-subject="Signed contract")" "Signed" \
	"without them (-o mail-subject=\"Signed contract\") CUPS keeps only \"Signed\""

# The documented examples are the quoted form, wherever they appear.
for f in "$top_srcdir"/README.md "$top_srcdir"/docs/*.md "$top_srcdir"/man/*.[1-8] "$top_srcdir"/man/*.in; do
	[ -f "$f" ] || continue
	unlike "$(grep -n -- '-o mail-subject="[^"'"'"']* ' "$f")" . \
		"${f#"$top_srcdir"/}: no lp example with an unquoted subject with spaces"
done

done_testing
