/* SPDX-License-Identifier: ISC */
/*
 * Certificate helpers: parse, summarise, encode.
 *
 * struct cert_info is the summary the store and the reports keep of every
 * certificate: serial (uppercase hex, no colons), issuer and subject
 * (RFC 2253 strings), SHA-256 fingerprint (lowercase hex), validity.
 * cert_info_clear() frees its strings.
 */
#ifndef SMIMESYNC_SMIME_CERT_H
#define SMIMESYNC_SMIME_CERT_H

#include <stddef.h>
#include <time.h>

#include <openssl/x509.h>

#include "common/attrs.h"
#include "common/errbuf.h"

struct cert_info {
	char *serial;      /* uppercase hex, no colons, no leading "0x" */
	char *issuer;      /* RFC 2253 */
	char *subject;     /* RFC 2253 */
	char *fingerprint; /* SHA-256, lowercase hex */
	time_t not_before;
	time_t not_after;
};

int cert_info_get(X509 *cert, struct cert_info *out, struct errbuf *e) MUST_USE;
void cert_info_clear(struct cert_info *ci);

/* DER <-> X509. cert_to_der's buffer is new (free()). */
int cert_from_der(const unsigned char *der, size_t len, X509 **out, struct errbuf *e) MUST_USE;
int cert_to_der(X509 *cert, unsigned char **der, size_t *len, struct errbuf *e) MUST_USE;
int cert_to_pem(X509 *cert, char **pem, size_t *len, struct errbuf *e) MUST_USE;

/* Every certificate in a PEM file, in file order (new stack). */
int cert_load_pem_file(const char *path, STACK_OF(X509) **out, struct errbuf *e) MUST_USE;
/* The same from memory; what names the data in errors. */
int cert_parse_pem(const char *what, const char *data, size_t len, STACK_OF(X509) **out,
    struct errbuf *e) MUST_USE;

/*
 * A certs-only PKCS#7 SignedData (DER) holding the leaf first, then the
 * chain: the value of userSMIMECertificate. Buffer is new.
 */
int cert_pkcs7_certs_only(X509 *leaf, STACK_OF(X509) *chain, unsigned char **der,
    size_t *len, struct errbuf *e) MUST_USE;
/* The first certificate of a PKCS#7 certs-only DER blob (new), or error. */
int cert_pkcs7_first(const unsigned char *der, size_t len, X509 **out, struct errbuf *e) MUST_USE;

#endif
