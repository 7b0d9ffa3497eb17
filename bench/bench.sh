#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# bench.sh - wall time and peak memory of the backend against curl sending the same message to the same local server.
#
# Usage: bench/bench.sh [BUILDDIR] [SIZES-MB...]      (default: . and "4 64")
#
# For each size it makes a PDF, then over one local M365-like server (STARTTLS,
# AUTH LOGIN, tests/servers/m365smtp.py) it times:
#   backend  - the backend composing the message from the PDF (base64, streamed)
#   backend> - the backend passing the already composed message through
#              (message/rfc822, as after the print2mail-compose filter)
#   curl     - curl sending that same composed message (-T file)
#   graph    - the backend with transport = graph (sendMail, or draft + upload session)
# and prints the median wall time of BENCH_RUNS runs (default 5, the senders
# taking turns), the highest peak RSS and the ratios backend/curl.  Memory must not
# grow with the document: compare the 4 MB and 64 MB rows.  Peak RSS comes
# from /usr/bin/time -v (Debian package "time") or, without it, from Python's
# resource.getrusage(RUSAGE_CHILDREN).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=$(cd "$here/.." && pwd)
top_builddir=$(cd "${1:-.}" && pwd)
[ $# -gt 0 ] && shift
SIZES=${*:-"4 64"}
RUNS=${BENCH_RUNS:-5}
export top_srcdir top_builddir
[ -x "$top_builddir/backend/print2mail" ] || { echo "no $top_builddir/backend/print2mail: build first, or give BUILDDIR" >&2; exit 2; }
command -v curl >/dev/null || { echo "curl is needed (apt-get install curl)" >&2; exit 2; }
. "$top_srcdir/tests/lib.sh"
p2m_setup

PW='bench-Passw0rd'
smtp_script "{\"users\": {\"scanner@contoso.com\": \"$PW\"}}"
p2m_start_smtp
write_secret "$T/password" "$PW"
write_global
write_account scanner "from = scanner@contoso.com" "password_file = $T/password"

# measure OUT CMD...: run CMD, write "WALL_SECONDS MAXRSS_KB" to OUT.
if [ -x /usr/bin/time ]; then
	METER="/usr/bin/time -v -o $T/time.raw"
	measured() {
		awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i] }
		            /Maximum resident set size/ { r = $2 } END { printf "%.2f %d\n", s, r }' "$T/time.raw"
	}
	HOW="/usr/bin/time -v"
else
	cat >"$T/meter.py" <<'PY'
import resource, subprocess, sys, time
t = time.monotonic()
rc = subprocess.call(sys.argv[2:])
wall = time.monotonic() - t
with open(sys.argv[1], "w") as f:
    f.write("%.2f %d\n" % (wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
sys.exit(rc)
PY
	METER="/usr/bin/python3 $T/meter.py $T/time.raw"
	measured() { cat "$T/time.raw"; }
	HOW="python resource.getrusage"
fi

row() { printf '%-8s %7s MB %9s s %10s MB %s\n' "$1" "$2" "$3" "$4" "${5:+($5)}"; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

echo "# print2mail bench: $(nproc) CPU, $(uname -r), peak RSS by $HOW, median wall of $RUNS runs (BENCH_RUNS)"
printf '%-8s %10s %11s %13s %s\n' "sender" "document" "wall" "peak RSS" "(every run's wall)"
# One run of each sender in turn, RUNS times: the local Python server's
# own time varies by a quarter from one message to the next, so a single
# run cannot tell 5 % apart.  A job id per run: one that was delivered is
# reported, not sent again.
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
maxof() { printf '%s\n' "$@" | sort -n | tail -n 1; }
for size in $SIZES; do
	make_pdf "$T/doc.pdf" $((size * 1024 * 1024))
	bws=() brs=() pws=() prs=() cws=() crs=()
	for run in $(seq "$RUNS"); do
		P2M_WRAPPER="$METER" run_backend "print2mail://scanner?to=bob@contoso.com" "1${size}0$run" bench "bench $size MB" "" "$T/doc.pdf"
		[ "$BACKEND_RC" -eq 0 ] || { echo "backend failed: $BACKEND_ERR" >&2; exit 1; }
		read -r w r <<<"$(measured)"; bws+=("$w"); brs+=("$r")
		cp "$(last_mail)" "$T/msg.eml"   # the composed message, byte for byte as the server got it

		n=$(mail_count)
		P2M_WRAPPER="$METER" CONTENT_TYPE=message/rfc822 run_backend "print2mail://scanner" "2${size}0$run" bench "t" "" "$T/msg.eml"
		[ "$BACKEND_RC" -eq 0 ] || { echo "backend (composed input) failed: $BACKEND_ERR" >&2; exit 1; }
		[ "$(mail_count)" -gt "$n" ] || { echo "backend (composed input) sent nothing" >&2; exit 1; }
		read -r w r <<<"$(measured)"; pws+=("$w"); prs+=("$r")

		$METER curl -sS --ssl-reqd --tlsv1.2 --cacert "$T/certs/ca.pem" "smtp://127.0.0.1:$SMTP_PORT" \
			--user "scanner@contoso.com:$PW" --login-options AUTH=LOGIN \
			--mail-from scanner@contoso.com --mail-rcpt bob@contoso.com -T "$T/msg.eml"
		read -r w r <<<"$(measured)"; cws+=("$w"); crs+=("$r")
		cmp -s "$T/msg.eml" "$(last_mail)" || { echo "curl's copy differs from the composed message" >&2; exit 1; }
		rm -f "$SPOOL"/*.eml
	done
	bw=$(median "${bws[@]}") br=$(maxof "${brs[@]}") pw=$(median "${pws[@]}") pr=$(maxof "${prs[@]}")
	cw=$(median "${cws[@]}") cr=$(maxof "${crs[@]}")
	row backend "$size" "$bw" "$(mb "$br")" "${bws[*]}"
	row "backend>" "$size" "$pw" "$(mb "$pr")" "${pws[*]}"
	row curl "$size" "$cw" "$(mb "$cr")" "${cws[*]}"
	echo "# $size MB: backend/curl wall $(ratio "$bw" "$cw"), RSS $(ratio "$br" "$cr"); composed-input backend/curl wall $(ratio "$pw" "$cw"), RSS $(ratio "$pr" "$cr")"
done

# ---- transport = graph: the same documents through the Graph-like server ----
# (tests/servers/graphd.py; large ones take the draft + upload session path).
# The message is spooled to an unnamed temporary file, so RSS must stay flat.
pids=$P2M_PIDS
. "$top_srcdir/tests/integration/graph-lib.sh"
P2M_PIDS=$pids
tokend_config "{\"clients\": {\"$GCLIENT\": {\"secret\": \"$GSECRET\", \"mailbox\": \"scanner@contoso.com\"}}}"
p2m_start_tokend
p2m_start_graphd
write_secret "$T/graph.secret" "$GSECRET"
graph_conf "max_message_size = 150M"
echo "# transport = graph"
for size in $SIZES; do
	make_pdf "$T/doc.pdf" $((size * 1024 * 1024))
	P2M_WRAPPER="$METER" run_backend "print2mail://scanner?to=bob@contoso.com" "3$size" bench "bench $size MB" "" "$T/doc.pdf"
	[ "$BACKEND_RC" -eq 0 ] || { echo "backend (graph) failed: $BACKEND_ERR" >&2; exit 1; }
	read -r gw gr <<<"$(measured)"
	row graph "$size" "$gw" "$(mb "$gr")"
	rm -f "$SPOOL"/*.eml
done
