/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "sync/mail_queue.h"
#include "sync/member_index.h"
#include "sync/remind.h"

#define DAY 86400

static void
human_time(time_t t, char *out, size_t size)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, size, "%Y-%m-%d %H:%M UTC", &tm);
}

/* Whom a leaver should ask: the group's first notify address, else the sender (new). */
static char *
contact_of(struct engine *en, const struct conf_group *g)
{
	char *name = NULL, *addr = NULL;

	if (g->notify != NULL) {
		char *c = xstrdup(g->notify);
		char *comma = strchr(c, ',');
		char *out;

		if (comma != NULL)
			*comma = '\0';
		out = xstrdup(str_trim(c));
		free(c);
		return out;
	}
	if (mail_parse_mailbox(en->cfg->mail.from, &name, &addr, NULL) != 0)
		return xstrdup(en->cfg->mail.from);
	free(name);
	return addr;
}

/* The smallest threshold that is due, or 0 when none is. */
static int64_t
due_threshold(const int64_t *t, size_t n, time_t remaining)
{
	int64_t due = 0;

	for (size_t i = 0; i < n; i++) /* largest first */
		if (remaining <= t[i])
			due = t[i];
	return due;
}

struct reminder {
	const struct store_holder *h;
	const struct store_holder *newer; /* for install reminders */
	const struct conf_group *g;
	const char *kind;
	const char *left_reason;
	int64_t threshold;
};

static int
queue_reminder(struct engine *en, const struct reminder *r, const int64_t *t, size_t n_t,
    struct errbuf *e)
{
	struct tmpl_vars *vars = tmpl_vars_new();
	const struct store_holder *h = r->h;
	const char *to_addr = h->mail != NULL ? h->mail : h->cert_mail;
	struct mailq_to to = { to_addr, h->display_name, h->user_id, 0 };
	char na[40], rd[40], nna[40], days[24];
	char *contact = NULL, *data = NULL;
	size_t len = 0;
	int rc = -1;

	human_time(h->not_after, na, sizeof(na));
	snprintf(days, sizeof(days), "%lld", (long long)((h->not_after - en->now + DAY - 1) / DAY));
	if (mailq_sender_vars(en, vars, e) != 0)
		goto out;
	tmpl_vars_set(vars, "display_name", mailq_safe_name(h->display_name, h->dn) ?
	    h->display_name : to_addr);
	tmpl_vars_set(vars, "mail", h->cert_mail);
	tmpl_vars_set(vars, "group", r->g->name);
	tmpl_vars_set(vars, "serial", h->serial);
	tmpl_vars_set(vars, "not_after", na);
	tmpl_vars_set(vars, "days_left", days);
	if (strcmp(r->kind, "reminder-renew") == 0) {
		human_time(h->not_after - r->g->renew_before, rd, sizeof(rd));
		tmpl_vars_set(vars, "renew_date", rd);
	} else if (strcmp(r->kind, "reminder-leaver") == 0) {
		contact = contact_of(en, r->g);
		tmpl_vars_set(vars, "left_reason", r->left_reason);
		tmpl_vars_set(vars, "contact", contact);
	} else {
		/* The file to look for is the new certificate's (its mail may differ). */
		char *p12 = xasprintf("%s.p12", r->newer->cert_mail);

		human_time(r->newer->not_after, nna, sizeof(nna));
		tmpl_vars_set(vars, "new_serial", r->newer->serial);
		tmpl_vars_set(vars, "new_not_after", nna);
		tmpl_vars_set(vars, "p12_filename", p12);
		free(p12);
	}
	if (mailq_render(en, r->kind, vars, &to, NULL, 0, &data, &len, e) != 0)
		goto out;
	if (store_begin(en->store, e) != 0)
		goto out;
	if (mailq_add(en, r->kind, &to, data, len, e) != 0)
		goto fail;
	/* This threshold and every larger one that has passed: never sent later. */
	for (size_t i = 0; i < n_t; i++)
		if (t[i] >= r->threshold &&
		    store_reminder_record(en->store, h->cert_id, t[i], r->kind, en->now, e) != 0)
			goto fail;
	if (store_commit(en->store, e) != 0)
		goto out;
	rc = 0;
	goto out;
fail:
	store_rollback(en->store);
out:
	free(data);
	free(contact);
	tmpl_vars_free(vars);
	return rc;
}

