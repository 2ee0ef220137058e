/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/mailaddr.h"
#include "common/strutil.h"
#include "common/xalloc.h"

/*
 * Addresses come from the directory, which anyone who can edit their own
 * entry may influence, and they end up in "RCPT TO:<...>" (libESMTP prints
 * them verbatim) and in headers. So we accept only the plain, common
 * subset of RFC 5321/5322: a dot-atom local part and a host name. Quoted
 * local parts, comments, address literals and non-ASCII (SMTPUTF8) are
 * refused rather than half-supported.
 */

#define LOCAL_MAX 64
#define DOMAIN_MAX 253
#define ADDRESS_MAX 254

static bool
is_atext(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static bool
is_ldh(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-';
}

static bool
local_part_valid(const char *s, size_t len)
{
	if (len == 0 || len > LOCAL_MAX || s[0] == '.' || s[len - 1] == '.')
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (s[i + 1] == '.')
				return false;
		} else if (!is_atext(c)) {
			return false;
		}
	}
	return true;
}

static bool
domain_valid(const char *s)
{
	size_t len = strlen(s);
	size_t label = 0;

	if (len == 0 || len > DOMAIN_MAX)
		return false;
	for (size_t i = 0; i <= len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.' || c == '\0') {
			if (label == 0 || label > 63 || s[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!is_ldh(c) || (label == 0 && c == '-'))
			return false;
		label++;
	}
	return true;
}

bool
mail_address_valid(const char *addr)
{
	const char *at;

	if (addr == NULL || strlen(addr) > ADDRESS_MAX)
		return false;
	at = strchr(addr, '@');
	if (at == NULL || strchr(at + 1, '@') != NULL)
		return false;
	return local_part_valid(addr, (size_t)(at - addr)) && domain_valid(at + 1);
}

int
mail_address_check(const char *addr, struct errbuf *e)
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
	for (const unsigned char *p = (const unsigned char *)addr; *p != '\0'; p++) {
		if (*p >= 0x80) {
			err_set(e, "mail address %s is not ASCII: it needs SMTPUTF8, "
			    "which smimesync does not support", addr);
			return -1;
		}
	}
	if (!mail_address_valid(addr)) {
		err_set(e, "\"%s\" is not a mail address smimesync accepts (a local part of "
		    "letters, digits, dots and !#$%%&'*+-/=?^_`{|}~, one @, and a host name)",
		    addr);
		return -1;
	}
	return 0;
}

/* Undo a quoted-string: drop the quotes and the backslashes of quoted pairs. */
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
mail_parse_mailbox(const char *mailbox, char **name, char **addr, struct errbuf *e)
{
	char *copy = NULL, *s, *lt, *gt, *n = NULL;
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
		if (mail_address_check(s, e) != 0)
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
	if (mail_address_check(lt + 1, e) != 0) {
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
