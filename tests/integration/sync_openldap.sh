#!/bin/sh
# SPDX-License-Identifier: ISC
# End to end on OpenLDAP: a real slapd and a real SMTP server on loopback,
# the internal CA, one sync, then every promise of issue #2 checked with
# independent tools (ldapsearch, openssl, Python's email parser):
#   - every enabled member with mail holds exactly one valid certificate, in
#     the store and in the directory, and got one collection mail and one
#     password mail; the PKCS#12 opens with that password, its key matches,
#     the chain verifies for S/MIME signing and encryption, CMS round-trips;
#   - a dry run changes nothing; a second run issues and sends nothing;
#   - 352 days later (faketime) everything is renewed, the new certificate
#     is published and the superseded one removed;
#   - a mail of "a*)(uid=*" widens nothing; CR/LF in a name creates no header.
set -eu
: "${top_srcdir:?}" "${top_builddir:?}" "${SMIMESYNC:?}"
. "$top_srcdir/tests/tools/slapd-lib.sh"
. "$top_srcdir/tests/tools/smtp-lib.sh"
. "$top_srcdir/tests/tools/smimesync-lib.sh"
. "$top_srcdir/tests/tools/test-lib.sh"
slapd_require
smtp_require
command -v faketime >/dev/null || { echo "SKIP: faketime is not installed (tools/install-deps)"; exit 77; }