static void
report_reminder(struct engine *en, const struct reminder *r, const char *outcome,
    const char *error)
{
	struct report_user ru;
	char reason[256], d[32];

	format_duration(r->threshold, d, sizeof(d));
	snprintf(reason, sizeof(reason), "expires within %s: %s", d, r->kind);
	memset(&ru, 0, sizeof(ru));
	ru.mail = r->h->mail;
	ru.name = r->h->display_name;
	ru.id = r->h->user_id;
	ru.dn = r->h->dn;
	ru.group = r->g->name;
	ru.action = "remind";
	ru.reason = reason;
	ru.outcome = outcome;
	ru.serial = r->h->serial;
	ru.not_after = r->h->not_after;
	ru.step = error ? "remind" : NULL;
	ru.error = error;
	report_user(en->report, &ru);
}

void
remind_due(struct engine *en, const struct plan_item *items, size_t n_items,
    const bool *group_ok, bool dry_run)
{
	struct store_holder *holders = NULL;
	size_t n_holders = 0;
	struct errbuf e;

	if (en->store == NULL || !en->cfg->has_mail)
		return;
	if (store_holders(en->store, en->now, &holders, &n_holders, &e) != 0) {
		report_error(en->report, NULL, "remind", "%s", e.text);
		return;
	}
	remind_due_in(en, items, n_items, group_ok, dry_run, holders, n_holders);
	store_holders_free(holders, n_holders);
}

void
remind_due_in(struct engine *en, const struct plan_item *items, size_t n_items,
    const bool *group_ok, bool dry_run, const struct store_holder *holders, size_t n_holders)
{
	const struct config *cfg = en->cfg;
	struct member_index mi;
	struct errbuf e;

	member_index_build(&mi, items, n_items, cfg->n_groups);
	if (en->store == NULL || !cfg->has_mail)
		goto out;
	for (size_t i = 0; i < n_holders; i++) {
		const struct store_holder *h = &holders[i];
		struct reminder r;
		const int64_t *t;
		ssize_t gi = config_group_index(cfg, h->group_name);
		bool member;
		size_t n_t;
		int sent;

		if (gi < 0 || !group_ok[gi] || h->ignored || h->notifications_suspended)
			continue;
		memset(&r, 0, sizeof(r));
		r.h = h;
		r.g = &cfg->groups[gi];
		t = r.g->reminder_thresholds;
		n_t = r.g->n_reminder_thresholds;
		if (n_t == 0 || (r.threshold = due_threshold(t, n_t, h->not_after - en->now)) == 0)
			continue;
		member = member_index_enabled(&mi, h->user_id) && h->left_at == 0;
		if (h->status == CERT_SUPERSEDED) {
			/* holders are newest first per user: the newer one is before it */
			for (size_t k = i; k-- > 0 && strcmp(holders[k].user_id, h->user_id) == 0;)
				if (holders[k].status == CERT_VALID)
					r.newer = &holders[k];
			if (r.newer == NULL)
				continue;
			r.kind = "reminder-install";
			/*
			 * Thresholds already passed when the renewal happened are not
			 * news: the renewal mail itself just arrived. Mark them passed.
			 */
			if (h->not_after - r.newer->not_before <= r.threshold) {
				for (size_t k = 0; k < n_t && !dry_run; k++)
					if (t[k] >= r.threshold &&
					    store_reminder_record(en->store, h->cert_id, t[k],
					    "passed-at-renewal", en->now, &e) != 0)
						report_error(en->report, h->mail, "remind", "%s", e.text);
				continue;
			}
		} else if (member) {
			/* Renewal is due now or overdue: the new certificate's mail says it all. */
			if (h->not_after - r.g->renew_before <= en->now)
				continue;
			r.kind = "reminder-renew";
		} else {
			/*
			 * Only recorded leavers: someone the safety valve is holding
			 * back has not left yet, as far as we will tell them.
			 */
			if (r.g->on_leave == LEAVE_KEEP ||
			    (h->left_at == 0 && !member_index_disabled(&mi, h->user_id)))
				continue;
			r.kind = "reminder-leaver";
			r.left_reason = member_index_disabled(&mi, h->user_id) ?
			    "your account is disabled" : "you are no longer a member of a group "
			    "that receives S/MIME certificates";
		}
		sent = store_reminder_sent(en->store, h->cert_id, r.threshold, &e);
		if (sent != 0) {
			if (sent < 0)
				report_error(en->report, h->mail, "remind", "%s", e.text);
			continue;
		}
		if (dry_run) {
			report_reminder(en, &r, "planned", NULL);
			report_count(en->report, "reminded", 1);
			continue;
		}
		if (queue_reminder(en, &r, t, n_t, &e) != 0) {
			report_error(en->report, h->mail, "remind", "%s", e.text);
			report_reminder(en, &r, "failed", e.text);
			continue;
		}
		log_info("%s reminder queued for %s (serial %s)", r.kind, h->mail, h->serial);
		report_reminder(en, &r, "done", NULL);
		report_count(en->report, "reminded", 1);
		report_count(en->report, "mails_queued", 1);
	}
out:
	member_index_free(&mi);
}
