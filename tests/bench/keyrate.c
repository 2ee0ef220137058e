/* SPDX-License-Identifier: ISC */
/*
 * keyrate: the machine's key-generation limit, the baseline of the
 * roll-out benchmark (tests/bench/bench.sh).
 *
 *   keyrate TYPE THREADS COUNT      TYPE: rsa2048 | p256
 *
 * Generates COUNT keys of TYPE on THREADS threads with OpenSSL's
 * EVP_PKEY_Q_keygen (what smime/key.c calls) and prints keys per second
 * on one line. Exit status 0, or 2 on a usage or OpenSSL error.
 */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

static const char *key_type;
static long total;
static atomic_long next_key;
static atomic_int failed;

static void *
worker(void *arg)
{
	(void)arg;
	while (atomic_fetch_add(&next_key, 1) < total) {
		EVP_PKEY *k = strcmp(key_type, "rsa2048") == 0 ?
		    EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048) :
		    EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");

		if (k == NULL)
			atomic_store(&failed, 1);
		EVP_PKEY_free(k);
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	pthread_t tids[256];
	struct timespec t0, t1;
	char *end = NULL;
	long threads;
	double secs;

	if (argc != 4 || (strcmp(argv[1], "rsa2048") != 0 && strcmp(argv[1], "p256") != 0)) {
		fprintf(stderr, "usage: keyrate rsa2048|p256 THREADS COUNT\n");
		return 2;
	}
	key_type = argv[1];
	threads = strtol(argv[2], &end, 10);
	if (*end != '\0' || threads < 1 || threads > 256) {
		fprintf(stderr, "keyrate: THREADS must be 1..256\n");
		return 2;
	}
	total = strtol(argv[3], &end, 10);
	if (*end != '\0' || total < 1) {
		fprintf(stderr, "keyrate: COUNT must be a positive number\n");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < threads; i++)
		if (pthread_create(&tids[i], NULL, worker, NULL) != 0) {
			fprintf(stderr, "keyrate: cannot start thread %ld\n", i);
			return 2;
		}
	for (long i = 0; i < threads; i++)
		pthread_join(tids[i], NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (atomic_load(&failed)) {
		fprintf(stderr, "keyrate: OpenSSL could not generate a %s key\n", key_type);
		return 2;
	}
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("%.3f\n", (double)total / secs);
	return 0;
}
