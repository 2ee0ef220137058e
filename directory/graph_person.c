/* SPDX-License-Identifier: ISC */
/*
 * One person and the groups that list them, on Microsoft Graph
 * (dir_read_person() of type = graph): what an incremental run asks about
 * a person instead of reading their groups whole.
 *
 *   GET  /v1.0/users/{id}?$select=<what a group read selects>
 *   POST /v1.0/users/{id}/checkMemberGroups  {"groupIds": [at most 20]}
 *
 * checkMemberGroups answers which of the ids the user is in, directly or
 * through nested groups, as transitiveMembers lists them. The user object
 * goes through the group reader of dir_graph.c (a page of one), under the
 * policy of each group they are in: a guest that a group's policy leaves
 * out is not in it (the group read would not list them either), and the
 * person is returned as the first group that keeps them reads them (as
 * groups[0] reads them when they are in none; a guest that no group keeps
 * is no person in scope: not found). A user Graph does not know (404) is
 * not found. Faults (429 and Retry-After, 401, 5xx) are net/graph.h's.
 *
 * Cost: one GET of the user, one GET per group to resolve its id (as a
 * group read does), one POST per 20 groups. Nothing is kept between calls.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "common/log.h"
#include "common/xalloc.h"
#include "directory/backend.h"
#include "net/graph.h"

/* checkMemberGroups takes at most this many group ids (Microsoft documents 20). */
#define IDS_PER_CHECK 20

/* The user object (*user new), or NULL when Graph does not know the id (404). */
static enum dir_status
get_user(struct graph_dir *gd, const char *id, json_t **user, struct errbuf *e)
{
	struct graph_reply r;
	char *esc = graph_url_escape(id);
	char *path = xasprintf("/v1.0/users/%s?$select=" DIR_GRAPH_USER_SELECT, esc);
	enum dir_status st;

	*user = NULL;
	memset(&r, 0, sizeof(r));
	st = dir_graph_status(graph_call(gd->graph, "GET", path, NULL, NULL, NULL, 0, &r, e));
	if (st == DIR_BAD_CONFIG && r.http_status == 404) {
		st = DIR_OK; /* deleted, or never there */
	} else if (st == DIR_OK && !json_is_object(r.json)) {
		err_set(e, "%s: user %s: Graph's answer is not an object", gd->label, id);
		st = DIR_FAILED;
	} else if (st == DIR_OK) {
		*user = json_incref(r.json);
	} else {
		err_prefix(e, "%s: user %s", gd->label, id);
	}
	graph_reply_clear(&r);
	free(esc);
	free(path);
	return st;
}

enum dir_status
dir_graph_check_member_groups(struct graph_dir *gd, const char *id, char *const *ids, size_t n,
    bool *member, bool *gone, struct errbuf *e)
{
	char *esc = graph_url_escape(id);
	char *path = xasprintf("/v1.0/users/%s/checkMemberGroups", esc);
	enum dir_status st = DIR_OK;

	*gone = false;
	for (size_t i = 0; i < n && st == DIR_OK && !*gone; i += IDS_PER_CHECK) {
		json_t *body = json_object(), *list = json_array(), *value, *v;
		struct graph_reply r;
		char *text = NULL;
		size_t k;

		for (k = i; k < n && k < i + IDS_PER_CHECK; k++)
			if (ids[k] != NULL)
				json_array_append_new(list, json_string(ids[k]));
		json_object_set_new(body, "groupIds", list);
		text = json_dumps(body, JSON_COMPACT);
		json_decref(body);
		if (text == NULL)
			fatal("out of memory");
		memset(&r, 0, sizeof(r));
		st = dir_graph_status(graph_call(gd->graph, "POST", path, NULL, "application/json",
		    text, strlen(text), &r, e));
		free(text);
		value = json_object_get(r.json, "value");
		if (st == DIR_BAD_CONFIG && r.http_status == 404) {
			st = DIR_OK;
			*gone = true;
		} else if (st == DIR_OK && !json_is_array(value)) {
			err_set(e, "%s: groups of user %s: Graph's answer has no \"value\" list",
			    gd->label, id);
			st = DIR_FAILED;
		} else if (st == DIR_OK) {
			json_array_foreach(value, k, v) {
				const char *got = json_string_value(v);

				for (size_t m = i; got != NULL && m < n && m < i + IDS_PER_CHECK; m++)
					if (ids[m] != NULL && strcasecmp(ids[m], got) == 0)
						member[m] = true;
			}
		} else {
			err_prefix(e, "%s: groups of user %s", gd->label, id);
		}
		graph_reply_clear(&r);
	}
	free(esc);
	free(path);
	return st;
}

