/* SPDX-License-Identifier: ISC */
/*
 * Text helpers of the directory room: RFC 4515 filter escaping, DN
 * normalization for comparisons, the nameAndOptionalUID suffix, mail
 * address checks and making untrusted values printable.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <ldap.h>

#include "common/buf.h"
#include "common/dn.h"
#include "common/mailaddr.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "directory/dir_internal.h"
#include "directory/directory.h"

static const char hexdigits[] = "0123456789abcdef";

char *
dir_filter_escape(const char *value, size_t len)
{
	char *out = xmalloc(len * 3 + 1);
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)value[i];

		/*
		 * RFC 4515 requires * ( ) \ NUL; we also escape non-ASCII and
		 * control bytes so the filter is plain printable ASCII in logs.
		 */
		if (c == '*' || c == '(' || c == ')' || c == '\\' || c < 0x20 ||
		    c >= 0x7f) {
			out[o++] = '\\';
			out[o++] = hexdigits[c >> 4];
			out[o++] = hexdigits[c & 0x0f];
		} else {
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
	return out;
}

/* One attribute type and value in normalized text form. */
struct norm_ava {
	char *text;
};

static int
cmp_norm_ava(const void *a, const void *b)
{
	return strcmp(((const struct norm_ava *)a)->text, ((const struct norm_ava *)b)->text);
}

/*
 * "type=value" with the type and the value lower-cased (ASCII only: the
 * naming attributes of people and groups use case-ignore matching),
 * surrounding space trimmed and inner runs of space folded, and RFC 4514
 * specials escaped so that equal DNs give equal strings.
 */
static char *
norm_ava_text(const LDAPAVA *ava)
{
	struct buf b;
	size_t i, end;
	bool space = false;

	buf_init(&b, 0);
	for (i = 0; i < ava->la_attr.bv_len; i++) {
		char c = ava->la_attr.bv_val[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (buf_putc(&b, c) != 0)
			abort(); /* unbounded buffer: cannot fail */
	}
	if (buf_putc(&b, '=') != 0)
		abort();
	if (ava->la_flags & LDAP_AVA_BINARY) {
		if (buf_putc(&b, '#') != 0)
			abort();
		for (i = 0; i < ava->la_value.bv_len; i++) {
			unsigned char c = (unsigned char)ava->la_value.bv_val[i];

			if (buf_putc(&b, hexdigits[c >> 4]) != 0 ||
			    buf_putc(&b, hexdigits[c & 0x0f]) != 0)
				abort();
		}
		return buf_steal(&b, NULL);
	}
	i = 0;
	end = ava->la_value.bv_len;
	while (i < end && ava->la_value.bv_val[i] == ' ')
		i++;
	while (end > i && ava->la_value.bv_val[end - 1] == ' ')
		end--;
	for (; i < end; i++) {
		unsigned char c = (unsigned char)ava->la_value.bv_val[i];

		if (c == ' ') {
			space = true;
			continue;
		}
		if (space && buf_putc(&b, ' ') != 0)
			abort();
		space = false;
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		if (c < 0x20 || c == 0x7f) {
			if (buf_putc(&b, '\\') != 0 || buf_putc(&b, hexdigits[c >> 4]) != 0 ||
			    buf_putc(&b, hexdigits[c & 0x0f]) != 0)
				abort();
			continue;
		}
		if (strchr("\\,+\"<>;=#", c) != NULL && buf_putc(&b, '\\') != 0)
			abort();
		if (buf_putc(&b, (char)c) != 0)
			abort();
	}
	return buf_steal(&b, NULL);
}

/*
 * The plain DNs nearly every directory holds ("uid=u000042,ou=people,
 * dc=example,dc=org", "CN=Jane Doe,OU=Staff,DC=corp,DC=example"): types
 * are descriptors, values ASCII letters, digits, - . _ @ with single inner
 * spaces, no '+'. Their normalized form is the string lower-cased, which
 * is what the full parse below gives them; a group of 100,000 members
 * costs 100,000 normalizations, and libldap's parse is most of their cost.
 * Anything else (escapes, multi-valued RDNs, UTF-8, OIDs, odd spacing, an
 * empty value) takes the full parse. fuzz_dn_filter checks both agree.
 */
static bool
plain_value_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '-' || c == '.' || c == '_' || c == '@';
}

