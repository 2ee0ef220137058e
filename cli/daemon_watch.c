/* SPDX-License-Identifier: ISC */
/*
 * The daemon's change streams: see daemon_watch.h and doc/incremental.md.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/daemon_watch.h"
#include "common/fileutil.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "store/store.h"

/*
 * A bulk import is one run: after a change, what comes within this many
 * seconds is merged into the same run.
 */
#define DEBOUNCE_S 2
/* A stream that could not be opened, or whose run failed, is tried again after this. */
#define RETRY_S 10

struct watch {
	const struct conf_directory *dir;   /* borrowed from the configuration */
	const struct conf_group **groups;   /* new array, elements borrowed */
	size_t n_groups;
	struct dir_watch *w;                /* NULL: not open now */
	bool unsupported;                   /* no stream: read at [service] interval only */
	time_t retry_at;                    /* reopen not before */
	bool down;                          /* a failure was logged; say when it works again */
	/*
	 * What came and was not yet acted on: the changes of every batch
	 * since the last committed run, and the newest state (.state, .info).
	 */
	struct dir_changes pending;
	bool full;                          /* a batch asked for a full read */
	char *why;                          /* its reason and sentence (new) */
	size_t n_seen;                      /* changes merged since the last committed run */
	time_t first_seen, last_seen;       /* when the first and the last of them came */
	time_t last_full_read;              /* of this directory, from the store, 0: never */
};

struct daemon_watches {
	const struct config *cfg;
	struct watch *v;
	size_t n;
	char trigger[512];
	/* The scope of the run being made (watches_scope() to watches_done()). */
	bool *read_whole;
	struct run_change *changes;
	struct store_stream *streams;
	size_t *n_seen;
	size_t *stream_of; /* per streams[]: index into v */
};

/* Free the changes pending (not the state): they were acted on, or are covered. */
static void
drop_changes(struct dir_changes *c)
{
	struct dir_changes tmp = { 0 };

	tmp.v = c->v;
	tmp.n = c->n;
	tmp.cap = c->cap;
	c->v = NULL;
	c->n = c->cap = 0;
	dir_changes_clear(&tmp);
}

static void
reset_pending(struct watch *w)
{
	drop_changes(&w->pending);
	w->full = false;
	free(w->why);
	w->why = NULL;
	w->n_seen = 0;
	w->first_seen = w->last_seen = 0;
}

/* Open w from the state stored for its directory. */
static enum dir_status
open_one(const struct config *cfg, struct watch *w, struct errbuf *e)
{
	struct store *st = NULL;
	struct store_stream row;
	char *password = NULL;
	enum dir_status ds;
	struct errbuf se;

	memset(&row, 0, sizeof(row));
	/* No store yet (the first start): nothing stored, a full read first. */
	if (store_open_readonly(cfg->service.state_dir, &st, &se) == 0) {
		if (store_stream_get(st, w->dir->name, &row, &se) < 0)
			log_warn("[directory %s] %s: the stream starts with a full read", w->dir->name,
			    se.text);
		store_close(st);
	}
	w->last_full_read = row.last_full_read;
	if (w->dir->bind_password_file != NULL &&
	    file_read_password(w->dir->bind_password_file, &password, e) != 0) {
		err_prefix(e, "[directory %s] bind_password_file", w->dir->name);
		store_stream_clear(&row);
		return DIR_BAD_CONFIG;
	}
	ds = dir_watch_open(w->dir, password, w->groups, w->n_groups, row.state, 0, &w->w, e);
	secret_free_str(password);
	store_stream_clear(&row);
	if (ds != DIR_OK)
		w->w = NULL;
	return ds;
}

