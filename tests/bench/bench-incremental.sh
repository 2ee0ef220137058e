#!/bin/sh
# SPDX-License-Identifier: ISC
# `make bench`, issue #17 item 7: the daemon following OpenLDAP's change
# stream against a directory of BENCH_USERS people, every one of them in
# bench-all and holding a certificate (tests/bench/seed-store.py).
#
#   top_srcdir=... top_builddir=... SMIMESYNC=... BENCH_USERS=100000 \
#   BENCH_REACT_SAMPLES=5 BENCH_JSON=bench-incremental.json sh tests/bench/bench-incremental.sh
#
#   reaction   ldapmodify adds a person (added beforehand, not yet a member)
#              to bench-all while the daemon runs; the time until their
#              certificate is in their entry (ldapsearch every 0.1 s):
#              typical (median) and p95 (the largest of the samples, with
#              five) over BENCH_REACT_SAMPLES; targets <= 10 s and <= 60 s
#   cost       the LDAP work an hour of incremental operation with 100
#              changes would take, against one full paged read of the same
#              group, in entries returned to the service account (slapd's
#              stats log: nentries of every search on its connections). The
#              changes measured: the reaction samples (a member added), as
#              many members removed, and as many display names changed,
#              each with the runs it caused (the daemon's own writes of
#              userCertificate come back through the stream and are looked
#              up too); then one run at [service] interval with BENCH_DUE
#              people due by the clock (default 46: with certificates
#              spread over a year, 100,000 people renew about 11 an hour,
#              and are reminded about three times as often), made due by
#              moving their certificates' expiry in the store to tomorrow.
#              The hour: 100 changes in the measured mix plus one interval
#              run. Entries the persistent search pushes are not in the
#              stats log (a few per change). Bytes: everything the service
#              read from slapd (the persistent search included), counted by
#              a relay between them (tests/tools/tcp-count.py; TLS records,
#              so a little more than the LDAP messages), sampled after the
#              daemon's first run and before the interval run, so the
#              changes alone are counted. Target <= 2 % in both.
#   slapd runs the accesslog overlay and the service reads member changes
#   from it (accesslog_base); BENCH_ACCESSLOG=no measures without.
# One line per measure on stdout; exit 0 when the bench ran, 1 when it broke.
set -eu
: "${top_srcdir:?}" "${top_builddir:?}" "${SMIMESYNC:?}"
. "$top_srcdir/tests/tools/slapd-lib.sh"
. "$top_srcdir/tests/tools/smtp-lib.sh"
slapd_require
smtp_require
command -v sqlite3 >/dev/null || { echo "bench: sqlite3 is missing (tools/install-deps)" >&2; exit 1; }

N=${BENCH_USERS:-100000}
S=${BENCH_REACT_SAMPLES:-5}
DUE=${BENCH_DUE:-46}
JSON=${BENCH_JSON:-$top_builddir/bench-incremental.json}
W=$(mktemp -d /tmp/smimesync-benchinc.XXXXXX)
DPID=
cleanup() {
	if [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null; then kill -TERM "$DPID"; wait "$DPID" 2>/dev/null || true; fi
	if [ -n "${RELAY_PID:-}" ]; then kill "$RELAY_PID" 2>/dev/null || true; fi
	smtp_stop || true; slapd_stop || true; [ -n "${KEEP:-}" ] || rm -rf "$W"
}
trap cleanup EXIT INT TERM
note() { printf '# %s\n' "$*" >&2; }
now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"%.3f\", $* }"; }
die() { echo "bench-incremental: $*" >&2; KEEP=1; exit 1; }

