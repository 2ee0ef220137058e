#!/bin/sh
# SPDX-License-Identifier: ISC
# What a helpdesk and an auditor ask, answered from outside, against a real
# slapd and an SMTP sink that refuses one recipient for now (451):
#   - status USER shows every certificate with its state and where it is
#     published, every mail with its time and the queue id the mail server
#     gave (the sink's own record must say the same id), why a member is
#     skipped, and the next planned action with its date;
#   - resend says, per mail, that the server took it (with its queue id),
#     or why not and when it is tried again; another person's deferred
#     mail in the same delivery is not this person's failure;
#   - revoke records the reason by name, and audit says who ran it: the
#     invoking user and, under sudo, SUDO_USER.
set -eu
: "${top_srcdir:?}" "${top_builddir:?}" "${SMIMESYNC:?}"
. "$top_srcdir/tests/tools/slapd-lib.sh"
. "$top_srcdir/tests/tools/smtp-lib.sh"
. "$top_srcdir/tests/tools/smimesync-lib.sh"
. "$top_srcdir/tests/tools/test-lib.sh"
slapd_require
smtp_require
command -v jq >/dev/null || { echo "SKIP: jq is not installed (tools/install-deps)"; exit 77; }

test_begin helpdesk
test_org_servers --reject frank@example.org=451
smimesync_write_config "$W" p256 p256
"$SMIMESYNC" ca init --root-key-out "$ROOT_KEY_OUT" >/dev/null
# resend hands a private key out again: it needs the operator's recovery
# credential, which ca init wrote.
CRED=$W/recovery.credential
rc=0
"$SMIMESYNC" run --format json >"$W/run1.json" 2>"$W/run1.log" || rc=$?
check '[ "$rc" = 3 ] && [ "$(jq -r .counts.issued "$W/run1.json")" -gt 20 ]' \
	"first run issues everyone; frank's mails are deferred (exit $rc)"

