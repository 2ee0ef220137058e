/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "report/progress.h"

static const char *const phase_names[RUN_PHASES] = {
	[PHASE_READING] = "reading the directory",
	[PHASE_PLANNING] = "planning",
	[PHASE_ISSUING] = "issuing",
	[PHASE_PUBLISHING] = "publishing",
	[PHASE_RETIRING] = "leavers and reminders",
	[PHASE_MAILING] = "mailing",
	[PHASE_DONE] = "done",
};

static const char *const phase_keys[RUN_PHASES] = {
	[PHASE_READING] = "reading",
	[PHASE_PLANNING] = "planning",
	[PHASE_ISSUING] = "issuing",
	[PHASE_PUBLISHING] = "publishing",
	[PHASE_RETIRING] = "retiring",
	[PHASE_MAILING] = "mailing",
	[PHASE_DONE] = "done",
};

const char *
run_phase_key(enum run_phase p)
{
	return (unsigned)p < RUN_PHASES ? phase_keys[p] : "unknown";
}

const char *
run_phase_name(enum run_phase p)
{
	return (unsigned)p < RUN_PHASES ? phase_names[p] : "?";
}

double
progress_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
progress_rate(const struct run_progress *p, double *per_second, double *seconds_left)
{
	double elapsed = p->now - p->started;

	*per_second = 0;
	*seconds_left = -1;
	/* A rate from less than a fraction of a second or one item says nothing yet. */
	if (p->done < 2 || elapsed < 0.2)
		return;
	*per_second = (double)p->done / elapsed;
	if (p->total >= p->done)
		*seconds_left = (double)(p->total - p->done) / *per_second;
}

/* 1234567 -> "1,234,567": thousands are read at a glance. */
static void
grouped(uint64_t v, char *out, size_t size)
{
	char digits[32];
	size_t n, k = 0;

	snprintf(digits, sizeof(digits), "%llu", (unsigned long long)v);
	n = strlen(digits);
	for (size_t i = 0; i < n && k + 2 < size; i++) {
		if (i > 0 && (n - i) % 3 == 0)
			out[k++] = ',';
		out[k++] = digits[i];
	}
	out[k] = '\0';
}

/* "0:19", "12:05", "1:02:03". */
static void
clock_text(double seconds, char *out, size_t size)
{
	/* Rounded up: "0:00 left" while something is left would read as done. */
	unsigned long s = (unsigned long)(seconds + 0.999);

	if (s >= 3600)
		snprintf(out, size, "%lu:%02lu:%02lu", s / 3600, s / 60 % 60, s % 60);
	else
		snprintf(out, size, "%lu:%02lu", s / 60, s % 60);
}

void
progress_format(const struct run_progress *p, char *out, size_t size)
{
	char done[32], total[32], left[32];
	double rate, eta;
	size_t n;

	grouped(p->done, done, sizeof(done));
	progress_rate(p, &rate, &eta);
	if (p->total > 0) {
		grouped(p->total, total, sizeof(total));
		n = (size_t)snprintf(out, size, "%s %s of %s (%d%%)", run_phase_name(p->phase), done,
		    total, (int)(p->done * 100 / p->total));
	} else if (p->done > 0) {
		n = (size_t)snprintf(out, size, "%s %s", run_phase_name(p->phase), done);
	} else {
		n = (size_t)snprintf(out, size, "%s", run_phase_name(p->phase));
	}
	if (n >= size || rate <= 0)
		return;
	n += (size_t)snprintf(out + n, size - n, ", %.*f/s", rate < 10 ? 1 : 0, rate);
	if (n >= size || eta < 0 || p->done >= p->total)
		return;
	clock_text(eta, left, sizeof(left));
	snprintf(out + n, size - n, ", %s left", left);
}
