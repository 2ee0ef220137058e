#!/bin/sh
# SPDX-License-Identifier: ISC
# Issue #16 item 7: a CA chain that fits what it issues.
#   - one sync issues in every profile (4) with every key type (5); for each
#     leaf, "openssl verify -policy <its policy OID> -explicit_policy"
#     succeeds on the chain ca init made, the profile linter finds nothing,
#     and multipurpose leaves verify for clientAuth with OpenSSL (-purpose
#     sslclient) and NSS (certutil -V -u C) while strict ones do not;
#   - a CA made for strict groups only, then given a multipurpose group:
#     check-config refuses it with the group's line and the fix, the run
#     reports the person without issuing, "ca renew-issuing --root-key"
#     re-certifies the issuing key (the root key file is only read), and
#     then the new group is issued, validates for clientAuth, and the
#     certificate issued before the renewal still validates.
set -eu
: "${top_srcdir:?}" "${top_builddir:?}" "${SMIMESYNC:?}"
. "$top_srcdir/tests/tools/smtp-lib.sh"
. "$top_srcdir/tests/tools/test-lib.sh"
smtp_require
for tool in certutil sqlite3 jq; do
	command -v $tool >/dev/null || { echo "SKIP: $tool is not installed (tools/install-deps)"; exit 77; }
done
/usr/bin/python3 -c 'import asn1crypto, cryptography' 2>/dev/null ||
	{ echo "SKIP: python3-asn1crypto / python3-cryptography missing (tools/install-deps)"; exit 77; }
lint() { /usr/bin/python3 "$top_srcdir/tests/tools/sbr-lint.py" "$@"; }

test_begin chain
mkdir -p "$W/smtp" "$W/state" "$W/ca" "$W/ca2" "$W/people"
mkdir -p -m 700 "$W/offline" "$W/offline2"
chmod 700 "$W/state"
smtp_start "$W/smtp"
ORG="Example Org GmbH"
ORGID="VATDE-123456789"
PROFILES="mailbox-strict mailbox-multipurpose organization-strict organization-multipurpose"
KEYS="rsa2048 rsa3072 rsa4096 p256 p384"
policy_of() {
	case $1 in
	mailbox-strict) echo 2.23.140.1.5.1.3 ;;
	mailbox-multipurpose) echo 2.23.140.1.5.1.2 ;;
	organization-strict) echo 2.23.140.1.5.2.3 ;;
	organization-multipurpose) echo 2.23.140.1.5.2.2 ;;
	esac
}
cat >"$W/smimesync.conf" <<CONF
[service]
state_dir = $W/state

[ca internal]
cert_file = $W/ca/issuing.pem
key_file = $W/ca/issuing.key
chain_file = $W/ca/chain.pem
crl_url = http://pki.example.org/smime.crl
aia_url = http://pki.example.org/issuing.crt
organization = Example Org
key_type = p384

[ca narrow]
cert_file = $W/ca2/issuing.pem
key_file = $W/ca2/issuing.key
chain_file = $W/ca2/chain.pem
crl_url = http://pki.example.org/narrow.crl
organization = Example Org
key_type = rsa3072

[mail]
smtp_host = 127.0.0.1
smtp_port = $SMTP_PORT
tls_ca_file = $SMTP_CA_FILE
from = Example PKI <pki@example.org>
CONF
# One CSV directory and one group per profile and key type, one person each.
for p in $PROFILES; do
	for k in $KEYS; do
		printf 'Name,Mail\n%s %s,%s-%s@example.org\n' "$p" "$k" "$p" "$k" >"$W/people/$p-$k.csv"
		{
			printf '\n[directory %s-%s]\ntype = csv\nfile = %s\n' "$p" "$k" "$W/people/$p-$k.csv"
			printf '\n[group %s-%s]\ndirectory = %s-%s\nca = internal\nkey_type = %s\n' "$p" "$k" "$p" "$k" "$k"
			printf 'profile = %s\nvalidity = 365d\nescrow = no\n' "$p"
			case $p in organization-*)
				printf 'organization = %s\norganization_identifier = %s\ncountry = DE\n' "$ORG" "$ORGID" ;;
			esac
		} >>"$W/smimesync.conf"
	done
done
# The narrow CA: one strict group now (and one multipurpose group later).
printf 'Name,Mail\nStrict Sam,sam@example.org\n' >"$W/people/narrow-strict.csv"
printf 'Name,Mail\nMulti Mia,mia@example.org\n' >"$W/people/narrow-multi.csv"
cat >>"$W/smimesync.conf" <<CONF

[directory narrow-strict]
type = csv
file = $W/people/narrow-strict.csv

[group narrow-strict]
directory = narrow-strict
ca = narrow
key_type = p256
escrow = no
CONF
SMIMESYNC_CONF=$W/smimesync.conf
export SMIMESYNC_CONF

"$SMIMESYNC" ca init --ca internal --root-key-out "$W/offline/root.key" >"$W/init.out" 2>&1 ||
	{ cat "$W/init.out"; fail "ca init"; }
