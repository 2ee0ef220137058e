/* SPDX-License-Identifier: ISC */
/*
 * "smimesync ca init" and "ca renew-issuing": the two-level internal CA of
 * a [ca] section (ca.h).
 *
 * A root (self-signed, only signs issuing CAs) and an issuing CA (pathlen
 * 0) that signs the leaves. The issuing certificate carries every
 * certificatePolicies OID and every EKU the groups using the CA need
 * (profile_issuing_extensions()), so that a leaf validates for what it
 * claims: "openssl verify -policy OID -explicit_policy", clientAuth for a
 * multipurpose leaf. Files written by ca init:
 *
 *   key_file       issuing CA key, mode 0600 (not with key_uri: the key is
 *                  generated inside the token, or one already there is used)
 *   cert_file      issuing CA certificate
 *   chain_file     issuing CA then root
 *   root.pem       root certificate, next to cert_file (distribute it)
 *   root_key_out   the root key, mode 0600, only where the admin said, and
 *                  never in the directory of the issuing key, the CA files
 *                  or the state: it belongs offline from this moment on
 *
 * Nothing existing is overwritten: a CA that already signed certificates
 * must never be replaced by accident.
 *
 * renew-issuing re-certifies the issuing key: same subject, same key (so
 * the same subjectKeyIdentifier), a new serial, validity and the
 * extensions the groups need now, signed by the root key the admin brings
 * back for that moment. Every certificate issued so far keeps validating
 * (against either issuing certificate: same name, same key) and the CRLs
 * the issuing key signs keep covering all of them. The root key is read,
 * used and wiped; it is never written.
 */
#include "config.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "common/buf.h"
#include "common/fileutil.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "smime/ca.h"
#include "smime/ca_key.h"
#include "smime/cert.h"
#include "smime/key.h"
#include "smime/smime_internal.h"

/* An offline root key brought back: a PEM file of a few kilobytes. */
#define ROOT_KEY_MAX (64 * 1024)

/* The directory part of path (new). */
static char *
dir_of(const char *path)
{
	char *copy = xstrdup(path);
	char *d = xstrdup(dirname(copy));

	free(copy);
	return d;
}

/* The canonical directory of path's parent (new), or NULL if it does not exist. */
static char *
real_dir_of(const char *path)
{
	char *d = dir_of(path);
	char *r = realpath(d, NULL);

	free(d);
	return r;
}

/* Is dir (canonical) at or below top (any spelling)? */
static bool
dir_within(const char *dir, const char *top)
{
	char *t;
	size_t n;
	bool in;

	if (dir == NULL || top == NULL || (t = realpath(top, NULL)) == NULL)
		return false;
	n = strlen(t);
	in = strncmp(dir, t, n) == 0 && (dir[n] == '\0' || dir[n] == '/' || n == 1);
	free(t);
	return in;
}

