# SPDX-License-Identifier: ISC
noinst_LIBRARIES += libsync.a
libsync_a_SOURCES = \
	sync/engine.c sync/engine.h \
	sync/run.c sync/run.h \
	sync/plan.c sync/plan.h sync/plan_internal.h \
	sync/plan_holders.c sync/plan_retire.c sync/plan_remind.c sync/plan_due.c \
	sync/plan_mail.c sync/plan_issue.c \
	sync/outsiders.c sync/outsiders.h \
	sync/provision.c sync/provision.h \
	sync/escrow_upgrade.c sync/escrow_upgrade.h \
	sync/keygen.c sync/keygen.h \
	sync/publish.c sync/publish.h \
	sync/revoke.c sync/revoke.h \
	sync/unpublish.c sync/unpublish.h \
	sync/unwanted.c sync/unwanted.h \
	sync/retire.c sync/retire.h \
	sync/remind.c sync/remind.h \
	sync/member_index.c sync/member_index.h \
	sync/lookup.c sync/lookup.h \
	sync/collection_mail.c sync/collection_mail.h \
	sync/mail_queue.c sync/mail_queue.h \
	sync/admin_notice.c sync/admin_notice.h \
	sync/outbox.c sync/outbox.h \
	sync/crl_update.c sync/crl_update.h

check_PROGRAMS += tests/unit/test_sync_plan
tests_unit_test_sync_plan_SOURCES = tests/unit/test_sync_plan.c tests/unit/check.h
tests_unit_test_sync_plan_LDADD = $(unit_test_libs)
TESTS += tests/unit/test_sync_plan

# The same program with crash points compiled in, for the kill-at-every-step
# test only; never installed (production builds have no crash points).
check_PROGRAMS += tests/tools/smimesync-crashy
tests_tools_smimesync_crashy_SOURCES = cli/main.c sync/provision.c smime/signer.c
tests_tools_smimesync_crashy_CPPFLAGS = $(AM_CPPFLAGS) -DSMIMESYNC_FAULT_INJECTION=1
tests_tools_smimesync_crashy_LDADD = $(SMIMESYNC_ROOM_LIBS) $(SMIMESYNC_EXT_LIBS)
TESTS += tests/integration/crash_resume.sh tests/integration/resume_moved.sh
EXTRA_DIST += tests/integration/crash_resume.sh tests/integration/resume_moved.sh

# Operating smimesync: the daemon and its signals, metrics, reports (JSON
# Schema, HTML rendered by headless Chromium), status filters and audit.
TESTS += tests/integration/daemon.sh tests/integration/reports.sh
# The daemon following OpenLDAP's change stream (issue #17).
TESTS += tests/integration/daemon_watch_ldap.sh tests/integration/daemon_watch_graph.sh
EXTRA_DIST += tests/integration/daemon_watch_ldap.sh tests/integration/daemon_watch_graph.sh
TESTS += tests/integration/daemon_watch_ldap_accesslog.sh
EXTRA_DIST += tests/integration/daemon_watch_ldap_accesslog.sh
EXTRA_DIST += tests/integration/daemon.sh tests/integration/reports.sh \
	tests/tools/report-validate.py tests/tools/big-report.py

# Privilege separation: only the signer process opens the keys; a dead or
# silent signer at each kind of request; permission checks at start.
TESTS += tests/integration/privsep.sh
EXTRA_DIST += tests/integration/privsep.sh tests/integration/privsep-socket.sh tests/tools/find-secret.py
# The disk full while writing the store: a small tmpfs in a user namespace.
TESTS += tests/integration/disk_full.sh
EXTRA_DIST += tests/integration/disk_full.sh
