/* SPDX-License-Identifier: ISC */
/*
 * p11-probe: the signer's own signing code (the local CA in this process,
 * ca_open() without a signer: issuer.c and ca_key.c, exactly what the
 * signer runs) against a real PKCS#11 token, with the token disturbed
 * between two signatures. For tests/integration/hsm_softhsm.sh.
 *
 *   p11-probe -c CONF [--ca NAME] [--between CMD] [--logout] [--count N]
 *             [--signatures] OUT_DIR
 *
 * Issues N (default 2) P-256 leaves for probe-I@example.org in the
 * section's first profile, writing OUT_DIR/leaf-I.pem and the chain in
 * OUT_DIR/chain.pem. Between the first and the second it runs CMD with
 * /bin/sh (e.g. moves the token directory away and back), and with
 * --logout logs this process out of the token behind libp11's back (a raw
 * C_Logout on the same module: every session of the process is then
 * logged out, as when a token forgets its login), so the next signature
 * meets CKR_USER_NOT_LOGGED_IN (SoftHSM2 answers CKR_OBJECT_HANDLE_INVALID
 * then: the key is private). With --signatures it first signs a message
 * with the token key in every scheme OpenSSL offers for it (RSA: PKCS#1
 * v1.5 and PSS; EC: ECDSA) and verifies each with cert_file's public key.
 * Exit status: 0 every leaf issued, 1 usage, 2 a leaf was not issued
 * (stderr says why).
 */
#include "config.h"

#include <dlfcn.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <p11-kit/pkcs11.h>

#include <openssl/err.h>
#include <openssl/rsa.h>

#include "common/buf.h"
#include "common/fileutil.h"
#include "common/log.h"
#include "common/p11uri.h"
#include "common/xalloc.h"
#include "conf/conf.h"
#include "smime/ca.h"
#include "smime/ca_key.h"
#include "smime/cert.h"
#include "smime/key.h"

/* Log out every session of this process on the token of uri. */
static int
logout_behind(const char *uri)
{
	struct p11_uri u;
	struct errbuf e;
	CK_FUNCTION_LIST_PTR f = NULL;
	CK_C_GetFunctionList getfl;
	CK_SLOT_ID slots[64];
	CK_ULONG n = 64;
	void *lib;
	int rc = -1;

	if (p11_uri_parse(uri, &u, &e) != 0) {
		fprintf(stderr, "p11-probe: %s\n", e.text);
		return -1;
	}
	/* The library libp11 loaded: the same instance, already initialised. */
	lib = dlopen(u.module_path, RTLD_NOW | RTLD_NOLOAD);
	getfl = lib != NULL ? (CK_C_GetFunctionList)dlsym(lib, "C_GetFunctionList") : NULL;
	if (getfl == NULL || getfl(&f) != CKR_OK ||
	    f->C_GetSlotList(CK_TRUE, slots, &n) != CKR_OK) {
		fprintf(stderr, "p11-probe: cannot reach %s behind libp11\n", u.module_path);
		goto out;
	}
	for (CK_ULONG i = 0; i < n; i++) {
		CK_SESSION_HANDLE s;
		CK_RV rv;

		if (f->C_OpenSession(slots[i], CKF_SERIAL_SESSION, NULL, NULL, &s) != CKR_OK)
			continue;
		rv = f->C_Logout(s);
		fprintf(stderr, "p11-probe: C_Logout on slot %lu: 0x%lx\n", (unsigned long)slots[i],
		    (unsigned long)rv);
		(void)f->C_CloseSession(s);
		if (rv == CKR_OK)
			rc = 0;
	}
out:
	if (lib != NULL)
		dlclose(lib);
	p11_uri_clear(&u);
	return rc;
}

