/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/xalloc.h"
#include "sync/lookup.h"

static int
cmp_id(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The enabled groups of dir (array new, elements borrowed), with their cfg indexes. */
static size_t
groups_of(const struct config *cfg, const struct conf_directory *dir,
    const struct conf_group ***groups, size_t **index)
{
	size_t n = 0;

	*groups = xcalloc(cfg->n_groups + 1, sizeof(**groups));
	*index = xcalloc(cfg->n_groups + 1, sizeof(**index));
	for (size_t gi = 0; gi < cfg->n_groups; gi++) {
		if (!cfg->groups[gi].enabled || cfg->groups[gi].directory != dir)
			continue;
		(*groups)[n] = &cfg->groups[gi];
		(*index)[n++] = gi;
	}
	return n;
}

void
lookups_want_directory(const struct config *cfg, const struct conf_directory *dir, bool *want)
{
	for (size_t gi = 0; gi < cfg->n_groups; gi++)
		if (cfg->groups[gi].enabled && cfg->groups[gi].directory == dir)
			want[gi] = true;
}

/* Every enabled group of dir is read whole anyway: a lookup would add nothing. */
static bool
directory_read_whole(const struct config *cfg, const struct conf_directory *dir,
    const bool *want)
{
	bool any = false;

	for (size_t gi = 0; gi < cfg->n_groups; gi++) {
		if (!cfg->groups[gi].enabled || cfg->groups[gi].directory != dir)
			continue;
		if (!want[gi])
			return false;
		any = true;
	}
	return any;
}

static bool
asked_before(const struct lookup_req *reqs, size_t i)
{
	for (size_t k = 0; k < i; k++)
		if (reqs[k].dir == reqs[i].dir && strcmp(reqs[k].id, reqs[i].id) == 0)
			return true;
	return false;
}

/* One person of one directory; false when their directory is to be read whole instead. */
static bool
look_up(struct engine *en, const struct lookup_req *r, const struct conf_group **groups,
    size_t n_groups, bool *in, struct user *u, bool *found)
{
	struct dir_conn *dc = NULL;
	struct errbuf e;
	enum dir_status st;

	err_clear(&e);
	if (r->ref == NULL) {
		log_debug("%s: no reference to look them up by in [directory %s]: their groups "
		    "are read whole", r->id, r->dir->name);
		return false;
	}
	if ((st = engine_dir(en, r->dir, &dc, &e)) == DIR_OK)
		st = dir_read_person(dc, r->ref, groups, n_groups, u, in, found, &e);
	if (st == DIR_OK)
		return true;
	if (st == DIR_UNSUPPORTED)
		log_debug("%s", e.text);
	else
		log_warn("cannot look up %s alone (%s): the groups of [directory %s] are read "
		    "whole instead", r->ref, e.text, r->dir->name);
	return false;
}

void
lookups_run(struct engine *en, const struct lookup_req *reqs, size_t n, bool *want,
    struct lookups *out)
{
	const struct config *cfg = en->cfg;
	size_t *n_in = xcalloc(n + 1, sizeof(*n_in));
	size_t **in_of = xcalloc(n + 1, sizeof(*in_of));
	size_t n_pairs = 0;

	memset(out, 0, sizeof(*out));
	out->users = xcalloc(n + 1, sizeof(*out->users));
	out->known = xcalloc(n + 1, sizeof(*out->known));
	out->ids = xcalloc(2 * n + 1, sizeof(*out->ids));
	for (size_t i = 0; i < n; i++) {
		const struct conf_group **groups = NULL;
		size_t *index = NULL, n_groups;
		bool *in = NULL, found = false;
		struct user u;

		if (directory_read_whole(cfg, reqs[i].dir, want) || asked_before(reqs, i))
			continue;
		n_groups = groups_of(cfg, reqs[i].dir, &groups, &index);
		in = xcalloc(n_groups + 1, sizeof(*in));
		memset(&u, 0, sizeof(u));
		out->n_asked++;
		if (n_groups > 0 && !look_up(en, &reqs[i], groups, n_groups, in, &u, &found)) {
			lookups_want_directory(cfg, reqs[i].dir, want);
		} else if (!found) {
			log_debug("looked up %s alone: no such person in [directory %s]", reqs[i].ref,
			    reqs[i].dir->name);
			out->known[out->n_known++] = reqs[i].id;
			out->ids[out->n_ids++] = reqs[i].id;
		} else {
			size_t at = out->n_users++;

			out->ids[out->n_ids++] = reqs[i].id;
			if (u.id != NULL && strcmp(u.id, reqs[i].id) != 0)
				out->ids[out->n_ids++] = u.id; /* borrowed from users[], which stays */

			out->users[at] = u; /* stolen */
			in_of[at] = xcalloc(n_groups + 1, sizeof(**in_of));
			for (size_t k = 0; k < n_groups; k++)
				if (in[k])
					in_of[at][n_in[at]++] = index[k];
			n_pairs += n_in[at];
			log_debug("looked up %s alone: in %zu of the %zu groups of [directory %s]",
			    reqs[i].ref, n_in[at], n_groups, reqs[i].dir->name);
			/* In none of the groups: judged as a leaver; gone from the DN they had. */
			if (n_in[at] == 0 || (u.id != NULL && strcmp(u.id, reqs[i].id) != 0))
				out->known[out->n_known++] = reqs[i].id;
		}
		free(in);
		free(groups);
		free(index);
	}
	out->members = xcalloc(n_pairs + 1, sizeof(*out->members));
	for (size_t at = 0; at < out->n_users; at++) {
		for (size_t k = 0; k < n_in[at]; k++) {
			struct plan_member *m = &out->members[out->n_members++];

			m->user = &out->users[at];
			m->group = in_of[at][k];
			m->known = true;
		}
		free(in_of[at]);
	}
	free(in_of);
	free(n_in);
	qsort(out->ids, out->n_ids, sizeof(*out->ids), cmp_id);
}

void
lookups_free(struct lookups *l)
{
	for (size_t i = 0; i < l->n_users; i++)
		user_free_fields(&l->users[i]);
	free(l->users);
	free(l->members);
	free(l->known);
	free(l->ids);
	memset(l, 0, sizeof(*l));
}
