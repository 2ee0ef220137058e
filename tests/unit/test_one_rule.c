/* SPDX-License-Identifier: ISC */
/*
 * One rule per concept (issue #14). Each rule is pinned by a table here,
 * and so is the promise that goes with it: check-config and the code that
 * acts on a value agree.
 *   addresses  (common/mailaddr.h) what conf accepts, mail sends; what the
 *              directory reads, mail sends unless it needs SMTPUTF8;
 *   DNs        (common/dn.h) conf's DN options, the directory's normalizer
 *              and libldap agree (the latter checked on random strings);
 *   durations  (parse_duration, common/strutil.h) option values, reminder
 *              lists and --since read one grammar;
 *   defaults   (the option table) conf_default_number() is what a loaded
 *              file holds.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ldap.h>

#include "cli/commands.h"
#include "common/dn.h"
#include "common/fileutil.h"
#include "common/mailaddr.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "conf/conf.h"
#include "conf/options.h"
#include "directory/dir_internal.h"
#include "directory/directory.h"
#include "mail/mime.h"
#include "tests/unit/check.h"

#define DIR_FLAGS (MAILADDR_UTF8_LOCAL | MAILADDR_DOTTED)

/* "x" repeated n times, then tail (new). */
static char *
repeat(size_t n, const char *tail)
{
	char *s = xmalloc(n + strlen(tail) + 1);

	memset(s, 'x', n);
	memcpy(s + n, tail, strlen(tail) + 1);
	return s;
}

static void
check_address(const char *a, bool mail_ok, bool conf_ok, bool dir_ok)
{
	struct errbuf why;
	char *boxed = xasprintf("Example PKI <%s>", a);
	size_t len = strlen(a);

	if (mailaddr_valid(a, len, 0) != mail_ok || mailaddr_valid(a, len, MAILADDR_DOTTED) !=
	    conf_ok || mailaddr_valid(a, len, DIR_FLAGS) != dir_ok)
		fprintf(stderr, "address \"%s\": want mail %d, conf %d, directory %d\n", a, mail_ok,
		    conf_ok, dir_ok);
	CHECK(mailaddr_valid(a, len, 0) == mail_ok);
	CHECK(mailaddr_valid(a, len, MAILADDR_DOTTED) == conf_ok);
	CHECK(mailaddr_valid(a, len, DIR_FLAGS) == dir_ok);
	/* Each room applies the rule with its flags. */
	CHECK(mail_address_valid(a) == mail_ok);
	CHECK((mail_address_check(a, &why) == 0) == mail_ok);
	CHECK((conf_check_address(a, &why) == 0) == conf_ok);
	CHECK((conf_check_address_list(a, &why) == 0) == conf_ok);
	CHECK((conf_check_from(a, &why) == 0) == conf_ok);
	CHECK((conf_check_from(boxed, &why) == 0) == conf_ok);
	CHECK(dir_mail_valid(a, len) == dir_ok);
	/* What conf takes, mail sends; what the directory reads, too, unless it needs SMTPUTF8. */
	CHECK(!conf_ok || mail_ok);
	if (dir_ok && !mail_ok) {
		CHECK(mail_address_check(a, &why) != 0);
		CHECK_CONTAINS(why.text, "SMTPUTF8");
	}
	free(boxed);
}

