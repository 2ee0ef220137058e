# SPDX-License-Identifier: ISC
# cli/: the smimesync program: main, one cmd_*.c per command family, the
# daemon loop with its signals, and the systemd notification protocol.
noinst_LIBRARIES += libcli.a
libcli_a_SOURCES = \
	cli/commands.h \
	cli/cmd_config.c cli/cmd_ca.c cli/cmd_run.c cli/cmd_status.c cli/cmd_user.c \
	cli/cmd_audit.c cli/cmd_revoke.c cli/cmd_keys.c cli/credential.c \
	cli/daemon.c cli/sdnotify.c cli/sdnotify.h

sbin_PROGRAMS += smimesync
smimesync_SOURCES = cli/main.c
smimesync_LDADD = $(SMIMESYNC_ROOM_LIBS) $(SMIMESYNC_EXT_LIBS)

TESTS += tests/integration/man_commands.sh
EXTRA_DIST += tests/integration/man_commands.sh
