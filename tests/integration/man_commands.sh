#!/bin/sh
# SPDX-License-Identifier: ISC
#
# Every command "smimesync help" lists has an entry in the COMMANDS section
# of doc/smimesync.8 (".TP" then ".B name ..." or ".BR name ..."), and the
# man page describes no command the program lacks; every option in each
# command's usage line ("smimesync COMMAND --help") is described in that
# section too.
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
# Options: "--name" in the usage line, written "\-\-name" in the page.
sed -n '/^\.SH COMMANDS/,/^\.SH [^C]/p' "$man" | sed 's/\\-/-/g' >"$tmp/commands-section"
missing=0
for c in $(cat "$tmp/help"); do
	for o in $("$SMIMESYNC" "$c" --help | head -n 1 | grep -oE -- '--[a-z0-9-]+' | sort -u); do
		if ! grep -q -- "$o\([^a-z0-9-]\|$\)" "$tmp/commands-section"; then
			echo "man_commands: $c $o (in its usage line) is not described in COMMANDS of doc/smimesync.8" >&2
			missing=$((missing + 1))
		fi
	done
done
[ "$missing" = 0 ] || exit 1
echo "ok: $(wc -l <"$tmp/help") commands, each documented in smimesync(8) with every option of its usage line"
