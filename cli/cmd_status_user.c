/* SPDX-License-Identifier: ISC */
/*
 * status USER: the helpdesk view of one person. Everything a helpdesk is
 * asked about, from the store alone (read-only, no lock, no server):
 *
 *   who          mail, name, id, DN, group, preferred language, switches
 *   next         the next planned action and its date, or why there is none
 *   certificates every one with its state (revocation reason by name),
 *                validity, and whether and where it is published
 *   mails        every mail with its time, state and, once the mail server
 *                took it, the server's reply with its queue id (what the
 *                mail team greps their logs for); else why it was not sent
 *   last run     why the last run skipped the person, or what failed
 *
 * The next action follows the planner's rules (sync/plan.h): renewal at
 * not_after - renew_before, reminders at the group's thresholds before
 * that, a leaver's certificate not renewed (revoked after leave_grace
 * under on_leave = revoke).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "common/strutil.h"
#include "common/xalloc.h"
#include "conf/conf.h"
#include "smime/crl.h"
#include "cli/commands.h"
#include "store/store.h"

/* Most mails listed: a person gets a few a year. */
#define MAILS_SHOWN 50

static void
when_text(time_t t, char *out, size_t size)
{
	struct tm tm;

	if (t == 0) {
		snprintf(out, size, "-");
		return;
	}
	gmtime_r(&t, &tm);
	strftime(out, size, "%Y-%m-%d %H:%M UTC", &tm);
}

/*
 * The queue id in a server's acceptance: Postfix and most others say
 * "250 2.0.0 Ok: queued as 4F1A2B3C"; Exchange and Sendmail put an id of
 * their own words elsewhere, and the whole reply is shown anyway.
 */
static char *
queue_id_of(const char *reply)
{
	const char *p = reply != NULL ? strstr(reply, "queued as ") : NULL;
	size_t n = 0;

	if (p == NULL)
		return NULL;
	p += strlen("queued as ");
	while (p[n] != '\0' && p[n] != ' ' && p[n] != ';' && p[n] != ',' && n < 64)
		n++;
	return n > 0 ? xstrndup(p, n) : NULL;
}

/* What the person should expect next, in words, with its date (new). */
static char *
next_action(const struct config *cfg, const struct store_user *u, const struct store_cert *cur,
    const struct store_status_row *row, time_t now)
{
	const struct conf_group *g = config_find_group(cfg, u->group_name);
	char a[40], b[40];

	if (u->ignored)
		return xasprintf("none: ignored by an administrator (smimesync user %s unignore "
		    "undoes it)", u->mail ? u->mail : u->id);
	if (u->ca_hold != NULL)
		return xasprintf("none: held back since the CA rejected the last request (%s); "
		    "after fixing the cause: smimesync issue %s", u->ca_hold,
		    u->mail ? u->mail : u->id);
	if (row != NULL && row->open_state != NULL) {
		if (row->ca_next_try > now) {
			when_text(row->ca_next_try, a, sizeof(a));
			return xasprintf("the unfinished provisioning (at step %s) asks the CA "
			    "again after %s", row->open_state, a);
		}
		return xasprintf("the next run resumes the unfinished provisioning at step %s",
		    row->open_state);
	}
	if (g == NULL)
		return xasprintf("none: group %s is no longer configured",
		    u->group_name ? u->group_name : "?");
	if (!g->enabled)
		return xasprintf("none: [group %s] has sync = no", g->name);
	if (cur == NULL)
		return xstrdup("a certificate is issued by the next run (if the person is still "
		    "a member with a usable mail address)");
	if (u->left_at != 0) {
		when_text(cur->not_after, a, sizeof(a));
		if (g->on_leave == LEAVE_REVOKE) {
			when_text(u->left_at + g->leave_grace, b, sizeof(b));
			return xasprintf("revocation after %s (left the group: %s; on_leave = "
			    "revoke), unless they come back", b, u->left_reason ? u->left_reason :
			    "no longer a member");
		}
		return xasprintf("not renewed (left the group: %s; on_leave = %s); it expires "
		    "%s", u->left_reason ? u->left_reason : "no longer a member",
		    leave_policy_name(g->on_leave), a);
	}
	if (cur->not_after <= now) {
		return xstrdup("a new certificate is issued by the next run (the current one "
		    "has expired)");
	}
	{
		time_t renew_at = cur->not_after - g->renew_before;
		time_t remind_at = 0;
		int64_t threshold = 0;

		/* The reminder still ahead before the renewal (a renewal mail follows). */
		for (size_t i = 0; i < g->n_reminder_thresholds; i++) {
			time_t t = cur->not_after - g->reminder_thresholds[i];

			if (t > now && t < renew_at && (remind_at == 0 || t < remind_at)) {
				remind_at = t;
				threshold = g->reminder_thresholds[i];
			}
		}
		when_text(renew_at > now ? renew_at : now, a, sizeof(a));
		if (remind_at != 0) {
			char th[32];

			when_text(remind_at, b, sizeof(b));
			format_duration(threshold, th, sizeof(th));
			return xasprintf("a reminder mail on %s (%s before expiry), then automatic "
			    "renewal on %s", b, th, a);
		}
		if (renew_at <= now)
			return xstrdup("renewal by the next run (inside renew_before)");
		return xasprintf("automatic renewal on %s (renew_before before expiry)", a);
	}
}

