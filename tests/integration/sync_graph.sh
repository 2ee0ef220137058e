#!/bin/sh
# SPDX-License-Identifier: ISC
# Entra ID through Microsoft Graph, end to end: members of an Entra group
# (nested, paged, throttled, with a token that expires mid-read) are read
# with a client secret and then with a certificate assertion, provisioned,
# published into an LDAP address book through publish_to, and mailed
# through Graph sendMail. Disabled users, guests and users without mail
# follow the group's policy; Graph's errors end a read with its code and
# message, and a failed read changes nothing. One person looked up alone
# (dir-probe person: GET the user, checkMemberGroups 20 ids a call) is the
# group read's line for them, in exactly the groups that list them.
#
# Graph itself cannot run here: tests/tools/graph-fake.py follows the
# published API (see its header). slapd is the real publish target.
set -eu
: "${top_srcdir:?}" "${SMIMESYNC:?}"
. "$top_srcdir/tests/tools/slapd-lib.sh"
. "$top_srcdir/tests/tools/graph-lib.sh"
. "$top_srcdir/tests/tools/test-lib.sh"
slapd_require
graph_require
command -v faketime >/dev/null || { echo "SKIP: faketime is not installed"; exit 77; }

test_begin graph
test_cleanup_more() { graph_stop; }

TENANT=6f1c1a3e-0d2b-4c39-9a51-2b7e8d4f0a11
CLIENT=3d9e5b7a-8c41-4f26-b0e3-7a1c9d2e4f58
G_STAFF=0b4ad5e4-7f44-4d8a-9c71-3c1d2a5e6f70
G_TEAM=0b4ad5e4-7f44-4d8a-9c71-3c1d2a5e6f71
G_INNER=0b4ad5e4-7f44-4d8a-9c71-3c1d2a5e6f72
G_PILOTS=0b4ad5e4-7f44-4d8a-9c71-3c1d2a5e6f73
U_ALICE=a11ce000-0000-4000-8000-000000000001
U_BOB=b0b00000-0000-4000-8000-000000000002
U_CAROL=ca201000-0000-4000-8000-000000000003
U_DAVE=da7e0000-0000-4000-8000-000000000004
U_ERIN=e2100000-0000-4000-8000-000000000005
U_FRANK=f2a40000-0000-4000-8000-000000000006
U_GINA=916a0000-0000-4000-8000-000000000007
U_HENRY=4e420000-0000-4000-8000-000000000008
U_PKI=9c100000-0000-4000-8000-000000000009
U_IVY=1f100000-0000-4000-8000-00000000000a
PILOTS="\"$U_GINA\""

mkdir -p "$W/ldap" "$W/graph" "$W/state" "$W/ca" "$W/app"
chmod 700 "$W/state" "$W/ca" "$W/app"
slapd_start "$W/ldap"

# The address book: the people Entra ID knows, found there by mail.
{
	for p in alice:alice@example.org erin:erin@example.org frank:frank@example.org \
		carol:carol@partner.example dave:dave@example.org gina:gina@example.org; do
		printf 'dn: uid=%s,ou=people,%s\nobjectClass: inetOrgPerson\nuid: %s\ncn: %s\nsn: %s\nmail: %s\n\n' \
			"${p%%:*}" "$SLAPD_BASE" "${p%%:*}" "${p%%:*}" "${p%%:*}" "${p#*:}"
	done
} >"$W/people.ldif"
slapd_load "$W/people.ldif"

# The app registration's credentials: a client secret and an RSA certificate.
printf 'fake-secret~Value.0123456789\n' >"$W/app/secret"
printf 'not-the-secret\n' >"$W/app/wrong-secret"
chmod 600 "$W/app/secret" "$W/app/wrong-secret"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$W/app/app.key" -out "$W/app/app.pem" \
	-days 30 -subj "/CN=smimesync app credential" >/dev/null 2>&1
chmod 600 "$W/app/app.key"

