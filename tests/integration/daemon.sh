#!/bin/sh
# SPDX-License-Identifier: ISC
# smimesync daemon against a real slapd and SMTP server:
#   - it runs at start, writes the metrics file, logs the run id;
#   - a second daemon on the same state directory refuses, naming the first;
#   - SIGUSR1 makes a run happen now;
#   - SIGHUP with a good configuration loads it; with a bad one the errors
#     are logged, the old configuration is kept and runs still work;
#   - SIGTERM in the middle of a run: the daemon exits 0, the run is
#     recorded as interrupted, the store passes its integrity check, and the
#     store and the directory agree; the next run finishes the work.
# Waits poll for a condition a bounded number of times, never a deadline.
set -eu
: "${top_srcdir:?}" "${top_builddir:?}" "${SMIMESYNC:?}"
. "$top_srcdir/tests/tools/slapd-lib.sh"
. "$top_srcdir/tests/tools/smtp-lib.sh"
. "$top_srcdir/tests/tools/smimesync-lib.sh"
. "$top_srcdir/tests/tools/test-lib.sh" # wait_for
slapd_require
smtp_require
command -v sqlite3 >/dev/null || { echo "SKIP: sqlite3 is not installed (tools/install-deps)"; exit 77; }

W=$(mktemp -d /tmp/smimesync-daemon.XXXXXX)
DPID=
NPID=
cleanup() {
	if [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null; then kill -KILL "$DPID"; wait "$DPID" || true; fi
	if [ -n "$NPID" ] && kill -0 "$NPID" 2>/dev/null; then kill "$NPID"; wait "$NPID" 2>/dev/null || true; fi
	smtp_stop || true; slapd_stop || true; [ -n "${KEEP:-}" ] || rm -rf "$W"
}
trap cleanup EXIT INT TERM
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }


mkdir -p "$W/slapd" "$W/smtp"
slapd_start "$W/slapd"
slapd_load "$top_srcdir/tests/data/example-org.ldif" >/dev/null
smtp_start "$W/smtp"
smimesync_write_config "$W" p256 p256
DB=$W/state/smimesync.db
METRICS=$W/metrics/smimesync.prom
mkdir -p "$W/metrics"
# A long interval: in this test runs happen at start and on SIGUSR1 only.
sed -i "s|^log_level = info|log_level = info\ninterval = 1h\njitter = 0s\nmetrics_file = $METRICS|" "$SMIMESYNC_CONF"
cp "$SMIMESYNC_CONF" "$W/good.conf"
# Without jitter the default is a tenth of the interval.
sed '/^jitter = /d; s/^interval = 1h/interval = 2h/' "$W/good.conf" >"$W/nojitter.conf"
"$SMIMESYNC" -c "$W/nojitter.conf" check-config -v 2>/dev/null | grep -qx 'jitter = 12m' &&
	ok "jitter defaults to a tenth of the interval" || fail "default jitter"
"$SMIMESYNC" ca init --root-key-out "$ROOT_KEY_OUT" >/dev/null

runs_done() { sqlite3 -cmd ".timeout 60000" "$DB" "SELECT COUNT(*) FROM runs WHERE report IS NOT NULL" 2>/dev/null || echo 0; }

# Play systemd: a notification socket that logs every datagram (Type=notify).
/usr/bin/python3 - "$W/notify.sock" "$W/notify.log" <<'PY' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
while True:
    msg = s.recv(4096).decode()
    with open(sys.argv[2], "a") as f:
        f.write(msg.replace("\n", " | ") + "\n")
PY
NPID=$!
wait_for '[ -S "$W/notify.sock" ]' 300 || fail "no notification socket"

NOTIFY_SOCKET=$W/notify.sock "$SMIMESYNC" daemon 2>"$W/daemon.log" &
DPID=$!

# --- the first run, at start -------------------------------------------------
if wait_for '[ "$(runs_done)" -ge 1 ]' 3000; then ok "the daemon ran at start"; else fail "no run at start"; cat "$W/daemon.log"; exit 1; fi
wait_for '[ -s "$METRICS" ]' 300 || true
NV=$(sqlite3 -cmd ".timeout 60000" "$DB" "SELECT COUNT(DISTINCT user_id) FROM certs WHERE status = 'valid'")
NI=$(sqlite3 -cmd ".timeout 60000" "$DB" "SELECT json_extract(report, '$.counts.issued') FROM runs")
[ "$NV" -gt 20 ] && [ "$NI" = "$NV" ] || fail "first run: $NI issued, $NV valid"
grep -q "^smimesync_users{state=\"valid\"} $NV\$" "$METRICS" && ok "metrics: $NV users with a valid certificate" ||
	fail "metrics users: $(grep smimesync_users "$METRICS" 2>&1 | tr '\n' ' ')"
