/* SPDX-License-Identifier: ISC */
/*
 * A local CA's issuing key at work in this process (issuer.h): loading
 * and checking the [ca] files, and signing leaves and CRLs.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "common/fileutil.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "smime/ca_key.h"
#include "smime/cert.h"
#include "smime/issuer.h"
#include "smime/key.h"
#include "smime/smime_internal.h"

struct issuer {
	char *name;
	char *crl_url;
	char *aia_url;
	X509 *cert;            /* the issuing CA */
	struct ca_key *key;    /* its private key: a file or a token */
	STACK_OF(X509) *chain; /* issuing CA first, up to the root */
};

static int
need_file(const struct conf_ca *conf, const char *what, const char *path, struct errbuf *e)
{
	if (path == NULL) {
		err_set(e, "[ca %s]: %s is not set", conf->name, what);
		return -1;
	}
	if (!file_exists(path)) {
		err_set(e, "[ca %s]: %s %s does not exist; run \"smimesync ca init\" to create "
		    "the CA, or point %s at the existing file", conf->name, what, path, what);
		return -1;
	}
	return 0;
}

/* Is the issuing CA certificate fit to sign leaves right now? */
static int
check_ca_cert(const struct conf_ca *conf, X509 *cert, struct errbuf *e)
{
	uint32_t flags = X509_get_extension_flags(cert);

	if (X509_check_ca(cert) < 1 || (flags & EXFLAG_CA) == 0) {
		err_set(e, "%s: the certificate is not a CA (basicConstraints CA:TRUE missing); "
		    "cert_file must hold the issuing CA certificate", conf->cert_file);
		return -1;
	}
	if ((flags & EXFLAG_KUSAGE) == 0 || (X509_get_key_usage(cert) & KU_KEY_CERT_SIGN) == 0) {
		err_set(e, "%s: the CA certificate does not allow keyCertSign in its keyUsage",
		    conf->cert_file);
		return -1;
	}
	if (X509_cmp_current_time(X509_get0_notAfter(cert)) <= 0) {
		err_set(e, "%s: the CA certificate has expired; create a new CA (smimesync ca "
		    "init with new file names) and point cert_file at it", conf->cert_file);
		return -1;
	}
	if (X509_cmp_current_time(X509_get0_notBefore(cert)) >= 0) {
		err_set(e, "%s: the CA certificate is not valid yet; check the system clock",
		    conf->cert_file);
		return -1;
	}
	if (X509_get0_subject_key_id(cert) == NULL) {
		err_set(e, "%s: the CA certificate has no subjectKeyIdentifier, which leaves "
		    "need for their authorityKeyIdentifier", conf->cert_file);
		return -1;
	}
	return 0;
}

/*
 * Make is->chain: chain_file's certificates, with the issuing CA first
 * (added when chain_file starts above it), each issued by the next.
 */
static int
load_chain(const struct conf_ca *conf, struct issuer *is, struct errbuf *e)
{
	STACK_OF(X509) *sk = NULL;
	int n;

	if (conf->chain_file == NULL) {
		sk = sk_X509_new_null();
	} else if (need_file(conf, "chain_file", conf->chain_file, e) != 0 ||
	    cert_load_pem_file(conf->chain_file, &sk, e) != 0) {
		return -1;
	}
	if (sk == NULL)
		fatal("out of memory");
	/*
	 * Another certificate of the same issuing key (ca renew-issuing
	 * writes chain_file, then cert_file: a crash between the two leaves
	 * one of each) is replaced by cert_file's.
	 */
	while (sk_X509_num(sk) > 0 && X509_cmp(sk_X509_value(sk, 0), is->cert) != 0 &&
	    X509_NAME_cmp(X509_get_subject_name(sk_X509_value(sk, 0)),
	    X509_get_subject_name(is->cert)) == 0 &&
	    EVP_PKEY_eq(X509_get0_pubkey(sk_X509_value(sk, 0)), X509_get0_pubkey(is->cert)) == 1)
		X509_free(sk_X509_shift(sk));
	if (sk_X509_num(sk) == 0 || X509_cmp(sk_X509_value(sk, 0), is->cert) != 0) {
		if (X509_up_ref(is->cert) != 1 || sk_X509_insert(sk, is->cert, 0) == 0)
			fatal("out of memory");
	}
	is->chain = sk;
	n = sk_X509_num(sk);
	for (int i = 0; i + 1 < n; i++) {
		X509 *child = sk_X509_value(sk, i);
		X509 *parent = sk_X509_value(sk, i + 1);
		EVP_PKEY *ppub = X509_get0_pubkey(parent);

		if (X509_check_issued(parent, child) != X509_V_OK || ppub == NULL ||
		    X509_verify(child, ppub) != 1) {
			err_set(e, "%s: certificate %d of the chain is not issued by the one "
			    "after it; the file must list the issuing CA, then its issuer, up "
			    "to the root", conf->chain_file ? conf->chain_file : conf->cert_file,
			    i + 1);
			return -1;
		}
	}
	return 0;
}

