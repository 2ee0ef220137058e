/* SPDX-License-Identifier: ISC */
/*
 * Every S/MIME BR profile the local CA offers, with every key type under
 * an EC and an RSA CA, checked by tools that share no code with
 * smime/profile.c: tests/tools/sbr-lint.py (the BR rules) and
 * openssl verify -x509_strict (the chain, for signing and encryption).
 * The linter is also shown a certificate of the wrong profile, so a test
 * that could not fail would be noticed.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "common/xalloc.h"
#include "common/fileutil.h"
#include "smime/ca.h"
#include "smime/cert.h"
#include "smime/key.h"
#include "smime/smime_internal.h"
#include "tests/unit/check.h"

#define DAY 86400

static const char *srcdir;
static char *tmpdir;

struct test_ca {
	struct conf_ca conf;
	char *dir;
	struct ca *ca;
};

static void
ca_setup(struct test_ca *t, const char *name, enum key_type kt)
{
	struct ca_init_params init;
	struct errbuf e;
	char *root_key;
	int rc;

	memset(t, 0, sizeof(*t));
	t->dir = xasprintf("%s/%s", tmpdir, name);
	t->conf.name = (char *)name;
	t->conf.type = CA_TYPE_LOCAL;
	t->conf.cert_file = xasprintf("%s/issuing.pem", t->dir);
	t->conf.key_file = xasprintf("%s/issuing.key", t->dir);
	t->conf.chain_file = xasprintf("%s/chain.pem", t->dir);
	t->conf.crl_url = "http://pki.example.org/smime.crl";
	t->conf.aia_url = "http://pki.example.org/issuing.crt";
	t->conf.init_key_type = kt;
	t->conf.organization = "Example Org";
	t->conf.country = "DE";
	t->conf.root_validity = 3650 * (int64_t)DAY;
	t->conf.issuing_validity = 1825 * (int64_t)DAY;
	err_clear(&e);
	/* The root key apart from the CA's files; the issuing CA allows every profile. */
	root_key = xasprintf("%s-root.key", t->dir);
	memset(&init, 0, sizeof(init));
	init.root_key_out = root_key;
	init.profiles = CERT_PROFILE_BIT(PROFILE_MAILBOX_STRICT) |
	    CERT_PROFILE_BIT(PROFILE_MAILBOX_MULTIPURPOSE) |
	    CERT_PROFILE_BIT(PROFILE_ORGANIZATION_STRICT) |
	    CERT_PROFILE_BIT(PROFILE_ORGANIZATION_MULTIPURPOSE);
	rc = ca_init(&t->conf, &init, &e);
	free(root_key);
	if (rc != 0 || ca_open(&t->conf, NULL, &t->ca, &e) != 0) {
		fprintf(stderr, "CA %s: %s\n", name, e.text);
		exit(1);
	}
}

static void
ca_teardown(struct test_ca *t)
{
	ca_close(t->ca);
	free(t->conf.cert_file);
	free(t->conf.key_file);
	free(t->conf.chain_file);
	free(t->dir);
}

static int
write_pem(const char *path, X509 *x)
{
	FILE *f = fopen(path, "w");
	int ok;

	if (f == NULL)
		return -1;
	ok = PEM_write_X509(f, x);
	return fclose(f) == 0 && ok == 1 ? 0 : -1;
}

static int
run(const char *cmd)
{
	int rc = system(cmd);

	if (rc != 0)
		fprintf(stderr, "command failed (%d): %s\n", rc, cmd);
	return rc;
}

static int
lint(const char *pem, const char *issuer, const char *profile, const char *extra)
{
	char *cmd = xasprintf("/usr/bin/python3 '%s/tests/tools/sbr-lint.py' '%s' --issuer '%s' "
	    "--profile %s %s >'%s.lint' 2>&1", srcdir, pem, issuer, profile, extra, pem);
	int rc = system(cmd);

	free(cmd);
	return rc;
}

static const char *const profile_names[] = {
	[PROFILE_MAILBOX_STRICT] = "mailbox-strict",
	[PROFILE_MAILBOX_MULTIPURPOSE] = "mailbox-multipurpose",
	[PROFILE_ORGANIZATION_STRICT] = "organization-strict",
	[PROFILE_ORGANIZATION_MULTIPURPOSE] = "organization-multipurpose",
};

