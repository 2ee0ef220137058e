/* SPDX-License-Identifier: ISC */
/*
 * Helpers shared by the files of the smime/ room only: signing with the
 * digest the key type calls for, random serials, validity, extensions built
 * from typed values, and the leaf profile. Nothing outside smime/ includes
 * this header.
 *
 * Every function returns 0 on success and -1 with a message in e
 * (OpenSSL's reason appended) on failure.
 */
#ifndef SMIMESYNC_SMIME_SMIME_INTERNAL_H
#define SMIMESYNC_SMIME_SMIME_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>

#include "common/attrs.h"
#include "common/errbuf.h"
#include "smime/ca_result.h"
#include "smime/types.h"

struct ca;
struct crl_entry;

/* Upper bound of a CA/B Strict or Multipurpose leaf's validity (SBR 6.3.2). */
#define SMIME_MAX_VALIDITY ((int64_t)825 * 86400)
/* notBefore is backdated by this much so clocks that lag a little accept it. */
#define SMIME_BACKDATE 60

/*
 * The digest a signature by key must use: RSA and P-256 SHA-256, P-384
 * SHA-384, P-521 SHA-512, Ed25519/Ed448 none (*md = NULL). Other keys are
 * refused.
 */
int smime_sign_digest(EVP_PKEY *key, const EVP_MD **md, struct errbuf *e) MUST_USE;
/* X509_sign() with smime_sign_digest(). */
int smime_sign_cert(X509 *x, EVP_PKEY *key, struct errbuf *e) MUST_USE;

/* A random positive 127-bit serial (RAND_bytes, top bit clear, non-zero). */
int smime_set_random_serial(X509 *x, struct errbuf *e) MUST_USE;
int smime_set_validity(X509 *x, time_t not_before, time_t not_after,
    struct errbuf *e) MUST_USE;

/*
 * Add an extension written in OpenSSL's config syntax, e.g.
 * (NID_key_usage, "critical,keyCertSign,cRLSign"). issuer may equal x for
 * a self-signed certificate. Only for fixed strings: values from the
 * configuration or a directory go through the typed helpers below, so a
 * comma in a URL cannot inject another value.
 */
int smime_add_ext_conf(X509 *x, X509 *issuer, int nid, const char *value,
    struct errbuf *e) MUST_USE;
/* cRLDistributionPoints with one fullName URI (not critical). */
int smime_add_crl_dp(X509 *x, const char *url, struct errbuf *e) MUST_USE;
/* authorityInfoAccess with one caIssuers URI (not critical). */
int smime_add_aia_ca_issuers(X509 *x, const char *url, struct errbuf *e) MUST_USE;
/* certificatePolicies with one policy OID (not critical, no qualifiers). */
int smime_add_policy(X509 *x, const char *oid, struct errbuf *e) MUST_USE;
/* The same with n (>= 1) policy OIDs, in that order. */
int smime_add_policies(X509 *x, const char *const *oids, size_t n, struct errbuf *e) MUST_USE;
/* Is url an http:// URL without spaces or control characters? */
int smime_url_ok(const char *url);

/* Append "CN=cn" (UTF-8) to name. */
int smime_name_add(X509_NAME *name, const char *field, const char *value,
    struct errbuf *e) MUST_USE;

/* RFC 5280 ub-common-name, counted in characters. */
#define SMIME_CN_MAX_CHARS 64
/* Number of characters (not bytes) in a UTF-8 string. */
size_t smime_utf8_chars(const char *s);

/*
 * A local CA's issuing certificate, and its key if this process holds it
 * (NULL when a signer process does, and for external CAs); borrowed from
 * ca. Tests use them to see where the key is.
 */
X509 *ca_issuer_cert(struct ca *ca);
EVP_PKEY *ca_issuer_key(struct ca *ca);

/*
 * Sign a CRL with issuer's key, which this process holds (the signer
 * process, or a local CA opened without one): what ca_make_crl() (ca.h)
 * promises, checks of lifetime and number included.
 */
