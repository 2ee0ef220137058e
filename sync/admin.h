/* SPDX-License-Identifier: ISC */
/*
 * The engine for one-shot admin commands (revoke, crl, recover, resend,
 * master-key rotate): the store opened for writing and locked against a
 * concurrent run, the master key when the command needs it, a fresh id
 * for the audit log, and the current time.
 *
 *   struct engine en;
 *   if (admin_open(cfg, true, &en, &e) != 0) ... print e, exit 1 ...
 *   ... engine_ca(), engine_dir(), store_*() ...
 *   admin_close(&en);
 */
#ifndef SMIMESYNC_SYNC_ADMIN_H
#define SMIMESYNC_SYNC_ADMIN_H

#include <stdbool.h>

#include "sync/engine.h"

int admin_open(const struct config *cfg, bool need_master_key, struct engine *en,
    struct errbuf *e) MUST_USE;
void admin_close(struct engine *en);
/* The [group] section of that name, or NULL. */
const struct conf_group *admin_find_group(const struct config *cfg, const char *name);

#endif
