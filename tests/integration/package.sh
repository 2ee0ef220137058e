#!/bin/sh
# SPDX-License-Identifier: ISC
# The Debian package on this machine, as an administrator meets it (issue
# #18, item 1; README "First deployment"):
#   - lintian has nothing to say beyond the overrides it justifies;
#   - dpkg -i: the binary in /usr/sbin, the configuration a conffile
#     (root:smimesync 0640 in /etc/smimesync 0750), the state directory
#     0700 owned by the system user smimesync, the unit enabled, man pages
#     and templates in place;
#   - check-config on the packaged configuration, as shipped, lists exactly
#     the to-do list (two password files, "ca init"), checked as the unit's
#     user in the unit's sandbox; after the README's steps (secrets owned by
#     smimesync, "sudo -u smimesync smimesync ca init") it says OK without
#     any other edit;
#   - pointed at a throwaway slapd and SMTP sink, a dry run and then the
#     service's run, as user smimesync with stderr as a (stand-in) journal:
#     certificates in the directory, mails in the sink, every log line with
#     an sd-daemon priority; the daemon starts, runs and stops on SIGTERM;
#   - dpkg --purge leaves the file system as it found it, except the
#     system user, which Debian policy keeps.
# Needs root and the package built by "make deb" (tools/run-tests does
# both). It never touches a smimesync installed before it started, and
# waits for another run of itself (a lock in /run/lock).
set -u
: "${top_srcdir:?}" "${top_builddir:?}"
. "$top_srcdir/tests/tools/slapd-lib.sh"
. "$top_srcdir/tests/tools/smtp-lib.sh"
. "$top_srcdir/tests/tools/test-lib.sh"
unset SMIMESYNC_CONF SMIMESYNC_STATE_DIR SMIMESYNC_TEMPLATES_DIR JOURNAL_STREAM

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: installing a package needs root (CI runs as root)"
	exit 77
fi
arch=$(dpkg --print-architecture)
deb=$(ls "$top_builddir"/deb/smimesync_*_"$arch".deb 2>/dev/null | tail -n 1)
if [ -z "$deb" ]; then
	echo "ERROR: no package in $top_builddir/deb: run make deb first"
	exit 99
fi
slapd_require
smtp_require

exec 9>/run/lock/smimesync-package-test.lock
flock 9
status=$(dpkg-query -W -f='${db:Status-Status}' smimesync 2>/dev/null || true)
if [ -n "$status" ] && [ "$status" != not-installed ]; then
	echo "ERROR: smimesync is already on this machine (dpkg says: $status); this test installs"
	echo "and purges the package, so it does not touch an existing installation"
	exit 99
fi
for d in /etc/smimesync /var/lib/smimesync; do
	if [ -e "$d" ]; then
		echo "ERROR: $d exists although the package is not installed; this test purges"
		echo "the package at its end and would delete it: move it away first"
		exit 99
	fi
done

installed=0
daemon_pid=
test_cleanup_more() {
	[ -z "$daemon_pid" ] || { kill "$daemon_pid" 2>/dev/null; wait "$daemon_pid" 2>/dev/null; }
	if [ "$installed" = 1 ]; then
		dpkg_retry --purge smimesync >/dev/null 2>&1 || echo "cleanup: dpkg --purge smimesync failed"
	fi
}
# dpkg refuses while another dpkg or apt holds its lock: try again, a bounded
# number of times (another test run may be installing packages).
dpkg_retry() {
	_n=0
	while ! dpkg "$@" >"$W/dpkg.out" 2>&1; do
		grep -q "lock" "$W/dpkg.out" && [ "$_n" -lt 120 ] || { cat "$W/dpkg.out"; return 1; }
		_n=$((_n + 1))
		sleep 1
	done
	cat "$W/dpkg.out"
}
# Everything a package could leave behind; not dpkg's and apt's own records
# nor caches, logs and temporary files other programs change meanwhile.
snapshot() {
	find /etc /lib /usr /var/lib -xdev \( -path /var/lib/dpkg -o -path /var/lib/apt \
		-o -path /var/lib/ucf -o -path /etc/ld.so.cache \) -prune -o -print 2>/dev/null |
		grep -v -e '^/etc/\(passwd\|group\|shadow\|gshadow\)-$' | LC_ALL=C sort
}

