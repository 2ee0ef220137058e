/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/xalloc.h"
#include "sync/engine.h"
#include "sync/escrow_upgrade.h"
#include "sync/keygen.h"
#include "sync/lookup.h"
#include "sync/outbox.h"
#include "sync/outsiders.h"
#include "sync/plan.h"
#include "sync/provision.h"
#include "sync/publish.h"
#include "sync/admin_notice.h"
#include "sync/remind.h"
#include "sync/retire.h"
#include "sync/revoke.h"
#include "sync/unpublish.h"
#include "sync/unwanted.h"
#include "sync/run.h"

volatile sig_atomic_t run_stop_requested;

/* Actions executed per key-generation batch: enough to keep every core busy. */
#define WORK_BATCH 64

/*
 * Skipped members named in the log; the rest are counted there and listed
 * in the report. A directory full of accounts without mail must not turn
 * every hourly run into a wall of warnings.
 */
#define SKIPS_LOGGED 5

struct group_read {
	struct user_list members;
	bool failed;
};

static void
report_item(struct engine *en, const struct plan_item *it, const char *outcome,
    const char *serial, time_t not_after, const char *step, const char *error)
{
	struct report_user ru;

	memset(&ru, 0, sizeof(ru));
	ru.mail = it->user->mail;
	ru.name = it->user->display_name;
	ru.id = it->user->id;
	ru.dn = it->user->dn;
	ru.group = en->cfg->groups[it->group].name;
	ru.also_in = it->also_in;
	ru.action = plan_action_name(it->action);
	ru.reason = it->reason;
	ru.outcome = outcome;
	ru.serial = serial;
	ru.not_after = not_after;
	ru.step = step;
	ru.error = error;
	report_user(en->report, &ru);
}

static size_t
enabled_groups(const struct config *cfg)
{
	size_t n = 0;

	for (size_t i = 0; i < cfg->n_groups; i++)
		n += cfg->groups[i].enabled;
	return n;
}

/*
 * Read the groups wanted[] names (every enabled group when NULL); a failed
 * read marks that group, never guesses. done[] (may be NULL) marks each
 * group tried.
 */
static size_t
read_groups(struct engine *en, struct group_read *reads, const bool *wanted, bool *done)
{
	const struct config *cfg = en->cfg;
	size_t ok = 0, read = 0, total = 0;

	for (size_t gi = 0; gi < cfg->n_groups; gi++)
		total += cfg->groups[gi].enabled && (wanted == NULL || wanted[gi]);
	engine_phase(en, PHASE_READING, total);
	for (size_t gi = 0; gi < cfg->n_groups; gi++) {
		const struct conf_group *g = &cfg->groups[gi];
		struct dir_conn *dc = NULL;
		struct errbuf e;

		err_clear(&e);
		if (!g->enabled || (wanted != NULL && !wanted[gi]))
			continue;
		if (done != NULL)
			done[gi] = true;
		if (read > 0)
			engine_progress(en, read);
		read++;
		if (engine_dir(en, g->directory, &dc, &e) != DIR_OK ||
		    dir_read_group(dc, g, &reads[gi].members, &e) != DIR_OK) {
			/* Half a read is no read: nobody of this group is provisioned or retired. */
			user_list_free(&reads[gi].members);
			reads[gi].failed = true;
			report_group(en->report, g->name, g->directory->name, 0, e.text);
			report_error(en->report, NULL, "directory",
			    "[group %s] cannot read members, nothing is changed for this group: %s",
			    g->name, e.text);
			log_error("[group %s] cannot read members: %s", g->name, e.text);
			continue;
		}
		report_group(en->report, g->name, g->directory->name,
		    (int64_t)reads[gi].members.n, NULL);
		report_group_publish(en->report, g->name, g->publish != NULL ? g->publish->name :
		    NULL, g->publish != NULL ? NULL : publish_nowhere_text(g));
		log_info("[group %s] %zu members", g->name, reads[gi].members.n);
		if (g->publish == NULL && conf_dir_traits(g->directory->type)->warn_unpublished)
			log_warn("[group %s] %s", g->name, publish_nowhere_text(g));
		ok++;
	}
	engine_progress(en, read);
	return ok;
}

static int
record_users(struct engine *en, const struct plan_item *items, size_t n, struct errbuf *e)
{
	if (store_begin(en->store, e) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const struct user *u = items[i].user;
		struct store_user su;

		if (u->id == NULL || items[i].hold)
			continue;
		memset(&su, 0, sizeof(su));
		su.id = u->id;
		su.source = (char *)u->source;
		su.dn = u->dn;
		su.mail = u->mail;
		su.display_name = u->display_name;
		su.group_name = en->cfg->groups[items[i].group].name;
		su.language = u->language;
		su.last_seen = en->now;
		if (store_user_upsert(en->store, &su, e) != 0) {
			store_rollback(en->store);
			return -1;
		}
	}
	return store_commit(en->store, e);
}

