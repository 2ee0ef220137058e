#!/bin/sh
# SPDX-License-Identifier: ISC
# Issue #3 end to end: certificates every mail client accepts. A real slapd
# and SMTP sink; one group in the mailbox-strict profile with RSA keys and
# compat PKCS#12, one in organization-multipurpose with P-384 keys and
# modern PKCS#12. (gpgsm 2.2.40 crashes importing any EC PKCS#12, even
# OpenSSL's own, so gpgsm gets the RSA one.) Then, with tools that share no code with smimesync:
#   - every leaf passes tests/tools/sbr-lint.py for its profile and
#     openssl verify -x509_strict;
#   - the modern and compat PKCS#12 import into an NSS database (pk12util,
#     Thunderbird's library); the compat one imports into gpgsm; a wrong
#     password fails;
#   - openssl cms signs with the key from the PKCS#12 and verifies with the
#     certificate read from the directory;
#   - revoke removes the certificate from the directory at once; the CRL
#     lists it (v2, increasing number, nextUpdate <= 10 days, AKI, never
#     "unspecified") and openssl verify -crl_check rejects it;
#   - after a renewal, recover gives one PKCS#12 with both keys, and mail
#     encrypted to last year's certificate decrypts; master-key rotate keeps
#     every key recoverable and the old key stops working; resend mails the
#     current certificate with a fresh password.
set -eu
: "${top_srcdir:?}" "${top_builddir:?}" "${SMIMESYNC:?}"
. "$top_srcdir/tests/tools/slapd-lib.sh"
. "$top_srcdir/tests/tools/smtp-lib.sh"
. "$top_srcdir/tests/tools/smimesync-lib.sh"
slapd_require
smtp_require
for tool in pk12util certutil gpgsm; do
	command -v $tool >/dev/null || { echo "SKIP: $tool is not installed (tools/install-deps)"; exit 77; }
done
/usr/bin/python3 -c 'import asn1crypto, cryptography' 2>/dev/null ||
	{ echo "SKIP: python3-asn1crypto / python3-cryptography missing (tools/install-deps)"; exit 77; }

W=$(mktemp -d /tmp/smimesync-interop.XXXXXX)
cleanup() {
	[ -d "$W/gnupg" ] && GNUPGHOME="$W/gnupg" gpgconf --kill all >/dev/null 2>&1 || true
	smtp_stop || true
	slapd_stop || true
	[ -n "${KEEP:-}" ] || rm -rf "$W"
}
trap cleanup EXIT INT TERM
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
check() { if eval "$1"; then echo "ok: $2"; else fail "$2"; fi; }
lint() { /usr/bin/python3 "$top_srcdir/tests/tools/sbr-lint.py" "$@"; }

mkdir -p "$W/slapd" "$W/smtp"
slapd_start "$W/slapd"
slapd_load "$top_srcdir/tests/data/example-org.ldif"
smtp_start "$W/smtp"
smimesync_write_config "$W" rsa2048 p384
# The staff group: organization-validated multipurpose; the CA writes a CRL.
ORG="Example Org GmbH"
ORGID="VATDE-123456789"
sed -i -e "/^\[group smime-staff\]/a profile = organization-multipurpose\norganization = $ORG\norganization_identifier = $ORGID\ncountry = DE" \
	-e "/^\[ca internal\]/a crl_file = $W/ca/smime.crl\ncrl_validity = 7d" \
	-e "/^\[group smime-sales\]/,/^\$/s/^pkcs12 = modern/pkcs12 = compat/" \
	-e "/^\[group smime-staff\]/,/^\$/s/^pkcs12 = compat/pkcs12 = modern/" "$W/smimesync.conf"

"$SMIMESYNC" ca init --root-key-out "$ROOT_KEY_OUT" >/dev/null
# Key recovery (recover, resend) needs the operator's credential, which ca init wrote.
CRED=$W/recovery.credential
check '"$SMIMESYNC" check-config >/dev/null' "check-config accepts profiles and crl_file"
csplit -s -z -f "$W/ca/part" "$W/ca/chain.pem" '/-----BEGIN CERTIFICATE-----/' '{*}'
ROOT=$(ls "$W"/ca/part* | tail -n 1)

