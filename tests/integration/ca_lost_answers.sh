#!/bin/sh
# SPDX-License-Identifier: ISC
# Invariant I3 with external CAs: every certificate a CA issued at our
# request is in the store, and one we do not keep is revoked at the CA.
# Checked from outside, in the CA's own record (the stand-in's list of what
# it issued, tests/tools/fake-rest-ca.py --issued):
#   - EJBCA and Sectigo carry a request out and drop the answer (as a
#     timeout or a dropped connection loses it): the next run asks the CA
#     (certificate search, the order list) instead of ordering again, so
#     the CA holds exactly one certificate per person, the one stored;
#   - a certificate refused after issuance (an address nobody asked for)
#     is recorded and revoked at the CA through its API;
#   - a certmonger helper, which has no revocation call, issues one we
#     refuse: the report names the serial for the admin, once;
#   - a certmonger helper issues and then never answers (the answer is
#     lost; it cannot be asked what it issued): the next run asks again
#     with the same key and tells the admin once, with that key's SHA-256,
#     that a duplicate may exist; the helper's own list shows that the one
#     certificate the store does not know is exactly for that key;
#   - I4 with a pending external CA: a person revoked while their new
#     certificate waits at the helper is never polled for again (so
#     nothing the CA issues later is collected, published or mailed); the
#     admin is told once, with the CA's reference, to cancel the request.
set -eu
: "${top_srcdir:?}" "${top_builddir:?}" "${SMIMESYNC:?}"
. "$top_srcdir/tests/tools/smtp-lib.sh"
. "$top_srcdir/tests/tools/test-lib.sh"
. "$top_srcdir/tests/tools/extca-lib.sh"
extca_require python3-cryptography

extca_begin lost

# unknown_valid: serials the CA holds unrevoked that the store does not know
unknown_valid() {
	jq -r 'to_entries[] | select(.value.revoked == false) | .key' "$W/issued.json" |
		while read -r s; do
			s=$(echo "$s" | sed 's/^0*//')
			n=$(sqlite3 "$DB" "SELECT COUNT(*) FROM certs WHERE ltrim(serial, '0') = '$s'")
			[ "$n" = 1 ] || echo "$s"
		done
}
issued_for() { jq -r --arg m "$1" '[to_entries[] | select(.value.mails[0] == $m)] | length' "$W/issued.json"; }
revoked_for() { jq -r --arg m "$1" '[to_entries[] | select(.value.mails[0] == $m and .value.revoked)] | length' "$W/issued.json"; }
run() {
	_n=$1
	shift
	set +e
	"$@" run --format json >"$W/$_n.json" 2>"$W/$_n.log"
	_rc=$?
	set -e
	echo "run $_n: exit $_rc, $(jq -c .counts "$W/$_n.json" 2>/dev/null)"
}
fresh_state() { rm -rf "$W/state" "$W/issued.json"; mkdir -m 700 "$W/state"; }

# --- EJBCA --------------------------------------------------------------------------
extca_start_fake ejbca
cat >"$W/ejbca.section" <<CONF
type = ejbca
url = https://127.0.0.1:$PORT/
tls_ca_file = $W/pki/root.pem
tls_cert_file = $W/pki/client.pem
tls_key_file = $W/pki/client.key
certificate_profile = SMIME_CP
end_entity_profile = SMIME_EEP
certificate_authority = Test Issuing CA
trust_anchor_file = $W/pki/root.pem
chain_file = $W/pki/chain.pem
retry_interval = 0s
CONF
extca_write_config "$W" "$W/ejbca.section"
extca_add_person fred
"$SMIMESYNC" ca init >/dev/null
echo '{ "ada@example.org": "drop", "fred@example.org": "foreign" }' >"$W/behaviour.json"
run e1 "$SMIMESYNC"
check '[ "$(issued_for ada@example.org)" = 1 ] && [ "$(sqlite3 "$DB" "SELECT COUNT(*) FROM certs WHERE mail = '"'ada@example.org'"'")" = 0 ]' \
	"EJBCA issued for ada, but the answer was lost: the store has nothing yet"
check '[ "$(sqlite3 "$DB" "SELECT r.state FROM ca_requests r JOIN actions a ON a.id = r.action_id WHERE a.mail = '"'ada@example.org'"'")" = sent ]' \
	"the request was recorded before it left, and is still unanswered"
