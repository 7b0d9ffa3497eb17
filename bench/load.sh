#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# load.sh - a burst of jobs from several queues to one mailbox, every backend
# started at once as cupsd would start them: are all delivered, does the
# mailbox stay within Microsoft's limits, how fast, how much memory.
#
# Usage: bench/load.sh [BUILDDIR] [JOBS] [QUEUES]    (default: . 60 3)
#
# The local M365-like server enforces what Microsoft does: a 4th concurrent
# session of the mailbox gets 432 4.3.2 at the end of DATA, a 31st message
# in 60 s gets 554 5.2.0 SubmissionQuotaExceeded.  Documents go from 5 KB
# to 10 MB (every 10th job 10 MB).  The account keeps print2mail's defaults
# (max_connections 3, max_messages_per_minute 30).  Prints key=value lines:
#   jobs delivered failed_jobs quota_refusals thread_refusals peak_connections
#   seconds jobs_per_minute share_of_pacing_limit (jobs a minute / 30)
#   rss_max_kb rss_median_kb (peak RSS of one backend process)
# and exits 1 when a job was lost or a limit was broken.  LOAD_SIZES="5000 ..."
# replaces the document sizes (bytes, used in turn).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=$(cd "$here/.." && pwd)
top_builddir=$(cd "${1:-.}" && pwd)
JOBS=${2:-60}
QUEUES=${3:-3}
export top_srcdir top_builddir
[ -x "$top_builddir/backend/print2mail" ] || { echo "no $top_builddir/backend/print2mail: build first, or give BUILDDIR" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time is needed (apt-get install time)" >&2; exit 2; }
. "$top_srcdir/tests/lib.sh"
p2m_setup

PW='load-Passw0rd'
smtp_script "{\"users\": {\"scanner@contoso.com\": \"$PW\"}, \"max_connections_per_user\": 3, \"messages_per_window\": 30, \"quota_window\": 60}"
p2m_start_smtp
write_secret "$T/password" "$PW"
write_global
# LOAD_ACCOUNT_LINES: extra "key = value" lines for the account, one per line
# (the test turns pacing off with it to see the server's quota bite).
extra=()
while IFS= read -r l; do [ -n "$l" ] && extra+=("$l"); done <<<"${LOAD_ACCOUNT_LINES:-}"
write_account scanner "from = scanner@contoso.com" "password_file = $T/password" ${extra[@]+"${extra[@]}"}

read -r -a sizes <<<"${LOAD_SIZES:-5000 50000 200000 1000000 3000000 500000 20000 100000 2000000 10000000}"
for s in "${sizes[@]}"; do make_pdf "$T/doc-$s.pdf" "$s"; done

t0=$(date +%s.%N)
pids=""
for j in $(seq 1 "$JOBS"); do
	s=${sizes[$(((j - 1) % ${#sizes[@]}))]}
	q="scan$(((j - 1) % QUEUES + 1))"
	mkdir -p "$T/job$j"
	(
		set +e   # a refused job is counted, not the end of the bench
		T="$T/job$j"
		PRINTER=$q P2M_WRAPPER="/usr/bin/time -f %M -o $T/rss" \
			run_backend "print2mail://scanner?to=bob@contoso.com" "$j" alice "load $j" "" "$T/../doc-$s.pdf"
		echo "$BACKEND_RC" >"$T/rc"
	) &
	pids="$pids $!"
done
wait $pids || true
t1=$(date +%s.%N)

delivered=$(mail_count)
failed=0
for j in $(seq 1 "$JOBS"); do [ "$(cat "$T/job$j/rc" 2>/dev/null)" = 0 ] || failed=$((failed + 1)); done
quota=$(grep -c '"quota_refused"' "$SPOOL/sessions.jsonl" || true)
threads=$(grep -c '432 4.3.2' "$SPOOL/sessions.jsonl" || true)
peak=$("$PYTHON3" -c 'import json,sys; print(json.load(open(sys.argv[1]))["peak"])' "$SPOOL/connections.json")
rss=$(grep -h '^[0-9]*$' "$T"/job*/rss | sort -n)
awk -v t0="$t0" -v t1="$t1" -v n="$JOBS" -v d="$delivered" -v f="$failed" -v q="$quota" -v th="$threads" \
    -v p="$peak" -v rmax="$(echo "$rss" | tail -n 1)" -v rmed="$(echo "$rss" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')" '
BEGIN {
	s = t1 - t0
	printf "jobs=%d\ndelivered=%d\nfailed_jobs=%d\nquota_refusals=%d\nthread_refusals=%d\npeak_connections=%d\n", n, d, f, q, th, p
	# against the limit: 30 messages a minute
	printf "seconds=%.1f\njobs_per_minute=%.1f\nshare_of_pacing_limit=%.2f\n", s, n * 60 / s, (n * 60 / s) / 30
	printf "rss_max_kb=%d\nrss_median_kb=%d\n", rmax, rmed
}'
[ "$delivered" -eq "$JOBS" ] && [ "$failed" -eq 0 ] && [ "$quota" -eq 0 ] && [ "$threads" -eq 0 ] && [ "$peak" -le 3 ]
