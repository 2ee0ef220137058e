/* SPDX-License-Identifier: ISC */
/*
 * Room smime/: keys, certificate profiles, the CA table (internal CA and
 * external connectors), CRLs, PKCS#12, key escrow, and the client side of
 * the signer. Its public headers are this one, cert.h, key.h, pkcs12.h,
 * escrow.h, signer.h and types.h.
 *
 * The CA interface, and the internal (local) CA behind it.
 *
 * The engine generates the subscriber key itself, makes a CSR
 * (proof of possession) and submits it with a struct ca_request that
 * says what the certificate must contain. The CA answers with one of the
 * outcomes of DESIGN.md; only PENDING and UNREACHABLE are worth retrying.
 * The CA, not the CSR, decides the subject, extensions and validity.
 *
 *   struct ca *ca = NULL;
 *   if (ca_open(conf_ca, signer, &ca, &e) != 0) ... misconfigured ...
 *   struct ca_result r = { 0 };
 *   switch (ca_submit(ca, csr, &req, &r)) { case CA_ISSUED: use r.cert, r.chain ... }
 *   ca_result_clear(&r);
 *   ca_close(ca);
 *
 * A local CA's key is held by the signer process passed to ca_open()
 * (signer.h): ca_submit() and ca_make_crl() are then requests to it, and
 * this process holds only the public chain.
 *
 * The local CA signs leaves in the profile the request names, as the CA/B
 * Forum S/MIME Baseline Requirements define it: mailbox-validated strict
 * (policy 2.23.140.1.5.1.3, the default) or multipurpose (.1.2), or
 * organization-validated strict (.2.3) or multipurpose (.2.2). Mailbox
 * subjects hold CN = mail only; organization subjects add O,
 * organizationIdentifier and optionally C. Multipurpose adds the clientAuth
 * EKU. Common to all: SAN rfc822Name (SmtpUTF8Mailbox otherName for a
 * non-ASCII local part), EKU emailProtection, key usage by key type
 * (RSA digitalSignature+keyEncipherment, EC digitalSignature+keyAgreement,
 * critical), basicConstraints CA:FALSE, SKI, AKI keyid only, CRL DP and
 * AIA caIssuers from the config, a random 127-bit serial, notBefore
 * backdated by one minute, and the digest matched to the CA key
 * (RSA/P-256 SHA-256, P-384 SHA-384, P-521 SHA-512).
 *
 * External CAs (smime/ca_cfssl.c, ca_ejbca.c, ca_sectigo.c, ca_helper.c)
 * sit behind the same calls; smime/ca.c dispatches on the [ca] type. They
 * may answer PENDING with a cookie: the caller keeps the cookie (in the
 * store, across restarts) and later calls ca_poll() with it and the same
 * request, never ca_submit() again for the same intent. Whatever an
 * external CA issues is checked before it is returned as ISSUED: its
 * chain must verify up to trust_anchor_file, its public key must be the
 * CSR's, its subjectAltName must hold exactly the requested addresses
 * and its EKU must allow emailProtection; otherwise the answer becomes
 * REJECTED with the reason. out->chain is then the verified chain, issuing
 * CA first, up to the trust anchor.
 *
 * Every exchange with an external CA is summarised, secrets removed, in
 * out->exchange for the audit log.
 *
 * ca_init() creates a root and an issuing CA for a [ca] section, writing
 * cert_file, key_file (0600; with key_uri the key is made inside the
 * token instead, or one a key ceremony made is used) and chain_file
 * (issuing + root), and the root key only to params->root_key_out, which
 * must be apart from every file the service uses: the root key goes
 * offline. The issuing certificate carries the policy OIDs and EKUs of
 * params->profiles (CERT_PROFILE_BIT() mask; ca_profiles_used() gives the
 * profiles of the groups that use the CA). It refuses to overwrite
 * existing files, takes the section as loaded (defaults from the option
 * table) and states no defaults of its own. ca_renew_issuing()
 * re-certifies the issuing key with the root key brought back from
 * offline, for the profiles given; ca_issuing_fits() says whether the
 * issuing certificate on disk allows a profile (check-config).

 * The request, the outcomes and the result are in smime/ca_result.h,
 * the CRL entries and reason codes in smime/crl.h; this header includes
 * both. Ownership: ca_result owns cert, chain, cookie and exchange;
 * ca_result_clear() frees them. ca_request only borrows.
 */
#ifndef SMIMESYNC_SMIME_CA_H
#define SMIMESYNC_SMIME_CA_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>

#include "common/attrs.h"
#include "common/errbuf.h"
#include "conf/conf.h"
#include "smime/ca_result.h"
#include "smime/crl.h"

struct ca;
struct signer;

/*
 * signer (borrowed; must outlive the handle) is the signer process that
 * holds the local CAs' keys (signer.h): a local CA then signs there. NULL
 * only where a process may hold the key itself (unit tests): the local CA
 * then reads its key file here. External CAs ignore it.
 */
