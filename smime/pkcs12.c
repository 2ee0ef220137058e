/* SPDX-License-Identifier: ISC */
/*
 * PKCS#12 files for end users, in one of two profiles (see pkcs12.h and
 * reference/standards.md 2): modern for current clients, compat for
 * gpgsm 2.2, macOS and older Windows, which refuse PBES2 or SHA-256 MACs.
 */
#include "config.h"

#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>

#include <openssl/pkcs12.h>

#include "common/xalloc.h"
#include "smime/pkcs12.h"
#include "smime/smime_internal.h"

/* Salts drawn before giving up: each draw fails about one time in 64. */
#define RESALT_MAX 32

/*
 * compat files are read by gpgsm 2.2, whose 3DES key derivation departs
 * from RFC 7292 for some salts (pkcs12_gpgsm.c): such a file is built
 * again with new salts rather than mailed to someone whose gpgsm would
 * call a right password wrong. *again is 1 to build again, 0 when p12 is
 * fine; returns -1 with e after RESALT_MAX draws (never seen: 1 in 2^192).
 */
static int
gpgsm_ready(PKCS12 *p12, enum pkcs12_profile profile, const char *password, int attempt,
    struct errbuf *e, int *again)
{
	bool agrees = true;

	*again = 0;
	if (profile != PKCS12_COMPAT)
		return 0;
	if (!pkcs12_gpgsm_password_ok(password)) {
		err_set(e, "a compat PKCS#12 password must be ASCII and at most %d characters: "
		    "gpgsm 2.2 reads no more", PKCS12_GPGSM_MAX_PASSWORD);
		return -1;
	}
	if (pkcs12_gpgsm_agrees(p12, password, &agrees, e) != 0)
		return -1;
	if (agrees)
		return 0;
	if (attempt >= RESALT_MAX) {
		err_set(e, "no salt gpgsm can read after %d attempts", attempt);
		return -1;
	}
	*again = 1;
	return 0;
}

/* The DER of p12 in our own buffer (callers free() it: xalloc policy). */
static int
p12_der(PKCS12 *p12, unsigned char **der, size_t *len, struct errbuf *e)
{
	unsigned char *buf, *p;
	int n = i2d_PKCS12(p12, NULL);

	if (n <= 0) {
		err_set(e, "cannot encode the PKCS#12 file");
		err_add_openssl(e);
		return -1;
	}
	p = buf = xmalloc((size_t)n);
	if (i2d_PKCS12(p12, &p) != n) {
		free(buf);
		err_set(e, "cannot encode the PKCS#12 file");
		err_add_openssl(e);
		return -1;
	}
	*der = buf;
	*len = (size_t)n;
	return 0;
}

int
pkcs12_build(EVP_PKEY *key, X509 *leaf, STACK_OF(X509) *chain, const char *friendly_name,
    const char *password, enum pkcs12_profile profile, int iterations, unsigned char **der,
    size_t *len, struct errbuf *e)
{
	PKCS12 *p12 = NULL;
	const EVP_MD *mac_md;
	int nid;
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
	for (int attempt = 1;; attempt++) {
		int again = 0;

		p12 = PKCS12_create_ex(password, friendly_name, key, leaf, chain, nid, nid,
		    iterations, -1, 0, NULL, NULL);
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
		if (gpgsm_ready(p12, profile, password, attempt, e, &again) != 0)
			goto out;
		if (!again)
			break;
		PKCS12_free(p12);
		p12 = NULL;
	}
	rc = p12_der(p12, der, len, e);
out:
	PKCS12_free(p12);
	return rc;
}

/* The bag cipher and MAC digest of a profile. */
static int
profile_algs(enum pkcs12_profile profile, int *nid, const EVP_MD **mac_md, struct errbuf *e)
{
	switch (profile) {
	case PKCS12_MODERN:
		*nid = NID_aes_256_cbc;
		*mac_md = EVP_sha256();
		return 0;
	case PKCS12_COMPAT:
		*nid = NID_pbe_WithSHA1And3_Key_TripleDES_CBC;
		*mac_md = EVP_sha1();
		return 0;
	}
	err_set(e, "unknown PKCS#12 profile %d", (int)profile);
	return -1;
}

/* friendlyName and localKeyID (SHA-1 of cert) on a bag, as PKCS12_create does. */
static int
label_bag(PKCS12_SAFEBAG *bag, const char *name, const unsigned char *keyid, unsigned int idlen)
{
	if (name != NULL && PKCS12_add_friendlyname_utf8(bag, name, -1) != 1)
		return -1;
	if (keyid != NULL && PKCS12_add_localkeyid(bag, (unsigned char *)keyid, (int)idlen) != 1)
		return -1;
	return 0;
}

