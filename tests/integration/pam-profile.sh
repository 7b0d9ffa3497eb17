#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# pam-profile.sh - the pam-auth-update profile, read the way pam-auth-update
# reads it: off by default, the module in auth, session and password, and
# sessions for interactive logins only (a cron job ending must never make
# forget_on_logout drop the user's password).
set -u
. "$top_srcdir/tests/lib.sh"
PROFILE="$top_srcdir/pam/print2mail.pam-config"

# field NAME: the value pam-auth-update's parse_pam_profile gives NAME:
# "Name: value" lines, continuation lines appended without their blanks.
field() {
	awk -v want="$1" '
		/^[^ \t]+:([ \t]|$)/ { name = $1; sub(/:$/, "", name); v = $0; sub(/^[^:]*:[ \t]*/, "", v)
		                   if (name == want) out = v; next }
		{ gsub(/^[ \t]+|[ \t]+$/, ""); if ($0 != "" && name == want) out = out (out == "" ? "" : "\n") $0 }
		END { print out }' "$PROFILE"
}

is "$(field Default)" no "the profile is off by default"
is "$(field Session-Interactive-Only)" yes "Session-Interactive-Only: yes (cron never runs the module)"
for t in Auth Session Password; do
	like "$(field "$t")" 'pam_print2mail\.so' "$t: the module is listed"
	is "$(field "$t-Type")" Additional "$t-Type: Additional (never decides a login)"
done

done_testing