int
issuer_open(const struct conf_ca *conf, struct issuer **out, struct errbuf *e)
{
	struct issuer *is = NULL;
	STACK_OF(X509) *certs = NULL;
	const char *key_ref = conf->key_uri != NULL ? conf->key_uri : conf->key_file;
	char *pin_path = NULL;
	int rc = -1;

	is = xcalloc(1, sizeof(*is));
	is->name = xstrdup(conf->name != NULL ? conf->name : "");
	if (need_file(conf, "cert_file", conf->cert_file, e) != 0 ||
	    (conf->key_uri == NULL && need_file(conf, "key_file", conf->key_file, e) != 0))
		goto out;
	if (cert_load_pem_file(conf->cert_file, &certs, e) != 0)
		goto out;
	is->cert = sk_X509_shift(certs);
	if (ca_key_pin_path(conf->pin_file, conf->pin_credential, &pin_path, e) != 0 ||
	    ca_key_load(key_ref, pin_path, &is->key, e) != 0) {
		err_prefix(e, "[ca %s] %s", is->name, conf->key_uri != NULL ? "key_uri" : "key_file");
		goto out;
	}
	if (X509_check_private_key(is->cert, ca_key_pkey(is->key)) != 1) {
		ERR_clear_error();
		err_set(e, "%s does not hold the private key of the certificate in %s; point "
		    "%s and cert_file at a matching pair", key_ref, conf->cert_file,
		    conf->key_uri != NULL ? "key_uri" : "key_file");
		goto out;
	}
	if (check_ca_cert(conf, is->cert, e) != 0)
		goto out;
	{
		const EVP_MD *md = NULL;

		if (smime_sign_digest(ca_key_pkey(is->key), &md, e) != 0) {
			err_prefix(e, "%s", key_ref);
			goto out;
		}
	}
	if (load_chain(conf, is, e) != 0)
		goto out;
	if (conf->crl_url != NULL && !smime_url_ok(conf->crl_url)) {
		err_set(e, "[ca %s]: crl_url \"%s\" must be an http:// URL (S/MIME BR allow "
		    "no other scheme)", is->name, conf->crl_url);
		goto out;
	}
	if (conf->aia_url != NULL && !smime_url_ok(conf->aia_url)) {
		err_set(e, "[ca %s]: aia_url \"%s\" must be an http:// URL (S/MIME BR allow "
		    "no other scheme)", is->name, conf->aia_url);
		goto out;
	}
	is->crl_url = xstrdup_or_null(conf->crl_url);
	is->aia_url = xstrdup_or_null(conf->aia_url);
	*out = is;
	is = NULL;
	rc = 0;
out:
	free(pin_path);
	sk_X509_pop_free(certs, X509_free);
	issuer_close(is);
	return rc;
}

void
issuer_close(struct issuer *is)
{
	if (is == NULL)
		return;
	free(is->name);
	free(is->crl_url);
	free(is->aia_url);
	X509_free(is->cert);
	ca_key_free(is->key);
	sk_X509_pop_free(is->chain, X509_free);
	free(is);
}

X509 *
issuer_cert(const struct issuer *is)
{
	return is->cert;
}

EVP_PKEY *
issuer_key(const struct issuer *is)
{
	return ca_key_pkey(is->key);
}

static int
sign_leaf_with(void *arg, EVP_PKEY *key, struct errbuf *e)
{
	return smime_sign_cert(arg, key, e);
}

struct crl_job {
	X509 *cert;
	const struct crl_entry *entries;
	size_t n;
	uint64_t number;
	time_t now;
	int64_t lifetime;
	unsigned char **der;
	size_t *len;
};

static int
sign_crl_with(void *arg, EVP_PKEY *key, struct errbuf *e)
{
	struct crl_job *j = arg;

	return crl_sign(j->cert, key, j->entries, j->n, j->number, j->now, j->lifetime, j->der,
	    j->len, e);
}

STACK_OF(X509) *
issuer_chain(const struct issuer *is)
{
	return is->chain;
}

static enum ca_outcome
finish(struct ca_result *out, enum ca_outcome o, const struct errbuf *e)
{
	if (o != CA_ISSUED)
		snprintf(out->reason, sizeof(out->reason), "%s", e->text);
	return o;
}

enum ca_outcome
issuer_sign_leaf(struct issuer *is, X509_REQ *csr, const struct ca_request *req,
    struct ca_result *out)
{
	struct errbuf e;
	struct leaf_params lp;
	X509 *leaf = NULL;
	EVP_PKEY *pub = NULL;
	time_t now;
	time_t not_before;
	time_t not_after;
	bool token_down = false;
	enum ca_outcome rc = CA_MISCONFIGURED;

