#!/bin/sh
# SPDX-License-Identifier: ISC
# End to end on Active Directory: a real Samba AD domain controller on
# loopback (hardened: simple binds only over TLS), a real SMTP sink, the
# internal CA, and a service account that may write nothing but
# userCertificate and userSMIMECertificate. Checks issue #4:
#   - nested groups (two levels), a membership loop, a group named by
#     sAMAccountName, paged searches and member;range= retrieval: exactly the eligible transitive members get one
#     certificate, in the store, in userCertificate (no ;binary) and in
#     userSMIMECertificate (PKCS#7), checked with ldapsearch and openssl;
#   - a disabled and an expired account and a user without mail are
#     reported, a contact, a computer and a non-member never appear;
#   - objectGUID is the id, proxyAddresses give the alternative addresses,
#     non-ASCII names survive;
#   - another issuer's certificate in userCertificate is left alone;
#   - a second run changes nothing; a year later renewal swaps our value in
#     both attributes and leaves the foreign ones;
#   - AD's failures read clearly: bad password (sub-code 52e), simple bind
#     without TLS (strong auth), a service account without the delegation;
#   - a GSSAPI bind with keytab_file and principal, over plain LDAP, for
#     the directory room and for a whole run;
#   - issue #5's hybrid case: Entra ID members read through Microsoft Graph
#     (the loopback tests/tools/graph-fake.py) published into this AD with
#     publish_to, found by onPremisesDistinguishedName or by mail.
# All AD checks live in this one script: Samba's ports are fixed, so only
# one DC can run at a time (samba-lib.sh also serialises runs with a lock).
set -eu
: "${top_srcdir:?}" "${top_builddir:?}" "${SMIMESYNC:?}"
. "$top_srcdir/tests/tools/samba-lib.sh"
. "$top_srcdir/tests/tools/smtp-lib.sh"
. "$top_srcdir/tests/tools/graph-lib.sh"
samba_require
smtp_require
graph_require
command -v jq >/dev/null || { echo "SKIP: jq is not installed (tools/install-deps)"; exit 77; }
command -v iconv >/dev/null || { echo "SKIP: iconv is not installed"; exit 77; }
command -v faketime >/dev/null || { echo "SKIP: faketime is not installed (tools/install-deps)"; exit 77; }
PROBE=$top_builddir/tests/tools/dir-probe
[ -x "$PROBE" ] || { echo "sync_ad: $PROBE is not built" >&2; exit 99; }

W=$(mktemp -d /tmp/smimesync-ad.XXXXXX)
cleanup() { graph_stop; smtp_stop || true; samba_stop || true; [ -n "${KEEP:-}" ] || rm -rf "$W"; }
trap cleanup EXIT INT TERM
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
check() { if eval "$1"; then echo "ok: $2"; else fail "$2"; fi; }

mkdir -p "$W/dc" "$W/smtp"
samba_start "$W/dc"
echo "Samba AD DC up (pid $SAMBA_PID)"
B=$SAMBA_BASE
OU="OU=SMIME,$B"
export LDAPTLS_CACERT="$SAMBA_CA_FILE"

# An AD password: three character classes. unicodePwd is the quoted
# password in UTF-16LE, settable only over TLS.
new_password() { printf 'Svc-%s-9z' "$(openssl rand -hex 10)"; }
unicode_pwd() { printf '"%s"' "$1" | iconv -f utf-8 -t utf-16le | base64 -w0; }
b64() { printf '%s' "$1" | base64 -w0; }

SVC_PW=$(new_password)
NOACL_PW=$(new_password)
(umask 077 && printf '%s' "$SVC_PW" >"$W/svc.secret" && printf '%s' "$NOACL_PW" >"$W/noacl.secret" &&
	printf 'wrong-password' >"$W/wrong.secret")

# Another issuer's certificate, already in grace's userCertificate.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$W/foreign.key" \
	-outform DER -out "$W/foreign.der" -days 30 -subj "/O=Other CA/CN=grace@example.test" 2>/dev/null
FOREIGN_SHA=$(sha256sum <"$W/foreign.der" | cut -d' ' -f1)
# ... and an expired one from that issuer: expired values are not ours to prune either.
"$top_srcdir/tests/tools/faketime-run" -400d openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$W/expired.key" -outform DER -out "$W/expired.der" -days 30 \
	-subj "/O=Other CA/CN=grace@example.test" 2>/dev/null
EXPIRED_SHA=$(sha256sum <"$W/expired.der" | cut -d' ' -f1)
JOERG_DN="CN=Jörg Müller,$OU"

# People, groups, a contact, a computer. 544 = NORMAL_ACCOUNT|PASSWD_NOTREQD
# (enabled, no password needed for test users), 546 adds ACCOUNTDISABLE.
cat >"$W/data.ldif" <<LDIF
dn: $OU
objectClass: organizationalUnit
ou: SMIME

dn: CN=svc-smimesync,CN=Users,$B
objectClass: user
sAMAccountName: svc-smimesync
userPrincipalName: svc-smimesync@example.test
unicodePwd:: $(unicode_pwd "$SVC_PW")
userAccountControl: 66048

