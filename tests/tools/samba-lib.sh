# SPDX-License-Identifier: ISC
# A throwaway Samba Active Directory domain controller for integration
# tests. POSIX sh; source it:
#
#   . "$top_srcdir/tests/tools/samba-lib.sh"
#   samba_require                 # exit 77 (skip) if samba/samba-tool/ldap-utils/openssl are missing
#   work=$(mktemp -d /tmp/smimesync-ad.XXXXXX)
#   trap 'samba_stop; rm -rf "$work"' EXIT
#   samba_start "$work"           # provisions a domain, starts samba, exports SAMBA_*
#   samba_ldap ldapadd -f users.ldif   # any ldap-utils tool, bound as the domain admin
#   ...
#   samba_stop                    # kill by recorded pid and wait (safe to repeat)
#   samba_kerberos                # krb5.conf + SPN ldap/localhost for GSSAPI binds
#   samba_keytab ACCOUNT FILE     # export an account's keys to a keytab
#
# After samba_start:
#   SAMBA_URI=ldaps://127.0.0.1        SAMBA_LDAP_URI=ldap://127.0.0.1 (StartTLS)
#   SAMBA_BASE=DC=example,DC=test      SAMBA_REALM=EXAMPLE.TEST
#   SAMBA_ADMIN_DN=CN=Administrator,CN=Users,DC=example,DC=test
#   SAMBA_ADMIN_PW_FILE=WORKDIR/admin.pw (mode 600, no newline)
#   SAMBA_CA_FILE=WORKDIR/tls/ca.pem   (test CA; the DC's certificate names
#                                       127.0.0.1 and localhost)
#   SAMBA_CONF=WORKDIR/dc/etc/smb.conf SAMBA_PRIVATE=WORKDIR/dc/private
#   SAMBA_PID, SAMBA_WORKDIR, SAMBA_LOG=WORKDIR/samba.log
#
# Samba's ports are fixed (LDAP 389, LDAPS 636, GC 3268, Kerberos 88), so
# only one test DC can run on a machine: samba_start takes an exclusive
# flock on /tmp/smimesync-samba.lock (held until the shell exits), so two
# test runs on one machine wait for each other instead of colliding.
# Provisioning is the default hardened DC: simple binds only over TLS
# ("ldap server require strong auth = yes"). SAMBA_STRONG_AUTH=no before
# samba_start allows them over plain LDAP too.
#
# The DC uses our own test CA rather than the certificate Samba generates
# at first start (private/tls/ca.pem), because that one names only the
# machine's DNS name and TLS verification against 127.0.0.1 would fail.

SAMBA_PID=

