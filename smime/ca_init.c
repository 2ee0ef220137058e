/* SPDX-License-Identifier: ISC */
/*
 * "smimesync ca init": create a two-level internal CA for a [ca] section.
 *
 * A root (self-signed, only signs the issuing CA) and an issuing CA
 * (pathlen 0, EKU emailProtection, the S/MIME policy) that signs the
 * leaves. Files written:
 *
 *   key_file    issuing CA key, mode 0600
 *   cert_file   issuing CA certificate
 *   chain_file  issuing CA then root
 *   root.pem    root certificate, next to cert_file (distribute it)
 *   root.key    root key, mode 0600, next to cert_file: move it offline
 *
 * Nothing existing is overwritten: a CA that already signed certificates
 * must never be replaced by accident.
 */
#include "config.h"

#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/x509v3.h>

#include "common/buf.h"
#include "common/fileutil.h"
#include "common/xalloc.h"
#include "smime/ca.h"
#include "smime/cert.h"
#include "smime/key.h"
#include "smime/smime_internal.h"

#define POLICY_MAILBOX_STRICT "2.23.140.1.5.1.3"

/* The directory part of path (new). */
static char *
dir_of(const char *path)
{
	char *copy = xstrdup(path);
	char *d = xstrdup(dirname(copy));

	free(copy);
	return d;
}

static int
make_name(const char *cn, const char *org, const char *country, X509_NAME **out,
    struct errbuf *e)
{
	X509_NAME *n = X509_NAME_new();

	if (n == NULL) {
		err_set(e, "cannot make a name");
		return -1;
	}
	if ((country != NULL && country[0] != '\0' && smime_name_add(n, "C", country, e) != 0) ||
	    smime_name_add(n, "O", org, e) != 0 || smime_name_add(n, "CN", cn, e) != 0) {
		X509_NAME_free(n);
		return -1;
	}
	*out = n;
	return 0;
}

/*
 * A CA certificate for subject/key, signed by issuer_key. issuer == NULL
 * makes it self-signed (the root).
 */
static int
make_ca_cert(X509_NAME *subject, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key,
    time_t not_before, time_t not_after, X509 **out, struct errbuf *e)
{
	X509 *x = X509_new();
	X509 *signer_cert;
	int rc = -1;

	if (x == NULL || X509_set_version(x, X509_VERSION_3) != 1 ||
	    X509_set_subject_name(x, subject) != 1 || X509_set_pubkey(x, key) != 1 ||
	    X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer) : subject) != 1) {
		err_set(e, "cannot build a CA certificate");
		err_add_openssl(e);
		goto out;
	}
	signer_cert = issuer != NULL ? issuer : x;
	if (smime_set_random_serial(x, e) != 0 ||
	    smime_set_validity(x, not_before, not_after, e) != 0)
		goto out;
	if (issuer == NULL) {
		/* SBR 7.1.2.1: root with no EKU, no policies, no pathLen. */
		if (smime_add_ext_conf(x, x, NID_basic_constraints, "critical,CA:TRUE", e) != 0 ||
		    smime_add_ext_conf(x, x, NID_key_usage, "critical,keyCertSign,cRLSign", e) != 0 ||
		    smime_add_ext_conf(x, x, NID_subject_key_identifier, "hash", e) != 0)
			goto out;
	} else {
		/*
		 * SBR 7.1.2.2. The [ca] crl_url and aia_url describe the
		 * issuing CA (its CRL, its certificate): right for leaves,
		 * wrong inside the issuing CA's own certificate, where they
		 * would have to name the root's CRL and certificate. So they
		 * are left out here rather than pointing verifiers at a CRL
		 * the root did not sign.
		 */
		if (smime_add_ext_conf(x, signer_cert, NID_basic_constraints,
		    "critical,CA:TRUE,pathlen:0", e) != 0 ||
		    smime_add_ext_conf(x, signer_cert, NID_key_usage,
		    "critical,keyCertSign,cRLSign", e) != 0 ||
		    smime_add_ext_conf(x, signer_cert, NID_ext_key_usage, "emailProtection", e) != 0 ||
		    smime_add_policy(x, POLICY_MAILBOX_STRICT, e) != 0 ||
		    smime_add_ext_conf(x, signer_cert, NID_subject_key_identifier, "hash", e) != 0 ||
		    smime_add_ext_conf(x, signer_cert, NID_authority_key_identifier,
		    "keyid:always", e) != 0)
			goto out;
	}
	if (smime_sign_cert(x, issuer_key, e) != 0)
		goto out;
	*out = x;
	x = NULL;
	rc = 0;
out:
	X509_free(x);
	return rc;
}

static int
write_certs(const char *path, X509 *a, X509 *b, struct errbuf *e)
{
	struct buf out;
	char *pem = NULL;
	size_t len = 0;
	int rc = -1;

	buf_init(&out, 0);
	if (cert_to_pem(a, &pem, &len, e) != 0)
		goto out;
	if (buf_append(&out, pem, len) != 0)
		goto out;
	free(pem);
	pem = NULL;
	if (b != NULL) {
		if (cert_to_pem(b, &pem, &len, e) != 0 || buf_append(&out, pem, len) != 0)
			goto out;
	}
	if (file_write_atomic(path, out.data, out.len, 0644, e) != 0)
		goto out;
	rc = 0;
out:
	if (rc != 0)
		err_prefix(e, "%s", path);
	free(pem);
	buf_free(&out);
	return rc;
}

