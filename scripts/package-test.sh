#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# package-test.sh - install the built .deb packages on this (brand-new,
# throwaway) Debian 12 system as an admin would, and check what the admin
# sees: apt pulls every runtime dependency, the system cupsd lists the
# account (lpinfo -v) and the model (lpinfo -m), a queue made with README's
# lpadmin line prints to a mail server (the local Microsoft-365-like one,
# tests/servers/), remove keeps the admin's files, purge leaves nothing.
# Prints TAP, then "N passed, N failed".  As root; it changes the system
# (installs CUPS, starts the system cupsd): run it in a fresh machine, e.g.
#
#   FRESH_SHARE=/tmp/debs ../shared/tools/fresh-debian \
#       'bash scripts/package-test.sh /share'     # /tmp/debs holds the .debs
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
debdir=$(cd "${1:-..}" 2>/dev/null && pwd) || { echo "usage: package-test.sh DIR-WITH-DEBS" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "package-test.sh: run as root on a throwaway system" >&2; exit 2; }
debs=""
for f in "$debdir"/print2mail_*.deb "$debdir"/libpam-print2mail_*.deb; do [ -f "$f" ] && debs="$debs $f"; done
[ "$(echo "$debs" | wc -w)" = 2 ] || { echo "package-test.sh: want one print2mail_*.deb and one libpam-print2mail_*.deb in $debdir" >&2; exit 2; }
export DEBIAN_FRONTEND=noninteractive

export top_srcdir="$top" PYTHON3=/usr/bin/python3
CUPSD_PID=""
HELPER_PID=""
stop_daemons() {
	local p
	for p in $HELPER_PID $CUPSD_PID; do kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	HELPER_PID="" CUPSD_PID=""
}

# Where a package's files and its scripts' traces can land (the FHS
# directories, not the home and work directories of whoever runs this: on a
# developer's machine those hold other checkouts of print2mail).
SYSTEM_DIRS=$(for d in /etc /usr /var /opt /srv /bin /sbin /lib /lib64; do [ -e "$d" ] && echo "$d"; done)
# snapshot FILE: every path with its type, mode and owner, leaving out what
# other packages and the kernel change on their own (apt's and dpkg's
# databases, logs, caches, the spool and the queue list cupsd rewrites).
snapshot() {
	find $SYSTEM_DIRS -xdev \( -path /var/tmp -o -path /var/log -o -path /var/cache -o -path /var/lib/apt \
		-o -path /var/lib/dpkg -o -path /var/spool/cups -o -path "$top" \
		-o -path '/etc/cups/*.conf*' \) -prune -o \
		-printf '%p %M %u:%g\n' 2>/dev/null | sort >"$1"
}

# start_cupsd: the system cupsd in the foreground (no init in a chroot).
start_cupsd() {
	local i=0
	mkdir -p /run/cups
	/usr/sbin/cupsd -f >/tmp/cupsd.out 2>&1 &
	CUPSD_PID=$!
	until lpstat -r 2>/dev/null | grep -q 'scheduler is running'; do
		i=$((i + 1)); [ $i -gt 300 ] && break; sleep 0.1
	done
	lpstat -r 2>/dev/null | grep -q 'scheduler is running'
}

