#!/bin/sh
# SPDX-License-Identifier: ISC
# [ca] type = ejbca against tests/tools/fake-rest-ca.py, which follows EJBCA's
# REST API v1 reference (pkcs10enroll, its error bodies, client-certificate
# authentication) on loopback TLS. EJBCA itself cannot run here.
#   - an RA client certificate enrols both people; the chain verifies, the
#     alternative address comes from the CSR, the enrolment code is a secret;
#   - a client certificate EJBCA does not know: 403, a configuration error;
#   - an unknown CA name: EJBCA's 404 message and what to check;
#   - a refusal (400) is reported with EJBCA's message and holds the person;
#   - an approval profile (202) is a configuration to change;
#   - 503 is unreachable; an unrequested SAN address is refused;
#   - what a wrong certificate profile at the CA would give is refused and
#     nothing of it stored: a UPN or DNS name in the SAN, CA:TRUE,
#     serverAuth, keyCertSign, a validity twice the group's.
set -eu
: "${top_srcdir:?}" "${top_builddir:?}" "${SMIMESYNC:?}"
. "$top_srcdir/tests/tools/smtp-lib.sh"
. "$top_srcdir/tests/tools/test-lib.sh"
. "$top_srcdir/tests/tools/extca-lib.sh"
extca_require python3-cryptography

extca_begin ejbca

extca_start_fake ejbca
cat >"$W/behaviour.json" <<'JSON'
{ "rita@example.org": "reject", "anna@example.org": "approval",
  "bob@example.org": "busy", "fred@example.org": "foreign",
  "uma@example.org": "upn", "dan@example.org": "dns", "cara@example.org": "ca",
  "sid@example.org": "serverauth", "kim@example.org": "certsign",
  "lena@example.org": "longlife" }
JSON

section() { # $1 client cert name, $2 CA name
	cat <<CONF
type = ejbca
url = https://127.0.0.1:$PORT/
tls_ca_file = $W/pki/root.pem
tls_cert_file = $W/pki/$1.pem
tls_key_file = $W/pki/$1.key
certificate_profile = SMIME_CP
end_entity_profile = SMIME_EEP
certificate_authority = $2
trust_anchor_file = $W/pki/root.pem
retry_interval = 10m
CONF
}

# --- a client certificate EJBCA does not know ---------------------------------
section stranger "Test Issuing CA" >"$W/s1"
extca_write_config "$W" "$W/s1"
"$SMIMESYNC" ca init >/dev/null
check '"$SMIMESYNC" check-config >/dev/null' "check-config accepts the EJBCA CA"
"$SMIMESYNC" run --format json >"$W/r1.json" 2>/dev/null || true
check 'extca_item ada@example.org error r1 | grep -q "misconfigured: HTTP 403: Not authorized to resource /ca_functionality/create_certificate/.; check the credentials"' \
	"an unknown client certificate: EJBCA's 403, a configuration error"

# --- an unknown CA name ---------------------------------------------------------
section client "No Such CA" >"$W/s2"
extca_set_ca "$W/s2"
"$SMIMESYNC" run --format json >"$W/r2.json" 2>/dev/null || true
check 'extca_item ada@example.org error r2 | grep -q "misconfigured: HTTP 404: CA with name No Such CA doesn.t exist.; check certificate_authority"' \
	"an unknown CA: EJBCA's message and which keys to check"

# --- the RA certificate: both are enrolled ----------------------------------------
section client "Test Issuing CA" >"$W/s3"
extca_set_ca "$W/s3"
"$SMIMESYNC" run --format json >"$W/r3.json" 2>"$W/r3.log" || { fail "run 3"; tail -5 "$W/r3.log"; }
check '[ "$(jq -r .counts.issued "$W/r3.json")" = 2 ] && [ "$(smtp_count)" = 4 ]' \
	"both people are enrolled, stored and mailed"
