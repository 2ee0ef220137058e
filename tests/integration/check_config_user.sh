#!/bin/sh
# SPDX-License-Identifier: ISC
# check-config looks with the eyes of the user the service runs as (issue
# #18, item 5): --as-user nobody reports a secret only root can read, an
# empty secret, a configuration the user cannot read, one everybody may
# change, a state directory it cannot write; --unit FILE (and its drop-ins)
# reports a CRL the sandbox keeps read-only, and a drop-in with
# ReadWritePaths= lifts it; a user it cannot become is refused. Every
# verdict comes from the kernel: the check runs in a child that became
# nobody. Needs root (as CI runs): switching users is root's alone.
set -u
: "${top_srcdir:?}" "${SMIMESYNC:?}"
. "$top_srcdir/tests/tools/test-lib.sh"
unset SMIMESYNC_CONF SMIMESYNC_STATE_DIR JOURNAL_STREAM
if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: check-config --as-user switches users, which needs root (CI runs as root)"
	exit 77
fi
getent passwd nobody >/dev/null || { echo "SKIP: there is no user nobody"; exit 77; }
ngroup=$(id -gn nobody)
as_nobody() { setpriv --reuid=nobody --regid="$ngroup" --init-groups "$@"; }

test_begin ccuser
chmod 755 "$W"
mkdir -m 700 "$W/state"
mkdir -m 755 "$W/crl"
printf 'secret\n' >"$W/ldap.secret"
chmod 600 "$W/ldap.secret"
cat >"$W/c.conf" <<CONF
[service]
state_dir = $W/state

[directory corp]
type = ldap
uri = ldap://127.0.0.1:1
bind_dn = cn=smimesync,dc=example,dc=org
bind_password_file = $W/ldap.secret
base_dn = dc=example,dc=org

[ca internal]
type = local
cert_file = $W/state/ca/issuing.pem
key_file = $W/state/ca/issuing.key
chain_file = $W/state/ca/chain.pem
crl_url = http://pki.example.org/smime.crl
crl_file = $W/crl/smime.crl

[mail]
smtp_host = 127.0.0.1
from = PKI <pki@example.org>

[group g]
directory = corp
group_dn = cn=g,dc=example,dc=org
ca = internal
CONF
chmod 644 "$W/c.conf"
S() { "$SMIMESYNC" -c "$W/c.conf" "$@"; }

# Root-owned state and secret: fine for root, not for nobody.
"$SMIMESYNC" -c "$W/c.conf" check-config >"$W/root.out" 2>&1
check '! grep -q "ldap.secret" "$W/root.out" && grep -q "checked as root" "$W/root.out"' \
	"as root, the secret is readable and the summary says who looked"
S check-config --as-user nobody >"$W/out" 2>&1; rc=$?
check '[ $rc = 1 ]' "check-config --as-user nobody fails (rc=$rc)"
check "grep -q '^$W/c.conf:8: \[directory corp\] bind_password_file: $W/ldap.secret is not readable by user nobody (owner root, mode 0600).*run: chown nobody $W/ldap.secret' '$W/out'" \
	"an unreadable secret is reported at its directive, with owner, mode and the chown"
check "grep -q 'state_dir: $W/state is not writable by user nobody' '$W/out'" \
	"a state directory nobody cannot write is reported"
check "grep -q 'problems found in $W/c.conf (checked as user nobody)' '$W/out'" \
	"the summary says the check ran as nobody"

# Give them to nobody, as the README's install steps do for the service user.
chown nobody "$W/ldap.secret" "$W/state"
install -d -m 700 -o nobody "$W/offline" # the medium the root key goes to
as_nobody "$SMIMESYNC" -c "$W/c.conf" ca init --root-key-out "$W/offline/root.key" >"$W/init.out" 2>&1 ||
	{ fail "ca init as nobody"; cat "$W/init.out"; }
chown nobody "$W/crl"
S check-config --as-user nobody >"$W/out" 2>&1; rc=$?
check '[ $rc = 0 ] && grep -qx "configuration OK (checked as user nobody)" "$W/out"' \
	"once nobody owns its files: configuration OK (checked as user nobody)"
