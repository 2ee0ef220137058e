/* SPDX-License-Identifier: ISC */
/*
 * conf/: the documented example parses to the right model with the right
 * defaults; every kind of error produces its message, in file order;
 * config_dump() output loads again to the same values; config_check_files()
 * catches loose secret modes and missing CA files.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "common/xalloc.h"
#include "conf/conf.h"
#include "common/log.h"

#define DAY 86400

static char tmpdir[] = "/tmp/test_conf.XXXXXX";

/* The example of the brief, verbatim. */
static const char example[] =
    "# comment\n"
    "; comment\n"
    "[service]\n"
    "state_dir = /var/lib/smimesync\n"
    "master_key_file = /etc/smimesync/master.key\n"
    "log_level = info\n"
    "\n"
    "[directory corp]\n"
    "type = ldap\n"
    "uri = ldap://ldap.example.org        # ldaps:// and ldapi:// too\n"
    "starttls = required                  # required | off\n"
    "bind_dn = cn=smimesync,ou=services,dc=example,dc=org\n"
    "bind_password_file = /etc/smimesync/ldap.secret\n"
    "base_dn = dc=example,dc=org\n"
    "tls_ca_file = /etc/ssl/certs/example-ca.pem\n"
    "\n"
    "[ca internal]\n"
    "type = local\n"
    "cert_file = /var/lib/smimesync/ca/issuing.pem\n"
    "key_file = /var/lib/smimesync/ca/issuing.key\n"
    "chain_file = /var/lib/smimesync/ca/chain.pem\n"
    "crl_url = http://pki.example.org/smime.crl\n"
    "aia_url = http://pki.example.org/issuing.crt\n"
    "\n"
    "[mail]\n"
    "smtp_host = smtp.example.org\n"
    "smtp_port = 587\n"
    "starttls = required                  # required | off\n"
    "smtp_user = smimesync                # optional\n"
    "smtp_password_file = /etc/smimesync/smtp.secret\n"
    "tls_ca_file = /etc/ssl/certs/example-ca.pem\n"
    "from = Example PKI <pki@example.org>\n"
    "\n"
    "[group smime-sales]\n"
    "directory = corp\n"
    "group_dn = cn=smime-sales,ou=groups,dc=example,dc=org\n"
    "ca = internal\n"
    "key_type = rsa2048                   # rsa2048 rsa3072 rsa4096 p256 p384\n"
    "validity = 365d\n"
    "renew_before = 15d\n"
    "pkcs12 = modern                      # modern | compat\n";

/* Smallest valid file that has a group, for error tests to build on. */
#define MIN_DIR "[directory d]\nuri = ldap://h\nbase_dn = dc=x\n"
#define MIN_CA "[ca c]\ncert_file = c.pem\nkey_file = c.key\nchain_file = ch.pem\n" \
	"crl_url = http://x/c.crl\n"
#define MIN_MAIL "[mail]\nsmtp_host = h\nfrom = a@b.c\n"

static char *
write_file(const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");

	if (f == NULL) {
		perror(path);
		exit(99);
	}
	fputs(text, f);
	fclose(f);
	return path;
}

/* Loads text; returns the errors joined by '\n' (new), "" when it loaded. */
static char *
load_errors(const char *text, struct config **cfg_out)
{
	char *path = write_file("t.conf", text);
	struct conf_errors errs = {0};
	struct config *cfg = NULL;
	char *joined = xstrdup("");
	int rc;

	rc = config_load(path, &cfg, &errs);
	CHECK((rc == 0) == (errs.n == 0));
	CHECK((rc == 0) == (cfg != NULL));
	for (size_t i = 0; i < errs.n; i++) {
		/* Strip the temp dir so expectations read "t.conf:LINE: ...". */
		const char *m = errs.msgs[i];
		char *next;

		if (strncmp(m, tmpdir, strlen(tmpdir)) == 0)
			m += strlen(tmpdir) + 1;
		next = xasprintf("%s%s%s", joined, i > 0 ? "\n" : "", m);
		free(joined);
		joined = next;
	}
	conf_errors_free(&errs);
	if (cfg_out != NULL)
		*cfg_out = cfg;
	else
		config_free(cfg);
	free(path);
	return joined;
}

