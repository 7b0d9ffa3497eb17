#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# demo.sh - print2mail end to end on this machine, nothing left behind: build,
# install into a staging root, start a private cupsd and a local
# Microsoft-365-like SMTP server, print to a print2mail queue, show the mail
# that arrived, then show what an admin sees when Microsoft 365 refuses.
#
#   bash scripts/demo.sh                    # README's first command
#   bash scripts/demo.sh --keep             # leave cupsd and the files running
#   bash scripts/demo.sh --screenshot DIR   # also PNGs of the web UI (chromium)
#
# Needs root: cupsd runs the backend as root only when cupsd is root.  The
# system's cupsd, /etc/cups and /etc/print2mail are never touched.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/_build}
KEEP=""
SHOTS=""

heading() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
say() { printf '    %s\n' "$@"; }
indent() { sed 's/^/    | /'; }
die() { printf 'demo.sh: %s\n' "$*" >&2; exit 1; }

parse_args() {
	while [ $# -gt 0 ]; do
		case "$1" in
		--keep) KEEP=1 ;;
		--screenshot) SHOTS=${2:?--screenshot needs a directory}; shift ;;
		*) die "usage: $0 [--keep] [--screenshot DIR]" ;;
		esac
		shift
	done
}

install_deps() {
	heading "1. Debian packages (scripts/deps.sh)"
	bash "$top/scripts/deps.sh" ${SHOTS:+--screenshot} || die "could not install packages"
	say "all present"
}

build_it() {
	heading "2. Building in $build"
	if [ ! -x "$top/configure" ]; then
		(cd "$top" && ./autogen.sh >/dev/null 2>&1) || die "autogen.sh failed"
	fi
	mkdir -p "$build"
	if [ ! -f "$build/Makefile" ]; then
		(cd "$build" && "$top/configure" --prefix=/usr --sysconfdir=/etc \
			--localstatedir=/var >configure.out 2>&1) ||
			{ tail -20 "$build/configure.out"; die "configure failed"; }
	fi
	make -C "$build" -j"$(nproc 2>/dev/null || echo 2)" >"$build/make.out" 2>&1 ||
		{ tail -30 "$build/make.out"; die "build failed (log: $build/make.out)"; }
	say "built: backend/print2mail, filter/print2mail-compose, conf/print2mail.ppd"

	heading "3. make install DESTDIR=... (where CUPS looks for each piece)"
	STAGE="$T/root"
	make -C "$build" install DESTDIR="$STAGE" >"$T/install.out" 2>&1 ||
		{ tail -20 "$T/install.out"; die "make install failed"; }
	(cd "$STAGE" && find . \( -path '*print2mail*' -o -path '*backend/print2mail' \) \
		\( -type f -o -type l \) -printf '%m %u %p\n' | sed 's| \./| /|' | sort -k3) | indent
	P2M_BACKEND="$STAGE/usr/lib/cups/backend/print2mail"
	P2M_FILTER="$STAGE/usr/lib/cups/filter/print2mail-compose"
	P2M_PPD=$(find "$STAGE" -name print2mail.ppd | head -1)
	P2M_HELP=$(find "$STAGE" -name print2mail.html | head -1)
	PRINT2MAIL_LOCALEDIR="$STAGE/usr/share/locale"
	export PRINT2MAIL_LOCALEDIR
}

# The two accounts: "scanner" works, "contoso-legacy" is one the server refuses.
write_config() {
	write_secret "$T/scanner.password" "demo-password-1"
	write_secret "$T/legacy.password" "demo-password-2"
	write_global "helper_socket = $T/helper.sock"
	write_account scanner "from = scanner@contoso.com" "from_name = Scanner 3rd floor" \
		"password_file = $T/scanner.password"
	write_account contoso-legacy "from = legacy@contoso.com" "password_file = $T/legacy.password"
	smtp_script '{"users": {"scanner@contoso.com": "demo-password-1", "legacy@contoso.com": "demo-password-2"},
 "reject": [{"stage": "auth", "when_user": "legacy@contoso.com",
   "reply": "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information."}]}'
}