dn: CN=svc-noacl,CN=Users,$B
objectClass: user
sAMAccountName: svc-noacl
userPrincipalName: svc-noacl@example.test
unicodePwd:: $(unicode_pwd "$NOACL_PW")
userAccountControl: 66048

dn: CN=Alice Liddell,$OU
objectClass: user
sAMAccountName: alice
userAccountControl: 544
givenName: Alice
sn: Liddell
displayName: Alice Liddell
mail: alice@example.test
userPrincipalName: alice@example.test
proxyAddresses: SMTP:alice@example.test
proxyAddresses: smtp:a.liddell@example.test
proxyAddresses: X500:/o=Example/ou=Exchange/cn=Recipients/cn=alice

dn: CN=Bob Builder,$OU
objectClass: user
sAMAccountName: bob
userAccountControl: 544
givenName: Bob
sn: Builder
mail: bob@example.test

dn: CN=Carol Singer,$OU
objectClass: user
sAMAccountName: carol
userAccountControl: 544
mail: carol@example.test
accountExpires: 0

dn:: $(b64 "$JOERG_DN")
objectClass: user
sAMAccountName: joerg
userAccountControl: 544
givenName:: $(b64 'Jörg')
sn:: $(b64 'Müller')
displayName:: $(b64 'Jörg Müller')
mail: joerg.mueller@example.test

dn: CN=Kim Hybrid,$OU
objectClass: user
sAMAccountName: kim
userAccountControl: 544
mail: kim.before-rename@example.test

dn: CN=Lee Address,$OU
objectClass: user
sAMAccountName: lee
userAccountControl: 544
mail: lee@example.test

dn: CN=Dave Disabled,$OU
objectClass: user
sAMAccountName: dave
userAccountControl: 546
mail: dave@example.test

dn: CN=Erin Expired,$OU
objectClass: user
sAMAccountName: erin
userAccountControl: 544
accountExpires: 130000000000000000
mail: erin@example.test

dn: CN=Frank Nomail,$OU
objectClass: user
sAMAccountName: frank
userAccountControl: 544

dn: CN=Grace Foreign,$OU
objectClass: user
sAMAccountName: grace
userAccountControl: 544
mail: grace@example.test
userCertificate:: $(base64 -w0 <"$W/foreign.der")
userCertificate:: $(base64 -w0 <"$W/expired.der")

dn: CN=Heidi Primary,$OU
objectClass: user
sAMAccountName: heidi
userAccountControl: 544
mail: heidi@example.test
proxyAddresses: SMTP:h.primary@example.test
proxyAddresses: smtp:heidi@example.test

dn: CN=Ivan Loop,$OU
objectClass: user
sAMAccountName: ivan
userAccountControl: 544
mail: ivan@example.test

dn: CN=Mallory Outside,$OU
objectClass: user
sAMAccountName: mallory
userAccountControl: 544
mail: mallory@example.test

dn: CN=Carl Contact,$OU
objectClass: contact
mail: carl@example.test

dn: CN=WS01,$OU
objectClass: computer
sAMAccountName: WS01\$
userAccountControl: 4096
mail: ws01@example.test

dn: CN=sales-emea-de,$OU
objectClass: group
sAMAccountName: sales-emea-de
member: CN=Carol Singer,$OU
member:: $(b64 "$JOERG_DN")

dn: CN=sales-emea,$OU
objectClass: group
sAMAccountName: sales-emea
member: CN=Bob Builder,$OU
member: CN=sales-emea-de,$OU

dn: CN=loop-a,$OU
objectClass: group
sAMAccountName: loop-a

dn: CN=loop-b,$OU
objectClass: group
sAMAccountName: loop-b
member: CN=loop-a,$OU
member: CN=Ivan Loop,$OU

dn: CN=smime-sales,$OU
objectClass: group
sAMAccountName: smime-sales
member: CN=Alice Liddell,$OU
member: CN=Dave Disabled,$OU
member: CN=Erin Expired,$OU
member: CN=Frank Nomail,$OU
member: CN=Grace Foreign,$OU
member: CN=Carl Contact,$OU
member: CN=WS01,$OU
member: CN=sales-emea,$OU
member: CN=loop-a,$OU

dn: CN=smime-staff,$OU
objectClass: group
sAMAccountName: smime-staff
member: CN=Heidi Primary,$OU
member: CN=Alice Liddell,$OU
LDIF
cat >"$W/loop.ldif" <<LDIF
dn: CN=loop-a,$OU
changetype: modify
add: member
member: CN=loop-b,$OU
LDIF
samba_ldap ldapadd -f "$W/data.ldif" >"$W/ldapadd.log" 2>&1 || { cat "$W/ldapadd.log"; fail "loading the test directory"; exit 1; }
samba_ldap ldapmodify -f "$W/loop.ldif" >/dev/null || { fail "closing the membership loop"; exit 1; }

# Least privilege: svc-smimesync may write userCertificate and
# userSMIMECertificate of user objects below OU=SMIME, nothing else (the
# delegation doc/smimesync.conf.5 documents under type = ad).
SVC_SID=$(samba-tool user show svc-smimesync --attributes=objectSid -H "$SAMBA_PRIVATE/sam.ldb" 2>/dev/null |
	sed -n 's/^objectSid: //p')
