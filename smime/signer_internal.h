/* SPDX-License-Identifier: ISC */
/*
 * The requests behind the smime/ API while a signer runs (signer.h): used
 * by ca_local.c, crl.c and escrow.c to send their work to the signer
 * process, and by signer.c to start the child. Nothing outside smime/
 * includes this header.
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
#include "common/buf.h"
#include "common/errbuf.h"
#include "conf/conf.h"
#include "smime/ca.h"
#include "smime/escrow.h"
#include "smime/signer.h"

/* The signer a local CA sends its requests to, NULL if it holds its key (ca.c). */
struct signer *ca_signer(struct ca *ca);

/* The signer this process started, or NULL (in the child itself: NULL). */
struct signer *signer_current(void);

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
 * master_key_load() of path: a handle to the key the signer loaded from
 * it (the current master key, or the one a rotation is moving to).
 */
int signer_master_key(struct signer *s, const char *path, struct master_key *out,
    struct errbuf *e) MUST_USE;
/* master_key_create() of <master_key_file>.new, done by the signer. */
int signer_new_master_key(struct signer *s, const char *path, struct errbuf *e) MUST_USE;
int signer_seal(struct signer *s, int slot, const char *aad, const unsigned char *plain,
    size_t len, unsigned char **out, size_t *out_len, struct errbuf *e) MUST_USE;
/* *out is new and secret: secret_free() it. */
int signer_unseal(struct signer *s, int slot, const char *aad, const unsigned char *sealed,
    size_t len, unsigned char **out, size_t *out_len, struct errbuf *e) MUST_USE;

/* The child: serve requests on fd until the parent closes it, then _exit(). */
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
