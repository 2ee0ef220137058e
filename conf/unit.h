/* SPDX-License-Identifier: ISC */
/*
 * The systemd unit as check-config needs to know it: which user the
 * service runs as, which configuration it loads, and what its sandbox lets
 * it read and write. The unit file is the one source of that truth (the
 * package and "make install" ship conf/smimesync.service.in), so instead of
 * a second list kept by hand we read the unit the service really gets:
 *
 *   struct unit_sandbox *u = NULL;
 *   if (unit_sandbox_load(NULL, &u, &e) == 0 && u != NULL) {
 *       char *why = unit_sandbox_denies(u, "/var/www/pki", true);  // new or NULL
 *       ...
 *   }
 *   unit_sandbox_free(u);
 *
 * With a file name, that file and its drop-ins (FILE.d/ *.conf) are read.
 * With NULL, smimesync.service is looked up as systemd does: the first of
 * /etc/systemd/system, /run/systemd/system, the configured unit directory,
 * /usr/lib/systemd/system and /lib/systemd/system that has it, and the
 * drop-ins smimesync.service.d/ *.conf of all of them (a name in an earlier
 * directory hides the same name in a later one; applied in name order).
 * "Not installed" is not an error: *out is NULL then.
 *
 * Understood in [Service]: User=, Group=, ExecStart= (for -c), ProtectSystem=,
 * ProtectHome=, PrivateTmp=, ReadWritePaths=, ReadOnlyPaths=,
 * InaccessiblePaths= and StateDirectory=, CacheDirectory=, LogsDirectory=,
 * RuntimeDirectory= (which make their directories writable); an empty
 * assignment resets a list, as in systemd. Everything else is ignored.
 */
#ifndef SMIMESYNC_CONF_UNIT_H
#define SMIMESYNC_CONF_UNIT_H

#include <stdbool.h>
#include <stddef.h>

#include "common/attrs.h"
#include "common/errbuf.h"

struct unit_sandbox;

/* Load; *out is new (unit_sandbox_free), or NULL when no unit is installed. */
int unit_sandbox_load(const char *file, struct unit_sandbox **out, struct errbuf *e) MUST_USE;
void unit_sandbox_free(struct unit_sandbox *u);

/* The unit file that was read (borrowed, valid while u lives). */
const char *unit_sandbox_file(const struct unit_sandbox *u);
/* User= and Group=, or NULL when not set (the service runs as root). Borrowed. */
const char *unit_sandbox_user(const struct unit_sandbox *u);
const char *unit_sandbox_group(const struct unit_sandbox *u);
/*
 * The configuration file ExecStart= passes with -c/--config, or NULL when
 * it passes none (then smimesync's built-in default applies). Borrowed.
 */
const char *unit_sandbox_config(const struct unit_sandbox *u);

/*
 * Would the sandbox let the service read path (want_write false) or
 * create and rename files in the directory path (want_write true)? NULL:
 * yes. Otherwise a new sentence naming the unit setting that stops it and
 * the drop-in that would allow it. File permissions are not looked at here.
 */
char *unit_sandbox_denies(const struct unit_sandbox *u, const char *path, bool want_write);

#endif
