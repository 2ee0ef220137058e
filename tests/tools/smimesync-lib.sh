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
#
# The sections it is made of, for tests that need another [service] or
# [group] around the same servers (each prints to stdout):
#
#   smimesync_conf_ldap SECRET_FILE
#     [directory corp]: the throwaway slapd, StartTLS, bound as its service
#     account with the password in SECRET_FILE.
#   smimesync_conf_local_ca CERT_DIR KEY_FILE [LINES]
#     [ca internal]: an internal CA with issuing.pem and chain.pem in
#     CERT_DIR and its key at KEY_FILE, then LINES (crl_url, ...).
#   smimesync_conf_mail [TLS_LINES]
#     [mail]: the SMTP sink on $SMTP_PORT; TLS_LINES default to STARTTLS
#     verified against the sink's CA.
#
# And one that needs no server at all, for the command line and
# check-config:
#
#   smimesync_offline_config FILE STATE_DIR CA_DIR [SERVICE_LINES] [DIRECTORY_LINES] [CA_LINES]
#     writes FILE: [service] with STATE_DIR, a [directory corp] nobody
#     answers (ldap://127.0.0.1:1), an internal CA with its files in
#     CA_DIR, mail to 127.0.0.1 and one [group g]. SERVICE_LINES end
#     [service], DIRECTORY_LINES come after the directory's uri, CA_LINES
#     after the CA's crl_url; empty ones add no line, so the lines of the
#     file stay where tests expect them.

# LINES, if not empty, each on its own line.
smimesync_conf_lines() {
	[ -z "${1:-}" ] || printf '%s\n' "$1"
}

smimesync_conf_ldap() {
	cat <<CONF
[directory corp]
type = ldap
uri = $SLAPD_URI
starttls = required
bind_dn = $SLAPD_SVC_DN
bind_password_file = $1
base_dn = $SLAPD_BASE
tls_ca_file = $SLAPD_CA_FILE
CONF
}

smimesync_conf_local_ca() {
	cat <<CONF
[ca internal]
type = local
cert_file = $1/issuing.pem
key_file = $2
chain_file = $1/chain.pem
CONF
	smimesync_conf_lines "${3:-}"
}

smimesync_conf_mail() {
	printf '[mail]\nsmtp_host = 127.0.0.1\nsmtp_port = %s\n' "$SMTP_PORT"
	smimesync_conf_lines "${1:-starttls = required
tls_ca_file = $SMTP_CA_FILE}"
	printf 'from = Example PKI <pki@example.org>\n'
}

smimesync_offline_config() {
	{
		printf '[service]\nstate_dir = %s\n' "$2"
		smimesync_conf_lines "${4:-}"
		printf '\n[directory corp]\ntype = ldap\nuri = ldap://127.0.0.1:1\n'
		smimesync_conf_lines "${5:-}"
		printf 'base_dn = dc=example,dc=org\n\n'
		smimesync_conf_local_ca "$3" "$3/issuing.key" "crl_url = http://pki.example.org/smime.crl"
		smimesync_conf_lines "${6:-}"
		cat <<CONF

[mail]
smtp_host = 127.0.0.1
from = PKI <pki@example.org>

[group g]
directory = corp
group_dn = cn=g,dc=example,dc=org
ca = internal
CONF
	} >"$1"
}

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
	{
		cat <<CONF
# Written by tests/tools/smimesync-lib.sh for a throwaway slapd and SMTP sink.
[service]
state_dir = $_w/state
master_key_file = $_w/state/master.key
log_level = info

CONF
		smimesync_conf_ldap "$_w/ldap.secret"
		echo
		smimesync_conf_local_ca "$_w/ca" "$_w/ca/issuing.key" "crl_url = http://pki.example.org/smime.crl
aia_url = http://pki.example.org/issuing.crt
organization = Example Org
key_type = p384"
		echo
		smimesync_conf_mail
		cat <<CONF

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
	} >"$_w/smimesync.conf"
	SMIMESYNC_CONF=$_w/smimesync.conf
	export SMIMESYNC_CONF
}
