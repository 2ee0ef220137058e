/* SPDX-License-Identifier: ISC */
/*
 * Who holds an address in an LDAP or AD directory (directory.h
 * dir_address_holders): one paged subtree search under base_dn, for any
 * entry (not only people of user_filter: a mail-enabled group or contact
 * that carries the address is a holder too), asking for no attributes
 * ("1.1": only the DNs come back). The value is escaped (RFC 4515), so a
 * hostile address cannot widen the filter.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/xalloc.h"
#include "directory/ldap.h"

static enum dir_status
on_holder(struct dir_ldap *dl, LDAPMessage *entry, void *arg, struct errbuf *e)
{
	char *dn = ldap_get_dn(dl->ld, entry);

	(void)e;
	if (dn != NULL)
		dir_holders_add(arg, dn, NULL);
	ldap_memfree(dn);
	return DIR_OK;
}

enum dir_status
dir_ldap_address_holders(struct dir_ldap *dl, const char *addr, const char *proxy_attr,
    struct dir_holders *out, struct errbuf *e)
{
	char *attrs[] = { "1.1", NULL };
	const struct conf_directory *c = dl->conf;
	char *esc = dir_filter_escape(addr, strlen(addr));
	char *filter = NULL;
	struct buf f;
	enum dir_status st;

	buf_init(&f, 0);
	/* proxyAddresses holds "smtp:a@x" (SMTP: for the primary); AD compares without case. */
	if (buf_printf(&f, "(|(%s=%s)", c->mail_attribute, esc) != 0 ||
	    (c->alt_mail_attribute != NULL &&
	    buf_printf(&f, "(%s=%s)", c->alt_mail_attribute, esc) != 0) ||
	    (proxy_attr != NULL && buf_printf(&f, "(%s=smtp:%s)", proxy_attr, esc) != 0) ||
	    buf_putc(&f, ')') != 0)
		abort(); /* unbounded buffer: cannot fail */
	filter = buf_steal(&f, NULL);
	st = dir_ldap_scan(dl, filter, attrs, on_holder, out, e);
	buf_free(&f);
	free(esc);
	free(filter);
	return st;
}
