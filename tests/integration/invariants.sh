#!/bin/sh
# SPDX-License-Identifier: ISC
# The lifecycle invariants of doc/invariants.md on the paths the happy-path
# tests never walk, each checked from outside (ldapsearch, the SMTP sink's
# files) and not only through the store:
#   I4  a person revoked while provisioning was unfinished (killed after
#       the certificate was stored): the certificate is never published
#       nor mailed afterwards, the report does not say "done"; mails queued
#       for a certificate revoked before they went out are cancelled.
#   I2  a revocation whose directory removal failed (directory down) is
#       retried by the next run; a leaver's expired value (on_leave =
#       stop-renewing) is removed, another issuer's value stays.
#   I6  nothing sealed stays in the outbox after delivery (escrow = no);
#       a queued key mail whose recipient was edited in the store is
#       refused, not sent to the new address.
set -eu
: "${top_srcdir:?}" "${top_builddir:?}" "${SMIMESYNC:?}"
CRASHY="${CRASHY:-$top_builddir/tests/tools/smimesync-crashy}"
. "$top_srcdir/tests/tools/slapd-lib.sh"
. "$top_srcdir/tests/tools/smtp-lib.sh"
. "$top_srcdir/tests/tools/smimesync-lib.sh"
. "$top_srcdir/tests/tools/test-lib.sh"
slapd_require
smtp_require
command -v faketime >/dev/null || { echo "SKIP: faketime is not installed"; exit 77; }
command -v jq >/dev/null || { echo "SKIP: jq is not installed (tools/install-deps)"; exit 77; }

test_begin inv

test_org_servers
smimesync_write_config "$W" p256 p256
sed -i '/^\[group smime-staff\]/,$d' "$SMIMESYNC_CONF"
echo "escrow = no" >>"$SMIMESYNC_CONF"
"$SMIMESYNC" ca init --root-key-out "$ROOT_KEY_OUT" >/dev/null
db="$W/state/smimesync.db"
cp "$SMIMESYNC_CONF" "$W/good.conf"
sed 's/^smtp_port = .*/smtp_port = 1/' "$W/good.conf" >"$W/nomail.conf"
sed 's|^uri = .*|uri = ldap://127.0.0.1:1|' "$W/good.conf" >"$W/nodir.conf"
use() { cp "$W/$1.conf" "$SMIMESYNC_CONF"; }

