/* SPDX-License-Identifier: ISC */
/*
 * The Graph client's pure parts (net/graph_*.c) and the Entra ID member
 * reader (directory/dir_graph.c) fed with pages as Graph sends them:
 * policy (guests, disabled accounts, UPN for a missing mail), alternative
 * addresses, repeats across pages, and malformed pages.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "net/graph_internal.h"
#include "conf/options.h"
#include "directory/backend.h"
#include "tests/unit/check.h"

static void
test_b64url(void)
{
	char *s;

	s = graph_b64url((const unsigned char *)"", 0);
	CHECK_STREQ(s, "");
	free(s);
	s = graph_b64url((const unsigned char *)"f", 1);
	CHECK_STREQ(s, "Zg");
	free(s);
	s = graph_b64url((const unsigned char *)"\xfb\xff\xbf", 3);
	CHECK_STREQ(s, "-_-_");
	free(s);
}

static void
test_retry_wait(void)
{
	struct http_response rs;

	memset(&rs, 0, sizeof(rs));
	rs.retry_after = 7;
	CHECK_INTEQ(graph_retry_wait(&rs, 0), 7);
	rs.retry_after = 99999;
	CHECK_INTEQ(graph_retry_wait(&rs, 0), GRAPH_MAX_RETRY_WAIT);
	rs.retry_after = 0;
	CHECK_INTEQ(graph_retry_wait(&rs, 3), 0);
	/* No (usable) Retry-After: exponential back-off, 2, 4, 8 ... capped. */
	rs.retry_after = -1;
	CHECK_INTEQ(graph_retry_wait(&rs, 0), 2);
	CHECK_INTEQ(graph_retry_wait(&rs, 1), 4);
	CHECK_INTEQ(graph_retry_wait(&rs, 2), 8);
	CHECK_INTEQ(graph_retry_wait(&rs, 30), 256);
}

static void
test_url_escape(void)
{
	char *s = graph_url_escape("pki@example.org");

	CHECK_STREQ(s, "pki%40example.org");
	free(s);
	s = graph_url_escape("displayName eq 'O''Brien/Team'");
	CHECK_STREQ(s, "displayName%20eq%20%27O%27%27Brien%2FTeam%27");
	free(s);
}

static void
test_guid(void)
{
	CHECK(conf_guid_valid("0b4ad5e4-7f44-4d8a-9c71-3c1d2a5e6f70"));
	CHECK(conf_guid_valid("0B4AD5E4-7F44-4D8A-9C71-3C1D2A5E6F70"));
	CHECK(!conf_guid_valid("0b4ad5e4-7f44-4d8a-9c71-3c1d2a5e6f7"));
	CHECK(!conf_guid_valid("0b4ad5e4-7f44-4d8a-9c71-3c1d2a5e6f70x"));
	CHECK(!conf_guid_valid("0b4ad5e47f444d8a9c713c1d2a5e6f70"));
	CHECK(!conf_guid_valid("S/MIME Staff"));
}

static const struct user *
find(const struct user_list *l, const char *id)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].id != NULL && strcmp(l->v[i].id, id) == 0)
			return &l->v[i];
	return NULL;
}

static const char page1[] =
    "{\"@odata.count\": 7, \"value\": ["
    "{\"id\": \"u-alice\", \"mail\": \"alice@example.org\", \"userPrincipalName\": \"alice@example.org\","
    " \"displayName\": \"Alice Smith\", \"givenName\": \"Alice\", \"surname\": \"Smith\","
    " \"preferredLanguage\": \"de-DE\","
    " \"accountEnabled\": true, \"userType\": \"Member\","
    " \"proxyAddresses\": [\"SMTP:alice@example.org\", \"smtp:a.smith@example.org\", \"X500:/o=x\", \"smtp:bad address\"],"
    " \"otherMails\": [\"ALICE@example.org\", \"alice@home.example\"],"
    " \"onPremisesDistinguishedName\": \"CN=Alice,OU=Staff,DC=corp,DC=example,DC=org\"},"
    "{\"id\": \"u-bob\", \"mail\": \"bob@example.org\", \"accountEnabled\": false, \"userType\": \"Member\","
    " \"preferredLanguage\": null},"
    "{\"id\": \"u-carol\", \"mail\": \"carol@partner.example\", \"accountEnabled\": true, \"userType\": \"Guest\"},"
    "{\"id\": \"u-dave\", \"mail\": null, \"userPrincipalName\": \"dave@example.org\", \"accountEnabled\": true}"
    "], \"@odata.nextLink\": \"https://graph.microsoft.com/v1.0/groups/g/transitiveMembers/microsoft.graph.user?$skiptoken=X\"}";
