#!/bin/sh
# SPDX-License-Identifier: ISC
# A year in the life of a group, with faketime: issuance, each reminder
# exactly once, renewal, the install reminder, a mail change, a leaver
# under each on_leave, a directory outage (nobody retired), a mass removal
# stopped by the safety valve, an ignored person, and admin notices.
set -eu
: "${top_srcdir:?}" "${top_builddir:?}" "${SMIMESYNC:?}"
. "$top_srcdir/tests/tools/slapd-lib.sh"
. "$top_srcdir/tests/tools/smtp-lib.sh"
. "$top_srcdir/tests/tools/smimesync-lib.sh"
. "$top_srcdir/tests/tools/test-lib.sh"
slapd_require
smtp_require
command -v faketime >/dev/null || { echo "SKIP: faketime is not installed"; exit 77; }

test_begin life

test_org_servers
smimesync_write_config "$W" p256 p256
sed -i '/^\[group smime-staff\]/,$d' "$SMIMESYNC_CONF"
cat >>"$SMIMESYNC_CONF" <<CONF
reminders = 30d, 7d, 1d
notify = pki-team@example.org
CONF
"$SMIMESYNC" ca init --root-key-out "$ROOT_KEY_OUT" >/dev/null
db="$W/state/smimesync.db"
SALES="alice@example.org bob@example.org carol@example.org zoe.simkova@example.org walter@example.org
joerg.mueller@example.org sybil@example.org heidi@example.org frank@example.org"

# run DAYS NAME [args]: a sync DAYS days from now, report in $W/NAME.json
run() {
	_d=$1 _n=$2
	shift 2
	set +e
	"$top_srcdir/tests/tools/faketime-run" "+${_d}d" "$SMIMESYNC" run --format json "$@" >"$W/$_n.json" 2>"$W/$_n.log"
	_rc=$?
	set -e
	echo "run $_n (+${_d}d): exit $_rc, $(jq -c .counts "$W/$_n.json" 2>/dev/null)"
	return 0
}
mark() { smtp_count; }
count() { /usr/bin/python3 "$top_srcdir/tests/tools/mailcount.py" "$SMTP_DIR" "$1" | grep -c " $2 " || true; }
got() { /usr/bin/python3 "$top_srcdir/tests/tools/mailcount.py" "$SMTP_DIR" "$1" | grep -q "^$2 $3 $4\$"; }
ldapmod() { ldapmodify -x -H "$SLAPD_URI" -D "$SLAPD_ADMIN_DN" -y "$SLAPD_ADMIN_PW_FILE" >/dev/null; }
published() { ldapsearch -LLL -o ldif-wrap=no -x -H "$SLAPD_URI" -b "$SLAPD_BASE" "(mail=$1)" 'userCertificate;binary' | grep -c '^userCertificate;binary::' || true; }

# Day 0: everyone gets a certificate; the admins get a notice.
m=$(mark); run 0 d0
check '[ "$(jq -r .counts.issued "$W/d0.json")" = 9 ]' "day 0: nine issued"
check 'got $m pki-team@example.org notice 1' "day 0: one notice to the group's admins"
m=$(mark); run 0 d0b
check '[ "$(smtp_count)" = "$m" ]' "day 0 again: nothing to do, no mail at all (no notice either)"

# Day 340 (25 days left): the 30-day reminder, once, saying it renews itself.
m=$(mark); run 340 d340
check '[ "$(jq -r .counts.reminded "$W/d340.json")" = 9 ] && [ "$(count $m reminder-renew)" = 9 ]' \
	"day 340: nine reminders that renewal is automatic"
check 'grep -q "2027-1[12]-.* UTC" "$(grep -l alice@example.org "$SMTP_DIR"/*.json | tail -n 1 | sed "s/json$/eml/")"' \
	"the reminder names the renewal date"
m=$(mark); run 341 d341
check '[ "$(count $m reminder-renew)" = 0 ]' "day 341: no reminder twice"

# Day 351 (14 days left): renewed; no install reminder in the same run.
m=$(mark); run 351 d351
check '[ "$(jq -r .counts.renewed "$W/d351.json")" = 9 ]' "day 351: nine renewed"
check '[ "$(count $m reminder-install)" = 0 ]' "day 351: no install reminder on renewal day"
# Day 359 (6 days left on the old one): "install your new certificate", once.
m=$(mark); run 359 d359
check '[ "$(count $m reminder-install)" = 9 ]' "day 359: nine install reminders (7-day threshold of the old certificates)"
m=$(mark); run 359 d359b
check '[ "$(count $m reminder-install)" = 0 ]' "day 359 again: no install reminder twice"