static void
expect_error(const char *text, const char *want)
{
	char *got = load_errors(text, NULL);

	CHECK_STREQ(got, want);
	free(got);
}

static void
test_example(void)
{
	struct config *cfg = NULL;
	char *errs = load_errors(example, &cfg);
	const struct conf_directory *d;
	const struct conf_ca *ca;
	const struct conf_group *g;

	CHECK_STREQ(errs, "");
	free(errs);
	if (cfg == NULL)
		return;
	CHECK_STREQ(cfg->service.state_dir, "/var/lib/smimesync");
	CHECK_STREQ(cfg->service.master_key_file, "/etc/smimesync/master.key");
	CHECK_INTEQ(cfg->service.log_level, LOGL_INFO);
	CHECK(!cfg->service.log_syslog);

	CHECK_INTEQ(cfg->n_directories, 1);
	d = config_find_directory(cfg, "corp");
	CHECK(d != NULL && d == &cfg->directories[0]);
	CHECK_STREQ(d->name, "corp");
	CHECK_INTEQ(d->origin.line, 8);
	CHECK_INTEQ(d->type, DIR_TYPE_LDAP);
	CHECK_STREQ(d->uri, "ldap://ldap.example.org");
	CHECK_INTEQ(d->starttls, TLS_MODE_REQUIRED);
	CHECK_STREQ(d->bind_dn, "cn=smimesync,ou=services,dc=example,dc=org");
	CHECK_STREQ(d->bind_password_file, "/etc/smimesync/ldap.secret");
	CHECK(d->sasl_mech == NULL);
	CHECK_STREQ(d->base_dn, "dc=example,dc=org");
	CHECK_STREQ(d->tls_ca_file, "/etc/ssl/certs/example-ca.pem");
	CHECK(d->tls_verify);
	CHECK_INTEQ(d->page_size, 500);
	CHECK_INTEQ(d->timeout, 30);
	CHECK_STREQ(d->user_filter, "(objectClass=inetOrgPerson)");
	CHECK_STREQ(d->mail_attribute, "mail");

	CHECK_INTEQ(cfg->n_cas, 1);
	ca = config_find_ca(cfg, "internal");
	CHECK(ca != NULL && ca == &cfg->cas[0]);
	CHECK(config_find_ca(cfg, "corp") == NULL);
	CHECK_INTEQ(ca->type, CA_TYPE_LOCAL);
	CHECK_STREQ(ca->cert_file, "/var/lib/smimesync/ca/issuing.pem");
	CHECK_STREQ(ca->key_file, "/var/lib/smimesync/ca/issuing.key");
	CHECK_STREQ(ca->chain_file, "/var/lib/smimesync/ca/chain.pem");
	CHECK_STREQ(ca->crl_url, "http://pki.example.org/smime.crl");
	CHECK_STREQ(ca->aia_url, "http://pki.example.org/issuing.crt");
	CHECK_INTEQ(ca->init_key_type, KEY_TYPE_P384);
	CHECK_STREQ(ca->organization, "smimesync");
	CHECK_STREQ(ca->root_common_name, "smimesync S/MIME Root CA");
	CHECK_STREQ(ca->issuing_common_name, "smimesync S/MIME Issuing CA");
	CHECK(ca->country == NULL);
	CHECK_INTEQ(ca->root_validity, 7300 * DAY);
	CHECK_INTEQ(ca->issuing_validity, 3650 * DAY);

	CHECK(cfg->has_mail);
	CHECK_STREQ(cfg->mail.smtp_host, "smtp.example.org");
	CHECK_INTEQ(cfg->mail.smtp_port, 587);
	CHECK_INTEQ(cfg->mail.starttls, TLS_MODE_REQUIRED);
	CHECK_STREQ(cfg->mail.smtp_user, "smimesync");
	CHECK_STREQ(cfg->mail.smtp_password_file, "/etc/smimesync/smtp.secret");
	CHECK_STREQ(cfg->mail.tls_ca_file, "/etc/ssl/certs/example-ca.pem");
	CHECK(cfg->mail.tls_verify);
	CHECK_STREQ(cfg->mail.from, "Example PKI <pki@example.org>");
	CHECK(cfg->mail.template_dir == NULL);
	CHECK_STREQ(cfg->mail.language, "en");
	CHECK_INTEQ(cfg->mail.timeout, 60);
	CHECK_INTEQ(cfg->mail.max_attempts, 10);
	CHECK(cfg->mail.helo_name == NULL);

	CHECK_INTEQ(cfg->n_groups, 1);
	g = &cfg->groups[0];
	CHECK_STREQ(g->name, "smime-sales");
	CHECK_INTEQ(g->origin.line, 34);
	CHECK(g->origin.file == cfg->path);
	CHECK_STREQ(g->directory_name, "corp");
	CHECK(g->directory == &cfg->directories[0]);
	CHECK_STREQ(g->group_dn, "cn=smime-sales,ou=groups,dc=example,dc=org");
	CHECK_STREQ(g->ca_name, "internal");
	CHECK(g->ca == &cfg->cas[0]);
	CHECK(g->enabled);
	CHECK_INTEQ(g->key_type, KEY_TYPE_RSA2048);
	CHECK_INTEQ(g->validity, 365 * DAY);
	CHECK_INTEQ(g->renew_before, 15 * DAY);
	CHECK_INTEQ(g->pkcs12, PKCS12_MODERN);
	CHECK_INTEQ(g->pkcs12_iterations, 10000);
	CHECK_INTEQ(g->n_reminder_thresholds, 3); /* the default, 30d, 7d, 1d */
	CHECK_INTEQ(g->reminder_thresholds[0], 30 * DAY);
	config_free(cfg);
}

