#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# faults-load.sh - 40 jobs at once from 3 queues to one mailbox, against a
# server that enforces Microsoft's limits (432 4.3.2 beyond 3 sessions, 554
# 5.2.0 beyond 30 messages in 60 s), with print2mail's default pacing: all
# delivered, never more than 3 connections, no refusal, and the time close
# to what 30 a minute allows.  The same burst with pacing off meets the
# quota refusal, so the test can fail.  Takes about 80 s by design.
set -u
. "$top_srcdir/tests/lib.sh"
command -v /usr/bin/time >/dev/null || skip_all "/usr/bin/time is needed"

val() { sed -n "s/^$1=//p" "$2"; }

LOAD_SIZES="5000 50000 200000 1000000 20000" bash "$top_srcdir/bench/load.sh" "$top_builddir" 40 3 >"${TMPDIR:-/tmp}/faults-load.$$" 2>&1
rc=$?
R="${TMPDIR:-/tmp}/faults-load.$$"
sed 's/^/# /' "$R"
is "$rc" 0 "paced burst: load.sh is content"
is "$(val delivered "$R")" 40 "paced burst: all 40 jobs delivered"
is "$(val failed_jobs "$R")" 0 "paced burst: every backend exited 0"
is "$(val quota_refusals "$R")" 0 "paced burst: no 554 5.2.0 quota refusal"
is "$(val thread_refusals "$R")" 0 "paced burst: no 432 4.3.2 thread limit refusal"
ok "$([ "$(val peak_connections "$R")" -le 3 ]; echo $?)" "paced burst: at most 3 connections at once"
# 40 jobs at 30 a minute: the last 10 go at the earliest 60 s after the first ones.
ok "$(awk -v s="$(val seconds "$R")" 'BEGIN { exit !(s >= 58) }'; echo $?)" "paced burst: the last jobs waited for the minute"
rm -f "$R"

LOAD_ACCOUNT_LINES="max_messages_per_minute = 0" LOAD_SIZES="5000" \
	bash "$top_srcdir/bench/load.sh" "$top_builddir" 40 3 >"${TMPDIR:-/tmp}/faults-load.$$" 2>&1
R="${TMPDIR:-/tmp}/faults-load.$$"
ok "$([ "$(val quota_refusals "$R")" -gt 0 ]; echo $?)" "unpaced burst: the server's quota refuses ($(val quota_refusals "$R") refusals): the check above can fail"
rm -f "$R"
done_testing
