/* SPDX-License-Identifier: ISC */
/*
 * People an incremental run looks up alone (directory.h dir_read_person)
 * instead of reading their groups whole: the people a stream's changes
 * name, and, at an interval, the people due by the clock (plan_due()).
 * Each lookup gives the person as a group read gives them and every
 * group of their directory they are in now, so the planner can judge
 * them -- a new member issued, a leaver retired, a renewal done -- while
 * everyone else's groups stay held.
 *
 *   struct lookup_req r[] = { { dir, ref, id }, ... };
 *   lookups_run(en, r, n, want, &l);     members, known ids; want[] for fallbacks
 *   ... plan with l.members (plan_member.known set) and l.known ...
 *   lookups_free(&l);
 *
 * A directory that cannot look people up (its type, or the server said
 * DIR_UNSUPPORTED), or a lookup that fails, sets want[] for every enabled
 * group of that directory: the run reads them whole, as before, and a read
 * that fails in turn keeps the stream's position from being stored.
 */
#ifndef SMIMESYNC_SYNC_LOOKUP_H
#define SMIMESYNC_SYNC_LOOKUP_H

#include <stdbool.h>
#include <stddef.h>

#include "conf/conf.h"
#include "sync/engine.h"
#include "sync/plan.h"

struct lookup_req {
	const struct conf_directory *dir; /* borrowed */
	const char *ref;                  /* borrowed: dir_person_ref() of the person */
	const char *id;                   /* borrowed: the id the store knows them by */
};

struct lookups {
	struct user *users;          /* new: the people found */
	size_t n_users;
	struct plan_member *members; /* new: one per (person found, group of theirs), .known set;
	                                users borrowed from users[] */
	size_t n_members;
	const char **known;          /* new array, ids borrowed from the requests: looked up and
	                                in none of their directory's groups, or not found */
	size_t n_known;
	const char **ids;            /* new array, borrowed: every id a lookup answered for (the
	                                request's, and the id found at its DN), sorted by strcmp */
	size_t n_ids;
	size_t n_asked;              /* lookups made */
};

/*
 * Look up reqs[0..n) (the same id twice is looked up once). want[] is per
 * cfg->groups index (see above). *out is set afresh.
 */
void lookups_run(struct engine *en, const struct lookup_req *reqs, size_t n, bool *want,
    struct lookups *out);
void lookups_free(struct lookups *l);
/* want[gi] = true for every enabled group of dir: its groups are read whole. */
void lookups_want_directory(const struct config *cfg, const struct conf_directory *dir,
    bool *want);

#endif