pam_lines() { grep -l pam_print2mail /etc/pam.d/* 2>/dev/null | tr '\n' ' '; }

# start_helper: print2mail-helper in the foreground (no systemd in a chroot),
# until it listens; it makes the vault key on start.
start_helper() {
	local i=0
	/usr/sbin/print2mail-helper --foreground >/tmp/helper.log 2>&1 &
	HELPER_PID=$!
	while [ ! -S /run/print2mail/helper.sock ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
	[ -S /run/print2mail/helper.sock ]
}

echo "# installing apt's view of the packages first: apt-get update"
apt-get update -qq >/dev/null 2>&1

# ---- 1. install with apt: dependencies, modes, conffile, PAM, remove, purge --
echo "# apt-get install$debs"
P2M_TESTS_RUN=0
P2M_TESTS_FAILED=0
ok() {   # tests/lib.sh's, until it can be sourced (its helpers need python3)
	P2M_TESTS_RUN=$((P2M_TESTS_RUN + 1))
	if [ "$1" -eq 0 ]; then echo "ok $P2M_TESTS_RUN - $2"
	else echo "not ok $P2M_TESTS_RUN - $2"; P2M_TESTS_FAILED=$((P2M_TESTS_FAILED + 1)); fi
}
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $debs >/tmp/apt-install.log 2>&1
rc=$?
[ $rc -eq 0 ] || tail -30 /tmp/apt-install.log | sed 's/^/# /'
ok $rc "apt-get install of both packages succeeds"
# libcurl4 is named in Depends by hand: the programs dlopen() it.
for p in cups cups-daemon cups-filters ca-certificates libcurl4; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'
	ok $? "apt pulled dependency $p"
done
[ -x /usr/sbin/cups-deviced ] || [ -x /usr/lib/cups/daemon/cups-deviced ]
ok $? "cups-deviced is installed (lpinfo -v needs it)"
[ "$(stat -c '%a %U:%G' /usr/lib/cups/backend/print2mail 2>&1)" = "700 root:root" ]
ok $? "backend is 0700 root:root (cupsd runs it as root)"
[ "$(stat -c '%a %U:%G' /var/lib/print2mail 2>&1)" = "700 root:root" ]
ok $? "/var/lib/print2mail is created 0700 root:root"
dpkg-query -W -f='${Conffiles}\n' print2mail | grep -q '^ /etc/print2mail/print2mail.conf '
ok $? "/etc/print2mail/print2mail.conf is a conffile"
[ -e /etc/systemd/system/multi-user.target.wants/print2mail-helper.service ]
ok $? "print2mail-helper.service is enabled (started where systemd runs)"
[ -f /usr/share/pam-configs/print2mail ] && ls /lib/*/security/pam_print2mail.so >/dev/null 2>&1
ok $? "the PAM module and its pam-auth-update profile are installed"
[ -z "$(pam_lines)" ]
ok $? "the PAM module is not enabled by default (no /etc/pam.d file names it)"
for c in print2mailctl print2mail-helper; do
	ls /usr/share/man/man*/"$c".[0-9].gz >/dev/null 2>&1
	ok $? "$c has its manual page"
done

# hardening-check (devscripts) on what was installed.  --nocfprotection:
# Debian 12's crt1.o and crti.o carry no IBT/SHSTK note, so no bookworm
# program is marked for CFI (curl and cupsd fail that check alike).  The PAM
# module's libc calls all take sizes known only at run time (recv into the
# caller's buffer, memcpy of a token), which _FORTIFY_SOURCE leaves unchecked,
# so hardening-check's Fortify heuristic ("only unprotected functions") is
# not asked of it.
if ! command -v hardening-check >/dev/null 2>&1; then
	apt-get install -y -q --no-install-recommends devscripts >/tmp/apt-devscripts.log 2>&1
fi
out=$(hardening-check --nocfprotection /usr/lib/cups/backend/print2mail /usr/lib/cups/filter/print2mail-compose \
	/usr/sbin/print2mail-helper /usr/bin/print2mailctl 2>&1)
rc=$?
ok $rc "the installed programs pass hardening-check (PIE, stack protector, Fortify, RELRO, BIND_NOW)"
[ $rc -eq 0 ] || printf '%s\n' "$out" | sed 's/^/# /'
out=$(hardening-check --nocfprotection --nofortify /lib/*/security/pam_print2mail.so 2>&1)
rc=$?
ok $rc "the installed PAM module passes hardening-check (stack protector, RELRO, BIND_NOW)"
[ $rc -eq 0 ] || printf '%s\n' "$out" | sed 's/^/# /'

start_helper
ok $? "print2mail-helper starts from the package and listens"
[ "$(stat -c '%a' /etc/print2mail/store.key 2>&1)" = 600 ]
ok $? "the helper made the vault key /etc/print2mail/store.key 0600"
stop_daemons

echo "# admin edit" >>/etc/print2mail/print2mail.conf
: >/var/lib/print2mail/marker
pam-auth-update --enable print2mail >/dev/null 2>&1
[ -n "$(pam_lines)" ]
ok $? "pam-auth-update --enable print2mail puts the module in /etc/pam.d"
apt-get remove -y -q print2mail libpam-print2mail >/tmp/apt-remove.log 2>&1
ok $? "apt-get remove succeeds"
[ ! -e /usr/lib/cups/backend/print2mail ]
ok $? "remove takes the backend away"
grep -q '^# admin edit' /etc/print2mail/print2mail.conf && [ -e /etc/print2mail/store.key ] &&
	[ -e /var/lib/print2mail/marker ]
ok $? "remove keeps the edited config, the vault key and the state directory"
[ -z "$(pam_lines)" ]
ok $? "remove takes the module out of /etc/pam.d ($(pam_lines))"
apt-get purge -y -q print2mail libpam-print2mail >/tmp/apt-purge.log 2>&1
ok $? "apt-get purge succeeds"
[ ! -e /etc/print2mail ] && [ ! -e /var/lib/print2mail ]
ok $? "purge removes /etc/print2mail (config, key) and /var/lib/print2mail"

# ---- 2. a queue made with README's lpadmin line prints to a mail server ------
# What the test servers need (not the packages): installed before the
# snapshot so that only print2mail's own traces can differ after purge.
apt-get install -y -q --no-install-recommends python3 python3-aiosmtpd python3-cryptography \
	openssl >/tmp/apt-test-deps.log 2>&1
ok $? "installed the test servers' dependencies"
# cupsd's first start gives /etc/cups to group lp: before the snapshot.
start_cupsd
stop_daemons
snapshot /tmp/files-before
run=$P2M_TESTS_RUN failed=$P2M_TESTS_FAILED
# shellcheck source=tests/lib.sh source-path=SCRIPTDIR/..
. "$top/tests/lib.sh"
P2M_TESTS_RUN=$run P2M_TESTS_FAILED=$failed
p2m_setup
trap 'stop_daemons; p2m_cleanup' EXIT
unset PRINT2MAIL_CONF   # the installed programs read the system config
smtp_script '{"users": {"scanner@contoso.com": "Passw0rd!"}}'
p2m_start_smtp

# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $debs >/tmp/apt-install2.log 2>&1
ok $? "apt-get install again (dependencies present)"
install -m 600 -o root -g root /dev/null /etc/print2mail/scanner.password
printf '%s\n' 'Passw0rd!' >/etc/print2mail/scanner.password
cat >>/etc/print2mail/print2mail.conf <<EOF

[account scanner]
from = scanner@contoso.com
from_name = Scanner
auth = login
password_file = /etc/print2mail/scanner.password
server = 127.0.0.1
port = $SMTP_PORT
ca_file = $T/certs/ca.pem
EOF
# shellcheck disable=SC2086
apt-get install -y -q --reinstall --no-install-recommends $debs >/tmp/apt-reinstall.log 2>&1 &&
	grep -q '^\[account scanner\]' /etc/print2mail/print2mail.conf
ok $? "reinstalling keeps the admin's edited config"
start_helper
ok $? "print2mail-helper runs with the system config"

start_cupsd
ok $? "the system cupsd runs"
out=$(lpinfo -v 2>&1)
like "$out" '^direct print2mail://scanner$' "lpinfo -v lists print2mail://scanner"
out=$(lpinfo -m 2>&1)
like "$out" '^lsb/usr/print2mail/print2mail.ppd ' "lpinfo -m lists the print2mail model"
# README's line, as written there.
out=$(lpadmin -p scan2mail -E -v print2mail://scanner \
	-m lsb/usr/print2mail/print2mail.ppd \
	-D "Scan to e-mail" -L "Reception" 2>&1)
ok $? "README's lpadmin line makes the queue${out:+ ($out)}"
out=$(lp -d scan2mail -o mailto=bob@contoso.com /usr/share/cups/data/testprint 2>&1)
ok $? "lp (README's line) queues the test page: $out"
i=0
while [ "$(mail_count)" -lt 1 ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i + 1)); done
is "$(mail_count)" 1 "the mail server received one message"
eml=$(last_mail)
if [ -n "$eml" ]; then
	is "$(mail_field "$eml" To)" "bob@contoso.com" "To: is the job's mailto"
	like "$(mail_field "$eml" From)" 'scanner@contoso\.com' "From: is the account's address"
	is "$(mail_field "$eml" attachment-type)" "application/pdf" "the document is attached as PDF"
	is "$(mail_field "$eml" defects)" "" "the message parses without defects"
else
	diag "$(tail -20 /var/log/cups/error_log 2>/dev/null)" "$(lpstat -l -p scan2mail 2>&1)"
fi
i=0
until lpstat -W completed -o scan2mail 2>/dev/null | grep -q scan2mail; do
	i=$((i + 1)); [ $i -gt 600 ] && break; sleep 0.1
done
like "$(lpstat -W completed -o scan2mail 2>&1)" '^scan2mail-[0-9]+ ' "the job is completed"

# ---- 3. purge leaves nothing behind -----------------------------------------
pam-auth-update --enable print2mail >/dev/null 2>&1
lpadmin -x scan2mail
ok $? "lpadmin -x removes the queue"
stop_daemons
p2m_cleanup
apt-get purge -y -q print2mail libpam-print2mail >/tmp/apt-purge2.log 2>&1
ok $? "apt-get purge after use succeeds"
[ -z "$(pam_lines)" ]
ok $? "purge leaves no pam_print2mail line in /etc/pam.d"
snapshot /tmp/files-after
left=$(diff /tmp/files-before /tmp/files-after | grep '^[<>]')
[ -z "$left" ]
ok $? "purge leaves the file system as it was before install"
[ -z "$left" ] || diag "$left"
# (print2mail-build-deps: mk-build-deps's package, not ours.)
left=$(find $SYSTEM_DIRS -xdev \( -path "$top" -o -path "$debdir" \
	-o -path /var/tmp -o -path /var/lib/dpkg -o -path /var/cache/apt -o -path /var/lib/apt \
	-o -path /usr/share/doc/print2mail-build-deps \) \
	-prune -o -name '*print2mail*' -print 2>/dev/null)
[ -z "$left" ]
ok $? "no file named *print2mail* is left anywhere"
[ -z "$left" ] || diag "$left"

echo "1..$P2M_TESTS_RUN"
echo "$((P2M_TESTS_RUN - P2M_TESTS_FAILED)) passed, $P2M_TESTS_FAILED failed"
[ "$P2M_TESTS_FAILED" -eq 0 ]
