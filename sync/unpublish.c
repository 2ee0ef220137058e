/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/xalloc.h"
#include "store/removals.h"
#include "sync/publish.h"
#include "sync/unpublish.h"

/* Did the group that governed this person fail to read in this run? */
static bool
governor_failed(const struct config *cfg, const char *group_name, const bool *group_failed)
{
	for (size_t i = 0; group_failed != NULL && group_name != NULL && i < cfg->n_groups; i++)
		if (group_failed[i] && strcmp(cfg->groups[i].name, group_name) == 0)
			return true;
	return false;
}

static int
cmp_id(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The ids an incremental run looked up alone (unpublish_stale()). */
struct looked_up {
	const char *const *ids;
	size_t n;
};

/*
 * Remove one queued value. 1: done, 0: left pending (why in e), -1: the
 * store failed.
 */
static int
remove_one(struct engine *en, const struct store_removal *r, const bool *group_failed,
    const struct looked_up *lu, struct store_cert *c, struct errbuf *e)
{
	struct store_user u;
	struct user who;
	const struct conf_directory *source = NULL, *target = NULL;
	struct dir_conn *dc = NULL;
	char *where = NULL;
	int found, rc = 0;

	memset(&u, 0, sizeof(u));
	if (store_cert_get(en->store, r->cert_id, c, e) != 0)
		return -1;
	found = store_user_find(en->store, r->user_id, &u, e);
	if (found < 0)
		return -1;
	if (found == 1 && u.source != NULL)
		source = config_find_directory(en->cfg, u.source);
	if (source == NULL) {
		err_set(e, "the directory %s%s%s is no longer configured: remove serial %s from "
		    "the person's entry by hand", found == 1 && u.source ? "[directory " : "",
		    found == 1 && u.source ? u.source : "of this person",
		    found == 1 && u.source ? "]" : "", c->serial);
		goto out;
	}
	if (governor_failed(en->cfg, u.group_name, group_failed) &&
	    bsearch(&r->user_id, lu->ids, lu->n, sizeof(*lu->ids), cmp_id) == NULL) {
		err_set(e, "group %s could not be read in this run: the removal waits for a run "
		    "that can read it", u.group_name);
		goto out;
	}
	target = publish_dir_of(en->cfg, u.group_name, source);
	if (target != NULL) {
		memset(&who, 0, sizeof(who));
		who.dn = u.dn;
		who.mail = c->mail;
		if (u.dn == NULL) {
			err_set(e, "no entry is recorded for this person");
			goto out;
		}
		if (publish_locate(en, source, target, &who, &dc, &where, e) != 0 ||
		    publish_remove(dc, where, c, e) != 0)
			goto out;
	}
	rc = 1;
out:
	free(where);
	store_user_clear(&u);
	return rc;
}

void
unpublish_stale(struct engine *en, const bool *group_failed, const char *const *looked_up,
    size_t n_looked_up, bool dry_run)
{
	struct looked_up lu = { looked_up, n_looked_up };
	struct store_removal *v = NULL;
	size_t n = 0, queued = 0, done = 0, pending = 0;
	struct errbuf e;

	if (en->store == NULL)
		return;
	if (!dry_run && store_removals_enqueue_stale(en->store, en->now, &queued, &e) != 0) {
		report_error(en->report, NULL, "unpublish", "%s", e.text);
		return;
	}
	if (queued > 0)
		log_info("%zu stale certificate value%s of ours queued for removal from the "
		    "directory", queued, queued == 1 ? "" : "s");
	if (store_removals_pending(en->store, &v, &n, &e) != 0) {
		report_error(en->report, NULL, "unpublish", "%s", e.text);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct store_cert c;
		struct errbuf e2;
		int rc;

		memset(&c, 0, sizeof(c));
		err_clear(&e);
		if (dry_run) {
			report_count(en->report, "removals_pending", 1);
			store_cert_clear(&c);
			continue;
		}
		rc = remove_one(en, &v[i], group_failed, &lu, &c, &e);
		if (rc == 1) {
			if (store_removal_done(en->store, v[i].id, en->now, &e2) != 0)
				report_error(en->report, c.mail, "unpublish", "%s", e2.text);
			else
				done++;
			if (v[i].attempts > 0 || strcmp(v[i].why, "revoked") == 0)
				engine_log_person(en, "serial %s (%s) is out of the directory now", c.serial, v[i].why);
		} else {
			if (rc == 0 && store_removal_failed(en->store, v[i].id, e.text, en->now,
			    &e2) != 0)
				log_error("%s", e2.text);
			pending++;
			report_error(en->report, c.mail ? c.mail : v[i].user_id, "unpublish",
			    "serial %s (%s) is still in the directory: %s; the removal stays queued "
			    "and is retried at every run (attempt %d)", c.serial ? c.serial : "?",
			    v[i].why, e.text, v[i].attempts + 1);
		}
		store_cert_clear(&c);
	}
	if (done > 0)
		report_count(en->report, "unpublished", (int64_t)done);
	if (pending > 0)
		report_count(en->report, "removals_pending", (int64_t)pending);
	store_removals_free(v, n);
}
