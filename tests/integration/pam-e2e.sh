#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# pam-e2e.sh - send as the person who printed, end to end: PAM login -> real print2mail-helper -> vault -> backend -> M365-like server.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/integration/helper-lib.sh"

[ "$(id -u)" -eq 0 ] || skip_all "needs root"
MODULE="$top_builddir/pam/.libs/pam_print2mail.so"
PWRAP_LIB=$(ls /usr/lib/*/libpam_wrapper.so 2>/dev/null | head -n 1)
PWRAP_MODDIR=$(ls -d /usr/lib/*/pam_wrapper 2>/dev/null | head -n 1)
PAM_DENY=$(ls /lib/*/security/pam_deny.so /usr/lib/*/security/pam_deny.so 2>/dev/null | head -n 1)
[ -n "$PWRAP_LIB" ] && [ -f "$PWRAP_MODDIR/pam_matrix.so" ] || skip_all "pam_wrapper not installed (apt-get install libpam-wrapper)"
command -v pamtester >/dev/null 2>&1 || skip_all "pamtester not installed"
command -v setpriv >/dev/null 2>&1 || skip_all "setpriv not installed"
[ -f "$MODULE" ] || skip_all "PAM module not built"
[ -x "$HELPER" ] || skip_all "print2mail-helper not built"
[ -x "$P2M_BACKEND" ] || skip_all "backend not built"

ASAN_RT=$(ldd "$MODULE" 2>/dev/null | awk '/libasan/ { print $3 }')
PRELOAD="$PWRAP_LIB"
[ -n "$ASAN_RT" ] && PRELOAD="$ASAN_RT $PWRAP_LIB"

command -v useradd >/dev/null 2>&1 || skip_all "useradd missing"

p2m_setup
# The backend uses a stored password only for a user cupsd authenticated: it
# checks AUTH_UID against the account of the job's user, so alice and bob must
# be accounts (made here when missing, removed at exit).
P2M_USERS=""
pam_e2e_cleanup() {
	local u
	p2m_cleanup
	for u in $P2M_USERS; do userdel "$u" >/dev/null 2>&1; done
	return 0
}
trap pam_e2e_cleanup EXIT
for u in alice bob; do
	getent passwd "$u" >/dev/null && continue
	useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$u" ||
		{ echo "Bail out! cannot create user $u"; exit 1; }
	P2M_USERS="$P2M_USERS $u"
done
p2m_start_syslog
SOCK="$T/run/helper.sock"
KEY="$T/etc/store.key"
mkdir -p "$T/run" "$T/etc" "$T/services"
chmod 0755 "$T/run"

smtp_script '{"users": {"alice@contoso.com": "pw1-Alice", "bob@contoso.com": "pwb-Bob"}}'
p2m_start_smtp
write_global "helper_socket = $SOCK" "key_file = $KEY"
write_account people "tls = starttls" "auth = login" "send_as = job-user" "user_address = %u@contoso.com"

start_helper

# The shape of Debian's common-* after pam-auth-update (see pam-module.sh for
# why pam_set_items follows pam_matrix).
cat >"$T/services/login" <<EOF
auth     [success=1 default=ignore] $PWRAP_MODDIR/pam_matrix.so passdb=$T/passdb
auth     requisite $PAM_DENY
auth     required  $PWRAP_MODDIR/pam_set_items.so
auth     optional  $MODULE socket=$SOCK timeout=1000 debug
account  required  $PWRAP_MODDIR/pam_matrix.so passdb=$T/passdb
password [success=1 default=ignore] $PWRAP_MODDIR/pam_matrix.so passdb=$T/passdb
password requisite $PAM_DENY
password required  $PWRAP_MODDIR/pam_set_items.so
password optional  $MODULE socket=$SOCK timeout=1000 debug
session  required  $PWRAP_MODDIR/pam_matrix.so passdb=$T/passdb
session  optional  $MODULE socket=$SOCK timeout=1000 debug
EOF
echo "auth required $PAM_DENY" >"$T/services/other"
printf 'alice:pw1-Alice:login\nbob:pwb-Bob:login\n' >"$T/passdb"
: >"$T/pam-output"

pt() {  # pt STDIN PAM_AUTHTOK ARGS...
	local input="$1" tok="$2"
	shift 2
	printf '%s' "$input" | env PAM_AUTHTOK="$tok" LD_PRELOAD="$PRELOAD" PAM_WRAPPER=1 \
		PAM_WRAPPER_SERVICE_DIR="$T/services" PAM_WRAPPER_DEBUGLEVEL=2 \
		${ASAN_RT:+PAM_WRAPPER_DISABLE_DEEPBIND=1 ASAN_OPTIONS=detect_leaks=0} \
		pamtester -v "$@" >>"$T/pam-output" 2>&1
	PT_RC=$?
}
# last_session FIELD: a field of the SMTP server's last session record.
last_session() {
	[ -s "$SPOOL/sessions.jsonl" ] || { echo "none"; return; }
	tail -n 1 "$SPOOL/sessions.jsonl" | "$PYTHON3" -c 'import json,sys; print(json.load(sys.stdin).get(sys.argv[1]))' "$1"
}
make_pdf "$T/doc.pdf"
job() {  # job N USER [VAR=VALUE ...]
	local n="$1" user="$2"
	shift 2
	run_backend "print2mail://people" "$n" "$user" "report $n" "mailto=carol@contoso.com" "$T/doc.pdf" \
		AUTH_UID="$(id -u "$user")" "$@"
	cat "$T/backend.err" >>"$T/backend-all.err"
}