static const char *
done_counter(const char *kind)
{
	if (strcmp(kind, "renew") == 0)
		return "renewed";
	if (strcmp(kind, "reissue") == 0)
		return "reissued";
	return "issued";
}

static void
republish(struct engine *en, const struct plan_item *it)
{
	const struct conf_group *g = &en->cfg->groups[it->group];
	struct store_cert c;
	struct dir_conn *dc = NULL;
	STACK_OF(X509) *chain = NULL;
	char *dn = NULL;
	struct errbuf e;

	memset(&c, 0, sizeof(c));
	err_clear(&e);
	if (store_cert_get(en->store, it->cert_id, &c, &e) == 0 &&
	    engine_cert_chain(en, g->ca, &c, &chain, &e) == 0 &&
	    publish_locate(en, g->directory, g->publish, it->user, &dc, &dn, &e) == 0 &&
	    (dc == NULL || publish_current(en, dc, dn, &c, chain, &e) == 0) &&
	    store_cert_set_published(en->store, c.id, true, &e) == 0) {
		report_count(en->report, "published", 1);
		report_item(en, it, "done", c.serial, c.not_after, NULL, NULL);
	} else {
		report_error(en->report, it->user->mail, "publish", "%s", e.text);
		report_item(en, it, "failed", c.serial, c.not_after, "publish", e.text);
	}
	sk_X509_pop_free(chain, X509_free);
	free(dn);
	store_cert_clear(&c);
}

/* One batch of work: its actions, and the keys being made for them. */
struct work_batch {
	size_t start, count;
	size_t n_jobs;
	struct keygen_job jobs[WORK_BATCH];
	int64_t ids[WORK_BATCH];
	int job_of[WORK_BATCH];
	struct keygen_run *kr; /* keys in the making (new), NULL once collected */
};

/* Record the batch's actions as planned, then start making its keys. */
static void
batch_prepare(struct engine *en, const struct plan_item **work, size_t start, size_t count,
    struct work_batch *b)
{
	b->start = start;
	b->count = count;
	b->n_jobs = 0;
	for (size_t k = 0; k < count; k++) {
		const struct plan_item *it = work[start + k];
		struct errbuf e;

		b->job_of[k] = -1;
		b->ids[k] = it->open_action;
		if (it->action == PLAN_RESUME)
			continue;
		if (provision_create(en, it, &b->ids[k], &e) != 0 ||
		    (it->forced && (store_user_set_switch(en->store, it->user->id,
		    "force_issue", false, &e) < 0 ||
		    store_user_set_ca_hold(en->store, it->user->id, NULL, &e) != 0))) {
			b->ids[k] = 0;
			report_error(en->report, it->user->mail, "planned", "%s", e.text);
			report_item(en, it, "failed", NULL, 0, "planned", e.text);
			continue;
		}
		b->jobs[b->n_jobs].type = en->cfg->groups[it->group].key_type;
		b->jobs[b->n_jobs].key = NULL;
		b->jobs[b->n_jobs].error[0] = '\0';
		b->job_of[k] = (int)b->n_jobs++;
	}
	b->kr = keygen_start(b->jobs, b->n_jobs);
}

/* Provision a batch whose keys are made (keygen_wait done). */
static void
batch_provision(struct engine *en, const struct plan_item **work, struct work_batch *b)
{
	for (size_t k = 0; k < b->count; k++) {
		const struct plan_item *it = work[b->start + k];
		EVP_PKEY *key = b->job_of[k] >= 0 ? b->jobs[b->job_of[k]].key : NULL;
		struct prov_outcome po;
		struct user who;

		if (b->ids[k] == 0 || run_stop_requested) {
			/* Planned but not started: the next run resumes it. */
			EVP_PKEY_free(key);
			if (b->ids[k] != 0)
				report_item(en, it, "interrupted", NULL, 0, "planned",
				    "the run was stopped before this person's turn; the next "
				    "run resumes it");
			continue;
		}
		/* The person as the planner allows them to be certified (I5). */
		who = *it->user;
		who.alt_mails = (char **)it->alt_mails;
		who.n_alt_mails = it->alt_mails != NULL ? it->n_alt_mails : 0;
		log_set_user(it->user->mail);
		provision_run(en, b->ids[k], &who, key, &po);
		if (strcmp(po.outcome, "done") == 0) {
			report_count(en->report, done_counter(po.kind), 1);
			report_count(en->report, "published", 1);
		} else if (strcmp(po.outcome, "pending") == 0) {
			/* The CA holds the request (approval, validation): not an error. */
			report_count(en->report, "ca_pending", 1);
		} else {
			report_error(en->report, it->user->mail, po.step, "%s", po.error);
		}
		report_item(en, it, po.outcome, po.serial[0] ? po.serial : NULL, po.not_after,
		    strcmp(po.outcome, "done") == 0 ? NULL : po.step,
		    po.error[0] ? po.error : NULL);
		log_set_user(NULL);
		engine_progress(en, en->phase.done + 1);
	}
}

