/* SPDX-License-Identifier: ISC */
/*
 * The directory backend table against conf's table of directory-type
 * traits: every type config_load() accepts has a backend, and the two
 * tables tell the same story. A type conf lets be a publish target has a
 * publisher in its row, one it refuses has none and says why; a type whose
 * groups are Entra groups is read only with its [group] policy; csv and
 * graph sections open without a server (and fail the way they should).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/xalloc.h"
#include "conf/conf.h"
#include "conf/options.h"
#include "directory/backend.h"
#include "directory/dir_internal.h"
#include "directory/directory.h"
#include "directory/ldap.h"
#include "tests/unit/check.h"

static void
test_rows(void)
{
	size_t n = 0;

	for (; conf_dir_type_names[n] != NULL; n++) {
		enum dir_type type = (enum dir_type)n;
		const struct dir_backend *be = dir_backend_of(type);
		const struct conf_dir_traits *t = conf_dir_traits(type);
		bool target = t->not_a_target == NULL;

		CHECK(be != NULL);
		if (be == NULL)
			continue;
		CHECK(be->title != NULL && be->open != NULL && be->close != NULL);
		CHECK(target == (be->apply_certs != NULL));
		CHECK(target == (be->read_certs != NULL));
		CHECK(target == (be->find_person != NULL));
		CHECK(target == (be->cannot_publish == NULL));
		CHECK((t->groups == GROUPS_BY_ENTRA) == (be->group_members == NULL));
		CHECK(be->group_members != NULL || be->read_group != NULL);
		/* I5: every type can say who holds an address. */
		CHECK(be->address_holders != NULL);
		/* Every type that reads an LDAP server gets a default user_filter from conf. */
		CHECK(!t->ldap || t->default_user_filter != NULL);
	}
	CHECK(n == 4);
	CHECK(dir_backend_of((enum dir_type)n) == NULL);
}

/* What the dispatcher says for an operation a type's row leaves out. */
static void
test_empty_slots(void)
{
	struct conf_directory conf;
	struct conf_group g;
	struct dir_conn *dc = NULL;
	struct dir_cert_values v;
	struct dir_value val = { (unsigned char *)"x", 1 };
	struct dir_cert_change change;
	struct user_list out = { 0 };
	struct user u;
	struct errbuf e;
	struct dir_holders h = { 0 };
	char path[] = "/tmp/test_directory_backends.XXXXXX";
	int fd = mkstemp(path);
	FILE *f = NULL;
	char *dn = NULL;

	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
	memset(&conf, 0, sizeof(conf));
	memset(&g, 0, sizeof(g));
	memset(&change, 0, sizeof(change));
	memset(&u, 0, sizeof(u));
	conf.name = "people";
	conf.type = DIR_TYPE_CSV;
	err_clear(&e);
	/* A csv directory without its file is refused before anything is read. */
	CHECK(dir_open(&conf, NULL, &dc, &e) == DIR_BAD_CONFIG);
	CHECK(dc == NULL);
	CHECK_STREQ(e.text, "[directory people]: type = csv needs file = /path/to/people.csv");
	conf.file = "/nonexistent/people.csv";
	CHECK(dir_open(&conf, NULL, &dc, &e) == DIR_OK);
	if (dc == NULL)
		return;
	CHECK(dir_read_certs(dc, "x", &v, &e) == DIR_BAD_CONFIG);
	CHECK_STREQ(e.text, "[directory people]: a CSV file cannot hold certificates; "
	    "publish_to must name an ldap or ad directory");
	CHECK(v.n_user_cert == 0 && v.n_smime == 0);
	/* An empty change is a no-op everywhere; a real one is refused here. */
	CHECK(dir_apply_certs(dc, "x", &change, &e) == DIR_OK);
	change.add_user_cert = &val;
	change.n_add_user_cert = 1;
	CHECK(dir_apply_certs(dc, "x", &change, &e) == DIR_BAD_CONFIG);
	CHECK(dir_find_person(dc, &u, &dn, &e) == DIR_BAD_CONFIG);
	CHECK(dn == NULL);
	/* The file is missing: the whole read fails, nothing is returned. */
	g.name = "all";
	CHECK(dir_read_group(dc, &g, &out, &e) == DIR_BAD_CONFIG);
	CHECK(out.n == 0);
	user_list_free(&out);
	CHECK(dir_address_holders(dc, "a@example.org", &h, &e) == DIR_BAD_CONFIG);
	CHECK(h.n == 0);
	dir_close(dc);

	/* Who holds an address: the file is the whole directory, compared without case. */
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (f == NULL)
		return;
	fputs("name,mail,alt_mails\nAnn,ann@example.org,shared@example.org a2@example.org\n"
	    "Ben,ben@example.org,\nCid,Shared@Example.org,\n", f);
	fclose(f);
	conf.file = path;
	CHECK(dir_open(&conf, NULL, &dc, &e) == DIR_OK);
	if (dc == NULL)
		return;
	CHECK(dir_address_holders(dc, "SHARED@example.org", &h, &e) == DIR_OK);
	CHECK(h.n == 2);
	if (h.n == 2) {
		CHECK_STREQ(h.v[0].id, "csv:ann@example.org");
		CHECK_STREQ(h.v[1].id, "csv:shared@example.org");
		CHECK(strstr(h.v[1].dn, ":4") != NULL);
	}
	dir_holders_free(&h);
	CHECK(dir_address_holders(dc, "nobody@example.org", &h, &e) == DIR_OK);
	CHECK(h.n == 0);
	dir_close(dc);
	unlink(path);
}

