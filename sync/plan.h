/* SPDX-License-Identifier: ISC */
/*
 * The planner: a pure function of (members, stored state, policy, now)
 * that says what each person needs. It reads nothing and writes nothing,
 * so `run --dry-run` is exactly the plan and tests need no servers.
 *
 *   issue      no valid certificate in the store
 *   renew      the current certificate expires within the group's renew_before
 *   reissue    the directory's mail differs from the certificate's
 *   resume     an earlier run left this person's provisioning unfinished
 *   republish  the certificate is valid but not (yet) in the directory
 *   nothing    valid, published, not due
 *   skip       not provisioned, with the reason: no usable mail, disabled,
 *              ignored by an admin, revoked (an admin must ask for a new
 *              one), or the group that governed this person could not be
 *              read in this run (a failed read changes nothing)
 *
 * A person in several synced groups is planned once, under the first
 * group in configuration order; plan_item.also_in names the others.
 */
#ifndef SMIMESYNC_SYNC_PLAN_H
#define SMIMESYNC_SYNC_PLAN_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "conf/conf.h"
#include "directory/directory.h"
#include "store/store.h"

enum plan_action {
	PLAN_NOTHING = 0,
	PLAN_ISSUE,
	PLAN_RENEW,
	PLAN_REISSUE,
	PLAN_RESUME,
	PLAN_REPUBLISH,
	PLAN_SKIP,
};

const char *plan_action_name(enum plan_action a);

/* One member as read from a group: borrowed user, index into cfg->groups. */
struct plan_member {
	const struct user *user;
	size_t group;
};

struct plan_item {
	const struct user *user;      /* borrowed */
	size_t group;                 /* index into cfg->groups: the governing group */
	enum plan_action action;
	char reason[256];             /* one line for people: why this action */
	int64_t cert_id;              /* current valid certificate, 0 if none */
	time_t not_after;             /* of that certificate */
	int64_t open_action;          /* unfinished action to resume, 0 if none */
	char also_in[256];            /* other synced groups this user is in */
	bool forced;                  /* issue requested by an admin (smimesync issue) */
	bool hold;                    /* governing group unread: touch nothing of theirs */
};

/*
 * members: in group order (all of group 0, then group 1 ...).
 * states: sorted by user_id (as store_load_states returns them).
 * group_failed: per cfg->groups index, true when that group's read failed
 * in this run (NULL: none failed).
 * *out is new (free()), one item per distinct user, in member order.
 */
void plan_build(const struct config *cfg, const struct plan_member *members, size_t n_members,
    const struct store_user_state *states, size_t n_states, const bool *group_failed,
    time_t now, struct plan_item **out, size_t *n_out);

/* Find a user's stored state in the sorted array, NULL if none. */
const struct store_user_state *plan_find_state(const struct store_user_state *states, size_t n,
    const char *user_id);

#endif
