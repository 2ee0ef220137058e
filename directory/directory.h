/* SPDX-License-Identifier: ISC */
/*
 * Room directory/: all directory I/O, one backend per directory type.
 *
 * Directory I/O: read who is in a group, and publish certificates back.
 *
 * Every [directory] type (ldap, ad, graph, csv) is one backend behind this
 * one interface (directory/backend.h, dispatched in backend.c): callers
 * never ask which type they hold. A type that cannot do something (Graph
 * and CSV hold no certificates) answers with an error saying so.
 *
 * Usage:
 *
 *   struct dir_conn *dc = NULL;
 *   struct user_list members = { 0 };
 *   struct errbuf e;
 *
 *   if (dir_open(conf_dir, bind_password, &dc, &e) != DIR_OK) ... e.text ...
 *   st = dir_group_members(dc, "cn=smime-sales,ou=groups,dc=example,dc=org", &members, &e);
 *   for each members.v[i]: v[i].problem != NULL means "report it, do not provision"
 *   dir_read_certs(dc, user->dn, &values, &e);  ... compute a change ...
 *   dir_apply_certs(dc, user->dn, &change, &e);
 *   user_list_free(&members);
 *   dir_close(dc);
 *
 * For ldap and ad, one dir_conn is one LDAP connection (bound once, reused
 * for every search and modify); for graph, one Graph client with its
 * token. Errors are typed (enum dir_status) so the engine can tell
 * "directory down: change nothing" (UNREACHABLE, AUTH_FAILED, BAD_CONFIG,
 * FAILED) from "this one entry is broken" (a struct user with .problem set,
 * returned alongside the good ones, never dropped silently).
 *
 * Every filter value built from data is escaped (RFC 4515,
 * dir_filter_escape()); DNs are compared in normalized form.
 *
 * Ownership: struct user and struct user_list own all their strings;
 * user_list_free() releases them. dir_cert_values owns its DER blobs.
 * struct dir_cert_change only borrows.
 */
#ifndef SMIMESYNC_DIRECTORY_DIRECTORY_H
#define SMIMESYNC_DIRECTORY_DIRECTORY_H

#include <stdbool.h>
#include <stddef.h>

#include "common/attrs.h"
#include "common/errbuf.h"
#include "conf/conf.h"

enum dir_status {
	DIR_OK = 0,
	DIR_UNREACHABLE,  /* cannot connect / TLS handshake failed / timeout */
	DIR_AUTH_FAILED,  /* bind refused */
	DIR_BAD_CONFIG,   /* base DN or group does not exist, bad URI ... */
	DIR_FAILED,       /* any other server-side error; message says which */
};

const char *dir_status_name(enum dir_status st);

/* A person as the directory describes them, normalized across sources. */
struct user {
	char *id;           /* stable id: entryUUID (LDAP), objectGUID (AD), id (Graph) */
	char *dn;           /* the entry's DN; Graph: userPrincipalName (users/ID without one) */
	char *mail;         /* primary address; NULL when none is usable */
	char **alt_mails;   /* alternative addresses, may be empty; at most
	                       DIR_MAX_ALT_MAILS of DIR_MAX_ALT_BYTES in all */
	size_t n_alt_mails;
	size_t n_alt_over;  /* values beyond those bounds: counted, not kept (.problem says so) */
	char *display_name; /* displayName, else cn; may be NULL */
	char *given_name;
	char *surname;
	char *upn;          /* userPrincipalName when the directory has one */
	char *language;     /* preferredLanguage as the directory has it ("de-CH",
	                       "fr, en;q=0.5"), or NULL: picks the mail templates */
	char *onprem_dn;    /* Graph: onPremisesDistinguishedName of a user synchronised
	                       from an on-premises AD by Entra Connect, else NULL */
	bool enabled;
	const char *source; /* borrowed: the [directory NAME] this came from */
	char *problem;      /* NULL, or why this entry cannot be provisioned */
};

/*
 * The most alternative addresses one person may have, and their total size:
 * a certificate names every one, and CAs cap the SAN (a busy AD mailbox has
 * a dozen proxyAddresses; hundreds are a mistake or an attack). A person
 * beyond either bound is reported with the count, never half certified.
 */
#define DIR_MAX_ALT_MAILS 32
#define DIR_MAX_ALT_BYTES 4096

struct user_list {
	struct user *v;
	size_t n;
	size_t cap;
};

void user_free_fields(struct user *u);
void user_list_free(struct user_list *l);
/* Append a zeroed element and return it (owned by the list). */
struct user *user_list_push(struct user_list *l);

struct dir_conn;

/*
 * Connect and bind. conf is a [directory] section as config_load() made
 * it (defaults filled in, user_filter included) and is borrowed for the
 * life of the connection. bind_password is borrowed (read by the caller
 * from conf->bind_password_file) and may be NULL for SASL or anonymous
 * binds.
 */
enum dir_status dir_open(const struct conf_directory *conf, const char *bind_password,
    struct dir_conn **out, struct errbuf *e) MUST_USE;
void dir_close(struct dir_conn *dc);

