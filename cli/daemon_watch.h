/* SPDX-License-Identifier: ISC */
/*
 * The daemon's change streams (issue #17, doc/incremental.md): one watch
 * per [directory] with synced groups whose server offers a stream
 * (directory.h, "change streams"), the changes they delivered and not yet
 * acted on, and the run scope (sync/run.h) that acts on them.
 *
 *   watches_open(cfg, &ws, &e)        at start and after SIGHUP
 *   loop:
 *     watches_poll(ws, 1)             merges what came, reopens closed watches
 *     watches_due(ws, now)            changes pending and settled: run
 *     watches_scope(ws, full, trigger, &sc) ... run_sync ... watches_done(ws, &sc)
 *   watches_close(ws)
 *
 * Everything borrows the configuration given to watches_open(): close the
 * watches before freeing it. The state of a batch is committed by the run
 * that acted on it (run_scope.streams); a run that could not commit closes
 * the watch, which opens again from the stored state, so its changes come
 * again.
 */
#ifndef SMIMESYNC_CLI_DAEMON_WATCH_H
#define SMIMESYNC_CLI_DAEMON_WATCH_H

#include <stdbool.h>
#include <time.h>

#include "common/errbuf.h"
#include "conf/conf.h"
#include "sync/run.h"

struct daemon_watches;

/*
 * Open a watch for every [directory] with enabled groups and incremental
 * not no, from the state stored for it. A directory without a stream:
 * with incremental = yes, -1 and e names the directory, why and what to
 * configure (the daemon refuses to start); with auto one log line, and
 * that directory is read at [service] interval only. A server that cannot
 * be reached now is tried again later. *out is new.
 */
int watches_open(const struct config *cfg, struct daemon_watches **out, struct errbuf *e)
    MUST_USE;
void watches_close(struct daemon_watches *ws);

/*
 * Poll every open watch once (the first waits up to timeout_s, the others
 * not at all) and keep what came; reopen watches that failed, at most
 * every 30 s. Returns true if any watch is open (else the caller sleeps).
 */
bool watches_poll(struct daemon_watches *ws, int timeout_s);

/*
 * Changes are pending and the last one came at least the debounce ago
 * (a bulk import is one run). *trigger_out (static text in ws) says which
 * directory.
 */
bool watches_due(struct daemon_watches *ws, const char **trigger_out);

/*
 * A directory's last full read is older than [service]
 * full_sync_interval: a full read is due. *trigger_out as above.
 */
bool watches_full_due(struct daemon_watches *ws, const char **trigger_out);

/*
 * Is every directory with enabled groups followed by an open stream that
 * can look people up alone, read whole once since it opened, with no full
 * read asked for? Then the run at [service] interval need not read every
 * group: it looks up the people due by the clock (run_scope.due).
 */
bool watches_follow_all(const struct daemon_watches *ws);

/*
 * The scope of a run: full (every group read whole; every watch's latest
 * state committed with it) or the pending changes; with due, also the
 * people due by the clock (run_scope.due), every stream shown. sc is
 * filled with arrays owned by ws until watches_done().
 */
void watches_scope(struct daemon_watches *ws, bool full, bool due, const char *trigger,
    struct run_scope *sc);
/* After the run: committed changes are forgotten; uncommitted, the watch reopens. */
void watches_done(struct daemon_watches *ws, struct run_scope *sc);

#endif
