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
#   - 503 is unreachable; an unrequested SAN address is refused.
set -eu
: "${top_srcdir:?}" "${top_builddir:?}" "${SMIMESYNC:?}"
. "$top_srcdir/tests/tools/smtp-lib.sh"
. "$top_srcdir/tests/tools/extca-lib.sh"
. "$top_srcdir/tests/tools/test-lib.sh"
smtp_require
for t in sqlite3 jq; do
	command -v "$t" >/dev/null || { echo "SKIP: $t is not installed (tools/install-deps)"; exit 77; }
done
/usr/bin/python3 -c 'import cryptography' 2>/dev/null ||
	{ echo "SKIP: python3-cryptography is not installed (tools/install-deps)"; exit 77; }

test_begin ejbca
FPID=
test_cleanup_more() { [ -z "$FPID" ] || { kill "$FPID" 2>/dev/null && wait "$FPID" 2>/dev/null; } || true; }

mkdir -p "$W/smtp"
extca_make_pki "$W/pki"
smtp_start "$W/smtp"
PORT=$(smtp_free_port)
/usr/bin/python3 "$top_srcdir/tests/tools/fake-rest-ca.py" ejbca --port "$PORT" --pki "$W/pki" \
	--log "$W/requests.jsonl" --behaviour "$W/behaviour.json" 2>"$W/fake.log" &
FPID=$!
extca_wait_port "$PORT" 300 || { fail "the EJBCA stand-in did not start"; cat "$W/fake.log"; exit 1; }
cat >"$W/behaviour.json" <<'JSON'
{ "rita@example.org": "reject", "anna@example.org": "approval",
  "bob@example.org": "busy", "fred@example.org": "foreign" }
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
set_ca() {
	sed -n '1,/^\[ca ext\]$/p' "$SMIMESYNC_CONF" >"$W/conf.new"
	cat "$1" >>"$W/conf.new"
	mv "$W/conf.new" "$SMIMESYNC_CONF"
}
add_person() { echo "$1,$1@example.org," >>"$W/people.csv"; }
DB=$W/state/smimesync.db
item() { jq -r --arg m "$1" '.users[] | select(.mail == $m) | .'"$2" "$W/$3.json"; }

# --- a client certificate EJBCA does not know ---------------------------------
section stranger "Test Issuing CA" >"$W/s1"
extca_write_config "$W" "$W/s1"
"$SMIMESYNC" ca init >/dev/null
check '"$SMIMESYNC" check-config >/dev/null' "check-config accepts the EJBCA CA"
"$SMIMESYNC" run --format json >"$W/r1.json" 2>/dev/null || true
check 'item ada@example.org error r1 | grep -q "misconfigured: HTTP 403: Not authorized to resource /ca_functionality/create_certificate/.; check the credentials"' \
	"an unknown client certificate: EJBCA's 403, a configuration error"

# --- an unknown CA name ---------------------------------------------------------
section client "No Such CA" >"$W/s2"
set_ca "$W/s2"
"$SMIMESYNC" run --format json >"$W/r2.json" 2>/dev/null || true
check 'item ada@example.org error r2 | grep -q "misconfigured: HTTP 404: CA with name No Such CA doesn.t exist.; check certificate_authority"' \
	"an unknown CA: EJBCA's message and which keys to check"

# --- the RA certificate: both are enrolled ----------------------------------------
section client "Test Issuing CA" >"$W/s3"
set_ca "$W/s3"
"$SMIMESYNC" run --format json >"$W/r3.json" 2>"$W/r3.log" || { fail "run 3"; tail -5 "$W/r3.log"; }
check '[ "$(jq -r .counts.issued "$W/r3.json")" = 2 ] && [ "$(smtp_count)" = 4 ]' \
	"both people are enrolled, stored and mailed"
sqlite3 "$DB" "SELECT chain_pem FROM certs WHERE mail = 'ada@example.org'" >"$W/ada-chain.pem"
sqlite3 "$DB" "SELECT writefile('$W/ada.der', der) FROM certs WHERE mail = 'ada@example.org'" >/dev/null
openssl x509 -inform DER -in "$W/ada.der" -out "$W/ada.pem"
check 'openssl verify -CAfile "$W/pki/root.pem" -untrusted "$W/ada-chain.pem" -purpose smimesign "$W/ada.pem" >/dev/null' \
	"the certificate and the chain EJBCA sent verify to the root"
check 'openssl x509 -in "$W/ada.pem" -noout -ext subjectAltName | grep -q "email:a.lovelace@example.org"' \
	"the alternative address reached EJBCA in the CSR"
last_enrol() { grep '"ada@example.org"' "$W/requests.jsonl" | tail -1; }
check 'last_enrol | jq -e ".body.certificate_profile_name == \"SMIME_CP\" and .body.end_entity_profile_name == \"SMIME_EEP\" and .body.include_chain == true and .body.email == \"ada@example.org\" and .body.password == \"(present)\"" >/dev/null' \
	"the request names the profiles, the CA, the address and an enrolment code"
check 'sqlite3 "$DB" "SELECT detail FROM audit WHERE event = '\''ca-exchange'\''" | grep -q "\"password\":\"(secret)\"" &&
	sqlite3 "$DB" "SELECT detail FROM audit WHERE event = '\''ca-exchange'\''" | grep -q "^-> HTTP 201 "' \
	"the audit log has the exchange, with the enrolment code replaced"

# --- EJBCA's answers one by one -----------------------------------------------------
for p in rita anna bob fred; do add_person "$p"; done
"$SMIMESYNC" run --format json >"$W/r4.json" 2>/dev/null || true
check 'item rita@example.org error r4 | grep -q "rejected: HTTP 400: User rita@example.org: subjectAltName RFC822NAME is not allowed" &&
	[ "$(sqlite3 "$DB" "SELECT ca_hold IS NOT NULL FROM users WHERE mail = '\''rita@example.org'\''")" = 1 ]' \
	"400: rejected with EJBCA's message, and held back"
check 'item anna@example.org error r4 | grep -q "misconfigured: EJBCA holds the request for approval"' \
	"202: an approval profile is reported as a configuration to change"
check 'item bob@example.org error r4 | grep -q "unreachable: HTTP 503: .*Service Unavailable.*next attempt after"' \
	"503: unreachable, with the next attempt"
check 'item fred@example.org error r4 | grep -q "refusing what the CA issued: its subjectAltName holds mallory@example.net"' \
	"an unrequested SAN address is refused"
check '[ "$(sqlite3 "$DB" "SELECT COUNT(*) FROM certs")" = 2 ]' "nothing but the two good certificates was stored"

test_end
