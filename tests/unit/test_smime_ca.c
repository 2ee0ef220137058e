/* SPDX-License-Identifier: ISC */
/*
 * The local CA end to end: ca init writes a root and an issuing CA,
 * ca_open loads them, ca_submit issues leaves that an independent
 * X509_STORE verification accepts for S/MIME, and every extension of the
 * mailbox-validated Strict profile is what the S/MIME BR ask for.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <pthread.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "common/fileutil.h"
#include "common/xalloc.h"
#include "smime/ca.h"
#include "smime/cert.h"
#include "smime/key.h"
#include "tests/unit/check.h"

#define DAY 86400
#define ALL_PROFILES (CERT_PROFILE_BIT(PROFILE_MAILBOX_STRICT) | \
	CERT_PROFILE_BIT(PROFILE_MAILBOX_MULTIPURPOSE) | \
	CERT_PROFILE_BIT(PROFILE_ORGANIZATION_STRICT) | \
	CERT_PROFILE_BIT(PROFILE_ORGANIZATION_MULTIPURPOSE))
#define CRL_URL "http://pki.example.org/issuing.crl"
#define AIA_URL "http://pki.example.org/issuing.crt"

struct ca_dir {
	char *dir;
	char *cert_file;
	char *key_file;
	char *chain_file;
	char *root_file;
	char *root_key_file;
	char *offline_dir;             /* where ca init puts the root key: apart */
	struct conf_ca conf;
	struct ca_init_params init;
};

