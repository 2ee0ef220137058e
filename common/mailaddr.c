/* SPDX-License-Identifier: ISC */
/*
 * The address rule of common/mailaddr.h. Pure C on bytes: no locale (the
 * character classes are spelled out, isalpha() would follow LC_CTYPE).
 */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/mailaddr.h"
#include "common/strutil.h"
#include "common/xalloc.h"

#define LOCAL_MAX 64
#define DOMAIN_MAX 253
#define LABEL_MAX 63

static bool
is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool
is_atext(unsigned char c)
{
	return is_alnum(c) || (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

static bool
local_valid(const char *s, size_t len, unsigned flags)
{
	bool utf8 = false;

	if (len == 0 || len > LOCAL_MAX || s[0] == '.' || s[len - 1] == '.')
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (s[i + 1] == '.')
				return false;
		} else if (c >= 0x80 && (flags & MAILADDR_UTF8_LOCAL)) {
			utf8 = true;
		} else if (!is_atext(c)) {
			return false;
		}
	}
	/* Bytes >= 0x80 only as whole, shortest-form UTF-8 sequences. */
	return !utf8 || str_is_utf8(s, len);
}

static bool
domain_valid(const char *s, size_t len, unsigned flags)
{
	size_t label = 0, dots = 0;

	if (len == 0 || len > DOMAIN_MAX)
		return false;
	for (size_t i = 0; i <= len; i++) {
		unsigned char c = i < len ? (unsigned char)s[i] : '.';

		if (c == '.') {
			if (label == 0 || label > LABEL_MAX || s[i - 1] == '-')
				return false;
			if (i < len)
				dots++;
			label = 0;
			continue;
		}
		if (!(is_alnum(c) || c == '-') || (label == 0 && c == '-'))
			return false;
		label++;
	}
	return dots > 0 || !(flags & MAILADDR_DOTTED);
}

bool
mailaddr_valid(const char *s, size_t len, unsigned flags)
{
	const char *at = NULL;
	size_t local_len;

	if (s == NULL || len == 0 || len > MAILADDR_MAX || memchr(s, '\0', len) != NULL)
		return false;
	at = memchr(s, '@', len);
	if (at == NULL)
		return false;
	local_len = (size_t)(at - s);
	if (memchr(at + 1, '@', len - local_len - 1) != NULL)
		return false;
	return local_valid(s, local_len, flags) &&
	    domain_valid(at + 1, len - local_len - 1, flags);
}

int
mailaddr_check(const char *addr, unsigned flags, struct errbuf *e)
{
	if (addr == NULL || *addr == '\0') {
		err_set(e, "empty mail address");
		return -1;
	}
	if (strchr(addr, '\r') != NULL || strchr(addr, '\n') != NULL) {
		err_set(e, "mail address contains a line break; refusing to use it");
		return -1;
	}
	if (str_has_control(addr)) {
		err_set(e, "mail address contains a control character; refusing to use it");
		return -1;
	}
	if (!(flags & MAILADDR_UTF8_LOCAL)) {
		for (const unsigned char *p = (const unsigned char *)addr; *p != '\0'; p++) {
			if (*p >= 0x80) {
				err_set(e, "mail address %s is not ASCII: it needs SMTPUTF8, "
				    "which smimesync does not support", addr);
				return -1;
			}
		}
	}
	if (!mailaddr_valid(addr, strlen(addr), flags)) {
		err_set(e, "\"%s\" is not a mail address smimesync accepts (a local part of "
		    "letters, digits, dots and !#$%%&'*+-/=?^_`{|}~, one @, and a host name%s)",
		    addr, (flags & MAILADDR_DOTTED) ? " with a dot, e.g. example.org" : "");
		return -1;
	}
	return 0;
}

/* Undo a quoted-string: drop the quotes and the backslashes of quoted pairs (new). */
static char *
unquote(const char *s, size_t len)
{
	char *out = xmalloc(len + 1);
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\\' && i + 1 < len)
			i++;
		out[o++] = s[i];
	}
	out[o] = '\0';
	return out;
}

int
mailaddr_parse_mailbox(const char *mailbox, unsigned flags, char **name, char **addr,
    struct errbuf *e)
{
	char *copy = NULL;
	char *s = NULL;
	char *lt = NULL;
	char *gt = NULL;
	char *n = NULL;
	size_t nlen;
	int rc = -1;

	*name = NULL;
	*addr = NULL;
	if (mailbox == NULL || str_has_control(mailbox)) {
		err_set(e, "mailbox \"%s\" is empty or contains a control character or "
		    "line break", mailbox != NULL ? mailbox : "");
		goto out;
	}
	copy = xstrdup(mailbox);
	s = str_trim(copy);
	lt = strrchr(s, '<');
	if (lt == NULL) {
		if (mailaddr_check(s, flags, e) != 0)
			goto out;
		*addr = xstrdup(s);
		rc = 0;
		goto out;
	}
	gt = strchr(lt, '>');
	if (gt == NULL || gt[1] != '\0') {
		err_set(e, "mailbox \"%s\": expected \"Display Name <address>\"", mailbox);
		goto out;
	}
	*gt = '\0';
	if (mailaddr_check(lt + 1, flags, e) != 0) {
		err_prefix(e, "mailbox \"%s\"", mailbox);
		goto out;
	}
	*lt = '\0';
	n = str_trim(s);
	nlen = strlen(n);
	if (nlen >= 2 && n[0] == '"' && n[nlen - 1] == '"')
		*name = unquote(n + 1, nlen - 2);
	else if (nlen > 0)
		*name = xstrdup(n);
	*addr = xstrdup(lt + 1);
	rc = 0;
out:
	free(copy);
	return rc;
}
