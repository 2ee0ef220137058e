# SPDX-License-Identifier: ISC
# Shared by the end-to-end tests and tools/demo: write a smimesync
# configuration for the throwaway slapd (slapd-lib.sh) and SMTP sink
# (smtp-lib.sh) that are running, so a sync runs against real servers.
#
#   smimesync_write_config WORKDIR [KEY_TYPE_SALES] [KEY_TYPE_STAFF]
#     writes WORKDIR/smimesync.conf, WORKDIR/ldap.secret, state in WORKDIR/state,
#     the CA in WORKDIR/ca; exports SMIMESYNC_CONF, and ROOT_KEY_OUT, where
#     "ca init --root-key-out" puts the root key: WORKDIR/offline stands for
#     the removable media it belongs on, apart from the CA's files.

smimesync_write_config() {
	_w=$1
	_kt_sales=${2:-rsa2048}
	_kt_staff=${3:-p256}
	mkdir -p "$_w/state" "$_w/ca" "$_w/offline"
	chmod 700 "$_w/state" "$_w/ca" "$_w/offline"
	ROOT_KEY_OUT=$_w/offline/root.key
	export ROOT_KEY_OUT
	cp "$SLAPD_SVC_PW_FILE" "$_w/ldap.secret"
	chmod 600 "$_w/ldap.secret"
	cat >"$_w/smimesync.conf" <<CONF
# Written by tests/tools/smimesync-lib.sh for a throwaway slapd and SMTP sink.
[service]
state_dir = $_w/state
master_key_file = $_w/state/master.key
log_level = info

[directory corp]
type = ldap
uri = $SLAPD_URI
starttls = required
bind_dn = $SLAPD_SVC_DN
bind_password_file = $_w/ldap.secret
base_dn = $SLAPD_BASE
tls_ca_file = $SLAPD_CA_FILE

[ca internal]
type = local
cert_file = $_w/ca/issuing.pem
key_file = $_w/ca/issuing.key
chain_file = $_w/ca/chain.pem
crl_url = http://pki.example.org/smime.crl
aia_url = http://pki.example.org/issuing.crt
organization = Example Org
key_type = p384

[mail]
smtp_host = 127.0.0.1
smtp_port = $SMTP_PORT
starttls = required
tls_ca_file = $SMTP_CA_FILE
from = Example PKI <pki@example.org>

[group smime-sales]
directory = corp
group_dn = cn=smime-sales,ou=groups,$SLAPD_BASE
ca = internal
key_type = $_kt_sales
validity = 365d
renew_before = 15d
pkcs12 = modern

[group smime-staff]
directory = corp
group_dn = cn=smime-staff,ou=groups,$SLAPD_BASE
ca = internal
key_type = $_kt_staff
validity = 365d
renew_before = 15d
pkcs12 = compat
CONF
	SMIMESYNC_CONF=$_w/smimesync.conf
	export SMIMESYNC_CONF
}