grep -q '^smimesync_last_run_status{status="ok"} 1$' "$METRICS" && ok "metrics: last run ok" || fail "metrics status"
grep -q "^smimesync_last_run_count{what=\"issued\"} $NI\$" "$METRICS" && ok "metrics: $NI issued" || fail "metrics issued"
grep -q '^smimesync_mails_queued 0$' "$METRICS" && ok "metrics: outbox empty" || fail "metrics outbox"
grep -q '^smimesync_certificates_expiring{within="30d"} 0$' "$METRICS" && ok "metrics: nothing expiring" || fail "metrics expiring"
bad=$(grep -v '^#' "$METRICS" | grep -Ev '^[a-z_]+(\{[a-z_]+="[^"\\]*"\})? -?[0-9]+(\.[0-9]+)?$' || true)
[ -z "$bad" ] && ok "metrics: every sample line is well formed" || fail "metrics lines: $bad"
# Prometheus' own parser (python3-prometheus-client) reads every family.
if /usr/bin/python3 -c 'import prometheus_client' 2>/dev/null; then
	/usr/bin/python3 - "$METRICS" <<'PY' >"$W/prom.out" 2>&1 && ok "the Prometheus parser reads the file: $(cat "$W/prom.out")" || fail "prometheus parser: $(cat "$W/prom.out")"
import sys
from prometheus_client.parser import text_string_to_metric_families
fams = list(text_string_to_metric_families(open(sys.argv[1]).read()))
names = {f.name for f in fams}
need = {"smimesync_users", "smimesync_certificates_expiring", "smimesync_last_run_status",
        "smimesync_last_run_duration_seconds", "smimesync_last_run_start_timestamp_seconds",
        "smimesync_mails_queued", "smimesync_mails_failed", "smimesync_last_run_errors"}
missing = need - names
assert not missing, "missing %s" % sorted(missing)
assert all(f.type == "gauge" for f in fams)
print("%d families, %d samples" % (len(fams), sum(len(f.samples) for f in fams)))
PY
else
	echo "note: python3-prometheus-client is not installed; the format was checked by pattern only"
fi
[ "$(stat -c %a "$METRICS")" = 644 ] && ok "metrics file is world-readable for node_exporter" || fail "metrics mode"
ls "$W/metrics" | grep -qv '^smimesync.prom$' && fail "temporary files left in the metrics directory" || ok "metrics written atomically, no leftovers"
grep -q "daemon started (pid $DPID, state_dir $W/state, interval 3600s, jitter up to 0s)" "$W/daemon.log" &&
	ok "the daemon logs its pid, state_dir, interval and jitter" || fail "start line: $(head -2 "$W/daemon.log")"
grep -Eq 'info run=[0-9TZ]+-[0-9a-f]+: run finished: ok' "$W/daemon.log" && ok "log lines carry the run id" ||
	fail "no run id in the log: $(tail -3 "$W/daemon.log")"

wait_for 'grep -q "next run in" "$W/notify.log" 2>/dev/null' 300 || true
grep -q "^READY=1 | MAINPID=$DPID" "$W/notify.log" && ok "sd_notify: READY=1 with the daemon's pid" || fail "no READY: $(cat "$W/notify.log" 2>&1)"
grep -Eq '^STATUS=last run [0-9TZ]+-[0-9a-f]+: ok; next run in 3600s$' "$W/notify.log" &&
	ok "sd_notify: STATUS names the last run and the next" || fail "STATUS: $(cat "$W/notify.log")"
# While the run went on, systemctl status showed its phases and counts.
grep -Eq '^STATUS=running: reading the directory 0 of 2 \(0%\); first run$' "$W/notify.log" &&
	grep -Eq '^STATUS=running: issuing [0-9,]+ of [0-9,]+ \([0-9]+%\)(, [0-9.]+/s)?(, [0-9:]+ left)?; first run$' "$W/notify.log" &&
	ok "sd_notify: STATUS follows the run (reading, issuing N of M)" || fail "running STATUS: $(grep running "$W/notify.log" | head -5)"
grep -q '^smimesync_run_in_progress 0$' "$METRICS" && ok "metrics: no run in progress after it" || fail "metrics in_progress"

# --- a second daemon on the same state directory refuses ---------------------
rc=0
"$SMIMESYNC" daemon >"$W/second.out" 2>"$W/second.err" || rc=$?
if [ "$rc" = 1 ] && grep -q "another smimesync daemon with pid $DPID already runs on state directory $W/state" "$W/second.err"; then
	ok "a second daemon refuses: $(tail -1 "$W/second.err" | cut -c1-100)..."
