/* SPDX-License-Identifier: ISC */
/*
 * Change streams, the part every type shares (directory.h, "change
 * streams"): dispatch to the backend's stream (backend.h, struct
 * dir_watch_ops), the stored state, and the batch a poll hands out.
 *
 * The state is JSON text the caller stores and hands back:
 *
 *   {"v": 1, "kind": "syncrepl",
 *    "scope": {"type": "ldap", "server": URI, "base": DN, "filter": F,
 *              "mail": ATTR, "alt_mail": ATTR},
 *    "groups": [the watched groups, normalized],
 *    "pos": {the backend's position}, "issued": TIME}
 *
 * scope ties it to the directory it describes: a state opened under
 * another server, base, filter or kind of stream is not trusted (a full
 * read comes first), because the changes it skipped may be ones the new
 * configuration cares about. groups lets a group added to the
 * configuration since be read once (GROUPS). pos is the backend's own.
 *
 * A batch: backends report through dir_watch_person/gone/group/full();
 * group hits are merged into one GROUPS change, and a full read replaces
 * everything else (it covers it), as does a batch grown past
 * DIR_WATCH_MAX_CHANGES.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "common/buf.h"
#include "common/fileutil.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "directory/backend.h"

#define STATE_VERSION 1
/* A stored state longer than this is not ours (delta links are ~1 KB). */
#define STATE_MAX (64 * 1024)

static const char *const kind_names[] = {
	[DIR_STREAM_NONE] = "none",
	[DIR_STREAM_SYNCREPL] = "syncrepl",
	[DIR_STREAM_AD_USN] = "ad-usn",
	[DIR_STREAM_AD_DIRSYNC] = "ad-dirsync",
	[DIR_STREAM_GRAPH_DELTA] = "graph-delta",
};

static const char *const reason_names[] = {
	[DIR_FULL_NO_STATE] = "no-state",
	[DIR_FULL_STATE_INVALID] = "state-invalid",
	[DIR_FULL_REFRESH_REQUIRED] = "refresh-required",
	[DIR_FULL_COOKIE_REFUSED] = "cookie-refused",
	[DIR_FULL_NO_DELETES] = "no-deletes",
	[DIR_FULL_DC_CHANGED] = "dc-changed",
	[DIR_FULL_DC_RESTORED] = "dc-restored",
	[DIR_FULL_LINK_EXPIRED] = "link-expired",
	[DIR_FULL_RESYNC] = "resync",
	[DIR_FULL_TOO_MANY] = "too-many",
};

const char *
dir_stream_kind_name(enum dir_stream_kind k)
{
	return (size_t)k < ARRAY_LEN(kind_names) ? kind_names[k] : "?";
}

const char *
dir_full_reason_name(enum dir_full_reason r)
{
	return (size_t)r < ARRAY_LEN(reason_names) && reason_names[r] != NULL ?
	    reason_names[r] : "?";
}

enum dir_stream_kind
dir_stream_kind_of(const struct conf_directory *conf)
{
	const struct dir_backend *be = dir_backend_of(conf->type);

	if (be == NULL || be->watch == NULL || conf->incremental == INCREMENTAL_NO)
		return DIR_STREAM_NONE;
	return be->watch->kind(conf);
}

static void
info_clear(struct dir_stream_info *i)
{
	free(i->server);
	free(i->server_id);
	free(i->position);
	memset(i, 0, sizeof(*i));
}

static void
change_clear(struct dir_change *c)
{
	user_free_fields(&c->user);
	free(c->id);
	free(c->dn);
	free(c->groups);
	free(c->why);
	memset(c, 0, sizeof(*c));
}

void
dir_changes_clear(struct dir_changes *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n; i++)
		change_clear(&c->v[i]);
	free(c->v);
	free(c->state);
	info_clear(&c->info);
	memset(c, 0, sizeof(*c));
}

