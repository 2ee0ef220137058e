/* SPDX-License-Identifier: ISC */
/*
 * The directory room's text helpers on hostile values: RFC 4515 filter
 * escaping, DN normalization and making values printable for logs.
 * Properties: an escaped value is printable ASCII with no unescaped
 * filter metacharacter and unescapes to the input exactly; a normalized
 * DN is itself a DN that normalizes to the same string (idempotent), so
 * comparisons cannot be fooled by a second round; the directory takes a
 * DN exactly when the one DN rule (common/dn.h, which check-config uses)
 * does, and libldap parses whatever that rule takes. A reqMod value of
 * slapd's accesslog (the same bytes) names a member only with a DN that is
 * its own normalized form, and hands back nothing otherwise.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <ldap.h>

#include "common/dn.h"
#include "directory/dir_internal.h"
#include "directory/directory.h"
#include "directory/ldap.h"
#include "tests/fuzz/fuzz.h"

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static void
check_escape(const uint8_t *data, size_t size)
{
	char *esc = dir_filter_escape((const char *)data, size);
	size_t n = 0;

	for (const char *p = esc; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		FUZZ_ASSERT(c >= 0x20 && c < 0x7f && c != '*' && c != '(' && c != ')');
		if (c == '\\') {
			int hi = hexval(p[1]), lo = hi < 0 ? -1 : hexval(p[2]);

			FUZZ_ASSERT(hi >= 0 && lo >= 0);
			FUZZ_ASSERT(n < size && data[n] == (uint8_t)(hi * 16 + lo));
			p += 2;
		} else {
			FUZZ_ASSERT(n < size && data[n] == c);
		}
		n++;
	}
	FUZZ_ASSERT(n == size);
	free(esc);
}

static void
check_dn(const char *dn)
{
	char *norm = dir_dn_normalize(dn), *again = NULL;
	char *full = dir_dn_normalize_parsed(dn);
	LDAPDN parsed = NULL;

	FUZZ_ASSERT((norm != NULL) == dn_valid(dn));
	/* The shortcut for plain DNs gives what the full parse gives. */
	if ((norm == NULL) != (full == NULL) || (norm != NULL && strcmp(norm, full) != 0)) {
		fprintf(stderr, "normalize(\"%s\") = \"%s\", parsed \"%s\"\n", dn,
		    norm != NULL ? norm : "(not a DN)", full != NULL ? full : "(not a DN)");
		abort();
	}
	free(full);
	if (dn_valid(dn)) {
		FUZZ_ASSERT(ldap_str2dn(dn, &parsed, LDAP_DN_FORMAT_LDAPV3) == LDAP_SUCCESS);
		ldap_dnfree(parsed);
	}
	if (norm == NULL)
		return;
	again = dir_dn_normalize(norm);
	if (again == NULL || strcmp(norm, again) != 0) {
		fprintf(stderr, "normalize(\"%s\") = \"%s\", again \"%s\"\n", dn, norm,
		    again != NULL ? again : "(not a DN)");
		abort();
	}
	free(again);
	free(norm);
}

static void
check_reqmod(const uint8_t *data, size_t size)
{
	char *norm = NULL, *again = NULL;
	enum dir_alog_mod m = dir_alog_parse_mod((const char *)data, size, &norm);

	FUZZ_ASSERT(m == DIR_ALOG_OTHER || m == DIR_ALOG_MEMBER || m == DIR_ALOG_WHOLE);
	FUZZ_ASSERT((m == DIR_ALOG_MEMBER) == (norm != NULL));
	if (norm == NULL)
		return;
	again = dir_dn_normalize(norm);
	FUZZ_ASSERT(norm[0] != '\0' && again != NULL && strcmp(again, norm) == 0);
	free(again);
	free(norm);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);
	char *p = NULL;

	check_escape(data, size);
	check_dn(s);
	check_reqmod(data, size);
	p = dir_printable((const char *)data, size, 64);
	for (const unsigned char *q = (const unsigned char *)p; *q != '\0'; q++)
		FUZZ_ASSERT(*q >= 0x20 && *q != 0x7f);
	free(p);
	free(s);
	return 0;
}
