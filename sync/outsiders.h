/* SPDX-License-Identifier: ISC */
/*
 * Step 1c's questions (invariant I5): before a certificate is requested,
 * the directory of the person's group is asked who holds each of its
 * addresses (dir_address_holders(): one search per address, under the
 * directory's whole base). The planner compares only the people read in
 * this run; this finds the entries in no synced group. The answers go to
 * the pure plan_outsiders() (sync/plan.h), which decides.
 *
 * Usage:
 *
 *   struct outsider_checks oc;
 *   outsiders_ask(en, &plan, &oc);
 *   plan_outsiders(oc.v, oc.n, &plan);
 *   ... report the plan (its conflicts borrow nothing from oc) ...
 *   outsiders_free(&oc);
 *
 * A holder that is the person (same id, or same DN) or anyone read in this
 * run (the planner's own rule covers them) is not an outsider. A lookup
 * that fails is an error line of the report, and the person is not
 * certified in this run.
 */
#ifndef SMIMESYNC_SYNC_OUTSIDERS_H
#define SMIMESYNC_SYNC_OUTSIDERS_H

#include <stddef.h>

#include "sync/engine.h"
#include "sync/plan.h"

struct outsider_checks {
	struct plan_holder_check *v; /* new; its other and error strings are owned here */
	size_t n;
};

/* Ask about every address of every item with check_holders that is not skipped. */
void outsiders_ask(struct engine *en, const struct plan *p, struct outsider_checks *out);
void outsiders_free(struct outsider_checks *c);

#endif
