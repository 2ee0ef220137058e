/* SPDX-License-Identifier: ISC */
/*
 * The signer at work: its policy, the keys it holds, its signing log and
 * what replaying the log gives (revocation lists, CRL numbers, the
 * certificates of the last hour, closed keys), and the answer to one
 * request (smime/signer_proto.h). main.c runs it behind a socket; the fuzz
 * target and the unit tests call sctx_serve() directly.
 *
 *   struct sctx *c = NULL;
 *   if (sctx_new(policy, &c, &e) != 0) ... cannot start ...
 *   struct sconn conn = { 0 };
 *   for each request body: sctx_serve(c, &conn, body, len, &reply); send reply
 *   sctx_free(c);
 *
 * sctx_new() with a NULL policy makes a signer that waits for its policy
 * in the first HELLO (only smimesync starting it without a policy file
 * does that); keys that fail to load are not fatal: the message is the
 * answer to each request that needs that key.
 *
 * Ownership: sctx_new() steals policy (NULL allowed) and returns a new
 * handle; sctx_free() frees it and wipes the keys.
 */
#ifndef SMIMESYNC_SIGNER_SCTX_H
#define SMIMESYNC_SIGNER_SCTX_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/attrs.h"
#include "common/buf.h"
#include "common/errbuf.h"
#include "signer/policy.h"

struct sctx;

/* One client connection. */
struct sconn {
	bool greeted;  /* HELLO came first, with the right version */
	bool has_uid;  /* over a Unix socket: the peer's uid */
	uid_t uid;
};

int sctx_new(struct policy *policy, struct sctx **out, struct errbuf *e) MUST_USE;
/* A signer that could not start: it answers every request with msg (copied). */
struct sctx *sctx_failed(const char *msg);
void sctx_free(struct sctx *c);
/* Answer one request body into out (appended: a status, then results or a message). */
void sctx_serve(struct sctx *c, struct sconn *conn, const unsigned char *body, size_t len,
    struct buf *out);
/* A line for the log at start: policy, keys held, the log's head (new). */
char *sctx_describe(const struct sctx *c);

#endif
