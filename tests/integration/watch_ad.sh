#!/bin/sh
# SPDX-License-Identifier: ISC
# Active Directory's change stream (issue #17) against a real Samba AD DC,
# through dir-probe's watch command (each batch's state committed to a
# file, as the daemon will commit it to the store). Samba's ports are fixed:
# samba-lib.sh serialises this script with sync_ad.sh through its lock.
#
# One person looked up alone (dir-probe person, dir_read_person): a direct
# member, one two levels down, a non-member, a DN that does not exist, one
# outside base_dn, a group, and primary group members (directly, and through
# a group holding Domain Users), each the group read's line and verdict.
#
# ad_changes = usn, as a service account with no special right:
#   - the first start asks for a full read; its position names the DC (DNS
#     name), its database (invocationId) and highestCommittedUSN;
#   - a person added to a group nested two levels below a watched group:
#     the person, and the watched group named; a changed mail; a disabled
#     account; a person moved out of base_dn (gone); a change to a group
#     nobody watches names nothing;
#   - a new account whose primary group is a watched group (Domain Users)
#     names that group, though nobody's member list changed;
#   - deletions through the Deleted Objects container (show-deleted): a
#     deleted person is gone, once the service account may list it; before
#     that the watch says it cannot see any tombstone;
#   - a position of another DC, or of the same DC under another
#     invocationId (restored from backup): a full read, saying which;
# ad_changes = dirsync:
#   - without "Replicating Directory Changes": no stream, naming the right;
#   - with it: the same changes, a member removed from a nested group seen
#     through incremental values, a cookie the server cannot read refused.
#   - Samba's DirSync returns no tombstones: deletions still come from
#     Deleted Objects.
# The daemon following uSNChanged (incremental = yes), checked from outside
# (userCertificate on the DC, the SMTP sink, the CA's record):
#   - a person added to a watched group while it runs: published and
#     mailed, by an incremental run; a member whose entry changed: looked
#     up alone; removed (on_leave = revoke, no grace): revoked and
#     unpublished;
#   - killed with -9, a person added while it is down: published once it
#     is back, one certificate and two mails each.
set -eu
: "${top_srcdir:?}" "${top_builddir:?}"
. "$top_srcdir/tests/tools/samba-lib.sh"
. "$top_srcdir/tests/tools/smtp-lib.sh"
. "$top_srcdir/tests/tools/test-lib.sh" # wait_for
samba_require
smtp_require
command -v sqlite3 >/dev/null || { echo "SKIP: sqlite3 is not installed (tools/install-deps)"; exit 77; }
SMIMESYNC=${SMIMESYNC:-$top_builddir/smimesync}
command -v iconv >/dev/null || { echo "SKIP: iconv is not installed"; exit 77; }
PROBE=$top_builddir/tests/tools/dir-probe
[ -x "$PROBE" ] || { echo "watch_ad: $PROBE is not built" >&2; exit 99; }

