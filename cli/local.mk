# SPDX-License-Identifier: ISC
# cli/: the smimesync program: main, one cmd_*.c per command family, the
# daemon loop with its signals, and the systemd notification protocol.
noinst_LIBRARIES += libcli.a
libcli_a_SOURCES = \
	cli/commands.h \
	cli/cmd_config.c cli/cmd_ca.c cli/cmd_run.c cli/cmd_status.c cli/cmd_status_user.c cli/cmd_user.c \
	cli/cmd_audit.c cli/cmd_revoke.c cli/cmd_keys.c cli/credential.c \
	cli/daemon.c cli/daemon_watch.c cli/daemon_watch.h cli/sdnotify.c cli/sdnotify.h cli/help.c \
	cli/progress.c cli/progress.h

sbin_PROGRAMS += smimesync
smimesync_SOURCES = cli/main.c
smimesync_LDADD = $(SMIMESYNC_ROOM_LIBS) $(SMIMESYNC_EXT_LIBS)

TESTS += tests/integration/man_commands.sh
EXTRA_DIST += tests/integration/man_commands.sh

# The bash completion, with the configured default config path filled in.
# Installed as "smimesync" so that bash-completion loads it on demand.
if HAVE_BASH_COMPLETION_DIR
bashcompletion_DATA = cli/smimesync
endif
CLEANFILES += cli/smimesync
EXTRA_DIST += cli/smimesync.bash.in
cli/smimesync: $(top_srcdir)/cli/smimesync.bash.in Makefile
	$(AM_V_GEN)$(MKDIR_P) cli && \
	sed -e 's|@sysconfdir[@]|$(sysconfdir)|g' $(top_srcdir)/cli/smimesync.bash.in >$@.tmp && \
	mv $@.tmp $@

TESTS += tests/integration/cli_help.sh
EXTRA_DIST += tests/integration/cli_help.sh
TESTS += tests/integration/helpdesk.sh
EXTRA_DIST += tests/integration/helpdesk.sh

# Progress on a terminal during a roll-out (issue #18): 300 people with
# P-256 keys in make check; make check-rollout runs the full check, 2,000
# people with RSA-2048 keys (ten minutes or more on two cores).
TESTS += tests/integration/progress.sh
EXTRA_DIST += tests/integration/progress.sh
.PHONY: check-rollout
check-rollout: all
	PROGRESS_USERS=2000 PROGRESS_KEY_TYPE=rsa2048 $(MAKE) $(AM_MAKEFLAGS) check \
	    TESTS=tests/integration/progress.sh