# The tenant. Staff holds users directly and a nested team (with a loop
# back to it and a repeated member), a device, a disabled user, a guest,
# a user without mail and one with a broken mail. Two users per page.
write_tenant() { # $1: extra "faults" JSON; $2: staff's direct members
	cat >"$W/graph/tenant.json" <<JSON
{"tenant": "$TENANT", "page_size": 2, "token_lifetime": 3600,
 "clients": {"$CLIENT": {"secret": "fake-secret~Value.0123456789", "cert_file": "$W/app/app.pem",
   "permissions": ["GroupMember.Read.All", "User.Read.All", "Mail.Send"]}},
 "groups": {
  "$G_STAFF": {"displayName": "S/MIME Staff", "members": [$2]},
  "$G_TEAM": {"displayName": "Team", "members": ["$U_ERIN", "$G_INNER"]},
  "$G_INNER": {"displayName": "Inner", "members": ["$U_FRANK", "$G_TEAM", "$U_ALICE"]},
  "$G_PILOTS": {"displayName": "Pilots", "members": [$PILOTS]}},
 "users": {
  "$U_ALICE": {"displayName": "Alice Smith", "givenName": "Alice", "surname": "Smith",
    "mail": "alice@example.org", "userPrincipalName": "alice@example.org",
    "otherMails": [], "proxyAddresses": ["SMTP:alice@example.org", "smtp:a.smith@example.org", "X500:/o=Org/cn=alice"],
    "accountEnabled": true, "userType": "Member", "onPremisesDistinguishedName": null},
  "$U_BOB": {"displayName": "Bob Gone", "mail": "bob@example.org", "userPrincipalName": "bob@example.org",
    "otherMails": [], "proxyAddresses": [], "accountEnabled": false, "userType": "Member"},
  "$U_CAROL": {"displayName": "Carol Partner", "mail": "carol@partner.example",
    "userPrincipalName": "carol_partner.example#EXT#@contoso.onmicrosoft.com",
    "otherMails": ["carol@partner.example"], "proxyAddresses": [], "accountEnabled": true, "userType": "Guest"},
  "$U_DAVE": {"displayName": "Dave NoMailbox", "mail": null, "userPrincipalName": "dave@example.org",
    "otherMails": [], "proxyAddresses": [], "accountEnabled": true, "userType": "Member"},
  "$U_ERIN": {"displayName": "Erin Nested", "mail": "erin@example.org", "userPrincipalName": "erin@example.org",
    "otherMails": [], "proxyAddresses": ["SMTP:erin@example.org"], "accountEnabled": true, "userType": "Member"},
  "$U_FRANK": {"displayName": "Frank Deeper", "mail": "frank@example.org", "userPrincipalName": "frank@example.org",
    "otherMails": [], "proxyAddresses": [], "accountEnabled": true, "userType": "Member"},
  "$U_GINA": {"displayName": "Gina Pilot", "mail": "gina@example.org", "userPrincipalName": "gina@example.org",
    "otherMails": [], "proxyAddresses": [], "accountEnabled": true, "userType": "Member"},
  "$U_HENRY": {"displayName": "Henry Typo", "mail": "henry at example.org", "userPrincipalName": "henry@example.org",
    "otherMails": [], "proxyAddresses": [], "accountEnabled": true, "userType": "Member"},
  "$U_PKI": {"displayName": "PKI", "mail": "pki@example.org", "userPrincipalName": "pki@example.org",
    "otherMails": [], "proxyAddresses": [], "accountEnabled": true, "userType": "Member"},
  "$U_IVY": {"displayName": "Ivy Alias", "mail": "ivy@example.org", "userPrincipalName": "ivy@example.org",
    "otherMails": [], "proxyAddresses": ["SMTP:ivy@example.org", "smtp:ivy.p@example.org", "smtp:PKI@example.org"],
    "accountEnabled": true, "userType": "Member"}},
 "faults": {$1}}
JSON
}
STAFF="\"$U_ALICE\", \"$U_BOB\", \"$U_CAROL\", \"$U_DAVE\", \"$U_HENRY\", \"$G_TEAM\", \"device:laptop-7\""
# Page 2 of staff is throttled once; every token dies after its third Graph call.
write_tenant '"throttle": [{"contains": "skiptoken=2", "times": 1, "retry_after": 1}], "expire_token_after": 3' "$STAFF"
graph_start "$W/graph" "$SLAPD_WORKDIR/tls/server.pem" "$SLAPD_WORKDIR/tls/server.key"

