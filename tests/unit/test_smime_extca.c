/* SPDX-License-Identifier: ISC */
/*
 * What every external CA's answer goes through (smime/ca_verify.c,
 * smime/ca_rest.c): reading certificates in each encoding a CA may use,
 * picking the leaf by the request's key, and the checks before an issued
 * certificate counts: the request's key, exactly the requested addresses,
 * emailProtection, a chain to the trust anchors. The certificates come
 * from a local CA made for the test, so each check is seen failing alone.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509v3.h>

#include "common/xalloc.h"
#include "smime/ca.h"
#include "smime/ca_backend.h"
#include "smime/cert.h"
#include "smime/key.h"
#include "tests/unit/check.h"

#define DAY 86400

struct fixture {
	char *dir;
	struct conf_ca conf;
	struct ca *ca;
	X509_STORE *anchors;
};

static void
setup(struct fixture *f)
{
	char tmpl[] = "/tmp/smime-extca-test-XXXXXX";
	STACK_OF(X509) *chain = NULL;
	struct ca_init_params init = { 0 };
	char *root_key = NULL;
	int rc;
	struct errbuf e;

	memset(f, 0, sizeof(*f));
	if (mkdtemp(tmpl) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	f->dir = xstrdup(tmpl);
	f->conf.name = "test";
	f->conf.type = CA_TYPE_LOCAL;
	f->conf.cert_file = xasprintf("%s/issuing.pem", f->dir);
	f->conf.key_file = xasprintf("%s/issuing.key", f->dir);
	f->conf.chain_file = xasprintf("%s/chain.pem", f->dir);
	f->conf.crl_url = "http://pki.example.org/test.crl";
	f->conf.init_key_type = KEY_TYPE_P256;
	f->conf.organization = "Example";
	f->conf.root_validity = 3650 * (int64_t)DAY;
	f->conf.issuing_validity = 1825 * (int64_t)DAY;
	init.root_key_out = root_key = xasprintf("%s-root.key", f->dir);
	init.profiles = CERT_PROFILE_BIT(PROFILE_MAILBOX_STRICT);
	rc = ca_init(&f->conf, &init, &e);
	(void)unlink(root_key); /* not needed here, and outside f->dir */
	free(root_key);
	if (rc != 0 || ca_open(&f->conf, NULL, &f->ca, &e) != 0) {
		fprintf(stderr, "test CA: %s\n", e.text);
		exit(1);
	}
	/* The anchor: the root, the last certificate of chain_file. */
	if (cert_load_pem_file(f->conf.chain_file, &chain, &e) != 0) {
		fprintf(stderr, "%s\n", e.text);
		exit(1);
	}
	f->anchors = X509_STORE_new();
	X509_STORE_add_cert(f->anchors, sk_X509_value(chain, sk_X509_num(chain) - 1));
	sk_X509_pop_free(chain, X509_free);
}

static void
teardown(struct fixture *f)
{
	char *cmd = xasprintf("rm -rf '%s'", f->dir);

	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", f->dir);
	free(cmd);
	ca_close(f->ca);
	X509_STORE_free(f->anchors);
	free(f->conf.cert_file);
	free(f->conf.key_file);
	free(f->conf.chain_file);
	free(f->dir);
}

/* A certificate from the test CA for key, with these addresses; the chain the CA gives. */
static void
issue(struct fixture *f, EVP_PKEY *key, const char *mail, const char *const *alts, size_t n,
    X509_REQ **csr, struct ca_result *r)
{
	struct ca_request req;
	struct errbuf e;

	memset(&req, 0, sizeof(req));
	req.mail = mail;
	req.alt_mails = alts;
	req.n_alt_mails = n;
	req.validity = 365 * DAY;
	if (csr_make_sans(key, mail, alts, n, csr, &e) != 0 ||
	    ca_submit(f->ca, *csr, &req, r) != CA_ISSUED) {
		fprintf(stderr, "issue %s: %s %s\n", mail, e.text, r->reason);
		exit(1);
	}
}

static char *
pem_of(STACK_OF(X509) *certs, size_t *len)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p = NULL, *copy;

	for (int i = 0; i < sk_X509_num(certs); i++)
		PEM_write_bio_X509(b, sk_X509_value(certs, i));
	*len = (size_t)BIO_get_mem_data(b, &p);
	copy = xmemdup(p, *len);
	BIO_free(b);
	return copy;
}

