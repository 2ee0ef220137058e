#!/bin/sh
# SPDX-License-Identifier: ISC
# [ca] type = cfssl against a real cfssl server (Debian's golang-cfssl) on
# loopback, over TLS:
#   - authsign with the right HMAC key issues; the chain verifies to the
#     trust anchor, the alternative address is in the SAN, nothing secret is
#     in the audit log;
#   - a wrong HMAC key is a configuration error with cfssl's own message;
#   - a profile without emailProtection is refused (rejected, held back);
#   - a server certificate the section does not trust is refused;
#   - a stopped server is unreachable and backs off;
#   - a certificate refused after issuance is revoked in cfssl's own
#     database through /api/v1/cfssl/revoke (I3);
#   - without auth_key_file the plain sign endpoint is used (plain http).
set -eu
: "${top_srcdir:?}" "${top_builddir:?}" "${SMIMESYNC:?}"
. "$top_srcdir/tests/tools/smtp-lib.sh"
. "$top_srcdir/tests/tools/test-lib.sh"
. "$top_srcdir/tests/tools/extca-lib.sh"
extca_require

extca_begin cfssl
CPID=
PPID2=
stop_cfssl() {
	for p in $CPID $PPID2; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true
	done
	CPID=
	PPID2=
}
test_cleanup_more() { stop_cfssl; }

KEY=8a3f0c92d1e4b5a67c0918f2e3d4c5b6
printf '%s\n' "$KEY" >"$W/cfssl.key"
printf '%s\n' 00112233445566778899aabbccddeeff >"$W/wrong.key"
chmod 600 "$W/cfssl.key" "$W/wrong.key"
cat >"$W/cfssl.json" <<JSON
{
  "signing": {
    "default": { "expiry": "8760h", "auth_key": "smimesync",
      "usages": ["digital signature", "key agreement", "email protection"] },
    "profiles": {
      "smime": { "expiry": "8760h", "auth_key": "smimesync",
        "usages": ["digital signature", "key agreement", "email protection"] },
      "noemail": { "expiry": "8760h", "auth_key": "smimesync",
        "usages": ["digital signature", "client auth"] }
    }
  },
  "auth_keys": { "smimesync": { "type": "standard", "key": "$KEY" } }
}
JSON
cat >"$W/open.json" <<'JSON'
{ "signing": { "default": { "expiry": "8760h",
    "usages": ["digital signature", "key agreement", "email protection"] } } }
JSON
# cfssl's certificate database (the schema of its certdb/sqlite migrations):
# the CA's own record of what it issued and revoked, which the test reads,
# and what cfssl needs to serve /api/v1/cfssl/revoke.
sqlite3 "$W/cfssl.db" "CREATE TABLE certificates (serial_number blob NOT NULL,
  authority_key_identifier blob NOT NULL, ca_label blob, status blob NOT NULL, reason int,
  expiry timestamp, revoked_at timestamp, pem blob NOT NULL,
  PRIMARY KEY(serial_number, authority_key_identifier));
CREATE TABLE ocsp_responses (serial_number blob NOT NULL, authority_key_identifier blob NOT NULL,
  body blob NOT NULL, expiry timestamp, PRIMARY KEY(serial_number, authority_key_identifier));"
printf '{"driver": "sqlite3", "data_source": "%s"}\n' "$W/cfssl.db" >"$W/cfssl-db.json"
PORT=$(smtp_free_port)
cfssl serve -address 127.0.0.1 -port "$PORT" -ca "$W/pki/issuing.pem" -ca-key "$W/pki/issuing.key" \
	-config "$W/cfssl.json" -tls-cert "$W/pki/server.pem" -tls-key "$W/pki/server.key" \
	-db-config "$W/cfssl-db.json" -loglevel 2 2>"$W/cfssl.log" &
CPID=$!
extca_wait_port "$PORT" 300 || { fail "cfssl did not start"; cat "$W/cfssl.log"; exit 1; }

