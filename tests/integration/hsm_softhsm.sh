#!/bin/sh
# SPDX-License-Identifier: ISC
# Issue #16 item 4: the CA keys in an HSM, against a real SoftHSM2 token.
#   - ca init --pkcs11 generates the issuing key inside the token (private,
#     sensitive, never extractable) and seals the master key under a token
#     RSA key; the key a key ceremony made (pkcs11-tool) is used as it is;
#   - a sync signs through the token: every certificate verifies against
#     the CA certificate and passes the profile linter; recover unseals the
#     master key through the token; master-key rotate seals the new one;
#   - no private key of the CA, and no plain master key, is in any file
#     of the state, CA or configuration directories (PEM or DER);
#   - the signer's signing code survives a token that forgets its login and
#     a token unplugged and plugged back (re-inserted under a new identity):
#     it reloads the module, logs in again and signs; a token that stays
#     away is "unreachable" (retried later), not a misconfiguration;
#   - ca init writes the signer's policy with the token keys (key_file =
#     the URI, pin_file): the signer process alone loads the module and
#     reads the PIN; smimesync itself never opens either (strace);
#   - through a long-lived signer (smimesync-signer serve on a socket):
#     the token unplugged and plugged back under a new identity between
#     two runs, and the run after has no failed person; a token that stays
#     away keeps the new member's request open, and the next run after it
#     is back issues from the same signer process.
set -eu
: "${top_srcdir:?}" "${top_builddir:?}" "${SMIMESYNC:?}"
. "$top_srcdir/tests/tools/slapd-lib.sh"
. "$top_srcdir/tests/tools/smtp-lib.sh"
. "$top_srcdir/tests/tools/smimesync-lib.sh"
. "$top_srcdir/tests/tools/test-lib.sh"
slapd_require
smtp_require
MODULE=
for m in /usr/lib/softhsm/libsofthsm2.so /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so; do
	[ -f "$m" ] && MODULE=$m && break
done
[ -n "$MODULE" ] && command -v softhsm2-util >/dev/null && command -v pkcs11-tool >/dev/null ||
	{ echo "SKIP: softhsm2 and opensc (pkcs11-tool) are not installed (tools/install-deps)"; exit 77; }
/usr/bin/python3 -c 'import cryptography' 2>/dev/null ||
	{ echo "SKIP: python3-cryptography missing (tools/install-deps)"; exit 77; }
PROBE="$top_builddir/tests/tools/p11-probe"
lint() { /usr/bin/python3 "$top_srcdir/tests/tools/sbr-lint.py" "$@"; }

test_begin hsm
test_org_servers
smimesync_write_config "$W" rsa2048 p256

# A SoftHSM2 token of its own; the PIN in a file only this user reads.
mkdir -p "$W/softhsm/tokens"
cat >"$W/softhsm/softhsm2.conf" <<CONF
directories.tokendir = $W/softhsm/tokens
objectstore.backend = file
log.level = ERROR
CONF
SOFTHSM2_CONF=$W/softhsm/softhsm2.conf
export SOFTHSM2_CONF
softhsm2-util --init-token --free --label smimesync --so-pin 24681357 --pin 135790 >/dev/null
(umask 077; echo 135790 >"$W/token.pin")
p11() { pkcs11-tool --module "$MODULE" --token-label smimesync --login --pin 135790 "$@" 2>/dev/null; }
URI="pkcs11:token=smimesync;object=issuing-ca?module-path=$MODULE"
SEAL="pkcs11:token=smimesync;object=master-seal?module-path=$MODULE"
RSA_URI="pkcs11:token=smimesync;object=ceremony-rsa?module-path=$MODULE"
# The issuing key and the master key's sealing key on the token; a second
# CA whose RSA key a key ceremony made before ca init.
sed -i -e "s|^key_file = .*|key_uri = $URI\npin_file = $W/token.pin|" \
	-e "/^\[service\]/a master_key_uri = $SEAL\nmaster_key_pin_file = $W/token.pin" "$W/smimesync.conf"
cat >>"$W/smimesync.conf" <<CONF