[ -n "$SVC_SID" ] || { fail "cannot read the service account's SID"; exit 1; }
USER_CLASS=bf967aba-0de6-11d0-a285-00aa003049e2
ATTR_CERT=bf967a7f-0de6-11d0-a285-00aa003049e2
ATTR_SMIME=e16a9db2-403c-11d1-a9c0-0000f80367c1
samba-tool dsacl set -H "$SAMBA_PRIVATE/sam.ldb" --objectdn="$OU" \
	--sddl="(OA;CIIO;WP;$ATTR_CERT;$USER_CLASS;$SVC_SID)(OA;CIIO;WP;$ATTR_SMIME;$USER_CLASS;$SVC_SID)" \
	>"$W/dsacl.log" 2>&1 || { cat "$W/dsacl.log"; fail "samba-tool dsacl set"; exit 1; }
cat >"$W/mailchange.ldif" <<LDIF
dn: CN=Bob Builder,$OU
changetype: modify
replace: mail
mail: mallory@example.test
LDIF
check '! ldapmodify -x -H "$SAMBA_URI" -D svc-smimesync@example.test -y "$W/svc.secret" -f "$W/mailchange.ldif" >/dev/null 2>&1' \
	"the service account cannot change mail (it is restricted)"

probe() { "$PROBE" --uri "$SAMBA_URI" --base "$B" --ca-file "$SAMBA_CA_FILE" --type ad "$@"; }
svc_probe() { probe --bind-dn svc-smimesync@example.test --password-file "$W/svc.secret" "$@"; }

# --- the directory room alone: who is in the groups ----------------------
svc_probe members-full "CN=smime-sales,$OU" >"$W/sales.txt" 2>"$W/sales.err" || { cat "$W/sales.err"; fail "members of smime-sales"; }
check '[ "$(cut -d"|" -f2 "$W/sales.txt" | sed "s/,$OU//" | tr "\n" " ")" = "CN=Alice Liddell CN=Bob Builder CN=Carol Singer CN=Dave Disabled CN=Erin Expired CN=Frank Nomail CN=Grace Foreign CN=Ivan Loop CN=Jörg Müller " ]' \
	"smime-sales: the nine transitive people (two levels, through a loop); no contact, computer or group"
check 'grep -q "^[0-9a-f]\{8\}-[0-9a-f]\{4\}-[0-9a-f]\{4\}-[0-9a-f]\{4\}-[0-9a-f]\{12\}|CN=Alice" "$W/sales.txt"' "the id is objectGUID as a GUID string"
ALICE_GUID=$(samba_ldap ldapsearch -LLL -b "CN=Alice Liddell,$OU" -s base objectGUID | sed -n 's/^objectGUID:: //p' |
	/usr/bin/python3 -c 'import sys, base64, uuid; print(uuid.UUID(bytes_le=base64.b64decode(sys.stdin.read())))')
check 'grep -q "^$ALICE_GUID|CN=Alice Liddell" "$W/sales.txt"' "alice's id is her objectGUID ($ALICE_GUID)"
check 'grep -q "|alice@example.test|a.liddell@example.test|alice@example.test|Alice|Liddell|enabled|$" "$W/sales.txt"' \
	"alice: proxyAddresses smtp: is an alternative address, X500: ignored; upn, givenName, sn read"
check 'grep -q "|joerg.mueller@example.test||.*|Jörg|Müller|enabled|$" "$W/sales.txt"' "non-ASCII names arrive as UTF-8"
check 'grep -q "^.*|CN=Dave Disabled.*|disabled|the account is disabled in Active Directory (userAccountControl 0x222" "$W/sales.txt"' \
	"dave: disabled (userAccountControl bit 0x2), with the reason"
check 'grep -q "^.*|CN=Erin Expired.*|disabled|the account expired on 2012-12-14" "$W/sales.txt"' "erin: expired (accountExpires)"
check 'grep -q "^.*|CN=Frank Nomail.*|no mail attribute" "$W/sales.txt"' "frank: no mail, reported"
check 'grep -q "^.*|CN=Carol Singer.*|enabled|$" "$W/sales.txt"' "accountExpires 0 means never"
svc_probe members-full smime-staff >"$W/staff.txt" 2>&1 || { cat "$W/staff.txt"; fail "members of smime-staff by sAMAccountName"; }
check 'grep -q "|CN=Heidi Primary,$OU|heidi@example.test|h.primary@example.test||" "$W/staff.txt"' \
	"a group by sAMAccountName; a primary SMTP: address other than mail is added"
check '[ "$(wc -l <"$W/staff.txt")" = 2 ]' "smime-staff has two people"
probe --bind-dn svc-smimesync@example.test --password-file "$W/svc.secret" --page-size 2 members-full "CN=smime-sales,$OU" >"$W/paged.txt" 2>&1
check 'cmp -s "$W/sales.txt" "$W/paged.txt"' "the in-chain search pages (page size 2) to the same result"
# Nobody is listed in member of their primary group (primaryGroupID 513,
# Domain Users): the in-chain rule alone finds nobody there.
check '[ -z "$(samba_ldap ldapsearch -LLL -b "$B" "(memberOf:1.2.840.113556.1.4.1941:=CN=Domain Users,CN=Users,$B)" dn | grep "^dn:")" ]' \
	"(Domain Users has no member values: primary group memberships are implicit)"
