#!/bin/sh
# SPDX-License-Identifier: ISC
# Privilege separation and the signer process (issue #9, items 2 and 5):
#   - smimesync refuses a state directory or key files that others can
#     read, naming the chmod that fixes it;
#   - only the signer process opens the CA key and the master key, and it
#     never talks to the network; the process that talks to LDAP and SMTP
#     never opens them (strace of a whole run, rotate and recover) and
#     never has them in its memory (tests/tools/find-secret.py reads
#     /proc/PID/mem of both processes in the middle of a run);
#   - a signer that dies or stops answering (the local CA's "CA timing
#     out") at each kind of request gives a clear error and a correct
#     report, leaves nothing half-written, and the next run completes the
#     work: one certificate, one publication, two mails per person;
#   - (issue #16) recover and resend need the operator's credential;
#   - (issue #16) two system users: smimesync-signer serves one of them
#     behind a socket it gets through the real socket activation protocol
#     (systemd-socket-activate), smimesync runs as the other, cannot open
#     any key file, holds none in its state directory, and a full run,
#     a CRL and a recovery still succeed; a third user is turned away
#     (SO_PEERCRED); neither process can dump core.
# The faults come from tests/tools/smimesync-crashy and the
# tests/tools/smimesync-signer beside it (fault points compiled in for
# tests only).
set -eu
: "${top_srcdir:?}" "${top_builddir:?}" "${SMIMESYNC:?}"
CRASHY="$top_builddir/tests/tools/smimesync-crashy"
. "$top_srcdir/tests/tools/slapd-lib.sh"
. "$top_srcdir/tests/tools/smtp-lib.sh"
. "$top_srcdir/tests/tools/smimesync-lib.sh"
. "$top_srcdir/tests/tools/test-lib.sh"
slapd_require
smtp_require
command -v strace >/dev/null || { echo "SKIP: strace is not installed"; exit 77; }
command -v faketime >/dev/null || { echo "SKIP: faketime is not installed"; exit 77; }

test_begin privsep
test_org_servers
smimesync_write_config "$W" p256 p256
# One small group (joerg, sybil, heidi, frank) and a CRL file.
sed -i '/^\[group smime-staff\]/,$d' "$SMIMESYNC_CONF"
sed -i 's/^group_dn = cn=smime-sales,/group_dn = cn=sales-dach,/' "$SMIMESYNC_CONF"
sed -i "/^\[ca internal\]/a crl_file = $W/ca/smime.crl" "$SMIMESYNC_CONF"
"$SMIMESYNC" ca init --root-key-out "$ROOT_KEY_OUT" >/dev/null
db="$W/state/smimesync.db"
CAKEY="$W/ca/issuing.key"
MKEY="$W/state/master.key"
PEOPLE="joerg.mueller@example.org sybil@example.org heidi@example.org frank@example.org"
count() { sqlite3 "$db" "$1"; }
# jq -e succeeds on empty input: an empty report must not pass.
errors_match() { [ -s "$1" ] && jq -e --arg re "$2" '[.errors[] | select(.message | test($re))] | length >= 1' "$1" >/dev/null; }

# Run "$@" with its output in $W/$name.{json,log} and its exit status in rc.
run_as() {
	name=$1
	shift
	set +e
	"$@" >"$W/$name.json" 2>"$W/$name.log"
	rc=$?
	set -e
}