static void
test_defaults_and_paths(void)
{
	struct config *cfg = NULL;
	char *errs = NULL;
	char *want = NULL;

	unsetenv("SMIMESYNC_STATE_DIR");
	errs = load_errors(MIN_DIR "bind_dn = cn=a\nbind_password_file = secret/ldap\n", &cfg);
	CHECK_STREQ(errs, "");
	free(errs);
	if (cfg != NULL) {
		CHECK_STREQ(cfg->service.state_dir, SMIMESYNC_STATEDIR);
		CHECK_STREQ(cfg->service.master_key_file, SMIMESYNC_STATEDIR "/master.key");
		CHECK_INTEQ(cfg->service.log_level, LOGL_INFO);
		CHECK(!cfg->has_mail);
		CHECK_INTEQ(cfg->n_groups, 0);
		/* Relative paths are relative to the config file's directory. */
		want = xasprintf("%s/secret/ldap", tmpdir);
		CHECK_STREQ(cfg->directories[0].bind_password_file, want);
		free(want);
	}
	config_free(cfg);

	setenv("SMIMESYNC_STATE_DIR", "/srv/state", 1);
	errs = load_errors("[service]\nlog = syslog\nlog_level = debug\n", &cfg);
	CHECK_STREQ(errs, "");
	free(errs);
	if (cfg != NULL) {
		CHECK_STREQ(cfg->service.state_dir, "/srv/state");
		CHECK_STREQ(cfg->service.master_key_file, "/srv/state/master.key");
		CHECK(cfg->service.log_syslog);
		CHECK_INTEQ(cfg->service.log_level, LOGL_DEBUG);
	}
	config_free(cfg);
	/* A state_dir in the file wins over the environment. */
	errs = load_errors("[service]\nstate_dir=/a\n", &cfg);
	CHECK_STREQ(errs, "");
	free(errs);
	if (cfg != NULL)
		CHECK_STREQ(cfg->service.state_dir, "/a");
	config_free(cfg);
	unsetenv("SMIMESYNC_STATE_DIR");

	/* Values may contain '=' and '#'/';' not preceded by whitespace; no space around '='. */
	errs = load_errors(MIN_DIR MIN_CA MIN_MAIL "[ca e]\ncert_file=a\nkey_file=b\nchain_file=c\n"
	    "crl_url=http://x/a#b;c\norganization = ACME Corp\ncountry = DE\n"
	    "[group g]\ndirectory=d\nca=e\ngroup_dn=cn=g=x,dc=y\nuser=1\n", &cfg);
	CHECK_STREQ(errs, "t.conf:23: [group g] user: unknown key; see smimesync.conf(5) for the "
	    "keys of [group]");
	free(errs);
	errs = load_errors(MIN_DIR MIN_CA MIN_MAIL "[ca e]\ncert_file=a\nkey_file=b\nchain_file=c\n"
	    "crl_url=http://x/a#b;c\norganization = ACME Corp\ncountry = DE\n"
	    "[group g]\ndirectory=d\nca=e\ngroup_dn=cn=g\\=x,dc=y\nsync = off\n"
	    "validity = 2w\nrenew_before = 12h\nkey_type = p256\npkcs12 = compat\n", &cfg);
	CHECK_STREQ(errs, "");
	free(errs);
	if (cfg != NULL) {
		CHECK_STREQ(cfg->cas[1].crl_url, "http://x/a#b;c");
		CHECK_STREQ(cfg->cas[1].root_common_name, "ACME Corp S/MIME Root CA");
		CHECK_STREQ(cfg->cas[1].country, "DE");
		CHECK(cfg->groups[0].ca == &cfg->cas[1]);
		CHECK(!cfg->groups[0].enabled);
		CHECK_INTEQ(cfg->groups[0].validity, 14 * DAY);
		CHECK_INTEQ(cfg->groups[0].renew_before, 12 * 3600);
		CHECK_STREQ(key_type_name(cfg->groups[0].key_type), "p256");
		CHECK_STREQ(pkcs12_profile_name(cfg->groups[0].pkcs12), "compat");
	}
	config_free(cfg);
}

