/* SPDX-License-Identifier: ISC */
/*
 * Private to directory/: the LDAP plumbing that both LDAP backends, the
 * OpenLDAP one (dir_ldap.c) and the Active Directory one (dir_ad.c), are
 * built from. Each file is named for its job:
 *
 *   ldap_conn.c      connect, TLS, bind, check base_dn (dir_ldap_connect)
 *   ldap_errors.c    LDAP result codes to typed errors (dir_ldap_fail)
 *   ldap_search.c    one entry by DN, a paged subtree scan
 *   ldap_readmany.c  many entries by DN, pipelined
 *   ranges.c         every value of a member attribute (AD range retrieval)
 *   ldap_members.c   RFC 4519 group expansion (nesting resolved here)
 *   ldap_person.c    a person entry as a struct user
 *   ldap_locate.c    the one person entry with a given mail
 *   ldap_publish.c   reading and changing the certificate attributes
 *
 * and, for Active Directory only, ad_person.c (a user object as a struct
 * user) and ad_gc.c (what a global catalog must replicate).
 *
 * What differs between the two kinds of server (attribute names, advice in
 * error messages) is a struct dir_ldap_dialect that the backend hands to
 * dir_ldap_connect(); the plumbing never asks which type it serves.
 *
 * Every LDAP failure goes through dir_ldap_fail(), which turns an LDAP
 * result code into an enum dir_status and one sentence that names the URI,
 * the operation, the DN, the server's error string and diagnostic message,
 * and a hint when we know what the administrator should change.
 */
#ifndef SMIMESYNC_DIRECTORY_LDAP_H
#define SMIMESYNC_DIRECTORY_LDAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ldap.h>

#include "common/attrs.h"
#include "common/errbuf.h"
#include "conf/conf.h"
#include "directory/dir_internal.h"
#include "directory/directory.h"

struct dir_ldap;

/* What one kind of LDAP server needs said or named differently. */
struct dir_ldap_dialect {
	/* The name userCertificate is written (and requested) under. */
	const char *cert_attr;
	/*
	 * Advice for rc that fits this kind of server better than the generic
	 * advice of ldap_errors.c (static text), or NULL. diag is the server's
	 * diagnostic message, or NULL.
	 */
	const char *(*hint)(const struct dir_ldap *dl, int rc, const char *diag);
	/* What the service account needs to write the certificate attributes (new). */
	char *(*write_access_hint)(const struct dir_ldap *dl);
	/* What to do when a modify of them breaks a size or count limit (static), or NULL. */
	const char *value_limit_hint;
	/*
	 * Can the server match userSMIMECertificate values (AD: an octet
	 * string)? Then one value is deleted and another added, as for
	 * userCertificate. Without (OpenLDAP's inetorgperson schema has no
	 * equality rule for it) the attribute is replaced, on the condition
	 * that the entry has not changed since it was read (ldap_publish.c).
	 */
	bool smime_equality;
};

/* The dialects of the two LDAP backends (dir_ldap.c, dir_ad.c). */
extern const struct dir_ldap_dialect dir_openldap_dialect;
extern const struct dir_ldap_dialect dir_ad_dialect;

/* One LDAP connection, bound once and reused: a backend's state. */
struct dir_ldap {
	LDAP *ld;
	const struct conf_directory *conf;        /* borrowed: lives as long as the config */
	const struct dir_ldap_dialect *dialect;   /* static */
	char *uri;                                /* copy, for messages */
	char *base_dn;                            /* copy */
	char *user_filter;                        /* new: conf->user_filter in parentheses */
	int page_size;
	int timeout;                              /* seconds */
	bool tls;                                 /* ldaps:// or StartTLS */
	size_t people_scanned;                    /* entries the last people scan returned, 0 before */
	int memberof;                             /* the server keeps memberOf on group members:
	                                             1 yes, -1 no, 0 not known yet (ldap_members.c) */
};

/* ---- ldap_conn.c ---- */

/*
 * Connect, set up TLS, bind, and check that base_dn exists. conf must
 * carry uri, base_dn and user_filter (conf's load fills the default).
 * bind_password is borrowed and may be NULL for SASL or anonymous binds.
 * On success *out is new (dir_ldap_close()).
 */
enum dir_status dir_ldap_connect(const struct conf_directory *conf, const char *bind_password,
    const struct dir_ldap_dialect *dialect, struct dir_ldap **out, struct errbuf *e) MUST_USE;