# $1: credential lines; $2: how staff is named; $3: more staff policy
write_config() {
	cat >"$W/smimesync.conf" <<CONF
[service]
state_dir = $W/state

[directory entra]
type = graph
tenant_id = $TENANT
client_id = $CLIENT
$1
authority_host = $GRAPH_URL
graph_host = $GRAPH_URL
tls_ca_file = $SLAPD_CA_FILE

[directory book]
type = ldap
uri = $SLAPD_URI
bind_dn = $SLAPD_SVC_DN
bind_password_file = $W/ldap.secret
base_dn = $SLAPD_BASE
tls_ca_file = $SLAPD_CA_FILE

[ca internal]
cert_file = $W/ca/issuing.pem
key_file = $W/ca/issuing.key
chain_file = $W/ca/chain.pem
crl_url = http://pki.example.org/smime.crl
key_type = p256

[mail]
transport = graph
directory = entra
from = Example PKI <pki@example.org>

[group staff]
directory = entra
$2
publish_to = book
ca = internal
key_type = p256
$3

[group pilots]
directory = entra
group_id = $G_PILOTS
ca = internal
key_type = p256
CONF
}
cp "$SLAPD_SVC_PW_FILE" "$W/ldap.secret"
chmod 600 "$W/ldap.secret"
SECRET="client_secret_file = $W/app/secret"
CERT="client_cert_file = $W/app/app.pem
client_key_file = $W/app/app.key"
write_config "$SECRET" "group_id = $G_STAFF" ""
export SMIMESYNC_CONF="$W/smimesync.conf"
mkdir -p -m 700 "$W/offline"
"$SMIMESYNC" ca init --root-key-out "$W/offline/root.key" >/dev/null

check '"$SMIMESYNC" check-config >"$W/cc.out" 2>&1' "check-config accepts a graph directory, publish_to and the graph transport"
chmod 644 "$W/app/secret"
"$SMIMESYNC" check-config >"$W/cc2.out" 2>&1 && fail "check-config accepted a world-readable client secret"
check 'grep -q "\[directory entra\] client_secret_file: .*secret" "$W/cc2.out"' \
	"check-config refuses a client secret others can read"
chmod 600 "$W/app/secret"
"$SMIMESYNC" run --dry-run --format json >"$W/dry.json" 2>"$W/dry.log" || true
check '[ "$(jq -r .counts.issued "$W/dry.json")" = 4 ] && [ ! -d "$W/graph/mail" ] && [ -z "$(ldapsearch -LLL -x -H "$SLAPD_URI" -b "$SLAPD_BASE" "(userCertificate;binary=*)" dn)" ]' \
	"a dry run reads Graph and plans four, but sends nothing and publishes nothing"
: >"$W/graph/requests.jsonl"
# Rewritten: its faults start afresh for the first real run.
write_tenant '"throttle": [{"contains": "skiptoken=2", "times": 1, "retry_after": 1}], "expire_token_after": 3' "$STAFF"

# --- first run: client secret, group by id --------------------------------
"$SMIMESYNC" run --format json >"$W/r1.json" 2>"$W/r1.log" || { cat "$W/r1.log"; fail "first run exited non-zero"; }
R="$W/graph/requests.jsonl"
check '[ "$(jq -r .status "$W/r1.json")" = ok ]' "first run status ok"
check '[ "$(jq -r .counts.issued "$W/r1.json")" = 4 ]' "alice, nested erin and frank (staff) and gina (pilots) are issued"
check '[ "$(jq -r "[.users[] | select(.action == \"issue\") | .mail] | sort | join(\" \")" "$W/r1.json")" = "alice@example.org erin@example.org frank@example.org gina@example.org" ]' \
	"exactly the eligible transitive members are provisioned"
check 'jq -e ".users[] | select(.id == \"$U_BOB\" and .action == \"skip\") | select(.reason | contains(\"disabled in Entra ID\"))" "$W/r1.json" >/dev/null' \
	"the disabled account is reported, not provisioned"
check 'jq -e ".users[] | select(.id == \"$U_DAVE\" and .action == \"skip\") | select(.reason | contains(\"no mail in Entra ID\") and contains(\"mail_from_upn\"))" "$W/r1.json" >/dev/null' \
	"the user without mail is reported with the policy that would change it"
check 'jq -e ".users[] | select(.id == \"$U_HENRY\" and .action == \"skip\") | select(.reason | contains(\"henry at example.org\"))" "$W/r1.json" >/dev/null' \
	"a broken mail is reported with its value"
check '! jq -e ".users[] | select(.id == \"$U_CAROL\")" "$W/r1.json" >/dev/null && grep -q "1 guest account left out (include_guests = no)" "$W/r1.log"' \
	"the guest is left out, and the log says so"
