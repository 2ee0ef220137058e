#!/bin/sh
# SPDX-License-Identifier: ISC
# Kill smimesync with SIGKILL right after each persisted provisioning step,
# run it again, and check that nothing was doubled or lost: every person
# ends with exactly one certificate in the store and in the directory,
# exactly one collection mail and one password mail, and the store passes
# PRAGMA integrity_check.
set -eu
: "${top_srcdir:?}" "${top_builddir:?}" "${SMIMESYNC:?}"
CRASHY="$top_builddir/tests/tools/smimesync-crashy"
. "$top_srcdir/tests/tools/slapd-lib.sh"
. "$top_srcdir/tests/tools/smtp-lib.sh"
. "$top_srcdir/tests/tools/smimesync-lib.sh"
. "$top_srcdir/tests/tools/test-lib.sh"
slapd_require
smtp_require

test_begin crash

test_org_servers
smimesync_write_config "$W" p256 p256
# Only the small nested group, with fast keys: the point is the steps.
sed -i '/^\[group smime-staff\]/,$ s/^group_dn = .*/group_dn = cn=sales-dach,ou=groups,'"$SLAPD_BASE"'/' "$SMIMESYNC_CONF"
"$SMIMESYNC" ca init --root-key-out "$ROOT_KEY_OUT" >/dev/null
cp "$W/state/master.key" "$W/master.key.keep"
PEOPLE="alice@example.org bob@example.org carol@example.org zoe.simkova@example.org walter@example.org
joerg.mueller@example.org sybil@example.org heidi@example.org frank@example.org"

reset_world() {
	rm -rf "$W/state" && mkdir -m 700 "$W/state" && cp -p "$W/master.key.keep" "$W/state/master.key"
	rm -f "$SMTP_DIR"/*
	for uid in $(ldapsearch -LLL -x -H "$SLAPD_URI" -b "ou=people,$SLAPD_BASE" '(|(userCertificate;binary=*)(userSMIMECertificate=*))' dn |
		sed -n 's/^dn: //p'); do
		printf 'dn: %s\nchangetype: modify\nreplace: userCertificate;binary\n-\nreplace: userSMIMECertificate\n\n' "$uid"
	done >"$W/clean.ldif"
	[ -s "$W/clean.ldif" ] && ldapmodify -x -H "$SLAPD_URI" -D "$SLAPD_ADMIN_DN" -y "$SLAPD_ADMIN_PW_FILE" -f "$W/clean.ldif" >/dev/null
	return 0
}

for step in planned key_made ca_asked cert_stored published done; do
	reset_world
	set +e
	SMIMESYNC_CRASH_AFTER=$step "$CRASHY" run >"$W/crash.out" 2>"$W/crash.log"
	rc=$?
	set -e
	if [ "$rc" -ne 137 ]; then
		fail "$step: expected the crashy run to be killed (exit 137), got $rc"
		tail -5 "$W/crash.log"
		continue
	fi
	"$SMIMESYNC" run --format json >"$W/after.json" 2>"$W/after.log" || { fail "$step: the run after the crash failed"; tail -5 "$W/after.log"; }
	/usr/bin/python3 "$top_srcdir/tests/tools/mailbox.py" "$SMTP_DIR" "$W/mbox" >"$W/mbox.txt" || fail "$step: mail checks: $(grep ERROR "$W/mbox.txt" | head -3)"
	db="$W/state/smimesync.db"
	[ "$(sqlite3 "$db" 'PRAGMA integrity_check')" = ok ] || fail "$step: store integrity check"
	[ "$(sqlite3 "$db" "SELECT COUNT(*) FROM actions WHERE state NOT IN ('done')")" = 0 ] ||
		fail "$step: unfinished actions remain"
	for m in $PEOPLE; do
		n=$(sqlite3 "$db" "SELECT COUNT(*) FROM certs WHERE mail = '$m'")
		[ "$n" = 1 ] || fail "$step: $m has $n certificates in the store"
		grep -qx "$m collection=1 password=1" "$W/mbox.txt" || fail "$step: $m: $(grep "^$m " "$W/mbox.txt" || echo 'no mail')"
		nd=$(ldapsearch -LLL -o ldif-wrap=no -x -H "$SLAPD_URI" -b "$SLAPD_BASE" "(mail=$m)" 'userCertificate;binary' |
			grep -c '^userCertificate;binary::' || true)
		[ "$nd" = 1 ] || fail "$step: $m has $nd certificates in the directory"
	done
	echo "ok: killed after $step, resumed: one certificate, one publication, two mails each"
done
test_end