/* The user object as g's group read makes it (*u filled), false when g leaves them out. */
static enum dir_status
as_group_reads(struct graph_dir *gd, const struct conf_group *g, json_t *o, struct user *u,
    bool *kept, struct errbuf *e)
{
	struct graph_page_reader reader;
	struct user_list l = { NULL, 0, 0 };
	json_t *page = json_pack("{s:[O]}", "value", o);
	const char *next = NULL;
	enum dir_status st;

	*kept = false;
	if (page == NULL)
		fatal("out of memory");
	dir_graph_reader_init(&reader, gd->conf->name, g, &l);
	st = dir_graph_take_page(&reader, page, &next, e);
	if (st == DIR_OK && l.n == 1) {
		*u = l.v[0]; /* stolen */
		l.n = 0;
		*kept = true;
	}
	dir_graph_reader_free(&reader);
	user_list_free(&l);
	json_decref(page);
	return st;
}

/*
 * The group's object id (new), asked of Graph once per connection: an
 * incremental run may look up a hundred people of the same three groups.
 */
static enum dir_status
resolve_once(struct graph_dir *gd, const struct conf_group *g, char **id, struct errbuf *e)
{
	const char *known = json_string_value(json_object_get(gd->group_ids, g->name));
	enum dir_status st;

	if (known != NULL) {
		*id = xstrdup(known);
		return DIR_OK;
	}
	st = dir_graph_resolve_group(gd, g, id, e);
	if (st == DIR_OK) {
		if (gd->group_ids == NULL)
			gd->group_ids = json_object();
		json_object_set_new(gd->group_ids, g->name, json_string(*id));
	}
	return st;
}

enum dir_status
dir_graph_read_person(void *state, const char *ref, const struct conf_group *const *groups,
    size_t n_groups, struct user *out, bool *in, bool *found, struct errbuf *e)
{
	struct graph_dir *gd = state;
	static const struct conf_group no_group = { .name = "" };
	char **ids = xcalloc(n_groups + 1, sizeof(*ids));
	bool *member = xcalloc(n_groups + 1, sizeof(*member));
	bool *hit = xcalloc(n_groups + 1, sizeof(*hit));
	struct user u, other;
	json_t *o = NULL;
	bool have = false, gone = false, kept = false;
	enum dir_status st;

	memset(&u, 0, sizeof(u));
	if ((st = get_user(gd, ref, &o, e)) != DIR_OK || o == NULL)
		goto out;
	for (size_t i = 0; i < n_groups && st == DIR_OK; i++)
		st = resolve_once(gd, groups[i], &ids[i], e);
	if (st == DIR_OK && n_groups > 0)
		st = dir_graph_check_member_groups(gd, ref, ids, n_groups, member, &gone, e);
	if (st != DIR_OK || gone)
		goto out;
	for (size_t i = 0; i < n_groups && st == DIR_OK; i++) {
		if (!member[i])
			continue;
		memset(&other, 0, sizeof(other));
		st = as_group_reads(gd, groups[i], o, have ? &other : &u, &kept, e);
		hit[i] = kept;
		have = have || kept;
		user_free_fields(&other);
	}
	if (st == DIR_OK && !have)
		st = as_group_reads(gd, n_groups > 0 ? groups[0] : &no_group, o, &u, &have, e);
	if (st != DIR_OK || !have)
		goto out; /* all or nothing; a guest no group keeps is not found */
	memcpy(in, hit, n_groups * sizeof(*in));
	*out = u; /* stolen */
	memset(&u, 0, sizeof(u));
	*found = true;
	log_debug("%s: user %s looked up alone (%zu group%s asked)", gd->label, ref, n_groups,
	    n_groups == 1 ? "" : "s");
out:
	user_free_fields(&u);
	for (size_t i = 0; i < n_groups; i++)
		free(ids[i]);
	free(ids);
	free(member);
	free(hit);
	json_decref(o);
	return st;
}