check 'grep -q "for mailbox-strict, mailbox-multipurpose, organization-strict, organization-multipurpose" "$W/init.out"' \
	"ca init names the profiles the issuing CA is made for"
openssl x509 -in "$W/ca/issuing.pem" -noout -text >"$W/issuing.txt"
check 'grep -q "E-mail Protection, TLS Web Client Authentication" "$W/issuing.txt" &&
	[ "$(grep -c "Policy: 2.23.140.1.5" "$W/issuing.txt")" = 4 ]' \
	"the issuing CA carries the four policy OIDs and emailProtection + clientAuth"
"$SMIMESYNC" ca init --ca narrow --root-key-out "$W/offline2/root.key" >"$W/init2.out" 2>&1 ||
	{ cat "$W/init2.out"; fail "ca init narrow"; }
openssl x509 -in "$W/ca2/issuing.pem" -noout -text >"$W/narrow.txt"
check 'grep -q "E-mail Protection$" "$W/narrow.txt" && ! grep -q "Client Auth" "$W/narrow.txt" &&
	[ "$(grep -c "Policy: 2.23.140.1.5" "$W/narrow.txt")" = 1 ]' \
	"a CA for strict groups only carries emailProtection and one policy, nothing more"
check '"$SMIMESYNC" check-config >"$W/check1.out" 2>&1 && grep -q "^configuration OK" "$W/check1.out"' \
	"check-config accepts the configuration"
check 'grep -q "smimesync.conf:[0-9]*: warning: \[group mailbox-strict-p256\] key_type = p256: Thunderbird (NSS 3.87) cannot encrypt" "$W/check1.out" &&
	! grep -q "warning: \[group mailbox-strict-rsa2048\] key_type" "$W/check1.out"' \
	"check-config warns, with the fix, about EC keys Thunderbird cannot encrypt to, and only about them"

"$SMIMESYNC" run --format json >"$W/run1.json" 2>"$W/run1.log" || { tail -20 "$W/run1.log"; fail "run exited non-zero"; }
check '[ "$(jq -r .counts.issued "$W/run1.json")" = 21 ]' "21 certificates issued (20 profiles x key types, one narrow)"

# The chain as ca init wrote it: the root trusted, the issuing CA untrusted.
csplit -s -z -f "$W/part" "$W/ca/chain.pem" '/-----BEGIN CERTIFICATE-----/' '{*}'
ROOT=$(ls "$W"/part* | tail -n 1)
leaf() { # MAIL OUT.pem: the certificate the store holds for MAIL
	rm -f "$2.der"
	sqlite3 "$W/state/smimesync.db" "SELECT writefile('$2.der', der) FROM certs WHERE mail = '$1' AND status = 'valid'" >/dev/null
	openssl x509 -inform DER -in "$2.der" -out "$2" 2>/dev/null
}
# NSS, Thunderbird's library: the root trusted for TLS clients and mail.
certutil -N -d "sql:$W/nss" --empty-password 2>/dev/null || { mkdir -p "$W/nss"; certutil -N -d "sql:$W/nss" --empty-password; }
certutil -A -d "sql:$W/nss" -n root -t "CT,C,C" -i "$ROOT"
certutil -A -d "sql:$W/nss" -n issuing -t ",," -i "$W/ca/issuing.pem"
n=0
for p in $PROFILES; do
	oid=$(policy_of "$p")
	for k in $KEYS; do
		m=$p-$k@example.org
		leaf "$m" "$W/leaf.pem" || { fail "$m: not in the store"; continue; }
		openssl verify -x509_strict -policy "$oid" -explicit_policy -policy_check -purpose smimesign \
			-CAfile "$ROOT" -untrusted "$W/ca/issuing.pem" "$W/leaf.pem" >"$W/verify.out" 2>&1 ||
			{ cat "$W/verify.out"; fail "$m: openssl verify -policy $oid -explicit_policy"; }
		extra=""
		case $p in organization-*) extra="--organization \"$ORG\" --organization-identifier $ORGID --country DE" ;; esac
		eval lint "\"$W/leaf.pem\"" --profile "$p" --issuer "\"$W/ca/issuing.pem\"" --mail "$m" --max-days 365 $extra \
			>"$W/lint.out" 2>&1 || { cat "$W/lint.out"; fail "$m: breaks $p"; }
		certutil -A -d "sql:$W/nss" -n "$m" -t ",," -i "$W/leaf.pem"
		certutil -V -d "sql:$W/nss" -n "$m" -u S >"$W/nss.out" 2>&1 ||
			{ cat "$W/nss.out"; fail "$m: NSS does not accept it for signing mail"; }
		case $p in
		*-multipurpose)
			openssl verify -x509_strict -purpose sslclient -CAfile "$ROOT" -untrusted "$W/ca/issuing.pem" \
				"$W/leaf.pem" >"$W/verify.out" 2>&1 ||
				{ cat "$W/verify.out"; fail "$m: openssl verify -purpose sslclient"; }
			certutil -V -d "sql:$W/nss" -n "$m" -u C >"$W/nss.out" 2>&1 ||
				{ cat "$W/nss.out"; fail "$m: NSS certutil -V -u C"; } ;;
		*)
			! openssl verify -purpose sslclient -CAfile "$ROOT" -untrusted "$W/ca/issuing.pem" \
				"$W/leaf.pem" >/dev/null 2>&1 || fail "$m: a strict leaf verifies for clientAuth"
			! certutil -V -d "sql:$W/nss" -n "$m" -u C >/dev/null 2>&1 || fail "$m: NSS accepts a strict leaf for clientAuth" ;;
		esac
		n=$((n + 1))
	done
