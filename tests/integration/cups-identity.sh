#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# cups-identity.sh - send_as = job-user through a private cupsd running
# Debian's stock policy: a user name a client merely claims (lp -U) never
# selects that user's stored password (the job is held, the mail server sees
# nothing), while the user's own job on a queue set up as README says
# (printer-op-policy=print2mail, printed through cupsd's domain socket) is
# sent as that user.
set -u
. "$top_srcdir/tests/integration/backend-lib.sh"
. "$top_srcdir/tests/cups-lib.sh"
. "$top_srcdir/tests/integration/helper-lib.sh"

cups_require
command -v useradd >/dev/null 2>&1 && command -v userdel >/dev/null 2>&1 || skip_all "useradd/userdel missing"
command -v setpriv >/dev/null 2>&1 || skip_all "setpriv not installed"
[ -x "$HELPER" ] || skip_all "print2mail-helper not built"

# A throwaway user, named per run so parallel runs never share it.
U1="p2mi$$"
U1_PW="u1-Pw-S3cret!"
P2M_USERS=""
identity_cleanup() {
	local u
	cups_stop
	p2m_cleanup
	for u in $P2M_USERS; do userdel "$u" >/dev/null 2>&1; done
	return 0
}
p2m_setup
trap identity_cleanup EXIT
getent passwd "$U1" >/dev/null && { echo "Bail out! user $U1 already exists"; exit 1; }
useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$U1" ||
	{ echo "Bail out! cannot create user $U1"; exit 1; }
P2M_USERS="$U1"

# as USER CMD...: CMD as USER (no supplementary groups), its own environment.
as() {
	local u="$1"
	shift
	timeout 60 setpriv --reuid="$u" --regid="$(id -g "$u")" --clear-groups -- \
		env -i PATH=/usr/bin:/bin LANG=C.UTF-8 HOME=/nonexistent "$@"
}

p2m_start_syslog
smtp_script "{\"users\": {\"$U1@contoso.com\": \"$U1_PW\"}}"
p2m_start_smtp
mkdir -p "$T/run"
write_global "helper_socket = $T/run/helper.sock" "key_file = $T/store.key"
write_account people "auth = login" "send_as = job-user" "user_address = %u@contoso.com"
make_pdf "$T/doc.pdf" 8000
chmod 0644 "$T/doc.pdf"

# U1's password in the store, as the PAM module hands it over at login.
start_helper
raw_put_password "$T/run/helper.sock" "$U1" "$U1_PW" >"$T/put.out" 2>&1
[ -f "$T/state/users/$U1.cred" ]
ok $? "the helper stored $U1's password (as the PAM module would)"

cups_setup
cups_stock_policy "$top_srcdir/conf/cupsd-print2mail-policy.conf"
cups_install_print2mail
cups_start
# Admin operations need an authenticated SystemGroup member under the stock
# policy: root through the domain socket (PeerCred).
CUPS_SERVER="$CUPS_SOCKET" cups_add_queue stock 'print2mail://people' -o printer-is-shared=false
ok $? "queue 'stock' (Debian's default policy) added"
CUPS_SERVER="$CUPS_SOCKET" cups_add_queue mine 'print2mail://people' -o printer-op-policy=print2mail
ok $? "queue 'mine' added with printer-op-policy=print2mail, as README says"
is "$(printer_attr mine printer-op-policy)" "print2mail" "cupsd reports queue 'mine' with the print2mail policy"

sessions() { cat "$SPOOL/sessions.jsonl" 2>/dev/null | wc -l; }
# submit AS SERVER QUEUE [lp args]: lp as user AS through SERVER; sets JOB.
submit() {
	local who="$1" server="$2" q="$3" out
	shift 3
	out=$(as "$who" env CUPS_SERVER="$server" lp -d "$q" -o mailto=bob@contoso.com "$@" "$T/doc.pdf" </dev/null 2>&1)
	JOB=$(job_id_of "$out")
	printf '%s\n' "$out" >>"$T/lp.out"
}