static void
test_addresses(void)
{
	char *s = NULL;
	struct errbuf e;

	check_address("alice@example.org", true, true, true);
	check_address("first.last+tag@sub.example.co.uk", true, true, true);
	check_address("o'brien@example.org", true, true, true);
	check_address("x{y}|z~=?^_`#$%&!/*@example.org", true, true, true);
	check_address("a@b-c.example", true, true, true);
	/* A bare host name: RFC 5321 sends to it, no person or mailbox has it. */
	check_address("user@localhost", true, false, false);
	/* UTF-8 local parts are certified (SmtpUTF8Mailbox), never sent to. */
	check_address("j\xc3\xbcrgen@example.org", false, false, true);
	check_address("j\xc3@example.org", false, false, false);         /* cut short */
	check_address("al\xc0\xafice@example.org", false, false, false); /* overlong */
	check_address("al\xffice@example.org", false, false, false);
	check_address("alice@b\xc3\xbc" "cher.example", false, false, false);
	/* What the old check-config rule let through for from. */
	check_address("pki..team@example.org", false, false, false);
	check_address("pki(team)@example.org", false, false, false);
	check_address("pki;team@example.org", false, false, false);
	check_address("pki@exa_mple.org", false, false, false);
	check_address("pki@-example.org", false, false, false);
	check_address("pki@example-.org", false, false, false);
	check_address("pki@example..org", false, false, false);
	check_address("pki@.example.org", false, false, false);
	check_address("pki@example.org.", false, false, false);
	check_address(".pki@example.org", false, false, false);
	check_address("pki.@example.org", false, false, false);
	check_address("\"pki\"@example.org", false, false, false);
	check_address("pki@[127.0.0.1]", false, false, false);
	check_address("a@b@example.org", false, false, false);
	check_address("@example.org", false, false, false);
	check_address("pki@", false, false, false);
	check_address("pki", false, false, false);
	check_address("pki @example.org", false, false, false);

	/* Lengths: local part 64, label 63, address 254. */
	s = repeat(64, "@example.org");
	check_address(s, true, true, true);
	free(s);
	s = repeat(65, "@example.org");
	check_address(s, false, false, false);
	free(s);
	{
		char *l63 = repeat(63, ".org"), *l64 = repeat(64, ".org");
		char *a63 = xasprintf("a@%s", l63), *a64 = xasprintf("a@%s", l64);

		check_address(a63, true, true, true);
		check_address(a64, false, false, false);
		free(l63);
		free(l64);
		free(a63);
		free(a64);
	}
	{
		/* 64 + 1 + (63 + 1 + 63 + 1 + 61) = 254 octets, then one more. */
		char *l63 = repeat(63, ""), *l61 = repeat(61, "");
		char *a254 = xasprintf("y%s@%s.%s.%s", l63, l63, l63, l61);
		char *a255 = xasprintf("%sx", a254);

		CHECK_INTEQ(strlen(a254), 254);
		check_address(a254, true, true, true);
		check_address(a255, false, false, false);
		free(l63);
		free(l61);
		free(a254);
		free(a255);
	}
	CHECK(!mailaddr_valid("a@example.org\0x", 15, DIR_FLAGS));
	CHECK(!mailaddr_valid("a\0@example.org", 14, DIR_FLAGS));
	CHECK(!mailaddr_valid(NULL, 0, 0));

	/* The reasons say which part of the rule was missed. */
	CHECK(mailaddr_check("j\xc3\xbcrgen@example.org", 0, &e) != 0);
	CHECK_CONTAINS(e.text, "SMTPUTF8");
	CHECK(mailaddr_check("user@localhost", MAILADDR_DOTTED, &e) != 0);
	CHECK_CONTAINS(e.text, "with a dot");
	CHECK(mailaddr_check("a@b\r\nRCPT TO:<x@y.org>", 0, &e) != 0);
	CHECK_CONTAINS(e.text, "line break");
	CHECK(mailaddr_check("", 0, &e) != 0);
	CHECK_CONTAINS(e.text, "empty");
}

/* check-config takes a from exactly when the mail room can split and send it. */
static void
test_mailboxes(void)
{
	static const struct {
		const char *from;
		bool ok;
	} table[] = {
		{ "pki@example.org", true },
		{ "Example PKI <pki@example.org>", true },
		{ "<pki@example.org>", true },
		{ "\"PKI, Example\" <pki@example.org>", true },
		{ "PKI <at> home <pki@example.org>", true }, /* the last '<' starts the address */
		{ "  Example PKI   <pki@example.org>  ", true },
		{ "Example PKI", false },
		{ "Example PKI <pki@example.org", false },
		{ "Example PKI <pki@example.org> x", false },
		{ "Example PKI <pki..team@example.org>", false },
		{ "Example PKI <pki(x)@example.org>", false },
		{ "Example PKI <>", false },
	};
	struct errbuf e;

	for (size_t i = 0; i < ARRAY_LEN(table); i++) {
		char *name = NULL, *addr = NULL;
		int conf_rc = conf_check_from(table[i].from, &e);
		int mail_rc = mail_parse_mailbox(table[i].from, &name, &addr, &e);

		if ((conf_rc == 0) != table[i].ok)
			fprintf(stderr, "from \"%s\": conf said %d\n", table[i].from, conf_rc);
		CHECK((conf_rc == 0) == table[i].ok);
		CHECK(conf_rc != 0 || mail_rc == 0);
		CHECK(mail_rc != 0 || mail_address_valid(addr));
		free(name);
		free(addr);
	}
}

