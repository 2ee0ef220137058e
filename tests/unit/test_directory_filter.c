/* SPDX-License-Identifier: ISC */
/*
 * Unit tests of the directory room's pure helpers: RFC 4515 escaping, DN
 * normalization, nameAndOptionalUID, mail checks, the string set and the
 * user list.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "directory/dir_internal.h"
#include "directory/directory.h"
#include "tests/unit/check.h"

static void
check_escape(const char *in, size_t len, const char *want)
{
	char *got = dir_filter_escape(in, len);

	CHECK_STREQ(got, want);
	free(got);
}

static void
test_escape(void)
{
	check_escape("a*)(uid=*", 9, "a\\2a\\29\\28uid=\\2a");
	check_escape("alice@example.org", 17, "alice@example.org");
	check_escape("back\\slash", 10, "back\\5cslash");
	check_escape("nul\0x", 5, "nul\\00x");
	check_escape("J\xc3\xb6rg", 5, "J\\c3\\b6rg");
	check_escape("", 0, "");
	check_escape("(*)", 3, "\\28\\2a\\29");
}

static void
check_norm(const char *in, const char *want)
{
	char *got = dir_dn_normalize(in);

	if (want == NULL) {
		CHECK(got == NULL);
	} else {
		CHECK_STREQ(got, want);
	}
	free(got);
}

static void
check_same(const char *a, const char *b)
{
	char *na = dir_dn_normalize(a), *nb = dir_dn_normalize(b);

	CHECK(na != NULL && nb != NULL);
	if (na != NULL && nb != NULL)
		CHECK_STREQ(na, nb);
	free(na);
	free(nb);
}

static void
test_normalize(void)
{
	check_norm("uid=Alice,ou=People,dc=Example,dc=ORG", "uid=alice,ou=people,dc=example,dc=org");
	check_same("UID=alice, OU=people ,dc=example,dc=org", "uid=alice,ou=people,dc=example,dc=org");
	check_same("cn=Jane  Doe,dc=x", "cn=jane doe,dc=x");
	check_same("cn=a\\,b,dc=x", "CN=A\\2cB,DC=X");
	check_same("cn=x+uid=y,dc=z", "uid=y+cn=x,dc=z");
	check_same("cn=J\xc3\xb6rg M\xc3\xbcller,dc=x", "cn=j\\c3\\b6rg m\\c3\\bcller,dc=x");
	check_norm("not a dn", NULL);
	check_norm("cn=", "cn=");
	check_norm("", "");
	check_norm("=x,dc=y", NULL);
	/* Hostile values (issue #9): hex (BER) values, and libldap's leniency
	 * for an empty one, which would collide with every other such DN. */
	check_norm("cn=#04024869,dc=x", "cn=#04024869,dc=x");
	check_norm("cn=# 442,dc=x", NULL);
	check_same("cn=\\#hash\\20,dc=x", "CN=\\23HASH\\20,DC=X");
	{
		/* Normalizing is idempotent: a normalized DN is a DN again. */
		static const char *const dns[] = { "cn=\\#x,dc=y", "cn=a\\2Bb+sn=\\3Cc\\3E,dc=y",
			"cn=\\20lead,dc=y", "cn=x\\;y\\\\z,dc=y", "cn=J\\C3\\B6rg,dc=x",
			"cn=a\\00b,dc=x", NULL };

		for (size_t i = 0; dns[i] != NULL; i++) {
			char *n1 = dir_dn_normalize(dns[i]), *n2 = dir_dn_normalize(n1);

			CHECK(n1 != NULL);
			CHECK_STREQ(n2, n1);
			free(n1);
			free(n2);
		}
	}
	/*
	 * Plain DNs take a shortcut (lower-casing); it must give what the full
	 * parse gives, and leave everything else to it.
	 */
	{
		static const char *const dns[] = {
			"uid=u000042,ou=people,dc=example,dc=org", "CN=Jane Doe,OU=Staff,DC=corp,DC=example",
			"cn=a-b.c_d@e,dc=x", "cn=Jane  Doe,dc=x", "cn=Jane ,dc=x", "cn= Jane,dc=x",
			"cn =x,dc=y", "cn=x, dc=y", "cn=x,dc=y ", "cn=,dc=y", "2.5.4.3=x,dc=y",
			"cn=x+uid=y,dc=z", "cn=a\\,b,dc=x", "cn=#04024869,dc=x", "cn;lang-de=x,dc=y",
			"cn=J\xc3\xb6rg,dc=x", "a-=x,b1=y", "cn=x,", ",cn=x", "cn=x,,dc=y", "cn==x",
			"cn=x=y,dc=z", "cn", "", NULL };

		for (size_t i = 0; dns[i] != NULL; i++) {
			char *fast = dir_dn_normalize(dns[i]), *full = dir_dn_normalize_parsed(dns[i]);

			CHECK((fast == NULL) == (full == NULL));
			if (fast != NULL && full != NULL)
				CHECK_STREQ(fast, full);
			free(fast);
			free(full);
		}
	}
	/* Different DNs stay different. */
	{
		char *a = dir_dn_normalize("cn=a,dc=x"), *b = dir_dn_normalize("cn=a,dc=y");

		CHECK(a != NULL && b != NULL && strcmp(a, b) != 0);
		free(a);
		free(b);
	}
}

