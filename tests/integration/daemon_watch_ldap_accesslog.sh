#!/bin/sh
# SPDX-License-Identifier: ISC
# daemon_watch_ldap.sh with slapd's accesslog overlay and accesslog_base:
# the same checks, member changes read from the log (see its header).
: "${top_srcdir:?}"
if [ ! -f "${SLAPD_MODULE_DIR:-/usr/lib/ldap}/accesslog.la" ] &&
	[ ! -f "${SLAPD_MODULE_DIR:-/usr/lib/ldap}/accesslog.so" ]; then
	echo "SKIP: slapd's accesslog overlay is not installed" >&2
	exit 77
fi
DAEMON_WATCH_ACCESSLOG=yes
export DAEMON_WATCH_ACCESSLOG
exec sh "$top_srcdir/tests/integration/daemon_watch_ldap.sh"