test_begin e2e
test_org_servers
# Hostile entries: a filter-injection mail and a display name with CR/LF.
cat >"$W/hostile.ldif" <<LDIF
dn: uid=inject,ou=people,$SLAPD_BASE
objectClass: inetOrgPerson
uid: inject
cn: Injection Attempt
sn: Attempt
mail: a*)(uid=*

dn: uid=eve,ou=people,$SLAPD_BASE
objectClass: inetOrgPerson
uid: eve
cn: Eve Evil
sn: Evil
displayName:: $(printf 'Eve\r\nBcc: victim@example.net' | base64 -w0)
mail: eve@example.org
LDIF
slapd_load "$W/hostile.ldif"
cat >"$W/hostile-members.ldif" <<LDIF
dn: cn=smime-staff,ou=groups,$SLAPD_BASE
changetype: modify
add: member
member: uid=inject,ou=people,$SLAPD_BASE
member: uid=eve,ou=people,$SLAPD_BASE
LDIF
ldapmodify -x -H "$SLAPD_URI" -D "$SLAPD_ADMIN_DN" -y "$SLAPD_ADMIN_PW_FILE" -f "$W/hostile-members.ldif" >/dev/null
smimesync_write_config "$W" rsa2048 p256

# Everyone who must end up with a certificate (alice is in both groups).
EXPECTED="alice@example.org bob@example.org carol@example.org zoe.simkova@example.org
walter@example.org joerg.mueller@example.org sybil@example.org heidi@example.org
frank@example.org dave@example.org erin@example.org grace@example.org ivan@example.org
judy@example.org mallory@example.org niaj@example.org olivia@example.org peggy@example.org
rupert@example.org trent@example.org victor@example.org ken.watanabe@example.org eve@example.org"
N_EXPECTED=$(echo $EXPECTED | wc -w)

"$SMIMESYNC" ca init --root-key-out "$ROOT_KEY_OUT" >"$W/ca-init.out"
check '[ -s "$W/ca/chain.pem" ] && [ "$(stat -c %a "$W/ca/issuing.key")" = 600 ]' "ca init wrote the CA, key mode 600"
check '"$SMIMESYNC" check-config >/dev/null' "check-config accepts the configuration"
csplit -s -z -f "$W/ca/part" "$W/ca/chain.pem" '/-----BEGIN CERTIFICATE-----/' '{*}'
ROOT=$(ls "$W"/ca/part* | tail -n 1)

# --- dry run: prints the plan, changes nothing anywhere -------------------
"$SMIMESYNC" run --dry-run --format json >"$W/dry.json"
check '[ "$(jq -r .dry_run "$W/dry.json")" = true ] && [ "$(jq -r .counts.issued "$W/dry.json")" = "$N_EXPECTED" ]' \
	"dry run plans $N_EXPECTED issuances"
check '[ "$(jq -r .counts.published "$W/dry.json")" = "$N_EXPECTED" ] && [ "$(jq -r .counts.mails_queued "$W/dry.json")" = $((2 * N_EXPECTED)) ]' \
	"dry run counts what it would publish ($N_EXPECTED) and mail ($((2 * N_EXPECTED)))"
"$SMIMESYNC" run --dry-run >"$W/dry.txt"
check 'grep -q "A real run would issue $N_EXPECTED, renew 0 and reissue 0" "$W/dry.txt" && grep -q "publish $N_EXPECTED in the directory" "$W/dry.txt"' \
	"the dry-run text says in words what a real run would do"
check '[ ! -e "$W/state/smimesync.db" ]' "dry run created no store"
check '[ "$(smtp_count)" = 0 ]' "dry run sent no mail"
check '[ -z "$(ldapsearch -LLL -x -H "$SLAPD_URI" -b "$SLAPD_BASE" "(userCertificate;binary=*)" dn)" ]' \
	"dry run published nothing"

# --- first run ----------------------------------------------------------
"$SMIMESYNC" run --format json >"$W/run1.json" 2>"$W/run1.log" || { cat "$W/run1.log"; fail "first run exited non-zero"; }
check '[ "$(jq -r .status "$W/run1.json")" = ok ]' "first run status ok"
check '[ "$(jq -r .counts.issued "$W/run1.json")" = "$N_EXPECTED" ]' "first run issued $N_EXPECTED"
check '[ "$(jq -r .counts.skipped "$W/run1.json")" = 2 ]' "two members skipped (no mail, unusable mail)"
check '[ "$(jq -r .counts.mails_sent "$W/run1.json")" = $((2 * N_EXPECTED)) ]' "two mails sent per person"
check 'jq -e ".users[] | select(.dn == \"uid=nomail,ou=people,$SLAPD_BASE\") | select(.action == \"skip\")" "$W/run1.json" >/dev/null' \
	"the member without mail is reported"
check 'jq -e ".users[] | select(.dn == \"uid=inject,ou=people,$SLAPD_BASE\") | select(.action == \"skip\")" "$W/run1.json" >/dev/null' \
	"the member with mail a*)(uid=* is reported, not provisioned"
check '[ "$(jq -r ".users[] | select(.mail == \"alice@example.org\") | .group" "$W/run1.json")" = smime-sales ]' \
	"alice (in two groups) is governed by the first group"
"$SMIMESYNC" report --last --format text >"$W/report1.txt"
check 'grep -q "smimesync run" "$W/report1.txt" && grep -q "issued" "$W/report1.txt"' "report --last prints the text report"

/usr/bin/python3 "$top_srcdir/tests/tools/mailbox.py" "$SMTP_DIR" "$W/mbox1" >"$W/mbox1.txt" || { cat "$W/mbox1.txt"; fail "mail format checks"; }
"$SMIMESYNC" status --format json >"$W/status1.json"

for m in $EXPECTED; do
	serial=$(jq -r ".[] | select(.mail == \"$m\") | .serial" "$W/status1.json")
	[ -n "$serial" ] && [ "$serial" != null ] || { fail "$m has no certificate in the store"; continue; }
	grep -qx "$m collection=1 password=1" "$W/mbox1.txt" || fail "$m did not get exactly one collection and one password mail"
	# Directory: exactly one userCertificate value, equal to the stored one.
	ldapsearch -LLL -o ldif-wrap=no -x -H "$SLAPD_URI" -b "$SLAPD_BASE" "(mail=$m)" \
		'userCertificate;binary' userSMIMECertificate >"$W/entry.ldif"
	n=$(grep -c '^userCertificate;binary::' "$W/entry.ldif" || true)
	[ "$n" = 1 ] || { fail "$m has $n userCertificate values"; continue; }
	sed -n 's/^userCertificate;binary:: //p' "$W/entry.ldif" | base64 -d >"$W/leaf.der"
	dserial=$(openssl x509 -inform DER -in "$W/leaf.der" -noout -serial | cut -d= -f2)
	[ "$dserial" = "$serial" ] || fail "$m: directory serial $dserial != store serial $serial"
	sed -n 's/^userSMIMECertificate:: //p' "$W/entry.ldif" | base64 -d >"$W/smime.p7"
	openssl pkcs7 -inform DER -in "$W/smime.p7" -print_certs -out "$W/smime.pem" 2>/dev/null ||
		fail "$m: userSMIMECertificate is not a PKCS#7"
	# The PKCS#12 opens with the password from the separate mail; key matches.
	pw=$(cat "$W/mbox1/$m.password")
	openssl pkcs12 -in "$W/mbox1/$m.p12" -passin "pass:$pw" -nodes -out "$W/p12.pem" 2>/dev/null ||
		{ fail "$m: PKCS#12 does not open with the mailed password"; continue; }
	openssl x509 -in "$W/p12.pem" -out "$W/p12-leaf.pem" 2>/dev/null
	openssl pkey -in "$W/p12.pem" -out "$W/p12-key.pem" 2>/dev/null
	[ "$(openssl pkey -in "$W/p12-key.pem" -pubout)" = "$(openssl x509 -in "$W/p12-leaf.pem" -noout -pubkey)" ] ||
		fail "$m: PKCS#12 key does not match its certificate"
	[ "$(openssl x509 -in "$W/p12-leaf.pem" -noout -serial | cut -d= -f2)" = "$serial" ] ||
		fail "$m: PKCS#12 holds another certificate than the store"
	# OpenSSL's smimeencrypt purpose demands keyEncipherment, which an EC
	# leaf must not have (S/MIME BR: keyAgreement); EC encryption is shown
	# by the CMS round trip below instead.
	purposes="smimesign smimeencrypt"
	openssl x509 -in "$W/p12-leaf.pem" -noout -text | grep -q id-ecPublicKey && purposes=smimesign
	for purpose in $purposes; do
		openssl verify -x509_strict -purpose $purpose -CAfile "$ROOT" -untrusted "$W/ca/issuing.pem" "$W/p12-leaf.pem" >/dev/null 2>&1 ||
			fail "$m: certificate does not verify for $purpose"
	done
	# Every S/MIME BR rule of the profile, checked independently (issue #3).
	/usr/bin/python3 "$top_srcdir/tests/tools/sbr-lint.py" "$W/p12-leaf.pem" --profile mailbox-strict \
		--issuer "$W/ca/issuing.pem" --mail "$m" --max-days 365 >"$W/lint.out" 2>&1 ||
		{ cat "$W/lint.out"; fail "$m: certificate breaks the S/MIME BR mailbox-strict profile"; }
	if openssl pkcs12 -in "$W/mbox1/$m.p12" -passin "pass:wrong-password" -nodes >/dev/null 2>&1; then
		fail "$m: PKCS#12 opens with a wrong password"
	fi
done
echo "checked $N_EXPECTED people: store, directory, mails, PKCS#12, chain"

# CMS round trips with one RSA (sales) and one EC (staff) user.
for m in alice@example.org dave@example.org; do
	pw=$(cat "$W/mbox1/$m.password")
	openssl pkcs12 -in "$W/mbox1/$m.p12" -passin "pass:$pw" -nodes -out "$W/rt.pem" 2>/dev/null
	openssl x509 -in "$W/rt.pem" -out "$W/rt-leaf.pem"
	openssl pkey -in "$W/rt.pem" -out "$W/rt-key.pem"
	echo "hello $m" >"$W/msg.txt"
	check 'openssl cms -sign -binary -signer "$W/rt-leaf.pem" -inkey "$W/rt-key.pem" -certfile "$W/ca/issuing.pem" -in "$W/msg.txt" -out "$W/signed.eml" &&
		openssl cms -verify -purpose smimesign -CAfile "$ROOT" -binary -in "$W/signed.eml" -out "$W/verified.txt" 2>/dev/null &&
		cmp -s "$W/msg.txt" "$W/verified.txt"' "$m: CMS sign and verify"
	check 'openssl cms -encrypt -binary -aes-256-cbc -in "$W/msg.txt" -out "$W/enc.eml" "$W/rt-leaf.pem" &&
		openssl cms -decrypt -recip "$W/rt-leaf.pem" -inkey "$W/rt-key.pem" -binary -in "$W/enc.eml" -out "$W/dec.txt" &&
		cmp -s "$W/msg.txt" "$W/dec.txt"' "$m: CMS encrypt and decrypt"
done

# CR/LF in a display name created no header (mailbox.py checks for Bcc too).
check '! grep -l "victim@example.net" "$SMTP_DIR"/*.json >/dev/null 2>&1' "no mail went to the address smuggled in a display name"
check '! grep -qi "^Bcc:" "$SMTP_DIR"/*.eml' "no Bcc header in any mail"
# The injection value widened no search: exactly the expected people got certificates.
check '[ "$(jq "[.[] | select(.serial != null)] | length" "$W/status1.json")" = "$N_EXPECTED" ]' \
	"exactly $N_EXPECTED people hold certificates"

# --- second run: nothing to do ------------------------------------------
before=$(smtp_count)
"$SMIMESYNC" run --format json >"$W/run2.json" 2>"$W/run2.log" || fail "second run exited non-zero"
check '[ "$(jq -r .counts.issued "$W/run2.json")" = 0 ] && [ "$(jq -r .counts.renewed "$W/run2.json")" = 0 ]' "second run issues nothing"
check '[ "$(jq -r .counts.unchanged "$W/run2.json")" = "$N_EXPECTED" ]' "second run leaves $N_EXPECTED unchanged"
check '[ "$(smtp_count)" = "$before" ]' "second run sends no mail"

# --- 352 days later: everything is renewed ------------------------------
"$top_srcdir/tests/tools/faketime-run" "+352d" "$SMIMESYNC" run --format json >"$W/run3.json" 2>"$W/run3.log" || { tail -20 "$W/run3.log"; fail "renewal run exited non-zero"; }
check '[ "$(jq -r .counts.renewed "$W/run3.json")" = "$N_EXPECTED" ]' "renewal run renewed $N_EXPECTED"
mkdir -p "$W/sink3"
for m in $EXPECTED; do
	ldapsearch -LLL -o ldif-wrap=no -x -H "$SLAPD_URI" -b "$SLAPD_BASE" "(mail=$m)" \
		'userCertificate;binary' userSMIMECertificate >"$W/entry.ldif"
	n=$(grep -c '^userCertificate;binary::' "$W/entry.ldif" || true)
	ns=$(grep -c '^userSMIMECertificate::' "$W/entry.ldif" || true)
	[ "$n" = 1 ] && [ "$ns" = 1 ] || { fail "$m: after renewal $n userCertificate / $ns userSMIMECertificate values (want 1/1)"; continue; }
	sed -n 's/^userCertificate;binary:: //p' "$W/entry.ldif" | base64 -d >"$W/leaf.der"
	old=$(jq -r ".[] | select(.mail == \"$m\") | .serial" "$W/status1.json")
	new=$(openssl x509 -inform DER -in "$W/leaf.der" -noout -serial | cut -d= -f2)
	[ "$new" != "$old" ] || fail "$m: the directory still holds the superseded certificate"
done
check '[ "$(smtp_count)" = $((before + 2 * N_EXPECTED)) ]' "renewal sent one collection and one password mail each"

# Every certificate the store holds, first issue and renewal alike, passes
# the S/MIME BR linter (issue #3).
n_lint=0
for id in $(sqlite3 "$W/state/smimesync.db" "SELECT id FROM certs ORDER BY id"); do
	mail=$(sqlite3 "$W/state/smimesync.db" "SELECT mail FROM certs WHERE id = $id")
	sqlite3 "$W/state/smimesync.db" "SELECT writefile('$W/store-leaf.der', der) FROM certs WHERE id = $id" >/dev/null
	openssl x509 -inform DER -in "$W/store-leaf.der" -out "$W/store-leaf.pem"
	/usr/bin/python3 "$top_srcdir/tests/tools/sbr-lint.py" "$W/store-leaf.pem" --profile mailbox-strict \
		--issuer "$W/ca/issuing.pem" --mail "$mail" --max-days 365 >"$W/lint.out" 2>&1 ||
		{ cat "$W/lint.out"; fail "certificate #$id ($mail) breaks the mailbox-strict profile"; }
	n_lint=$((n_lint + 1))
done
check '[ "$n_lint" = $((2 * N_EXPECTED)) ]' "linted all $n_lint certificates in the store"

test_end
