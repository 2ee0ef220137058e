/* SPDX-License-Identifier: ISC */
/*
 * Private to directory/: the LDAP connection handle, the search helpers
 * built on it, the error mapping, and a small string set.
 *
 * Every LDAP failure goes through dir_ldap_fail(), which turns an LDAP
 * result code into an enum dir_status and one sentence that names the URI,
 * the operation, the DN, the server's error string and diagnostic message,
 * and a hint when we know what the administrator should change.
 *
 * Searches go through dir_ldap_read() (one entry by DN, base scope, filter
 * "(objectClass=*)" unless the caller gives one), dir_ldap_read_many() (the
 * same for many DNs, pipelined) and dir_ldap_scan() (a
 * subtree search under base_dn with RFC 2696 paging; each entry is handed
 * to a callback and freed after it returns).
 */
#ifndef SMIMESYNC_DIRECTORY_DIR_INTERNAL_H
#define SMIMESYNC_DIRECTORY_DIR_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <ldap.h>

#include "common/attrs.h"
#include "common/errbuf.h"
#include "net/graph.h"
#include "directory/directory.h"

/* Upper bounds on what we accept from the server (STYLE 13); mail: MAILADDR_MAX. */
#define DIR_MAX_NAME_LEN (64 * 1024)   /* displayName, cn, givenName, sn */
#define DIR_MAX_ID_LEN 128             /* entryUUID is 36 */
#define DIR_MAX_CERT_LEN (64 * 1024)   /* one certificate or PKCS#7 value */
#define DIR_MAX_CERT_VALUES 256        /* values per certificate attribute */
#define DIR_MAX_MEMBERS 1000000        /* member values of one group */

struct dir_conn {
	LDAP *ld;                          /* NULL for csv and graph */
	struct graph *graph;               /* type = graph: the Graph client (graph_source.c) */
	const struct conf_directory *conf; /* borrowed: lives as long as the config */
	char *uri;                         /* copy, for messages */
	char *base_dn;                     /* copy */
	char *user_filter;                 /* new: conf->user_filter in parentheses */
	int page_size;
	int timeout;                       /* seconds */
	bool tls;                          /* ldaps:// or StartTLS */
	size_t people_scanned;             /* entries the last people scan returned, 0 before */
};

/*
 * Map rc to a status and write "uri: op dn: error (diagnostic); hint" into
 * e. op is a short verb phrase ("bind as", "read", "modify"); hint NULL
 * means the generic advice for rc.
 */
enum dir_status dir_ldap_fail(struct dir_conn *dc, int rc, const char *op,
    const char *dn, const char *hint, struct errbuf *e);

/* The diagnostic message of the last operation (new), or NULL. */
char *dir_ldap_diag(LDAP *ld);

/*
 * Read one entry by DN (base scope). filter may be NULL for
 * "(objectClass=*)". On DIR_OK *res is a new result to free with
 * ldap_msgfree() and *entry points into it, or both are NULL when the entry
 * does not exist, dn is not a DN the server accepts, or the entry does not
 * match filter.
 */
enum dir_status dir_ldap_read(struct dir_conn *dc, const char *dn, const char *filter,
    char **attrs, LDAPMessage **res, LDAPMessage **entry, struct errbuf *e) MUST_USE;

/*
 * Read the entries dns[0..n) (base scope, filter as in dir_ldap_read),
 * pipelined (directory/ldap_readmany.c). cb gets each DN's index and its
 * entry, or NULL where dir_ldap_read() would find none, in the order the
 * answers arrive; the entry is freed after cb returns. A status other than
 * DIR_OK from cb stops the reading.
 */
typedef enum dir_status (*dir_read_cb)(struct dir_conn *dc, size_t index, LDAPMessage *entry,
    void *arg, struct errbuf *e);
enum dir_status dir_ldap_read_many(struct dir_conn *dc, char *const *dns, size_t n,
    const char *filter, char **attrs, dir_read_cb cb, void *arg, struct errbuf *e) MUST_USE;

/* Return DIR_OK to go on; anything else stops the scan (e is then set). */
typedef enum dir_status (*dir_entry_cb)(struct dir_conn *dc, LDAPMessage *entry,
    void *arg, struct errbuf *e);

/* Paged subtree search under dc->base_dn. */
enum dir_status dir_ldap_scan(struct dir_conn *dc, const char *filter, char **attrs,
    dir_entry_cb cb, void *arg, struct errbuf *e) MUST_USE;

/* True if the entry's objectClass values include name (case-insensitive). */
bool dir_entry_has_class(LDAP *ld, LDAPMessage *entry, const char *name);

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

/*
 * Strip an RFC 4517 nameAndOptionalUID suffix ("#'0101'B") in place;
 * returns dn.
 */
char *dir_strip_uid_suffix(char *dn);

