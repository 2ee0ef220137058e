/* SPDX-License-Identifier: ISC */
/*
 * What directory/backend.c needs from each type of directory. Private to
 * directory/.
 *
 * One struct dir_backend per enum dir_type (dir_ldap.c, dir_ad.c,
 * dir_graph.c, dir_csv.c), one row per type in backend.c's table, and the
 * public dir_* functions of directory.h call through it. Adding a type is
 * one file and one row.
 *
 * The contract of the operations:
 *
 *   open         from the [directory] section (borrowed for the life of
 *                the state) and the bind password (borrowed, only during
 *                the call) into a state of the backend's own. On failure
 *                it leaves *state NULL, frees what it made and says why
 *                in e; the status is typed as in directory.h.
 *   close        frees the state; never NULL in a row.
 *   group_members  appends the people of the group named by ref (a DN,
 *                or what the type also accepts) to out, all or nothing:
 *                on failure out holds what it held before.
 *   read_group   appends the members of a [group] read under its policy.
 *                NULL: the dispatcher calls group_members(g->group_dn).
 *                A type whose groups need their policy (Graph) has
 *                read_group and no group_members.
 *   find_person, read_certs, apply_certs
 *                the publisher's side, as directory.h describes. A type
 *                that cannot hold certificates leaves all three NULL and
 *                says why in cannot_publish: the dispatcher turns any call
 *                into one error "[directory NAME]: <cannot_publish>".
 *                apply_certs gets only a change that is not empty and
 *                never adds and deletes the same value (the dispatcher
 *                checks both).
 *   read_person  one person and their memberships (directory.h
 *                dir_read_person): the dispatcher has cleared out, in[] and
 *                *found; NULL for a type that cannot (DIR_UNSUPPORTED).
 *   address_holders  appends to out every entry that carries the address
 *                (directory.h says which attributes count), searching the
 *                whole directory, not only the groups; all or nothing.
 *
 *   watch        the change stream (directory.h, "change streams"), or NULL
 *                for a type without one (CSV). See struct dir_watch_ops.
 *
 * Backends never log secrets (bind passwords, client secrets).
 */
#ifndef SMIMESYNC_DIRECTORY_BACKEND_H
#define SMIMESYNC_DIRECTORY_BACKEND_H

#include <jansson.h>

#include "common/attrs.h"
#include "common/errbuf.h"
#include "conf/conf.h"
#include "directory/dir_internal.h"
#include "directory/directory.h"
#include "net/graph.h"

struct dir_watch;
struct dir_watch_ops;

struct dir_backend {
	const char *title; /* what the type is, in messages: "Microsoft Graph" */
	enum dir_status (*open)(const struct conf_directory *conf, const char *bind_password,
	    void **state, struct errbuf *e);
	void (*close)(void *state);
	enum dir_status (*group_members)(void *state, const char *ref, struct user_list *out,
	    struct errbuf *e);
	enum dir_status (*read_group)(void *state, const struct conf_group *g,
	    struct user_list *out, struct errbuf *e);
	enum dir_status (*find_person)(void *state, const struct user *u, char **dn_out,
	    struct errbuf *e);
	enum dir_status (*read_certs)(void *state, const char *dn, struct dir_cert_values *out,
	    struct errbuf *e);
	enum dir_status (*apply_certs)(void *state, const char *dn,
	    const struct dir_cert_change *change, struct errbuf *e);
	const char *cannot_publish; /* with the three above NULL: why, as a sentence */
	bool person_by_dn; /* read_person's ref is the DN (LDAP entries), else the user id */
	enum dir_status (*read_person)(void *state, const char *ref,
	    const struct conf_group *const *groups, size_t n_groups, struct user *out, bool *in,
	    bool *found, struct errbuf *e);
	/* Who holds an address (directory.h dir_address_holders); never NULL in a row. */
	enum dir_status (*address_holders)(void *state, const char *addr,
	    struct dir_holders *out, struct errbuf *e);
	const struct dir_watch_ops *watch; /* NULL: no change stream */
};

