#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# screenshot.sh - docs/cups-stopped-queue.png (and docs/cups-stopped-job.png):
# the CUPS web UI with a print2mail queue stopped by a Microsoft 365 refusal,
# its fix shown as the queue's and the job's state message.  Runs the demo
# (private cupsd, local SMTP server) and headless Debian chromium; installs
# chromium when missing.  Run as root.
#
#   bash scripts/screenshot.sh [DIR]     # default DIR: docs/
set -u
top=$(cd "$(dirname "$0")/.." && pwd)

main() {
	local dir=${1:-$top/docs} f
	[ "$(id -u)" = 0 ] || { echo "screenshot.sh: run as root" >&2; return 1; }
	bash "$top/scripts/deps.sh" --screenshot || return 1
	bash "$top/scripts/demo.sh" --screenshot "$dir" || return 1
	for f in "$dir/cups-stopped-queue.png" "$dir/cups-stopped-job.png"; do
		[ -s "$f" ] || { echo "screenshot.sh: $f was not made" >&2; return 1; }
		echo "$f: $(stat -c %s "$f") bytes"
	done
}

main "$@"
