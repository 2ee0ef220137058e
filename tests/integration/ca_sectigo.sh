#!/bin/sh
# SPDX-License-Identifier: ISC
# [ca] type = sectigo against tests/tools/fake-rest-ca.py, which follows the
# Sectigo Certificate Manager REST S/MIME API (enroll, collect, the login /
# password / customerUri headers, {"code", "description"} errors, 429 with
# Retry-After) on loopback TLS. The real service cannot run here.
#   - enrol then collect: both people issued, secondary addresses sent,
#     the password never stored or logged;
#   - an order not yet collectable is pending with its order number, polled
#     by later runs (collect only, never a second enrol) until issued;
#   - a refusal is reported with SCM's description and code, and held;
#   - 429 waits at least the Retry-After; bad credentials are a
#     configuration error; an order whose collect fails is kept, not
#     placed again.
set -eu
: "${top_srcdir:?}" "${top_builddir:?}" "${SMIMESYNC:?}"
. "$top_srcdir/tests/tools/smtp-lib.sh"
. "$top_srcdir/tests/tools/test-lib.sh"
. "$top_srcdir/tests/tools/extca-lib.sh"
extca_require python3-cryptography

extca_begin sectigo

extca_start_fake sectigo
cat >"$W/behaviour.json" <<'JSON'
{ "paul@example.org": "pending:2", "rita@example.org": "reject",
  "tina@example.org": "throttle", "carl@example.org": "collectbusy:1" }
JSON
PASSWORD=s3cret-Passw0rd
printf '%s\n' "$PASSWORD" >"$W/scm.secret"
printf '%s\n' "not-the-password" >"$W/wrong.secret"
chmod 600 "$W/scm.secret" "$W/wrong.secret"

section() { # $1 password file
	cat <<CONF
type = sectigo
url = https://127.0.0.1:$PORT
tls_ca_file = $W/pki/root.pem
customer_uri = example
login = api-admin
password_file = $1
org_id = 4242
cert_type = 1938
term = 365
trust_anchor_file = $W/pki/root.pem
retry_interval = 0s
CONF
}
enrols() { grep '"POST"' "$W/requests.jsonl" | grep -c "\"email\": \"$1\"" || true; }

# --- bad credentials ------------------------------------------------------------
section "$W/wrong.secret" >"$W/s1"
extca_write_config "$W" "$W/s1"
"$SMIMESYNC" ca init >/dev/null
check '"$SMIMESYNC" check-config >/dev/null' "check-config accepts the Sectigo CA"
"$SMIMESYNC" run --format json >"$W/r1.json" 2>/dev/null || true
check 'extca_item ada@example.org error r1 | grep -q "misconfigured: HTTP 401: Unknown user (SCM code -16); check the credentials"' \
	"a wrong password: SCM's 401, a configuration error"

# --- enrol and collect ------------------------------------------------------------
section "$W/scm.secret" >"$W/s2"
extca_set_ca "$W/s2"
"$SMIMESYNC" run --format json >"$W/r2.json" 2>"$W/r2.log" || { fail "run 2"; tail -5 "$W/r2.log"; }
check '[ "$(jq -r .counts.issued "$W/r2.json")" = 2 ] && [ "$(smtp_count)" = 4 ]' \
	"both people are enrolled, collected, stored and mailed"
extca_cert ada@example.org
check 'openssl verify -CAfile "$W/pki/root.pem" -untrusted "$W/ada@example.org-chain.pem" -purpose smimesign "$W/ada@example.org.pem" >/dev/null' \
	"the collected certificate and chain verify to the root"
check 'grep "\"email\": \"ada@example.org\"" "$W/requests.jsonl" | tail -1 |
	jq -e ".headers.customeruri == \"example\" and .headers.login == \"api-admin\" and .headers.password == \"ok\" and .body.orgId == 4242 and .body.certType == 1938 and .body.term == 365 and .body.secondaryEmails == [\"a.lovelace@example.org\"] and .body.firstName == \"Ada Lovelace\"" >/dev/null' \
	"the enrolment carries the headers, organization, type, term, names and secondary address"
check '! sqlite3 "$DB" .dump | grep -q "$PASSWORD" && ! grep -q "$PASSWORD" "$W/r2.log"' \
	"the password is neither in the store nor in the log"
check 'sqlite3 "$DB" "SELECT detail FROM audit WHERE event = '\''ca-exchange'\''" | grep -q "^GET https://127.0.0.1:$PORT/api/smime/v1/collect/[0-9]*?format=x509$"' \
	"the audit log has the collect call"

# --- pending, refused, throttled ------------------------------------------------------
for p in paul rita tina carl; do extca_add_person "$p"; done
"$SMIMESYNC" run --format json >"$W/r3.json" 2>/dev/null || true
order=$(sqlite3 "$DB" "SELECT ca_cookie FROM actions WHERE mail = 'paul@example.org'")
check '[ "$(extca_item paul@example.org outcome r3)" = pending ] && [ -n "$order" ] &&
	"$SMIMESYNC" status | grep -A1 "^paul@example.org" | grep -q "pending at the CA"' \
	"an order not yet collectable is pending, its order number kept, and status says so"
check 'extca_item rita@example.org error r3 | grep -q "rejected: HTTP 400: Email rita@example.org is not allowed for the selected organization (SCM code -1020)"' \
	"a refusal is reported with SCM's description and code"
tina_wait=$(sqlite3 "$DB" "SELECT ca_next_try - updated FROM actions WHERE mail = 'tina@example.org'")
check 'extca_item tina@example.org error r3 | grep -q "unreachable: HTTP 429: Too many requests" &&
	[ "$tina_wait" -ge 118 ] && [ "$tina_wait" -le 125 ]' \
	"429: unreachable, and the next attempt waits the Retry-After of 120 s"
"$SMIMESYNC" run --format json >"$W/r4.json" 2>/dev/null || true
check '[ "$(extca_item paul@example.org outcome r4)" = pending ]' "the second collect: still pending"
"$SMIMESYNC" run --format json >"$W/r5.json" 2>/dev/null || true
check '[ "$(extca_item paul@example.org outcome r5)" = done ] && [ "$(enrols paul@example.org)" = 1 ] &&
	[ "$(grep -c "\"GET\", \"path\": \"/api/smime/v1/collect/$order?format=x509\"" "$W/requests.jsonl")" = 3 ]' \
	"the third collect gets the certificate: one enrolment, three collects of the same order"
check '[ "$(enrols rita@example.org)" = 1 ]' "the refused person is not enrolled again"
check 'extca_item carl@example.org error r3 | grep -q "unreachable: HTTP 503" &&
	[ "$(extca_item carl@example.org outcome r4)" = done ] && [ "$(enrols carl@example.org)" = 1 ]' \
	"an order placed but not collectable for a 503 keeps its number: collected later, never enrolled twice"

test_end