/*
 * Execute issue/renew/reissue/resume items in batches, keys made on every
 * core. The keys of the next batch are made while this one is provisioned
 * (CA, store, directory: mostly waiting on I/O), so a roll-out runs at the
 * speed of key generation rather than key generation plus provisioning.
 */
static void
execute(struct engine *en, const struct plan_item **work, size_t n_work, bool send_mail)
{
	struct work_batch *cur = xcalloc(1, sizeof(*cur));
	struct work_batch *next = xcalloc(1, sizeof(*next));
	size_t start = 0;
	bool have_cur = false;
	struct errbuf e;

	if (n_work > 0)
		engine_phase(en, PHASE_ISSUING, n_work);
	if (start < n_work && !run_stop_requested) {
		size_t count = n_work < WORK_BATCH ? n_work : WORK_BATCH;

		batch_prepare(en, work, start, count, cur);
		start += count;
		have_cur = true;
	}
	while (have_cur) {
		struct work_batch *t;
		bool have_next = false;

		keygen_wait(cur->kr);
		cur->kr = NULL;
		if (start < n_work && !run_stop_requested) {
			size_t count = n_work - start < WORK_BATCH ? n_work - start : WORK_BATCH;

			batch_prepare(en, work, start, count, next);
			start += count;
			have_next = true;
		}
		batch_provision(en, work, cur);
		/*
		 * Send this batch's mail while the next batch's keys are being
		 * made. If that fails, leave it all to the flush at the end of
		 * the run, which reports the problem once.
		 */
		if (send_mail && have_next && !run_stop_requested && outbox_flush(en, &e) != 0) {
			log_debug("mail during the run: %s (the end of the run tries again)",
			    e.text);
			send_mail = false;
		}
		t = cur;
		cur = next;
		next = t;
		have_cur = have_next;
	}
	for (; start < n_work; start++)
		report_item(en, work[start], "interrupted", NULL, 0, NULL,
		    "the run was stopped before this person's turn; the next run does it");
	free(cur);
	free(next);
}

/*
 * Step 2 of the plan, over the live certificates as this run's work left
 * them (a renewal just done supersedes one): leavers, then reminders,
 * which the planner decided on the store as the retirement leaves it.
 * *holders is new; the plan borrows from it until plan_free().
 */
static void
retire_and_remind(struct engine *en, struct plan *plan, const bool *group_failed,
    const struct lookups *looked, const struct run_options *opt, struct store_holder **holders,
    size_t *n_holders)
{
	struct errbuf e;

	if (en->store == NULL)
		return;
	engine_phase(en, PHASE_RETIRING, 0);
	if (store_holders(en->store, en->now, holders, n_holders, &e) != 0) {
		report_error(en->report, NULL, "retire", "%s", e.text);
		return;
	}
	plan_holders(en->cfg, *holders, *n_holders, group_failed, looked->known, looked->n_known,
	    opt->allow_mass_retire, en->now, plan);
	retire_execute(en, plan, opt->dry_run);
	remind_execute(en, plan, opt->dry_run);
}

/*
 * What the planner found that the admin must act on, before any work:
 * addresses claimed by two people or held by an entry in no synced group
 * (I5) and the mass-issuance valve (I1: held by a valve). Each is an error
 * line, so the run ends partial (3) -- except the valve opened with
 * --allow-mass-issue, which is a notice: the admin asked for it.
 */
static void
report_plan_findings(struct engine *en, const struct plan *p)
{
	for (size_t i = 0; i < p->n_conflicts; i++) {
		const struct plan_conflict *c = &p->conflicts[i];

		if (c->b == NULL)
			report_error(en->report, c->addr, "plan", "%s is claimed by %s and held by %s "
			    "as well, an entry in no synced group: an address two entries hold is "
			    "certified for neither; correct the directory", c->addr,
			    c->a->dn ? c->a->dn : "?", c->outsider ? c->outsider : "?");
		else
			report_error(en->report, c->addr, "plan", "%s is claimed by %s and by %s: an "
			    "address claimed by two people is certified for neither; correct the "
			    "directory", c->addr, c->a->dn ? c->a->dn : "?", c->b->dn ? c->b->dn : "?");
	}
	if (p->n_conflicts > 0)
		report_count(en->report, "address_conflicts", (int64_t)p->n_conflicts);
	report_count(en->report, "new_certificates", (int64_t)p->n_new);
	/* Opened on purpose (run --allow-mass-issue), the valve is news, not an error. */
	for (size_t i = 0; i < p->issue_valve.n_why; i++) {
		if (p->issue_valve.held)
			report_error(en->report, NULL, "plan", "%s", p->issue_valve.why[i]);
		else
			report_notice(en->report, "%s", p->issue_valve.why[i]);
	}
	if (p->issue_valve.closed && !p->issue_valve.held)
		log_info("%s", p->issue_valve.why[0]);
	if (p->issue_valve.held) {
		report_count(en->report, "held_by_valve", (int64_t)p->n_new);
		log_error("mass-issuance valve closed: %zu new certificates held", p->n_new);
	}
}