/* "valid", "expired", "superseded", "revoked 2026-03-01 (keyCompromise)". */
static void
cert_state(const struct store_cert *c, time_t now, char *out, size_t size)
{
	char when[40];

	switch (c->status) {
	case CERT_REVOKED:
		when_text(c->revoked_at, when, sizeof(when));
		snprintf(out, size, "revoked %s (%s)", when,
		    c->revocation_reason >= 0 ? crl_reason_name(c->revocation_reason) : "?");
		break;
	case CERT_SUPERSEDED:
		snprintf(out, size, "superseded%s", c->not_after <= now ? ", expired" : "");
		break;
	default:
		snprintf(out, size, "%s", c->not_after <= now ? "expired" : "valid");
		break;
	}
}

static const char *
where_published(const struct config *cfg, const struct store_cert *c, char *buf, size_t size)
{
	const struct conf_group *g = config_find_group(cfg, c->group_name);

	if (!c->published)
		return c->status == CERT_VALID ? "not in the directory (yet): the next run "
		    "publishes it" : "not in the directory";
	if (g != NULL && g->publish != NULL) {
		snprintf(buf, size, "published in [directory %s] (userCertificate;binary and "
		    "userSMIMECertificate of the person's entry)", g->publish->name);
		return buf;
	}
	return "published (its group publishes nowhere now)";
}

/* Why a mail is where it is, in words (new). */
char *
status_mail_explain(const struct store_mail *m, int64_t max_attempts)
{
	char when[40];

	if (strcmp(m->state, "sent") == 0) {
		char *id = queue_id_of(m->reply);
		char *s = xasprintf("accepted by the mail server%s%s%s%s%s", id ? ", queue id " :
		    "", id ? id : "", m->reply ? " (\"" : "", m->reply ? m->reply : "",
		    m->reply ? "\")" : "");

		free(id);
		return s;
	}
	if (strcmp(m->state, "failed") == 0)
		return xasprintf("not delivered, given up: %s", m->last_error ? m->last_error :
		    "no reason recorded");
	if (m->attempts == 0)
		return xstrdup(m->kind != NULL && strcmp(m->kind, "password") == 0 ?
		    "queued: waits until its certificate mail is accepted, then goes out" :
		    "queued: goes out with the next delivery");
	when_text(m->next_attempt, when, sizeof(when));
	return xasprintf("queued: attempt %d of %lld failed (%s); next try after %s",
	    m->attempts, (long long)max_attempts, m->last_error ? m->last_error : "?", when);
}

/* The person's entry in the last run's report, if it lists them (new JSON). */
static json_t *
last_run_entry(struct store *st, const char *user_id, char **run_id)
{
	char *json = NULL;
	json_t *doc = NULL, *v, *found = NULL;
	struct errbuf e;
	size_t i;

	*run_id = NULL;
	if (store_run_report(st, NULL, &json, &e) != 1)
		return NULL;
	doc = json_loads(json, 0, NULL);
	free(json);
	json_array_foreach(json_object_get(doc, "users"), i, v) {
		const char *id = json_string_value(json_object_get(v, "id"));

		if (id != NULL && strcmp(id, user_id) == 0) {
			found = json_incref(v);
			break;
		}
	}
	if (found != NULL && json_is_string(json_object_get(doc, "id")))
		*run_id = xstrdup(json_string_value(json_object_get(doc, "id")));
	json_decref(doc);
	return found;
}