/* Unbind and free; state is a struct dir_ldap (a backend's close). */
void dir_ldap_close(void *state);
/*
 * Does the bind conf asks for send a reusable password readable on the
 * wire? Over ldap:// without StartTLS: a simple bind with a DN, and SASL
 * PLAIN or LOGIN, which carry the password as it is. ldaps:// and ldapi://
 * (a local socket) never do, nor do GSSAPI, EXTERNAL, SCRAM-* or the digest
 * mechanisms. *what names the bind for the warning (borrowed, static).
 * dir_ldap_connect() warns when it says yes.
 */
bool dir_ldap_cleartext_bind(const struct conf_directory *conf, const char **what);

/* ---- ldap_errors.c ---- */

/*
 * Map rc to a status and write "uri: op dn: error (diagnostic); hint" into
 * e. op is a short verb phrase ("bind as", "read", "modify"); hint NULL
 * means the dialect's advice for rc, else the generic advice.
 */
enum dir_status dir_ldap_fail(struct dir_ldap *dl, int rc, const char *op,
    const char *dn, const char *hint, struct errbuf *e);

/* The diagnostic message of the last operation (new), or NULL. */
char *dir_ldap_diag(LDAP *ld);

/* ---- ldap_search.c, ldap_readmany.c ---- */

/*
 * Read one entry by DN (base scope). filter may be NULL for
 * "(objectClass=*)". On DIR_OK *res is a new result to free with
 * ldap_msgfree() and *entry points into it, or both are NULL when the entry
 * does not exist, dn is not a DN the server accepts, or the entry does not
 * match filter.
 */
enum dir_status dir_ldap_read(struct dir_ldap *dl, const char *dn, const char *filter,
    char **attrs, LDAPMessage **res, LDAPMessage **entry, struct errbuf *e) MUST_USE;

/*
 * Read the entries dns[0..n) (base scope, filter as in dir_ldap_read),
 * pipelined. cb gets each DN's index and its entry, or NULL where
 * dir_ldap_read() would find none, in the order the answers arrive; the
 * entry is freed after cb returns. A status other than DIR_OK from cb
 * stops the reading.
 */
typedef enum dir_status (*dir_read_cb)(struct dir_ldap *dl, size_t index, LDAPMessage *entry,
    void *arg, struct errbuf *e);
enum dir_status dir_ldap_read_many(struct dir_ldap *dl, char *const *dns, size_t n,
    const char *filter, char **attrs, dir_read_cb cb, void *arg, struct errbuf *e) MUST_USE;

/* Return DIR_OK to go on; anything else stops the scan (e is then set). */
typedef enum dir_status (*dir_entry_cb)(struct dir_ldap *dl, LDAPMessage *entry,
    void *arg, struct errbuf *e);

/*
 * Paged subtree search under dl->base_dn (RFC 2696); each entry is handed
 * to cb and freed after it returns.
 */
enum dir_status dir_ldap_scan(struct dir_ldap *dl, const char *filter, char **attrs,
    dir_entry_cb cb, void *arg, struct errbuf *e) MUST_USE;
/* The same under base with scope, and one more server control (borrowed) or NULL. */
enum dir_status dir_ldap_scan_in(struct dir_ldap *dl, const char *base, int scope,
    const char *filter, char **attrs, LDAPControl *extra, dir_entry_cb cb, void *arg,
    struct errbuf *e) MUST_USE;

/* True if the entry's objectClass values include name (case-insensitive). */
bool dir_entry_has_class(LDAP *ld, LDAPMessage *entry, const char *name);

/* ---- ranges.c ---- */

typedef void (*dir_value_cb)(void *arg, const struct berval *value);

/*
 * Hand every value of attr ("member", "uniqueMember") of the group dn to
 * cb. entry is the group as already read (may be NULL): its plain attr
 * values are used, and when it holds "attr;range=lo-hi" instead, the rest
 * is read chunk by chunk until the server's description ends in "-*".
 * step > 0 asks for ranges of step values from the start (entry unused).
 */
enum dir_status dir_member_values(struct dir_ldap *dl, LDAPMessage *entry, const char *dn,
    const char *attr, size_t step, dir_value_cb cb, void *arg, struct errbuf *e) MUST_USE;
/*
 * Parse "attr;range=LO-HI" or "attr;range=LO-*" (case-insensitive attr):
 * 0 and lo, hi, last set, or -1 when desc is not a range of attr.
 */
int dir_parse_range(const char *desc, const char *attr, size_t *lo, size_t *hi, bool *last);

/* ---- ldap_accesslog.c: member changes from slapd's accesslog ---- */

