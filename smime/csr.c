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
 * The extension request: what an S/MIME certificate needs, for CAs that
 * copy a CSR's requested extensions (certmonger's local-submit, EJBCA and
 * cfssl profiles that allow it). A CA that copied only the SAN issued
 * certificates without emailProtection, which smimesync then had to
 * refuse. Requested:
 *
 *  - subjectAltName with the addresses. Addresses with a non-ASCII local
 *    part are left to the CA (they need the SmtpUTF8Mailbox form, which
 *    CAs that copy CSR SANs rarely accept);
 *  - keyUsage for the key type, as the S/MIME BR (7.1.2.3 e) and the
 *    internal CA's profile have it: RSA digitalSignature and
 *    keyEncipherment, EC digitalSignature and keyAgreement; critical;
 *  - extendedKeyUsage emailProtection, and clientAuth for the
 *    multipurpose profiles.
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
add_usage(STACK_OF(X509_EXTENSION) *exts, EVP_PKEY *key, bool multipurpose)
{
	const char *ku = EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA ?
	    "critical,digitalSignature,keyEncipherment" : "critical,digitalSignature,keyAgreement";
	X509_EXTENSION *x;

	if ((x = X509V3_EXT_conf_nid(NULL, NULL, NID_key_usage, ku)) == NULL)
		return -1;
	if (sk_X509_EXTENSION_push(exts, x) == 0) {
		X509_EXTENSION_free(x);
		return -1;
	}
	x = X509V3_EXT_conf_nid(NULL, NULL, NID_ext_key_usage,
	    multipurpose ? "emailProtection,clientAuth" : "emailProtection");
	if (x == NULL)
		return -1;
	if (sk_X509_EXTENSION_push(exts, x) == 0) {
		X509_EXTENSION_free(x);
		return -1;
	}
	return 0;
}

static int
add_ext_request(X509_REQ *req, EVP_PKEY *key, const char *mail, const char *const *alts,
    size_t n, bool multipurpose, struct errbuf *e)
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
	if (sk_GENERAL_NAME_num(gens) > 0 &&
	    X509V3_add1_i2d(&exts, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT) != 1)
		goto fail;
	if (add_usage(exts, key, multipurpose) != 0 || X509_REQ_add_extensions(req, exts) != 1)
		goto fail;
	rc = 0;
	goto out;
fail:
	err_set(e, "cannot add the extension request (subjectAltName, key usage) to the CSR "
	    "for %s", mail);
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
	return csr_make_smime(key, mail, alts, n_alts, false, out, e);
}

int
csr_make_smime(EVP_PKEY *key, const char *mail, const char *const *alts, size_t n_alts,
    bool multipurpose, X509_REQ **out, struct errbuf *e)
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
	if (add_ext_request(req, key, mail, alts, alts != NULL ? n_alts : 0, multipurpose, e) != 0)
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
