#!/bin/sh
# SPDX-License-Identifier: ISC
# Invariant I5 and the mass-issuance valve, against a real slapd, checked
# in the certificates the directory publishes (openssl reads their SAN):
#   - a person who adds someone else's address to their own entry gets no
#     certificate for it, and neither does its owner while both claim it;
#     the report names both entries;
#   - an address outside allowed_domains is left out of the certificate;
#   - every SAN address is recorded, and losing one re-issues the
#     certificate without it;
#   - a group pointed at everyone (60 new people, more than the default
#     limit of 50) is held: exit 3, nothing issued, the dry run shows the
#     count; --allow-mass-issue issues them.
set -eu
: "${top_srcdir:?}" "${top_builddir:?}" "${SMIMESYNC:?}"
. "$top_srcdir/tests/tools/slapd-lib.sh"
. "$top_srcdir/tests/tools/smtp-lib.sh"
. "$top_srcdir/tests/tools/smimesync-lib.sh"
. "$top_srcdir/tests/tools/test-lib.sh"
slapd_require
smtp_require
command -v jq >/dev/null || { echo "SKIP: jq is not installed (tools/install-deps)"; exit 77; }

test_begin addr

test_org_servers
smimesync_write_config "$W" p256 p256
sed -i '/^\[group smime-staff\]/,$d' "$SMIMESYNC_CONF"
echo "allowed_domains = example.org" >>"$SMIMESYNC_CONF"
"$SMIMESYNC" ca init --root-key-out "$ROOT_KEY_OUT" >/dev/null

ldapmod() { ldapmodify -x -H "$SLAPD_URI" -D "$SLAPD_ADMIN_DN" -y "$SLAPD_ADMIN_PW_FILE" >/dev/null; }
# sans UID: the e-mail addresses in the SAN of the certificate published for uid=UID, sorted
sans() {
	ldapsearch -LLL -o ldif-wrap=no -x -H "$SLAPD_URI" -b "uid=$1,ou=people,$SLAPD_BASE" -s base \
		'userCertificate;binary' | sed -n 's/^userCertificate;binary:: //p' | while read -r b64; do
		echo "$b64" | base64 -d | openssl x509 -inform DER -noout -ext subjectAltName 2>/dev/null |
			tr ',' '\n' | sed -n 's/^ *email://p'
	done | LC_ALL=C sort | tr '\n' ' '
}
run() {
	_n=$1
	shift
	set +e
	"$SMIMESYNC" run --format json "$@" >"$W/$_n.json" 2>"$W/$_n.log"
	_rc=$?
	set -e
	echo "run $_n: exit $_rc, $(jq -c .counts "$W/$_n.json" 2>/dev/null)"
}

# bob claims alice's address and one outside the allowed domains; carol has an alias.
printf 'dn: uid=bob,ou=people,%s\nchangetype: modify\nadd: mail\nmail: alice@example.org\nmail: bob@evil.example\n' "$SLAPD_BASE" | ldapmod
printf 'dn: uid=carol,ou=people,%s\nchangetype: modify\nadd: mail\nmail: carol.alias@example.org\n' "$SLAPD_BASE" | ldapmod
run a1
check '[ -z "$(sans alice)" ]' "alice@example.org, claimed by alice and bob, is certified for neither: alice has no certificate"
check '[ "$(sans bob)" = "bob@example.org " ]' "bob's certificate carries only his own address (SAN: $(sans bob))"
check 'jq -e "[.errors[] | select(.message | test(\"alice@example.org is claimed by uid=alice,ou=people,dc=example,dc=org and by uid=bob,ou=people,dc=example,dc=org\"))] | length == 1" "$W/a1.json" >/dev/null' \
	"the report names both entries that claim alice@example.org"
check 'jq -e ".users[] | select(.mail == \"bob@example.org\") | select(.reason | test(\"bob@evil.example .outside the allowed domains\"))" "$W/a1.json" >/dev/null' \
	"the report says bob@evil.example was left out (outside allowed_domains)"
check '[ "$(sans carol)" = "carol.alias@example.org carol@example.org " ]' "carol's certificate carries her alias"
check '[ "$_rc" = 3 ]' "the run ends partial (exit 3): the admin must correct the directory"
check '[ "$(sqlite3 "$W/state/smimesync.db" "SELECT alt_mails FROM certs c JOIN users u ON u.id = c.user_id WHERE u.mail = '"'carol@example.org'"'")" = carol.alias@example.org ]' \
	"every SAN address is recorded in the store"

# bob gives the address back, carol loses her alias.
printf 'dn: uid=bob,ou=people,%s\nchangetype: modify\ndelete: mail\nmail: alice@example.org\n' "$SLAPD_BASE" | ldapmod
printf 'dn: uid=carol,ou=people,%s\nchangetype: modify\ndelete: mail\nmail: carol.alias@example.org\n' "$SLAPD_BASE" | ldapmod
run a2
check '[ "$(sans alice)" = "alice@example.org " ]' "once nobody else claims it, alice gets her certificate"
check 'jq -e ".users[] | select(.mail == \"carol@example.org\" and .action == \"reissue\" and .outcome == \"done\") | select(.reason | test(\"carol.alias@example.org\"))" "$W/a2.json" >/dev/null' \
	"losing an alias re-issues carol's certificate, and the report says which address"
check '[ "$(sans carol)" = "carol@example.org " ]' "carol's published certificate no longer carries the alias"

# Mass issuance: a group pointed at everyone.
i=0
while [ $i -lt 60 ]; do
	printf 'dn: uid=p%02d,ou=people,%s\nobjectClass: inetOrgPerson\nuid: p%02d\ncn: Person %02d\nsn: Person\nmail: p%02d@example.org\n\n' \
		$i "$SLAPD_BASE" $i $i $i
	i=$((i + 1))
done >"$W/many.ldif"
{
	printf 'dn: cn=everyone,ou=groups,%s\nobjectClass: groupOfNames\ncn: everyone\n' "$SLAPD_BASE"
	i=0
	while [ $i -lt 60 ]; do printf 'member: uid=p%02d,ou=people,%s\n' $i "$SLAPD_BASE"; i=$((i + 1)); done
} >>"$W/many.ldif"
slapd_load "$W/many.ldif" >/dev/null
sed -i "s/^group_dn = .*/group_dn = cn=everyone,ou=groups,$SLAPD_BASE/" "$SMIMESYNC_CONF"
set +e
"$SMIMESYNC" run --dry-run --format json >"$W/dry.json" 2>/dev/null
set -e
check '[ "$(jq -r .counts.new_certificates "$W/dry.json")" = 60 ] && [ "$(jq -r .counts.held_by_valve "$W/dry.json")" = 60 ]' \
	"the dry run shows the count: 60 new certificates, held by the valve"
run m1
check '[ "$_rc" = 3 ] && [ "$(jq -r .counts.issued "$W/m1.json")" = 0 ]' "pointing a group at everyone holds the run: exit 3, nothing issued"
check '[ -z "$(sans p00)" ]' "no certificate in the directory"
check 'jq -e "[.errors[] | select(.message | test(\"--allow-mass-issue\"))] | length == 1" "$W/m1.json" >/dev/null' \
	"the report says how to allow them"
run m2 --allow-mass-issue
check '[ "$(jq -r .counts.issued "$W/m2.json")" = 60 ] && [ "$(sans p59)" = "p59@example.org " ]' "--allow-mass-issue issues the 60"

test_end
