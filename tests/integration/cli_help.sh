#!/bin/sh
# SPDX-License-Identifier: ISC
# The command line explains itself, and the same way everywhere:
#   - every command "smimesync help" lists answers COMMAND --help and
#     help COMMAND with the same text, starting with its usage line;
#   - a usage error prints that usage line and where to read more;
#   - durations need a unit: "--expiring 30" is an error that says so;
#   - the bash completion offers exactly the commands of "smimesync help"
#     and, for each command, every option its usage line names; it
#     completes group and CA names from the configuration given with -c;
#   - "make install" puts the completion where bash-completion loads it.
set -u
: "${top_srcdir:?}" "${top_builddir:?}" "${SMIMESYNC:?}"
. "$top_srcdir/tests/tools/test-lib.sh"
unset SMIMESYNC_CONF SMIMESYNC_STATE_DIR
test_begin cli-help

"$SMIMESYNC" help | sed -n '/^Commands:/,/^Options:/p' | grep -E '^  [a-z]' | awk '{print $1}' >"$W/commands"
check '[ "$(wc -l <"$W/commands")" -ge 15 ]' "help lists $(wc -l <"$W/commands") commands"
for c in $(cat "$W/commands"); do
	rc=0
	"$SMIMESYNC" "$c" --help >"$W/h1" 2>"$W/err" || rc=$?
	"$SMIMESYNC" help "$c" >"$W/h2" 2>&1 || rc=$((rc + 100))
	[ "$rc" = 0 ] || { fail "$c --help / help $c: exit $rc $(cat "$W/err")"; continue; }
	head -n 1 "$W/h1" | grep -q "^usage: smimesync $c" || fail "$c --help does not start with its usage line: $(head -n 1 "$W/h1")"
	cmp -s "$W/h1" "$W/h2" || fail "$c --help and help $c differ"
	[ "$(wc -l <"$W/h1")" -ge 3 ] || fail "$c --help says too little"
	# No line longer than 80 columns below the usage line: help is read in a terminal.
	awk 'NR > 1 && length > 80 { bad = 1 } END { exit bad }' "$W/h1" || fail "$c --help has lines over 80 columns"
done
echo "ok: every command answers --help and help COMMAND alike"

# -h after an operand is help too; "--" ends options.
check '"$SMIMESYNC" status alice@example.org -h | grep -q "^usage: smimesync status"' "status USER -h prints help"
rc=0; "$SMIMESYNC" run --bogus >/dev/null 2>"$W/err" || rc=$?
check '[ $rc = 2 ] && grep -q "^usage: smimesync run \[--dry-run\]" "$W/err" && grep -q "smimesync run --help" "$W/err"' \
	"a usage error prints the usage line and points to --help"
rc=0; "$SMIMESYNC" help frobnicate >/dev/null 2>"$W/err" || rc=$?
check '[ $rc = 2 ] && grep -q "unknown command \"frobnicate\"; smimesync help lists" "$W/err"' "help with an unknown command: exit 2"
# A mistyped command gets one line naming what was probably meant, not the
# whole overview.
for typo in stauts:status revok:revoke check:check-config rsend:resend "reprot --last:report"; do
	rc=0
	# shellcheck disable=SC2086
	"$SMIMESYNC" ${typo%%:*} >"$W/out" 2>"$W/err" || rc=$?
	check '[ $rc = 2 ] && [ ! -s "$W/out" ] && [ "$(wc -l <"$W/err")" = 1 ] &&
		grep -q "did you mean \"${typo#*:}\"?" "$W/err"' "\"${typo%%:*}\": one line, did you mean \"${typo#*:}\""
done
rc=0; "$SMIMESYNC" help revok >/dev/null 2>"$W/err" || rc=$?
check '[ $rc = 2 ] && grep -q "did you mean \"revoke\"?" "$W/err"' "help revok: did you mean \"revoke\""

# --- durations need a unit ------------------------------------------------------
for args in "status --expiring 30" "report --since 30" "audit --since 30"; do
	rc=0
	# shellcheck disable=SC2086
	"$SMIMESYNC" -c /nonexistent.conf $args >/dev/null 2>"$W/err" || rc=$?
	check '[ $rc = 2 ] && grep -q "\"30\" has no unit: write 30d" "$W/err"' "$args: a usage error asking for a unit"
done
rc=0; "$SMIMESYNC" -c /nonexistent.conf status --expiring 1fortnight >/dev/null 2>"$W/err" || rc=$?
check '[ $rc = 2 ] && grep -q "is not a duration" "$W/err"' "--expiring 1fortnight: not a duration"

# --- bash completion --------------------------------------------------------------
command -v bash >/dev/null || { echo "SKIP: bash is not installed"; exit 77; }
sed -e "s|@sysconfdir[@]|$W/etc|g" "$top_srcdir/cli/smimesync.bash.in" >"$W/completion.bash"
cat >"$W/c.conf" <<'CONF'
[group  sales ]
[group staff]
[ca internal]
CONF
# complete WORDS...: what the completion offers after the words (the last may be empty).
cat >"$W/complete.sh" <<'SH'
. "$1"; shift
COMP_WORDS=(smimesync "$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
_smimesync
printf '%s\n' "${COMPREPLY[@]}" | sort
SH
complete_words() { bash "$W/complete.sh" "$W/completion.bash" "$@"; }

complete_words "" >"$W/comp-commands"
sort "$W/commands" >"$W/help-commands"
if diff -u "$W/help-commands" "$W/comp-commands" >"$W/diff"; then
	echo "ok: the completion offers exactly the commands of smimesync help"
else
	fail "completion and help list different commands: $(cat "$W/diff")"
fi
for c in $(cat "$W/commands"); do
	# Every --option in the command's usage line is offered after the command.
	for o in $("$SMIMESYNC" "$c" --help | head -n 1 | grep -oE -- '--[a-z0-9-]+' | sort -u); do
		complete_words "$c" -- >"$W/opts"
		grep -qx -- "$o" "$W/opts" || fail "completion of \"$c --\" lacks $o"
	done
done
echo "ok: every option of every usage line is completed"
check 'complete_words -c "$W/c.conf" status --group "" | tr "\n" " " | grep -qx "sales staff "' \
	"--group completes the [group] names of the -c configuration"
check 'complete_words -c "$W/c.conf" crl --ca "" | grep -qx internal' "--ca completes the [ca] names"
check 'complete_words revoke x --reason key | grep -qx keyCompromise' "--reason completes revocation reasons"
check 'complete_words user alice@example.org "" | grep -qx suspend-notifications' "user USER completes the switches"
check '[ -z "$(complete_words user "")" ]' "user completes no switch before USER"
check 'complete_words status --format "" | tr "\n" " " | grep -qx "csv json text "' "status --format completes csv, json, text"

# --- installed where bash-completion loads it -----------------------------------------
dir=$(sed -n 's/^bashcompletiondir = //p' "$top_builddir/Makefile")
if [ -n "$dir" ]; then
	make -s -C "$top_builddir" install-bashcompletionDATA DESTDIR="$W/inst" >"$W/install.log" 2>&1 || cat "$W/install.log"
	installed=$(find "$W/inst" -type f -name smimesync)
	check '[ -n "$installed" ] && bash -n "$installed" && grep -q "complete -F _smimesync smimesync" "$installed"' \
		"make install puts the completion in ${installed#"$W/inst"}"
	check '! grep -q "@sysconfdir@" "$installed"' "the installed completion names the configured sysconfdir"
else
	echo "note: configured --with-bashcompletiondir=no: nothing to install"
fi

test_end