"$SMIMESYNC" run --format json >"$W/run1.json" 2>"$W/run1.log" || { tail -20 "$W/run1.log"; fail "run exited non-zero"; }
"$SMIMESYNC" status --format json >"$W/status.json"
/usr/bin/python3 "$top_srcdir/tests/tools/mailbox.py" "$SMTP_DIR" "$W/mbox" >/dev/null || fail "mail format checks"

# --- every leaf: BR profile and chain -------------------------------------
dir_leaf() { # MAIL OUT.pem: the userCertificate value in the directory, as PEM
	ldapsearch -LLL -o ldif-wrap=no -x -H "$SLAPD_URI" -b "$SLAPD_BASE" "(mail=$1)" 'userCertificate;binary' |
		sed -n 's/^userCertificate;binary:: //p' | base64 -d >"$2.der"
	[ -s "$2.der" ] && openssl x509 -inform DER -in "$2.der" -out "$2" 2>/dev/null
}
n_checked=0
for m in $(jq -r '.[] | select(.serial != null) | .mail' "$W/status.json"); do
	group=$(jq -r ".[] | select(.mail == \"$m\") | .group" "$W/status.json")
	dir_leaf "$m" "$W/leaf.pem" || { fail "$m: no certificate in the directory"; continue; }
	if [ "$group" = smime-staff ]; then
		lint "$W/leaf.pem" --profile organization-multipurpose --issuer "$W/ca/issuing.pem" --mail "$m" \
			--organization "$ORG" --organization-identifier "$ORGID" --country DE --max-days 365 >"$W/lint.out" 2>&1 ||
			{ cat "$W/lint.out"; fail "$m: breaks organization-multipurpose"; }
		purposes=smimesign
	else
		lint "$W/leaf.pem" --profile mailbox-strict --issuer "$W/ca/issuing.pem" --mail "$m" --max-days 365 \
			>"$W/lint.out" 2>&1 || { cat "$W/lint.out"; fail "$m: breaks mailbox-strict"; }
		purposes="smimesign smimeencrypt"
	fi
	for p in $purposes; do
		openssl verify -x509_strict -purpose $p -CAfile "$ROOT" -untrusted "$W/ca/issuing.pem" "$W/leaf.pem" >/dev/null 2>&1 ||
			fail "$m: openssl verify -x509_strict -purpose $p"
	done
	n_checked=$((n_checked + 1))
done
check '[ "$n_checked" -ge 20 ]' "linted and verified $n_checked certificates"
check 'jq -e ".[] | select(.group == \"smime-staff\")" "$W/status.json" >/dev/null' "the organization group got certificates"

# --- alt_mail_attribute: the directory room returns the extra addresses -----
cat >"$W/alt.ldif" <<LDIF
dn: uid=alice,ou=people,$SLAPD_BASE
changetype: modify
add: objectClass
objectClass: extensibleObject
-
add: otherMailbox
otherMailbox: alice.smith@example.org
otherMailbox: not an address
otherMailbox: ALICE@example.org
LDIF
ldapmodify -x -H "$SLAPD_URI" -D "$SLAPD_ADMIN_DN" -y "$SLAPD_ADMIN_PW_FILE" -f "$W/alt.ldif" >/dev/null
"$top_builddir/tests/tools/dir-probe" --uri "$SLAPD_URI" --base "$SLAPD_BASE" --bind-dn "$SLAPD_SVC_DN" \
	--password-file "$W/ldap.secret" --ca-file "$SLAPD_CA_FILE" --alt-mail-attribute otherMailbox \
	members-full "cn=smime-sales,ou=groups,$SLAPD_BASE" >"$W/probe.out" 2>&1 || { cat "$W/probe.out"; fail "dir-probe"; }
check 'grep "|alice@example.org|" "$W/probe.out" | cut -d"|" -f4 | grep -qx "alice.smith@example.org"' \
	"alt_mail_attribute: valid, distinct addresses become alternative mails"