static struct dir_change *
push_change(struct dir_changes *c, enum dir_change_kind kind)
{
	struct dir_change *ch;

	if (c->n == c->cap) {
		c->cap = c->cap == 0 ? 16 : c->cap * 2;
		c->v = xreallocarray(c->v, c->cap, sizeof(*c->v));
	}
	ch = &c->v[c->n++];
	memset(ch, 0, sizeof(*ch));
	ch->kind = kind;
	return ch;
}

/* How a watched group is named in the state: its DN normalized, else as written (new). */
static char *
group_ref(const struct conf_group *g)
{
	char *norm = dir_dn_normalize(g->group_dn);

	if (norm != NULL && norm[0] != '\0' && strchr(g->group_dn, '=') != NULL)
		return norm;
	free(norm);
	return xstrdup(g->group_dn);
}

/* What the state is tied to (new JSON object). */
static json_t *
scope_of(const struct conf_directory *c)
{
	const struct dir_backend *be = dir_backend_of(c->type);
	const char *server = c->uri != NULL ? c->uri : c->graph_host;
	json_t *o = json_object();

	json_object_set_new(o, "type", json_string(be != NULL ? be->title : "?"));
	if (server != NULL)
		json_object_set_new(o, "server", json_string(server));
	if (c->tenant_id != NULL)
		json_object_set_new(o, "tenant", json_string(c->tenant_id));
	if (c->base_dn != NULL)
		json_object_set_new(o, "base", json_string(c->base_dn));
	/* user_filter is an LDAP filter: it means something where there is an LDAP server. */
	if (c->user_filter != NULL && c->uri != NULL)
		json_object_set_new(o, "filter", json_string(c->user_filter));
	if (c->mail_attribute != NULL)
		json_object_set_new(o, "mail", json_string(c->mail_attribute));
	if (c->alt_mail_attribute != NULL)
		json_object_set_new(o, "alt_mail", json_string(c->alt_mail_attribute));
	return o;
}

static const char *
str_or(json_t *o, const char *key, const char *none)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : none;
}

/*
 * Why a stored scope does not fit the configuration (new sentence), or
 * NULL when it does.
 */
static char *
scope_mismatch(json_t *stored, json_t *now)
{
	static const struct {
		const char *key, *what;
	} fields[] = {
		{"type", "the directory type"}, {"server", "the server"}, {"tenant", "the tenant"},
		{"base", "base_dn"}, {"filter", "user_filter"}, {"mail", "mail_attribute"},
		{"alt_mail", "alt_mail_attribute"},
	};

	for (size_t i = 0; i < ARRAY_LEN(fields); i++) {
		const char *a = str_or(stored, fields[i].key, "(none)");
		const char *b = str_or(now, fields[i].key, "(none)");

		if (strcmp(a, b) != 0)
			return xasprintf("%s changed from %s to %s since the stream position was "
			    "stored", fields[i].what, a, b);
	}
	return NULL;
}

static void
set_full(struct dir_watch *w, enum dir_full_reason reason, char *why)
{
	if (w->full) {
		free(why);
		return;
	}
	w->full = true;
	w->full_reason = reason;
	free(w->full_why);
	w->full_why = why;
}

void
dir_watch_full(struct dir_watch *w, enum dir_full_reason reason, const char *fmt, ...)
{
	struct buf b;
	va_list ap;
	int rc;

	buf_init(&b, 0);
	va_start(ap, fmt);
	rc = buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (rc != 0)
		abort(); /* unbounded buffer: cannot fail */
	log_info("%s change stream: a full read is needed (%s): %s", w->label,
	    dir_full_reason_name(reason), b.data != NULL ? b.data : "");
	set_full(w, reason, buf_steal(&b, NULL));
}

static void
count_change(struct dir_watch *w)
{
	if (++w->n_changes > DIR_WATCH_MAX_CHANGES && !w->too_many) {
		w->too_many = true;
		dir_watch_full(w, DIR_FULL_TOO_MANY, "more than %d changes at once (a bulk "
		    "import or a long outage): one full read is cheaper than following them",
		    DIR_WATCH_MAX_CHANGES);
	}
}

bool
dir_watch_overflowing(const struct dir_watch *w)
{
	return w->too_many;
}