check '[ "$(jq -r ".groups[] | select(.name == \"staff\") | .members" "$W/r1.json")" = 6 ]' \
	"staff has six user members (device, nested groups, loop and repeat resolved)"
check '[ "$(jq -r ".groups[] | select(.name == \"staff\") | .publish_to" "$W/r1.json")" = book ]' \
	"the report says where staff publishes"
check 'jq -r ".groups[] | select(.name == \"pilots\") | .note" "$W/r1.json" | grep -q "published nowhere: Microsoft Graph cannot store them"' \
	"the report says plainly that pilots publishes nowhere"
"$SMIMESYNC" report --last --format text >"$W/r1.txt"
check 'grep -q "publishes to \[directory book\]" "$W/r1.txt" && grep -q "note: certificates are published nowhere" "$W/r1.txt"' \
	"the text report shows the publish target and the note"
check '/usr/bin/python3 "$top_srcdir/tests/tools/report-validate.py" "$top_srcdir/doc/report.schema.json" "$W/r1.json" >/dev/null 2>&1' \
	"the report still matches doc/report.schema.json"

# What went over the wire.
check '[ "$(jq -r "select(.path | contains(\"transitiveMembers\")) | select(.status == 200) | .page" "$R" | sort -u | tr "\n" " ")" = "1 2 3 4 " ]' \
	"staff's members came in four pages, every @odata.nextLink followed"
check '[ "$(jq -c "select(.path | contains(\"transitiveMembers\")) | [.consistency, (.path | contains(\"\$top=999\")), (.path | contains(\"\$select=\"))]" "$R" | sort -u)" = "[\"eventual\",true,true]" ]' \
	"member reads send ConsistencyLevel: eventual, \$top=999 and \$select"
check 'jq -s -e "map(select(.status == 429)) | length == 1" "$R" >/dev/null && [ "$(jq -r "select(.path | contains(\"skiptoken=2\")) | .status" "$R" | tr "\n" " ")" = "429 401 200 " ]' \
	"page 2: 429 sat out (Retry-After), then the expired token renewed once, then read"
check '[ "$(jq -r "select(.path | contains(\"oauth2\")) | select(.status == 200) | .auth" "$R" | sort -u)" = secret ] && [ "$(jq -r "select(.path | contains(\"oauth2\")) | .status" "$R" | grep -c 200)" -ge 3 ]' \
	"tokens were fetched with the client secret, and renewed as they expired"
check 'jq -s -e "map(select(.expired == true)) | length >= 1" "$R" >/dev/null' \
	"the fake did expire a token mid-read"

# The directory: staff's certificates are in the address book, pilots' nowhere.
for who in alice erin frank; do
	check '[ "$(ldapsearch -LLL -o ldif-wrap=no -x -H "$SLAPD_URI" -b "uid=$who,ou=people,$SLAPD_BASE" -s base "(objectClass=*)" "userCertificate;binary" | grep -c "^userCertificate;binary::")" = 1 ]' \
		"$who's certificate is published in the address book (found by mail)"
done
check '[ -z "$(ldapsearch -LLL -x -H "$SLAPD_URI" -b "uid=gina,ou=people,$SLAPD_BASE" -s base "(userCertificate;binary=*)" dn)" ]' \
	"gina's (pilots, no publish_to) is not"

# The mail: Graph sendMail, MIME as base64 text/plain, as the sender.
check '[ "$(jq -r .counts.mails_sent "$W/r1.json")" = 8 ] && [ "$(wc -l <"$W/graph/sent.jsonl")" = 8 ]' \
	"eight mails sent through Graph (collection and password for four people)"
check '[ "$(jq -r .sender "$W/graph/sent.jsonl" | sort -u)" = pki@example.org ]' \
	"sent as [mail] from's mailbox (sender's default)"
/usr/bin/python3 "$top_srcdir/tests/tools/mailbox.py" "$W/graph/mail" "$W/mbox" >"$W/mbox.txt" ||
	{ cat "$W/mbox.txt"; fail "the messages Graph received are not the MIME smimesync builds"; }
for m in alice@example.org erin@example.org frank@example.org gina@example.org; do
	check 'grep -qx "$m collection=1 password=1" "$W/mbox.txt"' "$m got one collection and one password mail"
done
pw=$(cat "$W/mbox/alice@example.org.password")
openssl pkcs12 -in "$W/mbox/alice@example.org.p12" -passin "pass:$pw" -nokeys -clcerts -out "$W/alice-p12.pem" 2>/dev/null ||
	fail "alice's PKCS#12 (sent through Graph) does not open with the mailed password"
