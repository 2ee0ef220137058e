# SPDX-License-Identifier: ISC
# `make bench`: smimesync at 100,000 users against the limits of the
# machine (tests/bench/bench.sh). Not part of `make check`: it takes
# minutes and measures, it does not test.
CLEANFILES += tests/bench/keyrate bench.json bench-incremental.json
EXTRA_DIST += tests/bench/bench.sh tests/bench/bench-incremental.sh tests/bench/gen-ldif.py tests/bench/keyrate.c \
	tests/bench/seed-store.py tests/tools/tcp-count.py

# Built only here (a plain rule, so that no program list is shared with
# other fragments and `make all` does not build it).
tests/bench/keyrate: $(top_srcdir)/tests/bench/keyrate.c
	@$(MKDIR_P) tests/bench
	$(CC) $(DEFS) $(AM_CPPFLAGS) $(CPPFLAGS) $(AM_CFLAGS) $(CFLAGS) $(LDFLAGS) \
		-o $@ $(top_srcdir)/tests/bench/keyrate.c $(OPENSSL_LIBS) $(PTHREAD_LIBS)

BENCH_USERS = 100000

.PHONY: bench
bench: smimesync tests/bench/keyrate tests/tools/mail-send
	top_srcdir='$(abs_top_srcdir)' top_builddir='$(abs_top_builddir)' \
	SMIMESYNC='$(abs_top_builddir)/smimesync' \
	SMIMESYNC_TEMPLATES_DIR='$(abs_top_srcdir)/templates' \
	BENCH_USERS='$(BENCH_USERS)' BENCH_JSON='$(abs_top_builddir)/bench.json' \
	$(SHELL) '$(abs_top_srcdir)/tests/bench/bench.sh'
	top_srcdir='$(abs_top_srcdir)' top_builddir='$(abs_top_builddir)' \
	SMIMESYNC='$(abs_top_builddir)/smimesync' \
	SMIMESYNC_TEMPLATES_DIR='$(abs_top_srcdir)/templates' \
	BENCH_USERS='$(BENCH_USERS)' BENCH_JSON='$(abs_top_builddir)/bench-incremental.json' \
	$(SHELL) '$(abs_top_srcdir)/tests/bench/bench-incremental.sh'