/* Sign msg with the token key (pss: RSA-PSS, salt = digest length) and verify. */
static int
sign_verify(EVP_PKEY *key, EVP_PKEY *pub, const EVP_MD *md, bool pss, const char *what)
{
	static const unsigned char msg[] = "p11-probe: a signature by the token";
	unsigned char sig[1024];
	size_t len = sizeof(sig);
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pc = NULL;
	int ok;

	ok = c != NULL && EVP_DigestSignInit(c, &pc, md, NULL, key) == 1 &&
	    (!pss || (EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) == 1 &&
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, RSA_PSS_SALTLEN_DIGEST) == 1)) &&
	    EVP_DigestSign(c, sig, &len, msg, sizeof(msg)) == 1;
	EVP_MD_CTX_free(c);
	c = EVP_MD_CTX_new();
	pc = NULL;
	ok = ok && c != NULL && EVP_DigestVerifyInit(c, &pc, md, NULL, pub) == 1 &&
	    (!pss || (EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) == 1 &&
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, RSA_PSS_SALTLEN_DIGEST) == 1)) &&
	    EVP_DigestVerify(c, sig, len, msg, sizeof(msg)) == 1;
	EVP_MD_CTX_free(c);
	printf("%s %s\n", what, ok ? "verifies" : "FAILED");
	if (!ok)
		ERR_print_errors_fp(stderr);
	return ok ? 0 : -1;
}

static int
signatures(const struct conf_ca *conf)
{
	STACK_OF(X509) *certs = NULL;
	struct ca_key *k = NULL;
	struct errbuf e;
	EVP_PKEY *pub;
	int rc = -1;

	if (cert_load_pem_file(conf->cert_file, &certs, &e) != 0 ||
	    ca_key_load(conf->key_uri, conf->pin_file, &k, &e) != 0) {
		fprintf(stderr, "p11-probe: %s\n", e.text);
		goto out;
	}
	pub = X509_get0_pubkey(sk_X509_value(certs, 0));
	if (EVP_PKEY_get_base_id(pub) == EVP_PKEY_RSA)
		rc = sign_verify(ca_key_pkey(k), pub, EVP_sha256(), false, "RSA PKCS#1 v1.5 SHA-256") |
		    sign_verify(ca_key_pkey(k), pub, EVP_sha256(), true, "RSA-PSS SHA-256") |
		    sign_verify(ca_key_pkey(k), pub, EVP_sha384(), true, "RSA-PSS SHA-384");
	else
		rc = sign_verify(ca_key_pkey(k), pub, EVP_PKEY_get_bits(pub) > 256 ? EVP_sha384() :
		    EVP_sha256(), false, EVP_PKEY_get_bits(pub) > 256 ? "ECDSA P-384 SHA-384" :
		    "ECDSA P-256 SHA-256");
out:
	ca_key_free(k);
	sk_X509_pop_free(certs, X509_free);
	return rc;
}

