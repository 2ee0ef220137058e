/* SPDX-License-Identifier: ISC */
/*
 * Is what an external CA issued what we asked for, and does it chain to
 * a root we trust? Nothing from outside is stored, published or mailed
 * before this says yes: a CA that puts a foreign address in the SAN, a
 * different key, or no S/MIME usage, or that signs from a hierarchy the
 * admin did not choose, is refused and the reason reported.
 */
#include "config.h"

#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "common/log.h"
#include "smime/ca_backend.h"

/*
 * Addresses compare without regard to case, as everywhere in smimesync: a
 * CA that lower-cases "Ada.Lovelace@" still names the same mailbox.
 */
static bool
same_addr(const char *want, const char *addr, size_t len)
{
	return strlen(want) == len && strncasecmp(want, addr, len) == 0;
}

static bool
requested(const struct ca_request *req, const char *addr, size_t len)
{
	if (same_addr(req->mail, addr, len))
		return true;
	for (size_t i = 0; req->alt_mails != NULL && i < req->n_alt_mails; i++)
		if (same_addr(req->alt_mails[i], addr, len))
			return true;
	return false;
}

/* Does the SAN name want? */
static bool
san_has(const GENERAL_NAMES *gens, const char *want)
{
	for (int i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);

		if (g->type == GEN_EMAIL && same_addr(want,
		    (const char *)ASN1_STRING_get0_data(g->d.rfc822Name),
		    (size_t)ASN1_STRING_length(g->d.rfc822Name)))
			return true;
	}
	return false;
}

/* The SAN must name every requested address and nothing else. */
static int
check_san(X509 *cert, const struct ca_request *req, struct errbuf *e)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	int rc = -1;

	if (gens == NULL) {
		err_set(e, "the certificate has no subjectAltName, so mail clients cannot match "
		    "it to %s", req->mail);
		goto out;
	}
	for (int i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		const unsigned char *d;
		int n;

		if (g->type != GEN_EMAIL)
			continue;
		d = ASN1_STRING_get0_data(g->d.rfc822Name);
		n = ASN1_STRING_length(g->d.rfc822Name);
		if (!requested(req, (const char *)d, (size_t)n)) {
			err_set(e, "its subjectAltName holds %.*s, which was not requested (the "
			    "directory vouches only for %s%s)", n, (const char *)d, req->mail,
			    req->n_alt_mails > 0 ? " and its alternative addresses" : "");
			goto out;
		}
	}
	if (!san_has(gens, req->mail)) {
		err_set(e, "its subjectAltName lacks the requested address %s", req->mail);
		goto out;
	}
	for (size_t i = 0; req->alt_mails != NULL && i < req->n_alt_mails; i++) {
		if (!san_has(gens, req->alt_mails[i])) {
			err_set(e, "its subjectAltName lacks the requested address %s",
			    req->alt_mails[i]);
			goto out;
		}
	}
	rc = 0;
out:
	GENERAL_NAMES_free(gens);
	return rc;
}

static const char *
verify_hint(int err)
{
	switch (err) {
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
		return "; the CA sent no path to trust_anchor_file (add the intermediates to "
		    "chain_file, or check that trust_anchor_file holds this CA's root)";
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
		return "; the chain ends in a root that is not in trust_anchor_file";
	case X509_V_ERR_CERT_NOT_YET_VALID:
	case X509_V_ERR_CERT_HAS_EXPIRED:
		return "; check this machine's clock and the CA's";
	default:
		return "";
	}
}

/* How far ahead of ours a CA's clock may run. */
#define CLOCK_SKEW 600

/* Verify cert at time at (0: now); on success *path is the chain (new). */
static int
verify_at(X509_STORE *anchors, X509 *cert, STACK_OF(X509) *untrusted, time_t at,
    STACK_OF(X509) **path, int *err)
{
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int rc = -1;

	if (ctx == NULL || X509_STORE_CTX_init(ctx, anchors, cert, untrusted) != 1)
		fatal("out of memory");
	if (at != 0)
		X509_STORE_CTX_set_time(ctx, 0, at);
	if (X509_verify_cert(ctx) == 1) {
		if ((*path = X509_STORE_CTX_get1_chain(ctx)) == NULL)
			fatal("out of memory");
		rc = 0;
	} else {
		*err = X509_STORE_CTX_get_error(ctx);
	}
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	return rc;
}

int
ca_verify_issued(X509_STORE *anchors, STACK_OF(X509) *extra, X509_REQ *csr,
    const struct ca_request *req, struct ca_result *out, struct errbuf *e)
{
	STACK_OF(X509) *untrusted = NULL, *path = NULL;
	EVP_PKEY *want = X509_REQ_get0_pubkey(csr);
	X509 *cert = out->cert;
	int err = X509_V_OK;
	int rc = -1;

	if (want == NULL || EVP_PKEY_eq(X509_get0_pubkey(cert), want) != 1) {
		ERR_clear_error();
		err_set(e, "the certificate is for a different public key than the request's");
		return -1;
	}
	if ((X509_get_extension_flags(cert) & EXFLAG_XKUSAGE) == 0 ||
	    (X509_get_extended_key_usage(cert) & XKU_SMIME) == 0) {
		err_set(e, "its extendedKeyUsage does not allow emailProtection, so mail clients "
		    "would refuse it for S/MIME; check the certificate profile at the CA");
		return -1;
	}
	if (check_san(cert, req, e) != 0)
		return -1;

	/* The chain the CA sent, then chain_file: intermediates, never anchors. */
	if ((untrusted = sk_X509_new_null()) == NULL)
		fatal("out of memory");
	for (int pass = 0; pass < 2; pass++) {
		STACK_OF(X509) *src = pass == 0 ? out->chain : extra;

		for (int i = 0; src != NULL && i < sk_X509_num(src); i++)
			if (!X509_add_cert(untrusted, sk_X509_value(src, i), X509_ADD_FLAG_UP_REF))
				fatal("out of memory");
	}
	/*
	 * At the present time (not the run's start: the CA signed just now). A
	 * CA whose clock runs a little ahead, notBefore up to CLOCK_SKEW in our
	 * future, is checked at its notBefore rather than refused.
	 */
	if (verify_at(anchors, cert, untrusted, 0, &path, &err) != 0) {
		time_t soon = time(NULL) + CLOCK_SKEW;

		if (err != X509_V_ERR_CERT_NOT_YET_VALID ||
		    X509_cmp_time(X509_get0_notBefore(cert), &soon) > 0 ||
		    verify_at(anchors, cert, untrusted, soon, &path, &err) != 0) {
			err_set(e, "its chain does not verify against trust_anchor_file: %s%s",
			    X509_verify_cert_error_string(err), verify_hint(err));
			goto out;
		}
	}
	/* The verified path without the leaf: issuing CA first, the anchor last. */
	X509_free(sk_X509_shift(path));
	sk_X509_pop_free(out->chain, X509_free);
	out->chain = path;
	rc = 0;
out:
	sk_X509_pop_free(untrusted, X509_free);
	return rc;
}
