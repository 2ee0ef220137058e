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
	DIR_UNSUPPORTED,  /* the server does not offer it (a change stream, the right for DirSync) */
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
 * One person looked up by themselves, with their memberships: what an
 * incremental run needs to plan someone without reading their groups
 * whole (a new member the stream names, a leaver, a renewal that is due).
 *
 * ref is how the store knows the person: the entry's DN (ldap, ad), the
 * user id (graph), the row's id (csv). groups[] are enabled [group]s of
 * this directory (borrowed). On DIR_OK:
 *   *found  false when there is no such entry, or it is no longer a
 *           person in scope (outside base_dn, not matching user_filter):
 *           *out is untouched and in[] all false;
 *   *out    the person (new; user_free_fields() it) read exactly as
 *           dir_read_group() reads members, under the policy of the first
 *           of groups[] they are in (of groups[0] when in none);
 *   in[i]   true when groups[i]'s dir_read_group() would list them now,
 *           directly or through nested groups (as far as the group's
 *           nesting lies within what the directory can search: under
 *           base_dn for ldap, the domain for ad).
 * DIR_UNSUPPORTED (e says why): this type cannot look people up one by
 * one; the caller reads their groups whole instead.
 */
enum dir_status dir_read_person(struct dir_conn *dc, const char *ref,
    const struct conf_group *const *groups, size_t n_groups, struct user *out, bool *in,
    bool *found, struct errbuf *e) MUST_USE;
/* Can conf's type look people up one by one at all (a given server may still refuse)? */
bool dir_reads_person(const struct conf_directory *conf);
/* The ref dir_read_person() takes for a person known by id and dn (borrowed; may be NULL). */
const char *dir_person_ref(const struct conf_directory *conf, const char *id, const char *dn);

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

/* ---- change streams (watch.c) --------------------------------------------
 *
 * Between full reads, a directory's own change stream says what changed:
 * RFC 4533 content synchronisation on OpenLDAP (ldap_watch.c), uSNChanged
 * polling or DirSync on Active Directory (ad_watch.c), delta queries on
 * Microsoft Graph (graph_watch.c). A CSV file has none. Usage, as the
 * daemon is meant to follow one [directory]:
 *
 *   struct dir_watch *w = NULL;
 *   struct dir_changes ch = { 0 };
 *
 *   st = dir_watch_open(conf, bind_password, groups, n_groups,
 *       stored_state_or_NULL, 0, &w, &e);
 *   DIR_UNSUPPORTED: the server offers no stream, e says why
 *       (incremental = auto: full reads only; incremental = yes: refuse to start)
 *   loop:
 *     st = dir_watch_poll(w, 1, &ch, &e);     one second at most; check stop flags
 *     if (st != DIR_OK) ... directory down: dir_watch_close(), reopen later from the
 *         state last committed (the watch itself also resumes on the next poll)
 *     for each ch.v[i]:
 *       DIR_CHANGE_FULL_READ  read every group of this directory whole (dir_read_group)
 *       DIR_CHANGE_GROUPS     read ch.v[i].groups[] again, whole
 *       DIR_CHANGE_PERSON     this person (ch.v[i].user) was added or changed
 *       DIR_CHANGE_GONE       the person with this id (ch.v[i].id) is gone
 *     act on them; then, in ONE store transaction, record what was done and
 *     ch.state (store_stream_put(), with ch.info for the other columns)
 *     dir_changes_clear(&ch);
 *   dir_watch_close(w);
 *
 * The state. ch.state is an opaque string (JSON text, at most a few KB)
 * that describes the point of the stream up to which ch holds every
 * change. Store it in the same transaction as what the changes did: after
 * a crash the watch reopened from the stored state delivers again what was
 * not committed, and nothing that was. A state is tied to the directory it
 * came from (type, server, base, filter): opened under another
 * configuration it yields DIR_CHANGE_FULL_READ.
 *
 * A full read comes first. Without a stored state, with one the server no
 * longer accepts, and whenever the stream cannot say what changed, the
 * batch holds one DIR_CHANGE_FULL_READ (reason and a sentence for the
 * report) and ch.state marks a point taken BEFORE the caller's full read:
 * read everything, then commit ch.state; a change made during the read is
 * delivered again afterwards (changes are idempotent to act on, a repeat is
 * harmless; a gap would not be). A batch with FULL_READ holds nothing else:
 * the full read covers whatever else the stream said.
 *
 * What each change means for the caller:
 *   PERSON  a person entry (user_filter) was added or changed: mail, names,
 *           alternative addresses or account state (user.enabled, .problem
 *           as dir_read_group() sets them). It says nothing about groups: a
 *           person of no watched group is of no concern; one the caller
 *           knows is planned again with these values. Changes to a person's
 *           memberships come as GROUPS. Graph reads people under a group's
 *           policy, so there a PERSON comes once per watched group the
 *           person is in (.group), and not at all for one in none.
 *   GONE    a person was deleted, or is no longer a person in scope (moved
 *           out of base_dn, no longer matching user_filter, deleted in
 *           Entra): id is the stable id the caller knows them by; dn when
 *           known. GONE may name ids the caller never saw (other people,
 *           or a deleted group): ignore those.
 *   GROUPS  the members of these watched [group]s may have changed: read
 *           each again whole. A change anywhere below a watched group (a
 *           member added to or removed from a nested group, a nested group
 *           added, removed or deleted) names the watched group above it,
 *           never the whole directory. Also sent once for a group watched
 *           for the first time (added to the configuration since the state
 *           was stored).
 *   FULL_READ  the stream cannot say what changed (reason below).
 *
 * Each backend's limits (what its stream cannot see, and when it asks for a
 * full read) are in doc/incremental.md.
 *
 * Signals: the caller ignores SIGPIPE (the daemon does): a connection the
 * server dropped is written to once more when the watch closes it.
 *
 * Ownership: struct dir_changes owns every string and user in it and its
 * state; dir_changes_clear() frees them. .groups[] points at the caller's
 * conf_group values (borrowed from the configuration, like the watch).
 */