else
	fail "second daemon: rc=$rc $(cat "$W/second.err")"
fi
kill -0 "$DPID" && ok "the first daemon still runs" || fail "the first daemon died"

# --- SIGUSR1: run now ---------------------------------------------------------
kill -USR1 "$DPID"
wait_for '[ "$(runs_done)" -ge 2 ]' 3000 && ok "SIGUSR1 started a run" || fail "SIGUSR1: no run"
[ "$(sqlite3 -cmd ".timeout 60000" "$DB" "SELECT status FROM runs ORDER BY started DESC, rowid DESC LIMIT 1")" = ok ] &&
	ok "that run was ok (nothing to do)" || fail "second run status"

# --- SIGHUP with a good configuration -----------------------------------------
sed 's/^log_level = info/log_level = debug/' "$W/good.conf" >"$SMIMESYNC_CONF"
kill -HUP "$DPID"
wait_for 'grep -q "reload: configuration .* loaded" "$W/daemon.log"' 3000 && ok "SIGHUP loaded a valid configuration" ||
	fail "SIGHUP good: $(tail -3 "$W/daemon.log")"

# --- SIGHUP with a bad configuration: refused, old one kept -------------------
printf '[service]\nstate_dir = %s/state\nno_such_key = 1\n' "$W" >"$SMIMESYNC_CONF"
kill -HUP "$DPID"
wait_for 'grep -q "keeping the running configuration" "$W/daemon.log"' 3000 && ok "SIGHUP with a bad configuration is refused" ||
	fail "SIGHUP bad: $(tail -3 "$W/daemon.log")"
grep -q 'reload: .*no_such_key' "$W/daemon.log" && ok "the error in it is logged" || fail "bad key not logged"
wait_for 'grep -q "STATUS=reload refused" "$W/notify.log"' 300 &&
	grep -q '^RELOADING=1$' "$W/notify.log" && grep -q '^READY=1 | STATUS=configuration reloaded' "$W/notify.log" &&
	ok "sd_notify: RELOADING, then READY with what became of the reload" || fail "reload notifications: $(cat "$W/notify.log")"
kill -0 "$DPID" && ok "the daemon survived the bad configuration" || fail "daemon died on a bad configuration"
kill -USR1 "$DPID"
wait_for '[ "$(runs_done)" -ge 3 ]' 3000 && ok "runs go on with the old configuration" || fail "no run after the bad reload"
[ "$(sqlite3 -cmd ".timeout 60000" "$DB" "SELECT COUNT(*) FROM runs WHERE status = 'ok'")" = 3 ] && ok "and they are ok" || fail "run after bad reload not ok"
cp "$W/good.conf" "$SMIMESYNC_CONF"

# --- SIGTERM in the middle of a run ---------------------------------------------
# Forty new people with RSA keys: a run long enough to be interrupted.
i=0
: >"$W/more.ldif"
while [ "$i" -lt 40 ]; do
	printf 'dn: uid=temp%d,ou=people,%s\nobjectClass: inetOrgPerson\nuid: temp%d\ncn: Temp %d\nsn: Temp\nmail: temp%d@example.org\n\n' \
		"$i" "$SLAPD_BASE" "$i" "$i" "$i" >>"$W/more.ldif"
	i=$((i + 1))
done
slapd_load "$W/more.ldif" >/dev/null
{
	printf 'dn: cn=smime-staff,ou=groups,%s\nchangetype: modify\nadd: member\n' "$SLAPD_BASE"
	i=0; while [ "$i" -lt 40 ]; do printf 'member: uid=temp%d,ou=people,%s\n' "$i" "$SLAPD_BASE"; i=$((i + 1)); done
} >"$W/members.ldif"
ldapmodify -x -H "$SLAPD_URI" -D "$SLAPD_ADMIN_DN" -y "$SLAPD_ADMIN_PW_FILE" -f "$W/members.ldif" >/dev/null
sed -i '/^\[group smime-staff\]/,$ s/^key_type = .*/key_type = rsa2048/' "$SMIMESYNC_CONF"
# A key type the CA did not sign before: the signer's policy must allow it too.
sed -i 's/^key_types = .*/&, rsa2048/' "$W/signer.conf"
kill -HUP "$DPID"
wait_for '[ "$(grep -c "reload: configuration .* loaded" "$W/daemon.log")" -ge 2 ]' 3000 || fail "second good reload"
kill -USR1 "$DPID"
# Mid-run: the new people's actions exist but not all are done.
wait_for '[ "$(sqlite3 -cmd ".timeout 60000" "$DB" "SELECT COUNT(*) FROM actions WHERE mail LIKE '"'temp%'"'" 2>/dev/null || echo 0)" -gt 0 ]' 3000 ||
	fail "the run with new people never started"