# --- PKCS#12 interop --------------------------------------------------------
MODERN=dave@example.org    # smime-staff: modern, P-384
COMPAT=alice@example.org   # smime-sales: compat, RSA
check 'openssl pkcs12 -in "$W/mbox/$MODERN.p12" -info -noout -passin "pass:$(cat "$W/mbox/$MODERN.password")" 2>&1 | grep -q "PBES2, PBKDF2, AES-256-CBC, Iteration 10000, PRF hmacWithSHA256" &&
	openssl pkcs12 -in "$W/mbox/$MODERN.p12" -info -noout -passin "pass:$(cat "$W/mbox/$MODERN.password")" 2>&1 | grep -q "MAC: sha256"' \
	"modern PKCS#12: AES-256-CBC, PBKDF2-HMAC-SHA256, SHA-256 MAC"
check 'openssl pkcs12 -in "$W/mbox/$COMPAT.p12" -info -noout -passin "pass:$(cat "$W/mbox/$COMPAT.password")" 2>&1 | grep -q "pbeWithSHA1And3-KeyTripleDES-CBC" &&
	openssl pkcs12 -in "$W/mbox/$COMPAT.p12" -info -noout -passin "pass:$(cat "$W/mbox/$COMPAT.password")" 2>&1 | grep -q "MAC: sha1"' \
	"compat PKCS#12: 3DES and a SHA-1 MAC"
for m in $MODERN $COMPAT; do
	D="$W/nss-$m"
	mkdir -p "$D"
	certutil -N -d "sql:$D" --empty-password
	check 'pk12util -i "$W/mbox/$m.p12" -d "sql:$D" -W "$(cat "$W/mbox/$m.password")" 2>&1 | grep -q "PKCS12 IMPORT SUCCESSFUL"' \
		"$m: pk12util (NSS, Thunderbird) imports the PKCS#12"
	check 'certutil -K -d "sql:$D" | grep -q "S/MIME\|$m\|<"' "$m: the private key is in the NSS database"
	check 'certutil -L -d "sql:$D" | grep -q "u,u,u"' "$m: NSS pairs the certificate with its key"
	D2="$W/nss-wrong-$m"
	mkdir -p "$D2"
	certutil -N -d "sql:$D2" --empty-password
	check '! pk12util -i "$W/mbox/$m.p12" -d "sql:$D2" -W "wrong-password" >/dev/null 2>&1' "$m: pk12util refuses a wrong password"
	check '! openssl pkcs12 -in "$W/mbox/$m.p12" -noout -passin pass:wrong-password 2>/dev/null' "$m: openssl refuses a wrong password"
done

mkdir -m 700 "$W/gnupg"
export GNUPGHOME="$W/gnupg"
echo allow-loopback-pinentry >"$GNUPGHOME/gpg-agent.conf"
# Start the agent ourselves: gpgsm's autostart gives up after a few seconds
# on a busy machine.
gpgconf --launch gpg-agent || fail "cannot start gpg-agent"
# gpgsm exits non-zero when it cannot fetch CRLs for the chain (no dirmngr
# here); what counts is the import summary.
gpgsm_import() { # FILE PASSWORD-FILE
	gpgsm --batch --disable-dirmngr --pinentry-mode loopback --passphrase-fd 0 --import "$1" \
		<"$2" >"$W/gpgsm.out" 2>&1 || true
	grep -q "secret keys imported: 1" "$W/gpgsm.out"
}
# One file, one try: smimesync draws new salts for any compat file whose
# 3DES key gpgsm 2.2 would derive differently from RFC 7292
# (smime/pkcs12_gpgsm.c), so a valid file is never refused (the odds and
# the proof: tests/integration/pkcs12_gpgsm.sh).
gpgsm_ok=no
if gpgsm_import "$W/mbox/$COMPAT.p12" "$W/mbox/$COMPAT.password"; then
	gpgsm_ok=yes
else
	cat "$W/gpgsm.out"
