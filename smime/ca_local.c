/* SPDX-License-Identifier: ISC */
/*
 * The local CA behind the CA interface (ca_backend.h). Its issuing key is
 * wherever the caller of ca_open() said:
 *
 *   - in the signer process passed as signer (signer.h): this side then
 *     holds only the public chain, and every signature is a request to
 *     the signer (signer_internal.h);
 *   - with no signer, in this process (issuer.h): the files are read and
 *     checked here. Only unit tests do this.
 */
#include "config.h"

#include <stdlib.h>

#include "common/fileutil.h"
#include "common/xalloc.h"
#include "smime/ca_backend.h"
#include "smime/cert.h"
#include "smime/issuer.h"
#include "smime/signer_internal.h"

struct ca_local {
	char *name;
	char *id;              /* the CA's name on the signer's wire: its key identifier */
	struct signer *signer; /* borrowed: it holds the key; NULL when issuer does */
	struct issuer *issuer; /* the key in this process, without a signer */
	STACK_OF(X509) *chain; /* the signer's copy of the public chain */
};

static void local_close(void *state);

/*
 * The key identifier of conf's issuing certificate: the signer knows its
 * CAs by that, so renaming the [ca] section changes nothing there.
 */
static int
local_id(const struct conf_ca *conf, char **id, struct errbuf *e)
{
	STACK_OF(X509) *certs = NULL;
	int rc = -1;

	if (conf->cert_file == NULL) {
		err_set(e, "[ca %s]: cert_file is not set", conf->name);
		return -1;
	}
	if (!file_exists(conf->cert_file)) {
		err_set(e, "[ca %s]: cert_file %s does not exist; run \"smimesync ca init\" to "
		    "create the CA, or point cert_file at the existing file", conf->name,
		    conf->cert_file);
		return -1;
	}
	if (cert_load_pem_file(conf->cert_file, &certs, e) != 0)
		return -1;
	*id = signer_ca_id(sk_X509_value(certs, 0));
	if (*id == NULL)
		err_set(e, "%s: the CA certificate has no subjectKeyIdentifier, which leaves need "
		    "for their authorityKeyIdentifier", conf->cert_file);
	else
		rc = 0;
	sk_X509_pop_free(certs, X509_free);
	return rc;
}

static int
local_open(const struct conf_ca *conf, struct signer *signer, void **out,
    struct errbuf *e)
{
	struct ca_local *lc = xcalloc(1, sizeof(*lc));
	int rc = -1;

	lc->name = xstrdup(conf->name != NULL ? conf->name : "");
	lc->signer = signer;
	if (signer != NULL) {
		if (local_id(conf, &lc->id, e) != 0 ||
		    signer_ca_chain(signer, lc->id, &lc->chain, e) != 0)
			goto out;
	} else if (issuer_open(conf, &lc->issuer, e) != 0) {
		goto out;
	}
	*out = lc;
	lc = NULL;
	rc = 0;
out:
	local_close(lc);
	return rc;
}

static void
local_close(void *state)
{
	struct ca_local *lc = state;

	if (lc == NULL)
		return;
	issuer_close(lc->issuer);
	sk_X509_pop_free(lc->chain, X509_free);
	free(lc->name);
	free(lc->id);
	free(lc);
}

static STACK_OF(X509) *
local_chain(void *state)
{
	struct ca_local *lc = state;

	return lc->signer != NULL ? lc->chain : issuer_chain(lc->issuer);
}

X509 *
ca_local_issuer_cert(void *state)
{
	struct ca_local *lc = state;

	return lc->signer != NULL ? sk_X509_value(lc->chain, 0) : issuer_cert(lc->issuer);
}

EVP_PKEY *
ca_local_issuer_key(void *state)
{
	struct ca_local *lc = state;

	return lc->signer != NULL ? NULL : issuer_key(lc->issuer);
}

static enum ca_outcome
local_submit(void *state, X509_REQ *csr, const struct ca_request *req, struct ca_result *out)
{
	struct ca_local *lc = state;

	if (lc->signer != NULL)
		return signer_sign_cert(lc->signer, lc->id, csr, req, lc->chain, out);
	return issuer_sign_leaf(lc->issuer, csr, req, out);
}

static int
local_make_crl(void *state, uint64_t number_floor, int64_t lifetime, struct ca_crl *out,
    struct errbuf *e)
{
	struct ca_local *lc = state;

	if (lc->signer == NULL) {
		err_set(e, "[ca %s]: CRLs are signed by the signer, which keeps the revocation "
		    "list", lc->name);
		return -1;
	}
	return signer_sign_crl(lc->signer, lc->id, number_floor, lifetime, &out->number,
	    &out->entries, &out->der, &out->len, e);
}

/* The local CA signs at once: it never answers PENDING, so it has no poll. */
const struct ca_backend ca_local_backend = {
	.open = local_open,
	.submit = local_submit,
	.poll = NULL,
	.chain = local_chain,
	.make_crl = local_make_crl,
	.close = local_close,
};
