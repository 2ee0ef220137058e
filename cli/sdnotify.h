/* SPDX-License-Identifier: ISC */
/*
 * The systemd notification protocol, without libsystemd: when systemd
 * starts the daemon with Type=notify it sets NOTIFY_SOCKET, and we send it
 * datagrams such as "READY=1", "RELOADING=1", "STOPPING=1" and
 * "STATUS=last run ... ok; next in 55m" (shown by systemctl status).
 * Without NOTIFY_SOCKET every call does nothing.
 *
 *   sd_notifyf("STATUS=next run in %llds", (long long)delay);
 */
#ifndef SMIMESYNC_CLI_SDNOTIFY_H
#define SMIMESYNC_CLI_SDNOTIFY_H

#include "common/attrs.h"

/* Returns 1 sent, 0 no NOTIFY_SOCKET, -1 could not send (errno set). */
int sd_notifyf(const char *fmt, ...) PRINTF_LIKE(1, 2);

#endif