static void
check_strip(const char *in, const char *want)
{
	char *s = xstrdup(in);

	CHECK_STREQ(dir_strip_uid_suffix(s), want);
	free(s);
}

static void
test_uid_suffix(void)
{
	check_strip("uid=grace,ou=people,dc=example,dc=org#'0101'B",
	    "uid=grace,ou=people,dc=example,dc=org");
	check_strip("uid=grace,dc=org#''B", "uid=grace,dc=org");
	check_strip("uid=grace,dc=org", "uid=grace,dc=org");
	check_strip("cn=a\\#'01'B", "cn=a\\#'01'B");
	check_strip("cn=a#'012'B", "cn=a#'012'B");
	check_strip("B", "B");
}

static void
test_mail(void)
{
	static const char *const good[] = {
		"alice@example.org", "a.b+tag@sub.example.co.uk", "x@a-b.example",
		"j\xc3\xb6rg@example.org", "o'brien@example.org",
	};
	static const char *const bad[] = {
		"a*)(uid=*", "alice", "alice@", "@example.org", "a@@example.org",
		"a@b@example.org", "alice@localhost", ".a@example.org", "a.@example.org",
		"a..b@example.org", "a b@example.org", "a@exa mple.org", "a@-x.org",
		"a@x-.org", "a@x..org", "a@.x.org", "a\r\n@example.org", "\"a\"@example.org",
		"a@ex\xc3\xa4mple.org", "a\xff@example.org", "<a@example.org>", "a@x.org.",
	};

	for (size_t i = 0; i < ARRAY_LEN(good); i++) {
		bool ok = dir_mail_valid(good[i], strlen(good[i]));

		if (!ok)
			fprintf(stderr, "should be valid: %s\n", good[i]);
		CHECK(ok);
	}
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		bool ok = dir_mail_valid(bad[i], strlen(bad[i]));

		if (ok)
			fprintf(stderr, "should be invalid: %s\n", bad[i]);
		CHECK(!ok);
	}
	CHECK(!dir_mail_valid("a@example.org\0x", 15));
}

static void
test_printable(void)
{
	char *p = dir_printable("a\nb\0c", 5, 100);

	CHECK_STREQ(p, "a?b?c");
	free(p);
	p = dir_printable("abcdef", 6, 3);
	CHECK_STREQ(p, "abc...");
	free(p);
	/* Never cut a UTF-8 sequence. */
	p = dir_printable("a\xc3\xb6", 3, 2);
	CHECK_STREQ(p, "a...");
	free(p);
}

static void
test_strset(void)
{
	struct strset s;
	char key[32];

	strset_init(&s);
	CHECK(!strset_has(&s, "x"));
	CHECK(strset_add(&s, "x"));
	CHECK(!strset_add(&s, "x"));
	CHECK(strset_has(&s, "x"));
	for (int i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "uid=u%d,dc=x", i);
		CHECK(strset_add(&s, key));
	}
	CHECK_INTEQ(s.n, 5001);
	for (int i = 0; i < 5000; i += 7) {
		snprintf(key, sizeof(key), "uid=u%d,dc=x", i);
		CHECK(strset_has(&s, key));
	}
	CHECK(!strset_has(&s, "uid=u5000,dc=x"));
	strset_free(&s);
	CHECK(!strset_has(&s, "x"));
}

static void
test_user_list(void)
{
	struct user_list l = { 0 };
	struct dir_cert_values v = { 0 };

	for (int i = 0; i < 40; i++) {
		struct user *u = user_list_push(&l);

		CHECK(u->dn == NULL && u->problem == NULL && u->n_alt_mails == 0);
		u->dn = xasprintf("uid=u%d,dc=x", i);
		u->mail = xasprintf("u%d@example.org", i);
		u->alt_mails = xcalloc(2, sizeof(char *));
		u->alt_mails[0] = xstrdup("alt@example.org");
		u->n_alt_mails = 1;
	}
	CHECK_INTEQ(l.n, 40);
	CHECK_STREQ(l.v[39].dn, "uid=u39,dc=x");
	user_free_fields(&l.v[0]);
	CHECK(l.v[0].dn == NULL);
	user_list_free(&l);
	CHECK(l.n == 0 && l.v == NULL);
	user_list_free(&l);

	v.user_cert = xcalloc(1, sizeof(*v.user_cert));
	v.user_cert[0].data = xmemdup("abc", 3);
	v.user_cert[0].len = 3;
	v.n_user_cert = 1;
	dir_cert_values_free(&v);
	CHECK(v.user_cert == NULL && v.n_user_cert == 0);

	CHECK_STREQ(dir_status_name(DIR_OK), "ok");
	CHECK_STREQ(dir_status_name(DIR_AUTH_FAILED), "auth-failed");
	CHECK_STREQ(dir_status_name(DIR_UNREACHABLE), "unreachable");
	CHECK_STREQ(dir_status_name(DIR_BAD_CONFIG), "bad-config");
	CHECK_STREQ(dir_status_name(DIR_FAILED), "failed");
}

int
main(void)
{
	test_escape();
	test_normalize();
	test_uid_suffix();
	test_mail();
	test_printable();
	test_strset();
	test_user_list();
	return check_finish();
}