svc_probe members-full "Domain Users" >"$W/domusers.txt" 2>&1 || cat "$W/domusers.txt"
check 'grep -q "|CN=Alice Liddell,$OU|" "$W/domusers.txt" && grep -q "|CN=Jörg Müller,$OU|" "$W/domusers.txt" && grep -q "|CN=svc-smimesync,CN=Users,$B|" "$W/domusers.txt" && ! grep -q "WS01\|Carl Contact" "$W/domusers.txt"' \
	"members of a primary group (Domain Users) are found through primaryGroupID"
# Range retrieval (member;range=LO-HI) when a group's members are read directly.
samba_ldap ldapsearch -LLL -o ldif-wrap=no -b "CN=smime-sales,$OU" -s base member |
	sed -n 's/^member: //p; s/^member:: //p' | sort >"$W/members.ldap"
svc_probe member-values "CN=smime-sales,$OU" 2 2>&1 | sort >"$W/members.ranged"
svc_probe member-values "CN=smime-sales,$OU" 0 2>&1 | sort >"$W/members.plain"
check '[ "$(wc -l <"$W/members.ldap")" = 9 ] && [ "$(wc -l <"$W/members.ranged")" = 9 ] && cmp -s "$W/members.ranged" "$W/members.plain" && grep -qx "CN=loop-a,$OU" "$W/members.ranged"' \
	"member;range= retrieval in chunks of 2 returns the same nine member values"

# --- the global catalog (port 3269): what the forest's PAS must hold -------
gc_probe() { "$PROBE" --uri ldaps://127.0.0.1:3269 --base "$B" --ca-file "$SAMBA_CA_FILE" --type ad \
	--global-catalog --bind-dn svc-smimesync@example.test --password-file "$W/svc.secret" "$@"; }
# accountExpires is not in the partial attribute set of a new forest: a
# global catalog would hide every account's expiry, so it is refused.
gc_probe members-full "CN=smime-sales,$OU" >"$W/gc.txt" 2>"$W/gc.err" || true
check 'grep -q "bad-config: .*global catalog: accountExpires is not in the forest.s partial attribute set.*Replicate this attribute to the Global Catalog" "$W/gc.err" && [ ! -s "$W/gc.txt" ]' \
	"global catalog without accountExpires in the PAS: refused, saying which attribute and how to add it"
# What a schema admin does in the Schema snap-in, done on the DC's database.
cat >"$W/pas.ldif" <<LDIF
dn: CN=Account-Expires,CN=Schema,CN=Configuration,$B
changetype: modify
replace: isMemberOfPartialAttributeSet
isMemberOfPartialAttributeSet: TRUE
LDIF
ldbmodify -H "$SAMBA_PRIVATE/sam.ldb" --option="dsdb:schema update allowed=true" "$W/pas.ldif" \
	>"$W/pas.log" 2>&1 || { cat "$W/pas.log"; fail "adding accountExpires to the PAS"; }
gc_probe members-full "CN=smime-sales,$OU" >"$W/gc.txt" 2>"$W/gc.err" || cat "$W/gc.err"
check 'cmp -s "$W/sales.txt" "$W/gc.txt"' "through the global catalog: the same nine people, expiry and all"
check 'grep -q "global catalog: proxyAddresses not in the forest.s partial attribute set: people are read without it" "$W/gc.err"' \
	"an optional attribute outside the PAS (proxyAddresses) is a warning naming it"
gc_probe add-cert "CN=Bob Builder,$OU" "$W/foreign.der" >"$W/out" 2>"$W/err" || true
check 'grep -q "modify forbidden on global catalog port" "$W/err"' "the global catalog refuses writes (publishing goes to a domain controller)"

# --- AD's failures, each with what to change ------------------------------
probe --bind-dn svc-smimesync@example.test --password-file "$W/wrong.secret" members smime-sales >"$W/out" 2>"$W/err" || true
check 'grep -q "auth-failed: .*data 52e.*AD sub-code 52e: wrong password" "$W/err"' "a wrong password names AD sub-code 52e"
"$PROBE" --uri "$SAMBA_LDAP_URI" --starttls off --base "$B" --type ad --bind-dn svc-smimesync@example.test \
	--password-file "$W/svc.secret" members smime-sales >"$W/out" 2>"$W/err" || true
check 'grep -q "Strong(er) authentication required.*use ldaps:// (port 636) or ldap:// with starttls = required, or a GSSAPI bind" "$W/err"' \
	"a simple bind without TLS on a hardened DC says: ldaps, StartTLS or GSSAPI"
"$PROBE" --uri "$SAMBA_LDAP_URI" --starttls required --ca-file "$SAMBA_CA_FILE" --base "$B" --type ad \
	--bind-dn svc-smimesync@example.test --password-file "$W/svc.secret" members smime-staff >"$W/out" 2>"$W/err" || cat "$W/err"