static void
ca_dir_setup(struct ca_dir *d, enum key_type kt)
{
	char tmpl[] = "/tmp/smime-ca-test-XXXXXX";

	memset(d, 0, sizeof(*d));
	if (mkdtemp(tmpl) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	d->dir = xstrdup(tmpl);
	d->cert_file = xasprintf("%s/ca/issuing.pem", d->dir);
	d->key_file = xasprintf("%s/private/issuing.key", d->dir);
	d->chain_file = xasprintf("%s/ca/chain.pem", d->dir);
	d->root_file = xasprintf("%s/ca/root.pem", d->dir);
	d->root_key_file = xasprintf("%s/offline/root.key", d->dir);
	d->offline_dir = xasprintf("%s/offline", d->dir);
	if (mkdir(d->offline_dir, 0700) != 0) {
		perror("mkdir");
		exit(1);
	}
	d->init.root_key_out = d->root_key_file;
	d->init.profiles = CERT_PROFILE_BIT(PROFILE_MAILBOX_STRICT);
	d->conf.name = "test";
	d->conf.type = CA_TYPE_LOCAL;
	d->conf.cert_file = d->cert_file;
	d->conf.key_file = d->key_file;
	d->conf.chain_file = d->chain_file;
	d->conf.crl_url = CRL_URL;
	d->conf.aia_url = AIA_URL;
	d->conf.init_key_type = kt;
	d->conf.organization = "Example";
	d->conf.country = "DE";
	d->conf.root_validity = 3650 * (int64_t)DAY;
	d->conf.issuing_validity = 1825 * (int64_t)DAY;
}

static void
ca_dir_teardown(struct ca_dir *d)
{
	char *cmd = xasprintf("rm -rf '%s'", d->dir);

	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", d->dir);
	free(cmd);
	free(d->dir);
	free(d->cert_file);
	free(d->key_file);
	free(d->chain_file);
	free(d->root_file);
	free(d->root_key_file);
	free(d->offline_dir);
}

static int
file_mode(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return -1;
	return (int)(st.st_mode & 07777);
}

static int
ext_critical(X509 *x, int nid)
{
	int i = X509_get_ext_by_NID(x, nid, -1);

	return i < 0 ? -1 : X509_EXTENSION_get_critical(X509_get_ext(x, i));
}

static X509 *
load_one(const char *path)
{
	STACK_OF(X509) *sk = NULL;
	struct errbuf e;
	X509 *x;

	if (cert_load_pem_file(path, &sk, &e) != 0) {
		fprintf(stderr, "%s\n", e.text);
		return NULL;
	}
	x = sk_X509_shift(sk);
	sk_X509_pop_free(sk, X509_free);
	return x;
}

/* Verify leaf with root trusted and chain untrusted, for one purpose. */
static int
verify_for(X509 *root, STACK_OF(X509) *chain, X509 *leaf, int purpose)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int ok;

	X509_STORE_add_cert(store, root);
	X509_STORE_set_flags(store, X509_V_FLAG_X509_STRICT);
	X509_STORE_CTX_init(ctx, store, leaf, chain);
	X509_STORE_CTX_set_purpose(ctx, purpose);
	ok = X509_verify_cert(ctx);
	if (ok != 1)
		fprintf(stderr, "verify (purpose %d): %s\n", purpose,
		    X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return ok == 1;
}

static enum ca_outcome
issue(struct ca *ca, EVP_PKEY *key, const char *mail, const char *const *alts, size_t nalts,
    int64_t validity, time_t now, struct ca_result *r)
{
	struct errbuf e;
	X509_REQ *csr = NULL;
	struct ca_request req;
	enum ca_outcome o;

	if (csr_make(key, mail, &csr, &e) != 0) {
		fprintf(stderr, "csr_make: %s\n", e.text);
		return CA_MISCONFIGURED;
	}
	memset(&req, 0, sizeof(req));
	req.mail = mail;
	req.alt_mails = alts;
	req.n_alt_mails = nalts;
	req.validity = validity;
	req.now = now;
	o = ca_submit(ca, csr, &req, r);
	if (o != CA_ISSUED)
		fprintf(stderr, "ca_submit(%s): %s: %s\n", mail, ca_outcome_name(o), r->reason);
	X509_REQ_free(csr);
	return o;
}

static const char *
gn_text(const GENERAL_NAME *gn, int want_type)
{
	if (gn->type != want_type)
		return NULL;
	return (const char *)ASN1_STRING_get0_data(gn->d.ia5);
}

/* The profile checks every leaf must pass. */
static void
check_leaf_profile(X509 *leaf, X509 *issuing, const char *mail, int is_rsa, time_t now,
    int64_t validity)
{
	BASIC_CONSTRAINTS *bc = NULL;
	EXTENDED_KEY_USAGE *eku = NULL;
	CERTIFICATEPOLICIES *pol = NULL;
	CRL_DIST_POINTS *cdp = NULL;
	AUTHORITY_INFO_ACCESS *aia = NULL;
	AUTHORITY_KEYID *akid = NULL;
	GENERAL_NAMES *san = NULL;
	BIGNUM *serial = NULL;
	struct cert_info ci;
	struct errbuf e;
	char buf[128];
	uint32_t want_ku;

	CHECK_INTEQ(X509_get_version(leaf), X509_VERSION_3);
	/* Issuer byte-identical to the CA subject. */
	CHECK_INTEQ(X509_NAME_cmp(X509_get_issuer_name(leaf), X509_get_subject_name(issuing)), 0);

	/* basicConstraints critical CA:FALSE, no pathlen. */
	bc = X509_get_ext_d2i(leaf, NID_basic_constraints, NULL, NULL);
	CHECK(bc != NULL && !bc->ca && bc->pathlen == NULL);
	CHECK_INTEQ(ext_critical(leaf, NID_basic_constraints), 1);

	/* keyUsage critical, exactly the bits of the key type. */
	want_ku = is_rsa ? (KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT) :
	    (KU_DIGITAL_SIGNATURE | KU_KEY_AGREEMENT);
	CHECK(X509_get_extension_flags(leaf) & EXFLAG_KUSAGE);
	CHECK_INTEQ(X509_get_key_usage(leaf), want_ku);
	CHECK_INTEQ(ext_critical(leaf, NID_key_usage), 1);

	/* EKU exactly emailProtection, not critical. */
	eku = X509_get_ext_d2i(leaf, NID_ext_key_usage, NULL, NULL);
	CHECK(eku != NULL && sk_ASN1_OBJECT_num(eku) == 1 &&
	    OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, 0)) == NID_email_protect);
	CHECK_INTEQ(ext_critical(leaf, NID_ext_key_usage), 0);

	/* SAN holds the mail first. */
	san = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
	CHECK(san != NULL && sk_GENERAL_NAME_num(san) >= 1);
	if (san != NULL && sk_GENERAL_NAME_num(san) >= 1 && mail != NULL) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(san, 0);

		if (gn->type == GEN_EMAIL)
			CHECK_STREQ(gn_text(gn, GEN_EMAIL), mail);
	}

	/* Exactly one policy: mailbox-validated Strict. */
	pol = X509_get_ext_d2i(leaf, NID_certificate_policies, NULL, NULL);
	CHECK(pol != NULL && sk_POLICYINFO_num(pol) == 1);
	if (pol != NULL && sk_POLICYINFO_num(pol) == 1) {
		OBJ_obj2txt(buf, sizeof(buf), sk_POLICYINFO_value(pol, 0)->policyid, 1);
		CHECK_STREQ(buf, "2.23.140.1.5.1.3");
	}
	CHECK_INTEQ(ext_critical(leaf, NID_certificate_policies), 0);

	/* CDP: one http URI. */
	cdp = X509_get_ext_d2i(leaf, NID_crl_distribution_points, NULL, NULL);
	CHECK(cdp != NULL && sk_DIST_POINT_num(cdp) == 1);
	if (cdp != NULL && sk_DIST_POINT_num(cdp) == 1) {
		DIST_POINT *dp = sk_DIST_POINT_value(cdp, 0);

		CHECK(dp->distpoint != NULL && dp->distpoint->type == 0);
		if (dp->distpoint != NULL && dp->distpoint->type == 0) {
			CHECK_INTEQ(sk_GENERAL_NAME_num(dp->distpoint->name.fullname), 1);
			CHECK_STREQ(gn_text(sk_GENERAL_NAME_value(dp->distpoint->name.fullname, 0),
			    GEN_URI), CRL_URL);
		}
	}
	CHECK_INTEQ(ext_critical(leaf, NID_crl_distribution_points), 0);

	/* AIA: caIssuers http URI. */
	aia = X509_get_ext_d2i(leaf, NID_info_access, NULL, NULL);
	CHECK(aia != NULL && sk_ACCESS_DESCRIPTION_num(aia) == 1);
	if (aia != NULL && sk_ACCESS_DESCRIPTION_num(aia) == 1) {
		ACCESS_DESCRIPTION *ad = sk_ACCESS_DESCRIPTION_value(aia, 0);

		CHECK_INTEQ(OBJ_obj2nid(ad->method), NID_ad_ca_issuers);
		CHECK_STREQ(gn_text(ad->location, GEN_URI), AIA_URL);
	}
	CHECK_INTEQ(ext_critical(leaf, NID_info_access), 0);

	/* AKI keyid only, equal to the CA's SKI; SKI present. */
	akid = X509_get_ext_d2i(leaf, NID_authority_key_identifier, NULL, NULL);
	CHECK(akid != NULL && akid->keyid != NULL && akid->issuer == NULL &&
	    akid->serial == NULL);
	if (akid != NULL && akid->keyid != NULL)
		CHECK_INTEQ(ASN1_OCTET_STRING_cmp(akid->keyid,
		    X509_get0_subject_key_id(issuing)), 0);
	CHECK(X509_get0_subject_key_id(leaf) != NULL);

	/* Serial: positive, >= 64 bits, at most 127. */
	serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(leaf), NULL);
	CHECK(serial != NULL && !BN_is_negative(serial) && BN_num_bits(serial) >= 64 &&
	    BN_num_bits(serial) <= 127);

	/* Validity from the request's now, backdated one minute. */
	CHECK_INTEQ(cert_info_get(leaf, &ci, &e), 0);
	CHECK_INTEQ((long long)ci.not_before, (long long)(now - 60));
	CHECK_INTEQ((long long)ci.not_after, (long long)(now + validity));
	CHECK(ci.serial != NULL && strspn(ci.serial, "0123456789ABCDEF") == strlen(ci.serial));
	CHECK(ci.fingerprint != NULL && strlen(ci.fingerprint) == 64 &&
	    strspn(ci.fingerprint, "0123456789abcdef") == 64);
	CHECK_CONTAINS(ci.issuer, "CN=Example S/MIME Issuing CA");
	cert_info_clear(&ci);

	BASIC_CONSTRAINTS_free(bc);
	EXTENDED_KEY_USAGE_free(eku);
	CERTIFICATEPOLICIES_free(pol);
	CRL_DIST_POINTS_free(cdp);
	AUTHORITY_INFO_ACCESS_free(aia);
	AUTHORITY_KEYID_free(akid);
	GENERAL_NAMES_free(san);
	BN_free(serial);
}

