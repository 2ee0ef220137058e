/* SPDX-License-Identifier: ISC */
/* The signer's memory, replayed from its signing log (signer/state.h). */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "signer/state.h"

static uint64_t
fnv1a(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return h;
}

static size_t
find_slot(char *const *slots, size_t cap, const char *key)
{
	size_t i = (size_t)fnv1a(key) & (cap - 1);

	while (slots[i] != NULL && strcmp(slots[i], key) != 0)
		i = (i + 1) & (cap - 1);
	return i;
}

bool
strset_has(const struct strset *s, const char *key)
{
	return s->cap > 0 && s->slots[find_slot(s->slots, s->cap, key)] != NULL;
}

bool
strset_add(struct strset *s, const char *key)
{
	size_t i;

	/* Keep the table at most half full. */
	if (2 * (s->n + 1) > s->cap) {
		size_t cap = s->cap == 0 ? 64 : s->cap * 2;
		char **slots = xcalloc(cap, sizeof(*slots));

		for (size_t k = 0; k < s->cap; k++)
			if (s->slots[k] != NULL)
				slots[find_slot(slots, cap, s->slots[k])] = s->slots[k];
		free(s->slots);
		s->slots = slots;
		s->cap = cap;
	}
	i = find_slot(s->slots, s->cap, key);
	if (s->slots[i] != NULL)
		return false;
	s->slots[i] = xstrdup(key);
	s->n++;
	return true;
}

void
strset_free(struct strset *s)
{
	for (size_t i = 0; i < s->cap; i++)
		free(s->slots[i]);
	free(s->slots);
	memset(s, 0, sizeof(*s));
}

struct ca_state *
state_ca(struct signer_state *st, const char *id, bool create)
{
	struct ca_state *ca;

	for (size_t i = 0; id != NULL && i < st->n_cas; i++)
		if (strcmp(st->cas[i].id, id) == 0)
			return &st->cas[i];
	if (!create || id == NULL)
		return NULL;
	st->cas = xrealloc(st->cas, (st->n_cas + 1) * sizeof(*st->cas));
	ca = &st->cas[st->n_cas++];
	memset(ca, 0, sizeof(*ca));
	ca->id = xstrdup(id);
	return ca;
}

bool
state_is_revoked(const struct ca_state *ca, const char *serial)
{
	return ca != NULL && strset_has(&ca->serials, serial);
}

static void
times_add(struct times *t, time_t when)
{
	t->v = xrealloc(t->v, (t->n + 1) * sizeof(*t->v));
	t->v[t->n++] = when;
}

size_t
times_recent(struct times *t, time_t now, int64_t window, time_t *oldest)
{
	size_t keep = 0, count = 0;

	*oldest = now;
	for (size_t i = 0; i < t->n; i++) {
		if ((int64_t)(now - t->v[i]) >= window)
			continue; /* out of the window for good: the clock only moves on */
		t->v[keep++] = t->v[i];
		if (t->v[i] <= now) {
			if (count == 0 || t->v[i] < *oldest)
				*oldest = t->v[i];
			count++;
		}
	}
	t->n = keep;
	return count;
}

static const char *
str(const json_t *ev, const char *key)
{
	const json_t *v = json_object_get(ev, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

void
state_apply(void *arg, const json_t *ev, uint64_t seq, time_t when)
{
	struct signer_state *st = arg;
	const char *event = str(ev, "event");

	(void)seq;
	if (event == NULL)
		return;
	if (strcmp(event, "certificate") == 0) {
		times_add(&st->certificates, when);
	} else if (strcmp(event, "revocation") == 0) {
		struct ca_state *ca = state_ca(st, str(ev, "ca"), true);
		const char *serial = str(ev, "serial");
		const json_t *reason = json_object_get(ev, "reason");

		if (ca == NULL || serial == NULL || !strset_add(&ca->serials, serial))
			return;
		ca->revoked = xrealloc(ca->revoked, (ca->n_revoked + 1) * sizeof(*ca->revoked));
		ca->revoked[ca->n_revoked].serial = xstrdup(serial);
		ca->revoked[ca->n_revoked].when = when;
		ca->revoked[ca->n_revoked].reason = json_is_integer(reason) ?
		    (int)json_integer_value(reason) : 0;
		ca->n_revoked++;
	} else if (strcmp(event, "crl") == 0) {
		struct ca_state *ca = state_ca(st, str(ev, "ca"), true);
		const json_t *n = json_object_get(ev, "number");

		if (ca != NULL && json_is_integer(n) && json_integer_value(n) > 0 &&
		    (uint64_t)json_integer_value(n) > ca->last_crl)
			ca->last_crl = (uint64_t)json_integer_value(n);
	} else if (strcmp(event, "key-closed") == 0) {
		const char *key = str(ev, "key");

		if (key != NULL)
			(void)strset_add(&st->closed_keys, key);
	} else if (strcmp(event, "alarm") == 0) {
		st->last_alarm = when;
	} else if (strcmp(event, "recovery-refused") == 0) {
		times_add(&st->refused_recoveries, when);
	}
}

void
state_free(struct signer_state *st)
{
	for (size_t i = 0; i < st->n_cas; i++) {
		struct ca_state *ca = &st->cas[i];

		for (size_t k = 0; k < ca->n_revoked; k++)
			free(ca->revoked[k].serial);
		free(ca->revoked);
		strset_free(&ca->serials);
		free(ca->id);
	}
	free(st->cas);
	free(st->certificates.v);
	free(st->refused_recoveries.v);
	strset_free(&st->closed_keys);
	memset(st, 0, sizeof(*st));
}