/*
 * Append the transitive members of group_dn that are people to out.
 * groupOfNames (member) and groupOfUniqueNames (uniqueMember) are both
 * understood; nested groups are resolved here with loop detection; a
 * member DN that does not exist or is not a person is logged at debug
 * level and skipped (it is not a person we could provision). A person
 * entry that lacks a usable mail is returned with .problem set.
 * Returns DIR_BAD_CONFIG when group_dn does not exist.
 *
 * With type = ad the DC resolves nesting (in-chain matching rule, plus the
 * people whose primaryGroupID is the group or a nested one), and group_dn
 * may also be a sAMAccountName (a string without '='), looked up under
 * base_dn. Disabled and expired accounts come back with enabled = false
 * and .problem set.
 */
enum dir_status dir_group_members(struct dir_conn *dc, const char *group_dn,
    struct user_list *out, struct errbuf *e) MUST_USE;

/*
 * The members of [group] g, read as its policy says: dir_group_members()
 * on g->group_dn for LDAP, AD and CSV; for type = graph (Microsoft Graph,
 * graph_source.c) the group is found by object id or display name and its
 * transitive user members are read page by page, guests left out unless
 * g->include_guests, userPrincipalName standing in for a missing mail only
 * with g->mail_from_upn, disabled accounts returned with enabled = false
 * and .problem set. A failed read (DIR_OK not returned) leaves out in an
 * unspecified state: the caller must not use it.
 */
enum dir_status dir_read_group(struct dir_conn *dc, const struct conf_group *g,
    struct user_list *out, struct errbuf *e) MUST_USE;

/*
 * Where u (read from another directory, e.g. Entra ID) lives in this one,
 * the group's publish target: with type = ad an entry at u->onprem_dn (an
 * Entra user) or else at u->dn (a person read from a global catalog) that
 * matches user_filter, else the one entry under base_dn matching
 * user_filter whose mail_attribute is u->mail. *dn_out is new. Returns
 * DIR_BAD_CONFIG with e saying so when there is no such entry or more
 * than one (nothing is published to a guess).
 */
enum dir_status dir_find_person(struct dir_conn *dc, const struct user *u, char **dn_out,
    struct errbuf *e) MUST_USE;

/* A binary attribute value. */
struct dir_value {
	unsigned char *data;
	size_t len;
};

/* The certificate attributes of one entry as they are now. */
struct dir_cert_values {
	struct dir_value *user_cert;  /* userCertificate(;binary): DER X.509 */
	size_t n_user_cert;
	struct dir_value *smime;      /* userSMIMECertificate: DER PKCS#7 */
	size_t n_smime;
};

void dir_cert_values_free(struct dir_cert_values *v);

/* What to add and delete, value by value (borrowed). */
struct dir_cert_change {
	const struct dir_value *add_user_cert;
	size_t n_add_user_cert;
	const struct dir_value *del_user_cert;
	size_t n_del_user_cert;
	const struct dir_value *add_smime;
	size_t n_add_smime;
	const struct dir_value *del_smime;
	size_t n_del_smime;
};

enum dir_status dir_read_certs(struct dir_conn *dc, const char *dn,
    struct dir_cert_values *out, struct errbuf *e) MUST_USE;

/*
 * Apply a change in one modify operation, so the entry never shows a
 * half-applied state. Adding a value that is already there and deleting
 * one that is gone are not errors (idempotent). An empty change is a no-op.
 */
enum dir_status dir_apply_certs(struct dir_conn *dc, const char *dn,
    const struct dir_cert_change *change, struct errbuf *e) MUST_USE;

/*
 * Who holds an address (invariant I5): every entry of the directory, in any
 * group or none, that carries addr as one of its addresses. LDAP: the
 * mail_attribute (any value) or alt_mail_attribute; AD also proxyAddresses
 * smtp:/SMTP: (the DC compares without case); Graph: mail, proxyAddresses
 * or otherMails; CSV: any row's mail or alt_mails. One search under the
 * whole base (LDAP and AD ask for no attributes: "1.1"), so the engine asks
 * only for the addresses of a certificate it is about to request. The
 * value is escaped for the filter (RFC 4515; OData quotes for Graph).
 */
struct dir_holder {
	char *dn; /* new: the entry's DN (Graph: userPrincipalName, else users/ID) */
	char *id; /* new: its stable id where the answer carries one (Graph, CSV), else NULL */
};

struct dir_holders {
	struct dir_holder *v;
	size_t n;
};

void dir_holders_free(struct dir_holders *h);

/* Fills *out (set afresh; free with dir_holders_free()), DIR_OK even when nobody holds it. */
enum dir_status dir_address_holders(struct dir_conn *dc, const char *addr,
    struct dir_holders *out, struct errbuf *e) MUST_USE;

/*
 * RFC 4515 escaping of an assertion value: * ( ) \ NUL and non-ASCII bytes
 * become \XX. Returns a new string.
 */
char *dir_filter_escape(const char *value, size_t len);

/* Normalized form of a DN for comparisons (new), NULL if not a DN. */
char *dir_dn_normalize(const char *dn);

#endif
