#!/bin/sh
# SPDX-License-Identifier: ISC
# Where the smimesync program's log lines go (issue #18, item 4), end to
# end from the configuration (test_common_log checks the module itself):
#   - stderr that JOURNAL_STREAM names: "<3>error run=...", no timestamp,
#     so "journalctl -p err" would show exactly the error; a daemon whose
#     configuration does not load says so in <3> lines too;
#   - the same JOURNAL_STREAM but stderr redirected elsewhere: timestamps;
#   - log = syslog, log_facility = local3: datagrams on a socket this test
#     owns (SMIMESYNC_SYSLOG_SOCKET) with <155> for the error, <158> for
#     info, and nothing on stderr.
# A directory nobody answers at makes the error (a dry run, nothing else).
set -u
: "${top_srcdir:?}" "${SMIMESYNC:?}"
. "$top_srcdir/tests/tools/test-lib.sh"
unset SMIMESYNC_CONF SMIMESYNC_STATE_DIR JOURNAL_STREAM SMIMESYNC_SYSLOG_SOCKET
PY=/usr/bin/python3

test_begin logging
mkdir -m 700 "$W/state"
conf() {
	cat >"$W/c.conf" <<CONF
[service]
state_dir = $W/state
$1

[directory corp]
type = ldap
uri = ldap://127.0.0.1:1
starttls = off
base_dn = dc=example,dc=org

[ca internal]
type = local
cert_file = $W/ca/issuing.pem
key_file = $W/ca/issuing.key
chain_file = $W/ca/chain.pem
crl_url = http://pki.example.org/smime.crl

[mail]
smtp_host = 127.0.0.1
from = PKI <pki@example.org>

[group g]
directory = corp
group_dn = cn=g,dc=example,dc=org
ca = internal
CONF
}

# --- stderr as the journal ------------------------------------------------------
conf "log = stderr"
: >"$W/journal"
stream=$(stat -c '%d:%i' "$W/journal")
JOURNAL_STREAM=$stream "$SMIMESYNC" -c "$W/c.conf" run --dry-run >/dev/null 2>>"$W/journal"
check 'grep -qE "^<3>error run=[0-9A-Za-z-]+: \[group g\] cannot read members" "$W/journal"' \
	"the failed group read is one <3> line (journalctl -p err shows it)"
check 'grep -qE "^<6>info run=" "$W/journal" && ! grep -vqE "^<[3-7]>" "$W/journal"' \
	"every line carries a priority, info is <6>"
check '! grep -qE "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]+Z smimesync\[" "$W/journal"' \
	"no timestamp or pid of our own: the journal records them"
# A unit whose configuration is broken: its errors are errors in the journal too.
printf '[service]\nintervall = 1h\n' >"$W/bad.conf"
: >"$W/journal-bad"
bstream=$(stat -c '%d:%i' "$W/journal-bad")
JOURNAL_STREAM=$bstream "$SMIMESYNC" -c "$W/bad.conf" daemon >/dev/null 2>>"$W/journal-bad"; rc=$?
check '[ $rc = 1 ] && grep -q "^<3>$W/bad.conf:2: " "$W/journal-bad" && grep -q "^<3>smimesync: .* nothing was done" "$W/journal-bad"' \
	"a daemon with a broken configuration: every error line is <3> in the journal"
JOURNAL_STREAM=$stream "$SMIMESYNC" -c "$W/c.conf" run --dry-run >/dev/null 2>"$W/plain"
check 'grep -qE "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]+Z smimesync\[[0-9]+\] error run=" "$W/plain"' \
	"an inherited JOURNAL_STREAM that does not name stderr: timestamps as before"

# --- syslog on a socket of our own ----------------------------------------------
conf "log = syslog
log_facility = local3"
sock=$W/log.sock
"$PY" - "$sock" "$W/datagrams" "$W/ready" <<'PY' &
import os, socket, sys
sock, out, ready = sys.argv[1:4]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sock)
open(ready, "w").close()
with open(out, "w") as f:
    while True:
        d = s.recv(65536).decode("utf-8", "replace")
        if d == "STOP":
            break
        f.write(d.replace("\n", "\\n") + "\n")
        f.flush()
PY
pypid=$!
test_cleanup_more() { kill "$pypid" 2>/dev/null; }
wait_for '[ -e "$W/ready" ]' 100 || fail "the test's syslog socket did not come up"
SMIMESYNC_SYSLOG_SOCKET=$sock "$SMIMESYNC" -c "$W/c.conf" run --dry-run >/dev/null 2>"$W/stderr"
"$PY" -c 'import socket, sys; s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.sendto(b"STOP", sys.argv[1])' "$sock"
wait "$pypid"
check 'grep -qE "^<155>[A-Z][a-z]{2} [ 0-9]{2} [0-9:]{8} smimesync\[[0-9]+\]: error run=.*cannot read members" "$W/datagrams"' \
	"log = syslog, log_facility = local3: the error is <155> (local3.err), in syslog(3)'s form"
check 'grep -q "^<158>" "$W/datagrams"' "info lines are <158> (local3.info)"
check '! grep -q "cannot read members" "$W/stderr"' "nothing of it on stderr"
"$SMIMESYNC" -c "$W/c.conf" check-config -v 2>/dev/null | grep -qx 'log_facility = local3' &&
	echo "ok: check-config -v shows log_facility" || fail "check-config -v does not show log_facility"

test_end
