/* SPDX-License-Identifier: ISC */
/*
 * Certificate signing requests: the proof that whoever asks for a
 * certificate holds its private key. The CA decides the certificate's
 * content; the CSR's subject is informational only.
 */
#include "config.h"

#include <string.h>

#include <openssl/x509.h>

#include "common/strutil.h"
#include "smime/ca.h"
#include "smime/smime_internal.h"

int
csr_make(EVP_PKEY *key, const char *mail, X509_REQ **out, struct errbuf *e)
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
