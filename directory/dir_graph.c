/* SPDX-License-Identifier: ISC */
/*
 * The Microsoft Graph backend (type = graph): Microsoft Entra ID as a
 * source, through Microsoft Graph v1.0 (the retired Azure AD Graph is not
 * spoken). The HTTP, token and fault rules are net/graph.h's; this file
 * knows the resources:
 *
 *   GET /v1.0/groups/{id}?$select=id,displayName           group_id =
 *   GET /v1.0/groups?$filter=displayName eq '...'          group_name =
 *   GET /v1.0/groups/{id}/transitiveMembers/microsoft.graph.user
 *       ?$select=...&$top=999&$count=true   (ConsistencyLevel: eventual)
 *   GET /v1.0/users?$filter=mail eq '...' or proxyAddresses/any(...) or
 *       otherMails/any(...)&$select=id,userPrincipalName&$count=true
 *                                      who holds an address (I5)
 *   GET /v1.0/users/{id}, POST /v1.0/users/{id}/checkMemberGroups
 *                                      one person alone (graph_person.c)
 *
 * and every @odata.nextLink is followed verbatim until there is none. The
 * cast to microsoft.graph.user leaves out nested groups, devices and
 * service principals; nesting itself is resolved by Graph.
 *
 * Permissions: GroupMember.Read.All (members) and User.Read.All (mail,
 * accountEnabled, userType of those members; and who else in the tenant
 * holds an address before a certificate names it). Without User.Read.All Graph
 * answers members with little more than an id: such a member is reported,
 * with the permission to add, instead of being guessed about.
 *
 * Graph has no writable S/MIME certificate property: groups read here
 * publish through publish_to, and this backend's row has no publisher.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "directory/backend.h"
#include "net/graph.h"

#define MAX_PAGES 100000

enum dir_status
dir_graph_status(enum graph_status st)
{
	switch (st) {
	case GRAPH_OK:
		return DIR_OK;
	case GRAPH_UNREACHABLE:
		return DIR_UNREACHABLE;
	case GRAPH_AUTH_FAILED:
		return DIR_AUTH_FAILED;
	case GRAPH_BAD_CONFIG:
		return DIR_BAD_CONFIG;
	case GRAPH_FAILED:
		break;
	}
	return DIR_FAILED;
}

void
dir_graph_close(void *state)
{
	struct graph_dir *gd = state;

	if (gd == NULL)
		return;
	graph_close(gd->graph);
	json_decref(gd->group_ids);
	free(gd->label);
	free(gd);
}

enum dir_status
dir_graph_open(const struct conf_directory *conf, const char *bind_password, void **state,
    struct errbuf *e)
{
	struct graph_params p;
	struct graph_dir *gd = NULL;
	enum graph_status st;

	*state = NULL;
	gd = xcalloc(1, sizeof(*gd));
	gd->conf = conf;
	gd->label = xasprintf("[directory %s]", conf->name); /* every message starts with it */
	p = (struct graph_params){ .label = gd->label, .tenant_id = conf->tenant_id,
	    .client_id = conf->client_id, .secret_file = conf->client_secret_file,
	    .cert_file = conf->client_cert_file, .key_file = conf->client_key_file,
	    .authority_host = conf->authority_host, .graph_host = conf->graph_host,
	    .tls_ca_file = conf->tls_ca_file, .tls_verify = conf->tls_verify,
	    .timeout = conf->timeout };
	if (p.tenant_id == NULL || p.client_id == NULL || p.authority_host == NULL ||
	    p.graph_host == NULL) {
		err_set(e, "%s: tenant_id and client_id are required", gd->label);
		dir_graph_close(gd);
		return DIR_BAD_CONFIG;
	}
	st = graph_open(&p, &gd->graph, e);
	if (st != GRAPH_OK) {
		dir_graph_close(gd);
		return dir_graph_status(st);
	}
	*state = gd;
	return DIR_OK;
}