/*
 * Revoke the certificate of an unfinished provisioning whose addresses
 * moved (plan_item.revoke_open). True when it is revoked (its removal from
 * the directory may still be queued: unpublish_stale() retries it), so the
 * new certificate may follow; false leaves the person for the next run,
 * never with two valid certificates.
 */
static bool
revoke_moved(struct engine *en, const struct plan_item *it)
{
	const struct conf_group *g = &en->cfg->groups[it->group];
	struct store_cert c;
	struct errbuf e, e2;
	bool revoked;

	if (revoke_cert(en, it->revoke_open, it->user->dn, REVOKE_SUPERSEDED, g->directory,
	    g->publish, &e) == 0) {
		report_count(en->report, "revoked", 1);
		return true;
	}
	memset(&c, 0, sizeof(c));
	revoked = store_cert_get(en->store, it->revoke_open, &c, &e2) == 0 &&
	    c.status == CERT_REVOKED;
	store_cert_clear(&c);
	report_error(en->report, it->user->mail, "revoke", "%s", e.text);
	if (revoked)
		report_count(en->report, "revoked", 1);
	else
		report_item(en, it, "failed", NULL, 0, "revoke", e.text);
	return revoked;
}

static void
count_planned(struct engine *en, const struct plan_item *it)
{
	switch (it->action) {
	case PLAN_NOTHING:
		report_count(en->report, "unchanged", 1);
		break;
	case PLAN_SKIP:
		report_count(en->report, "skipped", 1);
		break;
	default:
		break;
	}
}

/*
 * What a real run would publish and mail for one planned person: a new
 * certificate is published (where the group publishes) and brings a
 * collection and a password mail; a resumed one only the steps it has
 * not yet done.
 */
static void
dry_run_effects(struct engine *en, const struct plan_item *it)
{
	const struct conf_group *g = &en->cfg->groups[it->group];
	bool publish = g->publish != NULL, mail = en->cfg->has_mail;

	if (it->action == PLAN_RESUME && en->store != NULL) {
		struct store_action a;
		enum prov_state st = PROV_PLANNED;
		struct errbuf e;

		memset(&a, 0, sizeof(a));
		if (store_action_get(en->store, it->open_action, &a, &e) == 0 &&
		    prov_state_parse(a.state, &st) == 0) {
			publish = publish && st < PROV_PUBLISHED;
			mail = mail && st < PROV_DONE;
		}
		store_action_clear(&a);
	}
	if (it->action == PLAN_REPUBLISH)
		mail = false;
	if (publish)
		report_count(en->report, "published", 1);
	if (mail)
		report_count(en->report, "mails_queued", 2);
}

static void
dry_run_item(struct engine *en, const struct plan_item *it)
{
	if (it->action == PLAN_ISSUE || it->action == PLAN_RENEW || it->action == PLAN_REISSUE)
		report_count(en->report, done_counter(plan_action_name(it->action)), 1);
	if (it->action != PLAN_NOTHING && it->action != PLAN_SKIP)
		dry_run_effects(en, it);
	if (it->action != PLAN_NOTHING)
		report_item(en, it, it->action == PLAN_SKIP ? "skipped" : "planned", NULL,
		    it->not_after, NULL, NULL);
}

/* The enabled [group] called name, or SIZE_MAX. */
static size_t
group_index(const struct config *cfg, const char *name)
{
	for (size_t gi = 0; gi < cfg->n_groups; gi++)
		if (cfg->groups[gi].enabled && strcmp(cfg->groups[gi].name, name) == 0)
			return gi;
	return SIZE_MAX;
}

/* The [directory] called name, or NULL. */
static const struct conf_directory *
directory_named(const struct config *cfg, const char *name)
{
	for (size_t i = 0; name != NULL && i < cfg->n_directories; i++)
		if (strcmp(cfg->directories[i].name, name) == 0)
			return &cfg->directories[i];
	return NULL;
}

/*
 * A change from a directory that cannot look people up alone: only
 * someone the store knows as a current member with a valid certificate is
 * planned from a PERSON's own values (extra[]); anything the planner must
 * judge against the group (a person gone, disabled or unusable, one
 * without a certificate) has the group that governed them read whole.
 * New members of such a directory come as GROUPS.
 */
static void
decide_without_lookup(const struct config *cfg, const struct run_change *rc,
    const struct store_user_state *st, bool *want, struct plan_member *extra, size_t *n)
{
	const struct dir_change *c = rc->c;
	const char *id = c->kind == DIR_CHANGE_PERSON ? c->user.id : c->id;
	size_t gi, k;

	if (st == NULL || st->left_at != 0 || st->group_name == NULL)
		return; /* nobody we know as a member */
	gi = group_index(cfg, st->group_name);
	if (gi == SIZE_MAX || cfg->groups[gi].directory != rc->dir || want[gi])
		return;
	if (c->kind != DIR_CHANGE_PERSON || st->cert_id == 0 || !c->user.enabled ||
	    c->user.problem != NULL) {
		want[gi] = true;
		return;
	}
	/* The newest values of a person named twice. */
	for (k = 0; k < *n; k++)
		if (strcmp(extra[k].user->id, id) == 0)
			break;
	extra[k].user = &c->user;
	extra[k].group = gi;
	*n += k == *n;
}

