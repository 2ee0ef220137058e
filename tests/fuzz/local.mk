# SPDX-License-Identifier: ISC
# libFuzzer targets (issue #9). They exist only in a build configured with
# CC=clang --enable-fuzzing, and are built on request (EXTRA_PROGRAMS), never
# by `make` or `make check`: tests/fuzz/run-fuzzers does that in a separate
# build directory and runs each one for a bounded time over its seed corpus
# in tests/fuzz/corpus/<target>/.
FUZZ_TARGETS = tests/fuzz/fuzz_config tests/fuzz/fuzz_template tests/fuzz/fuzz_mime \
	tests/fuzz/fuzz_address tests/fuzz/fuzz_dn_filter tests/fuzz/fuzz_report \
	tests/fuzz/fuzz_der tests/fuzz/fuzz_csv tests/fuzz/fuzz_ca_answer \
	tests/fuzz/fuzz_graph tests/fuzz/fuzz_signer tests/fuzz/fuzz_p11uri
EXTRA_PROGRAMS = $(FUZZ_TARGETS)
fuzz_common = tests/fuzz/fuzz.h

tests_fuzz_fuzz_config_SOURCES = tests/fuzz/fuzz_config.c tests/fuzz/fuzz_util.c $(fuzz_common)
tests_fuzz_fuzz_config_LDADD = $(SMIMESYNC_ROOM_LIBS) $(SMIMESYNC_EXT_LIBS)
tests_fuzz_fuzz_config_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_template_SOURCES = tests/fuzz/fuzz_template.c tests/fuzz/fuzz_util.c $(fuzz_common)
tests_fuzz_fuzz_template_LDADD = $(SMIMESYNC_ROOM_LIBS) $(SMIMESYNC_EXT_LIBS)
tests_fuzz_fuzz_template_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_mime_SOURCES = tests/fuzz/fuzz_mime.c tests/fuzz/fuzz_util.c $(fuzz_common)
tests_fuzz_fuzz_mime_LDADD = $(SMIMESYNC_ROOM_LIBS) $(SMIMESYNC_EXT_LIBS)
tests_fuzz_fuzz_mime_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_address_SOURCES = tests/fuzz/fuzz_address.c tests/fuzz/fuzz_util.c $(fuzz_common)
tests_fuzz_fuzz_address_LDADD = $(SMIMESYNC_ROOM_LIBS) $(SMIMESYNC_EXT_LIBS)
tests_fuzz_fuzz_address_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_dn_filter_SOURCES = tests/fuzz/fuzz_dn_filter.c tests/fuzz/fuzz_util.c $(fuzz_common)
tests_fuzz_fuzz_dn_filter_LDADD = $(SMIMESYNC_ROOM_LIBS) $(SMIMESYNC_EXT_LIBS)
tests_fuzz_fuzz_dn_filter_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_report_SOURCES = tests/fuzz/fuzz_report.c tests/fuzz/fuzz_util.c $(fuzz_common)
tests_fuzz_fuzz_report_LDADD = $(SMIMESYNC_ROOM_LIBS) $(SMIMESYNC_EXT_LIBS)
tests_fuzz_fuzz_report_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_der_SOURCES = tests/fuzz/fuzz_der.c tests/fuzz/fuzz_util.c $(fuzz_common)
tests_fuzz_fuzz_der_LDADD = $(SMIMESYNC_ROOM_LIBS) $(SMIMESYNC_EXT_LIBS)
tests_fuzz_fuzz_der_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_csv_SOURCES = tests/fuzz/fuzz_csv.c tests/fuzz/fuzz_util.c $(fuzz_common)
tests_fuzz_fuzz_csv_LDADD = $(SMIMESYNC_ROOM_LIBS) $(SMIMESYNC_EXT_LIBS)
tests_fuzz_fuzz_csv_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_ca_answer_SOURCES = tests/fuzz/fuzz_ca_answer.c tests/fuzz/fuzz_util.c $(fuzz_common)
tests_fuzz_fuzz_ca_answer_LDADD = $(SMIMESYNC_ROOM_LIBS) $(SMIMESYNC_EXT_LIBS)
tests_fuzz_fuzz_ca_answer_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_signer_SOURCES = tests/fuzz/fuzz_signer.c tests/fuzz/fuzz_util.c $(fuzz_common)
tests_fuzz_fuzz_signer_LDADD = libsigner.a $(SMIMESYNC_ROOM_LIBS) $(SMIMESYNC_EXT_LIBS)
tests_fuzz_fuzz_signer_LDFLAGS = $(FUZZ_LDFLAGS)

tests_fuzz_fuzz_graph_SOURCES = tests/fuzz/fuzz_graph.c tests/fuzz/fuzz_util.c $(fuzz_common)
tests_fuzz_fuzz_graph_LDADD = $(SMIMESYNC_ROOM_LIBS) $(SMIMESYNC_EXT_LIBS)
tests_fuzz_fuzz_graph_LDFLAGS = $(FUZZ_LDFLAGS)

# PKCS#11 URIs ([ca] key_uri): issue #16.
tests_fuzz_fuzz_p11uri_SOURCES = tests/fuzz/fuzz_p11uri.c tests/fuzz/fuzz_util.c $(fuzz_common)
tests_fuzz_fuzz_p11uri_LDADD = $(SMIMESYNC_ROOM_LIBS) $(SMIMESYNC_EXT_LIBS)
tests_fuzz_fuzz_p11uri_LDFLAGS = $(FUZZ_LDFLAGS)

EXTRA_DIST += tests/fuzz/run-fuzzers tests/fuzz/corpus