[ca ceremony]
type = local
cert_file = $W/ca2/issuing.pem
key_uri = $RSA_URI
pin_file = $W/token.pin
chain_file = $W/ca2/chain.pem
crl_url = http://pki.example.org/ceremony.crl
organization = Example Org
key_type = rsa3072
CONF

# --- ca init: keys made in the token, nothing secret on disk -----------------
check '! "$SMIMESYNC" ca init --root-key-out "$ROOT_KEY_OUT" --pkcs11 "pkcs11:token=smimesync;object=other?module-path=$MODULE" >"$W/init0.out" 2>&1 &&
	grep -q "key_uri = pkcs11:token=smimesync;object=other" "$W/init0.out"' \
	"ca init --pkcs11 with a URI the configuration does not name says what to put in [ca]"
"$SMIMESYNC" ca init --root-key-out "$ROOT_KEY_OUT" --pkcs11 "$URI" >"$W/init.out" 2>&1 ||
	{ cat "$W/init.out"; fail "ca init --pkcs11"; }
cat "$W/init.out"
check 'grep -q "generated inside the token" "$W/init.out"' "ca init generated the issuing key in the token"
p11 -O >"$W/objects.txt"
check 'grep -A3 "label: *issuing-ca" "$W/objects.txt" | grep -q "never extractable" &&
	grep -A3 "label: *master-seal" "$W/objects.txt" | grep -q "never extractable"' \
	"the issuing key and the sealing key are sensitive and never extractable"
check 'head -n 1 "$W/state/master.key" | grep -q "^smimesync-master-key sealed RSA-OAEP-SHA256$"' \
	"the master key file holds the key sealed under the token, not the key"
check '[ ! -e "$W/ca/issuing.key" ] && [ "$(stat -c %a "$ROOT_KEY_OUT")" = 600 ]' \
	"no issuing key file; the root key only where --root-key-out said"
# The ceremony: an RSA key made on the token by another tool, then ca init.
mkdir -p "$W/ca2"
p11 --keypairgen --key-type rsa:3072 --label ceremony-rsa --id 0102 >/dev/null ||
	fail "pkcs11-tool made the ceremony key"
mkdir -p -m 700 "$W/offline2"
"$SMIMESYNC" ca init --ca ceremony --root-key-out "$W/offline2/root.key" >"$W/init2.out" 2>&1 ||
	{ cat "$W/init2.out"; fail "ca init of the ceremony CA"; }
check 'grep -q "found, as a key ceremony made it" "$W/init2.out"' "ca init uses the key a ceremony made"
check '[ "$(p11 -O | grep -c "label: *ceremony-rsa")" = 2 ]' "and makes no second key"
check '"$SMIMESYNC" check-config >"$W/check.out" 2>&1' "check-config accepts keys on the token"
cat "$W/check.out"
chmod 644 "$W/token.pin"
check '! "$SMIMESYNC" check-config >"$W/check2.out" 2>&1 && grep -q "pin_file: .*chmod" "$W/check2.out"' \
	"check-config refuses a PIN file others can read, with the chmod"
chmod 600 "$W/token.pin"
sed "s|module-path=$MODULE|module-path=/nonexistent/libhsm.so|" "$W/smimesync.conf" >"$W/badlib.conf"
check '! "$SMIMESYNC" -c "$W/badlib.conf" check-config >"$W/check3.out" 2>&1 &&
	grep -q "key_uri: the PKCS#11 library /nonexistent/libhsm.so cannot be read" "$W/check3.out"' \
	"check-config names a PKCS#11 library that is not there"

# Signatures with the token keys in every scheme: ECDSA P-384, RSA PKCS#1 v1.5 and PSS.
mkdir -p "$W/probe-sig"
"$PROBE" -c "$W/smimesync.conf" --ca internal --signatures --count 1 "$W/probe-sig" >"$W/sig.out" 2>&1 ||
	{ cat "$W/sig.out"; fail "signatures with the EC token key"; }
"$PROBE" -c "$W/smimesync.conf" --ca ceremony --signatures --count 1 "$W/probe-sig" >>"$W/sig.out" 2>&1 ||
	{ cat "$W/sig.out"; fail "signatures with the RSA token key"; }
cat "$W/sig.out"
check '[ "$(grep -c " verifies$" "$W/sig.out")" = 4 ] && ! grep -q FAILED "$W/sig.out"' \
	"the token signs ECDSA P-384, RSA PKCS#1 v1.5 and RSA-PSS (SHA-256, SHA-384), each verifies"