check '[ "$(wc -l <"$W/out")" = 2 ]' "ldap:// with StartTLS reads the DC"
probe --bind-dn svc-noacl@example.test --password-file "$W/noacl.secret" add-cert "CN=Bob Builder,$OU" "$W/foreign.der" >"$W/out" 2>"$W/err" || true
check 'grep -q "Insufficient access.*delegate .Write userCertificate. and .Write userSMIMECertificate." "$W/err"' \
	"publishing without the delegation says which rights to delegate"

# --- smimesync itself ------------------------------------------------------
smtp_start "$W/smtp"
mkdir -p "$W/state" "$W/ca"
chmod 700 "$W/state" "$W/ca"
cat >"$W/smimesync.conf" <<CONF
[service]
state_dir = $W/state
master_key_file = $W/state/master.key

[directory corp]
type = ad
uri = $SAMBA_URI
bind_dn = svc-smimesync@example.test
bind_password_file = $W/svc.secret
base_dn = $B
tls_ca_file = $SAMBA_CA_FILE
page_size = 1000

[ca internal]
cert_file = $W/ca/issuing.pem
key_file = $W/ca/issuing.key
chain_file = $W/ca/chain.pem
crl_url = http://pki.example.test/smime.crl
organization = Example Test
key_type = p256

[mail]
smtp_host = 127.0.0.1
smtp_port = $SMTP_PORT
tls_ca_file = $SMTP_CA_FILE
from = Example PKI <pki@example.test>

[group smime-sales]
directory = corp
group_dn = CN=smime-sales,$OU
ca = internal
key_type = p256

[group smime-staff]
directory = corp
group = smime-staff
ca = internal
key_type = p256
CONF
SMIMESYNC_CONF=$W/smimesync.conf
export SMIMESYNC_CONF
mkdir -p -m 700 "$W/offline"
"$SMIMESYNC" ca init --root-key-out "$W/offline/root.key" >"$W/ca-init.out" 2>&1 || { cat "$W/ca-init.out"; fail "ca init"; }
check '"$SMIMESYNC" check-config >"$W/check.out" 2>&1' "check-config accepts type = ad, a UPN bind_dn and group = NAME"
csplit -s -z -f "$W/ca/part" "$W/ca/chain.pem" '/-----BEGIN CERTIFICATE-----/' '{*}'
ROOT=$(ls "$W"/ca/part* | tail -n 1)

ELIGIBLE="alice@example.test bob@example.test carol@example.test joerg.mueller@example.test grace@example.test ivan@example.test heidi@example.test"
N=$(echo $ELIGIBLE | wc -w)

"$SMIMESYNC" run --format json >"$W/run1.json" 2>"$W/run1.log" || { tail -20 "$W/run1.log"; fail "first run exited non-zero"; }
check '[ "$(jq -r .status "$W/run1.json")" = ok ]' "first run status ok"
check '[ "$(jq -r .counts.issued "$W/run1.json")" = "$N" ]' "first run issued $N"
check '[ "$(jq -r .counts.skipped "$W/run1.json")" = 3 ]' "three members skipped (disabled, expired, no mail)"
check 'jq -e ".users[] | select(.dn == \"CN=Dave Disabled,$OU\") | select(.action == \"skip\") | select(.reason | test(\"disabled\"))" "$W/run1.json" >/dev/null' \
	"the disabled account is reported with its reason"
check 'jq -e ".users[] | select(.dn == \"CN=Erin Expired,$OU\") | select(.action == \"skip\") | select(.reason | test(\"expired\"))" "$W/run1.json" >/dev/null' \
	"the expired account is reported with its reason"
check '! grep -q "carl@\|ws01@\|mallory@" "$W/run1.json"' "no contact, computer or outsider appears in the report"
check '[ "$(jq -r ".users[] | select(.mail == \"alice@example.test\") | .group" "$W/run1.json")" = smime-sales ]' \
	"alice (in both groups) is governed by the first"
check '[ "$(jq -r ".users[] | select(.mail == \"alice@example.test\") | .id" "$W/run1.json")" = "$ALICE_GUID" ]' \
	"the store knows alice by her objectGUID"
"$SMIMESYNC" status --format json >"$W/status1.json"
check '[ "$(smtp_count)" = $((2 * N)) ]' "one collection and one password mail each"

