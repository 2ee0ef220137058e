/* SPDX-License-Identifier: ISC */
/*
 * The configuration parser and validator on arbitrary files: every input
 * either loads or gives a list of "file:line: message" errors, never both,
 * never neither, and never a crash or a leak.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[128];
	struct config *cfg = NULL;
	struct conf_errors errs = { 0 };
	int rc;

	if (path[0] == '\0')
		snprintf(path, sizeof(path), "%s/smimesync.conf", fuzz_scratch_dir());
	fuzz_write_file(path, data, size);
	rc = config_load(path, &cfg, &errs);
	if (rc == 0) {
		FUZZ_ASSERT(cfg != NULL);
		FUZZ_ASSERT(errs.n == 0);
	} else {
		FUZZ_ASSERT(cfg == NULL);
		FUZZ_ASSERT(errs.n > 0);
		for (size_t i = 0; i < errs.n; i++)
			FUZZ_ASSERT(strncmp(errs.msgs[i], path, strlen(path)) == 0);
	}
	config_free(cfg);
	conf_errors_free(&errs);
	return 0;
}
