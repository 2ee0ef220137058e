/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "sync/member_index.h"

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void
member_index_build(struct member_index *mi, const struct plan_item *items, size_t n,
    size_t n_groups, const char *const *known, size_t n_known)
{
	memset(mi, 0, sizeof(*mi));
	mi->enabled = xcalloc(n + 1, sizeof(*mi->enabled));
	mi->disabled = xcalloc(n + 1, sizeof(*mi->disabled));
	mi->per_group = xcalloc(n_groups + 1, sizeof(*mi->per_group));
	mi->known = xcalloc(n + n_known + 1, sizeof(*mi->known));
	for (size_t i = 0; i < n_known; i++)
		mi->known[mi->n_known++] = known[i];
	for (size_t i = 0; i < n; i++) {
		if (items[i].user->id == NULL)
			continue;
		if (items[i].known)
			mi->known[mi->n_known++] = items[i].user->id;
		mi->per_group[items[i].group]++;
		if (items[i].user->enabled)
			mi->enabled[mi->n_enabled++] = items[i].user->id;
		else
			mi->disabled[mi->n_disabled++] = items[i].user->id;
	}
	qsort(mi->enabled, mi->n_enabled, sizeof(*mi->enabled), cmp_str);
	qsort(mi->disabled, mi->n_disabled, sizeof(*mi->disabled), cmp_str);
	qsort(mi->known, mi->n_known, sizeof(*mi->known), cmp_str);
}

bool
member_index_enabled(const struct member_index *mi, const char *user_id)
{
	return bsearch(&user_id, mi->enabled, mi->n_enabled, sizeof(*mi->enabled), cmp_str) != NULL;
}

bool
member_index_disabled(const struct member_index *mi, const char *user_id)
{
	return bsearch(&user_id, mi->disabled, mi->n_disabled, sizeof(*mi->disabled), cmp_str) !=
	    NULL;
}

bool
member_index_known(const struct member_index *mi, const char *user_id)
{
	return bsearch(&user_id, mi->known, mi->n_known, sizeof(*mi->known), cmp_str) != NULL;
}

void
member_index_free(struct member_index *mi)
{
	free(mi->known);
	free(mi->enabled);
	free(mi->disabled);
	free(mi->per_group);
	memset(mi, 0, sizeof(*mi));
}