/*
 * Change streams: a type has a stream in its row exactly when conf says it
 * has one; the kind follows incremental and ad_changes; a type without one,
 * or incremental = no, opens no watch and says why.
 */
static void
test_streams(void)
{
	static const enum dir_stream_kind kinds[] = {
		[DIR_TYPE_LDAP] = DIR_STREAM_SYNCREPL,
		[DIR_TYPE_AD] = DIR_STREAM_AD_USN,
		[DIR_TYPE_CSV] = DIR_STREAM_NONE,
		[DIR_TYPE_GRAPH] = DIR_STREAM_GRAPH_DELTA,
	};
	struct conf_directory conf;
	struct dir_watch *w = NULL;
	struct errbuf e;

	for (size_t n = 0; conf_dir_type_names[n] != NULL; n++) {
		enum dir_type type = (enum dir_type)n;
		const struct dir_backend *be = dir_backend_of(type);

		conf_directory_defaults(&conf, type);
		conf.name = "t";
		CHECK((be->watch != NULL) == (conf_dir_traits(type)->stream != NULL));
		CHECK(be->watch == NULL || (be->watch->kind != NULL && be->watch->open != NULL &&
		    be->watch->poll != NULL && be->watch->close != NULL));
		CHECK_INTEQ(dir_stream_kind_of(&conf), kinds[type]);
		CHECK((conf_directory_stream(&conf) != NULL) == (kinds[type] != DIR_STREAM_NONE));
		conf.incremental = INCREMENTAL_NO;
		CHECK_INTEQ(dir_stream_kind_of(&conf), DIR_STREAM_NONE);
		CHECK(conf_directory_stream(&conf) == NULL);
		err_clear(&e);
		CHECK(dir_watch_open(&conf, NULL, NULL, 0, NULL, 0, &w, &e) == DIR_UNSUPPORTED);
		CHECK(w == NULL);
		CHECK_CONTAINS(e.text, "[directory t]");
		conf.name = NULL;
		conf_directory_clear(&conf);
	}
	conf_directory_defaults(&conf, DIR_TYPE_AD);
	conf.ad_changes = AD_CHANGES_DIRSYNC;
	CHECK_INTEQ(dir_stream_kind_of(&conf), DIR_STREAM_AD_DIRSYNC);
	conf_directory_clear(&conf);
	conf_directory_defaults(&conf, DIR_TYPE_CSV);
	conf.name = "people";
	err_clear(&e);
	CHECK(dir_watch_open(&conf, NULL, NULL, 0, NULL, 0, &w, &e) == DIR_UNSUPPORTED);
	CHECK_STREQ(e.text, "[directory people]: a CSV directory has no change stream: every "
	    "group is read whole");
	conf.name = NULL;
	conf_directory_clear(&conf);
	CHECK_STREQ(dir_stream_kind_name(DIR_STREAM_AD_DIRSYNC), "ad-dirsync");
	CHECK_STREQ(dir_full_reason_name(DIR_FULL_LINK_EXPIRED), "link-expired");
	CHECK_STREQ(dir_full_reason_name((enum dir_full_reason)99), "?");
	CHECK_STREQ(dir_status_name(DIR_UNSUPPORTED), "unsupported");
}