/*
 * An incremental run (run.h, struct run_scope): which groups it reads
 * whole (want[]), and whom it looks up alone (*reqs, new): every person a
 * PERSON or GONE change names (GONE: only people the store knows), and
 * in a run at the interval (sc->due) the people due by the clock
 * (plan_due()). Changes from a directory that cannot look people up are
 * decided the old way (decide_without_lookup(): extra[], at most
 * sc->n_changes, borrowed from the changes).
 */
static void
scope_decide(struct engine *en, const struct run_scope *sc,
    const struct store_user_state *states, size_t n_states, bool *want,
    struct plan_member *extra, size_t *n_extra, struct lookup_req **reqs, size_t *n_reqs)
{
	const struct config *cfg = en->cfg;
	const char **due = NULL;
	struct store_holder *holders = NULL;
	size_t n = 0, kept = 0, n_due = 0, n_holders = 0;
	struct errbuf e;

	for (size_t gi = 0; gi < cfg->n_groups; gi++)
		want[gi] = cfg->groups[gi].enabled && (sc == NULL || sc->read_whole == NULL ||
		    sc->read_whole[gi]);
	*reqs = NULL;
	*n_reqs = 0;
	if (sc == NULL)
		return;
	if (sc->due && en->store != NULL) {
		if (store_holders(en->store, en->now, &holders, &n_holders, &e) != 0) {
			/* Without the holders the due people are unknown: read everything. */
			log_warn("%s: every group is read whole", e.text);
			for (size_t gi = 0; gi < cfg->n_groups; gi++)
				want[gi] = cfg->groups[gi].enabled;
		} else {
			plan_due(cfg, states, n_states, holders, n_holders, en->now, &due, &n_due);
		}
	}
	*reqs = xcalloc(sc->n_changes + n_due + 1, sizeof(**reqs));
	for (size_t i = 0; i < sc->n_changes; i++) {
		const struct run_change *rc = &sc->changes[i];
		const struct dir_change *c = rc->c;
		const char *id = c->kind == DIR_CHANGE_PERSON ? c->user.id :
		    c->kind == DIR_CHANGE_GONE ? c->id : NULL;
		const struct store_user_state *st = id != NULL ?
		    plan_find_state(states, n_states, id) : NULL;
		struct lookup_req *r = &(*reqs)[*n_reqs];

		if (id == NULL)
			continue;
		if (!dir_reads_person(rc->dir)) {
			decide_without_lookup(cfg, rc, st, want, extra, &n);
			continue;
		}
		if (c->kind == DIR_CHANGE_GONE && st == NULL)
			continue; /* someone we never knew, or a group */
		r->dir = rc->dir;
		r->id = id;
		r->ref = dir_person_ref(rc->dir, id, c->kind == DIR_CHANGE_PERSON ? c->user.dn :
		    c->dn != NULL ? c->dn : st->dn);
		(*n_reqs)++;
	}
	for (size_t i = 0; i < n_due; i++) {
		const struct store_user_state *st = plan_find_state(states, n_states, due[i]);
		const struct conf_directory *dir = st != NULL ? directory_named(cfg, st->source) :
		    NULL;
		struct lookup_req *r = &(*reqs)[*n_reqs];

		if (dir == NULL)
			continue; /* the directory is no longer configured: nothing reads them */
		if (!dir_reads_person(dir)) {
			lookups_want_directory(cfg, dir, want);
			continue;
		}
		r->dir = dir;
		r->id = st->user_id;
		r->ref = dir_person_ref(dir, st->user_id, st->dn);
		(*n_reqs)++;
	}
	free(due);
	store_holders_free(holders, n_holders);
	/* Whoever's group is read whole after all comes with the read. */
	for (size_t k = 0; k < n; k++)
		if (!want[extra[k].group])
			extra[kept++] = extra[k];
	*n_extra = kept;
}

/*
 * Invariant I5 in an incremental run: would an item certify an address
 * that someone this run did not read has in the store (their directory
 * mail at the last run, or a certificate)? Then only a read of every
 * group can say whose it is. An error answers yes.
 */
static bool
claimed_elsewhere(struct engine *en, const struct plan *p)
{
	for (size_t i = 0; i < p->n_items; i++) {
		const struct plan_item *it = &p->items[i];
		size_t n_addr = it->alt_mails != NULL ? it->n_alt_mails : 0;

		if (it->action != PLAN_ISSUE && it->action != PLAN_RENEW &&
		    it->action != PLAN_REISSUE)
			continue;
		for (size_t a = 0; a <= n_addr; a++) {
			const char *addr = a == 0 ? it->user->mail : it->alt_mails[a - 1];
			char **who = NULL;
			size_t n_who = 0;
			bool outside = false;
			struct errbuf e;

			if (addr == NULL)
				continue;
			if (store_address_claimants(en->store, addr, it->user->id, &who, &n_who,
			    &e) != 0) {
				log_warn("%s", e.text);
				return true;
			}
			for (size_t w = 0; w < n_who; w++) {
				bool read = false;

				for (size_t j = 0; j < p->n_items && !read; j++)
					read = p->items[j].user->id != NULL &&
					    strcmp(p->items[j].user->id, who[w]) == 0;
				outside = outside || !read;
				free(who[w]);
			}
			free(who);
			if (outside) {
				log_info("%s is also known for someone this incremental run did "
				    "not read: every group is read, so that the address is judged "
				    "across everyone", addr);
				return true;
			}
		}
	}
	return false;
}