[ $rc = 0 ] || cat "$W/out"
"$SMIMESYNC" -c "$W/c.conf" check-config >"$W/out" 2>&1; rc=$?
check '[ $rc = 0 ] && ! grep -q "belongs to nobody" "$W/out"' \
	"as root, files of the state directory's owner (the service user) are rightly its"

# An empty secret.
: >"$W/ldap.secret"
S check-config --as-user nobody >"$W/out" 2>&1
check "grep -q 'bind_password_file: $W/ldap.secret is empty' '$W/out'" "an empty secret is reported"
printf 'secret\n' >"$W/ldap.secret"

# A secret root leaves behind after editing it as root with a fresh file.
rm -f "$W/ldap.secret"
printf 'secret\n' >"$W/ldap.secret"
chmod 600 "$W/ldap.secret"
S check-config --as-user nobody >"$W/out" 2>&1
check "grep -q 'ldap.secret is not readable by user nobody (owner root' '$W/out'" \
	"a secret re-created by root is caught again"
chown nobody "$W/ldap.secret"

# The configuration itself: unreadable, then writable by everybody, then
# owned by somebody else (checked as root).
chmod 600 "$W/c.conf"
S check-config --as-user nobody >"$W/out" 2>&1; rc=$?
check "[ $rc = 1 ] && grep -q '$W/c.conf is not readable by user nobody (owner root, mode 0600).*could not even start' '$W/out'" \
	"a configuration the service user cannot read is reported before anything else"
chmod 666 "$W/c.conf"
S check-config --as-user nobody >"$W/out" 2>&1
check "grep -q '$W/c.conf is writable by everybody (mode 0666); run: chmod o-w $W/c.conf' '$W/out'" \
	"a world-writable configuration is reported with the chmod"
chmod 644 "$W/c.conf"
chown nobody "$W/c.conf"
"$SMIMESYNC" -c "$W/c.conf" check-config >"$W/out" 2>&1
check "grep -q '$W/c.conf belongs to nobody, who could change it' '$W/out'" \
	"a configuration someone else owns is reported when root checks it"
chown root "$W/c.conf"

# The unit's sandbox: ProtectSystem=strict leaves the CRL directory read-only.
cat >"$W/smimesync.service" <<UNIT
[Service]
User=nobody
ExecStart=$SMIMESYNC -c $W/c.conf daemon
ProtectSystem=strict
ReadWritePaths=-$W/state
UNIT
S check-config --unit "$W/smimesync.service" >"$W/out" 2>&1; rc=$?
check "[ $rc = 1 ] && grep -q 'crl_file: $W/crl/smime.crl cannot be written by the service: $W/crl is read-only for the service (ProtectSystem=strict in $W/smimesync.service).*ReadWritePaths=$W/crl' '$W/out'" \
	"--unit: a CRL outside ReadWritePaths= is reported with the drop-in that allows it"
check "grep -q 'checked as user nobody, in the sandbox of $W/smimesync.service' '$W/out'" \
	"--unit as root checks as the unit's User="
mkdir "$W/smimesync.service.d"
printf '[Service]\nReadWritePaths=%s/crl\n' "$W" >"$W/smimesync.service.d/crl.conf"
S check-config --unit "$W/smimesync.service" >"$W/out" 2>&1; rc=$?
check '[ $rc = 0 ] && grep -q "^configuration OK (checked as user nobody, in the sandbox of" "$W/out"' \
	"a drop-in with ReadWritePaths= for the CRL makes it pass"
[ $rc = 0 ] || cat "$W/out"

# Users that cannot be had.
S check-config --as-user no-such-user-here >"$W/out" 2>&1; rc=$?
check "[ $rc = 1 ] && grep -q 'there is no user no-such-user-here' '$W/out'" "an unknown user is named"
as_nobody "$SMIMESYNC" -c "$W/c.conf" check-config --as-user root >"$W/out" 2>&1; rc=$?
check "[ $rc = 2 ] && grep -q 'only root can look at the files with another user' '$W/out'" \
	"only root may check as another user"

test_end