ldapsearch -LLL -o ldif-wrap=no -x -H "$SLAPD_URI" -b "uid=alice,ou=people,$SLAPD_BASE" -s base "(objectClass=*)" "userCertificate;binary" |
	sed -n 's/^userCertificate;binary:: //p' | base64 -d >"$W/alice-ldap.der"
check '[ "$(openssl x509 -in "$W/alice-p12.pem" -noout -fingerprint -sha256)" = "$(openssl x509 -inform DER -in "$W/alice-ldap.der" -noout -fingerprint -sha256)" ]' \
	"the certificate mailed through Graph is the one published in the address book"
check 'openssl x509 -in "$W/alice-p12.pem" -noout -ext subjectAltName | grep -q "a.smith@example.org"' \
	"an smtp: proxyAddress is an alternative address in the certificate"

# --- second run: nothing to do --------------------------------------------
"$SMIMESYNC" run --format json >"$W/r2.json" 2>"$W/r2.log" || fail "second run exited non-zero"
check '[ "$(jq -r .counts.issued "$W/r2.json")" = 0 ] && [ "$(jq -r .counts.unchanged "$W/r2.json")" = 4 ] && [ "$(wc -l <"$W/graph/sent.jsonl")" = 8 ]' \
	"a second run issues and mails nothing"

# Tokens are renewed before they expire, not after Graph refused one: a
# 2-second token is due for renewal after 1 second, and page 2 makes the
# read wait 2 seconds (Retry-After) in between.
write_tenant '"throttle": [{"contains": "skiptoken=2", "times": 1, "retry_after": 2}]' "$STAFF"
sed -i 's/"token_lifetime": 3600/"token_lifetime": 2/' "$W/graph/tenant.json"
: >"$R"
"$SMIMESYNC" run --format json >"$W/r2b.json" 2>"$W/r2b.log" || fail "the run with short-lived tokens exited non-zero"
check '[ "$(jq -r "select(.path | contains(\"oauth2\")) | .status" "$R" | grep -c 200)" -ge 2 ] && [ "$(jq -r "select(.status == 401) | .path" "$R" | wc -l)" = 0 ]' \
	"a token about to expire is renewed before use: a new one, and no 401"

# --- third run: certificate assertion, group by name, guests and UPNs -----
# The app has lost Mail.Send: the mails wait in the outbox, nothing is dropped.
write_tenant '' "$STAFF"
sed -i 's/"User.Read.All", "Mail.Send"/"User.Read.All"/' "$W/graph/tenant.json"
write_config "$CERT" "group_name = S/MIME Staff" "include_guests = yes
mail_from_upn = yes"
: >"$R"
"$SMIMESYNC" run --format json >"$W/r3.json" 2>"$W/r3.log" || true
check '[ "$(jq -r .status "$W/r3.json")" = partial ]' "third run: provisioned, but its mails wait (partial)"
check '[ "$(jq -r "[.users[] | select(.action == \"issue\") | .mail] | sort | join(\" \")" "$W/r3.json")" = "carol@partner.example dave@example.org" ]' \
	"with include_guests and mail_from_upn the guest and the UPN-only user are provisioned"
check 'jq -e ".users[] | select(.id == \"$U_HENRY\" and .action == \"skip\")" "$W/r3.json" >/dev/null' \
	"the UPN never stands in for a mail that is there but broken"
check '[ "$(jq -r "select(.path | contains(\"oauth2\")) | [.status, .auth, .alg] | @tsv" "$R" | sort -u)" = "$(printf "200\tassertion\tPS256")" ]' \
	"the token came with a PS256 client assertion (x5t#S256), validated by the token endpoint"
check 'jq -s -e "map(select((.path | contains(\"displayName%20eq%20%27S%2FMIME%20Staff%27\")) and .status == 200)) | length == 1" "$R" >/dev/null' \
	"group_name is resolved with \$filter=displayName eq '...'"
check '[ "$(ldapsearch -LLL -x -H "$SLAPD_URI" -b "uid=dave,ou=people,$SLAPD_BASE" -s base "(userCertificate;binary=*)" dn | grep -c ^dn:)" = 1 ]' \
	"dave's certificate (for his UPN) is published where the address book has that mail"
