#!/bin/sh
# SPDX-License-Identifier: ISC
# The disk full while writing the store (issue #9, item 2): the state
# directory is a small tmpfs in a private mount namespace, filled up to a
# few hundred kB, so a real ENOSPC stops a run part-way (FREE_KB=N to try
# other points: every one must pass). The run must
# say so clearly (the store error and what to do), print a correct report,
# leave the store consistent (integrity_check, no certificate without its
# action's record), and once space is freed the next run must complete the
# work: one certificate, one publication, two mails per person.
set -eu
: "${top_srcdir:?}" "${top_builddir:?}" "${SMIMESYNC:?}"
. "$top_srcdir/tests/tools/slapd-lib.sh"
. "$top_srcdir/tests/tools/smtp-lib.sh"
. "$top_srcdir/tests/tools/smimesync-lib.sh"
. "$top_srcdir/tests/tools/test-lib.sh"
slapd_require
smtp_require
# A real full file system without root: tmpfs in a user namespace.
unshare -rm true 2>/dev/null ||
	{ echo "SKIP: unshare -rm fails (unprivileged user namespaces are off); it mounts the small tmpfs"; exit 77; }

test_begin full
test_org_servers
smimesync_write_config "$W" p256 p256
sed -i '/^\[group smime-staff\]/,$d' "$SMIMESYNC_CONF"
sed -i 's/^group_dn = cn=smime-sales,/group_dn = cn=sales-dach,/' "$SMIMESYNC_CONF"
"$SMIMESYNC" ca init --root-key-out "$ROOT_KEY_OUT" >/dev/null
# A first run with no members creates the store, so the full disk hits the work itself.
sed -i 's/^group_dn = cn=sales-dach,/group_dn = cn=nobody,/' "$SMIMESYNC_CONF"
"$SMIMESYNC" run >/dev/null 2>&1 || true
sed -i 's/^group_dn = cn=nobody,/group_dn = cn=sales-dach,/' "$SMIMESYNC_CONF"
cp -a "$W/state" "$W/seed"
export W SMIMESYNC SMTP_DIR SLAPD_URI SLAPD_BASE top_srcdir

# Everything that touches the tmpfs runs inside the namespace; it prints
# "ok: ..." and "FAIL: ..." lines and exits with the number of failures.
cat >"$W/inner.sh" <<'INNER'
set -eu
. "$top_srcdir/tests/tools/test-lib.sh"
fails=0
db="$W/state/smimesync.db"
count() { sqlite3 "$db" "$1"; }
mount -t tmpfs -o size=${TMPFS_KB}k,mode=0700 smimesync-full "$W/state"
cp -a "$W/seed/." "$W/state/"
avail=$(df -k --output=avail "$W/state" | tail -n 1)
fallocate -l $(((avail - FREE_KB) * 1024)) "$W/state/filler"
echo "tmpfs of ${TMPFS_KB} kB, $(df -k --output=avail "$W/state" | tail -n 1) kB left"

set +e
"$SMIMESYNC" run --format json >"$W/full.json" 2>"$W/full.log"
rc=$?
set -e
check '[ $rc -ne 0 ]' "the run on a full disk fails (exit $rc)"
# SQLite's "database or disk is full" or the outbox's ENOSPC, whichever came first.
full_re='(database or disk is full|No space left on device)'
check 'grep -E "$full_re" "$W/full.log" | grep -q "free space"' "it says the disk is full and to free space"
check '[ -s "$W/full.json" ] && [ "$(jq -r .status "$W/full.json")" != ok ]' "its report does not say ok"
check 'jq -e --arg re "$full_re" "[.errors[] | select(.message | test(\$re)) | select(.message | test(\"free space\"))] | length >= 1" "$W/full.json" >/dev/null' \
	"its report carries the disk-full error"
# Everyone with a certificate in the store is in the report as done, or as
# failed at a step after the CA (publishing, queueing mail), not hidden.
hidden=0
for m in $(count "SELECT mail FROM certs"); do
	jq -e --arg m "$m" '[.users[] | select(.mail == $m) | select(.outcome == "done" or
		(.step | IN("cert_stored", "published", "done")))] | length == 1' "$W/full.json" >/dev/null ||
		{ echo "# $m has a certificate the report does not account for"; hidden=$((hidden + 1)); }
done
check '[ "$hidden" = 0 ] && [ "$(jq -r ".counts.issued // 0" "$W/full.json")" -le "$(count "SELECT COUNT(*) FROM certs")" ]' \
	"its report accounts for every certificate in the store"
check '[ "$(jq -r ".counts.mails_sent // 0" "$W/full.json")" = "$(count "SELECT COUNT(*) FROM outbox WHERE state = '"'"'sent'"'"'")" ]' \
	"its count of mails sent matches the store: no mail went out unrecorded"
check '[ "$(count "PRAGMA integrity_check")" = ok ]' "the store passes integrity_check"
check '[ "$(count "SELECT COUNT(*) FROM certs c LEFT JOIN actions a ON a.cert_id = c.id WHERE a.id IS NULL")" = 0 ]' \
	"no certificate in the store without the action that made it"
check '[ ! -e "$W/state/outbox.reserve" ]' "the outbox's space reserve is gone"
sent_before=$(count "SELECT COUNT(*) FROM outbox WHERE state = 'sent'")
check '[ "$sent_before" -lt 8 ]' "the full disk stopped the work part-way ($sent_before of 8 mails sent)"

rm -f "$W/state/filler"
set +e
"$SMIMESYNC" run --format json >"$W/after.json" 2>"$W/after.log"
rc=$?
set -e
check '[ $rc = 0 ] && [ "$(jq -r .status "$W/after.json")" = ok ]' "with space freed, the next run completes (exit $rc)"
check '[ "$(count "SELECT COUNT(*) FROM actions WHERE state <> '"'"'done'"'"'")" = 0 ]' "no unfinished action is left"
check '[ "$(count "PRAGMA integrity_check")" = ok ]' "the store passes integrity_check"
for m in joerg.mueller@example.org sybil@example.org heidi@example.org frank@example.org; do
	check '[ "$(count "SELECT COUNT(*) FROM certs WHERE mail = '"'$m'"'")" = 1 ]' "$m: one certificate in the store"
	nd=$(ldapsearch -LLL -o ldif-wrap=no -x -H "$SLAPD_URI" -b "$SLAPD_BASE" "(mail=$m)" 'userCertificate;binary' |
		grep -c '^userCertificate;binary::' || true)
	check '[ "$nd" = 1 ]' "$m: one certificate in the directory"
done
exit "$fails"
INNER

set +e
TMPFS_KB=${TMPFS_KB:-4096} FREE_KB=${FREE_KB:-300} unshare -rm sh "$W/inner.sh"
fails=$?
set -e
/usr/bin/python3 "$top_srcdir/tests/tools/mailbox.py" "$SMTP_DIR" "$W/mbox" >"$W/mbox.txt" ||
	fail "mail checks: $(grep ERROR "$W/mbox.txt" | head -3)"
for m in joerg.mueller@example.org sybil@example.org heidi@example.org frank@example.org; do
	check 'grep -qx "$m collection=1 password=1" "$W/mbox.txt"' "$m: one collection mail and one password mail"
done
test_end
