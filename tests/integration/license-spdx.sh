#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# license-spdx.sh - LICENSE is the Apache License 2.0 and every source file
# carries "SPDX-License-Identifier: Apache-2.0" (scripts/spdx.sh --check);
# scripts/spdx.sh --add puts the line in each file type's comment form, once.
set -u
. "$top_srcdir/tests/lib.sh"
SPDX="$top_srcdir/scripts/spdx.sh"

head -n 3 "$top_srcdir/LICENSE" | grep -q 'Apache License' &&
	grep -q 'Version 2.0, January 2004' "$top_srcdir/LICENSE"
ok $? "LICENSE is the Apache License, Version 2.0"

out=$(bash "$SPDX" --check "$top_srcdir" 2>&1)
ok $? "every source file carries the SPDX line (scripts/spdx.sh --check)"
[ -z "$out" ] || diag "$out" "fix: scripts/spdx.sh --add"

# --add and --check on a scratch tree, one file of each kind.
T=$(mktemp -d /tmp/p2m-spdx.XXXXXX)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/src/lib" "$T/src/man" "$T/src/conf" "$T/src/po" "$T/src/.ci" "$T/src/tests/data"
printf '/* a.c - x */\nint x;\n' >"$T/src/lib/a.c"
printf '#!/bin/sh\n# s.sh - y\necho\n' >"$T/src/s.sh"
printf '## f.mk\nX = 1\n' >"$T/src/lib/f.mk"
printf 'dnl configure.ac\nAC_INIT\n' >"$T/src/configure.ac"
printf "'\\\\\" t\n.TH X 1\n" >"$T/src/man/x.1"
printf '*PPD-Adobe: "4.3"\n*%% x\n' >"$T/src/conf/x.ppd.in"
printf '# fr\nmsgid ""\nmsgstr ""\n' >"$T/src/po/fr.po"
printf '#!/bin/bash\ntrue\n' >"$T/src/.ci/run"
chmod 0755 "$T/src/s.sh" "$T/src/.ci/run"
printf 'no comment syntax\n' >"$T/src/tests/data/replies.tsv"
# autoreconf run twice leaves configure~ (README's two commands both build)
printf '#! /bin/sh\n' >"$T/src/configure~"
out=$(bash "$SPDX" --check "$T/src" 2>&1); rc=$?
is "$rc" 1 "--check exits 1 when files lack the line"
is "$(printf '%s\n' "$out" | grep -c 'missing')" 8 "... and names each of them ($(printf '%s' "$out" | tr '\n' ' '))"
unlike "$out" 'replies.tsv' "... but not test data"
unlike "$out" 'configure~' "... nor autoreconf's backup configure~"
bash "$SPDX" --add "$T/src" >/dev/null 2>&1
ok $? "--add succeeds"
bash "$SPDX" --check "$T/src" >/dev/null 2>&1
ok $? "--check passes after --add"
is "$(bash "$SPDX" --add "$T/src" 2>&1)" "" "--add a second time changes nothing"
I='SPDX-License-Identifier: Apache-2.0'
is "$(head -n 1 "$T/src/lib/a.c")" "/* $I */" "C: line 1, /* */"
is "$(sed -n 1,2p "$T/src/s.sh" | tr '\n' '|')" "#!/bin/sh|# $I|" "shell: after the #! line"
is "$(head -n 1 "$T/src/lib/f.mk")" "## $I" "Makefile fragment: ## (not copied into Makefile.in)"
is "$(head -n 1 "$T/src/configure.ac")" "dnl $I" "configure.ac: dnl"
is "$(sed -n 2p "$T/src/man/x.1")" ".\\\" $I" "man page: .\\\" after a '\\\" preprocessor line"
is "$(sed -n 1,2p "$T/src/conf/x.ppd.in" | tr '\n' '|')" "*PPD-Adobe: \"4.3\"|*% $I|" "PPD: *% after the magic line"
is "$(head -n 1 "$T/src/po/fr.po")" "# $I" "po: # comment"
is "$(sed -n 2p "$T/src/.ci/run")" "# $I" "script without extension: after #!"
is "$(stat -c %a "$T/src/s.sh")" 755 "modes are kept"
is "$(cat "$T/src/tests/data/replies.tsv")" "no comment syntax" "test data untouched"

done_testing
