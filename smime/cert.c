/* SPDX-License-Identifier: ISC */
/*
 * Certificate summaries and encodings (DER, PEM, PEM files).
 */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "common/fileutil.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "smime/cert.h"
#include "smime/smime_internal.h"

/* A chain file holds a handful of certificates; bound what we read. */
#define CERT_FILE_MAX (4 * 1024 * 1024)

/*
 * RFC 2253 names, but with UTF-8 kept as UTF-8 rather than \XX escapes so
 * reports show "CN=jörg@example.org" the way people wrote it (RFC 4514
 * allows UTF-8).
 */
#define NAME_FLAGS (XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB)

static int
name_string(const X509_NAME *name, char **out, struct errbuf *e)
{
	BIO *bio = BIO_new(BIO_s_mem());

	if (bio == NULL || X509_NAME_print_ex(bio, name, 0, NAME_FLAGS) < 0) {
		BIO_free(bio);
		err_set(e, "cannot print a distinguished name");
		err_add_openssl(e);
		return -1;
	}
	*out = smime_bio_string(bio, NULL);
	BIO_free(bio);
	return 0;
}

static int
time_of(const ASN1_TIME *t, time_t *out, struct errbuf *e)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1) {
		err_set(e, "certificate has an unreadable validity time");
		err_add_openssl(e);
		return -1;
	}
	*out = timegm(&tm);
	return 0;
}

int
cert_info_get(X509 *cert, struct cert_info *out, struct errbuf *e)
{
	struct cert_info ci;
	BIGNUM *bn = NULL;
	char *hex = NULL;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int rc = -1;

	memset(&ci, 0, sizeof(ci));
	bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
	if (bn == NULL || (hex = BN_bn2hex(bn)) == NULL) {
		err_set(e, "cannot read the certificate serial number");
		err_add_openssl(e);
		goto out;
	}
	ci.serial = xstrdup(hex);
	if (name_string(X509_get_issuer_name(cert), &ci.issuer, e) != 0 ||
	    name_string(X509_get_subject_name(cert), &ci.subject, e) != 0)
		goto out;
	if (X509_digest(cert, EVP_sha256(), md, &mdlen) != 1) {
		err_set(e, "cannot compute the certificate fingerprint");
		err_add_openssl(e);
		goto out;
	}
	ci.fingerprint = hex_encode(md, mdlen);
	if (time_of(X509_get0_notBefore(cert), &ci.not_before, e) != 0 ||
	    time_of(X509_get0_notAfter(cert), &ci.not_after, e) != 0)
		goto out;
	*out = ci;
	memset(&ci, 0, sizeof(ci));
	rc = 0;
out:
	cert_info_clear(&ci);
	OPENSSL_free(hex);
	BN_free(bn);
	return rc;
}

void
cert_info_clear(struct cert_info *ci)
{
	if (ci == NULL)
		return;
	free(ci->serial);
	free(ci->issuer);
	free(ci->subject);
	free(ci->fingerprint);
	memset(ci, 0, sizeof(*ci));
}

int
cert_from_der(const unsigned char *der, size_t len, X509 **out, struct errbuf *e)
{
	const unsigned char *p = der;
	X509 *x = NULL;

	if (len == 0 || len > LONG_MAX) {
		err_set(e, "not a DER certificate: bad length %zu", len);
		return -1;
	}
	x = d2i_X509(NULL, &p, (long)len);
	if (x == NULL || p != der + len) {
		X509_free(x);
		err_set(e, "not a DER certificate (bad or trailing data)");
		err_add_openssl(e);
		return -1;
	}
	*out = x;
	return 0;
}

int
cert_to_der(X509 *cert, unsigned char **der, size_t *len, struct errbuf *e)
{
	unsigned char *buf = NULL;
	unsigned char *p;
	int n = i2d_X509(cert, NULL);

	if (n <= 0) {
		err_set(e, "cannot encode the certificate");
		err_add_openssl(e);
		return -1;
	}
	buf = xmalloc((size_t)n);
	p = buf;
	if (i2d_X509(cert, &p) != n) {
		free(buf);
		err_set(e, "cannot encode the certificate");
		err_add_openssl(e);
		return -1;
	}
	*der = buf;
	*len = (size_t)n;
	return 0;
}

int
cert_to_pem(X509 *cert, char **pem, size_t *len, struct errbuf *e)
{
	BIO *bio = BIO_new(BIO_s_mem());

	if (bio == NULL || PEM_write_bio_X509(bio, cert) != 1) {
		BIO_free(bio);
		err_set(e, "cannot encode the certificate as PEM");
		err_add_openssl(e);
		return -1;
	}
	*pem = smime_bio_string(bio, len);
	BIO_free(bio);
	return 0;
}

int
cert_load_pem_file(const char *path, STACK_OF(X509) **out, struct errbuf *e)
{
	char *data = NULL;
	size_t len = 0;
	int rc;

	if (file_read_all(path, CERT_FILE_MAX, &data, &len, e) != 0)
		return -1;
	rc = cert_parse_pem(path, data, len, out, e);
	free(data);
	return rc;
}

int
cert_parse_pem(const char *what, const char *data, size_t len, STACK_OF(X509) **out,
    struct errbuf *e)
{
	BIO *bio = NULL;
	STACK_OF(X509) *sk = NULL;
	X509 *x = NULL;
	unsigned long err;
	int rc = -1;

	if (len > INT32_MAX) {
		err_set(e, "%s: too large", what);
		return -1;
	}
	bio = BIO_new_mem_buf(data, (int)len);
	sk = sk_X509_new_null();
	if (bio == NULL || sk == NULL) {
		err_set(e, "%s: cannot read certificates", what);
		err_add_openssl(e);
		goto out;
	}
	ERR_clear_error();
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (sk_X509_push(sk, x) == 0) {
			X509_free(x);
			err_set(e, "%s: cannot read certificates", what);
			goto out;
		}
	}
	/* The loop ends at end of input (no more PEM) or at a broken one. */
	err = ERR_peek_last_error();
	if (err != 0 && !(ERR_GET_LIB(err) == ERR_LIB_PEM &&
	    ERR_GET_REASON(err) == PEM_R_NO_START_LINE)) {
		err_set(e, "%s: certificate %d is not valid PEM", what, sk_X509_num(sk) + 1);
		err_add_openssl(e);
		goto out;
	}
	ERR_clear_error();
	if (sk_X509_num(sk) == 0) {
		err_set(e, "%s: no PEM certificate (-----BEGIN CERTIFICATE-----) in it", what);
		goto out;
	}
	*out = sk;
	sk = NULL;
	rc = 0;
out:
	sk_X509_pop_free(sk, X509_free);
	BIO_free(bio);
	return rc;
}