int
watches_open(const struct config *cfg, struct daemon_watches **out, struct errbuf *e)
{
	struct daemon_watches *ws = xcalloc(1, sizeof(*ws));

	ws->cfg = cfg;
	ws->v = xcalloc(cfg->n_directories + 1, sizeof(*ws->v));
	for (size_t di = 0; di < cfg->n_directories; di++) {
		const struct conf_directory *dir = &cfg->directories[di];
		struct watch *w = &ws->v[ws->n];
		enum dir_status ds;
		struct errbuf oe;

		memset(w, 0, sizeof(*w));
		w->groups = xcalloc(cfg->n_groups + 1, sizeof(*w->groups));
		for (size_t gi = 0; gi < cfg->n_groups; gi++)
			if (cfg->groups[gi].enabled && cfg->groups[gi].directory == dir)
				w->groups[w->n_groups++] = &cfg->groups[gi];
		if (w->n_groups == 0 || dir->incremental == INCREMENTAL_NO) {
			free(w->groups);
			continue;
		}
		w->dir = dir;
		ws->n++;
		err_clear(&oe);
		ds = open_one(cfg, w, &oe);
		if (ds == DIR_OK) {
			log_info("[directory %s] following its change stream", dir->name);
			continue;
		}
		if (ds == DIR_UNSUPPORTED && dir->incremental == INCREMENTAL_YES) {
			const char *why = oe.text, *p;

			/* e names the directory itself: once is enough. */
			if (strncmp(why, "[directory ", 11) == 0 && (p = strstr(why, "]: ")) != NULL)
				why = p + 3;
			err_set(e, "[directory %s] incremental = yes, but there is no change stream to "
			    "follow: %s. Configure the server as doc/incremental.md says, or set "
			    "incremental = auto (full reads at [service] interval where there is no "
			    "stream)", dir->name, why);
			watches_close(ws);
			return -1;
		}
		if (ds == DIR_UNSUPPORTED) {
			w->unsupported = true;
			log_info("[directory %s] no change stream (%s): its groups are read whole at "
			    "[service] interval", dir->name, oe.text);
			continue;
		}
		w->retry_at = time(NULL) + RETRY_S;
		w->down = true;
		log_warn("[directory %s] cannot follow the change stream now: %s; trying again "
		    "in %ds", dir->name, oe.text, RETRY_S);
	}
	*out = ws;
	return 0;
}

void
watches_close(struct daemon_watches *ws)
{
	if (ws == NULL)
		return;
	for (size_t i = 0; i < ws->n; i++) {
		dir_watch_close(ws->v[i].w);
		reset_pending(&ws->v[i]);
		dir_changes_clear(&ws->v[i].pending);
		free(ws->v[i].groups);
	}
	free(ws->v);
	free(ws);
}

/* Keep what batch ch brought (ch is left cleared). */
static void
merge(struct watch *w, struct dir_changes *ch, time_t now)
{
	for (size_t i = 0; i < ch->n && !w->full; i++) {
		const struct dir_change *c = &ch->v[i];

		if (c->kind != DIR_CHANGE_FULL_READ)
			continue;
		/* Once, at notice level: the next run reads this directory whole. */
		w->full = true;
		w->why = xasprintf("%s: %s", dir_full_reason_name(c->reason),
		    c->why != NULL ? c->why : "");
		if (c->reason != DIR_FULL_NO_STATE)
			log_warn("[directory %s] the change stream asks for a full read (%s)",
			    w->dir->name, w->why);
		drop_changes(&w->pending);
	}
	if (ch->n > 0) {
		w->n_seen += ch->n;
		if (w->first_seen == 0)
			w->first_seen = now;
		w->last_seen = now;
	}
	if (w->full) {
		/* A full read covers whatever else the stream said. */
		drop_changes(ch);
	} else {
		if (w->pending.n + ch->n > w->pending.cap) {
			w->pending.cap = w->pending.n + ch->n;
			w->pending.v = xreallocarray(w->pending.v, w->pending.cap,
			    sizeof(*w->pending.v));
		}
		if (ch->n > 0)
			memcpy(w->pending.v + w->pending.n, ch->v, ch->n * sizeof(*ch->v));
		w->pending.n += ch->n;
		ch->n = 0;
	}
	/* The newest state: every change up to it is in pending (or covered). */
	free(w->pending.state);
	w->pending.state = ch->state;
	ch->state = NULL;
	free(w->pending.info.server);
	free(w->pending.info.server_id);
	free(w->pending.info.position);
	w->pending.info = ch->info;
	memset(&ch->info, 0, sizeof(ch->info));
	dir_changes_clear(ch);
}

