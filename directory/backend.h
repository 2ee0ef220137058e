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
 *   address_holders  appends to out every entry that carries the address
 *                (directory.h says which attributes count), searching the
 *                whole directory, not only the groups; all or nothing.
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
	/* Who holds an address (directory.h dir_address_holders); never NULL in a row. */
	enum dir_status (*address_holders)(void *state, const char *addr,
	    struct dir_holders *out, struct errbuf *e);
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