extern const struct dir_backend dir_ldap_backend;
extern const struct dir_backend dir_ad_backend;
extern const struct dir_backend dir_graph_backend;
extern const struct dir_backend dir_csv_backend;

/* The row of a type (static), or NULL for a value outside enum dir_type. */
const struct dir_backend *dir_backend_of(enum dir_type type);

/* One open directory: which backend, its section, and the backend's state. */
struct dir_conn {
	const struct dir_backend *be;
	const struct conf_directory *conf; /* borrowed: lives as long as the config */
	char *label;                       /* new: "[directory NAME]", for messages */
	void *state;                       /* the backend's (ldap, ad: a struct dir_ldap) */
};

/*
 * A change stream (watch.c dispatches; ldap_watch.c, ad_watch.c,
 * graph_watch.c implement). The contract of the operations:
 *
 *   kind    the stream a [directory] of this type follows as configured
 *           (never DIR_STREAM_NONE in a row that has ops).
 *   open    connect (connections of its own; the bind password is
 *           borrowed during the call only) and check that the server
 *           offers the stream: DIR_UNSUPPORTED saying why when it does
 *           not. w->pos is the position to resume from (borrowed JSON,
 *           what the backend handed to dir_watch_set_position() before) or
 *           NULL: start from now. Nothing is read yet.
 *   poll    one round: wait up to timeout_s for news when the stream can
 *           notify, else ask when poll_interval has passed (sleeping until
 *           then, at most timeout_s, a signal ending the sleep); report
 *           every change with dir_watch_person/gone/group/full() and the
 *           position the changes lead to with dir_watch_set_position()
 *           (every DIR_OK poll sets one, unchanged or not). With w->pos
 *           NULL, or after dir_watch_full(), the position must be one from
 *           before the caller's full read: taken now, never later. After
 *           a failed poll (w->rewind) watch.c has put w->pos back to the
 *           position last handed out, and the backend resumes from there
 *           (reconnecting when it must): what the failed poll saw comes
 *           again.
 *   close   frees the state (NULL allowed).
 */
struct dir_watch_ops {
	enum dir_stream_kind (*kind)(const struct conf_directory *conf);
	enum dir_status (*open)(struct dir_watch *w, const char *bind_password, void **state,
	    struct errbuf *e);
	enum dir_status (*poll)(struct dir_watch *w, void *state, int timeout_s,
	    struct errbuf *e);
	void (*close)(void *state);
};

extern const struct dir_watch_ops dir_ldap_watch_ops;
extern const struct dir_watch_ops dir_ad_watch_ops;
extern const struct dir_watch_ops dir_graph_watch_ops;

/* One watch: the stream's common part, kept by watch.c, read by backends. */
struct dir_watch {
	const struct dir_backend *be;
	const struct conf_directory *conf;  /* borrowed */
	char *label;                        /* new: "[directory NAME]" */
	const struct conf_group **groups;   /* array new, elements borrowed: the watched groups */
	size_t n_groups;
	unsigned flags;                     /* DIR_WATCH_* */
	enum dir_stream_kind kind;
	json_t *pos;                        /* the position last handed out, or NULL (owned) */
	bool rewind;                        /* the last poll failed: resume from pos */
	void *state;                        /* the backend's */
	/* This batch (the first one: also what open found in the stored state). */
	bool full;                          /* a FULL_READ, kept until a poll succeeds */
	enum dir_full_reason full_reason;
	char *full_why;                     /* new */
	bool *hit;                          /* per watched group: named in this batch */
	char *hit_dn;                       /* new: the first entry that named one */
	struct dir_changes *out;            /* the batch being filled (borrowed during poll) */
	size_t n_changes;                   /* PERSON and GONE in this batch, counted */
	bool too_many;
	struct dir_stream_info info;        /* of w->pos (owned strings) */
};

/*
 * What a backend reports during poll. person: *u is taken over (its fields
 * stolen, *u zeroed), read under g's policy (NULL: none applies). gone: id
 * and dn copied (dn may be NULL). group: the watched group groups[index]
 * must be read again; dn (copied, may be NULL) says which entry changed.
 * full: a full read is needed (printf-style why).
 */