fi
check '[ "$gpgsm_ok" = yes ]' "gpgsm imports the compat PKCS#12"
check 'gpgsm --batch --list-secret-keys 2>/dev/null | grep -q "$COMPAT"' "gpgsm lists the imported secret key"

# --- CMS with the key from the PKCS#12 and the certificate from the directory
for m in $MODERN $COMPAT; do
	openssl pkcs12 -in "$W/mbox/$m.p12" -passin "pass:$(cat "$W/mbox/$m.password")" -nodes -nocerts -out "$W/key.pem" 2>/dev/null
	openssl pkcs12 -in "$W/mbox/$m.p12" -passin "pass:$(cat "$W/mbox/$m.password")" -nokeys -clcerts -out "$W/p12leaf.pem" 2>/dev/null
	dir_leaf "$m" "$W/dirleaf.pem"
	echo "signed by $m" >"$W/msg.txt"
	check 'openssl cms -sign -binary -nocerts -signer "$W/p12leaf.pem" -inkey "$W/key.pem" -in "$W/msg.txt" -out "$W/s.eml" &&
		openssl cms -verify -binary -purpose smimesign -certfile "$W/dirleaf.pem" -CAfile "$W/ca/chain.pem" \
			-in "$W/s.eml" -out "$W/v.txt" 2>/dev/null && cmp -s "$W/msg.txt" "$W/v.txt"' \
		"$m: CMS signed with the PKCS#12 key verifies with the directory's certificate"
	check 'openssl cms -encrypt -binary -aes-256-cbc -in "$W/msg.txt" -out "$W/e.eml" "$W/dirleaf.pem" &&
		openssl cms -decrypt -binary -inkey "$W/key.pem" -recip "$W/p12leaf.pem" -in "$W/e.eml" -out "$W/d.txt" && cmp -s "$W/msg.txt" "$W/d.txt"' \
		"$m: CMS encrypted to the directory's certificate decrypts with the PKCS#12 key"
done

# --- revocation and CRL ----------------------------------------------------
REVOKED=bob@example.org
dir_leaf "$REVOKED" "$W/bob.pem"
bob_serial=$(openssl x509 -in "$W/bob.pem" -noout -serial | cut -d= -f2)
check '"$SMIMESYNC" revoke "$REVOKED" --reason keyCompromise >"$W/revoke.out" 2>&1' "revoke $REVOKED"
cat "$W/revoke.out"
check '[ -z "$(ldapsearch -LLL -o ldif-wrap=no -x -H "$SLAPD_URI" -b "$SLAPD_BASE" "(mail=$REVOKED)" "userCertificate;binary" userSMIMECertificate | grep -i "^user")" ]' \
	"the revoked certificate is gone from the directory"
check '[ -s "$W/ca/smime.crl" ]' "revoke wrote the CRL"
openssl crl -inform DER -in "$W/ca/smime.crl" -noout -text >"$W/crl1.txt"
check 'grep -q "Version 2" "$W/crl1.txt" && grep -q "Serial Number: $bob_serial" "$W/crl1.txt" && grep -q "Key Compromise" "$W/crl1.txt"' \
	"the CRL (v2) lists serial $bob_serial with reason keyCompromise"
check 'grep -q "X509v3 Authority Key Identifier" "$W/crl1.txt"' "the CRL has an authorityKeyIdentifier"
openssl crl -inform DER -in "$W/ca/smime.crl" -out "$W/crl.pem"
check 'openssl verify -crl_check -CRLfile "$W/crl.pem" -CAfile "$ROOT" -untrusted "$W/ca/issuing.pem" "$W/bob.pem" 2>&1 | grep -q "certificate revoked"' \
	"openssl verify -crl_check rejects the revoked certificate"
dir_leaf alice@example.org "$W/alice.pem"
check 'openssl verify -crl_check -CRLfile "$W/crl.pem" -CAfile "$ROOT" -untrusted "$W/ca/issuing.pem" "$W/alice.pem" >/dev/null 2>&1' \
	"openssl verify -crl_check accepts a certificate that is not revoked"