static json_t *
jstr(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

static json_t *
jtime(time_t t)
{
	char buf[32];

	if (t == 0)
		return json_null();
	format_time_utc(t, buf, sizeof(buf));
	return json_string(buf);
}

struct person {
	struct store_user u;
	struct store_cert *certs;
	size_t n_certs;
	struct store_mail *mails;
	size_t n_mails;
	struct store_status_row *row; /* borrowed from the caller */
	const struct store_cert *cur; /* the current valid certificate, or NULL */
	json_t *last;                 /* the last run's entry (new), or NULL */
	char *last_run;
	char *next;
};

static void
person_text(const struct config *cfg, const struct person *p, time_t now)
{
	const struct store_user *u = &p->u;
	char a[40], b[40], buf[300];

	printf("%s%s%s\n", u->mail ? u->mail : u->id, u->display_name ? " - " : "",
	    u->display_name ? u->display_name : "");
	printf("  id:        %s\n  entry:     %s (directory %s)\n", u->id, u->dn ? u->dn : "-",
	    u->source ? u->source : "-");
	printf("  group:     %s\n", u->group_name ? u->group_name : "-");
	if (u->language != NULL)
		printf("  language:  %s (preferredLanguage in the directory)\n", u->language);
	when_text(u->first_seen, a, sizeof(a));
	when_text(u->last_seen, b, sizeof(b));
	printf("  seen:      first %s, last %s\n", a, b);
	if (u->ignored)
		printf("  switch:    ignored by an administrator\n");
	if (u->notifications_suspended)
		printf("  switch:    reminder mails suspended by an administrator\n");
	if (u->left_at != 0) {
		when_text(u->left_at, a, sizeof(a));
		printf("  left:      %s: %s\n", a, u->left_reason ? u->left_reason : "?");
	}
	printf("  next:      %s\n", p->next);
	if (p->last != NULL) {
		const char *action = json_string_value(json_object_get(p->last, "action"));
		const char *reason = json_string_value(json_object_get(p->last, "reason"));
		const char *err = json_string_value(json_object_get(p->last, "error"));

		printf("  last run:  %s: %s%s%s%s\n", p->last_run ? p->last_run : "?",
		    action ? action : "?", reason ? " (" : "", reason ? reason : "",
		    reason ? ")" : "");
		if (err != NULL)
			printf("             failed at %s: %s\n",
			    json_string_value(json_object_get(p->last, "step")) ?
			    json_string_value(json_object_get(p->last, "step")) : "?", err);
	}
	printf("\nCertificates (%zu)\n", p->n_certs);
	if (p->n_certs == 0)
		printf("  none\n");
	for (size_t i = 0; i < p->n_certs; i++) {
		const struct store_cert *c = &p->certs[i];
		char st[96];

		char *fp = hex_to_colons(c->fingerprint);

		cert_state(c, now, st, sizeof(st));
		when_text(c->not_before, a, sizeof(a));
		when_text(c->not_after, b, sizeof(b));
		printf("  %s  %s\n    %s to %s, %s, [ca %s], for %s\n    %s\n    SHA-256 %s\n",
		    c->serial, st, a, b, c->key_type, c->ca_name, c->mail,
		    where_published(cfg, c, buf, sizeof(buf)), fp);
		free(fp);
	}
	printf("\nMails (%zu%s, newest first)\n", p->n_mails,
	    p->n_mails == MAILS_SHOWN ? " shown" : "");
	if (p->n_mails == 0)
		printf("  none\n");
	for (size_t i = 0; i < p->n_mails; i++) {
		const struct store_mail *m = &p->mails[i];
		char *what = status_mail_explain(m, cfg->has_mail ? cfg->mail.max_attempts : 0);

		when_text(m->updated != 0 ? m->updated : m->created, a, sizeof(a));
		printf("  %s  %-16s to %s\n    %s\n", a, m->kind, m->recipient, what);
		free(what);
	}
}

static void
person_json(const struct config *cfg, const struct person *p, time_t now)
{
	json_t *o = json_object(), *certs = json_array(), *mails = json_array();
	char buf[300];

	json_object_set_new(o, "id", jstr(p->u.id));
	json_object_set_new(o, "mail", jstr(p->u.mail));
	json_object_set_new(o, "name", jstr(p->u.display_name));
	json_object_set_new(o, "dn", jstr(p->u.dn));
	json_object_set_new(o, "directory", jstr(p->u.source));
	json_object_set_new(o, "group", jstr(p->u.group_name));
	json_object_set_new(o, "language", jstr(p->u.language));
	json_object_set_new(o, "first_seen", jtime(p->u.first_seen));
	json_object_set_new(o, "last_seen", jtime(p->u.last_seen));
	json_object_set_new(o, "ignored", json_boolean(p->u.ignored));
	json_object_set_new(o, "notifications_suspended",
	    json_boolean(p->u.notifications_suspended));
	json_object_set_new(o, "left_at", jtime(p->u.left_at));
	json_object_set_new(o, "left_reason", jstr(p->u.left_reason));
	json_object_set_new(o, "ca_hold", jstr(p->u.ca_hold));
	json_object_set_new(o, "next", jstr(p->next));
	json_object_set_new(o, "last_run", jstr(p->last_run));
	json_object_set_new(o, "last_run_entry", p->last ? json_incref(p->last) : json_null());
	for (size_t i = 0; i < p->n_certs; i++) {
		const struct store_cert *c = &p->certs[i];
		json_t *j = json_object();
		char st[96];

		cert_state(c, now, st, sizeof(st));
		json_object_set_new(j, "serial", jstr(c->serial));
		json_object_set_new(j, "state", json_string(st));
		json_object_set_new(j, "status", json_string(cert_status_name(c->status)));
		json_object_set_new(j, "revocation_reason", c->status == CERT_REVOKED &&
		    c->revocation_reason >= 0 ? json_string(crl_reason_name(c->revocation_reason)) :
		    json_null());
		json_object_set_new(j, "revoked_at", jtime(c->revoked_at));
		json_object_set_new(j, "not_before", jtime(c->not_before));
		json_object_set_new(j, "not_after", jtime(c->not_after));
		json_object_set_new(j, "mail", jstr(c->mail));
		json_object_set_new(j, "key_type", jstr(c->key_type));
		json_object_set_new(j, "ca", jstr(c->ca_name));
		json_object_set_new(j, "fingerprint", jstr(c->fingerprint));
		json_object_set_new(j, "published", json_boolean(c->published));
		json_object_set_new(j, "where", json_string(where_published(cfg, c, buf,
		    sizeof(buf))));
		json_array_append_new(certs, j);
	}
	for (size_t i = 0; i < p->n_mails; i++) {
		const struct store_mail *m = &p->mails[i];
		json_t *j = json_object();
		char *what = status_mail_explain(m, cfg->has_mail ? cfg->mail.max_attempts : 0);
		char *qid = strcmp(m->state, "sent") == 0 ? queue_id_of(m->reply) : NULL;

		json_object_set_new(j, "kind", jstr(m->kind));
		json_object_set_new(j, "to", jstr(m->recipient));
		json_object_set_new(j, "state", jstr(m->state));
		json_object_set_new(j, "queued", jtime(m->created));
		json_object_set_new(j, "updated", jtime(m->updated));
		json_object_set_new(j, "attempts", json_integer(m->attempts));
		json_object_set_new(j, "next_attempt", strcmp(m->state, "queued") == 0 ?
		    jtime(m->next_attempt) : json_null());
		json_object_set_new(j, "server_reply", jstr(m->reply));
		json_object_set_new(j, "queue_id", jstr(qid));
		json_object_set_new(j, "last_error", jstr(m->last_error));
		json_object_set_new(j, "explanation", json_string(what));
		json_array_append_new(mails, j);
		free(what);
		free(qid);
	}
	json_object_set_new(o, "certificates", certs);
	json_object_set_new(o, "mails", mails);
	json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(o);
}

int
status_user_view(const struct config *cfg, struct store *st, const char *key,
    struct store_status_row *row, bool json, time_t now)
{
	struct person p;
	struct errbuf e;
	int found, rc = 1;

	memset(&p, 0, sizeof(p));
	p.row = row;
	found = store_user_find(st, row != NULL ? row->user_id : key, &p.u, &e);
	if (found <= 0) {
		fprintf(stderr, found < 0 ? "smimesync: %s\n" : "smimesync: no user \"%s\" in the "
		    "store\n", found < 0 ? e.text : key);
		goto out;
	}
	if (store_certs_for_user(st, p.u.id, false, &p.certs, &p.n_certs, &e) != 0 ||
	    store_outbox_for_user(st, p.u.id, MAILS_SHOWN, &p.mails, &p.n_mails, &e) != 0) {
		fprintf(stderr, "smimesync: %s\n", e.text);
		goto out;
	}
	for (size_t i = 0; i < p.n_certs && p.cur == NULL; i++)
		if (p.certs[i].status == CERT_VALID)
			p.cur = &p.certs[i];
	p.last = last_run_entry(st, p.u.id, &p.last_run);
	p.next = next_action(cfg, &p.u, p.cur, row, now);
	if (json)
		person_json(cfg, &p, now);
	else
		person_text(cfg, &p, now);
	rc = 0;
out:
	free(p.next);
	free(p.last_run);
	json_decref(p.last);
	store_mails_free(p.mails, p.n_mails);
	store_certs_free(p.certs, p.n_certs);
	store_user_clear(&p.u);
	return rc;
}
