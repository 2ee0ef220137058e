/* SPDX-License-Identifier: ISC */
/*
 * Narrow checks for string-typed options, referenced from the option
 * table. Each answers 0, or -1 with one sentence saying what is wrong and
 * what a good value looks like; the caller adds "file:line: [section] key:".
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "common/dn.h"
#include "common/p11uri.h"
#include "conf/options.h"

bool
conf_name_valid(const char *name)
{
	if (*name == '\0')
		return false;
	for (const char *p = name; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (!isalnum(c) && c != '-' && c != '_' && c != '.')
			return false;
	}
	return true;
}

int
conf_check_name(const char *value, struct errbuf *why)
{
	if (conf_name_valid(value))
		return 0;
	err_set(why, "\"%s\" is not a section name; use letters, digits, \"-\", \"_\" and \".\"",
	    value);
	return -1;
}

/* RFC 1123 host name or an IP address literal in brackets-free form. */
int
conf_check_hostname(const char *value, struct errbuf *why)
{
	size_t len = strlen(value);

	if (len > 253)
		goto bad;
	/* One colon is "host:port", not an IPv6 address. */
	if (strchr(value, ':') != NULL && strchr(value, ':') == strrchr(value, ':')) {
		err_set(why, "\"%s\" is not a host name; write the name alone (the port has its "
		    "own key)", value);
		return -1;
	}
	for (const char *p = value; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		/* ':' lets IPv6 literals through; libesmtp takes them as is. */
		if (!isalnum(c) && c != '-' && c != '.' && c != ':')
			goto bad;
	}
	return 0;
bad:
	err_set(why, "\"%s\" is not a host name; use a name like smtp.example.org or an IP address",
	    value);
	return -1;
}

/*
 * "addr@example.org" or "Display Name <addr@example.org>", split as the
 * mail room splits it when it sends, so what passes here can be sent.
 */
/* "addr" or "Name <addr>", by the one address rule. */
static bool
mailbox_ok(const char *value)
{
	char *name = NULL, *addr = NULL;
	int rc = mailaddr_parse_mailbox(value, CONF_MAILADDR_FLAGS, &name, &addr, NULL);

	free(name);
	free(addr);
	return rc == 0;
}

int
conf_check_from(const char *value, struct errbuf *why)
{
	if (mailbox_ok(value))
		return 0;
	err_set(why, "\"%s\" is not a sender address; write pki@example.org or "
	    "Example PKI <pki@example.org>", value);
	return -1;
}

int
conf_check_reply_to(const char *value, struct errbuf *why)
{
	if (mailbox_ok(value))
		return 0;
	err_set(why, "\"%s\" is not an address to reply to; write pki-help@example.org or "
	    "PKI Helpdesk <pki-help@example.org>", value);
	return -1;
}

/* Shown to every person in their mail: one line of reasonable length. */
int
conf_check_verify_at(const char *value, struct errbuf *why)
{
	if (strlen(value) <= 300)
		return 0;
	err_set(why, "is %zu characters long; give a URL or a short description of the "
	    "place (at most 300 characters)", strlen(value));
	return -1;
}

