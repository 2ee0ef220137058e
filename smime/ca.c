/* SPDX-License-Identifier: ISC */
/*
 * The CA dispatcher: one struct ca for every [ca] type, forwarding to the
 * backend of that type (ca_local.c, ca_cfssl.c, ca_ejbca.c, ca_sectigo.c,
 * ca_helper.c). Everything an external CA hands back passes through
 * ca_verify_issued() here, so no connector can skip the checks.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "common/log.h"
#include "common/xalloc.h"
#include "smime/ca.h"
#include "smime/ca_backend.h"
#include "smime/cert.h"
#include "smime/smime_internal.h"

struct ca {
	char *name;
	enum ca_type type;
	const struct ca_backend *be;
	void *state;
	STACK_OF(X509) *chain_file; /* external: chain_file's certificates (maybe empty) */
	X509_STORE *anchors;        /* external: trust_anchor_file */
};

/* Index = enum ca_type. */
static const struct ca_backend *const backends[] = {
	[CA_TYPE_LOCAL] = &ca_local_backend,
	[CA_TYPE_CFSSL] = &ca_cfssl_backend,
	[CA_TYPE_EJBCA] = &ca_ejbca_backend,
	[CA_TYPE_SECTIGO] = &ca_sectigo_backend,
	[CA_TYPE_HELPER] = &ca_helper_backend,
};

/* The trust anchors: every certificate in the file, each a root we accept. */
static int
load_anchors(const struct conf_ca *conf, X509_STORE **out, struct errbuf *e)
{
	STACK_OF(X509) *certs = NULL;
	X509_STORE *st = NULL;
	int rc = -1;

	if (conf->trust_anchor_file == NULL) {
		err_set(e, "[ca %s]: trust_anchor_file is not set; point it at the root "
		    "certificate(s) of the CA", conf->name);
		return -1;
	}
	if (cert_load_pem_file(conf->trust_anchor_file, &certs, e) != 0) {
		err_prefix(e, "[ca %s] trust_anchor_file", conf->name);
		return -1;
	}
	if (sk_X509_num(certs) == 0) {
		err_set(e, "[ca %s] trust_anchor_file %s holds no certificate", conf->name,
		    conf->trust_anchor_file);
		goto out;
	}
	if ((st = X509_STORE_new()) == NULL)
		fatal("out of memory");
	for (int i = 0; i < sk_X509_num(certs); i++)
		if (X509_STORE_add_cert(st, sk_X509_value(certs, i)) != 1)
			ERR_clear_error(); /* a duplicate: harmless */
	*out = st;
	st = NULL;
	rc = 0;
out:
	X509_STORE_free(st);
	sk_X509_pop_free(certs, X509_free);
	return rc;
}

int
ca_open(const struct conf_ca *conf, struct signer *signer, struct ca **out, struct errbuf *e)
{
	struct ca *ca = NULL;
	int rc = -1;

	if ((size_t)conf->type >= ARRAY_LEN(backends) || backends[conf->type] == NULL) {
		err_set(e, "[ca %s]: unknown type", conf->name);
		return -1;
	}
	ca = xcalloc(1, sizeof(*ca));
	ca->name = xstrdup(conf->name != NULL ? conf->name : "");
	ca->type = conf->type;
	ca->be = backends[conf->type];
	if (conf->type != CA_TYPE_LOCAL) {
		if (load_anchors(conf, &ca->anchors, e) != 0)
			goto out;
		if (conf->chain_file == NULL)
			ca->chain_file = sk_X509_new_null();
		else if (cert_load_pem_file(conf->chain_file, &ca->chain_file, e) != 0) {
			err_prefix(e, "[ca %s] chain_file", conf->name);
			goto out;
		}
		if (ca->chain_file == NULL)
			fatal("out of memory");
		if (conf->type != CA_TYPE_HELPER && !conf->tls_verify)
			log_warn("[ca %s]: tls_verify = no: the CA server's identity is NOT checked; "
			    "anyone on the network path can answer in its name", conf->name);
	}
	if (ca->be->open(conf, signer, &ca->state, e) != 0)
		goto out;
	*out = ca;
	ca = NULL;
	rc = 0;
out:
	ca_close(ca);
	return rc;
}

void
ca_close(struct ca *ca)
{
	if (ca == NULL)
		return;
	if (ca->state != NULL)
		ca->be->close(ca->state);
	sk_X509_pop_free(ca->chain_file, X509_free);
	X509_STORE_free(ca->anchors);
	free(ca->name);
	free(ca);
}

