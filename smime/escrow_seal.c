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
#include <openssl/rsa.h>

#include "common/fileutil.h"
#include "common/log.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "smime/ca_key.h"
#include "smime/escrow_seal.h"

#define MAGIC "SS1"
#define MAGIC_LEN 3
#define NONCE_LEN 12
#define TAG_LEN 16
/* A sealed key: a header line and a 4096-bit RSA ciphertext in hex; slack. */
#define MASTER_FILE_MAX 2048
#define SEALED_HEADER "smimesync-master-key sealed RSA-OAEP-SHA256"

static const char decrypt_failed[] =
    "cannot decrypt: the master key does not match the store or the data was altered";

/* Hex digits to bytes: n bytes from 2n digits; -1 at the first non-digit. */
static int
unhex(const char *hex, size_t n, unsigned char *out, size_t *bad)
{
	for (size_t i = 0; i < n; i++) {
		int hi = hex_value(hex[2 * i]);
		int lo = hex_value(hex[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			*bad = 2 * i + (hi < 0 ? 0 : 1);
			return -1;
		}
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

/* OAEP with SHA-256 (and MGF1-SHA-256), the one padding the sealed file uses. */
static int
oaep_ctx(EVP_PKEY *key, bool encrypt, EVP_PKEY_CTX **out, struct errbuf *e)
{
	EVP_PKEY_CTX *c = NULL;

	if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
		err_set(e, "master_key_uri must name an RSA key: the master key is sealed with "
		    "RSA-OAEP");
		return -1;
	}
	c = EVP_PKEY_CTX_new(key, NULL);
	if (c == NULL || (encrypt ? EVP_PKEY_encrypt_init(c) : EVP_PKEY_decrypt_init(c)) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_OAEP_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_rsa_oaep_md(c, EVP_sha256()) != 1 ||
	    EVP_PKEY_CTX_set_rsa_mgf1_md(c, EVP_sha256()) != 1) {
		err_set(e, "cannot set up RSA-OAEP with the master key's token key");
		err_add_openssl(e);
		EVP_PKEY_CTX_free(c);
		return -1;
	}
	*out = c;
	return 0;
}

struct unwrap_job {
	const unsigned char *ct;
	size_t ct_len;
	unsigned char *key;
};

/* Decrypt on the token (C_Decrypt); the OAEP decoding is OpenSSL's. */
static int
unwrap_with(void *arg, EVP_PKEY *pk, struct errbuf *e)
{
	struct unwrap_job *j = arg;
	EVP_PKEY_CTX *c = NULL;
	unsigned char out[1024];
	size_t n = sizeof(out);
	int rc = -1;

	if (oaep_ctx(pk, false, &c, e) != 0)
		return -1;
	if (EVP_PKEY_decrypt(c, out, &n, j->ct, j->ct_len) != 1) {
		err_set(e, "the token could not open the sealed master key (another token key, "
		    "or the file was altered)");
		err_add_openssl(e);
	} else if (n != MASTER_KEY_LEN) {
		err_set(e, "the sealed master key holds %zu bytes, not %d", n, MASTER_KEY_LEN);
	} else {
		memcpy(j->key, out, MASTER_KEY_LEN);
		rc = 0;
	}
	OPENSSL_cleanse(out, sizeof(out));
	EVP_PKEY_CTX_free(c);
	return rc;
}

/* The token key of [service] master_key_uri (new). */
static int
token_key(const struct conf_service *sv, struct ca_key **out, struct errbuf *e)
{
	char *pin = NULL;
	int rc;

	if (ca_key_pin_path(sv->master_key_pin_file, sv->master_key_pin_credential, &pin, e) != 0)
		return -1;
	rc = ca_key_load(sv->master_key_uri, pin, out, e);
	free(pin);
	if (rc != 0)
		err_prefix(e, "[service] master_key_uri");
	return rc;
}

static int
read_sealed(const char *path, const struct conf_service *sv, const char *data, size_t len,
    unsigned char key[MASTER_KEY_LEN], struct errbuf *e)
{
	const char *hex = data + strlen(SEALED_HEADER);
	size_t hexlen;
	unsigned char ct[1024];
	struct unwrap_job j;
	struct ca_key *k = NULL;
	size_t bad = 0;
	int rc = -1;

	if (sv == NULL || sv->master_key_uri == NULL) {
		err_set(e, "%s: the master key is sealed under a token key; set [service] "
		    "master_key_uri (and master_key_pin_file) to the key that sealed it", path);
		return -1;
	}
	while (*hex == '\n' || *hex == '\r')
		hex++;
	hexlen = len - (size_t)(hex - data);
	while (hexlen > 0 && (hex[hexlen - 1] == '\n' || hex[hexlen - 1] == '\r'))
		hexlen--;
	if (hexlen == 0 || hexlen % 2 != 0 || hexlen / 2 > sizeof(ct) ||
	    unhex(hex, hexlen / 2, ct, &bad) != 0) {
		err_set(e, "%s: the sealed master key is damaged (expected hex digits after the "
		    "first line)", path);
		return -1;
	}
	if (token_key(sv, &k, e) != 0)
		return -1;
	j.ct = ct;
	j.ct_len = hexlen / 2;
	j.key = key;
	if (ca_key_use(k, unwrap_with, &j, NULL, e) != 0) {
		err_prefix(e, "%s", path);
		goto out;
	}
	rc = 0;
out:
	ca_key_free(k);
	return rc;
}

int
escrow_key_read(const char *path, const struct conf_service *sv,
    unsigned char key[MASTER_KEY_LEN], struct errbuf *e)
{
	char *data = NULL;
	size_t size = 0;
	size_t len;
	size_t bad = 0;
	int rc = -1;

	memset(key, 0, MASTER_KEY_LEN);
	if (file_read_secret(path, MASTER_FILE_MAX, &data, &size, e) != 0)
		goto out;
	if (strncmp(data, SEALED_HEADER, strlen(SEALED_HEADER)) == 0) {
		rc = read_sealed(path, sv, data, size, key, e);
		if (rc != 0)
			OPENSSL_cleanse(key, MASTER_KEY_LEN);
		goto out;
	}
	/*
	 * A plain key where a sealed one is expected: the way from a plain
	 * key to a sealed one is master-key rotate, which must open the plain
	 * key to re-seal what it sealed. Used, and said loudly.
	 */
	if (sv != NULL && sv->master_key_uri != NULL)
		log_warn("%s holds a plain master key although master_key_uri is set: "
		    "anybody who copies the file can open the escrow; run smimesync master-key "
		    "rotate to replace it with one sealed under the token", path);
	len = size;
	while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
		len--;
	if (len != 2 * MASTER_KEY_LEN) {
		err_set(e, "%s: a master key file holds exactly %d hex digits (found %zu "
		    "characters); smimesync ca init creates one, or: "
		    "(umask 077; openssl rand -hex 32 > %s)", path, 2 * MASTER_KEY_LEN, len, path);
		goto out;
	}
	if (unhex(data, MASTER_KEY_LEN, key, &bad) != 0) {
		err_set(e, "%s: the master key holds a character that is not a hex digit at "
		    "offset %zu", path, bad);
		OPENSSL_cleanse(key, MASTER_KEY_LEN);
		goto out;
	}
	rc = 0;
out:
	secret_free(data, size);
	return rc;
}

/* The file's text: hex, or the sealed form under the token (new, secret). */
static int
key_file_text(const unsigned char k[MASTER_KEY_LEN], const struct conf_service *sv,
    char **text, size_t *text_len, struct errbuf *e)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *src = k;
	unsigned char ct[1024];
	size_t n = MASTER_KEY_LEN;
	size_t head = 0;
	struct ca_key *tk = NULL;
	EVP_PKEY_CTX *c = NULL;
	char *t;

	if (sv != NULL && sv->master_key_uri != NULL) {
		size_t ct_len = sizeof(ct);

		/* Sealing needs only the public half; the private half stays in the token. */
		if (token_key(sv, &tk, e) != 0)
			return -1;
		if (oaep_ctx(ca_key_pkey(tk), true, &c, e) != 0 ||
		    EVP_PKEY_encrypt(c, ct, &ct_len, k, MASTER_KEY_LEN) != 1) {
			if (c != NULL) {
				err_set(e, "cannot seal the master key under %s", sv->master_key_uri);
				err_add_openssl(e);
			}
			EVP_PKEY_CTX_free(c);
			ca_key_free(tk);
			return -1;
		}
		EVP_PKEY_CTX_free(c);
		ca_key_free(tk);
		src = ct;
		n = ct_len;
		head = strlen(SEALED_HEADER) + 1;
	}
	/* Built in place, never reallocated: a moved copy of a key is not wiped. */
	t = xmalloc(head + 2 * n + 2);
	if (head > 0) {
		memcpy(t, SEALED_HEADER, head - 1);
		t[head - 1] = '\n';
	}
	for (size_t i = 0; i < n; i++) {
		t[head + 2 * i] = digits[src[i] >> 4];
		t[head + 2 * i + 1] = digits[src[i] & 0xf];
	}
	t[head + 2 * n] = '\n';
	t[head + 2 * n + 1] = '\0';
	*text = t;
	*text_len = head + 2 * n + 1;
	return 0;
}

int
escrow_key_create(const char *path, const struct conf_service *sv, struct errbuf *e)
{
	unsigned char k[MASTER_KEY_LEN];
	char *text = NULL;
	size_t text_len = 0;
	int rc = -1;

	if (RAND_bytes(k, sizeof(k)) != 1) {
		err_set(e, "cannot draw random bytes for the master key");
		err_add_openssl(e);
		goto out;
	}
	if (key_file_text(k, sv, &text, &text_len, e) != 0)
		goto out;
	/*
	 * Never replace a key that sealed data, not even in a race; and never
	 * leave half a key behind if we die while writing it.
	 */
	if (file_exists(path)) {
		err_set(e, "%s: already exists; refusing to overwrite a master key "
		    "(data sealed with it would be lost)", path);
		goto out;
	}
	if (file_create_atomic(path, text, text_len, 0600, e) != 0)
		goto out;
	rc = 0;
out:
	OPENSSL_cleanse(k, sizeof(k));
	if (text != NULL)
		secret_free(text, text_len + 1);
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
