#!/bin/sh
# SPDX-License-Identifier: ISC
# [ca] type = helper: a program following certmonger's CA helper contract
# (tests/tools/test-ca-helper), every exit status of it, and the persisted
# pending state:
#   - exit 1 (wait) leaves the request pending with its cookie; the daemon
#     is stopped and started again, polls with the cookie and gets the
#     certificate: one SUBMIT per person, never two;
#   - exit 5 (wait with a delay) is not polled before the delay is over;
#   - exit 2 (rejected) is reported with the helper's reason and holds the
#     person back until smimesync issue;
#   - exit 3 (unreachable) and a helper killed at timeout back off, doubling;
#   - exit 4 and 6 are configuration problems, tried afresh next run;
#   - a certificate with an unrequested address, from an untrusted root,
#     or no certificate at all, is refused before anything is stored;
#   - the helper gets the contract's variables and a small fixed
#     environment, never smimesync's own (a secret in it stays there), plus
#     what pass_environment names.
# Waits poll for a condition a bounded number of times, never a deadline.
set -eu
: "${top_srcdir:?}" "${top_builddir:?}" "${SMIMESYNC:?}"
. "$top_srcdir/tests/tools/smtp-lib.sh"
. "$top_srcdir/tests/tools/test-lib.sh"
. "$top_srcdir/tests/tools/extca-lib.sh"
extca_require faketime

extca_begin cahelper
DPID=
test_cleanup_more() {
	if [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null; then kill -KILL "$DPID"; wait "$DPID" || true; fi
}

export EXTCA_HELPER_DIR="$W/helper"
mkdir -p "$EXTCA_HELPER_DIR"
ln -s "$W/pki" "$EXTCA_HELPER_DIR/pki"
cat >"$W/ca.section" <<CONF
type = helper
command = $top_srcdir/tests/tools/test-ca-helper
pass_environment = EXTCA_HELPER_DIR
trust_anchor_file = $W/pki/root.pem
timeout = 3s
retry_interval = 0s
CONF
extca_write_config "$W" "$W/ca.section"
sed -i "s|^log_level = info|log_level = info\ninterval = 1h\njitter = 0s|" "$SMIMESYNC_CONF"
"$SMIMESYNC" ca init >"$W/init.out"
check 'grep -q "is an external CA (type helper): it keeps its own keys" "$W/init.out" && [ -f "$W/state/master.key" ]' \
	"ca init on an external CA makes only the master key"
check '"$SMIMESYNC" check-config >/dev/null' "check-config accepts the helper CA"

calls() { grep -c "^$1 $2 " "$EXTCA_HELPER_DIR/calls" 2>/dev/null || true; }
runs_done() { sqlite3 "$DB" "SELECT COUNT(*) FROM runs WHERE report IS NOT NULL" 2>/dev/null || echo 0; }
state_of() { "$SMIMESYNC" status --format json | jq -r --arg m "$1" '.[] | select(.mail == $m) | .state'; }

# --- pending, then issued after a poll across a daemon restart ----------------
echo wait >"$EXTCA_HELPER_DIR/mode"
"$SMIMESYNC" daemon 2>"$W/daemon1.log" &
DPID=$!
wait_for '[ "$(runs_done)" -ge 1 ]' 3000 || { fail "no run at daemon start"; cat "$W/daemon1.log"; exit 1; }
kill -TERM "$DPID"
wait "$DPID" || fail "the daemon did not exit 0 on SIGTERM"
DPID=
check '[ "$(calls SUBMIT ada@example.org)" = 1 ] && [ "$(calls SUBMIT alan@example.org)" = 1 ]' \
	"the first daemon submitted each request once"
check '[ "$(state_of ada@example.org)" = "pending at the CA" ]' "status: ada is pending at the CA"
"$SMIMESYNC" status >"$W/status1.txt"
check 'grep -q "CA said: \[ca ext\] pending: the CA is still working on the request (next attempt after" "$W/status1.txt"' \
	"status text says what the CA said"
check '[ "$(sqlite3 "$DB" "SELECT ca_cookie FROM actions WHERE mail = '\''ada@example.org'\''")" = order-ada@example.org ]' \
	"the cookie is in the store"