static const char page2[] =
    "{\"value\": ["
    "{\"id\": \"u-alice\", \"mail\": \"alice@example.org\", \"accountEnabled\": true},"
    "{\"id\": \"u-henry\", \"mail\": \"henry at example.org\", \"userPrincipalName\": \"henry@example.org\", \"accountEnabled\": true},"
    "{\"@odata.type\": \"#microsoft.graph.user\", \"id\": \"u-nope\"},"
    "{\"mail\": \"noid@example.org\", \"accountEnabled\": true},"
    "{\"id\": \"u-ext\", \"mail\": \"\", \"userPrincipalName\": \"x_y.example#EXT#@t.onmicrosoft.com\", \"accountEnabled\": true, \"userType\": \"Guest\"}"
    "]}";

static void read_pages(const struct conf_group *g, struct user_list *out, size_t *guests);

/* Both pages read under a group with this policy. */
static void
read_pages_as(bool include_guests, bool mail_from_upn, struct user_list *out, size_t *guests)
{
	struct conf_group g;

	memset(&g, 0, sizeof(g));
	g.name = "staff";
	g.include_guests = include_guests;
	g.mail_from_upn = mail_from_upn;
	read_pages(&g, out, guests);
}

static void
read_pages(const struct conf_group *g, struct user_list *out, size_t *guests)
{
	struct graph_page_reader r;
	json_t *p1 = json_loads(page1, 0, NULL), *p2 = json_loads(page2, 0, NULL);
	const char *next = NULL;
	struct errbuf e;

	CHECK(p1 != NULL && p2 != NULL);
	dir_graph_reader_init(&r, "entra", g, out);
	CHECK(dir_graph_take_page(&r, p1, &next, &e) == DIR_OK);
	CHECK_CONTAINS(next, "$skiptoken=X");
	CHECK(dir_graph_take_page(&r, p2, &next, &e) == DIR_OK);
	CHECK(next == NULL);
	CHECK_INTEQ((int)r.pages, 2);
	CHECK_INTEQ((int)r.duplicates, 1);
	*guests = r.guests;
	dir_graph_reader_free(&r);
	json_decref(p1);
	json_decref(p2);
}

/* use_other_mails = yes: otherMails are alternative addresses too. */
static void
test_members_other_mails(void)
{
	struct user_list out = { 0 };
	struct conf_group g;
	const struct user *u;
	size_t guests = 0;

	memset(&g, 0, sizeof(g));
	g.name = "staff";
	g.use_other_mails = true;
	read_pages(&g, &out, &guests);
	u = find(&out, "u-alice");
	CHECK(u != NULL);
	if (u != NULL) {
		CHECK_INTEQ((int)u->n_alt_mails, 2);
		if (u->n_alt_mails == 2) {
			CHECK_STREQ(u->alt_mails[0], "a.smith@example.org");
			CHECK_STREQ(u->alt_mails[1], "alice@home.example");
		}
	}
	user_list_free(&out);
}

