#!/bin/sh
# SPDX-License-Identifier: ISC
# Item 3 of the lifecycle work: CSRs that ask for what S/MIME needs, tried
# against certmonger's own local-submit helper (Debian's certmonger
# package), a real CA that copies the extensions a CSR requests. Before,
# the CSR asked only for the SAN: local-submit issued 11 certificates
# without emailProtection, smimesync refused all 11 and nobody was
# provisioned. Now the CSR requests the SAN, the key usage for the key
# type and the emailProtection EKU: 11 people provisioned, 0 refused, and
# the certificates say so (openssl reads them from the store).
set -eu
: "${top_srcdir:?}" "${top_builddir:?}" "${SMIMESYNC:?}"
. "$top_srcdir/tests/tools/smtp-lib.sh"
. "$top_srcdir/tests/tools/test-lib.sh"
. "$top_srcdir/tests/tools/extca-lib.sh"
LOCAL_SUBMIT=/usr/lib/certmonger/local-submit
[ -x "$LOCAL_SUBMIT" ] || { echo "SKIP: $LOCAL_SUBMIT is missing (install certmonger: tools/install-deps)"; exit 77; }
extca_require

extca_begin certmonger
mkdir -p "$W/localca"
# local-submit keeps its CA in a directory of its own: a wrapper names it.
printf '#!/bin/sh\nexec %s -d %s "$@"\n' "$LOCAL_SUBMIT" "$W/localca" >"$W/local-submit"
chmod 755 "$W/local-submit"
CERTMONGER_OPERATION=FETCH-ROOTS "$W/local-submit" | sed -n '/-----BEGIN/,/-----END/p' >"$W/localca.pem"
check 'openssl x509 -in "$W/localca.pem" -noout' "local-submit made its CA"
cat >"$W/ca.section" <<CONF
type = helper
command = $W/local-submit
trust_anchor_file = $W/localca.pem
timeout = 30s
retry_interval = 0s
CONF
extca_write_config "$W" "$W/ca.section"
for p in b1 b2 b3 b4 b5 b6 b7 b8 b9; do extca_add_person "$p"; done
"$SMIMESYNC" ca init >/dev/null
set +e
"$SMIMESYNC" run --format json >"$W/r1.json" 2>"$W/r1.log"
rc=$?
set -e
echo "run: exit $rc, $(jq -c .counts "$W/r1.json")"
check '[ "$rc" = 0 ] && [ "$(jq -r .counts.issued "$W/r1.json")" = 11 ]' "11 people provisioned"
check '[ "$(jq "[.users[] | select(.outcome != \"done\")] | length" "$W/r1.json")" = 0 ] && [ "$(sqlite3 "$DB" "SELECT COUNT(*) FROM unwanted_certs")" = 0 ]' \
	"0 refused"
extca_cert b5@example.org
check 'openssl x509 -in "$W/b5@example.org.pem" -noout -ext extendedKeyUsage | grep -q "E-mail Protection"' \
	"the certificate carries emailProtection, as the CSR asked"
check 'openssl x509 -in "$W/b5@example.org.pem" -noout -ext keyUsage | grep -q "Digital Signature, Key Agreement"' \
	"and the key usage for an EC key"
test_end
