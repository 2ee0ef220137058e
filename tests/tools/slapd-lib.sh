# SPDX-License-Identifier: ISC
# A throwaway OpenLDAP slapd for integration tests. POSIX sh; source it:
#
#   . "$top_srcdir/tests/tools/slapd-lib.sh"
#   slapd_require                 # exit 77 (skip) if slapd/ldapadd/openssl are missing
#   work=$(mktemp -d /tmp/smimesync-test.XXXXXX)
#   trap 'slapd_stop; rm -rf "$work"' EXIT
#   slapd_start "$work"           # exports the SLAPD_* variables below
#   slapd_load people.ldif        # ldapadd as the admin; any error fails
#   ... | slapd_modify            # ldapmodify as the admin (LDIF on stdin)
#   slapd_entry_uuid DN           # prints the entry's entryUUID
#   SLAPD_DB_EXTRA='limits ...'   # optional: more lines for the mdb database
#   SLAPD_OVERLAYS='syncprov memberof'
#                                 # optional, before slapd_start: overlays on the
#                                 # database. syncprov: RFC 4533 content sync for
#                                 # change streams (a session log of
#                                 # SLAPD_SESSIONLOG operations, default 1000, and
#                                 # reload hints: a cookie older than the log gets
#                                 # e-syncRefreshRequired); memberof: memberOf kept
#                                 # on the members of groupOfNames (indexed);
#                                 # accesslog: every successful write logged
#                                 # under cn=accesslog (own mdb database in
#                                 # WORKDIR/accesslog, logpurge SLAPD_LOGPURGE,
#                                 # default "07+00:00 01+00:00"), readable by
#                                 # the service account only (SLAPD_ACCESSLOG_SVC,
#                                 # default read; "none" hides it)
#   slapd_start_with_ldif "$work" big.ldif
#                                 # instead of slapd_start: slapadd the base
#                                 # entries and big.ldif BEFORE starting (fast
#                                 # for 100,000 entries; entryUUID is added)
#   ...
#   slapd_stop                    # kill by recorded pid and wait (safe to repeat)
#
# After slapd_start:
#   SLAPD_URI=ldap://127.0.0.1:PORT   SLAPD_LDAPS_URI=ldaps://127.0.0.1:PORT2
#   SLAPD_LDAPI_URI=ldapi://<url-encoded socket path>
#   SLAPD_BASE=dc=example,dc=org      SLAPD_ADMIN_DN=cn=admin,dc=example,dc=org
#   SLAPD_ADMIN_PW_FILE=WORKDIR/admin.pw (mode 600, no newline)
#   SLAPD_SVC_DN=cn=smimesync,ou=services,dc=example,dc=org
#   SLAPD_SVC_PW_FILE=WORKDIR/svc.pw (mode 600, no newline)
#   SLAPD_CA_FILE=WORKDIR/tls/ca.pem  (test CA; server cert names 127.0.0.1 and localhost)
#   SLAPD_PID, SLAPD_WORKDIR, SLAPD_LOG=WORKDIR/slapd.log
#
# The directory has ou=people, ou=groups and ou=services under the base and
# the service account (may write userCertificate and userSMIMECertificate;
# everyone may read everything else). The local Unix user connecting over
# ldapi:// with SASL EXTERNAL is mapped to the admin DN. slapd runs in the
# foreground as the current user (-d, default level "stats", override with
# SLAPD_DEBUG), so its log lands in WORKDIR/slapd.log and the pid is the one
# we started; it never touches the system slapd or port 389.

SLAPD_PID=
SLAPD_SCHEMA_DIR=${SLAPD_SCHEMA_DIR:-/etc/ldap/schema}
SLAPD_MODULE_DIR=${SLAPD_MODULE_DIR:-/usr/lib/ldap}

