/* SPDX-License-Identifier: ISC */
/*
 * Escrowed keys written before the signer kept them under its recovery
 * control were stored as provisioning sealed them ("key:action=N"), which
 * the signer opens for anyone until the key is closed. escrow_upgrade()
 * seals each again as an escrowed key (smime/escrow.h), which opens only
 * for a key recovery under the operator's credential, and closes the
 * provisioning key, a batch per run until none is left. Failures are
 * logged: the next run tries again.
 */
#ifndef SMIMESYNC_SYNC_ESCROW_UPGRADE_H
#define SMIMESYNC_SYNC_ESCROW_UPGRADE_H

#include "sync/engine.h"

/* At most this many per run: a first upgrade of 100,000 keys spreads over runs. */
#define ESCROW_UPGRADE_BATCH 2000

void escrow_upgrade(struct engine *en);

#endif
