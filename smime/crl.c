/* SPDX-License-Identifier: ISC */
/*
 * CRLs of the local CA (RFC 5280 5, S/MIME BR 7.2): v2, signed with the
 * digest the CA key calls for, CRL number and AKI, reasonCode per entry
 * except for unspecified, which the BR want left out rather than written.
 * crl_sign() needs the issuing key in this process (smime_internal.h);
 * everyone else goes through ca_make_crl() (ca.h).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/x509v3.h>

#include "common/strutil.h"
#include "common/xalloc.h"
#include "smime/crl.h"
#include "smime/smime_internal.h"

/* S/MIME BR 4.9.7: nextUpdate at most ten days after thisUpdate. */
#define CRL_MAX_LIFETIME ((int64_t)10 * 86400)

static const struct {
	const char *name;
	int code;
} reasons[] = {
	{ "unspecified", CRL_REASON_UNSPECIFIED },
	{ "keyCompromise", CRL_REASON_KEY_COMPROMISE },
	{ "affiliationChanged", CRL_REASON_AFFILIATION_CHANGED },
	{ "superseded", CRL_REASON_SUPERSEDED },
	{ "cessationOfOperation", CRL_REASON_CESSATION_OF_OPERATION },
	{ "privilegeWithdrawn", CRL_REASON_PRIVILEGE_WITHDRAWN },
};

int
crl_reason_parse(const char *name, int *code_out)
{
	char norm[64];
	size_t k = 0;

	for (const char *p = name; *p != '\0' && k + 1 < sizeof(norm); p++)
		if (*p != '-' && *p != '_')
			norm[k++] = *p;
	norm[k] = '\0';
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
		if (str_eq_nocase(norm, reasons[i].name)) {
			*code_out = reasons[i].code;
			return 0;
		}
	}
	return -1;
}

const char *
crl_reason_name(int code)
{
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].code == code)
			return reasons[i].name;
	return "unknown";
}

static int
add_entry(X509_CRL *crl, const struct crl_entry *en, struct errbuf *e)
{
	X509_REVOKED *r = NULL;
	BIGNUM *bn = NULL;
	ASN1_INTEGER *serial = NULL;
	ASN1_TIME *when = NULL;
	ASN1_ENUMERATED *reason = NULL;
	int rc = -1;

	if (en->serial == NULL || BN_hex2bn(&bn, en->serial) != (int)strlen(en->serial) ||
	    BN_is_zero(bn) || BN_is_negative(bn)) {
		err_set(e, "revoked serial \"%s\" is not a positive hex number",
		    en->serial != NULL ? en->serial : "(null)");
		goto out;
	}
	r = X509_REVOKED_new();
	serial = BN_to_ASN1_INTEGER(bn, NULL);
	when = ASN1_TIME_set(NULL, en->revoked_at);
	if (r == NULL || serial == NULL || when == NULL ||
	    X509_REVOKED_set_serialNumber(r, serial) != 1 ||
	    X509_REVOKED_set_revocationDate(r, when) != 1)
		goto ossl;
	if (en->reason != CRL_REASON_UNSPECIFIED) {
		reason = ASN1_ENUMERATED_new();
		if (reason == NULL || ASN1_ENUMERATED_set(reason, en->reason) != 1 ||
		    X509_REVOKED_add1_ext_i2d(r, NID_crl_reason, reason, 0, 0) != 1)
			goto ossl;
	}
	if (X509_CRL_add0_revoked(crl, r) != 1)
		goto ossl;
	r = NULL;
	rc = 0;
	goto out;
ossl:
	err_set(e, "cannot add serial %s to the CRL", en->serial);
	err_add_openssl(e);
out:
	ASN1_ENUMERATED_free(reason);
	ASN1_TIME_free(when);
	ASN1_INTEGER_free(serial);
	BN_free(bn);
	X509_REVOKED_free(r);
	return rc;
}

int
crl_sign(X509 *issuer, EVP_PKEY *key, const struct crl_entry *entries, size_t n,
    uint64_t number, time_t now, int64_t lifetime, unsigned char **der, size_t *len,
    struct errbuf *e)
{
	X509_CRL *crl = NULL;
	ASN1_TIME *t = NULL;
	ASN1_INTEGER *num = NULL;
	X509_EXTENSION *aki = NULL;
	X509V3_CTX ctx;
	const EVP_MD *md = NULL;
	unsigned char *buf = NULL, *p;
	int l;
	int rc = -1;

	if (lifetime <= 0 || lifetime > CRL_MAX_LIFETIME) {
		err_set(e, "CRL lifetime of %lld seconds is outside 1 second .. 10 days (S/MIME "
		    "BR 4.9.7)", (long long)lifetime);
		return -1;
	}
	if (number == 0 || number > INT64_MAX) {
		err_set(e, "CRL number %llu is out of range", (unsigned long long)number);
		return -1;
	}
	crl = X509_CRL_new();
	if (crl == NULL || X509_CRL_set_version(crl, X509_CRL_VERSION_2) != 1 ||
	    X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer)) != 1)
		goto ossl;
	t = ASN1_TIME_set(NULL, now);
	if (t == NULL || X509_CRL_set1_lastUpdate(crl, t) != 1)
		goto ossl;
	ASN1_TIME_free(t);
	t = ASN1_TIME_set(NULL, now + (time_t)lifetime);
	if (t == NULL || X509_CRL_set1_nextUpdate(crl, t) != 1)
		goto ossl;
	for (size_t i = 0; i < n; i++)
		if (add_entry(crl, &entries[i], e) != 0)
			goto out;
	num = ASN1_INTEGER_new();
	if (num == NULL || ASN1_INTEGER_set_uint64(num, number) != 1 ||
	    X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0) != 1)
		goto ossl;
	X509V3_set_ctx(&ctx, issuer, NULL, NULL, crl, 0);
	aki = X509V3_EXT_conf_nid(NULL, &ctx, NID_authority_key_identifier, "keyid:always");
	if (aki == NULL || X509_CRL_add_ext(crl, aki, -1) != 1)
		goto ossl;
	if (X509_CRL_sort(crl) != 1)
		goto ossl;
	if (smime_sign_digest(key, &md, e) != 0)
		goto out;
	if (X509_CRL_sign(crl, key, md) <= 0)
		goto ossl;
	/* Two passes into our own buffer: callers free() it (xalloc policy). */
	l = i2d_X509_CRL(crl, NULL);
	if (l <= 0)
		goto ossl;
	buf = xmalloc((size_t)l);
	p = buf;
	if (i2d_X509_CRL(crl, &p) != l) {
		free(buf);
		goto ossl;
	}
	*der = buf;
	*len = (size_t)l;
	rc = 0;
	goto out;
ossl:
	err_set(e, "cannot build the CRL");
	err_add_openssl(e);
out:
	X509_EXTENSION_free(aki);
	ASN1_INTEGER_free(num);
	ASN1_TIME_free(t);
	X509_CRL_free(crl);
	return rc;
}
