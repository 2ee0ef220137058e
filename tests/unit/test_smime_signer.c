/* SPDX-License-Identifier: ISC */
/*
 * smimesync-signer, the separate program (smime/signer.h, signer/):
 *
 *   - through smime/'s API it gives what the in-process code gives, and
 *     this process never holds a key;
 *   - spoken to directly, as a compromised smimesync would, it refuses
 *     every request its policy forbids: a foreign domain, a SAN of another
 *     type, a backdated notBefore, more validity than max_validity, an
 *     unknown O= or profile or key type, a CRL number rolled back or
 *     pushed up, a reason code outside RFC 5280, a certificate it did not
 *     issue, unsealing an escrowed or closed key, a recovery without the
 *     credential (and after five wrong ones even with it), more than its
 *     hourly limit; certificates never outlive the issuing CA;
 *   - its signing log chains every line, and verify-log names the line
 *     that was edited or removed; a signer whose log is broken signs
 *     nothing;
 *   - a dead signer turns every request into a clear error.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/buf.h"
#include "common/fileutil.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "signer/policy.h"
#include "signer/signlog.h"
#include "smime/ca.h"
#include "smime/cert.h"
#include "smime/credential.h"
#include "smime/escrow.h"
#include "smime/key.h"
#include "smime/signer.h"
#include "smime/signer_policy.h"
#include "smime/signer_proto.h"
#include "smime/smime_internal.h"
#include "tests/unit/check.h"

#define DAY 86400
#define CREDENTIAL "open sesame, said the operator"
#define PER_HOUR 40

static char *dir;
static char *policy_path;
static char *log_path;
static struct conf_ca ca_conf[2];
static struct config cfg;
static char *ca_id;
static time_t ca_not_after;

static void
write_file(const char *path, const char *text, mode_t mode)
{
	struct errbuf e;

	if (file_write_atomic(path, text, strlen(text), mode, &e) != 0) {
		fprintf(stderr, "setup: %s\n", e.text);
		exit(1);
	}
}

static void
setup(void)
{
	char tmpl[] = "/tmp/smime-signer-test-XXXXXX";
	struct ca_init_params init = { 0 };
	STACK_OF(X509) *certs = NULL;
	struct errbuf e;
	char *verifier, *policy, *root_key;
	int rc;

	if (getenv("SMIMESYNC_SIGNER_PROGRAM") == NULL) {
		fprintf(stderr, "SKIP: SMIMESYNC_SIGNER_PROGRAM is not set (make check sets it)\n");
		exit(77);
	}
	if (mkdtemp(tmpl) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	dir = xstrdup(tmpl);
	memset(&cfg, 0, sizeof(cfg));
	ca_conf[0].name = "good";
	ca_conf[0].type = CA_TYPE_LOCAL;
	ca_conf[0].cert_file = xasprintf("%s/ca/issuing.pem", dir);
	ca_conf[0].key_file = xasprintf("%s/private/issuing.key", dir);
	ca_conf[0].chain_file = xasprintf("%s/ca/chain.pem", dir);
	ca_conf[0].crl_url = "http://pki.example.org/issuing.crl";
	ca_conf[0].init_key_type = KEY_TYPE_P256;
	ca_conf[0].organization = "Example";
	ca_conf[0].root_validity = 3650 * (int64_t)DAY;
	/* Shorter than the certificates asked for: they must stop with it. */
	ca_conf[0].issuing_validity = 200 * (int64_t)DAY;
	/* A CA whose files were never made: its error must come through. */
	ca_conf[1].name = "missing";
	ca_conf[1].type = CA_TYPE_LOCAL;
	ca_conf[1].cert_file = xasprintf("%s/nothing/issuing.pem", dir);
	ca_conf[1].key_file = xasprintf("%s/nothing/issuing.key", dir);
	cfg.cas = ca_conf;
	cfg.n_cas = 2;
	cfg.path = xasprintf("%s/smimesync.conf", dir);
	cfg.service.state_dir = xasprintf("%s/state", dir);
	cfg.service.master_key_file = xasprintf("%s/master.key", dir);
	policy_path = xasprintf("%s/signer.conf", dir);
	cfg.service.signer_policy = policy_path;
	log_path = xasprintf("%s/signer-state/%s", dir, SIGNLOG_FILE);
	init.root_key_out = root_key = xasprintf("%s/offline-root.key", dir);
	/* Every profile: the tests ask for each, and the issuing CA must allow it. */
	for (int p = PROFILE_MAILBOX_STRICT; p <= PROFILE_ORGANIZATION_MULTIPURPOSE; p++)
		init.profiles |= CERT_PROFILE_BIT(p);
	rc = ca_init(&ca_conf[0], &init, &e);
	free(root_key);
	if (rc != 0 ||
	    master_key_create(cfg.service.master_key_file, NULL, &e) != 0 ||
	    cert_load_pem_file(ca_conf[0].cert_file, &certs, &e) != 0) {
		fprintf(stderr, "setup: %s\n", e.text);
		exit(1);
	}
	ca_id = signer_ca_id(sk_X509_value(certs, 0));
	{
		struct tm tm;

		ASN1_TIME_to_tm(X509_get0_notAfter(sk_X509_value(certs, 0)), &tm);
		ca_not_after = timegm(&tm);
	}
	sk_X509_pop_free(certs, X509_free);
	verifier = credential_verifier(CREDENTIAL);
	policy = xasprintf("[signer]\nstate_dir = %s/signer-state\nmaster_key_file = %s\n"
	    "max_certificates_per_hour = %d\nrecovery_credential = %s\n\n"
	    "[ca good]\ncert_file = %s\nkey_file = %s\nchain_file = %s\ncrl_url = %s\n"
	    "mail_domains = example.org, example.com\n"
	    "profiles = mailbox-strict, organization-strict\n"
	    "key_types = p256, rsa2048\n"
	    "organization = Example Org\n"
	    "organization_identifier = VATDE-123456789\n"
	    "max_validity = 400d\n\n"
	    "[ca missing]\ncert_file = %s\nkey_file = %s\nmail_domains = *\n"
	    "profiles = mailbox-strict\nkey_types = p256\n", dir, cfg.service.master_key_file,
	    PER_HOUR, verifier, ca_conf[0].cert_file, ca_conf[0].key_file, ca_conf[0].chain_file,
	    ca_conf[0].crl_url, ca_conf[1].cert_file, ca_conf[1].key_file);
	write_file(policy_path, policy, 0644);
	free(policy);
	free(verifier);
}

static void
teardown(void)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);

	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	free(cmd);
}

static bool
all_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != 0)
			return false;
	return true;
}

static time_t
asn1_time(const ASN1_TIME *t)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	ASN1_TIME_to_tm(t, &tm);
	return timegm(&tm);
}

/* ---- the signer, spoken to directly ---- */

struct raw {
	pid_t pid;
	int fd;
};

