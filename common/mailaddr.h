/* SPDX-License-Identifier: ISC */
/*
 * Mail addresses: which strings smimesync takes as an address, and
 * splitting "Name <addr>" mailboxes.
 */
#ifndef SMIMESYNC_COMMON_MAILADDR_H
#define SMIMESYNC_COMMON_MAILADDR_H

#include <stdbool.h>

#include "common/attrs.h"
#include "common/errbuf.h"

/*
 * A plain addr-spec we are willing to put in RCPT TO / a header: ASCII
 * local part of atext and dots (or UTF-8 when allow_utf8), one @, a domain
 * of LDH labels. No spaces, quotes, controls, or comments.
 */
bool mail_address_valid(const char *addr);

/*
 * The same test with a reason: 0, or -1 with a sentence in e (line break,
 * control character, non-ASCII "needs SMTPUTF8", or not an address).
 */
int mail_address_check(const char *addr, struct errbuf *e) MUST_USE;

/* Split "Name <addr>" into parts (new strings); plain "addr" gives name NULL. */
int mail_parse_mailbox(const char *mailbox, char **name, char **addr, struct errbuf *e) MUST_USE;

#endif
