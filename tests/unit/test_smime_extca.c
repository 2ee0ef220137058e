/* SPDX-License-Identifier: ISC */
/*
 * What every external CA's answer goes through (smime/ca_verify.c,
 * smime/ca_rest.c): reading certificates in each encoding a CA may use,
 * picking the leaf by the request's key, and the checks before an issued
 * certificate counts: the request's key, exactly the requested addresses,
 * emailProtection, a chain to the trust anchors; and, in certificates
 * crafted as a wrong CA profile would make them, nothing else a wrong one
 * could carry (UPN/DNS/URI/IP/directoryName SANs, key usages beyond the
 * key type, CA:TRUE, a long validity, extra EKUs, another profile's
 * policy). The certificates come from a local CA made for the test, so
 * each check is seen failing alone.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/conf.h>
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
	X509 *issuing;        /* the issuing CA, and its key: to craft certificates */
	EVP_PKEY *issuing_key;
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
	if (cert_load_pem_file(f->conf.cert_file, &chain, &e) != 0 ||
	    key_load_pem_file(f->conf.key_file, &f->issuing_key, &e) != 0) {
		fprintf(stderr, "%s\n", e.text);
		exit(1);
	}
	f->issuing = sk_X509_shift(chain);
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
	X509_free(f->issuing);
	EVP_PKEY_free(f->issuing_key);
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

/* x signed by the test CA's issuing key, through DER so no cached state survives (new). */
static X509 *
resign(struct fixture *f, X509 *x)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	X509 *fresh;
	int len;

	if (X509_sign(x, f->issuing_key, EVP_sha256()) <= 0) {
		fprintf(stderr, "craft: cannot sign\n");
		exit(1);
	}
	len = i2d_X509(x, &der);
	p = der;
	fresh = d2i_X509(NULL, &p, len);
	OPENSSL_free(der);
	if (fresh == NULL) {
		fprintf(stderr, "craft: cannot read back what was signed\n");
		exit(1);
	}
	return fresh;
}

/*
 * A copy of base with extension nid set to value (OpenSSL's config syntax;
 * NULL removes it) and notAfter moved to days after notBefore (0: kept),
 * signed again by the test CA's issuing key (new).
 */
static X509 *
craft(struct fixture *f, X509 *base, int nid, const char *value, int days)
{
	X509 *x = X509_dup(base);
	X509 *fresh = NULL;
	X509V3_CTX ctx;
	CONF *conf = NCONF_new(NULL); /* empty: some extensions want one to exist */

	if (nid != NID_undef) {
		int at = X509_get_ext_by_NID(x, nid, -1);

		if (at >= 0)
			X509_EXTENSION_free(X509_delete_ext(x, at));
		if (value != NULL) {
			X509_EXTENSION *ext;

			X509V3_set_ctx(&ctx, f->issuing, x, NULL, NULL, 0);
			X509V3_set_nconf(&ctx, conf);
			ext = X509V3_EXT_nconf_nid(conf, &ctx, nid, value);
			if (ext == NULL || !X509_add_ext(x, ext, -1)) {
				fprintf(stderr, "craft: cannot make %s = %s\n", OBJ_nid2sn(nid), value);
				exit(1);
			}
			X509_EXTENSION_free(ext);
		}
	}
	if (days > 0) {
		struct tm tm;

		if (ASN1_TIME_to_tm(X509_get0_notBefore(x), &tm) != 1 ||
		    ASN1_TIME_set(X509_getm_notAfter(x), timegm(&tm) + (time_t)days * DAY) == NULL) {
			fprintf(stderr, "craft: cannot set notAfter\n");
			exit(1);
		}
	}
	fresh = resign(f, x);
	X509_free(x);
	NCONF_free(conf);
	return fresh;
}

/* Verify cert (with r's chain) as an answer to a request for ada in profile. */
static int
verify_crafted(struct fixture *f, X509_REQ *csr, X509 *cert, const struct ca_result *r,
    enum cert_profile profile, int64_t validity, struct errbuf *e)
{
	struct ca_request req;
	struct ca_result copy = { 0 };
	int rc;

	memset(&req, 0, sizeof(req));
	req.mail = "ada@example.org";
	req.profile = profile;
	req.validity = validity;
	copy.cert = cert;
	copy.chain = X509_chain_up_ref(r->chain);
	err_clear(e);
	rc = ca_verify_issued(f->anchors, NULL, csr, &req, &copy, e);
	ca_result_clear(&copy);
	return rc;
}

/* One crafted certificate must be refused with a message holding want. */
#define REFUSED(nid, value, days, profile, want)                                   \
	do {                                                                       \
		X509 *c_ = craft(f, r.cert, (nid), (value), (days));               \
		CHECK(verify_crafted(f, csr, c_, &r, (profile), 365 * DAY, &e) != 0); \
		CHECK_CONTAINS(e.text, (want));                                    \
	} while (0)