static int
refuse_existing(const struct conf_ca *conf, const char *what, const char *path,
    struct errbuf *e)
{
	if (path != NULL && file_exists(path)) {
		err_set(e, "[ca %s]: %s %s already exists; remove it or point %s elsewhere "
		    "(ca init never overwrites a CA)", conf->name, what, path, what);
		return -1;
	}
	return 0;
}

int
ca_init(const struct conf_ca *conf, struct errbuf *e)
{
	const char *org = conf->organization;
	int64_t root_validity = conf->root_validity;
	int64_t issuing_validity = conf->issuing_validity;
	char *root_cn = NULL;
	char *issuing_cn = NULL;
	char *cert_dir = NULL;
	char *key_dir = NULL;
	char *chain_dir = NULL;
	char *root_pem = NULL;
	char *root_key_path = NULL;
	X509_NAME *root_name = NULL;
	X509_NAME *issuing_name = NULL;
	EVP_PKEY *root_key = NULL;
	EVP_PKEY *issuing_key = NULL;
	X509 *root = NULL;
	X509 *issuing = NULL;
	time_t now = time(NULL);
	time_t root_end;
	time_t issuing_end;
	int rc = -1;

	if (conf->cert_file == NULL || conf->key_file == NULL || conf->chain_file == NULL) {
		err_set(e, "[ca %s]: cert_file, key_file and chain_file must all be set for "
		    "ca init", conf->name);
		goto out;
	}
	/* No defaults here: the option table's are in every loaded [ca]. */
	if (org == NULL || root_validity <= 0 || issuing_validity <= 0) {
		err_set(e, "[ca %s]: organization, root_validity and issuing_validity must be "
		    "set for ca init", conf->name);
		goto out;
	}
	cert_dir = dir_of(conf->cert_file);
	key_dir = dir_of(conf->key_file);
	chain_dir = dir_of(conf->chain_file);
	root_pem = xasprintf("%s/root.pem", cert_dir);
	root_key_path = xasprintf("%s/root.key", cert_dir);
	if (refuse_existing(conf, "cert_file", conf->cert_file, e) != 0 ||
	    refuse_existing(conf, "key_file", conf->key_file, e) != 0 ||
	    refuse_existing(conf, "chain_file", conf->chain_file, e) != 0 ||
	    refuse_existing(conf, "the root key", root_key_path, e) != 0 ||
	    refuse_existing(conf, "the root certificate", root_pem, e) != 0)
		goto out;
	if (mkdir_p(key_dir, 0700, e) != 0 || mkdir_p(cert_dir, 0755, e) != 0 ||
	    mkdir_p(chain_dir, 0755, e) != 0)
		goto out;

	root_cn = conf->root_common_name != NULL ? xstrdup(conf->root_common_name) :
	    xasprintf("%s S/MIME Root CA", org);
	issuing_cn = conf->issuing_common_name != NULL ? xstrdup(conf->issuing_common_name) :
	    xasprintf("%s S/MIME Issuing CA", org);
	if (make_name(root_cn, org, conf->country, &root_name, e) != 0 ||
	    make_name(issuing_cn, org, conf->country, &issuing_name, e) != 0) {
		err_prefix(e, "[ca %s]", conf->name);
		goto out;
	}
	if (key_generate(conf->init_key_type, &root_key, e) != 0 ||
	    key_generate(conf->init_key_type, &issuing_key, e) != 0)
		goto out;

	root_end = now + (time_t)root_validity;
	issuing_end = now + (time_t)issuing_validity;
	if (issuing_end > root_end)
		issuing_end = root_end; /* never outlive the root */
	if (make_ca_cert(root_name, root_key, NULL, root_key, now - SMIME_BACKDATE, root_end,
	    &root, e) != 0 ||
	    make_ca_cert(issuing_name, issuing_key, root, root_key, now - SMIME_BACKDATE,
	    issuing_end, &issuing, e) != 0) {
		err_prefix(e, "[ca %s]", conf->name);
		goto out;
	}

	/* Keys first, the issuing certificate last. */
	if (key_save_pem_file(root_key_path, root_key, e) != 0 ||
	    write_certs(root_pem, root, NULL, e) != 0 ||
	    key_save_pem_file(conf->key_file, issuing_key, e) != 0 ||
	    write_certs(conf->chain_file, issuing, root, e) != 0 ||
	    write_certs(conf->cert_file, issuing, NULL, e) != 0)
		goto out;
	rc = 0;
out:
	free(root_cn);
	free(issuing_cn);
	free(cert_dir);
	free(key_dir);
	free(chain_dir);
	free(root_pem);
	free(root_key_path);
	X509_NAME_free(root_name);
	X509_NAME_free(issuing_name);
	EVP_PKEY_free(root_key);
	EVP_PKEY_free(issuing_key);
	X509_free(root);
	X509_free(issuing);
	return rc;
}
