#!/bin/sh
# SPDX-License-Identifier: ISC
# Group expansion on a server that keeps memberOf (slapd's memberof overlay),
# issue #17 item 6: a large group's people are read with one memberOf search
# instead of one read per DN, and the answer is the same as reading every
# member by DN would give, whatever memberOf says:
#   - 200 people listed by the group, 180 carrying memberOf (kept by the
#     overlay), 20 loaded before it (no memberOf: read by DN);
#   - a person whose memberOf names the group although the group does not
#     list them (stale): not a member;
#   - people outside base_dn and a nested group: read by DN, the nested
#     group expanded (its people found through memberOf too when many);
#   - on a server without memberOf the same members come back, by DN;
#   - the debug log says how many came through memberOf.
set -u

: "${top_srcdir:?run from make check}" "${top_builddir:?run from make check}"
. "$top_srcdir/tests/tools/slapd-lib.sh"
slapd_require

PROBE=$top_builddir/tests/tools/dir-probe
[ -x "$PROBE" ] || { echo "FAIL: $PROBE is not built (make check builds it)" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/smimesync-memberof.XXXXXX") || exit 1
trap 'slapd_stop; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
trap 'exit 1' INT TERM

failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
check() { if eval "$1"; then echo "ok: $2"; else fail "$2"; fi; }

B=dc=example,dc=org
P=ou=people,$B
G=ou=groups,$B
big=cn=big,$G
nested=cn=nested,$G
# The LDIF is loaded with slapadd, which bypasses overlays: memberOf is
# written where the overlay would have kept it, and left out where people
# joined before it was configured.
gen() {
	printf 'dn: ou=outside,%s\nobjectClass: organizationalUnit\nou: outside\n\n' "$B"
	i=1
	while [ $i -le 200 ]; do
		printf 'dn: uid=p%03d,%s\nobjectClass: inetOrgPerson\nuid: p%03d\ncn: P %03d\nsn: p\nmail: p%03d@example.org\n' \
			$i "$P" $i $i $i
		[ $i -le 180 ] && printf 'memberOf: %s\n' "$big"
		printf '\n'
		i=$((i + 1))
	done
	i=1
	while [ $i -le 70 ]; do
		printf 'dn: uid=n%03d,%s\nobjectClass: inetOrgPerson\nuid: n%03d\ncn: N %03d\nsn: n\nmail: n%03d@example.org\nmemberOf: %s\n\n' \
			$i "$P" $i $i $i "$nested"
		i=$((i + 1))
	done
	printf 'dn: uid=stale,%s\nobjectClass: inetOrgPerson\nuid: stale\ncn: Stale\nsn: s\nmail: stale@example.org\nmemberOf: %s\n\n' "$P" "$big"
	printf 'dn: uid=out1,ou=outside,%s\nobjectClass: inetOrgPerson\nuid: out1\ncn: Out\nsn: o\nmail: out1@example.org\nmemberOf: %s\n\n' "$B" "$big"
	printf 'dn: %s\nobjectClass: groupOfNames\ncn: nested\n' "$nested"
	i=1
	while [ $i -le 70 ]; do printf 'member: uid=n%03d,%s\n' $i "$P"; i=$((i + 1)); done
	printf 'memberOf: %s\n\n' "$big"
	printf 'dn: %s\nobjectClass: groupOfNames\ncn: big\n' "$big"
	i=1
	while [ $i -le 200 ]; do printf 'member: uid=p%03d,%s\n' $i "$P"; i=$((i + 1)); done
	printf 'member: uid=out1,ou=outside,%s\nmember: %s\nmember: uid=ghost,%s\n\n' "$B" "$nested" "$P"
}
gen >"$work/data.ldif"

expand() { # name: members of big as seen through --base ou=people
	"$PROBE" --debug --uri "$SLAPD_URI" --base "$P" --bind-dn "$SLAPD_SVC_DN" \
		--password-file "$SLAPD_SVC_PW_FILE" --ca-file "$SLAPD_CA_FILE" members "$big" \
		>"$work/$1.out" 2>"$work/$1.err" || { cat "$work/$1.err" >&2; fail "dir-probe members ($1)"; }
	cut -d'|' -f2,3 "$work/$1.out" | LC_ALL=C sort >"$work/$1.got"
}
{
	i=1
	while [ $i -le 200 ]; do printf 'uid=p%03d,%s|p%03d@example.org\n' $i "$P" $i; i=$((i + 1)); done
	i=1
	while [ $i -le 70 ]; do printf 'uid=n%03d,%s|n%03d@example.org\n' $i "$P" $i; i=$((i + 1)); done
	printf 'uid=out1,ou=outside,%s|out1@example.org\n' "$B"
} | LC_ALL=C sort >"$work/want"

SLAPD_OVERLAYS=memberof
export SLAPD_OVERLAYS
mkdir -p "$work/slapd"
slapd_start_with_ldif "$work/slapd" "$work/data.ldif"
expand kept
check 'cmp -s "$work/kept.got" "$work/want"' \
	"memberOf kept: the 271 people of big and nested, none of the stale, the one outside base_dn too"
cmp -s "$work/kept.got" "$work/want" || diff "$work/want" "$work/kept.got" | head >&2
check 'grep -q "the server keeps memberOf on group members" "$work/kept.err"' "memberOf is recognised from a sample of members read by DN"
n=$(sed -n 's/.*group cn=big,[^:]*: 271 people (\([0-9]*\) found through memberOf).*/\1/p' "$work/kept.err")
check '[ -n "$n" ] && [ "$n" -ge 200 ] && [ "$n" -le 250 ]' \
	"most of them ($n) came through memberOf searches, the rest (no memberOf, outside base_dn, the sample) by DN"
slapd_stop

# The same directory on a server that keeps no memberOf: the same members, by DN.
SLAPD_OVERLAYS=
grep -v '^memberOf: ' "$work/data.ldif" >"$work/plain.ldif"
mkdir -p "$work/slapd2"
slapd_start_with_ldif "$work/slapd2" "$work/plain.ldif"
expand plain
check 'cmp -s "$work/plain.got" "$work/want"' "without memberOf: the same 271 people"
check 'grep -q "does not keep memberOf" "$work/plain.err" && grep -q "271 people (0 found through memberOf)" "$work/plain.err"' \
	"... read by DN, the server known not to keep memberOf"

if [ "$failures" -gt 0 ]; then
	echo "$failures check(s) failed" >&2
	KEEP=1
	exit 1
fi
echo "all checks passed"