section() { # $1 url, $2 auth key file or "", $3 profile, $4 tls_ca_file
	echo "type = cfssl"
	echo "url = $1"
	[ -n "$2" ] && echo "auth_key_file = $2"
	echo "profile = $3"
	echo "chain_file = $W/pki/chain.pem"
	echo "trust_anchor_file = $W/pki/root.pem"
	echo "tls_ca_file = $4"
	echo "timeout = 10s"
	echo "retry_interval = 30m"
}

section "https://127.0.0.1:$PORT" "$W/wrong.key" smime "$W/pki/root.pem" >"$W/s1"
extca_write_config "$W" "$W/s1"
"$SMIMESYNC" ca init >/dev/null
check '"$SMIMESYNC" check-config >/dev/null' "check-config accepts the cfssl CA"

# --- a wrong HMAC key ----------------------------------------------------------
"$SMIMESYNC" run --format json >"$W/r1.json" 2>/dev/null || true
check '[ "$(extca_item ada@example.org outcome r1)" = failed ] &&
	extca_item ada@example.org error r1 | grep -q "misconfigured: cfssl refused: .*(cfssl code [0-9]*)"' \
	"a wrong HMAC key: misconfigured, with cfssl's message and code"
check '[ "$(sqlite3 "$DB" "SELECT COUNT(*) FROM certs")" = 0 ] &&
	[ "$(sqlite3 "$DB" "SELECT COUNT(*) FROM users WHERE ca_hold IS NOT NULL")" = 0 ]' \
	"nothing stored, nobody held back: a configuration error is ours to fix"

# --- authsign with the right key -----------------------------------------------
section "https://127.0.0.1:$PORT" "$W/cfssl.key" smime "$W/pki/root.pem" >"$W/s2"
extca_set_ca "$W/s2"
"$SMIMESYNC" run --format json >"$W/r2.json" 2>"$W/r2.log" || { fail "run 2"; cat "$W/r2.log"; }
check '[ "$(jq -r .counts.issued "$W/r2.json")" = 2 ] && [ "$(jq -r .status "$W/r2.json")" = ok ]' \
	"authsign: both people are issued"
extca_cert ada@example.org
check 'openssl verify -CAfile "$W/pki/root.pem" -untrusted "$W/ada@example.org-chain.pem" -purpose smimesign "$W/ada@example.org.pem" >/dev/null' \
	"the certificate and stored chain verify to the root for S/MIME"
check 'openssl x509 -in "$W/ada@example.org.pem" -noout -ext subjectAltName | tr -d " \n" |
	grep -q "email:ada@example.org,email:a.lovelace@example.org"' \
	"cfssl put both addresses (hosts) in the SAN"
check '[ "$(openssl x509 -in "$W/ada@example.org.pem" -noout -issuer)" = "issuer=O = smimesync tests, CN = External CA test issuing" ]' \
	"issued by the cfssl server's CA"
check '[ "$(smtp_count)" = 4 ]' "and mailed"
check 'sqlite3 "$DB" "SELECT detail FROM audit WHERE event = '\''ca-exchange'\''" | grep -q "^POST https://127.0.0.1:$PORT/api/v1/cfssl/authsign {\"certificate_request\"" &&
	sqlite3 "$DB" "SELECT detail FROM audit WHERE event = '\''ca-exchange'\''" | grep -q "^-> HTTP 200 {\"success\":true"' \
	"the audit log has the authsign exchange"
check '! sqlite3 "$DB" .dump | grep -qi "$KEY" && ! grep -qi "$KEY" "$W/r2.log"' \
	"the HMAC key is neither in the store nor in the log"

# --- a profile without emailProtection -------------------------------------------
section "https://127.0.0.1:$PORT" "$W/cfssl.key" noemail "$W/pki/root.pem" >"$W/s3"
extca_set_ca "$W/s3"
extca_add_person nora
"$SMIMESYNC" run --format json >"$W/r3.json" 2>/dev/null || true
check 'extca_item nora@example.org error r3 | grep -q "rejected: refusing what the CA issued: its extendedKeyUsage does not allow emailProtection"' \
	"a certificate without emailProtection is refused"
check '[ "$(sqlite3 "$DB" "SELECT ca_hold IS NOT NULL FROM users WHERE mail = '\''nora@example.org'\''")" = 1 ]' \
	"and the person is held back until an admin acts"
