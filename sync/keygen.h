/* SPDX-License-Identifier: ISC */
/*
 * Key generation on every core.
 *
 * Initial roll-out is bound by RSA key generation (about 0.5 s per
 * RSA-2048 key per core here), so the engine asks for a batch of keys at
 * once and keygen_batch() spreads them over one thread per online CPU.
 * Each job's key is new (the caller frees it) or NULL with error set.
 */
#ifndef SMIMESYNC_SYNC_KEYGEN_H
#define SMIMESYNC_SYNC_KEYGEN_H

#include <stddef.h>

#include <openssl/evp.h>

#include "smime/types.h"

struct keygen_job {
	enum key_type type; /* in */
	EVP_PKEY *key;      /* out, new */
	char error[512];    /* out, when key is NULL */
};

void keygen_batch(struct keygen_job *jobs, size_t n);

/*
 * The same in the background, so that the caller can provision one batch
 * while the keys of the next are being made:
 *
 *   struct keygen_run *kr = keygen_start(jobs, n);   (new; jobs borrowed)
 *   ... other work, jobs untouched ...
 *   keygen_wait(kr);                                  (joins and frees kr)
 *
 * keygen_start() never fails: when no thread can be started it makes the
 * keys itself before it returns.
 */
struct keygen_run;
struct keygen_run *keygen_start(struct keygen_job *jobs, size_t n);
void keygen_wait(struct keygen_run *kr);
/* Threads keygen_batch() uses: online CPUs, or $SMIMESYNC_THREADS. */
int keygen_threads(void);

#endif