/*
 * After a recorded run: its report and, when the run did what it meant
 * to, the stream positions of the scope, in one transaction (run.h).
 */
static void
record_run(struct engine *en, const struct run_options *opt, const char *status,
    const char *json, bool streams_ok)
{
	struct run_scope *sc = opt->scope;
	struct errbuf e;

	if (store_begin(en->store, &e) != 0)
		goto fail;
	for (size_t i = 0; streams_ok && sc != NULL && i < sc->n_streams; i++)
		if (store_stream_put(en->store, &sc->streams[i], en->now, &e) != 0)
			goto rollback;
	if (store_run_finish(en->store, en->run_id, time(NULL), status, json, &e) != 0)
		goto rollback;
	if (store_commit(en->store, &e) != 0)
		goto fail;
	if (sc != NULL)
		sc->committed = streams_ok && sc->n_streams > 0;
	return;
rollback:
	store_rollback(en->store);
fail:
	log_error("the run report could not be stored: %s", e.text);
}

/* Which kind of run, why, and the streams it followed, for the report. */
static void
report_scope(struct engine *en, const struct run_options *opt, const bool *read, bool streams_ok)
{
	const struct run_scope *sc = opt->scope;
	const struct config *cfg = en->cfg;

	if (sc == NULL) {
		report_run_kind(en->report, "full", opt->dry_run ? "`smimesync run --dry-run` by hand" :
		    "`smimesync run` by hand", -1);
		return;
	}
	report_run_kind(en->report, sc->escalated ? "full" : sc->kind, sc->trigger, sc->lag);
	for (size_t i = 0; i < sc->n_streams; i++) {
		struct store_stream *ss = &sc->streams[i];
		bool all = false, any = false;

		/* Every group of this directory read whole: a full read of it. */
		for (size_t gi = 0; gi < cfg->n_groups; gi++) {
			if (!cfg->groups[gi].enabled ||
			    strcmp(cfg->groups[gi].directory->name, ss->directory) != 0)
				continue;
			all = any ? all && read[gi] : read[gi];
			any = true;
		}
		if (any && all && streams_ok)
			ss->last_full_read = en->now;
		report_stream(en->report, ss->directory, ss->kind, sc->n_seen != NULL ?
		    (int64_t)sc->n_seen[i] : 0, ss->last_full_read);
	}
}