echo '{}' >"$W/behaviour.json"
run e2 "$SMIMESYNC"
check '[ "$(issued_for ada@example.org)" = 1 ]' "EJBCA: the next run found the certificate by search and did not order again"
check 'extca_item ada@example.org outcome e2 | grep -qx done' "ada is provisioned with the certificate that was issued before"
check '[ "$(revoked_for fred@example.org)" = 1 ]' "EJBCA: the certificate refused after issuance is revoked at the CA"
check '[ "$(sqlite3 "$DB" "SELECT state FROM unwanted_certs WHERE why LIKE '"'%mallory%'"'")" = revoked ]' \
	"the store records it, revoked"
check '[ -z "$(unknown_valid)" ]' "EJBCA: no valid certificate at the CA that the store does not know ($(unknown_valid | tr '\n' ' '))"
kill "$EXTCA_FPID" && wait "$EXTCA_FPID" 2>/dev/null || true

# --- Sectigo --------------------------------------------------------------------------
fresh_state
extca_start_fake sectigo
printf '%s\n' s3cret-Passw0rd >"$W/scm.secret"
chmod 600 "$W/scm.secret"
cat >"$W/sectigo.section" <<CONF
type = sectigo
url = https://127.0.0.1:$PORT
tls_ca_file = $W/pki/root.pem
customer_uri = example
login = api-admin
password_file = $W/scm.secret
org_id = 4242
cert_type = 1938
term = 365
trust_anchor_file = $W/pki/root.pem
retry_interval = 0s
CONF
extca_set_ca "$W/sectigo.section"
"$SMIMESYNC" ca init >/dev/null 2>&1 || true
echo '{ "alan@example.org": "drop", "fred@example.org": "foreign" }' >"$W/behaviour.json"
run s1 "$SMIMESYNC"
orders() { grep -c '"path": "/api/smime/v1/enroll"' "$W/requests.jsonl" | tr -d ' '; }
check '[ "$(sqlite3 "$DB" "SELECT COUNT(*) FROM certs WHERE mail = '"'alan@example.org'"'")" = 0 ]' \
	"Sectigo took alan's order, but the answer was lost"
before=$(grep '"path": "/api/smime/v1/enroll"' "$W/requests.jsonl" | grep -c alan@example.org || true)
echo '{}' >"$W/behaviour.json"
run s2 "$SMIMESYNC"
after=$(grep '"path": "/api/smime/v1/enroll"' "$W/requests.jsonl" | grep -c alan@example.org || true)
check '[ "$before" = 1 ] && [ "$after" = 1 ]' "Sectigo: the next run found the order by address and did not order again"
check 'extca_item alan@example.org outcome s2 | grep -qx done && [ "$(issued_for alan@example.org)" = 1 ]' \
	"alan is provisioned with the certificate of the first order"
check '[ "$(revoked_for fred@example.org)" = 1 ]' "Sectigo: the certificate refused after issuance is revoked at the CA"
check '[ -z "$(unknown_valid)" ]' "Sectigo: no valid certificate at the CA that the store does not know"
kill "$EXTCA_FPID" && wait "$EXTCA_FPID" 2>/dev/null || true
EXTCA_FPID=

# --- a certmonger helper: no revocation call -------------------------------------------
fresh_state
export EXTCA_HELPER_DIR="$W/helper"
mkdir -p "$EXTCA_HELPER_DIR"
ln -s "$W/pki" "$EXTCA_HELPER_DIR/pki"
echo foreign >"$EXTCA_HELPER_DIR/mode.fred@example.org"
echo drop >"$EXTCA_HELPER_DIR/mode.ada@example.org"
cat >"$W/helper.section" <<CONF
type = helper
command = $top_srcdir/tests/tools/test-ca-helper
# The helper gets a minimal environment; its working directory is passed on purpose.
pass_environment = EXTCA_HELPER_DIR
trust_anchor_file = $W/pki/root.pem
timeout = 3s
retry_interval = 0s
CONF
extca_set_ca "$W/helper.section"
"$SMIMESYNC" ca init >/dev/null 2>&1 || true
run h1 "$SMIMESYNC"
serial=$(sqlite3 "$DB" "SELECT serial FROM unwanted_certs WHERE state = 'admin'")
check '[ -n "$serial" ] && jq -e --arg s "$serial" "[.errors[] | select(.message | contains(\$s) and test(\"revoke it at the CA by hand\"))] | length == 1" "$W/h1.json" >/dev/null' \
	"the helper's refused certificate is reported for the admin with its serial ($serial)"
check '[ "$(sqlite3 "$DB" "SELECT r.state FROM ca_requests r JOIN actions a ON a.id = r.action_id WHERE a.mail = '"'ada@example.org'"'")" = sent ] &&
	[ "$(ls "$EXTCA_HELPER_DIR/issued" | wc -l)" -ge 1 ]' \
	"the helper issued for ada and never answered: the request is recorded as sent"
