#!/bin/sh
# SPDX-License-Identifier: ISC
# The daemon follows OpenLDAP's change stream (issue #17): a real slapd with
# syncprov and memberof, the SMTP sink, the local CA. Checked from outside
# (ldapsearch of userCertificate, the sink's files, the CA's record in the
# store's certs table and its CRL):
#   - with incremental = yes the daemon starts following the stream; its
#     first run is a full read ("daemon start");
#   - a person added to a synced group while it runs: their certificate
#     appears in the directory and their collection and password mails in
#     the sink; the run that did it is incremental, triggered by "a change
#     in [directory corp]", reads no group (the stream names the member who
#     joined, who is looked up alone), and reports its lag;
#   - a mail address changed: the certificate is re-issued for it, without
#     reading any group (a PERSON change);
#   - a person removed from the group (on_leave = revoke, no grace): revoked
#     and unpublished;
#   - invariant I5 across the scope: a new member with the address of
#     someone in a group the run would not read: the run reads everyone
#     (a full read) and certifies the address for neither;
#   - kill -9 mid-stream, change things while it is down, start it again:
#     nothing missed, nothing twice (certificates per person at the CA,
#     mails per person in the sink);
#   - the run at [service] interval reads no group: it looks up only the
#     people due by the clock (a renewal due: renewed, published), and a
#     quiet one renews nobody;
#   - the metrics file shows the stream's lag, last full read and changes;
#   - incremental = yes against a slapd without syncprov: the daemon refuses
#     to start, naming the directory and what to configure.
# With DAEMON_WATCH_ACCESSLOG=yes (daemon_watch_ldap_accesslog.sh) slapd
# runs the accesslog overlay and the config names it (accesslog_base): all
# of the above holds the same, and the new member's run reads the log, not
# the group's member values (slapd's stats log).
# Waits poll for a condition a bounded number of times, never a deadline on
# how fast (the reaction time is measured by make bench).
set -u
: "${top_srcdir:?}" "${top_builddir:?}" "${SMIMESYNC:?}"
. "$top_srcdir/tests/tools/slapd-lib.sh"
. "$top_srcdir/tests/tools/smtp-lib.sh"
. "$top_srcdir/tests/tools/smimesync-lib.sh"
. "$top_srcdir/tests/tools/test-lib.sh" # wait_for
slapd_require
smtp_require
command -v sqlite3 >/dev/null || { echo "SKIP: sqlite3 is not installed (tools/install-deps)"; exit 77; }
command -v jq >/dev/null || { echo "SKIP: jq is not installed (tools/install-deps)"; exit 77; }

