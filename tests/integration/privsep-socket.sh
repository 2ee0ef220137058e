# SPDX-License-Identifier: ISC
# Sourced by privsep.sh (it needs its slapd, SMTP sink and helpers): the
# production layout of issue #16, with two system users.
#
#   smimesync-signer serve runs as user $SU, started by
#   systemd-socket-activate on the first connection (LISTEN_FDS and
#   LISTEN_PID: the protocol smimesync-signer.socket uses), with a policy
#   that belongs to root; the CA key, the master key and the signing log
#   belong to $SU alone.
#
#   smimesync runs as user $MU with [service] signer_socket: it cannot open
#   a key file, its state directory holds none, and a full run, a CRL and a
#   recovery succeed through the socket. A third user is refused by the
#   signer (SO_PEERCRED). Neither process can dump core.

if [ "$(id -u)" != 0 ] || ! command -v systemd-socket-activate >/dev/null ||
	! command -v setpriv >/dev/null || ! command -v useradd >/dev/null; then
	# CI runs as root with systemd's tools installed: there, nothing is left out.
	echo "# two-user socket case left out: needs root, useradd, setpriv and systemd-socket-activate"
	return 0 2>/dev/null || exit 0
fi

SU=smsig$$
MU=smrun$$
useradd --system --no-create-home --shell /usr/sbin/nologin "$SU"
useradd --system --no-create-home --shell /usr/sbin/nologin "$MU"
SAPID=
test_cleanup_more() {
	[ -z "$SAPID" ] || kill "$SAPID" 2>/dev/null || true
	[ -z "$SAPID" ] || wait "$SAPID" 2>/dev/null || true
	userdel "$SU" 2>/dev/null || true
	userdel "$MU" 2>/dev/null || true
}
as_user() { _u=$1; shift; setpriv --reuid="$_u" --regid="$_u" --clear-groups --no-new-privs -- "$@"; }

# The servers' public files must be reachable by the two users.
for f in "$SLAPD_CA_FILE" "$SMTP_CA_FILE"; do
	chmod 644 "$f"
	d=$(dirname "$f")
	while [ "$d" != "$W" ] && [ "$d" != / ]; do chmod o+x "$d"; d=$(dirname "$d"); done
done
chmod 711 "$W"
T=$W/two
mkdir -p "$T/ca" "$T/keys" "$T/main" "$T/run"
chmod 755 "$T" "$T/ca" "$T/run"

cp "$SLAPD_SVC_PW_FILE" "$T/ldap.secret"
cat >"$T/smimesync.conf" <<CONF
[service]
state_dir = $T/main
master_key_file = $T/keys/master.key
signer_socket = $T/run/signer.sock
log_level = info

[directory corp]
type = ldap
uri = $SLAPD_URI
starttls = required
bind_dn = $SLAPD_SVC_DN
bind_password_file = $T/ldap.secret
base_dn = $SLAPD_BASE
tls_ca_file = $SLAPD_CA_FILE

[ca internal]
type = local
cert_file = $T/ca/issuing.pem
key_file = $T/keys/issuing.key
chain_file = $T/ca/chain.pem
crl_url = http://pki.example.org/two.crl
crl_file = $T/main/two.crl
organization = Example Org
key_type = p256

[mail]
smtp_host = 127.0.0.1
smtp_port = $SMTP_PORT
starttls = required
tls_ca_file = $SMTP_CA_FILE
from = Example PKI <pki@example.org>

[group sales]
directory = corp
group_dn = cn=sales-dach,ou=groups,$SLAPD_BASE
ca = internal
key_type = p256
validity = 365d
CONF
# The administrator, as root, makes the CA and then hands each file to its owner.
mkdir -m 700 "$T/offline"
SMIMESYNC_CONF=$T/smimesync.conf "$SMIMESYNC" ca init --root-key-out "$T/offline/root.key" >"$T/ca-init.out" 2>&1 ||
	fail "ca init for the two-user layout: $(cat "$T/ca-init.out")"
rm -f "$T/recovery.credential"
"$SMIMESYNC_SIGNER" credential --new "$T/operator.credential" >"$T/cred-line" 2>/dev/null ||
	fail "smimesync-signer credential --new"
cat >"$T/signer.conf" <<POLICY
[signer]
state_dir = $T/keys/state
master_key_file = $T/keys/master.key
client_user = $MU
max_certificates_per_hour = 100
$(cat "$T/cred-line")