/* What one reqMod value says about a group's members. */
enum dir_alog_mod {
	DIR_ALOG_OTHER,   /* another attribute, or no "attr:" at all: nothing */
	DIR_ALOG_MEMBER,  /* a member or uniqueMember value added or removed */
	DIR_ALOG_WHOLE,   /* values replaced or all deleted, or one not trusted */
};

/*
 * Parse one reqMod value (val, len: untrusted octets). DIR_ALOG_MEMBER
 * sets *norm to the value's normalized DN (new); otherwise *norm is NULL.
 */
enum dir_alog_mod dir_alog_parse_mod(const char *val, size_t len, char **norm);

/*
 * The members of group_dn added or removed by its changes after the CSN
 * since up to the CSN upto (the change the stream pushed), read from the
 * log one level under log_base, added to changed (normalized DNs). On
 * DIR_OK, *whole is NULL when changed says it all, or why the group must
 * be read whole instead (static). Another status: the log could not be
 * read (e says why).
 */
enum dir_status dir_alog_members(struct dir_ldap *dl, const char *log_base,
    const char *group_dn, const char *since, const char *upto, struct strset *changed,
    const char **whole, struct errbuf *e) MUST_USE;

/* ---- ldap_members.c ---- */

/*
 * dir_read_person() of the OpenLDAP backend (ldap_person_groups.c): the
 * entry at ref read as a group member is, and the groups that list it,
 * found upwards from it.
 */
enum dir_status dir_ldap_read_person(void *state, const char *ref,
    const struct conf_group *const *groups, size_t n_groups, struct user *out, bool *in,
    bool *found, struct errbuf *e) MUST_USE;

/*
 * The transitive members of group_dn that are people, nesting resolved
 * here (groupOfNames and groupOfUniqueNames), appended to out sorted by
 * DN; all or nothing. The group_members of the OpenLDAP backend.
 */
enum dir_status dir_ldap_expand_group(struct dir_ldap *dl, const char *group_dn,
    struct user_list *out, struct errbuf *e) MUST_USE;

/* ---- ldap_search.c: an entry's attributes, parsed once ---- */

/*
 * libldap's ldap_get_values_len() walks an entry from its start and copies
 * every attribute name it passes, on every call: the ten lookups a person
 * takes were most of what reading 3,000 people cost the client. A
 * dir_entry is one walk (ldap_get_attribute_ber); its names and values
 * point into the message (borrowed: close it before freeing the message).
 *
 *   struct dir_entry de;
 *   dir_entry_open(ld, entry, &de);
 *   vals = dir_entry_get(&de, "mail", &n);   n values, NULL when none
 *   dir_entry_close(&de);
 *
 * Attribute descriptions match as ldap_get_values_len() matches them
 * (case-insensitive, options included). An entry that does not parse
 * reads as having no attributes.
 */
struct dir_entry {
	size_t n, cap;
	struct berval *names;   /* new array, values borrowed */
	struct berval **vals;   /* new array of BerVarrays (each new) */
	BerElement *ber;
};

void dir_entry_open(LDAP *ld, LDAPMessage *entry, struct dir_entry *de);
const struct berval *dir_entry_get(const struct dir_entry *de, const char *attr, size_t *n);
void dir_entry_close(struct dir_entry *de);
/* Does objectClass hold name (case-insensitive)? */
bool dir_entry_is(const struct dir_entry *de, const char *name);

/* ---- ldap_person.c ---- */

/*
 * An RFC 4519 person entry (OpenLDAP: entryUUID the id, a ppolicy lock
 * disables) as a user appended to out.
 */
/*
 * The attributes a person of an RFC 4519 directory is read with
 * (dir_ldap_add_person), into attrs (borrowed names, NULL-terminated;
 * room for DIR_LDAP_PERSON_ATTRS + 1). Returns how many.
 */
#define DIR_LDAP_PERSON_ATTRS 10
size_t dir_ldap_person_attrs(const struct conf_directory *c, char **attrs);
void dir_ldap_add_person(struct dir_ldap *dl, LDAPMessage *entry, const char *dn,
    struct user_list *out);
/* First value of a name attribute, if it is sane UTF-8 text (new), else NULL. */
char *dir_get_name(const struct dir_entry *de, const char *attr, const char *dn);
/* display_name (displayName, else cn), given_name (givenName) and surname (sn). */
void dir_fill_names(const struct dir_entry *de, const char *dn, struct user *u);
/* u->mail and u->alt_mails from mail_attribute; a problem when none is usable. */
void dir_fill_mail(struct dir_ldap *dl, const struct dir_entry *de, struct user *u);
/*
 * Append the valid values of attr ([directory] alt_mail_attribute) to
 * u->alt_mails, skipping the primary address and duplicates (any case).
 * dir_fill_mail() calls it when the option is set.
 */