W=$(mktemp -d /tmp/smimesync-dwatch.XXXXXX)
DPID=
cleanup() {
	if [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null; then kill -KILL "$DPID"; wait "$DPID" 2>/dev/null || true; fi
	smtp_stop || true; slapd_stop || true; [ -n "${KEEP:-}" ] || rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
check() { if eval "$1"; then ok "$2"; else fail "$2"; fi; }

mkdir -p "$W/slapd" "$W/smtp" "$W/metrics"
ALOG=${DAEMON_WATCH_ACCESSLOG:-no}
SLAPD_OVERLAYS="memberof syncprov"
[ "$ALOG" = no ] || SLAPD_OVERLAYS="memberof syncprov accesslog"
export SLAPD_OVERLAYS
slapd_start "$W/slapd"
slapd_load "$top_srcdir/tests/data/example-org.ldif" >/dev/null
smtp_start "$W/smtp"
smimesync_write_config "$W" p256 p256
DB=$W/state/smimesync.db
METRICS=$W/metrics/smimesync.prom
# A long interval: every run after the first comes from the stream.
sed -i "s|^log_level = info|log_level = debug\ninterval = 1h\njitter = 0s\nmetrics_file = $METRICS|" "$SMIMESYNC_CONF"
sed -i "s|^base_dn = .*|&\nincremental = yes|" "$SMIMESYNC_CONF"
[ "$ALOG" = no ] || sed -i "s|^base_dn = .*|&\naccesslog_base = cn=accesslog|" "$SMIMESYNC_CONF"
sed -i "s|^pkcs12 = compat|&\non_leave = revoke\nleave_grace = 0s|" "$SMIMESYNC_CONF"
"$SMIMESYNC" ca init --root-key-out "$ROOT_KEY_OUT" >/dev/null

B=$SLAPD_BASE
P=ou=people,$B
STAFF=cn=smime-staff,ou=groups,$B
runs_done() { sqlite3 -cmd ".timeout 60000" "$DB" "SELECT COUNT(*) FROM runs WHERE report IS NOT NULL" 2>/dev/null || echo 0; }
last_report() { sqlite3 -cmd ".timeout 60000" "$DB" "SELECT report FROM runs WHERE report IS NOT NULL ORDER BY started DESC, rowid DESC LIMIT 1"; }
published() { # uid: number of userCertificate values
	ldapsearch -x -LLL -H "$SLAPD_URI" -b "uid=$1,$P" -s base 'userCertificate;binary' 2>/dev/null |
		grep -c '^userCertificate;binary::'
}
mails_to() { # address: messages in the sink addressed to it
	_n=0
	for _f in "$SMTP_DIR"/*.eml; do
		[ -f "$_f" ] && grep -qi "^To:.*<\?$1>\?" "$_f" && _n=$((_n + 1))
	done
	echo "$_n"
}
certs_of() { # mail: certificates the CA made for it
	sqlite3 -cmd ".timeout 60000" "$DB" "SELECT COUNT(*) FROM certs c JOIN users u ON u.id = c.user_id WHERE u.mail = '$1'"
}
revoked_of() {
	sqlite3 -cmd ".timeout 60000" "$DB" "SELECT COUNT(*) FROM certs c JOIN users u ON u.id = c.user_id WHERE u.mail = '$1' AND c.status = 'revoked'"
}
valid_of() {
	sqlite3 -cmd ".timeout 60000" "$DB" "SELECT COUNT(*) FROM certs c JOIN users u ON u.id = c.user_id WHERE u.mail = '$1' AND c.status = 'valid'"
}
add_person() { # uid mail
	printf 'dn: uid=%s,%s\nobjectClass: inetOrgPerson\nuid: %s\ncn: %s New\nsn: New\nmail: %s\n' \
		"$1" "$P" "$1" "$1" "$2" | ldapadd -x -H "$SLAPD_URI" -D "$SLAPD_ADMIN_DN" -y "$SLAPD_ADMIN_PW_FILE" >/dev/null
}
member() { # add|delete uid
	printf 'dn: %s\nchangetype: modify\n%s: member\nmember: uid=%s,%s\n' "$STAFF" "$1" "$2" "$P" | slapd_modify
}
start_daemon() {
	"$SMIMESYNC" daemon 2>>"$W/daemon.log" &
	DPID=$!
}
# Poll generously: the machine may be busy; a wait that ends is no timing claim.
WAIT=6000

start_daemon
wait_for '[ "$(runs_done)" -ge 1 ]' $WAIT || { fail "no run at start"; cat "$W/daemon.log"; exit 1; }
check 'grep -q "\[directory corp\] following its change stream" "$W/daemon.log"' \
	"incremental = yes: the daemon follows corp's stream"
R=$(last_report)
check '[ "$(echo "$R" | jq -r .run.kind)" = full ] && [ "$(echo "$R" | jq -r .run.trigger)" = "daemon start" ]' \
	"the first run is a full read at daemon start"
check '[ "$(echo "$R" | jq -r ".streams[0].directory")" = corp ] && [ "$(echo "$R" | jq -r ".streams[0].kind")" = syncrepl ]' \
	"the report names the stream followed"
check '[ "$(sqlite3 -cmd ".timeout 60000" "$DB" "SELECT kind FROM stream_state WHERE directory = '"'corp'"' AND state IS NOT NULL AND last_full_read > 0")" = syncrepl ]' \
	"the stream's position is stored with the run, with the last full read"
N0=$(runs_done)
VALID0=$(sqlite3 -cmd ".timeout 60000" "$DB" "SELECT COUNT(*) FROM certs WHERE status = 'valid'")

# --- a new hire ------------------------------------------------------------------
add_person newbie newbie@example.org
LOG_MARK=$(wc -l <"$SLAPD_LOG")
member add newbie
if wait_for '[ "$(published newbie)" -ge 1 ]' $WAIT; then ok "a new member's certificate is published"; else fail "newbie not published"; tail -30 "$W/daemon.log"; fi
check 'wait_for "[ \"\$(mails_to newbie@example.org)\" -ge 2 ]" $WAIT' "their collection and password mails are in the sink"
wait_for '[ -n "$(sqlite3 -cmd ".timeout 60000" "$DB" "SELECT 1 FROM runs WHERE report LIKE '"'%newbie@example.org%'"'")" ]' $WAIT
R=$(sqlite3 -cmd ".timeout 60000" "$DB" "SELECT report FROM runs WHERE report LIKE '%newbie@example.org%' ORDER BY started, rowid LIMIT 1")
check '[ "$(echo "$R" | jq -r .run.kind)" = incremental ]' "that run was incremental"
check '[ "$(echo "$R" | jq -r .run.trigger)" = "a change in [directory corp]" ]' "triggered by a change in [directory corp]"
check '[ "$(echo "$R" | jq -r ".groups | length")" = 0 ] && grep -q "looked up uid=newbie,$P alone: in 1 of the 2 groups" "$W/daemon.log"' \
	"it read no group: the new member was looked up alone"
check '[ "$(echo "$R" | jq -r ".run.lag_s | type")" = number ]' "it reports its lag"
if [ "$ALOG" != no ]; then
	tail -n +"$((LOG_MARK + 1))" "$SLAPD_LOG" >"$W/newbie-slapd.log"
	check '! grep -Eiq "SRCH attr=(.* )?(member|uniqueMember)( |\$)" "$W/newbie-slapd.log" && grep -q "SRCH base=\"cn=accesslog\" scope=1" "$W/newbie-slapd.log"' \
		"accesslog: who joined was read from the log; no search asked for the group's member values"
fi
check '[ "$(echo "$R" | jq -r .counts.issued)" = 1 ]' "it issued one certificate"

# --- a mail address changed: a PERSON change, no group read -------------------------
N1=$(runs_done)
printf 'dn: uid=dave,%s\nchangetype: modify\nreplace: mail\nmail: dave.davis@example.org\n' "$P" | slapd_modify
if wait_for '[ "$(valid_of dave.davis@example.org)" = 1 ]' $WAIT; then ok "a changed address is re-issued"; else fail "dave not re-issued"; tail -30 "$W/daemon.log"; fi
report_with() { sqlite3 -cmd ".timeout 60000" "$DB" "SELECT report FROM runs WHERE report LIKE '%$1%' ORDER BY started, rowid LIMIT 1"; }
wait_for '[ -n "$(report_with dave.davis@example.org)" ]' $WAIT
R=$(report_with dave.davis@example.org)
check '[ "$(echo "$R" | jq -r .run.kind)" = incremental ] && [ "$(echo "$R" | jq -r ".groups | length")" = 0 ]' \
	"the re-issue came from the person's change alone: no group was read"
check '[ "$(echo "$R" | jq -r .counts.reissued)" = 1 ]' "one re-issue"

# --- a leaver, on_leave = revoke without grace -----------------------------------------
member delete erin
if wait_for '[ "$(published erin)" = 0 ]' $WAIT; then ok "a removed member is unpublished"; else fail "erin still published"; fi
check 'wait_for "[ \$(revoked_of erin@example.org) -ge 1 ]" $WAIT' "and revoked at the CA"
check '[ "$(valid_of erin@example.org)" = 0 ]' "erin holds no valid certificate"

# --- I5: an address someone the incremental run did not read holds ------------------------
# twin joins smime-staff with bob's address; bob is only in smime-sales, which a
# run about smime-staff does not read. The run must read everyone before it
# certifies the address (it becomes a full read), and then certify it for neither.
NT=$(runs_done)
add_person twin bob@example.org
member add twin
twin_report() { sqlite3 -cmd ".timeout 60000" "$DB" "SELECT report FROM runs WHERE report LIKE '%uid=twin,%' ORDER BY started, rowid" | jq -c 'select(.run.trigger | startswith("a change"))' | head -1; }
wait_for '[ -n "$(twin_report)" ]' $WAIT
R=$(twin_report)
check '[ "$(echo "$R" | jq -r .run.kind)" = full ]' "a change that would certify a known address becomes a full read"
check 'echo "$R" | jq -r ".errors[].message" | grep -q "bob@example.org is claimed by .*uid=twin.* and by .*uid=bob\|bob@example.org is claimed by .*uid=bob.* and by .*uid=twin"' \
	"the address claimed by two people is reported with both entries"
check '[ "$(published twin)" = 0 ]' "twin gets no certificate"
check '[ "$(valid_of bob@example.org)" = 1 ]' "bob keeps his one certificate"
member delete twin
ldapdelete -x -H "$SLAPD_URI" -D "$SLAPD_ADMIN_DN" -y "$SLAPD_ADMIN_PW_FILE" "uid=twin,$P"
wait_for '[ "$(runs_done)" -gt "$NT" ]' $WAIT

# --- kill -9 mid-stream, changes while down --------------------------------------------
add_person kim kim@example.org
member add kim
kill -KILL "$DPID"
wait "$DPID" 2>/dev/null
DPID=
add_person lou lou@example.org
member add lou
member delete grace
start_daemon
for u in kim lou; do
	if wait_for '[ "$(published $u)" -ge 1 ]' $WAIT; then ok "$u (added around the crash) is published"; else fail "$u missed"; fi
done
check 'wait_for "[ \"\$(published grace)\" = 0 ]" $WAIT' "grace (removed while down) is unpublished"
check 'wait_for "[ \"\$(mails_to lou@example.org)\" -ge 2 ]" $WAIT && wait_for "[ \"\$(mails_to kim@example.org)\" -ge 2 ]" $WAIT' \
	"kim and lou have their mails"
# Let anything that would repeat itself happen, then count.
NR=$(runs_done)
printf 'dn: uid=judy,%s\nchangetype: modify\nreplace: displayName\ndisplayName: Judy J.\n' "$P" | slapd_modify
wait_for '[ "$(runs_done)" -gt "$NR" ]' $WAIT
for m in newbie@example.org kim@example.org lou@example.org; do
	check '[ "$(certs_of $m)" = 1 ] && [ "$(mails_to $m)" = 2 ]' "$m: one certificate at the CA, two mails: nothing twice"
done
check '[ "$(certs_of dave.davis@example.org)" = 2 ]' "dave: the first and the re-issued certificate, no more"
check '[ "$(sqlite3 -cmd ".timeout 60000" "$DB" "SELECT COUNT(*) FROM (SELECT user_id FROM certs WHERE status = '"'valid'"' GROUP BY user_id HAVING COUNT(*) > 1)")" = 0 ]' \
	"nobody holds two valid certificates"
check '[ "$(sqlite3 -cmd ".timeout 60000" "$DB" "SELECT COUNT(*) FROM certs WHERE status = '"'valid'"'")" = $((VALID0 + 3 - 2)) ]' \
	"valid certificates: as at start, plus three new members, less two leavers"

# --- the run at the interval reads no group: only the people due by the clock -------------
kill -TERM "$DPID"
wait "$DPID" 2>/dev/null
DPID=
sed -i "s|^interval = 1h|interval = 5s|" "$SMIMESYNC_CONF"
NS=$(runs_done)
start_daemon
wait_for '[ "$(runs_done)" -gt "$NS" ]' $WAIT
# As the store knows it, judy's certificate now expires tomorrow: her renewal is due.
sqlite3 -cmd ".timeout 60000" "$DB" "UPDATE certs SET not_after = CAST(strftime('%s','now') AS INTEGER) + 86400 WHERE status = 'valid' AND user_id = (SELECT id FROM users WHERE mail = 'judy@example.org')"
renewed_judy() {
	sqlite3 -cmd ".timeout 60000" "$DB" "SELECT report FROM runs WHERE report LIKE '%judy@example.org%' ORDER BY started, rowid" |
		jq -c 'select(.counts.renewed == 1)' | head -1
}
if wait_for '[ "$(certs_of judy@example.org)" = 2 ] && [ -n "$(renewed_judy)" ]' $WAIT; then ok "judy's renewal came when it was due"; else fail "judy was not renewed"; tail -30 "$W/daemon.log"; fi
R=$(renewed_judy)
check '[ "$(echo "$R" | jq -r .run.trigger)" = "interval (the people due by the clock are looked up; the streams follow everyone else)" ]' \
	"it was the run at the interval"
check '[ "$(echo "$R" | jq -r .run.kind)" = incremental ] && [ "$(echo "$R" | jq -r ".groups | length")" = 0 ]' \
	"that run read no group"
check '[ "$(echo "$R" | jq -r .counts.renewed)" = 1 ] && [ "$(echo "$R" | jq -r ".counts.issued // 0")" = 0 ]' \
	"it renewed judy and nobody else"
check '[ "$(valid_of judy@example.org)" -ge 1 ] && [ "$(published judy)" -ge 1 ]' "judy's new certificate is in her entry"
check 'grep -q "1 person looked up alone, 1 found in a synced group" "$W/daemon.log"' \
	"the log says whom the interval run looked up"
# Every interval run after it reads no group either (nothing is due).
NI=$(runs_done)
wait_for '[ "$(runs_done)" -ge $((NI + 2)) ]' $WAIT
R=$(last_report)
check '[ "$(echo "$R" | jq -r .run.trigger | cut -c1-8)" = interval ] && [ "$(echo "$R" | jq -r ".groups | length")" = 0 ] && [ "$(echo "$R" | jq -r ".counts.renewed // 0")" = 0 ]' \
	"a quiet interval run reads no group and renews nobody"

# --- metrics -------------------------------------------------------------------------------
check 'grep -q "^smimesync_stream_lag_seconds{directory=\"corp\"} " "$METRICS"' "metrics: the stream's lag"
check 'grep -q "^smimesync_stream_last_full_read_timestamp_seconds{directory=\"corp\"} [1-9]" "$METRICS"' \
	"metrics: the last full read"
check 'grep -q "^smimesync_stream_changes{directory=\"corp\"} " "$METRICS"' "metrics: changes seen"

kill -TERM "$DPID"
wait "$DPID" 2>/dev/null
DPID=

# --- incremental = yes without syncprov: refuse to start -----------------------------------
slapd_stop
SLAPD_OVERLAYS=
mkdir -p "$W/plain"
slapd_start "$W/plain"
sed -i "s|^uri = .*|uri = $SLAPD_URI|; s|^tls_ca_file = .*|tls_ca_file = $SLAPD_CA_FILE|" "$SMIMESYNC_CONF"
cp "$SLAPD_SVC_PW_FILE" "$W/ldap.secret"
"$SMIMESYNC" daemon 2>"$W/refuse.log" &
RPID=$!
if wait_for '! kill -0 $RPID 2>/dev/null' $WAIT; then
	wait "$RPID"
	rc=$?
else
	kill -KILL "$RPID"
	wait "$RPID" 2>/dev/null
	rc=0
fi
check '[ "$rc" != 0 ]' "incremental = yes without syncprov: the daemon does not start (exit $rc)"
check 'grep -q "\[directory corp\] incremental = yes, but there is no change stream" "$W/refuse.log" && grep -qi syncprov "$W/refuse.log"' \
	"it names the directory and what to configure"
grep "incremental = yes" "$W/refuse.log" | head -1

[ "$fails" = 0 ] || { echo "--- daemon.log (tail)"; tail -60 "$W/daemon.log"; }
echo "$fails failure(s)"
[ "$fails" = 0 ]
