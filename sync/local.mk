# SPDX-License-Identifier: ISC
noinst_LIBRARIES += libsync.a
libsync_a_SOURCES = \
	sync/collect.c sync/collect.h \
	sync/cmd_config.c sync/cmd_run.c sync/cmd_status.c sync/cmd_user.c sync/commands.h \
	sync/engine.c sync/engine.h \
	sync/keygen.c sync/keygen.h \
	sync/mailq.c sync/mailq.h \
	sync/members.c sync/members.h \
	sync/notice.c sync/notice.h \
	sync/outbox.c sync/outbox.h \
	sync/plan.c sync/plan.h \
	sync/provision.c sync/provision.h \
	sync/publish.c sync/publish.h \
	sync/remind.c sync/remind.h \
	sync/retire.c sync/retire.h \
	sync/report.c sync/report.h \
	sync/revoke.c sync/revoke.h \
	sync/run.c sync/run.h \
	sync/store.c sync/store.h sync/store_internal.h \
	sync/store_certs.c sync/store_life.c sync/store_work.c \
	sync/store_query.c sync/store_query.h \
	sync/daemon.c sync/metrics.c sync/metrics.h sync/sdnotify.c sync/sdnotify.h \
	sync/cmd_audit.c sync/report_html.c sync/report_html.h \
	sync/admin.c sync/admin.h sync/crl.c sync/crl.h sync/cmd_revoke.c sync/cmd_keys.c \
	sync/store_crl.c sync/store_crl.h

sbin_PROGRAMS += smimesync
smimesync_SOURCES = sync/main.c
smimesync_LDADD = $(SMIMESYNC_ROOM_LIBS) $(SMIMESYNC_EXT_LIBS)

check_PROGRAMS += tests/unit/test_sync_plan tests/unit/test_sync_store
tests_unit_test_sync_plan_SOURCES = tests/unit/test_sync_plan.c tests/unit/check.h
tests_unit_test_sync_plan_LDADD = $(unit_test_libs)
tests_unit_test_sync_store_SOURCES = tests/unit/test_sync_store.c tests/unit/check.h
tests_unit_test_sync_store_LDADD = $(unit_test_libs)
TESTS += tests/unit/test_sync_plan tests/unit/test_sync_store

# The same program with crash points compiled in, for the kill-at-every-step
# test only; never installed (production builds have no crash points).
check_PROGRAMS += tests/tools/smimesync-crashy
tests_tools_smimesync_crashy_SOURCES = sync/main.c sync/provision.c smime/signer.c smime/signer_child.c
tests_tools_smimesync_crashy_CPPFLAGS = $(AM_CPPFLAGS) -DSMIMESYNC_FAULT_INJECTION=1
tests_tools_smimesync_crashy_LDADD = $(SMIMESYNC_ROOM_LIBS) $(SMIMESYNC_EXT_LIBS)
TESTS += tests/integration/crash_resume.sh
EXTRA_DIST += tests/integration/crash_resume.sh

# Operating smimesync: the daemon and its signals, metrics, reports (JSON
# Schema, HTML rendered by headless Chromium), status filters and audit.
TESTS += tests/integration/daemon.sh tests/integration/reports.sh
EXTRA_DIST += tests/integration/daemon.sh tests/integration/reports.sh \
	tests/tools/report-validate.py
check_PROGRAMS += tests/unit/test_sync_metrics
tests_unit_test_sync_metrics_SOURCES = tests/unit/test_sync_metrics.c tests/unit/check.h
tests_unit_test_sync_metrics_LDADD = $(unit_test_libs)
TESTS += tests/unit/test_sync_metrics
check_PROGRAMS += tests/unit/test_sync_query
tests_unit_test_sync_query_SOURCES = tests/unit/test_sync_query.c tests/unit/check.h
tests_unit_test_sync_query_LDADD = $(unit_test_libs)
TESTS += tests/unit/test_sync_query
TESTS += tests/integration/man_commands.sh
EXTRA_DIST += tests/integration/man_commands.sh

# Privilege separation: only the signer process opens the keys; a dead or
# silent signer at each kind of request; permission checks at start.
TESTS += tests/integration/privsep.sh
EXTRA_DIST += tests/integration/privsep.sh tests/tools/find-secret.py
# The disk full while writing the store: a small tmpfs in a user namespace.
TESTS += tests/integration/disk_full.sh
EXTRA_DIST += tests/integration/disk_full.sh