void
dir_watch_person(struct dir_watch *w, struct user *u, const struct conf_group *g)
{
	struct dir_change *c;

	count_change(w);
	if (w->full) {
		user_free_fields(u);
		return;
	}
	c = push_change(w->out, DIR_CHANGE_PERSON);
	c->user = *u;
	c->group = g;
	memset(u, 0, sizeof(*u));
}

void
dir_watch_gone(struct dir_watch *w, const char *id, const char *dn)
{
	struct dir_change *c;

	count_change(w);
	if (w->full)
		return;
	c = push_change(w->out, DIR_CHANGE_GONE);
	c->id = xstrdup(id);
	c->dn = dn != NULL ? xstrdup(dn) : NULL;
}

void
dir_watch_group(struct dir_watch *w, size_t index, const char *dn)
{
	if (index >= w->n_groups)
		return;
	if (!w->hit[index] && dn != NULL)
		log_debug("%s change stream: %s changed: [group %s] is read again", w->label, dn,
		    w->groups[index]->name);
	w->hit[index] = true;
	if (w->hit_dn == NULL && dn != NULL)
		w->hit_dn = xstrdup(dn);
}

void
dir_watch_set_position(struct dir_watch *w, json_t *pos, const char *server,
    const char *server_id, const char *position, long long issued)
{
	/* Copied before the old ones are freed: a backend may hand those back. */
	char *s = server != NULL ? xstrdup(server) : NULL;
	char *id = server_id != NULL ? xstrdup(server_id) : NULL;
	char *p = position != NULL ? xstrdup(position) : NULL;

	json_decref(w->pos);
	w->pos = pos;
	info_clear(&w->info);
	w->info.kind = w->kind;
	w->info.server = s;
	w->info.server_id = id;
	w->info.position = p;
	w->info.issued = issued;
}

/* The state handed out with a batch (new JSON text). */
static char *
state_text(const struct dir_watch *w)
{
	json_t *o = json_object(), *groups = json_array();
	char *text = NULL;

	json_object_set_new(o, "v", json_integer(STATE_VERSION));
	json_object_set_new(o, "kind", json_string(dir_stream_kind_name(w->kind)));
	json_object_set_new(o, "scope", scope_of(w->conf));
	for (size_t i = 0; i < w->n_groups; i++) {
		char *ref = group_ref(w->groups[i]);

		json_array_append_new(groups, json_string(ref));
		free(ref);
	}
	json_object_set_new(o, "groups", groups);
	json_object_set(o, "pos", w->pos);
	if (w->info.issued != 0)
		json_object_set_new(o, "issued", json_integer(w->info.issued));
	text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	if (text == NULL)
		fatal("out of memory");
	return text;
}

/*
 * Read the stored state: the backend's position in w->pos when it can be
 * trusted, a full read decided otherwise, and the groups watched since.
 */
static void
take_state(struct dir_watch *w, const char *state)
{
	json_error_t jerr;
	json_t *o = NULL, *now = NULL, *groups;
	char *why = NULL;
	const char *kind;
	size_t i, k;

	if (state == NULL || state[0] == '\0') {
		set_full(w, DIR_FULL_NO_STATE, xstrdup("no stream position is stored yet (the "
		    "first start, or the last one was forgotten)"));
		goto out;
	}
	if (strlen(state) > STATE_MAX ||
	    (o = json_loads(state, JSON_REJECT_DUPLICATES, &jerr)) == NULL || !json_is_object(o) ||
	    json_integer_value(json_object_get(o, "v")) != STATE_VERSION ||
	    !json_is_object(json_object_get(o, "pos"))) {
		set_full(w, DIR_FULL_STATE_INVALID, xstrdup("the stored stream position is not one "
		    "this version of smimesync wrote"));
		goto out;
	}
	kind = str_or(o, "kind", "?");
	if (strcmp(kind, dir_stream_kind_name(w->kind)) != 0) {
		set_full(w, DIR_FULL_STATE_INVALID, xasprintf("the stored position is of a %s "
		    "stream, the configuration now follows %s", kind,
		    dir_stream_kind_name(w->kind)));
		goto out;
	}
	now = scope_of(w->conf);
	why = scope_mismatch(json_object_get(o, "scope"), now);
	if (why != NULL) {
		set_full(w, DIR_FULL_STATE_INVALID, why);
		goto out;
	}
	w->pos = json_incref(json_object_get(o, "pos"));
	w->info.issued = (long long)json_integer_value(json_object_get(o, "issued"));
	/* A group the stored position did not watch: its members never came through it. */
	groups = json_object_get(o, "groups");
	for (i = 0; i < w->n_groups; i++) {
		char *ref = group_ref(w->groups[i]);
		bool known = false;

		for (k = 0; k < json_array_size(groups) && !known; k++) {
			const char *g = json_string_value(json_array_get(groups, k));

			known = g != NULL && strcasecmp(g, ref) == 0;
		}
		if (!known) {
			log_info("%s change stream: [group %s] was not watched when the position "
			    "was stored: it is read whole first", w->label, w->groups[i]->name);
			w->hit[i] = true;
		}
		free(ref);
	}
out:
	json_decref(o);
	json_decref(now);
}