/* The CA certificates ca init wrote. */
/* n_policies policy OIDs and n_eku EKUs (emailProtection first) in the issuing CA. */
static void
check_ca_certs(X509 *root, X509 *issuing, int n_policies, int n_eku)
{
	CERTIFICATEPOLICIES *pols = NULL;

	BASIC_CONSTRAINTS *bc = NULL;
	EXTENDED_KEY_USAGE *eku = NULL;

	bc = X509_get_ext_d2i(root, NID_basic_constraints, NULL, NULL);
	CHECK(bc != NULL && bc->ca && bc->pathlen == NULL);
	BASIC_CONSTRAINTS_free(bc);
	CHECK_INTEQ(ext_critical(root, NID_basic_constraints), 1);
	CHECK_INTEQ(X509_get_key_usage(root), KU_KEY_CERT_SIGN | KU_CRL_SIGN);
	CHECK_INTEQ(ext_critical(root, NID_key_usage), 1);
	CHECK_INTEQ(ext_critical(root, NID_ext_key_usage), -1);
	CHECK_INTEQ(ext_critical(root, NID_certificate_policies), -1);
	CHECK(X509_get0_subject_key_id(root) != NULL);
	CHECK_INTEQ(X509_check_issued(root, root), X509_V_OK);

	bc = X509_get_ext_d2i(issuing, NID_basic_constraints, NULL, NULL);
	CHECK(bc != NULL && bc->ca && bc->pathlen != NULL && ASN1_INTEGER_get(bc->pathlen) == 0);
	BASIC_CONSTRAINTS_free(bc);
	CHECK_INTEQ(ext_critical(issuing, NID_basic_constraints), 1);
	CHECK_INTEQ(X509_get_key_usage(issuing), KU_KEY_CERT_SIGN | KU_CRL_SIGN);
	eku = X509_get_ext_d2i(issuing, NID_ext_key_usage, NULL, NULL);
	CHECK(eku != NULL && sk_ASN1_OBJECT_num(eku) == n_eku &&
	    OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, 0)) == NID_email_protect);
	if (eku != NULL && n_eku == 2)
		CHECK_INTEQ(OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, 1)), NID_client_auth);
	EXTENDED_KEY_USAGE_free(eku);
	pols = X509_get_ext_d2i(issuing, NID_certificate_policies, NULL, NULL);
	CHECK(pols != NULL && sk_POLICYINFO_num(pols) == n_policies);
	CERTIFICATEPOLICIES_free(pols);
	CHECK_INTEQ(ext_critical(issuing, NID_certificate_policies), 0);
	CHECK(X509_get0_authority_key_id(issuing) != NULL);
	CHECK_INTEQ(X509_check_issued(root, issuing), X509_V_OK);
}

