/* SPDX-License-Identifier: ISC */
/* Naming, filling and freeing what a CA answers (ca_result.h). */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/attrs.h"
#include "smime/ca_result.h"

static const char *const outcome_names[] = {
	[CA_ISSUED] = "issued",
	[CA_PENDING] = "pending",
	[CA_REJECTED] = "rejected",
	[CA_UNREACHABLE] = "unreachable",
	[CA_MISCONFIGURED] = "misconfigured",
};

const char *
ca_outcome_name(enum ca_outcome o)
{
	if ((size_t)o < ARRAY_LEN(outcome_names) && outcome_names[o] != NULL)
		return outcome_names[o];
	return "unknown";
}

void
ca_result_clear(struct ca_result *r)
{
	if (r == NULL)
		return;
	X509_free(r->cert);
	X509_free(r->refused);
	sk_X509_pop_free(r->chain, X509_free);
	free(r->cookie);
	free(r->exchange);
	memset(r, 0, sizeof(*r));
}

enum ca_outcome
ca_fail(struct ca_result *out, enum ca_outcome o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out->reason, sizeof(out->reason), fmt, ap);
	va_end(ap);
	return o;
}
