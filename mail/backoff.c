/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <stdint.h>

#include "mail/transport.h"

#define FIRST_DELAY 60          /* one minute */
#define MAX_DELAY (6 * 3600)    /* six hours */

/*
 * Exponential back-off for 4xx answers and unreachable servers: 1m, 2m,
 * 4m, ... capped at 6h, so a relay that is down for a weekend is retried a
 * few times an hour at first and then four times a day, without a storm
 * when it comes back. No jitter: the outbox sends in one batch per run.
 */
int64_t
mail_retry_delay(int attempt)
{
	int64_t d = FIRST_DELAY;

	if (attempt <= 1)
		return FIRST_DELAY;
	for (int i = 1; i < attempt && d < MAX_DELAY; i++)
		d *= 2;
	return d > MAX_DELAY ? MAX_DELAY : d;
}

const char *
mail_outcome_name(enum mail_outcome o)
{
	switch (o) {
	case MAIL_SENT:
		return "sent";
	case MAIL_RETRY:
		return "retry";
	case MAIL_FAILED:
		return "failed";
	}
	return "unknown";
}