static void
test_p384_ca(void)
{
	struct ca_dir d;
	struct errbuf e;
	struct ca *ca = NULL;
	struct ca_result r;
	X509 *root = NULL;
	X509 *issuing = NULL;
	EVP_PKEY *ec = NULL;
	EVP_PKEY *rsa = NULL;
	time_t now = time(NULL);
	const char *alts[] = { "alice.smith@example.org", "Alice@Example.org", NULL };

	ca_dir_setup(&d, KEY_TYPE_P384);
	err_clear(&e);

	/* ca_open before init says what to do. */
	CHECK(ca_open(&d.conf, NULL, &ca, &e) != 0);
	CHECK_CONTAINS(e.text, "smimesync ca init");

	err_clear(&e);
	if (ca_init(&d.conf, &d.init, &e) != 0) {
		CHECK(!"ca_init failed");
		fprintf(stderr, "ca_init: %s\n", e.text);
	}
	CHECK_INTEQ(file_mode(d.key_file), 0600);
	CHECK_INTEQ(file_mode(d.root_key_file), 0600);
	CHECK(file_exists(d.root_file));
	CHECK(file_exists(d.cert_file));
	{
		char *kdir = xasprintf("%s/private", d.dir);

		CHECK_INTEQ(file_mode(kdir), 0700);
		free(kdir);
	}
	/* Refuses to overwrite. */
	CHECK(ca_init(&d.conf, &d.init, &e) != 0);
	CHECK_CONTAINS(e.text, "already exists");

	root = load_one(d.root_file);
	issuing = load_one(d.cert_file);
	CHECK(root != NULL && issuing != NULL);
	if (root == NULL || issuing == NULL)
		goto out;
	check_ca_certs(root, issuing, 1, 1);
	CHECK_INTEQ(X509_get_signature_nid(issuing), NID_ecdsa_with_SHA384);
	{
		STACK_OF(X509) *chain = NULL;

		CHECK_INTEQ(cert_load_pem_file(d.chain_file, &chain, &e), 0);
		CHECK_INTEQ(sk_X509_num(chain), 2);
		if (sk_X509_num(chain) == 2) {
			CHECK_INTEQ(X509_cmp(sk_X509_value(chain, 0), issuing), 0);
			CHECK_INTEQ(X509_cmp(sk_X509_value(chain, 1), root), 0);
		}
		sk_X509_pop_free(chain, X509_free);
	}

	CHECK_INTEQ(ca_open(&d.conf, NULL, &ca, &e), 0);
	if (ca == NULL) {
		fprintf(stderr, "ca_open: %s\n", e.text);
		goto out;
	}
	CHECK_INTEQ(sk_X509_num(ca_chain(ca)), 2);

	/* An EC P-256 leaf with alternative addresses. */
	CHECK_INTEQ(key_generate(KEY_TYPE_P256, &ec, &e), 0);
	memset(&r, 0, sizeof(r));
	CHECK_INTEQ(issue(ca, ec, "alice@example.org", alts, 2, 365 * (int64_t)DAY, now, &r),
	    CA_ISSUED);
	if (r.cert != NULL) {
		GENERAL_NAMES *san;
		X509_NAME *subj = X509_get_subject_name(r.cert);
		char cn[256];

		check_leaf_profile(r.cert, issuing, "alice@example.org", 0, now, 365 * (int64_t)DAY);
		CHECK_INTEQ(X509_get_signature_nid(r.cert), NID_ecdsa_with_SHA384);
		CHECK_INTEQ(X509_NAME_entry_count(subj), 1);
		CHECK(X509_NAME_get_text_by_NID(subj, NID_commonName, cn, sizeof(cn)) > 0);
		CHECK_STREQ(cn, "alice@example.org");
		/* The case-variant duplicate is not repeated. */
		san = X509_get_ext_d2i(r.cert, NID_subject_alt_name, NULL, NULL);
		CHECK_INTEQ(sk_GENERAL_NAME_num(san), 2);
		if (sk_GENERAL_NAME_num(san) == 2)
			CHECK_STREQ(gn_text(sk_GENERAL_NAME_value(san, 1), GEN_EMAIL),
			    "alice.smith@example.org");
		GENERAL_NAMES_free(san);
		CHECK_INTEQ(ext_critical(r.cert, NID_subject_alt_name), 0);
		CHECK_INTEQ(X509_check_private_key(r.cert, ec), 1);
		CHECK_INTEQ(sk_X509_num(r.chain), 2);
		CHECK(verify_for(root, r.chain, r.cert, X509_PURPOSE_SMIME_SIGN));
		/*
		 * OpenSSL's smimeencrypt purpose insists on keyEncipherment,
		 * which an EC (key agreement) certificate must not have.
		 */
		CHECK(!verify_for(root, r.chain, r.cert, X509_PURPOSE_SMIME_ENCRYPT));

		/* PKCS#7 certs-only round trip. */
		{
			unsigned char *der = NULL;
			size_t len = 0;
			X509 *first = NULL;

			CHECK_INTEQ(cert_pkcs7_certs_only(r.cert, r.chain, &der, &len, &e), 0);
			CHECK_INTEQ(cert_pkcs7_first(der, len, &first, &e), 0);
			CHECK(first != NULL && X509_cmp(first, r.cert) == 0);
			X509_free(first);
			CHECK(cert_pkcs7_first(der, len - 1, &first, &e) != 0);
			free(der);
		}
		/* DER and PEM. */
		{
			unsigned char *der = NULL;
			size_t len = 0;
			char *pem = NULL;
			X509 *back = NULL;

			CHECK_INTEQ(cert_to_der(r.cert, &der, &len, &e), 0);
			CHECK_INTEQ(cert_from_der(der, len, &back, &e), 0);
			CHECK(back != NULL && X509_cmp(back, r.cert) == 0);
			X509_free(back);
			CHECK(cert_from_der(der, len - 1, &back, &e) != 0);
			free(der);
			CHECK_INTEQ(cert_to_pem(r.cert, &pem, &len, &e), 0);
			CHECK(pem != NULL && strncmp(pem, "-----BEGIN CERTIFICATE-----", 27) == 0);
			CHECK(pem != NULL && strlen(pem) == len);
			free(pem);
		}
	}
	ca_result_clear(&r);

	/* An RSA-2048 leaf: keyEncipherment, valid for encryption too. */
	CHECK_INTEQ(key_generate(KEY_TYPE_RSA2048, &rsa, &e), 0);
	CHECK_STREQ(key_describe(rsa), "rsa2048");
	CHECK_INTEQ(issue(ca, rsa, "bob@example.org", NULL, 0, 30 * (int64_t)DAY, now, &r),
	    CA_ISSUED);
	if (r.cert != NULL) {
		check_leaf_profile(r.cert, issuing, "bob@example.org", 1, now, 30 * (int64_t)DAY);
		CHECK(verify_for(root, r.chain, r.cert, X509_PURPOSE_SMIME_SIGN));
		CHECK(verify_for(root, r.chain, r.cert, X509_PURPOSE_SMIME_ENCRYPT));
	}
	ca_result_clear(&r);

	/* A non-ASCII local part: SmtpUTF8Mailbox otherName. */
	CHECK_INTEQ(issue(ca, ec, "j\xc3\xb6rg@example.org", NULL, 0, 30 * (int64_t)DAY, now, &r),
	    CA_ISSUED);
	if (r.cert != NULL) {
		GENERAL_NAMES *san = X509_get_ext_d2i(r.cert, NID_subject_alt_name, NULL, NULL);
		struct cert_info ci;

		CHECK_INTEQ(sk_GENERAL_NAME_num(san), 1);
		if (sk_GENERAL_NAME_num(san) == 1) {
			GENERAL_NAME *gn = sk_GENERAL_NAME_value(san, 0);
			ASN1_OBJECT *oid = NULL;
			ASN1_TYPE *val = NULL;
			char buf[64];

			CHECK_INTEQ(GENERAL_NAME_get0_otherName(gn, &oid, &val), 1);
			if (oid != NULL && val != NULL) {
				OBJ_obj2txt(buf, sizeof(buf), oid, 1);
				CHECK_STREQ(buf, "1.3.6.1.5.5.7.8.9");
				CHECK_INTEQ(val->type, V_ASN1_UTF8STRING);
				CHECK_STREQ((const char *)ASN1_STRING_get0_data(val->value.utf8string),
				    "j\xc3\xb6rg@example.org");
			}
		}
		GENERAL_NAMES_free(san);
		CHECK_INTEQ(cert_info_get(r.cert, &ci, &e), 0);
		CHECK_STREQ(ci.subject, "CN=j\xc3\xb6rg@example.org");
		cert_info_clear(&ci);
		CHECK(verify_for(root, r.chain, r.cert, X509_PURPOSE_SMIME_SIGN));
	}
	ca_result_clear(&r);

	/* A mail too long for CN: empty subject, critical SAN. */
	{
		const char *longmail =
		    "a.very.long.local.part.that.goes.on.and.on.and.on@subdomain.example.org";

		CHECK(strlen(longmail) > 64);
		CHECK_INTEQ(issue(ca, ec, longmail, NULL, 0, 30 * (int64_t)DAY, now, &r), CA_ISSUED);
		if (r.cert != NULL) {
			CHECK_INTEQ(X509_NAME_entry_count(X509_get_subject_name(r.cert)), 0);
			CHECK_INTEQ(ext_critical(r.cert, NID_subject_alt_name), 1);
			CHECK(verify_for(root, r.chain, r.cert, X509_PURPOSE_SMIME_SIGN));
		}
		ca_result_clear(&r);
	}

	/* A non-ASCII domain is refused, with the reason. */
	CHECK_INTEQ(issue(ca, ec, "anna@b\xc3\xbc" "cher.example", NULL, 0, 30 * (int64_t)DAY, now,
	    &r), CA_REJECTED);
	CHECK_CONTAINS(r.reason, "IDNA");
	ca_result_clear(&r);
	/* A bad alternative address is refused too. */
	{
		const char *bad[] = { "not-an-address" };

		CHECK_INTEQ(issue(ca, ec, "carol@example.org", bad, 1, 30 * (int64_t)DAY, now, &r),
		    CA_REJECTED);
		CHECK_CONTAINS(r.reason, "not-an-address");
		ca_result_clear(&r);
	}

	/* Validity: 826 days refused, 825 days kept within the maximum. */
	CHECK_INTEQ(issue(ca, ec, "dave@example.org", NULL, 0, 826 * (int64_t)DAY, now, &r),
	    CA_REJECTED);
	CHECK_CONTAINS(r.reason, "825 days");
	ca_result_clear(&r);
	CHECK_INTEQ(issue(ca, ec, "dave@example.org", NULL, 0, 825 * (int64_t)DAY, now, &r),
	    CA_ISSUED);
	if (r.cert != NULL) {
		struct cert_info ci;

		CHECK_INTEQ(cert_info_get(r.cert, &ci, &e), 0);
		CHECK(ci.not_after - ci.not_before + 1 <= 825 * (int64_t)DAY);
		cert_info_clear(&ci);
	}
	ca_result_clear(&r);

	/* A CSR whose signature does not match its key: no proof of possession. */
	{
		X509_REQ *csr = NULL;
		EVP_PKEY *other = NULL;
		struct ca_request req;

		CHECK_INTEQ(key_generate(KEY_TYPE_P256, &other, &e), 0);
		CHECK_INTEQ(csr_make(ec, "eve@example.org", &csr, &e), 0);
		CHECK_INTEQ(X509_REQ_set_pubkey(csr, other), 1);
		memset(&req, 0, sizeof(req));
		req.mail = "eve@example.org";
		req.validity = 30 * (int64_t)DAY;
		req.now = now;
		CHECK_INTEQ(ca_submit(ca, csr, &req, &r), CA_REJECTED);
		CHECK_CONTAINS(r.reason, "proof of possession");
		CHECK(r.cert == NULL);
		ca_result_clear(&r);
		X509_REQ_free(csr);
		EVP_PKEY_free(other);
	}
	ca_close(ca);
	ca = NULL;

	/* A CA key readable by others is refused, and the message says chmod. */
	CHECK_INTEQ(chmod(d.key_file, 0644), 0);
	CHECK(ca_open(&d.conf, NULL, &ca, &e) != 0);
	CHECK_CONTAINS(e.text, "chmod");
	CHECK_INTEQ(chmod(d.key_file, 0600), 0);

	/* A key that does not match the certificate is refused. */
	{
		EVP_PKEY *wrong = NULL;

		CHECK_INTEQ(key_generate(KEY_TYPE_P256, &wrong, &e), 0);
		CHECK_INTEQ(unlink(d.key_file), 0);
		CHECK_INTEQ(key_save_pem_file(d.key_file, wrong, &e), 0);
		CHECK(ca_open(&d.conf, NULL, &ca, &e) != 0);
		CHECK_CONTAINS(e.text, "does not hold the private key");
		EVP_PKEY_free(wrong);
	}
out:
	ca_close(ca);
	X509_free(root);
	X509_free(issuing);
	EVP_PKEY_free(ec);
	EVP_PKEY_free(rsa);
	ca_dir_teardown(&d);
}

