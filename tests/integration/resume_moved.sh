#!/bin/sh
# SPDX-License-Identifier: ISC
# Invariant I5 across a crash: kill smimesync right after each persisted
# provisioning step, change the person's address in the directory, run
# again. The unfinished provisioning must not go on with the address it
# was planned with: it is closed, the certificate it made (if any) is
# revoked and taken out of the directory, and a new certificate names the
# current address. Checked from outside: the SAN of what slapd publishes,
# the mail sink, the store's certificate status; the report says why.
set -eu
: "${top_srcdir:?}" "${top_builddir:?}" "${SMIMESYNC:?}"
CRASHY="$top_builddir/tests/tools/smimesync-crashy"
. "$top_srcdir/tests/tools/slapd-lib.sh"
. "$top_srcdir/tests/tools/smtp-lib.sh"
. "$top_srcdir/tests/tools/smimesync-lib.sh"
. "$top_srcdir/tests/tools/test-lib.sh"
slapd_require
smtp_require
command -v jq >/dev/null || { echo "SKIP: jq is not installed (tools/install-deps)"; exit 77; }

test_begin moved

test_org_servers
smimesync_write_config "$W" p256 p256
# One group of one person: the crash point is frank's step.
sed -i '/^\[group smime-staff\]/,$d' "$SMIMESYNC_CONF"
sed -i "s/^group_dn = .*/group_dn = cn=solo,ou=groups,$SLAPD_BASE/" "$SMIMESYNC_CONF"
printf 'dn: cn=solo,ou=groups,%s\nobjectClass: groupOfNames\ncn: solo\nmember: uid=frank,ou=people,%s\n' \
	"$SLAPD_BASE" "$SLAPD_BASE" >"$W/solo.ldif"
slapd_load "$W/solo.ldif" >/dev/null
"$SMIMESYNC" ca init --root-key-out "$ROOT_KEY_OUT" >/dev/null
cp "$W/state/master.key" "$W/master.key.keep"
FRANK="uid=frank,ou=people,$SLAPD_BASE"

ldapmod() { ldapmodify -x -H "$SLAPD_URI" -D "$SLAPD_ADMIN_DN" -y "$SLAPD_ADMIN_PW_FILE" >/dev/null; }
# sans: the e-mail addresses in the SAN of each certificate in frank's entry, one line each
sans() {
	ldapsearch -LLL -o ldif-wrap=no -x -H "$SLAPD_URI" -b "$FRANK" -s base 'userCertificate;binary' |
		sed -n 's/^userCertificate;binary:: //p' | while read -r b64; do
		echo "$b64" | base64 -d | openssl x509 -inform DER -noout -ext subjectAltName 2>/dev/null |
			tr ',' '\n' | sed -n 's/^ *email://p' | LC_ALL=C sort | tr '\n' ' '
		echo
	done
}
reset_world() {
	rm -rf "$W/state" && mkdir -m 700 "$W/state" && cp -p "$W/master.key.keep" "$W/state/master.key"
	rm -f "$SMTP_DIR"/*
	printf 'dn: %s\nchangetype: modify\nreplace: mail\nmail: frank@example.org\nmail: frank.alias@example.org\n-\nreplace: userCertificate;binary\n-\nreplace: userSMIMECertificate\n' \
		"$FRANK" | ldapmod
}

# kill after STEP; then CHANGE (an LDIF modify body for frank's entry); then run.
# WANT is the SAN the new certificate must carry; GONE the address no valid one may name.
crash_then() {
	step=$1 what=$2 change=$3 want=$4 gone=$5
	reset_world
	set +e
	SMIMESYNC_CRASH_AFTER=$step "$CRASHY" run >"$W/crash.out" 2>"$W/crash.log"
	rc=$?
	set -e
	[ "$rc" = 137 ] || { fail "$step: expected the crashy run to be killed (exit 137), got $rc"; return 0; }
	printf 'dn: %s\nchangetype: modify\n%s\n' "$FRANK" "$change" | ldapmod
	set +e
	"$SMIMESYNC" run --format json >"$W/after.json" 2>"$W/after.log"
	rc=$?
	set -e
	db="$W/state/smimesync.db"
	check '[ "$rc" = 0 ]' "$step, $what: the run after the crash ends ok (exit $rc)"
	check '[ "$(sans)" = "$want" ]' "$step, $what: the directory holds one certificate, for $want (SAN: $(sans | tr '\n' '|'))"
	check '[ "$(sqlite3 "$db" "SELECT COUNT(*) FROM certs WHERE status = '"'valid'"' AND (mail = '"'$gone'"' OR instr(COALESCE(alt_mails, '"''"'), '"'$gone'"') > 0)")" = 0 ]' \
		"$step, $what: no valid certificate names $gone"
	case $step in
	cert_stored | published)
		check '[ "$(sqlite3 "$db" "SELECT status FROM certs ORDER BY id LIMIT 1")" = revoked ]' \
			"$step, $what: the certificate the unfinished provisioning made is revoked"
		;;
	esac
	/usr/bin/python3 "$top_srcdir/tests/tools/mailbox.py" "$SMTP_DIR" "$W/mbox" >"$W/mbox.txt" || true
	check '! grep -q "^$gone " "$W/mbox.txt" && grep -q "collection=1 password=1" "$W/mbox.txt"' \
		"$step, $what: the key mails go to the current address only ($(tr '\n' ';' <"$W/mbox.txt"))"
	check 'jq -e ".users[] | select(.dn == \"$FRANK\" and .outcome == \"done\") | select(.reason | test(\"address changed while provisioning was unfinished\"))" "$W/after.json" >/dev/null' \
		"$step, $what: the report says why"
	[ "$(sqlite3 "$db" 'PRAGMA integrity_check')" = ok ] || fail "$step: store integrity check"
}

for step in planned key_made ca_asked cert_stored published; do
	crash_then "$step" "primary address changed" \
		"replace: mail
mail: frank.new@example.org
mail: frank.alias@example.org" "frank.alias@example.org frank.new@example.org " frank@example.org
done
for step in cert_stored published; do
	crash_then "$step" "alias lost" "delete: mail
mail: frank.alias@example.org" "frank@example.org " frank.alias@example.org
done
test_end