last=$(date -u -d "$(openssl crl -inform DER -in "$W/ca/smime.crl" -noout -lastupdate | cut -d= -f2)" +%s)
next=$(date -u -d "$(openssl crl -inform DER -in "$W/ca/smime.crl" -noout -nextupdate | cut -d= -f2)" +%s)
check '[ $((next - last)) -le $((10 * 86400)) ] && [ $((next - last)) -gt 0 ]' "nextUpdate is within 10 days of lastUpdate"
num1=$(openssl crl -inform DER -in "$W/ca/smime.crl" -noout -crlnumber | cut -d= -f2 | sed "s/^0x//")
# Revoke by serial, reason unspecified: listed, without a reasonCode.
dir_leaf carol@example.org "$W/carol.pem"
carol_serial=$(openssl x509 -in "$W/carol.pem" -noout -serial | cut -d= -f2)
check '"$SMIMESYNC" revoke --serial "$carol_serial" --reason unspecified >/dev/null' "revoke --serial"
check '"$SMIMESYNC" crl >"$W/crl.out"' "smimesync crl"
openssl crl -inform DER -in "$W/ca/smime.crl" -noout -text >"$W/crl2.txt"
num2=$(openssl crl -inform DER -in "$W/ca/smime.crl" -noout -crlnumber | cut -d= -f2 | sed "s/^0x//")
check '[ $((0x$num2)) -gt $((0x$num1)) ]' "the CRL number grows ($num1 -> $num2)"
check 'grep -q "Serial Number: $carol_serial" "$W/crl2.txt" && grep -q "Serial Number: $bob_serial" "$W/crl2.txt"' "the CRL keeps both revocations"
check '! grep -qi "unspecified" "$W/crl2.txt"' "the CRL never says unspecified"
check '! "$SMIMESYNC" revoke "$REVOKED" --reason keyCompromise >/dev/null 2>&1' "revoking a user without a valid certificate fails"
check '! "$SMIMESYNC" revoke alice@example.org --reason certificateHold >/dev/null 2>&1' "certificateHold is refused"

# --- key recovery across a renewal ------------------------------------------
R=alice@example.org
dir_leaf "$R" "$W/old-leaf.pem"
echo "mail from last year" >"$W/old-msg.txt"
openssl cms -encrypt -binary -aes-256-cbc -in "$W/old-msg.txt" -out "$W/old.eml" "$W/old-leaf.pem"
"$top_srcdir/tests/tools/faketime-run" "+352d" "$SMIMESYNC" run --format json >"$W/run2.json" 2>"$W/run2.log" || { tail -20 "$W/run2.log"; fail "renewal run exited non-zero"; }
dir_leaf "$R" "$W/new-leaf.pem"
check '! cmp -s "$W/old-leaf.pem" "$W/new-leaf.pem"' "$R was renewed"
split_keys() { # P12 PASSWORD PREFIX: one PEM file per private key
	openssl pkcs12 -in "$1" -passin "pass:$2" -nodes -nocerts 2>/dev/null |
		awk -v p="$3" '/BEGIN PRIVATE KEY/ { n++ } n { print > (p n ".pem") }'
}
decrypts_old() { # PREFIX: does one of the split keys open old.eml?
	for k in "$1"*.pem; do
		openssl cms -decrypt -binary -inkey "$k" -recip "$W/old-leaf.pem" -in "$W/old.eml" -out "$W/old-dec.txt" 2>/dev/null &&
			cmp -s "$W/old-msg.txt" "$W/old-dec.txt" && return 0
	done
	return 1
}
rc=0; "$SMIMESYNC" recover "$R" >/dev/null 2>&1 || rc=$?
check '[ "$rc" = 2 ]' "recover without --out is a usage error"
recoveries=$(sqlite3 "$W/state/smimesync.db" "SELECT count(*) FROM audit WHERE event = 'keys-recovered'")
check '! "$SMIMESYNC" recover "$R" --out "$W/nocred.p12" </dev/null >/dev/null 2>"$W/nocred.err" && [ ! -e "$W/nocred.p12" ] &&
	grep -q "needs the operator.s recovery credential" "$W/nocred.err"' "recover without the credential is refused"
