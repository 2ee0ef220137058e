/* SPDX-License-Identifier: ISC */
/*
 * PKCS#12 files for end users, in one of two profiles (see pkcs12.h and
 * reference/standards.md 2): modern for current clients, compat for
 * gpgsm 2.2, macOS and older Windows, which refuse PBES2 or SHA-256 MACs.
 */
#include "config.h"

#include <limits.h>
#include <stdlib.h>

#include <openssl/pkcs12.h>

#include "common/xalloc.h"
#include "smime/pkcs12.h"

int
pkcs12_build(EVP_PKEY *key, X509 *leaf, STACK_OF(X509) *chain, const char *friendly_name,
    const char *password, enum pkcs12_profile profile, int iterations, unsigned char **der,
    size_t *len, struct errbuf *e)
{
	PKCS12 *p12 = NULL;
	unsigned char *buf = NULL;
	unsigned char *p;
	const EVP_MD *mac_md;
	int nid;
	int n;
	int rc = -1;

	if (password == NULL || password[0] == '\0') {
		err_set(e, "refusing to build a PKCS#12 file without a password");
		goto out;
	}
	if (iterations < 1) {
		err_set(e, "PKCS#12 iteration count %d is not positive", iterations);
		goto out;
	}
	if (X509_check_private_key(leaf, key) != 1) {
		err_set(e, "the private key does not belong to the certificate");
		err_add_openssl(e);
		goto out;
	}
	switch (profile) {
	case PKCS12_MODERN:
		/* PBES2 + PBKDF2; OpenSSL 3 picks hmacWithSHA256 as the PRF. */
		nid = NID_aes_256_cbc;
		mac_md = EVP_sha256();
		break;
	case PKCS12_COMPAT:
		/* 3DES works in the default provider; RC2 would need legacy. */
		nid = NID_pbe_WithSHA1And3_Key_TripleDES_CBC;
		mac_md = EVP_sha1();
		break;
	default:
		err_set(e, "unknown PKCS#12 profile %d", (int)profile);
		goto out;
	}
	/*
	 * mac_iter -1: no MAC from PKCS12_create, which would be SHA-256 even
	 * for 3DES bags; we add the MAC of the profile ourselves below.
	 * PKCS12_create sets friendlyName (UTF-8) and localKeyID = SHA-1 of
	 * the leaf on both the key and the leaf bags.
	 */
	p12 = PKCS12_create_ex(password, friendly_name, key, leaf, chain, nid, nid, iterations,
	    -1, 0, NULL, NULL);
	if (p12 == NULL) {
		err_set(e, "cannot build the PKCS#12 file");
		err_add_openssl(e);
		goto out;
	}
	if (PKCS12_set_mac(p12, password, -1, NULL, 0, iterations, mac_md) != 1) {
		err_set(e, "cannot add the PKCS#12 integrity MAC");
		err_add_openssl(e);
		goto out;
	}
	n = i2d_PKCS12(p12, NULL);
	if (n <= 0) {
		err_set(e, "cannot encode the PKCS#12 file");
		err_add_openssl(e);
		goto out;
	}
	buf = xmalloc((size_t)n);
	p = buf;
	if (i2d_PKCS12(p12, &p) != n) {
		err_set(e, "cannot encode the PKCS#12 file");
		err_add_openssl(e);
		goto out;
	}
	*der = buf;
	*len = (size_t)n;
	buf = NULL;
	rc = 0;
out:
	free(buf);
	PKCS12_free(p12);
	return rc;
}
