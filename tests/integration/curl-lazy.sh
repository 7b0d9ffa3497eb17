#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# curl-lazy.sh - libcurl is loaded at run time by the process about to make
# an HTTPS exchange, never linked (lib/p2m-curl.h): no program of ours needs
# libcurl.so.4; the root helper never maps it nor what it pulls in, while
# its unprivileged spawner does; a backend sending by SMTP never loads it,
# one sending by Graph dlopen()s it only once no process holds root; without
# libcurl a Graph job fails with a message naming the package to install.
set -u
. "$top_srcdir/tests/integration/graph-lib.sh"
. "$top_srcdir/tests/integration/helper-lib.sh"
READELF=$(command -v readelf) || { echo "Bail out! readelf is missing (binutils)"; exit 1; }
ANALYZE="$top_srcdir/tests/integration/strace-root.py"
STRACE=$(command -v strace || true)
TRACE="openat,setuid,setresuid,clone,clone3,fork,vfork"
# What libcurl pulls in and nothing else of ours does (Debian 12's libcurl4).
CURL_TREE='libcurl|libnghttp2|librtmp|libssh2|libldap|liblber|libgssapi_krb5|libkrb5|libpsl|libbrotli'

as_root() { [ "$(id -u)" = 0 ]; }
# check_opens NAME WHAT USERS WHY: in $T/NAME.strace (strace -f), no process
# holding root opened libcurl, and USERS opens by processes that do not.
check_opens() {
	"$PYTHON3" "$ANALYZE" "$T/$1.strace" libcurl.so >"$T/$1.opens"
	is "$(grep -c '^root' "$T/$1.opens")" 0 "$2: no process holding root ever opens libcurl"
	[ "$(grep -c '^root' "$T/$1.opens")" = 0 ] || diag "$(cat "$T/$1.opens")"
	is "$(grep -c '^user' "$T/$1.opens")" "$3" "$2: $4"
}

# 1. Linked: what the dynamic loader maps before main().
for prog in backend/print2mail helper/print2mail-helper helper/print2mailctl filter/print2mail-compose; do
	elf="$top_builddir/$prog"
	# a libtool wrapper script keeps the real program in .libs/
	[ -f "$(dirname "$elf")/.libs/$(basename "$elf")" ] && elf="$(dirname "$elf")/.libs/$(basename "$elf")"
	needed=$("$READELF" -d "$elf" 2>&1 | grep '(NEEDED)')
	like "$needed" 'libc\.so\.6' "$prog: readelf -d lists what it links"
	unlike "$needed" 'libcurl' "$prog: libcurl is not linked"
done

p2m_setup
p2m_start_tokend
tokend_app '"token_lifetime": 3599'
helper_conf "client_secret_file = $T/client.secret"

# 2. The helper: as root it never maps libcurl; its spawner, no longer
# root, loads it once for all its children.
start_helper
wait_for 10 at_least 1
ok $? "the helper fetched the account's token at start"
wait_for 10 test -s "$T/state/tokens/scanner.json"
SPAWNER=$(pgrep -P "$HELPER_PID" | head -n 1)
is "$(grep -Ec "$CURL_TREE" "/proc/$HELPER_PID/maps")" 0 \
	"the helper (uid $(stat -c %u "/proc/$HELPER_PID")) maps neither libcurl nor its dependencies"
grep -q 'libcurl\.so\.4' "/proc/$SPAWNER/maps" 2>/dev/null
ok $? "its spawner (uid $(stat -c %u "/proc/$SPAWNER" 2>/dev/null)) has libcurl mapped: the check sees it"
if as_root; then
	ok "$([ "$(stat -c %u "/proc/$SPAWNER")" != 0 ]; echo $?)" "... and the spawner is not root"
else
	skip "the spawner is not root" "needs root"
fi
stop_helper

if as_root && [ -n "$STRACE" ]; then
	trace_helper_start_fetch "$T/helperd.strace"
	check_opens helperd "traced helper" 1 "the spawner opens it, once for all its children"