ldapmod() { ldapmodify -x -H "$SLAPD_URI" -D "$SLAPD_ADMIN_DN" -y "$SLAPD_ADMIN_PW_FILE" >/dev/null; }
# published MAIL: how many userCertificate;binary values the entry with that mail holds
published() {
	ldapsearch -LLL -o ldif-wrap=no -x -H "$SLAPD_URI" -b "$SLAPD_BASE" "(mail=$1)" 'userCertificate;binary' |
		grep -c '^userCertificate;binary::' || true
}
smime_values() {
	ldapsearch -LLL -o ldif-wrap=no -x -H "$SLAPD_URI" -b "$SLAPD_BASE" "(mail=$1)" userSMIMECertificate |
		grep -c '^userSMIMECertificate::' || true
}
# mails_to ADDR: how many messages the sink stored for that recipient
mails_to() { grep -l "\"$1\"" "$SMTP_DIR"/*.json 2>/dev/null | wc -l; }
sql() { sqlite3 "$db" "$1"; }
run() {
	_n=$1
	shift
	set +e
	"$@" --format json >"$W/$_n.json" 2>"$W/$_n.log"
	_rc=$?
	set -e
	echo "run $_n: exit $_rc, $(jq -c .counts "$W/$_n.json" 2>/dev/null)"
}

# --- I4: killed after the certificate was stored, then the person is revoked --------
use nomail
set +e
SMIMESYNC_CRASH_AFTER=cert_stored "$CRASHY" run >/dev/null 2>"$W/crash.log"
rc=$?
set -e
check '[ "$rc" = 137 ]' "the run was killed right after a certificate was stored (exit $rc)"
p1=$(sql "SELECT mail FROM actions WHERE state = 'cert_stored'")
check '[ -n "$p1" ]' "one person ($p1) is left with a stored, unpublished certificate"
"$SMIMESYNC" revoke "$p1" --reason keyCompromise >"$W/revoke1.out" 2>&1 || true
run r1 "$SMIMESYNC" run
check '[ "$(published "$p1")" = 0 ] && [ "$(smime_values "$p1")" = 0 ]' \
	"I4: $p1's revoked certificate was not published by the resumed run"
check '[ "$(jq -r --arg m "$p1" "[.users[] | select(.mail == \$m and .outcome == \"done\")] | length" "$W/r1.json")" = 0 ]' \
	"I4: the report does not say done for $p1"
check 'jq -e --arg m "$p1" ".users[] | select(.mail == \$m) | select(.reason | test(\"revoked\"))" "$W/r1.json" >/dev/null' \
	"I4: the report says why ($p1's certificate was revoked)"
check '[ "$(sql "SELECT COUNT(*) FROM outbox o JOIN users u ON u.id = o.user_id WHERE u.mail = '"'$p1'"'")" = 0 ]' \
	"I4: no mail was queued for $p1"
check '[ "$(sql "SELECT COUNT(*) FROM actions WHERE state NOT IN ('"'done','failed'"')")" = 0 ]' \
	"the unfinished provisioning was closed, not left to resume later"

# --- I4: a queued mail whose certificate is revoked before it goes out ------------------
p2=bob@example.org
[ "$p1" != "$p2" ] || p2=carol@example.org
check '[ "$(published "$p2")" = 1 ]' "$p2 is published (mail still queued: SMTP is down)"
"$SMIMESYNC" revoke "$p2" --reason keyCompromise >/dev/null 2>&1 || true
check '[ "$(published "$p2")" = 0 ]' "revoking $p2 takes the value out of the directory"

# --- I2: a revocation while the directory is down is retried ---------------------------
p3=frank@example.org
use nodir
"$SMIMESYNC" revoke "$p3" --reason affiliationChanged >"$W/revoke3.out" 2>&1 || true
check '[ "$(published "$p3")" = 1 ]' "directory down: $p3's revoked value is still in the directory"
check 'grep -q "queued" "$W/revoke3.out"' "revoke says the removal is queued: $(tail -1 "$W/revoke3.out")"

# --- the next run, mail and directory back ----------------------------------------------
# Two hours later: the mails deferred while SMTP was down are due again.
use good
run r2 "$top_srcdir/tests/tools/faketime-run" +2h "$SMIMESYNC" run
check '[ "$(published "$p3")" = 0 ] && [ "$(smime_values "$p3")" = 0 ]' "I2: the next run removed $p3's revoked value"
check '[ "$(mails_to "$p1")" = 0 ]' "I4: $p1 got no mail"
check '[ "$(mails_to "$p2")" = 0 ]' "I4: $p2's queued key mail and password mail were cancelled, not sent"
check '[ "$(jq -r .counts.mails_cancelled "$W/r2.json")" = 4 ]' "the report counts four cancelled mails (the revoked $p2 and $p3, two each)"
check '[ "$(mails_to alice@example.org)" = 2 ] || [ "$p1" = alice@example.org ]' "the others got their two mails"
check '[ "$(sql "SELECT COUNT(*) FROM outbox WHERE state <> '"'queued'"' AND length(sealed) > 0")" = 0 ]' \
	"I6: nothing sealed stays in the outbox once a mail reached its end (escrow = no)"
check '[ "$(sql "SELECT COUNT(*) FROM escrow")" = 0 ] && [ "$(sql "SELECT COUNT(*) FROM actions WHERE sealed_key IS NOT NULL")" = 0 ]' \
	"I6: escrow = no: no copy of a key anywhere after delivery"

# --- I6: a queued key mail redirected in the store does not go out ----------------------
use nomail
printf 'dn: cn=smime-sales,ou=groups,%s\nchangetype: modify\nadd: member\nmember: uid=dave,ou=people,%s\n' "$SLAPD_BASE" "$SLAPD_BASE" | ldapmod
run r3 "$top_srcdir/tests/tools/faketime-run" +2h "$SMIMESYNC" run
check '[ "$(sql "SELECT COUNT(*) FROM outbox WHERE state = '"'queued'"' AND recipient = '"'dave@example.org'"'")" = 2 ]' \
	"dave's two mails are queued (SMTP down)"
sql "UPDATE outbox SET recipient = 'eve@attacker.example' WHERE state = 'queued'"
use good
run r4 "$top_srcdir/tests/tools/faketime-run" +4h "$SMIMESYNC" run
check '[ "$(mails_to eve@attacker.example)" = 0 ]' "I6: the redirected key mail was not sent to the new recipient"
check 'jq -e "[.errors[] | select(.message | test(\"changed in the store\"))] | length >= 1" "$W/r4.json" >/dev/null' \
	"the report says the row was changed in the store"

# --- I2: a leaver's expired value goes, another issuer's value stays -------------------
p5=heidi@example.org
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$W/foreign.key" \
	-subj "/CN=Other CA user" -days 3650 -outform DER -out "$W/foreign.der" 2>/dev/null
printf 'dn: uid=heidi,ou=people,%s\nchangetype: modify\nadd: userCertificate;binary\nuserCertificate;binary:< file://%s\n' \
	"$SLAPD_BASE" "$W/foreign.der" | ldapmod
printf 'dn: cn=sales-dach,ou=groups,%s\nchangetype: modify\ndelete: uniqueMember\nuniqueMember: uid=heidi,ou=people,%s\n' \
	"$SLAPD_BASE" "$SLAPD_BASE" | ldapmod
run r5 "$top_srcdir/tests/tools/faketime-run" +1d "$SMIMESYNC" run
check '[ "$(published "$p5")" = 2 ]' "day 1: $p5 left (stop-renewing): her certificate stays until it expires, beside the foreign one"
run r6 "$top_srcdir/tests/tools/faketime-run" +400d "$SMIMESYNC" run
check '[ "$(published "$p5")" = 1 ] && [ "$(smime_values "$p5")" = 0 ]' \
	"I2: day 400: $p5's expired value of ours is gone"
ldapsearch -LLL -o ldif-wrap=no -x -H "$SLAPD_URI" -b "$SLAPD_BASE" "(mail=$p5)" 'userCertificate;binary' |
	sed -n 's/^userCertificate;binary:: //p' | base64 -d >"$W/left.der"
check 'cmp -s "$W/left.der" "$W/foreign.der"' "I2: the other issuer's value is untouched"

test_end