static void
check_dn(const char *dn, bool ok)
{
	int row = conf_option_find(CONF_GROUP, "group_dn");
	struct conf_group g;
	struct errbuf why;
	char *norm = NULL;
	bool conf_ok;

	memset(&g, 0, sizeof(g));
	conf_ok = conf_value_parse(&conf_options[row], dn, NULL, &g, &why) == 0;
	free(g.group_dn);
	norm = dir_dn_normalize(dn);
	if (dn_valid(dn) != ok)
		fprintf(stderr, "DN \"%s\": want %d\n", dn, ok);
	CHECK(dn_valid(dn) == ok);
	/* check-config (a value is never empty there) and the directory agree. */
	CHECK(*dn == '\0' || conf_ok == ok);
	CHECK((norm != NULL) == ok);
	/* A normalized DN is itself one. */
	CHECK(norm == NULL || dn_valid(norm));
	free(norm);
}

static void
test_dns(void)
{
	check_dn("", true);
	check_dn("dc=example,dc=org", true);
	check_dn("cn=smimesync,ou=services,dc=example,dc=org", true);
	check_dn("CN=M\xc3\xbcller\\, Hans,OU=People,DC=example,DC=org", true);
	check_dn("cn=a, dc=x", true);
	check_dn("  cn = a ,dc=x", true);
	check_dn("cn=a+sn=b,dc=x", true);
	check_dn("2.5.4.3=a,dc=x", true);
	check_dn("cn;lang-de=a", true);
	check_dn("cn=", true);
	check_dn("cn=,dc=x", true);
	check_dn("cn=a=b", true);
	check_dn("cn=a#b", true);
	check_dn("cn=\\#a", true);
	check_dn("cn=a\\2cb", true);
	check_dn("cn=a\\ ", true);
	check_dn("cn=#0441", true);
	check_dn("cn=#0441 ,dc=x", true);
	check_dn("dc=example;dc=org", false); /* LDAPv2's separator */
	check_dn("cn=\"a,b\",dc=x", false);
	check_dn("cn=a\"b", false);
	check_dn("cn=<a>", false);
	check_dn("cn=a\\zz", false);
	check_dn("cn=a\\4", false);
	check_dn("cn=a\\", false);
	check_dn("c n=a", false);
	check_dn("1cn=a", false);
	check_dn("-cn=a", false);
	check_dn("c_n=a", false);
	check_dn("1.=a", false);
	check_dn("1..2=a", false);
	check_dn("cn=a,", false);
	check_dn(",cn=a", false);
	check_dn("cn=a+", false);
	check_dn("cn=a,,dc=x", false);
	check_dn("cn", false);
	check_dn("smimesync", false);
	check_dn("svc-smimesync@example.org", false);
	/* Where libldap is looser: no byte, or something after the hex. */
	check_dn("cn=#", false);
	check_dn("cn=# 41", false);
	check_dn("cn=#41 x", false);
	check_dn("cn=#4", false);
	check_dn("cn=#4g", false);
}

/* A deterministic generator: the same strings on every run and machine. */
static uint32_t
next_random(uint32_t *state)
{
	uint32_t x = *state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*state = x;
	return x;
}

/*
 * The rule restates libldap's LDAPv3 DN parser; make sure it still does,
 * on strings made of the characters that matter. Where they differ, it is
 * only the stricter "#" value of common/dn.h.
 */
