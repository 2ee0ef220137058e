#!/bin/sh
# SPDX-License-Identifier: ISC
#
# Every command "smimesync help" lists has an entry in the COMMANDS section
# of doc/smimesync.8 (".TP" then ".B name ..." or ".BR name ..."), and the
# man page describes no command the program lacks.
set -u
: "${top_srcdir:?}" "${SMIMESYNC:?}"
man="$top_srcdir/doc/smimesync.8"
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT

"$SMIMESYNC" help | sed -n '/^Commands:/,/^Options:/p' | grep -E '^  [a-z]' |
	awk '{print $1}' | LC_ALL=C sort -u >"$tmp/help"
# The first word of each top-level entry (not inside .RS/.RE), "\-" read
# as "-", quotes dropped; options such as --version are not commands.
awk '
	/^\.SH COMMANDS/ { f = 1; next }
	/^\.SH/ { f = 0 }
	/^\.RS/ { depth++ }
	/^\.RE/ { depth-- }
	f && depth == 0 && /^\.TP/ { tp = 1; next }
	f && tp && /^\.B[RI]? / { w = $2; gsub(/\\-/, "-", w); gsub(/"/, "", w); if (w !~ /^-/) print w }
	{ tp = 0 }
' "$man" | LC_ALL=C sort -u >"$tmp/man"

if [ ! -s "$tmp/help" ]; then
	echo "man_commands: smimesync help listed no command" >&2
	exit 1
fi
if ! diff -u "$tmp/help" "$tmp/man"; then
	echo "man_commands: smimesync help and the COMMANDS section of doc/smimesync.8 differ" >&2
	echo "(- only in help: document it; + only in the man page: remove it or add the command)" >&2
	exit 1
fi
echo "ok: $(wc -l <"$tmp/help") commands, each documented in smimesync(8)"