	err_clear(&e);
	/*
	 * A leaf whose policy or EKU the issuing certificate does not carry
	 * would not validate for what it claims (explicit policy, clientAuth):
	 * refuse it with the fix rather than issue it.
	 */
	if (profile_issuer_allows(is->cert, req->profile, &e) != 0) {
		err_prefix(&e, "[ca %s]", is->name);
		snprintf(e.text + strlen(e.text), sizeof(e.text) - strlen(e.text), "; run "
		    "\"smimesync ca renew-issuing --ca %s --root-key FILE\" with the offline root "
		    "key to re-certify the issuing CA for every profile its groups use", is->name);
		goto out;
	}
	if (req->validity <= 0 || req->validity > SMIME_MAX_VALIDITY) {
		err_set(&e, "validity of %lld seconds is outside 1 second .. 825 days, the "
		    "S/MIME BR maximum", (long long)req->validity);
		rc = CA_REJECTED;
		goto out;
	}
	pub = X509_REQ_get0_pubkey(csr);
	if ((rc = profile_check_key(pub, &e)) != CA_ISSUED)
		goto out;
	/* Proof of possession: the CSR must be signed by its own key. */
	if (X509_REQ_verify(csr, pub) != 1) {
		ERR_clear_error();
		err_set(&e, "the CSR signature does not verify: no proof of possession of the "
		    "private key");
		rc = CA_REJECTED;
		goto out;
	}
	rc = CA_MISCONFIGURED;

	now = req->now != 0 ? req->now : time(NULL);
	not_before = now - SMIME_BACKDATE;
	not_after = now + (time_t)req->validity;
	/*
	 * SBR 6.3.2 counts notBefore..notAfter inclusively, backdating
	 * included: keep a request for the maximum within it.
	 */
	if ((int64_t)(not_after - not_before) + 1 > SMIME_MAX_VALIDITY)
		not_after = not_before + (time_t)SMIME_MAX_VALIDITY - 1;
	/* No certificate outlives the CA that vouches for it (RFC 5280 6.1.3). */
	{
		struct tm tm;

		memset(&tm, 0, sizeof(tm));
		if (ASN1_TIME_to_tm(X509_get0_notAfter(is->cert), &tm) == 1 &&
		    not_after > timegm(&tm))
			not_after = timegm(&tm);
	}

	leaf = X509_new();
	if (leaf == NULL || X509_set_version(leaf, X509_VERSION_3) != 1 ||
	    X509_set_issuer_name(leaf, X509_get_subject_name(is->cert)) != 1 ||
	    X509_set_pubkey(leaf, pub) != 1) {
		err_set(&e, "cannot build the certificate");
		err_add_openssl(&e);
		goto out;
	}
	if (smime_set_random_serial(leaf, &e) != 0 ||
	    smime_set_validity(leaf, not_before, not_after, &e) != 0)
		goto out;
	lp.mail = req->mail;
	lp.alt_mails = req->alt_mails;
	lp.n_alt_mails = req->alt_mails != NULL ? req->n_alt_mails : 0;
	lp.crl_url = is->crl_url;
	lp.aia_url = is->aia_url;
	lp.profile = req->profile;
	lp.organization = req->organization;
	lp.organization_identifier = req->organization_identifier;
	lp.country = req->country;
	if ((rc = profile_leaf(leaf, is->cert, &lp, &e)) != CA_ISSUED)
		goto out;
	rc = CA_MISCONFIGURED;
	if (ca_key_use(is->key, sign_leaf_with, leaf, &token_down, &e) != 0) {
		/* A token that is gone for now is an unreachable CA: the next run tries again. */
		if (token_down)
			rc = CA_UNREACHABLE;
		err_prefix(&e, "[ca %s]", is->name);
		goto out;
	}
	out->chain = X509_chain_up_ref(is->chain);
	if (out->chain == NULL)
		fatal("out of memory");
	out->cert = leaf;
	leaf = NULL;
	rc = CA_ISSUED;
out:
	X509_free(leaf);
	return finish(out, rc, &e);
}

int
issuer_sign_crl(struct issuer *is, const struct crl_entry *entries, size_t n, uint64_t number,
    time_t now, int64_t lifetime, unsigned char **der, size_t *len, struct errbuf *e)
{
	struct crl_job j = { is->cert, entries, n, number, now, lifetime, der, len };

	if (ca_key_use(is->key, sign_crl_with, &j, NULL, e) != 0) {
		err_prefix(e, "[ca %s]", is->name);
		return -1;
	}
	return 0;
}