slapd_require() {
	PATH=$PATH:/usr/sbin:/usr/local/sbin
	export PATH
	for slapd_req_tool in slapd ldapadd ldapsearch ldapmodify openssl; do
		if ! command -v "$slapd_req_tool" >/dev/null 2>&1; then
			echo "SKIP: $slapd_req_tool is not installed (Debian: apt-get install slapd ldap-utils openssl)" >&2
			exit 77
		fi
	done
	if [ ! -f "$SLAPD_SCHEMA_DIR/inetorgperson.schema" ]; then
		echo "SKIP: OpenLDAP schema files not found in $SLAPD_SCHEMA_DIR (set SLAPD_SCHEMA_DIR)" >&2
		exit 77
	fi
}

slapd_fail() {
	echo "slapd-lib: $*" >&2
	if [ -n "${SLAPD_LOG:-}" ] && [ -f "$SLAPD_LOG" ]; then
		echo "--- last lines of $SLAPD_LOG ---" >&2
		tail -n 30 "$SLAPD_LOG" >&2
	fi
	slapd_stop
	exit 1
}

# A random port in 20000..59999 (the caller retries if it is taken).
slapd_random_port() {
	slapd_rp=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
	echo $((20000 + slapd_rp % 40000))
}

# Percent-encode what is special in an ldapi:// URL host part.
slapd_urlencode() {
	printf '%s' "$1" | sed -e 's/%/%25/g' -e 's|/|%2F|g' -e 's/ /%20/g' -e 's/,/%2C/g' \
		-e 's/:/%3A/g' -e 's/?/%3F/g' -e 's/#/%23/g'
}

slapd_make_tls() {
	slapd_tls=$1
	mkdir -p "$slapd_tls" || return 1
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$slapd_tls/ca.key" -out "$slapd_tls/ca.pem" -days 1000 \
		-subj "/O=smimesync tests/CN=smimesync test LDAP CA" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" >/dev/null 2>&1 || return 1
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$slapd_tls/server.key" -out "$slapd_tls/server.csr" \
		-subj "/O=smimesync tests/CN=localhost" >/dev/null 2>&1 || return 1
	printf '%s\n' "basicConstraints=critical,CA:FALSE" \
		"keyUsage=critical,digitalSignature,keyAgreement" \
		"extendedKeyUsage=serverAuth" \
		"subjectAltName=IP:127.0.0.1,DNS:localhost" > "$slapd_tls/server.ext"
	openssl x509 -req -in "$slapd_tls/server.csr" -CA "$slapd_tls/ca.pem" \
		-CAkey "$slapd_tls/ca.key" -CAcreateserial -days 1000 -sha256 \
		-extfile "$slapd_tls/server.ext" -out "$slapd_tls/server.pem" >/dev/null 2>&1 || return 1
	chmod 600 "$slapd_tls/server.key" "$slapd_tls/ca.key"
}

slapd_write_conf() {
	slapd_hash=$(slappasswd -s "$(cat "$SLAPD_ADMIN_PW_FILE")" 2>/dev/null) ||
		slapd_hash=$(cat "$SLAPD_ADMIN_PW_FILE")
	slapd_uid=$(id -u)
	slapd_gid=$(id -g)
	slapd_mod=
	if [ -f "$SLAPD_MODULE_DIR/back_mdb.la" ] || [ -f "$SLAPD_MODULE_DIR/back_mdb.so" ]; then
		slapd_mod="modulepath $SLAPD_MODULE_DIR
moduleload back_mdb"
	fi
	# Overlays: a module each, and their lines in the database section, in
	# the order given. Either order of memberof and syncprov streams the same:
	# memberof changes the members' memberOf through internal operations it
	# marks as not to be replicated, and syncprov leaves those out of every
	# stream (OpenLDAP 2.5; see doc/incremental.md).
	slapd_ov=
	slapd_logdb=
	for slapd_o in ${SLAPD_OVERLAYS:-}; do
		if [ -f "$SLAPD_MODULE_DIR/$slapd_o.la" ] || [ -f "$SLAPD_MODULE_DIR/$slapd_o.so" ]; then
			[ -n "$slapd_mod" ] || slapd_mod="modulepath $SLAPD_MODULE_DIR"
			slapd_mod="$slapd_mod
moduleload $slapd_o"
		fi
		case $slapd_o in
		memberof)
			slapd_ov="$slapd_ov
