#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# po-current.sh - the message catalogues follow the sources: po/print2mail.pot
# and every po/LL.po hold exactly the msgids xgettext finds in the sources
# today (a message added, changed or removed without `make update-po` fails).
set -u
. "$top_srcdir/tests/lib.sh"

for p in xgettext msgcmp; do
	command -v "$p" >/dev/null 2>&1 || skip_all "$p missing (gettext)"
done
T=$(mktemp -d /tmp/p2m-po.XXXXXX)
trap 'rm -rf "$T"' EXIT

make -s -C "$top_builddir" po-template P2M_POT_OUT="$T/sources.pot" >"$T/make.out" 2>&1
ok $? "make po-template builds a template from the sources"
[ -s "$T/sources.pot" ] || { diag "$(cat "$T/make.out")"; done_testing; exit 1; }

# Each catalogue against the sources, both ways, so a msgid only one side has shows up.
for c in "$top_srcdir"/po/print2mail.pot "$top_srcdir"/po/*.po; do
	name=${c#"$top_srcdir"/}
	out=$(msgcmp --use-fuzzy --use-untranslated "$c" "$T/sources.pot" 2>&1)
	ok $? "$name has every msgid of the sources"
	[ -z "$out" ] || diag "$out" "run: make update-po"
	out=$(msgcmp --use-fuzzy --use-untranslated "$T/sources.pot" "$c" 2>&1)
	ok $? "$name has no msgid the sources no longer use"
	[ -z "$out" ] || diag "$out" "run: make update-po"
done

done_testing
