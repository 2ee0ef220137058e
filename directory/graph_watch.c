/* SPDX-License-Identifier: ISC */
/*
 * The Microsoft Graph change stream (type = graph): delta queries on users
 * and on groups (learn.microsoft.com/graph/delta-query-overview), asked
 * every poll_interval.
 *
 *   GET /v1.0/users/delta?$select=<what a struct user is made of>
 *   GET /v1.0/groups/delta?$select=displayName,members
 *
 * A position is the two @odata.deltaLink URLs, followed verbatim (their
 * tokens hold the $select, as Graph does), and when they were issued. "Sync
 * from now" ($deltatoken=latest) gives the position a full read starts
 * from, without paging through the tenant. Each round follows every
 * @odata.nextLink to the new @odata.deltaLink.
 *
 * What the stream says, as directory.h's changes:
 *   - a user removed (@removed, "changed": soft-deleted, "deleted": gone
 *     for good): GONE with their id;
 *   - a user added or changed: for every watched group they are in
 *     (POST /users/{id}/checkMemberGroups, transitive, 20 groups a call),
 *     PERSON read under that group's policy (dir_graph.c's reader: guests,
 *     mail_from_upn); a person that policy leaves out names the group
 *     instead (GROUPS), so that reading it tells who is in it; a person of
 *     no watched group is not our concern and says nothing;
 *   - a watched group's members@delta naming users only, added or
 *     removed: each of them is a changed user as above (their groups asked
 *     for, PERSON under each group they are in now, and also under each
 *     watched group they were removed from, so that the engine, looking
 *     them up, finds who left), so that a member added to a group of
 *     100,000 costs a user read, not the group's transitive read (hundreds
 *     of requests, an invitation to throttling);
 *   - any other change of a watched group (a nested group or another kind
 *     of object added or removed, properties, its removal, more than
 *     MAX_NAMED members at once): GROUPS for it. Graph reports direct
 *     membership only, never a change in a group nested below: so for
 *     every other group that changed, the watched groups above it are asked
 *     for (GET /groups/{id}/transitiveMemberOf) and named. A deleted nested
 *     group shows as a members@delta removal in the groups that held it.
 * Full reads: syncStateNotFound (a delta token Graph no longer keeps), 410
 * Gone ("synchronization reset", Graph's own maintenance), and a position
 * older than six days (Graph keeps directory delta tokens seven: the next
 * question would be refused anyway, so the full read comes before).
 * Permissions: User.Read.All and GroupMember.Read.All, as for full reads.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "common/log.h"
#include "common/xalloc.h"
#include "directory/backend.h"
#include "net/graph.h"

#define USERS_DELTA "/v1.0/users/delta?$select=" DIR_GRAPH_USER_SELECT
#define GROUPS_DELTA "/v1.0/groups/delta?$select=displayName,members"
/* Graph keeps delta tokens of directory objects seven days; a full read comes first. */
#define LINK_MAX_AGE (6 * 86400)
#define MAX_PAGES 100000
/*
 * Members of one watched group named in one round, beyond which the group
 * is read whole instead (a bulk import: one paged read costs less than a
 * user read and a lookup per person).
 */
#define MAX_NAMED 1000

struct graph_watch {
	struct dir_watch *w;     /* borrowed */
	struct graph_dir *gd;    /* the watch's own Graph client (new) */
	double next_due;
	char **ids;              /* per watched group: its object id (new), NULL: unknown */
	bool ids_loaded;
};

static ssize_t
watched_index(const struct graph_watch *gw, const char *id)
{
	for (size_t i = 0; i < gw->w->n_groups; i++)
		if (gw->ids[i] != NULL && strcasecmp(gw->ids[i], id) == 0)
			return (ssize_t)i;
	return -1;
}

