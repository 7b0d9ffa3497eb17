#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# banned-calls.sh - the C sources print2mail ships use none of the calls that
# overflow or fail silently: atoi/atol (no error, UB on overflow: a 10-digit
# CUPS job id), sprintf/vsprintf/strcpy/strcat/gets (no bound), strtok (hidden
# state), tmpnam/mktemp (races), system (a shell), and every set*id() result
# is checked (a setuid that half worked must stop the job).  TAP, one test per
# rule, naming file:line of each hit.
set -u
. "$top_srcdir/tests/lib.sh"
cd "$top_srcdir" || exit 1
FILES=$(find backend lib helper pam filter tools -name '*.[ch]' 2>/dev/null | sort)
[ -n "$FILES" ] || skip_all "no sources"

# code_only FILE...: each line as FILE:LINE:TEXT with comments and string literals blanked.
code_only() {
	"$PYTHON3" - "$@" <<'PY'
import re, sys
for path in sys.argv[1:]:
    text = open(path, encoding="utf-8", errors="replace").read()
    # blank comments and literals, keeping line breaks so line numbers stay right
    text = re.sub(r'/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'',
                  lambda m: re.sub(r'[^\n]', ' ', m.group(0)), text, flags=re.S)
    for n, line in enumerate(text.split("\n"), 1):
        print("%s:%d:%s" % (path, n, line))
PY
}
CODE=$(code_only $FILES)

check() {  # check DESC REGEX
	local hits
	hits=$(printf '%s\n' "$CODE" | grep -E "$2" | sed 's/[[:space:]]\+/ /g')
	is "$hits" "" "$1"
}
check "no atoi/atol/atoll (use g_ascii_string_to_unsigned and check it)" '(^|[^_[:alnum:]])ato(i|l|ll)[[:space:]]*\('
check "no sprintf/vsprintf (use snprintf or g_strdup_printf)" '(^|[^_[:alnum:]])v?sprintf[[:space:]]*\('
check "no strcpy/strcat (use memcpy with a length, g_strlcpy or GString)" '(^|[^_[:alnum:]])str(cpy|cat)[[:space:]]*\('
check "no gets" '(^|[^_[:alnum:]])gets[[:space:]]*\('
check "no strtok (hidden state; use strtok_r or g_strsplit)" '(^|[^_[:alnum:]])strtok[[:space:]]*\('
check "no tmpnam/tempnam/mktemp (use mkstemp or g_mkstemp)" '(^|[^_[:alnum:]])(tmpnam|tempnam|mktemp)[[:space:]]*\('
check "no system/popen (no shell)" '(^|[^_[:alnum:]])(system|popen)[[:space:]]*\('
# a set*id() call must be compared on the same line (!= 0, == 0, < 0)
hits=$(printf '%s\n' "$CODE" | grep -E '(^|[^_[:alnum:]])set(e|re|res)?[ug]id[[:space:]]*\(|setgroups[[:space:]]*\(' |
	grep -vE 'set(e|re|res)?[ug]id[[:space:]]*\([^()]*\)[[:space:]]*(!=|==|<)|setgroups[[:space:]]*\([^()]*\)[[:space:]]*(!=|==|<)' |
	sed 's/[[:space:]]\+/ /g')
is "$hits" "" "every setuid/setgid/setgroups result is checked"

# the checker itself finds what it bans (a check that cannot fail is a defect)
CODE=$(printf '%s\n' 'x.c:1: n = atoi(s);' 'x.c:2: sprintf(b, "%d", n);' 'x.c:3: (void) setuid(0);' 'x.c:4: if (setuid(0) != 0)')
like "$(printf '%s\n' "$CODE" | grep -E '(^|[^_[:alnum:]])ato(i|l|ll)[[:space:]]*\(')" 'x.c:1' "self-test: atoi is found"
like "$(printf '%s\n' "$CODE" | grep -E '(^|[^_[:alnum:]])v?sprintf[[:space:]]*\(')" 'x.c:2' "self-test: sprintf is found"
unlike "$(printf '%s\n' "$CODE" | grep -E '(^|[^_[:alnum:]])v?sprintf[[:space:]]*\(')" 'snprintf' "self-test: snprintf is not"
like "$(printf '%s\n' "$CODE" | grep -E '(^|[^_[:alnum:]])set(e|re|res)?[ug]id[[:space:]]*\(' |
	grep -vE 'set(e|re|res)?[ug]id[[:space:]]*\([^()]*\)[[:space:]]*(!=|==|<)')" '^x\.c:3:' "self-test: an unchecked setuid is found, a checked one is not"
done_testing