# LeakSanitizer cannot work under ptrace: a sanitized build checks leaks in every other run.
traced() { env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" strace "$@"; }

# ---- permissions, checked at start ----
chmod 755 "$W/state"
run_as loose-dir "$SMIMESYNC" run --format json
check '[ $rc -ne 0 ] && grep -q "accessible by group or others (mode 0755); run: chmod 700 $W/state" "$W/loose-dir.log"' \
	"a state directory others can read is refused, with the chmod to run"
set +e
"$SMIMESYNC" check-config >"$W/cc.out" 2>&1
cc=$?
set -e
check '[ $cc -ne 0 ] && grep -q "state_dir: .*run: chmod 700 $W/state" "$W/cc.out"' "check-config says the same"
chmod 700 "$W/state"
chmod 640 "$MKEY"
run_as loose-mkey "$SMIMESYNC" run --format json
check '[ $rc -ne 0 ] && grep -q "run: chmod 600 $MKEY" "$W/loose-mkey.log"' \
	"a master key readable by the group is refused, with the chmod to run"
chmod 600 "$MKEY"
chmod 644 "$CAKEY"
run_as loose-cakey "$SMIMESYNC" run --format json
check '[ $rc -ne 0 ] && errors_match "$W/loose-cakey.json" "chmod 600 $CAKEY"' \
	"a CA key readable by others is refused through the signer, and the report says chmod 600"
check '[ "$(count "SELECT COUNT(*) FROM certs")" = 0 ]' "nothing was issued with a loose CA key"
chmod 600 "$CAKEY"

# ---- the signer dies or goes silent at each kind of request ----
# unseal: asking the CA needs the subscriber key, sealed in the signer.
for fault in die:sign-cert hang:sign-cert die:unseal; do
	# A silent signer is given 2 s instead of 120; the others keep the default.
	case $fault in
	hang:*) timeout=2 why="did not answer within 2 s and was killed" ;;
	*) timeout=120 why="was killed by signal 9" ;;
	esac
	run_as fault env SMIMESYNC_SIGNER_FAULT=$fault SMIMESYNC_SIGNER_TIMEOUT_S=$timeout "$CRASHY" run --format json
	check '[ $rc -ne 0 ] && [ "$(jq -r .status "$W/fault.json")" != ok ]' "$fault: the run does not say ok (exit $rc)"
	check 'errors_match "$W/fault.json" "signer process, which holds the CA and master keys, $why.*nothing was signed or sealed"' \
		"$fault: the report says the signer process $why"
	check '[ -s "$W/fault.json" ] && [ "$(jq -r ".counts.issued // 0" "$W/fault.json")" = 0 ]' \
		"$fault: the report counts nothing issued"
	check '[ "$(count "SELECT COUNT(*) FROM certs")" = 0 ] && [ "$(count "SELECT COUNT(*) FROM outbox")" = 0 ]' \
		"$fault: no certificate stored, no mail queued"
	check '[ "$(count "SELECT COUNT(*) FROM actions WHERE state IN ('"'"'key_made'"'"', '"'"'ca_asked'"'"')")" = 4 ]' \
		"$fault: all four actions wait before or at the CA to be retried"
	check '[ "$(count "PRAGMA integrity_check")" = ok ]' "$fault: the store passes integrity_check"
	child=$(sed -n 's/.*smimesync-signer\[\([0-9]*\)\] warning.*fault injection: the signer process.*/\1/p' "$W/fault.log")
	check '[ -n "$child" ] && ! kill -0 "$child" 2>/dev/null' "$fault: the signer process ($child) is gone"
done

# ---- the keys are not in smimesync's memory, only in the signer's ----
# Hold a run with the signer silent at sign-cert (the subscriber key was
# just unsealed, the CA chain fetched), read both processes' memory, then
# end the signer. The signer's memory is the proof that the search works.
# An AddressSanitizer build maps terabytes of shadow memory: no search there.
if [ -n "${ASAN_OPTIONS:-}" ]; then
	echo "# memory search left out: this is a sanitized build (its shadow memory is terabytes)"
else
	SMIMESYNC_SIGNER_FAULT=hang:sign-cert SMIMESYNC_SIGNER_TIMEOUT_S=600 \
		"$CRASHY" run --format json >"$W/held.json" 2>"$W/held.log" &
	held=$!
	while kill -0 "$held" 2>/dev/null && ! grep -q "stops answering at sign-cert" "$W/held.log"; do
		sleep 0.1
	done
	child=$(sed -n 's/.*smimesync-signer\[\([0-9]*\)\] warning.*stops answering.*/\1/p' "$W/held.log")
	findsecret() { /usr/bin/python3 "$top_srcdir/tests/tools/find-secret.py" "$1" "$MKEY" "$CAKEY"; }
	check '[ -n "$child" ] && findsecret "$held" >"$W/parent-mem.txt"' \
		"neither the master key nor the CA key is anywhere in smimesync's memory $(cat "$W/parent-mem.txt" 2>/dev/null)"
	set +e
	findsecret "$child" >"$W/child-mem.txt"
	found=$?
	set -e
	check '[ "$found" = 1 ] && grep -q "master key found" "$W/child-mem.txt" && grep -q "issuing.key" "$W/child-mem.txt"' \
		"both are in the signer's memory, where the same search finds them"
	kill -KILL "$child" 2>/dev/null || true
	wait "$held" || true
	check 'grep -q "signer process.*was killed by signal 9" "$W/held.log"' "the held run ends with the signer's death reported"