done
check '[ "$n" = 20 ]' "every profile x key type verifies with explicit policy, lints clean, and clientAuth only where multipurpose"

# --- a multipurpose group for the narrow CA ----------------------------------
leaf sam@example.org "$W/sam-before.pem" || fail "sam has no certificate"
cat >>"$W/smimesync.conf" <<CONF

[directory narrow-multi]
type = csv
file = $W/people/narrow-multi.csv

[group narrow-multi]
directory = narrow-multi
ca = narrow
key_type = p256
profile = mailbox-multipurpose
escrow = no
CONF
line=$(grep -n "^profile = mailbox-multipurpose" "$W/smimesync.conf" | tail -n 1 | cut -d: -f1)
check '! "$SMIMESYNC" check-config >"$W/check2.out" 2>&1 &&
	grep -q "^$W/smimesync.conf:$line: \[group narrow-multi\] profile = mailbox-multipurpose: .*lacks the certificatePolicies OID 2.23.140.1.5.1.2 and the clientAuth EKU.*smimesync ca renew-issuing --ca narrow --root-key" "$W/check2.out"' \
	"check-config refuses the group its CA does not fit, at its line, with the fix"
cat "$W/check2.out"
# The signer's own policy must allow the new profile too: ca policy prints
# what the configuration asks for, and the administrator carries it over.
check '"$SMIMESYNC" ca policy | sed -n "/^\[ca narrow\]/,/^\$/p" | grep -qx "profiles = mailbox-strict, mailbox-multipurpose"' \
	"ca policy prints the profile the new group needs"
sed -i '/^\[ca narrow\]/,/^$/s/^profiles = mailbox-strict$/profiles = mailbox-strict, mailbox-multipurpose/' "$W/signer.conf"
"$SMIMESYNC" run --format json >"$W/run2.json" 2>"$W/run2.log" || true
check 'jq -e ".users[] | select(.mail == \"mia@example.org\" and .outcome != \"done\") | .error | contains(\"renew-issuing\")" "$W/run2.json" >/dev/null &&
	[ -z "$(sqlite3 "$W/state/smimesync.db" "SELECT serial FROM certs WHERE mail = '"'"'mia@example.org'"'"'")" ]' \
	"the run does not issue what the chain cannot carry, and tells the admin the fix"
sha_before=$(sha256sum "$W/offline2/root.key" | cut -d" " -f1)
check '! "$SMIMESYNC" ca renew-issuing --ca narrow >/dev/null 2>&1' "renew-issuing without --root-key is a usage error"
"$SMIMESYNC" ca renew-issuing --ca narrow --root-key "$W/offline2/root.key" >"$W/renew.out" 2>&1 ||
	{ cat "$W/renew.out"; fail "ca renew-issuing"; }
cat "$W/renew.out"
check '[ "$(sha256sum "$W/offline2/root.key" | cut -d" " -f1)" = "$sha_before" ] &&
	! ls "$W/ca2" | grep -qi "root.key"' "the root key was only read; nothing wrote it beside the CA"
check '"$SMIMESYNC" check-config >/dev/null 2>&1' "check-config accepts the renewed CA"
"$SMIMESYNC" run --format json >"$W/run3.json" 2>"$W/run3.log" || { tail -20 "$W/run3.log"; fail "run after renew exited non-zero"; }
csplit -s -z -f "$W/npart" "$W/ca2/chain.pem" '/-----BEGIN CERTIFICATE-----/' '{*}'
NROOT=$(ls "$W"/npart* | tail -n 1)
leaf mia@example.org "$W/mia.pem" || fail "mia has no certificate after the renewal"
check 'openssl verify -x509_strict -policy 2.23.140.1.5.1.2 -explicit_policy -purpose sslclient -CAfile "$NROOT" \
	-untrusted "$W/ca2/issuing.pem" "$W/mia.pem" >/dev/null' \
	"after renew-issuing the multipurpose leaf verifies with explicit policy and for clientAuth"
check 'openssl verify -x509_strict -policy 2.23.140.1.5.1.3 -explicit_policy -purpose smimesign -CAfile "$NROOT" \
	-untrusted "$W/ca2/issuing.pem" "$W/sam-before.pem" >/dev/null' \
	"the certificate issued before the renewal verifies with the renewed chain"

test_end