enum run_status
run_sync(const struct config *cfg, const struct run_options *opt)
{
	struct engine en;
	struct group_read *reads = xcalloc(cfg->n_groups + 1, sizeof(*reads));
	bool *group_failed = xcalloc(cfg->n_groups + 1, sizeof(*group_failed));
	bool *want = xcalloc(cfg->n_groups + 1, sizeof(*want));
	bool *read = xcalloc(cfg->n_groups + 1, sizeof(*read));
	struct plan_member *members = NULL, *extra = NULL;
	size_t n_extra = 0, n_wanted = 0, n_ok = 0;
	bool incremental = false, any_failed = false;
	struct plan plan;
	const struct plan_item **work = NULL, **repub = NULL;
	struct store_user_state *states = NULL;
	struct store_holder *holders = NULL;
	struct outsider_checks outsiders = { 0 };
	struct lookup_req *reqs = NULL;
	struct lookups looked = { 0 };
	size_t n_reqs = 0;
	size_t n_members = 0, n_states = 0, n_holders = 0, n_work = 0, n_repub = 0, n_skipped = 0;
	char *json = NULL, *counts = NULL;
	const char *status = "failed";
	bool recorded = false, streams_ok = false;
	struct errbuf e;
	enum run_status rs = RUN_FAILED;

	err_clear(&e);
	memset(&plan, 0, sizeof(plan));
	engine_init(&en, cfg);
	en.now = time(NULL);
	engine_new_run_id(en.run_id, sizeof(en.run_id), en.now);
	log_set_run(en.run_id);
	en.report = report_new(en.run_id, en.now, opt->dry_run);
	en.progress = opt->progress;
	en.progress_arg = opt->progress_arg;

	if (opt->dry_run) {
		/* Read-only: a store that does not exist yet simply has no state. */
		if (store_open_readonly(cfg->service.state_dir, &en.store, &e) != 0) {
			log_debug("dry run without a store: %s", e.text);
			en.store = NULL;
		}
	} else if (engine_start_signer(&en, &e) != 0 ||
	    store_open(cfg->service.state_dir, &en.store, &e) != 0 ||
	    store_lock(en.store, &e) != 0 ||
	    master_key_load(cfg->service.master_key_file, en.signer, &en.master_key, &e) != 0 ||
	    store_run_start(en.store, en.run_id, en.now, &e) != 0) {
		report_fail(en.report, "%s", e.text);
		log_error("%s", e.text);
		goto finish;
	}
	recorded = !opt->dry_run;
	log_info("%s started (%zu groups)", opt->dry_run ? "dry run" : "run", cfg->n_groups);

	/* An incremental run looks the people of its changes up first. */
	if (en.store != NULL && store_load_states(en.store, &states, &n_states, &e) != 0) {
		report_fail(en.report, "%s", e.text);
		goto finish;
	}
	extra = xcalloc((opt->scope != NULL ? opt->scope->n_changes : 0) + 1, sizeof(*extra));
	scope_decide(&en, opt->scope, states, n_states, want, extra, &n_extra, &reqs, &n_reqs);
	lookups_run(&en, reqs, n_reqs, want, &looked);
	if (looked.n_asked > 0)
		log_info("%zu %s looked up alone, %zu found in a synced group", looked.n_asked,
		    looked.n_asked == 1 ? "person" : "people", looked.n_users);
	for (size_t gi = 0; gi < cfg->n_groups; gi++)
		n_wanted += want[gi];
	for (;;) {
		size_t n_read = 0;

		n_ok += read_groups(&en, reads, want, read);
		if (n_ok == 0 && n_wanted > 0 && n_extra == 0 && looked.n_members == 0) {
			report_fail(en.report, "no group could be read from the directory: nothing "
			    "was changed");
			goto finish;
		}
		n_members = n_extra + looked.n_members;
		for (size_t gi = 0; gi < cfg->n_groups; gi++)
			n_members += reads[gi].members.n;
		members = xcalloc(n_members + 1, sizeof(*members));
		n_members = 0;
		for (size_t gi = 0; gi < cfg->n_groups; gi++) {
			for (size_t i = 0; i < reads[gi].members.n; i++) {
				members[n_members].user = &reads[gi].members.v[i];
				members[n_members].group = gi;
				n_members++;
			}
			/* A group not read is held, as a failed one: nothing changes for it. */
			group_failed[gi] = reads[gi].failed || !read[gi];
			n_read += read[gi];
			any_failed = any_failed || reads[gi].failed;
		}
		for (size_t k = 0; k < n_extra; k++)
			members[n_members++] = extra[k];
		/* People looked up alone; those whose group is read whole come with the read. */
		for (size_t k = 0; k < looked.n_members; k++)
			if (!read[looked.members[k].group] || reads[looked.members[k].group].failed)
				members[n_members++] = looked.members[k];
		plan_build(cfg, members, n_members, states, n_states, group_failed, en.now, &plan);
		incremental = n_read < enabled_groups(cfg);
		if (!incremental || en.store == NULL || !claimed_elsewhere(&en, &plan))
			break;
		/* I5 across everyone: read the rest, and plan again. */
		plan_free(&plan);
		free(members);
		members = NULL;
		for (size_t gi = 0; gi < cfg->n_groups; gi++)
			want[gi] = cfg->groups[gi].enabled && !read[gi];
		n_wanted = 1;
		if (opt->scope != NULL)
			opt->scope->escalated = true;
	}
	plan_issue_valve(cfg, states, n_states, opt->allow_mass_issue, en.now, &plan);
	/* After the valve: who else holds an address is asked only for what will be issued. */
	outsiders_ask(&en, &plan, &outsiders);
	plan_outsiders(outsiders.v, outsiders.n, &plan);
	report_count(en.report, "users_seen", (int64_t)plan.n_items);
	report_plan_findings(&en, &plan);

	engine_phase(&en, PHASE_PLANNING, 0);
	if (!opt->dry_run && record_users(&en, plan.items, plan.n_items, &e) != 0) {
		report_fail(en.report, "%s", e.text);
		goto finish;
	}
	work = xcalloc(plan.n_items + 1, sizeof(*work));
	repub = xcalloc(plan.n_items + 1, sizeof(*repub));
	for (size_t i = 0; i < plan.n_items; i++) {
		const struct plan_item *it = &plan.items[i];

		/* Held only because its governing group was not read in this run: not news. */
		if (incremental && !any_failed && it->hold) {
			report_count(en.report, "unchanged", 1);
			continue;
		}
		count_planned(&en, it);
		if (opt->dry_run) {
			dry_run_item(&en, it);
			continue;
		}
		if (it->abandon != 0) {
			/* I4: closed before anything else, so nothing resumes it. */
			if (provision_abandon(&en, it->abandon, it->reason, &e) != 0) {
				report_error(en.report, it->user->mail, "abandon", "%s", e.text);
				continue;
			}
			report_count(en.report, "abandoned", 1);
			log_warn("%s: %s", it->user->mail, it->reason);
			/* I5: its certificate names addresses that are no longer the person's. */
			if (it->revoke_open != 0 && !revoke_moved(&en, it))
				continue;
		}
		switch (it->action) {
		case PLAN_SKIP:
			/* One line each in the report; the log names a few and counts the rest. */
			log_msg(n_skipped++ < SKIPS_LOGGED ? LOGL_WARN : LOGL_DEBUG, "skipping %s: %s",
			    it->user->mail ? it->user->mail : it->user->dn, it->reason);
			report_item(&en, it, "skipped", NULL, 0, NULL, NULL);
			break;
		case PLAN_REPUBLISH:
			repub[n_repub++] = it;
			break;
		case PLAN_ISSUE:
		case PLAN_RENEW:
		case PLAN_REISSUE:
		case PLAN_RESUME:
			work[n_work++] = it;
			break;
		case PLAN_NOTHING:
			break;
		}
	}
	if (n_skipped > SKIPS_LOGGED)
		log_warn("%zu more members skipped (%zu in all); smimesync report --last lists "
		    "each with the reason", n_skipped - SKIPS_LOGGED, n_skipped);
	if (n_repub > 0) {
		engine_phase(&en, PHASE_PUBLISHING, n_repub);
		for (size_t i = 0; i < n_repub && !run_stop_requested; i++) {
			republish(&en, repub[i]);
			engine_progress(&en, i + 1);
		}
	}
	execute(&en, work, n_work, !opt->dry_run && cfg->has_mail);
	if (!run_stop_requested)
		retire_and_remind(&en, &plan, group_failed, &looked, opt, &holders, &n_holders);
	/* After this run's publishing and revoking: whatever of ours is stale goes (I2). */
	if (!run_stop_requested)
		unpublish_stale(&en, group_failed, looked.ids, looked.n_ids, opt->dry_run);
	/* What a CA made that we do not keep is revoked there (I3). */
	if (!run_stop_requested)
		unwanted_work(&en, opt->dry_run);
	if (!run_stop_requested && !opt->dry_run)
		escrow_upgrade(&en);
	if (!run_stop_requested && !opt->dry_run)
		notice_queue(&en);

	if (run_stop_requested) {
		report_error(en.report, NULL, "run",
		    "interrupted by a signal: unfinished work resumes at the next run");
	} else if (!opt->dry_run && cfg->has_mail) {
		int64_t due = 0;

		if (en.progress != NULL && store_outbox_due_count(en.store, en.now, &due, &e) == 0)
			engine_phase(&en, PHASE_MAILING, (uint64_t)due);
		if (outbox_flush(&en, &e) != 0) {
			report_error(en.report, NULL, "mail", "%s", e.text);
			log_error("%s", e.text);
		}
	}

finish:
	engine_phase(&en, PHASE_DONE, 0);
	if (en.signer != NULL) {
		struct signer_log_head head;

		/* The head after this run: a later edit or cut of the log shows against it. */
		if (signer_log_head(en.signer, 0, NULL, &head, &e) == 0)
			report_signing_log(en.report, head.lines, head.hash);
		else
			log_warn("cannot read the head of the signing log: %s", e.text);
	}
	/*
	 * A stream's position is kept only when the run did what it meant to:
	 * every group it meant to read was read, and nobody was left to a
	 * later run by a signal. Otherwise its changes come again.
	 */
	streams_ok = recorded && !run_stop_requested && !any_failed && members != NULL;
	report_scope(&en, opt, read, streams_ok);
	counts = report_counts_line(en.report);
	json = report_finish(en.report, time(NULL), &status);
	if (recorded)
		record_run(&en, opt, status, json, streams_ok && strcmp(status, "failed") != 0);
	if (recorded && opt->finished != NULL)
		opt->finished(cfg, json, opt->finished_arg);
	if (report_render(json, opt->format, opt->out, &e) != 0)
		log_error("%s", e.text);
	if (en.person_lines_quiet > 0)
		log_info("%zu more line%s about single people went to the debug level (log_level = "
		    "debug shows them; the run report lists everyone)", en.person_lines_quiet,
		    en.person_lines_quiet == 1 ? "" : "s");
	log_info("%s finished: %s (%s)", opt->dry_run ? "dry run" : "run", status,
	    counts != NULL ? counts : "");
	rs = strcmp(status, "ok") == 0 ? RUN_OK : strcmp(status, "partial") == 0 ? RUN_PARTIAL :
	    RUN_FAILED;

	free(json);
	free(counts);
	free(work);
	free(repub);
	plan_free(&plan);
	outsiders_free(&outsiders);
	store_holders_free(holders, n_holders);
	free(members);
	free(extra);
	free(reqs);
	lookups_free(&looked);
	free(want);
	free(read);
	store_states_free(states, n_states);
	for (size_t gi = 0; gi < cfg->n_groups; gi++)
		user_list_free(&reads[gi].members);
	free(reads);
	free(group_failed);
	report_free(en.report);
	store_close(en.store);
	engine_close(&en);
	log_set_run(NULL);
	return rs;
}