report=$(sqlite3 "$DB" "SELECT report FROM runs ORDER BY started DESC LIMIT 1")
check '[ "$(printf "%s" "$report" | jq -r .counts.ca_pending)" = 2 ] && [ "$(printf "%s" "$report" | jq -r .status)" = ok ]' \
	"the report counts two pending requests, and pending is not an error"
check '[ "$(smtp_count)" = 0 ]' "nothing was mailed while pending"

echo issue >"$EXTCA_HELPER_DIR/mode"
"$SMIMESYNC" daemon 2>"$W/daemon2.log" &
DPID=$!
wait_for '[ "$(runs_done)" -ge 2 ]' 3000 || { fail "no run at the second daemon start"; cat "$W/daemon2.log"; }
kill -TERM "$DPID"
wait "$DPID" || fail "the second daemon did not exit 0"
DPID=
check '[ "$(calls SUBMIT ada@example.org)" = 1 ] && [ "$(calls SUBMIT alan@example.org)" = 1 ]' \
	"after the restart: still one SUBMIT per person"
check 'grep -q "^POLL ada@example.org order-ada@example.org$" "$EXTCA_HELPER_DIR/calls"' \
	"the restarted daemon polled with the stored cookie"
check '[ "$(state_of ada@example.org)" = valid ] && [ "$(state_of alan@example.org)" = valid ]' \
	"both are issued"
check '[ "$(smtp_count)" = 4 ]' "and mailed (collection and password mail each)"
extca_cert ada@example.org
check 'openssl verify -CAfile "$W/pki/root.pem" -untrusted "$W/ada@example.org-chain.pem" "$W/ada@example.org.pem" >/dev/null' \
	"the stored chain verifies the certificate up to the trust anchor"
check 'openssl x509 -in "$W/ada@example.org.pem" -noout -ext subjectAltName | grep -q "email:a.lovelace@example.org"' \
	"the alternative address was requested (CERTMONGER_REQ_EMAIL) and issued"
check '[ "$(sqlite3 "$DB" "SELECT COUNT(*) FROM audit WHERE event = '\''ca-exchange'\''")" -ge 4 ]' \
	"every exchange with the helper is in the audit log"
check '[ "$(sqlite3 "$DB" "SELECT ca_cookie IS NULL AND ca_next_try = 0 FROM actions WHERE mail = '\''ada@example.org'\''")" = 1 ]' \
	"the cookie is gone once the certificate is stored"

# --- every other exit status, one person each ---------------------------------
for p in rita:reject uma:unreach wendy:wait5 cora:unconf una:unsupported \
	fred:foreign tom:untrusted gary:garbage sam:sleep dora:detach; do
	n=${p%%:*}
	echo "$n,$n@example.org," >>"$W/people.csv"
	echo "${p#*:}" >"$EXTCA_HELPER_DIR/mode.$n@example.org"
done
sed -i 's/^retry_interval = 0s$/retry_interval = 10m/' "$SMIMESYNC_CONF"
"$SMIMESYNC" run --format json >"$W/r3.json" 2>"$W/r3.log" || true
check '[ "$(extca_item rita@example.org outcome r3)" = failed ] &&
	extca_item rita@example.org error r3 | grep -q "rejected: .*policy forbids certificates for rita@example.org"' \
	"exit 2: rejected, with the helper's reason in the report"
check '"$SMIMESYNC" status | grep -q "held back: the CA rejected the last request (.*policy forbids"' \
	"status says rita is held back, and why"
check '[ "$(extca_item uma@example.org outcome r3)" = failed ] &&
	extca_item uma@example.org error r3 | grep -q "unreachable: .*connection refused.*next attempt after"' \
	"exit 3: unreachable, reported with the next attempt"
check '[ "$(extca_item wendy@example.org outcome r3)" = pending ] &&
	[ "$(sqlite3 "$DB" "SELECT ca_cookie FROM actions WHERE mail = '\''wendy@example.org'\''")" = later-wendy@example.org ]' \
	"exit 5: pending with the cookie after the delay line"
