/* SPDX-License-Identifier: ISC */
/*
 * The tiny unit-test harness. A test program calls CHECK*() as often as
 * it likes and ends with `return check_finish();`: exit status 0 when every
 * check held, 1 otherwise (automake's test driver reads that). Each failed
 * check prints file:line and what differed. Tests that need a missing
 * external tool return 77 (skip) and say why.
 */
#ifndef SMIMESYNC_TESTS_CHECK_H
#define SMIMESYNC_TESTS_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failures;
static int check_count;

#define CHECK(cond)                                                              \
	do {                                                                     \
		check_count++;                                                   \
		if (!(cond)) {                                                   \
			check_failures++;                                        \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,   \
			    __LINE__, #cond);                                    \
		}                                                                \
	} while (0)

#define CHECK_STREQ(got, want)                                                   \
	do {                                                                     \
		const char *check_g_ = (got), *check_w_ = (want);                \
		check_count++;                                                   \
		if (check_g_ == NULL || check_w_ == NULL ||                      \
		    strcmp(check_g_, check_w_) != 0) {                           \
			check_failures++;                                        \
			fprintf(stderr, "%s:%d: %s: got \"%s\", want \"%s\"\n",  \
			    __FILE__, __LINE__, #got,                            \
			    check_g_ ? check_g_ : "(null)",                      \
			    check_w_ ? check_w_ : "(null)");                     \
		}                                                                \
	} while (0)

#define CHECK_INTEQ(got, want)                                                   \
	do {                                                                     \
		long long check_g_ = (long long)(got), check_w_ = (long long)(want); \
		check_count++;                                                   \
		if (check_g_ != check_w_) {                                      \
			check_failures++;                                        \
			fprintf(stderr, "%s:%d: %s: got %lld, want %lld\n",      \
			    __FILE__, __LINE__, #got, check_g_, check_w_);       \
		}                                                                \
	} while (0)

#define CHECK_CONTAINS(hay, needle)                                              \
	do {                                                                     \
		const char *check_h_ = (hay), *check_n_ = (needle);              \
		check_count++;                                                   \
		if (check_h_ == NULL || strstr(check_h_, check_n_) == NULL) {    \
			check_failures++;                                        \
			fprintf(stderr, "%s:%d: %s does not contain \"%s\": \"%s\"\n", \
			    __FILE__, __LINE__, #hay, check_n_,                  \
			    check_h_ ? check_h_ : "(null)");                     \
		}                                                                \
	} while (0)

static inline int
check_finish(void)
{
	if (check_count == 0) {
		fprintf(stderr, "no checks ran: a test must assert something\n");
		return 1;
	}
	fprintf(stderr, "%d checks, %d failed\n", check_count, check_failures);
	return check_failures == 0 ? 0 : 1;
}

#endif
