/* SPDX-License-Identifier: ISC */
/*
 * Owned helpers of struct user, struct user_list and struct dir_cert_values,
 * and the problems attached to a person: what every backend builds its
 * answers with.
 */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "directory/dir_internal.h"
#include "directory/directory.h"

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
	case DIR_UNSUPPORTED:
		return "unsupported";
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
	free(u->language);
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

void
dir_add_alt_mail(struct user *u, const char *m, size_t len)
{
	size_t bytes = len;
	char *copy = xstrndup(m, len);

	if (u->mail != NULL && str_eq_nocase(u->mail, copy))
		goto out;
	/* At most DIR_MAX_ALT_MAILS comparisons: the list never grows past it. */
	for (size_t i = 0; i < u->n_alt_mails; i++) {
		if (str_eq_nocase(u->alt_mails[i], copy))
			goto out;
		bytes += strlen(u->alt_mails[i]);
	}
	if (u->n_alt_mails >= DIR_MAX_ALT_MAILS || bytes > DIR_MAX_ALT_BYTES) {
		u->n_alt_over++;
		goto out;
	}
	u->alt_mails = xreallocarray(u->alt_mails, u->n_alt_mails + 1, sizeof(*u->alt_mails));
	u->alt_mails[u->n_alt_mails++] = copy;
	copy = NULL;
out:
	free(copy);
}

void
dir_check_alt_mails(struct user *u, const char *what)
{
	size_t n = u->n_alt_mails + u->n_alt_over;

	if (u->n_alt_over == 0)
		return;
	/* Short: it is the person's one-line reason in the plan and report (256 bytes). */
	dir_add_problem(u, "%zu alternative addresses in %s, more than a certificate may name "
	    "(%d, or %d bytes in all); remove the unused ones", n, what, DIR_MAX_ALT_MAILS,
	    DIR_MAX_ALT_BYTES);
	log_warn("%s: %zu alternative addresses in %s, more than the %d (or %d bytes) a "
	    "certificate may name: not provisioned until some are removed", u->dn != NULL ?
	    u->dn : "?", n, what, DIR_MAX_ALT_MAILS, DIR_MAX_ALT_BYTES);
}

void
dir_add_problem(struct user *u, const char *fmt, ...)
{
	struct buf b;
	va_list ap;
	int rc;

	buf_init(&b, 0);
	if (u->problem != NULL && buf_printf(&b, "%s; ", u->problem) != 0)
		abort(); /* unbounded buffer: cannot fail */
	va_start(ap, fmt);
	rc = buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (rc != 0)
		abort();
	free(u->problem);
	u->problem = buf_steal(&b, NULL);
}

bool
dir_value_in(const struct dir_value *v, size_t n, const void *data, size_t len)
{
	for (size_t i = 0; i < n; i++) {
		if (v[i].len == len && memcmp(v[i].data, data, len) == 0)
			return true;
	}
	return false;
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