static int
issue_one(struct ca *ca, const struct conf_group *g, int i, const char *dir)
{
	struct ca_request req;
	struct ca_result r;
	struct errbuf e;
	EVP_PKEY *key = NULL;
	X509_REQ *csr = NULL;
	char *mail = xasprintf("probe-%d@example.org", i);
	char *path = xasprintf("%s/leaf-%d.pem", dir, i);
	char *pem = NULL;
	size_t len = 0;
	enum ca_outcome o;
	int rc = -1;

	memset(&r, 0, sizeof(r));
	memset(&req, 0, sizeof(req));
	if (key_generate(KEY_TYPE_P256, &key, &e) != 0 || csr_make(key, mail, &csr, &e) != 0) {
		fprintf(stderr, "p11-probe: %s\n", e.text);
		goto out;
	}
	req.mail = mail;
	req.validity = 30 * 86400;
	req.profile = g != NULL ? g->profile : PROFILE_MAILBOX_STRICT;
	if (g != NULL) {
		req.organization = g->organization;
		req.organization_identifier = g->organization_identifier;
		req.country = g->country;
	}
	o = ca_submit(ca, csr, &req, &r);
	if (o != CA_ISSUED) {
		fprintf(stderr, "p11-probe: leaf %d: %s: %s\n", i, ca_outcome_name(o), r.reason);
		goto out;
	}
	if (cert_to_pem(r.cert, &pem, &len, &e) != 0 ||
	    file_write_atomic(path, pem, len, 0644, &e) != 0) {
		fprintf(stderr, "p11-probe: %s\n", e.text);
		goto out;
	}
	printf("issued %s\n", mail);
	rc = 0;
out:
	free(pem);
	ca_result_clear(&r);
	X509_REQ_free(csr);
	EVP_PKEY_free(key);
	free(mail);
	free(path);
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "ca", required_argument, NULL, 'n' },
		{ "between", required_argument, NULL, 'b' },
		{ "logout", no_argument, NULL, 'l' },
		{ "count", required_argument, NULL, 'k' },
		{ "signatures", no_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	struct conf_errors errs = { NULL, 0 };
	struct config *cfg = NULL;
	const struct conf_ca *conf = NULL;
	const struct conf_group *g = NULL;
	const char *conf_path = NULL, *name = NULL, *between = NULL;
	struct ca *ca = NULL;
	struct errbuf e;
	bool logout = false, sigs = false;
	int count = 2;
	int ch, rc = 2;

	log_init("p11-probe", LOGL_INFO);
	while ((ch = getopt_long(argc, argv, "c:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			conf_path = optarg;
			break;
		case 'n':
			name = optarg;
			break;
		case 'b':
			between = optarg;
			break;
		case 'l':
			logout = true;
			break;
		case 'k':
			count = (int)strtol(optarg, NULL, 10);
			break;
		case 's':
			sigs = true;
			break;
		default:
			goto usage;
		}
	}
	if (conf_path == NULL || optind + 1 != argc || count < 1)
		goto usage;
	if (config_load(conf_path, &cfg, &errs) != 0) {
		for (size_t i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msgs[i]);
		conf_errors_free(&errs);
		return 1;
	}
	conf = name != NULL ? config_find_ca(cfg, name) : &cfg->cas[0];
	if (conf == NULL || conf->type != CA_TYPE_LOCAL) {
		fprintf(stderr, "p11-probe: no local [ca %s]\n", name != NULL ? name : "");
		goto out;
	}
	for (size_t i = 0; i < cfg->n_groups && g == NULL; i++)
		if (cfg->groups[i].ca == conf)
			g = &cfg->groups[i];
	if (sigs && (conf->key_uri == NULL || signatures(conf) != 0))
		goto out;
	if (ca_open(conf, NULL, &ca, &e) != 0) {
		fprintf(stderr, "p11-probe: %s\n", e.text);
		goto out;
	}
	{
		char *chain = xasprintf("%s/chain.pem", argv[optind]);
		char *pem = NULL;
		size_t len = 0;
		struct buf all;
		int ok = 0;

		buf_init(&all, 0);
		for (int i = 0; i < sk_X509_num(ca_chain(ca)); i++) {
			ok = cert_to_pem(sk_X509_value(ca_chain(ca), i), &pem, &len, &e) == 0 &&
			    buf_append(&all, pem, len) == 0;
			free(pem);
			pem = NULL;
			if (!ok)
				break;
		}
		if (ok && file_write_atomic(chain, all.data, all.len, 0644, &e) != 0)
			ok = 0;
		buf_free(&all);
		free(chain);
		if (!ok) {
			fprintf(stderr, "p11-probe: cannot write the chain\n");
			goto out;
		}
	}
	for (int i = 1; i <= count; i++) {
		if (i == 2 && between != NULL && system(between) != 0) {
			fprintf(stderr, "p11-probe: %s failed\n", between);
			goto out;
		}
		if (i == 2 && logout && logout_behind(conf->key_uri) != 0)
			goto out;
		if (issue_one(ca, g, i, argv[optind]) != 0)
			goto out;
	}
	rc = 0;
out:
	ca_close(ca);
	config_free(cfg);
	return rc;
usage:
	fprintf(stderr, "usage: p11-probe -c CONF [--ca NAME] [--between CMD] [--logout] "
	    "[--count N] [--signatures] OUT_DIR\n");
	return 1;
}