/* Verify for purpose with explicit policy oid (NULL: no policy check). */
static int
verify_policy(X509 *root, STACK_OF(X509) *chain, X509 *leaf, int purpose, const char *oid)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	X509_VERIFY_PARAM *vp;
	ASN1_OBJECT *pol = oid != NULL ? OBJ_txt2obj(oid, 1) : NULL;
	int ok;

	X509_STORE_add_cert(store, root);
	X509_STORE_CTX_init(ctx, store, leaf, chain);
	vp = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_flags(vp, X509_V_FLAG_X509_STRICT |
	    (oid != NULL ? X509_V_FLAG_EXPLICIT_POLICY | X509_V_FLAG_POLICY_CHECK : 0));
	if (pol != NULL)
		X509_VERIFY_PARAM_add0_policy(vp, pol);
	X509_VERIFY_PARAM_set_purpose(vp, purpose);
	ok = X509_verify_cert(ctx);
	if (ok != 1)
		fprintf(stderr, "verify (purpose %d, policy %s): %s\n", purpose, oid ? oid : "-",
		    X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return ok == 1;
}

static enum ca_outcome
issue_profile(struct ca *ca, EVP_PKEY *key, const char *mail, enum cert_profile profile,
    struct ca_result *r)
{
	struct errbuf e;
	X509_REQ *csr = NULL;
	struct ca_request req;
	enum ca_outcome o;

