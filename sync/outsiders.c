/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"
#include "common/xalloc.h"
#include "sync/outsiders.h"

/*
 * How an entry is compared: its normalized DN, or, for what is not a DN
 * (a Graph userPrincipalName, a CSV file:line), the text without case.
 */
static char *
entry_key(const char *dn)
{
	char *k = dir_dn_normalize(dn);

	if (k == NULL) {
		k = xstrdup(dn);
		for (char *p = k; *p != '\0'; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
	}
	return k;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Everyone read in this run, by id and by entry: sorted, for bsearch. */
struct readers {
	char **keys; /* new: entry keys */
	size_t n_keys;
	const char **ids; /* borrowed */
	size_t n_ids;
};

static void
readers_build(const struct plan *p, struct readers *r)
{
	memset(r, 0, sizeof(*r));
	r->keys = xcalloc(p->n_items + 1, sizeof(*r->keys));
	r->ids = xcalloc(p->n_items + 1, sizeof(*r->ids));
	for (size_t i = 0; i < p->n_items; i++) {
		const struct user *u = p->items[i].user;

		if (u->dn != NULL)
			r->keys[r->n_keys++] = entry_key(u->dn);
		if (u->id != NULL)
			r->ids[r->n_ids++] = u->id;
	}
	qsort(r->keys, r->n_keys, sizeof(*r->keys), cmp_str);
	qsort(r->ids, r->n_ids, sizeof(*r->ids), cmp_str);
}

static void
readers_free(struct readers *r)
{
	for (size_t i = 0; i < r->n_keys; i++)
		free(r->keys[i]);
	free(r->keys);
	free(r->ids);
}

/* Is h the person u, or someone read in this run? */
static bool
known_holder(const struct readers *r, const struct user *u, const struct dir_holder *h)
{
	char *key;
	bool known;

	if (h->id != NULL && u->id != NULL && strcmp(h->id, u->id) == 0)
		return true;
	if (h->id != NULL && bsearch(&h->id, r->ids, r->n_ids, sizeof(*r->ids), cmp_str) != NULL)
		return true;
	if (h->dn == NULL)
		return false;
	key = entry_key(h->dn);
	known = bsearch(&key, r->keys, r->n_keys, sizeof(*r->keys), cmp_str) != NULL;
	free(key);
	return known;
}

static void
push(struct outsider_checks *out, size_t item, const char *addr, const char *other,
    const char *error)
{
	struct plan_holder_check *c;

	out->v = xreallocarray(out->v, out->n + 1, sizeof(*out->v));
	c = &out->v[out->n++];
	c->item = item;
	c->addr = addr;
	c->other = other != NULL ? xstrdup(other) : NULL;
	c->error = error != NULL ? xstrdup(error) : NULL;
}

/* Ask about one address; false when the lookup failed (the person is not certified). */
static bool
ask(struct engine *en, const struct readers *r, size_t item, const struct user *u,
    const struct conf_directory *dir, const char *addr, struct outsider_checks *out,
    size_t *asked)
{
	struct dir_conn *dc = NULL;
	struct dir_holders h = { 0 };
	const char *other = NULL;
	struct errbuf e;

	err_clear(&e);
	(*asked)++;
	if (engine_dir(en, dir, &dc, &e) != DIR_OK ||
	    dir_address_holders(dc, addr, &h, &e) != DIR_OK) {
		report_error(en->report, u->mail, "plan", "could not check who else holds %s: %s; "
		    "not certified in this run, the next run asks again", addr, e.text);
		log_error("%s: could not check who else holds %s: %s", u->mail, addr, e.text);
		push(out, item, addr, NULL, e.text);
		return false;
	}
	for (size_t i = 0; i < h.n && other == NULL; i++)
		if (!known_holder(r, u, &h.v[i]))
			other = h.v[i].dn != NULL ? h.v[i].dn : h.v[i].id;
	push(out, item, addr, other, NULL);
	dir_holders_free(&h);
	return true;
}

void
outsiders_ask(struct engine *en, const struct plan *p, struct outsider_checks *out)
{
	struct readers r;
	size_t asked = 0;

	memset(out, 0, sizeof(*out));
	readers_build(p, &r);
	for (size_t i = 0; i < p->n_items; i++) {
		const struct plan_item *it = &p->items[i];
		const struct conf_directory *dir = en->cfg->groups[it->group].directory;

		if (!it->check_holders || it->action == PLAN_SKIP || it->user->mail == NULL)
			continue;
		if (!ask(en, &r, i, it->user, dir, it->user->mail, out, &asked))
			continue;
		for (size_t k = 0; k < it->n_alt_mails; k++)
			if (!ask(en, &r, i, it->user, dir, it->alt_mails[k], out, &asked))
				break;
	}
	readers_free(&r);
	if (asked > 0) {
		report_count(en->report, "holder_lookups", (int64_t)asked);
		log_debug("asked the directory who holds %zu address%s of new certificates", asked,
		    asked == 1 ? "" : "es");
	}
}

void
outsiders_free(struct outsider_checks *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free((char *)c->v[i].other);
		free((char *)c->v[i].error);
	}
	free(c->v);
	memset(c, 0, sizeof(*c));
}