static char *
normalize_plain(const char *dn)
{
	const char *p = dn;
	char *out;
	size_t len;

	if (*p == '\0')
		return NULL;
	for (;;) {
		/* descriptor */
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
			return NULL;
		while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-')
			p++;
		if (*p++ != '=')
			return NULL;
		/* value: plain characters, a space only between two of them */
		if (!plain_value_char(*p))
			return NULL;
		while (plain_value_char(*p) || (*p == ' ' && plain_value_char(p[1])))
			p++;
		if (*p == '\0')
			break;
		if (*p++ != ',')
			return NULL;
	}
	len = (size_t)(p - dn);
	out = xmalloc(len + 1);
	for (size_t i = 0; i < len; i++)
		out[i] = (dn[i] >= 'A' && dn[i] <= 'Z') ? (char)(dn[i] - 'A' + 'a') : dn[i];
	out[len] = '\0';
	return out;
}

char *
dir_dn_normalize(const char *dn)
{
	char *out = dn != NULL ? normalize_plain(dn) : NULL;

	return out != NULL ? out : dir_dn_normalize_parsed(dn);
}

char *
dir_dn_normalize_parsed(const char *dn)
{
	LDAPDN parsed = NULL;
	struct buf b;
	char *out = NULL;

	/* The one DN rule first: libldap alone takes "cn=# 41" (see common/dn.h). */
	if (dn == NULL || !dn_valid(dn))
		return NULL;
	if (ldap_str2dn(dn, &parsed, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS)
		return NULL;
	buf_init(&b, 0);
	for (size_t r = 0; parsed != NULL && parsed[r] != NULL; r++) {
		LDAPRDN rdn = parsed[r];
		struct norm_ava *avas = NULL;
		size_t n = 0;

		while (rdn[n] != NULL)
			n++;
		avas = xcalloc(n, sizeof(*avas));
		for (size_t a = 0; a < n; a++)
			avas[a].text = norm_ava_text(rdn[a]);
		/* Multi-valued RDNs are unordered sets: sort them. */
		qsort(avas, n, sizeof(*avas), cmp_norm_ava);
		if (r > 0 && buf_putc(&b, ',') != 0)
			abort();
		for (size_t a = 0; a < n; a++) {
			if ((a > 0 && buf_putc(&b, '+') != 0) || buf_puts(&b, avas[a].text) != 0)
				abort();
			free(avas[a].text);
		}
		free(avas);
	}
	out = buf_steal(&b, NULL);
	ldap_dnfree(parsed);
	return out;
}

char *
dir_strip_uid_suffix(char *dn)
{
	size_t len = strlen(dn);
	size_t i;

	/* nameAndOptionalUID (RFC 4517 3.3.21): DN "#'" bits "'B" */
	if (len < 4 || dn[len - 1] != 'B' || dn[len - 2] != '\'')
		return dn;
	i = len - 2;
	while (i > 0 && (dn[i - 1] == '0' || dn[i - 1] == '1'))
		i--;
	if (i < 2 || dn[i - 1] != '\'' || dn[i - 2] != '#')
		return dn;
	/* An escaped '#' ("\#") belongs to the DN itself. */
	if (i >= 3 && dn[i - 3] == '\\')
		return dn;
	dn[i - 2] = '\0';
	return dn;
}

/*
 * Addresses read from the directory are certified, then mailed: the one
 * address rule (common/mailaddr.h) with a UTF-8 local part allowed (the
 * CA writes it as SmtpUTF8Mailbox) on a domain with a dot.
 */
bool
dir_mail_valid(const char *s, size_t len)
{
	return mailaddr_valid(s, len, MAILADDR_UTF8_LOCAL | MAILADDR_DOTTED);
}

char *
dir_printable(const char *s, size_t len, size_t max)
{
	size_t n = len < max ? len : max;
	bool utf8;
	char *out = xmalloc(n + 4);

	/* Do not cut a UTF-8 sequence in two. */
	while (n < len && n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	utf8 = str_is_utf8(s, n);

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		out[i] = (c < 0x20 || c == 0x7f || (c >= 0x80 && !utf8)) ? '?' : (char)c;
	}
	if (n < len) {
		memcpy(out + n, "...", 4);
	} else {
		out[n] = '\0';
	}
	return out;
}
