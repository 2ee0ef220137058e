/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

#include "common/errbuf.h"

static void
mark_truncated(struct errbuf *e, int n)
{
	if (n >= ERRBUF_SIZE)
		memcpy(e->text + ERRBUF_SIZE - 4, "...", 4);
}

void
err_clear(struct errbuf *e)
{
	if (e != NULL)
		e->text[0] = '\0';
}

void
err_set(struct errbuf *e, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (e == NULL)
		return;
	va_start(ap, fmt);
	n = vsnprintf(e->text, sizeof(e->text), fmt, ap);
	va_end(ap);
	mark_truncated(e, n);
}

void
err_prefix(struct errbuf *e, const char *fmt, ...)
{
	char old[ERRBUF_SIZE];
	char head[ERRBUF_SIZE];
	va_list ap;
	int n;

	if (e == NULL)
		return;
	memcpy(old, e->text, sizeof(old));
	va_start(ap, fmt);
	vsnprintf(head, sizeof(head), fmt, ap);
	va_end(ap);
	n = snprintf(e->text, sizeof(e->text), "%s: %s", head, old);
	mark_truncated(e, n);
}

void
err_add_openssl(struct errbuf *e)
{
	unsigned long code;
	char reason[256];
	size_t len;
	int first = 1;

	while ((code = ERR_get_error()) != 0) {
		if (e == NULL || !first)
			continue; /* keep only the earliest, most specific reason */
		ERR_error_string_n(code, reason, sizeof(reason));
		len = strlen(e->text);
		if (len + 3 < sizeof(e->text))
			snprintf(e->text + len, sizeof(e->text) - len, " (%s)", reason);
		first = 0;
	}
}
