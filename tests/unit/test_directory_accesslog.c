/* SPDX-License-Identifier: ISC */
/*
 * Unit tests of dir_alog_parse_mod(): what one reqMod value of slapd's
 * accesslog says about a group's members. The values come from the
 * server, so hostile ones (no colon, NUL bytes, huge, not a DN) must be
 * skipped or send the caller to a whole-group read, never crash.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "directory/ldap.h"
#include "tests/unit/check.h"

static void
check_mod(const char *val, size_t len, enum dir_alog_mod want, const char *want_norm)
{
	char *norm = NULL;
	enum dir_alog_mod got = dir_alog_parse_mod(val, len, &norm);

	CHECK(got == want);
	if (want_norm != NULL)
		CHECK_STREQ(norm, want_norm);
	else
		CHECK(norm == NULL);
	free(norm);
}

#define MOD(s, want, norm) check_mod(s, sizeof(s) - 1, want, norm)

static void
test_members(void)
{
	char *norm_alice = dir_dn_normalize("uid=alice,ou=people,dc=example,dc=org");

	MOD("member:+ uid=alice,ou=people,dc=example,dc=org", DIR_ALOG_MEMBER, norm_alice);
	MOD("member:- UID=Alice, OU=People,DC=Example,DC=Org", DIR_ALOG_MEMBER, norm_alice);
	MOD("uniqueMember:+ uid=alice,ou=people,dc=example,dc=org", DIR_ALOG_MEMBER,
	    norm_alice);
	MOD("MEMBER:+ uid=alice,ou=people,dc=example,dc=org", DIR_ALOG_MEMBER, norm_alice);
	free(norm_alice);
}

static void
test_whole(void)
{
	MOD("member:-", DIR_ALOG_WHOLE, NULL);          /* every value deleted */
	MOD("member:=", DIR_ALOG_WHOLE, NULL);          /* replaced by none */
	MOD("member:= uid=a,dc=x", DIR_ALOG_WHOLE, NULL); /* replaced */
	MOD("member:# 1", DIR_ALOG_WHOLE, NULL);
	MOD("member:+ not a dn", DIR_ALOG_WHOLE, NULL);
	MOD("member:+ ", DIR_ALOG_WHOLE, NULL);
	MOD("member:+uid=a,dc=x", DIR_ALOG_WHOLE, NULL);
	MOD("member;x-opt:+ uid=a,dc=x", DIR_ALOG_WHOLE, NULL);
	MOD("member:+ uid=a\0,dc=x", DIR_ALOG_WHOLE, NULL);
}

static void
test_other(void)
{
	MOD("", DIR_ALOG_OTHER, NULL);
	MOD("no colon at all", DIR_ALOG_OTHER, NULL);
	MOD("memberOf:+ cn=g,dc=x", DIR_ALOG_OTHER, NULL);
	MOD("members:+ cn=g,dc=x", DIR_ALOG_OTHER, NULL);
	MOD("description:= member:+ uid=a,dc=x", DIR_ALOG_OTHER, NULL);
	MOD("entryCSN:= 20261207123323.207961Z#000000#000#000000", DIR_ALOG_OTHER, NULL);
	MOD("mem\0ber:+ uid=a,dc=x", DIR_ALOG_OTHER, NULL);
	check_mod(NULL, 0, DIR_ALOG_OTHER, NULL);
}

static void
test_huge(void)
{
	size_t n = 1024 * 1024;
	char *big = malloc(n);

	if (big == NULL)
		abort();
	/* A colon beyond the first 128 bytes: not an attribute name this code reads. */
	memset(big, 'a', n);
	big[n - 1] = ':';
	check_mod(big, n, DIR_ALOG_OTHER, NULL);
	/* A member value of a megabyte: not trusted as a DN. */
	memcpy(big, "member:+ uid=", 13);
	check_mod(big, n, DIR_ALOG_WHOLE, NULL);
	free(big);
}

int
main(void)
{
	test_members();
	test_whole();
	test_other();
	test_huge();
	return check_finish();
}
