#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# faults-statedir.sh - state_dir on a full filesystem (a 64 KB tmpfs, root
# only): the pacing log cannot be written, so the job goes unpaced (the
# connection slots still hold), says so in an INFO line, and is delivered once.
set -u
. "$top_srcdir/tests/integration/backend-lib.sh"
[ "$(id -u)" = 0 ] || skip_all "needs root to mount a tmpfs"
p2m_setup
bk_users
p2m_start_smtp
mount -t tmpfs -o size=64k,mode=0700 tmpfs "$T/state" || skip_all "cannot mount a tmpfs"
trap 'umount "$T/state" 2>/dev/null; p2m_cleanup' EXIT
bk_conf
dd if=/dev/zero of="$T/state/fill" bs=4k count=100 2>/dev/null
make_pdf "$T/doc.pdf" 100000
run_backend "print2mail://scanner?to=bob@contoso.com" 1 alice "full disk" "" "$T/doc.pdf"
is "$BACKEND_RC" "$RC_OK" "full state_dir: the job is delivered"
like "$BACKEND_ERR" '^INFO: .*No space left on device; messages are not paced' "full state_dir: an INFO line says pacing is off"
is "$(mail_count)" 1 "full state_dir: exactly one copy"
done_testing
