/* SPDX-License-Identifier: ISC */
/*
 * Shared by the libFuzzer targets in tests/fuzz/. Each target defines
 * LLVMFuzzerTestOneInput() and is linked with -fsanitize=fuzzer (configure
 * --enable-fuzzing, which also turns on ASan and UBSan with UB fatal), so a
 * crash, a sanitizer report, a leak or a failed FUZZ_ASSERT() is a finding.
 * tests/fuzz/run-fuzzers builds and runs them all for a bounded time.
 *
 * Code that reads files (config, templates) is fed through a scratch
 * directory made once per process: fuzz_scratch_dir() (borrowed string).
 */
#ifndef SMIMESYNC_TESTS_FUZZ_H
#define SMIMESYNC_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property the code under test promises; abort() makes libFuzzer keep the input. */
#define FUZZ_ASSERT(cond)                                                        \
	do {                                                                     \
		if (!(cond)) {                                                   \
			fprintf(stderr, "%s:%d: property violated: %s\n",       \
			    __FILE__, __LINE__, #cond);                          \
			abort();                                                 \
		}                                                                \
	} while (0)

/* The input as a NUL-terminated string (new); embedded NULs stay in place. */
char *fuzz_cstr(const uint8_t *data, size_t size);

/*
 * Split the input at NUL bytes into at most max fields (new strings, the
 * last one takes the rest); missing fields are empty. Returns the count
 * actually present in the input.
 */
size_t fuzz_fields(const uint8_t *data, size_t size, char **fields, size_t max);
void fuzz_fields_free(char **fields, size_t n);

/* A private directory for this process, removed at exit. */
const char *fuzz_scratch_dir(void);

/* Write data to path (replacing it); aborts on I/O errors, which are not findings. */
void fuzz_write_file(const char *path, const void *data, size_t size);

#endif