enum dir_status
dir_watch_open(const struct conf_directory *conf, const char *bind_password,
    const struct conf_group *const *groups, size_t n_groups, const char *state,
    unsigned flags, struct dir_watch **out, struct errbuf *e)
{
	const struct dir_backend *be = dir_backend_of(conf->type);
	struct dir_watch *w = NULL;
	enum dir_status st;

	*out = NULL;
	if (be == NULL || be->watch == NULL) {
		err_set(e, "[directory %s]: a %s directory has no change stream: every group is "
		    "read whole", conf->name, be != NULL ? be->title : "?");
		return DIR_UNSUPPORTED;
	}
	if (conf->incremental == INCREMENTAL_NO) {
		err_set(e, "[directory %s]: incremental = no: every group is read whole",
		    conf->name);
		return DIR_UNSUPPORTED;
	}
	w = xcalloc(1, sizeof(*w));
	w->be = be;
	w->conf = conf;
	w->label = xasprintf("[directory %s]", conf->name != NULL ? conf->name : "");
	w->flags = flags;
	w->kind = be->watch->kind(conf);
	w->n_groups = n_groups;
	w->groups = xcalloc(n_groups + 1, sizeof(*w->groups));
	w->hit = xcalloc(n_groups + 1, sizeof(*w->hit));
	for (size_t i = 0; i < n_groups; i++)
		w->groups[i] = groups[i];
	take_state(w, state);
	/* The first batch says what take_state() found; later ones start clean. */
	st = be->watch->open(w, bind_password, &w->state, e);
	if (st != DIR_OK) {
		dir_watch_close(w);
		return st;
	}
	*out = w;
	return DIR_OK;
}

/* End of a batch: the GROUPS change, a full read instead of everything, the state. */
static void
finish_batch(struct dir_watch *w, struct dir_changes *out)
{
	size_t n_hit = 0;

	if (w->full) {
		for (size_t i = 0; i < out->n; i++)
			change_clear(&out->v[i]);
		out->n = 0;
		struct dir_change *c = push_change(out, DIR_CHANGE_FULL_READ);

		c->reason = w->full_reason;
		c->why = w->full_why;
		w->full_why = NULL;
	} else {
		for (size_t i = 0; i < w->n_groups; i++)
			n_hit += w->hit[i];
		if (n_hit > 0) {
			struct dir_change *c = push_change(out, DIR_CHANGE_GROUPS);

			c->groups = xcalloc(n_hit, sizeof(*c->groups));
			for (size_t i = 0; i < w->n_groups; i++)
				if (w->hit[i])
					c->groups[c->n_groups++] = w->groups[i];
			c->dn = w->hit_dn;
			w->hit_dn = NULL;
		}
	}
	out->state = state_text(w);
	out->info.kind = w->kind;
	out->info.server = w->info.server != NULL ? xstrdup(w->info.server) : NULL;
	out->info.server_id = w->info.server_id != NULL ? xstrdup(w->info.server_id) : NULL;
	out->info.position = w->info.position != NULL ? xstrdup(w->info.position) : NULL;
	out->info.issued = w->info.issued;
}

