/* SPDX-License-Identifier: ISC */
/*
 * Certificate-building helpers shared by the local CA, "ca init" and the
 * leaf profile: digest by key type, random serials, validity, extensions.
 */
#include "config.h"

#include <string.h>

#include <openssl/bn.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "common/xalloc.h"
#include "smime/smime_internal.h"

int
smime_sign_digest(EVP_PKEY *key, const EVP_MD **md, struct errbuf *e)
{
	int id = EVP_PKEY_get_base_id(key);
	int bits = EVP_PKEY_get_bits(key);

	switch (id) {
	case EVP_PKEY_RSA:
		*md = EVP_sha256();
		return 0;
	case EVP_PKEY_EC:
		/*
		 * SBR 7.1.3.2 pairs each curve with its digest; OpenSSL's
		 * default would be SHA-256 for every curve.
		 */
		if (bits == 256)
			*md = EVP_sha256();
		else if (bits == 384)
			*md = EVP_sha384();
		else if (bits == 521)
			*md = EVP_sha512();
		else
			break;
		return 0;
	case EVP_PKEY_ED25519:
	case EVP_PKEY_ED448:
		*md = NULL;
		return 0;
	default:
		break;
	}
	err_set(e, "unsupported signing key (%s, %d bits): use RSA or EC P-256/P-384/P-521",
	    EVP_PKEY_get0_type_name(key) ? EVP_PKEY_get0_type_name(key) : "unknown", bits);
	return -1;
}

int
smime_sign_cert(X509 *x, EVP_PKEY *key, struct errbuf *e)
{
	const EVP_MD *md = NULL;

	if (smime_sign_digest(key, &md, e) != 0)
		return -1;
	if (X509_sign(x, key, md) <= 0) {
		err_set(e, "cannot sign the certificate");
		err_add_openssl(e);
		return -1;
	}
	return 0;
}

int
smime_set_random_serial(X509 *x, struct errbuf *e)
{
	unsigned char b[16];
	BIGNUM *bn = NULL;
	ASN1_INTEGER *ai = NULL;
	int rc = -1;

	/* 127 bits of CSPRNG output: positive, < 2^159, >= 64 random bits. */
	do {
		if (RAND_bytes(b, sizeof(b)) != 1) {
			err_set(e, "cannot draw a random serial number");
			err_add_openssl(e);
			goto out;
		}
		b[0] &= 0x7f;
		bn = BN_bin2bn(b, sizeof(b), bn);
		if (bn == NULL) {
			err_set(e, "cannot make a serial number");
			err_add_openssl(e);
			goto out;
		}
	} while (BN_is_zero(bn));
	ai = BN_to_ASN1_INTEGER(bn, NULL);
	if (ai == NULL || X509_set_serialNumber(x, ai) != 1) {
		err_set(e, "cannot set the serial number");
		err_add_openssl(e);
		goto out;
	}
	rc = 0;
out:
	ASN1_INTEGER_free(ai);
	BN_free(bn);
	return rc;
}

int
smime_set_validity(X509 *x, time_t not_before, time_t not_after, struct errbuf *e)
{
	ASN1_TIME *nb = NULL;
	ASN1_TIME *na = NULL;
	int rc = -1;

	/* ASN1_TIME_set picks UTCTime before 2050 and GeneralizedTime after (RFC 5280). */
	nb = ASN1_TIME_set(NULL, not_before);
	na = ASN1_TIME_set(NULL, not_after);
	if (nb == NULL || na == NULL || X509_set1_notBefore(x, nb) != 1 ||
	    X509_set1_notAfter(x, na) != 1) {
		err_set(e, "cannot set the validity period");
		err_add_openssl(e);
		goto out;
	}
	rc = 0;
out:
	ASN1_TIME_free(nb);
	ASN1_TIME_free(na);
	return rc;
}

int
smime_add_ext_conf(X509 *x, X509 *issuer, int nid, const char *value, struct errbuf *e)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext = NULL;
	int rc = -1;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	ext = X509V3_EXT_nconf_nid(NULL, &ctx, nid, value);
	if (ext == NULL || X509_add_ext(x, ext, -1) != 1) {
		err_set(e, "cannot add extension %s = %s", OBJ_nid2sn(nid), value);
		err_add_openssl(e);
		goto out;
	}
	rc = 0;
out:
	X509_EXTENSION_free(ext);
	return rc;
}

/* A GENERAL_NAME holding a URI (new), or NULL. */
static GENERAL_NAME *
uri_name(const char *url)
{
	GENERAL_NAME *gn = GENERAL_NAME_new();
	ASN1_IA5STRING *s = ASN1_IA5STRING_new();

	if (gn == NULL || s == NULL || ASN1_STRING_set(s, url, (int)strlen(url)) != 1) {
		GENERAL_NAME_free(gn);
		ASN1_IA5STRING_free(s);
		return NULL;
	}
	GENERAL_NAME_set0_value(gn, GEN_URI, s);
	return gn;
}

