/* SPDX-License-Identifier: ISC */
/*
 * Unit tests of the Active Directory helpers that need no server: the
 * objectGUID string form, the meaning of AD's bind sub-codes and the
 * parsing of range descriptions (member;range=0-1499). The
 * reading and publishing paths are tested against a real Samba DC in
 * tests/integration/sync_ad.sh.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "directory/directory.h"
#include "directory/ldap.h"
#include "tests/unit/check.h"

static void
test_guid(void)
{
	/* objectGUID:: UY0BylGOIkmocfEixblzhA== as Windows and Python's uuid print it. */
	static const unsigned char g[16] = { 0x51, 0x8d, 0x01, 0xca, 0x51, 0x8e, 0x22, 0x49,
	    0xa8, 0x71, 0xf1, 0x22, 0xc5, 0xb9, 0x73, 0x84 };
	char *s = dir_ad_guid_string(g, sizeof(g));

	CHECK_STREQ(s, "ca018d51-8e51-4922-a871-f122c5b97384");
	free(s);
	CHECK(dir_ad_guid_string(g, 15) == NULL);
	CHECK(dir_ad_guid_string(g, 17) == NULL);
}

static void
test_bind_hint(void)
{
	const char *h;

	h = dir_ad_bind_hint("80090308: LdapErr: DSID-0C0903A9, comment: "
	    "AcceptSecurityContext error, data 52e, v1db1");
	CHECK(h != NULL);
	if (h != NULL)
		CHECK_CONTAINS(h, "wrong password");
	h = dir_ad_bind_hint("80090308: LdapErr: DSID-0C09044E, comment: "
	    "AcceptSecurityContext error, data 775, v4563");
	CHECK(h != NULL);
	if (h != NULL)
		CHECK_CONTAINS(h, "locked out");
	h = dir_ad_bind_hint("... AcceptSecurityContext error, data 532, v893");
	CHECK(h != NULL);
	if (h != NULL)
		CHECK_CONTAINS(h, "expired");
	h = dir_ad_bind_hint("... AcceptSecurityContext error, data 525, v893");
	CHECK(h != NULL);
	if (h != NULL)
		CHECK_CONTAINS(h, "no such user");
	static const char *const more[][2] = {
		{ "error, data 530, v1db1", "530" },
		{ "error, data 531, v1db1", "531" },
		{ "error, data 533, v1db1", "533" },
		{ "error, data 701, v1db1", "701" },
		{ "error, data 773, v1db1", "773" },
	};
	for (size_t i = 0; i < sizeof(more) / sizeof(more[0]); i++) {
		h = dir_ad_bind_hint(more[i][0]);
		CHECK(h != NULL);
		if (h != NULL)
			CHECK_CONTAINS(h, more[i][1]);
	}
	CHECK(dir_ad_bind_hint(NULL) == NULL);
	CHECK(dir_ad_bind_hint("invalid credentials") == NULL);
	/* A longer code that starts like a known one is not that code. */
	CHECK(dir_ad_bind_hint("error, data 52e1, v1") == NULL);
	CHECK(dir_ad_bind_hint("error, data 999, v1") == NULL);
}

static void
test_range(void)
{
	size_t lo = 9, hi = 9;
	bool last = false;

	CHECK_INTEQ(dir_parse_range("member;range=0-1499", "member", &lo, &hi, &last), 0);
	CHECK(lo == 0 && hi == 1499 && !last);
	CHECK_INTEQ(dir_parse_range("Member;Range=1500-*", "member", &lo, &hi, &last), 0);
	CHECK(lo == 1500 && last);
	CHECK_INTEQ(dir_parse_range("member", "member", &lo, &hi, &last), -1);
	CHECK_INTEQ(dir_parse_range("memberOf;range=0-1", "member", &lo, &hi, &last), -1);
	CHECK_INTEQ(dir_parse_range("member;range=5-4", "member", &lo, &hi, &last), -1);
	CHECK_INTEQ(dir_parse_range("member;range=-4", "member", &lo, &hi, &last), -1);
	CHECK_INTEQ(dir_parse_range("member;range=0-", "member", &lo, &hi, &last), -1);
	CHECK_INTEQ(dir_parse_range("member;range=0-1x", "member", &lo, &hi, &last), -1);
	CHECK_INTEQ(dir_parse_range("member;range=99999999999999999999-*", "member", &lo, &hi,
	    &last), -1);
}

int
main(void)
{
	test_guid();
	test_range();
	test_bind_hint();
	return check_finish();
}