samba_require() {
	PATH=$PATH:/usr/sbin:/usr/local/sbin
	export PATH
	for samba_req_tool in samba samba-tool ldapsearch ldapadd ldapmodify openssl flock; do
		if ! command -v "$samba_req_tool" >/dev/null 2>&1; then
			echo "SKIP: $samba_req_tool is not installed (Debian: tools/install-deps installs samba-ad-dc, samba, ldb-tools, ldap-utils)" >&2
			exit 77
		fi
	done
	samba_gss=no
	for samba_f in /usr/lib/*/sasl2/libgssapiv2.so /usr/lib/sasl2/libgssapiv2.so; do
		[ -e "$samba_f" ] && samba_gss=yes
	done
	if [ $samba_gss = no ]; then
		echo "SKIP: the Cyrus SASL GSSAPI module is not installed (Debian: apt-get install libsasl2-modules-gssapi-mit)" >&2
		exit 77
	fi
	if [ ! -d /usr/share/samba/setup/ad-schema ]; then
		echo "SKIP: the Samba AD schema files are not installed (Debian: apt-get install samba-ad-provision)" >&2
		exit 77
	fi
}

samba_fail() {
	echo "samba-lib: $*" >&2
	for samba_f in "${SAMBA_LOG:-}" "${SAMBA_WORKDIR:-/nonexistent}/provision.log"; do
		if [ -n "$samba_f" ] && [ -s "$samba_f" ]; then
			echo "--- last lines of $samba_f ---" >&2
			tail -n 30 "$samba_f" >&2
		fi
	done
	samba_stop
	exit 1
}

samba_make_tls() {
	samba_tls=$1
	mkdir -p "$samba_tls" || return 1
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$samba_tls/ca.key" -out "$samba_tls/ca.pem" -days 1000 \
		-subj "/O=smimesync tests/CN=smimesync test AD CA" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" >/dev/null 2>&1 || return 1
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$samba_tls/server.key" -out "$samba_tls/server.csr" \
		-subj "/O=smimesync tests/CN=localhost" >/dev/null 2>&1 || return 1
	printf '%s\n' "basicConstraints=critical,CA:FALSE" \
		"keyUsage=critical,digitalSignature,keyAgreement" \
		"extendedKeyUsage=serverAuth" \
		"subjectAltName=IP:127.0.0.1,DNS:localhost" > "$samba_tls/server.ext"
	openssl x509 -req -in "$samba_tls/server.csr" -CA "$samba_tls/ca.pem" \
		-CAkey "$samba_tls/ca.key" -CAcreateserial -days 1000 -sha256 \
		-extfile "$samba_tls/server.ext" -out "$samba_tls/server.pem" >/dev/null 2>&1 || return 1
	# Samba refuses a key file others can read.
	chmod 600 "$samba_tls/server.key" "$samba_tls/ca.key"
}

# samba_ldap TOOL ARGS...: an ldap-utils tool bound as the domain admin over LDAPS.
samba_ldap() {
	samba_tool=$1
	shift
	LDAPTLS_CACERT=$SAMBA_CA_FILE LDAPTLS_REQCERT=demand \
		"$samba_tool" -x -H "$SAMBA_URI" -D "$SAMBA_ADMIN_DN" -y "$SAMBA_ADMIN_PW_FILE" "$@"
}

samba_start() {
	SAMBA_WORKDIR=$(cd "$1" && pwd) || samba_fail "no such work directory: $1"
	SAMBA_REALM=EXAMPLE.TEST
	SAMBA_BASE=DC=example,DC=test
	SAMBA_ADMIN_DN=CN=Administrator,CN=Users,$SAMBA_BASE
	SAMBA_ADMIN_PW_FILE=$SAMBA_WORKDIR/admin.pw
	SAMBA_CA_FILE=$SAMBA_WORKDIR/tls/ca.pem
	SAMBA_URI=ldaps://127.0.0.1
	SAMBA_LDAP_URI=ldap://127.0.0.1
	SAMBA_CONF=$SAMBA_WORKDIR/dc/etc/smb.conf
	SAMBA_PRIVATE=$SAMBA_WORKDIR/dc/private
	SAMBA_LOG=$SAMBA_WORKDIR/samba.log
	export SAMBA_WORKDIR SAMBA_REALM SAMBA_BASE SAMBA_ADMIN_DN SAMBA_ADMIN_PW_FILE \
		SAMBA_CA_FILE SAMBA_URI SAMBA_LDAP_URI SAMBA_CONF SAMBA_PRIVATE SAMBA_LOG

	# One DC per machine: wait for any other test run to finish with its DC.
	exec 9>/tmp/smimesync-samba.lock || samba_fail "cannot open /tmp/smimesync-samba.lock"
	if ! flock -n 9; then
		echo "samba-lib: another test run uses the Samba DC (ports 389/636 are fixed); waiting for it" >&2
		flock 9 || samba_fail "cannot lock /tmp/smimesync-samba.lock"
	fi
	if ldapsearch -x -LLL -H "$SAMBA_LDAP_URI" -b "" -s base namingContexts >/dev/null 2>&1; then
		samba_fail "something already answers LDAP on 127.0.0.1:389 (a system slapd or samba?); stop it first: the test DC needs ports 389, 636 and 88"
	fi

	# An AD password must have three character classes.
	(umask 077 && printf 'Adm-%s-1x' "$(openssl rand -hex 12)" > "$SAMBA_ADMIN_PW_FILE") ||
		samba_fail "cannot write $SAMBA_ADMIN_PW_FILE"
	samba_make_tls "$SAMBA_WORKDIR/tls" || samba_fail "cannot create test TLS certificates with openssl"

	# An empty -s file keeps /etc/samba/smb.conf out; every --option lands
	# in the smb.conf provisioning writes.
	: > "$SAMBA_WORKDIR/empty.conf"
	if ! samba-tool domain provision -s "$SAMBA_WORKDIR/empty.conf" \
		--targetdir="$SAMBA_WORKDIR/dc" --realm="$SAMBA_REALM" --domain=EXAMPLE \
		--server-role=dc --dns-backend=NONE --use-rfc2307 --host-ip=127.0.0.1 \
		--adminpass="$(cat "$SAMBA_ADMIN_PW_FILE")" \
		--option="interfaces = 127.0.0.1" --option="bind interfaces only = yes" \
		--option="server services = ldap, kdc" \
		--option="pid directory = $SAMBA_WORKDIR/dc" \
		--option="log file = $SAMBA_LOG" \
		--option="tls enabled = yes" \
		--option="tls keyfile = $SAMBA_WORKDIR/tls/server.key" \
		--option="tls certfile = $SAMBA_WORKDIR/tls/server.pem" \
		--option="tls cafile = $SAMBA_CA_FILE" \
		--option="ldap server require strong auth = ${SAMBA_STRONG_AUTH:-yes}" \
		> "$SAMBA_WORKDIR/provision.log" 2>&1; then
		samba_fail "samba-tool domain provision failed (its output, $SAMBA_WORKDIR/provision.log, ends below; a missing samba-ad-provision package or a full /tmp are the usual causes)"
	fi
	[ -f "$SAMBA_CONF" ] || samba_fail "provisioning wrote no $SAMBA_CONF"

	: > "$SAMBA_LOG"
	# Foreground, one process: the pid we record is the DC, and killing it ends it.
	samba --foreground --no-process-group --model=single -s "$SAMBA_CONF" \
		>> "$SAMBA_WORKDIR/samba.out" 2>&1 &
	SAMBA_PID=$!
	export SAMBA_PID
	samba_up=no
	samba_wait=0
	while [ $samba_wait -lt 1200 ]; do
		kill -0 "$SAMBA_PID" 2>/dev/null || break
		if LDAPTLS_CACERT=$SAMBA_CA_FILE ldapsearch -x -LLL -H "$SAMBA_URI" -D "$SAMBA_ADMIN_DN" \
			-y "$SAMBA_ADMIN_PW_FILE" -b "$SAMBA_BASE" -s base dn >/dev/null 2>&1; then
			samba_up=yes
			break
		fi
		sleep 0.1 2>/dev/null || sleep 1
		samba_wait=$((samba_wait + 1))
	done
	if [ $samba_up != yes ]; then
		[ -s "$SAMBA_WORKDIR/samba.out" ] && cat "$SAMBA_WORKDIR/samba.out" >&2
		samba_fail "samba (pid $SAMBA_PID) did not answer LDAPS on $SAMBA_URI as $SAMBA_ADMIN_DN"
	fi
}

# samba_kerberos: Kerberos for GSSAPI binds to ldap://localhost. Writes
# SAMBA_KRB5_CONFIG (realm EXAMPLE.TEST, KDC 127.0.0.1, no reverse DNS) and
# gives the DC's machine account the service principal ldap/localhost, the
# name clients use. Export KRB5_CONFIG=$SAMBA_KRB5_CONFIG to use it.
samba_kerberos() {
	SAMBA_KRB5_CONFIG=$SAMBA_WORKDIR/krb5.conf
	export SAMBA_KRB5_CONFIG
	printf '%s\n' "[libdefaults]" "	default_realm = $SAMBA_REALM" \
		"	dns_lookup_realm = false" "	dns_lookup_kdc = false" "	rdns = false" \
		"	dns_canonicalize_hostname = false" "[realms]" "	$SAMBA_REALM = {" \
		"		kdc = 127.0.0.1" "	}" "[domain_realm]" "	localhost = $SAMBA_REALM" \
		> "$SAMBA_KRB5_CONFIG" || samba_fail "cannot write $SAMBA_KRB5_CONFIG"
	samba_nb=$(sed -n 's/^[[:space:]]*netbios name = //p' "$SAMBA_CONF" | head -n 1)
	[ -n "$samba_nb" ] || samba_fail "no netbios name in $SAMBA_CONF"
	samba-tool spn add ldap/localhost "$samba_nb\$" -H "$SAMBA_PRIVATE/sam.ldb" \
		>"$SAMBA_WORKDIR/spn.log" 2>&1 || samba_fail "samba-tool spn add ldap/localhost failed (see $SAMBA_WORKDIR/spn.log)"
}

# samba_keytab ACCOUNT FILE: export ACCOUNT@REALM's keys to FILE (mode 600).
samba_keytab() {
	rm -f "$2"
	samba-tool domain exportkeytab "$2" --principal="$1@$SAMBA_REALM" -s "$SAMBA_CONF" \
		>"$SAMBA_WORKDIR/keytab.log" 2>&1 || samba_fail "samba-tool domain exportkeytab $1 failed (see $SAMBA_WORKDIR/keytab.log)"
	chmod 600 "$2"
}

samba_stop() {
	if [ -n "${SAMBA_PID:-}" ]; then
		kill "$SAMBA_PID" 2>/dev/null || true
		wait "$SAMBA_PID" 2>/dev/null || true
		SAMBA_PID=
	fi
}