fi

# ---- a normal run completes the work; only the signer touches the keys ----
# An unreachable CA is asked again after a back-off (5 minutes, doubling
# for each failure in a row): this run comes an hour later (faketime-run
# says why it is not the faketime wrapper).
run_as main traced -f -qq -e trace=openat,open,connect,execve -o "$W/strace.txt" \
	"$top_srcdir/tests/tools/faketime-run" +1h "$SMIMESYNC" run --format json
check '[ $rc = 0 ] && [ "$(jq -r .status "$W/main.json")" = ok ]' "the run after the back-off completes (exit $rc)"
check '[ "$(jq -r .counts.issued "$W/main.json")" = 4 ] && [ "$(jq -r .counts.published "$W/main.json")" = 4 ]' \
	"it issues and publishes the four certificates the faults held back"
# smimesync is the process that executed it (faketime-run execs it in its own pid).
exec_pid() { grep -E "execve\(\"$SMIMESYNC\".* = 0" "$1" | awk '{print $1}' | head -n 1; }
main=$(exec_pid "$W/strace.txt")
# Which processes opened a key file, and which talked to the network.
# A key file is written through a temporary beside it (.NAME.tmp.XXXXXX), then linked.
MKEY_TMP="$W/state/\.master\.key(\.new)?\.tmp\.[^\"]*"
key_openers() { grep -E "open(at)?\(.*\"($CAKEY|$MKEY|$MKEY\.new|$MKEY_TMP)\"" "$1" | grep -v ENOENT | awk '{print $1}' | sort -u; }
net_users() { grep -E 'connect\(.*AF_INET' "$1" | awk '{print $1}' | sort -u; }
signer=$(key_openers "$W/strace.txt")
check '[ -n "$signer" ] && [ "$(echo "$signer" | wc -l)" = 1 ]' "exactly one process opened the CA and master keys ($signer)"
check '[ -n "$main" ] && [ "$signer" != "$main" ]' "it is not the smimesync process itself (pid $main)"
check 'grep -Eq "^$signer +open.*$CAKEY" "$W/strace.txt" && grep -Eq "^$signer +open.*$MKEY" "$W/strace.txt"' \
	"the signer opened both the CA key and the master key"
check 'net_users "$W/strace.txt" | grep -qx "$main"' "the smimesync process talked to LDAP and SMTP"
check '! net_users "$W/strace.txt" | grep -qx "$signer"' "the signer process never opened a network connection"
/usr/bin/python3 "$top_srcdir/tests/tools/mailbox.py" "$SMTP_DIR" "$W/mbox" >"$W/mbox.txt" ||
	fail "mail checks: $(grep ERROR "$W/mbox.txt" | head -3)"
for m in $PEOPLE; do
	check '[ "$(count "SELECT COUNT(*) FROM certs WHERE mail = '"'$m'"'")" = 1 ]' "$m: one certificate in the store"
	check 'grep -qx "$m collection=1 password=1" "$W/mbox.txt"' "$m: one collection mail and one password mail"
	nd=$(ldapsearch -LLL -o ldif-wrap=no -x -H "$SLAPD_URI" -b "$SLAPD_BASE" "(mail=$m)" 'userCertificate;binary' |
		grep -c '^userCertificate;binary::' || true)
	check '[ "$nd" = 1 ]' "$m: one certificate in the directory"
done

# ---- CRL: a dead signer writes no file; the next try does ----
"$SMIMESYNC" revoke frank@example.org --reason keyCompromise >/dev/null 2>&1 || fail "revoke frank"
crl_before=$(sha256sum <"$W/ca/smime.crl")
run_as crl-fault env SMIMESYNC_SIGNER_FAULT=die:sign-crl "$CRASHY" crl
check '[ $rc -ne 0 ] && grep -q "signer process.*was killed by signal 9" "$W/crl-fault.log"' \
	"crl with a dead signer fails and says so"