unsigned
ca_profiles_used(const struct config *cfg, const struct conf_ca *ca)
{
	unsigned mask = 0;

	for (size_t i = 0; i < cfg->n_groups; i++)
		if (cfg->groups[i].ca == ca)
			mask |= CERT_PROFILE_BIT(cfg->groups[i].profile);
	/* A CA no group uses yet issues in the default profile. */
	return mask != 0 ? mask : CERT_PROFILE_BIT(PROFILE_MAILBOX_STRICT);
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
 * makes it self-signed (the root); otherwise an issuing CA for profiles.
 */
static int
make_ca_cert(X509_NAME *subject, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key,
    unsigned profiles, time_t not_before, time_t not_after, X509 **out, struct errbuf *e)
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
		    profile_issuing_extensions(x, signer_cert, profiles, e) != 0 ||
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

/* Write certificates a (and b) as PEM, atomically, mode 0644. */
static int
write_certs(const char *path, X509 *a, STACK_OF(X509) *rest, struct errbuf *e)
{
	struct buf out;
	char *pem = NULL;
	size_t len = 0;
	int rc = -1;

	buf_init(&out, 0);
	for (int i = -1; i < (rest != NULL ? sk_X509_num(rest) : 0); i++) {
		X509 *x = i < 0 ? a : sk_X509_value(rest, i);

		if (cert_to_pem(x, &pem, &len, e) != 0 || buf_append(&out, pem, len) != 0)
			goto out;
		free(pem);
		pem = NULL;
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
write_one(const char *path, X509 *a, X509 *b, struct errbuf *e)
{
	STACK_OF(X509) *rest = NULL;
	int rc;

	if (b != NULL) {
		rest = sk_X509_new_null();
		if (rest == NULL || sk_X509_push(rest, b) == 0)
			fatal("out of memory");
	}
	rc = write_certs(path, a, rest, e);
	sk_X509_free(rest);
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

/*
 * Where the root key may go: a new file, whose directory exists and is
 * none of the places the running service keeps its keys and state.
 */
static int
check_root_key_out(const struct conf_ca *conf, const struct ca_init_params *p, struct errbuf *e)
{
	const char *out = p->root_key_out;
	const char *const near[] = { conf->key_file, conf->cert_file, conf->chain_file,
	    p->master_key_file };
	char *dir = NULL;
	int rc = -1;

	if (out == NULL || out[0] == '\0') {
		err_set(e, "ca init writes the root key only where you say: add --root-key-out "
		    "FILE, on removable media or another machine's share, never beside the "
		    "issuing key; the root key is needed again only for ca renew-issuing");
		return -1;
	}
	if (file_exists(out)) {
		err_set(e, "--root-key-out %s already exists; ca init never overwrites a key", out);
		return -1;
	}
	dir = real_dir_of(out);
	if (dir == NULL) {
		err_set(e, "--root-key-out %s: its directory does not exist (%s); mount the "
		    "removable media first", out, strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < ARRAY_LEN(near); i++) {
		char *d = near[i] != NULL ? real_dir_of(near[i]) : NULL;
		bool same = d != NULL && strcmp(d, dir) == 0;

		free(d);
		if (same) {
			err_set(e, "--root-key-out %s is in %s, beside the CA's own files; the root "
			    "key must live apart from the issuing key: write it to removable media "
			    "or an offline machine", out, dir);
			goto out;
		}
	}
	if (dir_within(dir, p->state_dir)) {
		err_set(e, "--root-key-out %s is inside the state directory %s, which the "
		    "service reads and backs up; write the root key somewhere offline", out,
		    p->state_dir);
		goto out;
	}
	rc = 0;
out:
	free(dir);
	return rc;
}

/* Sign and verify a throwaway digest: is the key (on a token) usable? */
static int
self_test(EVP_PKEY *key, const char *what, struct errbuf *e)
{
	static const unsigned char msg[] = "smimesync ca init: key self-test";
	unsigned char sig[1024];
	size_t sig_len = sizeof(sig);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	const EVP_MD *digest = NULL;
	int ok;

	if (md == NULL)
		fatal("out of memory");
	if (smime_sign_digest(key, &digest, e) != 0) {
		EVP_MD_CTX_free(md);
		err_prefix(e, "%s", what);
		return -1;
	}
	ok = EVP_DigestSignInit(md, NULL, digest, NULL, key) == 1 &&
	    EVP_DigestSign(md, sig, &sig_len, msg, sizeof(msg)) == 1 &&
	    EVP_DigestVerifyInit(md, NULL, digest, NULL, key) == 1 &&
	    EVP_DigestVerify(md, sig, sig_len, msg, sizeof(msg)) == 1;
	EVP_MD_CTX_free(md);
	if (!ok) {
		err_set(e, "%s cannot sign (a key made for another purpose? CKA_SIGN must be "
		    "true)", what);
		err_add_openssl(e);
		return -1;
	}
	return 0;
}

int
ca_init(const struct conf_ca *conf, struct ca_init_params *p, struct errbuf *e)
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
	char *pin_path = NULL;
	X509_NAME *root_name = NULL;
	X509_NAME *issuing_name = NULL;
	EVP_PKEY *root_key = NULL;
	EVP_PKEY *issuing_key = NULL;
	struct ca_key *token_key = NULL;
	EVP_PKEY *issuing_pub;
	X509 *root = NULL;
	X509 *issuing = NULL;
	time_t now = time(NULL);
	time_t root_end;
	time_t issuing_end;
	int rc = -1;

	p->token_key_created = false;
	if (conf->cert_file == NULL || (conf->key_file == NULL && conf->key_uri == NULL) ||
	    conf->chain_file == NULL) {
		err_set(e, "[ca %s]: cert_file, key_file (or key_uri) and chain_file must all be "
		    "set for ca init", conf->name);
		goto out;
	}
	/* No defaults here: the option table's are in every loaded [ca]. */
	if (org == NULL || root_validity <= 0 || issuing_validity <= 0) {
		err_set(e, "[ca %s]: organization, root_validity and issuing_validity must be "
		    "set for ca init", conf->name);
		goto out;
	}
	if (check_root_key_out(conf, p, e) != 0)
		goto out;
	cert_dir = dir_of(conf->cert_file);
	chain_dir = dir_of(conf->chain_file);
	root_pem = xasprintf("%s/root.pem", cert_dir);
	if (refuse_existing(conf, "cert_file", conf->cert_file, e) != 0 ||
	    (conf->key_uri == NULL && refuse_existing(conf, "key_file", conf->key_file, e) != 0) ||
	    refuse_existing(conf, "chain_file", conf->chain_file, e) != 0 ||
	    refuse_existing(conf, "the root certificate", root_pem, e) != 0)
		goto out;
	if (conf->key_uri == NULL) {
		key_dir = dir_of(conf->key_file);
		if (mkdir_p(key_dir, 0700, e) != 0)
			goto out;
	}
	if (mkdir_p(cert_dir, 0755, e) != 0 || mkdir_p(chain_dir, 0755, e) != 0)
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
	if (key_generate(conf->init_key_type, &root_key, e) != 0)
		goto out;
	if (conf->key_uri != NULL) {
		/* The key is made (or found) inside the token and stays there. */
		if (ca_key_pin_path(conf->pin_file, conf->pin_credential, &pin_path, e) != 0 ||
		    ca_key_token_make(conf->key_uri, pin_path, conf->init_key_type, false,
		    &p->token_key_created, e) != 0 ||
		    ca_key_load(conf->key_uri, pin_path, &token_key, e) != 0 ||
		    self_test(ca_key_pkey(token_key), conf->key_uri, e) != 0) {
			err_prefix(e, "[ca %s] key_uri", conf->name);
			goto out;
		}
		issuing_pub = ca_key_pkey(token_key);
	} else {
		if (key_generate(conf->init_key_type, &issuing_key, e) != 0)
			goto out;
		issuing_pub = issuing_key;
	}

	root_end = now + (time_t)root_validity;
	issuing_end = now + (time_t)issuing_validity;
	if (issuing_end > root_end)
		issuing_end = root_end; /* never outlive the root */
	if (make_ca_cert(root_name, root_key, NULL, root_key, 0, now - SMIME_BACKDATE, root_end,
	    &root, e) != 0 ||
	    make_ca_cert(issuing_name, issuing_pub, root, root_key, p->profiles,
	    now - SMIME_BACKDATE, issuing_end, &issuing, e) != 0) {
		err_prefix(e, "[ca %s]", conf->name);
		goto out;
	}

	/* Keys first, the issuing certificate last: it marks a finished CA. */
	if (key_save_pem_file(p->root_key_out, root_key, e) != 0 ||
	    write_one(root_pem, root, NULL, e) != 0 ||
	    (issuing_key != NULL && key_save_pem_file(conf->key_file, issuing_key, e) != 0) ||
	    write_one(conf->chain_file, issuing, root, e) != 0 ||
	    write_one(conf->cert_file, issuing, NULL, e) != 0)
		goto out;
	rc = 0;
out:
	free(root_cn);
	free(issuing_cn);
	free(cert_dir);
	free(key_dir);
	free(chain_dir);
	free(root_pem);
	free(pin_path);
	X509_NAME_free(root_name);
	X509_NAME_free(issuing_name);
	EVP_PKEY_free(root_key);
	EVP_PKEY_free(issuing_key);
	ca_key_free(token_key);
	X509_free(root);
	X509_free(issuing);
	return rc;
}

/*
 * The offline root key, brought back from wherever it was kept. Its
 * permissions are not checked (removable media rarely keep them); it may
 * be encrypted, and OpenSSL then asks for the passphrase on the terminal.
 */
static int
load_root_key(const char *path, EVP_PKEY **out, struct errbuf *e)
{
	char *data = NULL;
	size_t len = 0;
	int rc;

	if (file_read_all(path, ROOT_KEY_MAX, &data, &len, e) != 0)
		return -1;
	rc = key_from_pem(path, data, len, isatty(STDIN_FILENO) == 1, out, e);
	if (rc != 0 && strstr(data, "ENCRYPTED") != NULL && isatty(STDIN_FILENO) != 1)
		err_set(e, "%s: the root key is encrypted; run ca renew-issuing on a terminal "
		    "to type its passphrase", path);
	secret_free(data, len);
	return rc;
}

/*
 * chain_file's certificates, the issuing certificate first: the root is
 * the self-signed certificate the chain ends with.
 */
static int
load_current(const struct conf_ca *conf, X509 **issuing, STACK_OF(X509) **rest, X509 **root,
    struct errbuf *e)
{
	STACK_OF(X509) *certs = NULL;
	STACK_OF(X509) *chain = NULL;
	X509 *top;

	if (cert_load_pem_file(conf->cert_file, &certs, e) != 0)
		return -1;
	*issuing = sk_X509_shift(certs);
	sk_X509_pop_free(certs, X509_free);
	if (cert_load_pem_file(conf->chain_file, &chain, e) != 0)
		return -1;
	/* Drop the chain's copies of the issuing key's certificate (this one, or older). */
	while (sk_X509_num(chain) > 0 &&
	    X509_NAME_cmp(X509_get_subject_name(sk_X509_value(chain, 0)),
	    X509_get_subject_name(*issuing)) == 0 &&
	    EVP_PKEY_eq(X509_get0_pubkey(sk_X509_value(chain, 0)), X509_get0_pubkey(*issuing)) == 1)
		X509_free(sk_X509_shift(chain));
	top = sk_X509_num(chain) > 0 ? sk_X509_value(chain, sk_X509_num(chain) - 1) : NULL;
	if (top == NULL || X509_check_issued(top, top) != X509_V_OK) {
		err_set(e, "%s does not end with the self-signed root certificate; renew-issuing "
		    "needs the chain ca init wrote (issuing CA, then root)", conf->chain_file);
		sk_X509_pop_free(chain, X509_free);
		return -1;
	}
	*root = top;
	*rest = chain;
	return 0;
}

int
ca_renew_issuing(const struct conf_ca *conf, const char *root_key_file, unsigned profiles,
    struct ca_renewal *out, struct errbuf *e)
{
	X509 *old = NULL;
	X509 *root = NULL; /* borrowed from rest */
	STACK_OF(X509) *rest = NULL;
	EVP_PKEY *root_key = NULL;
	X509 *renewed = NULL;
	X509_NAME *subject;
	time_t now = time(NULL);
	time_t end;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (conf->type != CA_TYPE_LOCAL || conf->cert_file == NULL || conf->chain_file == NULL) {
		err_set(e, "[ca %s] is not an internal CA made by ca init (type = local with "
		    "cert_file and chain_file)", conf->name);
		return -1;
	}
	if (root_key_file == NULL) {
		err_set(e, "renew-issuing needs the offline root key: --root-key FILE");
		return -1;
	}
	if (load_current(conf, &old, &rest, &root, e) != 0)
		goto out;
	if (X509_check_issued(root, old) != X509_V_OK) {
		err_set(e, "%s: the issuing certificate in %s is not issued by the root at the end "
		    "of %s", conf->name, conf->cert_file, conf->chain_file);
		goto out;
	}
	if (load_root_key(root_key_file, &root_key, e) != 0)
		goto out;
	if (X509_check_private_key(root, root_key) != 1) {
		char name[256];

		ERR_clear_error();
		err_set(e, "%s is not the key of the root \"%s\" in %s; bring back the root key "
		    "ca init wrote with --root-key-out", root_key_file,
		    X509_NAME_oneline(X509_get_subject_name(root), name, sizeof(name)),
		    conf->chain_file);
		goto out;
	}
	end = now + (time_t)conf->issuing_validity;
	if (X509_cmp_time(X509_get0_notAfter(root), &end) < 0) {
		/* Never outlive the root: end at its notAfter. */
		const ASN1_TIME *na = X509_get0_notAfter(root);
		struct tm tm;

		if (ASN1_TIME_to_tm(na, &tm) != 1) {
			err_set(e, "cannot read the root's notAfter");
			goto out;
		}
		end = timegm(&tm);
	}
	if (end <= now) {
		err_set(e, "the root certificate of [ca %s] has expired: a new CA is needed "
		    "(ca init with new file names)", conf->name);
		goto out;
	}
	subject = X509_get_subject_name(old);
	if (make_ca_cert(subject, X509_get0_pubkey(old), root, root_key, profiles,
	    now - SMIME_BACKDATE, end, &renewed, e) != 0) {
		err_prefix(e, "[ca %s]", conf->name);
		goto out;
	}
	/* The chain first: issuer.c drops older copies of the same key's certificate. */
	if (write_certs(conf->chain_file, renewed, rest, e) != 0 ||
	    write_one(conf->cert_file, renewed, NULL, e) != 0)
		goto out;
	{
		struct cert_info a, b;

		if (cert_info_get(old, &a, e) != 0)
			goto out;
		if (cert_info_get(renewed, &b, e) != 0) {
			cert_info_clear(&a);
			goto out;
		}
		snprintf(out->old_serial, sizeof(out->old_serial), "%s", a.serial);
		snprintf(out->new_serial, sizeof(out->new_serial), "%s", b.serial);
		out->old_not_after = a.not_after;
		out->new_not_after = b.not_after;
		cert_info_clear(&a);
		cert_info_clear(&b);
	}
	rc = 0;
out:
	X509_free(old);
	sk_X509_pop_free(rest, X509_free);
	EVP_PKEY_free(root_key);
	X509_free(renewed);
	return rc;
}

int
ca_issuing_fits(const struct conf_ca *conf, enum cert_profile profile, struct errbuf *e)
{
	STACK_OF(X509) *certs = NULL;
	int rc = -1;

	if (cert_load_pem_file(conf->cert_file, &certs, e) != 0)
		return -1;
	if (sk_X509_num(certs) > 0)
		rc = profile_issuer_allows(sk_X509_value(certs, 0), profile, e);
	else
		err_set(e, "%s holds no certificate", conf->cert_file);
	sk_X509_pop_free(certs, X509_free);
	return rc;
}
