/* SPDX-License-Identifier: ISC */
/*
 * The report readers on arbitrary JSON: the renderer (smimesync report
 * --format text|json|html) and the Prometheus metrics writer. Stored
 * reports are read back from the state database, which an operator may
 * have edited or a crash may have cut short.
 * Property: either rendered or refused with a message, in every format.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/errbuf.h"
#include "report/metrics.h"
#include "report/report.h"
#include "tests/fuzz/fuzz.h"

static FILE *sink;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum report_format fmts[] = { REPORT_TEXT, REPORT_JSON, REPORT_HTML };
	char *json = fuzz_cstr(data, size);
	struct errbuf e;

	if (sink == NULL && (sink = fopen("/dev/null", "w")) == NULL)
		abort();
	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		err_clear(&e);
		if (report_render(json, fmts[i], sink, &e) != 0)
			FUZZ_ASSERT(e.text[0] != '\0');
	}
	{
		struct store_counts counts;

		memset(&counts, 0, sizeof(counts));
		err_clear(&e);
		if (metrics_render(json, &counts, sink, &e) != 0)
			FUZZ_ASSERT(e.text[0] != '\0');
	}
	free(json);
	return 0;
}