	if (csr_make(key, mail, &csr, &e) != 0)
		return CA_MISCONFIGURED;
	memset(&req, 0, sizeof(req));
	req.mail = mail;
	req.validity = 30 * (int64_t)DAY;
	req.profile = profile;
	if (profile == PROFILE_ORGANIZATION_STRICT || profile == PROFILE_ORGANIZATION_MULTIPURPOSE) {
		req.organization = "Example Org GmbH";
		req.organization_identifier = "VATDE-123456789";
	}
	o = ca_submit(ca, csr, &req, r);
	X509_REQ_free(csr);
	return o;
}

/*
 * Issue #16 item 7 and item 5: the issuing CA carries what its leaves
 * claim, a leaf it cannot carry is refused with the fix, and
 * renew-issuing re-certifies the same key for more profiles with the
 * root key brought back, leaving earlier leaves valid.
 */
static void
test_chain_fits_and_renew(void)
{
	static const char *const oids[] = { "2.23.140.1.5.1.3", "2.23.140.1.5.1.2",
	    "2.23.140.1.5.2.3", "2.23.140.1.5.2.2" };
	struct ca_dir d;
	struct errbuf e;
	struct ca *ca = NULL;
	struct ca_result r;
	struct ca_renewal rn;
	X509 *root = NULL, *old_issuing = NULL, *new_issuing = NULL, *strict_leaf = NULL;
	EVP_PKEY *k = NULL;
	STACK_OF(X509) *chain = NULL;
	char *beside = NULL, *in_state = NULL, *copy = NULL;
	char *before = NULL, *after = NULL;
	size_t before_len = 0, after_len = 0;

	ca_dir_setup(&d, KEY_TYPE_P256);
	memset(&r, 0, sizeof(r));
	err_clear(&e);

	/* The root key only where the admin says, never beside the CA's files. */
	d.init.root_key_out = NULL;
	CHECK(ca_init(&d.conf, &d.init, &e) != 0);
	CHECK_CONTAINS(e.text, "--root-key-out");
	beside = xasprintf("%s/ca/root.key", d.dir);
	d.init.root_key_out = beside;
	{
		char *cadir = xasprintf("%s/ca", d.dir);

		CHECK_INTEQ(mkdir(cadir, 0755), 0);
		free(cadir);
	}
	CHECK(ca_init(&d.conf, &d.init, &e) != 0);
	CHECK_CONTAINS(e.text, "beside the CA's own files");
	CHECK(!file_exists(beside));
	in_state = xasprintf("%s/offline/state/root.key", d.dir);
	CHECK_INTEQ(mkdir(d.offline_dir, 0700) == 0 || errno == EEXIST, 1);
	{
		char *sd = xasprintf("%s/offline/state", d.dir);

		CHECK_INTEQ(mkdir(sd, 0700), 0);
		d.init.state_dir = sd;
		d.init.root_key_out = in_state;
		CHECK(ca_init(&d.conf, &d.init, &e) != 0);
		CHECK_CONTAINS(e.text, "inside the state directory");
		d.init.state_dir = NULL;
		free(sd);
	}
	CHECK(!file_exists(d.cert_file) && !file_exists(d.key_file));

	/* A strict-only CA: the issuing certificate says exactly that. */
	d.init.root_key_out = d.root_key_file;
	CHECK_INTEQ(ca_init(&d.conf, &d.init, &e), 0);
	root = load_one(d.root_file);
	old_issuing = load_one(d.cert_file);
	CHECK(root != NULL && old_issuing != NULL);
	if (root == NULL || old_issuing == NULL)
		goto out;
	CHECK_INTEQ(ca_issuing_fits(&d.conf, PROFILE_MAILBOX_STRICT, &e), 0);
	CHECK(ca_issuing_fits(&d.conf, PROFILE_ORGANIZATION_MULTIPURPOSE, &e) != 0);
	CHECK_CONTAINS(e.text, "2.23.140.1.5.2.2");
	CHECK_CONTAINS(e.text, "clientAuth");
	CHECK(ca_issuing_fits(&d.conf, PROFILE_MAILBOX_MULTIPURPOSE, &e) != 0);

	CHECK_INTEQ(ca_open(&d.conf, NULL, &ca, &e), 0);
	if (ca == NULL)
		goto out;
	CHECK_INTEQ(key_generate(KEY_TYPE_P256, &k, &e), 0);
	CHECK_INTEQ(issue_profile(ca, k, "alice@example.org", PROFILE_MAILBOX_STRICT, &r), CA_ISSUED);
	if (r.cert != NULL) {
		CHECK(verify_policy(root, r.chain, r.cert, X509_PURPOSE_SMIME_SIGN, oids[0]));
		strict_leaf = X509_dup(r.cert);
	}
	ca_result_clear(&r);
	/* A multipurpose leaf would not validate for clientAuth: refused, with the fix. */
	CHECK_INTEQ(issue_profile(ca, k, "bob@example.org", PROFILE_MAILBOX_MULTIPURPOSE, &r),
	    CA_MISCONFIGURED);
	CHECK_CONTAINS(r.reason, "clientAuth");
	CHECK_CONTAINS(r.reason, "renew-issuing");
	CHECK(r.cert == NULL);
	ca_result_clear(&r);
	ca_close(ca);
	ca = NULL;

	/* renew-issuing: a wrong root key is refused and changes nothing. */
	{
		EVP_PKEY *wrong = NULL;
		char *wrong_path = xasprintf("%s/wrong.key", d.offline_dir);

		CHECK_INTEQ(key_generate(KEY_TYPE_P384, &wrong, &e), 0);
		CHECK_INTEQ(key_save_pem_file(wrong_path, wrong, &e), 0);
		CHECK(ca_renew_issuing(&d.conf, wrong_path, ALL_PROFILES, &rn, &e) != 0);
		CHECK_CONTAINS(e.text, "is not the key of the root");
		EVP_PKEY_free(wrong);
		free(wrong_path);
		new_issuing = load_one(d.cert_file);
		CHECK(new_issuing != NULL && X509_cmp(new_issuing, old_issuing) == 0);
		X509_free(new_issuing);
		new_issuing = NULL;
	}
	CHECK_INTEQ(file_read_all(d.root_key_file, 65536, &before, &before_len, &e), 0);
	CHECK_INTEQ(ca_renew_issuing(&d.conf, d.root_key_file, ALL_PROFILES, &rn, &e), 0);
	if (e.text[0] != '\0')
		fprintf(stderr, "renew: %s\n", e.text);
	/* The root key file is read, never written. */
	CHECK_INTEQ(file_read_all(d.root_key_file, 65536, &after, &after_len, &e), 0);
	CHECK(before != NULL && after != NULL && before_len == after_len &&
	    memcmp(before, after, before_len) == 0);
	new_issuing = load_one(d.cert_file);
	CHECK(new_issuing != NULL && X509_cmp(new_issuing, old_issuing) != 0);
	if (new_issuing == NULL)
		goto out;
	CHECK(strcmp(rn.old_serial, rn.new_serial) != 0);
	/* Same name, same key, same key identifier: old leaves chain to it too. */
	CHECK_INTEQ(X509_NAME_cmp(X509_get_subject_name(new_issuing),
	    X509_get_subject_name(old_issuing)), 0);
	CHECK_INTEQ(EVP_PKEY_eq(X509_get0_pubkey(new_issuing), X509_get0_pubkey(old_issuing)), 1);
	CHECK_INTEQ(ASN1_OCTET_STRING_cmp(X509_get0_subject_key_id(new_issuing),
	    X509_get0_subject_key_id(old_issuing)), 0);
	check_ca_certs(root, new_issuing, 4, 2);
	for (int p = PROFILE_MAILBOX_STRICT; p <= PROFILE_ORGANIZATION_MULTIPURPOSE; p++)
		CHECK_INTEQ(ca_issuing_fits(&d.conf, (enum cert_profile)p, &e), 0);
	CHECK_INTEQ(cert_load_pem_file(d.chain_file, &chain, &e), 0);
	CHECK_INTEQ(sk_X509_num(chain), 2);
	if (sk_X509_num(chain) == 2) {
		CHECK_INTEQ(X509_cmp(sk_X509_value(chain, 0), new_issuing), 0);
		CHECK_INTEQ(X509_cmp(sk_X509_value(chain, 1), root), 0);
	}
	/* The leaf the old issuing certificate signed validates with the new chain. */
	if (strict_leaf != NULL)
		CHECK(verify_policy(root, chain, strict_leaf, X509_PURPOSE_SMIME_SIGN, oids[0]));

	/* Now every profile issues, and validates for its own policy. */
	CHECK_INTEQ(ca_open(&d.conf, NULL, &ca, &e), 0);
	for (int p = PROFILE_MAILBOX_STRICT; ca != NULL && p <= PROFILE_ORGANIZATION_MULTIPURPOSE;
	    p++) {
		CHECK_INTEQ(issue_profile(ca, k, "carol@example.org", (enum cert_profile)p, &r),
		    CA_ISSUED);
		if (r.cert != NULL) {
			CHECK(verify_policy(root, r.chain, r.cert, X509_PURPOSE_SMIME_SIGN, oids[p]));
			if (p == PROFILE_MAILBOX_MULTIPURPOSE || p == PROFILE_ORGANIZATION_MULTIPURPOSE)
				CHECK(verify_policy(root, r.chain, r.cert, X509_PURPOSE_SSL_CLIENT,
				    NULL));
			else
				CHECK(!verify_policy(root, r.chain, r.cert, X509_PURPOSE_SSL_CLIENT,
				    NULL));
		}
		ca_result_clear(&r);
	}

	/* A crash between renew's two writes: cert_file old, chain_file new. */
	ca_close(ca);
	ca = NULL;
	{
		char *pem = NULL;
		size_t len = 0;

		CHECK_INTEQ(cert_to_pem(old_issuing, &pem, &len, &e), 0);
		CHECK_INTEQ(file_write_atomic(d.cert_file, pem, len, 0644, &e), 0);
		free(pem);
		CHECK_INTEQ(ca_open(&d.conf, NULL, &ca, &e), 0);
		if (ca == NULL)
			fprintf(stderr, "ca_open after a half renewal: %s\n", e.text);
		CHECK(ca != NULL && sk_X509_num(ca_chain(ca)) == 2);
	}
out:
	ca_result_clear(&r);
	ca_close(ca);
	sk_X509_pop_free(chain, X509_free);
	X509_free(root);
	X509_free(old_issuing);
	X509_free(new_issuing);
	X509_free(strict_leaf);
	EVP_PKEY_free(k);
	free(beside);
	free(in_state);
	free(copy);
	if (before != NULL)
		secret_free(before, before_len);
	if (after != NULL)
		secret_free(after, after_len);
	ca_dir_teardown(&d);
}

