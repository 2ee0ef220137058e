/* SPDX-License-Identifier: ISC */
/*
 * How requests reach the signer (signer/sctx.h answers them):
 *
 *   listen_child()   smimesync started us: one connection, the socketpair
 *                    on fd 3, until smimesync closes it.
 *   listen_socket()  as a service: the listening socket systemd passed
 *                    (LISTEN_FDS/LISTEN_PID, the sd_listen_fds protocol,
 *                    read here without libsystemd), or one bound at path.
 *   listen_serve()   accept clients on it until SIGTERM: each one is
 *                    checked with SO_PEERCRED (root, or client_uid when
 *                    has_client) before its first request is read, and
 *                    answered one request at a time.
 *
 * A client that sends a message header and then stalls is given
 * LISTEN_READ_TIMEOUT_S before it is dropped, so one stuck client cannot
 * hold the others for longer than that.
 */
#ifndef SMIMESYNC_SIGNER_LISTEN_H
#define SMIMESYNC_SIGNER_LISTEN_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/attrs.h"
#include "common/errbuf.h"
#include "signer/sctx.h"

#define LISTEN_READ_TIMEOUT_S 30
#define LISTEN_MAX_CLIENTS 64

/* Serve fd until the peer closes it; returns the exit status. */
int listen_child(int fd, struct sctx *c);
/* The listening socket: systemd's, else bound at path (NULL: none given). */
int listen_socket(const char *path, int *out, struct errbuf *e) MUST_USE;
int listen_serve(int lfd, struct sctx *c, bool has_client, uid_t client_uid);

#endif