check 'openssl verify -CAfile "$W/ca2/root.pem" -untrusted "$W/ca2/issuing.pem" "$W/probe-sig/leaf-1.pem" >/dev/null &&
	openssl x509 -in "$W/probe-sig/leaf-1.pem" -noout -text | grep -q "sha256WithRSAEncryption"' \
	"a leaf signed by the ceremony's RSA key verifies"

# --- a sync through the token -------------------------------------------------
"$SMIMESYNC" run --format json >"$W/run1.json" 2>"$W/run1.log" || { tail -20 "$W/run1.log"; fail "run exited non-zero"; }
check '[ "$(jq -r .status "$W/run1.json")" = ok ]' "the run is ok"
"$SMIMESYNC" status --format json >"$W/status.json"
n=0
csplit -s -z -f "$W/chainpart" "$W/ca/chain.pem" '/-----BEGIN CERTIFICATE-----/' '{*}'
ROOT=$(ls "$W"/chainpart* | tail -n 1)
for m in $(jq -r '.[] | select(.serial != null) | .mail' "$W/status.json"); do
	ldapsearch -LLL -o ldif-wrap=no -x -H "$SLAPD_URI" -b "$SLAPD_BASE" "(mail=$m)" 'userCertificate;binary' |
		sed -n 's/^userCertificate;binary:: //p' | base64 -d >"$W/leaf.der"
	openssl x509 -inform DER -in "$W/leaf.der" -out "$W/leaf.pem" 2>/dev/null || { fail "$m: no certificate"; continue; }
	openssl verify -x509_strict -purpose smimesign -CAfile "$ROOT" -untrusted "$W/ca/issuing.pem" "$W/leaf.pem" >/dev/null 2>&1 ||
		fail "$m: does not verify against the CA certificate"
	lint "$W/leaf.pem" --profile mailbox-strict --issuer "$W/ca/issuing.pem" --mail "$m" --max-days 365 >"$W/lint.out" 2>&1 ||
		{ cat "$W/lint.out"; fail "$m: breaks mailbox-strict"; }
	n=$((n + 1))
done
check '[ "$n" -ge 20 ]' "$n certificates signed by the token verify against the CA certificate and lint clean"

R=alice@example.org
# ca init wrote the signer's policy (signer.conf: the key as its URI, the PIN
# file) and the operators' recovery credential beside the configuration.
CRED=$W/recovery.credential
check 'grep -qx "key_file = $URI" "$W/signer.conf" && grep -qx "pin_file = $W/token.pin" "$W/signer.conf" &&
	grep -qx "master_key_uri = $SEAL" "$W/signer.conf"' \
	"the signer's policy names the token keys and the PIN file: the signer reads the PIN, not smimesync"
check '"$SMIMESYNC" recover "$R" --out "$W/recovered.p12" --credential "$CRED" >"$W/recover.pw" 2>"$W/recover.err" &&
	openssl pkcs12 -in "$W/recovered.p12" -passin "pass:$(cat "$W/recover.pw")" -nodes -nocerts 2>/dev/null | grep -q "BEGIN PRIVATE KEY"' \
	"recover opens the escrow: the signer unsealed the master key through the token"
"$SMIMESYNC" master-key rotate >"$W/rotate.out" 2>&1 || { cat "$W/rotate.out"; fail "master-key rotate"; }
check 'head -n 1 "$W/state/master.key" | grep -q "sealed" && [ ! -e "$W/state/master.key.new" ] &&
	"$SMIMESYNC" recover "$R" --out "$W/recovered2.p12" --credential "$CRED" >/dev/null 2>&1' \
	"master-key rotate seals the new key under the token too, and keys stay recoverable"

