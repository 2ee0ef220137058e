/* SPDX-License-Identifier: ISC */
/*
 * A set of strings for membership tests during group expansion (normalized
 * DNs), a plain list of strings, and a map of the same make (a change stream's group entryUUIDs to
 * their DNs). Open addressing with linear probing, FNV-1a hashing, grown at
 * 50 % load so probes stay short. Nothing is ever removed, so no
 * tombstones.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "directory/dir_internal.h"

static uint64_t
hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

void
strset_init(struct strset *s)
{
	memset(s, 0, sizeof(*s));
}

void
strset_free(struct strset *s)
{
	for (size_t i = 0; i < s->cap; i++)
		free(s->slots[i]);
	free(s->slots);
	memset(s, 0, sizeof(*s));
}

/* Index of str's slot, or of the empty slot where it would go. */
static size_t
find_slot(char **slots, size_t cap, const char *str)
{
	size_t i = (size_t)hash_str(str) & (cap - 1);

	while (slots[i] != NULL && strcmp(slots[i], str) != 0)
		i = (i + 1) & (cap - 1);
	return i;
}

static void
grow(struct strset *s)
{
	size_t ncap = s->cap == 0 ? 64 : s->cap * 2;
	char **nslots = xcalloc(ncap, sizeof(*nslots));

	for (size_t i = 0; i < s->cap; i++) {
		if (s->slots[i] != NULL)
			nslots[find_slot(nslots, ncap, s->slots[i])] = s->slots[i];
	}
	free(s->slots);
	s->slots = nslots;
	s->cap = ncap;
}

bool
strset_has(const struct strset *s, const char *str)
{
	if (s->cap == 0)
		return false;
	return s->slots[find_slot(s->slots, s->cap, str)] != NULL;
}

bool
strset_add(struct strset *s, const char *str)
{
	size_t i;

	if ((s->n + 1) * 2 > s->cap)
		grow(s);
	i = find_slot(s->slots, s->cap, str);
	if (s->slots[i] != NULL)
		return false;
	s->slots[i] = xstrdup(str);
	s->n++;
	return true;
}

/* ---- strlist ---- */

void
strlist_add(struct strlist *l, const char *str)
{
	if (l->n == l->cap) {
		l->cap = l->cap == 0 ? 16 : l->cap * 2;
		l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
	}
	l->v[l->n++] = xstrdup(str);
}

void
strlist_free(struct strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* ---- strmap: the same table with a value per key ---- */

void
strmap_init(struct strmap *m)
{
	memset(m, 0, sizeof(*m));
}

void
strmap_free(struct strmap *m)
{
	for (size_t i = 0; i < m->cap; i++) {
		free(m->keys[i]);
		free(m->values[i]);
	}
	free(m->keys);
	free(m->values);
	memset(m, 0, sizeof(*m));
}

static void
map_grow(struct strmap *m)
{
	size_t ncap = m->cap == 0 ? 64 : m->cap * 2;
	char **nkeys = xcalloc(ncap, sizeof(*nkeys));
	char **nvalues = xcalloc(ncap, sizeof(*nvalues));

	for (size_t i = 0; i < m->cap; i++) {
		if (m->keys[i] != NULL) {
			size_t k = find_slot(nkeys, ncap, m->keys[i]);

			nkeys[k] = m->keys[i];
			nvalues[k] = m->values[i];
		}
	}
	free(m->keys);
	free(m->values);
	m->keys = nkeys;
	m->values = nvalues;
	m->cap = ncap;
}

void
strmap_put(struct strmap *m, const char *key, const char *value)
{
	size_t i;

	if ((m->n + 1) * 2 > m->cap)
		map_grow(m);
	i = find_slot(m->keys, m->cap, key);
	if (m->keys[i] == NULL) {
		m->keys[i] = xstrdup(key);
		m->n++;
	}
	free(m->values[i]);
	m->values[i] = xstrdup(value);
}

const char *
strmap_get(const struct strmap *m, const char *key)
{
	size_t i;

	if (m->cap == 0)
		return NULL;
	i = find_slot(m->keys, m->cap, key);
	return m->keys[i] != NULL ? m->values[i] : NULL;
}
