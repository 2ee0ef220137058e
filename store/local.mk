# SPDX-License-Identifier: ISC
# store/: the SQLite store, smimesync's system of record: schema and
# numbered migrations, transactions and the run lock, and the queries.
# Depends on common/ only.
noinst_LIBRARIES += libstore.a
libstore_a_SOURCES = \
	store/store.c store/store.h store/store_internal.h store/row.c \
	store/certs.c store/holders.c store/actions.c store/outbox.c \
	store/queries.c store/queries.h \
	store/revocation.c store/revocation.h \
	store/removals.c store/removals.h \
	store/ca_requests.c store/ca_requests.h \
	store/sealed.c store/sealed.h \
	store/stream.c

check_PROGRAMS += tests/unit/test_store tests/unit/test_store_queries
tests_unit_test_store_SOURCES = tests/unit/test_store.c tests/unit/check.h
tests_unit_test_store_LDADD = $(unit_test_libs)
tests_unit_test_store_queries_SOURCES = tests/unit/test_store_queries.c tests/unit/check.h
tests_unit_test_store_queries_LDADD = $(unit_test_libs)
TESTS += tests/unit/test_store tests/unit/test_store_queries

# Where each directory's change stream stands (migration 11).
check_PROGRAMS += tests/unit/test_store_stream
tests_unit_test_store_stream_SOURCES = tests/unit/test_store_stream.c tests/unit/check.h
tests_unit_test_store_stream_LDADD = $(unit_test_libs)
TESTS += tests/unit/test_store_stream