# No private key of the CA, and the master key not in the clear, anywhere
# smimesync keeps state or configuration (the test's slapd and SMTP server
# keep their own TLS keys elsewhere; the offline root keys are meant to be
# where they are; the token directory is the token).
/usr/bin/python3 - "$W" "$W/state" "$W/ca" "$W/ca2" "$W/smimesync.conf" "$W/token.pin" >"$W/scan.out" 2>&1 <<'PY' || { cat "$W/scan.out"; fail "a private key is on disk"; }
import os, sys
from cryptography.hazmat.primitives.serialization import load_der_private_key, load_pem_private_key
top, paths = sys.argv[1], sys.argv[2:]
files = []
for p in paths:
    if os.path.isdir(p):
        for d, _, fs in os.walk(p):
            files += [os.path.join(d, f) for f in fs]
    else:
        files.append(p)
bad = 0
for f in files:
    data = open(f, "rb").read()
    if b"PRIVATE KEY-----" in data:
        print(f"{f}: holds a PEM private key"); bad += 1
    for loader in (load_der_private_key,):
        try:
            loader(data, password=None)
            print(f"{f}: is a DER private key"); bad += 1
        except Exception:
            pass
    text = data.strip()
    if len(text) == 64 and all(c in b"0123456789abcdef" for c in text.lower()):
        print(f"{f}: looks like a plain master key"); bad += 1
print(f"scanned {len(files)} files")
sys.exit(1 if bad else 0)
PY
cat "$W/scan.out"

# --- the token disturbed under the signer's signing code ------------------------
mkdir -p "$W/probe1" "$W/probe2" "$W/probe3"
"$PROBE" -c "$W/smimesync.conf" --logout "$W/probe1" >"$W/probe1.out" 2>&1 || { cat "$W/probe1.out"; fail "after a logout"; }
check 'grep -q "reloading" "$W/probe1.out" && grep -q "issued probe-2" "$W/probe1.out"' \
	"a token that forgot the login: the signer reloads, logs in again and signs"