static void
test_dns_against_libldap(void)
{
	static const char alphabet[] = "cnCN=,+;\\\"<># \t1.2-aF0\x80\xc3\xbc'_";
	static const char *const starts[] = { "", "cn=", "dc=x,", "cn=a+", "1.2=", "cn=#",
		"cn;x=" };
	uint32_t state = 0x1452u;
	size_t disagree = 0;

	for (int i = 0; i < 200000; i++) {
		char buf[64];
		size_t n = (size_t)snprintf(buf, sizeof(buf), "%s",
		    starts[next_random(&state) % ARRAY_LEN(starts)]);
		size_t len = next_random(&state) % 14;
		LDAPDN parsed = NULL;
		bool ldap_ok, ours;
		char *norm = NULL;

		for (size_t k = 0; k < len; k++)
			buf[n++] = alphabet[next_random(&state) % (sizeof(alphabet) - 1)];
		buf[n] = '\0';
		ldap_ok = ldap_str2dn(buf, &parsed, LDAP_DN_FORMAT_LDAPV3) == LDAP_SUCCESS;
		ldap_dnfree(parsed);
		ours = dn_valid(buf);
		if ((ours && !ldap_ok) || (ldap_ok && !ours && strchr(buf, '#') == NULL)) {
			if (disagree++ < 10)
				fprintf(stderr, "DN \"%s\": libldap %d, dn_valid %d\n", buf,
				    ldap_ok, ours);
		}
		norm = dir_dn_normalize(buf);
		if ((norm != NULL) != ours && disagree++ < 10)
			fprintf(stderr, "DN \"%s\": the directory %s it, dn_valid %d\n", buf,
			    norm != NULL ? "takes" : "refuses", ours);
		free(norm);
	}
	CHECK_INTEQ(disagree, 0);
}

static void
check_duration(const char *s, int64_t want)
{
	int row = conf_option_find(CONF_DIRECTORY, "timeout");
	const struct conf_option *o = &conf_options[row];
	struct conf_directory d;
	struct errbuf why;
	int64_t got = -1, list[4];
	time_t since = 0;
	char *text = xasprintf("%s, 1w", s);
	bool conf_ok;

	memset(&d, 0, sizeof(d));
	conf_ok = conf_value_parse(o, s, NULL, &d, &why) == 0;
	if (want < 0) {
		if (parse_duration(s, &got) == 0)
			fprintf(stderr, "duration \"%s\": took it as %lld\n", s, (long long)got);
		CHECK(parse_duration(s, &got) != 0);
		CHECK(!conf_ok);
		/* A list item may have spaces around it, and an empty one is skipped. */
		if (*s != '\0' && *s != ' ' && s[strlen(s) - 1] != ' ') {
			CHECK(conf_check_duration_list(s, &why) != 0);
			CHECK(conf_parse_durations(text, list, ARRAY_LEN(list)) < 0);
		}
		free(text);
		return;
	}
	CHECK_INTEQ(parse_duration(s, &got), 0);
	CHECK_INTEQ(got, want);
	/* An option takes what the grammar takes, within the option's bounds. */
	CHECK(conf_ok == (want >= o->min && want <= o->max));
	CHECK(!conf_ok || d.timeout == want);
	/* So does a reminder list (which wants more than 0s), and --since. */
	if (want > 0 && want != 7 * 86400) {
		CHECK_INTEQ(conf_parse_durations(text, list, ARRAY_LEN(list)), 2);
		CHECK(list[0] == want || list[1] == want);
	}
	CHECK_INTEQ(commands_parse_since(s, 1000000000, &since), 0);
	CHECK_INTEQ(since, 1000000000 - want);
	free(text);
}

