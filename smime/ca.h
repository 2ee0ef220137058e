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
 * The local CA signs leaves in the mailbox-validated strict profile of the
 * CA/B Forum S/MIME Baseline Requirements (policy 2.23.140.1.5.1.3):
 * subject CN = mail only, SAN rfc822Name (SmtpUTF8Mailbox otherName for a
 * non-ASCII local part), EKU emailProtection only, key usage by key type
 * (RSA digitalSignature+keyEncipherment, EC digitalSignature+keyAgreement,
 * critical), basicConstraints CA:FALSE, SKI, AKI keyid only, CRL DP and
 * AIA caIssuers from the config, a random 127-bit serial, notBefore
 * backdated by one minute, and the digest matched to the CA key
 * (RSA/P-256 SHA-256, P-384 SHA-384, P-521 SHA-512).
 *
 * ca_init() creates a root and an issuing CA for a [ca] section, writing
 * cert_file, key_file (0600) and chain_file (issuing + root). It refuses
 * to overwrite existing files.
 *
 * Ownership: ca_result owns cert, chain and cookie; ca_result_clear()
 * frees them. ca_request only borrows.
 */
#ifndef SMIMESYNC_SMIME_CA_H
#define SMIMESYNC_SMIME_CA_H

#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>

#include "common/attrs.h"
#include "common/errbuf.h"
#include "conf/config.h"

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
};

struct ca_result {
	X509 *cert;
	STACK_OF(X509) *chain; /* issuing CA up to the root */
	char *cookie;          /* PENDING only */
	int64_t retry_after;   /* PENDING/UNREACHABLE: seconds */
	char reason[1024];     /* why, for every outcome but ISSUED */
};

struct ca;

int ca_open(const struct conf_ca *conf, struct ca **out, struct errbuf *e) MUST_USE;
void ca_close(struct ca *ca);
enum ca_outcome ca_submit(struct ca *ca, X509_REQ *csr, const struct ca_request *req,
    struct ca_result *out) MUST_USE;
void ca_result_clear(struct ca_result *r);
/* The issuing chain (borrowed; valid until ca_close). */
STACK_OF(X509) *ca_chain(struct ca *ca);

int ca_init(const struct conf_ca *conf, struct errbuf *e) MUST_USE;

/* A CSR for key, subject CN = mail (new). */
int csr_make(EVP_PKEY *key, const char *mail, X509_REQ **out, struct errbuf *e) MUST_USE;

#endif