extca_cert ada@example.org
check 'openssl verify -CAfile "$W/pki/root.pem" -untrusted "$W/ada@example.org-chain.pem" -purpose smimesign "$W/ada@example.org.pem" >/dev/null' \
	"the certificate and the chain EJBCA sent verify to the root"
check 'openssl x509 -in "$W/ada@example.org.pem" -noout -ext subjectAltName | grep -q "email:a.lovelace@example.org"' \
	"the alternative address reached EJBCA in the CSR"
last_enrol() { grep '"ada@example.org"' "$W/requests.jsonl" | tail -1; }
check 'last_enrol | jq -e ".body.certificate_profile_name == \"SMIME_CP\" and .body.end_entity_profile_name == \"SMIME_EEP\" and .body.include_chain == true and .body.email == \"ada@example.org\" and .body.password == \"(present)\"" >/dev/null' \
	"the request names the profiles, the CA, the address and an enrolment code"
check 'sqlite3 "$DB" "SELECT detail FROM audit WHERE event = '\''ca-exchange'\''" | grep -q "\"password\":\"(secret)\"" &&
	sqlite3 "$DB" "SELECT detail FROM audit WHERE event = '\''ca-exchange'\''" | grep -q "^-> HTTP 201 "' \
	"the audit log has the exchange, with the enrolment code replaced"

# --- EJBCA's answers one by one -----------------------------------------------------
for p in rita anna bob fred; do extca_add_person "$p"; done
"$SMIMESYNC" run --format json >"$W/r4.json" 2>/dev/null || true
check 'extca_item rita@example.org error r4 | grep -q "rejected: HTTP 400: User rita@example.org: subjectAltName RFC822NAME is not allowed" &&
	[ "$(sqlite3 "$DB" "SELECT ca_hold IS NOT NULL FROM users WHERE mail = '\''rita@example.org'\''")" = 1 ]' \
	"400: rejected with EJBCA's message, and held back"
check 'extca_item anna@example.org error r4 | grep -q "misconfigured: EJBCA holds the request for approval"' \
	"202: an approval profile is reported as a configuration to change"
check 'extca_item bob@example.org error r4 | grep -q "unreachable: HTTP 503: .*Service Unavailable.*next attempt after"' \
	"503: unreachable, with the next attempt"
check 'extca_item fred@example.org error r4 | grep -q "refusing what the CA issued: its subjectAltName holds mallory@example.net"' \
	"an unrequested SAN address is refused"

# --- what a wrong certificate profile at the CA gives -------------------------------
for p in uma dan cara sid kim lena; do extca_add_person "$p"; done
"$SMIMESYNC" run --format json >"$W/r5.json" 2>/dev/null || true
check 'extca_item uma@example.org error r5 | grep -q "rejected: refusing what the CA issued: its subjectAltName holds a Windows logon name (UPN otherName) administrator@corp, which smimesync never requests"' \
	"a UPN in the SAN is refused"
check 'extca_item dan@example.org error r5 | grep -q "its subjectAltName holds a DNS name login.example.org"' \
	"a DNS name in the SAN is refused"
check 'extca_item cara@example.org error r5 | grep -q "it is a CA certificate (basicConstraints CA:TRUE)"' \
	"a CA certificate is refused"
check 'extca_item sid@example.org error r5 | grep -q "its extendedKeyUsage allows serverAuth (1.3.6.1.5.5.7.3.1), which no S/MIME certificate may carry"' \
	"serverAuth is refused"
check 'extca_item kim@example.org error r5 | grep -q "its keyUsage allows keyCertSign"' \
	"keyCertSign is refused"
check 'extca_item lena@example.org error r5 | grep -q "it is valid for 730 days, longer than the group.s validity of 365 days"' \
	"a validity twice the group's is refused"
check '[ "$(sqlite3 "$DB" "SELECT COUNT(*) FROM certs")" = 2 ]' "nothing but the two good certificates was stored"

test_end
