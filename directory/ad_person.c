/* SPDX-License-Identifier: ISC */
/*
 * An Active Directory user object as a struct user.
 *
 * objectGUID (as the canonical GUID string) is the stable id; mail the
 * primary address; every smtp:/SMTP: value of proxyAddresses is an
 * alternative address (the primary SMTP: one too when it differs from
 * mail); a disabled account (userAccountControl bit 0x2) or one whose
 * accountExpires lies in the past is returned with enabled = false and a
 * problem saying why, so the run report names it instead of dropping it.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <ldap.h>

#include "common/log.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "directory/ldap.h"

#define UAC_ACCOUNTDISABLE 0x2u
/* accountExpires: 100 ns ticks since 1601-01-01; 0 and INT64_MAX mean never. */
#define FILETIME_UNIX_OFFSET INT64_C(11644473600)
#define FILETIME_TICKS INT64_C(10000000)

char *
dir_ad_guid_string(const unsigned char *g, size_t len)
{
	if (len != 16)
		return NULL;
	/* The first three fields are little-endian on the wire (MS-DTYP 2.3.4). */
	return xasprintf("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x", g[3], g[2], g[1], g[0], g[5], g[4], g[7], g[6],
	    g[8], g[9], g[10], g[11], g[12], g[13], g[14], g[15]);
}

/* A decimal integer value (first value of an attribute). */
static bool
parse_int(const struct berval *v, size_t n, int64_t *out)
{
	char buf[24], *end = NULL;
	long long val;

	if (n == 0 || v[0].bv_len == 0 || v[0].bv_len >= sizeof(buf))
		return false;
	memcpy(buf, v[0].bv_val, v[0].bv_len);
	buf[v[0].bv_len] = '\0';
	errno = 0;
	val = strtoll(buf, &end, 10);
	if (errno != 0 || end == buf || *end != '\0')
		return false;
	*out = (int64_t)val;
	return true;
}

static bool
entry_int(const struct dir_entry *de, const char *attr, int64_t *out)
{
	size_t n = 0;
	const struct berval *v = dir_entry_get(de, attr, &n);

	return parse_int(v, n, out);
}

bool
dir_ad_get_int(LDAP *ld, LDAPMessage *entry, const char *attr, int64_t *out)
{
	struct dir_entry de;
	bool ok;

	dir_entry_open(ld, entry, &de);
	ok = entry_int(&de, attr, out);
	dir_entry_close(&de);
	return ok;
}

/* proxyAddresses: smtp:a@x (alternative), SMTP:p@x (primary); X500:, SIP: ... ignored. */
static void
fill_proxy_addresses(const struct dir_entry *de, struct user *u)
{
	size_t n = 0;
	const struct berval *vals = dir_entry_get(de, "proxyAddresses", &n);

	for (size_t i = 0; i < n; i++) {
		const struct berval *v = &vals[i];

		if (v->bv_len <= 5 || strncasecmp(v->bv_val, "smtp:", 5) != 0)
			continue;
		if (!dir_mail_valid(v->bv_val + 5, v->bv_len - 5)) {
			char *p = dir_printable(v->bv_val, v->bv_len, 120);

			log_debug("%s: ignoring proxyAddresses value \"%s\": not a valid address",
			    u->dn, p);
			free(p);
			continue;
		}
		/* The primary SMTP: address belongs in the certificate even if mail differs. */
		dir_add_alt_mail(u, v->bv_val + 5, v->bv_len - 5);
	}
}

/* Disabled or expired accounts are reported, never provisioned. */
static void
check_account(const struct dir_entry *de, struct user *u)
{
	int64_t uac = 0, expires = 0;

	if (entry_int(de, "userAccountControl", &uac) &&
	    ((uint32_t)uac & UAC_ACCOUNTDISABLE) != 0) {
		u->enabled = false;
		dir_add_problem(u, "the account is disabled in Active Directory "
		    "(userAccountControl 0x%" PRIx32 " has ACCOUNTDISABLE 0x2 set)", (uint32_t)uac);
	}
	if (entry_int(de, "accountExpires", &expires) && expires != 0 &&
	    expires != INT64_MAX) {
		int64_t when = expires / FILETIME_TICKS - FILETIME_UNIX_OFFSET;
		time_t t = (time_t)when;
		struct tm tm;
		char day[32] = "?";

		if (when <= (int64_t)time(NULL)) {
			if (gmtime_r(&t, &tm) != NULL)
				(void)strftime(day, sizeof(day), "%Y-%m-%d %H:%M UTC", &tm);
			u->enabled = false;
			dir_add_problem(u, "the account expired on %s (accountExpires)", day);
		}
	}
}

void
dir_ad_add_person(struct dir_ldap *dl, LDAPMessage *entry, const char *dn, struct user_list *out)
{
	struct user *u = user_list_push(out);
	struct dir_entry de;
	const struct berval *v;
	size_t n = 0;

	u->dn = xstrdup(dn);
	u->source = dl->conf->name;
	u->enabled = true;
	dir_entry_open(dl->ld, entry, &de);

	v = dir_entry_get(&de, "objectGUID", &n);
	if (n > 0)
		u->id = dir_ad_guid_string((const unsigned char *)v[0].bv_val, v[0].bv_len);

	dir_fill_mail(dl, &de, u);
	fill_proxy_addresses(&de, u);
	dir_ldap_check_alt_mails(dl, u, "proxyAddresses");
	if (u->id == NULL)
		dir_add_problem(u, "missing or malformed objectGUID (the service account must "
		    "be able to read it)");

	dir_fill_names(&de, dn, u);
	u->upn = dir_get_name(&de, "userPrincipalName", dn);
	check_account(&de, u);
	dir_entry_close(&de);
}
