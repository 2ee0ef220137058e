/* SPDX-License-Identifier: ISC */
/*
 * The wire format between smimesync and its signer process (signer.c is
 * the parent's side, signer_child.c the child's). Nothing outside smime/
 * includes this header.
 *
 * One request, one reply, strictly alternating over a socketpair. Each
 * message is a 4-byte big-endian length and that many bytes of body; the
 * body is a sequence of fields written with the put functions and read
 * back in the same order with the get functions:
 *
 *   u32, u64   big-endian integers
 *   bytes      u32 length, then the bytes
 *   str        like bytes, UINT32_MAX as length for NULL; no NUL inside
 *
 * A request body starts with its op (u32). A reply starts with a u32
 * status: SIGNER_OK, then the op's results, or SIGNER_ERR and one str, the
 * message for the user.
 *
 * Every message has a maximum size (SIGNER_MSG_MAX) checked before any
 * allocation, and readers stop at the first malformed field, so neither
 * side can make the other allocate without bound or read past a buffer.
 */
#ifndef SMIMESYNC_SMIME_SIGNER_PROTO_H
#define SMIMESYNC_SMIME_SIGNER_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "common/attrs.h"
#include "common/buf.h"
#include "common/errbuf.h"

/*
 * A CRL of a large deployment (100,000 revoked serials) is a few MB; a
 * sealed queued mail a few hundred kB at most. 64 MiB bounds both with a
 * wide margin.
 */
#define SIGNER_MSG_MAX ((size_t)64 << 20)

/* The only requests the signer answers. */
enum signer_op {
	SIGNER_OP_CA_CHAIN = 1,   /* str ca -> u32 n, n x bytes DER (public) */
	SIGNER_OP_SIGN_CERT,      /* see signer.c: CSR and request -> outcome, reason, DER */
	SIGNER_OP_SIGN_CRL,       /* str ca, entries, number, times -> DER */
	SIGNER_OP_KEY_STATUS,     /* u32 slot -> ok, or why the key could not be loaded */
	SIGNER_OP_SEAL,           /* u32 slot, str aad, bytes plain -> bytes sealed */
	SIGNER_OP_UNSEAL,         /* u32 slot, str aad, bytes sealed -> bytes plain */
	SIGNER_OP_NEW_MASTER_KEY, /* create <master_key_file>.new, load it into slot 1 */
};

enum signer_status {
	SIGNER_OK = 0,
	SIGNER_ERR = 1,
};

/* Master key slots: the current key and the one a rotation is moving to. */
enum signer_slot {
	SIGNER_SLOT_CURRENT = 0,
	SIGNER_SLOT_NEXT = 1,
	SIGNER_N_SLOTS
};

void sp_put_u32(struct buf *b, uint32_t v);
void sp_put_u64(struct buf *b, uint64_t v);
void sp_put_bytes(struct buf *b, const void *p, size_t n);
void sp_put_str(struct buf *b, const char *s);

/* Reads one body; after the first malformed field, bad is set and all gets return zeros. */
struct sp_reader {
	const unsigned char *p;
	size_t left;
	int bad;
};

void sp_reader_init(struct sp_reader *r, const void *body, size_t len);
uint32_t sp_get_u32(struct sp_reader *r);
uint64_t sp_get_u64(struct sp_reader *r);
/* Borrowed pointer into the body (valid while the body is). */
const unsigned char *sp_get_bytes(struct sp_reader *r, size_t *len);
/* New string (free()), NULL for a NULL str or a malformed one (then bad is set). */
char *sp_get_str(struct sp_reader *r);
/* Did the body hold exactly the fields read, all well formed? */
int sp_reader_done(const struct sp_reader *r);

/*
 * Send a whole message, retrying short writes and EINTR; never raises
 * SIGPIPE. Returns 0, or -1 with errno set.
 */
int sp_send(int fd, const struct buf *body) MUST_USE;
/*
 * Receive one message: *body is new (free(); cleanse first if it may hold
 * a secret), NUL-terminated (not counted). timeout_ms < 0 waits forever. Returns 0; 1 if the peer closed the socket before a whole
 * message; -2 on timeout; -1 with errno set on other errors (EMSGSIZE for
 * a length over SIGNER_MSG_MAX).
 */
int sp_recv(int fd, unsigned char **body, size_t *len, int timeout_ms) MUST_USE;

#endif
