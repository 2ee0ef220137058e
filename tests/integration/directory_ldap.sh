#!/bin/sh
# SPDX-License-Identifier: ISC
# The directory room against a real slapd on loopback: group expansion
# (nesting, cycles, groupOfUniqueNames, missing members, paging), every way
# to connect and bind (StartTLS, LDAPS, SASL EXTERNAL over ldapi), the error
# messages an administrator sees, and idempotent certificate publishing
# that leaves other certificates alone, and one person looked up alone
# (dir_read_person) against what the group read says. Driven through
# tests/tools/dir-probe.
set -u

: "${top_srcdir:?run from make check}" "${top_builddir:?run from make check}"
. "$top_srcdir/tests/tools/slapd-lib.sh"
slapd_require

PROBE=$top_builddir/tests/tools/dir-probe
if [ ! -x "$PROBE" ]; then
	echo "FAIL: $PROBE is not built (make check builds it)" >&2
	exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/smimesync-dir.XXXXXX") || exit 1
trap 'slapd_stop; rm -rf "$work"' EXIT
trap 'exit 1' INT TERM
slapd_start "$work"

failures=0
fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}

B=$SLAPD_BASE
P=ou=people,$B
G=ou=groups,$B

# --- test data --------------------------------------------------------------
person() { # uid cn [mail]
	printf 'dn: uid=%s,%s\nobjectClass: inetOrgPerson\nuid: %s\ncn: %s\nsn: %s\n' \
		"$1" "$P" "$1" "$2" "$1"
	[ $# -ge 3 ] && printf 'mail: %s\n' "$3"
	printf '\n'
}
group() { # cn member-dn...
	g=$1
	shift
	printf 'dn: cn=%s,%s\nobjectClass: groupOfNames\ncn: %s\n' "$g" "$G" "$g"
	for m in "$@"; do
		printf 'member: %s\n' "$m"
	done
	printf '\n'
}

joerg_b64=$(printf 'J\303\266rg M\303\274ller' | base64)
{
	for u in alice bob carol dave erin grace heidi zed; do
		person "$u" "$u Example" "$u@example.org"
	done
	person frank "Frank Nomail"
	person mallory "Mallory Inject" 'a*)(uid=*'
	printf 'dn: uid=joerg,%s\nobjectClass: inetOrgPerson\nuid: joerg\ncn:: %s\nsn: Mueller\nmail: joerg@example.org\nmail: j.mueller@example.org\n\n' \
		"$P" "$joerg_b64"
	i=1
	while [ $i -le 60 ]; do
		n=$(printf 'big%03d' $i)
		person "$n" "Big $i" "$n@example.org"
		i=$((i + 1))
	done
	printf 'dn: cn=printer,ou=services,%s\nobjectClass: organizationalRole\ncn: printer\n\n' "$B"
	group level3 "uid=dave,$P" "uid=joerg,$P"
	group level2 "uid=carol,$P" "cn=level3,$G"
	group level1 "uid=bob,$P" "cn=level2,$G" "UID=Alice, OU=People,DC=example,DC=org"
	group cycle-a "uid=erin,$P" "cn=placeholder,$G"
	group cycle-b "cn=cycle-a,$G" "uid=frank,$P" "uid=mallory,$P"
	printf 'dn: cn=uniq,%s\nobjectClass: groupOfUniqueNames\ncn: uniq\nuniqueMember: uid=alice,%s\nuniqueMember: uid=grace,%s#'"'"'0101'"'"'B\n\n' \
		"$G" "$P" "$P"
	group top "uid=alice,$P" "cn=level1,$G" "cn=cycle-a,$G" "cn=uniq,$G" \
		"cn=ghost,$G" "cn=printer,ou=services,$B"
	set --
	i=1
	while [ $i -le 60 ]; do
		set -- "$@" "$(printf 'uid=big%03d,%s' $i "$P")"
		i=$((i + 1))
	done
	group big "$@" "cn=level3,$G" "uid=heidi,$P" "cn=ghost2,$G"
	printf 'dn: cn=notagroup,%s\nobjectClass: organizationalRole\ncn: notagroup\n\n' "$G"
} > "$work/data.ldif"
slapd_load "$work/data.ldif"

# Close the cycle A -> B -> A (cycle-a was created before cycle-b existed).
cat > "$work/cycle.ldif" <<EOF
dn: cn=cycle-a,$G
changetype: modify
replace: member
member: uid=erin,$P
member: cn=cycle-b,$G
EOF
ldapmodify -x -H "$SLAPD_URI" -D "$SLAPD_ADMIN_DN" -y "$SLAPD_ADMIN_PW_FILE" \
	-f "$work/cycle.ldif" >/dev/null || fail "ldapmodify cycle"

# alice may bind but may not write certificates.
printf 'alicepw' > "$work/alice.pw"
chmod 600 "$work/alice.pw"
ldappasswd -x -H "$SLAPD_URI" -D "$SLAPD_ADMIN_DN" -y "$SLAPD_ADMIN_PW_FILE" \
	-s alicepw "uid=alice,$P" >/dev/null || fail "ldappasswd alice"

# --- helpers -----------------------------------------------------------------
SVC="--base $B --bind-dn $SLAPD_SVC_DN --password-file $SLAPD_SVC_PW_FILE --ca-file $SLAPD_CA_FILE"

probe() { # name args... ; stdout in $work/name.out, stderr in $work/name.err
	name=$1
	shift
	"$PROBE" "$@" > "$work/$name.out" 2> "$work/$name.err"
	echo $? > "$work/$name.rc"
}

expect_ok() { # name
	if [ "$(cat "$work/$1.rc")" != 0 ]; then
		fail "$1: exit $(cat "$work/$1.rc"): $(cat "$work/$1.err")"
	fi
}

expect_err() { # name status text...
	n=$1
	st=$2
	shift 2
	if [ "$(cat "$work/$n.rc")" != 2 ]; then
		fail "$n: expected exit 2, got $(cat "$work/$n.rc"): $(cat "$work/$n.err")"
		return
	fi
	grep -q "^dir-probe: $st: " "$work/$n.err" || fail "$n: expected status $st: $(cat "$work/$n.err")"
	for t in "$@"; do
		grep -qF -- "$t" "$work/$n.err" || fail "$n: message lacks \"$t\": $(cat "$work/$n.err")"
	done
}

expect_dns() { # name expected-uids...
	n=$1
	shift
	: > "$work/$n.want"
	for u in "$@"; do
		echo "uid=$u,$P" >> "$work/$n.want"
	done
	sort "$work/$n.want" -o "$work/$n.want"
	cut -d'|' -f2 "$work/$n.out" | sort > "$work/$n.got"
	if ! cmp -s "$work/$n.want" "$work/$n.got"; then
		fail "$n: member set differs (want vs got):"
		diff "$work/$n.want" "$work/$n.got" >&2
	fi
}

TOP_EXPECT="alice bob carol dave erin frank grace joerg mallory"

# --- group expansion over every transport --------------------------------------
probe starttls --uri "$SLAPD_URI" --starttls required $SVC members "cn=top,$G"
expect_ok starttls
expect_dns starttls $TOP_EXPECT

probe ldaps --uri "$SLAPD_LDAPS_URI" $SVC members "cn=top,$G"
expect_ok ldaps
expect_dns ldaps $TOP_EXPECT

probe external --uri "$SLAPD_LDAPI_URI" --starttls off --sasl EXTERNAL --base "$B" \
	members "cn=top,$G"
expect_ok external
expect_dns external $TOP_EXPECT

# --- a password in clear text is warned about, whichever bind carries it --------
# Over ldap:// without StartTLS a simple bind and SASL PLAIN both put the
# password on the wire as it is; the warning comes before the bind, whatever
# slapd then answers (this slapd offers no PLAIN, so that bind fails).
probe clear-simple --uri "$SLAPD_URI" --starttls off $SVC members "cn=top,$G"
probe clear-plain --uri "$SLAPD_URI" --starttls off --sasl PLAIN $SVC members "cn=top,$G"
probe tls-plain --uri "$SLAPD_URI" --starttls required --sasl PLAIN $SVC members "cn=top,$G"
grep -q "starttls = off: the simple bind sends the password of $SLAPD_SVC_DN in clear text" \
	"$work/clear-simple.err" || fail "no clear-text warning for a simple bind: $(cat "$work/clear-simple.err")"
grep -q "starttls = off: the SASL PLAIN bind sends the password of $SLAPD_SVC_DN in clear text, readable by anyone on the network path; set starttls = required or use ldaps://" \
	"$work/clear-plain.err" || fail "no clear-text warning for SASL PLAIN: $(cat "$work/clear-plain.err")"
! grep -q "clear text" "$work/tls-plain.err" || fail "SASL PLAIN inside StartTLS was warned about"
! grep -q "clear text" "$work/external.err" || fail "SASL EXTERNAL over ldapi was warned about"

# --- alternative addresses are bounded per person ---------------------------------
# hoarder holds 41 mail values (40 beyond the primary), more than a
# certificate may name: reported with the count, not certified in part.
# trim holds 32 alternatives, exactly the limit; wide 25 long ones, over 4 KiB.
{
	printf 'dn: uid=hoarder,%s\nobjectClass: inetOrgPerson\nuid: hoarder\ncn: Hoarder\nsn: H\nmail: hoarder@example.org\n' "$P"
	i=1
	while [ $i -le 40 ]; do printf 'mail: hoarder%02d@example.org\n' $i; i=$((i + 1)); done
	printf '\ndn: uid=trim,%s\nobjectClass: inetOrgPerson\nuid: trim\ncn: Trim\nsn: T\nmail: trim@example.org\n' "$P"
	i=1
	while [ $i -le 32 ]; do printf 'mail: trim%02d@example.org\n' $i; i=$((i + 1)); done
	# 25 addresses of 200 bytes: within the count, over the 4 KiB.
	label=$(printf '%060d' 0)
	printf '\ndn: uid=wide,%s\nobjectClass: inetOrgPerson\nuid: wide\ncn: Wide\nsn: W\nmail: wide@example.org\n' "$P"
	i=1
	while [ $i -le 25 ]; do printf 'mail: w%02d@a%s.b%s.c%s.example.org\n' $i "$label" "$label" "$label"; i=$((i + 1)); done
	printf '\n'
	group hoard "uid=hoarder,$P" "uid=trim,$P" "uid=wide,$P"
} > "$work/hoard.ldif"
ldapadd -x -H "$SLAPD_URI" -D "$SLAPD_ADMIN_DN" -y "$SLAPD_ADMIN_PW_FILE" \
	-f "$work/hoard.ldif" >/dev/null 2>"$work/hoard-add.err" || fail "ldapadd hoard: $(cat "$work/hoard-add.err")"
probe hoard --uri "$SLAPD_URI" --starttls required $SVC members-full "cn=hoard,$G"
expect_ok hoard
l=$(grep "|uid=hoarder,$P|" "$work/hoard.out")
echo "$l" | grep -q '|40 alternative addresses in mail, more than a certificate may name (32, or 4096 bytes in all); remove the unused ones$' ||
	fail "hoarder: no per-person error with the count: $l"
grep -q "uid=hoarder,$P: 40 alternative addresses in mail" "$work/hoard.err" ||
	fail "hoarder: the log does not name the DN and the count: $(cat "$work/hoard.err")"
l=$(grep "|uid=trim,$P|" "$work/hoard.out")
[ "$(echo "$l" | cut -d'|' -f4 | tr ',' '\n' | wc -l)" = 32 ] && [ "$(echo "$l" | cut -d'|' -f9)" = "" ] ||
	fail "trim: 32 alternatives, the limit, should pass: $l"
l=$(grep "|uid=wide,$P|" "$work/hoard.out")
echo "$l" | grep -q '|25 alternative addresses in mail, more than a certificate may name' ||
	fail "wide: 25 long addresses over 4 KiB should be refused: $l"

# Field by field: ids, mail, names, problems.
line() { grep "|uid=$2,$P|" "$work/$1.out"; }
l=$(line starttls alice)
echo "$l" | grep -Eq '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\|' ||
	fail "alice has no entryUUID id: $l"
[ "$(echo "$l" | cut -d'|' -f3-)" = "alice@example.org|alice Example|" ] || fail "alice line: $l"
l=$(line starttls joerg)
[ "$(echo "$l" | cut -d'|' -f3-)" = "$(printf 'joerg@example.org|J\303\266rg M\303\274ller|')" ] ||
	fail "joerg line (UTF-8 name): $l"
l=$(line starttls frank)
[ "$(echo "$l" | cut -d'|' -f3-)" = "|Frank Nomail|no mail attribute" ] || fail "frank line: $l"
l=$(line starttls mallory)
[ "$(echo "$l" | cut -d'|' -f3-)" = '|Mallory Inject|mail value "a*)(uid=*" is not a valid address' ] ||
	fail "mallory line: $l"
[ "$(grep -c . "$work/starttls.out")" = 9 ] || fail "top: expected 9 lines, got $(grep -c . "$work/starttls.out")"
cmp -s "$work/starttls.out" "$work/ldaps.out" || fail "StartTLS and LDAPS results differ"

# The injection attempt widened nothing: no filter the server saw carries it.
if grep 'filter=' "$SLAPD_LOG" | grep -qF 'uid=*'; then
	fail "a filter with data from the directory reached the server:"
	grep 'filter=' "$SLAPD_LOG" | grep -F 'uid=*' >&2
fi

# --- paging: a group big enough for the subtree scan, page size 2 ----------------
BIG_EXPECT="dave joerg heidi"
i=1
while [ $i -le 60 ]; do
	BIG_EXPECT="$BIG_EXPECT $(printf 'big%03d' $i)"
	i=$((i + 1))
done
before=$(grep -c 'SRCH base="dc=example,dc=org" scope=2' "$SLAPD_LOG")
probe paged --uri "$SLAPD_URI" $SVC --page-size 2 --scan-threshold 50 members "cn=big,$G"
expect_ok paged
expect_dns paged $BIG_EXPECT
after=$(grep -c 'SRCH base="dc=example,dc=org" scope=2' "$SLAPD_LOG")
# 70+ people in pages of 2: dozens of subtree searches, not one.
[ $((after - before)) -ge 30 ] || fail "paged: expected >= 30 paged subtree searches, saw $((after - before))"

probe bigpage --uri "$SLAPD_URI" $SVC --page-size 500 --scan-threshold 50 members "cn=big,$G"
expect_ok bigpage
cmp -s "$work/paged.out" "$work/bigpage.out" || fail "page size 2 and 500 give different results"
# The same group read member by member, pipelined: no subtree search at all.
before=$(grep -c 'SRCH base="dc=example,dc=org" scope=2' "$SLAPD_LOG")
probe bydn --uri "$SLAPD_URI" $SVC members "cn=big,$G"
after=$(grep -c 'SRCH base="dc=example,dc=org" scope=2' "$SLAPD_LOG")
[ "$after" = "$before" ] || fail "bydn: $((after - before)) subtree searches for a group under scan_threshold"
expect_ok bydn
cmp -s "$work/paged.out" "$work/bydn.out" || fail "read by DN and scanned give different results"

# --- configuration and connection errors -------------------------------------------
probe nogroup --uri "$SLAPD_URI" $SVC members "cn=nope,$G"
expect_err nogroup bad-config "group cn=nope,$G does not exist under $B" "check group_dn"

probe notgroup --uri "$SLAPD_URI" $SVC members "cn=notagroup,$G"
expect_err notgroup bad-config "is not a group"

probe nobase --uri "$SLAPD_URI" --base "dc=nope,dc=org" --bind-dn "$SLAPD_SVC_DN" \
	--password-file "$SLAPD_SVC_PW_FILE" --ca-file "$SLAPD_CA_FILE" members "cn=top,$G"
expect_err nobase bad-config "base_dn dc=nope,dc=org" "check base_dn"

printf 'wrong-password' > "$work/bad.pw"
chmod 600 "$work/bad.pw"
probe badpw --uri "$SLAPD_URI" --base "$B" --bind-dn "$SLAPD_SVC_DN" --password-file "$work/bad.pw" \
	--ca-file "$SLAPD_CA_FILE" members "cn=top,$G"
expect_err badpw auth-failed "$SLAPD_URI" "$SLAPD_SVC_DN" "Invalid credentials" "bind_dn"

# A CA that did not sign the server certificate.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/other.key" \
	-out "$work/other-ca.pem" -days 2 -subj "/CN=some other CA" >/dev/null 2>&1 ||
	fail "openssl: other CA"
probe badca_starttls --uri "$SLAPD_URI" --base "$B" --bind-dn "$SLAPD_SVC_DN" \
	--password-file "$SLAPD_SVC_PW_FILE" --ca-file "$work/other-ca.pem" members "cn=top,$G"
expect_err badca_starttls unreachable "$SLAPD_URI" "StartTLS" "TLS handshake failed" "tls_ca_file"
probe badca_ldaps --uri "$SLAPD_LDAPS_URI" --base "$B" --bind-dn "$SLAPD_SVC_DN" \
	--password-file "$SLAPD_SVC_PW_FILE" --ca-file "$work/other-ca.pem" members "cn=top,$G"
expect_err badca_ldaps unreachable "$SLAPD_LDAPS_URI" "TLS handshake failed" "tls_ca_file"

# tls_verify = no accepts any certificate (and logs a loud warning).
probe noverify --uri "$SLAPD_LDAPS_URI" --base "$B" --bind-dn "$SLAPD_SVC_DN" \
	--password-file "$SLAPD_SVC_PW_FILE" --ca-file "$work/other-ca.pem" --no-verify \
	members "cn=top,$G"
expect_ok noverify
expect_dns noverify $TOP_EXPECT
grep -q "tls_verify = no" "$work/noverify.err" || fail "noverify: no warning: $(cat "$work/noverify.err")"

# Nothing listens there (slapd holds its own two ports; this one we just freed).
port=$(slapd_random_port)
probe down --uri "ldap://127.0.0.1:$port" --starttls off --base "$B" members "cn=top,$G"
expect_err down unreachable "ldap://127.0.0.1:$port" "Can't contact LDAP server"
# Nobody there is not a TLS problem: with StartTLS and with ldaps:// the
# message says the connection was refused, and names no certificate.
probe down_starttls --uri "ldap://127.0.0.1:$port" --base "$B" --bind-dn "$SLAPD_SVC_DN" \
	--password-file "$SLAPD_SVC_PW_FILE" --ca-file "$SLAPD_CA_FILE" members "cn=top,$G"
expect_err down_starttls unreachable "port $port: Connection refused" "this is not a TLS or certificate problem"
probe down_ldaps --uri "ldaps://127.0.0.1:$port" --base "$B" --bind-dn "$SLAPD_SVC_DN" \
	--password-file "$SLAPD_SVC_PW_FILE" --ca-file "$SLAPD_CA_FILE" members "cn=top,$G"
expect_err down_ldaps unreachable "port $port: Connection refused" "this is not a TLS or certificate problem"
for n in down_starttls down_ldaps; do
	! grep -qiE 'handshake|tls_ca_file|certificate names' "$work/$n.err" ||
		fail "$n: a refused connection is worded as a TLS problem: $(cat "$work/$n.err")"
done

# --- publishing -----------------------------------------------------------------------
mkcert() { # name
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$work/$1.key" -out "$work/$1.pem" -days 2 \
		-subj "/CN=$1" >/dev/null 2>&1 &&
	openssl x509 -in "$work/$1.pem" -outform DER -out "$work/$1.der"
}
mkcert ours || fail "openssl: ours"
mkcert foreign || fail "openssl: foreign"
openssl crl2pkcs7 -nocrl -certfile "$work/ours.pem" -outform DER -out "$work/ours.p7" ||
	fail "openssl: crl2pkcs7"
sum() { sha256sum "$1" | cut -d' ' -f1; }
OURS=$(sum "$work/ours.der")
FOREIGN=$(sum "$work/foreign.der")
P7=$(sum "$work/ours.p7")
ALICE=uid=alice,$P

# Another CA's certificate, put there by someone else.
cat > "$work/foreign.ldif" <<EOF
dn: $ALICE
changetype: modify
add: userCertificate;binary
userCertificate;binary:< file://$work/foreign.der
EOF
ldapmodify -x -H "$SLAPD_URI" -D "$SLAPD_ADMIN_DN" -y "$SLAPD_ADMIN_PW_FILE" \
	-f "$work/foreign.ldif" >/dev/null || fail "ldapmodify foreign cert"

# What the server holds, read independently of our code: sorted sha256 sums.
server_sums() { # attr
	ldapsearch -LLL -o ldif-wrap=no -x -H "$SLAPD_URI" -b "$ALICE" -s base "(objectClass=*)" "$1" |
		sed -n "s/^$1:: //p" | while read -r v; do
			printf '%s' "$v" | base64 -d | sha256sum | cut -d' ' -f1
		done | sort | tr '\n' ' '
}
want_sums() { for s in "$@"; do echo "$s"; done | sort | tr '\n' ' '; }

PUB="--uri $SLAPD_URI $SVC"
probe add1 $PUB add-cert "$ALICE" "$work/ours.der"
expect_ok add1
probe add2 $PUB add-cert "$ALICE" "$work/ours.der"
expect_ok add2
[ "$(server_sums 'userCertificate;binary')" = "$(want_sums "$OURS" "$FOREIGN")" ] ||
	fail "after add: server holds $(server_sums 'userCertificate;binary')"
probe read1 $PUB read-certs "$ALICE"
expect_ok read1
[ "$(sort "$work/read1.out" | tr '\n' ' ')" = "$(want_sums "userCertificate $OURS" "userCertificate $FOREIGN")" ] ||
	fail "read-certs after add: $(cat "$work/read1.out")"

# Another CA's userSMIMECertificate too. OpenLDAP has no equality rule for
# it, so adding a value next to an existing one must not be a plain add.
openssl crl2pkcs7 -nocrl -certfile "$work/foreign.pem" -outform DER -out "$work/foreign.p7" ||
	fail "openssl: crl2pkcs7 foreign"
FOREIGN_P7=$(sum "$work/foreign.p7")
cat > "$work/foreign-p7.ldif" <<EOF
dn: $ALICE
changetype: modify
add: userSMIMECertificate
userSMIMECertificate:< file://$work/foreign.p7
EOF
ldapmodify -x -H "$SLAPD_URI" -D "$SLAPD_ADMIN_DN" -y "$SLAPD_ADMIN_PW_FILE" \
	-f "$work/foreign-p7.ldif" >/dev/null || fail "ldapmodify foreign userSMIMECertificate"

probe addp7 $PUB add-smime "$ALICE" "$work/ours.p7"
expect_ok addp7
probe addp7b $PUB add-smime "$ALICE" "$work/ours.p7"
expect_ok addp7b
[ "$(server_sums userSMIMECertificate)" = "$(want_sums "$P7" "$FOREIGN_P7")" ] ||
	fail "after add-smime: server holds $(server_sums userSMIMECertificate)"

probe del1 $PUB del-cert "$ALICE" "$work/ours.der"
expect_ok del1
probe del2 $PUB del-cert "$ALICE" "$work/ours.der"
expect_ok del2
[ "$(server_sums 'userCertificate;binary')" = "$(want_sums "$FOREIGN")" ] ||
	fail "after delete: foreign certificate must stay alone, server holds $(server_sums 'userCertificate;binary')"
probe delp7 $PUB del-smime "$ALICE" "$work/ours.p7"
expect_ok delp7
probe delp7b $PUB del-smime "$ALICE" "$work/ours.p7"
expect_ok delp7b
[ "$(server_sums userSMIMECertificate)" = "$(want_sums "$FOREIGN_P7")" ] ||
	fail "after del-smime: the foreign value must stay alone, server holds $(server_sums userSMIMECertificate)"
probe read2 $PUB read-certs "$ALICE"
expect_ok read2
[ "$(sort "$work/read2.out" | tr '\n' ' ')" = "$(want_sums "userCertificate $FOREIGN" "userSMIMECertificate $FOREIGN_P7")" ] ||
	fail "read-certs after delete: $(cat "$work/read2.out")"

# A bind without write access gets told what to grant.
probe noaccess --uri "$SLAPD_URI" --base "$B" --bind-dn "$ALICE" --password-file "$work/alice.pw" \
	--ca-file "$SLAPD_CA_FILE" add-cert "$ALICE" "$work/ours.der"
expect_err noaccess failed "$ALICE" "Insufficient access" \
	"needs write access to userCertificate and userSMIMECertificate"
[ "$(server_sums 'userCertificate;binary')" = "$(want_sums "$FOREIGN")" ] || fail "noaccess changed the entry"

probe readmissing $PUB read-certs "uid=nobody,$P"
expect_err readmissing failed "uid=nobody,$P" "does not exist"

# --- who holds an address (I5): the whole base, escaped, without case ------
probe holders $PUB holders alice@example.org
expect_ok holders
[ "$(cat "$work/holders.out")" = "uid=alice,$P|" ] || fail "holders of alice@example.org: $(cat "$work/holders.out")"
probe holders-case $PUB holders J.Mueller@Example.ORG
expect_ok holders-case
[ "$(cat "$work/holders-case.out")" = "uid=joerg,$P|" ] ||
	fail "holders of a second mail value, in another case: $(cat "$work/holders-case.out")"
probe holders-star $PUB holders '*'
expect_ok holders-star
[ ! -s "$work/holders-star.out" ] || fail "holders of \"*\" (a wildcard if unescaped): $(head -3 "$work/holders-star.out")"
probe holders-inject $PUB holders 'nobody@example.org)(objectClass=*'
expect_ok holders-inject
[ ! -s "$work/holders-inject.out" ] || fail "holders of a value that closes the filter: $(head -3 "$work/holders-inject.out")"
probe holders-none $PUB holders nobody@example.org
expect_ok holders-none
[ ! -s "$work/holders-none.out" ] || fail "holders of an address nobody has: $(cat "$work/holders-none.out")"

# --- one person looked up alone (dir_read_person) ---------------------------------
# The person line must be the line members-full prints for them, each "in"
# what that group's read would say.
LOOK="--uri $SLAPD_URI --starttls required $SVC"
probe lk-top $LOOK members-full "cn=top,$G"
expect_ok lk-top
line_in() { grep "|$2|" "$work/$1.out"; } # the members-full line of a DN
person_is() { # name members-full-name dn "in lines": the person is that line, then those
	want=$(line_in "$2" "$3")
	[ -n "$want" ] || { fail "$1: $3 is not in $2"; return; }
	[ "$(sed -n 1p "$work/$1.out")" = "$want" ] || fail "$1: person line differs: $(sed -n 1p "$work/$1.out") vs $want"
	[ "$(sed -n '2,$p' "$work/$1.out" | tr '\n' ' ')" = "$4" ] || fail "$1: memberships: $(sed -n '2,$p' "$work/$1.out" | tr '\n' ' ')"
}
probe lk-dave $LOOK person "uid=dave,$P" "cn=top,$G" "cn=level1,$G" "cn=cycle-a,$G"
expect_ok lk-dave
person_is lk-dave lk-top "uid=dave,$P" "in cn=top,$G yes in cn=level1,$G yes in cn=cycle-a,$G no "
probe lk-frank $LOOK person "uid=frank,$P" "cn=cycle-a,$G" "cn=top,$G" "cn=level3,$G"
expect_ok lk-frank
person_is lk-frank lk-top "uid=frank,$P" "in cn=cycle-a,$G yes in cn=top,$G yes in cn=level3,$G no "
probe lk-zed $LOOK person "uid=zed,$P" "cn=top,$G" "cn=big,$G"
expect_ok lk-zed
grep -q "^[^|]*|uid=zed,$P|zed@example.org|" "$work/lk-zed.out" && [ "$(sed -n '2,$p' "$work/lk-zed.out" | tr '\n' ' ')" = "in cn=top,$G no in cn=big,$G no " ] ||
	fail "lk-zed: a person of no group: $(cat "$work/lk-zed.out")"
# base_dn = ou=people, the groups under ou=groups beside it.
probe lk-ptop --uri "$SLAPD_URI" --starttls required $SVC --base "$P" members-full "cn=top,$G"
expect_ok lk-ptop
probe lk-pcarol --uri "$SLAPD_URI" --starttls required $SVC --base "$P" person "uid=carol,$P" "cn=top,$G" "cn=level2,$G" "cn=uniq,$G"
expect_ok lk-pcarol
person_is lk-pcarol lk-ptop "uid=carol,$P" "in cn=top,$G yes in cn=level2,$G yes in cn=uniq,$G no "
# Not a person: no such entry, another objectClass, a group, not matching user_filter.
for x in "missing uid=nobody,$P" "printer cn=printer,ou=services,$B" "group cn=level3,$G"; do
	probe "lk-${x%% *}" $LOOK person "${x#* }" "cn=top,$G"
	expect_ok "lk-${x%% *}"
	[ "$(cat "$work/lk-${x%% *}.out")" = "not found" ] || fail "lk-${x%% *}: ${x#* } was found: $(cat "$work/lk-${x%% *}.out")"
done
probe lk-bob $LOOK person "uid=bob,$P" "cn=top,$G"
probe lk-nobob $LOOK --user-filter "(&(objectClass=inetOrgPerson)(!(uid=bob)))" person "uid=bob,$P" "cn=top,$G"
expect_ok lk-nobob
grep -q "^in cn=top,$G yes$" "$work/lk-bob.out" && [ "$(cat "$work/lk-nobob.out")" = "not found" ] ||
	fail "user_filter: bob found $(cat "$work/lk-bob.out"), and with a filter leaving him out: $(cat "$work/lk-nobob.out")"
# A member deleted: found before, not found after.
printf 'dn: uid=temp,%s\nchangetype: add\nobjectClass: inetOrgPerson\nuid: temp\ncn: Temp\nsn: temp\nmail: temp@example.org\n\ndn: cn=level3,%s\nchangetype: modify\nadd: member\nmember: uid=temp,%s\n' \
	"$P" "$G" "$P" | ldapmodify -x -H "$SLAPD_URI" -D "$SLAPD_ADMIN_DN" -y "$SLAPD_ADMIN_PW_FILE" >/dev/null || fail "adding temp"
probe lk-temp $LOOK person "uid=temp,$P" "cn=top,$G"
ldapdelete -x -H "$SLAPD_URI" -D "$SLAPD_ADMIN_DN" -y "$SLAPD_ADMIN_PW_FILE" "uid=temp,$P" || fail "deleting temp"
probe lk-gone $LOOK person "uid=temp,$P" "cn=top,$G"
expect_ok lk-gone
grep -q "^in cn=top,$G yes$" "$work/lk-temp.out" && [ "$(cat "$work/lk-gone.out")" = "not found" ] ||
	fail "a deleted member: before $(cat "$work/lk-temp.out"), after $(cat "$work/lk-gone.out")"

if [ $failures -ne 0 ]; then
	echo "$failures check(s) failed; slapd log: $SLAPD_LOG" >&2
	exit 1
fi
echo "directory_ldap: all checks passed"
exit 0
