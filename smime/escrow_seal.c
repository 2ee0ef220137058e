/* SPDX-License-Identifier: ISC */
/*
 * The master key file and AES-256-GCM sealing with the key in memory
 * (escrow_seal.h).
 *
 * GCM authenticates as well as encrypts: a blob altered on disk, moved to
 * another row (other AAD) or opened with another master key fails the tag
 * check, and we never return its plaintext.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/fileutil.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "smime/escrow_seal.h"

#define MAGIC "SS1"
#define MAGIC_LEN 3
#define NONCE_LEN 12
#define TAG_LEN 16
/* 64 hex digits plus line ends and a little slack. */
#define MASTER_FILE_MAX 256

static const char decrypt_failed[] =
    "cannot decrypt: the master key does not match the store or the data was altered";

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
escrow_key_read(const char *path, unsigned char key[MASTER_KEY_LEN], struct errbuf *e)
{
	char *data = NULL;
	size_t size = 0;
	size_t len;
	int rc = -1;

	memset(key, 0, MASTER_KEY_LEN);
	if (file_read_secret(path, MASTER_FILE_MAX, &data, &size, e) != 0)
		goto out;
	len = size;
	while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
		len--;
	if (len != 2 * MASTER_KEY_LEN) {
		err_set(e, "%s: a master key file holds exactly %d hex digits (found %zu "
		    "characters); smimesync ca init creates one, or: "
		    "(umask 077; openssl rand -hex 32 > %s)", path, 2 * MASTER_KEY_LEN, len, path);
		goto out;
	}
	for (size_t i = 0; i < MASTER_KEY_LEN; i++) {
		int hi = hexval(data[2 * i]);
		int lo = hexval(data[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			err_set(e, "%s: the master key holds a character that is not a hex "
			    "digit at offset %zu", path, 2 * i + (hi < 0 ? 0 : 1));
			OPENSSL_cleanse(key, MASTER_KEY_LEN);
			goto out;
		}
		key[i] = (unsigned char)(hi << 4 | lo);
	}
	rc = 0;
out:
	secret_free(data, size);
	return rc;
}

int
escrow_key_create(const char *path, struct errbuf *e)
{
	unsigned char k[MASTER_KEY_LEN];
	char *hex = NULL;
	size_t hexlen = 2 * MASTER_KEY_LEN;
	int rc = -1;

	if (RAND_bytes(k, sizeof(k)) != 1) {
		err_set(e, "cannot draw random bytes for the master key");
		err_add_openssl(e);
		goto out;
	}
	/* Built in place, never reallocated: a moved copy of a key is not wiped. */
	{
		static const char digits[] = "0123456789abcdef";

		hex = xmalloc(hexlen + 2);
		for (size_t i = 0; i < sizeof(k); i++) {
			hex[2 * i] = digits[k[i] >> 4];
			hex[2 * i + 1] = digits[k[i] & 0xf];
		}
		hex[hexlen] = '\n';
		hex[hexlen + 1] = '\0';
	}
	/*
	 * Never replace a key that sealed data, not even in a race; and never
	 * leave half a key behind if we die while writing it.
	 */
	if (file_exists(path)) {
		err_set(e, "%s: already exists; refusing to overwrite a master key "
		    "(data sealed with it would be lost)", path);
		goto out;
	}
	if (file_create_atomic(path, hex, hexlen + 1, 0600, e) != 0)
		goto out;
	rc = 0;
out:
	OPENSSL_cleanse(k, sizeof(k));
	if (hex != NULL)
		secret_free(hex, hexlen + 2);
	return rc;
}

int
escrow_seal_with(const unsigned char key[MASTER_KEY_LEN], const char *aad,
    const unsigned char *plain, size_t len, unsigned char **out, size_t *out_len,
    struct errbuf *e)
{
	EVP_CIPHER_CTX *ctx = NULL;
	unsigned char *buf = NULL;
	size_t total;
	int n = 0;
	int fin = 0;
	int rc = -1;

	if (aad == NULL)
		aad = "";
	if (len > INT_MAX - 64) {
		err_set(e, "cannot seal %zu bytes: too large", len);
		goto out;
	}
	total = MAGIC_LEN + NONCE_LEN + len + TAG_LEN;
	buf = xmalloc(total);
	memcpy(buf, MAGIC, MAGIC_LEN);
	if (RAND_bytes(buf + MAGIC_LEN, NONCE_LEN) != 1)
		goto fail;
	ctx = EVP_CIPHER_CTX_new();
	if (ctx == NULL ||
	    EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, buf + MAGIC_LEN) != 1 ||
	    EVP_EncryptUpdate(ctx, NULL, &n, (const unsigned char *)aad, (int)strlen(aad)) != 1)
		goto fail;
	n = 0;
	if (len > 0 && EVP_EncryptUpdate(ctx, buf + MAGIC_LEN + NONCE_LEN, &n, plain,
	    (int)len) != 1)
		goto fail;
	if (EVP_EncryptFinal_ex(ctx, buf + MAGIC_LEN + NONCE_LEN + n, &fin) != 1 ||
	    (size_t)(n + fin) != len ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN,
	    buf + MAGIC_LEN + NONCE_LEN + len) != 1)
		goto fail;
	*out = buf;
	*out_len = total;
	buf = NULL;
	rc = 0;
	goto out;