# accesslog: a member change is read from the log, not from the member list
# (accesslog_base below); BENCH_ACCESSLOG=no measures without it.
ALOG=${BENCH_ACCESSLOG:-yes}
note "$(date -u +%H:%M:%S) generating $N users, slapadd (syncprov, memberof, accesslog: $ALOG, stats log)"
mkdir -p "$W/slapd" "$W/smtp" "$W/d"
/usr/bin/python3 "$top_srcdir/tests/bench/gen-ldif.py" dc=example,dc=org "$N" 10 >"$W/people.ldif"
SLAPD_MAXSIZE=8589934592
SLAPD_DEBUG=stats
SLAPD_DB_EXTRA='dbnosync
limits dn.exact="cn=smimesync,ou=services,dc=example,dc=org" size=unlimited time=unlimited'
SLAPD_OVERLAYS="memberof syncprov"
[ "$ALOG" = no ] || SLAPD_OVERLAYS="memberof syncprov accesslog"
export SLAPD_MAXSIZE SLAPD_DEBUG SLAPD_DB_EXTRA SLAPD_OVERLAYS
slapd_start_with_ldif "$W/slapd" "$W/people.ldif"
smtp_start "$W/smtp"
# The service talks to slapd through a relay that counts the bytes it reads.
RELAY_PORT=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
SLAPD_PORT=${SLAPD_URI##*:}
/usr/bin/python3 "$top_srcdir/tests/tools/tcp-count.py" "$RELAY_PORT" 127.0.0.1 "$SLAPD_PORT" "$W/bytes" &
RELAY_PID=$!
RELAY_URI=ldap://127.0.0.1:$RELAY_PORT
while [ ! -s "$W/bytes" ]; do sleep 0.1; done
bytes_read() { cut -d' ' -f1 "$W/bytes"; }
D=$W/d
mkdir -p "$D/state" "$D/ca" "$D/offline"
chmod 700 "$D/state" "$D/ca" "$D/offline"
cp "$SLAPD_SVC_PW_FILE" "$D/ldap.secret"
chmod 600 "$D/ldap.secret"
INTERVAL=1h
conf() { # groups...
	cat >"$D/smimesync.conf" <<CONF
[service]
state_dir = $D/state
log_level = info
interval = $INTERVAL
jitter = 0s
max_new_per_run = 10000000

[directory corp]
type = ldap
uri = $RELAY_URI
starttls = required
bind_dn = $SLAPD_SVC_DN
bind_password_file = $D/ldap.secret
base_dn = $SLAPD_BASE
tls_ca_file = $SLAPD_CA_FILE
page_size = 1000
incremental = yes
$([ "$ALOG" = no ] || echo "accesslog_base = cn=accesslog")

[ca internal]
cert_file = $D/ca/issuing.pem
key_file = $D/ca/issuing.key
chain_file = $D/ca/chain.pem
crl_url = http://pki.example.org/smime.crl
key_type = p256

[mail]
smtp_host = 127.0.0.1
smtp_port = $SMTP_PORT
tls_ca_file = $SMTP_CA_FILE
from = Example PKI <pki@example.org>
CONF
	for g in "$@"; do
		printf '\n[group %s]\ndirectory = corp\ngroup_dn = cn=%s,ou=groups,%s\nca = internal\nkey_type = p256\n' \
			"$g" "$g" "$SLAPD_BASE" >>"$D/smimesync.conf"
	done
}
SMIMESYNC_CONF=$D/smimesync.conf
export SMIMESYNC_CONF
LDAPTLS_CACERT=$SLAPD_CA_FILE
export LDAPTLS_CACERT
conf bench-tiny
"$SMIMESYNC" ca init --root-key-out "$D/offline/root.key" >/dev/null
"$SMIMESYNC" run >"$W/tiny.report" 2>"$W/tiny.log" || die "the first run failed; see $W/tiny.report and $W/tiny.log"
ldap_read() { ldapsearch -x -ZZ -LLL -o ldif-wrap=no -H "$SLAPD_URI" -D "$SLAPD_SVC_DN" -y "$SLAPD_SVC_PW_FILE" "$@"; }
admin() { ldapmodify -x -H "$SLAPD_URI" -D "$SLAPD_ADMIN_DN" -y "$SLAPD_ADMIN_PW_FILE" "$@" >/dev/null; }
note "$(date -u +%H:%M:%S) seeding the store: everyone in bench-all holds a certificate"
ldap_read -E pr=1000/noprompt -b "cn=bench-all,ou=groups,$SLAPD_BASE" -s base "(objectClass=*)" member |
	sed -n 's/^member: //p' | sort >"$W/all.dns"
ldap_read -E pr=1000/noprompt -b "ou=people,$SLAPD_BASE" "(objectClass=inetOrgPerson)" \
	entryUUID mail displayName >"$W/people.dump"
/usr/bin/python3 "$top_srcdir/tests/bench/seed-store.py" "$D/state/smimesync.db" bench-all \
	"$W/people.dump" "$W/all.dns" >/dev/null
conf bench-all

# The service account's searches in the stats log from byte $1 on: entries returned.
entries_since() {
	tail -c +"$(($1 + 1))" "$SLAPD_LOG" | awk -v svc="dn=\"$SLAPD_SVC_DN\"" '
		/ BIND dn=/ { c = $0; sub(/.*conn=/, "", c); sub(/ .*/, "", c); if (index(tolower($0), tolower(svc))) mine[c] = 1 }
		/ SEARCH RESULT / && /nentries=/ {
			c = $0; sub(/.*conn=/, "", c); sub(/ .*/, "", c)
			n = $0; sub(/.*nentries=/, "", n); sub(/ .*/, "", n)
			if (c in mine) total += n
		}
		END { print total + 0 }'
}
# The BIND lines of connections opened before the window: keep them visible.
binds_of_svc() { grep " BIND dn=\"$SLAPD_SVC_DN\"" "$SLAPD_LOG" >"$W/binds" || true; }
entries_window() { # from [to]: entries of the service account's searches between two byte offsets
	binds_of_svc
	{ cat "$W/binds"; head -c "${2:-$(wc -c <"$SLAPD_LOG")}" "$SLAPD_LOG" | tail -c +"$(($1 + 1))"; } >"$W/window.log"
	SLAPD_LOG_SAVE=$SLAPD_LOG
	SLAPD_LOG=$W/window.log
	entries_since 0
	SLAPD_LOG=$SLAPD_LOG_SAVE
}
runs_done() { awk '/run ended \(/ { n++ } END { print n + 0 }' "$W/daemon.log" 2>/dev/null || echo 0; }
runs_started() { awk '/ (full|incremental) run: / { n++ } END { print n + 0 }' "$W/daemon.log" 2>/dev/null || echo 0; }
wait_runs() { # n: until n runs ended (the daemon must live)
	while [ "$(runs_done)" -lt "$1" ]; do
		kill -0 "$DPID" 2>/dev/null || die "the daemon died; see $W/daemon.log"
		sleep 0.2
	done
}
# Past the debounce, and every run that started has ended.
wait_idle() {
	sleep 3
	while [ "$(runs_started)" -gt "$(runs_done)" ]; do
		kill -0 "$DPID" 2>/dev/null || die "the daemon died; see $W/daemon.log"
		sleep 0.2
	done
}

note "$(date -u +%H:%M:%S) daemon start: one full read of bench-all"
OFF=$(wc -c <"$SLAPD_LOG")
B0=$(bytes_read)
"$SMIMESYNC" daemon 2>"$W/daemon.log" &
DPID=$!
wait_runs 1
FULL_ENTRIES=$(entries_window "$OFF")
FULL_BYTES=$(($(bytes_read) - B0))
note "the full read returned $FULL_ENTRIES entries"

published() {
	ldapsearch -x -LLL -H "$SLAPD_URI" -b "$1" -s base 'userCertificate;binary' 2>/dev/null |
		grep -c '^userCertificate;binary::' || true
}
: >"$W/react.sec"
OFF=$(wc -c <"$SLAPD_LOG")
B0=$(bytes_read)
i=0
while [ "$i" -lt "$S" ]; do
	i=$((i + 1))
	dn="uid=react$i,ou=people,$SLAPD_BASE"
	printf 'dn: %s\nobjectClass: inetOrgPerson\nuid: react%s\ncn: React %s\nsn: React\nmail: react%s@example.org\n' \
		"$dn" "$i" "$i" "$i" | admin -a
	# The new entry alone is a change too (of nobody known): let it pass first.
	wait_idle
	n=$(runs_done)
	t0=$(now)
	printf 'dn: cn=bench-all,ou=groups,%s\nchangetype: modify\nadd: member\nmember: %s\n' "$SLAPD_BASE" "$dn" | admin
	until [ "$(published "$dn")" -ge 1 ]; do
		kill -0 "$DPID" 2>/dev/null || die "the daemon died; see $W/daemon.log"
		sleep 0.1
	done
	t=$(calc "$(now) - $t0")
	echo "$t" >>"$W/react.sec"
	note "sample $i: $t s"
	wait_runs $((n + 1))
done
MID=$(wc -c <"$SLAPD_LOG")
B1=$(bytes_read)
# As many members removed again.
i=0
while [ "$i" -lt "$S" ]; do
	i=$((i + 1))
	wait_idle
	n=$(runs_done)
	printf 'dn: cn=bench-all,ou=groups,%s\nchangetype: modify\ndelete: member\nmember: uid=react%s,ou=people,%s\n' \
		"$SLAPD_BASE" "$i" "$SLAPD_BASE" | admin
	wait_runs $((n + 1))
done
wait_idle
MID2=$(wc -c <"$SLAPD_LOG")
B2=$(bytes_read)
# As many changes of a member's display name: the person alone is planned again.
i=0
while [ "$i" -lt "$S" ]; do
	i=$((i + 1))
	wait_idle
	n=$(runs_done)
	printf 'dn: uid=u%06d,ou=people,%s\nchangetype: modify\nreplace: displayName\ndisplayName: Renamed %s\n' \
		"$i" "$SLAPD_BASE" "$i" | admin
	wait_runs $((n + 1))
done
wait_idle
B3=$(bytes_read)
MEMBER_ENTRIES=$(entries_window "$OFF" "$MID")
REMOVE_ENTRIES=$(entries_window "$MID" "$MID2")
PERSON_ENTRIES=$(entries_window "$MID2")
CHANGE_ENTRIES=$((MEMBER_ENTRIES + REMOVE_ENTRIES + PERSON_ENTRIES))
MEMBER_BYTES=$((B1 - B0))
REMOVE_BYTES=$((B2 - B1))
PERSON_BYTES=$((B3 - B2))
CHANGE_BYTES=$((B3 - B0))
kill -TERM "$DPID"
wait "$DPID" 2>/dev/null || true
DPID=

# The run at [service] interval: restarted with a short one (the start is a
# full read), then DUE people made due, and the interval run that renews them.
note "$(date -u +%H:%M:%S) a run at [service] interval with $DUE people due by the clock"
INTERVAL=15s
conf bench-all
n=$(runs_done)
"$SMIMESYNC" daemon 2>>"$W/daemon.log" &
DPID=$!
wait_runs $((n + 1))
sqlite3 -cmd ".timeout 60000" "$D/state/smimesync.db" "UPDATE certs SET not_after = CAST(strftime('%s','now') AS INTEGER) + 86400 WHERE id IN (SELECT id FROM certs WHERE status = 'valid' AND user_id IN (SELECT id FROM users WHERE group_name = 'bench-all') ORDER BY id LIMIT $DUE)"
OFF=$(wc -c <"$SLAPD_LOG")
B4=$(bytes_read)
# Until an interval run has renewed them (a quiet one before it costs what it costs: counted).
until grep -q "run finished: .*renewed $DUE[,)]" "$W/daemon.log"; do
	kill -0 "$DPID" 2>/dev/null || die "the daemon died; see $W/daemon.log"
	sleep 0.2
done
wait_idle
INTERVAL_ENTRIES=$(entries_window "$OFF")
INTERVAL_BYTES=$(($(bytes_read) - B4))
grep -q "incremental run: interval (" "$W/daemon.log" ||
	die "no run at the interval looked people up alone; see $W/daemon.log"
kill -TERM "$DPID"
wait "$DPID" 2>/dev/null || true
DPID=

TYPICAL=$(sort -n "$W/react.sec" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
P95=$(sort -n "$W/react.sec" | awk '{ v[NR] = $1 } END { i = int(NR * 0.95 + 0.999); if (i < 1) i = 1; if (i > NR) i = NR; print v[i] }')
PER_CHANGE=$(calc "$CHANGE_ENTRIES / (3 * $S)")
COST=$(calc "(100 * $PER_CHANGE + $INTERVAL_ENTRIES) / ($FULL_ENTRIES > 0 ? $FULL_ENTRIES : 1) * 100")
PER_CHANGE_BYTES=$(calc "$CHANGE_BYTES / (3 * $S)")
COST_BYTES=$(calc "(100 * $PER_CHANGE_BYTES + $INTERVAL_BYTES) / ($FULL_BYTES > 0 ? $FULL_BYTES : 1) * 100")
verdict() { if awk "BEGIN { exit !($1) }"; then echo met; else echo MISSED; fi; }
V_TYP=$(verdict "$TYPICAL <= 10")
V_P95=$(verdict "$P95 <= 60")
V_COST=$(verdict "$COST <= 2")
V_COST_BYTES=$(verdict "$COST_BYTES <= 2")
printf 'reaction      typical %s s, p95 %s s over %s samples (a member added to a group of %s; targets <= 10 s, <= 60 s) %s/%s\n' \
	"$TYPICAL" "$P95" "$S" "$N" "$V_TYP" "$V_P95"
printf 'incr-cost     an hour (100 changes, 1 interval run) ~ %s %% of one full read (target <= 2 %%) %s: entries per change %s for a member added, %s removed, %s for a name changed; the interval run with %s due %s; full read %s entries\n' \
	"$COST" "$V_COST" "$(calc "$MEMBER_ENTRIES / $S")" "$(calc "$REMOVE_ENTRIES / $S")" \
	"$(calc "$PERSON_ENTRIES / $S")" "$DUE" "$INTERVAL_ENTRIES" "$FULL_ENTRIES"
printf 'incr-bytes    an hour (100 changes, 1 interval run) ~ %s %% of one full read in bytes read (target <= 2 %%) %s: bytes per change %s for a member added, %s removed, %s for a name changed; the interval run %s; full read %s bytes\n' \
	"$COST_BYTES" "$V_COST_BYTES" "$(calc "$MEMBER_BYTES / $S")" "$(calc "$REMOVE_BYTES / $S")" \
	"$(calc "$PERSON_BYTES / $S")" "$INTERVAL_BYTES" "$FULL_BYTES"
cat >"$JSON" <<JSON
{
  "users": $N,
  "reaction": {"samples": $S, "typical_seconds": $TYPICAL, "p95_seconds": $P95,
    "all_seconds": [$(paste -sd, "$W/react.sec")], "target_typical_max": 10, "target_p95_max": 60,
    "met": $([ "$V_TYP" = met ] && [ "$V_P95" = met ] && echo true || echo false)},
  "incremental_cost": {"changes_measured": $((3 * S)), "entries": $CHANGE_ENTRIES,
    "entries_member_added": $MEMBER_ENTRIES, "entries_member_removed": $REMOVE_ENTRIES,
    "entries_name_changed": $PERSON_ENTRIES, "interval_run_due": $DUE,
    "entries_interval_run": $INTERVAL_ENTRIES,
    "entries_per_change": $PER_CHANGE, "full_read_entries": $FULL_ENTRIES,
    "percent_for_100_changes": $COST, "target_max_percent": 2,
    "met": $([ "$V_COST" = met ] && echo true || echo false)},
  "incremental_bytes": {"bytes": $CHANGE_BYTES, "bytes_member_added": $MEMBER_BYTES,
    "bytes_member_removed": $REMOVE_BYTES, "bytes_name_changed": $PERSON_BYTES,
    "bytes_interval_run": $INTERVAL_BYTES, "full_read_bytes": $FULL_BYTES,
    "percent_for_100_changes": $COST_BYTES, "target_max_percent": 2,
    "met": $([ "$V_COST_BYTES" = met ] && echo true || echo false)}
}
JSON
note "wrote $JSON"
