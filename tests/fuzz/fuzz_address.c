/* SPDX-License-Identifier: ISC */
/*
 * Mail address validation on arbitrary bytes: the one rule
 * (common/mailaddr.h) under each room's flags, as the mail room
 * (mail_address_valid/check, mail_parse_mailbox), the directory room
 * (dir_mail_valid) and check-config (conf_check_from, conf_check_address)
 * apply it. Properties: the two mail functions agree; anything accepted
 * has no control character, space or quote and exactly one '@'; a parsed
 * mailbox's address is itself valid; what check-config or the directory
 * accepts (without UTF-8) the mail room sends to.
 */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/errbuf.h"
#include "common/mailaddr.h"
#include "conf/options.h"
#include "directory/dir_internal.h"
#include "mail/mime.h"
#include "tests/fuzz/fuzz.h"

static void
check_accepted(const char *s)
{
	const char *at = strchr(s, '@');

	FUZZ_ASSERT(at != NULL && strchr(at + 1, '@') == NULL);
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
		FUZZ_ASSERT(*p > 0x20 && *p != 0x7f && *p != '"' && *p != '<' && *p != '>');
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);
	char *name = NULL, *addr = NULL;
	struct errbuf e;
	bool valid;

	err_clear(&e);
	valid = mail_address_valid(s);
	FUZZ_ASSERT(valid == (mail_address_check(s, &e) == 0));
	if (valid)
		check_accepted(s);
	if (dir_mail_valid((const char *)data, size))
		check_accepted(s);
	/* A stricter flag set never lets through what the mail room refuses. */
	if (mailaddr_valid((const char *)data, size, MAILADDR_DOTTED))
		FUZZ_ASSERT(mailaddr_valid((const char *)data, size, 0));
	if (mailaddr_valid((const char *)data, size, MAILADDR_UTF8_LOCAL | MAILADDR_DOTTED)) {
		bool ascii = true;

		for (size_t i = 0; i < size; i++)
			if (data[i] >= 0x80)
				ascii = false;
		FUZZ_ASSERT(!ascii || mailaddr_valid((const char *)data, size, 0));
	}
	/* What check-config accepts can be sent. */
	if (conf_check_address(s, NULL) == 0)
		FUZZ_ASSERT(valid);
	if (conf_check_from(s, NULL) == 0) {
		FUZZ_ASSERT(mail_parse_mailbox(s, &name, &addr, NULL) == 0);
		FUZZ_ASSERT(mail_address_valid(addr));
		free(name);
		free(addr);
		name = addr = NULL;
	}

	err_clear(&e);
	if (mail_parse_mailbox(s, &name, &addr, &e) == 0) {
		FUZZ_ASSERT(addr != NULL);
		if (mail_address_valid(addr))
			check_accepted(addr);
	} else {
		FUZZ_ASSERT(e.text[0] != '\0');
	}
	free(name);
	free(addr);
	free(s);
	return 0;
}
