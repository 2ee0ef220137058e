# SPDX-License-Identifier: ISC
noinst_LIBRARIES += libdirectory.a
libdirectory_a_SOURCES = \
	directory/directory.h \
	directory/dir_internal.h \
	directory/user.c \
	directory/filter.c \
	directory/strset.c \
	directory/ldap_conn.c \
	directory/ldap_source.c \
	directory/ldap_publish.c

# Directory tests link only what they use, so that they build while other
# rooms are still changing.
directory_test_libs = libdirectory.a libcommon.a $(SMIMESYNC_EXT_LIBS)

check_PROGRAMS += tests/unit/test_directory_filter
tests_unit_test_directory_filter_SOURCES = tests/unit/test_directory_filter.c tests/unit/check.h
tests_unit_test_directory_filter_LDADD = $(directory_test_libs)
TESTS += tests/unit/test_directory_filter

# dir-probe: a command-line driver of the directory room for shell tests.
check_PROGRAMS += tests/tools/dir-probe
tests_tools_dir_probe_SOURCES = tests/tools/dir-probe.c
tests_tools_dir_probe_LDADD = $(directory_test_libs)

TESTS += tests/integration/directory_ldap.sh
EXTRA_DIST += tests/integration/directory_ldap.sh tests/tools/slapd-lib.sh
