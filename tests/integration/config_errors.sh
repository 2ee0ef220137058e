#!/bin/sh
# SPDX-License-Identifier: ISC
#
# Golden tests for configuration error messages (STYLE 18): for every
# tests/config-errors/NAME.conf, "conf-lint NAME.conf" must print exactly
# NAME.expected and exit 1. Run from inside that directory so the paths
# in the messages read "NAME.conf:LINE: ...". Warnings the same way: for
# every tests/config-warnings/NAME.conf, "conf-lint --warnings NAME.conf"
# prints exactly NAME.expected and exits 0 (a warning stops nothing). The
# shipped example config must load without any message.
set -u

lint="${top_builddir:?}/tests/tools/conf-lint"
dir="${top_srcdir:?}/tests/config-errors"
fail=0
count=0

if [ ! -x "$lint" ]; then
	echo "config_errors: $lint is not built" >&2
	exit 99
fi

# Paths of defaults must not depend on the caller's environment.
unset SMIMESYNC_STATE_DIR SMIMESYNC_CONF
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT

cd "$dir" || exit 99
for conf in *.conf; do
	name=${conf%.conf}
	count=$((count + 1))
	if [ ! -f "$name.expected" ]; then
		echo "FAIL $name: $name.expected is missing" >&2
		fail=1
		continue
	fi
	"$lint" "$conf" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" -ne 1 ]; then
		echo "FAIL $name: conf-lint exited $rc, want 1" >&2
		cat "$tmp/err" >&2
		fail=1
	fi
	if ! diff -u "$name.expected" "$tmp/out" >&2; then
		echo "FAIL $name: messages differ (above: - expected, + got)" >&2
		fail=1
	fi
done
wdir="$top_srcdir/tests/config-warnings"
wcount=0
cd "$wdir" || exit 99
for conf in *.conf; do
	name=${conf%.conf}
	wcount=$((wcount + 1))
	"$lint" --warnings "$conf" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "FAIL warnings/$name: conf-lint --warnings exited $rc, want 0" >&2
		cat "$tmp/err" "$tmp/out" >&2
		fail=1
	fi
	if ! diff -u "$name.expected" "$tmp/out" >&2; then
		echo "FAIL warnings/$name: messages differ (above: - expected, + got)" >&2
		fail=1
	fi
done
[ "$wcount" -ge 1 ] || { echo "FAIL: no golden warning files in $wdir" >&2; fail=1; }
if [ "$count" -lt 10 ]; then
	echo "FAIL: only $count golden files found in $dir" >&2
	fail=1
fi

example="$top_srcdir/conf/smimesync.conf.example"
if ! "$lint" "$example" >"$tmp/out" 2>&1; then
	echo "FAIL: the example configuration does not load:" >&2
	cat "$tmp/out" >&2
	fail=1
fi

echo "config_errors: $count golden error files and $wcount warning files checked"
exit $fail