TOKDIR=$(ls -d "$W"/softhsm/tokens/*)
"$PROBE" -c "$W/smimesync.conf" \
	--between "mv '$TOKDIR' '$W/softhsm/tokens/00000000-0000-0000-0000-0000000000a1'" \
	"$W/probe2" >"$W/probe2.out" 2>&1 || { cat "$W/probe2.out"; fail "after unplug and plug back"; }
check 'grep -q "reloading" "$W/probe2.out" && grep -q "issued probe-2" "$W/probe2.out"' \
	"a token unplugged and plugged back under a new identity: the signer finds it again and signs"
check 'openssl verify -CAfile "$ROOT" -untrusted "$W/ca/issuing.pem" "$W/probe2/leaf-2.pem" >/dev/null' \
	"what it signed after the reconnect verifies"
TOKDIR=$(ls -d "$W"/softhsm/tokens/*)
rc=0
"$PROBE" -c "$W/smimesync.conf" --between "mv '$TOKDIR' '$W/softhsm/unplugged'" "$W/probe3" \
	>"$W/probe3.out" 2>&1 || rc=$?
check '[ "$rc" = 2 ] && grep -q "leaf 2: unreachable: .*cannot be reached" "$W/probe3.out"' \
	"a token that stays away makes the CA unreachable (retried later), not misconfigured"
cat "$W/probe3.out"

# --- through a long-lived signer: the token unplugged and plugged back under it --
# The production layout: smimesync-signer serves a socket (here as root, which
# its policy check requires) and smimesync connects to it ([service]
# signer_socket). The signer alone loads the PKCS#11 module and reads the PIN;
# the token goes away and comes back between runs, under the same signer.
mv "$W/softhsm/unplugged" "$W/softhsm/tokens/00000000-0000-0000-0000-0000000000b2"
add_member() {
	cat >"$W/$1.ldif" <<LDIF
dn: uid=$1,ou=people,$SLAPD_BASE
objectClass: inetOrgPerson
uid: $1
cn: New $1
sn: $1
mail: $1@example.org

dn: cn=smime-sales,ou=groups,$SLAPD_BASE
changetype: modify
add: member
member: uid=$1,ou=people,$SLAPD_BASE
LDIF
	ldapmodify -a -x -H "$SLAPD_URI" -D "$SLAPD_ADMIN_DN" -y "$SLAPD_ADMIN_PW_FILE" -f "$W/$1.ldif" >/dev/null
}
outcome() { jq -r ".users[] | select(.mail == \"$2@example.org\") | .outcome" "$W/$1.json"; }
no_failed() { [ "$(jq -r .status "$W/$1.json")" = ok ] && [ "$(jq "[.users[]? | select(.outcome == \"failed\")] | length" "$W/$1.json")" = 0 ]; }
SPID=
if [ "$(id -u)" = 0 ]; then
	"$SMIMESYNC_SIGNER" serve --policy "$W/signer.conf" --socket "$W/signer.sock" >"$W/signer.log" 2>&1 &
	SPID=$!
	test_cleanup_more() { [ -z "$SPID" ] || { kill "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null; } || true; }
	wait_for '[ -S "$W/signer.sock" ]' 100 || { cat "$W/signer.log"; fail "smimesync-signer serve made no socket"; }
	sed "/^\[service\]/a signer_socket = $W/signer.sock" "$W/smimesync.conf" >"$W/live.conf"
else
	echo "# not root: smimesync starts a signer per command (smimesync-signer serve wants a root-owned policy)"
	cp "$W/smimesync.conf" "$W/live.conf"
fi
# An unreachable CA is asked again at the next run (default: 5 minutes later).
sed -i "/^\[ca internal\]/a retry_interval = 0s" "$W/live.conf"
live() { "$SMIMESYNC" -c "$W/live.conf" "$@"; }

add_member newbie
live run --format json >"$W/run2.json" 2>"$W/run2.log" || { tail -20 "$W/run2.log"; fail "run through the signer exited non-zero"; }
check 'no_failed run2 && [ "$(outcome run2 newbie)" = done ]' "through the signer, a new member gets a certificate from the token"
if [ -n "$SPID" ]; then
	strace -f -e trace=open,openat -o "$W/main.trace" "$SMIMESYNC" -c "$W/live.conf" status >/dev/null 2>&1 &&
		"$SMIMESYNC" -c "$W/live.conf" recover newbie@example.org --out "$W/newbie.p12" --credential "$CRED" >/dev/null 2>&1 ||
		fail "status and recover through the socket"
	strace -f -e trace=open,openat -o "$W/main2.trace" "$SMIMESYNC" -c "$W/live.conf" run >/dev/null 2>&1 ||
		fail "a traced run through the socket"
	check 'grep -q "live.conf" "$W/main2.trace" && ! grep -q "token.pin\|libsofthsm2\|softhsm/tokens" "$W/main.trace" "$W/main2.trace"' \
		"smimesync itself never opens the PIN file, the PKCS#11 module or the token: the signer does"
fi

# Unplugged and plugged back under a new identity while the signer holds a session.
TOKDIR=$(ls -d "$W"/softhsm/tokens/*)
mv "$TOKDIR" "$W/softhsm/tokens/00000000-0000-0000-0000-0000000000c3"
add_member newbie2
live run --format json >"$W/run3.json" 2>"$W/run3.log" || { tail -20 "$W/run3.log"; fail "run after the re-plug exited non-zero"; }
check 'no_failed run3 && [ "$(outcome run3 newbie2)" = done ]' \
	"the run after the token was unplugged and plugged back has no failed person; the new member got a certificate"
[ -z "$SPID" ] || check 'grep -q "reloading .*libsofthsm2.so and logging in again" "$W/signer.log"' \
	"the signer process itself reloaded the module and logged in again"

# Unplugged for longer: the person waits (not failed), and gets the certificate once it is back.
TOKDIR=$(ls -d "$W"/softhsm/tokens/*)
mv "$TOKDIR" "$W/softhsm/away"
add_member newbie3
live run --format json >"$W/run4.json" 2>"$W/run4.log" || true
cat "$W/run4.log" | tail -5
live status --format json >"$W/status4.json"
jq '.[] | select(.mail == "newbie3@example.org")' "$W/status4.json"
check 'grep -q "newbie3@example.org.*cannot be reached: no token" "$W/run4.log" &&
	jq -e ".[] | select(.mail == \"newbie3@example.org\" and .serial == null and .pending_step == \"ca_asked\")" "$W/status4.json" >/dev/null &&
	[ "$(jq "[.users[]? | select(.outcome == \"failed\" and .mail != \"newbie3@example.org\")] | length" "$W/run4.json")" = 0 ]' \
	"while the token is away the new member's request stays open (the CA is unreachable, retried), the log says why"
mv "$W/softhsm/away" "$W/softhsm/tokens/00000000-0000-0000-0000-0000000000d4"
live run --format json >"$W/run5.json" 2>"$W/run5.log" || { tail -20 "$W/run5.log"; fail "run after the token came back exited non-zero"; }
check 'no_failed run5 && live status --format json | jq -e ".[] | select(.mail == \"newbie3@example.org\" and .serial != null)" >/dev/null' \
	"once the token is back the waiting member gets the certificate, from the same signer process"
verify_members() {
	for m in newbie newbie2 newbie3; do
		ldapsearch -LLL -o ldif-wrap=no -x -H "$SLAPD_URI" -b "$SLAPD_BASE" "(mail=$m@example.org)" "userCertificate;binary" |
			sed -n "s/^userCertificate;binary:: //p" | base64 -d | openssl x509 -inform DER -out "$W/$m.pem" 2>/dev/null &&
			openssl verify -CAfile "$ROOT" -untrusted "$W/ca/issuing.pem" "$W/$m.pem" >/dev/null || return 1
	done
}
check verify_members "what the signer signed across the re-plugs verifies against the CA certificate"
if [ -n "$SPID" ]; then
	kill "$SPID" 2>/dev/null || true
	wait "$SPID" 2>/dev/null || true
	SPID=
fi

# The PIN as a systemd credential (LoadCredential=token-pin:...): read from
# $CREDENTIALS_DIRECTORY, and a clear refusal when the unit does not pass it.
mkdir -m 700 "$W/creds"
cp "$W/token.pin" "$W/creds/token-pin"
sed "s|^pin_file = .*|pin_credential = token-pin|" "$W/smimesync.conf" >"$W/cred.conf"
mkdir -p "$W/probe4"
check 'CREDENTIALS_DIRECTORY=$W/creds "$PROBE" -c "$W/cred.conf" --count 1 "$W/probe4" >"$W/probe4.out" 2>&1' \
	"pin_credential: the PIN comes from \$CREDENTIALS_DIRECTORY/token-pin"
check '! "$PROBE" -c "$W/cred.conf" --count 1 "$W/probe4" >"$W/probe5.out" 2>&1 &&
	grep -q "LoadCredential=token-pin" "$W/probe5.out"' \
	"without CREDENTIALS_DIRECTORY the signer says which LoadCredential= the unit lacks"

# --- moving a plain master key under the token --------------------------------
# A deployment that had a plain master key sets master_key_uri: the signer
# still opens the plain key (and says to seal it), and master-key rotate
# writes the successor sealed under the token.
mkdir -m 700 "$W/state2" "$W/mig"
(umask 077; openssl rand -hex 32 >"$W/state2/master.key")
sed "s|^state_dir = .*|state_dir = $W/state2|; s|^master_key_file = .*|master_key_file = $W/state2/master.key|" \
	"$W/smimesync.conf" >"$W/mig/smimesync.conf"
MIG=$W/mig/smimesync.conf
# Its own signer policy (and recovery credential), beside it.
SMIMESYNC_CONF=$MIG "$SMIMESYNC" ca policy --write >"$W/mig/policy.out" 2>&1 || { cat "$W/mig/policy.out"; fail "ca policy --write"; }
SMIMESYNC_CONF=$MIG "$SMIMESYNC" run >"$W/mig/run.out" 2>"$W/mig/run.log" || { tail -20 "$W/mig/run.log"; fail "run with a plain master key and master_key_uri"; }
check 'grep -q "warning.*holds a plain master key although master_key_uri is set.*master-key rotate" "$W/mig/run.log"' "a plain master key under master_key_uri works and the log says to seal it"
SMIMESYNC_CONF=$MIG "$SMIMESYNC" master-key rotate >"$W/rotate2.out" 2>&1 || { cat "$W/rotate2.out"; fail "rotate to a sealed key"; }
check 'head -n 1 "$W/state2/master.key" | grep -q "sealed" &&
	SMIMESYNC_CONF=$MIG "$SMIMESYNC" recover "$R" --out "$W/recovered3.p12" --credential "$W/mig/recovery.credential" >/dev/null 2>&1' \
	"master-key rotate seals it under the token, and what it sealed still opens"

test_end