test_begin package
# The throwaway slapd gets the README's slapd.conf access lines first
# (first match wins), so the run below writes certificates through them.
SLAPD_DB_EXTRA=$(awk '/^access to attrs=userCertificate,userSMIMECertificate$/ { on = 1 }
	on && /^```/ { exit } on { print }' "$top_srcdir/README.md")
[ -n "$SLAPD_DB_EXTRA" ] || fail "the README's slapd.conf access lines were not found"
export SLAPD_DB_EXTRA
test_org_servers
snapshot >"$W/before.list"

# --- lintian ------------------------------------------------------------------
changes=${deb%.deb}.changes
[ -f "$changes" ] || changes=$deb
lintian --pedantic --fail-on error,warning,info,pedantic "$changes" >"$W/lintian.out" 2>&1; rc=$?
check '[ $rc = 0 ] && ! grep -qE "^[EWIP]: " "$W/lintian.out"' \
	"lintian: no error, warning, info or pedantic tag left (overrides: debian/smimesync.lintian-overrides)"
grep -E "^[EWIP]: " "$W/lintian.out"

# --- install --------------------------------------------------------------
if ! dpkg_retry -i "$deb" >"$W/install.out"; then
	cat "$W/install.out"
	fail "dpkg -i $deb"
	test_end
	exit 1
fi
installed=1
mode() { stat -c '%U:%G %a' "$1" 2>/dev/null; }
check '[ -x /usr/sbin/smimesync ] && /usr/sbin/smimesync --version >/dev/null' "the binary is /usr/sbin/smimesync"
check '[ "$(mode /etc/smimesync)" = "root:smimesync 750" ]' "/etc/smimesync is root:smimesync 0750 ($(mode /etc/smimesync))"
check '[ "$(mode /etc/smimesync/smimesync.conf)" = "root:smimesync 640" ]' \
	"the configuration is root:smimesync 0640 ($(mode /etc/smimesync/smimesync.conf))"
check 'dpkg-query -W -f="\${Conffiles}" smimesync | grep -q "^ /etc/smimesync/smimesync.conf "' \
	"the configuration is a conffile"
check '[ "$(mode /var/lib/smimesync)" = "smimesync:smimesync 700" ]' \
	"/var/lib/smimesync is smimesync:smimesync 0700 ($(mode /var/lib/smimesync))"
check '[ "$(getent passwd smimesync | cut -d: -f6,7)" = "/var/lib/smimesync:/usr/sbin/nologin" ]' \
	"the system user smimesync exists, home /var/lib/smimesync, no login shell"
check '[ "$(getent passwd smimesync | cut -d: -f3)" -lt 1000 ]' "smimesync is a system user (uid < 1000)"
check '[ -L /etc/systemd/system/multi-user.target.wants/smimesync.service ]' "the unit is enabled"
check 'grep -q "^ConditionPathExists=/var/lib/smimesync/master.key" /lib/systemd/system/smimesync.service' \
	"the unit waits for the master key (ca init) before it starts"
check '[ -f /usr/share/man/man8/smimesync.8.gz ] && [ -f /usr/share/man/man5/smimesync.conf.5.gz ] && [ -f /usr/share/man/man5/smimesync-templates.5.gz ]' \
	"the three man pages are installed"
check '[ -f /usr/share/smimesync/templates/en/collection.txt ] && [ -f /usr/share/doc/smimesync/examples/smimesync.conf.example ]' \
	"templates and the example configuration are installed"
check '[ ! -e /etc/logrotate.d/smimesync ]' "no logrotate file: the log goes to the journal"

# --- check-config on the packaged configuration, as shipped ---------------
/usr/sbin/smimesync check-config >"$W/cc1.out" 2>&1; rc=$?
check '[ $rc = 1 ] && grep -q "problems found in /etc/smimesync/smimesync.conf (checked as user smimesync, in the sandbox of /lib/systemd/system/smimesync.service)" "$W/cc1.out"' \
	"as shipped, check-config fails, checked as the unit's user in its sandbox"
check 'grep -q "bind_password_file: .*/etc/smimesync/ldap.secret" "$W/cc1.out" && grep -q "smtp_password_file: .*/etc/smimesync/smtp.secret" "$W/cc1.out" && grep -q "run: smimesync ca init" "$W/cc1.out"' \
	"... listing the password files and ca init"
check '[ "$(grep -c "^/etc/smimesync/smimesync.conf:[0-9]*: " "$W/cc1.out")" = 6 ]' \
	"... and nothing else (6 problems: 2 password files, master key, 3 CA files)"
[ "$(grep -c "^/etc/smimesync/smimesync.conf:[0-9]*: " "$W/cc1.out")" = 6 ] || cat "$W/cc1.out"

# --- the README's first deployment --------------------------------------------
install -m 600 -o smimesync -g smimesync /dev/null /etc/smimesync/ldap.secret
cat "$SLAPD_SVC_PW_FILE" >/etc/smimesync/ldap.secret
install -m 600 -o smimesync -g smimesync /dev/null /etc/smimesync/smtp.secret
echo "not used by the test sink" >/etc/smimesync/smtp.secret
# The offline medium for the root key, as the README makes it.
chmod o+x "$W" # only to reach the medium below
install -d -m 700 -o smimesync -g smimesync "$W/usb"
/usr/sbin/smimesync ca init --root-key-out "$W/usb/root.key" >"$W/root-init.out" 2>&1; rc=$?
check '[ $rc = 1 ] && grep -q "sudo -u smimesync smimesync ca init --root-key-out" "$W/root-init.out" && [ ! -e /var/lib/smimesync/master.key ]' \
	"ca init as root is refused, with the sudo -u smimesync that does it right"
runuser -u smimesync -- /usr/sbin/smimesync ca init --root-key-out "$W/usb/root.key" >"$W/init.out" 2>&1 ||
	{ cat "$W/init.out"; fail "sudo -u smimesync smimesync ca init"; }
check '[ "$(mode /var/lib/smimesync/master.key)" = "smimesync:smimesync 600" ] && [ "$(mode /var/lib/smimesync/ca/issuing.key)" = "smimesync:smimesync 600" ] &&
	[ "$(mode "$W/usb/root.key")" = "smimesync:smimesync 600" ] && [ ! -e /var/lib/smimesync/ca/root.key ]' \
	"ca init as smimesync: master key and CA key 0600, owned by smimesync; the root key only on the offline medium"
/usr/sbin/smimesync check-config >"$W/cc2.out" 2>&1; rc=$?
check '[ $rc = 0 ] && grep -qx "configuration OK (checked as user smimesync, in the sandbox of /lib/systemd/system/smimesync.service)" "$W/cc2.out"' \
	"after the secrets and ca init, the packaged configuration passes check-config"
[ $rc = 0 ] || cat "$W/cc2.out"

# The README's slapd ACL and service account are what the throwaway slapd
# has; point the configuration at it and at the mail sink, as an admin edits it.
install -m 644 "$SLAPD_CA_FILE" /etc/smimesync/ldap-ca.pem
install -m 644 "$SMTP_CA_FILE" /etc/smimesync/smtp-ca.pem
sed -i -e "s|^uri = ldap://ldap.example.org .*|uri = $SLAPD_URI|" \
	-e "s|^# tls_ca_file = /etc/smimesync/ldap-ca.pem|tls_ca_file = /etc/smimesync/ldap-ca.pem|" \
	-e "s|^smtp_host = smtp.example.org|smtp_host = 127.0.0.1|" \
	-e "s|^smtp_port = 587|smtp_port = $SMTP_PORT|" \
	-e "s|^smtp_user = .*||" -e "s|^smtp_password_file = .*||" \
	-e "s|^# tls_ca_file = /etc/smimesync/smtp-ca.pem .*|tls_ca_file = /etc/smimesync/smtp-ca.pem|" \
	-e "s|^key_type = rsa2048 .*|key_type = p256|" \
	/etc/smimesync/smimesync.conf
/usr/sbin/smimesync check-config >"$W/cc3.out" 2>&1 || { cat "$W/cc3.out"; fail "check-config after pointing it at the test servers"; }
runuser -u smimesync -- /usr/sbin/smimesync run --dry-run --format json >"$W/dry.json" 2>"$W/dry.err"
n=$(jq -r .counts.issued "$W/dry.json" 2>/dev/null)
check '[ "${n:-0}" -gt 0 ] && [ "$(jq -r .dry_run "$W/dry.json")" = true ] && [ "$(smtp_count)" = 0 ]' \
	"run --dry-run as smimesync plans ${n:-no} issuances and sends nothing"

# The service's run: the unit's command line, as its user, stderr a journal.
: >"$W/journal"
chown smimesync "$W/journal"
stream=$(stat -c '%d:%i' "$W/journal")
runuser -u smimesync -- env JOURNAL_STREAM="$stream" /usr/sbin/smimesync \
	-c /etc/smimesync/smimesync.conf run --format json >"$W/run.json" 2>>"$W/journal"; rc=$?
check '[ $rc = 0 ] && [ "$(jq -r .status "$W/run.json")" = ok ] && [ "$(jq -r .counts.issued "$W/run.json")" = "$n" ]' \
	"the service's run as smimesync: status ok, $n issued (rc=$rc)"
check '[ "$(smtp_count)" = $((2 * n)) ]' "two mails per person reached the sink ($(smtp_count))"
pub=$(ldapsearch -LLL -x -H "$SLAPD_URI" -b "$SLAPD_BASE" "(userCertificate;binary=*)" dn | grep -c '^dn:')
check '[ "$pub" = "$n" ]' "$n people hold a certificate in the directory (ldapsearch: $pub)"
check '[ -s "$W/journal" ] && ! grep -vqE "^<[0-7]>(error|warning|info|debug)( |:)" "$W/journal"' \
	"every log line carries a journal priority and no timestamp"
check 'grep -qE "^<6>info run=" "$W/journal"' "info lines are <6> and name the run"
check '[ "$(stat -c %U /var/lib/smimesync/smimesync.db)" = smimesync ]' "the store belongs to smimesync"
/usr/sbin/smimesync status >"$W/status.out" 2>&1 && /usr/sbin/smimesync report --last >>"$W/status.out" 2>&1
rc=$?
check '[ $rc = 0 ] && ! find /var/lib/smimesync ! -user smimesync | grep -q .' \
	"status and report --last work as root and leave nothing root-owned in the state directory"
/usr/sbin/smimesync run >"$W/root-run.out" 2>&1; rc=$?
check '[ $rc = 1 ] && grep -q "sudo -u smimesync smimesync run" "$W/root-run.out"' "run as root is refused"

# The daemon, as the unit starts it: one run at start, then SIGTERM.
# setpriv execs: the pid is the daemon's own, as systemd's MAINPID would be.
setpriv --reuid=smimesync --regid=smimesync --init-groups \
	/usr/sbin/smimesync -c /etc/smimesync/smimesync.conf daemon 2>"$W/daemon.log" &
daemon_pid=$!
wait_for 'grep -q "run ended" "$W/daemon.log"' 600 || fail "the daemon did not finish its first run"
kill -TERM "$daemon_pid"
wait "$daemon_pid"; rc=$?
daemon_pid=
check '[ $rc = 0 ] && grep -q "daemon stopped" "$W/daemon.log"' "the daemon runs as smimesync and stops on SIGTERM (rc=$rc)"

# --- purge ------------------------------------------------------------------
dpkg_retry --purge smimesync >"$W/purge.out" || { cat "$W/purge.out"; fail "dpkg --purge smimesync"; }
installed=0
snapshot >"$W/after.list"
check 'diff -u "$W/before.list" "$W/after.list" >"$W/left.diff"' \
	"purge leaves the file system as it was (all of /etc, /lib, /usr, /var/lib)"
cat "$W/left.diff"
check '[ ! -e /etc/smimesync ] && [ ! -e /var/lib/smimesync ]' "configuration, secrets and state are gone"
check 'getent passwd smimesync >/dev/null' "the system user stays (Debian policy)"

test_end