static void
test_parse(struct fixture *f)
{
	EVP_PKEY *key = NULL;
	X509_REQ *csr = NULL;
	struct ca_result r = { 0 }, picked = { 0 };
	STACK_OF(X509) *all = NULL, *got = NULL;
	unsigned char *der = NULL;
	size_t len = 0, dlen = 0;
	char *pem;
	struct errbuf e;

	CHECK_INTEQ(key_generate(KEY_TYPE_P256, &key, &e), 0);
	issue(f, key, "ada@example.org", NULL, 0, &csr, &r);
	/* The chain first, the leaf last: the leaf is found by its key, not its place. */
	all = X509_chain_up_ref(r.chain);
	X509_up_ref(r.cert);
	sk_X509_push(all, r.cert);
	pem = pem_of(all, &len);
	CHECK_INTEQ(ca_parse_certs(pem, len, &got, &e), 0);
	CHECK_INTEQ(sk_X509_num(got), 3);
	CHECK_INTEQ(ca_take_issued(got, csr, "test", &picked), CA_ISSUED);
	CHECK(picked.cert != NULL && X509_cmp(picked.cert, r.cert) == 0);
	CHECK_INTEQ(sk_X509_num(picked.chain), 2);
	ca_result_clear(&picked);
	free(pem);

	/* PKCS#7 certs-only, DER; and one DER certificate. */
	CHECK_INTEQ(cert_pkcs7_certs_only(r.cert, r.chain, &der, &dlen, &e), 0);
	CHECK_INTEQ(ca_parse_certs(der, dlen, &got, &e), 0);
	CHECK_INTEQ(sk_X509_num(got), 3);
	sk_X509_pop_free(got, X509_free);
	free(der);
	der = NULL;
	CHECK_INTEQ(cert_to_der(r.cert, &der, &dlen, &e), 0);
	CHECK_INTEQ(ca_parse_certs(der, dlen, &got, &e), 0);
	CHECK_INTEQ(sk_X509_num(got), 1);
	sk_X509_pop_free(got, X509_free);
	free(der);

	/* Nothing readable, and a chain without the request's key. */
	CHECK(ca_parse_certs("not a certificate", 17, &got, &e) != 0);
	CHECK_CONTAINS(e.text, "no certificate could be read from the CA's answer (17 bytes)");
	got = X509_chain_up_ref(r.chain);
	CHECK_INTEQ(ca_take_issued(got, csr, "test", &picked), CA_REJECTED);
	CHECK_CONTAINS(picked.reason, "none of the certificates the CA sent is for the key");
	ca_result_clear(&picked);

	sk_X509_pop_free(all, X509_free);
	ca_result_clear(&r);
	X509_REQ_free(csr);
	EVP_PKEY_free(key);
}

/* Verify r (a copy, since verification replaces the chain) as answer to (mail, alts). */
static int
verify(struct fixture *f, X509_REQ *csr, const struct ca_result *r, const char *mail,
    const char *const *alts, size_t n, struct errbuf *e)
{
	struct ca_request req;
	struct ca_result copy = { 0 };
	int rc;

	memset(&req, 0, sizeof(req));
	req.mail = mail;
	req.alt_mails = alts;
	req.n_alt_mails = n;
	X509_up_ref(r->cert);
	copy.cert = r->cert;
	copy.chain = X509_chain_up_ref(r->chain);
	err_clear(e);
	rc = ca_verify_issued(f->anchors, NULL, csr, &req, &copy, e);
	if (rc == 0) {
		/* The verified path: issuing CA first, the anchor last. */
		CHECK_INTEQ(sk_X509_num(copy.chain), 2);
	}
	ca_result_clear(&copy);
	return rc;
}

static void
test_verify(struct fixture *f)
{
	static const char *const alts[] = { "a.lovelace@example.org" };
	static const char *const other_alt[] = { "someone@example.org" };
	EVP_PKEY *key = NULL, *other = NULL;
	X509_REQ *csr = NULL, *other_csr = NULL;
	struct ca_result r = { 0 }, r2 = { 0 };
	struct errbuf e;
	X509_STORE *empty = X509_STORE_new();
	struct ca_request req;

	CHECK_INTEQ(key_generate(KEY_TYPE_P256, &key, &e), 0);
	CHECK_INTEQ(key_generate(KEY_TYPE_P256, &other, &e), 0);
	issue(f, key, "ada@example.org", alts, 1, &csr, &r);

	CHECK_INTEQ(verify(f, csr, &r, "ada@example.org", alts, 1, &e), 0);
	/* Asked for ada and her alternative, given the same: addresses compare without case. */
	CHECK_INTEQ(verify(f, csr, &r, "ADA@example.org", alts, 1, &e), 0);
	/* An address that was not requested. */
	CHECK(verify(f, csr, &r, "ada@example.org", NULL, 0, &e) != 0);
	CHECK_CONTAINS(e.text, "holds a.lovelace@example.org, which was not requested");
	/* A requested address that is missing. */
	CHECK(verify(f, csr, &r, "ada@example.org", other_alt, 1, &e) != 0);
	CHECK_CONTAINS(e.text, "which was not requested");
	issue(f, other, "alan@example.org", NULL, 0, &other_csr, &r2);
	{
		static const char *const two[] = { "alan.t@example.org" };

		CHECK(verify(f, other_csr, &r2, "alan@example.org", two, 1, &e) != 0);
		CHECK_CONTAINS(e.text, "lacks the requested address alan.t@example.org");
	}
	/* Another key than the request's. */
	CHECK(verify(f, other_csr, &r, "ada@example.org", alts, 1, &e) != 0);
	CHECK_CONTAINS(e.text, "for a different public key than the request's");
	/* No trust anchor it chains to. */
	{
		struct ca_result copy = { 0 };

		memset(&req, 0, sizeof(req));
		req.mail = "ada@example.org";
		req.alt_mails = alts;
		req.n_alt_mails = 1;
		X509_up_ref(r.cert);
		copy.cert = r.cert;
		copy.chain = X509_chain_up_ref(r.chain);
		CHECK(ca_verify_issued(empty, NULL, csr, &req, &copy, &e) != 0);
		CHECK_CONTAINS(e.text, "its chain does not verify against trust_anchor_file");
		ca_result_clear(&copy);
		/* The intermediates from chain_file (extra) make up for a CA that sends none. */
		copy.cert = r.cert;
		X509_up_ref(r.cert);
		copy.chain = NULL;
		CHECK_INTEQ(ca_verify_issued(f->anchors, r.chain, csr, &req, &copy, &e), 0);
		ca_result_clear(&copy);
	}
	X509_STORE_free(empty);
	ca_result_clear(&r);
	ca_result_clear(&r2);
	X509_REQ_free(csr);
	X509_REQ_free(other_csr);
	EVP_PKEY_free(key);
	EVP_PKEY_free(other);
}

int
main(void)
{
	struct fixture f;

	setup(&f);
	test_parse(&f);
	test_verify(&f);
	teardown(&f);
	return check_finish();
}
