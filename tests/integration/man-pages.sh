#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# man-pages.sh - every manual page renders without a groff warning
# (`man --warnings`) at the usual terminal widths, and all carry one .TH date.
set -u
. "$top_srcdir/tests/lib.sh"

command -v man >/dev/null 2>&1 || skip_all "man missing (man-db)"
pages="$top_builddir/man/print2mail.8"
for p in "$top_srcdir"/man/*.[1-8]; do pages="$pages $p"; done

dates=""
for p in $pages; do
	name=${p##*/}
	[ -f "$p" ] || { ok 1 "$name exists"; continue; }
	for w in 80 132; do
		out=$(MANWIDTH=$w LC_ALL=C.UTF-8 MAN_DISABLE_SECCOMP=1 man --warnings -E UTF-8 -l "$p" 2>&1 >/dev/null)
		is "$out" "" "man --warnings -l $name at $w columns: no warning"
	done
	d=$(sed -n 's/^\.TH  *[^ ]*  *[^ ]*  *"\([^"]*\)".*/\1/p' "$p")
	like "$d" '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' "$name: .TH has a date ($d)"
	dates="$dates$d $name"$'\n'
done
is "$(printf '%s' "$dates" | awk '{print $1}' | sort -u | wc -l)" 1 "all pages carry the same .TH date"
[ "$(printf '%s' "$dates" | awk '{print $1}' | sort -u | wc -l)" = 1 ] || diag "$dates"

done_testing
