/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "sync/collection_mail.h"
#include "sync/mail_queue.h"
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

static int
queue_reminder(struct engine *en, const struct plan_reminder *r, struct errbuf *e)
{
	const struct conf_group *g = &en->cfg->groups[r->group];
	const char *kind = plan_remind_name(r->kind);
	struct tmpl_vars *vars = tmpl_vars_new();
	const struct store_holder *h = r->h;
	const char *to_addr = h->mail != NULL ? h->mail : h->cert_mail;
	struct mailq_to to = { to_addr, h->display_name, h->user_id, 0, NULL };
	char na[40], rd[40], nna[40], days[24], lang[32];
	char *contact = NULL, *data = NULL;
	size_t len = 0;
	int rc = -1;

	/* In the person's language (their preferredLanguage), else the group's. */
	mailq_language(en, g, h->language, lang, sizeof(lang));
	to.lang = lang;
	human_time(h->not_after, na, sizeof(na));
	snprintf(days, sizeof(days), "%lld", (long long)((h->not_after - en->now + DAY - 1) / DAY));
	if (mailq_sender_vars(en, vars, e) != 0)
		goto out;
	tmpl_vars_set(vars, "display_name", mailq_safe_name(h->display_name, h->dn) ?
	    h->display_name : to_addr);
	tmpl_vars_set(vars, "mail", h->cert_mail);
	tmpl_vars_set(vars, "group", g->name);
	tmpl_vars_set(vars, "serial", h->serial);
	tmpl_vars_set(vars, "not_after", na);
	tmpl_vars_set(vars, "days_left", days);
	if (r->kind == PLAN_REMIND_RENEW) {
		human_time(r->renew_at, rd, sizeof(rd));
		tmpl_vars_set(vars, "renew_date", rd);
	} else if (r->kind == PLAN_REMIND_LEAVER) {
		contact = contact_of(en, g);
		tmpl_vars_set(vars, "left_reason", r->left);
		tmpl_vars_set(vars, "contact", contact);
	} else {
		/* The file to look for is the new certificate's (its mail may differ). */
		char *p12 = collect_p12_filename(r->newer->cert_mail, r->newer->not_before,
		    r->newer->serial);

		human_time(r->newer->not_after, nna, sizeof(nna));
		tmpl_vars_set(vars, "new_serial", r->newer->serial);
		tmpl_vars_set(vars, "new_not_after", nna);
		tmpl_vars_set(vars, "p12_filename", p12);
		free(p12);
	}
	if (mailq_render(en, kind, vars, &to, NULL, 0, &data, &len, e) != 0)
		goto out;
	if (store_begin(en->store, e) != 0)
		goto out;
	if (mailq_add(en, kind, &to, data, len, e) != 0)
		goto fail;
	for (size_t i = 0; i < r->n_mark; i++)
		if (store_reminder_record(en->store, h->cert_id, r->mark[i], kind, en->now, e) != 0)
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
report_reminder(struct engine *en, const struct plan_reminder *r, const char *outcome,
    const char *error)
{
	struct report_user ru;

	memset(&ru, 0, sizeof(ru));
	ru.mail = r->h->mail;
	ru.name = r->h->display_name;
	ru.id = r->h->user_id;
	ru.dn = r->h->dn;
	ru.group = en->cfg->groups[r->group].name;
	ru.action = "remind";
	ru.reason = r->reason;
	ru.outcome = outcome;
	ru.serial = r->h->serial;
	ru.not_after = r->h->not_after;
	ru.step = error ? "remind" : NULL;
	ru.error = error;
	report_user(en->report, &ru);
}

/* Thresholds that had passed when the certificate was renewed: never sent. */
static void
mark_passed(struct engine *en, const struct plan_reminder *r)
{
	struct errbuf e;

	for (size_t i = 0; i < r->n_mark; i++)
		if (store_reminder_record(en->store, r->h->cert_id, r->mark[i],
		    plan_remind_name(r->kind), en->now, &e) != 0)
			report_error(en->report, r->h->mail, "remind", "%s", e.text);
}

void
remind_execute(struct engine *en, const struct plan *p, bool dry_run)
{
	for (size_t i = 0; i < p->n_reminders; i++) {
		const struct plan_reminder *r = &p->reminders[i];
		struct errbuf e;

		if (r->kind == PLAN_REMIND_PASSED) {
			if (!dry_run)
				mark_passed(en, r);
			continue;
		}
		if (dry_run) {
			report_reminder(en, r, "planned", NULL);
			report_count(en->report, "reminded", 1);
			report_count(en->report, "mails_queued", 1);
			continue;
		}
		if (queue_reminder(en, r, &e) != 0) {
			report_error(en->report, r->h->mail, "remind", "%s", e.text);
			report_reminder(en, r, "failed", e.text);
			continue;
		}
		log_debug("%s reminder queued for %s (serial %s)", plan_remind_name(r->kind),
		    r->h->mail, r->h->serial);
		report_reminder(en, r, "done", NULL);
		report_count(en->report, "reminded", 1);
		report_count(en->report, "mails_queued", 1);
	}
}