int ca_open(const struct conf_ca *conf, struct signer *signer, struct ca **out,
    struct errbuf *e) MUST_USE;
void ca_close(struct ca *ca);
enum ca_outcome ca_submit(struct ca *ca, X509_REQ *csr, const struct ca_request *req,
    struct ca_result *out) MUST_USE;
/*
 * Ask again about a PENDING request: cookie is what the CA gave, csr and
 * req are rebuilt exactly as for the ca_submit() that got it.
 */
enum ca_outcome ca_poll(struct ca *ca, X509_REQ *csr, const struct ca_request *req,
    const char *cookie, struct ca_result *out) MUST_USE;
/* The section's name and type, as in the config (borrowed; valid until ca_close). */
const char *ca_name(const struct ca *ca);
enum ca_type ca_type(const struct ca *ca);
/*
 * The issuing chain (borrowed; valid until ca_close): the local CA's, or an
 * external CA's chain_file (possibly empty). A certificate's own chain, as
 * stored when it was issued, is the better source for external CAs.
 */
STACK_OF(X509) *ca_chain(struct ca *ca);

struct ca_init_params {
	const char *root_key_out;     /* where the root key is written (required) */
	unsigned profiles;            /* CERT_PROFILE_BIT() mask the issuing CA allows */
	const char *state_dir;        /* the root key must not go below it (may be NULL) */
	const char *master_key_file;  /* ... nor beside it (may be NULL) */
	bool token_key_created;       /* out: key_uri's key was generated now, not found */
};
int ca_init(const struct conf_ca *conf, struct ca_init_params *params, struct errbuf *e)
    MUST_USE;

/* What ca_renew_issuing() replaced. */
struct ca_renewal {
	char old_serial[64];
	char new_serial[64];
	time_t old_not_after;
	time_t new_not_after;
};
int ca_renew_issuing(const struct conf_ca *conf, const char *root_key_file, unsigned profiles,
    struct ca_renewal *out, struct errbuf *e) MUST_USE;
/* The profiles of the groups that use ca (at least mailbox-strict), as a mask. */
unsigned ca_profiles_used(const struct config *cfg, const struct conf_ca *ca);
/* 0 if ca's issuing certificate (cert_file) allows profile, else -1 and what it lacks. */
int ca_issuing_fits(const struct conf_ca *conf, enum cert_profile profile, struct errbuf *e)
    MUST_USE;

/*
 * ca_make_crl() has the signer sign a v2 CRL of a local CA (an external CA
 * publishes its own: refused; a local CA without a signer too, since the
 * revocation list is the signer's): issuer = the CA's subject, thisUpdate
 * = the signer's clock, nextUpdate = that + lifetime (at most 10 days,
 * S/MIME BR 4.9.7), the signer's next CRL number (only ever grows; for the
 * first CRL of a CA it is at least number_floor, so numbers continue from
 * those signed before the signer kept them) and authorityKeyIdentifier
 * (keyid), one entry per certificate on the signer's revocation list with
 * its reasonCode, which is left out for unspecified (0) as the BR
 * require. out->der is new (free()); struct ca_crl is in smime/crl.h.
 */
int ca_make_crl(struct ca *ca, uint64_t number_floor, int64_t lifetime, struct ca_crl *out,
    struct errbuf *e) MUST_USE;

/*
 * Invariant I3, where the CA can help (smime/ca_backend.h): ca_lookup()
 * asks whether the CA already issued a certificate for the CSR's key (an
 * answer lost on the way); CA_ISSUED is checked like ca_submit's,
 * CA_REJECTED means none. ca_revoke() revokes one of the CA's
 * certificates through its API (reason: RFC 5280 code): 0, or -1 with
 * out->reason. ca_can_lookup()/ca_can_revoke() say whether the CA offers
 * the call at all (the local CA revokes through the store and its CRL).
 */
bool ca_can_lookup(const struct ca *ca);
bool ca_can_revoke(const struct ca *ca);
enum ca_outcome ca_lookup(struct ca *ca, X509_REQ *csr, const struct ca_request *req,
    struct ca_result *out) MUST_USE;
int ca_revoke(struct ca *ca, X509 *cert, int reason, struct ca_result *out) MUST_USE;

/* A CSR for key, subject CN = mail (new). */
int csr_make(EVP_PKEY *key, const char *mail, X509_REQ **out, struct errbuf *e) MUST_USE;
/*
 * The same with an extension request (smime/csr.c): subjectAltName for mail
 * and the n_alts alts (may be NULL), the key usage for the key type and the
 * emailProtection EKU, plus clientAuth when multipurpose. csr_make() and
 * csr_make_sans() ask for the strict profile.
 */
int csr_make_sans(EVP_PKEY *key, const char *mail, const char *const *alts, size_t n_alts,
    X509_REQ **out, struct errbuf *e) MUST_USE;
int csr_make_smime(EVP_PKEY *key, const char *mail, const char *const *alts, size_t n_alts,
    bool multipurpose, X509_REQ **out, struct errbuf *e) MUST_USE;

#endif
