/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/errbuf.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "smime/key.h"
#include "sync/keygen.h"

struct keygen_shared {
	struct keygen_job *jobs;
	size_t n;
	atomic_size_t next;
};

static void *
keygen_worker(void *arg)
{
	struct keygen_shared *sh = arg;
	size_t i;
	struct errbuf e;

	while ((i = atomic_fetch_add(&sh->next, 1)) < sh->n) {
		err_clear(&e);
		if (key_generate(sh->jobs[i].type, &sh->jobs[i].key, &e) != 0) {
			sh->jobs[i].key = NULL;
			snprintf(sh->jobs[i].error, sizeof(sh->jobs[i].error), "%s", e.text);
		}
	}
	return NULL;
}

int
keygen_threads(void)
{
	const char *env = getenv("SMIMESYNC_THREADS");
	int64_t v;
	long n;

	if (env != NULL && parse_int64(env, 1, 256, &v) == 0)
		return (int)v;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > 256 ? 256 : (int)n;
}

void
keygen_batch(struct keygen_job *jobs, size_t n)
{
	struct keygen_shared sh = { jobs, n, 0 };
	pthread_t tids[256];
	size_t started = 0;
	size_t want = (size_t)keygen_threads();

	if (want > n)
		want = n;
	for (; started + 1 < want; started++)
		if (pthread_create(&tids[started], NULL, keygen_worker, &sh) != 0)
			break;
	keygen_worker(&sh); /* the calling thread works too */
	for (size_t i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
}

struct keygen_run {
	struct keygen_shared sh;
	pthread_t tids[256];
	size_t started;
};

struct keygen_run *
keygen_start(struct keygen_job *jobs, size_t n)
{
	struct keygen_run *kr = xcalloc(1, sizeof(*kr));
	size_t want = (size_t)keygen_threads();

	kr->sh.jobs = jobs;
	kr->sh.n = n;
	atomic_init(&kr->sh.next, 0);
	if (want > n)
		want = n;
	for (; kr->started < want; kr->started++)
		if (pthread_create(&kr->tids[kr->started], NULL, keygen_worker, &kr->sh) != 0)
			break;
	if (kr->started == 0)
		keygen_worker(&kr->sh);
	return kr;
}

void
keygen_wait(struct keygen_run *kr)
{
	if (kr == NULL)
		return;
	for (size_t i = 0; i < kr->started; i++)
		pthread_join(kr->tids[i], NULL);
	free(kr);
}