check '[ "$(sha256sum <"$W/ca/smime.crl")" = "$crl_before" ]' "and leaves the CRL file as it was"
run_as crl "$SMIMESYNC" crl
check '[ $rc = 0 ] && openssl crl -inform DER -in "$W/ca/smime.crl" -CAfile "$W/ca/chain.pem" -noout 2>&1 | grep -q "verify OK"' \
	"the next crl writes a CRL that verifies against the CA"
check 'openssl crl -inform DER -in "$W/ca/smime.crl" -noout -text | grep -q "Key Compromise"' "it lists frank's revocation"

# ---- the CRL belongs to the CA's key, not to the section's name (#15 item 5) ----
crlnum() { printf %d "0x$(openssl crl -inform DER -in "$W/ca/smime.crl" -noout -crlnumber | sed 's/^crlNumber=\(0x\)\{0,1\}//')"; }
n_before=$(crlnum)
sed -i 's/^\[ca internal\]/[ca renamed]/; s/^ca = internal$/ca = renamed/' "$SMIMESYNC_CONF"
run_as crl-renamed "$SMIMESYNC" crl
n_after=$(crlnum)
check '[ $rc = 0 ] && [ "$n_after" -gt "$n_before" ]' \
	"after renaming [ca internal] the CRL number goes on ($n_before, then $n_after), not back to 1"
check 'openssl crl -inform DER -in "$W/ca/smime.crl" -CAfile "$W/ca/chain.pem" -noout -text 2>&1 | grep -q "Key Compromise"' \
	"and the CRL still lists frank's revocation"
sed -i 's/^\[ca renamed\]/[ca internal]/; s/^ca = renamed$/ca = internal/' "$SMIMESYNC_CONF"

# ---- an admin command waits while another process holds the store's lock ----
# (the daemon following a change stream runs whenever the directory changes)
n_before=$(crlnum)
flock "$W/state/lock" sleep 2 &
holder=$!
sleep 0.5
run_as crl-waits "$SMIMESYNC" crl
wait "$holder"
n_after=$(crlnum)
check '[ $rc = 0 ] && grep -q "lock: another smimesync process is using this state directory; waiting up to 60 s" "$W/crl-waits.log"' \
	"crl while another process holds the lock waits for it, and says so"
check '[ "$n_after" -gt "$n_before" ]' "then writes the next CRL ($n_before, then $n_after)"

# ---- resend with a signer that dies while sealing the mail: nothing queued ----
queued=$(count "SELECT COUNT(*) FROM outbox")
CRED=$W/recovery.credential
run_as resend-fault env SMIMESYNC_SIGNER_FAULT=die:seal "$CRASHY" resend sybil@example.org --credential "$CRED"
check '[ $rc -ne 0 ] && grep -q "signer process.*was killed by signal 9" "$W/resend-fault.log"' \
	"resend with a dead signer fails and says so"
check '[ "$(count "SELECT COUNT(*) FROM outbox")" = "$queued" ]' "and queues no mail"
before=$(smtp_count)
run_as resend "$SMIMESYNC" resend sybil@example.org --credential "$CRED"
check '[ $rc = 0 ] && [ "$(smtp_count)" = $((before + 2)) ]' "the next resend sends both mails"

# ---- rotate and recover through the signer ----
run_as rotate traced -f -qq -e trace=openat,open,execve -o "$W/strace-rotate.txt" \
	"$SMIMESYNC" master-key rotate
check '[ $rc = 0 ] && grep -q "rotated the master key" "$W/rotate.json"' "master-key rotate works through the signer"
rmain=$(exec_pid "$W/strace-rotate.txt")
check '[ -n "$(key_openers "$W/strace-rotate.txt")" ] && ! key_openers "$W/strace-rotate.txt" | grep -qx "$rmain"' \
	"rotate: only the signer opened the old and the new master key"
check 'grep -Eq "open.*\"$W/state/\.master\.key\.new\.tmp\.[^\"]*\".*O_CREAT.*O_EXCL" "$W/strace-rotate.txt" && ! grep -Eq "^$rmain +open.*($MKEY.new|\.master\.key\.new\.tmp)" "$W/strace-rotate.txt"' \
	"rotate: the signer, not smimesync, created the new key"