kill -TERM "$DPID"
rc=0
wait "$DPID" || rc=$?
DPID=
[ "$rc" = 0 ] && ok "SIGTERM: the daemon exited 0" || fail "SIGTERM: exit $rc"
grep -q "stopping on a signal" "$W/daemon.log" && ok "it said why it stopped" || fail "no stop message"
# The listener may read the last datagram after the daemon is gone.
wait_for 'grep -q "^STOPPING=1$" "$W/notify.log"' 300 && ok "sd_notify: STOPPING=1" || fail "no STOPPING"
last=$(sqlite3 -cmd ".timeout 60000" "$DB" "SELECT report FROM runs ORDER BY started DESC, rowid DESC LIMIT 1")
echo "$last" | grep -q 'interrupted by a signal' && ok "the run is recorded as interrupted" || fail "run not recorded as interrupted"
open=$(sqlite3 -cmd ".timeout 60000" "$DB" "SELECT COUNT(*) FROM actions WHERE state NOT IN ('done','failed')")
echo "   ($open of 40 provisionings left for the next run)"
[ "$open" -gt 0 ] && ok "it stopped before finishing everyone" || fail "nothing was left: the run was not interrupted"
grep -q '^smimesync_last_run_interrupted 1$' "$METRICS" && ok "metrics: the last run was interrupted" || fail "metrics interrupted"
[ "$(sqlite3 -cmd ".timeout 60000" "$DB" 'PRAGMA integrity_check')" = ok ] && ok "store integrity ok after SIGTERM" || fail "store integrity"

# The store and the directory agree: every published valid certificate is
# the one in the directory, and the directory holds nothing else.
consistent() {
	_bad=0
	sqlite3 -separator ' ' "$DB" "SELECT u.dn, lower(hex(c.der)) FROM certs c JOIN users u ON u.id = c.user_id WHERE c.status = 'valid' AND c.published = 1" >"$W/store-certs"
	while read -r dn hexder; do
		got=$(ldapsearch -LLL -o ldif-wrap=no -x -H "$SLAPD_URI" -b "$dn" -s base '(objectClass=*)' 'userCertificate;binary' |
			sed -n 's/^userCertificate;binary:: //p' | base64 -d | od -An -v -tx1 | tr -d ' \n')
		[ "$got" = "$hexder" ] || { echo "   $dn: directory and store differ"; _bad=1; }
	done <"$W/store-certs"
	nd=$(ldapsearch -LLL -x -H "$SLAPD_URI" -b "ou=people,$SLAPD_BASE" '(userCertificate;binary=*)' dn | grep -c '^dn:' || true)
	ns=$(wc -l <"$W/store-certs")
	[ "$nd" = "$ns" ] || { echo "   directory has $nd certificates, store $ns published"; _bad=1; }
	return $_bad
}
consistent && ok "store and directory agree after SIGTERM" || fail "store and directory disagree after SIGTERM"

# The next run resumes and finishes the work.
"$SMIMESYNC" run >"$W/resume.out" 2>&1 && ok "the next run completes" || fail "resume run: $(tail -5 "$W/resume.out")"
[ "$(sqlite3 -cmd ".timeout 60000" "$DB" "SELECT COUNT(*) FROM actions WHERE state NOT IN ('done')")" = 0 ] && ok "no unfinished provisioning left" ||
	fail "unfinished provisioning remains"
[ "$(sqlite3 -cmd ".timeout 60000" "$DB" "SELECT COUNT(DISTINCT user_id) FROM certs WHERE status = 'valid' AND mail LIKE 'temp%'")" = 40 ] &&
	ok "all 40 new people have a certificate" || fail "not all new people have a certificate"
consistent && ok "store and directory agree after the resumed run" || fail "store and directory disagree at the end"

# The lock died with the first daemon: a new one starts; SIGTERM while it
# waits between runs ends it at once, with exit 0.
n_before=$(runs_done)
"$SMIMESYNC" daemon 2>"$W/daemon2.log" &
DPID=$!
wait_for '[ "$(runs_done)" -gt "$n_before" ]' 3000 && ok "a new daemon starts once the old one is gone" ||
	fail "second daemon: $(tail -3 "$W/daemon2.log")"
wait_for 'grep -q "next run in" "$W/daemon2.log"' 3000 || fail "the new daemon never went to sleep"
kill -TERM "$DPID"
rc=0
wait "$DPID" || rc=$?
DPID=
[ "$rc" = 0 ] && grep -q "daemon stopped" "$W/daemon2.log" && ok "SIGTERM while waiting: exit 0 at once" || fail "idle SIGTERM: rc=$rc"

echo "$fails failure(s)"
[ "$fails" = 0 ]