check '[ "$(jq -r .counts.mails_sent "$W/r3.json")" = 0 ] && [ "$(wc -l <"$W/graph/sent.jsonl")" = 8 ]' \
	"without Mail.Send nothing is sent"
check '[ "$(jq -r "[.errors[] | select(.step == \"mail\") | select(.message | contains(\"deferred\") and contains(\"HTTP 403 ErrorAccessDenied\") and contains(\"Mail.Send\"))] | length" "$W/r3.json")" = 2 ]' \
	"... both collection mails are deferred with Graph's ErrorAccessDenied and the permission to grant (their password mails wait behind them)"
write_tenant '' "$STAFF"
FAKETIME_DONT_FAKE_MONOTONIC=1 "$top_srcdir/tests/tools/faketime-run" "+3m" "$SMIMESYNC" run --format json >"$W/r3b.json" 2>"$W/r3b.log" ||
	{ cat "$W/r3b.log"; fail "the run after Mail.Send came back exited non-zero"; }
check '[ "$(jq -r .counts.mails_sent "$W/r3b.json")" = 4 ] && [ "$(wc -l <"$W/graph/sent.jsonl")" = 12 ]' \
	"once Mail.Send is granted, the next run sends the four waiting mails"

# --- the address of someone in no synced group (I5) -----------------------
# Ivy joins pilots with pki@example.org among her proxyAddresses: that is the
# PKI mailbox's address, a user in no synced group. Graph is asked who holds
# each of her addresses (an advanced query); pki@ stays out of her certificate.
PILOTS="\"$U_GINA\", \"$U_IVY\""
write_tenant '' "$STAFF"
: >"$R"
"$SMIMESYNC" run --format json >"$W/r3c.json" 2>"$W/r3c.log" || true
check 'jq -e ".users[] | select(.id == \"$U_IVY\" and .action == \"issue\" and .outcome == \"done\") | select(.reason | contains(\"left out of the certificate: PKI@example.org (pki@example.org holds it too, in no synced group)\"))" "$W/r3c.json" >/dev/null' \
	"ivy is issued, and the report says pki@example.org was left out and who holds it"
check 'jq -e "[.errors[] | select(.message | contains(\"pki@example.org is claimed by ivy@example.org and held by pki@example.org as well\"))] | length == 1" "$W/r3c.json" >/dev/null' \
	"an error line names both entries"
/usr/bin/python3 "$top_srcdir/tests/tools/mailbox.py" "$W/graph/mail" "$W/mbox3" >"$W/mbox3.txt" || true
pw=$(cat "$W/mbox3/ivy@example.org.password" 2>/dev/null || echo none)
openssl pkcs12 -in "$W/mbox3/ivy@example.org.p12" -passin "pass:$pw" -nokeys -clcerts -out "$W/ivy.pem" 2>/dev/null || :
check 'openssl x509 -in "$W/ivy.pem" -noout -ext subjectAltName | grep -q "email:ivy.p@example.org" && ! openssl x509 -in "$W/ivy.pem" -noout -ext subjectAltName | grep -qi "pki@example.org"' \
	"the certificate mailed to ivy names ivy.p@ but not pki@ ($(openssl x509 -in "$W/ivy.pem" -noout -ext subjectAltName 2>/dev/null | tail -n 1))"
check '[ "$(jq -r "select(.holders_of) | .holders_of" "$R" | sort | tr "\n" " ")" = "ivy.p@example.org ivy@example.org pki@example.org " ]' \
	"one Graph query per address of the new certificate, none for the people who keep theirs"
check '[ "$(jq -c "select(.holders_of) | [.status, .consistency, (.path | contains(\"\$count=true\"))]" "$R" | sort -u)" = "[200,\"eventual\",true]" ]' \
	"... each with ConsistencyLevel: eventual and \$count=true, as an advanced query must be"

# --- a read Graph refuses changes nothing --------------------------------
STAFF_NO_ALICE="\"$U_BOB\", \"$U_CAROL\", \"$U_DAVE\", \"$U_HENRY\", \"device:laptop-7\""
write_tenant "\"fail\": [{\"contains\": \"$G_STAFF/transitiveMembers\", \"status\": 403, \"code\": \"Authorization_RequestDenied\", \"message\": \"Insufficient privileges to complete the operation.\"}]" "$STAFF_NO_ALICE"
"$SMIMESYNC" run --format json >"$W/r4.json" 2>"$W/r4.log" || true
check 'jq -r ".groups[] | select(.name == \"staff\") | .error" "$W/r4.json" | grep -q "HTTP 403 Authorization_RequestDenied: Insufficient privileges to complete the operation. (request-id "' \
	"Graph's error code, message and request-id end the read and reach the report"