/* What a [directory] follows (the store's stream_state.kind). */
enum dir_stream_kind {
	DIR_STREAM_NONE = 0,     /* no stream: full reads only */
	DIR_STREAM_SYNCREPL,     /* OpenLDAP: RFC 4533 content synchronisation */
	DIR_STREAM_AD_USN,       /* Active Directory: uSNChanged polling of one DC */
	DIR_STREAM_AD_DIRSYNC,   /* Active Directory: the DirSync control */
	DIR_STREAM_GRAPH_DELTA,  /* Microsoft Graph: /users/delta and /groups/delta */
};

/* "syncrepl", "ad-usn", "ad-dirsync", "graph-delta", "none" (static). */
const char *dir_stream_kind_name(enum dir_stream_kind k);

/*
 * The stream conf would follow as configured (incremental, ad_changes),
 * without connecting: DIR_STREAM_NONE for a CSV file or incremental = no.
 */
enum dir_stream_kind dir_stream_kind_of(const struct conf_directory *conf);

enum dir_change_kind {
	DIR_CHANGE_PERSON,
	DIR_CHANGE_GONE,
	DIR_CHANGE_GROUPS,
	DIR_CHANGE_FULL_READ,
};

/* Why a full read is needed (FULL_READ). */
enum dir_full_reason {
	DIR_FULL_NO_STATE,         /* nothing stored yet: the first start */
	DIR_FULL_STATE_INVALID,    /* the stored state is unreadable, or of another directory */
	DIR_FULL_REFRESH_REQUIRED, /* OpenLDAP said e-syncRefreshRequired (cookie too old) */
	DIR_FULL_COOKIE_REFUSED,   /* the server refused the stored cookie or position */
	DIR_FULL_NO_DELETES,       /* the server could replay changes but not deletions */
	DIR_FULL_DC_CHANGED,       /* AD: another domain controller answers */
	DIR_FULL_DC_RESTORED,      /* AD: the DC's invocationId changed (restored from backup) */
	DIR_FULL_LINK_EXPIRED,     /* Graph: syncStateNotFound, or a link older than six days */
	DIR_FULL_RESYNC,           /* Graph: 410 Gone, "restart with a full synchronization" */
	DIR_FULL_TOO_MANY,         /* more changes than are worth following one by one */
};