/* The reminder list is parsed once, at load: largest first, "none" is empty. */
static void
test_reminders_parsed(void)
{
	struct config *cfg = NULL;
	char *errs = NULL;

	errs = load_errors(MIN_DIR MIN_CA MIN_MAIL "[group g]\ndirectory = d\nca = c\n"
	    "group_dn = cn=g\nreminders = 1d, 2w, 12h\n", &cfg);
	CHECK_STREQ(errs, "");
	free(errs);
	if (cfg != NULL) {
		const struct conf_group *g = &cfg->groups[0];

		CHECK_STREQ(g->reminders, "1d, 2w, 12h"); /* as written, for check-config -v */
		CHECK_INTEQ(g->n_reminder_thresholds, 3);
		CHECK_INTEQ(g->reminder_thresholds[0], 14 * DAY);
		CHECK_INTEQ(g->reminder_thresholds[1], DAY);
		CHECK_INTEQ(g->reminder_thresholds[2], 12 * 3600);
	}
	config_free(cfg);
	errs = load_errors(MIN_DIR MIN_CA MIN_MAIL "[group g]\ndirectory = d\nca = c\n"
	    "group_dn = cn=g\nreminders = none\n", &cfg);
	CHECK_STREQ(errs, "");
	free(errs);
	if (cfg != NULL)
		CHECK_INTEQ(cfg->groups[0].n_reminder_thresholds, 0);
	config_free(cfg);
}

