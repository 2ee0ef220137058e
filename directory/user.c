/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "directory/directory.h"

/* Owned helpers of struct user, struct user_list and struct dir_cert_values. */

const char *
dir_status_name(enum dir_status st)
{
	switch (st) {
	case DIR_OK:
		return "ok";
	case DIR_UNREACHABLE:
		return "unreachable";
	case DIR_AUTH_FAILED:
		return "auth-failed";
	case DIR_BAD_CONFIG:
		return "bad-config";
	case DIR_FAILED:
		return "failed";
	}
	return "unknown";
}

void
user_free_fields(struct user *u)
{
	if (u == NULL)
		return;
	free(u->id);
	free(u->dn);
	free(u->mail);
	for (size_t i = 0; i < u->n_alt_mails; i++)
		free(u->alt_mails[i]);
	free(u->alt_mails);
	free(u->display_name);
	free(u->given_name);
	free(u->surname);
	free(u->upn);
	free(u->onprem_dn);
	free(u->problem);
	memset(u, 0, sizeof(*u));
}

void
user_list_free(struct user_list *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->n; i++)
		user_free_fields(&l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

struct user *
user_list_push(struct user_list *l)
{
	struct user *u;

	if (l->n == l->cap) {
		size_t ncap = l->cap == 0 ? 16 : l->cap * 2;

		l->v = xreallocarray(l->v, ncap, sizeof(*l->v));
		l->cap = ncap;
	}
	u = &l->v[l->n++];
	memset(u, 0, sizeof(*u));
	return u;
}

static void
values_free(struct dir_value *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].data);
	free(v);
}

void
dir_cert_values_free(struct dir_cert_values *v)
{
	if (v == NULL)
		return;
	values_free(v->user_cert, v->n_user_cert);
	values_free(v->smime, v->n_smime);
	memset(v, 0, sizeof(*v));
}