check 'jq -r ".groups[] | select(.name == \"staff\") | .error" "$W/r4.json" | grep -q "GroupMember.Read.All"' \
	"... with the permission to grant"
check '[ "$(jq -r .counts.retired "$W/r4.json")" = 0 ] && [ "$(jq -r .status "$W/r4.json")" = partial ]' \
	"nobody is retired when the read failed (alice left meanwhile); pilots still ran"

# Then Graph answers: alice, and the nested team with erin and frank, left.
write_tenant '' "$STAFF_NO_ALICE"
"$SMIMESYNC" run --allow-mass-retire --format json >"$W/r5.json" 2>"$W/r5.log" || true
check '[ "$(jq -r "[.users[] | select(.action == \"retire\") | .mail] | sort | join(\" \")" "$W/r5.json")" = "alice@example.org erin@example.org frank@example.org" ]' \
	"once the read succeeds, exactly the people who left are retired"

# Revoking takes the certificate out of the publish target, found by mail.
"$SMIMESYNC" revoke erin@example.org --reason keyCompromise >"$W/revoke.out" 2>&1 ||
	{ cat "$W/revoke.out"; fail "revoke erin exited non-zero"; }
check 'grep -q "removed from the directory" "$W/revoke.out" && [ -z "$(ldapsearch -LLL -x -H "$SLAPD_URI" -b "uid=erin,ou=people,$SLAPD_BASE" -s base "(userCertificate;binary=*)" dn)" ]' \
	"revoke removes erin's certificate from the address book (publish_to)"
"$SMIMESYNC" revoke gina@example.org --reason cessationOfOperation >"$W/revoke2.out" 2>&1 ||
	{ cat "$W/revoke2.out"; fail "revoke gina exited non-zero"; }
check 'grep -q "published nowhere (Microsoft Graph, no publish_to)" "$W/revoke2.out" && ! grep -q "removed from the directory" "$W/revoke2.out"' \
	"revoking a certificate that was published nowhere says so"

# --- a wrong client secret ------------------------------------------------
write_config "client_secret_file = $W/app/wrong-secret" "group_id = $G_STAFF" ""
"$SMIMESYNC" run --format json >"$W/r6.json" 2>"$W/r6.log" || true
check '[ "$(jq -r .status "$W/r6.json")" = failed ] && jq -r ".groups[0].error" "$W/r6.json" | grep -q "HTTP 401 invalid_client: AADSTS7000215: Invalid client secret provided" ' \
	"a wrong secret fails the read with the identity platform's AADSTS code"
check 'jq -r ".groups[0].error" "$W/r6.json" | grep -q "put its Value in client_secret_file"' \
	"... and says what to do"

# --- a group that is not there ----------------------------------------------
write_config "$SECRET" "group_id = 0b4ad5e4-7f44-4d8a-9c71-3c1d2a5e6fff" ""
"$SMIMESYNC" run --format json >"$W/r7.json" 2>"$W/r7.log" || true
check 'jq -r ".groups[] | select(.name == \"staff\") | .error" "$W/r7.json" | grep -q "group_id 0b4ad5e4-7f44-4d8a-9c71-3c1d2a5e6fff: no such group in tenant $TENANT: .*HTTP 404 Request_ResourceNotFound"' \
	"a group_id Graph does not know is named in the report, with Graph's 404"

# --- configuration mistakes -----------------------------------------------
cp "$W/smimesync.conf" "$W/bad.conf"
sed -i 's/^publish_to = book$/publish_to = entra/; s/^directory = entra$/directory = book/' "$W/bad.conf"
# The [mail] and group directory lines both changed: put the groups back.
sed -i '/^\[group /,$ s/^directory = book$/directory = entra/' "$W/bad.conf"
"$SMIMESYNC" -c "$W/bad.conf" check-config >"$W/bad.out" 2>&1 && fail "check-config accepted publish_to = a graph directory"
check 'grep -q "publish_to: \[directory entra\] is Microsoft Graph, which cannot store S/MIME certificates" "$W/bad.out"' \
	"publish_to a Graph directory is refused: Graph cannot hold the certificates"