/* Which binds put a password on the wire in clear text, and so are warned about. */
static void
test_cleartext_bind(void)
{
	static const struct {
		const char *uri;
		enum tls_mode starttls;
		const char *bind_dn, *mech, *want; /* want NULL: no warning */
	} cases[] = {
		{ "ldap://dc1", TLS_MODE_OFF, "cn=svc", NULL, "simple bind" },
		{ "ldap://dc1", TLS_MODE_OFF, "cn=svc", "PLAIN", "SASL PLAIN bind" },
		{ "ldap://dc1", TLS_MODE_OFF, "svc", "plain", "SASL PLAIN bind" },
		{ "LDAP://dc1", TLS_MODE_OFF, "svc", "LOGIN", "SASL LOGIN bind" },
		{ "ldap://dc1", TLS_MODE_OFF, NULL, "PLAIN", "SASL PLAIN bind" },
		{ "ldap://dc1", TLS_MODE_REQUIRED, "svc", "PLAIN", NULL },
		{ "ldap://dc1", TLS_MODE_REQUIRED, "cn=svc", NULL, NULL },
		{ "ldaps://dc1", TLS_MODE_OFF, "svc", "PLAIN", NULL },
		{ "ldapi:///", TLS_MODE_OFF, "svc", "PLAIN", NULL },
		{ "ldap://dc1", TLS_MODE_OFF, "svc", "GSSAPI", NULL },
		{ "ldap://dc1", TLS_MODE_OFF, "svc", "SCRAM-SHA-256", NULL },
		{ "ldap://dc1", TLS_MODE_OFF, NULL, "EXTERNAL", NULL },
		{ "ldap://dc1", TLS_MODE_OFF, NULL, NULL, NULL },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct conf_directory c;
		const char *what = "unset";
		bool yes;

		memset(&c, 0, sizeof(c));
		c.uri = (char *)cases[i].uri;
		c.starttls = cases[i].starttls;
		c.bind_dn = (char *)cases[i].bind_dn;
		c.sasl_mech = (char *)cases[i].mech;
		yes = dir_ldap_cleartext_bind(&c, &what);
		if (cases[i].want == NULL) {
			CHECK(!yes);
		} else {
			CHECK(yes);
			CHECK_STREQ(what, cases[i].want);
		}
	}
}

/* Alternative addresses: duplicates folded, at most 32 kept and 4 KiB, the rest counted. */
static void
test_alt_mail_bound(void)
{
	struct user u;
	char m[300];

	memset(&u, 0, sizeof(u));
	u.dn = xstrdup("uid=hoarder,ou=people,dc=example,dc=org");
	u.mail = xstrdup("hoarder@example.org");
	dir_add_alt_mail(&u, "HOARDER@example.org", 19);
	dir_add_alt_mail(&u, "h1@example.org", 14);
	dir_add_alt_mail(&u, "H1@EXAMPLE.ORG", 14);
	CHECK_INTEQ(u.n_alt_mails, 1);
	for (int i = 0; i < 100; i++) {
		snprintf(m, sizeof(m), "x%d@example.org", i);
		dir_add_alt_mail(&u, m, strlen(m));
	}
	CHECK_INTEQ(u.n_alt_mails, DIR_MAX_ALT_MAILS);
	CHECK_INTEQ(u.n_alt_over, 101 - DIR_MAX_ALT_MAILS);
	CHECK(u.problem == NULL);
	dir_check_alt_mails(&u, "proxyAddresses");
	CHECK_STREQ(u.problem, "101 alternative addresses in proxyAddresses, more than a "
	    "certificate may name (32, or 4096 bytes in all); remove the unused ones");
	user_free_fields(&u);

	/* Within the count, over the size: 20 addresses of 250 bytes. */
	memset(&u, 0, sizeof(u));
	u.mail = xstrdup("wide@example.org");
	for (int i = 0; i < 20; i++) {
		int n = snprintf(m, sizeof(m), "w%02d@", i);

		for (int label = 0; label < 4; label++) {
			memset(m + n, 'a' + label, 60);
			n += 60;
			m[n++] = '.';
		}
		n += snprintf(m + n, sizeof(m) - (size_t)n, "org");
		dir_add_alt_mail(&u, m, (size_t)n);
	}
	CHECK_INTEQ(u.n_alt_mails, 16);
	CHECK_INTEQ(u.n_alt_over, 4);
	dir_check_alt_mails(&u, "mail");
	CHECK_CONTAINS(u.problem, "20 alternative addresses in mail");
	user_free_fields(&u);

	/* Exactly at the limit: no problem. */
	memset(&u, 0, sizeof(u));
	for (int i = 0; i < DIR_MAX_ALT_MAILS; i++) {
		snprintf(m, sizeof(m), "y%d@example.org", i);
		dir_add_alt_mail(&u, m, strlen(m));
	}
	dir_check_alt_mails(&u, "mail");
	CHECK(u.problem == NULL && u.n_alt_mails == DIR_MAX_ALT_MAILS);
	user_free_fields(&u);
}

int
main(void)
{
	test_rows();
	test_empty_slots();
	test_streams();
	test_cleartext_bind();
	test_alt_mail_bound();
	return check_finish();
}
