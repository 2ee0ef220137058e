# SPDX-License-Identifier: ISC
# Shared by the external-CA tests (ca_cfssl.sh, ca_helper.sh, ca_ejbca.sh,
# ca_sectigo.sh). POSIX sh, sourced after smtp-lib.sh (whose smtp_free_port
# they use for their servers too):
#
#   extca_make_pki DIR
#       A throwaway PKI made with openssl, P-256 throughout:
#         DIR/root.pem, root.key         the root (the trust anchor)
#         DIR/issuing.pem, issuing.key   an S/MIME issuing CA under it
#         DIR/chain.pem                  issuing, then root
#         DIR/other-root.pem             an unrelated root (trust failures)
#         DIR/server.pem, server.key     TLS server certificate for 127.0.0.1
#         DIR/client.pem, client.key     TLS client certificate (clientAuth)
#         DIR/stranger.pem, stranger.key TLS client certificate of another CA
#   extca_write_config WORKDIR CA_SECTION_FILE
#       WORKDIR/smimesync.conf: a CSV directory of two people (WORKDIR/people.csv),
#       the SMTP sink that runs (smtp_start), group "staff" issued by [ca ext],
#       whose section body is read from CA_SECTION_FILE; exports SMIMESYNC_CONF.
#   extca_wait_port PORT TRIES   until something listens (0.1 s apart)

extca_make_pki() {
	_d=$1
	mkdir -p "$_d" || return 1
	_ossl() { openssl "$@" >/dev/null 2>&1; }
	for _ca in root other-root; do
		_ossl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
			-keyout "$_d/$_ca.key" -out "$_d/$_ca.pem" -days 3650 \
			-subj "/O=smimesync tests/CN=External CA test $_ca" \
			-addext "basicConstraints=critical,CA:TRUE" \
			-addext "keyUsage=critical,keyCertSign,cRLSign" \
			-addext "subjectKeyIdentifier=hash" || return 1
	done
	_ossl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$_d/issuing.key" -out "$_d/issuing.csr" \
		-subj "/O=smimesync tests/CN=External CA test issuing" || return 1
	printf '%s\n' "basicConstraints=critical,CA:TRUE,pathlen:0" \
		"keyUsage=critical,keyCertSign,cRLSign" "subjectKeyIdentifier=hash" \
		"authorityKeyIdentifier=keyid" >"$_d/issuing.ext"
	_ossl x509 -req -in "$_d/issuing.csr" -CA "$_d/root.pem" -CAkey "$_d/root.key" \
		-CAcreateserial -days 3000 -extfile "$_d/issuing.ext" -out "$_d/issuing.pem" || return 1
	cat "$_d/issuing.pem" "$_d/root.pem" >"$_d/chain.pem"
	for _leaf in server:root client:root stranger:other-root; do
		_n=${_leaf%%:*}
		_by=${_leaf#*:}
		_ossl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
			-keyout "$_d/$_n.key" -out "$_d/$_n.csr" -subj "/CN=smimesync test $_n" || return 1
		if [ "$_n" = server ]; then
			printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=digitalSignature" \
				"extendedKeyUsage=serverAuth" \
				"subjectAltName=DNS:localhost,IP:127.0.0.1" >"$_d/$_n.ext"
		else
			printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=digitalSignature" \
				"extendedKeyUsage=clientAuth" >"$_d/$_n.ext"
		fi
		_ossl x509 -req -in "$_d/$_n.csr" -CA "$_d/$_by.pem" -CAkey "$_d/$_by.key" \
			-CAcreateserial -days 1000 -extfile "$_d/$_n.ext" -out "$_d/$_n.pem" || return 1
		chmod 600 "$_d/$_n.key"
	done
	rm -f "$_d"/*.csr "$_d"/*.ext "$_d"/*.srl
}

extca_wait_port() {
	_i=0
	while [ "$_i" -lt "$2" ]; do
		if /usr/bin/python3 -c 'import socket, sys
socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' "$1" 2>/dev/null; then
			return 0
		fi
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

extca_write_config() {
	_w=$1
	mkdir -p "$_w/state"
	chmod 700 "$_w/state"
	cat >"$_w/people.csv" <<'CSV'
Name,Mail,Alt_Mails
Ada Lovelace,ada@example.org,a.lovelace@example.org
Alan Turing,alan@example.org,
CSV
	{
		cat <<CONF
[service]
state_dir = $_w/state
log_level = info

[directory people]
type = csv
file = $_w/people.csv

[mail]
smtp_host = 127.0.0.1
smtp_port = $SMTP_PORT
tls_ca_file = $SMTP_CA_FILE
from = Example PKI <pki@example.org>

[group staff]
directory = people
ca = ext
key_type = p256
validity = 365d

[ca ext]
CONF
		cat "$2"
	} >"$_w/smimesync.conf"
	SMIMESYNC_CONF=$_w/smimesync.conf
	export SMIMESYNC_CONF
}
