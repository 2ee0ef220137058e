# SPDX-License-Identifier: ISC
# How the integration tests begin and end, so each test file holds only
# what it checks. Source it after the server libraries the test uses
# (slapd-lib.sh, smtp-lib.sh, smimesync-lib.sh).
#
#   test_begin NAME   $W = a new /tmp/smimesync-NAME.XXXXXX, removed at exit
#                     (kept when KEEP is set, to look at afterwards) after
#                     the slapd and SMTP sink started from this shell are
#                     stopped. A test with more to stop defines
#                     test_cleanup_more() before it exits.
#   fail MSG          counts a failed check and says which.
#   check EXPR MSG    evaluates EXPR; "ok: MSG" or a failure.
#   test_org_servers [SMTP_SINK_ARGS...]
#                     a slapd in $W/slapd holding tests/data/example-org.ldif
#                     and an SMTP sink in $W/smtp (smtp-sink.py arguments,
#                     such as --reject ADDR=451, pass through).
#   wait_for COND N   polls the shell condition COND up to N times, 0.1 s
#                     apart: a bounded number of tries, never a deadline.
#   test_end          prints the count and returns non-zero after a failure.

test_cleanup_more() { :; }

_test_cleanup() {
	test_cleanup_more || true
	if command -v smtp_stop >/dev/null 2>&1; then smtp_stop || true; fi
	if command -v slapd_stop >/dev/null 2>&1; then slapd_stop || true; fi
	[ -n "${KEEP:-}" ] || rm -rf "$W"
}

test_begin() {
	W=$(mktemp -d "/tmp/smimesync-$1.XXXXXX")
	trap _test_cleanup EXIT INT TERM
	[ -z "${KEEP:-}" ] || echo "# KEEP is set: $W stays after the test"
	fails=0
}

fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
check() { if eval "$1"; then echo "ok: $2"; else fail "$2"; fi; }

test_org_servers() {
	mkdir -p "$W/slapd" "$W/smtp"
	slapd_start "$W/slapd"
	slapd_load "$top_srcdir/tests/data/example-org.ldif" >/dev/null
	smtp_start "$W/smtp" "$@"
}

wait_for() {
	_i=0
	while [ "$_i" -lt "$2" ]; do
		if eval "$1"; then return 0; fi
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

test_end() {
	echo "$fails failure(s)"
	[ "$fails" = 0 ]
}