static const char *
str_of(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/* s as the inside of an OData string literal, into out: a quote is doubled. */
static void
odata_quote(struct buf *out, const char *s)
{
	for (const char *p = s; *p != '\0'; p++)
		if ((*p == '\'' ? buf_puts(out, "''") : buf_putc(out, *p)) != 0)
			abort(); /* unbounded buffer: cannot fail */
}

/* The group's object id (new): g->group_dn itself, or looked up by display name. */
enum dir_status
dir_graph_resolve_group(struct graph_dir *gd, const struct conf_group *g, char **id_out,
    struct errbuf *e)
{
	struct graph_reply r;
	struct buf quoted;
	char *path = NULL, *filter = NULL, *esc = NULL;
	json_t *value;
	enum dir_status st = DIR_FAILED;
	size_t n;

	*id_out = NULL;
	memset(&r, 0, sizeof(r));
	buf_init(&quoted, 0);
	if (!g->graph_by_name) {
		esc = graph_url_escape(g->group_dn);
		path = xasprintf("/v1.0/groups/%s?$select=id,displayName", esc);
		st = dir_graph_status(graph_call(gd->graph, "GET", path, NULL, NULL, NULL, 0, &r, e));
		/* 404 says the group is not there; other BAD_CONFIG are credentials. */
		if (st == DIR_BAD_CONFIG && r.http_status == 404)
			err_prefix(e, "[group %s] group_id %s: no such group in tenant %s",
			    g->name, g->group_dn, gd->conf->tenant_id);
		if (st == DIR_OK)
			*id_out = xstrdup(g->group_dn);
		goto out;
	}
	odata_quote(&quoted, g->group_dn);
	filter = xasprintf("displayName eq '%s'", quoted.data != NULL ? quoted.data : "");
	esc = graph_url_escape(filter);
	path = xasprintf("/v1.0/groups?$filter=%s&$select=id,displayName", esc);
	st = dir_graph_status(graph_call(gd->graph, "GET", path, NULL, NULL, NULL, 0, &r, e));
	if (st != DIR_OK)
		goto out;
	value = json_object_get(r.json, "value");
	n = json_array_size(value);
	if (n == 1 && str_of(json_array_get(value, 0), "id") != NULL) {
		*id_out = xstrdup(str_of(json_array_get(value, 0), "id"));
		log_debug("[group %s] group_name \"%s\" is object id %s", g->name, g->group_dn,
		    *id_out);
	} else if (n == 1) {
		err_set(e, "[group %s] group_name: Graph answered the group \"%s\" without its "
		    "id; use group_id", g->name, g->group_dn);
	} else if (n == 0) {
		err_set(e, "[group %s] group_name: no group named \"%s\" in tenant %s (display "
		    "names are matched exactly); check the name in the Entra admin center or use "
		    "group_id", g->name, g->group_dn, gd->conf->tenant_id);
		st = DIR_BAD_CONFIG;
	} else {
		err_set(e, "[group %s] group_name: %zu groups are named \"%s\" (for example %s "
		    "and %s); name the one you mean by group_id", g->name, n, g->group_dn,
		    str_of(json_array_get(value, 0), "id") ? str_of(json_array_get(value, 0), "id") :
		    "?", str_of(json_array_get(value, 1), "id") ?
		    str_of(json_array_get(value, 1), "id") : "?");
		st = DIR_BAD_CONFIG;
	}
out:
	graph_reply_clear(&r);
	buf_free(&quoted);
	free(path);
	free(filter);
	free(esc);
	return st;
}

static void
add_alt(struct user *u, const char *m)
{
	if (m == NULL || !dir_mail_valid(m, strlen(m)))
		return;
	dir_add_alt_mail(u, m, strlen(m));
}

/* A text property, if it is sane (no controls, not absurdly long). */
static char *
text_of(json_t *obj, const char *key)
{
	const char *s = str_of(obj, key);

	/* jansson hands out valid UTF-8 only; controls would break logs and headers. */
	if (s == NULL || *s == '\0' || strlen(s) > DIR_MAX_NAME_LEN || str_has_control(s))
		return NULL;
	return xstrdup(s);
}

/* One element of "value": a user, or a problem; guests may be left out. */
static void
take_member(struct graph_page_reader *mr, json_t *o)
{
	const char *id = str_of(o, "id");
	const char *mail = str_of(o, "mail");
	const char *type = str_of(o, "userType");
	json_t *enabled = json_object_get(o, "accountEnabled");
	json_t *list;
	struct user *u;
	size_t i;
	json_t *v;

	/* Graph ids are GUIDs: anything but printable ASCII is not one. */
	if (id == NULL || *id == '\0' || strlen(id) > DIR_MAX_ID_LEN ||
	    strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.") !=
	    strlen(id)) {
		log_warn("[group %s] a member without a usable id was left out",
		    mr->g->name);
		return;
	}
	if (!strset_add(&mr->seen, id)) {
		mr->duplicates++;
		return;
	}
	if (type != NULL && strcasecmp(type, "Guest") == 0 && !mr->g->include_guests) {
		mr->guests++;
		return;
	}
	u = user_list_push(mr->out);
	u->source = mr->source;
	u->id = xstrdup(id);
	u->upn = text_of(o, "userPrincipalName");
	u->dn = u->upn != NULL ? xstrdup(u->upn) : xasprintf("users/%s", id);
	u->display_name = text_of(o, "displayName");
	u->given_name = text_of(o, "givenName");
	u->surname = text_of(o, "surname");
	u->language = text_of(o, "preferredLanguage");
	u->onprem_dn = text_of(o, "onPremisesDistinguishedName");
	u->enabled = json_is_true(enabled);
	if (!json_is_boolean(enabled)) {
		dir_add_problem(u, "Graph did not say whether the account is enabled "
		    "(accountEnabled missing): grant the application User.Read.All and an "
		    "administrator's consent");
		return;
	}
	if (!u->enabled)
		dir_add_problem(u, "the account is disabled in Entra ID (accountEnabled = false)");
	/* The UPN stands in only for a missing mail; a broken one is reported. */
	if (mail != NULL && *mail == '\0')
		mail = NULL;
	if (mail != NULL && dir_mail_valid(mail, strlen(mail))) {
		u->mail = xstrdup(mail);
	} else if (mail == NULL && mr->g->mail_from_upn && u->upn != NULL &&
	    strstr(u->upn, "#EXT#") == NULL && dir_mail_valid(u->upn, strlen(u->upn))) {
		u->mail = xstrdup(u->upn);
	} else if (mail != NULL) {
		char *p = dir_printable(mail, strlen(mail), 120);

		dir_add_problem(u, "mail \"%s\" in Entra ID is not a valid address", p);
		free(p);
	} else {
		dir_add_problem(u, "no mail in Entra ID (the account has no mailbox address)%s",
		    mr->g->mail_from_upn ? "" : "; mail_from_upn = yes in the [group] would use "
		    "its userPrincipalName");
	}
	list = json_object_get(o, "proxyAddresses");
	json_array_foreach(list, i, v) {
		const char *s = json_string_value(v);

		/* SMTP: is the primary, smtp: an alias; X500:, SIP: ... are not mail. */
		if (s != NULL && strncasecmp(s, "smtp:", 5) == 0)
			add_alt(u, s + 5);
	}
	/* Users can often edit otherMails themselves: certified only when asked for. */
	if (mr->g->use_other_mails) {
		list = json_object_get(o, "otherMails");
		json_array_foreach(list, i, v)
			add_alt(u, json_string_value(v));
	}
	dir_check_alt_mails(u, mr->g->use_other_mails ? "proxyAddresses and otherMails" : "proxyAddresses");
}

void
dir_graph_reader_init(struct graph_page_reader *r, const char *source,
    const struct conf_group *g, struct user_list *out)
{
	memset(r, 0, sizeof(*r));
	r->source = source;
	r->g = g;
	r->out = out;
	strset_init(&r->seen);
}

void
dir_graph_reader_free(struct graph_page_reader *r)
{
	strset_free(&r->seen);
}

enum dir_status
dir_graph_take_page(struct graph_page_reader *r, json_t *page, const char **next,
    struct errbuf *e)
{
	json_t *value = json_object_get(page, "value"), *link, *o;
	size_t i;

	*next = NULL;
	if (!json_is_array(value)) {
		err_set(e, "[group %s] members (page %zu): Graph's answer has no \"value\" list",
		    r->g->name, r->pages + 1);
		return DIR_FAILED;
	}
	json_array_foreach(value, i, o)
		if (json_is_object(o))
			take_member(r, o);
	r->pages++;
	if (r->out->n > DIR_MAX_MEMBERS || r->pages > MAX_PAGES) {
		err_set(e, "[group %s] more than %d members; refusing to read on", r->g->name,
		    DIR_MAX_MEMBERS);
		return DIR_FAILED;
	}
	link = json_object_get(page, "@odata.nextLink");
	if (link != NULL && !json_is_null(link) && !json_is_string(link)) {
		err_set(e, "[group %s] members (page %zu): @odata.nextLink is not a string",
		    r->g->name, r->pages);
		return DIR_FAILED;
	}
	*next = json_string_value(link);
	return DIR_OK;
}

static enum dir_status
graph_members(void *state, const struct conf_group *g, struct user_list *out, struct errbuf *e)
{
	struct graph_dir *gd = state;
	static const char *const headers[] = { "ConsistencyLevel: eventual", NULL };
	struct graph_page_reader mr;
	struct graph_reply r;
	char *group_id = NULL, *esc = NULL, *next = NULL;
	const char *link = NULL;
	enum dir_status st;
	size_t first = out->n;

	memset(&r, 0, sizeof(r));
	dir_graph_reader_init(&mr, gd->conf->name, g, out);
	st = dir_graph_resolve_group(gd, g, &group_id, e);
	if (st != DIR_OK)
		goto out;
	esc = graph_url_escape(group_id);
	next = xasprintf("/v1.0/groups/%s/transitiveMembers/microsoft.graph.user?$select="
	    DIR_GRAPH_USER_SELECT "&$top=999&$count=true", esc);
	while (next != NULL) {
		st = dir_graph_status(graph_call(gd->graph, "GET", next, headers, NULL, NULL, 0, &r,
		    e));
		if (st != DIR_OK) {
			err_prefix(e, "[group %s] members (page %zu)", g->name, mr.pages + 1);
			goto out;
		}
		if ((st = dir_graph_take_page(&mr, r.json, &link, e)) != DIR_OK)
			goto out;
		free(next);
		next = link != NULL ? xstrdup(link) : NULL; /* link dies with r */
		graph_reply_clear(&r);
	}
	if (mr.guests > 0)
		log_info("[group %s] %zu guest account%s left out (include_guests = no)", g->name,
		    mr.guests, mr.guests == 1 ? "" : "s");
	log_debug("[group %s] %zu members in %zu page%s from Graph (%u token%s so far)", g->name,
	    out->n - first, mr.pages, mr.pages == 1 ? "" : "s", graph_token_count(gd->graph),
	    graph_token_count(gd->graph) == 1 ? "" : "s");
	st = DIR_OK;
out:
	graph_reply_clear(&r);
	dir_graph_reader_free(&mr);
	free(group_id);
	free(esc);
	free(next);
	return st;
}

/*
 * Who holds an address (directory.h): every user of the tenant whose mail,
 * proxyAddresses ("smtp:" or "SMTP:", compared without case) or otherMails
 * is addr, whether or not it is used for certificates here. A lambda on
 * proxyAddresses is an advanced query: ConsistencyLevel: eventual with
 * $count=true, as Microsoft documents them.
 */
static enum dir_status
graph_address_holders(void *state, const char *addr, struct dir_holders *out, struct errbuf *e)
{
	struct graph_dir *gd = state;
	static const char *const headers[] = { "ConsistencyLevel: eventual", NULL };
	struct graph_reply r;
	struct buf quoted;
	char *filter = NULL, *esc = NULL, *next = NULL;
	enum dir_status st = DIR_OK;
	size_t pages = 0;

	memset(&r, 0, sizeof(r));
	buf_init(&quoted, 0);
	odata_quote(&quoted, addr);
	filter = xasprintf("mail eq '%1$s' or proxyAddresses/any(p:p eq 'smtp:%1$s') or "
	    "otherMails/any(o:o eq '%1$s')", quoted.data != NULL ? quoted.data : "");
	esc = graph_url_escape(filter);
	next = xasprintf("/v1.0/users?$filter=%s&$select=id,userPrincipalName&$count=true"
	    "&$top=999", esc);
	while (next != NULL) {
		json_t *value, *o, *link;
		size_t i;

		st = dir_graph_status(graph_call(gd->graph, "GET", next, headers, NULL, NULL, 0, &r,
		    e));
		if (st != DIR_OK) {
			err_prefix(e, "%s: who holds %s", gd->label, addr);
			goto out;
		}
		value = json_object_get(r.json, "value");
		if (!json_is_array(value) || ++pages > MAX_PAGES) {
			err_set(e, "%s: who holds %s: Graph answered %s", gd->label, addr,
			    json_is_array(value) ? "more pages than any tenant has" :
			    "without a \"value\" array");
			st = DIR_FAILED;
			goto out;
		}
		json_array_foreach(value, i, o) {
			const char *id = str_of(o, "id"), *upn = str_of(o, "userPrincipalName");
			char *dn = upn == NULL && id != NULL ? xasprintf("users/%s", id) : NULL;

			if (id != NULL || upn != NULL)
				dir_holders_add(out, upn != NULL ? upn : dn, id);
			free(dn);
		}
		link = json_object_get(r.json, "@odata.nextLink");
		free(next);
		next = json_is_string(link) ? xstrdup(json_string_value(link)) : NULL;
		graph_reply_clear(&r);
	}
out:
	graph_reply_clear(&r);
	buf_free(&quoted);
	free(filter);
	free(esc);
	free(next);
	return st;
}

const struct dir_backend dir_graph_backend = {
	.title = "Microsoft Graph",
	.open = dir_graph_open,
	.close = dir_graph_close,
	.read_group = graph_members,
	.read_person = dir_graph_read_person,
	.watch = &dir_graph_watch_ops,
	.cannot_publish = "Microsoft Graph cannot hold S/MIME certificates for Exchange Online's "
	    "address list; set publish_to in the [group] to the on-premises AD or LDAP "
	    "directory that should carry them",
	.address_holders = graph_address_holders,
};