int crl_sign(X509 *issuer, EVP_PKEY *key, const struct crl_entry *entries, size_t n,
    uint64_t number, time_t now, int64_t lifetime, unsigned char **der, size_t *len,
    struct errbuf *e) MUST_USE;

/* gpgsm 2.2 reads this much of a PKCS#12 password ("password too long" beyond). */
#define PKCS12_GPGSM_MAX_PASSWORD 31
/* ASCII and not longer than gpgsm reads? (Its derivation differs for any other.) */
bool pkcs12_gpgsm_password_ok(const char *password);
/* pkcs12_gpgsm_check() of a PKCS12 in memory (password also opens encrypted safes). */
int pkcs12_gpgsm_agrees(PKCS12 *p12, const char *password, bool *agrees, struct errbuf *e)
    MUST_USE;

/* The contents of a memory BIO as a new NUL-terminated string. */
char *smime_bio_string(BIO *bio, size_t *len_out);

/*
 * The leaf profiles of the CA/B S/MIME BR: mailbox- and
 * organization-validated, Strict and Multipurpose generations.
 */
struct leaf_params {
	const char *mail;
	const char *const *alt_mails;
	size_t n_alt_mails;
	const char *crl_url; /* may be NULL */
	const char *aia_url; /* may be NULL */
	enum cert_profile profile;
	const char *organization;            /* organization-* only */
	const char *organization_identifier; /* organization-* only */
	const char *country;                 /* organization-* only, may be NULL */
};

/*
 * Is the subscriber key acceptable (RSA >= 2048 bits and a multiple of 8,
 * EC P-256/P-384/P-521)? Returns CA_ISSUED if so, CA_REJECTED with the
 * reason in e otherwise.
 */
enum ca_outcome profile_check_key(EVP_PKEY *key, struct errbuf *e);
/*
 * Set the subject and every extension of leaf (its public key must be set
 * already; issuer is the CA certificate, for the AKI). Returns CA_ISSUED on
 * success, CA_REJECTED when the request cannot be met (a bad mail address),
 * CA_MISCONFIGURED when OpenSSL fails; the reason is in e.
 */
enum ca_outcome profile_mailbox_strict(X509 *leaf, X509 *issuer, const struct leaf_params *p,
    struct errbuf *e);
/*
 * The same for any profile of p->profile (profile_mailbox_strict() is this
 * with the profile forced): policy OID, EKU (strict: emailProtection only;
 * multipurpose: plus clientAuth) and subject attributes (organization-*:
 * CN, O, organizationIdentifier, C) follow the profile.
 */
enum ca_outcome profile_leaf(X509 *leaf, X509 *issuer, const struct leaf_params *p,
    struct errbuf *e);
/* The S/MIME BR policy OID of a profile, e.g. "2.23.140.1.5.1.3". */
const char *profile_policy_oid(enum cert_profile profile);

/*
 * The issuing CA's certificatePolicies and extendedKeyUsage for the
 * profiles in the CERT_PROFILE_BIT() mask `profiles` (at least one): every
 * policy OID a leaf of those profiles carries, emailProtection, and
 * clientAuth when a multipurpose profile is among them (SBR 7.1.2.2: the
 * sub-CA's EKU must include what its leaves claim; nothing else).
 */
int profile_issuing_extensions(X509 *x, X509 *issuer, unsigned profiles, struct errbuf *e)
    MUST_USE;
/*
 * Can a leaf of profile p chain to issuing for what it claims: the
 * profile's policy OID (or anyPolicy) in the issuing certificate's
 * certificatePolicies, emailProtection and, for multipurpose, clientAuth
 * in its extendedKeyUsage (or no EKU at all)? 0, or -1 with e saying what
 * the certificate lacks.
 */
int profile_issuer_allows(X509 *issuing, enum cert_profile p, struct errbuf *e) MUST_USE;

#endif