static void
test_errors(void)
{
	struct conf_errors errs = {0};
	struct config *cfg = NULL;

	CHECK(config_load("/nonexistent/smimesync.conf", &cfg, &errs) == -1);
	CHECK(cfg == NULL);
	CHECK_INTEQ(errs.n, 1);
	if (errs.n == 1)
		CHECK_STREQ(errs.msgs[0], "/nonexistent/smimesync.conf: cannot open: "
		    "No such file or directory");
	conf_errors_free(&errs);

	expect_error("[service\n", "t.conf:1: syntax error: section header is missing \"]\"");
	expect_error("[service]\nlog_level info\n", "t.conf:2: syntax error: expected "
	    "\"key = value\", a [section] header or a comment");
	expect_error("[servise]\n", "t.conf:1: unknown section [servise]; did you mean [service]?");
	expect_error("[printer x]\n", "t.conf:1: unknown section [printer]; expected [service], "
	    "[mail], [directory NAME], [ca NAME] or [group NAME]");
	expect_error("state_dir = /x\n", "t.conf:1: state_dir: key outside any section; put it "
	    "under a header such as [service]");
	expect_error(MIN_DIR "basedn = dc=y\n", "t.conf:4: [directory d] basedn: unknown key; did you "
	    "mean \"base_dn\"?");
	expect_error(MIN_DIR "uri = ldap://b\n", "t.conf:4: [directory d] uri: duplicate key "
	    "(first set on line 2); keep only one");
	expect_error(MIN_DIR MIN_DIR, "t.conf:4: duplicate section [directory d] (first on line "
	    "1); rename or remove one");
	expect_error(MIN_DIR MIN_CA MIN_MAIL "[group sales]\ndirectory = d\nca = c\n"
	    "group_dn = cn=s\nkey_type = rsa1024\n", "t.conf:16: [group sales] key_type: unknown "
	    "value \"rsa1024\"; expected one of rsa2048, rsa3072, rsa4096, p256, p384");
	expect_error(MIN_DIR MIN_CA MIN_MAIL "[group sales]\ndirectory = d\nca = c\n"
	    "group_dn = cn=s\nvalidity = 900d\n", "t.conf:16: [group sales] validity: 900d "
	    "exceeds the 825 days the S/MIME Baseline Requirements allow; use 825d or less");
	expect_error(MIN_DIR MIN_CA MIN_MAIL "[group sales]\ndirectory = d\nca = c\n"
	    "group_dn = cn=s\nvalidity = 1 year\n", "t.conf:16: [group sales] validity: \"1 year\" "
	    "is not a duration; write a number followed by s, m, h, d or w, e.g. 30s or 365d");
	expect_error(MIN_DIR MIN_CA MIN_MAIL "[group sales]\ndirectory = d\nca = c\n"
	    "group_dn = cn=s\nvalidity = 30d\nrenew_before = 30d\n", "t.conf:17: [group sales] "
	    "renew_before: 30d is not shorter than validity (30d); certificates would be renewed "
	    "as soon as they are issued: lower renew_before");
	expect_error(MIN_DIR MIN_CA MIN_MAIL "[group sales]\ndirectory = e\nca = c\n",
	    "t.conf:12: [group sales]: which group? add group_dn = DN of the group (or, for an "
	    "Active Directory, group = its sAMAccountName)\n"
	    "t.conf:13: [group sales] directory: there is no [directory e] section; defined: d");
	expect_error(MIN_DIR MIN_CA "[group s]\ndirectory = d\nca = c\ngroup_dn = cn=s\n",
	    "t.conf:9: [group s]: group members get their certificates by mail, but there is no "
	    "[mail] section; add [mail] with smtp_host and from");
	expect_error(MIN_DIR "bind_dn = cn=x\n", "t.conf:4: [directory d] bind_dn: a simple bind "
	    "needs a password; add bind_password_file = /path/to/file (mode 0600)");
	expect_error("[mail]\nsmtp_host = h\nfrom = a@b.c\nsmtp_user = u\n", "t.conf:4: [mail] "
	    "smtp_user: SMTP AUTH needs a password; add smtp_password_file = /path/to/file "
	    "(mode 0600)");
	expect_error("[ca c]\ncert_file = c.pem\nkey_file = c.key\nchain_file = ch.pem\n"
	    "crl_url = https://x/c.crl\n", "t.conf:5: [ca c] crl_url: \"https://x/c.crl\" is not "
	    "an http:// URL; the S/MIME Baseline Requirements require CRL and CA certificate URLs "
	    "over plain http://");
	expect_error("[directory d]\nuri = http://h\nbase_dn = dc=x\n", "t.conf:2: [directory d] "
	    "uri: \"http://h\" is not an LDAP URI; use ldap://, ldaps:// or ldapi://");
	expect_error(MIN_DIR "page_size = 5000\n", "t.conf:4: [directory d] page_size: 5000 is "
	    "more than the maximum of 1000; use 1 to 1000");
	expect_error(MIN_DIR "tls_verify = maybe\n", "t.conf:4: [directory d] tls_verify: unknown "
	    "value \"maybe\"; expected one of yes, no, true, false, on, off");

	/* The 3-error file: exactly three messages, in file order. */
	expect_error("[service]\nlog_level = loud\n" MIN_DIR "page_size = 0\n"
	    "[ca c]\ncert_file = c.pem\nkey_file = c.key\nchain_file = ch.pem\n",
	    "t.conf:2: [service] log_level: unknown value \"loud\"; expected one of error, warn, "
	    "info, debug\n"
	    "t.conf:6: [directory d] page_size: 0 is less than the minimum of 1; use 1 to 1000\n"
	    "t.conf:7: [ca c]: missing required key \"crl_url\": type = local needs the CRL "
	    "location put in every certificate");
}

