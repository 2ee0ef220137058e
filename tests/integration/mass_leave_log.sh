#!/bin/sh
# SPDX-License-Identifier: ISC
# A mass leave stays readable in the log (issue #18): 30 of 40 people leave
# a group with on_leave = revoke and no grace; the operator opens the
# valve with --allow-mass-retire. At info level the log names at most
# ENGINE_PERSON_LINES (20) single people and then says how many lines went
# to the debug level; the report still lists every leaver, and from
# outside the directory holds exactly the ten certificates of those who
# stayed.
set -eu
: "${top_srcdir:?}" "${top_builddir:?}" "${SMIMESYNC:?}"
. "$top_srcdir/tests/tools/slapd-lib.sh"
. "$top_srcdir/tests/tools/smtp-lib.sh"
. "$top_srcdir/tests/tools/test-lib.sh"
. "$top_srcdir/tests/tools/smimesync-lib.sh"
slapd_require
smtp_require
command -v jq >/dev/null || { echo "SKIP: jq is not installed (tools/install-deps)"; exit 77; }

test_begin mass-leave-log
/usr/bin/python3 "$top_srcdir/tests/bench/gen-ldif.py" "dc=example,dc=org" 40 1 >"$W/people.ldif"
mkdir -p "$W/slapd"
# gen-ldif.py writes memberOf, which slapadd knows only with the memberof overlay.
SLAPD_OVERLAYS=memberof
export SLAPD_OVERLAYS
slapd_start_with_ldif "$W/slapd" "$W/people.ldif"
smtp_start "$W/smtp"

mkdir -m 700 -p "$W/state" "$W/ca" "$W/offline"
cp "$SLAPD_SVC_PW_FILE" "$W/ldap.secret"
chmod 600 "$W/ldap.secret"
{
	printf '[service]\nstate_dir = %s\nmaster_key_file = %s\nlog_level = info\nmail_domains = example.org\n\n' \
	    "$W/state" "$W/state/master.key"
	smimesync_conf_ldap "$W/ldap.secret"
	echo
	smimesync_conf_local_ca "$W/ca" "$W/ca/issuing.key" "crl_url = http://pki.example.org/smime.crl
organization = Example Org
key_type = p256"
	echo
	smimesync_conf_mail
	cat <<CONF

[group everyone]
directory = corp
group_dn = cn=bench-all,ou=groups,$SLAPD_BASE
ca = internal
key_type = p256
on_leave = revoke
leave_grace = 0s
CONF
} >"$W/smimesync.conf"
export SMIMESYNC_CONF="$W/smimesync.conf"
"$SMIMESYNC" ca init --root-key-out "$W/offline/root.key" >/dev/null

with_cert() {
	ldapsearch -LLL -o ldif-wrap=no -x -H "$SLAPD_URI" -b "ou=people,$SLAPD_BASE" \
	    '(userCertificate;binary=*)' 1.1 | grep -c '^dn:' || true
}

"$SMIMESYNC" run --format json >"$W/first.json" 2>"$W/first.log" || true
check '[ "$(jq -r .counts.issued "$W/first.json")" = 40 ] && [ "$(with_cert)" = 40 ]' \
	"40 people hold a published certificate"

# Thirty leave in one change.
{
	printf 'dn: cn=bench-all,ou=groups,%s\nchangetype: modify\ndelete: member\n' "$SLAPD_BASE"
	i=11
	while [ "$i" -le 40 ]; do
		printf 'member: uid=u%06d,ou=people,%s\n' "$i" "$SLAPD_BASE"
		i=$((i + 1))
	done
} | ldapmodify -x -H "$SLAPD_URI" -D "$SLAPD_ADMIN_DN" -y "$SLAPD_ADMIN_PW_FILE" >/dev/null

rc=0
"$SMIMESYNC" run --allow-mass-retire --format json >"$W/leave.json" 2>"$W/leave.log" || rc=$?
check '[ "$(jq -r .counts.revoked "$W/leave.json")" = 30 ] && [ "$(with_cert)" = 10 ]' \
	"30 revoked, and only the ten who stayed are in the directory"
check '[ "$(jq "[.users[] | select(.action == \"retire\")] | length" "$W/leave.json")" = 30 ]' \
	"the report lists every one of the 30 leavers"
people=$(grep -c ' left: \| revoked serial ' "$W/leave.log" || true)
check '[ "$people" -le 20 ]' "at most 20 lines about single people at info level (there were $people)"
check 'grep -q "40 more lines about single people went to the debug level" "$W/leave.log"' \
	"the log says how many lines went to the debug level (60 in all: 'left' and 'revoked' for each)"
check '[ "$rc" = 0 ] && [ "$(jq -r .status "$W/leave.json")" = ok ]' \
	"the valve opened on purpose is not an error: status ok, exit 0 (got $rc)"
check 'jq -e "[.notices[] | select(test(\"mass retirement allowed by --allow-mass-retire: 30 of 40\"))] | length == 1" "$W/leave.json" >/dev/null' \
	"the report carries the notice"
check '[ "$(tail -n 1 "$W/leave.log" | grep -c "run finished: ok")" = 1 ]' "the last line sums the run up"
[ "$fails" -eq 0 ] || { echo "# the log of the leave:"; sed 's/^/# /' "$W/leave.log"; }
test_end