printf 'not-the-credential\n' >"$W/wrong.cred"; chmod 600 "$W/wrong.cred"
check '! "$SMIMESYNC" recover "$R" --out "$W/wrong.p12" --credential "$W/wrong.cred" >/dev/null 2>"$W/wrong.err" && [ ! -e "$W/wrong.p12" ] &&
	grep -q "refused by the signer: the recovery credential is wrong" "$W/wrong.err"' "recover with a wrong credential is refused by the signer"
"$SMIMESYNC" recover "$R" --out "$W/recovered.p12" --credential "$CRED" >"$W/recover.pw" 2>"$W/recover.err" || { cat "$W/recover.err"; fail "recover exited non-zero"; }
rpw=$(cat "$W/recover.pw")
check '[ "$(wc -l <"$W/recover.pw")" = 1 ] && echo "$rpw" | grep -Eq "^[A-Za-z0-9]{4}(-[A-Za-z0-9]{4}){5}$"' "recover prints only a strong password on stdout"
check '[ "$(stat -c %a "$W/recovered.p12")" = 600 ]' "the recovered PKCS#12 has mode 600"
check '[ "$(openssl pkcs12 -in "$W/recovered.p12" -passin "pass:$rpw" -nodes -nocerts 2>/dev/null | grep -c "BEGIN PRIVATE KEY")" = 2 ]' \
	"the recovered PKCS#12 holds both keys (current and renewed-away)"
check '[ "$(openssl pkcs12 -in "$W/recovered.p12" -passin "pass:$rpw" -nokeys -clcerts 2>/dev/null | grep -c "BEGIN CERTIFICATE")" = 2 ]' \
	"the recovered PKCS#12 holds both certificates"
split_keys "$W/recovered.p12" "$rpw" "$W/rkey"
check 'decrypts_old "$W/rkey"' "mail encrypted to last year's certificate decrypts with a recovered key"
check '! openssl pkcs12 -in "$W/recovered.p12" -noout -passin pass:wrong-password 2>/dev/null' "the recovered PKCS#12 refuses a wrong password"
D="$W/nss-recovered"; mkdir -p "$D"; certutil -N -d "sql:$D" --empty-password
check 'pk12util -i "$W/recovered.p12" -d "sql:$D" -W "$rpw" 2>&1 | grep -q "PKCS12 IMPORT SUCCESSFUL" && [ "$(certutil -K -d "sql:$D" | grep -c "^<")" = 2 ]' \
	"NSS imports both recovered keys"
check '[ "$(sqlite3 "$W/state/smimesync.db" "SELECT count(*) FROM audit WHERE event = '"'"'keys-recovered'"'"'")" = $((recoveries + 1)) ]' "the recovery is in the audit log"
check '! "$SMIMESYNC" recover "$R" --out "$W/recovered.p12" --credential "$CRED" >/dev/null 2>&1' "recover refuses to overwrite a file"

# --- master-key rotation --------------------------------------------------
cp "$W/state/master.key" "$W/old-master.key"
check '"$SMIMESYNC" master-key rotate >"$W/rotate.out" 2>&1' "master-key rotate"
cat "$W/rotate.out"
check '! cmp -s "$W/state/master.key" "$W/old-master.key" && [ "$(stat -c %a "$W/state/master.key")" = 600 ] && [ ! -e "$W/state/master.key.new" ]' \
	"the key file was replaced (mode 600)"
