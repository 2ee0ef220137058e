#!/bin/sh
# SPDX-License-Identifier: ISC
# The end-to-end OpenLDAP test (sync_openldap.sh) with every smimesync
# command run under valgrind memcheck: any invalid read or write, use of
# uninitialised memory, or definite/indirect leak fails it. The smimesync
# binary is wrapped, so the real slapd, SMTP sink and checkers are not.
# Not part of `make check` (it takes a few minutes); run it by hand:
#   make check TESTS=tests/integration/valgrind.sh
# or directly with top_srcdir, top_builddir and SMIMESYNC set.
set -eu
: "${top_srcdir:?}" "${top_builddir:?}" "${SMIMESYNC:?}"
command -v valgrind >/dev/null || { echo "SKIP: valgrind is not installed (tools/install-deps)"; exit 77; }

V=$(mktemp -d /tmp/smimesync-vg.XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$V"' EXIT INT TERM
cat >"$V/smimesync" <<WRAP
#!/bin/sh
# Error exit 99 turns a memcheck finding into a failed command; the log
# per process is checked again at the end, for commands whose exit status
# the test does not look at.
exec valgrind -q --error-exitcode=99 --leak-check=full \\
	--errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \\
	--track-origins=yes --log-file="$V/vg.%p.log" "$SMIMESYNC" "\$@"
WRAP
chmod +x "$V/smimesync"

rc=0
SMIMESYNC="$V/smimesync" sh "$top_srcdir/tests/integration/sync_openldap.sh" || rc=$?
bad=0
for log in "$V"/vg.*.log; do
	[ -s "$log" ] || continue
	echo "==== memcheck: $log"
	cat "$log"
	bad=$((bad + 1))
done
runs=$(ls "$V"/vg.*.log 2>/dev/null | wc -l)
if [ "$rc" -ne 0 ] || [ "$bad" -ne 0 ]; then
	echo "FAIL: sync_openldap.sh under valgrind: exit $rc, $bad of $runs processes with memcheck findings"
	exit 1
fi
echo "ok: sync_openldap.sh clean under valgrind ($runs smimesync processes)"
