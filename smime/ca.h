/* SPDX-License-Identifier: ISC */
/*
 * The CA interface, and the internal (local) CA behind it.
 *
 * The engine generates the subscriber key itself, makes a CSR
 * (proof of possession) and submits it with a struct ca_request that
 * says what the certificate must contain. The CA answers with one of the
 * outcomes of DESIGN.md; only PENDING and UNREACHABLE are worth retrying.
 * The CA, not the CSR, decides the subject, extensions and validity.
 *
 *   struct ca *ca = NULL;
 *   if (ca_open(conf_ca, &ca, &e) != 0) ... misconfigured ...
 *   struct ca_result r = { 0 };
 *   switch (ca_submit(ca, csr, &req, &r)) { case CA_ISSUED: use r.cert, r.chain ... }
 *   ca_result_clear(&r);
 *   ca_close(ca);
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
 * cert_file, key_file (0600) and chain_file (issuing + root). It refuses
 * to overwrite existing files. It takes the section as loaded, defaults
 * (organization, root_validity, issuing_validity) filled in from the
 * option table, and states none of its own.
 *
 * Ownership: ca_result owns cert, chain, cookie and exchange; ca_result_clear()
 * frees them. ca_request only borrows.
 */
#ifndef SMIMESYNC_SMIME_CA_H
#define SMIMESYNC_SMIME_CA_H

#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>

#include "common/attrs.h"
#include "common/errbuf.h"
#include "conf/conf.h"

enum ca_outcome {
	CA_ISSUED = 0,
	CA_PENDING,       /* ask again later with the cookie */
	CA_REJECTED,      /* the CA said no: do not retry until an admin acts */
	CA_UNREACHABLE,   /* transient: retry with back-off */
	CA_MISCONFIGURED, /* our side is wrong: fix the config */
};

const char *ca_outcome_name(enum ca_outcome o);

struct ca_request {
	const char *mail;               /* primary address: CN and first SAN */
	const char *const *alt_mails;   /* more SAN rfc822Names, may be NULL */
	size_t n_alt_mails;
	int64_t validity;               /* seconds */
	time_t now;                     /* issuance time (tests use faketime) */
	/*
	 * Added for the S/MIME BR profiles. All zero means mailbox-strict.
	 * The organization fields are used by the organization-* profiles
	 * only (and required there: organization and organization_identifier);
	 * mailbox profiles refuse a request that sets them.
	 */
	enum cert_profile profile;
	const char *organization;            /* O= */
	const char *organization_identifier; /* e.g. VATDE-123456789 */
	const char *country;                 /* C=, may be NULL */
	/* The person, for CAs that record it (Sectigo's firstName/lastName); may be NULL. */
	const char *given_name;
	const char *surname;
	const char *display_name;
};

struct ca_result {
	X509 *cert;
	STACK_OF(X509) *chain; /* issuing CA up to the root */
	char *cookie;          /* PENDING only */
	int64_t retry_after;   /* PENDING/UNREACHABLE: seconds */
	char reason[1024];     /* why, for every outcome but ISSUED */
	char *exchange;        /* external CAs: what was asked and answered, no secrets; or NULL */
};

struct ca;

int ca_open(const struct conf_ca *conf, struct ca **out, struct errbuf *e) MUST_USE;
void ca_close(struct ca *ca);
enum ca_outcome ca_submit(struct ca *ca, X509_REQ *csr, const struct ca_request *req,
    struct ca_result *out) MUST_USE;
/*
 * Ask again about a PENDING request: cookie is what the CA gave, csr and
 * req are rebuilt exactly as for the ca_submit() that got it.
 */
enum ca_outcome ca_poll(struct ca *ca, X509_REQ *csr, const struct ca_request *req,
    const char *cookie, struct ca_result *out) MUST_USE;
void ca_result_clear(struct ca_result *r);
/* The section's name and type, as in the config (borrowed; valid until ca_close). */
const char *ca_name(const struct ca *ca);
enum ca_type ca_type(const struct ca *ca);
/*
 * The issuing chain (borrowed; valid until ca_close): the local CA's, or an
 * external CA's chain_file (possibly empty). A certificate's own chain, as
 * stored when it was issued, is the better source for external CAs.
 */
STACK_OF(X509) *ca_chain(struct ca *ca);

int ca_init(const struct conf_ca *conf, struct errbuf *e) MUST_USE;

/*
 * Certificate revocation lists (smime/crl.c).
 *
 * ca_make_crl() signs a v2 CRL with the issuing CA: issuer = the CA's
 * subject, thisUpdate = now, nextUpdate = now + lifetime (at most 10 days,
 * S/MIME BR 4.9.7), CRL number and authorityKeyIdentifier (keyid) as
 * extensions, one entry per revoked certificate with its reasonCode, which
 * is left out for unspecified (0) as the BR require. The caller keeps the
 * CRL number increasing. The DER buffer is new (free()).
 */
struct crl_entry {
	const char *serial; /* uppercase hex, as in struct cert_info */
	time_t revoked_at;
	int reason;         /* RFC 5280 CRLReason code */
};

int ca_make_crl(struct ca *ca, const struct crl_entry *entries, size_t n, uint64_t number,
    time_t now, int64_t lifetime, unsigned char **der, size_t *len, struct errbuf *e) MUST_USE;
/*
 * RFC 5280 reason names a subscriber certificate may be revoked for:
 * unspecified, keyCompromise, affiliationChanged, superseded,
 * cessationOfOperation, privilegeWithdrawn (case and '-' ignored:
 * key-compromise works too). certificateHold is refused: the BR forbid it
 * for Strict certificates and smimesync never un-revokes.
 */
int crl_reason_parse(const char *name, int *code_out) MUST_USE;
/* The RFC 5280 name of a reason code ("keyCompromise"), or "unknown". */
const char *crl_reason_name(int code);

/* A CSR for key, subject CN = mail (new). */
int csr_make(EVP_PKEY *key, const char *mail, X509_REQ **out, struct errbuf *e) MUST_USE;
/* The same with a subjectAltName request for mail and the n_alts alts (may be NULL). */
int csr_make_sans(EVP_PKEY *key, const char *mail, const char *const *alts, size_t n_alts,
    X509_REQ **out, struct errbuf *e) MUST_USE;

#endif