run_as recover-nocred "$SMIMESYNC" recover heidi@example.org --out "$W/heidi.p12" </dev/null
check '[ $rc -ne 0 ] && [ ! -e "$W/heidi.p12" ] && grep -q "needs the operator.s recovery credential" "$W/recover-nocred.log"' \
	"recover without the operator's credential is refused"
run_as recover "$SMIMESYNC" recover heidi@example.org --out "$W/heidi.p12" --credential "$CRED"
check '[ $rc = 0 ] && [ -s "$W/heidi.p12" ]' "recover opens the re-sealed keys through the signer"
pw=$(cat "$W/recover.json")
check 'openssl pkcs12 -in "$W/heidi.p12" -passin "pass:$pw" -nokeys -noout 2>/dev/null' "and the PKCS#12 opens with the password it printed"
check 'grep -q "\"event\":\"recovery\".*\"user\":\"$(id -un)\"" "$W/state/signer/signing.log" &&
	[ "$(count "SELECT COUNT(*) FROM audit WHERE event = '"'"'keys-recovered'"'"' AND detail LIKE '"'"'%user=$(id -un)%'"'"'")" = 1 ]' \
	"the recovery is in the signing log and the audit log, with who asked"
check '"$SMIMESYNC_SIGNER" verify-log "$W/state/signer/signing.log" | grep -q "chain intact"' \
	"the signing log of all of this verifies"

# ---- an escrowed key as an older release stored it ("key:action=N") ----
# It opened with the master key alone; the next run puts it under the
# signer's recovery control, and recovery still gives the same key back.
sybil_cert=$(count "SELECT id FROM certs WHERE mail = 'sybil@example.org' AND status = 'valid'")
sybil_action=$(count "SELECT action_id FROM certs WHERE id = $sybil_cert")
run_as sybil-p12 "$SMIMESYNC" recover sybil@example.org --out "$W/sybil.p12" --credential "$CRED"
openssl pkcs12 -in "$W/sybil.p12" -passin "pass:$(cat "$W/sybil-p12.json")" -nocerts -nodes 2>/dev/null |
	openssl pkcs8 -topk8 -nocrypt -outform DER -out "$W/sybil.key.der"
/usr/bin/python3 - "$MKEY" "$W/sybil.key.der" "$sybil_action" "$W/legacy.blob" <<'PY'
import os, sys
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
key = bytes.fromhex(open(sys.argv[1]).read().strip())
der = open(sys.argv[2], "rb").read()
nonce = os.urandom(12)
blob = b"SS1" + nonce + AESGCM(key).encrypt(nonce, der, ("key:action=%s" % sys.argv[3]).encode())
open(sys.argv[4], "wb").write(blob)
PY
sqlite3 "$db" "UPDATE escrow SET aad = 'key:action=$sybil_action', sealed = readfile('$W/legacy.blob') WHERE cert_id = $sybil_cert"
run_as upgrade "$SMIMESYNC" run --format json
check '[ "$(count "SELECT aad FROM escrow WHERE cert_id = $sybil_cert")" = "escrow:key:action=$sybil_action" ] &&
	grep -q "put 1 escrowed key of an older release under the signer" "$W/upgrade.log"' \
	"an escrowed key of an older release is sealed again for recovery only"
check '[ -z "$(count "SELECT sealed_key FROM actions WHERE id = $sybil_action")" ] &&
	grep -q "\"event\":\"key-closed\".*\"as\":\"key:action=$sybil_action\"" "$W/state/signer/signing.log"' \
	"the store keeps no provisioning copy of it, and the signer has closed that key"
run_as sybil-p12b "$SMIMESYNC" recover sybil@example.org --out "$W/sybil2.p12" --credential "$CRED"
check '[ $rc = 0 ] && openssl pkcs12 -in "$W/sybil2.p12" -passin "pass:$(cat "$W/sybil-p12b.json")" -nocerts -nodes 2>/dev/null |
	openssl pkcs8 -topk8 -nocrypt -outform DER | cmp -s - "$W/sybil.key.der"' "recovery still gives the same key back"

. "$top_srcdir/tests/integration/privsep-socket.sh"

test_end