/* "no-state", "state-invalid", "refresh-required", ... (static), for reports and metrics. */
const char *dir_full_reason_name(enum dir_full_reason r);

struct dir_change {
	enum dir_change_kind kind;
	struct user user;                  /* PERSON */
	const struct conf_group *group;    /* PERSON from Graph: the watched group whose policy
	                                      (include_guests, mail_from_upn) read user, one
	                                      change per such group; NULL elsewhere (borrowed) */
	char *id;                          /* GONE: the person's stable id */
	char *dn;                          /* GONE, GROUPS: the entry that changed, when known */
	const struct conf_group **groups;  /* GROUPS: the watched groups to read again (array
	                                      new, elements borrowed) */
	size_t n_groups;
	enum dir_full_reason reason;       /* FULL_READ */
	char *why;                         /* FULL_READ: one sentence for the report */
};

/* The stream's position, described for people (the store's other columns). */
struct dir_stream_info {
	enum dir_stream_kind kind;
	char *server;     /* AD: the DC's DNS name; OpenLDAP: the URI; Graph: graph_host */
	char *server_id;  /* AD: the DC's invocationId; else NULL */
	char *position;   /* AD: highestCommittedUSN; OpenLDAP: the cookie's CSN; else NULL */
	long long issued; /* Graph: when the delta link was issued (time_t); else 0 */
};

struct dir_changes {
	struct dir_change *v;
	size_t n, cap;
	char *state;                 /* new: the state after these changes (never NULL
	                                after a DIR_OK poll) */
	struct dir_stream_info info; /* of state */
};

void dir_changes_clear(struct dir_changes *c);

struct dir_watch;

/*
 * Start following conf's stream. conf, groups[] and the conf_group values
 * they point at are borrowed for the life of the watch; groups are the
 * watched [group]s of this directory (their members matter). bind_password
 * is borrowed during the call. state is what a previous batch handed out
 * (NULL: nothing stored). The watch opens connections of its own.
 *
 * Returns DIR_UNSUPPORTED (e says why: no syncprov, no Replicating
 * Directory Changes right, no delta permission, a CSV file, incremental =
 * no) when there is no stream to follow; other errors as dir_open().
 */
enum dir_status dir_watch_open(const struct conf_directory *conf, const char *bind_password,
    const struct conf_group *const *groups, size_t n_groups, const char *state,
    unsigned flags, struct dir_watch **out, struct errbuf *e) MUST_USE;

/*
 * flags of dir_watch_open(). DIR_WATCH_NO_PERSIST: OpenLDAP, hold no
 * persistent search, ask with one refreshOnly search every poll_interval
 * (what the watch falls back to by itself when the server refuses
 * refreshAndPersist; for servers, proxies or firewalls that break long
 * searches).
 */
#define DIR_WATCH_NO_PERSIST 0x1u

/*
 * Append what changed to out (which must be empty or cleared) and set
 * out->state and out->info. Waits at most timeout_s seconds (0: not at
 * all) for the first change; returns as soon as something has come and
 * what came with it has been read. A batch that would hold more than
 * DIR_WATCH_MAX_CHANGES changes (a bulk import, a long outage) is one
 * FULL_READ (DIR_FULL_TOO_MANY) instead, whose state covers them: a full
 * read is cheaper than following them one by one, and memory stays
 * bounded; what comes after keeps coming. A stream that cannot notify
 * (AD, Graph, OpenLDAP refreshOnly) is
 * asked at most every poll_interval; in between a poll only waits. A
 * signal ends the wait early (out then holds no change and the current
 * state). The first poll after open does the catching up (refresh) and may
 * take longer than timeout_s.
 *
 * On an error nothing in out is valid, and the watch resumes from the
 * state it last handed out on the next poll (reconnecting when the server
 * went away); a caller that did not commit that state closes the watch and
 * opens it again from its stored state.
 */
enum dir_status dir_watch_poll(struct dir_watch *w, int timeout_s, struct dir_changes *out,
    struct errbuf *e) MUST_USE;
void dir_watch_close(struct dir_watch *w);

/* The most changes one batch holds; more at once are a full read. */
#define DIR_WATCH_MAX_CHANGES 10000

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