"$SMIMESYNC" recover "$R" --out "$W/recovered2.p12" --credential "$CRED" >"$W/recover2.pw" 2>/dev/null || fail "recover after rotation"
split_keys "$W/recovered2.p12" "$(cat "$W/recover2.pw")" "$W/r2key"
check 'decrypts_old "$W/r2key"' "every key is still recoverable after rotation"
cp "$W/state/master.key" "$W/new-master.key"
cp "$W/old-master.key" "$W/state/master.key"
check '! "$SMIMESYNC" recover "$R" --out "$W/recovered3.p12" --credential "$CRED" >/dev/null 2>"$W/recover3.err"' "the old master key no longer opens the escrow"
cp "$W/new-master.key" "$W/state/master.key"
chmod 600 "$W/state/master.key"
# Interrupted after the commit, before the rename: a rerun finishes it.
cp "$W/new-master.key" "$W/state/master.key.new"
cp "$W/old-master.key" "$W/state/master.key"
chmod 600 "$W/state/master.key" "$W/state/master.key.new"
check '"$SMIMESYNC" master-key rotate 2>&1 | grep -q "completed an interrupted rotation" &&
	cmp -s "$W/state/master.key" "$W/new-master.key" && [ ! -e "$W/state/master.key.new" ]' \
	"master-key rotate completes an interrupted rotation"
# Interrupted before the commit: the unused new key is discarded, rotation runs.
(umask 077; openssl rand -hex 32 >"$W/state/master.key.new")
check '"$SMIMESYNC" master-key rotate >/dev/null 2>&1 && ! cmp -s "$W/state/master.key" "$W/new-master.key" &&
	[ ! -e "$W/state/master.key.new" ]' "master-key rotate discards a stale, unused new key"
"$SMIMESYNC" recover "$R" --out "$W/recovered4.p12" --credential "$CRED" >"$W/recover4.pw" 2>/dev/null || fail "recover after the second rotation"
split_keys "$W/recovered4.p12" "$(cat "$W/recover4.pw")" "$W/r4key"
check 'decrypts_old "$W/r4key"' "keys survive every rotation"

# --- resend -----------------------------------------------------------------
before=$(smtp_count)
check '! "$SMIMESYNC" resend "$R" </dev/null >"$W/resend-nocred.out" 2>&1' "resend without the credential is refused: it hands out the key again"
check '"$SMIMESYNC" resend "$R" --credential "$CRED" >"$W/resend.out" 2>&1' "resend $R"
check '[ "$(smtp_count)" = $((before + 2)) ]' "resend sent a collection mail and a password mail"
/usr/bin/python3 "$top_srcdir/tests/tools/mailbox.py" "$SMTP_DIR" "$W/mbox2" >/dev/null || fail "mail format checks after resend"
check 'openssl pkcs12 -in "$W/mbox2/$R.p12" -passin "pass:$(cat "$W/mbox2/$R.password")" -nokeys -clcerts 2>/dev/null | openssl x509 -noout -fingerprint -sha256 >"$W/resent.fp" &&
	[ "$(cat "$W/resent.fp")" = "$(openssl x509 -in "$W/new-leaf.pem" -noout -fingerprint -sha256)" ]' \
	"the resent PKCS#12 opens with the new password and holds the current certificate"
check '[ "$(cat "$W/mbox2/$R.password")" != "$(cat "$W/mbox/$R.password")" ]' "the resent password is fresh"

# --- the daemon keeps the CRL fresh ----------------------------------------
num_before=$(openssl crl -inform DER -in "$W/ca/smime.crl" -noout -crlnumber | cut -d= -f2 | sed "s/^0x//")
rm -f "$W/ca/smime.crl"
"$SMIMESYNC" daemon >"$W/daemon.log" 2>&1 &
DPID=$!
i=0
while [ ! -s "$W/ca/smime.crl" ] && kill -0 "$DPID" 2>/dev/null && [ $i -lt 3000 ]; do sleep 0.1; i=$((i + 1)); done
kill -TERM "$DPID" 2>/dev/null || true
wait "$DPID" || true
num_after=$(openssl crl -inform DER -in "$W/ca/smime.crl" -noout -crlnumber 2>/dev/null | cut -d= -f2 | sed "s/^0x//")
check '[ -n "$num_after" ] && [ $((0x$num_after)) -gt $((0x$num_before)) ]' "the daemon re-signed the missing CRL with a higher number"
check 'openssl crl -inform DER -in "$W/ca/smime.crl" -noout -text | grep -q "Serial Number: $bob_serial"' "the daemon's CRL still lists the revocations"

echo "$fails failure(s)"
[ "$fails" = 0 ]