/* Issue one leaf for key under t in profile p and run every outside check on it. */
static void
issue_and_check(struct test_ca *t, EVP_PKEY *key, const char *kname, enum cert_profile p,
    const char *mail)
{
	struct ca_request req;
	struct ca_result res;
	struct errbuf e;
	X509_REQ *csr = NULL;
	const char *alts[] = { "alice.alt@example.org" };
	const bool org = p == PROFILE_ORGANIZATION_STRICT || p == PROFILE_ORGANIZATION_MULTIPURPOSE;
	char *pem = xasprintf("%s/%s-%s-%s.pem", tmpdir, t->conf.name, kname, profile_names[p]);
	char *extra = NULL;
	char *cmd = NULL;
	enum ca_outcome oc;

	memset(&req, 0, sizeof(req));
	memset(&res, 0, sizeof(res));
	err_clear(&e);
	if (csr_make(key, mail, &csr, &e) != 0) {
		CHECK(!"csr_make");
		goto out;
	}
	req.mail = mail;
	req.alt_mails = alts;
	req.n_alt_mails = 1;
	req.validity = 825 * (int64_t)DAY;
	req.profile = p;
	if (org) {
		req.organization = "Example Org GmbH";
		req.organization_identifier = "VATDE-123456789";
		req.country = "DE";
	}
	oc = ca_submit(t->ca, csr, &req, &res);
	if (oc != CA_ISSUED) {
		fprintf(stderr, "%s: %s\n", pem, res.reason);
		CHECK(!"ca_submit issued");
		goto out;
	}
	CHECK_INTEQ(write_pem(pem, res.cert), 0);
	extra = xasprintf("--mail '%s' --mail alice.alt@example.org --max-days 825 %s", mail,
	    org ? "--organization 'Example Org GmbH' --organization-identifier VATDE-123456789 "
	    "--country DE" : "");
	if (lint(pem, t->conf.cert_file, profile_names[p], extra) != 0) {
		cmd = xasprintf("cat '%s.lint' >&2", pem);
		(void)run(cmd);
		free(cmd);
		cmd = NULL;
		CHECK(!"sbr-lint accepts the certificate");
	}
	cmd = xasprintf("openssl verify -x509_strict -purpose smimesign -CAfile '%s/root.pem' "
	    "-untrusted '%s' '%s' >/dev/null", t->dir, t->conf.cert_file, pem);
	CHECK_INTEQ(run(cmd), 0);
	free(cmd);
	/* OpenSSL's smimeencrypt wants keyEncipherment, which EC leaves must not have. */
	if (EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA) {
		cmd = xasprintf("openssl verify -x509_strict -purpose smimeencrypt -CAfile "
		    "'%s/root.pem' -untrusted '%s' '%s' >/dev/null", t->dir, t->conf.cert_file, pem);
		CHECK_INTEQ(run(cmd), 0);
		free(cmd);
	}
	cmd = NULL;
	/* The linter must fail a certificate of another profile. */
	CHECK(lint(pem, t->conf.cert_file,
	    profile_names[(p + 1) % (PROFILE_ORGANIZATION_MULTIPURPOSE + 1)], "") != 0);
out:
	free(cmd);
	free(extra);
	free(pem);
	X509_REQ_free(csr);
	ca_result_clear(&res);
}

/* Requests that contradict their profile are the configuration's fault. */
static void
test_bad_requests(struct test_ca *t, EVP_PKEY *key)
{
	struct ca_request req;
	struct ca_result res;
	struct errbuf e;
	X509_REQ *csr = NULL;

	err_clear(&e);
	CHECK_INTEQ(csr_make(key, "bob@example.org", &csr, &e), 0);
	memset(&req, 0, sizeof(req));
	req.mail = "bob@example.org";
	req.validity = 30 * (int64_t)DAY;
	req.organization = "Example Org";
	CHECK_INTEQ(ca_submit(t->ca, csr, &req, &res), CA_MISCONFIGURED);
	CHECK_CONTAINS(res.reason, "allows no organization attributes");
	ca_result_clear(&res);

	req.profile = PROFILE_ORGANIZATION_STRICT;
	req.organization = "Example Org";
	CHECK_INTEQ(ca_submit(t->ca, csr, &req, &res), CA_MISCONFIGURED);
	CHECK_CONTAINS(res.reason, "organization_identifier is missing");
	ca_result_clear(&res);

	req.organization_identifier = "VATDE-1";
	req.organization = "...";
	CHECK_INTEQ(ca_submit(t->ca, csr, &req, &res), CA_MISCONFIGURED);
	CHECK_CONTAINS(res.reason, "not a usable subject value");
	ca_result_clear(&res);

	req.organization = "Example Org";
	req.country = "Germany";
	CHECK_INTEQ(ca_submit(t->ca, csr, &req, &res), CA_MISCONFIGURED);
	ca_result_clear(&res);

	req.country = NULL;
	req.validity = 826 * (int64_t)DAY;
	CHECK_INTEQ(ca_submit(t->ca, csr, &req, &res), CA_REJECTED);
	ca_result_clear(&res);
	X509_REQ_free(csr);
}