int
smime_add_crl_dp(X509 *x, const char *url, struct errbuf *e)
{
	CRL_DIST_POINTS *cdp = NULL;
	DIST_POINT *dp = NULL;
	GENERAL_NAME *gn = NULL;
	int rc = -1;

	cdp = sk_DIST_POINT_new_null();
	dp = DIST_POINT_new();
	if (cdp == NULL || dp == NULL)
		goto fail;
	dp->distpoint = DIST_POINT_NAME_new();
	if (dp->distpoint == NULL)
		goto fail;
	dp->distpoint->type = 0; /* fullName */
	dp->distpoint->name.fullname = GENERAL_NAMES_new();
	if (dp->distpoint->name.fullname == NULL || (gn = uri_name(url)) == NULL)
		goto fail;
	if (sk_GENERAL_NAME_push(dp->distpoint->name.fullname, gn) == 0)
		goto fail;
	gn = NULL;
	if (sk_DIST_POINT_push(cdp, dp) == 0)
		goto fail;
	dp = NULL;
	if (X509_add1_ext_i2d(x, NID_crl_distribution_points, cdp, 0, X509V3_ADD_DEFAULT) != 1)
		goto fail;
	rc = 0;
	goto out;
fail:
	err_set(e, "cannot add cRLDistributionPoints URI:%s", url);
	err_add_openssl(e);
out:
	GENERAL_NAME_free(gn);
	DIST_POINT_free(dp);
	CRL_DIST_POINTS_free(cdp);
	return rc;
}

int
smime_add_aia_ca_issuers(X509 *x, const char *url, struct errbuf *e)
{
	AUTHORITY_INFO_ACCESS *aia = NULL;
	ACCESS_DESCRIPTION *ad = NULL;
	int rc = -1;

	aia = sk_ACCESS_DESCRIPTION_new_null();
	ad = ACCESS_DESCRIPTION_new();
	if (aia == NULL || ad == NULL)
		goto fail;
	ASN1_OBJECT_free(ad->method);
	ad->method = OBJ_nid2obj(NID_ad_ca_issuers);
	GENERAL_NAME_free(ad->location);
	ad->location = uri_name(url);
	if (ad->location == NULL)
		goto fail;
	if (sk_ACCESS_DESCRIPTION_push(aia, ad) == 0)
		goto fail;
	ad = NULL;
	if (X509_add1_ext_i2d(x, NID_info_access, aia, 0, X509V3_ADD_DEFAULT) != 1)
		goto fail;
	rc = 0;
	goto out;
fail:
	err_set(e, "cannot add authorityInfoAccess caIssuers;URI:%s", url);
	err_add_openssl(e);
out:
	ACCESS_DESCRIPTION_free(ad);
	AUTHORITY_INFO_ACCESS_free(aia);
	return rc;
}

int
smime_add_policies(X509 *x, const char *const *oids, size_t n, struct errbuf *e)
{
	CERTIFICATEPOLICIES *pols = NULL;
	POLICYINFO *pi = NULL;
	const char *bad = n > 0 ? oids[0] : "(none)";
	int rc = -1;

	pols = sk_POLICYINFO_new_null();
	if (pols == NULL || n == 0)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		bad = oids[i];
		pi = POLICYINFO_new();
		if (pi == NULL)
			goto fail;
		ASN1_OBJECT_free(pi->policyid);
		pi->policyid = OBJ_txt2obj(oids[i], 1);
		if (pi->policyid == NULL || sk_POLICYINFO_push(pols, pi) == 0)
			goto fail;
		pi = NULL;
	}
	if (X509_add1_ext_i2d(x, NID_certificate_policies, pols, 0, X509V3_ADD_DEFAULT) != 1)
		goto fail;
	rc = 0;
	goto out;
fail:
	err_set(e, "cannot add certificatePolicies %s", bad);
	err_add_openssl(e);
out:
	POLICYINFO_free(pi);
	CERTIFICATEPOLICIES_free(pols);
	return rc;
}

int
smime_add_policy(X509 *x, const char *oid, struct errbuf *e)
{
	return smime_add_policies(x, &oid, 1, e);
}

int
smime_url_ok(const char *url)
{
	if (url == NULL || strncmp(url, "http://", 7) != 0 || url[7] == '\0')
		return 0;
	for (const char *p = url; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (c <= 0x20 || c >= 0x7f)
			return 0;
	}
	return 1;
}

int
smime_name_add(X509_NAME *name, const char *field, const char *value, struct errbuf *e)
{
	if (X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
	    (const unsigned char *)value, -1, -1, 0) != 1) {
		err_set(e, "cannot put %s=%s in a name", field, value);
		err_add_openssl(e);
		return -1;
	}
	return 0;
}

char *
smime_bio_string(BIO *bio, size_t *len_out)
{
	char *data = NULL;
	long n = BIO_get_mem_data(bio, &data);

	if (n < 0)
		n = 0;
	if (len_out != NULL)
		*len_out = (size_t)n;
	return xstrndup(n > 0 ? data : "", (size_t)n);
}

size_t
smime_utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++) {
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	}
	return n;
}
