/* SPDX-License-Identifier: ISC */
/*
 * Signing and writing the CRLs of the local CAs ([ca] crl_file).
 *
 * crl_update() has the signer sign a new CRL for one CA and replaces
 * crl_file atomically. The signer builds it from its own revocation list,
 * which the store's revocations are handed to first when it lacks any
 * (a revocation the signer could not be told of at the time, or one from
 * before it kept the list), with its own CRL number, kept per CA key
 * (renaming the [ca] section neither empties the CRL nor restarts the
 * count), and nextUpdate = its clock + crl_validity. crl_refresh_all() does that for every CA with a
 * crl_file whose last CRL is older than half its crl_validity (or that
 * has none, or whose file is missing): the daemon calls it after each
 * run so a CRL never runs out; force = true re-signs all.
 */
#ifndef SMIMESYNC_SYNC_CRL_UPDATE_H
#define SMIMESYNC_SYNC_CRL_UPDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sync/engine.h"

int crl_update(struct engine *en, const struct conf_ca *conf, uint64_t *number_out,
    size_t *entries_out, struct errbuf *e) MUST_USE;
/* Returns the number of CRLs written, or -1 (e says which CA failed). */
int crl_refresh_all(struct engine *en, bool force, struct errbuf *e) MUST_USE;
/*
 * For the daemon, after each run: crl_refresh_all(force = false) on an
 * engine of its own (store locked, no master key). Does nothing when no
 * CA has a crl_file; failures are logged, since the next cycle retries.
 */
void crl_refresh_after_run(const struct config *cfg);

#endif