static char *
dump_to_string(const struct config *cfg)
{
	char *data = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&data, &len);

	config_dump(cfg, f);
	fclose(f);
	return data;
}

/* A dump (check-config -v) loads without a message and dumps to itself. */
static void
check_dump_reloads(const char *d1)
{
	struct config *again = NULL;
	char *errs = load_errors(d1, &again);
	char *d2 = NULL;

	CHECK_STREQ(errs, "");
	free(errs);
	if (again != NULL) {
		d2 = dump_to_string(again);
		CHECK_STREQ(d2, d1);
	}
	free(d2);
	config_free(again);
}

static void
test_dump_roundtrip(void)
{
	struct config *cfg = NULL;
	char *errs = load_errors(example, &cfg);
	char *d1 = NULL;

	free(errs);
	if (cfg == NULL) {
		CHECK(cfg != NULL);
		return;
	}
	d1 = dump_to_string(cfg);
	CHECK_CONTAINS(d1, "[service]\nstate_dir = /var/lib/smimesync\n");
	CHECK_CONTAINS(d1, "\n[group smime-sales]\ndirectory = corp\n");
	CHECK_CONTAINS(d1, "validity = 365d\n");
	CHECK_CONTAINS(d1, "timeout = 30s\n");
	CHECK_CONTAINS(d1, "# sasl_mech is not set\n");
	CHECK_CONTAINS(d1, "bind_password_file = /etc/smimesync/ldap.secret\n");
	CHECK_CONTAINS(d1, "key_type = p384\n");
	check_dump_reloads(d1);
	free(d1);
	config_free(cfg);
}

/* type = ad: its own user_filter default, a UPN bind, group = NAME round-trips. */
static void
test_ad(void)
{
	struct config *cfg = NULL;
	char *errs = load_errors("[directory ad]\ntype = ad\nuri = ldaps://dc\n"
	    "base_dn = DC=example,DC=org\nbind_dn = svc@example.org\n"
	    "bind_password_file = ad.secret\n"
	    "[directory gss]\ntype = ad\nuri = ldap://dc\nstarttls = off\n"
	    "base_dn = DC=example,DC=org\nsasl_mech = GSSAPI\nkeytab_file = svc.keytab\n"
	    "principal = svc@EXAMPLE.ORG\n" MIN_DIR MIN_CA MIN_MAIL
	    "[group sales]\ndirectory = ad\nca = c\ngroup = smime-sales\n", &cfg);
	char *d1 = NULL;

	CHECK_STREQ(errs, "");
	free(errs);
	if (cfg == NULL)
		return;
	CHECK_INTEQ(cfg->directories[0].type, DIR_TYPE_AD);
	CHECK_STREQ(cfg->directories[0].user_filter,
	    "(&(objectCategory=person)(objectClass=user))");
	CHECK_STREQ(cfg->directories[2].user_filter, "(objectClass=inetOrgPerson)");
	CHECK_STREQ(cfg->directories[0].bind_dn, "svc@example.org");
	CHECK_STREQ(cfg->directories[1].principal, "svc@EXAMPLE.ORG");
	CHECK_STREQ(cfg->groups[0].group_name, "smime-sales");
	CHECK_STREQ(cfg->groups[0].group_dn, "smime-sales");
	d1 = dump_to_string(cfg);
	CHECK_CONTAINS(d1, "\ngroup = smime-sales\n");
	CHECK(strstr(d1, "group_dn =") == NULL);
	check_dump_reloads(d1);
	free(d1);
	config_free(cfg);
}

