/* SPDX-License-Identifier: ISC */
/*
 * One rule per concept (issue #14). Each rule is pinned by a table here,
 * and so is the promise that goes with it: check-config and the code that
 * acts on a value agree.
 *   addresses  (common/mailaddr.h) what conf accepts, mail sends; what the
 *              directory reads, mail sends unless it needs SMTPUTF8.
 */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/mailaddr.h"
#include "common/xalloc.h"
#include "conf/options.h"
#include "directory/dir_internal.h"
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

int
main(void)
{
	test_addresses();
	test_mailboxes();
	return check_finish();
}