# 1. alice logs in: her password reaches the store, encrypted
pt "pw1-Alice
" pw1-Alice login alice authenticate open_session close_session
is "$PT_RC" 0 "alice logs in"
[ -f "$T/state/users/alice.cred" ]; ok $? "the helper stored a record for alice"
is "$(stat -c %a "$T/state/users/alice.cred" 2>/dev/null)" 600 "record mode 0600"
is "$(stat -c %a "$KEY" 2>/dev/null)" 600 "key file created 0600 outside the state dir"

# 2. her job authenticates as her, from her address
job 1 alice
is "$BACKEND_RC" 0 "alice's job is delivered"
is "$(last_session auth_user)/$(last_session auth_ok)" "alice@contoso.com/True" "AUTH LOGIN as alice@contoso.com"
like "$(mail_field "$(last_mail)" From)" 'alice@contoso\.com' "From is alice@contoso.com"

# 3. bob has no credential: held for authentication, CUPS asks him
job 2 bob
is "$BACKEND_RC" 2 "bob's job exits AUTH_REQUIRED (2)"
like "$BACKEND_ERR" '^ATTR: auth-info-required=username,password' "ATTR: auth-info-required asks for username,password"

# 4. AuthInfoRequired answered: bob's password is used for that job only
job 3 bob AUTH_USERNAME=bob AUTH_PASSWORD=pwb-Bob
is "$BACKEND_RC" 0 "bob's job with AUTH_USERNAME/AUTH_PASSWORD is delivered"
is "$(last_session auth_user)/$(last_session auth_ok)" "bob@contoso.com/True" "as bob@contoso.com"
[ ! -e "$T/state/users/bob.cred" ]; ok $? "and bob's password was not stored"
job 4 bob
is "$BACKEND_RC" 2 "bob's next job asks again"

# 4b. a job that only claims to be alice's (no AUTH_UID: cupsd did not
# authenticate it) never unlocks her stored password, even with AUTH_USERNAME
N=$(cat "$SPOOL/sessions.jsonl" 2>/dev/null | wc -l)
run_backend "print2mail://people" 8 alice "claimed" "mailto=carol@contoso.com" "$T/doc.pdf" \
	AUTH_USERNAME=alice AUTH_PASSWORD=
cat "$T/backend.err" >>"$T/backend-all.err"
is "$BACKEND_RC" 3 "a claimed alice with an empty AUTH_PASSWORD is held (3)"
is "$(cat "$SPOOL/sessions.jsonl" 2>/dev/null | wc -l)" "$N" "... and nothing reached the mail server"

# 5. alice changes her password (Microsoft 365 too): the next job uses the new one
pt "pw1-Alice
pw2-Alice
pw2-Alice
" pw2-Alice login alice chauthtok
is "$PT_RC" 0 "alice changes her password"
smtp_script '{"users": {"alice@contoso.com": "pw2-Alice", "bob@contoso.com": "pwb-Bob"}}'
job 5 alice
is "$BACKEND_RC" 0 "alice's next job is delivered"
is "$(last_session auth_user)/$(last_session auth_ok)" "alice@contoso.com/True" "with the new password (the server now refuses the old one)"

# 6. a non-root peer may not deposit a password
raw_put_password "$SOCK" alice evil-Pw setpriv --reuid=nobody --regid=nogroup --clear-groups \
	>"$T/nobody.out" 2>&1
like "$(cat "$T/nobody.out")" 'reply-op=129' "PUT_PASSWORD from uid nobody gets an ERROR reply"
job 6 alice
is "$BACKEND_RC" 0 "alice's stored password is unchanged by it"

# 7. nothing in clear at rest or in any log (which are not empty, so this can fail)
[ -s "$T/helper.log" ] && [ -s "$T/syslog.txt" ] && grep -q 'SYSLOG(7): credential of alice handed' "$T/pam-output"
ok $? "helper log, backend syslog and the module's debug lines were captured"
for pw in pw1-Alice pw2-Alice pwb-Bob evil-Pw; do
	! grep -r -q -a -- "$pw" "$T/state" "$T/etc" "$T/helper.log" "$T/backend-all.err" "$T/syslog.txt" "$T/pam-output" 2>/dev/null
	ok $? "'$pw' appears nowhere in the state dir, key dir, helper log, backend output, syslog or PAM output"
done

# 8. logout with forget_on_logout: the helper forgets
sed -i 's/^session  optional  \(.*\) debug$/session  optional  \1 debug forget_on_logout/' "$T/services/login"
pt "pw2-Alice
" pw2-Alice login alice authenticate open_session close_session
is "$PT_RC" 0 "alice logs in and out with forget_on_logout"
[ ! -e "$T/state/users/alice.cred" ]; ok $? "her record is gone"
job 7 alice
is "$BACKEND_RC" 2 "her next job asks for authentication"

done_testing
