/* SPDX-License-Identifier: ISC */
/*
 * Key pairs: generation, PKCS#8 DER for the escrow, PEM files for CA keys.
 */
#include "config.h"

#include <limits.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/fileutil.h"
#include "common/xalloc.h"
#include "smime/key.h"
#include "smime/smime_internal.h"

/* A PEM key file is a few kilobytes; anything this large is not one. */
#define KEY_FILE_MAX (64 * 1024)

int
key_generate(enum key_type type, EVP_PKEY **out, struct errbuf *e)
{
	EVP_PKEY *k = NULL;

	/*
	 * EVP_PKEY_Q_keygen() keeps no shared state between calls, so the
	 * engine may call this from several threads at once.
	 */
	switch (type) {
	case KEY_TYPE_RSA2048:
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
		break;
	case KEY_TYPE_RSA3072:
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
		break;
	case KEY_TYPE_RSA4096:
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)4096);
		break;
	case KEY_TYPE_P256:
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		break;
	case KEY_TYPE_P384:
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
		break;
	default:
		err_set(e, "unknown key type %d", (int)type);
		return -1;
	}
	if (k == NULL) {
		err_set(e, "cannot generate a key");
		err_add_openssl(e);
		return -1;
	}
	*out = k;
	return 0;
}

int
key_to_pkcs8_der(EVP_PKEY *key, unsigned char **der, size_t *len, struct errbuf *e)
{
	PKCS8_PRIV_KEY_INFO *p8 = NULL;
	unsigned char *buf = NULL;
	unsigned char *p;
	int n;
	int rc = -1;

	p8 = EVP_PKEY2PKCS8(key);
	if (p8 == NULL || (n = i2d_PKCS8_PRIV_KEY_INFO(p8, NULL)) <= 0) {
		err_set(e, "cannot encode the private key as PKCS#8");
		err_add_openssl(e);
		goto out;
	}
	/* Our own allocation so that the caller can use secret_free(). */
	buf = xmalloc((size_t)n);
	p = buf;
	if (i2d_PKCS8_PRIV_KEY_INFO(p8, &p) != n) {
		err_set(e, "cannot encode the private key as PKCS#8");
		err_add_openssl(e);
		goto out;
	}
	*der = buf;
	*len = (size_t)n;
	buf = NULL;
	rc = 0;
out:
	if (buf != NULL)
		secret_free(buf, (size_t)n);
	PKCS8_PRIV_KEY_INFO_free(p8);
	return rc;
}

int
key_from_pkcs8_der(const unsigned char *der, size_t len, EVP_PKEY **out, struct errbuf *e)
{
	PKCS8_PRIV_KEY_INFO *p8 = NULL;
	const unsigned char *p = der;
	EVP_PKEY *k = NULL;
	int rc = -1;

	if (len == 0 || len > LONG_MAX) {
		err_set(e, "not a PKCS#8 private key: bad length %zu", len);
		goto out;
	}
	p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, (long)len);
	if (p8 == NULL || p != der + len) {
		err_set(e, "not a PKCS#8 private key (bad or trailing data)");
		err_add_openssl(e);
		goto out;
	}
	k = EVP_PKCS82PKEY(p8);
	if (k == NULL) {
		err_set(e, "cannot decode the PKCS#8 private key");
		err_add_openssl(e);
		goto out;
	}
	*out = k;
	rc = 0;
out:
	PKCS8_PRIV_KEY_INFO_free(p8);
	return rc;
}

/* Passphrase callback: we never prompt (a daemon has no terminal). */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

int
key_from_pem(const char *what, const char *data, size_t len, bool prompt, EVP_PKEY **out,
    struct errbuf *e)
{
	BIO *bio = NULL;
	EVP_PKEY *k = NULL;
	bool encrypted;

	if (len > INT_MAX) {
		err_set(e, "%s: not a PEM private key", what);
		return -1;
	}
	encrypted = memmem(data, len, "ENCRYPTED", 9) != NULL;
	bio = BIO_new_mem_buf(data, (int)len);
	if (bio == NULL) {
		err_set(e, "%s: cannot read the key", what);
		err_add_openssl(e);
		return -1;
	}
	/* NULL callback: OpenSSL's own prompt on the terminal. */
	k = PEM_read_bio_PrivateKey(bio, NULL, prompt ? NULL : no_passphrase, NULL);
	BIO_free(bio);
	if (k == NULL) {
		if (encrypted && !prompt)
			err_set(e, "%s: the private key is encrypted; smimesync needs it "
			    "unencrypted in a file only it can read (openssl pkey -in %s "
			    "-out new.pem, then chmod 600)", what, what);
		else if (encrypted)
			err_set(e, "%s: cannot decrypt the private key (wrong passphrase?)", what);
		else
			err_set(e, "%s: not a PEM private key", what);
		err_add_openssl(e);
		return -1;
	}
	*out = k;
	return 0;
}

int
key_load_pem_file(const char *path, EVP_PKEY **out, struct errbuf *e)
{
	char *data = NULL;
	size_t len = 0;
	int rc;

	if (file_read_secret(path, KEY_FILE_MAX, &data, &len, e) != 0)
		return -1;
	rc = key_from_pem(path, data, len, false, out, e);
	secret_free(data, len);
	return rc;
}

int
key_save_pem_file(const char *path, EVP_PKEY *key, struct errbuf *e)
{
	BIO *bio = NULL;
	char *data = NULL;
	long n;
	int rc = -1;

	/* A secure-memory BIO is cleansed when freed. */
	bio = BIO_new(BIO_s_secmem());
	if (bio == NULL ||
	    PEM_write_bio_PKCS8PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) != 1) {
		err_set(e, "%s: cannot encode the private key", path);
		err_add_openssl(e);
		goto out;
	}
	n = BIO_get_mem_data(bio, &data);
	if (n <= 0) {
		err_set(e, "%s: cannot encode the private key", path);
		goto out;
	}
	if (file_write_atomic(path, data, (size_t)n, 0600, e) != 0)
		goto out;
	rc = 0;
out:
	BIO_free(bio);
	return rc;
}

const char *
key_describe(EVP_PKEY *key)
{
	int bits;

	if (key == NULL)
		return "none";
	bits = EVP_PKEY_get_bits(key);
	switch (EVP_PKEY_get_base_id(key)) {
	case EVP_PKEY_RSA:
		switch (bits) {
		case 2048:
			return "rsa2048";
		case 3072:
			return "rsa3072";
		case 4096:
			return "rsa4096";
		default:
			return "rsa";
		}
	case EVP_PKEY_EC:
		switch (bits) {
		case 256:
			return "p256";
		case 384:
			return "p384";
		case 521:
			return "p521";
		default:
			return "ec";
		}
	case EVP_PKEY_ED25519:
		return "ed25519";
	case EVP_PKEY_ED448:
		return "ed448";
	default:
		return "unknown";
	}
}
