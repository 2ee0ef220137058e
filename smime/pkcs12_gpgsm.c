/* SPDX-License-Identifier: ISC */
/*
 * Would gpgsm 2.2 open this compat PKCS#12? (pkcs12.h)
 *
 * RFC 7292 appendix B derives a 3DES key (24 bytes) from two SHA-1 blocks.
 * Between the two, each 64-byte block I_j of I = salt || password is
 * replaced by (I_j + B + 1) mod 2^512, B being the first block's hash
 * repeated. gpgsm's minip12.c (2.2.x, string_to_key) does that addition
 * with libgcrypt MPIs and writes the result back with gcry_mpi_print(),
 * which drops leading zero bytes and writes the rest left-aligned into the
 * 64-byte block, leaving its last bytes as they were. Whenever a new I_j
 * starts with a zero byte (1 in 256 per block; two blocks per derivation,
 * one derivation per 3DES bag), gpgsm's second hash, and with it the last
 * 4 bytes of the key, differ from every other implementation's, and it
 * rejects the file as "error parsing or decrypting the PKCS#12 file".
 * The IV (8 bytes), the MAC key (20 bytes) and RC2-40 keys (5 bytes) need
 * one block and are never affected.
 *
 * This file repeats the first block of the derivation for every 3DES
 * salt of a file and says whether the condition holds anywhere, so that
 * pkcs12.c can draw new salts until it does not. gpgsm also reads at most
 * 31 password characters (one byte each, where RFC 7292 has UTF-16) and
 * 64 salt bytes; beyond that its derivation differs too, and the answer is
 * "no".
 */
#include "config.h"

#include <string.h>

#include <openssl/evp.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>

#include "smime/pkcs12.h"
#include "smime/smime_internal.h"

#define BLOCK 64
#define SHA1_LEN 20
/* gpgsm copies the salt into one 64-byte block. */
#define GPGSM_MAX_SALT 64

bool
pkcs12_gpgsm_password_ok(const char *password)
{
	size_t n = 0;

	/* gpgsm puts one byte per character where RFC 7292 puts UTF-16. */
	for (; password[n] != '\0'; n++)
		if ((unsigned char)password[n] >= 0x80)
			return false;
	return n <= PKCS12_GPGSM_MAX_PASSWORD;
}

/*
 * Does gpgsm derive the RFC 7292 key for salt, iterations and password?
 * RFC 7292 B.2 with ID = 1 (key material), SHA-1, 24 bytes wanted.
 */
static bool
derivation_agrees(const unsigned char *salt, size_t salt_len, long iter, const char *password)
{
	unsigned char d[BLOCK], in[2 * BLOCK], a[SHA1_LEN];
	size_t pw_len = strlen(password);
	EVP_MD_CTX *md = NULL;
	bool agrees = false;

	if (salt_len == 0 || salt_len > GPGSM_MAX_SALT || !pkcs12_gpgsm_password_ok(password) ||
	    iter < 1)
		return false;
	memset(d, 1, sizeof(d));
	for (size_t i = 0; i < BLOCK; i++)
		in[i] = salt[i % salt_len];
	/* The password as a BMPString with its two-byte terminator, repeated. */
	for (size_t i = 0, j = 0; i < BLOCK; i += 2) {
		in[BLOCK + i] = 0;
		in[BLOCK + i + 1] = j < pw_len ? (unsigned char)password[j] : 0;
		j = j + 1 > pw_len ? 0 : j + 1;
	}
	md = EVP_MD_CTX_new();
	if (md == NULL || EVP_DigestInit_ex(md, EVP_sha1(), NULL) != 1 ||
	    EVP_DigestUpdate(md, d, sizeof(d)) != 1 || EVP_DigestUpdate(md, in, sizeof(in)) != 1 ||
	    EVP_DigestFinal_ex(md, a, NULL) != 1)
		goto out;
	for (long i = 1; i < iter; i++)
		if (EVP_Digest(a, sizeof(a), a, NULL, EVP_sha1(), NULL) != 1)
			goto out;
	/* I_j + B + 1, big-endian, for both blocks: does the result start with 0? */
	agrees = true;
	for (size_t j = 0; j < 2 && agrees; j++) {
		unsigned char *ij = in + j * BLOCK;
		unsigned carry = 1;
		unsigned char top = 0;

		for (size_t k = BLOCK; k-- > 0;) {
			unsigned sum = (unsigned)ij[k] + a[k % SHA1_LEN] + carry;

			carry = sum >> 8;
			if (k == 0)
				top = (unsigned char)sum;
		}
		if (top == 0)
			agrees = false;
	}
out:
	EVP_MD_CTX_free(md);
	memset(in, 0, sizeof(in));
	memset(a, 0, sizeof(a));
	return agrees;
}

