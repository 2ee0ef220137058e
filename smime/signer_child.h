/* SPDX-License-Identifier: ISC */
/*
 * The signer process's side (signer.h): what the child runs after
 * signer_start() forked it. Private to smime/ (and its tests).
 *
 * The child holds the keys itself: local CAs through issuer.h, master
 * keys through escrow_seal.h. It never calls back into the CA interface
 * or the signer's client side.
 */
#ifndef SMIMESYNC_SMIME_SIGNER_CHILD_H
#define SMIMESYNC_SMIME_SIGNER_CHILD_H

#include <stddef.h>

#include "common/attrs.h"
#include "common/buf.h"
#include "conf/conf.h"

/* Serve requests on fd until the parent closes it, then _exit(). */
void signer_child_main(int fd, const struct config *cfg) NORETURN;

/*
 * The child's work without its process (signer_child_main() is these
 * around a socket; the fuzz target calls them directly): load every key of
 * cfg (borrowed for the life of the handle; errors are kept for the
 * requests that need that key), answer one request body into out (a
 * status, then results or a message), free and wipe.
 */
struct signer_child;
struct signer_child *signer_child_new(const struct config *cfg);
void signer_child_serve(struct signer_child *c, const unsigned char *body, size_t len,
    struct buf *out);
void signer_child_free(struct signer_child *c);

#endif