static void
test_check_files(void)
{
	struct conf_errors errs = {0};
	struct config *cfg = NULL;
	char *text = xasprintf("[service]\nstate_dir = %s/state\n"
	    "[ca c]\ncert_file = c.pem\nkey_file = c.key\nchain_file = c.pem\n"
	    "crl_url = http://x/c.crl\n", tmpdir);
	char *errstr = load_errors(text, &cfg);
	char *key = NULL;
	size_t n;

	CHECK_STREQ(errstr, "");
	free(errstr);
	free(text);
	if (cfg == NULL)
		return;
	free(write_file("c.pem", "not checked here\n"));
	key = write_file("master.key", "00\n");
	chmod(key, 0644);
	free(cfg->service.master_key_file);
	cfg->service.master_key_file = key;
	n = config_check_files(cfg, &errs);
	CHECK_INTEQ(n, 2);
	CHECK_INTEQ(errs.n, 2);
	if (errs.n == 2) {
		CHECK_CONTAINS(errs.msgs[0], ":1: [service] master_key_file: ");
		CHECK_CONTAINS(errs.msgs[0], "run: chmod 600");
		CHECK_CONTAINS(errs.msgs[1], ":5: [ca c] key_file: ");
		CHECK_CONTAINS(errs.msgs[1], "c.key does not exist; run: smimesync ca init --ca c");
	}
	conf_errors_free(&errs);
	chmod(key, 0600);
	CHECK_INTEQ(config_check_files(cfg, &errs), 1);
	conf_errors_free(&errs);
	config_free(cfg);
}

static void
test_check_files_mail(void)
{
	struct conf_errors errs = {0};
	struct config *cfg = NULL;
	char *text = xasprintf("[service]\nstate_dir = %s\nmaster_key_file = master.key\n"
	    MIN_DIR "tls_ca_file = missing-ca.pem\n"
	    "[mail]\nsmtp_host = h\nfrom = a@b.c\ntemplate_dir = c.pem\n", tmpdir);
	char *errstr = load_errors(text, &cfg);

	CHECK_STREQ(errstr, "");
	free(errstr);
	free(text);
	if (cfg == NULL)
		return;
	CHECK_INTEQ(config_check_files(cfg, &errs), 2);
	if (errs.n == 2) {
		CHECK_CONTAINS(errs.msgs[0], ":7: [directory d] tls_ca_file: ");
		CHECK_CONTAINS(errs.msgs[0], "missing-ca.pem: No such file or directory");
		CHECK_CONTAINS(errs.msgs[1], ":11: [mail] template_dir: ");
		CHECK_CONTAINS(errs.msgs[1], "c.pem is not a directory");
	}
	conf_errors_free(&errs);
	config_free(cfg);
}

static void
test_default_path(void)
{
	unsetenv("SMIMESYNC_CONF");
	CHECK_STREQ(config_default_path(), SMIMESYNC_SYSCONFDIR "/smimesync.conf");
	setenv("SMIMESYNC_CONF", "/tmp/x.conf", 1);
	CHECK_STREQ(config_default_path(), "/tmp/x.conf");
	unsetenv("SMIMESYNC_CONF");
	CHECK_STREQ(key_type_name(KEY_TYPE_RSA4096), "rsa4096");
	CHECK_STREQ(pkcs12_profile_name(PKCS12_MODERN), "modern");
}

/* The lines of one section of a dump (new), up to the next section. */
static char *
section_text(const char *dump, const char *label)
{
	const char *start = strstr(dump, label), *end;

	if (start == NULL)
		return xstrdup("");
	end = strstr(start + 1, "\n[");
	return xstrndup(start, end != NULL ? (size_t)(end - start) : strlen(start));
}

/*
 * External CAs: each type's keys load, the defaults of the keys it reads
 * apply, check-config -v prints only those, and the dump reads back.
 */
