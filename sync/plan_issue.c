/* SPDX-License-Identifier: ISC */
/*
 * Step 1b: the mass-issuance valve (sync/plan.h). A group pointed at
 * "Domain Users" by mistake must not issue -- and at a commercial CA buy
 * -- a certificate for everyone in one run: beside the retirement valve,
 * this one holds new issuance above a limit until an admin confirms it.
 * Renewals and re-issues are not counted: they replace certificates
 * people already hold.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "sync/plan_internal.h"

/* The larger of 50 and 10 % of the people who hold a current certificate. */
#define ISSUE_VALVE_FLOOR 50
#define ISSUE_VALVE_PERCENT 10

void
plan_issue_valve(const struct config *cfg, const struct store_user_state *states,
    size_t n_states, bool allow_mass_issue, time_t now, struct plan *p)
{
	struct plan_valve *v = &p->issue_valve;
	size_t holders = 0, limit;

	for (size_t i = 0; i < n_states; i++)
		holders += states[i].cert_id != 0 && states[i].not_after > now;
	if (cfg->service.max_new_per_run > 0) {
		limit = (size_t)cfg->service.max_new_per_run;
	} else {
		limit = holders * ISSUE_VALVE_PERCENT / 100;
		if (limit < ISSUE_VALVE_FLOOR)
			limit = ISSUE_VALVE_FLOOR;
	}
	p->max_new = limit;
	p->n_new = 0;
	for (size_t i = 0; i < p->n_items; i++)
		p->n_new += p->items[i].action == PLAN_ISSUE && !p->items[i].forced;
	if (p->n_new <= limit)
		return;
	v->closed = true;
	v->held = !allow_mass_issue;
	v->why = xcalloc(1, sizeof(*v->why));
	v->why[v->n_why++] = xasprintf("mass-issuance valve: this run would issue %zu new "
	    "certificates, more than max_new_per_run = %zu (%s); %s", p->n_new, limit,
	    cfg->service.max_new_per_run > 0 ? "[service]" : "the larger of 50 and 10 % of the "
	    "people holding a certificate now", v->held ? "none of them is issued. If the "
	    "groups are right, run: smimesync run --allow-mass-issue" : "issued anyway: "
	    "--allow-mass-issue");
	if (!v->held)
		return;
	for (size_t i = 0; i < p->n_items; i++) {
		struct plan_item *it = &p->items[i];

		if (it->action != PLAN_ISSUE || it->forced)
			continue;
		it->action = PLAN_SKIP;
		snprintf(it->reason, sizeof(it->reason), "held by the mass-issuance valve (%zu new "
		    "certificates in one run, at most %zu); smimesync run --allow-mass-issue issues "
		    "them", p->n_new, limit);
	}
}