# Day 360: carol's mail changes: a certificate for the new address.
printf 'dn: uid=carol,ou=people,%s\nchangetype: modify\nreplace: mail\nmail: carol.new@example.org\n' "$SLAPD_BASE" | ldapmod
run 360 d360
check 'jq -e ".users[] | select(.action == \"reissue\" and .outcome == \"done\") | select(.reason | test(\"carol@example.org to carol.new@example.org\"))" "$W/d360.json" >/dev/null' \
	"day 360: carol re-issued, report names old and new address"
check '[ "$(published carol.new@example.org)" = 1 ]' "carol's entry holds exactly the new certificate"

# Day 360 too, with on_mail_change = revoke: walter's mail changes and the certificate for the old address is revoked.
sed -i 's/^notify = .*/&\non_mail_change = revoke/' "$SMIMESYNC_CONF"
printf 'dn: uid=walter,ou=people,%s\nchangetype: modify\nreplace: mail\nmail: walter.weber@example.org\n' "$SLAPD_BASE" | ldapmod
run 360 d360b
check '[ "$(jq -r .counts.reissued "$W/d360b.json")" = 1 ]' "walter re-issued for his new address"
check '[ "$(sqlite3 "$db" "SELECT status FROM certs WHERE mail = '"'"'walter@example.org'"'"' ORDER BY id DESC LIMIT 1")" = revoked ]' \
	"on_mail_change = revoke: the old address's certificate is revoked"
check '[ "$(sqlite3 "$db" "SELECT status FROM certs WHERE mail = '"'"'carol@example.org'"'"' ORDER BY id DESC LIMIT 1")" = superseded ]' \
	"on_mail_change = keep (carol, before): superseded, left to expire"
sed -i '/^on_mail_change = revoke$/d' "$SMIMESYNC_CONF"

# Day 361: bob leaves (stop-renewing, the default): reported once, certificate kept.
printf 'dn: cn=smime-sales,ou=groups,%s\nchangetype: modify\ndelete: member\nmember: uid=bob,ou=people,%s\n' "$SLAPD_BASE" "$SLAPD_BASE" | ldapmod
run 361 d361
check 'jq -e ".users[] | select(.mail == \"bob@example.org\" and .action == \"retire\")" "$W/d361.json" >/dev/null' "day 361: bob retired (stop-renewing)"
check '[ "$(published bob@example.org)" = 1 ]' "bob's certificate stays published until it expires"
run 362 d362
check '! jq -e ".users[] | select(.mail == \"bob@example.org\")" "$W/d362.json" >/dev/null' "day 362: bob is not reported again"

# A directory outage retires nobody.
cp "$SMIMESYNC_CONF" "$W/good.conf"
sed -i 's|^uri = .*|uri = ldap://127.0.0.1:1|' "$SMIMESYNC_CONF"
left_before=$(sqlite3 "$db" "SELECT COUNT(*) FROM users WHERE left_at IS NOT NULL")
run 363 d363
check '[ "$(jq -r .status "$W/d363.json")" = failed ] && [ "$_rc" = 1 ]' "outage: the run fails (exit 1)"
check '[ "$(sqlite3 "$db" "SELECT COUNT(*) FROM users WHERE left_at IS NOT NULL")" = "$left_before" ] && [ "$(jq -r .counts.retired "$W/d363.json")" = 0 ]' \
	"outage: nobody retired"
cp "$W/good.conf" "$SMIMESYNC_CONF"

# A mass removal (the nested group with six people) is stopped by the safety valve.
printf 'dn: cn=smime-sales,ou=groups,%s\nchangetype: modify\ndelete: member\nmember: cn=sales-emea,ou=groups,%s\n' "$SLAPD_BASE" "$SLAPD_BASE" | ldapmod
run 364 d364
check 'jq -e "[.errors[] | select(.message | test(\"safety valve\"))] | length >= 1" "$W/d364.json" >/dev/null && [ "$(jq -r .counts.retired "$W/d364.json")" = 0 ]' \
	"safety valve: six leavers stopped, nobody retired, reported"
check '[ "$_rc" = 3 ]' "safety valve: the run exits 3"
run 364 d364b --allow-mass-retire
check '[ "$(jq -r .counts.retired "$W/d364b.json")" = 6 ]' "--allow-mass-retire: six retired"

# on_leave = revoke: bob, gone since day 361, is revoked once leave_grace (7d) passed.
sed -i 's/^notify = .*/notify = pki-team@example.org\non_leave = revoke\nleave_grace = 7d/' "$SMIMESYNC_CONF"
run 366 d366
check '! jq -e ".users[] | select(.mail == \"bob@example.org\" and .outcome == \"done\" and .action == \"retire\")" "$W/d366.json" >/dev/null' \
	"day 366: bob not yet revoked (grace until day 368)"
run 369 d369
check 'jq -e ".users[] | select(.mail == \"bob@example.org\" and .action == \"retire\" and .outcome == \"done\")" "$W/d369.json" >/dev/null' \
	"day 369: bob revoked"
