# SPDX-License-Identifier: ISC
noinst_LIBRARIES += libdirectory.a
libdirectory_a_SOURCES = \
	directory/directory.h \
	directory/backend.h directory/backend.c \
	directory/dir_ldap.c directory/dir_ad.c directory/dir_graph.c directory/dir_csv.c \
	directory/dir_internal.h \
	directory/user.c directory/filter.c directory/strset.c \
	directory/ldap.h \
	directory/ldap_conn.c directory/ldap_errors.c \
	directory/ldap_search.c directory/ldap_readmany.c \
	directory/ranges.c directory/ldap_members.c \
	directory/ldap_person.c directory/ldap_person_groups.c directory/ldap_locate.c \
	directory/ldap_publish.c directory/ldap_holders.c directory/holders.c \
	directory/ad_person.c directory/ad_person_groups.c directory/ad_gc.c \
	directory/watch.c directory/ldap_watch.c directory/ldap_accesslog.c directory/ad_watch.c \
	directory/graph_watch.c directory/graph_person.c

# Directory tests link only what they use, so that they build while other
# rooms are still changing.
directory_test_libs = libdirectory.a libnet.a libcommon.a $(SMIMESYNC_EXT_LIBS)

check_PROGRAMS += tests/unit/test_directory_filter
tests_unit_test_directory_filter_SOURCES = tests/unit/test_directory_filter.c tests/unit/check.h
tests_unit_test_directory_filter_LDADD = $(directory_test_libs)
TESTS += tests/unit/test_directory_filter

check_PROGRAMS += tests/unit/test_directory_accesslog
tests_unit_test_directory_accesslog_SOURCES = tests/unit/test_directory_accesslog.c \
	tests/unit/check.h
tests_unit_test_directory_accesslog_LDADD = libdirectory.a libnet.a libconf.a libcommon.a \
	$(SMIMESYNC_EXT_LIBS)
TESTS += tests/unit/test_directory_accesslog

# dir-probe: a command-line driver of the directory room for shell tests.
check_PROGRAMS += tests/tools/dir-probe
tests_tools_dir_probe_SOURCES = tests/tools/dir-probe.c
tests_tools_dir_probe_LDADD = libdirectory.a libnet.a libconf.a libcommon.a \
	$(SMIMESYNC_EXT_LIBS)

TESTS += tests/integration/directory_ldap.sh
EXTRA_DIST += tests/integration/directory_ldap.sh tests/tools/slapd-lib.sh

# OpenLDAP's change stream (RFC 4533, syncprov) through dir-probe watch.
TESTS += tests/integration/watch_ldap.sh
EXTRA_DIST += tests/integration/watch_ldap.sh
# The same with slapd's accesslog: member changes read from the log.
TESTS += tests/integration/watch_ldap_accesslog.sh
EXTRA_DIST += tests/integration/watch_ldap_accesslog.sh

# Microsoft Graph's change stream (delta queries) against the Graph stand-in.
TESTS += tests/integration/watch_graph.sh
EXTRA_DIST += tests/integration/watch_graph.sh

# Group expansion through memberOf where the server keeps it (memberof overlay).
TESTS += tests/integration/members_memberof.sh
EXTRA_DIST += tests/integration/members_memberof.sh

check_PROGRAMS += tests/unit/test_directory_ad
tests_unit_test_directory_ad_SOURCES = tests/unit/test_directory_ad.c tests/unit/check.h
tests_unit_test_directory_ad_LDADD = $(directory_test_libs)
TESTS += tests/unit/test_directory_ad

# Active Directory end to end against a throwaway Samba DC. Samba's ports
# are fixed, so every AD check lives in this one script (never two DCs).
TESTS += tests/integration/sync_ad.sh
EXTRA_DIST += tests/integration/sync_ad.sh tests/tools/samba-lib.sh
# Active Directory's change stream (uSNChanged, DirSync) on its own DC, under
# the same lock as sync_ad.sh (samba-lib.sh).
TESTS += tests/integration/watch_ad.sh
EXTRA_DIST += tests/integration/watch_ad.sh

# The Graph client helpers and the Entra ID member reader, fed pages directly.
check_PROGRAMS += tests/unit/test_graph
tests_unit_test_graph_SOURCES = tests/unit/test_graph.c tests/unit/check.h
tests_unit_test_graph_LDADD = libdirectory.a libnet.a libconf.a libcommon.a $(SMIMESYNC_EXT_LIBS)
TESTS += tests/unit/test_graph

# The backend table against conf's table of directory-type traits.
check_PROGRAMS += tests/unit/test_directory_backends
tests_unit_test_directory_backends_SOURCES = tests/unit/test_directory_backends.c \
	tests/unit/check.h
tests_unit_test_directory_backends_LDADD = libdirectory.a libnet.a libconf.a libcommon.a \
	$(SMIMESYNC_EXT_LIBS)
TESTS += tests/unit/test_directory_backends
