/* SPDX-License-Identifier: ISC */
/*
 * Who is a member in this run, for questions about people the store
 * knows: is this user id an enabled member, a disabled one, or gone?
 * The planner's step 2 builds it from the step-1 items (plan.h); lookups
 * are binary searches.
 */
#ifndef SMIMESYNC_SYNC_MEMBER_INDEX_H
#define SMIMESYNC_SYNC_MEMBER_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "conf/conf.h"
#include "sync/plan.h"

struct member_index {
	const char **enabled;  /* borrowed ids, sorted */
	size_t n_enabled;
	const char **disabled;
	size_t n_disabled;
	size_t *per_group;     /* members governed by each cfg group */
	const char **known;    /* borrowed ids judged whatever was read (plan_item.known, and
	                          plan_holders()'s known), sorted */
	size_t n_known;
};

void member_index_build(struct member_index *mi, const struct plan_item *items, size_t n,
    size_t n_groups, const char *const *known, size_t n_known);
bool member_index_enabled(const struct member_index *mi, const char *user_id);
bool member_index_disabled(const struct member_index *mi, const char *user_id);
/* Looked up alone in this run: judged though their groups were not read. */
bool member_index_known(const struct member_index *mi, const char *user_id);
void member_index_free(struct member_index *mi);

#endif
