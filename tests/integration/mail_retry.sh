#!/bin/sh
# SPDX-License-Identifier: ISC
# The outbox loses no mail and retries only what may succeed: a 4xx answer
# defers the mail (reported, retried after the back-off, then delivered);
# a 5xx answer fails it at once (reported, never retried); the run says
# "partial" and exits 3; the certificates are issued and published anyway.
set -eu
: "${top_srcdir:?}" "${top_builddir:?}" "${SMIMESYNC:?}"
. "$top_srcdir/tests/tools/slapd-lib.sh"
. "$top_srcdir/tests/tools/smtp-lib.sh"
. "$top_srcdir/tests/tools/smimesync-lib.sh"
. "$top_srcdir/tests/tools/test-lib.sh"
slapd_require
smtp_require
command -v faketime >/dev/null || { echo "SKIP: faketime is not installed"; exit 77; }

test_begin retry

test_org_servers --reject sybil@example.org=451 --reject heidi@example.org=550
smimesync_write_config "$W" p256 p256
# One small group: joerg, sybil, heidi, frank.
sed -i '/^\[group smime-staff\]/,$d' "$SMIMESYNC_CONF"
sed -i 's/^group_dn = cn=smime-sales,/group_dn = cn=sales-dach,/' "$SMIMESYNC_CONF"
"$SMIMESYNC" ca init --root-key-out "$ROOT_KEY_OUT" >/dev/null
db="$W/state/smimesync.db"
outbox() { sqlite3 "$db" "SELECT COUNT(*) FROM outbox o JOIN users u ON u.id = o.user_id WHERE u.mail = '$1' AND o.state = '$2'"; }

set +e
"$SMIMESYNC" run --format json >"$W/run1.json" 2>"$W/run1.log"
rc=$?
set -e
check '[ $rc = 3 ]' "a run with mail problems exits 3 (got $rc)"
check '[ "$(jq -r .status "$W/run1.json")" = partial ]' "status partial"
check '[ "$(jq -r .counts.issued "$W/run1.json")" = 4 ] && [ "$(jq -r .counts.published "$W/run1.json")" = 4 ]' \
	"all four issued and published despite mail problems"
check '[ "$(jq -r .counts.mails_sent "$W/run1.json")" = 4 ]' "four mails delivered (joerg, frank)"
check '[ "$(jq -r .counts.mails_failed "$W/run1.json")" = 2 ]' "heidi's two mails failed (550)"
check 'jq -e "[.errors[] | select(.user == \"sybil@example.org\") | select(.message | test(\"collection mail deferred.*451\"))] | length == 1" "$W/run1.json" >/dev/null' \
	"sybil's certificate mail reported as deferred with the server's 451"
check 'jq -e "[.errors[] | select(.user == \"heidi@example.org\") | select(.message | test(\"collection mail refused.*not retried.*550\"))] | length == 1" "$W/run1.json" >/dev/null' \
	"heidi's certificate mail reported as refused with the server's 550"
check 'jq -e "[.errors[] | select(.user == \"heidi@example.org\") | select(.message | test(\"password mail withheld\"))] | length == 1" "$W/run1.json" >/dev/null' \
	"heidi's password mail withheld, since her certificate mail failed"
check '[ "$(outbox sybil@example.org queued)" = 2 ] && [ "$(outbox heidi@example.org failed)" = 2 ]' \
	"outbox: sybil's two mails queued for retry, heidi's two failed"
check '! grep -l "sybil@example.org" "$SMTP_DIR"/*.json >/dev/null 2>&1' "no password mail went to sybil ahead of her certificate"

# The server recovers; a run before the back-off has passed sends nothing.
smtp_stop
smtp_start "$W/smtp"
sed -i "s/^smtp_port = .*/smtp_port = $SMTP_PORT/" "$SMIMESYNC_CONF"
before=$(smtp_count)
"$SMIMESYNC" run --format json >"$W/run2.json" 2>"$W/run2.log"
check '[ "$(smtp_count)" = "$before" ] && [ "$(outbox sybil@example.org queued)" = 2 ]' "nothing resent before the back-off"
check '[ "$(jq -r .counts.issued "$W/run2.json")" = 0 ]' "nothing issued again"
# After the back-off the deferred mails go out; the refused ones never do.
"$top_srcdir/tests/tools/faketime-run" "+10m" "$SMIMESYNC" run --format json >"$W/run3.json" 2>"$W/run3.log"
check '[ "$(jq -r .counts.mails_sent "$W/run3.json")" = 2 ]' "sybil's two deferred mails delivered after the back-off"
check '[ "$(outbox sybil@example.org sent)" = 2 ] && [ "$(outbox heidi@example.org failed)" = 2 ]' "outbox final states"
check '[ "$(jq -r .status "$W/run3.json")" = ok ]' "the retry run is ok"
check 'grep -l "sybil@example.org" "$SMTP_DIR"/*.json | wc -l | grep -qx 2' "sybil got exactly two mails"
check '! grep -l "heidi@example.org" "$SMTP_DIR"/*.json >/dev/null 2>&1' "no mail to heidi after her server said 550"

test_end