bool
watches_poll(struct daemon_watches *ws, int timeout_s)
{
	bool waited = false;
	time_t now = time(NULL);

	for (size_t i = 0; ws != NULL && i < ws->n; i++) {
		struct watch *w = &ws->v[i];
		struct dir_changes ch = { 0 };
		enum dir_status ds;
		struct errbuf e;

		err_clear(&e);
		if (w->unsupported)
			continue;
		if (w->w == NULL) {
			if (now < w->retry_at)
				continue;
			if ((ds = open_one(ws->cfg, w, &e)) != DIR_OK) {
				w->retry_at = now + RETRY_S;
				if (!w->down)
					log_warn("[directory %s] cannot follow the change stream now: %s; "
					    "trying again every %ds", w->dir->name, e.text, RETRY_S);
				w->down = true;
				continue;
			}
		}
		ds = dir_watch_poll(w->w, waited ? 0 : timeout_s, &ch, &e);
		if (ds != DIR_OK) {
			/* The watch resumes from the state it last handed out. */
			if (!w->down)
				log_warn("[directory %s] change stream: %s; resuming when the server "
				    "answers", w->dir->name, e.text);
			w->down = true;
			dir_changes_clear(&ch);
			continue;
		}
		if (w->down)
			log_info("[directory %s] following the change stream again", w->dir->name);
		w->down = false;
		waited = true;
		merge(w, &ch, time(NULL));
	}
	return waited;
}

bool
watches_due(struct daemon_watches *ws, const char **trigger_out)
{
	time_t now = time(NULL);
	size_t len = 0;
	bool due = false;

	if (ws == NULL)
		return false;
	ws->trigger[0] = '\0';
	for (size_t i = 0; i < ws->n; i++) {
		const struct watch *w = &ws->v[i];

		if (w->n_seen == 0 && !w->full)
			continue;
		if (now - w->first_seen < DEBOUNCE_S)
			return false; /* let it settle: one run for all */
		due = true;
		if (w->full && w->why != NULL && strncmp(w->why, "no-state", 8) == 0)
			snprintf(ws->trigger + len, sizeof(ws->trigger) - len, "%s[directory %s]'s "
			    "stream starts without a stored position: a full read first",
			    len ? "; " : "", w->dir->name);
		else if (w->full && w->why != NULL)
			snprintf(ws->trigger + len, sizeof(ws->trigger) - len, "%srefresh required "
			    "in [directory %s]: %s", len ? "; " : "", w->dir->name, w->why);
		else
			snprintf(ws->trigger + len, sizeof(ws->trigger) - len,
			    "%sa change in [directory %s]", len ? "; " : "", w->dir->name);
		len = strlen(ws->trigger);
	}
	*trigger_out = ws->trigger;
	return due;
}

bool
watches_full_due(struct daemon_watches *ws, const char **trigger_out)
{
	time_t now = time(NULL);

	for (size_t i = 0; ws != NULL && i < ws->n; i++) {
		const struct watch *w = &ws->v[i];

		if (w->w == NULL || w->last_full_read == 0 ||
		    now - w->last_full_read < ws->cfg->service.full_sync_interval)
			continue;
		snprintf(ws->trigger, sizeof(ws->trigger), "full_sync_interval: [directory %s] "
		    "was last read whole %llds ago", w->dir->name,
		    (long long)(now - w->last_full_read));
		*trigger_out = ws->trigger;
		return true;
	}
	return false;
}

static void
scope_free(struct daemon_watches *ws)
{
	free(ws->read_whole);
	free(ws->changes);
	free(ws->streams);
	free(ws->n_seen);
	free(ws->stream_of);
	ws->read_whole = NULL;
	ws->changes = NULL;
	ws->streams = NULL;
	ws->n_seen = NULL;
	ws->stream_of = NULL;
}

void
watches_scope(struct daemon_watches *ws, bool full, bool due, const char *trigger,
    struct run_scope *sc)
{
	const struct config *cfg = ws->cfg;
	size_t n_changes = 0, n_streams = 0, n_whole = 0, n_enabled = 0;
	time_t now = time(NULL), oldest = now;
	bool never = false;