else
	skip "traced helper" "needs root and strace"
fi

# 3. The backend by SMTP: libcurl never loaded (LD_DEBUG=files: the
# backend is no setuid program, so the loader reports).
bk_users
p2m_start_smtp
bk_conf
make_pdf "$T/doc.pdf" 20000
URI="print2mail://scanner?to=bob@contoso.com"
bk_run "$URI" 81 alice "lazy smtp" "" "$T/doc.pdf" LD_DEBUG=files
is "$BACKEND_RC" "$RC_OK" "SMTP job: exit OK"
is "$(mail_count)" 1 "SMTP job: delivered"
like "$BACKEND_ERR" 'file=libssl\.so\.3' "SMTP job: LD_DEBUG=files shows what the backend loads"
unlike "$BACKEND_ERR" 'file=libcurl' "SMTP job: libcurl is never loaded"

# 4. The backend by Graph: dlopen()ed, by processes that are not root.
tokend_config "{\"clients\": {\"$GCLIENT\": {\"secret\": \"$GSECRET\", \"mailbox\": \"scanner@contoso.com\"}}}"
p2m_start_graphd
write_secret "$T/graph.secret" "$GSECRET"
graph_conf
bk_run "$URI" 82 alice "lazy graph" "" "$T/doc.pdf" LD_DEBUG=files
is "$BACKEND_RC" "$RC_OK" "Graph job: exit OK"
is "$(mail_count)" 1 "Graph job: delivered"
like "$BACKEND_ERR" 'file=libcurl\.so\.4 .*dynamically loaded by' "Graph job: libcurl is loaded with dlopen"
unlike "$BACKEND_ERR" 'file=libcurl\.so\.4 .*needed by' "Graph job: ... not as something a program needs"

if as_root && [ -n "$STRACE" ]; then
	rm -rf "$T/state/tokens"
	# LeakSanitizer cannot run under ptrace (an ASan build would exit 1).
	P2M_WRAPPER="$STRACE -f -qq -o $T/graph.strace -e trace=$TRACE" \
		bk_run "$URI" 83 alice "lazy graph 2" "" "$T/doc.pdf" ASAN_OPTIONS=detect_leaks=0
	is "$BACKEND_RC" "$RC_OK" "traced Graph job, empty token cache: exit OK"
	check_opens graph "traced Graph job" 2 "the token request's child and the backend after its drop to lp open it"
else
	skip "traced Graph job" "needs root and strace"
fi

# 5. No usable libcurl (a directory first in the loader's path whose
# libcurl.so.4 is no library: dlopen fails as on a system without it): a
# Graph job says what to install, whether the token or the send needs
# libcurl first.
mkdir -p "$T/nocurl"
: >"$T/nocurl/libcurl.so.4"
sent=$(mail_count)
bk_run "$URI" 84 alice "no libcurl, cached token" "" "$T/doc.pdf" LD_LIBRARY_PATH="$T/nocurl"
is "$BACKEND_RC" "$RC_RETRY" "no libcurl, cached token: the job is retried later"
like "$BACKEND_ERR" '^ERROR: .*libcurl\.so\.4.*libcurl4' "no libcurl, cached token: ERROR names libcurl.so.4 and the package libcurl4"
diag "$(error_lines)"
rm -rf "$T/state/tokens"
bk_run "$URI" 85 alice "no libcurl, no token" "" "$T/doc.pdf" LD_LIBRARY_PATH="$T/nocurl"
is "$BACKEND_RC" "$RC_RETRY" "no libcurl, no token: the job is retried later"
like "$BACKEND_ERR" '^ERROR: .*libcurl\.so\.4.*libcurl4' "no libcurl, no token: ERROR names libcurl.so.4 and the package libcurl4"
diag "$(error_lines)"
is "$(mail_count)" "$sent" "no libcurl: nothing was sent"

done_testing
