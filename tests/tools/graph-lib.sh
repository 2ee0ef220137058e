# SPDX-License-Identifier: ISC
# The loopback Microsoft Graph and Entra ID token endpoint
# (tests/tools/graph-fake.py) for integration tests. POSIX sh; source it:
#
#   . "$top_srcdir/tests/tools/graph-lib.sh"
#   graph_require                  # exit 77 (skip) without python3-cryptography
#   graph_start DIR CERT KEY       # DIR/tenant.json must exist; exports GRAPH_URL
#   ...                            # DIR/requests.jsonl, DIR/mail/, DIR/sent.jsonl
#   graph_stop                     # kill by recorded pid (safe to repeat)
#
# CERT and KEY are a TLS server certificate for 127.0.0.1 (slapd-lib.sh's
# WORKDIR/tls/server.pem and server.key will do); clients trust its CA.

GRAPH_PID=

graph_require() {
	if ! /usr/bin/python3 -c 'import cryptography.x509' 2>/dev/null; then
		echo "SKIP: python3-cryptography is not installed (Debian: apt-get install python3-cryptography)" >&2
		exit 77
	fi
}

graph_start() {
	graph_dir=$1
	rm -f "$graph_dir/port"
	/usr/bin/python3 "$top_srcdir/tests/tools/graph-fake.py" --dir "$graph_dir" \
		--cert "$2" --key "$3" >"$graph_dir/fake.log" 2>&1 &
	GRAPH_PID=$!
	# Wait for the port file, or for the process to die (no time limit).
	while [ ! -s "$graph_dir/port" ]; do
		if ! kill -0 "$GRAPH_PID" 2>/dev/null; then
			echo "graph-lib: graph-fake.py did not start:" >&2
			cat "$graph_dir/fake.log" >&2
			GRAPH_PID=
			return 1
		fi
		sleep 0.1
	done
	GRAPH_URL=https://127.0.0.1:$(cat "$graph_dir/port")
	export GRAPH_URL
}

graph_stop() {
	if [ -n "$GRAPH_PID" ]; then
		kill "$GRAPH_PID" 2>/dev/null || true
		wait "$GRAPH_PID" 2>/dev/null || true
		GRAPH_PID=
	fi
}
