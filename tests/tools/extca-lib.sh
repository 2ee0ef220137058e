# SPDX-License-Identifier: ISC
# Shared by the external-CA tests (ca_cfssl.sh, ca_helper.sh, ca_ejbca.sh,
# ca_sectigo.sh). POSIX sh, sourced after smtp-lib.sh (whose smtp_free_port
# they use for their servers too) and test-lib.sh:
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
#   extca_require [python3-cryptography] [faketime]
#       smtp_require, then skip (exit 77) unless sqlite3, jq and what is named are here
#   extca_begin NAME
#       test_begin NAME (test-lib.sh), the PKI in $W/pki, the SMTP sink in $W/smtp;
#       stops the server extca_start_fake started at exit
#   extca_start_fake ejbca|sectigo
#       tests/tools/fake-rest-ca.py on $PORT, logging to $W/requests.jsonl, doing
#       what $W/behaviour.json says
#   extca_set_ca FILE      replace the [ca ext] section (the last one) by FILE
#   extca_add_person NAME  NAME,NAME@example.org joins the CSV
#   extca_item MAIL FIELD REPORT   .FIELD of MAIL in the users of $W/REPORT.json
#   extca_cert MAIL        $W/MAIL.pem and $W/MAIL-chain.pem from the store

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

extca_require() {
	smtp_require
	for _t in sqlite3 jq "$@"; do
		if [ "$_t" = python3-cryptography ]; then
			/usr/bin/python3 -c 'import cryptography' 2>/dev/null && continue
		elif command -v "$_t" >/dev/null; then
			continue
		fi
		echo "SKIP: $_t is not installed (tools/install-deps)"
		exit 77
	done
}

EXTCA_FPID=
test_cleanup_more() {
	[ -z "$EXTCA_FPID" ] || { kill "$EXTCA_FPID" 2>/dev/null && wait "$EXTCA_FPID" 2>/dev/null; } || true
}

extca_begin() {
	test_begin "$1"
	mkdir -p "$W/smtp"
	extca_make_pki "$W/pki" || { fail "cannot make the test PKI"; exit 1; }
	smtp_start "$W/smtp"
	DB=$W/state/smimesync.db
}

extca_start_fake() {
	PORT=$(smtp_free_port)
	/usr/bin/python3 "$top_srcdir/tests/tools/fake-rest-ca.py" "$1" --port "$PORT" \
		--pki "$W/pki" --log "$W/requests.jsonl" --behaviour "$W/behaviour.json" \
		--issued "$W/issued.json" 2>"$W/fake.log" &
	EXTCA_FPID=$!
	extca_wait_port "$PORT" 300 || { fail "the $1 stand-in did not start"; cat "$W/fake.log"; exit 1; }
}

extca_set_ca() {
	sed -n '1,/^\[ca ext\]$/p' "$SMIMESYNC_CONF" >"$W/conf.new"
	cat "$1" >>"$W/conf.new"
	mv "$W/conf.new" "$SMIMESYNC_CONF"
}

extca_add_person() { echo "$1,$1@example.org," >>"$W/people.csv"; }

extca_item() { jq -r --arg m "$1" '.users[] | select(.mail == $m) | .'"$2" "$W/$3.json"; }

extca_cert() {
	sqlite3 "$DB" "SELECT chain_pem FROM certs WHERE mail = '$1' AND status = 'valid'" >"$W/$1-chain.pem"
	sqlite3 "$DB" "SELECT writefile('$W/$1.der', der) FROM certs WHERE mail = '$1' AND status = 'valid'" >/dev/null
	openssl x509 -inform DER -in "$W/$1.der" -out "$W/$1.pem"
}