for m in $ELIGIBLE; do
	serial=$(jq -r ".[] | select(.mail == \"$m\") | .serial" "$W/status1.json")
	[ -n "$serial" ] && [ "$serial" != null ] || { fail "$m has no certificate in the store"; continue; }
	samba_ldap ldapsearch -LLL -o ldif-wrap=no -b "$OU" "(mail=$m)" userCertificate userSMIMECertificate >"$W/entry.ldif"
	want=1
	[ "$m" = grace@example.test ] && want=3
	n=$(grep -c '^userCertificate::' "$W/entry.ldif" || true)
	ns=$(grep -c '^userSMIMECertificate::' "$W/entry.ldif" || true)
	[ "$n" = "$want" ] && [ "$ns" = 1 ] || { fail "$m: $n userCertificate / $ns userSMIMECertificate values (want $want/1)"; continue; }
	found=no
	for v in $(sed -n 's/^userCertificate:: //p' "$W/entry.ldif"); do
		printf '%s' "$v" | base64 -d >"$W/leaf.der"
		dserial=$(openssl x509 -inform DER -in "$W/leaf.der" -noout -serial | cut -d= -f2)
		[ "$dserial" = "$serial" ] && found=yes && cp "$W/leaf.der" "$W/ours.der"
	done
	[ $found = yes ] || { fail "$m: the store's certificate $serial is not in userCertificate"; continue; }
	openssl x509 -inform DER -in "$W/ours.der" -out "$W/ours.pem"
	openssl verify -purpose smimesign -CAfile "$ROOT" -untrusted "$W/ca/issuing.pem" "$W/ours.pem" >/dev/null 2>&1 ||
		fail "$m: the published certificate does not verify for S/MIME signing"
	openssl x509 -in "$W/ours.pem" -noout -ext subjectAltName | grep -q "email:$m" ||
		fail "$m: the certificate does not name $m"
	sed -n 's/^userSMIMECertificate:: //p' "$W/entry.ldif" | base64 -d >"$W/smime.p7"
	openssl pkcs7 -inform DER -in "$W/smime.p7" -print_certs -out "$W/smime.pem" 2>/dev/null ||
		{ fail "$m: userSMIMECertificate is not a PKCS#7"; continue; }
	openssl x509 -in "$W/smime.pem" -noout -serial | grep -q "=$serial\$" ||
		fail "$m: userSMIMECertificate does not hold the new certificate first"
done
echo "checked $N people: store, userCertificate, userSMIMECertificate"

samba_ldap ldapsearch -LLL -o ldif-wrap=no -b "CN=Grace Foreign,$OU" -s base userCertificate |
	sed -n 's/^userCertificate:: //p' >"$W/grace.b64"
kept=no
kept_expired=no
while read -r v; do
	sha=$(printf '%s' "$v" | base64 -d | sha256sum | cut -d' ' -f1)
	[ "$sha" = "$FOREIGN_SHA" ] && kept=yes
	[ "$sha" = "$EXPIRED_SHA" ] && kept_expired=yes
done <"$W/grace.b64"
check '[ $kept = yes ] && [ $kept_expired = yes ]' "grace's certificates from another issuer (one valid, one expired) are still in userCertificate"
check '[ -z "$(samba_ldap ldapsearch -LLL -b "$OU" "(&(userCertificate=*)(|(sAMAccountName=dave)(sAMAccountName=erin)(sAMAccountName=frank)(sAMAccountName=mallory)(objectClass=contact)(objectClass=computer)))" dn)" ]' \
	"nothing was published for the ineligible, the contact, the computer and the outsider"

# --- second run: nothing changes -----------------------------------------
samba_ldap ldapsearch -LLL -o ldif-wrap=no -b "$OU" "(objectClass=user)" userCertificate userSMIMECertificate >"$W/dir1.ldif"
before=$(smtp_count)
"$SMIMESYNC" run --format json >"$W/run2.json" 2>"$W/run2.log" || { tail -20 "$W/run2.log"; fail "second run exited non-zero"; }
check '[ "$(jq -r .counts.issued "$W/run2.json")" = 0 ] && [ "$(jq -r .counts.renewed "$W/run2.json")" = 0 ]' "second run issues nothing"
check '[ "$(jq -r .counts.unchanged "$W/run2.json")" = "$N" ]' "second run leaves $N unchanged"
check '[ "$(smtp_count)" = "$before" ]' "second run sends no mail"
samba_ldap ldapsearch -LLL -o ldif-wrap=no -b "$OU" "(objectClass=user)" userCertificate userSMIMECertificate >"$W/dir2.ldif"
check 'cmp -s "$W/dir1.ldif" "$W/dir2.ldif"' "second run leaves the directory as it was"

# --- 352 days later: renewal replaces our value in both attributes ---------
"$SMIMESYNC" status --format json >"$W/status2.json"
"$top_srcdir/tests/tools/faketime-run" "+352d" "$SMIMESYNC" run --format json >"$W/renew.json" 2>"$W/renew.log" || { tail -20 "$W/renew.log"; fail "renewal run exited non-zero"; }
check '[ "$(jq -r .counts.renewed "$W/renew.json")" = "$N" ]' "renewal run renewed $N"
for m in $ELIGIBLE; do
	old=$(jq -r ".[] | select(.mail == \"$m\") | .serial" "$W/status2.json")
	samba_ldap ldapsearch -LLL -o ldif-wrap=no -b "$OU" "(mail=$m)" userCertificate userSMIMECertificate >"$W/entry.ldif"
	want=1
	[ "$m" = grace@example.test ] && want=3
	n=$(grep -c '^userCertificate::' "$W/entry.ldif" || true)
	ns=$(grep -c '^userSMIMECertificate::' "$W/entry.ldif" || true)
	[ "$n" = "$want" ] && [ "$ns" = 1 ] || { fail "$m: after renewal $n userCertificate / $ns userSMIMECertificate values (want $want/1)"; continue; }
	for v in $(sed -n 's/^userCertificate:: //p' "$W/entry.ldif"); do
		s=$(printf '%s' "$v" | base64 -d | openssl x509 -inform DER -noout -serial | cut -d= -f2)
		[ "$s" != "$old" ] || fail "$m: the superseded certificate is still in userCertificate"
	done
	sed -n 's/^userSMIMECertificate:: //p' "$W/entry.ldif" | base64 -d |
		openssl pkcs7 -inform DER -print_certs 2>/dev/null | openssl x509 -noout -serial | grep -q "=$old\$" &&
		fail "$m: userSMIMECertificate still holds the superseded certificate"
