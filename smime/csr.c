/* SPDX-License-Identifier: ISC */
/*
 * Certificate signing requests: the proof that whoever asks for a
 * certificate holds its private key. The CA decides the certificate's
 * content; the CSR's subject is informational only.
 */
#include "config.h"

#include <string.h>

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/strutil.h"
#include "smime/ca.h"
#include "smime/smime_internal.h"

/*
 * Ask for the addresses in a subjectAltName extension request: external
 * CAs (EJBCA, cfssl) take the SAN from the CSR when their profile allows.
 * Addresses with a non-ASCII local part are left to the CA (they need the
 * SmtpUTF8Mailbox form, which CAs that copy CSR SANs rarely accept).
 */
static bool
is_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

static int
add_san_request(X509_REQ *req, const char *mail, const char *const *alts, size_t n,
    struct errbuf *e)
{
	GENERAL_NAMES *gens = GENERAL_NAMES_new();
	STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
	int rc = -1;

	if (gens == NULL || exts == NULL)
		goto fail;
	for (size_t i = 0; i <= n; i++) {
		const char *a = i == 0 ? mail : alts[i - 1];
		GENERAL_NAME *g;
		ASN1_IA5STRING *s;

		if (!is_ascii(a))
			continue;
		if ((g = GENERAL_NAME_new()) == NULL || (s = ASN1_IA5STRING_new()) == NULL ||
		    ASN1_STRING_set(s, a, -1) != 1) {
			GENERAL_NAME_free(g);
			goto fail;
		}
		GENERAL_NAME_set0_value(g, GEN_EMAIL, s);
		if (sk_GENERAL_NAME_push(gens, g) == 0) {
			GENERAL_NAME_free(g);
			goto fail;
		}
	}
	if (sk_GENERAL_NAME_num(gens) == 0) {
		rc = 0;
		goto out;
	}
	if (X509V3_add1_i2d(&exts, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT) != 1 ||
	    X509_REQ_add_extensions(req, exts) != 1)
		goto fail;
	rc = 0;
	goto out;
fail:
	err_set(e, "cannot add the subjectAltName request to the CSR for %s", mail);
	err_add_openssl(e);
out:
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	GENERAL_NAMES_free(gens);
	return rc;
}

int
csr_make(EVP_PKEY *key, const char *mail, X509_REQ **out, struct errbuf *e)
{
	return csr_make_sans(key, mail, NULL, 0, out, e);
}

int
csr_make_sans(EVP_PKEY *key, const char *mail, const char *const *alts, size_t n_alts,
    X509_REQ **out, struct errbuf *e)
{
	X509_REQ *req = NULL;
	X509_NAME *name = NULL;
	const EVP_MD *md = NULL;
	int rc = -1;

	if (mail == NULL || mail[0] == '\0' || !str_is_utf8(mail, strlen(mail))) {
		err_set(e, "cannot make a CSR: the mail address is empty or not UTF-8");
		goto out;
	}
	req = X509_REQ_new();
	name = X509_NAME_new();
	if (req == NULL || name == NULL ||
	    X509_REQ_set_version(req, X509_REQ_VERSION_1) != 1) {
		err_set(e, "cannot make a CSR");
		err_add_openssl(e);
		goto out;
	}
	/* A mail longer than a CN may be goes only in the certificate's SAN. */
	if (smime_utf8_chars(mail) <= SMIME_CN_MAX_CHARS && smime_name_add(name, "CN", mail, e) != 0)
		goto out;
	if (X509_REQ_set_subject_name(req, name) != 1 || X509_REQ_set_pubkey(req, key) != 1) {
		err_set(e, "cannot make a CSR for %s", mail);
		err_add_openssl(e);
		goto out;
	}
	if (add_san_request(req, mail, alts, alts != NULL ? n_alts : 0, e) != 0)
		goto out;
	if (smime_sign_digest(key, &md, e) != 0)
		goto out;
	if (X509_REQ_sign(req, key, md) <= 0) {
		err_set(e, "cannot sign the CSR for %s", mail);
		err_add_openssl(e);
		goto out;
	}
	*out = req;
	req = NULL;
	rc = 0;
out:
	X509_NAME_free(name);
	X509_REQ_free(req);
	return rc;
}