static void
test_p256_ca(void)
{
	struct ca_dir d;
	struct errbuf e;
	struct ca *ca = NULL;
	struct ca_result r;
	X509 *root = NULL;
	EVP_PKEY *ec = NULL;
	time_t now = time(NULL);

	ca_dir_setup(&d, KEY_TYPE_P256);
	d.conf.organization = "smimesync"; /* the option table's default; default names */
	d.conf.country = NULL;
	d.conf.crl_url = NULL;
	d.conf.aia_url = NULL;
	CHECK_INTEQ(ca_init(&d.conf, &d.init, &e), 0);
	CHECK_INTEQ(ca_open(&d.conf, NULL, &ca, &e), 0);
	root = load_one(d.root_file);
	CHECK(root != NULL);
	if (ca == NULL || root == NULL)
		goto out;
	{
		struct cert_info ci;

		CHECK_INTEQ(cert_info_get(root, &ci, &e), 0);
		CHECK_STREQ(ci.subject, "CN=smimesync S/MIME Root CA,O=smimesync");
		CHECK_STREQ(ci.subject, ci.issuer);
		cert_info_clear(&ci);
	}
	CHECK_INTEQ(key_generate(KEY_TYPE_P256, &ec, &e), 0);
	CHECK_INTEQ(issue(ca, ec, "frank@example.org", NULL, 0, 90 * (int64_t)DAY, now, &r),
	    CA_ISSUED);
	if (r.cert != NULL) {
		CHECK_INTEQ(X509_get_signature_nid(r.cert), NID_ecdsa_with_SHA256);
		CHECK_INTEQ(ext_critical(r.cert, NID_crl_distribution_points), -1);
		CHECK_INTEQ(ext_critical(r.cert, NID_info_access), -1);
		CHECK(verify_for(root, r.chain, r.cert, X509_PURPOSE_SMIME_SIGN));
	}
	ca_result_clear(&r);
out:
	ca_close(ca);
	X509_free(root);
	EVP_PKEY_free(ec);
	ca_dir_teardown(&d);
}