static char *
write_crl(struct test_ca *t, const struct crl_entry *v, size_t n, uint64_t number, int64_t life)
{
	unsigned char *der = NULL;
	size_t len = 0;
	struct errbuf e;
	char *path = xasprintf("%s/%s-%llu.crl", tmpdir, t->conf.name, (unsigned long long)number);

	err_clear(&e);
	/* The CRL profile itself; smimesync's CRLs come from the signer's list (test_smime_signer). */
	if (crl_sign(ca_issuer_cert(t->ca), ca_issuer_key(t->ca), v, n, number, time(NULL), life,
	    &der, &len, &e) != 0) {
		fprintf(stderr, "crl_sign: %s\n", e.text);
		CHECK(!"crl_sign");
	} else {
		CHECK_INTEQ(file_write_atomic(path, der, len, 0644, &e), 0);
	}
	free(der);
	return path;
}

/* A CRL names the revoked serial, and openssl verify -crl_check then refuses it. */
static void
test_crl(struct test_ca *t, EVP_PKEY *key)
{
	struct ca_request req;
	struct ca_result res;
	struct cert_info ci;
	struct errbuf e;
	X509_REQ *csr = NULL;
	struct crl_entry v[2];
	char *leaf = xasprintf("%s/%s-crl-leaf.pem", tmpdir, t->conf.name);
	char *crl1 = NULL, *crl2 = NULL, *cmd = NULL;
	int code = -1;
	unsigned char *der = NULL;
	size_t len;

	memset(&req, 0, sizeof(req));
	memset(&ci, 0, sizeof(ci));
	err_clear(&e);
	CHECK_INTEQ(crl_reason_parse("key-compromise", &code), 0);
	CHECK_INTEQ(code, 1);
	CHECK_INTEQ(crl_reason_parse("CessationOfOperation", &code), 0);
	CHECK_INTEQ(code, 5);
	CHECK(crl_reason_parse("certificateHold", &code) != 0);
	CHECK(crl_reason_parse("bogus", &code) != 0);
	CHECK_STREQ(crl_reason_name(9), "privilegeWithdrawn");
	CHECK(crl_sign(ca_issuer_cert(t->ca), ca_issuer_key(t->ca), NULL, 0, 1, time(NULL),
	    11 * (int64_t)DAY, &der, &len, &e) != 0);
	{
		/* Without a signer there is no revocation list to sign a CRL from. */
		struct ca_crl crl;

		CHECK(ca_make_crl(t->ca, 1, 7 * (int64_t)DAY, &crl, &e) != 0);
		CHECK_CONTAINS(e.text, "signed by the signer");
	}

	CHECK_INTEQ(csr_make(key, "carol@example.org", &csr, &e), 0);
	req.mail = "carol@example.org";
	req.validity = 30 * (int64_t)DAY;
	if (ca_submit(t->ca, csr, &req, &res) != CA_ISSUED || cert_info_get(res.cert, &ci, &e) != 0) {
		CHECK(!"issue for the CRL test");
		goto out;
	}
	CHECK_INTEQ(write_pem(leaf, res.cert), 0);
	/* Not revoked yet: a CRL with another serial (reason unspecified) passes. */
	v[0].serial = "0123456789ABCDEF01";
	v[0].revoked_at = time(NULL) - 10;
	v[0].reason = 0;
	crl1 = write_crl(t, v, 1, 1, 7 * (int64_t)DAY);
	cmd = xasprintf("openssl verify -crl_check -CRLfile '%s' -CAfile '%s/root.pem' -untrusted "
	    "'%s' '%s' >/dev/null 2>&1", crl1, t->dir, t->conf.cert_file, leaf);
	CHECK_INTEQ(run(cmd), 0);
	free(cmd);
	cmd = xasprintf("openssl crl -inform DER -in '%s' -noout -text | grep -q -i unspecified", crl1);
	CHECK(system(cmd) != 0);
	free(cmd);
	/* Revoked: listed with its reason, and verification fails with error 23. */
	v[1].serial = ci.serial;
	v[1].revoked_at = time(NULL) - 5;
	v[1].reason = 1;
	crl2 = write_crl(t, v, 2, 2, 7 * (int64_t)DAY);
	cmd = xasprintf("openssl verify -crl_check -CRLfile '%s' -CAfile '%s/root.pem' -untrusted "
	    "'%s' '%s' 2>&1 | grep -q 'certificate revoked'", crl2, t->dir, t->conf.cert_file, leaf);
	CHECK_INTEQ(run(cmd), 0);
	free(cmd);
	cmd = xasprintf("openssl crl -inform DER -in '%s' -noout -text >'%s.txt' && "
	    "grep -q 'Version 2' '%s.txt' && grep -q 'X509v3 CRL Number:' '%s.txt' && "
	    "grep -A1 'CRL Number' '%s.txt' | grep -qw 2 && grep -q 'Key Compromise' '%s.txt' && "
	    "grep -q 'X509v3 Authority Key Identifier' '%s.txt' && grep -q 'Serial Number: %s' '%s.txt'",
	    crl2, crl2, crl2, crl2, crl2, crl2, crl2, ci.serial, crl2);
	CHECK_INTEQ(run(cmd), 0);
out:
	free(cmd);
	free(crl1);
	free(crl2);
	free(leaf);
	free(der);
	cert_info_clear(&ci);
	ca_result_clear(&res);
	X509_REQ_free(csr);
}

