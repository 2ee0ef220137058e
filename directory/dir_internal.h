/* SPDX-License-Identifier: ISC */
/*
 * Private to directory/: what every backend uses, whatever its type: the
 * upper bounds on what we accept from a server or a file, a small string
 * set, text checks for untrusted values, and the problems attached to a
 * person. The backend table is backend.h; the LDAP plumbing ldap.h.
 */
#ifndef SMIMESYNC_DIRECTORY_DIR_INTERNAL_H
#define SMIMESYNC_DIRECTORY_DIR_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "common/attrs.h"
#include "directory/directory.h"

/* Upper bounds on what we accept from the server (STYLE 13); mail: MAILADDR_MAX. */
#define DIR_MAX_NAME_LEN (64 * 1024)   /* displayName, cn, givenName, sn */
#define DIR_MAX_ID_LEN 128             /* entryUUID is 36 */
#define DIR_MAX_CERT_LEN (64 * 1024)   /* one certificate or PKCS#7 value */
#define DIR_MAX_CERT_VALUES 256        /* values per certificate attribute */
#define DIR_MAX_MEMBERS 1000000        /* member values of one group */
#define DIR_MAX_HOLDERS 16             /* holders of one address kept (holders.c) */

/*
 * A set of strings (open addressing, linear probing). Values are copied.
 * strset_add() returns true when the string was not there before.
 */
struct strset {
	char **slots;
	size_t cap; /* a power of two, or 0 */
	size_t n;
};

void strset_init(struct strset *s);
void strset_free(struct strset *s);
bool strset_add(struct strset *s, const char *str);
bool strset_has(const struct strset *s, const char *str);

/* A growable list of strings, in the order added (values copied). */
struct strlist {
	char **v;
	size_t n;
	size_t cap;
};

void strlist_add(struct strlist *l, const char *str);
void strlist_free(struct strlist *l);

/* A string-to-string map of the same kind (values copied; a put replaces). */
struct strmap {
	char **keys;
	char **values;
	size_t cap;
	size_t n;
};

void strmap_init(struct strmap *m);
void strmap_free(struct strmap *m);
void strmap_put(struct strmap *m, const char *key, const char *value);
/* The value of key (borrowed until the next put), or NULL. */
const char *strmap_get(const struct strmap *m, const char *key);

/*
 * dir_dn_normalize() through libldap's full parse always, without its
 * shortcut for plain DNs (new, NULL if not a DN). For tests that check the
 * two agree.
 */
char *dir_dn_normalize_parsed(const char *dn);

/*
 * Strip an RFC 4517 nameAndOptionalUID suffix ("#'0101'B") in place;
 * returns dn.
 */
char *dir_strip_uid_suffix(char *dn);

/* An address to certify: common/mailaddr.h's rule, UTF-8 local part, dotted domain. */
bool dir_mail_valid(const char *s, size_t len);

/* Copy of s[0..len) fit for a log line or message: controls become '?', cut at max. */
char *dir_printable(const char *s, size_t len, size_t max);

/*
 * Add m[0..len) (copied) to u's alternative addresses unless it is u->mail
 * or already there (case ignored). Beyond DIR_MAX_ALT_MAILS addresses or
 * DIR_MAX_ALT_BYTES bytes it is only counted (u->n_alt_over), so a hostile
 * entry with a million values costs no more than 32 (user.c).
 */
void dir_add_alt_mail(struct user *u, const char *m, size_t len);
/*
 * After the last dir_add_alt_mail() for u: if any were over the bounds, add
 * the problem that says how many and what to do; what names where they came
 * from (an attribute, a CSV column). (user.c)
 */
void dir_check_alt_mails(struct user *u, const char *what);

/* Set or extend u->problem ("first; second") (user.c). */
void dir_add_problem(struct user *u, const char *fmt, ...) PRINTF_LIKE(2, 3);

/* Is data[0..len) one of v[0..n)? (user.c) */
bool dir_value_in(const struct dir_value *v, size_t n, const void *data, size_t len);

/* Append a holder (dn and id copied, either may be NULL); beyond DIR_MAX_HOLDERS, dropped. */
void dir_holders_add(struct dir_holders *h, const char *dn, const char *id);

#endif