static void
test_members_default_policy(void)
{
	struct user_list out = { 0 };
	const struct user *u;
	size_t guests = 0;

	read_pages_as(false, false, &out, &guests);
	CHECK_INTEQ((int)guests, 2);
	/* alice, bob, dave, henry, nope: carol and the #EXT# guest left out, no-id dropped. */
	CHECK_INTEQ((int)out.n, 5);
	u = find(&out, "u-alice");
	CHECK(u != NULL && u->problem == NULL && u->enabled);
	if (u != NULL) {
		CHECK_STREQ(u->mail, "alice@example.org");
		CHECK_STREQ(u->dn, "alice@example.org");
		CHECK_STREQ(u->source, "entra");
		CHECK_STREQ(u->given_name, "Alice");
		/* Graph's preferredLanguage picks the mail templates' language. */
		CHECK_STREQ(u->language, "de-DE");
		CHECK_STREQ(u->onprem_dn, "CN=Alice,OU=Staff,DC=corp,DC=example,DC=org");
		/*
		 * smtp: aliases without the primary (any case) or junk; otherMails,
		 * which users can often set themselves, only when the group asks
		 * (use_other_mails, invariant I5).
		 */
		CHECK_INTEQ((int)u->n_alt_mails, 1);
		if (u->n_alt_mails == 1)
			CHECK_STREQ(u->alt_mails[0], "a.smith@example.org");
	}
	u = find(&out, "u-bob");
	CHECK(u != NULL && !u->enabled && u->language == NULL);
	CHECK_CONTAINS(u != NULL ? u->problem : NULL, "disabled in Entra ID");
	u = find(&out, "u-dave");
	CHECK(u != NULL && u->mail == NULL);
	CHECK_CONTAINS(u != NULL ? u->problem : NULL, "mail_from_upn = yes");
	CHECK_STREQ(u != NULL ? u->dn : NULL, "dave@example.org");
	u = find(&out, "u-henry");
	CHECK_CONTAINS(u != NULL ? u->problem : NULL, "\"henry at example.org\" in Entra ID is not a valid address");
	u = find(&out, "u-nope");
	CHECK_CONTAINS(u != NULL ? u->problem : NULL, "User.Read.All");
	CHECK_STREQ(u != NULL ? u->dn : NULL, "users/u-nope");
	CHECK(find(&out, "u-carol") == NULL);
	user_list_free(&out);
}

static void
test_members_inclusive_policy(void)
{
	struct user_list out = { 0 };
	const struct user *u;
	size_t guests = 0;

	read_pages_as(true, true, &out, &guests);
	CHECK_INTEQ((int)guests, 0);
	CHECK_INTEQ((int)out.n, 7);
	u = find(&out, "u-carol");
	CHECK(u != NULL && u->problem == NULL);
	u = find(&out, "u-dave");
	CHECK(u != NULL && u->problem == NULL);
	CHECK_STREQ(u != NULL ? u->mail : NULL, "dave@example.org");
	/* The UPN never replaces a broken mail, and a guest's #EXT# name is no address. */
	u = find(&out, "u-henry");
	CHECK(u != NULL && u->mail == NULL && u->problem != NULL);
	u = find(&out, "u-ext");
	CHECK(u != NULL && u->mail == NULL && u->problem != NULL);
	user_list_free(&out);
}

static void
test_bad_pages(void)
{
	struct conf_group g;
	struct user_list out = { 0 };
	struct graph_page_reader r;
	const char *next = NULL;
	struct errbuf e;
	json_t *p;

	memset(&g, 0, sizeof(g));
	g.name = "staff";
	dir_graph_reader_init(&r, "entra", &g, &out);
	p = json_loads("{\"error\": {\"code\": \"x\"}}", 0, NULL);
	CHECK(dir_graph_take_page(&r, p, &next, &e) == DIR_FAILED);
	CHECK_CONTAINS(e.text, "no \"value\" list");
	json_decref(p);
	p = json_loads("{\"value\": [], \"@odata.nextLink\": 7}", 0, NULL);
	CHECK(dir_graph_take_page(&r, p, &next, &e) == DIR_FAILED);
	CHECK_CONTAINS(e.text, "@odata.nextLink is not a string");
	json_decref(p);
	dir_graph_reader_free(&r);
	user_list_free(&out);
}

int
main(void)
{
	test_b64url();
	test_retry_wait();
	test_url_escape();
	test_guid();
	test_members_default_policy();
	test_members_other_mails();
	test_members_inclusive_policy();
	test_bad_pages();
	return check_finish();
}