check 'grep -q "\[mail\] directory: \[directory book\] is not a Microsoft Graph directory" "$W/bad.out"' \
	"the graph transport refuses a non-Graph directory"
check 'grep -E -q "bad.conf:[0-9]+: " "$W/bad.out"' "errors name file:line"

# --- one person looked up alone (dir_read_person, dir-probe person) ------------
# The person line must be the one the group read prints for them, and the
# memberships what checkMemberGroups says under each group's policy.
write_tenant '' "$STAFF"
PROBE=$top_builddir/tests/tools/dir-probe
[ -x "$PROBE" ] || fail "$PROBE is not built"
P="--type graph --tenant $TENANT --client-id $CLIENT --secret-file $W/app/secret --graph-url $GRAPH_URL --ca-file $SLAPD_CA_FILE"
"$PROBE" $P members-full "$G_STAFF" >"$W/staff.full" 2>"$W/staff.err" || { cat "$W/staff.err"; fail "dir-probe members-full staff"; }
probe_person() { # $1: name of the output; then the user id and the groups
	_n=$1
	shift
	"$PROBE" $P person "$@" >"$W/person-$_n.out" 2>"$W/person-$_n.err" ||
		{ cat "$W/person-$_n.err"; fail "dir-probe person ($_n)"; }
}
line_of() { grep "^$1|" "$W/staff.full"; }
probe_person alice "$U_ALICE" "$G_STAFF" "$G_PILOTS"
check '[ -n "$(line_of "$U_ALICE")" ] && [ "$(sed -n 1p "$W/person-alice.out")" = "$(line_of "$U_ALICE")" ] && [ "$(sed -n 2,3p "$W/person-alice.out" | tr "\n" " ")" = "in $G_STAFF yes in $G_PILOTS no " ]' \
	"a direct member looked up alone: the group read's line, in staff, not in pilots"
probe_person frank "$U_FRANK" "$G_PILOTS" "$G_STAFF"
check '[ -n "$(line_of "$U_FRANK")" ] && [ "$(sed -n 1p "$W/person-frank.out")" = "$(line_of "$U_FRANK")" ] && [ "$(sed -n 2,3p "$W/person-frank.out" | tr "\n" " ")" = "in $G_PILOTS no in $G_STAFF yes " ]' \
	"a member through two nested groups looked up alone is in staff"
probe_person bob "$U_BOB" "$G_STAFF"
check '[ "$(sed -n 1p "$W/person-bob.out")" = "$(line_of "$U_BOB")" ] && grep -q "|disabled|the account is disabled in Entra ID" "$W/person-bob.out" && grep -qx "in $G_STAFF yes" "$W/person-bob.out"' \
	"a disabled member looked up alone: disabled, with the group read's problem"
probe_person pki "$U_PKI" "$G_STAFF" "$G_PILOTS"
check 'grep -qx "$U_PKI|pki@example.org|pki@example.org||pki@example.org|||enabled|" "$W/person-pki.out" && [ "$(sed -n 2,3p "$W/person-pki.out" | tr "\n" " ")" = "in $G_STAFF no in $G_PILOTS no " ]' \
	"a user of no group looked up alone: found, in neither group"
probe_person carol "$U_CAROL" "$G_STAFF"
check '! grep -q "^$U_CAROL|" "$W/staff.full" && [ "$(cat "$W/person-carol.out")" = "not found" ]' \
	"a guest the group's policy leaves out is in no group alone either (not found)"
probe_person nobody 00000000-0000-4000-8000-0000000000ff "$G_STAFF"
check '[ "$(cat "$W/person-nobody.out")" = "not found" ] && grep -q "\"path\": \"/v1.0/users/00000000-0000-4000-8000-0000000000ff" "$R"' \
	"an id Graph does not know (404 Request_ResourceNotFound) is not found"
: >"$R"
# 21 groups: checkMemberGroups takes 20 ids a call (the fake refuses more, as Graph does).
set -- "$U_FRANK"
for _k in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do set -- "$@" "$G_PILOTS"; done
probe_person many "$@" "$G_STAFF"
check '[ "$(grep -c "^in $G_PILOTS no$" "$W/person-many.out")" = 20 ] && [ "$(tail -n 1 "$W/person-many.out")" = "in $G_STAFF yes" ] && [ "$(grep -c "checkMemberGroups" "$R")" = 2 ]' \
	"21 groups are asked in two checkMemberGroups calls, the 21st answered right"

test_end