# ---- 1. nobody claims to be U1 over TCP: held, nothing sent ---------------------
N=$(sessions)
submit nobody "127.0.0.1:$CUPS_PORT" stock -U "$U1"
[ -n "$JOB" ]; ok $? "nobody's 'lp -U $U1' over TCP is accepted by the stock policy"
is "$(job_attr "$JOB" job-originating-user-name)" "$U1" "... and cupsd records $U1 as the job's user (the claim)"
is "$(wait_job_state "$JOB" pending-held completed aborted canceled)" "pending-held" "... the job is held, not sent"
like "$(job_attr "$JOB" job-printer-state-message)" 'printer-op-policy=print2mail' "... with a message naming the queue setting"
is "$(printer_attr stock printer-state)" "idle" "... and the queue is not stopped"
is "$(sessions)" "$N" "... and the mail server saw no connection"

# ---- 2. the same over the domain socket: still only a claim ------------------------
submit nobody "$CUPS_SOCKET" stock -U "$U1"
[ -n "$JOB" ]; ok $? "nobody's 'lp -U $U1' over the domain socket is accepted by the stock policy"
is "$(wait_job_state "$JOB" pending-held completed aborted canceled)" "pending-held" "... held"
is "$(sessions)" "$N" "... nothing sent"

# ---- 3. U1's own job on the stock queue: cupsd authenticated nobody ----------------
submit "$U1" "$CUPS_SOCKET" stock
is "$(wait_job_state "$JOB" pending-held completed aborted canceled)" "pending-held" \
	"$U1's own job on a queue without the print2mail policy is held too (cupsd proved nothing)"
is "$(sessions)" "$N" "... nothing sent"

# ---- 4. nobody claims U1 on the print2mail queue: cupsd refuses ---------------------
submit nobody "$CUPS_SOCKET" mine -U "$U1"
[ -z "$JOB" ]; ok $? "nobody's 'lp -U $U1' on the print2mail-policy queue is refused by cupsd (socket)"
submit nobody "127.0.0.1:$CUPS_PORT" mine -U "$U1"
[ -z "$JOB" ]; ok $? "... and over TCP (a password would be needed)"
is "$(sessions)" "$N" "... nothing sent"

# ---- 5. U1's own job on the print2mail queue: sent as U1 ---------------------------
before=$(mail_count)
submit "$U1" "$CUPS_SOCKET" mine
[ -n "$JOB" ]; ok $? "$U1 prints to the print2mail-policy queue through the domain socket"
is "$(wait_job_state "$JOB" completed pending-held aborted canceled)" "completed" "... the job completes"
M=$(last_mail)
[ "$(mail_count)" -gt "$before" ]; ok $? "... a mail was delivered"
is "$(mail_field "$M" From)" "$U1@contoso.com" "... From $U1@contoso.com"
is "$(meta_field "$M" auth_user)" "$U1@contoso.com" "... signed in as $U1@contoso.com with the stored password"
grep -q "Authorized as $U1 using PeerCred" "$CUPS_BASE/log/error_log"
ok $? "cupsd authenticated $U1 by PeerCred"

# ---- 6. a queue for a fixed destination: '@' written %40 in ?to= -------------------
# CUPS parses print2mail://people?to=bob@contoso.com as user "people?to=bob" at
# host contoso.com; with %40 it keeps the URI whole and print2mail decodes it.
CUPS_SERVER="$CUPS_SOCKET" cups_add_queue fixed 'print2mail://people?to=bob%40contoso.com' -o printer-op-policy=print2mail
ok $? "queue 'fixed' added with ?to=bob%40contoso.com"
is "$(printer_attr fixed device-uri)" 'print2mail://people?to=bob%40contoso.com' "cupsd shows the device URI as written"
like "$(CUPS_SERVER="$CUPS_SOCKET" lpstat -v fixed 2>&1)" 'print2mail://people\?to=bob%40contoso\.com' "lpstat -v shows it whole"
before=$(mail_count)
out=$(as "$U1" env CUPS_SERVER="$CUPS_SOCKET" lp -d fixed "$T/doc.pdf" </dev/null 2>&1)
JOB=$(job_id_of "$out")
is "$(wait_job_state "$JOB" completed pending-held aborted canceled)" "completed" "$U1's job without -o mailto completes"
M=$(last_mail)
[ "$(mail_count)" -gt "$before" ]; ok $? "... a mail was delivered"
is "$(meta_field "$M" rcpt_tos)" "bob@contoso.com" "... to the queue's ?to= recipient, %40 decoded"

unlike "$(cat "$CUPS_BASE/log/error_log" "$T/syslog.txt" 2>/dev/null)" "$U1_PW" "the password is in neither cupsd's log nor syslog"
done_testing
