/* SPDX-License-Identifier: ISC */
/*
 * The wire format between smimesync and smimesync-signer (smime/signer.c
 * is smimesync's side, signer/ the signer's). smime/ and signer/ include
 * this header; nobody else does.
 *
 * One request, one reply, strictly alternating over a stream socket (a
 * socketpair when smimesync started the signer itself, a Unix socket when
 * the signer runs as a service). Each message is a 4-byte big-endian
 * length and that many bytes of body; the body is a sequence of fields
 * written with the put functions and read back in the same order with the
 * get functions:
 *
 *   u32, u64   big-endian integers
 *   bytes      u32 length, then the bytes
 *   str        like bytes, UINT32_MAX as length for NULL; no NUL inside
 *
 * A request body starts with its op (u32). A reply starts with a u32
 * status, then:
 *
 *   SIGNER_OK       the op's results, as listed below
 *   SIGNER_ERR      str: what went wrong (a key that did not load, a
 *                   malformed request, a full disk); for the user
 *   SIGNER_REFUSED  str: why the signer's policy refuses this request
 *                   (a foreign domain, an unknown O=, a reason code
 *                   outside RFC 5280, no recovery credential ...)
 *   SIGNER_BUSY     u64 seconds to wait, str why (the hourly limit of
 *                   certificates was reached)
 *
 * The first request on a connection is HELLO; the signer answers nothing
 * else before it. CAs are named by their key identifier: the lowercase hex
 * subjectKeyIdentifier of the issuing CA certificate, so that renaming a
 * [ca] section on either side changes nothing. Requests whose effect goes
 * into the signing log carry the requester: the run id of smimesync.
 *
 *   HELLO        u32 version, str policy text (NULL: the signer has its
 *                own file; only a signer started by smimesync itself
 *                without one accepts a text)
 *                -> u32 version, str description of the signer and policy
 *   CA_CHAIN     str ca -> u32 n, n x bytes DER (issuing CA first)
 *   SIGN_CERT    str ca, str requester, bytes CSR, str mail, u32 n,
 *                n x str alt mail, u64 validity (s), u64 notBefore asked
 *                (0: the signer's clock; anything else is refused), u32
 *                profile, str O, str organizationIdentifier, str C
 *                -> bytes certificate DER
 *   REVOKE       str requester, bytes certificate DER, u32 RFC 5280 reason
 *                -> u32 1 if it was already revoked, str serial
 *   REVOKED      str ca -> u32 n, n x str serial (uppercase hex)
 *   SIGN_CRL     str ca, str requester, u64 lowest number acceptable
 *                (honoured only for a CA's first CRL), u64 lifetime (s)
 *                -> u64 number, u32 entries, bytes CRL DER
 *   KEY_STATUS   u32 slot -> (nothing)
 *   SEAL         u32 slot, str aad, bytes plain -> bytes sealed
 *   UNSEAL       u32 slot, str aad, bytes sealed -> bytes plain
 *   NEW_MASTER_KEY  u32 slot (NEXT) -> (nothing)
 *   RESEAL       u32 from slot, u32 to slot, str aad, bytes sealed
 *                -> bytes sealed (same aad, the other key)
 *   PROBE        u32 slot, str aad, bytes sealed -> u32 1 if it opens
 *   ESCROW       u32 slot, str key aad, bytes sealed key, bytes
 *                certificate DER, str escrow aad -> bytes sealed for
 *                recovery only
 *   CLOSE_KEY    u32 slot, str key aad, bytes sealed key, str requester
 *                -> (nothing); the key no longer unseals
 *   RECOVER      str requester, str user, str sudo user, bytes credential,
 *                u32 purpose, u32 n, n x (str aad, bytes sealed, bytes
 *                certificate DER, str friendly name), u32 m, m x bytes
 *                chain DER, u32 PKCS#12 profile, u32 iterations
 *                -> RECOVER_PKCS12: bytes PKCS#12, str password;
 *                   RECOVER_RESEND: bytes PKCS#8 of the one key
 *   ROTATE       u32 SIGNER_ROTATE_COMMIT (<master_key_file>.new replaces
 *                the master key, durably) or SIGNER_ROTATE_DISCARD (it
 *                goes), str requester -> (nothing)
 *   LOG_HEAD     u64 line, str hash (0 and NULL: no check)
 *                -> u64 lines, str hash of the last line, u32 check
 *                (SIGNER_HEAD_*)
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
#include "smime/signer.h"

/* Both programs are built together; a signer of another build is refused. */
#define SIGNER_PROTO_VERSION 2

/*
 * A CRL of a large deployment (100,000 revoked serials) is a few MB; a
 * sealed queued mail a few hundred kB at most. 64 MiB bounds both with a
 * wide margin.
 */
#define SIGNER_MSG_MAX ((size_t)64 << 20)

/* The only requests the signer answers. */
enum signer_op {
	SIGNER_OP_HELLO = 1,
	SIGNER_OP_CA_CHAIN,
	SIGNER_OP_SIGN_CERT,
	SIGNER_OP_REVOKE,
	SIGNER_OP_REVOKED,
	SIGNER_OP_SIGN_CRL,
	SIGNER_OP_KEY_STATUS,
	SIGNER_OP_SEAL,
	SIGNER_OP_UNSEAL,
	SIGNER_OP_NEW_MASTER_KEY,
	SIGNER_OP_RESEAL,
	SIGNER_OP_PROBE,
	SIGNER_OP_ESCROW,
	SIGNER_OP_CLOSE_KEY,
	SIGNER_OP_RECOVER,
	SIGNER_OP_LOG_HEAD,
	SIGNER_OP_ROTATE,
};

/* What ROTATE does with <master_key_file>.new. */
enum signer_rotate {
	SIGNER_ROTATE_COMMIT = 1,
	SIGNER_ROTATE_DISCARD = 2,
};

enum signer_status {
	SIGNER_OK = 0,
	SIGNER_ERR = 1,
	SIGNER_REFUSED = 2,
	SIGNER_BUSY = 3,
};

/* Master key slots: the current key and the one a rotation is moving to. */
enum signer_slot {
	SIGNER_SLOT_CURRENT = 0,
	SIGNER_SLOT_NEXT = 1,
	SIGNER_N_SLOTS
};

/* What RECOVER hands back. */
enum signer_recover_purpose {
	SIGNER_RECOVER_PKCS12 = 1, /* smimesync recover: every key in one PKCS#12 */
	SIGNER_RECOVER_RESEND = 2, /* smimesync resend: the current key, for a new collection mail */
};

/* LOG_HEAD's check of a head recorded earlier: enum signer_head_check (signer.h). */

/*
 * Sealed blobs whose associated data starts with this are escrowed keys:
 * only ESCROW makes them, only RECOVER (with the operator's credential)
 * opens them; SEAL and UNSEAL refuse them.
 */
#define SIGNER_ESCROW_AAD_PREFIX "escrow:"
/* Keys of provisioning actions: UNSEAL opens them until CLOSE_KEY. */
#define SIGNER_KEY_AAD_PREFIX "key:"

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
