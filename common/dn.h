/* SPDX-License-Identifier: ISC */
/*
 * LDAP distinguished names in their string form (RFC 4514): the one rule
 * for "is this a DN". check-config applies it to every DN-typed option
 * (and to bind_dn before it takes a value for a user principal name); the
 * directory applies it before it parses, normalizes or compares a DN,
 * whether the DN came from the configuration or from a server. So a DN
 * that check-config accepts is one the directory accepts, and the other
 * way round.
 *
 * The rule is the one libldap's ldap_str2dn() applies in LDAPv3 mode,
 * which the directory uses to take DNs apart, restated in plain C so that
 * conf/ and the tools need no libldap and the ground floor stays libc
 * only:
 *
 *   dn     = "" | rdn *("," rdn)
 *   rdn    = ava *("+" ava)
 *   ava    = *SP type *SP "=" *SP value           SP: space, TAB, CR, LF
 *   type   = ALPHA *(ALPHA / DIGIT / "-") [";" options]
 *          | number *("." number)                  number: 1*DIGIT
 *   value  = "#" 1*(HEX HEX) *SP                   BER, in hex
 *          | *(char / "\" (special / HEX HEX))
 *
 * A plain char is any byte but NUL, ',', '+', ';', '"', '<', '>' and '\';
 * special is one of \ , ; + " < > = # or SP. Unescaped spaces around
 * values, '=', and non-ASCII bytes are taken as libldap takes them.
 *
 * One place is stricter than libldap, deliberately: a "#" value must hold
 * at least one byte and nothing but spaces may follow it. libldap reads
 * "cn=# 41" as an empty value and skips whatever follows a space after
 * the hex; an empty BER value has no string form to normalize to, and
 * every such value would compare equal.
 */
#ifndef SMIMESYNC_COMMON_DN_H
#define SMIMESYNC_COMMON_DN_H

#include <stdbool.h>

/* True if s is a DN under the rule above (the empty DN included). */
bool dn_valid(const char *s);

#endif