done
echo "checked $N renewals in userCertificate and userSMIMECertificate"
samba_ldap ldapsearch -LLL -o ldif-wrap=no -b "CN=Grace Foreign,$OU" -s base userCertificate |
	sed -n 's/^userCertificate:: //p' >"$W/grace.b64"
kept=0
while read -r v; do
	sha=$(printf '%s' "$v" | base64 -d | sha256sum | cut -d' ' -f1)
	[ "$sha" = "$FOREIGN_SHA" ] || [ "$sha" = "$EXPIRED_SHA" ] && kept=$((kept + 1))
done <"$W/grace.b64"
check '[ $kept = 2 ]' "the renewal removed only our own value: both foreign certificates stay"

# --- Entra ID members published into this AD (publish_to) ------------------
# The hybrid case: Entra Connect synchronises these accounts, smimesync reads
# them from Microsoft Graph (tests/tools/graph-fake.py) and publishes into
# the on-premises AD, which carries the certificates on to Exchange Online.
# Kim is found by onPremisesDistinguishedName (her AD mail is stale), Lee by mail.
mkdir -p "$W/graph" "$W/gstate"
chmod 700 "$W/gstate"
printf 'entra-secret\n' >"$W/entra.secret"
chmod 600 "$W/entra.secret"
cat >"$W/graph/tenant.json" <<JSON
{"tenant": "example.test", "page_size": 100,
 "clients": {"3d9e5b7a-8c41-4f26-b0e3-7a1c9d2e4f58": {"secret": "entra-secret",
   "permissions": ["GroupMember.Read.All", "User.Read.All", "Mail.Send"]}},
 "groups": {"0b4ad5e4-7f44-4d8a-9c71-3c1d2a5e6f70": {"displayName": "Hybrid",
   "members": ["k1", "l1"]}},
 "users": {
  "k1": {"mail": "kim@example.test", "userPrincipalName": "kim@example.test", "accountEnabled": true,
   "userType": "Member", "onPremisesDistinguishedName": "CN=Kim Hybrid,$OU"},
  "l1": {"mail": "lee@example.test", "userPrincipalName": "lee@example.test", "accountEnabled": true,
   "userType": "Member", "onPremisesDistinguishedName": null},
  "p1": {"mail": "pki@example.test", "userPrincipalName": "pki@example.test", "accountEnabled": true}}}
JSON
graph_start "$W/graph" "$SAMBA_WORKDIR/tls/server.pem" "$SAMBA_WORKDIR/tls/server.key"
sed -e "s|^state_dir = .*|state_dir = $W/gstate|" \
	-e '/^\[mail\]/,$d' "$W/smimesync.conf" >"$W/hybrid.conf"
cat >>"$W/hybrid.conf" <<CONF
[directory entra]
type = graph
tenant_id = example.test
client_id = 3d9e5b7a-8c41-4f26-b0e3-7a1c9d2e4f58
client_secret_file = $W/entra.secret
authority_host = $GRAPH_URL
graph_host = $GRAPH_URL
tls_ca_file = $SAMBA_CA_FILE

[mail]
transport = graph
directory = entra
from = Example PKI <pki@example.test>

[group hybrid]
directory = entra
group_id = 0b4ad5e4-7f44-4d8a-9c71-3c1d2a5e6f70
publish_to = corp
ca = internal
key_type = p256
CONF
"$SMIMESYNC" -c "$W/hybrid.conf" run --format json >"$W/hybrid.json" 2>"$W/hybrid.log" ||
	{ tail -20 "$W/hybrid.log"; fail "the Entra ID run exited non-zero"; }
check '[ "$(jq -r .counts.issued "$W/hybrid.json")" = 2 ] && [ "$(jq -r ".groups[0].publish_to" "$W/hybrid.json")" = corp ]' \
	"Entra members kim and lee are issued, publishing to the AD"
for who in "Kim Hybrid:kim@example.test" "Lee Address:lee@example.test"; do
	samba_ldap ldapsearch -LLL -o ldif-wrap=no -b "CN=${who%%:*},$OU" -s base userCertificate userSMIMECertificate >"$W/entry.ldif"
	sed -n 's/^userCertificate:: //p' "$W/entry.ldif" | head -n 1 | base64 -d >"$W/hybrid.der" 2>/dev/null || true
	check '[ "$(grep -c "^userSMIMECertificate::" "$W/entry.ldif")" = 1 ] && openssl x509 -inform DER -in "$W/hybrid.der" -noout -ext subjectAltName 2>/dev/null | grep -q "email:${who#*:}"' \
		"CN=${who%%:*} holds ${who#*:}'s certificate in userCertificate and userSMIMECertificate"
