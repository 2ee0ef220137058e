/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "sync/provision.h"
#include "sync/retire.h"
#include "sync/revoke.h"

static void
report_leaver(struct engine *en, const struct plan_leaver *l, const char *outcome,
    const char *error)
{
	struct report_user ru;

	memset(&ru, 0, sizeof(ru));
	ru.mail = l->h->mail;
	ru.name = l->h->display_name;
	ru.id = l->h->user_id;
	ru.dn = l->h->dn;
	ru.group = en->cfg->groups[l->group].name;
	ru.action = "retire";
	ru.reason = l->reason;
	ru.outcome = outcome;
	ru.serial = l->h->serial;
	ru.not_after = l->h->not_after;
	ru.step = error ? "retire" : NULL;
	ru.error = error;
	report_user(en->report, &ru);
}

/* Someone recorded as gone is a member again. */
static void
come_back(struct engine *en, const struct plan_leaver *l, bool dry_run)
{
	struct errbuf e;

	if (dry_run)
		return;
	if (store_user_set_left(en->store, l->h->user_id, 0, NULL, &e) != 0)
		report_error(en->report, l->h->mail, "retire", "%s", e.text);
	else
		engine_log_person(en, "%s is a member again", l->h->mail);
}

static void
retire_one(struct engine *en, const struct plan_leaver *l, bool dry_run)
{
	const struct conf_group *g = &en->cfg->groups[l->group];
	struct errbuf e;

	err_clear(&e);
	if (l->fresh && !dry_run) {
		if (store_user_set_left(en->store, l->h->user_id, en->now, l->left, &e) != 0) {
			report_error(en->report, l->h->mail, "retire", "%s", e.text);
			return;
		}
		engine_log_person(en, "%s left: %s (on_leave = %s)", l->h->mail, l->left,
		    leave_policy_name(g->on_leave));
	}
	switch (l->action) {
	case PLAN_LEAVE_BACK:
		return;
	case PLAN_LEAVE_KEEP:
	case PLAN_LEAVE_GRACE:
		report_leaver(en, l, dry_run ? "planned" : "done", NULL);
		report_count(en->report, "retired", 1);
		return;
	case PLAN_LEAVE_REVOKE:
		break;
	}
	if (dry_run) {
		report_leaver(en, l, "planned", NULL);
		report_count(en->report, "revoked", 1);
		return;
	}
	if (revoke_cert(en, l->h->cert_id, l->h->dn, REVOKE_AFFILIATION_CHANGED, g->directory,
	    g->publish, &e) != 0) {
		report_error(en->report, l->h->mail, "retire", "%s", e.text);
		report_leaver(en, l, "failed", e.text);
		return;
	}
	/*
	 * After the revocation: a provisioning closed first and a revocation
	 * that then failed would leave a valid certificate nobody tracks.
	 */
	if (l->abandon != 0 && provision_abandon(en, l->abandon, l->reason, &e) != 0)
		report_error(en->report, l->h->mail, "retire", "%s", e.text);
	report_leaver(en, l, "done", NULL);
	report_count(en->report, "revoked", 1);
}

void
retire_execute(struct engine *en, const struct plan *p, bool dry_run)
{
	/* People who came back need no valve: they are members like any other. */
	for (size_t i = 0; i < p->n_leavers; i++)
		if (p->leavers[i].action == PLAN_LEAVE_BACK)
			come_back(en, &p->leavers[i], dry_run);
	/* Opened on purpose (run --allow-mass-retire), the valve is news, not an error. */
	for (size_t i = 0; i < p->valve.n_why; i++) {
		if (p->valve.held)
			report_error(en->report, NULL, "retire", "%s", p->valve.why[i]);
		else
			report_notice(en->report, "%s", p->valve.why[i]);
	}
	if (p->valve.held) {
		log_error("safety valve closed: nobody is retired in this run");
		return;
	}
	if (p->valve.closed)
		log_warn("%s", p->valve.why[0]);
	for (size_t i = 0; i < p->n_leavers; i++)
		retire_one(en, &p->leavers[i], dry_run);
}