[ca internal]
cert_file = $T/ca/issuing.pem
key_file = $T/keys/issuing.key
chain_file = $T/ca/chain.pem
crl_url = http://pki.example.org/two.crl
mail_domains = example.org
profiles = mailbox-strict
key_types = p256
max_validity = 365d
POLICY
chmod 644 "$T/signer.conf" "$T/smimesync.conf" "$T/ca"/*.pem
chown -R "$SU:$SU" "$T/keys"
chmod 700 "$T/keys"
chmod 600 "$T/keys/issuing.key" "$T/keys/master.key"
chown -R "$MU:$MU" "$T/main" "$T/ldap.secret" "$T/operator.credential"
chmod 700 "$T/main"
chmod 600 "$T/ldap.secret"

# The socket, as smimesync-signer.socket would hold it; the service starts on
# the first connection with the socket as fd 3 (LISTEN_FDS=1, LISTEN_PID).
systemd-socket-activate -l "$T/run/signer.sock" \
	setpriv --reuid="$SU" --regid="$SU" --clear-groups --no-new-privs -- \
	"$SMIMESYNC_SIGNER" serve --policy "$T/signer.conf" >"$T/signer.log" 2>&1 &
SAPID=$!
wait_for '[ -S "$T/run/signer.sock" ]' 100 || fail "systemd-socket-activate made no socket"
chmod 666 "$T/run/signer.sock" # SocketMode; the signer itself checks who connects

# As a service would: its own HOME (libESMTP looks there), the configuration given.
mrun() { as_user "$MU" env HOME="$T/main" SMIMESYNC_CONF="$T/smimesync.conf" "$SMIMESYNC" "$@"; }
set +e
mrun run --format json >"$T/run.json" 2>"$T/run.log"
rc=$?
set -e
check '[ $rc = 0 ] && [ "$(jq -r .status "$T/run.json")" = ok ] && [ "$(jq -r .counts.issued "$T/run.json")" = 4 ]' \
	"as $MU, behind the socket: a full run issues the four certificates (exit $rc)"
check 'grep -q "serving root and uid $MU" "$T/signer.log"' \
	"the signer took its socket from the activation protocol and serves only root and $MU"
spid=$(sed -n 's/.*smimesync-signer\[\([0-9]*\)\] info.*serving.*/\1/p' "$T/signer.log" | head -n 1)
check '[ -n "$spid" ] && [ "$(awk "/^Uid:/ { print \$2 }" "/proc/$spid/status")" = "$(id -u "$SU")" ]' \
	"the signer runs as $SU"
check '[ -n "$spid" ] && grep -Eq "^Max core file size +0 +0" "/proc/$spid/limits" &&
	[ "$(stat -c %u "/proc/$spid/environ")" = 0 ]' \
	"the signer cannot dump core (RLIMIT_CORE 0) and is not dumpable (its /proc files belong to root)"
for f in "$T/keys/issuing.key" "$T/keys/master.key" "$T/keys/state/signing.log"; do
	check '! as_user "$MU" cat "$f" >/dev/null 2>&1' "$MU cannot open $(basename "$f")"
done
check '[ -z "$(find "$T/main" -type f \( -name "*.key" -o -name "*.credential" \))" ] &&
	! grep -rlq "PRIVATE KEY" "$T/main" 2>/dev/null && ! grep -q "^[0-9a-f]\{64\}$" "$T/main"/* 2>/dev/null' \
	"the state directory of $MU holds no key file"
check 'grep -c "\"event\":\"certificate\"" "$T/keys/state/signing.log" | grep -qx 4 &&
	grep -q "\"client_uid\":$(id -u "$MU")" "$T/keys/state/signing.log"' \
	"the signer logged the four certificates and who asked for them"
head=$(jq -r '"\(.signing_log.lines):\(.signing_log.head)"' "$T/run.json")
check '"$SMIMESYNC_SIGNER" verify-log "$T/keys/state/signing.log" --head "$head" | grep -q "recorded line present"' \
	"the head in the run report ($head) is the signing log's"
check 'mrun audit --signing-log >"$T/audit.out" 2>&1 && grep -q "recorded line .* present" "$T/audit.out"' \
	"smimesync audit --signing-log checks the head the run recorded"
mrun revoke joerg.mueller@example.org --reason keyCompromise >"$T/revoke.out" 2>&1 || fail "revoke as $MU: $(cat "$T/revoke.out")"
check 'openssl crl -inform DER -in "$T/main/two.crl" -CAfile "$T/ca/chain.pem" -noout -text 2>&1 | grep -q "Key Compromise"' \
	"revoke and the CRL go through the socket; the CRL verifies and lists the revocation"
check 'mrun recover sybil@example.org --out "$T/main/sybil.p12" --credential "$T/operator.credential" >"$T/recover.pw" 2>"$T/recover.err" &&
	openssl pkcs12 -in "$T/main/sybil.p12" -passin "pass:$(cat "$T/recover.pw")" -nokeys -noout 2>/dev/null' \
	"recover as $MU with the operator's credential: the signer builds the PKCS#12"
# Someone else on the host: turned away at the door.
set +e
as_user 65534 "$SMIMESYNC" -c "$T/smimesync.conf" check-config -v >"$T/nobody.out" 2>&1
set -e
check 'grep -q "uid 65534 may not use this signer" "$T/nobody.out"' \
	"a third user is refused by the signer (SO_PEERCRED)"
# smimesync itself keeps no core either.
setpriv --reuid="$MU" --regid="$MU" --clear-groups --no-new-privs -- env HOME="$T/main" \
	sh -c 'ulimit -c unlimited; exec "$0" -c "$1" daemon' "$SMIMESYNC" "$T/smimesync.conf" \
	>"$T/daemon.log" 2>&1 &
dpid=$!
wait_for 'grep -q "Max core file size" "/proc/$dpid/limits" 2>/dev/null && grep -Eq "^Max core file size +0 +0" "/proc/$dpid/limits"' 100 || true
check 'grep -Eq "^Max core file size +0 +0" "/proc/$dpid/limits" && [ "$(stat -c %u "/proc/$dpid/environ")" = 0 ]' \
	"smimesync turns core dumps off itself, even when its limit allowed them"
kill "$dpid" 2>/dev/null || true
wait "$dpid" 2>/dev/null || true