wendy_next=$(sqlite3 "$DB" "SELECT ca_next_try - updated FROM actions WHERE mail = 'wendy@example.org'")
check '[ "$wendy_next" -ge 7190 ] && [ "$wendy_next" -le 7210 ]' "exit 5: the next poll waits the 7200 s the helper asked for"
check 'extca_item cora@example.org error r3 | grep -q "misconfigured: .*not configured well enough: no enrolment profile"' \
	"exit 4: misconfigured, with the reason"
check 'extca_item una@example.org error r3 | grep -q "does not support the SUBMIT operation"' "exit 6: not supported"
check 'extca_item fred@example.org error r3 | grep -q "refusing what the CA issued: .*mallory@example.net, which was not requested"' \
	"a certificate naming an unrequested address is refused"
check 'extca_item tom@example.org error r3 | grep -q "refusing what the CA issued: its chain does not verify against trust_anchor_file"' \
	"a certificate from an untrusted root is refused"
check 'extca_item gary@example.org error r3 | grep -q "exited 0 (issued), but: no certificate could be read"' \
	"exit 0 without a certificate is refused"
check 'extca_item sam@example.org error r3 | grep -q "did not finish within 3s and was killed"' \
	"a helper that hangs is killed at the timeout"
check 'extca_item dora@example.org error r3 | grep -q "did not finish within 3s and was killed"' \
	"so is one that closes its output and stays"
check '[ "$(sqlite3 "$DB" "SELECT COUNT(*) FROM certs WHERE mail IN ('\''fred@example.org'\'','\''tom@example.org'\'','\''gary@example.org'\'')")" = 0 ]' \
	"nothing refused was stored"
check '[ "$(smtp_count)" = 4 ]' "nothing refused was mailed"

# The next run at once: the waiting ones are not asked, the held one is skipped,
# the misconfigured ones are tried afresh.
cp "$EXTCA_HELPER_DIR/calls" "$W/calls.before"
"$SMIMESYNC" run --format json >"$W/r4.json" 2>/dev/null || true
new_calls() { diff "$W/calls.before" "$EXTCA_HELPER_DIR/calls" | sed -n 's/^> //p'; }
check '! new_calls | grep -Eq " (uma|wendy|sam|dora|rita)@"' \
	"backing off: no call for the unreachable, the delayed, the hung or the rejected"
check 'new_calls | grep -q "^SUBMIT cora@example.org"' "a configuration problem is tried again next run"
check 'jq -e ".users[] | select(.mail == \"rita@example.org\" and .action == \"skip\") | .reason | test(\"held back: the CA rejected\")" "$W/r4.json" >/dev/null' \
	"the plan holds rita back and says why"

# Eleven minutes later: uma is asked again (still unreachable: the wait doubles);
# after two hours wendy's request is polled, not resubmitted.
"$top_srcdir/tests/tools/faketime-run" '+11m' "$SMIMESYNC" run >/dev/null 2>&1 || true
check '[ "$(calls SUBMIT uma@example.org)" = 2 ]' "after retry_interval the unreachable CA is asked again"
uma_wait=$(sqlite3 "$DB" "SELECT ca_next_try - updated FROM actions WHERE mail = 'uma@example.org'")
check '[ "$uma_wait" -ge 1190 ] && [ "$uma_wait" -le 1210 ] &&
	[ "$(sqlite3 "$DB" "SELECT ca_failures FROM actions WHERE mail = '\''uma@example.org'\''")" = 2 ]' \
	"the second failure in a row doubles the wait to 20 minutes"
echo issue >"$EXTCA_HELPER_DIR/mode.wendy@example.org"
"$top_srcdir/tests/tools/faketime-run" '+121m' "$SMIMESYNC" run >/dev/null 2>&1 || true
check '[ "$(calls SUBMIT wendy@example.org)" = 1 ] && grep -q "^POLL wendy@example.org later-wendy@example.org$" "$EXTCA_HELPER_DIR/calls"' \
	"after its delay wendy's request is polled with its cookie, never resubmitted"
check '[ "$(sqlite3 "$DB" "SELECT COUNT(*) FROM certs WHERE mail = '\''wendy@example.org'\''")" = 1 ]' \
	"and issued"

# An admin fixes rita's case and asks again: the hold is released.
echo issue >"$EXTCA_HELPER_DIR/mode.rita@example.org"
"$SMIMESYNC" issue rita@example.org >"$W/issue.out" 2>&1 || true
check '[ "$(calls SUBMIT rita@example.org)" = 2 ] && [ "$(state_of rita@example.org)" = valid ]' \
	"smimesync issue releases the hold and the certificate is issued"
