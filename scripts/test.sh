#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# test.sh - install what is missing, build, and run the whole test suite.
# README's second command; .ci/run calls it.  Ends with "N passed, N failed".
#
#   bash scripts/test.sh            # full suite (root: private cupsd, PAM)
#   BUILD=/tmp/p2m-build scripts/test.sh
#   SANITIZE=no scripts/test.sh     # skip the sanitizer pass (ASan/UBSan: unit, fuzz and helper
#                                   # tests; TSan: helper tests)
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/_build}
san_build=${SAN_BUILD:-$top/_build-asan}
tsan_build=${TSAN_BUILD:-$top/_build-tsan}
jobs=$(nproc 2>/dev/null || echo 2)

log() { printf '\n==> %s\n' "$*"; }
die() { printf 'test.sh: %s\n' "$*" >&2; echo "0 passed, 1 failed"; exit 1; }

log "installing build and test dependencies"
bash "$top/scripts/deps.sh" || die "could not install the Debian packages (see above)"

log "building in $build"
(cd "$top" && ./autogen.sh >/dev/null) || die "autogen.sh failed"
mkdir -p "$build"
(cd "$build" && "$top/configure" --prefix=/usr --sysconfdir=/etc --localstatedir=/var \
	--enable-werror >configure.out 2>&1) || { tail -30 "$build/configure.out"; die "configure failed"; }
tail -22 "$build/configure.out"
make -C "$build" -j"$jobs" >"$build/make.out" 2>&1 || { tail -40 "$build/make.out"; die "build failed"; }

log "running make check"
make -C "$build" -j"$jobs" check >"$build/check.out" 2>&1
check_rc=$?
grep -E '^(PASS|FAIL|ERROR|XPASS|XFAIL|SKIP):' "$build/check.out" | grep -Ev '^PASS:' | head -100
for f in $(grep -lE ':test-result: (FAIL|ERROR|XPASS)' $(find "$build" -name '*.trs') 2>/dev/null); do
	echo "---- ${f%.trs}.log (tail)"
	tail -40 "${f%.trs}.log"
done

# Sanitizers over the pure code: unit tests and fuzz corpora.
if [ "${SANITIZE:-yes}" = yes ]; then
	log "unit and fuzz tests under AddressSanitizer + UBSan in $san_build"
	mkdir -p "$san_build"
	if (cd "$san_build" && "$top/configure" --enable-sanitizers --enable-werror >configure.out 2>&1) &&
	   make -C "$san_build" -j"$jobs" >"$san_build/make.out" 2>&1; then
		tests=$(cd "$san_build" && make -s print-unit-tests 2>/dev/null)
		make -C "$san_build" -j"$jobs" check TESTS="$tests" >"$san_build/check.out" 2>&1
		# The helper's concurrency (issue 9): its integration tests too.
		tests=$(cd "$san_build" && make -s print-helper-tests 2>/dev/null)
		make -C "$san_build" -j"$jobs" check TESTS="$tests" >>"$san_build/check.out" 2>&1
		grep -E '^(FAIL|ERROR|XPASS):' "$san_build/check.out" | head -50
	else
		tail -30 "$san_build/make.out" 2>/dev/null
		echo "ERROR: sanitizer build failed" >>"$san_build/check.out"
	fi
	log "helper integration tests under ThreadSanitizer in $tsan_build"
	mkdir -p "$tsan_build"
	if (cd "$tsan_build" && "$top/configure" --enable-sanitizers=thread --enable-werror >configure.out 2>&1) &&
	   make -C "$tsan_build" -j"$jobs" >"$tsan_build/make.out" 2>&1; then
		tests=$(cd "$tsan_build" && make -s print-helper-tests 2>/dev/null)
		# Programs run as other users read the suppressions too: a copy
		# they can reach (a clone under /root is 0700).
		supp=$(mktemp /tmp/p2m-tsan-supp.XXXXXX) && cp "$top/tests/tsan.supp" "$supp" && chmod 0644 "$supp"
		TSAN_OPTIONS="halt_on_error=1 suppressions=$supp" G_SLICE=always-malloc \
			make -C "$tsan_build" -j"$jobs" check TESTS="$tests" >"$tsan_build/check.out" 2>&1
		rm -f "$supp"
		grep -E '^(FAIL|ERROR|XPASS):' "$tsan_build/check.out" | head -50
	else
		tail -30 "$tsan_build/make.out" 2>/dev/null
		echo "ERROR: sanitizer build failed" >>"$tsan_build/check.out"
	fi
fi

# One summary over every .trs file of both builds: what CI reads.
summary=$(find "$build" "$san_build" "$tsan_build" -name '*.trs' 2>/dev/null | xargs -r cat |
	awk '/^:test-result: PASS/ {p++} /^:test-result: SKIP/ {s++}
	     /^:test-result: (FAIL|ERROR|XPASS)/ {f++}
	     END {printf "%d passed, %d failed, %d skipped\n", p, f, s}')
san_failed=0
if [ "${SANITIZE:-yes}" = yes ] && grep -q '^ERROR: sanitizer build failed' "$san_build/check.out" "$tsan_build/check.out" 2>/dev/null; then
	san_failed=1
fi
echo
echo "$summary"
failed=$(echo "$summary" | awk '{print $3}')
[ "$check_rc" -eq 0 ] && [ "$failed" -eq 0 ] && [ "$san_failed" -eq 0 ]