done
check '[ "$(wc -l <"$W/graph/sent.jsonl")" = 4 ] && [ "$(jq -r .counts.mails_sent "$W/hybrid.json")" = 4 ]' \
	"their mails went out through Graph sendMail"
graph_stop

# --- a group read from the global catalog, published on a domain controller ---
mkdir -p "$W/gcstate"
chmod 700 "$W/gcstate"
sed -e "s|^state_dir = .*|state_dir = $W/gcstate|" -e '/^\[group /,$d' "$W/smimesync.conf" >"$W/gc.conf"
cat >>"$W/gc.conf" <<CONF
[directory gc]
type = ad
global_catalog = yes
uri = ldaps://127.0.0.1:3269
bind_dn = svc-smimesync@example.test
bind_password_file = $W/svc.secret
base_dn = $B
tls_ca_file = $SAMBA_CA_FILE

[group forest-staff]
directory = gc
group = smime-staff
publish_to = corp
ca = internal
key_type = p256
CONF
"$SMIMESYNC" -c "$W/gc.conf" run --format json >"$W/gcrun.json" 2>"$W/gcrun.log" ||
	{ tail -20 "$W/gcrun.log"; fail "the global catalog run exited non-zero"; }
check '[ "$(jq -r .counts.issued "$W/gcrun.json")" -gt 0 ] && [ "$(jq -r .counts.published "$W/gcrun.json")" = "$(jq -r .counts.issued "$W/gcrun.json")" ] && [ "$(jq -r ".groups[0].publish_to" "$W/gcrun.json")" = corp ]' \
	"a group read through the global catalog is published on the domain controller (publish_to)"
SMIMESYNC_CONF=$W/gc.conf "$SMIMESYNC" status --format json >"$W/gcstatus.json"
gc_ok=yes
for m in $(jq -r '.[] | select(.serial != null) | .mail' "$W/gcstatus.json"); do
	serial=$(jq -r ".[] | select(.mail == \"$m\") | .serial" "$W/gcstatus.json")
	samba_ldap ldapsearch -LLL -o ldif-wrap=no -b "$OU" "(mail=$m)" userCertificate |
		sed -n 's/^userCertificate:: //p' >"$W/gcvals.b64"
	found=no
	while read -r v; do
		[ "$(printf '%s' "$v" | base64 -d | openssl x509 -inform DER -noout -serial | cut -d= -f2)" = "$serial" ] && found=yes
	done <"$W/gcvals.b64"
	[ $found = yes ] || { gc_ok=no; echo "# $m: serial $serial is not in its entry on the DC"; }
done
check '[ $gc_ok = yes ]' "each of them holds the new certificate at their own DN on the DC"

# --- GSSAPI with a keytab: no password, protected by Kerberos sign+seal ---
samba_kerberos
samba_keytab svc-smimesync "$W/svc.keytab"
KRB5_CONFIG=$SAMBA_KRB5_CONFIG
export KRB5_CONFIG
unset KRB5CCNAME
gss_probe() { "$PROBE" --uri ldap://localhost --starttls off --base "$B" --type ad --sasl GSSAPI --keytab "$W/svc.keytab" "$@"; }
gss_probe --principal "svc-smimesync@$SAMBA_REALM" members-full "CN=smime-sales,$OU" >"$W/gss.txt" 2>&1 || cat "$W/gss.txt"
check 'cmp -s "$W/sales.txt" "$W/gss.txt"' "a GSSAPI bind with keytab_file reads the same members over plain LDAP"
gss_probe --principal "someone-else@$SAMBA_REALM" members smime-sales >"$W/out" 2>"$W/err" || true
check 'grep -q "authenticated as svc-smimesync@$SAMBA_REALM, not as principal = someone-else@$SAMBA_REALM" "$W/err"' \
	"a keytab holding another principal is refused, naming both"
sed -e "s|^uri = .*|uri = ldap://localhost|" -e "/^bind_dn = /d" -e "/^bind_password_file = /d" \
	-e "s|^base_dn = .*|&\\nstarttls = off\\nsasl_mech = GSSAPI\\nkeytab_file = $W/svc.keytab\\nprincipal = svc-smimesync@$SAMBA_REALM|" \
	"$W/smimesync.conf" >"$W/gss.conf"
check 'SMIMESYNC_CONF=$W/gss.conf "$SMIMESYNC" check-config >"$W/check-gss.out" 2>&1' "check-config accepts sasl_mech = GSSAPI with keytab_file and principal"
SMIMESYNC_CONF=$W/gss.conf "$SMIMESYNC" run --format json >"$W/run3.json" 2>"$W/run3.log" || { tail -20 "$W/run3.log"; fail "GSSAPI run exited non-zero"; }
check '[ "$(jq -r .counts.unchanged "$W/run3.json")" = "$N" ] && [ "$(jq -r .counts.issued "$W/run3.json")" = 0 ]' \
	"a whole run with GSSAPI (keytab) sees the same $N people and changes nothing"

echo "$fails failure(s)"
[ "$fails" = 0 ]
