/* SPDX-License-Identifier: ISC */
/* The recovery credential and its scrypt verifier (smime/credential.h). */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/fileutil.h"
#include "common/log.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "smime/credential.h"

#define SALT_LEN 16
#define HASH_LEN 32
#define LOG2N 15
#define R 8
#define P 1
/* scrypt needs 128 * r * N bytes: allow what the parameters we accept need. */
#define MAXMEM ((uint64_t)1 << 30)

char *
credential_generate(void)
{
	static const char b64url[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	unsigned char raw[32];
	char *out = xmalloc(44);
	size_t k = 0;
	uint32_t acc = 0;
	int bits = 0;

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		fatal("the random number generator failed");
	for (size_t i = 0; i < sizeof(raw); i++) {
		acc = acc << 8 | raw[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			out[k++] = b64url[(acc >> bits) & 63];
		}
	}
	if (bits > 0)
		out[k++] = b64url[(acc << (6 - bits)) & 63];
	out[k] = '\0';
	OPENSSL_cleanse(raw, sizeof(raw));
	return out;
}

static int
derive(const char *credential, const unsigned char *salt, size_t salt_len, int log2n, int r,
    int p, unsigned char out[HASH_LEN])
{
	return EVP_PBE_scrypt(credential, strlen(credential), salt, salt_len, (uint64_t)1 << log2n,
	    (uint64_t)r, (uint64_t)p, MAXMEM, out, HASH_LEN) == 1 ? 0 : -1;
}

char *
credential_verifier(const char *credential)
{
	unsigned char salt[SALT_LEN], hash[HASH_LEN];
	char *s = NULL, *h = NULL, *v;

	if (RAND_bytes(salt, sizeof(salt)) != 1)
		fatal("the random number generator failed");
	if (derive(credential, salt, sizeof(salt), LOG2N, R, P, hash) != 0)
		fatal("scrypt failed (out of memory?)");
	s = hex_encode(salt, sizeof(salt));
	h = hex_encode(hash, sizeof(hash));
	v = xasprintf("scrypt$%d$%d$%d$%s$%s", LOG2N, R, P, s, h);
	free(s);
	free(h);
	OPENSSL_cleanse(hash, sizeof(hash));
	return v;
}

static int
unhex(const char *s, unsigned char *out, size_t n)
{
	if (strlen(s) != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned v = 0;

		for (int j = 0; j < 2; j++) {
			char c = s[2 * i + (size_t)j];

			v <<= 4;
			if (c >= '0' && c <= '9')
				v |= (unsigned)(c - '0');
			else if (c >= 'a' && c <= 'f')
				v |= (unsigned)(c - 'a' + 10);
			else
				return -1;
		}
		out[i] = (unsigned char)v;
	}
	return 0;
}

struct parsed {
	int log2n, r, p;
	unsigned char salt[SALT_LEN];
	unsigned char hash[HASH_LEN];
};

static int
parse(const char *verifier, struct parsed *v, struct errbuf *e)
{
	char salt[2 * SALT_LEN + 2], hash[2 * HASH_LEN + 2];
	int used = 0;

	if (verifier == NULL ||
	    sscanf(verifier, "scrypt$%d$%d$%d$%33[0-9a-f]$%65[0-9a-f]%n", &v->log2n, &v->r, &v->p,
	    salt, hash, &used) != 5 || verifier[used] != '\0' ||
	    unhex(salt, v->salt, SALT_LEN) != 0 || unhex(hash, v->hash, HASH_LEN) != 0) {
		err_set(e, "not a credential verifier (scrypt$15$8$1$<32 hex>$<64 hex>, as "
		    "smimesync-signer credential prints it)");
		return -1;
	}
	/* Weaker than the default is refused; much stronger would stall the signer. */
	if (v->log2n < LOG2N || v->log2n > 20 || v->r < R || v->r > 32 || v->p < 1 || v->p > 4 ||
	    (uint64_t)128 * (uint64_t)v->r << v->log2n > MAXMEM) {
		err_set(e, "the credential verifier's scrypt parameters are outside N = 2^15..2^20, "
		    "r = 8..32, p = 1..4");
		return -1;
	}
	return 0;
}

int
credential_verifier_check(const char *verifier, struct errbuf *e)
{
	struct parsed v;

	return parse(verifier, &v, e);
}

int
credential_check(const char *verifier, const char *credential, struct errbuf *e)
{
	struct parsed v;
	unsigned char got[HASH_LEN];
	int rc = -1;

	if (parse(verifier, &v, e) != 0)
		return -1;
	if (credential == NULL || credential[0] == '\0') {
		err_set(e, "no recovery credential was given");
		return -1;
	}
	if (derive(credential, v.salt, SALT_LEN, v.log2n, v.r, v.p, got) != 0) {
		err_set(e, "cannot check the recovery credential: scrypt failed");
		return -1;
	}
	if (CRYPTO_memcmp(got, v.hash, HASH_LEN) == 0)
		rc = 0;
	else
		err_set(e, "the recovery credential is wrong");
	OPENSSL_cleanse(got, sizeof(got));
	return rc;
}