/* The signer program on a socketpair, as smimesync starts it, greeted. */
static void
raw_start(struct raw *s, const char *policy)
{
	int sv[2];
	struct buf b;
	unsigned char *reply = NULL;
	size_t len = 0;
	struct sp_reader r;

	CHECK_INTEQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	s->pid = fork();
	if (s->pid == 0) {
		close(sv[0]);
		if (dup2(sv[1], 3) < 0)
			_exit(127);
		execl(getenv("SMIMESYNC_SIGNER_PROGRAM"), "smimesync-signer", "child", "--policy",
		    policy, (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	s->fd = sv[0];
	buf_init(&b, 0);
	sp_put_u32(&b, SIGNER_OP_HELLO);
	sp_put_u32(&b, SIGNER_PROTO_VERSION);
	sp_put_str(&b, NULL);
	CHECK_INTEQ(sp_send(s->fd, &b), 0);
	CHECK_INTEQ(sp_recv(s->fd, &reply, &len, 60000), 0);
	sp_reader_init(&r, reply, len);
	CHECK_INTEQ(sp_get_u32(&r), SIGNER_OK);
	free(reply);
	buf_free(&b);
}

static void
raw_stop(struct raw *s)
{
	int st = 0;

	close(s->fd);
	CHECK_INTEQ(waitpid(s->pid, &st, 0), s->pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/*
 * Send b (then reset it); the reply's status in *status, and the rest
 * of the reply (new) for the caller to read with r.
 */
static unsigned char *
ask(struct raw *s, struct buf *b, uint32_t *status, struct sp_reader *r)
{
	unsigned char *reply = NULL;
	size_t len = 0;

	CHECK_INTEQ(sp_send(s->fd, b), 0);
	CHECK_INTEQ(sp_recv(s->fd, &reply, &len, 60000), 0);
	sp_reader_init(r, reply, len);
	*status = sp_get_u32(r);
	buf_reset(b);
	return reply;
}

/* The request in b is answered with status want and a message containing text. */
static void
expect(struct raw *s, struct buf *b, uint32_t want, const char *text, int line)
{
	struct sp_reader r;
	uint32_t status;
	unsigned char *reply = ask(s, b, &status, &r);
	char *msg = NULL;

	if (status == SIGNER_BUSY)
		(void)sp_get_u64(&r);
	if (status != SIGNER_OK)
		msg = sp_get_str(&r);
	if (status != want || (text != NULL && (msg == NULL || strstr(msg, text) == NULL))) {
		fprintf(stderr, "line %d: wanted status %u with \"%s\", got %u: %s\n", line, want,
		    text != NULL ? text : "", status, msg != NULL ? msg : "(no message)");
		CHECK(!"the signer's answer");
	} else {
		CHECK(true);
	}
	free(msg);
	free(reply);
}
#define EXPECT(s, b, want, text) expect((s), (b), (want), (text), __LINE__)

static X509_REQ *
csr_for(EVP_PKEY *key, const char *san)
{
	X509_REQ *req = X509_REQ_new();
	STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
	X509_EXTENSION *ext = NULL;
	X509_NAME *name = X509_NAME_new();

	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)"x", -1, -1,
	    0);
	X509_REQ_set_subject_name(req, name);
	X509_NAME_free(name);
	X509_REQ_set_pubkey(req, key);
	if (san != NULL) {
		ext = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, san);
		CHECK(ext != NULL);
		sk_X509_EXTENSION_push(exts, ext);
		X509_REQ_add_extensions(req, exts);
	}
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	CHECK(X509_REQ_sign(req, key, EVP_sha256()) > 0);
	return req;
}

struct cert_ask {
	const char *ca;
	EVP_PKEY *key;
	const char *csr_san;  /* extensions the CSR requests, OpenSSL syntax, or NULL */
	const char *mail;
	const char *alt;
	int64_t validity;
	uint64_t not_before;
	uint32_t profile;
	const char *o, *org_id;
};

static void
put_cert(struct buf *b, const struct cert_ask *q)
{
	X509_REQ *req = csr_for(q->key, q->csr_san);
	unsigned char *der = NULL;
	int len = i2d_X509_REQ(req, &der);

	sp_put_u32(b, SIGNER_OP_SIGN_CERT);
	sp_put_str(b, q->ca != NULL ? q->ca : ca_id);
	sp_put_str(b, "test-run");
	sp_put_bytes(b, der, (size_t)len);
	sp_put_str(b, q->mail);
	sp_put_u32(b, q->alt != NULL ? 1 : 0);
	if (q->alt != NULL)
		sp_put_str(b, q->alt);
	sp_put_u64(b, (uint64_t)(q->validity != 0 ? q->validity : 100 * (int64_t)DAY));
	sp_put_u64(b, q->not_before);
	sp_put_u32(b, q->profile);
	sp_put_str(b, q->o);
	sp_put_str(b, q->org_id);
	sp_put_str(b, NULL);
	OPENSSL_free(der);
	X509_REQ_free(req);
}

/* Sign as asked; the certificate (new), or NULL when refused. */
static X509 *
sign(struct raw *s, const struct cert_ask *q)
{
	struct buf b;
	struct sp_reader r;
	uint32_t status;
	unsigned char *reply;
	X509 *x = NULL;

	buf_init(&b, 0);
	put_cert(&b, q);
	reply = ask(s, &b, &status, &r);
	if (status == SIGNER_OK) {
		size_t len = 0;
		const unsigned char *der = sp_get_bytes(&r, &len);
		struct errbuf e;

		CHECK(der != NULL && cert_from_der(der, len, &x, &e) == 0);
	}
	free(reply);
	buf_free(&b);
	return x;
}

static void
put_revoke(struct buf *b, X509 *x, uint32_t reason)
{
	unsigned char *der = NULL;
	int len = i2d_X509(x, &der);

	sp_put_u32(b, SIGNER_OP_REVOKE);
	sp_put_str(b, "test-run");
	sp_put_bytes(b, der, (size_t)len);
	sp_put_u32(b, reason);
	OPENSSL_free(der);
}

/* A CRL asked with floor; its number, or 0 when refused. */
static uint64_t
crl_number(struct raw *s, uint64_t floor, int64_t lifetime, X509_CRL **crl_out)
{
	struct buf b;
	struct sp_reader r;
	uint32_t status;
	unsigned char *reply;
	uint64_t number = 0;

	buf_init(&b, 0);
	sp_put_u32(&b, SIGNER_OP_SIGN_CRL);
	sp_put_str(&b, ca_id);
	sp_put_str(&b, "test-run");
	sp_put_u64(&b, floor);
	sp_put_u64(&b, (uint64_t)lifetime);
	reply = ask(s, &b, &status, &r);
	if (status == SIGNER_OK) {
		size_t len = 0;
		const unsigned char *der;

		number = sp_get_u64(&r);
		(void)sp_get_u32(&r);
		der = sp_get_bytes(&r, &len);
		if (crl_out != NULL) {
			const unsigned char *p = der;

			*crl_out = d2i_X509_CRL(NULL, &p, (long)len);
			CHECK(*crl_out != NULL);
		}
	}
	free(reply);
	buf_free(&b);
	return number;
}

/* What a compromised smimesync may ask of the certificate request. */
static void
test_certificate_refusals(struct raw *s)
{
	struct buf b;
	EVP_PKEY *key = NULL, *p384 = NULL;
	struct errbuf e;
	struct cert_ask q;
	X509 *x;
	time_t now = time(NULL);

	buf_init(&b, 0);
	CHECK_INTEQ(key_generate(KEY_TYPE_P256, &key, &e), 0);
	CHECK_INTEQ(key_generate(KEY_TYPE_P384, &p384, &e), 0);

	/* Allowed: dated by the signer's clock, and no longer than the issuing CA. */
	memset(&q, 0, sizeof(q));
	q.key = key;
	q.mail = "alice@example.org";
	q.alt = "alice@example.com";
	q.csr_san = "email:alice@example.org,email:alice@example.com";
	q.validity = 365 * (int64_t)DAY;
	x = sign(s, &q);
	CHECK(x != NULL);
	if (x != NULL) {
		time_t nb = asn1_time(X509_get0_notBefore(x));
		time_t na = asn1_time(X509_get0_notAfter(x));

		CHECK(nb <= now + 5 && nb >= now - 120);
		CHECK(na <= ca_not_after && na >= ca_not_after - 5);
		CHECK(X509_check_email(x, "alice@example.com", 0, 0) == 1);
	}
	X509_free(x);

	/* A foreign domain, as the main address or an alias. */
	put_cert(&b, &(struct cert_ask){ .key = key, .mail = "ceo@evil.example" });
	EXPECT(s, &b, SIGNER_REFUSED, "outside the mail domains [ca good] may certify");
	put_cert(&b, &(struct cert_ask){ .key = key, .mail = "bob@example.org",
	    .alt = "ceo@evil.example" });
	EXPECT(s, &b, SIGNER_REFUSED, "ceo@evil.example is outside the mail domains");
	/* Not a mailbox at all. */
	put_cert(&b, &(struct cert_ask){ .key = key, .mail = "bob@example.org",
	    .alt = "DNS:example.org" });
	EXPECT(s, &b, SIGNER_REFUSED, "is not a mailbox address");
	/* SAN types other than a mailbox, asked for in the CSR. */
	put_cert(&b, &(struct cert_ask){ .key = key, .mail = "bob@example.org",
	    .csr_san = "email:bob@example.org,DNS:www.example.org" });
	EXPECT(s, &b, SIGNER_REFUSED, "dNSName");
	put_cert(&b, &(struct cert_ask){ .key = key, .mail = "bob@example.org",
	    .csr_san = "otherName:1.3.6.1.4.1.311.20.2.3;UTF8:admin@example.org" });
	EXPECT(s, &b, SIGNER_REFUSED, "otherName");
	put_cert(&b, &(struct cert_ask){ .key = key, .mail = "bob@example.org",
	    .csr_san = "URI:https://example.org/" });
	EXPECT(s, &b, SIGNER_REFUSED, "uniformResourceIdentifier");
	put_cert(&b, &(struct cert_ask){ .key = key, .mail = "bob@example.org",
	    .csr_san = "email:carol@example.org" });
	EXPECT(s, &b, SIGNER_REFUSED, "which the request does not name");
	/* Backdating, and postdating. */
	put_cert(&b, &(struct cert_ask){ .key = key, .mail = "bob@example.org",
	    .not_before = 946684800 });
	EXPECT(s, &b, SIGNER_REFUSED, "notBefore 2000-01-01T00:00:00Z");
	put_cert(&b, &(struct cert_ask){ .key = key, .mail = "bob@example.org",
	    .not_before = (uint64_t)now + 30 * DAY });
	EXPECT(s, &b, SIGNER_REFUSED, "backdates or postdates none");
	/* Validity beyond the policy. */
	put_cert(&b, &(struct cert_ask){ .key = key, .mail = "bob@example.org",
	    .validity = 500 * (int64_t)DAY });
	EXPECT(s, &b, SIGNER_REFUSED, "max_validity = 400d in");
	/* Profiles, organizations and key types the policy does not list. */
	put_cert(&b, &(struct cert_ask){ .key = key, .mail = "bob@example.org",
	    .profile = PROFILE_MAILBOX_MULTIPURPOSE });
	EXPECT(s, &b, SIGNER_REFUSED, "profile mailbox-multipurpose is not one");
	put_cert(&b, &(struct cert_ask){ .key = key, .mail = "bob@example.org",
	    .profile = PROFILE_ORGANIZATION_STRICT, .o = "Evil Corp",
	    .org_id = "VATDE-123456789" });
	EXPECT(s, &b, SIGNER_REFUSED, "O=\"Evil Corp\" is not an organization");
	put_cert(&b, &(struct cert_ask){ .key = key, .mail = "bob@example.org",
	    .profile = PROFILE_ORGANIZATION_STRICT, .o = "Example Org", .org_id = "VATFR-1" });
	EXPECT(s, &b, SIGNER_REFUSED, "organizationIdentifier \"VATFR-1\"");
	put_cert(&b, &(struct cert_ask){ .key = key, .mail = "bob@example.org",
	    .o = "Example Org" });
	EXPECT(s, &b, SIGNER_REFUSED, "names no organization");
	x = sign(s, &(struct cert_ask){ .key = key, .mail = "bob@example.org",
	    .profile = PROFILE_ORGANIZATION_STRICT, .o = "Example Org",
	    .org_id = "VATDE-123456789" });
	CHECK(x != NULL);
	X509_free(x);
	put_cert(&b, &(struct cert_ask){ .key = p384, .mail = "bob@example.org" });
	EXPECT(s, &b, SIGNER_REFUSED, "a p384 key is not one [ca good] may certify");
	/* A CA it does not hold, and one whose files are missing. */
	put_cert(&b, &(struct cert_ask){ .ca = "00ff", .key = key, .mail = "bob@example.org" });
	EXPECT(s, &b, SIGNER_ERR, "holds no CA with key identifier 00ff");
	EVP_PKEY_free(key);
	EVP_PKEY_free(p384);
	buf_free(&b);
}

/* Revocation and CRLs: its own list, its own numbers, RFC 5280's reasons. */
static void
test_revocation_refusals(struct raw *s)
{
	struct buf b;
	struct sp_reader r;
	struct errbuf e;
	EVP_PKEY *key = NULL;
	X509 *x, *foreign = NULL;
	X509_CRL *crl = NULL;
	unsigned char *reply;
	uint32_t status;
	uint64_t n1, n2, n3, n4;

	buf_init(&b, 0);
	CHECK_INTEQ(key_generate(KEY_TYPE_P256, &key, &e), 0);
	x = sign(s, &(struct cert_ask){ .key = key, .mail = "frank@example.org" });
	CHECK(x != NULL);
	/* Reason codes outside RFC 5280, and those a subscriber certificate cannot have. */
	put_revoke(&b, x, 99);
	EXPECT(s, &b, SIGNER_REFUSED, "reason code 99 is not one");
	put_revoke(&b, x, 7);
	EXPECT(s, &b, SIGNER_REFUSED, "reason code 7");
	put_revoke(&b, x, 6); /* certificateHold */
	EXPECT(s, &b, SIGNER_REFUSED, "reason code 6");
	/* A certificate none of its CAs issued (self-signed, same subject name even). */
	foreign = X509_new();
	X509_set_version(foreign, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(foreign), 4242);
	X509_set_issuer_name(foreign, X509_get_issuer_name(x));
	X509_set_subject_name(foreign, X509_get_subject_name(x));
	X509_gmtime_adj(X509_getm_notBefore(foreign), 0);
	X509_gmtime_adj(X509_getm_notAfter(foreign), DAY);
	X509_set_pubkey(foreign, key);
	CHECK(X509_sign(foreign, key, EVP_sha256()) > 0);
	put_revoke(&b, foreign, 1);
	EXPECT(s, &b, SIGNER_REFUSED, "was not issued by any CA this signer holds");
	/* Revoked once; the second time says so. */
	put_revoke(&b, x, 1);
	reply = ask(s, &b, &status, &r);
	CHECK_INTEQ(status, SIGNER_OK);
	CHECK_INTEQ(sp_get_u32(&r), 0);
	free(reply);
	put_revoke(&b, x, 3);
	reply = ask(s, &b, &status, &r);
	CHECK_INTEQ(status, SIGNER_OK);
	CHECK_INTEQ(sp_get_u32(&r), 1);
	free(reply);

	/* CRL numbers: the floor counted for the first (57); none rolls back or jumps. */
	n1 = crl_number(s, 1, 7 * DAY, NULL);
	CHECK_INTEQ(n1, 58);
	n2 = crl_number(s, 1, 7 * DAY, NULL);
	CHECK_INTEQ(n2, n1 + 1);
	n3 = crl_number(s, 0, 7 * DAY, NULL);
	CHECK_INTEQ(n3, n2 + 1);
	n4 = crl_number(s, (uint64_t)1 << 60, 7 * DAY, &crl);
	CHECK_INTEQ(n4, n3 + 1);
	/* Built from its own list, dated by its clock, with the reason first given. */
	if (crl != NULL) {
		STACK_OF(X509_REVOKED) *rev = X509_CRL_get_REVOKED(crl);
		time_t tu = asn1_time(X509_CRL_get0_lastUpdate(crl));

		int found = 0;

		/* alice's certificate (superseded, through the API) and frank's. */
		CHECK(sk_X509_REVOKED_num(rev) == 2);
		CHECK(tu <= time(NULL) + 5 && tu >= time(NULL) - 120);
		for (int i = 0; i < sk_X509_REVOKED_num(rev); i++) {
			X509_REVOKED *one = sk_X509_REVOKED_value(rev, i);
			ASN1_ENUMERATED *why;

			if (ASN1_INTEGER_cmp(X509_REVOKED_get0_serialNumber(one),
			    X509_get0_serialNumber(x)) != 0)
				continue;
			found++;
			why = X509_REVOKED_get_ext_d2i(one, NID_crl_reason, NULL, NULL);
			CHECK(why != NULL && ASN1_ENUMERATED_get(why) == 1);
			ASN1_ENUMERATED_free(why);
		}
		CHECK_INTEQ(found, 1);
		X509_CRL_free(crl);
	}
	/* A CRL valid for 30 days, or 10 minutes. */
	CHECK_INTEQ(crl_number(s, 0, 30 * DAY, NULL), 0);
	CHECK_INTEQ(crl_number(s, 0, 600, NULL), 0);
	/* The list it keeps is its own. */
	sp_put_u32(&b, SIGNER_OP_REVOKED);
	sp_put_str(&b, ca_id);
	reply = ask(s, &b, &status, &r);
	CHECK_INTEQ(status, SIGNER_OK);
	CHECK_INTEQ(sp_get_u32(&r), 2);
	free(reply);
	X509_free(x);
	X509_free(foreign);
	EVP_PKEY_free(key);
	buf_free(&b);
}

/* Sealed keys: escrowed ones and closed ones open only for a recovery. */
static void
test_unseal_refusals(struct raw *s)
{
	struct buf b;
	struct sp_reader r;
	struct errbuf e;
	EVP_PKEY *key = NULL;
	X509 *x;
	unsigned char *pkcs8 = NULL, *sealed = NULL, *escrowed = NULL, *reply, *cder = NULL;
	size_t pkcs8_len = 0, sealed_len = 0, escrowed_len = 0, l = 0;
	const unsigned char *p;
	uint32_t status;
	int cder_len;

	buf_init(&b, 0);
	CHECK_INTEQ(key_generate(KEY_TYPE_P256, &key, &e), 0);
	CHECK_INTEQ(key_to_pkcs8_der(key, &pkcs8, &pkcs8_len, &e), 0);
	x = sign(s, &(struct cert_ask){ .key = key, .mail = "heidi@example.org" });
	CHECK(x != NULL);
	cder_len = i2d_X509(x, &cder);

	/* A provisioning key: sealed, opened while its provisioning runs. */
	sp_put_u32(&b, SIGNER_OP_SEAL);
	sp_put_u32(&b, SIGNER_SLOT_CURRENT);
	sp_put_str(&b, "key:action=1");
	sp_put_bytes(&b, pkcs8, pkcs8_len);
	reply = ask(s, &b, &status, &r);
	CHECK_INTEQ(status, SIGNER_OK);
	p = sp_get_bytes(&r, &l);
	sealed = xmalloc(l);
	memcpy(sealed, p, l);
	sealed_len = l;
	free(reply);
	sp_put_u32(&b, SIGNER_OP_UNSEAL);
	sp_put_u32(&b, SIGNER_SLOT_CURRENT);
	sp_put_str(&b, "key:action=1");
	sp_put_bytes(&b, sealed, sealed_len);
	EXPECT(s, &b, SIGNER_OK, NULL);
	/* Nobody seals an "escrowed" key directly. */
	sp_put_u32(&b, SIGNER_OP_SEAL);
	sp_put_u32(&b, SIGNER_SLOT_CURRENT);
	sp_put_str(&b, "escrow:key:action=1");
	sp_put_bytes(&b, pkcs8, pkcs8_len);
	EXPECT(s, &b, SIGNER_REFUSED, "never sealed directly");
	/* Escrowed: only for the key of the certificate it is escrowed with. */
	sp_put_u32(&b, SIGNER_OP_ESCROW);
	sp_put_u32(&b, SIGNER_SLOT_CURRENT);
	sp_put_str(&b, "key:action=1");
	sp_put_bytes(&b, sealed, sealed_len);
	sp_put_bytes(&b, cder, (size_t)cder_len);
	sp_put_str(&b, "escrow:key:action=1");
	reply = ask(s, &b, &status, &r);
	CHECK_INTEQ(status, SIGNER_OK);
	p = sp_get_bytes(&r, &l);
	escrowed = xmalloc(l);
	memcpy(escrowed, p, l);
	escrowed_len = l;
	free(reply);
	/* The escrowed copy does not open for UNSEAL. */
	sp_put_u32(&b, SIGNER_OP_UNSEAL);
	sp_put_u32(&b, SIGNER_SLOT_CURRENT);
	sp_put_str(&b, "escrow:key:action=1");
	sp_put_bytes(&b, escrowed, escrowed_len);
	EXPECT(s, &b, SIGNER_REFUSED, "opens only for key recovery");
	/* Provisioning over: the provisioning blob stops opening too. */
	sp_put_u32(&b, SIGNER_OP_CLOSE_KEY);
	sp_put_u32(&b, SIGNER_SLOT_CURRENT);
	sp_put_str(&b, "key:action=1");
	sp_put_bytes(&b, sealed, sealed_len);
	sp_put_str(&b, "test-run");
	EXPECT(s, &b, SIGNER_OK, NULL);
	sp_put_u32(&b, SIGNER_OP_UNSEAL);
	sp_put_u32(&b, SIGNER_SLOT_CURRENT);
	sp_put_str(&b, "key:action=1");
	sp_put_bytes(&b, sealed, sealed_len);
	EXPECT(s, &b, SIGNER_REFUSED, "provisioning of this key (key:action=1) is over");
	/* Nor does the same key sealed afresh under another action. */
	sp_put_u32(&b, SIGNER_OP_SEAL);
	sp_put_u32(&b, SIGNER_SLOT_CURRENT);
	sp_put_str(&b, "key:action=2");
	sp_put_bytes(&b, pkcs8, pkcs8_len);
	reply = ask(s, &b, &status, &r);
	CHECK_INTEQ(status, SIGNER_OK);
	p = sp_get_bytes(&r, &l);
	sp_put_u32(&b, SIGNER_OP_UNSEAL);
	sp_put_u32(&b, SIGNER_SLOT_CURRENT);
	sp_put_str(&b, "key:action=2");
	sp_put_bytes(&b, p, l);
	free(reply);
	EXPECT(s, &b, SIGNER_REFUSED, "is over");

	/* Recovery: no credential, a wrong one, the right one. */
	for (int i = 0; i < 3; i++) {
		const char *cred = i == 0 ? "" : i == 1 ? "guess" : CREDENTIAL;

		sp_put_u32(&b, SIGNER_OP_RECOVER);
		sp_put_str(&b, "test-run");
		sp_put_str(&b, "operator");
		sp_put_str(&b, "alice");
		sp_put_bytes(&b, cred, strlen(cred));
		sp_put_u32(&b, SIGNER_RECOVER_PKCS12);
		sp_put_u32(&b, 1);
		sp_put_str(&b, "escrow:key:action=1");
		sp_put_bytes(&b, escrowed, escrowed_len);
		sp_put_bytes(&b, cder, (size_t)cder_len);
		sp_put_str(&b, "heidi");
		sp_put_u32(&b, 0);
		sp_put_u32(&b, PKCS12_MODERN);
		sp_put_u32(&b, 2048);
		if (i == 0) {
			EXPECT(s, &b, SIGNER_REFUSED, "no recovery credential was given");
		} else if (i == 1) {
			EXPECT(s, &b, SIGNER_REFUSED, "the recovery credential is wrong");
		} else {
			reply = ask(s, &b, &status, &r);
			CHECK_INTEQ(status, SIGNER_OK);
			p = sp_get_bytes(&r, &l);
			{
				char *pw = sp_get_str(&r);
				PKCS12 *p12 = d2i_PKCS12(NULL, &p, (long)l);
				EVP_PKEY *back = NULL;
				X509 *cert = NULL;

				CHECK(p12 != NULL && pw != NULL &&
				    PKCS12_parse(p12, pw, &back, &cert, NULL) == 1);
				CHECK(back != NULL && EVP_PKEY_eq(back, key) == 1);
				EVP_PKEY_free(back);
				X509_free(cert);
				PKCS12_free(p12);
				free(pw);
			}
			free(reply);
		}
	}
	/* Five wrong credentials (two above) in an hour lock recovery, even for the right one. */
	for (int i = 0; i < 4; i++) {
		const char *cred = i < 3 ? "guess again" : CREDENTIAL;

		sp_put_u32(&b, SIGNER_OP_RECOVER);
		sp_put_str(&b, "test-run");
		sp_put_str(&b, "operator");
		sp_put_str(&b, NULL);
		sp_put_bytes(&b, cred, strlen(cred));
		sp_put_u32(&b, SIGNER_RECOVER_RESEND);
		sp_put_u32(&b, 1);
		sp_put_str(&b, "escrow:key:action=1");
		sp_put_bytes(&b, escrowed, escrowed_len);
		sp_put_bytes(&b, cder, (size_t)cder_len);
		sp_put_str(&b, "heidi");
		sp_put_u32(&b, 0);
		sp_put_u32(&b, PKCS12_MODERN);
		sp_put_u32(&b, 2048);
		EXPECT(s, &b, SIGNER_REFUSED, i < 3 ? "is wrong" : "recovery is locked until");
	}
	X509_free(x);
	OPENSSL_free(cder);
	EVP_PKEY_free(key);
	secret_free(pkcs8, pkcs8_len);
	free(sealed);
	free(escrowed);
	buf_free(&b);
}

/* The door: greeting first, one version, no policy from the client, no unknown request. */
static void
test_protocol_refusals(struct raw *s)
{
	struct buf b;

	buf_init(&b, 0);
	sp_put_u32(&b, SIGNER_OP_HELLO);
	sp_put_u32(&b, SIGNER_PROTO_VERSION);
	sp_put_str(&b, "[signer]\nstate_dir = /tmp\n[ca evil]\nmail_domains = *\n");
	EXPECT(s, &b, SIGNER_REFUSED, "takes none from its client");
	sp_put_u32(&b, 99);
	EXPECT(s, &b, SIGNER_ERR, "does not answer request 99");
	sp_put_u32(&b, SIGNER_OP_SEAL);
	sp_put_u32(&b, SIGNER_SLOT_CURRENT);
	sp_put_u32(&b, 1000); /* aad length, but no bytes follow */
	EXPECT(s, &b, SIGNER_ERR, "malformed seal request");
	sp_put_u32(&b, SIGNER_OP_CA_CHAIN);
	sp_put_bytes(&b, "good\0x", 6);
	EXPECT(s, &b, SIGNER_ERR, "malformed request");
	sp_put_u32(&b, SIGNER_OP_SIGN_CERT);
	sp_put_str(&b, ca_id);
	sp_put_str(&b, "r");
	sp_put_bytes(&b, "x", 1);
	sp_put_str(&b, "a@example.org");
	sp_put_u32(&b, 0xfffffff0u); /* four billion addresses: nothing is allocated for them */
	EXPECT(s, &b, SIGNER_ERR, "malformed certificate request");
	sp_put_u32(&b, SIGNER_OP_KEY_STATUS);
	sp_put_u32(&b, 7);
	EXPECT(s, &b, SIGNER_ERR, "no master key slot 7");
	buf_free(&b);
}

/* More than max_certificates_per_hour: refused with the wait, and an alarm in the log. */
static void
test_rate_limit(struct raw *s)
{
	struct buf b;
	struct sp_reader r;
	struct errbuf e;
	EVP_PKEY *key = NULL;
	uint32_t status = SIGNER_OK;
	unsigned char *reply;
	int signed_now = 0;
	char *text = NULL;
	size_t len = 0;

	buf_init(&b, 0);
	CHECK_INTEQ(key_generate(KEY_TYPE_P256, &key, &e), 0);
	for (int i = 0; i < PER_HOUR + 1 && status == SIGNER_OK; i++) {
		put_cert(&b, &(struct cert_ask){ .key = key, .mail = "ivan@example.org" });
		reply = ask(s, &b, &status, &r);
		if (status == SIGNER_OK)
			signed_now++;
		else if (status == SIGNER_BUSY) {
			uint64_t wait = sp_get_u64(&r);

			CHECK(wait > 0 && wait <= 3600);
		}
		free(reply);
	}
	CHECK_INTEQ(status, SIGNER_BUSY);
	CHECK(signed_now < PER_HOUR);
	put_cert(&b, &(struct cert_ask){ .key = key, .mail = "ivan@example.org" });
	EXPECT(s, &b, SIGNER_BUSY, "max_certificates_per_hour");
	CHECK_INTEQ(file_read_all(log_path, 64 << 20, &text, &len, &e), 0);
	CHECK_CONTAINS(text, "\"event\":\"alarm\"");
	/* One alarm for the hour, not one per refusal. */
	CHECK(text != NULL && strstr(strstr(text, "\"event\":\"alarm\"") + 1,
	    "\"event\":\"alarm\"") == NULL);
	free(text);
	EVP_PKEY_free(key);
	buf_free(&b);
}

/* Run smimesync-signer verify-log; its exit status, its output in *out (new). */
static int
verify_log(const char *path, const char *head, char **out)
{
	char *outfile = xasprintf("%s/verify.out", dir);
	char *cmd = xasprintf("'%s' verify-log '%s' %s%s >'%s' 2>&1",
	    getenv("SMIMESYNC_SIGNER_PROGRAM"), path, head != NULL ? "--head " : "",
	    head != NULL ? head : "", outfile);
	int st = system(cmd);
	size_t len = 0;
	struct errbuf e;

	*out = NULL;
	if (file_read_all(outfile, 1 << 20, out, &len, &e) != 0)
		*out = xstrdup("");
	free(cmd);
	free(outfile);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Write lines of text to path, line number skip left out and line edit changed. */
static void
rewrite(const char *src, const char *dst, int skip, int edit, int keep)
{
	char *text = NULL, *save = NULL;
	size_t len = 0;
	struct buf out;
	struct errbuf e;
	int n = 0;

	CHECK_INTEQ(file_read_all(src, 64 << 20, &text, &len, &e), 0);
	buf_init(&out, 0);
	for (char *line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		n++;
		if (n == skip || (keep > 0 && n > keep))
			continue;
		if (n == edit) {
			char *at = strstr(line, "example.org");

			if (at != NULL)
				at[0] = 'E'; /* one letter */
		}
		CHECK_INTEQ(buf_printf(&out, "%s\n", line), 0);
	}
	write_file(dst, out.data, 0600);
	buf_free(&out);
	free(text);
}

static void
test_signing_log(void)
{
	char *copy = xasprintf("%s/copy.log", dir);
	char *out = NULL, head[100], hash[65];
	int rc, edit_line = 0, n = 0;
	uint64_t lines = 0;
	char *text = NULL, *save = NULL;
	size_t len = 0;
	struct errbuf e;

	rc = verify_log(log_path, NULL, &out);
	CHECK_INTEQ(rc, 0);
	CHECK_CONTAINS(out, "chain intact");
	if (sscanf(out != NULL ? strstr(out, ": ") + 2 : "", "%llu line",
	    (unsigned long long *)&lines) != 1)
		CHECK(!"verify-log prints the number of lines");
	{
		const char *h = out != NULL ? strstr(out, "sha256:") : NULL;

		CHECK(h != NULL);
		snprintf(hash, sizeof(hash), "%.64s", h != NULL ? h + 7 : "");
	}
	free(out);
	/* What it logged: certificates, refusals, revocations, CRLs, recoveries. */
	CHECK_INTEQ(file_read_all(log_path, 64 << 20, &text, &len, &e), 0);
	CHECK_CONTAINS(text, "\"event\":\"certificate\"");
	CHECK_CONTAINS(text, "\"sans\":[\"alice@example.org\",\"alice@example.com\"]");
	CHECK_CONTAINS(text, "\"requester\":\"test-run\"");
	CHECK_CONTAINS(text, "\"event\":\"refused\"");
	CHECK_CONTAINS(text, "\"event\":\"revocation\"");
	CHECK_CONTAINS(text, "\"event\":\"crl\"");
	CHECK_CONTAINS(text, "\"event\":\"key-closed\"");
	CHECK_CONTAINS(text, "\"event\":\"recovery\"");
	CHECK_CONTAINS(text, "\"user\":\"operator\",\"sudo_user\":\"alice\"");
	CHECK_CONTAINS(text, "\"event\":\"recovery-refused\"");
	/* The line of the first certificate, to edit. */
	for (char *line = strtok_r(text, "\n", &save); line != NULL && edit_line == 0;
	    line = strtok_r(NULL, "\n", &save)) {
		n++;
		if (strstr(line, "\"event\":\"certificate\"") != NULL)
			edit_line = n;
	}
	free(text);
	CHECK(edit_line > 0 && (uint64_t)edit_line < lines);

	/* One letter changed in a line: that line is named. */
	rewrite(log_path, copy, 0, edit_line, 0);
	rc = verify_log(copy, NULL, &out);
	CHECK_INTEQ(rc, 1);
	snprintf(head, sizeof(head), "copy.log:%d: was changed", edit_line);
	CHECK_CONTAINS(out, head);
	free(out);
	/* A line deleted: its place is named. */
	unlink(copy);
	rewrite(log_path, copy, 3, 0, 0);
	rc = verify_log(copy, NULL, &out);
	CHECK_INTEQ(rc, 1);
	CHECK_CONTAINS(out, "copy.log:3: seq is 4 where 3 belongs: the line that was here was removed");
	free(out);
	/* The last lines cut: the file alone is a valid chain, the recorded head is not in it. */
	unlink(copy);
	rewrite(log_path, copy, 0, 0, (int)lines - 2);
	CHECK_INTEQ(verify_log(copy, NULL, &out), 0);
	free(out);
	snprintf(head, sizeof(head), "%llu:%s", (unsigned long long)lines, hash);
	rc = verify_log(copy, head, &out);
	CHECK_INTEQ(rc, 1);
	CHECK_CONTAINS(out, "lines at the end were removed");
	free(out);
	rc = verify_log(log_path, head, &out);
	CHECK_INTEQ(rc, 0);
	CHECK_CONTAINS(out, "recorded line present");
	free(out);

	/* A signer whose log was edited signs nothing. */
	rewrite(log_path, log_path, 0, edit_line, 0);
	{
		struct raw s;
		struct buf b;
		struct errbuf ke;
		EVP_PKEY *key = NULL;

		CHECK_INTEQ(key_generate(KEY_TYPE_P256, &key, &ke), 0);
		raw_start(&s, policy_path);
		buf_init(&b, 0);
		put_cert(&b, &(struct cert_ask){ .key = key, .mail = "judy@example.org" });
		EXPECT(&s, &b, SIGNER_ERR, "cannot be trusted");
		raw_stop(&s);
		buf_free(&b);
		EVP_PKEY_free(key);
	}
	free(copy);
}

/* Given the signer, ca_* and escrow_* work and this process holds no key. */
static void
test_through_signer(void)
{
	struct signer *s = NULL;
	struct ca *ca = NULL, *bad = NULL;
	struct master_key k, direct, next;
	struct ca_request req;
	struct ca_result res;
	struct ca_crl crl;
	struct errbuf e;
	EVP_PKEY *key = NULL;
	X509_REQ *csr = NULL;
	unsigned char *sealed = NULL, *plain = NULL;
	size_t sealed_len = 0, plain_len = 0;
	const char secret[] = "the subscriber's PKCS#8 key";
	bool already = true;

	CHECK_INTEQ(signer_start(&cfg, &s, &e), 0);
	CHECK(s != NULL && signer_pid(s) > 0 && signer_pid(s) != getpid());
	CHECK_CONTAINS(s != NULL ? signer_description(s) : NULL, policy_path);
	/* Starting over the running signer would lose it. */
	CHECK(signer_start(&cfg, &s, &e) != 0);
	CHECK_CONTAINS(e.text, "already running");
	signer_set_requester(s, "run-through-signer");

	/* The CA: its public chain only. */
	CHECK_INTEQ(ca_open(&ca_conf[0], s, &ca, &e), 0);
	CHECK(ca != NULL && ca_issuer_key(ca) == NULL);
	CHECK(ca != NULL && ca_issuer_cert(ca) != NULL && sk_X509_num(ca_chain(ca)) == 2);
	CHECK(ca_open(&ca_conf[1], s, &bad, &e) != 0);
	CHECK_CONTAINS(e.text, "does not exist; run \"smimesync ca init\"");

	CHECK_INTEQ(key_generate(KEY_TYPE_P256, &key, &e), 0);
	CHECK_INTEQ(csr_make(key, "alice@example.org", &csr, &e), 0);
	memset(&req, 0, sizeof(req));
	req.mail = "alice@example.org";
	req.validity = 365 * (int64_t)DAY;
	CHECK_INTEQ(ca_submit(ca, csr, &req, &res), CA_ISSUED);
	CHECK(res.cert != NULL && X509_verify(res.cert, X509_get0_pubkey(ca_issuer_cert(ca))) == 1);
	CHECK(res.cert != NULL && X509_check_email(res.cert, "alice@example.org", 0, 0) == 1);
	CHECK(res.cert != NULL && X509_check_private_key(res.cert, key) == 1);
	CHECK(res.chain != NULL && sk_X509_num(res.chain) == 2);
	if (res.cert != NULL)
		CHECK_INTEQ(signer_revoke(s, res.cert, 4, &already, &e), 0);
	CHECK(!already);
	ca_result_clear(&res);
	/* The policy's refusal comes through as a rejection with its reason. */
	req.mail = "mallory@evil.example";
	CHECK_INTEQ(ca_submit(ca, csr, &req, &res), CA_REJECTED);
	CHECK_CONTAINS(res.reason, "refused by the signer: mallory@evil.example is outside");
	ca_result_clear(&res);

	/* The first CRL of this CA continues from the number it is given (the store's). */
	CHECK_INTEQ(ca_make_crl(ca, 57, 7 * DAY, &crl, &e), 0);
	CHECK(crl.number == 57 && crl.entries == 1);
	{
		const unsigned char *p = crl.der;
		X509_CRL *x = d2i_X509_CRL(NULL, &p, (long)crl.len);

		CHECK(x != NULL && X509_CRL_verify(x, X509_get0_pubkey(ca_issuer_cert(ca))) == 1);
		X509_CRL_free(x);
	}
	free(crl.der);
	CHECK(ca_make_crl(ca, 0, 11 * DAY, &crl, &e) != 0);
	CHECK_CONTAINS(e.text, "10 days");

	/* The master key: a handle, no bytes here. */
	CHECK_INTEQ(master_key_load(cfg.service.master_key_file, s, &k, &e), 0);
	CHECK(k.signer == s && all_zero(k.bytes, sizeof(k.bytes)));
	CHECK_INTEQ(escrow_seal(&k, "mail:1", (const unsigned char *)secret, sizeof(secret),
	    &sealed, &sealed_len, &e), 0);
	CHECK_INTEQ(escrow_open(&k, "mail:1", sealed, sealed_len, &plain, &plain_len, &e), 0);
	CHECK(plain_len == sizeof(secret) && memcmp(plain, secret, sizeof(secret)) == 0);
	secret_free(plain, plain_len + 1);
	CHECK(escrow_open(&k, "mail:2", sealed, sealed_len, &plain, &plain_len, &e) != 0);
	CHECK_CONTAINS(e.text, "cannot decrypt: the master key does not match");
	CHECK_INTEQ(escrow_probe(&k, "mail:1", sealed, sealed_len, &e), 1);
	CHECK_INTEQ(escrow_probe(&k, "mail:2", sealed, sealed_len, &e), 0);
	{
		struct master_key other;

		CHECK(master_key_load("/etc/passwd", s, &other, &e) != 0);
		CHECK_CONTAINS(e.text, "not a master key of this configuration");
	}

	/* No rotation in progress, then the signer makes the successor and re-seals. */
	{
		char *np = xasprintf("%s.new", cfg.service.master_key_file);
		unsigned char *resealed = NULL;
		size_t rlen = 0;
		struct stat st;

		CHECK(master_key_load(np, s, &next, &e) != 0);
		CHECK_CONTAINS(e.text, "no master key rotation is in progress");
		CHECK(master_key_create("/tmp/elsewhere.key", s, &e) != 0);
		CHECK_CONTAINS(e.text, "creates only");
		CHECK_INTEQ(master_key_create(np, s, &e), 0);
		CHECK(stat(np, &st) == 0 && (st.st_mode & 07777) == 0600);
		CHECK_INTEQ(master_key_load(np, s, &next, &e), 0);
		CHECK(next.signer == s && next.slot == SIGNER_SLOT_NEXT);
		CHECK(escrow_open(&next, "mail:1", sealed, sealed_len, &plain, &plain_len, &e) != 0);
		CHECK_INTEQ(escrow_reseal(&k, &next, "mail:1", sealed, sealed_len, &resealed, &rlen,
		    &e), 0);
		CHECK_INTEQ(escrow_probe(&next, "mail:1", resealed, rlen, &e), 1);
		CHECK_INTEQ(escrow_probe(&k, "mail:1", resealed, rlen, &e), 0);
		free(resealed);
		unlink(np);
		free(np);
	}
	ca_close(ca);
	signer_stop(s);
	s = NULL;

	/* What the signer sealed opens in-process with the key from the file: same format. */
	CHECK_INTEQ(master_key_load(cfg.service.master_key_file, NULL, &direct, &e), 0);
	CHECK(direct.signer == NULL && !all_zero(direct.bytes, sizeof(direct.bytes)));
	CHECK_INTEQ(escrow_open(&direct, "mail:1", sealed, sealed_len, &plain, &plain_len, &e), 0);
	CHECK(plain_len == sizeof(secret) && memcmp(plain, secret, sizeof(secret)) == 0);
	secret_free(plain, plain_len + 1);
	master_key_wipe(&direct);
	free(sealed);
	X509_REQ_free(csr);
	EVP_PKEY_free(key);
}

/* No policy file: one derived from the configuration, sent in the greeting. */
static void
test_derived_policy(void)
{
	struct config c2 = cfg;
	struct signer *s = NULL;
	struct errbuf e;

	c2.service.signer_policy = NULL;
	c2.path = xasprintf("%s/elsewhere/smimesync.conf", dir);
	CHECK_INTEQ(signer_start(&c2, &s, &e), 0);
	CHECK_CONTAINS(s != NULL ? signer_description(s) : NULL,
	    "policy derived from smimesync's configuration");
	signer_stop(s);
	s = NULL;
	/* An explicit policy file that is not there is an error, not a fallback. */
	c2.service.signer_policy = c2.path;
	CHECK(signer_start(&c2, &s, &e) != 0);
	CHECK_CONTAINS(e.text, "signer_policy");
	free(c2.path);
}

/* A policy others may write is refused: whoever can change it decides what is signed. */
static void
test_policy_owner(void)
{
	struct config c2 = cfg;
	struct signer *s = NULL;
	struct errbuf e;

	CHECK_INTEQ(chmod(policy_path, 0666), 0);
	CHECK(signer_start(&c2, &s, &e) != 0);
	CHECK_CONTAINS(e.text, "is writable by its group or by others");
	CHECK_INTEQ(chmod(policy_path, 0644), 0);
}

/* A signer killed under us: clear errors, CA_UNREACHABLE, and a fresh start works. */
static void
test_dead_signer(void)
{
	struct signer *s = NULL;
	struct ca *ca = NULL;
	struct master_key k;
	struct ca_request req;
	struct ca_result res;
	struct errbuf e;
	EVP_PKEY *key = NULL;
	X509_REQ *csr = NULL;
	unsigned char *sealed = NULL;
	size_t sealed_len = 0;

	CHECK_INTEQ(signer_start(&cfg, &s, &e), 0);
	CHECK_INTEQ(ca_open(&ca_conf[0], s, &ca, &e), 0);
	CHECK_INTEQ(master_key_load(cfg.service.master_key_file, s, &k, &e), 0);
	CHECK_INTEQ(kill(signer_pid(s), SIGKILL), 0);
	CHECK_INTEQ(key_generate(KEY_TYPE_P256, &key, &e), 0);
	CHECK_INTEQ(csr_make(key, "bob@example.org", &csr, &e), 0);
	memset(&req, 0, sizeof(req));
	req.mail = "bob@example.org";
	req.validity = 30 * (int64_t)DAY;
	CHECK_INTEQ(ca_submit(ca, csr, &req, &res), CA_UNREACHABLE);
	CHECK_CONTAINS(res.reason, "was killed by signal 9");
	CHECK_CONTAINS(res.reason, "nothing was signed or sealed");
	ca_result_clear(&res);
	/* Every later request says the same, at once. */
	CHECK(escrow_seal(&k, "x", (const unsigned char *)"y", 1, &sealed, &sealed_len, &e) != 0);
	CHECK_CONTAINS(e.text, "was killed by signal 9");
	ca_close(ca);
	signer_stop(s);
	s = NULL;

	/* The next start is a new, working child. */
	CHECK_INTEQ(signer_start(&cfg, &s, &e), 0);
	CHECK_INTEQ(master_key_load(cfg.service.master_key_file, s, &k, &e), 0);
	CHECK_INTEQ(escrow_seal(&k, "x", (const unsigned char *)"y", 1, &sealed, &sealed_len, &e), 0);
	free(sealed);
	signer_stop(s);
	X509_REQ_free(csr);
	EVP_PKEY_free(key);
}

/* The reader never reads past the body, and a silent peer times out. */
static void
test_proto(void)
{
	struct buf b;
	struct sp_reader r;
	unsigned char *body = NULL;
	size_t len = 0, n = 0;
	int sv[2];
	char *s;

	buf_init(&b, 0);
	sp_put_u64(&b, 0x0102030405060708ull);
	sp_put_str(&b, NULL);
	sp_put_str(&b, "abc");
	sp_put_bytes(&b, "", 0);
	sp_reader_init(&r, b.data, b.len);
	CHECK(sp_get_u64(&r) == 0x0102030405060708ull);
	CHECK(sp_get_str(&r) == NULL && !r.bad);
	s = sp_get_str(&r);
	CHECK_STREQ(s, "abc");
	free(s);
	CHECK(sp_get_bytes(&r, &n) != NULL && n == 0);
	CHECK(sp_reader_done(&r));
	CHECK_INTEQ(sp_get_u32(&r), 0);
	CHECK(r.bad && !sp_reader_done(&r));
	/* A str length longer than the rest of the body. */
	sp_reader_init(&r, b.data + 8 + 4, 5);
	CHECK(sp_get_str(&r) == NULL && r.bad);

	CHECK_INTEQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	CHECK_INTEQ(sp_send(sv[0], &b), 0);
	CHECK_INTEQ(sp_recv(sv[1], &body, &len, 1000), 0);
	CHECK(len == b.len && memcmp(body, b.data, len) == 0);
	free(body);
	CHECK_INTEQ(sp_recv(sv[1], &body, &len, 50), -2);
	close(sv[0]);
	CHECK_INTEQ(sp_recv(sv[1], &body, &len, 1000), 1);
	close(sv[1]);
	buf_free(&b);
}

/* Every mistake in a policy is named with its line, and all are reported at once. */
static void
test_policy_errors(void)
{
	static const char text[] =
	    "[signer]\n"                                   /* 1 */
	    "state_dir = /var/lib/x\n"                      /* 2 */
	    "max_certificates_per_hour = lots\n"            /* 3 */
	    "recovery_credential = hunter2\n"               /* 4 */
	    "[ca one]\n"                                    /* 5 */
	    "cert_file = /a.pem\n"                          /* 6 */
	    "key_file = /a.key\n"                           /* 7 */
	    "mail_domains = example.org, not a domain\n"    /* 8 */
	    "profiles = mailbox-strict, mailbox-lax\n"      /* 9 */
	    "key_types = p256, dsa1024\n"                   /* 10 */
	    "max_validity = 900d\n"                         /* 11 */
	    "colour = blue\n"                               /* 12 */
	    "[ca one]\n"                                    /* 13 */
	    "[ca two]\n"                                    /* 14 */
	    "cert_file = /b.pem\n";                         /* 15 */
	struct policy *p = NULL;
	char *errors = NULL;

	CHECK(policy_parse(text, strlen(text), "signer.conf", &p, &errors) != 0);
	CHECK(p == NULL);
	CHECK_CONTAINS(errors, "signer.conf:3: max_certificates_per_hour: \"lots\"");
	CHECK_CONTAINS(errors, "signer.conf:4: recovery_credential: not a credential verifier");
	CHECK_CONTAINS(errors, "signer.conf:8: mail_domains: \"not a domain\" is not a domain");
	CHECK_CONTAINS(errors, "signer.conf:9: profiles: \"mailbox-lax\" is not a profile");
	CHECK_CONTAINS(errors, "signer.conf:10: key_types: \"dsa1024\" is not a key type");
	CHECK_CONTAINS(errors, "signer.conf:11: max_validity: 900d is longer than 825 days");
	CHECK_CONTAINS(errors, "signer.conf:12: [ca one] has no key \"colour\"");
	CHECK_CONTAINS(errors, "signer.conf:13: [ca one] is given twice");
	CHECK_CONTAINS(errors, "signer.conf:14: [ca two] has no key_file");
	CHECK_CONTAINS(errors, "signer.conf:14: [ca two] has no mail_domains");
	free(errors);
	errors = NULL;
	/* No [signer] at all. */
	CHECK(policy_parse("[ca x]\n", 7, "p", &p, &errors) != 0);
	CHECK_CONTAINS(errors, "p: no [signer] section");
	free(errors);
}

/*
 * Keys on a PKCS#11 token in the signer's policy: key_file holds the URI,
 * the PIN comes from pin_file or pin_credential, the master key may be
 * sealed under master_key_uri; a bad URI or credential name is an error
 * with its line. The policy smimesync derives carries them over, so the
 * signer (not smimesync) reads the PIN.
 */
static void
test_policy_tokens(void)
{
	static const char bad[] =
	    "[signer]\n"                                                          /* 1 */
	    "state_dir = /var/lib/x\n"                                             /* 2 */
	    "master_key_uri = pkcs11:token=t;object=seal\n"                        /* 3 */
	    "master_key_pin_credential = ../pin\n"                                 /* 4 */
	    "[ca one]\n"                                                           /* 5 */
	    "cert_file = /a.pem\n"                                                 /* 6 */
	    "key_file = pkcs11:token=t;object=ca;pin-value=1234?module-path=/m.so\n" /* 7 */
	    "pin_credential = a/b\n"                                               /* 8 */
	    "mail_domains = *\n";                                                  /* 9 */
	static const char good[] =
	    "[signer]\n"
	    "state_dir = /var/lib/x\n"
	    "master_key_file = /var/lib/x/master.key\n"
	    "master_key_uri = pkcs11:token=t;object=seal?module-path=/m.so\n"
	    "master_key_pin_file = /etc/x/seal.pin\n"
	    "[ca one]\n"
	    "cert_file = /a.pem\n"
	    "key_file = pkcs11:token=t;object=ca?module-path=/m.so\n"
	    "pin_credential = token-pin\n"
	    "mail_domains = *\n";
	struct config c2 = cfg;
	struct conf_ca cas[2];
	struct policy *p = NULL;
	char *errors = NULL, *text;

	CHECK(policy_parse(bad, strlen(bad), "signer.conf", &p, &errors) != 0);
	CHECK_CONTAINS(errors, "signer.conf:3: master_key_uri: say which PKCS#11 library");
	CHECK_CONTAINS(errors, "signer.conf:4: master_key_pin_credential: \"../pin\" is not a "
	    "systemd credential name");
	CHECK_CONTAINS(errors, "signer.conf:7: key_file: pin-value: the PIN never goes into a URI");
	CHECK_CONTAINS(errors, "signer.conf:8: pin_credential: \"a/b\" is not a systemd");
	free(errors);
	errors = NULL;
	CHECK_INTEQ(policy_parse(good, strlen(good), "signer.conf", &p, &errors), 0);
	if (p != NULL) {
		CHECK_STREQ(p->master_key_uri, "pkcs11:token=t;object=seal?module-path=/m.so");
		CHECK_STREQ(p->master_key_pin_file, "/etc/x/seal.pin");
		CHECK_STREQ(p->cas[0].key_file, "pkcs11:token=t;object=ca?module-path=/m.so");
		CHECK_STREQ(p->cas[0].pin_credential, "token-pin");
	}
	policy_free(p);
	free(errors);
	/* Derived from a configuration whose [ca] has key_uri. */
	memcpy(cas, ca_conf, sizeof(cas));
	cas[0].key_uri = "pkcs11:token=t;object=ca?module-path=/m.so";
	cas[0].pin_file = "/etc/smimesync/token.pin";
	c2.cas = cas;
	c2.service.master_key_uri = "pkcs11:token=t;object=seal?module-path=/m.so";
	c2.service.master_key_pin_credential = "seal-pin";
	text = signer_policy_derive(&c2);
	CHECK_CONTAINS(text, "\nkey_file = pkcs11:token=t;object=ca?module-path=/m.so\n"
	    "pin_file = /etc/smimesync/token.pin\n");
	CHECK_CONTAINS(text, "\nmaster_key_uri = pkcs11:token=t;object=seal?module-path=/m.so\n");
	CHECK_CONTAINS(text, "\nmaster_key_pin_credential = seal-pin\n");
	CHECK_INTEQ(policy_parse(text, strlen(text), "derived", &p, &errors), 0);
	policy_free(p);
	free(errors);
	free(text);
}

int
main(void)
{
	struct raw s;

	signal(SIGPIPE, SIG_IGN);
	setup();
	test_policy_errors();
	test_policy_tokens();
	test_proto();
	test_through_signer();
	test_derived_policy();
	test_policy_owner();
	test_dead_signer();
	raw_start(&s, policy_path);
	test_protocol_refusals(&s);
	test_certificate_refusals(&s);
	test_revocation_refusals(&s);
	test_unseal_refusals(&s);
	test_rate_limit(&s);
	raw_stop(&s);
	test_signing_log();
	teardown();
	ERR_clear_error();
	return check_finish();
}
