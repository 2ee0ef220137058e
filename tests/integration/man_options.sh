#!/bin/sh
# SPDX-License-Identifier: ISC
#
# Every option in the table (conf-lint --list-options: "section key") is
# documented in doc/smimesync.conf.5 under its section, and the man page
# documents no option the table lacks (STYLE 22). An option entry in the
# man page is ".TP" then ".B key" below a ".SS [section]" heading.
set -u

lint="${top_builddir:?}/tests/tools/conf-lint"
man="${top_srcdir:?}/doc/smimesync.conf.5"

if [ ! -x "$lint" ]; then
	echo "man_options: $lint is not built" >&2
	exit 99
fi
if [ ! -f "$man" ]; then
	echo "man_options: $man is missing" >&2
	exit 1
fi
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT

"$lint" --list-options | LC_ALL=C sort >"$tmp/table" || exit 99
# ".SS [directory NAME]" -> section "directory"; ".TP" + ".B key" -> key.
awk '
	/^\.SS \[/ { sec = $2; sub(/^\[/, "", sec); sub(/\]$/, "", sec); next }
	/^\.SH/ { sec = "" ; next }
	/^\.TP/ { tp = 1; next }
	tp && /^\.B / && sec != "" { print sec, $2 }
	{ tp = 0 }
' "$man" | LC_ALL=C sort >"$tmp/man"

if [ ! -s "$tmp/table" ]; then
	echo "man_options: conf-lint --list-options printed nothing" >&2
	exit 1
fi
if ! diff -u "$tmp/table" "$tmp/man" >"$tmp/diff"; then
	echo "man_options: doc/smimesync.conf.5 and the option table differ" >&2
	echo "(- only in the table: document it; + only in the man page: remove it)" >&2
	cat "$tmp/diff" >&2
	exit 1
fi
echo "man_options: $(wc -l <"$tmp/table") options documented"
