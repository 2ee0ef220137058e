/* SPDX-License-Identifier: ISC */
/*
 * Mail addresses: the one rule for what smimesync takes as an address,
 * whoever asks. check-config uses it for [mail] from, sender and [group]
 * notify; the directory for the addresses it reads and will certify; the
 * mail room before an address goes into MAIL FROM, RCPT TO or a header.
 *
 * The grammar is the plain, common subset of RFC 5321/5322 addr-spec:
 *
 *   address  = local "@" domain               at most 254 octets
 *   local    = dot-atom: runs of atext joined by single dots, at most 64
 *              octets; atext = letters, digits, !#$%&'*+-/=?^_`{|}~
 *   domain   = LDH labels (letters, digits, '-'; 1..63 octets, no '-'
 *              at either end) joined by single dots, at most 253 octets
 *
 * Quoted local parts, comments, address literals ("[127.0.0.1]") and IDN
 * domains are refused rather than half-supported: addresses come from a
 * directory that anyone able to edit their own entry influences, and they
 * end up verbatim in "RCPT TO:<...>" and in headers.
 *
 * Two flags adapt the rule to a use, never the grammar itself:
 *
 *   MAILADDR_UTF8_LOCAL  the local part may also hold UTF-8 (RFC 6531),
 *                        well-formed as a whole. For addresses that are
 *                        certified: the CA writes them as SmtpUTF8Mailbox
 *                        (RFC 9598). Without it, any byte >= 0x80 is
 *                        refused: smimesync does not speak SMTPUTF8.
 *   MAILADDR_DOTTED      the domain has at least two labels. For the
 *                        addresses of people and of configured mailboxes,
 *                        where "pki@mailhost" is a slip (and no CA
 *                        validates a bare host name); the mail room itself
 *                        sends to a bare host name, as RFC 5321 allows.
 *
 * So with no UTF-8 in it, an address any flag set accepts is one the mail
 * room (flags 0) sends to: what check-config accepts can be sent.
 */
#ifndef SMIMESYNC_COMMON_MAILADDR_H
#define SMIMESYNC_COMMON_MAILADDR_H

#include <stdbool.h>
#include <stddef.h>

#include "common/attrs.h"
#include "common/errbuf.h"

#define MAILADDR_UTF8_LOCAL 0x1u
#define MAILADDR_DOTTED 0x2u

/* Longest address: RFC 5321's 256-octet path less the angle brackets. */
#define MAILADDR_MAX 254

/* True if s[0..len) is one address under the rule and flags; a NUL inside is never one. */
bool mailaddr_valid(const char *s, size_t len, unsigned flags);

/*
 * The same test on a C string, with a reason on refusal: empty, line
 * break, control character, non-ASCII without MAILADDR_UTF8_LOCAL ("needs
 * SMTPUTF8"), or not an address. Returns 0 or -1.
 */
int mailaddr_check(const char *addr, unsigned flags, struct errbuf *e) MUST_USE;

/*
 * Split a mailbox, "addr" or "Display Name <addr>" (the name may be a
 * quoted-string), into the display name (new, NULL when there is none) and
 * the address (new), which must pass mailaddr_check() with flags. The last
 * '<' starts the address, so the name may itself hold '<'. On error both
 * are NULL and e says why.
 */
int mailaddr_parse_mailbox(const char *mailbox, unsigned flags, char **name, char **addr,
    struct errbuf *e) MUST_USE;

#endif