void dir_fill_alt_mails(const struct dir_entry *de, struct user *u, const char *attr);
/*
 * After the last address of u is read: the problem (with the count) when u
 * has more alternative addresses than a certificate may name. more names
 * an attribute read besides mail and alt_mail_attribute (AD:
 * proxyAddresses), or NULL.
 */
void dir_ldap_check_alt_mails(struct dir_ldap *dl, struct user *u, const char *more);

/* ---- ldap_locate.c ---- */

/*
 * The one person entry (user_filter) under base_dn whose mail_attribute is
 * u->mail (*dn_out new), else DIR_BAD_CONFIG saying so; not_found_note is
 * appended to the message when there is none ("" for nothing).
 */
enum dir_status dir_ldap_find_by_mail(struct dir_ldap *dl, const struct user *u,
    const char *not_found_note, char **dn_out, struct errbuf *e) MUST_USE;

/* ---- ldap_holders.c ---- */

/*
 * Every entry under base_dn whose mail_attribute or alt_mail_attribute is
 * addr, or (proxy_attr not NULL: "proxyAddresses") whose proxy_attr is
 * "smtp:" addr; appended to out by DN. The address_holders of both LDAP
 * backends.
 */
enum dir_status dir_ldap_address_holders(struct dir_ldap *dl, const char *addr,
    const char *proxy_attr, struct dir_holders *out, struct errbuf *e) MUST_USE;

/* ---- ldap_publish.c: backend operations (state is a struct dir_ldap) ---- */

enum dir_status dir_ldap_read_certs(void *state, const char *dn, struct dir_cert_values *out,
    struct errbuf *e) MUST_USE;
enum dir_status dir_ldap_apply_certs(void *state, const char *dn,
    const struct dir_cert_change *change, struct errbuf *e) MUST_USE;

/* ---- Active Directory (dir_ad.c, ad_person.c, ad_gc.c) ---- */

/* AD's in-chain matching rule: memberOf with it walks every level of nesting on the server. */
#define DIR_AD_IN_CHAIN_RULE "1.2.840.113556.1.4.1941"

/*
 * The attributes an AD person is read with (dir_ad_add_person), into attrs
 * (borrowed names, NULL-terminated; room for DIR_AD_PERSON_ATTRS + 1): a
 * group read and a person looked up alone ask for the same, so both make
 * the same struct user.
 */
#define DIR_AD_PERSON_ATTRS 12
void dir_ad_person_attrs(const struct dir_ldap *dl, char **attrs);
/*
 * The DN of the group a [group] names (new, in *dn): a sAMAccountName
 * looked up under base_dn, or a DN checked to be a group and spelled as
 * the server spells it. DIR_BAD_CONFIG when there is no such group.
 */
enum dir_status dir_ad_group_dn(struct dir_ldap *dl, const char *group_ref, char **dn,
    struct errbuf *e) MUST_USE;
/* The group's primaryGroupToken; *found false when the entry or the token is not there. */
enum dir_status dir_ad_read_token(struct dir_ldap *dl, const char *dn, int64_t *token,
    bool *found, struct errbuf *e) MUST_USE;
/*
 * dir_read_person() of the AD backend (ad_person_groups.c): the person at
 * the DN ref, and for each group whether its in-chain search or its
 * primary group search would list them.
 */
enum dir_status dir_ad_read_person(void *state, const char *ref,
    const struct conf_group *const *groups, size_t n_groups, struct user *out, bool *in,
    bool *found, struct errbuf *e) MUST_USE;

/* An AD user object as a user appended to out (ad_person.c). */
void dir_ad_add_person(struct dir_ldap *dl, LDAPMessage *entry, const char *dn,
    struct user_list *out);
/* The first value of attr as a decimal integer; false when absent or not a number. */
bool dir_ad_get_int(LDAP *ld, LDAPMessage *entry, const char *attr, int64_t *out);

/*
 * global_catalog = yes: refuse a global catalog whose partial attribute
 * set lacks what eligibility rests on; warn about the rest.
 */
enum dir_status dir_ad_gc_check(struct dir_ldap *dl, struct errbuf *e) MUST_USE;
/* Canonical string form of a 16-byte objectGUID (new), NULL if len != 16. */
char *dir_ad_guid_string(const unsigned char *g, size_t len);
/*
 * What an AD "data XXX" sub-code in a bind diagnostic means and what to do
 * (borrowed, static), or NULL when diag has none we know.
 */
const char *dir_ad_bind_hint(const char *diag);

#endif
