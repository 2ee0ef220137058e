/* SPDX-License-Identifier: ISC */
/*
 * The mail room's use of the one address rule (common/mailaddr.h): what
 * may go into MAIL FROM, RCPT TO and a header. No flags: ASCII only, as
 * smimesync does not speak SMTPUTF8, and a bare host name is taken as
 * RFC 5321 takes it. Every stricter use (the configuration, the
 * directory) therefore yields addresses that pass here.
 */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include "common/mailaddr.h"
#include "mail/mime.h"

#define MAIL_ADDR_FLAGS 0u

bool
mail_address_valid(const char *addr)
{
	return addr != NULL && mailaddr_valid(addr, strlen(addr), MAIL_ADDR_FLAGS);
}

int
mail_address_check(const char *addr, struct errbuf *e)
{
	return mailaddr_check(addr, MAIL_ADDR_FLAGS, e);
}

int
mail_parse_mailbox(const char *mailbox, char **name, char **addr, struct errbuf *e)
{
	return mailaddr_parse_mailbox(mailbox, MAIL_ADDR_FLAGS, name, addr, e);
}