/* 0 when alg is not 3DES or gpgsm agrees; 1 when it does not. */
static int
alg_differs(const X509_ALGOR *alg, const char *password)
{
	const ASN1_OBJECT *oid = NULL;
	const void *param = NULL;
	int ptype = 0;
	PBEPARAM *pbe = NULL;
	int differs;

	X509_ALGOR_get0(&oid, &ptype, &param, alg);
	if (OBJ_obj2nid(oid) != NID_pbe_WithSHA1And3_Key_TripleDES_CBC)
		return 0;
	if (ptype != V_ASN1_SEQUENCE)
		return 1;
	pbe = ASN1_item_unpack(param, ASN1_ITEM_rptr(PBEPARAM));
	if (pbe == NULL)
		return 1;
	differs = !derivation_agrees(ASN1_STRING_get0_data(pbe->salt),
	    (size_t)ASN1_STRING_length(pbe->salt), ASN1_INTEGER_get(pbe->iter), password);
	PBEPARAM_free(pbe);
	return differs;
}

static int
bags_differ(const STACK_OF(PKCS12_SAFEBAG) *bags, const char *password)
{
	int n = 0;

	for (int i = 0; i < sk_PKCS12_SAFEBAG_num(bags); i++) {
		const PKCS12_SAFEBAG *bag = sk_PKCS12_SAFEBAG_value(bags, i);
		const X509_ALGOR *alg = NULL;

		if (PKCS12_SAFEBAG_get_nid(bag) != NID_pkcs8ShroudedKeyBag)
			continue;
		X509_SIG_get0(PKCS12_SAFEBAG_get0_pkcs8(bag), &alg, NULL);
		n += alg_differs(alg, password);
	}
	return n;
}

int
pkcs12_gpgsm_agrees(PKCS12 *p12, const char *password, bool *agrees, struct errbuf *e)
{
	STACK_OF(PKCS7) *safes = PKCS12_unpack_authsafes(p12);
	int differ = 0;
	int rc = -1;

	if (safes == NULL) {
		err_set(e, "cannot read the safes of the PKCS#12 file");
		err_add_openssl(e);
		return -1;
	}
	for (int i = 0; i < sk_PKCS7_num(safes); i++) {
		PKCS7 *p7 = sk_PKCS7_value(safes, i);
		STACK_OF(PKCS12_SAFEBAG) *bags = NULL;

		switch (OBJ_obj2nid(p7->type)) {
		case NID_pkcs7_data:
			bags = PKCS12_unpack_p7data(p7);
			break;
		case NID_pkcs7_encrypted:
			differ += alg_differs(p7->d.encrypted->enc_data->algorithm, password);
			bags = PKCS12_unpack_p7encdata(p7, password, -1);
			break;
		default:
			continue;
		}
		if (bags == NULL) {
			err_set(e, "cannot read a safe of the PKCS#12 file");
			err_add_openssl(e);
			goto out;
		}
		differ += bags_differ(bags, password);
		sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
	}
	*agrees = differ == 0;
	rc = 0;
out:
	sk_PKCS7_pop_free(safes, PKCS7_free);
	return rc;
}

int
pkcs12_gpgsm_check(const unsigned char *der, size_t len, const char *password, bool *agrees,
    struct errbuf *e)
{
	const unsigned char *p = der;
	PKCS12 *p12 = d2i_PKCS12(NULL, &p, (long)len);
	int rc;

	if (p12 == NULL || p != der + len) {
		PKCS12_free(p12);
		err_set(e, "not a DER PKCS#12 file");
		err_add_openssl(e);
		return -1;
	}
	rc = pkcs12_gpgsm_agrees(p12, password, agrees, e);
	PKCS12_free(p12);
	return rc;
}
