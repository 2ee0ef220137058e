# SPDX-License-Identifier: ISC
noinst_LIBRARIES += libcommon.a
libcommon_a_SOURCES = \
	common/actor.c common/actor.h \
	common/attrs.h \
	common/buf.c common/buf.h \
	common/dn.c common/dn.h \
	common/errbuf.c common/errbuf.h \
	common/log.c common/log.h \
	common/fileutil.c common/fileutil.h \
	common/mailaddr.c common/mailaddr.h \
	common/p11uri.c common/p11uri.h \
	common/strutil.c common/strutil.h \
	common/xalloc.c common/xalloc.h

# The one rule for a PKCS#11 URI (RFC 7512), as key_uri takes it.
check_PROGRAMS += tests/unit/test_p11uri
tests_unit_test_p11uri_SOURCES = tests/unit/test_p11uri.c tests/unit/check.h
tests_unit_test_p11uri_LDADD = libcommon.a $(OPENSSL_LIBS)
TESTS += tests/unit/test_p11uri
# The log module's three forms of a line (stderr, the journal, syslog).
check_PROGRAMS += tests/unit/test_common_log
tests_unit_test_common_log_SOURCES = tests/unit/test_common_log.c tests/unit/check.h
tests_unit_test_common_log_LDADD = libcommon.a
TESTS += tests/unit/test_common_log
# ... and the same from the configuration, with the real program.
TESTS += tests/integration/logging.sh
EXTRA_DIST += tests/integration/logging.sh
check_PROGRAMS += tests/unit/test_common_fileutil
tests_unit_test_common_fileutil_SOURCES = tests/unit/test_common_fileutil.c tests/unit/check.h
tests_unit_test_common_fileutil_LDADD = $(unit_test_libs)
TESTS += tests/unit/test_common_fileutil
