# SPDX-License-Identifier: Apache-2.0
# tests/cups-lib.sh - a private root cupsd for integration tests, with the
# built print2mail backend, filter, PPD and help page installed the way
# `make install` places them, and helpers to read what an admin sees (IPP,
# lpstat, web UI).  Source it after tests/lib.sh:
#
#   . "$top_srcdir/tests/lib.sh"; . "$top_srcdir/tests/cups-lib.sh"
#   cups_require; p2m_setup; cups_setup; cups_install_print2mail; cups_start
#
# Why root: cupsd runs a 0700 backend as root only when cupsd itself is root,
# keeps AUTH_* job credentials only as root, and enforces the ownership and
# mode rules of production (/work/shared/reference/cups.md §1.4, §4).  The
# private cupsd never touches the system one: its own ServerRoot, StateDir,
# Printcap, spool, cache and logs under $CUPS_BASE, a loopback port chosen at
# run time, and CUPS_SERVER exported so lp/lpstat/lpadmin talk to it only.

CUPS_SYSBIN=/usr/lib/cups
CUPS_SYSDATA=/usr/share/cups
CUPS_PID=""

# cups_require: skip the whole test unless we can run a root cupsd.
cups_require() {
	[ "$(id -u)" = 0 ] || skip_all "needs root"
	[ -x /usr/sbin/cupsd ] || skip_all "cupsd missing (scripts/deps.sh installs it)"
	command -v ipptool >/dev/null 2>&1 || skip_all "ipptool missing (cups-ipp-utils)"
	command -v curl >/dev/null 2>&1 || skip_all "curl missing"
	[ -x "$CUPS_SYSBIN/filter/pdftopdf" ] || skip_all "cups-filters missing"
	id lp >/dev/null 2>&1 || skip_all "no lp user"
}