static void
reset_batch(struct dir_watch *w)
{
	w->full = false;
	free(w->full_why);
	w->full_why = NULL;
	memset(w->hit, 0, w->n_groups * sizeof(*w->hit));
	free(w->hit_dn);
	w->hit_dn = NULL;
	w->n_changes = 0;
	w->too_many = false;
	w->out = NULL;
}

static void
info_copy(struct dir_stream_info *to, const struct dir_stream_info *from)
{
	info_clear(to);
	to->kind = from->kind;
	to->server = from->server != NULL ? xstrdup(from->server) : NULL;
	to->server_id = from->server_id != NULL ? xstrdup(from->server_id) : NULL;
	to->position = from->position != NULL ? xstrdup(from->position) : NULL;
	to->issued = from->issued;
}

enum dir_status
dir_watch_poll(struct dir_watch *w, int timeout_s, struct dir_changes *out, struct errbuf *e)
{
	json_t *before = json_incref(w->pos);
	struct dir_stream_info info_before;
	enum dir_status st;

	memset(out, 0, sizeof(*out));
	memset(&info_before, 0, sizeof(info_before));
	info_copy(&info_before, &w->info);
	w->out = out;
	st = w->be->watch->poll(w, w->state, timeout_s < 0 ? 0 : timeout_s, e);
	if (st != DIR_OK || w->pos == NULL) {
		/* Back to the position last handed out: the next poll resumes there. */
		json_decref(w->pos);
		w->pos = before;
		before = NULL;
		info_copy(&w->info, &info_before);
		w->rewind = true;
		if (st == DIR_OK) {
			/* A backend that sets no position breaks its contract: never hand out none. */
			err_set(e, "%s change stream: no position after a poll", w->label);
			st = DIR_FAILED;
		}
		dir_changes_clear(out);
		/*
		 * The next poll resumes from the last position handed out. What
		 * this one decided stays: a full read or a group to read again
		 * found before the failure is not found twice (the position the
		 * backend moved to may be past what showed it), and saying it
		 * twice is harmless.
		 */
		w->n_changes = 0;
		w->too_many = false;
		w->out = NULL;
		info_clear(&info_before);
		return st;
	}
	json_decref(before);
	info_clear(&info_before);
	finish_batch(w, out);
	reset_batch(w);
	w->rewind = false;
	return DIR_OK;
}

void
dir_watch_close(struct dir_watch *w)
{
	if (w == NULL)
		return;
	if (w->be != NULL && w->be->watch != NULL && w->state != NULL)
		w->be->watch->close(w->state);
	reset_batch(w);
	json_decref(w->pos);
	info_clear(&w->info);
	free(w->label);
	free(w->groups);
	free(w->hit);
	free(w);
}

static double
monotonic_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

bool
dir_watch_due(struct dir_watch *w, double *next_due, int timeout_s)
{
	double now = monotonic_now(), wait;
	struct timespec ts;

	(void)w;
	if (*next_due <= now)
		return true;
	wait = *next_due - now;
	if (wait > (double)timeout_s)
		wait = (double)timeout_s;
	if (wait <= 0)
		return false;
	ts.tv_sec = (time_t)wait;
	ts.tv_nsec = (long)((wait - (double)ts.tv_sec) * 1e9);
	/* A signal ends the sleep: the caller gets back to its flags at once. */
	if (nanosleep(&ts, NULL) != 0 && errno == EINTR)
		return false;
	return *next_due <= monotonic_now();
}

void
dir_watch_asked(struct dir_watch *w, double *next_due)
{
	*next_due = monotonic_now() + (double)w->conf->poll_interval;
}

int
dir_watch_password(const struct dir_watch *w, char **out, struct errbuf *e)
{
	*out = NULL;
	if (w->conf->bind_password_file == NULL)
		return 0;
	if (file_read_password(w->conf->bind_password_file, out, e) != 0) {
		err_prefix(e, "%s bind_password_file", w->label);
		return -1;
	}
	return 0;
}
