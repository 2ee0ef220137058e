/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/xalloc.h"
#include "tests/fuzz/fuzz.h"

char *
fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = xmalloc(size + 1);

	if (size > 0)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

size_t
fuzz_fields(const uint8_t *data, size_t size, char **fields, size_t max)
{
	size_t n = 0, start = 0;

	for (size_t i = 0; i < max; i++)
		fields[i] = NULL;
	for (size_t i = 0; i <= size && n < max; i++) {
		if (i == size || (data[i] == '\0' && n + 1 < max)) {
			fields[n++] = fuzz_cstr(data + start, i - start);
			start = i + 1;
		}
	}
	for (size_t i = n; i < max; i++)
		fields[i] = xstrdup("");
	return n;
}

void
fuzz_fields_free(char **fields, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(fields[i]);
		fields[i] = NULL;
	}
}

static char scratch[64];

static void
scratch_remove(void)
{
	char cmd[128];

	/* Only ever a directory this process made with mkdtemp(). */
	if (scratch[0] != '\0') {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", scratch);
		if (system(cmd) != 0)
			fprintf(stderr, "fuzz: could not remove %s\n", scratch);
	}
}

const char *
fuzz_scratch_dir(void)
{
	const char *tmp;

	if (scratch[0] != '\0')
		return scratch;
	tmp = getenv("TMPDIR");
	snprintf(scratch, sizeof(scratch), "%s/smimesync-fuzz-XXXXXX",
	    tmp != NULL && strlen(tmp) < 30 ? tmp : "/tmp");
	if (mkdtemp(scratch) == NULL) {
		fprintf(stderr, "fuzz: mkdtemp %s: %s\n", scratch, strerror(errno));
		abort();
	}
	atexit(scratch_remove);
	return scratch;
}

void
fuzz_write_file(const char *path, const void *data, size_t size)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL || (size > 0 && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
		fprintf(stderr, "fuzz: cannot write %s: %s\n", path, strerror(errno));
		abort();
	}
}
