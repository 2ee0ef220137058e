/* SPDX-License-Identifier: ISC */
/*
 * The requests smimesync makes of its signer (signer.h), one function each:
 * what ca_local.c and escrow.c send when their caller gave them a signer.
 * signer.c implements them. Nothing outside smime/ includes this header.
 *
 * Each returns like the function it stands in for; the signer's messages
 * are passed on as they are, and a dead or silent signer gives a message
 * that says which.
 */
#ifndef SMIMESYNC_SMIME_SIGNER_INTERNAL_H
#define SMIMESYNC_SMIME_SIGNER_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>

#include "common/attrs.h"
#include "common/errbuf.h"
#include "smime/ca_result.h"
#include "smime/crl.h"
#include "smime/signer.h"

/* The issuing chain of the CA whose key identifier is ca_id, issuing CA first (new stack). */
int signer_ca_chain(struct signer *s, const char *ca_id, STACK_OF(X509) **chain,
    struct errbuf *e) MUST_USE;
/* ca_submit() for that CA; out->chain is a new reference to chain. */
enum ca_outcome signer_sign_cert(struct signer *s, const char *ca_id, X509_REQ *csr,
    const struct ca_request *req, STACK_OF(X509) *chain, struct ca_result *out) MUST_USE;
/* ca_make_crl() for that CA (ca.h): the signer's list, its number, its clock. */
int signer_sign_crl(struct signer *s, const char *ca_id, uint64_t number_floor, int64_t lifetime,
    uint64_t *number, size_t *entries, unsigned char **der, size_t *len,
    struct errbuf *e) MUST_USE;

/*
 * master_key_load() of path: *slot is where the signer holds the key it
 * loaded from path (the current master key, or the one a rotation is
 * moving to; signer_proto.h).
 */
int signer_master_key(struct signer *s, const char *path, int *slot, struct errbuf *e)
    MUST_USE;
/* master_key_create() of <master_key_file>.new, done by the signer. */
int signer_new_master_key(struct signer *s, const char *path, struct errbuf *e) MUST_USE;
/* Finish (commit) or abandon a rotation: the signer renames or removes the .new file. */
int signer_rotate(struct signer *s, int what, struct errbuf *e) MUST_USE;
int signer_seal(struct signer *s, int slot, const char *aad, const unsigned char *plain,
    size_t len, unsigned char **out, size_t *out_len, struct errbuf *e) MUST_USE;
/* *out is new and secret: secret_free() it. */
int signer_unseal(struct signer *s, int slot, const char *aad, const unsigned char *sealed,
    size_t len, unsigned char **out, size_t *out_len, struct errbuf *e) MUST_USE;
int signer_reseal(struct signer *s, int from, int to, const char *aad,
    const unsigned char *sealed, size_t len, unsigned char **out, size_t *out_len,
    struct errbuf *e) MUST_USE;
/* 1 if the blob opens with slot's key, 0 if not, -1 on error. */
int signer_probe(struct signer *s, int slot, const char *aad, const unsigned char *sealed,
    size_t len, struct errbuf *e) MUST_USE;
int signer_escrow(struct signer *s, int slot, const char *key_aad, const unsigned char *sealed,
    size_t len, X509 *cert, const char *escrow_aad, unsigned char **out, size_t *out_len,
    struct errbuf *e) MUST_USE;
int signer_close_key(struct signer *s, int slot, const char *key_aad,
    const unsigned char *sealed, size_t len, struct errbuf *e) MUST_USE;

#endif