	memset(sc, 0, sizeof(*sc));
	if (ws == NULL) {
		/* No streams: a full read, as before. */
		sc->kind = "full";
		sc->trigger = trigger;
		sc->lag = -1;
		return;
	}
	scope_free(ws);
	for (size_t i = 0; i < ws->n; i++)
		n_changes += ws->v[i].pending.n;
	ws->read_whole = xcalloc(cfg->n_groups + 1, sizeof(*ws->read_whole));
	ws->changes = xcalloc(n_changes + 1, sizeof(*ws->changes));
	ws->streams = xcalloc(ws->n + 1, sizeof(*ws->streams));
	ws->n_seen = xcalloc(ws->n + 1, sizeof(*ws->n_seen));
	ws->stream_of = xcalloc(ws->n + 1, sizeof(*ws->stream_of));
	n_changes = 0;
	for (size_t i = 0; i < ws->n; i++) {
		struct watch *w = &ws->v[i];
		struct store_stream *ss;

		/* A run at the interval shows every stream followed, changes or not. */
		if (w->pending.state == NULL || (!full && !due && w->n_seen == 0 && !w->full))
			continue;
		for (size_t k = 0; !full && k < w->pending.n; k++) {
			const struct dir_change *c = &w->pending.v[k];

			if (c->kind == DIR_CHANGE_GROUPS) {
				for (size_t g = 0; g < c->n_groups; g++)
					ws->read_whole[(size_t)(c->groups[g] - cfg->groups)] = true;
			} else if (c->kind == DIR_CHANGE_PERSON || c->kind == DIR_CHANGE_GONE) {
				ws->changes[n_changes].dir = w->dir;
				ws->changes[n_changes].c = c;
				n_changes++;
			}
		}
		for (size_t g = 0; !full && w->full && g < w->n_groups; g++)
			ws->read_whole[(size_t)(w->groups[g] - cfg->groups)] = true;
		if (!full && w->first_seen > 0 && w->first_seen < oldest)
			oldest = w->first_seen;
		ss = &ws->streams[n_streams];
		ss->directory = (char *)w->dir->name;
		ss->kind = (char *)dir_stream_kind_name(w->pending.info.kind);
		ss->state = w->pending.state;
		ss->server = w->pending.info.server;
		ss->server_id = w->pending.info.server_id;
		ss->position = w->pending.info.position;
		ss->issued = (time_t)w->pending.info.issued;
		ss->last_full_read = w->last_full_read;
		ws->n_seen[n_streams] = w->n_seen;
		ws->stream_of[n_streams++] = i;
	}
	/*
	 * A full run reads every group because it must (start, interval, a
	 * refresh the stream required); a run that reads every group because
	 * the changes named them all is still incremental.
	 */
	for (size_t gi = 0; gi < cfg->n_groups; gi++)
		n_enabled += cfg->groups[gi].enabled;
	for (size_t i = 0; i < ws->n; i++)
		n_whole += full || ws->v[i].full ? ws->v[i].n_groups : 0;
	if (full) {
		/* How far behind: the age of the oldest full read among the streams. */
		for (size_t i = 0; i < ws->n; i++) {
			if (ws->v[i].last_full_read == 0)
				never = true;
			else if (ws->v[i].last_full_read < oldest)
				oldest = ws->v[i].last_full_read;
		}
	}
	sc->kind = full || n_whole >= n_enabled ? "full" : "incremental";
	sc->trigger = trigger;
	sc->lag = never || (full && ws->n == 0) ? -1 : (long long)(now - oldest);
	sc->read_whole = full ? NULL : ws->read_whole;
	sc->changes = ws->changes;
	sc->n_changes = n_changes;
	sc->streams = ws->streams;
	sc->n_streams = n_streams;
	sc->n_seen = ws->n_seen;
	sc->due = due;
}

void
watches_done(struct daemon_watches *ws, struct run_scope *sc)
{
	if (ws == NULL)
		return;
	for (size_t i = 0; i < sc->n_streams; i++) {
		struct watch *w = &ws->v[ws->stream_of[i]];

		if (sc->committed) {
			w->last_full_read = sc->streams[i].last_full_read;
			reset_pending(w);
			continue;
		}
		/*
		 * Not committed: what these changes did is not on record with
		 * their state. Open the stream again from the stored state, so
		 * that they come again.
		 */
		log_warn("[directory %s] the run did not commit the change stream's position: "
		    "its changes come again in %ds", w->dir->name, RETRY_S);
		dir_watch_close(w->w);
		w->w = NULL;
		reset_pending(w);
		dir_changes_clear(&w->pending);
		w->retry_at = time(NULL) + RETRY_S;
	}
	scope_free(ws);
	memset(sc, 0, sizeof(*sc));
}

bool
watches_follow_all(const struct daemon_watches *ws)
{
	const struct config *cfg;

	if (ws == NULL)
		return false;
	cfg = ws->cfg;
	for (size_t gi = 0; gi < cfg->n_groups; gi++) {
		bool followed = false;

		if (!cfg->groups[gi].enabled)
			continue;
		for (size_t i = 0; i < ws->n && !followed; i++) {
			const struct watch *w = &ws->v[i];

			followed = w->dir == cfg->groups[gi].directory && w->w != NULL &&
			    !w->unsupported && !w->full && w->last_full_read != 0 &&
			    dir_reads_person(w->dir);
		}
		if (!followed)
			return false;
	}
	return true;
}
