/* SPDX-License-Identifier: ISC */
/*
 * Step 1's address rules (invariant I5): which addresses a person's
 * certificate may carry. Pure, like the rest of the planner.
 *
 *  - Every address must be in the group's allowed_domains, else in
 *    [service] mail_domains (neither set: no domain rule; check-config
 *    warns). A primary address outside them: no certificate. An
 *    alternative one: left out of the certificate, and the reason says so.
 *  - An address claimed by two people (as primary or alternative address,
 *    compared without case; disabled accounts claim nothing) is certified
 *    for neither: a person who can
 *    edit their own mail attribute must not obtain a certificate for
 *    someone else's address. Each such address is listed in
 *    plan.conflicts with both people, for the report.
 *  - A primary address with a non-ASCII local part gets no certificate:
 *    the collection mail that carries the key must reach it, and
 *    smimesync's mail path does not speak SMTPUTF8 (RFC 6531); it would be
 *    certified and then stuck at the mail step forever. Alternative
 *    addresses are only written into the certificate (as SmtpUTF8Mailbox,
 *    RFC 9598), never mailed to, so they may hold UTF-8.
 *  - At most PLAN_MAX_ALT_MAILS alternative addresses of at most
 *    PLAN_MAX_ALT_BYTES in all are taken from the directory: beyond that
 *    the person is skipped with the numbers, rather than a CA failing
 *    over an oversized request with a misleading message.
 *  - A certificate whose recorded addresses (certs.alt_mails) include one
 *    that the person may no longer carry is re-issued, as a changed
 *    primary address is (on_mail_change applies).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/xalloc.h"
#include "sync/plan_internal.h"

struct claim {
	char *addr;  /* new, lowercased */
	size_t item; /* index into plan.items */
};

static int
cmp_claim(const void *a, const void *b)
{
	const struct claim *x = a, *y = b;
	int c = strcmp(x->addr, y->addr);

	return c != 0 ? c : x->item < y->item ? -1 : x->item > y->item;
}

static char *
lower(const char *s)
{
	char *c = xstrdup(s);

	for (char *p = c; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return c;
}

void
plan_claims_build(const struct plan_item *items, size_t n, struct plan_claims *out)
{
	size_t cap = 0;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < n; i++)
		cap += (items[i].user->mail != NULL) + items[i].user->n_alt_mails;
	out->v = xcalloc(cap + 1, sizeof(*out->v));
	for (size_t i = 0; i < n; i++) {
		const struct user *u = items[i].user;

		/*
		 * A disabled account claims nothing: its certificate is being
		 * retired, and its address may already belong to a successor.
		 */
		if (!u->enabled)
			continue;

		if (u->mail != NULL)
			out->v[out->n++] = (struct claim){ lower(u->mail), i };
		for (size_t k = 0; k < u->n_alt_mails; k++)
			if (u->alt_mails[k] != NULL)
				out->v[out->n++] = (struct claim){ lower(u->alt_mails[k]), i };
	}
	qsort(out->v, out->n, sizeof(*out->v), cmp_claim);
}

void
plan_claims_free(struct plan_claims *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->v[i].addr);
	free(c->v);
	memset(c, 0, sizeof(*c));
}

/* Another item that claims addr, or SIZE_MAX. */
static size_t
other_claimant(const struct plan_claims *c, const char *addr, size_t self)
{
	char *key = lower(addr);
	size_t lo = 0, hi = c->n, found = SIZE_MAX;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(c->v[mid].addr, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < c->n && strcmp(c->v[lo].addr, key) == 0; lo++) {
		if (c->v[lo].item != self) {
			found = c->v[lo].item;
			break;
		}
	}
	free(key);
	return found;
}

void
plan_conflicts(const struct plan_claims *c, const struct plan_item *items, struct plan *p)
{
	for (size_t i = 0; i < c->n;) {
		size_t j = i + 1;

		while (j < c->n && strcmp(c->v[j].addr, c->v[i].addr) == 0)
			j++;
		/* Sorted by item within an address: the first other item differs from v[i]. */
		for (size_t k = i + 1; k < j; k++) {
			if (c->v[k].item != c->v[i].item) {
				struct plan_conflict *pc;

				p->conflicts = xreallocarray(p->conflicts, p->n_conflicts + 1,
				    sizeof(*p->conflicts));
				pc = &p->conflicts[p->n_conflicts++];
				snprintf(pc->addr, sizeof(pc->addr), "%s", c->v[i].addr);
				pc->a = items[c->v[i].item].user;
				pc->b = items[c->v[k].item].user;
				break;
			}
		}
		i = j;
	}
}

static bool
ascii_local(const char *addr)
{
	for (const char *p = addr; *p != '\0' && *p != '@'; p++)
		if ((unsigned char)*p >= 0x80)
			return false;
	return true;
}

static const char *
domain_of(const char *addr)
{
	const char *at = strrchr(addr, '@');

	return at != NULL ? at + 1 : "";
}

/* Append "; " (unless buf is empty), then a and b. */
static void
append(char *buf, size_t size, const char *a, const char *b)
{
	size_t len = strlen(buf);

	if (len < size)
		snprintf(buf + len, size - len, "%s%s%s", len > 0 ? "; " : "", a, b);
}

