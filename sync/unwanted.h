/* SPDX-License-Identifier: ISC */
/*
 * Certificates a CA issued that we do not keep (invariant I3;
 * store/ca_requests.h): every run revokes the pending ones at their CA
 * through its API (ca_revoke()), retrying until it is done, and tells the
 * admin once about those a CA offers no call for -- a certificate refused
 * after issuance by a certmonger helper, with its serial, or a lost answer
 * of a CA that cannot be asked, with the key id. Each appears in the run
 * report: revoked_at_ca counts what was done, and every failure or note is
 * an error line naming the CA, the serial and what to do.
 */
#ifndef SMIMESYNC_SYNC_UNWANTED_H
#define SMIMESYNC_SYNC_UNWANTED_H

#include <stdbool.h>

#include "sync/engine.h"

void unwanted_work(struct engine *en, bool dry_run);

#endif