#define ACCEPTED(nid, value, days, profile)                                        \
	do {                                                                       \
		X509 *c_ = craft(f, r.cert, (nid), (value), (days));               \
		CHECK_INTEQ(verify_crafted(f, csr, c_, &r, (profile), 365 * DAY, &e), 0); \
		if (e.text[0] != '\0')                                             \
			fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, e.text);  \
	} while (0)

static void
test_crafted(struct fixture *f)
{
	const enum cert_profile ms = PROFILE_MAILBOX_STRICT, mm = PROFILE_MAILBOX_MULTIPURPOSE;
	EVP_PKEY *key = NULL;
	X509_REQ *csr = NULL;
	struct ca_result r = { 0 };
	struct errbuf e;

	CHECK_INTEQ(key_generate(KEY_TYPE_P256, &key, &e), 0);
	issue(f, key, "ada@example.org", NULL, 0, &csr, &r);
	/* The CA's own certificate, re-signed unchanged, passes every check. */
	ACCEPTED(NID_undef, NULL, 0, ms);

	/* SAN entries that are not mailboxes. */
	REFUSED(NID_subject_alt_name,
	    "email:ada@example.org,otherName:1.3.6.1.4.1.311.20.2.3;UTF8:admin@corp.example",
	    0, ms, "holds a Windows logon name (UPN otherName) admin@corp.example, which "
	    "smimesync never requests");
	REFUSED(NID_subject_alt_name, "email:ada@example.org,DNS:www.example.org", 0, ms,
	    "holds a DNS name www.example.org");
	REFUSED(NID_subject_alt_name, "email:ada@example.org,URI:https://example.org/ada", 0, ms,
	    "holds a URI https://example.org/ada");
	REFUSED(NID_subject_alt_name, "email:ada@example.org,IP:192.0.2.1", 0, ms,
	    "holds an IP address");
	REFUSED(NID_subject_alt_name, "email:ada@example.org,RID:1.2.3.4", 0, ms,
	    "holds a registeredID");
	REFUSED(NID_subject_alt_name,
	    "email:ada@example.org,otherName:1.2.3.4;UTF8:whatever", 0, ms,
	    "holds an otherName of type 1.2.3.4");
	{
		/* directoryName needs a section: built by hand. */
		GENERAL_NAMES *gens = GENERAL_NAMES_new();
		GENERAL_NAME *mail = GENERAL_NAME_new(), *dn = GENERAL_NAME_new();
		ASN1_IA5STRING *ia5 = ASN1_IA5STRING_new();
		X509_NAME *name = X509_NAME_new();
		X509 *c;

		ASN1_STRING_set(ia5, "ada@example.org", -1);
		GENERAL_NAME_set0_value(mail, GEN_EMAIL, ia5);
		X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
		    (const unsigned char *)"Administrator", -1, -1, 0);
		GENERAL_NAME_set0_value(dn, GEN_DIRNAME, name);
		sk_GENERAL_NAME_push(gens, mail);
		sk_GENERAL_NAME_push(gens, dn);
		c = X509_dup(r.cert);
		X509_add1_ext_i2d(c, NID_subject_alt_name, gens, 0, X509V3_ADD_REPLACE);
		GENERAL_NAMES_free(gens);
		{
			X509 *signed_ = resign(f, c);

			X509_free(c);
			CHECK(verify_crafted(f, csr, signed_, &r, ms, 365 * DAY, &e) != 0);
			CHECK_CONTAINS(e.text, "holds a directoryName /CN=Administrator");
		}
	}
	/* The SmtpUTF8Mailbox form of a requested address is a mailbox like rfc822Name. */
	ACCEPTED(NID_subject_alt_name,
	    "email:ada@example.org,otherName:1.3.6.1.5.5.7.8.9;UTF8:ada@example.org", 0, ms);
	REFUSED(NID_subject_alt_name,
	    "email:ada@example.org,otherName:1.3.6.1.5.5.7.8.9;UTF8:eve@example.org", 0, ms,
	    "holds eve@example.org, which was not requested");

	/* Key usage: present, and nothing an EC key of an S/MIME certificate must not have. */
	REFUSED(NID_key_usage, NULL, 0, ms, "it has no keyUsage");
	REFUSED(NID_key_usage, "critical,digitalSignature,keyAgreement,keyCertSign", 0, ms,
	    "its keyUsage allows keyCertSign, which an EC key of a mailbox-strict certificate");
	REFUSED(NID_key_usage, "critical,digitalSignature,cRLSign", 0, ms,
	    "its keyUsage allows cRLSign");
	REFUSED(NID_key_usage, "critical,digitalSignature,keyEncipherment", 0, ms,
	    "its keyUsage allows keyEncipherment, which an EC key");
	ACCEPTED(NID_key_usage, "critical,digitalSignature", 0, ms);

	/* Basic constraints. */
	REFUSED(NID_basic_constraints, "critical,CA:TRUE", 0, ms,
	    "it is a CA certificate (basicConstraints CA:TRUE)");
	REFUSED(NID_basic_constraints, "critical,CA:TRUE,pathlen:0", 0, ms,
	    "it is a CA certificate");
	REFUSED(NID_basic_constraints, "critical,CA:FALSE,pathlen:0", 0, ms,
	    "pathLenConstraint");
	ACCEPTED(NID_basic_constraints, NULL, 0, ms);

	/* Validity. */
	REFUSED(NID_undef, NULL, 730, ms, "it is valid for 730 days, longer than the group's "
	    "validity of 365 days");
	ACCEPTED(NID_undef, NULL, 366, ms);
	{
		X509 *c = craft(f, r.cert, NID_undef, NULL, 900);

		CHECK(verify_crafted(f, csr, c, &r, ms, 0, &e) != 0);
		CHECK_CONTAINS(e.text, "longer than the 825 days the S/MIME Baseline Requirements");
	}

	/* Extended key usage: strict means emailProtection only; never the forbidden ones. */
	REFUSED(NID_ext_key_usage, "emailProtection,clientAuth", 0, ms,
	    "allows clientAuth (1.3.6.1.5.5.7.3.2) besides emailProtection, but the group's "
	    "profile mailbox-strict allows emailProtection only");
	REFUSED(NID_ext_key_usage, "emailProtection,serverAuth", 0, mm,
	    "allows serverAuth (1.3.6.1.5.5.7.3.1), which no S/MIME certificate may carry");
	REFUSED(NID_ext_key_usage, "emailProtection,codeSigning", 0, mm, "allows codeSigning");
	REFUSED(NID_ext_key_usage, "emailProtection,OCSPSigning", 0, mm, "allows OCSPSigning");
	REFUSED(NID_ext_key_usage, "emailProtection,anyExtendedKeyUsage", 0, ms,
	    "allows anyExtendedKeyUsage");
	REFUSED(NID_ext_key_usage, "clientAuth", 0, mm, "does not allow emailProtection");
	REFUSED(NID_ext_key_usage, NULL, 0, ms, "does not allow emailProtection");

	/* Certificate policies: the requested profile's, no other S/MIME profile's. */
	REFUSED(NID_certificate_policies, "2.23.140.1.5.2.3", 0, ms,
	    "its certificatePolicies names 2.23.140.1.5.2.3, but the group asked for "
	    "mailbox-strict (2.23.140.1.5.1.3)");
	REFUSED(NID_certificate_policies, "2.23.140.1.5.1.3,2.23.140.1.5.1.2", 0, ms,
	    "names 2.23.140.1.5.1.2");
	REFUSED(NID_certificate_policies, "1.3.6.1.4.1.99999.1", 0, ms,
	    "does not name 2.23.140.1.5.1.3");
	ACCEPTED(NID_certificate_policies, "2.23.140.1.5.1.3,1.3.6.1.4.1.99999.1", 0, ms);
	ACCEPTED(NID_certificate_policies, NULL, 0, ms);
	/* A multipurpose request for a certificate that says it is one. */
	{
		X509 *c1 = craft(f, r.cert, NID_certificate_policies, "2.23.140.1.5.1.2", 0);
		X509 *c2 = craft(f, c1, NID_ext_key_usage, "emailProtection,clientAuth", 0);

		X509_free(c1);
		CHECK_INTEQ(verify_crafted(f, csr, c2, &r, mm, 365 * DAY, &e), 0);
	}

	/* A subject emailAddress nobody asked for. */
	{
		X509 *c = X509_dup(r.cert), *s;

		X509_NAME_add_entry_by_NID(X509_get_subject_name(c), NID_pkcs9_emailAddress,
		    MBSTRING_ASC, (const unsigned char *)"eve@example.org", -1, -1, 0);
		s = resign(f, c);
		X509_free(c);
		CHECK(verify_crafted(f, csr, s, &r, ms, 365 * DAY, &e) != 0);
		CHECK_CONTAINS(e.text, "its subject emailAddress is eve@example.org");
	}

	ca_result_clear(&r);
	X509_REQ_free(csr);
	EVP_PKEY_free(key);
}

int
main(void)
{
	struct fixture f;

	setup(&f);
	test_parse(&f);
	test_verify(&f);
	test_crafted(&f);
	teardown(&f);
	return check_finish();
}