bool
plan_addresses(const struct config *cfg, const struct plan_claims *claims, size_t self,
    const struct store_user_state *st, struct plan_item *it, const struct plan_item *items)
{
	const struct conf_group *g = &cfg->groups[it->group];
	const char *domains = g->allowed_domains != NULL ? g->allowed_domains :
	    cfg->service.mail_domains;
	const struct user *u = it->user;
	bool wants = it->action == PLAN_ISSUE || it->action == PLAN_RENEW ||
	    it->action == PLAN_REISSUE || it->action == PLAN_RESUME;
	char dropped[200] = "";
	size_t other, bytes = 0;

	if (u->mail == NULL || it->action == PLAN_SKIP)
		return true;
	/* The primary address: without it, no certificate at all. */
	if (!ascii_local(u->mail)) {
		if (!wants)
			return true;
		snprintf(it->reason, sizeof(it->reason), "not certified: the local part of %s is "
		    "not ASCII, and the key is delivered by mail, which needs SMTPUTF8 that "
		    "smimesync does not speak; give the person an ASCII primary address (keep this "
		    "one as an alternative address)", u->mail);
		it->action = PLAN_SKIP;
		return false;
	}
	if (domains != NULL && !conf_domain_allowed(domains, domain_of(u->mail))) {
		if (!wants)
			return true;
		snprintf(it->reason, sizeof(it->reason), "not certified: %s is outside the allowed "
		    "mail domains (%s)", u->mail, domains);
		it->action = PLAN_SKIP;
		return false;
	}
	if ((other = other_claimant(claims, u->mail, self)) != SIZE_MAX) {
		if (!wants)
			return true;
		snprintf(it->reason, sizeof(it->reason), "not certified: %s is claimed by this "
		    "person (%s) and by %s as well; an address claimed by two people is certified "
		    "for neither: correct the directory", u->mail, u->dn ? u->dn : "?",
		    items[other].user->dn ? items[other].user->dn : "another entry");
		it->action = PLAN_SKIP;
		return false;
	}
	if (u->n_alt_mails > PLAN_MAX_ALT_MAILS) {
		if (!wants)
			return true;
		snprintf(it->reason, sizeof(it->reason), "not certified: the directory gives %zu "
		    "alternative addresses, at most %d go into a certificate; remove the ones "
		    "not needed (mail, proxyAddresses, the alternative-address attribute)",
		    u->n_alt_mails, PLAN_MAX_ALT_MAILS);
		it->action = PLAN_SKIP;
		return false;
	}
	for (size_t k = 0; k < u->n_alt_mails; k++)
		bytes += strlen(u->alt_mails[k]);
	if (bytes > PLAN_MAX_ALT_BYTES) {
		if (!wants)
			return true;
		snprintf(it->reason, sizeof(it->reason), "not certified: the alternative addresses "
		    "from the directory are %zu bytes long in all, at most %d go into a "
		    "certificate; remove the ones not needed", bytes, PLAN_MAX_ALT_BYTES);
		it->action = PLAN_SKIP;
		return false;
	}
	/* Alternative addresses: the ones that may not be certified are left out. */
	it->alt_mails = xcalloc(u->n_alt_mails + 1, sizeof(*it->alt_mails));
	for (size_t k = 0; k < u->n_alt_mails; k++) {
		const char *a = u->alt_mails[k];
		bool dup = strcasecmp(a, u->mail) == 0;

		for (size_t j = 0; j < it->n_alt_mails && !dup; j++)
			dup = strcasecmp(a, it->alt_mails[j]) == 0;
		if (dup)
			continue;
		if (domains != NULL && !conf_domain_allowed(domains, domain_of(a))) {
			append(dropped, sizeof(dropped), a, " (outside the allowed domains)");
			continue;
		}
		if ((other = other_claimant(claims, a, self)) != SIZE_MAX) {
			append(dropped, sizeof(dropped), a, " (claimed by another person too)");
			continue;
		}
		it->alt_mails[it->n_alt_mails++] = a;
	}
	/* An address the current certificate carries that the person may no longer have. */
	if (st != NULL && st->alt_mails != NULL && (it->action == PLAN_NOTHING ||
	    it->action == PLAN_REPUBLISH || it->action == PLAN_RENEW)) {
		const char *p = st->alt_mails;

		while (*p != '\0') {
			const char *end = strchr(p, '\n');
			size_t l = end != NULL ? (size_t)(end - p) : strlen(p);
			char lost[256];
			bool kept = false;

			snprintf(lost, sizeof(lost), "%.*s", (int)l, p);
			for (size_t j = 0; j < it->n_alt_mails && !kept; j++)
				kept = strcasecmp(lost, it->alt_mails[j]) == 0;
			if (!kept && l > 0) {
				it->action = PLAN_REISSUE;
				snprintf(it->reason, sizeof(it->reason), "the certificate carries %s, "
				    "which is no longer this person's (or may no longer be certified): "
				    "re-issued without it", lost);
				break;
			}
			p = end != NULL ? end + 1 : p + l;
		}
	}
	if (dropped[0] != '\0' && (it->action == PLAN_ISSUE || it->action == PLAN_RENEW ||
	    it->action == PLAN_REISSUE || it->action == PLAN_RESUME))
		append(it->reason, sizeof(it->reason), "left out of the certificate: ", dropped);
	return true;
}