# The sink's own record of alice's collection mail: its queue id.
sink_qid() { # RCPT KIND(pkcs12|password)
	for j in "$SMTP_DIR"/*.json; do
		jq -e --arg r "$1" '.rcpt_tos == [$r]' "$j" >/dev/null || continue
		if grep -q 'application/pkcs12' "${j%.json}.eml"; then k=pkcs12; else k=password; fi
		[ "$k" = "$2" ] && jq -r .queue_id "$j"
	done | tail -n 1
}
qid=$(sink_qid alice@example.org pkcs12)
check '[ -n "$qid" ]' "the sink recorded alice's collection mail as $qid"

# --- status USER: the helpdesk view ------------------------------------------------
"$SMIMESYNC" status alice@example.org >"$W/alice.txt"
check 'grep -q "^alice@example.org - " "$W/alice.txt"' "status USER names the person"
check 'grep -A1 "  collection" "$W/alice.txt" | grep -q "accepted by the mail server, queue id $qid (\"250 2.0.0 Ok: queued as $qid\")"' \
	"status USER shows the collection mail with the server's queue id $qid"
check 'grep -q "published in \[directory corp\]" "$W/alice.txt"' "status USER says where the certificate is published"
"$SMIMESYNC" status alice@example.org --format json >"$W/alice.json"
na=$(jq -r '.certificates[0].not_after' "$W/alice.json")
renew=$(date -u -d "$na - 15 days" '+%Y-%m-%d %H:%M UTC')
check 'grep -q "next: .*automatic renewal on $renew" "$W/alice.txt"' "the next action is the renewal on $renew (not_after - renew_before)"
check '[ "$(jq -r "[.mails[] | select(.kind == \"collection\")][0].queue_id" "$W/alice.json")" = "$qid" ]' \
	"status USER --format json carries the queue id"
check '[ "$(jq -r ".certificates[0].state" "$W/alice.json")" = valid ] && [ "$(jq -r ".certificates[0].published" "$W/alice.json")" = true ]' \
	"json: the certificate is valid and published"
# The certificate status shows is the one in the directory.
dserial=$(ldapsearch -LLL -o ldif-wrap=no -x -H "$SLAPD_URI" -b "$SLAPD_BASE" "(mail=alice@example.org)" 'userCertificate;binary' |
	sed -n 's/^userCertificate;binary:: //p' | base64 -d | openssl x509 -inform DER -noout -serial | cut -d= -f2)
check '[ "$(jq -r ".certificates[0].serial" "$W/alice.json")" = "$dserial" ]' "its serial is the one ldapsearch finds ($dserial)"

# A member without mail: why skipped.
"$SMIMESYNC" status "uid=nomail,ou=people,$SLAPD_BASE" >"$W/nomail.txt"
check 'grep -q "last run:  .*: skip (.*mail" "$W/nomail.txt" && grep -q "^Certificates (0)" "$W/nomail.txt"' \
	"status of a member without mail says why the last run skipped them"

# frank: deferred, with the server's reason and the next try.
"$SMIMESYNC" status frank@example.org >"$W/frank.txt"
check 'grep -A1 "  collection" "$W/frank.txt" | grep -q "queued: attempt 1 of 10 failed (.*451.*); next try after"' \
	"status USER shows a deferred mail with the server's 451 and the next try"
check 'grep -A1 "  password" "$W/frank.txt" | grep -q "waits until its certificate mail is accepted"' \
	"the withheld password mail says why"

# --- resend -------------------------------------------------------------------------------
before=$(smtp_count)
rc=0
"$SMIMESYNC" resend alice@example.org --credential "$CRED" >"$W/resend.out" 2>"$W/resend.err" || rc=$?
qid2=$(sink_qid alice@example.org pkcs12)
check '[ "$rc" = 0 ] && [ "$(smtp_count)" = $((before + 2)) ]' "resend alice: both mails sent, exit 0 (frank's deferral is not hers)"
check 'grep -q "^collection mail to alice@example.org: accepted by the mail server, queue id $qid2" "$W/resend.out" &&
	grep -q "^password mail to alice@example.org: accepted by the mail server, queue id Q" "$W/resend.out"' \
	"resend names the queue id of each mail ($qid2)"
rc=0
"$SMIMESYNC" resend frank@example.org --credential "$CRED" >"$W/resend-frank.out" 2>"$W/resend-frank.err" || rc=$?
check '[ "$rc" = 1 ] && grep -q "collection mail to frank@example.org: queued: attempt 1 of 10 failed (.*refused RCPT TO:<frank@example.org>: 451" "$W/resend-frank.err"' \
	"resend frank: exit 1, and says the server refused RCPT TO with 451"
check 'grep -q "password mail to frank@example.org: queued: waits until its certificate mail is accepted" "$W/resend-frank.err" &&
	grep -q "0 of 2 mails went out" "$W/resend-frank.err"' "resend frank: says why the password mail waits"

# --- revoke: reason by name, who did it ------------------------------------------------------
SUDO_USER=carol "$SMIMESYNC" revoke bob@example.org --reason keyCompromise >"$W/revoke.out"
"$SMIMESYNC" status bob@example.org --format json >"$W/bob.json"
check '[ "$(jq -r ".certificates[0].revocation_reason" "$W/bob.json")" = keyCompromise ]' "status shows the revocation reason by name"
check 'jq -r ".certificates[0].state" "$W/bob.json" | grep -q "^revoked .* (keyCompromise)"' "the state reads \"revoked DATE (keyCompromise)\""
check '"$SMIMESYNC" status bob@example.org | grep -q "next:      a certificate is issued by the next run"' \
	"after a revocation the next action is a new certificate"
"$SMIMESYNC" audit --user bob@example.org --format json >"$W/audit-bob.json"
me=$(id -un)
if [ "$(id -u)" = 0 ]; then want_sudo=carol; else want_sudo=null; fi
check '[ "$(jq -r "[.[] | select(.event == \"certificate-revoked\")][0].detail" "$W/audit-bob.json")" = "serial=$(jq -r ".certificates[0].serial" "$W/bob.json") reason=keyCompromise" ]' \
	"the audit entry names the reason keyCompromise"
check '[ "$(jq -r "[.[] | select(.event == \"certificate-revoked\")][0].actor" "$W/audit-bob.json")" = "$me" ] &&
	[ "$(jq -r "[.[] | select(.event == \"certificate-revoked\")][0].sudo_user" "$W/audit-bob.json")" = "$want_sudo" ]' \
	"the audit entry says who ran revoke ($me, sudo user $want_sudo)"
"$SMIMESYNC" audit --user bob@example.org >"$W/audit-bob.txt"
if [ "$(id -u)" = 0 ]; then
	check 'grep -q "by=root(sudo:carol) user=bob@example.org certificate-revoked: serial=.* reason=keyCompromise" "$W/audit-bob.txt"' \
		"audit text: by=root(sudo:carol)"
fi

test_end