fail:
	err_set(e, "cannot seal data with the master key");
	err_add_openssl(e);
out:
	EVP_CIPHER_CTX_free(ctx);
	free(buf);
	return rc;
}

int
escrow_open_with(const unsigned char key[MASTER_KEY_LEN], const char *aad,
    const unsigned char *sealed, size_t len, unsigned char **out, size_t *out_len,
    struct errbuf *e)
{
	EVP_CIPHER_CTX *ctx = NULL;
	unsigned char *plain = NULL;
	unsigned char tag[TAG_LEN];
	size_t clen;
	int n = 0;
	int fin = 0;
	int rc = -1;

	if (aad == NULL)
		aad = "";
	if (len < MAGIC_LEN + NONCE_LEN + TAG_LEN || memcmp(sealed, MAGIC, MAGIC_LEN) != 0) {
		err_set(e, "cannot decrypt: not a sealed blob (format SS1)");
		goto out;
	}
	clen = len - MAGIC_LEN - NONCE_LEN - TAG_LEN;
	if (clen > INT_MAX - 64) {
		err_set(e, "cannot decrypt: blob too large");
		goto out;
	}
	/* One spare byte: callers may treat text plaintext as a C string. */
	plain = xmalloc(clen + 1);
	memcpy(tag, sealed + len - TAG_LEN, TAG_LEN);
	ctx = EVP_CIPHER_CTX_new();
	if (ctx == NULL ||
	    EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, sealed + MAGIC_LEN) != 1 ||
	    EVP_DecryptUpdate(ctx, NULL, &n, (const unsigned char *)aad, (int)strlen(aad)) != 1) {
		err_set(e, "cannot decrypt");
		err_add_openssl(e);
		goto out;
	}
	n = 0;
	if (clen > 0 && EVP_DecryptUpdate(ctx, plain, &n, sealed + MAGIC_LEN + NONCE_LEN,
	    (int)clen) != 1) {
		err_set(e, "cannot decrypt");
		err_add_openssl(e);
		goto out;
	}
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag) != 1 ||
	    EVP_DecryptFinal_ex(ctx, plain + n, &fin) != 1 || (size_t)(n + fin) != clen) {
		ERR_clear_error();
		err_set(e, "%s", decrypt_failed);
		goto out;
	}
	plain[clen] = '\0';
	*out = plain;
	*out_len = clen;
	plain = NULL;
	rc = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	if (plain != NULL)
		secret_free(plain, clen + 1);
	return rc;
}
