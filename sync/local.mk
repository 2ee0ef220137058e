# SPDX-License-Identifier: ISC
noinst_LIBRARIES += libsync.a
libsync_a_SOURCES = sync/placeholder.c
sbin_PROGRAMS += smimesync
smimesync_SOURCES = sync/main.c
smimesync_LDADD = $(SMIMESYNC_ROOM_LIBS) $(SMIMESYNC_EXT_LIBS)
