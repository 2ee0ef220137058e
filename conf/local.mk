# SPDX-License-Identifier: ISC
# conf/: the configuration model, its one option table, and the tools and
# tests that keep the table, the error messages and the man page in step.
noinst_LIBRARIES += libconf.a
libconf_a_SOURCES = \
	conf/conf.h \
	conf/conf_internal.h \
	conf/options.c conf/options.h \
	conf/lists.c conf/validate.c \
	conf/value.c \
	conf/parser.c \
	conf/errors.c \
	conf/config.c conf/dir_types.c \
	conf/model.c \
	conf/dump.c \
	conf/check.c \
	conf/warnings.c \
	conf/unit.c conf/unit.h

# The annotated example configuration, installed next to the docs.
confexampledir = $(docdir)/examples
dist_confexample_DATA = conf/smimesync.conf.example

# conf/ needs only the common room: link its tests without the others so
# they build while the other rooms are being written.
conf_test_libs = libconf.a libcommon.a $(SMIMESYNC_EXT_LIBS)

# conf-lint: config_load() on a file, errors on stdout (golden tests).
check_PROGRAMS += tests/tools/conf-lint
tests_tools_conf_lint_SOURCES = tests/tools/conf-lint.c
tests_tools_conf_lint_LDADD = $(conf_test_libs)

check_PROGRAMS += tests/unit/test_conf
tests_unit_test_conf_SOURCES = tests/unit/test_conf.c tests/unit/check.h
tests_unit_test_conf_LDADD = $(conf_test_libs)
TESTS += tests/unit/test_conf

TESTS += tests/integration/config_errors.sh tests/integration/man_options.sh
EXTRA_DIST += tests/integration/config_errors.sh tests/integration/man_options.sh \
	tests/config-errors tests/config-warnings

# The systemd unit, with the configured paths filled in. Installed in
# configure --with-systemdsystemunitdir=DIR (default
# $(prefix)/lib/systemd/system; "no" leaves it out).
if HAVE_SYSTEMD_UNITDIR
systemdsystemunit_DATA = conf/smimesync.service
endif
CLEANFILES += conf/smimesync.service
EXTRA_DIST += conf/smimesync.service.in
conf/smimesync.service: $(top_srcdir)/conf/smimesync.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) conf && \
	sed -e 's|@sbindir[@]|$(sbindir)|g' -e 's|@sysconfdir[@]|$(sysconfdir)|g' \
	    -e 's|@localstatedir[@]|$(localstatedir)|g' \
	    $(top_srcdir)/conf/smimesync.service.in >$@.tmp && mv $@.tmp $@

# The JSON Schema of the run report, next to the example configuration.
dist_confexample_DATA += doc/report.schema.json

# The systemd unit as check-config reads it (conf/unit.c).
check_PROGRAMS += tests/unit/test_conf_unit
tests_unit_test_conf_unit_SOURCES = tests/unit/test_conf_unit.c tests/unit/check.h
tests_unit_test_conf_unit_LDADD = $(conf_test_libs)
TESTS += tests/unit/test_conf_unit
# check-config as the service's user and in its unit's sandbox.
TESTS += tests/integration/check_config_user.sh
EXTRA_DIST += tests/integration/check_config_user.sh
