#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# spdx.sh - every source file of print2mail carries the line
# "SPDX-License-Identifier: Apache-2.0", in the comment form of its type.
#
#   scripts/spdx.sh --check [DIR]   # list the files without it; exit 1 if any
#   scripts/spdx.sh --add [DIR]     # insert it where it is missing (idempotent)
#
# DIR is the source tree (default: the one holding this script).  The files
# are git's tracked files when DIR is a git work tree, else (a release
# tarball, a clone copied without .git) the same kinds of file found on disk,
# generated and build files left out.  Where the line goes:
#
#   *.c *.h *.map                 /* SPDX-License-Identifier: Apache-2.0 */  line 1
#   shell, Python, anything       # SPDX-License-Identifier: Apache-2.0      after the
#     with #!, *.sh *.py                                                     #! line
#   *.mk Makefile.am              ## SPDX-License-Identifier: Apache-2.0     line 1
#   configure.ac                  dnl SPDX-License-Identifier: Apache-2.0    line 1
#   man pages (*.[1-8], *.[1-8].in) .\" SPDX-License-Identifier: Apache-2.0  line 1 (after
#                                                                            a '\" preprocessor line)
#   *.ppd *.ppd.in                *% SPDX-License-Identifier: Apache-2.0     line 2 (*PPD-Adobe first)
#   *.po *.pot, *.service(.in),   # SPDX-License-Identifier: Apache-2.0      line 1
#     *.conf.example
#
# Not source, so left alone: documentation (*.md), images, test data and fuzz
# corpora (their bytes are the test), backups (autoreconf's configure~,
# *.orig, *.rej: a tree without git is searched on disk), po/LINGUAS, .gitignore, and
# pam/*.pam-config (pam-auth-update's format has no comments; debian/copyright
# covers it).  debian/ belongs to the packaging; its scripts (#!) count.
set -u
ID="SPDX-License-Identifier: Apache-2.0"

die() { printf 'spdx.sh: %s\n' "$*" >&2; exit 2; }

# list_files DIR: candidate files, relative to DIR, one per line.
list_files() {
	if command -v git >/dev/null 2>&1 && git -C "$1" rev-parse --is-inside-work-tree >/dev/null 2>&1 &&
	   [ "$(git -C "$1" rev-parse --show-toplevel)" = "$(cd "$1" && pwd -P)" ]; then
		git -C "$1" ls-files
	else
		(cd "$1" && find . \( -name .git -o -name '_build*' -o -name autom4te.cache \
			-o -name build-aux -o -name m4 -o -name '.deps' -o -name '.libs' \) -prune -o \
			-type f -print | sed 's|^\./||')
	fi
}

# form FILE: how FILE carries the line ("c", "hash", "hash2", "dnl", "man",
# "ppd"), or nothing when FILE is not a source file.
form() {
	local f="$1" base="${1##*/}"
	case "$f" in
	tests/data/* | tests/fuzz/corpus/* | docs/* | */.deps/* | */.libs/*) return ;;
	esac
	case "$base" in
	Makefile.in | config.h.in | configure | aclocal.m4 | config.status | libtool | Makefile | \
	*.pam-config | LINGUAS | .gitignore | *.md | *.png | *.o | *.lo | *.la | *.a | *.mo | *.gmo | \
	*~ | *.orig | *.rej)
		return ;;
	*.c | *.h | *.map) echo c ;;
	*.mk | Makefile.am) echo hash2 ;;
	configure.ac) echo dnl ;;
	*.[1-8] | *.[1-8].in) echo man ;;
	*.ppd | *.ppd.in) echo ppd ;;
	*.sh | *.py | *.po | *.pot | *.service | *.service.in | *.conf.example) echo hash ;;
	*)
		# Scripts without an extension (.ci/run, debian/rules, maintainer scripts).
		[ "$(head -c 2 "$2/$f" 2>/dev/null)" = '#!' ] && echo hash ;;
	esac
}

# has_id FILE: the identifier is in the first 5 lines.
has_id() { head -n 5 "$1" | grep -q "$ID"; }

# add_id FILE FORM: insert the line in FILE's comment form, keeping mode and
# a first line that must stay first (#!, PPD magic, '\" preprocessor hints).
add_id() {
	local f="$1" line after=0 first tmp
	first=$(head -n 1 "$f")
	case "$2" in
	c) line="/* $ID */" ;;
	hash) line="# $ID"; case "$first" in '#!'*) after=1 ;; esac ;;
	hash2) line="## $ID" ;;
	dnl) line="dnl $ID" ;;
	man) line=".\\\" $ID"; case "$first" in "'\\\""*) after=1 ;; esac ;;
	ppd) line="*% $ID"; after=1 ;;
	esac
	tmp="$f.spdx.$$"
	{
		[ $after -eq 1 ] && head -n 1 "$f"
		printf '%s\n' "$line"
		tail -n +$((after + 1)) "$f"
	} >"$tmp" && chmod --reference="$f" "$tmp" && mv "$tmp" "$f" || { rm -f "$tmp"; return 1; }
}

main() {
	local mode="${1:-}" dir f kind bad=0
	case "$mode" in --check | --add) ;; *) die "usage: $0 --check|--add [DIR]" ;; esac
	dir=${2:-$(cd "$(dirname "$0")/.." && pwd)}
	[ -d "$dir" ] || die "$dir: no such directory"
	while IFS= read -r f; do
		[ -f "$dir/$f" ] && [ ! -L "$dir/$f" ] || continue
		kind=$(form "$f" "$dir")
		[ -n "$kind" ] || continue
		has_id "$dir/$f" && continue
		if [ "$mode" = --add ]; then
			add_id "$dir/$f" "$kind" || die "$f: cannot add the line"
			echo "added: $f"
		else
			echo "missing SPDX-License-Identifier: $f"
			bad=1
		fi
	done < <(list_files "$dir")
	return $bad
}

main "$@"