static const char *
str_of(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* Graph ids are GUIDs: printable, no separator of a URL or filter. */
static bool
id_ok(const char *id)
{
	return id != NULL && id[0] != '\0' && strlen(id) <= DIR_MAX_ID_LEN &&
	    strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.") ==
	    strlen(id);
}

static enum dir_status
resolve_ids(struct graph_watch *gw, struct errbuf *e)
{
	enum dir_status st = DIR_OK;

	for (size_t i = 0; i < gw->w->n_groups && st == DIR_OK; i++) {
		free(gw->ids[i]);
		gw->ids[i] = NULL;
		st = dir_graph_resolve_group(gw->gd, gw->w->groups[i], &gw->ids[i], e);
		if (st == DIR_BAD_CONFIG) {
			/* Not there (any more): its members are not followed, said once. */
			log_warn("%s change stream: %s: its changes are not followed", gw->w->label,
			    e->text);
			st = DIR_OK;
		}
	}
	gw->ids_loaded = st == DIR_OK;
	return st;
}

/* ---- following links ------------------------------------------------------ */

/* What a failed delta call means: a full read (true, said), or an error. */
static bool
full_read_instead(struct graph_watch *gw, const struct graph_reply *r, const char *what,
    const struct errbuf *e)
{
	if (r->http_status == 410) {
		dir_watch_full(gw->w, DIR_FULL_RESYNC, "Graph answered %s with 410 Gone, a "
		    "synchronization reset (its own maintenance or a migration of the tenant): %s",
		    what, e->text);
		return true;
	}
	if (r->error_code != NULL && strcasecmp(r->error_code, "syncStateNotFound") == 0) {
		dir_watch_full(gw->w, DIR_FULL_LINK_EXPIRED, "Graph no longer keeps the %s delta "
		    "token (syncStateNotFound): %s", what, e->text);
		return true;
	}
	return false;
}

typedef enum dir_status (*object_cb)(struct graph_watch *gw, json_t *o, void *arg,
    struct errbuf *e);

/*
 * Follow link and its @odata.nextLink pages, each object to cb; the final
 * @odata.deltaLink into *delta (new). *full: the link is refused and a full
 * read was asked for instead.
 */
static enum dir_status
follow(struct graph_watch *gw, const char *link, const char *what, object_cb cb, void *arg,
    char **delta, bool *full, struct errbuf *e)
{
	struct graph_reply r;
	char *next = xstrdup(link);
	enum dir_status st = DIR_OK;
	size_t pages = 0;

	*delta = NULL;
	*full = false;
	memset(&r, 0, sizeof(r));
	while (next != NULL && st == DIR_OK) {
		json_t *value, *o, *nl, *dl;
		size_t i;

		st = dir_graph_status(graph_call(gw->gd->graph, "GET", next, NULL, NULL, NULL, 0,
		    &r, e));
		if (st != DIR_OK) {
			*full = full_read_instead(gw, &r, what, e);
			break;
		}
		value = json_object_get(r.json, "value");
		if (!json_is_array(value)) {
			err_set(e, "%s: %s delta (page %zu): Graph's answer has no \"value\" list",
			    gw->w->label, what, pages + 1);
			st = DIR_FAILED;
			break;
		}
		json_array_foreach(value, i, o)
			if (json_is_object(o) && st == DIR_OK)
				st = cb(gw, o, arg, e);
		pages++;
		nl = json_object_get(r.json, "@odata.nextLink");
		dl = json_object_get(r.json, "@odata.deltaLink");
		free(next);
		next = NULL;
		if (json_is_string(nl) && pages < MAX_PAGES) {
			next = xstrdup(json_string_value(nl));
		} else if (json_is_string(dl)) {
			*delta = xstrdup(json_string_value(dl));
		} else if (st == DIR_OK) {
			err_set(e, "%s: %s delta (page %zu): Graph's answer has neither "
			    "@odata.nextLink nor @odata.deltaLink", gw->w->label, what, pages);
			st = DIR_FAILED;
		}
		graph_reply_clear(&r);
	}
	graph_reply_clear(&r);
	free(next);
	if (st != DIR_OK) {
		free(*delta);
		*delta = NULL;
	}
	return st;
}

/* ---- users ------------------------------------------------------------------ */

struct changed_users {
	json_t *objects;   /* id -> the delta object (a new reference each) */
};

static enum dir_status
user_object(struct graph_watch *gw, json_t *o, void *arg, struct errbuf *e)
{
	struct changed_users *cu = arg;
	const char *id = str_of(o, "id");

	(void)e;
	if (!id_ok(id))
		return DIR_OK;
	if (json_object_get(o, "@removed") != NULL) {
		json_object_del(cu->objects, id);
		dir_watch_gone(gw->w, id, NULL);
		return DIR_OK;
	}
	/* The same user may come twice (Graph replays): the last one counts. */
	json_object_set(cu->objects, id, o);
	return DIR_OK;
}

/* Has o every property a struct user is made of? (Graph may send changed ones only.) */
static bool
complete(json_t *o)
{
	char sel[] = DIR_GRAPH_USER_SELECT;
	char *save = NULL;

	for (char *p = strtok_r(sel, ",", &save); p != NULL; p = strtok_r(NULL, ",", &save))
		if (json_object_get(o, p) == NULL)
			return false;
	return true;
}

/*
 * Which watched groups user id is in, transitively (hit[i]). A user
 * deleted since the delta said they changed is in none: the next round
 * says gone.
 */
static enum dir_status
member_groups(struct graph_watch *gw, const char *id, bool *hit, struct errbuf *e)
{
	bool gone = false;

	return dir_graph_check_member_groups(gw->gd, id, gw->ids, gw->w->n_groups, hit, &gone, e);
}

/*
 * One changed user: read whole if need be, then once per watched group
 * they are in, and once per watched group whose members@delta says they
 * left (left: a JSON array of watched group indexes, or NULL).
 */
static enum dir_status
take_user(struct graph_watch *gw, const char *id, json_t *o, json_t *left, struct errbuf *e)
{
	bool *hit = xcalloc(gw->w->n_groups + 1, sizeof(*hit));
	json_t *full = NULL, *v;
	enum dir_status st;
	size_t n_hit = 0, k;

	st = member_groups(gw, id, hit, e);
	json_array_foreach(left, k, v) {
		json_int_t i = json_integer_value(v);

		if (i >= 0 && (size_t)i < gw->w->n_groups)
			hit[i] = true;
	}
	for (size_t i = 0; i < gw->w->n_groups; i++)
		n_hit += hit[i];
	if (st != DIR_OK || n_hit == 0)
		goto out;
	if (!complete(o)) {
		struct graph_reply r;
		char *esc = graph_url_escape(id);
		char *path = xasprintf("/v1.0/users/%s?$select=" DIR_GRAPH_USER_SELECT, esc);

		memset(&r, 0, sizeof(r));
		st = dir_graph_status(graph_call(gw->gd->graph, "GET", path, NULL, NULL, NULL, 0,
		    &r, e));
		free(esc);
		free(path);
		if (st == DIR_OK)
			full = json_incref(r.json);
		graph_reply_clear(&r);
		if (st == DIR_BAD_CONFIG) {
			st = DIR_OK; /* deleted in between: the next round says gone */
			goto out;
		}
		if (st != DIR_OK)
			goto out;
		o = full;
	}
	for (size_t i = 0; i < gw->w->n_groups; i++) {
		struct graph_page_reader reader;
		struct user_list l = { NULL, 0, 0 };
		json_t *page;
		const char *next = NULL;

		if (!hit[i])
			continue;
		/* The group reader's own rules (guests, mail_from_upn), on a page of one. */
		page = json_pack("{s:[O]}", "value", o);
		dir_graph_reader_init(&reader, gw->w->conf->name, gw->w->groups[i], &l);
		st = dir_graph_take_page(&reader, page, &next, e);
		dir_graph_reader_free(&reader);
		json_decref(page);
		if (st != DIR_OK) {
			user_list_free(&l);
			break;
		}
		if (l.n == 1)
			dir_watch_person(gw->w, &l.v[0], gw->w->groups[i]);
		else
			dir_watch_group(gw->w, i, id); /* left out by the policy: read the group */
		user_list_free(&l);
	}
out:
	json_decref(full);
	free(hit);
	return st;
}

/* ---- groups ------------------------------------------------------------------ */

struct changed_groups {
	struct strset others;    /* changed groups that are not watched ones */
	bool *whole;             /* per watched group: read it whole */
	json_t **named;          /* per watched group: user id -> true when removed, or NULL */
};

/*
 * The members@delta of watched group idx (one page of it: a long one
 * comes over several, the group repeated): users are kept to be named one
 * by one; anything else -- a group (nesting), another kind of object, an
 * id that is no GUID -- reads the group whole.
 */
static void
take_members_delta(struct changed_groups *cg, size_t idx, json_t *delta)
{
	json_t *m;
	size_t k;

	json_array_foreach(delta, k, m) {
		const char *type = str_of(m, "@odata.type");
		const char *mid = str_of(m, "id");

		if (type == NULL || strcmp(type, "#microsoft.graph.user") != 0 || !id_ok(mid)) {
			cg->whole[idx] = true;
			return;
		}
		if (cg->named[idx] == NULL)
			cg->named[idx] = json_object();
		json_object_set_new(cg->named[idx], mid,
		    json_boolean(json_object_get(m, "@removed") != NULL));
	}
}

static enum dir_status
group_object(struct graph_watch *gw, json_t *o, void *arg, struct errbuf *e)
{
	struct changed_groups *cg = arg;
	const char *id = str_of(o, "id");
	json_t *delta = json_object_get(o, "members@delta");
	ssize_t idx;

	(void)e;
	if (!id_ok(id))
		return DIR_OK;
	idx = watched_index(gw, id);
	if (idx >= 0 && json_object_get(o, "@removed") == NULL && json_is_array(delta) &&
	    json_array_size(delta) > 0)
		take_members_delta(cg, (size_t)idx, delta);
	else if (idx >= 0)
		cg->whole[idx] = true; /* removed, renamed, or a change delta does not detail */
	else if (json_object_get(o, "@removed") == NULL)
		(void)strset_add(&cg->others, id);
	return DIR_OK;
}

/*
 * After a round: each watched group is read whole, or its named members
 * join the changed users (as {"id": ...} alone where the users delta did
 * not name them: take_user then reads the whole user), with the groups they left in *left (id ->
 * array of watched group indexes).
 */
static void
settle_groups(struct graph_watch *gw, struct changed_groups *cg, json_t *users, json_t *left)
{
	for (size_t i = 0; i < gw->w->n_groups; i++) {
		const char *mid;
		json_t *removed;

		if (cg->named[i] != NULL && json_object_size(cg->named[i]) > MAX_NAMED)
			cg->whole[i] = true;
		if (cg->whole[i]) {
			dir_watch_group(gw->w, i, gw->ids[i]);
			continue;
		}
		json_object_foreach(cg->named[i], mid, removed) {
			json_t *l;

			if (json_object_get(users, mid) == NULL)
				json_object_set_new(users, mid, json_pack("{s:s}", "id", mid));
			if (!json_is_true(removed))
				continue;
			if ((l = json_object_get(left, mid)) == NULL) {
				l = json_array();
				json_object_set_new(left, mid, l);
			}
			json_array_append_new(l, json_integer((json_int_t)i));
		}
		if (cg->named[i] != NULL)
			log_debug("%s change stream: %s: %zu member(s) joined or left, named one by one",
			    gw->w->label, gw->ids[i], json_object_size(cg->named[i]));
	}
}

/* The watched groups a changed group is nested in (Graph says nothing of those). */
static enum dir_status
name_ancestors(struct graph_watch *gw, const char *id, struct errbuf *e)
{
	char *esc = graph_url_escape(id);
	char *next = xasprintf("/v1.0/groups/%s/transitiveMemberOf/microsoft.graph.group"
	    "?$select=id", esc);
	enum dir_status st = DIR_OK;
	struct graph_reply r;
	size_t pages = 0;

	memset(&r, 0, sizeof(r));
	while (next != NULL && st == DIR_OK && pages++ < MAX_PAGES) {
		json_t *value, *o;
		size_t i;

		st = dir_graph_status(graph_call(gw->gd->graph, "GET", next, NULL, NULL, NULL, 0,
		    &r, e));
		free(next);
		next = NULL;
		if (st == DIR_BAD_CONFIG && r.http_status == 404) {
			st = DIR_OK; /* deleted since: its parents' members@delta say it */
			break;
		}
		if (st != DIR_OK)
			break;
		value = json_object_get(r.json, "value");
		json_array_foreach(value, i, o) {
			const char *gid = str_of(o, "id");
			ssize_t idx = gid != NULL ? watched_index(gw, gid) : -1;

			if (idx >= 0)
				dir_watch_group(gw->w, (size_t)idx, id);
		}
		if (json_is_string(json_object_get(r.json, "@odata.nextLink")))
			next = xstrdup(str_of(r.json, "@odata.nextLink"));
		graph_reply_clear(&r);
	}
	graph_reply_clear(&r);
	free(next);
	free(esc);
	return st;
}

/* ---- a round ---------------------------------------------------------------------- */

static void
hand_out(struct graph_watch *gw, const char *users, const char *groups, long long issued)
{
	json_t *pos = json_object();

	json_object_set_new(pos, "users", json_string(users));
	json_object_set_new(pos, "groups", json_string(groups));
	dir_watch_set_position(gw->w, pos, gw->w->conf->graph_host, NULL, NULL, issued);
}

/* "Sync from now": the two links a full read starts from. */
static enum dir_status
from_now(struct graph_watch *gw, struct errbuf *e)
{
	static const char *const first[] = { USERS_DELTA "&$deltatoken=latest",
	    GROUPS_DELTA "&$deltatoken=latest" };
	char *links[2] = { NULL, NULL };
	enum dir_status st = DIR_OK;

	for (size_t i = 0; i < 2 && st == DIR_OK; i++) {
		struct graph_reply r;
		json_t *dl;

		memset(&r, 0, sizeof(r));
		st = dir_graph_status(graph_call(gw->gd->graph, "GET", first[i], NULL, NULL, NULL, 0,
		    &r, e));
		dl = json_object_get(r.json, "@odata.deltaLink");
		if (st == DIR_OK && json_is_string(dl)) {
			links[i] = xstrdup(json_string_value(dl));
		} else if (st == DIR_OK) {
			err_set(e, "%s: Graph answered %s without an @odata.deltaLink", gw->w->label,
			    first[i]);
			st = DIR_FAILED;
		}
		graph_reply_clear(&r);
	}
	if (st == DIR_OK)
		hand_out(gw, links[0], links[1], (long long)time(NULL));
	free(links[0]);
	free(links[1]);
	return st;
}

static enum dir_status
graph_watch_poll(struct dir_watch *w, void *state, int timeout_s, struct errbuf *e)
{
	struct graph_watch *gw = state;
	struct changed_users cu = { NULL };
	struct changed_groups cg;
	json_t *left = json_object();
	const char *users, *groups, *key;
	char *new_users = NULL, *new_groups = NULL;
	enum dir_status st = DIR_OK;
	bool full = false;
	time_t now = time(NULL);
	json_t *o;

	strset_init(&cg.others);
	cg.whole = xcalloc(w->n_groups + 1, sizeof(*cg.whole));
	cg.named = xcalloc(w->n_groups + 1, sizeof(*cg.named));
	if (w->pos != NULL && !w->full && !w->rewind &&
	    !dir_watch_due(w, &gw->next_due, timeout_s)) {
		dir_watch_set_position(w, json_incref(w->pos), w->info.server, NULL, NULL,
		    w->info.issued);
		goto out;
	}
	dir_watch_asked(w, &gw->next_due);
	if (!gw->ids_loaded && (st = resolve_ids(gw, e)) != DIR_OK)
		goto out;
	users = json_string_value(json_object_get(w->pos, "users"));
	groups = json_string_value(json_object_get(w->pos, "groups"));
	if (w->pos == NULL || w->full || users == NULL || groups == NULL) {
		st = from_now(gw, e);
		goto out;
	}
	if (w->info.issued > 0 && now - (time_t)w->info.issued > LINK_MAX_AGE) {
		dir_watch_full(w, DIR_FULL_LINK_EXPIRED, "the delta links were issued %lld days "
		    "ago; Graph keeps them for seven, so a full read comes before they run out",
		    (long long)(now - (time_t)w->info.issued) / 86400);
		st = from_now(gw, e);
		goto out;
	}
	cu.objects = json_object();
	st = follow(gw, users, "users", user_object, &cu, &new_users, &full, e);
	if (st == DIR_OK)
		st = follow(gw, groups, "groups", group_object, &cg, &new_groups, &full, e);
	if (full) {
		st = from_now(gw, e);
		goto out;
	}
	if (st != DIR_OK)
		goto out;
	settle_groups(gw, &cg, cu.objects, left);
	if (json_object_size(cu.objects) > DIR_WATCH_MAX_CHANGES) {
		dir_watch_full(w, DIR_FULL_TOO_MANY, "Graph names %zu changed users",
		    json_object_size(cu.objects));
	} else {
		json_object_foreach(cu.objects, key, o)
			if (st == DIR_OK)
				st = take_user(gw, key, o, json_object_get(left, key), e);
	}
	for (size_t i = 0; i < cg.others.cap && st == DIR_OK; i++)
		if (cg.others.slots[i] != NULL)
			st = name_ancestors(gw, cg.others.slots[i], e);
	if (st == DIR_OK)
		hand_out(gw, new_users, new_groups, (long long)now);
out:
	json_decref(cu.objects);
	json_decref(left);
	for (size_t i = 0; i < w->n_groups; i++)
		json_decref(cg.named[i]);
	free(cg.named);
	free(cg.whole);
	strset_free(&cg.others);
	free(new_users);
	free(new_groups);
	return st;
}

/* ---- open, close -------------------------------------------------------------------- */

static void
graph_watch_close(void *state)
{
	struct graph_watch *gw = state;

	if (gw == NULL)
		return;
	dir_graph_close(gw->gd);
	for (size_t i = 0; gw->ids != NULL && i < gw->w->n_groups; i++)
		free(gw->ids[i]);
	free(gw->ids);
	free(gw);
}

static enum dir_status
graph_watch_open(struct dir_watch *w, const char *bind_password, void **state,
    struct errbuf *e)
{
	struct graph_watch *gw = xcalloc(1, sizeof(*gw));
	void *gd = NULL;
	struct graph_reply r;
	enum dir_status st;

	*state = NULL;
	gw->w = w;
	gw->ids = xcalloc(w->n_groups + 1, sizeof(*gw->ids));
	st = dir_graph_open(w->conf, bind_password, &gd, e);
	gw->gd = gd;
	if (st == DIR_OK) {
		/* Does Graph answer delta queries for this app? */
		memset(&r, 0, sizeof(r));
		st = dir_graph_status(graph_call(gw->gd->graph, "GET", USERS_DELTA
		    "&$deltatoken=latest", NULL, NULL, NULL, 0, &r, e));
		if (st == DIR_AUTH_FAILED && r.http_status == 403) {
			err_prefix(e, "%s: Graph refuses delta queries to this application (grant "
			    "User.Read.All and GroupMember.Read.All, with an administrator's "
			    "consent)", w->label);
			st = DIR_UNSUPPORTED;
		}
		graph_reply_clear(&r);
	}
	if (st != DIR_OK) {
		graph_watch_close(gw);
		return st;
	}
	*state = gw;
	return DIR_OK;
}

static enum dir_stream_kind
graph_watch_kind(const struct conf_directory *conf)
{
	(void)conf;
	return DIR_STREAM_GRAPH_DELTA;
}

const struct dir_watch_ops dir_graph_watch_ops = {
	.kind = graph_watch_kind,
	.open = graph_watch_open,
	.poll = graph_watch_poll,
	.close = graph_watch_close,
};
