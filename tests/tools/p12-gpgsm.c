/* SPDX-License-Identifier: ISC */
/*
 * p12-gpgsm: compat PKCS#12 files and gpgsm's key derivation, for
 * tests/integration/pkcs12_gpgsm.sh.
 *
 *   p12-gpgsm predict FILE PASSWORD
 *       "agrees" (exit 0) when gpgsm 2.2 derives RFC 7292's key for every
 *       3DES bag of FILE, else "differs" (exit 3): pkcs12_gpgsm_check().
 *   p12-gpgsm make COUNT DIR [ITERATIONS]
 *       COUNT compat PKCS#12 files as smimesync mails them
 *       (pkcs12_build(), a fresh password each), DIR/N.p12 and DIR/N.pw,
 *       with one RSA-2048 key and a self-signed certificate for
 *       p12@example.org; ITERATIONS default 2048.
 *   p12-gpgsm raw COUNT DIR [ITERATIONS]
 *       the same as smimesync built them before it re-salted: OpenSSL's
 *       PKCS12_create() with 3DES bags and a SHA-1 MAC, salts as drawn.
 *       Then prints "N differs" for each file pkcs12_gpgsm_check() says
 *       gpgsm cannot open, and a last line "COUNT files, N differ".
 *
 * Exit status 1 for usage, 2 for an error.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pkcs12.h>
#include <openssl/x509v3.h>

#include "common/fileutil.h"
#include "common/xalloc.h"
#include "smime/key.h"
#include "smime/pkcs12.h"

static int
predict(const char *path, const char *password)
{
	struct errbuf e;
	char *der = NULL;
	size_t len = 0;
	bool agrees = false;

	if (file_read_all(path, 1 << 20, &der, &len, &e) != 0 ||
	    pkcs12_gpgsm_check((unsigned char *)der, len, password, &agrees, &e) != 0) {
		fprintf(stderr, "p12-gpgsm: %s: %s\n", path, e.text);
		free(der);
		return 2;
	}
	free(der);
	printf("%s\n", agrees ? "agrees" : "differs");
	return agrees ? 0 : 3;
}

/* A self-signed certificate for key, enough for gpgsm to import the pair. */
static X509 *
self_signed(EVP_PKEY *key)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();
	X509V3_CTX ctx;
	X509_EXTENSION *ext = NULL;

	if (x == NULL || n == NULL ||
	    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
	    (const unsigned char *)"p12@example.org", -1, -1, 0) != 1 ||
	    X509_set_version(x, X509_VERSION_3) != 1 ||
	    ASN1_INTEGER_set(X509_get_serialNumber(x), 1) != 1 ||
	    X509_set_subject_name(x, n) != 1 || X509_set_issuer_name(x, n) != 1 ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -60) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 30) == NULL ||
	    X509_set_pubkey(x, key) != 1)
		goto fail;
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, "email:p12@example.org");
	if (ext == NULL || X509_add_ext(x, ext, -1) != 1 || X509_sign(x, key, EVP_sha256()) <= 0)
		goto fail;
	X509_EXTENSION_free(ext);
	X509_NAME_free(n);
	return x;
fail:
	X509_EXTENSION_free(ext);
	X509_NAME_free(n);
	X509_free(x);
	return NULL;
}

/* What pkcs12_build() did before it re-salted: PKCS12_create, 3DES, SHA-1 MAC. */
static int
build_raw(EVP_PKEY *key, X509 *cert, const char *pw, int iterations, unsigned char **der,
    size_t *len)
{
	PKCS12 *p12 = PKCS12_create_ex(pw, "p12@example.org", key, cert, NULL,
	    NID_pbe_WithSHA1And3_Key_TripleDES_CBC, NID_pbe_WithSHA1And3_Key_TripleDES_CBC,
	    iterations, -1, 0, NULL, NULL);
	unsigned char *p;
	int n;

	if (p12 == NULL || PKCS12_set_mac(p12, pw, -1, NULL, 0, iterations, EVP_sha1()) != 1 ||
	    (n = i2d_PKCS12(p12, NULL)) <= 0) {
		PKCS12_free(p12);
		return -1;
	}
	*der = p = xmalloc((size_t)n);
	*len = (size_t)i2d_PKCS12(p12, &p);
	PKCS12_free(p12);
	return 0;
}

static int
make(long count, const char *dir, long iterations, bool raw)
{
	long differ = 0;
	struct errbuf e;
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	int rc = 2;

	if (key_generate(KEY_TYPE_RSA2048, &key, &e) != 0 || (cert = self_signed(key)) == NULL) {
		fprintf(stderr, "p12-gpgsm: cannot make the key pair\n");
		goto out;
	}
	for (long i = 1; i <= count; i++) {
		char *pw = password_generate();
		char *p12_path = xasprintf("%s/%ld.p12", dir, i);
		char *pw_path = xasprintf("%s/%ld.pw", dir, i);
		unsigned char *der = NULL;
		size_t len = 0;
		int ok;

		bool agrees = true;

		if (raw)
			ok = build_raw(key, cert, pw, (int)iterations, &der, &len) == 0 &&
			    pkcs12_gpgsm_check(der, len, pw, &agrees, &e) == 0;
		else
			ok = pkcs12_build(key, cert, NULL, "p12@example.org", pw, PKCS12_COMPAT,
			    (int)iterations, &der, &len, &e) == 0;
		ok = ok && file_write_atomic(p12_path, der, len, 0600, &e) == 0 &&
		    file_write_atomic(pw_path, pw, strlen(pw), 0600, &e) == 0;
		if (ok && !agrees) {
			printf("%ld differs\n", i);
			differ++;
		}
		free(der);
		free(p12_path);
		free(pw_path);
		secret_free_str(pw);
		if (!ok) {
			fprintf(stderr, "p12-gpgsm: file %ld: %s\n", i, raw ? "cannot build" : e.text);
			goto out;
		}
	}
	if (raw)
		printf("%ld files, %ld differ\n", count, differ);
	rc = 0;
out:
	X509_free(cert);
	EVP_PKEY_free(key);
	return rc;
}

int
main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "predict") == 0)
		return predict(argv[2], argv[3]);
	if ((argc == 4 || argc == 5) &&
	    (strcmp(argv[1], "make") == 0 || strcmp(argv[1], "raw") == 0))
		return make(strtol(argv[2], NULL, 10), argv[3],
		    argc == 5 ? strtol(argv[4], NULL, 10) : 2048, strcmp(argv[1], "raw") == 0);
	fprintf(stderr, "usage: p12-gpgsm predict FILE PASSWORD\n"
	    "       p12-gpgsm make|raw COUNT DIR [ITERATIONS]\n");
	return 1;
}
