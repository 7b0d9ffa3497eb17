#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# fuzz.sh - a fuzzing campaign: build every libFuzzer target with clang
# (-fsanitize=fuzzer,address,undefined), run each for MINUTES (default 20)
# from its saved corpus, merge the inputs that reach new coverage back into
# tests/fuzz/corpus/NAME/ (libFuzzer -merge=1), and print executions,
# coverage and crashes per target.  Crashing inputs are kept in
# $FUZZ_BUILD/crashes/ (default _build-fuzz): fix the bug, then commit the
# input to the corpus so make check replays it for ever.
#
#   scripts/fuzz.sh 20            # 20 minutes per target
#   TARGETS="reply token" scripts/fuzz.sh 5
#   JOBS=2 scripts/fuzz.sh 3      # two targets at a time
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=${FUZZ_BUILD:-$top/_build-fuzz}
minutes=${1:-20}
jobs=${JOBS:-1}
case "$minutes" in '' | *[!0-9]*) echo "usage: fuzz.sh [MINUTES]" >&2; exit 2 ;; esac
command -v clang >/dev/null || { echo "fuzz.sh: clang is needed (apt-get install clang)" >&2; exit 2; }

targets=${TARGETS:-$(cd "$top/tests/fuzz" && ls fuzz-*.c | sed 's/^fuzz-//; s/\.c$//')}
mkdir -p "$build/crashes" "$build/logs"
if [ ! -f "$build/Makefile" ]; then
	(cd "$top" && ./autogen.sh >/dev/null) || exit 1
	(cd "$build" && "$top/configure" --enable-fuzzers CC=clang >configure.out 2>&1) ||
		{ tail -20 "$build/configure.out"; exit 1; }
fi
nice make -C "$build" -j"$(nproc)" >"$build/make.out" 2>&1 && nice make -C "$build" fuzzers >>"$build/make.out" 2>&1 ||
	{ tail -30 "$build/make.out"; exit 1; }

# campaign NAME: one target's run and merge; writes logs/NAME.summary.
campaign() {
	local t="$1" bin="$build/tests/fuzz/fuzz-$t" corpus="$top/tests/fuzz/corpus/$t"
	local scratch log before after execs cov crashes
	scratch=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-$t.XXXXXX")
	log="$build/logs/$t.log"
	mkdir -p "$corpus"
	before=$(ls "$corpus" | wc -l)
	# New inputs go to the scratch directory first (the first one named);
	# the saved corpus is only read.
	nice "$bin" -max_total_time=$((minutes * 60)) -print_final_stats=1 -timeout=10 -rss_limit_mb=1024 \
		-artifact_prefix="$build/crashes/$t-" "$scratch" "$corpus" >"$log" 2>&1
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -n 1)
	# Keep only what adds coverage to the saved corpus.
	nice "$bin" -merge=1 "$corpus" "$scratch" >>"$log" 2>&1
	after=$(ls "$corpus" | wc -l)
	crashes=$(ls "$build/crashes" | grep -c "^$t-" || true)
	printf '%-10s %12s execs  %-22s corpus %4d -> %-4d crashes %d\n' "$t" "${execs:-?}" "${cov:-cov: ?}" \
		"$before" "$after" "$crashes" >"$build/logs/$t.summary"
	rm -rf "$scratch"
}

echo "# fuzz.sh: $minutes min per target, $(nproc) CPU, $(clang --version | head -n 1)"
running=0
for t in $targets; do
	[ -x "$build/tests/fuzz/fuzz-$t" ] || { echo "fuzz.sh: no fuzz-$t built" >&2; continue; }
	campaign "$t" &
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then wait -n; running=$((running - 1)); fi
done
wait
for t in $targets; do cat "$build/logs/$t.summary" 2>/dev/null; done
n=$(ls "$build/crashes" | wc -l)
[ "$n" -eq 0 ] || { echo "fuzz.sh: $n crashing input(s) in $build/crashes"; exit 1; }
