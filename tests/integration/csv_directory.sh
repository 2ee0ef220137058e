#!/bin/sh
# SPDX-License-Identifier: ISC
# People outside any directory, from a CSV file: good rows are provisioned
# and mailed, rows with errors are reported by line and skipped, a removed
# row is a leaver, and a broken file retires nobody.
set -eu
: "${top_srcdir:?}" "${SMIMESYNC:?}"
. "$top_srcdir/tests/tools/smtp-lib.sh"
smtp_require

W=$(mktemp -d /tmp/smimesync-csv.XXXXXX)
cleanup() { smtp_stop || true; [ -n "${KEEP:-}" ] || rm -rf "$W"; }
trap cleanup EXIT INT TERM
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
check() { if eval "$1"; then echo "ok: $2"; else fail "$2"; fi; }

mkdir -p "$W/smtp" "$W/state" "$W/ca"
chmod 700 "$W/state" "$W/ca"
smtp_start "$W/smtp"
cat >"$W/people.csv" <<'CSV'
# External staff and pilots (line 1 is this comment)
Name,Mail,Designation,Alt_Mails
Ada Lovelace,ada@partner.example,external auditor,
"Turing, Alan",alan@partner.example,consultant,alan.t@partner.example; turing@partner.example
Grace Hopper,grace@partner.example,pilot,
Broken Row,not-an-address,pilot,
Too,Many,Fields,Here,Extra
Ødegaard Ærø,oedegaard@partner.example,"pilot, Norway",
Ada Again,ADA@partner.example,duplicate,
Linus,linus@partner.example,pilot,
CSV
cat >"$W/smimesync.conf" <<CONF
[service]
state_dir = $W/state

[directory externals]
type = csv
file = $W/people.csv

[ca internal]
cert_file = $W/ca/issuing.pem
key_file = $W/ca/issuing.key
chain_file = $W/ca/chain.pem
crl_url = http://pki.example.org/smime.crl
key_type = p256

[mail]
smtp_host = 127.0.0.1
smtp_port = $SMTP_PORT
tls_ca_file = $SMTP_CA_FILE
from = Example PKI <pki@example.org>

[group externals]
directory = externals
ca = internal
key_type = p256
escrow = no
CONF
export SMIMESYNC_CONF="$W/smimesync.conf"
mkdir -p -m 700 "$W/offline"
"$SMIMESYNC" ca init --root-key-out "$W/offline/root.key" >/dev/null
check '"$SMIMESYNC" check-config >/dev/null' "check-config accepts a csv directory without group_dn"

"$SMIMESYNC" run --format json >"$W/r1.json" 2>"$W/r1.log" || fail "first run exited non-zero"
check '[ "$(jq -r .counts.issued "$W/r1.json")" = 5 ]' "the five good rows get certificates"
check '[ "$(jq -r .counts.skipped "$W/r1.json")" = 3 ] && [ "$(jq -r .status "$W/r1.json")" = ok ]' \
	"three bad rows skipped; the run is ok"
for want in "people.csv:6: mail \"not-an-address\" is not a valid address" \
	"people.csv:7: 5 fields, but the header names 4 columns" \
	"people.csv:9: mail ADA@partner.example appears on an earlier line"; do
	check 'jq -e --arg w "$want" "[.users[] | select(.action == \"skip\") | select(.reason | contains(\$w))] | length == 1" "$W/r1.json" >/dev/null' \
		"reported by line: $want"
done
check '[ "$(smtp_count)" = 10 ]' "ten mails: a collection and a password mail for each of the five"
check 'jq -e ".users[] | select(.mail == \"alan@partner.example\" and .outcome == \"done\")" "$W/r1.json" >/dev/null' \
	"a quoted name with a comma is read whole"
"$SMIMESYNC" status --format json >"$W/status.json"
check '[ "$(jq -r ".[] | select(.mail == \"oedegaard@partner.example\") | .name" "$W/status.json")" = "Ødegaard Ærø" ]' \
	"non-ASCII names survive"
sqlite3 "$W/state/smimesync.db" "SELECT writefile('$W/alan.der', der) FROM certs WHERE mail = 'alan@partner.example'" >/dev/null
check 'openssl x509 -inform DER -in "$W/alan.der" -noout -ext subjectAltName | tr -d " \n" |
	grep -qx "X509v3SubjectAlternativeName:email:alan@partner.example,email:alan.t@partner.example,email:turing@partner.example"' \
	"alternative addresses are in the certificate's SAN, primary first"
check '[ "$(sqlite3 "$W/state/smimesync.db" "SELECT COUNT(*) FROM escrow")" = 0 ] &&
	[ "$(sqlite3 "$W/state/smimesync.db" "SELECT COUNT(*) FROM actions WHERE sealed_key IS NOT NULL")" = 0 ]' \
	"escrow = no: no private key is kept once the mails are queued"
check '! "$SMIMESYNC" recover ada@partner.example --out "$W/ada.p12" --credential "$W/recovery.credential" >/dev/null 2>"$W/ada.err" &&
	[ ! -e "$W/ada.p12" ] && grep -q "no escrowed key" "$W/ada.err"' \
	"escrow = no: recover has nothing to give back"
"$SMIMESYNC" run --format json >"$W/r2.json" 2>/dev/null
check '[ "$(jq -r .counts.issued "$W/r2.json")" = 0 ] && [ "$(smtp_count)" = 10 ]' "second run: nothing"

# Linus leaves the file: a leaver (stop-renewing by default).
sed -i '/^Linus,/d' "$W/people.csv"
"$SMIMESYNC" run --format json >"$W/r3.json" 2>/dev/null
check 'jq -e ".users[] | select(.mail == \"linus@partner.example\" and .action == \"retire\")" "$W/r3.json" >/dev/null' \
	"a removed row is a leaver"
# A file with a broken header fails the read and retires nobody.
cp "$W/people.csv" "$W/people.good"
sed -i 's/^Name,Mail/Name,E-Mail/' "$W/people.csv"
set +e
"$SMIMESYNC" run --format json >"$W/r4.json" 2>/dev/null
rc=$?
set -e
check '[ $rc = 1 ] && jq -e "[.errors[] | select(.message | test(\"unknown column .E-Mail.\"))] | length == 1" "$W/r4.json" >/dev/null' \
	"a broken header fails the run and says which column"
check '[ "$(jq -r .counts.retired "$W/r4.json")" = 0 ]' "a broken file retires nobody"

echo "$fails failure(s)"
[ "$fails" = 0 ]