static void
test_durations(void)
{
	static const int64_t samples[] = { 1, 59, 60, 90, 3600, 5400, 86400, 7 * 86400,
		15 * 86400, 825 * 86400 };

	/* A unit is required: is "30" thirty seconds or thirty days? Only nothing needs none. */
	check_duration("30", -1);
	check_duration("0", 0);
	check_duration("30s", 30);
	check_duration("0s", 0);
	check_duration("5m", 300);
	check_duration("12h", 43200);
	check_duration("15d", 15 * 86400);
	check_duration("2w", 14 * 86400);
	check_duration("0010d", 10 * 86400);
	check_duration("", -1);
	check_duration("d", -1);
	check_duration("30x", -1);
	check_duration("30D", -1);
	check_duration("30 d", -1);
	check_duration(" 30d", -1);
	check_duration("30d ", -1);
	check_duration("30dd", -1);
	check_duration("-1d", -1);
	check_duration("+1d", -1);
	check_duration("1.5d", -1);
	check_duration("30 seconds", -1);
	check_duration("9223372036854775807w", -1);
	check_duration("99999999999999999999", -1);
	/* What format_duration() writes, parse_duration() reads back. */
	for (size_t i = 0; i < ARRAY_LEN(samples); i++) {
		char text[32];
		int64_t back = -1;

		format_duration(samples[i], text, sizeof(text));
		CHECK_INTEQ(parse_duration(text, &back), 0);
		CHECK_INTEQ(back, samples[i]);
	}
}

/* The defaults a command looks up are the ones a loaded file holds. */
static void
test_defaults(void)
{
	static const char text[] =
	    "[directory d]\nuri = ldap://h\nbase_dn = dc=x\n"
	    "[ca c]\ncert_file = c.pem\nkey_file = c.key\nchain_file = ch.pem\n"
	    "crl_url = http://x/c.crl\n"
	    "[mail]\nsmtp_host = h\nfrom = a@b.c\n"
	    "[group g]\ndirectory = d\ngroup_dn = cn=g,dc=x\nca = c\n";
	char dir[] = "/tmp/test_one_rule.XXXXXX";
	char *path = NULL;
	struct config *cfg = NULL;
	struct conf_errors errs = { 0 };
	struct errbuf e;
	int64_t v = -1;

	if (mkdtemp(dir) == NULL) {
		CHECK(!"mkdtemp");
		return;
	}
	path = xasprintf("%s/t.conf", dir);
	CHECK_INTEQ(file_write_atomic(path, text, strlen(text), 0600, &e), 0);
	CHECK_INTEQ(config_load(path, &cfg, &errs), 0);
	if (cfg != NULL) {
		CHECK_INTEQ(conf_default_number("group", "pkcs12_iterations", &v), 0);
		CHECK_INTEQ(v, cfg->groups[0].pkcs12_iterations);
		CHECK_INTEQ(conf_default_number("group", "pkcs12", &v), 0);
		CHECK_INTEQ(v, cfg->groups[0].pkcs12);
		CHECK_INTEQ(conf_default_number("group", "renew_before", &v), 0);
		CHECK_INTEQ(v, cfg->groups[0].renew_before);
		CHECK_INTEQ(conf_default_number("group", "escrow", &v), 0);
		CHECK_INTEQ(v, cfg->groups[0].escrow);
		CHECK_INTEQ(conf_default_number("mail", "timeout", &v), 0);
		CHECK_INTEQ(v, cfg->mail.timeout);
		CHECK_INTEQ(conf_default_number("ca", "root_validity", &v), 0);
		CHECK_INTEQ(v, cfg->cas[0].root_validity);
		CHECK_INTEQ(conf_default_number("service", "log_level", &v), 0);
		CHECK_INTEQ(v, cfg->service.log_level);
	}
	CHECK(conf_default_number("group", "reminders", &v) != 0); /* a string */
	CHECK(conf_default_number("group", "notify", &v) != 0);    /* no default */
	CHECK(conf_default_number("group", "no_such_key", &v) != 0);
	CHECK(conf_default_number("no_such_section", "timeout", &v) != 0);
	config_free(cfg);
	conf_errors_free(&errs);
	unlink(path);
	rmdir(dir);
	free(path);
}

int
main(void)
{
	test_addresses();
	test_mailboxes();
	test_dns();
	test_dns_against_libldap();
	test_durations();
	test_defaults();
	return check_finish();
}