index memberOf eq
overlay memberof
memberof-group-oc groupOfNames
memberof-member-ad member
memberof-memberof-ad memberOf
memberof-refint TRUE" ;;
		syncprov)
			slapd_ov="$slapd_ov
index entryCSN,entryUUID eq
overlay syncprov
syncprov-checkpoint 100 10
syncprov-sessionlog ${SLAPD_SESSIONLOG:-1000}
syncprov-reloadhint TRUE" ;;
		accesslog)
			# Every successful write logged under cn=accesslog (its own
			# database, defined before this one): delta-syncrepl's setup.
			slapd_logdb="
database mdb
maxsize 67108864
suffix cn=accesslog
rootdn \"$SLAPD_ADMIN_DN\"
directory $SLAPD_WORKDIR/accesslog
index default eq
index entryCSN,objectClass,reqEnd,reqResult,reqStart,reqDN
access to *
	by dn.exact=\"$SLAPD_SVC_DN\" ${SLAPD_ACCESSLOG_SVC:-read}
	by * none
"
			slapd_ov="$slapd_ov
overlay accesslog
logdb cn=accesslog
logops writes
logsuccess TRUE
logpurge ${SLAPD_LOGPURGE:-07+00:00 01+00:00}" ;;
		*)
			slapd_fail "unknown overlay in SLAPD_OVERLAYS: $slapd_o" ;;
		esac
	done
	cat > "$SLAPD_WORKDIR/slapd.conf" <<EOF
# Generated by tests/tools/slapd-lib.sh
include $SLAPD_SCHEMA_DIR/core.schema
include $SLAPD_SCHEMA_DIR/cosine.schema
include $SLAPD_SCHEMA_DIR/inetorgperson.schema
include $SLAPD_SCHEMA_DIR/nis.schema
pidfile $SLAPD_WORKDIR/slapd.pid
argsfile $SLAPD_WORKDIR/slapd.args
$slapd_mod
TLSCACertificateFile $SLAPD_WORKDIR/tls/ca.pem
TLSCertificateFile $SLAPD_WORKDIR/tls/server.pem
TLSCertificateKeyFile $SLAPD_WORKDIR/tls/server.key
# The Unix user running the tests, over ldapi:// with SASL EXTERNAL, is the admin.
authz-regexp "^gidNumber=$slapd_gid\\\\+uidNumber=$slapd_uid,cn=peercred,cn=external,cn=auth\$" "$SLAPD_ADMIN_DN"
$slapd_logdb

database mdb
maxsize ${SLAPD_MAXSIZE:-268435456}
suffix "$SLAPD_BASE"
rootdn "$SLAPD_ADMIN_DN"
rootpw $slapd_hash
directory $SLAPD_WORKDIR/db
index objectClass eq
index member,uniqueMember eq
index mail eq
${SLAPD_DB_EXTRA:-}
$slapd_ov

access to attrs=userPassword
	by self write
	by anonymous auth
	by * none
access to attrs=userCertificate,userSMIMECertificate
	by dn.exact="$SLAPD_SVC_DN" write
	by * read
access to *
	by * read
EOF
}