check '[ "$(published bob@example.org)" = 0 ]' "bob's certificate is gone from the directory"
check '[ "$(sqlite3 "$db" "SELECT COUNT(*) FROM certs c JOIN users u ON u.id = c.user_id WHERE u.mail = '"'"'bob@example.org'"'"' AND c.status = '"'"'revoked'"'"'")" = 1 ]' \
	"bob's certificate is revoked in the store"
# Bob comes back: not re-issued automatically after a revocation; smimesync issue does it.
printf 'dn: cn=smime-sales,ou=groups,%s\nchangetype: modify\nadd: member\nmember: uid=bob,ou=people,%s\n' "$SLAPD_BASE" "$SLAPD_BASE" | ldapmod
run 370 d370
check 'jq -e ".users[] | select(.mail == \"bob@example.org\" and .action == \"skip\") | select(.reason | test(\"revoked\"))" "$W/d370.json" >/dev/null' \
	"bob back: not re-issued automatically after a revocation"
set +e
"$top_srcdir/tests/tools/faketime-run" "+370d" "$SMIMESYNC" issue bob@example.org >"$W/issue.out" 2>&1
rc=$?
set -e
check '[ $rc = 0 ] && [ "$(published bob@example.org)" = 1 ]' "smimesync issue bob: a new certificate, published"

# An ignored person is never provisioned or mailed.
"$SMIMESYNC" user alice@example.org ignore >/dev/null
run 371 d371
check 'jq -e ".users[] | select(.mail == \"alice@example.org\" and .action == \"skip\") | select(.reason | test(\"ignored\"))" "$W/d371.json" >/dev/null' \
	"alice ignored: skipped with the reason"

# Day 372: back to stop-renewing; carol leaves the group.
sed -i 's/^on_leave = revoke/on_leave = stop-renewing/' "$SMIMESYNC_CONF"
printf 'dn: cn=smime-sales,ou=groups,%s\nchangetype: modify\ndelete: member\nmember: uid=carol,ou=people,%s\n' "$SLAPD_BASE" "$SLAPD_BASE" | ldapmod
run 372 d372
check 'jq -e ".users[] | select(.mail == \"carol.new@example.org\" and .action == \"retire\")" "$W/d372.json" >/dev/null' "day 372: carol retired (stop-renewing)"

# Day 700: carol's certificate (re-issued on day 360) is 25 days from expiry:
# as a leaver she is told it will not be renewed, and whom to ask. alice's
# (renewed on day 351) is 16 days from expiry, but she is ignored: no mail.
m=$(mark); run 700 d700
check 'got $m carol.new@example.org reminder-leaver 1' "day 700: carol told her certificate will not be renewed"
check 'for f in $(grep -l carol.new@example.org "$SMTP_DIR"/*.json); do grep -q "will NOT be renewed" "${f%.json}.eml" && grep -q "pki-team@example.org" "${f%.json}.eml" && echo yes; done | grep -q yes' \
	"the leaver reminder names whom to ask (the group's notify address)"
# The file it names is the one the renewal mail attached (dated, with the serial).
check '/usr/bin/python3 - "$SMTP_DIR" carol.new@example.org <<"PY"
import email, email.policy, glob, json, sys
files, texts = set(), []
for j in sorted(glob.glob(sys.argv[1] + "/*.json")):
    if json.load(open(j))["rcpt_tos"] != [sys.argv[2]]:
        continue
    m = email.message_from_bytes(open(j[:-5] + ".eml", "rb").read(), policy=email.policy.default)
    for part in m.walk():
        if part.get_content_type() == "application/pkcs12":
            files.add(part.get_filename())
        elif part.get_content_type() == "text/plain":
            texts.append(part.get_content())
install = [t for t in texts if "install the new certificate" in t]
assert install and files, (install, files)
assert any(f in install[-1] for f in files), (files, install[-1])
assert all(f.startswith(sys.argv[2] + "-") and f.endswith(".p12") for f in files), files
PY' "the install reminder names the new certificate's file, as the renewal mail attached it"
check '! /usr/bin/python3 "$top_srcdir/tests/tools/mailcount.py" "$SMTP_DIR" $m | grep -q "^alice@example.org "' \
	"day 700: no mail at all for ignored alice"
# The leavers of day 364 were revoked on day 371 (on_leave = revoke): no reminders.
check '[ "$(jq -r .counts.revoked "$W/d371.json")" = 6 ]' "day 371: the six leavers of day 364 revoked after leave_grace"
check '! /usr/bin/python3 "$top_srcdir/tests/tools/mailcount.py" "$SMTP_DIR" $m | grep -q "^zoe.simkova@example.org "' \
	"day 700: no reminder for a revoked certificate"

test_end