/* "en", "de", "pt-BR": names a template subdirectory, so no '/' or "..". */
int
conf_check_language(const char *value, struct errbuf *why)
{
	size_t len = strlen(value);
	bool ok = len >= 2 && len <= 16 && isalpha((unsigned char)value[0]);

	for (const char *p = value; ok && *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
			ok = false;
	if (ok)
		return 0;
	err_set(why, "\"%s\" is not a language tag; use one like en, de or pt-BR", value);
	return -1;
}

int
conf_check_country(const char *value, struct errbuf *why)
{
	if (strlen(value) == 2 && isupper((unsigned char)value[0]) &&
	    isupper((unsigned char)value[1]))
		return 0;
	err_set(why, "\"%s\" is not a country code; use two capital letters (ISO 3166), e.g. DE",
	    value);
	return -1;
}

/*
 * S/MIME BR 7.1.4.2.2 d: scheme (NTR, VAT, PSD, LEI, GOV, INT), ISO 3166
 * country, optionally "+" and a subdivision (NTR, GOV), then "-" and the
 * registration reference, which only GOV and INT may leave out.
 */
int
conf_check_organization_identifier(const char *value, struct errbuf *why)
{
	static const char *const schemes[] = {"NTR", "VAT", "PSD", "LEI", "GOV", "INT"};
	size_t len = strlen(value);
	const char *p = value + 5;
	bool known = false, ref_optional;

	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (len >= 3 && strncmp(value, schemes[i], 3) == 0)
			known = true;
	if (!known || len < 5 || len > 64 || !isupper((unsigned char)value[3]) ||
	    !isupper((unsigned char)value[4]))
		goto bad;
	ref_optional = strncmp(value, "GOV", 3) == 0 || strncmp(value, "INT", 3) == 0;
	if (*p == '+') {
		if (!isupper((unsigned char)p[1]) || !isalnum((unsigned char)p[2]))
			goto bad;
		p += 3;
	}
	if (*p == '\0')
		return ref_optional ? 0 : (err_set(why, "\"%s\" lacks its registration reference: "
		    "write it after a dash, e.g. %.5s-12345678", value, value), -1);
	if (*p != '-' || p[1] == '\0')
		goto bad;
	for (p++; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			goto bad;
	return 0;
bad:
	err_set(why, "\"%s\" is not an S/MIME BR organizationIdentifier; write scheme "
	    "(NTR, VAT, PSD, LEI, GOV or INT), country and reference, e.g. VATDE-123456789 "
	    "or NTRGB-12345678", value);
	return -1;
}

/* Whole filter in parentheses with balanced nesting; the server does the rest. */
int
conf_check_ldap_filter(const char *value, struct errbuf *why)
{
	int depth = 0;
	size_t len = strlen(value);

	if (len < 3 || value[0] != '(' || value[len - 1] != ')')
		goto bad;
	for (size_t i = 0; i < len; i++) {
		if (value[i] == '\\') {
			i++;
			continue;
		}
		if (value[i] == '(')
			depth++;
		else if (value[i] == ')' && --depth < 0)
			goto bad;
		if (depth == 0 && i + 1 < len)
			goto bad;
	}
	if (depth == 0)
		return 0;
bad:
	err_set(why, "\"%s\" is not an LDAP filter; write one in parentheses, e.g. "
	    "(objectClass=inetOrgPerson)", value);
	return -1;
}

/* RFC 4512 descr: a letter then letters, digits, '-'. */
int
conf_check_attribute(const char *value, struct errbuf *why)
{
	bool ok = isalpha((unsigned char)value[0]);

	for (const char *p = value; ok && *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && *p != '-')
			ok = false;
	if (ok)
		return 0;
	err_set(why, "\"%s\" is not an attribute name; use one like mail", value);
	return -1;
}

/* RFC 4422: up to 20 of A-Z, 0-9, '-', '_'. */
int
conf_check_env_names(const char *value, struct errbuf *why)
{
	const char *p = value;

	while (*p != '\0') {
		const char *start;
		size_t len;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		start = p;
		while (*p != '\0' && *p != ' ' && *p != '\t')
			p++;
		len = (size_t)(p - start);
		for (size_t i = 0; i < len; i++) {
			unsigned char c = (unsigned char)start[i];

			if (!(isalpha(c) || c == '_' || (i > 0 && isdigit(c)))) {
				err_set(why, "\"%.*s\" is not an environment variable name; give "
				    "names like https_proxy, separated by spaces", (int)len, start);
				return -1;
			}
		}
		if (len >= 11 && strncmp(start, "CERTMONGER_", 11) == 0) {
			err_set(why, "%.*s is set by smimesync itself, as certmonger's helper "
			    "contract says; it cannot be passed", (int)len, start);
			return -1;
		}
	}
	return 0;
}

int
conf_check_sasl_mech(const char *value, struct errbuf *why)
{
	size_t len = strlen(value);
	bool ok = len >= 1 && len <= 20;

	for (const char *p = value; ok && *p != '\0'; p++)
		if (!isupper((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '-' &&
		    *p != '_')
			ok = false;
	if (ok)
		return 0;
	err_set(why, "\"%s\" is not a SASL mechanism name; use one like EXTERNAL or GSSAPI "
	    "(capital letters)", value);
	return -1;
}

/*
 * An AD sAMAccountName: at most 256 characters (group names), none of the
 * characters AD refuses (" / \ [ ] : ; | = , + * ? < > @) and no control
 * character. Refusing '=' keeps it apart from a DN.
 */
int
conf_check_sam_account_name(const char *value, struct errbuf *why)
{
	size_t len = strlen(value);

	if (len == 0 || len > 256 || strpbrk(value, "\"/\\[]:;|=,+*?<>@") != NULL ||
	    value[len - 1] == '.') {
		err_set(why, "\"%s\" is not a sAMAccountName (no \" / \\ [ ] : ; | = , + * ? "
		    "< > @, not ending in a dot); give the group's pre-Windows 2000 name, or "
		    "use group_dn", value);
		return -1;
	}
	return 0;
}

int
conf_check_bind_name(const char *value, struct errbuf *why)
{
	const char *at = strchr(value, '@');

	if (dn_valid(value))
		return 0;
	if (at != NULL && at != value && at[1] != '\0' && strchr(at + 1, '@') == NULL &&
	    strpbrk(value, "=,\\ ") == NULL)
		return 0;
	err_set(why, "\"%s\" is neither a DN (attribute=value pairs separated by commas, e.g. "
	    "cn=smimesync,ou=services,dc=example,dc=org) nor a user principal name "
	    "(svc-smimesync@example.org, type = ad only)", value);
	return -1;
}

int
conf_check_principal(const char *value, struct errbuf *why)
{
	const char *at = strrchr(value, '@');

	if (at != NULL && at != value && at[1] != '\0' && strpbrk(value, " \t") == NULL &&
	    strlen(value) <= 256)
		return 0;
	err_set(why, "\"%s\" is not a Kerberos principal; write name@REALM, e.g. "
	    "svc-smimesync@EXAMPLE.ORG (klist -k KEYTAB lists the ones in a keytab)", value);
	return -1;
}

/*
 * A CA's REST base URL: https:// (or http://, which only cfssl may use, as
 * conf/config.c checks against the type), a host, no user:password part
 * (credentials live in secret files, never in the config) and no query.
 */
int
conf_check_ca_url(const char *value, struct errbuf *why)
{
	const char *host;

	if (strncmp(value, "https://", 8) == 0)
		host = value + 8;
	else if (strncmp(value, "http://", 7) == 0)
		host = value + 7;
	else
		goto bad;
	if (*host == '\0' || *host == '/' || strpbrk(value, "?#@ \t") != NULL)
		goto bad;
	return 0;
bad:
	/* Not echoed when it may carry a password ("user:secret@host"). */
	if (strchr(value, '@') != NULL)
		err_set(why, "the value is not a CA base URL: it holds \"@\", i.e. credentials; "
		    "put them in the secret files the CA type reads, and write "
		    "https://ca.example.org:8443");
	else
		err_set(why, "\"%s\" is not a CA base URL; write https://ca.example.org:8443 (no "
		    "credentials, query or fragment)", value);
	return -1;
}

int
conf_check_pkcs11_uri(const char *value, struct errbuf *why)
{
	struct p11_uri u;

	if (p11_uri_parse(value, &u, why) != 0)
		return -1;
	p11_uri_clear(&u);
	return 0;
}

int
conf_check_credential_name(const char *value, struct errbuf *why)
{
	if (value[0] == '\0' || value[0] == '.' || strchr(value, '/') != NULL ||
	    strlen(value) > 255) {
		err_set(why, "\"%s\" is not a systemd credential name (the NAME of "
		    "LoadCredential=NAME:PATH: no \"/\", not starting with \".\")", value);
		return -1;
	}
	return 0;
}

bool
conf_guid_valid(const char *s)
{
	static const int groups[] = {8, 4, 4, 4, 12};
	const char *p = s;

	for (size_t g = 0; g < ARRAY_LEN(groups); g++) {
		for (int i = 0; i < groups[g]; i++, p++)
			if (!isxdigit((unsigned char)*p))
				return false;
		if (g + 1 < ARRAY_LEN(groups) && *p++ != '-')
			return false;
	}
	return *p == '\0';
}

int
conf_check_guid(const char *value, struct errbuf *why)
{
	if (conf_guid_valid(value))
		return 0;
	err_set(why, "\"%s\" is not a GUID (8-4-4-4-12 hex digits); copy the id from the Entra "
	    "admin center, e.g. 0b4ad5e4-7f44-4d8a-9c71-3c1d2a5e6f70", value);
	return -1;
}

int
conf_check_tenant(const char *value, struct errbuf *why)
{
	struct errbuf ignored;

	if (conf_guid_valid(value) ||
	    (strchr(value, '.') != NULL && conf_check_hostname(value, &ignored) == 0 &&
	    strchr(value, ':') == NULL))
		return 0;
	err_set(why, "\"%s\" is neither a tenant id (a GUID, Entra admin center > Overview) nor "
	    "a verified domain such as contoso.onmicrosoft.com", value);
	return -1;
}

int
conf_check_https_host(const char *value, struct errbuf *why)
{
	const char *host = value + 8;
	size_t len = strlen(host);

	while (len > 0 && host[len - 1] == '/')
		len--;
	if (strncmp(value, "https://", 8) == 0 && len > 0 && memchr(host, '/', len) == NULL &&
	    memchr(host, '?', len) == NULL && memchr(host, '@', len) == NULL) {
		for (size_t i = 0; i < len; i++)
			if (!isalnum((unsigned char)host[i]) && strchr("-.:[]", host[i]) == NULL)
				goto bad;
		return 0;
	}
bad:
	err_set(why, "\"%s\" is not an https:// host; write the scheme and host only, e.g. "
	    "https://login.microsoftonline.us or https://graph.microsoft.us (plain http is never "
	    "used: it would carry the credentials in clear)", value);
	return -1;
}

int
conf_check_graph_group_name(const char *value, struct errbuf *why)
{
	if (conf_guid_valid(value)) {
		err_set(why, "\"%s\" is an object id, not a display name; write group_id = %s",
		    value, value);
		return -1;
	}
	if (strlen(value) > 256) {
		err_set(why, "a group display name has at most 256 characters");
		return -1;
	}
	return 0;
}
