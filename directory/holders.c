/* SPDX-License-Identifier: ISC */
/*
 * The answer of dir_address_holders() (directory.h): who carries an
 * address. Backends append with dir_holders_add(); the engine compares the
 * holders with the person it is about to certify (invariant I5).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "directory/dir_internal.h"

void
dir_holders_free(struct dir_holders *h)
{
	for (size_t i = 0; i < h->n; i++) {
		free(h->v[i].dn);
		free(h->v[i].id);
	}
	free(h->v);
	memset(h, 0, sizeof(*h));
}

void
dir_holders_add(struct dir_holders *h, const char *dn, const char *id)
{
	struct dir_holder *x;

	/* One other holder is all the engine needs to refuse; more only cost memory. */
	if (h->n >= DIR_MAX_HOLDERS)
		return;
	h->v = xreallocarray(h->v, h->n + 1, sizeof(*h->v));
	x = &h->v[h->n++];
	x->dn = dn != NULL ? xstrdup(dn) : NULL;
	x->id = id != NULL ? xstrdup(id) : NULL;
}
