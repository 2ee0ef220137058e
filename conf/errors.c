/* SPDX-License-Identifier: ISC */
/*
 * Collecting configuration errors: every problem is kept with its line,
 * and the list is handed over sorted by line so that messages read in
 * file order (STYLE 7).
 */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/xalloc.h"
#include "conf/conf_internal.h"

void
conf_err_add(struct conf_errlist *el, int line, const char *fmt, ...)
{
	struct buf b;
	va_list ap;
	struct conf_err *e;
	int rc;

	buf_init(&b, 0);
	if (line > 0)
		rc = buf_printf(&b, "%s:%d: ", el->path, line);
	else
		rc = buf_printf(&b, "%s: ", el->path);
	va_start(ap, fmt);
	if (rc == 0)
		rc = buf_vprintf(&b, fmt, ap);
	va_end(ap);
	/* An unbounded buf only fails on an impossible size: keep what we have. */
	(void)rc;
	el->v = xreallocarray(el->v, el->n + 1, sizeof(*el->v));
	e = &el->v[el->n];
	e->line = line;
	e->seq = el->n;
	e->msg = buf_steal(&b, NULL);
	el->n++;
}

static int
by_line(const void *a, const void *b)
{
	const struct conf_err *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void
conf_errlist_finish(struct conf_errlist *el, struct conf_errors *errs)
{
	if (el->n > 0)
		qsort(el->v, el->n, sizeof(*el->v), by_line);
	errs->msgs = xreallocarray(errs->msgs, errs->n + el->n, sizeof(*errs->msgs));
	for (size_t i = 0; i < el->n; i++)
		errs->msgs[errs->n++] = el->v[i].msg; /* stolen */
	free(el->v);
	el->v = NULL;
	el->n = 0;
}

void
conf_errlist_free(struct conf_errlist *el)
{
	for (size_t i = 0; i < el->n; i++)
		free(el->v[i].msg);
	free(el->v);
	el->v = NULL;
	el->n = 0;
}

void
conf_errors_free(struct conf_errors *errs)
{
	if (errs == NULL)
		return;
	for (size_t i = 0; i < errs->n; i++)
		free(errs->msgs[i]);
	free(errs->msgs);
	errs->msgs = NULL;
	errs->n = 0;
}