check '[ "$(sqlite3 "$DB" "SELECT ca_hold IS NULL FROM users WHERE mail = '\''rita@example.org'\''")" = 1 ]' \
	"the hold is cleared in the store"

# The group moves to another CA while vic's request is pending at the first:
# that request is left there, and the new CA is asked afresh (never polled
# with the old CA's cookie).
echo "vic,vic@example.org," >>"$W/people.csv"
echo wait >"$EXTCA_HELPER_DIR/mode.vic@example.org"
"$SMIMESYNC" run >/dev/null 2>&1 || true
{ echo; echo "[ca ext2]"; cat "$W/ca.section"; } >>"$SMIMESYNC_CONF"
sed -i 's/^ca = ext$/ca = ext2/' "$SMIMESYNC_CONF"
"$SMIMESYNC" run >/dev/null 2>"$W/move.log" || true
check 'grep -q "the request pending at \[ca ext\] is left there: group staff now uses \[ca ext2\], which is asked afresh" "$W/move.log" &&
	[ "$(calls SUBMIT vic@example.org)" = 2 ] && [ "$(calls POLL vic@example.org)" = 0 ] &&
	[ "$(sqlite3 "$DB" "SELECT ca_cookie_ca FROM actions WHERE mail = '\''vic@example.org'\''")" = ext2 ]' \
	"a pending request is never polled at another CA after the group's CA changes"

# The helper's environment: the contract's and a fixed few, not smimesync's.
echo "eve,eve@example.org," >>"$W/people.csv"
echo env >"$EXTCA_HELPER_DIR/mode.eve@example.org"
SMIMESYNC_TEST_SECRET=hunter2-in-the-daemon LD_LIBRARY_PATH=/nowhere PATH="/opt/evil/bin:$PATH" \
	TZ=Europe/Berlin "$SMIMESYNC" run >/dev/null 2>"$W/env.log" || true
ENVF="$EXTCA_HELPER_DIR/env.eve@example.org"
check '[ -s "$ENVF" ] && ! grep -q "hunter2-in-the-daemon\|SMIMESYNC_TEST_SECRET\|LD_LIBRARY_PATH\|/opt/evil" "$ENVF"' \
	"a secret, LD_LIBRARY_PATH and PATH of smimesync do not reach the helper"
check 'grep -qx "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" "$ENVF" &&
	grep -qx "LANG=C" "$ENVF" && grep -qx "LC_ALL=C" "$ENVF" && grep -qx "TZ=Europe/Berlin" "$ENVF"' \
	"it gets the fixed PATH, LANG=C, LC_ALL=C and smimesync's TZ"
check 'grep -qx "CERTMONGER_OPERATION=SUBMIT" "$ENVF" && grep -qx "CERTMONGER_CA_NICKNAME=ext2" "$ENVF" &&
	grep -qx "CERTMONGER_REQ_EMAIL=eve@example.org" "$ENVF" && grep -qx "EXTCA_HELPER_DIR=$EXTCA_HELPER_DIR" "$ENVF"' \
	"and the contract's variables, and what pass_environment names"
check '[ "$(sqlite3 "$DB" "SELECT COUNT(*) FROM certs WHERE mail = '\''eve@example.org'\''")" = 1 ]' \
	"and issues with it"

"$SMIMESYNC" revoke ada@example.org --reason superseded >"$W/revoke.out" 2>"$W/revoke.err" || true
check 'grep -q "\[ca ext\] is an external CA (type helper): the revocation is recorded here .* revoke it at the CA as well" "$W/revoke.err" &&
	[ "$(sqlite3 "$DB" "SELECT status FROM certs WHERE mail = '\''ada@example.org'\''")" = revoked ]' \
	"revoking a certificate of an external CA records it and says to revoke it at the CA too"
check '/usr/bin/python3 "$top_srcdir/tests/tools/report-validate.py" "$top_srcdir/doc/report.schema.json" "$DB" >"$W/validate.out" 2>&1' \
	"every stored report, pending and refused requests included, validates against the schema"
test_end
