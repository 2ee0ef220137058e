/* SPDX-License-Identifier: ISC */
/*
 * The requests a signer process answers (signer.h), one function each:
 * what ca_local.c and escrow.c send when their caller gave them a signer.
 * signer.c implements them; the child's side is signer_child.h. Nothing
 * outside smime/ includes this header.
 *
 * Each returns like the function it stands in for; messages from the
 * child are passed on as they are, and a dead or silent child gives a
 * message that says which.
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

/* The issuing chain of local CA ca_name, issuing CA first (new stack). */
int signer_ca_chain(struct signer *s, const char *ca_name, STACK_OF(X509) **chain,
    struct errbuf *e) MUST_USE;
/* ca_submit() for local CA ca_name; out->chain is a new reference to chain. */
enum ca_outcome signer_sign_cert(struct signer *s, const char *ca_name, X509_REQ *csr,
    const struct ca_request *req, STACK_OF(X509) *chain, struct ca_result *out) MUST_USE;
/* ca_make_crl() for local CA ca_name. */
int signer_sign_crl(struct signer *s, const char *ca_name, const struct crl_entry *entries,
    size_t n, uint64_t number, time_t now, int64_t lifetime, unsigned char **der, size_t *len,
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
int signer_seal(struct signer *s, int slot, const char *aad, const unsigned char *plain,
    size_t len, unsigned char **out, size_t *out_len, struct errbuf *e) MUST_USE;
/* *out is new and secret: secret_free() it. */
int signer_unseal(struct signer *s, int slot, const char *aad, const unsigned char *sealed,
    size_t len, unsigned char **out, size_t *out_len, struct errbuf *e) MUST_USE;

#endif