slapd_prepare() {
	SLAPD_WORKDIR=$(cd "$1" && pwd) || slapd_fail "no such work directory: $1"
	SLAPD_BASE=dc=example,dc=org
	SLAPD_ADMIN_DN=cn=admin,$SLAPD_BASE
	SLAPD_SVC_DN=cn=smimesync,ou=services,$SLAPD_BASE
	SLAPD_ADMIN_PW_FILE=$SLAPD_WORKDIR/admin.pw
	SLAPD_SVC_PW_FILE=$SLAPD_WORKDIR/svc.pw
	SLAPD_CA_FILE=$SLAPD_WORKDIR/tls/ca.pem
	SLAPD_LOG=$SLAPD_WORKDIR/slapd.log
	export SLAPD_WORKDIR SLAPD_BASE SLAPD_ADMIN_DN SLAPD_SVC_DN SLAPD_ADMIN_PW_FILE \
		SLAPD_SVC_PW_FILE SLAPD_CA_FILE SLAPD_LOG

	mkdir -p "$SLAPD_WORKDIR/db" "$SLAPD_WORKDIR/accesslog" ||
		slapd_fail "cannot create $SLAPD_WORKDIR/db"
	(umask 077 &&
		openssl rand -hex 16 | tr -d '\n' > "$SLAPD_ADMIN_PW_FILE" &&
		openssl rand -hex 16 | tr -d '\n' > "$SLAPD_SVC_PW_FILE") ||
		slapd_fail "cannot write password files"
	chmod 600 "$SLAPD_ADMIN_PW_FILE" "$SLAPD_SVC_PW_FILE"
	slapd_make_tls "$SLAPD_WORKDIR/tls" || slapd_fail "cannot create test TLS certificates with openssl"

	# Unix sockets are limited to 107 bytes: fall back to a short path.
	slapd_sock=$SLAPD_WORKDIR/ldapi
	if [ ${#slapd_sock} -gt 100 ]; then
		slapd_sockdir=$(mktemp -d /tmp/slapd-sock.XXXXXX) || slapd_fail "mktemp failed"
		slapd_sock=$slapd_sockdir/ldapi
		echo "$slapd_sockdir" > "$SLAPD_WORKDIR/sockdir"
	fi
	SLAPD_LDAPI_URI=ldapi://$(slapd_urlencode "$slapd_sock")
	export SLAPD_LDAPI_URI
	slapd_write_conf
}

slapd_launch() {
	slapd_try=0
	while :; do
		slapd_try=$((slapd_try + 1))
		slapd_port=$(slapd_random_port)
		slapd_port2=$(slapd_random_port)
		[ "$slapd_port" = "$slapd_port2" ] && continue
		SLAPD_URI=ldap://127.0.0.1:$slapd_port
		SLAPD_LDAPS_URI=ldaps://127.0.0.1:$slapd_port2
		export SLAPD_URI SLAPD_LDAPS_URI
		: > "$SLAPD_LOG"
		slapd -f "$SLAPD_WORKDIR/slapd.conf" -h "$SLAPD_URI $SLAPD_LDAPS_URI $SLAPD_LDAPI_URI" \
			-d "${SLAPD_DEBUG:-stats}" >> "$SLAPD_LOG" 2>&1 &
		SLAPD_PID=$!
		export SLAPD_PID
		# Wait until it answers, or until it has died.
		slapd_up=no
		slapd_wait=0
		while [ $slapd_wait -lt 600 ]; do
			if ! kill -0 "$SLAPD_PID" 2>/dev/null; then
				break
			fi
			if ldapsearch -x -LLL -H "$SLAPD_URI" -b "" -s base "(objectClass=*)" \
				namingContexts >/dev/null 2>&1; then
				slapd_up=yes
				break
			fi
			sleep 0.1 2>/dev/null || sleep 1
			slapd_wait=$((slapd_wait + 1))
		done
		[ $slapd_up = yes ] && break
		if kill -0 "$SLAPD_PID" 2>/dev/null; then
			slapd_fail "slapd (pid $SLAPD_PID) did not answer on $SLAPD_URI"
		fi
		# A dead slapd's exit status must not end a "set -e" caller here:
		# a port clash is retried below.
		wait "$SLAPD_PID" 2>/dev/null || true
		SLAPD_PID=
		if grep -q "Address already in use" "$SLAPD_LOG" && [ $slapd_try -lt 10 ]; then
			continue
		fi
		slapd_fail "slapd did not start (see $SLAPD_LOG; an AppArmor profile for slapd may block $SLAPD_WORKDIR)"
	done
}

slapd_write_base() {
	cat > "$SLAPD_WORKDIR/base.ldif" <<EOF
dn: $SLAPD_BASE
objectClass: dcObject
objectClass: organization
dc: example
o: Example Org

dn: ou=people,$SLAPD_BASE
objectClass: organizationalUnit
ou: people

dn: ou=groups,$SLAPD_BASE
objectClass: organizationalUnit
ou: groups

dn: ou=services,$SLAPD_BASE
objectClass: organizationalUnit
ou: services

dn: $SLAPD_SVC_DN
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: smimesync
description: smimesync service account
userPassword: $(cat "$SLAPD_SVC_PW_FILE")
EOF
}

slapd_start() {
	slapd_prepare "$1"
	slapd_launch
	slapd_write_base
	slapd_load "$SLAPD_WORKDIR/base.ldif"
}

# Like slapd_start, but the base entries and FILE go in with slapadd before
# slapd starts: an offline bulk load, for directories of 100,000 entries.
slapd_start_with_ldif() {
	slapd_prepare "$1"
	slapd_write_base
	slapadd -q -f "$SLAPD_WORKDIR/slapd.conf" -b "$SLAPD_BASE" -l "$SLAPD_WORKDIR/base.ldif" \
		>"$SLAPD_WORKDIR/slapadd.out" 2>&1 &&
		slapadd -q -f "$SLAPD_WORKDIR/slapd.conf" -b "$SLAPD_BASE" -l "$2" >>"$SLAPD_WORKDIR/slapadd.out" 2>&1 ||
		{ cat "$SLAPD_WORKDIR/slapadd.out" >&2; slapd_fail "slapadd of $2 failed"; }
	slapd_launch
}

slapd_load() {
	ldapadd -x -H "$SLAPD_URI" -D "$SLAPD_ADMIN_DN" -y "$SLAPD_ADMIN_PW_FILE" \
		-f "$1" > "$SLAPD_WORKDIR/ldapadd.out" 2>&1 ||
		{ cat "$SLAPD_WORKDIR/ldapadd.out" >&2; slapd_fail "ldapadd of $1 failed"; }
}

# ldapmodify as the admin, the LDIF on standard input (arguments passed on).
slapd_modify() {
	ldapmodify -x -H "$SLAPD_URI" -D "$SLAPD_ADMIN_DN" -y "$SLAPD_ADMIN_PW_FILE" "$@" >/dev/null
}

# The entryUUID of the entry at DN $1.
slapd_entry_uuid() {
	ldapsearch -x -LLL -H "$SLAPD_URI" -b "$1" -s base entryUUID | sed -n 's/^entryUUID: //p'
}

slapd_stop() {
	if [ -n "${SLAPD_PID:-}" ]; then
		kill "$SLAPD_PID" 2>/dev/null
		# wait only knows our own children; poll in case we are not its parent.
		wait "$SLAPD_PID" 2>/dev/null
		slapd_stop_n=0
		while kill -0 "$SLAPD_PID" 2>/dev/null && [ $slapd_stop_n -lt 100 ]; do
			sleep 0.1 2>/dev/null || sleep 1
			slapd_stop_n=$((slapd_stop_n + 1))
		done
		kill -9 "$SLAPD_PID" 2>/dev/null
		SLAPD_PID=
	fi
	if [ -n "${SLAPD_WORKDIR:-}" ] && [ -f "$SLAPD_WORKDIR/sockdir" ]; then
		rm -rf "$(cat "$SLAPD_WORKDIR/sockdir")"
		rm -f "$SLAPD_WORKDIR/sockdir"
	fi
	return 0
}