/* An address to certify: common/mailaddr.h's rule, UTF-8 local part, dotted domain. */
bool dir_mail_valid(const char *s, size_t len);

/* Copy of s[0..len) fit for a log line or message: controls become '?', cut at max. */
char *dir_printable(const char *s, size_t len, size_t max);

/* Member values, with AD range retrieval (ranges.c). */
typedef void (*dir_value_cb)(void *arg, const struct berval *value);

/*
 * Hand every value of attr ("member", "uniqueMember") of the group dn to
 * cb. entry is the group as already read (may be NULL): its plain attr
 * values are used, and when it holds "attr;range=lo-hi" instead, the rest
 * is read chunk by chunk until the server's description ends in "-*".
 * step > 0 asks for ranges of step values from the start (entry unused).
 */
enum dir_status dir_member_values(struct dir_conn *dc, LDAPMessage *entry, const char *dn,
    const char *attr, size_t step, dir_value_cb cb, void *arg, struct errbuf *e) MUST_USE;
/*
 * Parse "attr;range=LO-HI" or "attr;range=LO-*" (case-insensitive attr):
 * 0 and lo, hi, last set, or -1 when desc is not a range of attr.
 */
int dir_parse_range(const char *desc, const char *attr, size_t *lo, size_t *hi, bool *last);

/* Person entries (ldap_source.c), shared with the Active Directory reader. */

/* Set or extend u->problem ("first; second"). */
void dir_add_problem(struct user *u, const char *fmt, ...) PRINTF_LIKE(2, 3);
/* First value of a name attribute, if it is sane UTF-8 text (new), else NULL. */
char *dir_get_name(LDAP *ld, LDAPMessage *entry, const char *attr, const char *dn);
/* u->mail and u->alt_mails from mail_attribute; a problem when none is usable. */
void dir_fill_mail(struct dir_conn *dc, LDAPMessage *entry, struct user *u);
/*
 * Append the valid values of attr ([directory] alt_mail_attribute) to
 * u->alt_mails, skipping the primary address and duplicates (any case).
 * dir_fill_mail() calls it when the option is set.
 */
void dir_fill_alt_mails(struct dir_conn *dc, LDAPMessage *entry, struct user *u, const char *attr);

/*
 * Active Directory (ad_source.c). dir_group_members() hands over to
 * dir_ad_group_members() for type = ad: one paged in-chain search
 * (1.2.840.113556.1.4.1941) instead of walking member values. group_ref is
 * a DN, or a sAMAccountName (it then has no '=').
 */
/* type = csv (csv_source.c): no server; every row of conf->file is a member. */
enum dir_status dir_csv_open(const struct conf_directory *conf, struct dir_conn **out,
    struct errbuf *e);
enum dir_status dir_csv_members(struct dir_conn *dc, struct user_list *out, struct errbuf *e);

/* type = graph (graph_source.c): Entra ID through Microsoft Graph. */
enum dir_status dir_graph_open(const struct conf_directory *conf, struct dir_conn **out,
    struct errbuf *e) MUST_USE;
enum dir_status dir_graph_members(struct dir_conn *dc, const struct conf_group *g,
    struct user_list *out, struct errbuf *e) MUST_USE;
void dir_graph_close(struct dir_conn *dc);

/*
 * Reading the pages of a transitiveMembers answer (graph_source.c; the unit
 * test and the fuzz target feed it pages directly). Users are appended to
 * out under g's policy; ids seen on earlier pages are skipped.
 */
struct graph_page_reader {
	const char *source;         /* borrowed: the [directory] name */
	const struct conf_group *g; /* borrowed: the policy */
	struct user_list *out;      /* borrowed */
	struct strset seen;
	size_t pages, guests, duplicates;
};

void dir_graph_reader_init(struct graph_page_reader *r, const char *source,
    const struct conf_group *g, struct user_list *out);
void dir_graph_reader_free(struct graph_page_reader *r);
/* One page; *next is its @odata.nextLink (borrowed from page) or NULL at the end. */
enum dir_status dir_graph_take_page(struct graph_page_reader *r, json_t *page, const char **next,
    struct errbuf *e) MUST_USE;

enum dir_status dir_ad_group_members(struct dir_conn *dc, const char *group_ref,
    struct user_list *out, struct errbuf *e) MUST_USE;
/*
 * global_catalog = yes (ad_gc.c): refuse a global catalog whose partial
 * attribute set lacks what eligibility rests on; warn about the rest.
 */
enum dir_status dir_ad_gc_check(struct dir_conn *dc, struct errbuf *e) MUST_USE;
/* Canonical string form of a 16-byte objectGUID (new), NULL if len != 16. */
char *dir_ad_guid_string(const unsigned char *g, size_t len);
/*
 * What an AD "data XXX" sub-code in a bind diagnostic means and what to do
 * (borrowed, static), or NULL when diag has none we know.
 */
const char *dir_ad_bind_hint(const char *diag);

#endif