# cups_free_port: a loopback TCP port nobody listens on right now.
cups_free_port() {
	"$PYTHON3" -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# cups_setup: the directory tree and both configuration files under
# $T/cups (CUPS_BASE).  $T is 0755 (p2m_setup) so the lp user reaches it.
cups_setup() {
	CUPS_BASE="$T/cups"
	local d f
	mkdir -p "$CUPS_BASE"
	chmod 0755 "$CUPS_BASE"
	(
		umask 022
		cd "$CUPS_BASE" || exit 1
		mkdir -p etc/ppd bin/backend bin/filter spool/tmp cache state log out \
			share/model doc-root/help
		# ServerBin: the system's helpers and filters, one link each, so that
		# bin/backend and bin/filter hold what we install.
		for d in daemon cgi-bin notifier monitor driver; do
			ln -sfn "$CUPS_SYSBIN/$d" "bin/$d"
		done
		for f in "$CUPS_SYSBIN"/filter/*; do ln -sf "$f" bin/filter/; done
		# DataDir: the system's (mime types, templates, locales) except
		# model/, where cups-driverd looks for our PPD (`lpinfo -m`).
		for f in "$CUPS_SYSDATA"/*; do
			[ "$(basename "$f")" = model ] || ln -sfn "$f" share/
		done
		# DocumentRoot: a copy of the system's pages (cupsd serves no
		# symlinks there: "Symlinks ... are not allowed") plus our help
		# page, which the help CGI indexes from here.
		cp -R "$CUPS_SYSDATA"/doc-root/. doc-root/
	) || { echo "Bail out! cannot build the cupsd tree"; exit 1; }
	chown lp:lp "$CUPS_BASE/out"
	chmod 0777 "$CUPS_BASE/out"
	CUPS_PORT=$(cups_free_port)
	cups_write_conf
}

# cups_write_conf: cupsd.conf and cups-files.conf for CUPS_PORT.
cups_write_conf() {
	local b="$CUPS_BASE"
	# SetEnv belongs in cups-files.conf (cupsd 2.4 ignores it in cupsd.conf
	# with "Please move ...").  cupsd passes only its own variables to
	# filters and backends; these point print2mail at the test config,
	# catalogues and syslog socket.
	{
		cat <<EOF
ServerRoot $b/etc
ServerBin $b/bin
DataDir $b/share
DocumentRoot $b/doc-root
RequestRoot $b/spool
TempDir $b/spool/tmp
CacheDir $b/cache
StateDir $b/state
AccessLog $b/log/access_log
ErrorLog $b/log/error_log
PageLog $b/log/page_log
Printcap $b/etc/printcap
User lp
Group lp
SystemGroup root lpadmin
SetEnv PRINT2MAIL_CONF ${PRINT2MAIL_CONF:-$T/print2mail.conf}
SetEnv PRINT2MAIL_LOCALEDIR ${PRINT2MAIL_LOCALEDIR}
EOF
		if [ -n "${P2M_SYSLOG_SOCKET:-}" ]; then
			echo "SetEnv PRINT2MAIL_SYSLOG_SOCKET $P2M_SYSLOG_SOCKET"
		fi
	} >"$b/etc/cups-files.conf"
	cat >"$b/etc/cupsd.conf" <<EOF
LogLevel debug
LogTimeFormat usecs
MaxLogSize 0
Listen 127.0.0.1:$CUPS_PORT
Listen $b/cups.sock
Browsing No
BrowseLocalProtocols none
WebInterface Yes
DefaultAuthType Basic
PreserveJobHistory Yes
PreserveJobFiles No
JobRetryInterval 2
JobRetryLimit 3
JobKillDelay 5
# Tests only: every operation allowed without authentication, job details
# visible to everyone; loopback clients always pass address checks.
<Policy default>
  JobPrivateAccess all
  JobPrivateValues none
  SubscriptionPrivateAccess all
  SubscriptionPrivateValues none
  <Limit All>
    Order deny,allow
  </Limit>
</Policy>
EOF
	chmod 0640 "$b/etc/cupsd.conf" "$b/etc/cups-files.conf"
}

# cups_install KIND SRC NAME MODE: put a program in ServerBin/KIND
# (backend|filter) root-owned with MODE, as `make install` does.  cupsd
# refuses programs that are not root-owned or are group/other-writable,
# and runs a backend as root only when MODE lacks g+w, o+w and o+x.
cups_install() {
	install -o root -g root -m "$4" "$2" "$CUPS_BASE/bin/$1/$3" ||
		{ echo "Bail out! cannot install $2"; exit 1; }
}

# cups_install_print2mail: the built backend (0700: runs as root, drops to
# lp), filter (0755), PPD (model dir, for lpinfo -m and lpadmin -m) and help
# page.  Sources can be overridden (demo.sh passes a DESTDIR install).
cups_install_print2mail() {
	: "${P2M_FILTER:=$top_builddir/filter/print2mail-compose}"
	: "${P2M_PPD:=$top_builddir/conf/print2mail.ppd}"
	: "${P2M_HELP:=$top_builddir/conf/print2mail.html}"
	cups_install backend "$P2M_BACKEND" print2mail 0700
	[ -x "$P2M_FILTER" ] && cups_install filter "$P2M_FILTER" print2mail-compose 0755
	mkdir -p "$CUPS_BASE/share/model/print2mail"
	install -m 0644 "$P2M_PPD" "$CUPS_BASE/share/model/print2mail/print2mail.ppd"
	[ -f "$P2M_HELP" ] && install -m 0644 "$P2M_HELP" "$CUPS_BASE/doc-root/help/print2mail.html"
	return 0
}

# cups_start: check the configuration, start cupsd in the foreground (its
# PID is ours to stop) and wait until it answers.
cups_start() {
	local b="$CUPS_BASE" i=0
	/usr/sbin/cupsd -t -c "$b/etc/cupsd.conf" -s "$b/etc/cups-files.conf" \
		>"$b/log/cupsd-t.out" 2>&1 ||
		{ echo "Bail out! cupsd -t: $(cat "$b/log/cupsd-t.out")"; exit 1; }
	/usr/sbin/cupsd -f -c "$b/etc/cupsd.conf" -s "$b/etc/cups-files.conf" \
		>"$b/log/stdout" 2>&1 &
	CUPS_PID=$!
	trap 'cups_stop; p2m_cleanup' EXIT
	CUPS_SERVER="127.0.0.1:$CUPS_PORT"
	export CUPS_SERVER
	until lpstat -r 2>/dev/null | grep -q 'scheduler is running'; do
		i=$((i + 1))
		if [ $i -gt 200 ] || ! kill -0 "$CUPS_PID" 2>/dev/null; then
			echo "Bail out! cupsd did not start: $(tail -5 "$b/log/error_log" 2>/dev/null)"
			exit 1
		fi
		sleep 0.05
	done
}

# cups_stop: stop our cupsd (it stops its running jobs first).
cups_stop() {
	[ -n "$CUPS_PID" ] || return 0
	local i=0
	kill -TERM "$CUPS_PID" 2>/dev/null
	while kill -0 "$CUPS_PID" 2>/dev/null && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -KILL "$CUPS_PID" 2>/dev/null
	wait "$CUPS_PID" 2>/dev/null
	CUPS_PID=""
	[ -n "${P2M_KEEP:-}" ] && echo "# cupsd log: $CUPS_BASE/log/error_log" >&2
	return 0
}

# cups_add_queue NAME URI [lpadmin args...]: an enabled queue with the
# print2mail model (lpadmin warns that drivers are deprecated: kept in
# $T/lpadmin.err).
cups_add_queue() {
	local name="$1" uri="$2"
	shift 2
	lpadmin -p "$name" -E -v "$uri" -m "$(cups_model)" "$@" 2>"$T/lpadmin.err"
}

# cups_model: the print2mail model name as `lpinfo -m` lists it
# (print2mail/print2mail.ppd here, lsb/usr/print2mail/print2mail.ppd when
# installed in /usr/share/ppd).
cups_model() { lpinfo -m 2>/dev/null | awk '/print2mail\.ppd/ { print $1; exit }'; }

# ---- what an admin sees -----------------------------------------------------
# ipp_attrs URI ATTR...: "name (type) = value" lines from Get-Printer- or
# Get-Job-Attributes over HTTP on the loopback port, as any IPP client sees.
ipp_attrs() {
	local uri="$1" op target a
	shift
	case "$uri" in
	*/printers/*) op=Get-Printer-Attributes target=printer-uri ;;
	*) op=Get-Job-Attributes target=job-uri ;;
	esac
	{
		echo "{ OPERATION $op"
		echo '  GROUP operation-attributes-tag'
		echo '  ATTR charset attributes-charset utf-8'
		echo '  ATTR naturalLanguage attributes-natural-language en'
		echo "  ATTR uri $target \$uri"
		echo '  ATTR name requesting-user-name root'
		echo '  ATTR keyword requested-attributes all'
		for a in "$@"; do echo "  DISPLAY $a"; done
		echo '}'
	} >"$T/ipp-get.test"
	ipptool -t "$uri" "$T/ipp-get.test" 2>/dev/null | sed -n 's/^        //p'
}

# ipp_value URI ATTR: the value(s) of one attribute, "" when absent.
ipp_value() {
	ipp_attrs "$1" "$2" | sed -n "s/^$2 ([^)]*) = //p"
}
job_attr() { ipp_value "ipp://127.0.0.1:$CUPS_PORT/jobs/$1" "$2"; }
printer_attr() { ipp_value "ipp://127.0.0.1:$CUPS_PORT/printers/$1" "$2"; }

# job_id_of "request id is q-12 (1 file(s))": 12
# lp translates its "request id is QUEUE-N (1 file(s))" line (ru, zh_CN ...):
# take the last "-N" of the output, which is the job id in every language.
job_id_of() { printf '%s\n' "$1" | grep -oE -- '-[0-9]+' | tail -n 1 | tr -d -; }

# cups_submit QUEUE FILE [lp args...]: print, set JOB to the job id.
cups_submit() {
	local q="$1" f="$2" out
	shift 2
	out=$(lp -d "$q" "$@" "$f" 2>&1)
	JOB=$(job_id_of "$out")
	[ -n "$JOB" ] || diag "lp failed: $out"
}

# wait_job_state ID STATE...: poll (bounded, 30 s) until the job's
# job-state is one of STATE (IPP keywords: pending, pending-held, processing,
# processing-stopped, canceled, aborted, completed).  Prints the last state
# seen; returns 1 on timeout.
wait_job_state() {
	local id="$1" st i=0
	shift
	while [ $i -lt 300 ]; do
		st=$(job_attr "$id" job-state)
		case " $* " in *" $st "*)
			echo "$st"
			return 0
			;;
		esac
		sleep 0.1
		i=$((i + 1))
	done
	echo "$st"
	return 1
}

# wait_printer_state QUEUE STATE: poll (bounded) for idle|processing|stopped.
wait_printer_state() {
	local st i=0
	while [ $i -lt 300 ]; do
		st=$(printer_attr "$1" printer-state)
		[ "$st" = "$2" ] && { echo "$st"; return 0; }
		sleep 0.1
		i=$((i + 1))
	done
	echo "$st"
	return 1
}

# web_text PATH: a web UI page with the markup removed, one line per line.
web_text() {
	curl -fsS "http://127.0.0.1:$CUPS_PORT$1" | sed -e 's/<[^>]*>/ /g' -e 's/&quot;/"/g' \
		-e 's/&nbsp;/ /g' -e 's/&lt;/</g' -e 's/&gt;/>/g' -e 's/&amp;/\&/g' -e 's/  */ /g'
}

# cups_job_log ID: the cupsd log lines of one job.
cups_job_log() { grep "\[Job $1\]" "$CUPS_BASE/log/error_log"; }

# cups_job_said ID REGEX: the first of the job's cupsd log lines matching
# REGEX (what lpstat and the web UI showed on the way), or nothing.
cups_job_said() { cups_job_log "$1" | grep -E -- "$2" | head -n 1; }

# cups_job_end ID: wait (bounded, 90 s) until the job is completed or given
# up, and print its state.  pending-held is also cupsd's wait before a retry
# (JobRetryInterval), so it does not end the wait.
cups_job_end() {
	local i=0 st
	while [ $i -lt 900 ]; do
		st=$(job_attr "$1" job-state)
		case "$st" in completed | aborted | canceled | processing-stopped) break ;; esac
		sleep 0.1
		i=$((i + 1))
	done
	echo "$st"
}

# cups_stock_policy [FILE...]: replace the test's allow-everything policy in
# cupsd.conf (call after cups_setup, before cups_start) with the Location and
# Policy blocks of Debian's stock cupsd.conf (/usr/share/cups/cupsd.conf.default),
# then append each FILE (e.g. conf/cupsd-print2mail-policy.conf).  Admin
# operations then need an authenticated member of SystemGroup: run lpadmin as
# root through cupsd's domain socket (PeerCred), CUPS_SERVER=$CUPS_SOCKET.
cups_stock_policy() {
	local c="$CUPS_BASE/etc/cupsd.conf" f
	[ -r /usr/share/cups/cupsd.conf.default ] || skip_all "no /usr/share/cups/cupsd.conf.default"
	sed -i '/^# Tests only:/,$d' "$c"
	sed -n '/^<Location/,$p' /usr/share/cups/cupsd.conf.default >>"$c"
	for f in "$@"; do cat "$f" >>"$c"; done
	CUPS_SOCKET="$CUPS_BASE/cups.sock"
}
