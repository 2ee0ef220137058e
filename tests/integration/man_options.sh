#!/bin/sh
# SPDX-License-Identifier: ISC
#
# Every option in the table (conf-lint --list-options: "section key") is
# documented in doc/smimesync.conf.5 under its section, and the man page
# documents no option the table lacks (STYLE 22). An option entry in the
# man page is ".TP" then ".B key" below a ".SS [section]" heading.
#
# Defaults are stated in the table only; the man page repeats them, so
# each documented default must be the table's (conf-lint --describe). The
# line after ".B key" gives the type and "default \fBVALUE\fR": VALUE
# must equal the table's default; a key without one in the table must not
# claim one; for a derived default (computed from other keys) the value
# shown must be the one the table's description names.
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

# "section<TAB>key<TAB>type<TAB>default<TAB>required<TAB>doc" per row.
"$lint" --describe >"$tmp/describe" || exit 99
awk -F '\t' '
	FNR == NR { def[$1 " " $2] = $4; doc[$1 " " $2] = $6; next }
	/^\.SS \[/ { split($0, w, " "); sec = w[2]; sub(/^\[/, "", sec); sub(/\]$/, "", sec); next }
	/^\.SH/ { sec = ""; next }
	/^\.TP/ { tp = 1; next }
	tp && /^\.B / && sec != "" { split($0, w, " "); key = sec " " w[2]; typeline = 1; tp = 0; next }
	typeline {
		typeline = 0
		shown = ""
		line = $0
		gsub(/\\-/, "-", line)
		if (match(line, /default \\fI<localstatedir>\\fB[^\\]*\\fR/)) {
			shown = substr(line, RSTART + 8, RLENGTH - 11)
			sub(/\\fI/, "", shown)
			sub(/\\fB/, "", shown)
		} else if (match(line, /default \\fB[^\\]*\\fR/)) {
			shown = substr(line, RSTART + 11, RLENGTH - 14)
		}
		want = def[key]
		if (want == "-") {
			if (shown != "")
				printf "%s: the man page says default %s, the table has none\n", key, shown
		} else if (want == "(derived)") {
			if (shown != "" && index(doc[key], shown) == 0)
				printf "%s: the man page says default %s, the table says \"%s\"\n", key, shown, doc[key]
		} else if (shown == "") {
			printf "%s: the table has default %s, the man page does not say it\n", key, want
		} else if (shown ~ /^<localstatedir>/) {
			tail = substr(shown, length("<localstatedir>") + 1)
			if (substr(want, length(want) - length(tail) + 1) != tail)
				printf "%s: the man page says default %s, the table has %s\n", key, shown, want
		} else if (shown != want) {
			printf "%s: the man page says default %s, the table has %s\n", key, shown, want
		}
		next
	}
	{ tp = 0 }
' "$tmp/describe" "$man" >"$tmp/defaults"
if [ -s "$tmp/defaults" ]; then
	echo "man_options: defaults in doc/smimesync.conf.5 differ from the option table" >&2
	echo "(the table is right unless a test says otherwise: fix the man page)" >&2
	cat "$tmp/defaults" >&2
	exit 1
fi
echo "man_options: $(wc -l <"$tmp/table") options documented, their defaults as in the table"
