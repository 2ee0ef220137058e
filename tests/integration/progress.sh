#!/bin/sh
# SPDX-License-Identifier: ISC
# A roll-out as an operator watches it on a terminal (issue #18, item 3):
# PROGRESS_USERS people (default 300) in one group of a real slapd get
# certificates and two mails each, with smimesync run under script(1), so
# its stderr is a terminal. Then, from the typescript:
#   - each phase had its line: reading the directory, issuing N of N with a
#     rate and the time left, mailing what was left to send (most mail goes
#     out between the batches of issuing);
#   - the log at info level stayed a few dozen lines (at most 40), however
#     many people there were; nothing else was written on the terminal;
# and from outside: the report says everyone was issued and mailed, the
# metrics file said smimesync_run_in_progress 1 while the run went on and
# 0 after it, and the directory holds a certificate for everyone.
#
# Size and key type: PROGRESS_USERS and PROGRESS_KEY_TYPE (default 300
# people with P-256 keys, so that make check stays short on two cores: a
# roll-out runs at 20-35 certificates a second here, bound by fsyncs, not
# keys). "make check-rollout" runs the issue's full check: 2,000 people
# with RSA-2048 keys (about 0.5 s per key and core; ten minutes or more).
# The bound on the log does not grow with the number of people: that is
# what this checks.
set -eu
: "${top_srcdir:?}" "${top_builddir:?}" "${SMIMESYNC:?}"
. "$top_srcdir/tests/tools/slapd-lib.sh"
. "$top_srcdir/tests/tools/smtp-lib.sh"
. "$top_srcdir/tests/tools/test-lib.sh"
. "$top_srcdir/tests/tools/smimesync-lib.sh"
slapd_require
smtp_require
command -v script >/dev/null || { echo "SKIP: script(1) is not installed (util-linux)"; exit 77; }
command -v jq >/dev/null || { echo "SKIP: jq is not installed (tools/install-deps)"; exit 77; }

N=${PROGRESS_USERS:-300}
KEY_TYPE=${PROGRESS_KEY_TYPE:-p256}
# Thousands grouped as smimesync writes them (printf's %' depends on the locale).
group3() { echo "$1" | sed -e ':a' -e 's/\([0-9]\)\([0-9]\{3\}\)\($\|,\)/\1,\2\3/' -e 'ta'; }
N_FMT=$(group3 "$N")

test_begin progress
SINK_PID=
test_cleanup_more() {
	if [ -n "$SINK_PID" ]; then kill "$SINK_PID" 2>/dev/null || true; wait "$SINK_PID" 2>/dev/null || true; fi
	if [ -n "${POLL_PID:-}" ]; then kill "$POLL_PID" 2>/dev/null || true; fi
}

/usr/bin/python3 "$top_srcdir/tests/bench/gen-ldif.py" "dc=example,dc=org" "$N" 1 >"$W/people.ldif"
mkdir -p "$W/slapd"
# The directory's disk is not what this test is about (as in make bench).
SLAPD_DB_EXTRA='dbnosync
limits dn.exact="cn=smimesync,ou=services,dc=example,dc=org" size=unlimited time=unlimited'
# gen-ldif.py writes memberOf, which slapadd knows only with the memberof overlay.
SLAPD_OVERLAYS=memberof
export SLAPD_DB_EXTRA SLAPD_OVERLAYS
slapd_start_with_ldif "$W/slapd" "$W/people.ldif"

# Postfix's smtp-sink takes thousands of mails a second; the Python sink
# fsyncs each one (about 50 a second), which would make this test slow.
SMTP_PORT=$(smtp_free_port)
if [ -x /usr/sbin/smtp-sink ]; then
	chmod 711 "$W"
	_u=
	[ "$(id -u)" -eq 0 ] && _u="-u nobody"
	# shellcheck disable=SC2086
	/usr/sbin/smtp-sink $_u "127.0.0.1:$SMTP_PORT" 256 >"$W/sink.log" 2>&1 &
	SINK_PID=$!
	wait_for "/usr/bin/python3 -c \"import socket; socket.create_connection(('127.0.0.1', $SMTP_PORT)).close()\" 2>/dev/null" 100 ||
		{ fail "Postfix smtp-sink did not start"; test_end; exit 1; }
	MAIL_TLS="starttls = off"
else
	smtp_start "$W/smtp"
	MAIL_TLS="starttls = required
tls_ca_file = $SMTP_CA_FILE"
fi

mkdir -p "$W/state" "$W/ca"
chmod 700 "$W/state" "$W/ca"
cp "$SLAPD_SVC_PW_FILE" "$W/ldap.secret"
chmod 600 "$W/ldap.secret"
{
	cat <<CONF
[service]
state_dir = $W/state
master_key_file = $W/state/master.key
log_level = info
metrics_file = $W/metrics.prom
# The roll-out is planned: the mass-issuance valve (by default the larger
# of 50 and 10 % of the holders) lets all N through, and the CA certifies
# our domain only.
max_new_per_run = $N
mail_domains = example.org

CONF
	smimesync_conf_ldap "$W/ldap.secret"
	echo
	smimesync_conf_local_ca "$W/ca" "$W/ca/issuing.key" "crl_url = http://pki.example.org/smime.crl
organization = Example Org
key_type = p256"
	echo
	smimesync_conf_mail "$MAIL_TLS"
	cat <<CONF

[group everyone]
directory = corp
group_dn = cn=bench-all,ou=groups,$SLAPD_BASE
ca = internal
key_type = $KEY_TYPE
pkcs12_iterations = 2048
CONF
} >"$W/smimesync.conf"
export SMIMESYNC_CONF="$W/smimesync.conf"
mkdir -m 700 -p "$W/offline"
"$SMIMESYNC" ca init --root-key-out "$W/offline/root.key" >/dev/null
# The policy ca init derives certifies our domain only, as [service]
# mail_domains does (a warning about "mail_domains = *" would otherwise be
# on the terminal).
grep -qx 'mail_domains = example.org' "$W/signer.conf" || { fail "ca init wrote no signer policy at $W/signer.conf"; test_end; exit 1; }