/* One shrouded key bag per key, labelled like its certificate, fresh salts. */
static int
add_key_bags(EVP_PKEY *const *keys, X509 *const *certs, const char *const *names, size_t n,
    int nid, int iterations, const char *password, STACK_OF(PKCS12_SAFEBAG) **bags,
    struct errbuf *e)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char keyid[EVP_MAX_MD_SIZE];
		unsigned int idlen = 0;
		PKCS12_SAFEBAG *bag;

		if (X509_digest(certs[i], EVP_sha1(), keyid, &idlen) != 1)
			goto ossl;
		bag = PKCS12_add_key_ex(bags, keys[i], 0, iterations, nid, password, NULL, NULL);
		if (bag == NULL || label_bag(bag, names[i], keyid, idlen) != 0)
			goto ossl;
	}
	return 0;
ossl:
	err_set(e, "cannot build the PKCS#12 file");
	err_add_openssl(e);
	return -1;
}

int
pkcs12_build_many(EVP_PKEY *const *keys, X509 *const *certs, const char *const *names, size_t n,
    STACK_OF(X509) *chain, const char *password, enum pkcs12_profile profile, int iterations,
    unsigned char **der, size_t *len, struct errbuf *e)
{
	STACK_OF(PKCS12_SAFEBAG) *certbags = NULL, *keybags = NULL;
	STACK_OF(PKCS7) *safes = NULL;
	PKCS12 *p12 = NULL;
	const EVP_MD *mac_md = NULL;
	int nid = 0;
	int rc = -1;

	if (password == NULL || password[0] == '\0' || iterations < 1 || n == 0) {
		err_set(e, "a PKCS#12 file needs a password, a positive iteration count and at "
		    "least one key");
		return -1;
	}
	if (profile_algs(profile, &nid, &mac_md, e) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned char keyid[EVP_MAX_MD_SIZE];
		unsigned int idlen = 0;
		PKCS12_SAFEBAG *bag;

		if (X509_check_private_key(certs[i], keys[i]) != 1) {
			err_set(e, "key %zu does not belong to its certificate", i + 1);
			err_add_openssl(e);
			goto out;
		}
		if (X509_digest(certs[i], EVP_sha1(), keyid, &idlen) != 1)
			goto ossl;
		bag = PKCS12_add_cert(&certbags, certs[i]);
		if (bag == NULL || label_bag(bag, names[i], keyid, idlen) != 0)
			goto ossl;
	}
	if (add_key_bags(keys, certs, names, n, nid, iterations, password, &keybags, e) != 0)
		goto out;
	for (int i = 0; chain != NULL && i < sk_X509_num(chain); i++)
		if (PKCS12_add_cert(&certbags, sk_X509_value(chain, i)) == NULL)
			goto ossl;
	/* Certificates in an encrypted safe, shrouded keys in a plain one, as PKCS12_create. */
	for (int attempt = 1;; attempt++) {
		int again = 0;

		if (PKCS12_add_safe_ex(&safes, certbags, nid, iterations, password, NULL, NULL) != 1 ||
		    PKCS12_add_safe_ex(&safes, keybags, -1, 0, NULL, NULL, NULL) != 1)
			goto ossl;
		p12 = PKCS12_add_safes_ex(safes, 0, NULL, NULL);
		if (p12 == NULL || PKCS12_set_mac(p12, password, -1, NULL, 0, iterations, mac_md) != 1)
			goto ossl;
		if (gpgsm_ready(p12, profile, password, attempt, e, &again) != 0)
			goto out;
		if (!again)
			break;
		/* New salts: the key bags again, then both safes. */
		PKCS12_free(p12);
		p12 = NULL;
		sk_PKCS7_pop_free(safes, PKCS7_free);
		safes = NULL;
		sk_PKCS12_SAFEBAG_pop_free(keybags, PKCS12_SAFEBAG_free);
		keybags = NULL;
		if (add_key_bags(keys, certs, names, n, nid, iterations, password, &keybags, e) != 0)
			goto out;
	}
	rc = p12_der(p12, der, len, e);
	goto out;
ossl:
	err_set(e, "cannot build the PKCS#12 file");
	err_add_openssl(e);
out:
	PKCS12_free(p12);
	sk_PKCS7_pop_free(safes, PKCS7_free);
	sk_PKCS12_SAFEBAG_pop_free(certbags, PKCS12_SAFEBAG_free);
	sk_PKCS12_SAFEBAG_pop_free(keybags, PKCS12_SAFEBAG_free);
	return rc;
}