/* Keys: PKCS#8 and PEM round trips. */
static void
test_keys(void)
{
	struct errbuf e;
	EVP_PKEY *k = NULL;
	EVP_PKEY *back = NULL;
	unsigned char *der = NULL;
	size_t len = 0;
	char tmpl[] = "/tmp/smime-key-test-XXXXXX";
	char *path;

	CHECK_INTEQ(key_generate(KEY_TYPE_P384, &k, &e), 0);
	CHECK_STREQ(key_describe(k), "p384");
	CHECK_INTEQ(key_to_pkcs8_der(k, &der, &len, &e), 0);
	CHECK_INTEQ(key_from_pkcs8_der(der, len, &back, &e), 0);
	CHECK(back != NULL && EVP_PKEY_eq(k, back) == 1);
	EVP_PKEY_free(back);
	back = NULL;
	CHECK(key_from_pkcs8_der(der, len - 1, &back, &e) != 0);
	secret_free(der, len);

	CHECK(mkdtemp(tmpl) != NULL);
	path = xasprintf("%s/k.pem", tmpl);
	CHECK_INTEQ(key_save_pem_file(path, k, &e), 0);
	CHECK_INTEQ(file_mode(path), 0600);
	CHECK_INTEQ(key_load_pem_file(path, &back, &e), 0);
	CHECK(back != NULL && EVP_PKEY_eq(k, back) == 1);
	EVP_PKEY_free(back);
	back = NULL;
	CHECK_INTEQ(chmod(path, 0640), 0);
	CHECK(key_load_pem_file(path, &back, &e) != 0);
	CHECK_CONTAINS(e.text, "chmod 600");
	unlink(path);
	rmdir(tmpl);
	free(path);
	EVP_PKEY_free(k);
}

/* key_generate from several threads at once, as the engine does. */
static void *
keygen_thread(void *arg)
{
	int *ok = arg;
	struct errbuf e;

	for (int i = 0; i < 20; i++) {
		EVP_PKEY *k = NULL;

		if (key_generate(KEY_TYPE_P256, &k, &e) != 0 || EVP_PKEY_get_bits(k) != 256)
			*ok = 0;
		EVP_PKEY_free(k);
	}
	return NULL;
}

static void
test_keygen_threads(void)
{
	pthread_t t[4];
	int ok[4] = { 1, 1, 1, 1 };

	for (int i = 0; i < 4; i++)
		CHECK_INTEQ(pthread_create(&t[i], NULL, keygen_thread, &ok[i]), 0);
	for (int i = 0; i < 4; i++) {
		CHECK_INTEQ(pthread_join(t[i], NULL), 0);
		CHECK(ok[i]);
	}
}

int
main(void)
{
	test_keys();
	test_keygen_threads();
	test_p384_ca();
	test_p256_ca();
	test_chain_fits_and_renew();
	ERR_clear_error();
	return check_finish();
}
