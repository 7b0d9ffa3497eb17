#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# backend-store-busy.sh - a credential store that cannot take a token now (its
# lock held by another process past the wait, or a full disk when saving a
# fresh token) retries the job with a message that says so; it never stops
# the queue with "the store is damaged ... forget".
set -u
. "$top_srcdir/tests/integration/backend-lib.sh"
[ "$(id -u)" = 0 ] || skip_all "needs root (mounts a small tmpfs as the state directory)"
command -v flock >/dev/null 2>&1 || skip_all "flock missing"
p2m_setup
p2m_start_syslog

CLIENT=11111111-aaaa-4bbb-8ccc-000000000002
SECRET='app-S3cret-value~busy'
tokend_config "{\"clients\": {\"$CLIENT\": {\"secret\": \"$SECRET\", \"mailbox\": \"scanner@contoso.com\"}}}"
p2m_start_tokend
smtp_script "{\"token_db\": \"$T/tokend/tokens.jsonl\"}"
p2m_start_smtp
write_secret "$T/client.secret" "$SECRET"
write_global
write_account scanner "from = scanner@contoso.com" "auth = xoauth2" "oauth_flow = client-credentials" \
	"tenant = contoso.onmicrosoft.com" "client_id = $CLIENT" \
	"client_secret_file = $T/client.secret" "oauth_authority = $AUTHORITY"
make_pdf "$T/doc.pdf" 20000
URI="print2mail://scanner?to=bob@contoso.com"

# transient DESC: exit RETRY, the queue not marked, the message says it retries.
transient() {
	is "$BACKEND_RC" "$RC_RETRY" "$1: exit RETRY, not STOP"
	unlike "$BACKEND_ERR" '^STATE: \+com\.print2mail' "$1: the queue is not marked"
	unlike "$(error_lines)" 'damaged|print2mailctl forget' "$1: no 'damaged ... forget' message"
	like "$(error_lines)" 'retries later' "$1: the message says it retries"
	check_one_error "$1"
	is "$(mail_count)" "$SENT" "$1: nothing sent"
}

# ---- 1. the identity's lock held by someone else past the backend's wait ----------
mkdir -p "$T/state/locks"
chmod 0700 "$T/state" "$T/state/locks"
bk_run "$URI" 90 alice "warm-up" "" "$T/doc.pdf"   # creates the lock files, then empties the cache
is "$BACKEND_RC" "$RC_OK" "warm-up job delivered"
rm -f "$T/state/tokens/"*.json
LOCK=$(ls "$T/state/locks/"*.lock | grep -v smtp-slot | head -n 1)
[ -n "$LOCK" ]; ok $? "the token lock file exists"
flock -x "$LOCK" sleep 120 &
HOLDER=$!
P2M_PIDS="$P2M_PIDS $HOLDER"
sleep 0.5
SENT=$(mail_count)
bk_run "$URI" 91 alice "t" "" "$T/doc.pdf"
transient "lock held by another process"
kill "$HOLDER" 2>/dev/null
wait "$HOLDER" 2>/dev/null

# ---- 2. a full disk when the fresh token is saved ------------------------------------
rm -rf "$T/state"
mkdir -p "$T/state"
mount -t tmpfs -o size=64k,mode=0700 tmpfs "$T/state" || skip_all "cannot mount tmpfs"
trap 'umount "$T/state" 2>/dev/null; p2m_cleanup' EXIT
mkdir -p "$T/state/tokens" "$T/state/locks" "$T/state/status"
chmod 0700 "$T/state/tokens" "$T/state/locks" "$T/state/status"
dd if=/dev/zero of="$T/state/fill" bs=4k count=1000 2>/dev/null
SENT=$(mail_count)
bk_run "$URI" 92 alice "t" "" "$T/doc.pdf"
transient "disk full when saving the token"
like "$BACKEND_ERR" 'No space left on device' "disk full: the detail names the cause"
done_testing