W=$(mktemp -d /tmp/smimesync-watchad.XXXXXX)
DPID=
cleanup() {
	if [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null; then kill -KILL "$DPID"; wait "$DPID" 2>/dev/null || true; fi
	smtp_stop || true; samba_stop || true; [ -n "${KEEP:-}" ] || rm -rf "$W"
}
trap cleanup EXIT INT TERM
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
check() { if eval "$1"; then echo "ok: $2"; else fail "$2"; fi; }

mkdir -p "$W/dc"
samba_start "$W/dc"
echo "Samba AD DC up (pid $SAMBA_PID)"
B=$SAMBA_BASE
OU="OU=SMIME,$B"
export LDAPTLS_CACERT="$SAMBA_CA_FILE"
unicode_pwd() { printf '"%s"' "$1" | iconv -f utf-8 -t utf-16le | base64 -w0; }
guid_of() {
	samba_ldap ldapsearch -LLL -b "$1" -s base objectGUID | sed -n 's/^objectGUID:: //p' |
		/usr/bin/python3 -c 'import sys, base64, uuid; print(uuid.UUID(bytes_le=base64.b64decode(sys.stdin.read())))'
}
SVC_PW="Svc-$(openssl rand -hex 10)-9z"
(umask 077 && printf '%s' "$SVC_PW" >"$W/svc.secret")
cat >"$W/data.ldif" <<LDIF
dn: $OU
objectClass: organizationalUnit

dn: OU=Elsewhere,$B
objectClass: organizationalUnit

dn: CN=svc-watch,CN=Users,$B
objectClass: user
sAMAccountName: svc-watch
userPrincipalName: svc-watch@example.test
unicodePwd:: $(unicode_pwd "$SVC_PW")
userAccountControl: 66048

dn: CN=Alice,$OU
objectClass: user
sAMAccountName: alice
userAccountControl: 544
mail: alice@example.test

dn: CN=Bob,$OU
objectClass: user
sAMAccountName: bob
userAccountControl: 544
mail: bob@example.test

dn: CN=Carol,$OU
objectClass: user
sAMAccountName: carol
userAccountControl: 544
mail: carol@example.test

dn: CN=Dave,$OU
objectClass: user
sAMAccountName: dave
userAccountControl: 544
mail: dave@example.test

dn: CN=level2,$OU
objectClass: group
sAMAccountName: level2
member: CN=Carol,$OU

dn: CN=level1,$OU
objectClass: group
sAMAccountName: level1
member: CN=level2,$OU

dn: CN=smime-sales,$OU
objectClass: group
sAMAccountName: smime-sales
member: CN=Alice,$OU
member: CN=level1,$OU

dn: CN=unwatched,$OU
objectClass: group
sAMAccountName: unwatched
member: CN=Bob,$OU
LDIF
samba_ldap ldapadd -f "$W/data.ldif" >"$W/ldapadd.log" 2>&1 || { cat "$W/ldapadd.log"; fail "loading the test directory"; exit 1; }
modify() { samba_ldap ldapmodify >"$W/modify.log" 2>&1 || { cat "$W/modify.log"; fail "ldapmodify"; }; }

WATCH="--uri $SAMBA_URI --base $OU --ca-file $SAMBA_CA_FILE --type ad --bind-dn svc-watch@example.test --password-file $W/svc.secret"
# The watched groups: smime-sales, and Domain Users (everyone's primary group).
watch() { # name args... (the group options are appended after them)
	name=$1
	shift
	"$PROBE" $WATCH "$@" --group "sales=CN=smime-sales,$OU" \
		--group "everyone=CN=Domain Users,CN=Users,$B" >"$W/$name.out" 2>"$W/$name.err" &&
		echo 0 >"$W/$name.rc" || echo $? >"$W/$name.rc"
}
admin_watch() { # name args...
	name=$1
	shift
	"$PROBE" --uri "$SAMBA_URI" --base "$OU" --ca-file "$SAMBA_CA_FILE" --type ad \
		--bind-dn "$SAMBA_ADMIN_DN" --password-file "$SAMBA_ADMIN_PW_FILE" "$@" \
		--group "sales=CN=smime-sales,$OU" --group "everyone=CN=Domain Users,CN=Users,$B" \
		>"$W/$name.out" 2>"$W/$name.err" || true
}
changes() { grep -v '^commit ' "$W/$1.out" | LC_ALL=C sort; }

# --- one person looked up alone (dir-probe person, before any change) --------
# The person line must be what the group read prints for them; each "in"
# what the group read would say (in-chain rule, or primary group).
probe() { "$PROBE" $WATCH "$@"; }
full() { # name group [options...]: the group read, one line per person
	_n=$1
	shift
	_g=$1
	shift
	probe "$@" members-full "$_g" >"$W/$_n.full" 2>"$W/$_n.ferr" || { cat "$W/$_n.ferr"; fail "members-full $_g"; }
}
person() { # name ref groups...
	_n=$1
	shift
	probe person "$@" >"$W/person-$_n.out" 2>"$W/person-$_n.err" || { cat "$W/person-$_n.err"; fail "dir-probe person $1"; }
}
same_line() { # person-name full-name dn: the person line is the group read's line
	_l=$(grep "^[^|]*|$3|" "$W/$2.full")
	[ -n "$_l" ] && [ "$(sed -n 1p "$W/person-$1.out")" = "$_l" ]
}
ins() { sed -n '2,$p' "$W/person-$1.out" | tr '\n' ' '; }
full sales "CN=smime-sales,$OU"
full unwatched unwatched
full domusers "CN=Domain Users,CN=Users,$B"
person alice "CN=Alice,$OU" "CN=smime-sales,$OU" unwatched "CN=Domain Users,CN=Users,$B"
check 'same_line alice sales "CN=Alice,$OU" && [ "$(ins alice)" = "in CN=smime-sales,$OU yes in unwatched no in CN=Domain Users,CN=Users,$B yes " ]' \
	"person: a direct member alone is the group read's line; in sales, not in unwatched, in her primary group"
person carol "CN=Carol,$OU" level1 smime-sales unwatched
check 'same_line carol sales "CN=Carol,$OU" && [ "$(ins carol)" = "in level1 yes in smime-sales yes in unwatched no " ]' \
	"person: a member two levels down alone: in level1 and smime-sales (in-chain), not in unwatched"
person bob "CN=Bob,$OU" smime-sales unwatched
check 'same_line bob unwatched "CN=Bob,$OU" && [ "$(ins bob)" = "in smime-sales no in unwatched yes " ]' \
	"person: a non-member of smime-sales alone: not in it"
check 'same_line bob domusers "CN=Bob,$OU"' "person: the same line as the primary group's read gives"
person nobody "CN=Nobody,$OU" smime-sales
check '[ "$(cat "$W/person-nobody.out")" = "not found" ]' "person: a DN that does not exist is not found"
person svc "CN=svc-watch,CN=Users,$B" "CN=Domain Users,CN=Users,$B"
check '[ "$(cat "$W/person-svc.out")" = "not found" ] && ! grep -q "svc-watch" "$W/domusers.full"' \
	"person: a user outside base_dn is not found (the group read under base_dn lists nobody there)"
person group "CN=level2,$OU" smime-sales
check '[ "$(cat "$W/person-group.out")" = "not found" ]' "person: a group (not matching user_filter) is not found"
# A group holding Domain Users: alice is in it only through her primary
# group, nested one level below. With base_dn the domain, the group read's
# nested-primary search finds her; alone she must be in it too.
samba_ldap ldapadd >"$W/allpeople.log" 2>&1 <<LDIF || { cat "$W/allpeople.log"; fail "adding all-people"; }
dn: CN=all-people,$OU
objectClass: group
sAMAccountName: all-people
member: CN=Domain Users,CN=Users,$B
LDIF
full allpeople "CN=all-people,$OU" --base "$B"
"$PROBE" $WATCH --base "$B" person "CN=Alice,$OU" all-people level2 >"$W/person-nested.out" 2>"$W/person-nested.err" ||
	{ cat "$W/person-nested.err"; fail "dir-probe person (nested primary)"; }
check 'same_line nested allpeople "CN=Alice,$OU" && [ "$(ins nested)" = "in all-people yes in level2 no " ]' \
	"person: in a group through her primary group nested in it, as the group read finds her"
samba_ldap ldapdelete "CN=all-people,$OU" >/dev/null 2>&1 || fail "deleting all-people"

# --- usn: the first start ----------------------------------------------------
S=$W/usn.json
watch u0 watch --state "$S"
DC_HOST=$(samba_ldap ldapsearch -LLL -b "" -s base dnsHostName | sed -n 's/^dnsHostName: //p')
USN=$(samba_ldap ldapsearch -LLL -b "" -s base highestCommittedUSN | sed -n 's/^highestCommittedUSN: //p')
check '[ "$(cat "$W/u0.rc")" = 0 ] && grep -q "^full no-state|" "$W/u0.out"' "usn: the first start asks for a full read"
check 'grep -q "\"dc\":\"$DC_HOST\"" "$S" && grep -q "\"invocation_id\":\"[0-9a-f-]\{36\}\"" "$S" && grep -q "\"kind\":\"ad-usn\"" "$S"' \
	"usn: the position names the DC ($DC_HOST) and its invocationId"
POS=$(sed -n 's/^commit //p' "$W/u0.out")
check '[ -n "$POS" ] && [ "$POS" -ge "$USN" ]' "usn: ... and its highestCommittedUSN ($POS)"
check 'grep -q "no deleted object is visible\|shows no Deleted Objects" "$W/u0.err" || true' "(Deleted Objects visibility is checked)"
watch u0b watch --state "$S"
check '[ ! -s "$W/u0b.out" ]' "usn: nothing changed, nothing said"

# --- usn: changes while away ----------------------------------------------------
modify <<LDIF
dn: CN=Erin,$OU
changetype: add
objectClass: user
sAMAccountName: erin
userAccountControl: 544
mail: erin@example.test

dn: CN=level2,$OU
changetype: modify
add: member
member: CN=Erin,$OU

dn: CN=Alice,$OU
changetype: modify
replace: mail
mail: alice.new@example.test

dn: CN=Bob,$OU
changetype: modify
replace: userAccountControl
userAccountControl: 546

dn: CN=unwatched,$OU
changetype: modify
add: member
member: CN=Dave,$OU
LDIF
ERIN=$(guid_of "CN=Erin,$OU")
ALICE=$(guid_of "CN=Alice,$OU")
BOB=$(guid_of "CN=Bob,$OU")
watch u1 watch --state "$S"
changes u1 >"$W/u1.got"
check 'grep -q "^person $ERIN|CN=Erin,$OU|erin@example.test|enabled|" "$W/u1.got"' "usn: a new person is seen"
check 'grep -q "^person $ALICE|CN=Alice,$OU|alice.new@example.test|enabled|" "$W/u1.got"' "usn: a changed mail is seen"
check 'grep -q "^person $BOB|CN=Bob,$OU|bob@example.test|disabled|the account is disabled" "$W/u1.got"' "usn: a disabled account is seen, with the reason"
check 'grep -q "^groups sales,everyone|\|^groups everyone,sales|" "$W/u1.got"' \
	"usn: erin joining a group two levels below smime-sales names sales; her primary group (Domain Users) names everyone"
check '[ "$(grep -c "^groups" "$W/u1.got")" = 1 ] && ! grep -q "unwatched\|Dave" "$W/u1.got"' \
	"usn: the change to a group nobody watches names nothing"
watch u1b watch --state "$S"
check '[ ! -s "$W/u1b.out" ]' "usn: committed: nothing comes twice"

# --- usn: moved out of base_dn --------------------------------------------------
samba_ldap ldapmodify >/dev/null <<LDIF
dn: CN=Dave,$OU
changetype: modrdn
newrdn: CN=Dave
deleteoldrdn: 1
newsuperior: OU=Elsewhere,$B
LDIF
DAVE=$(guid_of "CN=Dave,OU=Elsewhere,$B")
watch u2 watch --state "$S"
check 'grep -q "^gone $DAVE|CN=Dave,OU=Elsewhere,$B" "$W/u2.out"' "usn: a person moved out of base_dn is gone"

# --- usn: deletions -----------------------------------------------------------------
samba_ldap ldapdelete "CN=Carol,$OU" >/dev/null
CAROL_DELETED=$(samba_ldap ldapsearch -LLL -E '!1.2.840.113556.1.4.417' -b "CN=Deleted Objects,$B" '(sAMAccountName=carol)' objectGUID |
	sed -n 's/^objectGUID:: //p' | /usr/bin/python3 -c 'import sys, base64, uuid; print(uuid.UUID(bytes_le=base64.b64decode(sys.stdin.read())))')
watch u3 watch --state "$S"
if grep -q "^gone $CAROL_DELETED|" "$W/u3.out"; then
	echo "ok: usn: a deleted person is gone (the service account may list Deleted Objects)"
else
	check 'grep -q "no deleted object is visible in CN=Deleted Objects,$B: either none exists yet or the service account may not list it" "$W/u3.err"' \
		"usn: a service account that may not list Deleted Objects is told deletions wait for the next full read"
fi
# The administrator may list them: a watch bound as the administrator sees a deletion.
admin_watch adm0 watch --state "$W/adm.json"
samba_ldap ldapdelete "CN=Alice,$OU" >/dev/null
ALICE_DELETED=$(samba_ldap ldapsearch -LLL -E '!1.2.840.113556.1.4.417' -b "CN=Deleted Objects,$B" '(sAMAccountName=alice)' objectGUID |
	sed -n 's/^objectGUID:: //p' | /usr/bin/python3 -c 'import sys, base64, uuid; print(uuid.UUID(bytes_le=base64.b64decode(sys.stdin.read())))')
admin_watch adm1 watch --state "$W/adm.json"
check 'grep -q "^gone $ALICE_DELETED|" "$W/adm1.out" && [ "$ALICE_DELETED" = "$ALICE" ]' \
	"usn: read by an account that may list Deleted Objects, a deleted person is gone by her objectGUID (show-deleted)"

# --- usn: another DC, a restored DC --------------------------------------------------
sed "s/\"dc\":\"$DC_HOST\"/\"dc\":\"dc2.example.test\"/" "$S" >"$W/otherdc.json"
watch u4 watch --state "$W/otherdc.json"
check 'grep -q "^full dc-changed|$SAMBA_URI is answered by $DC_HOST now, the stored position is dc2.example.test.s: uSNChanged counts per domain controller" "$W/u4.out"' \
	"usn: a position taken on another DC: a full read, saying why"
sed 's/"invocation_id":"[0-9a-f-]*"/"invocation_id":"00000000-1111-2222-3333-444444444444"/' "$S" >"$W/restored.json"
watch u5 watch --state "$W/restored.json"
check 'grep -q "^full dc-restored|$DC_HOST has the invocationId [0-9a-f-]*, the stored position was taken under 00000000-1111-2222-3333-444444444444: the domain controller was restored from backup" "$W/u5.out"' \
	"usn: the DC under another invocationId (restored from backup): a full read, saying why"
watch u5b watch --state "$W/restored.json"
check '[ ! -s "$W/u5b.out" ]' "usn: after it, the new position holds"

# --- dirsync ---------------------------------------------------------------------------
D=$W/dirsync.json
watch d0 --ad-changes dirsync watch --state "$D"
check '[ "$(cat "$W/d0.rc")" = 3 ] && grep -q "unsupported: .*refuses DirSync to svc-watch@example.test (Insufficient access.*ad_changes = dirsync needs the \"Replicating Directory Changes\" right (extended right 1131f6aa-9c07-11d1-f79f-00c04fc2dcd2) on $B" "$W/d0.err"' \
	"dirsync: without the right, no stream, naming the right to grant"
SVC_SID=$(samba-tool user show svc-watch --attributes=objectSid -H "$SAMBA_PRIVATE/sam.ldb" 2>/dev/null | sed -n 's/^objectSid: //p')
samba-tool dsacl set -H "$SAMBA_PRIVATE/sam.ldb" --objectdn="$B" \
	--sddl="(OA;;CR;1131f6aa-9c07-11d1-f79f-00c04fc2dcd2;;$SVC_SID)" >"$W/dsacl.log" 2>&1 ||
	{ cat "$W/dsacl.log"; fail "granting Replicating Directory Changes"; }
watch d1 --ad-changes dirsync watch --state "$D"
check '[ "$(cat "$W/d1.rc")" = 0 ] && grep -q "^full no-state|" "$W/d1.out" && grep -q "\"kind\":\"ad-dirsync\"" "$D" && grep -q "\"cookie\":\"[0-9a-f]*\"" "$D"' \
	"dirsync: with the right, the first start asks for a full read; the position holds a DirSync cookie"
modify <<LDIF
dn: CN=Frank,$OU
changetype: add
objectClass: user
sAMAccountName: frank
userAccountControl: 544
mail: frank@example.test

dn: CN=level1,$OU
changetype: modify
add: member
member: CN=Frank,$OU

dn: CN=level2,$OU
changetype: modify
delete: member
member: CN=Erin,$OU
LDIF
FRANK=$(guid_of "CN=Frank,$OU")
watch d2 --ad-changes dirsync watch --state "$D"
changes d2 >"$W/d2.got"
check 'grep -q "^person $FRANK|CN=Frank,$OU|frank@example.test|enabled|" "$W/d2.got" && grep -q "^groups .*sales" "$W/d2.got"' \
	"dirsync: a new person added below smime-sales: the person, and sales named"
watch d3 --ad-changes dirsync watch --state "$D"
# A DirSync cookie carries its creation time (MS-ADTS 3.1.1.3.4.1.3): a poll
# with nothing to say may still hand out a new state. Nothing twice means
# no change line.
check '[ "$(cat "$W/d3.rc")" = 0 ] && [ -z "$(changes d3)" ]' "dirsync: committed: nothing comes twice"
modify <<LDIF
dn: CN=level1,$OU
changetype: modify
delete: member
member: CN=Frank,$OU
LDIF
watch d4 --ad-changes dirsync watch --state "$D"
check '[ "$(changes d4)" = "groups sales|CN=level1,$OU" ]' \
	"dirsync: a member removed from a nested group (incremental values) names sales, and nothing else"
sed 's/"cookie":"[0-9a-f]*"/"cookie":"00ff00ff"/' "$D" >"$W/badcookie.json"
watch d5 --ad-changes dirsync watch --state "$W/badcookie.json"
check 'grep -q "^full cookie-refused|$DC_HOST refused the stored DirSync cookie" "$W/d5.out"' \
	"dirsync: a cookie the DC cannot read is refused: a full read"

# --- the daemon follows uSNChanged --------------------------------------------------
mkdir -p "$W/d/state" "$W/d/ca" "$W/d/offline" "$W/d/smtp"
chmod 700 "$W/d/state" "$W/d/ca" "$W/d/offline"
smtp_start "$W/d/smtp"
ad_user() { # cn mail
	printf 'dn: CN=%s,%s\nobjectClass: user\nsAMAccountName: %s\nuserAccountControl: 544\nmail: %s\n\n' \
		"$1" "$OU" "$(echo "$1" | tr A-Z a-z)" "$2"
}
{
	ad_user Nora nora@example.test
	ad_user Otto otto@example.test
	ad_user Pia pia@example.test
	printf 'dn: CN=smime-daemon,%s\nobjectClass: group\nsAMAccountName: smime-daemon\nmember: CN=Nora,%s\n\n' "$OU" "$OU"
} | samba_ldap ldapadd >/dev/null || fail "loading the daemon's people"
cat >"$W/d/smimesync.conf" <<CONF
[service]
state_dir = $W/d/state
log_level = debug
interval = 1h
jitter = 0s

[directory corp]
type = ad
uri = $SAMBA_URI
bind_dn = $SAMBA_ADMIN_DN
bind_password_file = $SAMBA_ADMIN_PW_FILE
base_dn = $OU
tls_ca_file = $SAMBA_CA_FILE
incremental = yes
ad_changes = usn
poll_interval = 1s

[ca internal]
cert_file = $W/d/ca/issuing.pem
key_file = $W/d/ca/issuing.key
chain_file = $W/d/ca/chain.pem
crl_url = http://pki.example.test/smime.crl
key_type = p256

[mail]
smtp_host = 127.0.0.1
smtp_port = $SMTP_PORT
tls_ca_file = $SMTP_CA_FILE
from = Example PKI <pki@example.test>

[group daemon]
directory = corp
group_dn = CN=smime-daemon,$OU
ca = internal
key_type = p256
on_leave = revoke
leave_grace = 0s
CONF
DCONF=$W/d/smimesync.conf
DB=$W/d/state/smimesync.db
SMIMESYNC_CONF=$DCONF "$SMIMESYNC" ca init --root-key-out "$W/d/offline/root.key" >/dev/null ||
	fail "ca init for the daemon"
published() { samba_ldap ldapsearch -LLL -b "CN=$1,$OU" -s base userCertificate 2>/dev/null | grep -c '^userCertificate::'; }
mails_to() {
	_n=0
	for _f in "$SMTP_DIR"/*.eml; do [ -f "$_f" ] && grep -qi "^To:.*$1" "$_f" && _n=$((_n + 1)); done
	echo "$_n"
}
certs_of() { sqlite3 -cmd ".timeout 60000" "$DB" "SELECT COUNT(*) FROM certs c JOIN users u ON u.id = c.user_id WHERE u.mail = '$1' AND c.status = '$2'"; }
start_daemon() { SMIMESYNC_CONF=$DCONF "$SMIMESYNC" daemon 2>>"$W/d/daemon.log" & DPID=$!; }
member() { # add|delete cn
	printf 'dn: CN=smime-daemon,%s\nchangetype: modify\n%s: member\nmember: CN=%s,%s\n' "$OU" "$1" "$2" "$OU" | modify
}
WAIT=6000
start_daemon
if wait_for '[ "$(published Nora)" -ge 1 ] || ! kill -0 $DPID 2>/dev/null' $WAIT && kill -0 $DPID 2>/dev/null; then
	echo "ok: daemon: the first run publishes the member"
else
	fail "daemon: no first run"; tail -20 "$W/d/daemon.log"
fi
check 'grep -q "\[directory corp\] following its change stream" "$W/d/daemon.log"' "daemon: incremental = yes follows the DC's uSNChanged"
member add Otto
check 'wait_for "[ \$(published Otto) -ge 1 ] && [ \$(mails_to otto@example.test) -ge 2 ]" $WAIT' \
	"daemon: a person added to the group while it runs: published and mailed"
check '[ -n "$(sqlite3 -cmd ".timeout 60000" "$DB" "SELECT 1 FROM runs WHERE report LIKE '"'%otto@example.test%'"' AND json_extract(report, '"'\$.run.kind'"') = '"'incremental'"'")" ]' \
	"daemon: by an incremental run"
# A member's own entry changed: the stream names the person, whom the run
# looks up alone (a read at the DN, an in-chain search) instead of reading
# the group.
modify <<LDIF
dn: CN=Otto,$OU
changetype: modify
replace: displayName
displayName: Otto Renamed
LDIF
otto_alone() { grep -qF "looked up CN=Otto,$OU alone: in 1 of the 1 groups of [directory corp]" "$W/d/daemon.log"; }
check 'wait_for otto_alone $WAIT' "daemon: a member whose entry changed is looked up alone"
member delete Nora
check 'wait_for "[ \$(published Nora) = 0 ] && [ \$(certs_of nora@example.test revoked) -ge 1 ]" $WAIT' \
	"daemon: a person removed from the group: revoked and unpublished"
kill -KILL "$DPID"
wait "$DPID" 2>/dev/null || true
DPID=
member add Pia
start_daemon
check 'wait_for "[ \$(published Pia) -ge 1 ] && [ \$(mails_to pia@example.test) -ge 2 ]" $WAIT' \
	"daemon: a person added while it was killed is published once it is back"
check '[ "$(certs_of otto@example.test valid)" = 1 ] && [ "$(certs_of pia@example.test valid)" = 1 ] && [ "$(mails_to otto@example.test)" = 2 ] && [ "$(mails_to pia@example.test)" = 2 ]' \
	"daemon: one certificate and two mails each: nothing twice"
kill -TERM "$DPID"
wait "$DPID" 2>/dev/null || true
DPID=
[ "$fails" = 0 ] || tail -40 "$W/d/daemon.log"

echo "$fails failure(s)"
[ "$fails" = 0 ]