start_servers() {
	heading "4. A private cupsd and a local Microsoft-365-like SMTP server"
	p2m_start_syslog
	p2m_start_smtp
	write_config
	cups_setup
	cups_install_print2mail
	cups_start
	say "cupsd:  http://127.0.0.1:$CUPS_PORT/ (CUPS_SERVER=$CUPS_SERVER)" \
		"SMTP:   127.0.0.1:$SMTP_PORT, STARTTLS, answers like smtp.office365.com" \
		"config: $PRINT2MAIL_CONF (passwords in 0600 files beside it)"
}

add_queue() {
	heading "5. Adding the queue scan2mail"
	say "\$ lpinfo -v | grep print2mail      (the backend lists the configured accounts)"
	lpinfo -v 2>&1 | grep print2mail | indent
	say "\$ lpinfo -m | grep print2mail"
	lpinfo -m 2>&1 | grep print2mail | indent
	MODEL=$(cups_model)
	say "\$ lpadmin -p scan2mail -E -v print2mail://scanner -m $MODEL"
	lpadmin -p scan2mail -E -v print2mail://scanner -m "$MODEL" -D "Scan to e-mail" 2>&1 | indent
	lpstat -p scan2mail | indent
}

# show_mail EML ORIGINAL: headers and the attachment against the original.
show_mail() {
	"$PYTHON3" - "$1" "$2" <<'PY' | indent
import sys, email, hashlib, os
from email import policy
msg = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=policy.default)
for h in ("From", "To", "Subject", "Date", "Message-ID", "MIME-Version"):
    print("%-12s %s" % (h + ":", msg[h]))
body = msg.get_body(preferencelist=("plain",))
print("%-12s %s" % ("body:", body.get_content().strip()))
att = next(msg.iter_attachments())
data = att.get_content()
orig = open(sys.argv[2], "rb").read()
print("%-12s %s, %s" % ("attachment:", att.get_filename(), att.get_content_type()))
print("%-12s %8d bytes  sha256 %s" % ("  mailed", len(data), hashlib.sha256(data).hexdigest()))
print("%-12s %8d bytes  sha256 %s" % ("  original", len(orig), hashlib.sha256(orig).hexdigest()))
print("%-12s %s" % ("  identical:", "yes" if data == orig else "no"))
PY
}

print_sample() {
	local before st eml
	heading "6. Printing a document"
	make_pdf "$T/Quarterly report.pdf"
	before=$(mail_count)
	say "\$ lp -d scan2mail -o mailto=bob@contoso.com -t 'Quarterly report' 'Quarterly report.pdf'"
	cups_submit scan2mail "$T/Quarterly report.pdf" -o mailto=bob@contoso.com -t "Quarterly report"
	st=$(wait_job_state "$JOB" completed aborted canceled processing-stopped pending-held)
	lpstat -W completed -o scan2mail | indent
	[ "$st" = completed ] || { say "job $JOB is $st: $(job_attr "$JOB" job-printer-state-message)"; return 1; }
	eml=$(last_mail)
	[ "$(mail_count)" -gt "$before" ] || { say "no mail arrived"; return 1; }
	say "" "The server received $(basename "$eml"):"
	show_mail "$eml" "$T/Quarterly report.pdf"
	say "(On a queue with the model, CUPS's pdftopdf rewrites every PDF - same pages," \
		" same text - before print2mail-compose wraps it.  A raw queue sends the" \
		" file byte for byte:)"
	lpadmin -p scan2mail-raw -E -v print2mail://scanner 2>/dev/null
	before=$(mail_count)
	say "\$ lpadmin -p scan2mail-raw -E -v print2mail://scanner      (no model)"
	say "\$ lp -d scan2mail-raw -o mailto=bob@contoso.com -t 'Quarterly report' 'Quarterly report.pdf'"
	cups_submit scan2mail-raw "$T/Quarterly report.pdf" -o mailto=bob@contoso.com -t "Quarterly report"
	wait_job_state "$JOB" completed aborted canceled processing-stopped pending-held >/dev/null
	[ "$(mail_count)" -gt "$before" ] && show_mail "$(last_mail)" "$T/Quarterly report.pdf"
}

