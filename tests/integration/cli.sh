#!/bin/sh
# SPDX-License-Identifier: ISC
# The command line as an operator meets it: version, help, usage errors,
# a configuration with three errors (three file:line messages, non-zero
# exit, nothing done), a secret file others can read (refused, with the
# chmod that fixes it), and reading a store that does not exist yet.
set -u
: "${top_srcdir:?}" "${SMIMESYNC:?}"
W=$(mktemp -d /tmp/smimesync-cli.XXXXXX)
trap 'rm -rf "$W"' EXIT INT TERM
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
unset SMIMESYNC_CONF SMIMESYNC_STATE_DIR
. "$top_srcdir/tests/tools/smimesync-lib.sh"

out=$("$SMIMESYNC" --version) && [ "$out" = "smimesync 0.1.0" ] && ok "--version" || fail "--version printed '$out'"
"$SMIMESYNC" help | grep -q "check-config" && ok "help lists the commands" || fail "help"
"$SMIMESYNC" frobnicate >/dev/null 2>"$W/err"; rc=$?
[ $rc = 2 ] && grep -q 'unknown command "frobnicate"' "$W/err" && ok "unknown command: exit 2" || fail "unknown command: rc=$rc"
"$SMIMESYNC" -c /nonexistent/smimesync.conf run >/dev/null 2>"$W/err"; rc=$?
[ $rc = 1 ] && grep -q "/nonexistent/smimesync.conf" "$W/err" && ok "missing config file is named" || fail "missing config: rc=$rc $(cat "$W/err")"

# Three errors: all three listed as file:line, exit 1, nothing created.
cp "$top_srcdir/tests/config-errors/three-errors.conf" "$W/"
(cd "$W" && "$SMIMESYNC" -c three-errors.conf check-config) >/dev/null 2>"$W/err"; rc=$?
n=$(grep -cE '^three-errors\.conf:[0-9]+: ' "$W/err")
[ $rc = 1 ] && [ "$n" = 3 ] && ok "three errors: three file:line messages, exit 1" ||
	{ fail "three errors: rc=$rc, $n messages"; cat "$W/err"; }
(cd "$W" && "$SMIMESYNC" -c three-errors.conf run) >/dev/null 2>"$W/err"; rc=$?
[ $rc = 1 ] && grep -q "nothing was done" "$W/err" && ok "run refuses a broken configuration" || fail "run with errors: rc=$rc"

# A bind password file readable by others is refused by check-config.
mkdir -m 700 "$W/state"
printf 'secret\n' >"$W/ldap.secret"
chmod 644 "$W/ldap.secret"
smimesync_offline_config "$W/loose.conf" "$W/state" "$W/ca" "" "bind_dn = cn=smimesync,dc=example,dc=org
bind_password_file = $W/ldap.secret"
"$SMIMESYNC" -c "$W/loose.conf" check-config >/dev/null 2>"$W/err"; rc=$?
[ $rc = 1 ] && grep -q "chmod 600 $W/ldap.secret" "$W/err" && ok "group/world-readable secret refused with the fix" ||
	{ fail "loose secret: rc=$rc"; cat "$W/err"; }

# Reading state before any run: a clear message, exit 1, nothing created.
"$SMIMESYNC" -c "$W/loose.conf" status >/dev/null 2>"$W/err"; rc=$?
[ $rc = 1 ] && grep -q "no store" "$W/err" && [ ! -e "$W/state/smimesync.db" ] && ok "status without a store" ||
	{ fail "status without store: rc=$rc"; cat "$W/err"; }
"$SMIMESYNC" -c "$W/loose.conf" report --last >/dev/null 2>"$W/err"; rc=$?
[ $rc = 1 ] && ok "report without a store: exit 1" || fail "report without store: rc=$rc"
"$SMIMESYNC" -c "$W/loose.conf" run --format yaml >/dev/null 2>"$W/err"; rc=$?
[ $rc = 2 ] && grep -q "unknown format" "$W/err" && ok "bad --format: exit 2" || fail "bad format: rc=$rc"
"$SMIMESYNC" -c "$W/loose.conf" report --last 20261123T000000Z-0000 >/dev/null 2>&1; rc=$?
[ $rc = 2 ] && ok "report --last with a RUN_ID: usage error" || fail "report --last RUN_ID: rc=$rc"

echo "$fails failure(s)"
[ "$fails" = 0 ]