void dir_watch_person(struct dir_watch *w, struct user *u, const struct conf_group *g);
void dir_watch_gone(struct dir_watch *w, const char *id, const char *dn);
void dir_watch_group(struct dir_watch *w, size_t index, const char *dn);
void dir_watch_full(struct dir_watch *w, enum dir_full_reason reason, const char *fmt, ...)
    PRINTF_LIKE(3, 4);
/*
 * The position the changes reported so far lead to: pos is stolen (a JSON
 * object of the backend's), the strings of info are copied (kind is set
 * by watch.c).
 */
void dir_watch_set_position(struct dir_watch *w, json_t *pos, const char *server,
    const char *server_id, const char *position, long long issued);
/* True once this batch holds too many changes to follow one by one. */
bool dir_watch_overflowing(const struct dir_watch *w);

/*
 * For streams that ask rather than being told (AD, Graph, refreshOnly):
 * *next_due is when to ask next (monotonic seconds, 0 at first). True when
 * it is time, after sleeping until then if that comes within timeout_s;
 * false when timeout_s or a signal ended the wait first.
 * dir_watch_asked() sets *next_due poll_interval from now.
 */
bool dir_watch_due(struct dir_watch *w, double *next_due, int timeout_s);
void dir_watch_asked(struct dir_watch *w, double *next_due);

/*
 * The bind password for a reconnect, read again from bind_password_file
 * (*out new, secret_free_str() it; NULL without a file): the watch keeps
 * no copy of it between connections. 0, or -1 with e set.
 */
int dir_watch_password(const struct dir_watch *w, char **out, struct errbuf *e) MUST_USE;

/* ---- Microsoft Graph (dir_graph.c), shared with its change stream (graph_watch.c) ---- */

/* What is read of a user: every property a struct user is made from. */
#define DIR_GRAPH_USER_SELECT "id,displayName,givenName,surname,mail,otherMails," \
	"proxyAddresses,userPrincipalName,accountEnabled,userType,onPremisesDistinguishedName," \
	"preferredLanguage"

/* The Graph backend's state: the Graph client of the section's app registration. */
struct graph_dir {
	const struct conf_directory *conf; /* borrowed */
	char *label;                       /* new: "[directory NAME]", the client's too */
	struct graph *graph;
	/*
	 * [group] name -> object id, as people looked up alone resolved them:
	 * once per connection (a run), not once per person.
	 */
	json_t *group_ids;
};

/* The row's open and close (a struct graph_dir as the state). */
enum dir_status dir_graph_open(const struct conf_directory *conf, const char *bind_password,
    void **state, struct errbuf *e) MUST_USE;
void dir_graph_close(void *state);
/* The object id of [group] g (new): group_id, or looked up by group_name. */
enum dir_status dir_graph_resolve_group(struct graph_dir *gd, const struct conf_group *g,
    char **id_out, struct errbuf *e) MUST_USE;
/* The row's read_person (graph_person.c): ref is the user's object id. */
enum dir_status dir_graph_read_person(void *state, const char *ref,
    const struct conf_group *const *groups, size_t n_groups, struct user *out, bool *in,
    bool *found, struct errbuf *e) MUST_USE;
/*
 * member[i]: is user id in the group of object id ids[i] (NULL: skipped),
 * transitively? One checkMemberGroups per 20 ids, Graph's limit (in
 * graph_person.c). *gone: Graph no longer knows the user (404).
 */
enum dir_status dir_graph_check_member_groups(struct graph_dir *gd, const char *id,
    char *const *ids, size_t n, bool *member, bool *gone, struct errbuf *e) MUST_USE;
/* A Graph client's status as a directory status. */
enum dir_status dir_graph_status(enum graph_status st);

/*
 * Reading the pages of a transitiveMembers answer (dir_graph.c), apart
 * from the network so that the unit test and the fuzz target can feed it
 * pages directly. Users are appended to out under g's policy; ids seen on
 * earlier pages are skipped.
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

#endif
