/* SPDX-License-Identifier: ISC */
/*
 * Certs-only PKCS#7 SignedData: the value of userSMIMECertificate (what
 * "openssl crl2pkcs7 -nocrl" makes): no signers, empty data content, the
 * leaf first and then the chain so that Outlook finds the path.
 */
#include "config.h"

#include <limits.h>
#include <stdlib.h>

#include <openssl/pkcs7.h>

#include "common/xalloc.h"
#include "smime/cert.h"

int
cert_pkcs7_certs_only(X509 *leaf, STACK_OF(X509) *chain, unsigned char **der, size_t *len,
    struct errbuf *e)
{
	PKCS7 *p7 = NULL;
	unsigned char *buf = NULL;
	unsigned char *p;
	int n;
	int rc = -1;

	p7 = PKCS7_new();
	if (p7 == NULL || PKCS7_set_type(p7, NID_pkcs7_signed) != 1 ||
	    PKCS7_content_new(p7, NID_pkcs7_data) != 1 ||
	    PKCS7_add_certificate(p7, leaf) != 1)
		goto fail;
	for (int i = 0; i < sk_X509_num(chain); i++) {
		if (PKCS7_add_certificate(p7, sk_X509_value(chain, i)) != 1)
			goto fail;
	}
	n = i2d_PKCS7(p7, NULL);
	if (n <= 0)
		goto fail;
	buf = xmalloc((size_t)n);
	p = buf;
	if (i2d_PKCS7(p7, &p) != n)
		goto fail;
	*der = buf;
	*len = (size_t)n;
	buf = NULL;
	rc = 0;
	goto out;
fail:
	err_set(e, "cannot build the PKCS#7 certificate bundle");
	err_add_openssl(e);
out:
	free(buf);
	PKCS7_free(p7);
	return rc;
}

int
cert_pkcs7_first(const unsigned char *der, size_t len, X509 **out, struct errbuf *e)
{
	const unsigned char *p = der;
	PKCS7 *p7 = NULL;
	STACK_OF(X509) *certs = NULL;
	X509 *x = NULL;
	int rc = -1;

	if (len == 0 || len > LONG_MAX) {
		err_set(e, "not a PKCS#7 blob: bad length %zu", len);
		goto out;
	}
	p7 = d2i_PKCS7(NULL, &p, (long)len);
	if (p7 == NULL || p != der + len) {
		err_set(e, "not a DER PKCS#7 blob (bad or trailing data)");
		err_add_openssl(e);
		goto out;
	}
	if (!PKCS7_type_is_signed(p7) || p7->d.sign == NULL) {
		err_set(e, "PKCS#7 blob is not SignedData, so holds no certificates");
		goto out;
	}
	certs = p7->d.sign->cert;
	if (sk_X509_num(certs) <= 0) {
		err_set(e, "PKCS#7 blob holds no certificate");
		goto out;
	}
	x = sk_X509_value(certs, 0);
	if (X509_up_ref(x) != 1) {
		err_set(e, "cannot take the certificate from the PKCS#7 blob");
		goto out;
	}
	*out = x;
	rc = 0;
out:
	PKCS7_free(p7);
	return rc;
}