static void
test_external_ca(void)
{
	struct config *cfg = NULL;
	char *errs = load_errors(MIN_DIR MIN_CA MIN_MAIL
	    "[ca scm]\ntype = sectigo\nurl = https://cert-manager.com/\ntrust_anchor_file = r.pem\n"
	    "customer_uri = example\nlogin = api\npassword_file = scm.secret\norg_id = 4242\n"
	    "cert_type = 1938\n"
	    "[ca ipa]\ntype = helper\ncommand = /usr/libexec/certmonger/ipa-submit\n"
	    "trust_anchor_file = /etc/ipa/ca.crt\nretry_interval = 0s\n"
	    "[group g]\ndirectory = d\nca = scm\ngroup_dn = cn=g\n", &cfg);
	const struct conf_ca *scm, *ipa;
	char *d1 = NULL;

	CHECK_STREQ(errs, "");
	free(errs);
	if (cfg == NULL)
		return;
	scm = config_find_ca(cfg, "scm");
	ipa = config_find_ca(cfg, "ipa");
	CHECK(scm != NULL && ipa != NULL);
	if (scm == NULL || ipa == NULL)
		goto out;
	CHECK_INTEQ(scm->type, CA_TYPE_SECTIGO);
	CHECK_INTEQ(scm->org_id, 4242);
	CHECK_INTEQ(scm->term, 365);
	CHECK_INTEQ(scm->timeout, 30);
	CHECK_INTEQ(scm->retry_interval, 300);
	CHECK(scm->tls_verify);
	CHECK_INTEQ(ipa->type, CA_TYPE_HELPER);
	CHECK_INTEQ(ipa->retry_interval, 0);
	CHECK_STREQ(ca_type_name(ipa->type), "helper");
	CHECK(cfg->groups[0].ca == scm);
	d1 = dump_to_string(cfg);
	CHECK_CONTAINS(d1, "\n[ca scm]\ntype = sectigo\n");
	CHECK_CONTAINS(d1, "org_id = 4242\n");
	/* A helper reads no TLS keys, Sectigo not the local CA's files. */
	{
		char *ipa_text = section_text(d1, "[ca ipa]");
		char *scm_text = section_text(d1, "[ca scm]");

		CHECK_CONTAINS(ipa_text, "command = /usr/libexec/certmonger/ipa-submit\n");
		CHECK(strstr(ipa_text, "tls_verify") == NULL);
		CHECK(strstr(scm_text, "\ncert_file") == NULL && strstr(scm_text, "crl_url") == NULL);
		CHECK_CONTAINS(scm_text, "tls_verify = yes\n");
		free(ipa_text);
		free(scm_text);
	}
	check_dump_reloads(d1);
out:
	free(d1);
	config_free(cfg);
}

/* An Entra ID setup survives check-config -v: what it prints loads again, unchanged. */
static void
test_graph_roundtrip(void)
{
	static const char graph[] = MIN_DIR MIN_CA
	    "[directory entra]\ntype = graph\ntenant_id = contoso.onmicrosoft.com\n"
	    "client_id = 3d9e5b7a-8c41-4f26-b0e3-7a1c9d2e4f58\nclient_cert_file = app.pem\n"
	    "client_key_file = app.key\ngraph_host = https://graph.microsoft.us\n"
	    "[mail]\ntransport = graph\ndirectory = entra\nfrom = PKI <pki@example.org>\n"
	    "[group cloud]\ndirectory = entra\ngroup_name = S/MIME Cloud\npublish_to = d\n"
	    "ca = c\ninclude_guests = yes\n"
	    "[group ldap]\ndirectory = d\ngroup_dn = cn=s\nca = c\n";
	struct config *cfg = NULL;
	char *errs = load_errors(graph, &cfg);
	char *d1 = NULL;

	CHECK_STREQ(errs, "");
	free(errs);
	if (cfg == NULL)
		return;
	CHECK(cfg->groups[0].graph_by_name);
	CHECK_STREQ(cfg->groups[0].group_dn, "S/MIME Cloud");
	CHECK(cfg->groups[0].publish == &cfg->directories[0]);
	CHECK(cfg->groups[1].publish == &cfg->directories[0]);
	CHECK(cfg->mail.graph_directory == &cfg->directories[1]);
	CHECK_STREQ(cfg->mail.sender, "pki@example.org");
	CHECK_STREQ(cfg->directories[1].authority_host, "https://login.microsoftonline.com");
	d1 = dump_to_string(cfg);
	CHECK_CONTAINS(d1, "\n[mail]\ntransport = graph\ndirectory = entra\nsender = pki@example.org\n");
	check_dump_reloads(d1);
	free(d1);
	config_free(cfg);
}

int
main(void)
{
	char *cmd = NULL;
	int rc;

	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 99;
	}
	test_example();
	test_defaults_and_paths();
	test_reminders_parsed();
	test_errors();
	test_dump_roundtrip();
	test_ad();
	test_external_ca();
	test_graph_roundtrip();
	test_check_files();
	test_check_files_mail();
	test_default_path();
	rc = check_finish();
	cmd = xasprintf("rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	free(cmd);
	return rc;
}