# Watch the metrics file while the run goes on (a bounded number of looks).
: >"$W/metrics-seen"
(
	i=0
	while [ "$i" -lt 36000 ] && [ ! -e "$W/run-ended" ]; do
		grep -h '^smimesync_run_in_progress 1$\|^smimesync_run_progress_done{phase="issuing"}' "$W/metrics.prom" \
			>>"$W/metrics-seen" 2>/dev/null || true
		sleep 0.1
		i=$((i + 1))
	done
) &
POLL_PID=$!

# script(1) gives the run a terminal: its stderr is the typescript.
COLUMNS=120 script -q -e -c "stty cols 120 2>/dev/null; '$SMIMESYNC' run --format json >'$W/run.json'" "$W/typescript" >/dev/null 2>&1 || true
touch "$W/run-ended"
wait "$POLL_PID" 2>/dev/null || true
POLL_PID=

check '[ "$(jq -r .status "$W/run.json")" = ok ] && [ "$(jq -r .counts.issued "$W/run.json")" = "$N" ]' \
	"the run issued $N certificates ($KEY_TYPE)"
check '[ "$(jq -r .counts.mails_sent "$W/run.json")" = $((2 * N)) ]' "and sent $((2 * N)) mails"
n_dir=$(ldapsearch -LLL -x -H "$SLAPD_URI" -D "$SLAPD_ADMIN_DN" -y "$SLAPD_ADMIN_PW_FILE" -b "ou=people,$SLAPD_BASE" \
	-E pr=1000/noprompt '(userCertificate;binary=*)' dn | grep -c '^dn: ' || true)
check '[ "$n_dir" = "$N" ]' "ldapsearch finds $n_dir people with a certificate"

# The terminal as the operator saw it: every \r starts the line afresh.
tr '\r' '\n' <"$W/typescript" | sed 's/\x1b\[K//g' >"$W/screen.txt"
check 'grep -q "^reading the directory 1 of 1 (100%)" "$W/screen.txt"' "a line for reading the directory"
check 'grep -Eq "^issuing [0-9,]+ of $N_FMT \([0-9]+%\), [0-9.]+/s, [0-9]+:[0-9]{2} left$" "$W/screen.txt"' \
	"issuing N of $N_FMT with a rate and the time left"
check 'grep -Eq "^issuing $N_FMT of $N_FMT \(100%\), [0-9.]+/s, done in [0-9]+:[0-9]{2}$" "$W/screen.txt"' \
	"the issuing line stays with its total, rate and time"
check 'grep -Eq "^mailing [0-9,]+ of [0-9,]+ \(100%\)" "$W/screen.txt"' "a mailing line for the mails left at the end"
info=$(grep -c ' smimesync\[[0-9]*\] info' "$W/screen.txt" || true)
logs=$(grep -c ' smimesync\[[0-9]*\] ' "$W/screen.txt" || true)
check '[ "$info" -le 40 ] && [ "$info" -ge 3 ]' "the info log of a $N-person roll-out is $info lines (at most 40)"
check '[ "$logs" -le 40 ]' "$logs log lines in all"
# Nothing else reached the terminal: every line is a log line or a progress line.
grep -v ' smimesync\[[0-9]*\] ' "$W/screen.txt" |
	grep -Ev '^(reading the directory|planning|issuing|publishing|leavers and reminders|mailing)( |,|$)|^$|^Script (started|done) on ' >"$W/stray.txt" || true
check '[ ! -s "$W/stray.txt" ]' "no stray output on the terminal: $(head -c 200 "$W/stray.txt")"
check 'grep -q "run finished: ok (users seen $N_FMT\|run finished: ok (users seen $N" "$W/screen.txt"' \
	"the last log line sums the run up"

check 'grep -q "^smimesync_run_in_progress 1$" "$W/metrics-seen"' "during the run the metrics said smimesync_run_in_progress 1"
check 'grep -q "^smimesync_run_progress_done{phase=\"issuing\"}" "$W/metrics-seen"' "and how far issuing had come"
check 'grep -q "^smimesync_run_in_progress 0$" "$W/metrics.prom" && grep -q "^smimesync_last_run_status{status=\"ok\"} 1$" "$W/metrics.prom"' \
	"after the run: in progress 0, last run ok"

# Under a pipe (cron, a log file) there is no progress line at all.
"$SMIMESYNC" run --dry-run >/dev/null 2>"$W/piped.err"
check '! grep -q "issuing\|reading the directory" "$W/piped.err" && ! grep -q "$(printf "\r")" "$W/piped.err"' \
	"without a terminal: no progress lines, no carriage returns"

test_end