# I3, in cfssl's own database: the refused certificate is revoked there, and
# every certificate cfssl holds as good is one the store knows.
nora_serial=$(sqlite3 "$DB" "SELECT serial FROM unwanted_certs WHERE why LIKE '%emailProtection%'")
nora_dec=$(/usr/bin/python3 -c 'import sys; print(int(sys.argv[1], 16))' "${nora_serial:-0}")
check '[ "$(sqlite3 "$W/cfssl.db" "SELECT status || '"'/'"' || reason FROM certificates WHERE serial_number = '"'$nora_dec'"'")" = revoked/5 ] &&
	[ "$(sqlite3 "$DB" "SELECT state FROM unwanted_certs WHERE serial = '"'$nora_serial'"'")" = revoked ]' \
	"the refused certificate is recorded and revoked at cfssl through /api/v1/cfssl/revoke"
unknown_good=$(sqlite3 "$W/cfssl.db" "SELECT serial_number FROM certificates WHERE status = 'good'" |
	while read -r d; do
		h=$(/usr/bin/python3 -c 'import sys; print("%X" % int(sys.argv[1]))' "$d")
		[ "$(sqlite3 "$DB" "SELECT COUNT(*) FROM certs WHERE ltrim(serial, '0') = '$h'")" = 1 ] || echo "$h"
	done)
check '[ -z "$unknown_good" ]' "cfssl holds no good certificate the store does not know ($unknown_good)"

# --- an untrusted server certificate ---------------------------------------------
section "https://127.0.0.1:$PORT" "$W/cfssl.key" smime "$W/pki/other-root.pem" >"$W/s4"
extca_set_ca "$W/s4"
extca_add_person tess
"$SMIMESYNC" run --format json >"$W/r4.json" 2>/dev/null || true
check 'extca_item tess@example.org error r4 | grep -q "misconfigured: the server.s TLS certificate is not trusted (set tls_ca_file"' \
	"a server certificate outside tls_ca_file is refused"

# --- the server is down ----------------------------------------------------------
section "https://127.0.0.1:$PORT" "$W/cfssl.key" smime "$W/pki/root.pem" >"$W/s5"
extca_set_ca "$W/s5"
stop_cfssl
extca_add_person ulla
"$SMIMESYNC" run --format json >"$W/r5.json" 2>/dev/null || true
check 'extca_item ulla@example.org error r5 | grep -q "unreachable: POST https://127.0.0.1:$PORT/api/v1/cfssl/authsign: Couldn.t connect to server.*next attempt after"' \
	"a stopped server is unreachable, and the next attempt is named"
wait_s=$(sqlite3 "$DB" "SELECT ca_next_try - updated FROM actions WHERE mail = 'ulla@example.org' ORDER BY id DESC LIMIT 1")
check '[ "$wait_s" -ge 1790 ] && [ "$wait_s" -le 1810 ]' "it waits retry_interval (30m) before asking again"

# --- plain sign, no authentication, plain http --------------------------------------
PORT2=$(smtp_free_port)
cfssl serve -address 127.0.0.1 -port "$PORT2" -ca "$W/pki/issuing.pem" -ca-key "$W/pki/issuing.key" \
	-config "$W/open.json" -loglevel 2 2>"$W/cfssl2.log" &
PPID2=$!
extca_wait_port "$PORT2" 300 || { fail "the second cfssl did not start"; cat "$W/cfssl2.log"; }
section "http://127.0.0.1:$PORT2" "" smime "$W/pki/root.pem" | grep -v '^profile\|^tls_ca_file' >"$W/s6"
extca_set_ca "$W/s6"
extca_add_person pia
"$SMIMESYNC" run --format json >"$W/r6.json" 2>/dev/null || true
check '[ "$(extca_item pia@example.org outcome r6)" = done ] &&
	sqlite3 "$DB" "SELECT detail FROM audit WHERE event = '\''ca-exchange'\''" | grep -q "POST http://127.0.0.1:$PORT2/api/v1/cfssl/sign "' \
	"without auth_key_file the plain sign endpoint issues"

test_end
