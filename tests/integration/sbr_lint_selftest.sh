#!/bin/sh
# SPDX-License-Identifier: ISC
# The profile linter must catch what it claims to catch. Certificates are
# made with the openssl command line (no smimesync code): one that follows
# the mailbox-strict profile must pass tests/tools/sbr-lint.py, and each
# variant that breaks exactly one rule must fail with the matching finding.
set -eu
: "${top_srcdir:?}"
/usr/bin/python3 -c 'import asn1crypto, cryptography' 2>/dev/null ||
	{ echo "SKIP: python3-asn1crypto / python3-cryptography missing (tools/install-deps)"; exit 77; }

W=$(mktemp -d /tmp/sbr-lint-selftest.XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$W"' EXIT INT TERM
fails=0
lint() { /usr/bin/python3 "$top_srcdir/tests/tools/sbr-lint.py" "$@"; }

# A P-384 CA with a subjectKeyIdentifier, and a P-256 subscriber key.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -sha384 -days 3650 \
	-subj "/O=Lint Test/CN=Lint Test CA" -keyout "$W/ca.key" -out "$W/ca.pem" \
	-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
	-addext "subjectKeyIdentifier=hash" 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=alice@example.org" \
	-keyout "$W/leaf.key" -out "$W/leaf.csr" 2>/dev/null

GOOD='basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyAgreement
extendedKeyUsage=emailProtection
subjectAltName=email:alice@example.org
certificatePolicies=2.23.140.1.5.1.3
crlDistributionPoints=URI:http://pki.example.org/smime.crl
authorityInfoAccess=caIssuers;URI:http://pki.example.org/ca.crt
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid:always'

# issue NAME EXTENSIONS [DAYS] [DIGEST] [SUBJECT]
issue() {
	printf '[v3]\n%s\n' "$2" >"$W/$1.cnf"
	openssl x509 -req -in "$W/leaf.csr" -CA "$W/ca.pem" -CAkey "$W/ca.key" -${4:-sha384} \
		-days "${3:-365}" ${5:+-subj "$5"} -extfile "$W/$1.cnf" -extensions v3 -out "$W/$1.pem" 2>/dev/null
}
# expect NAME "finding text" EXTENSIONS [DAYS] [DIGEST] [SUBJECT]: lint must report it
expect() {
	name=$1 want=$2
	shift 2
	issue "$name" "$@"
	if lint "$W/$name.pem" --profile mailbox-strict --issuer "$W/ca.pem" --mail alice@example.org >"$W/$name.out" 2>&1; then
		echo "FAIL: $name: the linter accepted it"
		fails=$((fails + 1))
	elif ! grep -q -- "$want" "$W/$name.out"; then
		echo "FAIL: $name: expected a finding with \"$want\", got:"
		cat "$W/$name.out"
		fails=$((fails + 1))
	else
		echo "ok: $name: $want"
	fi
}
swap() { printf '%s\n' "$GOOD" | sed "s|$1|$2|"; }

issue good "$GOOD"
if lint "$W/good.pem" --profile mailbox-strict --issuer "$W/ca.pem" --mail alice@example.org; then
	echo "ok: a mailbox-strict certificate passes"
else
	echo "FAIL: a mailbox-strict certificate made by openssl is rejected"
	fails=$((fails + 1))
fi

expect ku-not-critical "keyUsage is not critical" "$(swap 'keyUsage=critical,' 'keyUsage=')"
expect ku-ec-keyenc "keyUsage \[" "$(swap 'keyAgreement' 'keyEncipherment')"
expect eku-serverauth "extKeyUsage" "$(swap 'emailProtection' 'emailProtection,serverAuth')"
expect cdp-https "is not http://" "$(swap 'URI:http://pki.example.org/smime.crl' 'URI:https://pki.example.org/smime.crl')"
expect cdp-missing "cRLDistributionPoints missing" "$(printf '%s\n' "$GOOD" | grep -v crlDistributionPoints)"
expect aia-ldap "authorityInfoAccess" "$(swap 'caIssuers;URI:http' 'caIssuers;URI:ldap')"
expect policy-wrong "certificatePolicies" "$(swap '2.23.140.1.5.1.3' '2.23.140.1.5.1.2')"
expect policy-two "certificatePolicies" "$(swap '2.23.140.1.5.1.3' '2.23.140.1.5.1.3,2.23.140.1.5.4.3')"
expect aki-issuer "keyIdentifier only" "$(swap 'keyid:always' 'keyid:always,issuer:always')"
expect ski-missing "subjectKeyIdentifier missing" "$(swap 'subjectKeyIdentifier=hash' 'subjectKeyIdentifier=none')"
expect san-other "SAN lacks" "$(swap 'email:alice@example.org' 'email:bob@example.org')"
expect san-dns "dns_name entry is not allowed" "$(swap 'email:alice@example.org' 'email:alice@example.org,DNS:example.org')"
expect bc-ca "basicConstraints" "$(swap 'CA:FALSE' 'CA:TRUE')"
expect too-long "exceeds the BR's 825 days" "$GOOD" 826
expect digest-mismatch "does not match the CA key" "$GOOD" 365 sha256
expect subject-org "is not allowed in mailbox-strict" "$GOOD" 365 sha384 "/O=Example/CN=alice@example.org"
expect cn-not-san "subject: CN" "$GOOD" 365 sha384 "/CN=someone.else@example.org"
expect prohibited-ext "subjectDirectoryAttributes" "$GOOD
2.5.29.9=DER:3000"

echo "$fails failure(s)"
[ "$fails" = 0 ]