rm "$EXTCA_HELPER_DIR/mode.ada@example.org"
run h2 "$SMIMESYNC"
check '! grep -q "$serial" "$W/h2.json"' "... once: the next run does not repeat it"
check 'extca_item ada@example.org outcome h2 | grep -qx done' "ada is provisioned by the next run"
# The helper's own list: the certificates it issued that the store does not know.
helper_unknown() {
	for f in "$EXTCA_HELPER_DIR"/issued/*.pem; do
		s=$(openssl x509 -in "$f" -noout -serial | sed 's/^serial=0*//')
		n=$(sqlite3 "$DB" "SELECT (SELECT COUNT(*) FROM certs WHERE ltrim(serial, '0') = '$s') +
			(SELECT COUNT(*) FROM unwanted_certs WHERE ltrim(serial, '0') = '$s')")
		[ "$n" -ge 1 ] || echo "$f"
	done
}
unknown=$(helper_unknown)
n_unknown=$(printf '%s' "$unknown" | grep -c . || true)
check '[ "$n_unknown" = 1 ]' "the helper issued exactly one certificate the store does not know: the lost answer ($n_unknown)"
lost_key=$(openssl x509 -in "${unknown:-/dev/null}" -noout -pubkey 2>/dev/null | openssl pkey -pubin -outform DER 2>/dev/null |
	sha256sum | cut -d' ' -f1)
check 'jq -e --arg k "$lost_key" "[.errors[] | select(.message | contains(\$k) and test(\"revoke there every certificate for this key\"))] | length == 1" "$W/h2.json" >/dev/null' \
	"the report tells the admin once, with the key's SHA-256 ($lost_key), to revoke the duplicate at the CA"
extca_cert ada@example.org
check '[ "$(openssl x509 -in "$W/ada@example.org.pem" -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum | cut -d" " -f1)" = "$lost_key" ]' \
	"the stored certificate is for the same key: the request went again with it"
run h3 "$SMIMESYNC"
check '! grep -q "$lost_key" "$W/h3.json"' "... once: the run after does not repeat it"

# --- I4: revoked while a new certificate is pending at the helper -----------------------
echo wait >"$EXTCA_HELPER_DIR/mode.alan@example.org"
"$SMIMESYNC" issue --force alan@example.org >"$W/issue-alan.out" 2>&1 || true
run h4 "$SMIMESYNC"
check 'extca_item alan@example.org outcome h4 | grep -qx pending' "alan's new certificate is pending at the helper"
"$SMIMESYNC" revoke alan@example.org --reason keyCompromise >"$W/revoke-alan.out" 2>&1 || true
rm "$EXTCA_HELPER_DIR/mode.alan@example.org"
calls_before=$(wc -l <"$EXTCA_HELPER_DIR/calls")
issued_before=$(ls "$EXTCA_HELPER_DIR/issued" | wc -l)
run h5 "$SMIMESYNC"
check '! tail -n +"$((calls_before + 1))" "$EXTCA_HELPER_DIR/calls" | grep -q alan@example.org' \
	"I4: the helper is not asked about alan's request again once alan was revoked"
check '[ "$(ls "$EXTCA_HELPER_DIR/issued" | wc -l)" = "$issued_before" ] &&
	[ "$(sqlite3 "$DB" "SELECT COUNT(*) FROM certs WHERE mail = '"'alan@example.org'"' AND status = '"'valid'"'")" = 0 ]' \
	"I4: no certificate for alan is collected after the revocation"
check '[ "$(extca_item alan@example.org outcome h5)" != done ] && extca_item alan@example.org reason h5 | grep -q revoked' \
	"the report does not say done for alan, and says why: $(extca_item alan@example.org reason h5)"
check 'jq -e "[.errors[] | select(.message | contains(\"order-alan@example.org\") and test(\"cancel it at the CA\"))] | length == 1" "$W/h5.json" >/dev/null' \
	"the admin is told once, with the CA's reference, to cancel the request left at the CA"
run h6 "$SMIMESYNC"
check '! grep -q "order-alan@example.org" "$W/h6.json" && [ "$(sqlite3 "$DB" "SELECT COUNT(*) FROM outbox o JOIN users u ON u.id = o.user_id WHERE u.mail = '"'alan@example.org'"' AND o.state = '"'queued'"'")" = 0 ]' \
	"... once, and no mail is queued for alan"

test_end
