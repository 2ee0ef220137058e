# SPDX-License-Identifier: ISC
# Test wiring shared by every room. Unit tests are C programs (TESTS +=
# tests/unit/test_x in each room's local.mk); integration tests are shell
# scripts that start real servers (slapd, an SMTP server) on loopback.
TEST_EXTENSIONS = .sh
SH_LOG_COMPILER = $(SHELL)
AM_TESTS_ENVIRONMENT = \
	top_srcdir='$(abs_top_srcdir)'; export top_srcdir; \
	top_builddir='$(abs_top_builddir)'; export top_builddir; \
	SMIMESYNC='$(abs_top_builddir)/smimesync'; export SMIMESYNC; \
	SMIMESYNC_SIGNER='$(abs_top_builddir)/smimesync-signer'; export SMIMESYNC_SIGNER; \
	SMIMESYNC_SIGNER_PROGRAM='$(abs_top_builddir)/smimesync-signer'; export SMIMESYNC_SIGNER_PROGRAM; \
	SMIMESYNC_TEMPLATES_DIR='$(abs_top_srcdir)/templates'; export SMIMESYNC_TEMPLATES_DIR;

# Link line for unit tests: every room library plus the system libraries.
unit_test_libs = $(SMIMESYNC_ROOM_LIBS) $(SMIMESYNC_EXT_LIBS)
EXTRA_DIST += tests/unit/check.h

TESTS += tests/integration/sync_openldap.sh
EXTRA_DIST += tests/integration/sync_openldap.sh tests/data/example-org.ldif \
	tests/tools/smimesync-lib.sh tests/tools/mailbox.py
TESTS += tests/integration/cli.sh tests/integration/checksrc.sh
EXTRA_DIST += tests/integration/cli.sh tests/integration/checksrc.sh
TESTS += tests/integration/mail_retry.sh
EXTRA_DIST += tests/integration/mail_retry.sh
TESTS += tests/integration/lifecycle.sh tests/integration/invariants.sh \
	tests/integration/addresses.sh
EXTRA_DIST += tests/integration/lifecycle.sh tests/tools/mailcount.py \
	tests/integration/invariants.sh tests/integration/addresses.sh
include tests/fuzz/local.mk
# Hostile input across rooms (issue #9).
check_PROGRAMS += tests/unit/test_hostile_input
tests_unit_test_hostile_input_SOURCES = tests/unit/test_hostile_input.c tests/unit/check.h
tests_unit_test_hostile_input_LDADD = $(unit_test_libs)
TESTS += tests/unit/test_hostile_input
# One rule per concept, and every room applying it (issue #14).
check_PROGRAMS += tests/unit/test_one_rule
tests_unit_test_one_rule_SOURCES = tests/unit/test_one_rule.c tests/unit/check.h
tests_unit_test_one_rule_LDADD = $(unit_test_libs)
TESTS += tests/unit/test_one_rule
TESTS += tests/integration/csv_directory.sh
EXTRA_DIST += tests/integration/csv_directory.sh

# Entra ID through Microsoft Graph against the loopback Graph fake and a real slapd.
TESTS += tests/integration/sync_graph.sh
EXTRA_DIST += tests/integration/sync_graph.sh tests/tools/graph-fake.py tests/tools/graph-lib.sh
# Run by hand (README "Hostile input, sanitizers, valgrind"): too slow for CI.
EXTRA_DIST += tests/integration/valgrind.sh tests/tools/run-sanitized
EXTRA_DIST += tests/tools/test-lib.sh tests/tools/faketime-run
# Issue #8: external CAs (cfssl for real, EJBCA and Sectigo fakes, a certmonger helper).
TESTS += tests/integration/ca_helper.sh tests/integration/ca_cfssl.sh \
	tests/integration/ca_ejbca.sh tests/integration/ca_sectigo.sh \
	tests/integration/ca_lost_answers.sh tests/integration/ca_certmonger.sh
EXTRA_DIST += tests/integration/ca_lost_answers.sh tests/integration/ca_certmonger.sh
EXTRA_DIST += tests/integration/ca_helper.sh tests/integration/ca_cfssl.sh \
	tests/integration/ca_ejbca.sh tests/integration/ca_sectigo.sh tests/tools/fake-rest-ca.py tests/tools/extca-lib.sh tests/tools/test-ca-helper
# Mails in the person's language, with non-ASCII names intact (issue #18).
TESTS += tests/integration/mail_languages.sh
EXTRA_DIST += tests/integration/mail_languages.sh