show_refusal() {
	local st
	heading "7. A queue whose account Microsoft 365 refuses"
	say "The server now answers AUTH for legacy@contoso.com with:" \
		"  535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. ..."
	lpadmin -p legacy2mail -E -v print2mail://contoso-legacy -m "$MODEL" -D "Legacy scanner" 2>/dev/null
	say "\$ lp -d legacy2mail -o mailto=bob@contoso.com -t 'Signed contract' 'Quarterly report.pdf'"
	cups_submit legacy2mail "$T/Quarterly report.pdf" -o mailto=bob@contoso.com -t "Signed contract"
	REFUSED_JOB=$JOB
	wait_printer_state legacy2mail stopped >/dev/null
	say "" "\$ lpstat -l -p legacy2mail"
	lpstat -l -p legacy2mail 2>&1 | sed -n '1,2p;/Alerts:/p' | indent
	say "" "\$ lpstat -W all -l -o legacy2mail"
	lpstat -W all -l -o legacy2mail 2>&1 | indent
	say "" "Web UI, http://127.0.0.1:$CUPS_PORT/printers/ (text of the page):"
	web_text /printers/ | grep -E -A2 'legacy2mail' | grep -v '^ *$' | head -4 | indent
	say "" "Web UI, http://127.0.0.1:$CUPS_PORT/jobs/:"
	web_text /jobs/ | grep -E -A6 'Signed contract' | grep -v '^[[:space:]]*$' | head -6 | indent
	[ -n "$SHOTS" ] && take_screenshots

	heading "8. The admin applies the fix, then: cupsenable legacy2mail"
	smtp_script '{"users": {"scanner@contoso.com": "demo-password-1", "legacy@contoso.com": "demo-password-2"}}'
	say "(the local server stops refusing, as Microsoft 365 does once SMTP AUTH is enabled)"
	say "\$ cupsenable legacy2mail"
	cupsenable legacy2mail
	st=$(wait_job_state "$REFUSED_JOB" completed aborted canceled processing-stopped pending-held)
	say "job legacy2mail-$REFUSED_JOB: $st; queue: $(printer_attr legacy2mail printer-state)," \
		"reasons: $(printer_attr legacy2mail printer-state-reasons)"
	say "mail: $(mail_field "$(last_mail)" Subject) -> $(mail_field "$(last_mail)" To)"
}

# take_screenshots: the web UI pages with the stopped queue, as PNGs.
take_screenshots() {
	local page name
	command -v chromium >/dev/null 2>&1 || { say "chromium missing: no screenshots"; return 0; }
	mkdir -p "$SHOTS"
	for page in printers:cups-stopped-queue jobs:cups-stopped-job; do
		name=${page#*:}
		chromium --headless --no-sandbox --disable-gpu --no-first-run \
			--disable-background-networking --disable-component-update --disable-sync \
			--disable-quic --user-data-dir="$(mktemp -d "$T/chromium.XXXXXX")" \
			--screenshot="$SHOTS/$name.png" --window-size=1280,800 \
			"http://127.0.0.1:$CUPS_PORT/${page%%:*}/" >"$T/chromium.log" 2>&1
		[ -s "$SHOTS/$name.png" ] && say "screenshot: $SHOTS/$name.png" ||
			say "screenshot of /${page%%:*}/ failed (see $T/chromium.log)"
	done
}

finish() {
	heading "9. Cleaning up"
	if [ -n "$KEEP" ]; then
		say "kept: export CUPS_SERVER=$CUPS_SERVER; web UI http://127.0.0.1:$CUPS_PORT/" \
			"files: $T; stop cupsd with: kill $CUPS_PID"
		CUPS_PID=""
		P2M_PIDS=""
		P2M_KEEP=1
	else
		say "stopping cupsd and the SMTP server, removing $T"
	fi
}

main() {
	parse_args "$@"
	[ "$(id -u)" = 0 ] || die "run as root (sudo $0): the private cupsd runs the backend as root"
	install_deps
	export top_srcdir="$top" top_builddir="$build" PYTHON3=/usr/bin/python3
	. "$top/tests/lib.sh"
	. "$top/tests/cups-lib.sh"
	p2m_setup # $T, the test CA, PRINT2MAIL_CONF, the cleanup trap
	trap 'cups_stop; p2m_cleanup' EXIT
	build_it
	start_servers
	add_queue
	print_sample
	show_refusal
	finish
}

main "$@"