int
main(void)
{
	static const struct {
		enum key_type kt;
		const char *name;
	} keys[] = {
		{ KEY_TYPE_RSA2048, "rsa2048" },
		{ KEY_TYPE_RSA3072, "rsa3072" },
		{ KEY_TYPE_P256, "p256" },
		{ KEY_TYPE_P384, "p384" },
	};
	EVP_PKEY *pk[4] = { NULL };
	struct test_ca cas[2];
	char tmpl[] = "/tmp/smime-profiles-XXXXXX";
	struct errbuf e;
	char *cmd;

	srcdir = getenv("top_srcdir");
	if (srcdir == NULL)
		srcdir = ".";
	if (mkdtemp(tmpl) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	tmpdir = tmpl;
	ca_setup(&cas[0], "ec-ca", KEY_TYPE_P384);
	ca_setup(&cas[1], "rsa-ca", KEY_TYPE_RSA2048);
	for (size_t i = 0; i < 4; i++) {
		err_clear(&e);
		if (key_generate(keys[i].kt, &pk[i], &e) != 0) {
			fprintf(stderr, "%s\n", e.text);
			return 1;
		}
	}
	for (size_t c = 0; c < 2; c++) {
		for (size_t i = 0; i < 4; i++) {
			for (int p = 0; p <= PROFILE_ORGANIZATION_MULTIPURPOSE; p++)
				issue_and_check(&cas[c], pk[i], keys[i].name, (enum cert_profile)p,
				    "alice@example.org");
		}
		/* A non-ASCII local part (SmtpUTF8Mailbox) and a mailbox too long for a CN. */
		issue_and_check(&cas[c], pk[2], "utf8", PROFILE_MAILBOX_STRICT,
		    "j\xc3\xb6rg.m\xc3\xbcller@example.org");
		issue_and_check(&cas[c], pk[3], "long", PROFILE_MAILBOX_MULTIPURPOSE,
		    "a.very.long.local.part.that.does.not.fit.into.a.common.name@example.org");
		issue_and_check(&cas[c], pk[3], "long", PROFILE_ORGANIZATION_STRICT,
		    "a.very.long.local.part.that.does.not.fit.into.a.common.name@example.org");
	}
	/* One RSA-4096 key (slow to make): the largest size a group may choose. */
	{
		EVP_PKEY *big = NULL;

		err_clear(&e);
		if (key_generate(KEY_TYPE_RSA4096, &big, &e) != 0) {
			fprintf(stderr, "%s\n", e.text);
			CHECK(!"rsa4096 key");
		} else {
			issue_and_check(&cas[0], big, "rsa4096", PROFILE_ORGANIZATION_STRICT,
			    "alice@example.org");
			issue_and_check(&cas[1], big, "rsa4096", PROFILE_MAILBOX_STRICT,
			    "alice@example.org");
		}
		EVP_PKEY_free(big);
	}
	test_bad_requests(&cas[0], pk[2]);
	test_crl(&cas[0], pk[2]);
	test_crl(&cas[1], pk[0]);
	for (size_t i = 0; i < 4; i++)
		EVP_PKEY_free(pk[i]);
	ca_teardown(&cas[0]);
	ca_teardown(&cas[1]);
	if (getenv("KEEP") == NULL) {
		cmd = xasprintf("rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", tmpdir);
		free(cmd);
	}
	ERR_clear_error();
	return check_finish();
}