const char *
ca_name(const struct ca *ca)
{
	return ca->name;
}

enum ca_type
ca_type(const struct ca *ca)
{
	return ca->type;
}

STACK_OF(X509) *
ca_chain(struct ca *ca)
{
	STACK_OF(X509) *own = ca->be->chain != NULL ? ca->be->chain(ca->state) : NULL;

	return own != NULL ? own : ca->chain_file;
}

X509 *
ca_issuer_cert(struct ca *ca)
{
	return ca->type == CA_TYPE_LOCAL ? ca_local_issuer_cert(ca->state) : NULL;
}

EVP_PKEY *
ca_issuer_key(struct ca *ca)
{
	return ca->type == CA_TYPE_LOCAL ? ca_local_issuer_key(ca->state) : NULL;
}

int
ca_make_crl(struct ca *ca, uint64_t number_floor, int64_t lifetime, struct ca_crl *out,
    struct errbuf *e)
{
	memset(out, 0, sizeof(*out));
	if (ca->be->make_crl == NULL) {
		err_set(e, "only the local CA signs CRLs here; an external CA publishes its own");
		return -1;
	}
	return ca->be->make_crl(ca->state, number_floor, lifetime, out, e);
}

/* An external CA's ISSUED stands only if the certificate is what we asked for. */
static enum ca_outcome
checked(struct ca *ca, X509_REQ *csr, const struct ca_request *req, enum ca_outcome o,
    struct ca_result *out)
{
	struct errbuf e;

	if (o == CA_PENDING && (out->cookie == NULL || out->cookie[0] == '\0'))
		return ca_fail(out, CA_MISCONFIGURED, "the CA said the request is pending but "
		    "gave no reference to ask about it later");
	if (o != CA_ISSUED || ca->type == CA_TYPE_LOCAL)
		return o;
	err_clear(&e);
	if (out->cert == NULL)
		return ca_fail(out, CA_REJECTED, "the CA said issued but sent no certificate");
	if (ca_verify_issued(ca->anchors, ca->chain_file, csr, req, out, &e) != 0) {
		/* Issued, but not what we asked for: kept to be recorded and revoked (I3). */
		out->refused = out->cert;
		out->cert = NULL;
		sk_X509_pop_free(out->chain, X509_free);
		out->chain = NULL;
		return ca_fail(out, CA_REJECTED, "refusing what the CA issued: %s", e.text);
	}
	return CA_ISSUED;
}

enum ca_outcome
ca_submit(struct ca *ca, X509_REQ *csr, const struct ca_request *req, struct ca_result *out)
{
	memset(out, 0, sizeof(*out));
	return checked(ca, csr, req, ca->be->submit(ca->state, csr, req, out), out);
}

enum ca_outcome
ca_poll(struct ca *ca, X509_REQ *csr, const struct ca_request *req, const char *cookie,
    struct ca_result *out)
{
	memset(out, 0, sizeof(*out));
	/* Callers poll only the CA that gave the cookie, which can pend. */
	if (ca->be->poll == NULL)
		return ca_fail(out, CA_MISCONFIGURED, "[ca %s] never answers \"pending\", so it "
		    "cannot be asked about a pending request", ca->name);
	return checked(ca, csr, req, ca->be->poll(ca->state, csr, req, cookie, out), out);
}

bool
ca_can_lookup(const struct ca *ca)
{
	return ca->be->lookup != NULL;
}

bool
ca_can_revoke(const struct ca *ca)
{
	return ca->be->revoke != NULL;
}

enum ca_outcome
ca_lookup(struct ca *ca, X509_REQ *csr, const struct ca_request *req, struct ca_result *out)
{
	memset(out, 0, sizeof(*out));
	if (ca->be->lookup == NULL)
		return ca_fail(out, CA_MISCONFIGURED, "[ca %s] offers no way to look up a request",
		    ca->name);
	return checked(ca, csr, req, ca->be->lookup(ca->state, csr, req, out), out);
}

int
ca_revoke(struct ca *ca, X509 *cert, int reason, struct ca_result *out)
{
	memset(out, 0, sizeof(*out));
	if (ca->be->revoke == NULL) {
		(void)ca_fail(out, CA_MISCONFIGURED, "[ca %s] offers no revocation call", ca->name);
		return -1;
	}
	return ca->be->revoke(ca->state, cert, reason, out);
}
