# SPDX-License-Identifier: ISC
# Start and stop the test SMTP sink (tests/tools/smtp-sink.py). POSIX sh,
# sourced by integration tests:
#
#   . "$top_srcdir/tests/tools/smtp-lib.sh"
#   smtp_require           # exit 77 (skip) when /usr/bin/python3 lacks aiosmtpd
#                          # or openssl is missing
#   smtp_start WORKDIR [extra sink args]
#                          # exports SMTP_PORT, SMTP_DIR (WORKDIR/mail),
#                          # SMTP_CA_FILE (test CA that signed the sink's
#                          # certificate for localhost and 127.0.0.1), SMTP_PID;
#                          # STARTTLS is offered by default; returns once the
#                          # port answers
#   smtp_stop
#   smtp_count             # number of stored messages
#
# The certificate is made once per WORKDIR (WORKDIR/smtp-tls) with P-256
# keys, so starting several sinks in one test is cheap. smtp_stop is safe to
# call from an EXIT trap, twice, or when nothing runs.

SMTP_PYTHON=/usr/bin/python3

smtp_require() {
	if ! command -v openssl >/dev/null 2>&1; then
		echo "SKIP: openssl is not installed; the SMTP tests need it for the test CA" >&2
		exit 77
	fi
	if ! "$SMTP_PYTHON" -c 'import aiosmtpd' >/dev/null 2>&1; then
		echo "SKIP: $SMTP_PYTHON has no aiosmtpd module (install python3-aiosmtpd)" >&2
		exit 77
	fi
}

# smtp_make_tls DIR: a test CA and a server certificate for localhost/127.0.0.1.
smtp_make_tls() {
	_d=$1
	[ -f "$_d/server.pem" ] && return 0
	mkdir -p "$_d" || return 1
	openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$_d/ca.key" -out "$_d/ca.pem" -days 1000 \
		-subj "/CN=smimesync test SMTP CA" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" >/dev/null 2>&1 || return 1
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$_d/server.key" -out "$_d/server.csr" -subj "/CN=localhost" \
		>/dev/null 2>&1 || return 1
	printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=digitalSignature" \
		"extendedKeyUsage=serverAuth" "subjectAltName=DNS:localhost,IP:127.0.0.1" \
		>"$_d/server.ext"
	openssl x509 -req -in "$_d/server.csr" -CA "$_d/ca.pem" -CAkey "$_d/ca.key" \
		-CAcreateserial -days 1000 -extfile "$_d/server.ext" -out "$_d/server.pem" \
		>/dev/null 2>&1 || return 1
}

smtp_free_port() {
	"$SMTP_PYTHON" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

smtp_start() {
	_w=$1
	shift
	smtp_make_tls "$_w/smtp-tls" || { echo "smtp_start: cannot make the test CA" >&2; return 1; }
	SMTP_CA_FILE=$_w/smtp-tls/ca.pem
	SMTP_DIR=$_w/mail
	mkdir -p "$SMTP_DIR"
	_tries=0
	while :; do
		SMTP_PORT=$(smtp_free_port) || return 1
		_pidfile=$_w/smtp-sink.pid
		rm -f "$_pidfile"
		"$SMTP_PYTHON" "$top_srcdir/tests/tools/smtp-sink.py" --host 127.0.0.1 \
			--port "$SMTP_PORT" --dir "$SMTP_DIR" \
			--tls-cert "$_w/smtp-tls/server.pem" --tls-key "$_w/smtp-tls/server.key" \
			--pidfile "$_pidfile" "$@" >>"$_w/smtp-sink.log" 2>&1 &
		SMTP_PID=$!
		# Ready when the pid file appears (written after the server
		# accepted a test connection); failed when the process is gone.
		while [ ! -s "$_pidfile" ] && kill -0 "$SMTP_PID" 2>/dev/null; do
			sleep 0.1
		done
		[ -s "$_pidfile" ] && break
		wait "$SMTP_PID" 2>/dev/null
		_tries=$((_tries + 1))
		if [ "$_tries" -ge 5 ]; then
			echo "smtp_start: the SMTP sink did not start; log:" >&2
			cat "$_w/smtp-sink.log" >&2
			return 1
		fi
	done
	export SMTP_PORT SMTP_DIR SMTP_CA_FILE SMTP_PID
}

smtp_stop() {
	if [ -n "${SMTP_PID:-}" ]; then
		kill "$SMTP_PID" 2>/dev/null
		while kill -0 "$SMTP_PID" 2>/dev/null; do
			sleep 0.1
		done
		wait "$SMTP_PID" 2>/dev/null
		SMTP_PID=
	fi
	return 0
}

smtp_count() {
	_n=0
	for _f in "$SMTP_DIR"/*.eml; do
		[ -f "$_f" ] && _n=$((_n + 1))
	done
	echo "$_n"
}
