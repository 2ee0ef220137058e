/* SPDX-License-Identifier: ISC */
/*
 * The signer process (smime/signer.h): the smime/ API given the signer
 * handle gives the same results as in-process, this process never holds
 * the keys, the child refuses malformed and unknown requests, and a dead
 * or silent child turns every request into a clear error instead of a
 * hang.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/buf.h"
#include "common/fileutil.h"
#include "common/xalloc.h"
#include "smime/ca.h"
#include "smime/escrow.h"
#include "smime/key.h"
#include "smime/signer.h"
#include "smime/signer_child.h"
#include "smime/signer_proto.h"
#include "smime/smime_internal.h"
#include "tests/unit/check.h"

#define DAY 86400

static char *dir;
static struct conf_ca ca_conf[2];
static struct config cfg;

static void
setup(void)
{
	char tmpl[] = "/tmp/smime-signer-test-XXXXXX";
	struct ca_init_params init = { 0 };
	struct errbuf e;
	char *root_key;
	int rc;

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
	ca_conf[0].issuing_validity = 1825 * (int64_t)DAY;
	/* A CA whose files were never made: its error must come through. */
	ca_conf[1].name = "missing";
	ca_conf[1].type = CA_TYPE_LOCAL;
	ca_conf[1].cert_file = xasprintf("%s/nothing/issuing.pem", dir);
	ca_conf[1].key_file = xasprintf("%s/nothing/issuing.key", dir);
	cfg.cas = ca_conf;
	cfg.n_cas = 2;
	cfg.service.master_key_file = xasprintf("%s/master.key", dir);
	init.root_key_out = root_key = xasprintf("%s/offline-root.key", dir);
	init.profiles = CERT_PROFILE_BIT(PROFILE_MAILBOX_STRICT);
	rc = ca_init(&ca_conf[0], &init, &e);
	free(root_key);
	if (rc != 0 ||
	    master_key_create(cfg.service.master_key_file, NULL, &e) != 0) {
		fprintf(stderr, "setup: %s\n", e.text);
		exit(1);
	}
}

static void
teardown(void)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);

	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	free(cmd);
}

/* A fresh subscriber key and CSR for mail. */
static void
make_csr(const char *mail, EVP_PKEY **key, X509_REQ **csr)
{
	struct errbuf e;

	*key = NULL;
	*csr = NULL;
	CHECK_INTEQ(key_generate(KEY_TYPE_P256, key, &e), 0);
	CHECK_INTEQ(csr_make(*key, mail, csr, &e), 0);
}

static bool
all_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != 0)
			return false;
	return true;
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
	struct crl_entry ent = { "1A2B3C", 1700000000, 1 };
	struct errbuf e;
	EVP_PKEY *key = NULL;
	X509_REQ *csr = NULL;
	X509_CRL *crl = NULL;
	unsigned char *sealed = NULL, *plain = NULL, *der = NULL;
	size_t sealed_len = 0, plain_len = 0, der_len = 0;
	const char secret[] = "the subscriber's PKCS#8 key";
	const unsigned char *p;

	CHECK_INTEQ(signer_start(&cfg, &s, &e), 0);
	CHECK(s != NULL && signer_pid(s) > 0 && signer_pid(s) != getpid());
	/* Starting over the running signer would lose it. */
	CHECK(signer_start(&cfg, &s, &e) != 0);
	CHECK_CONTAINS(e.text, "already running");

	/* The CA: its public chain only. */
	CHECK_INTEQ(ca_open(&ca_conf[0], s, &ca, &e), 0);
	CHECK(ca != NULL && ca_issuer_key(ca) == NULL);
	CHECK(ca != NULL && ca_issuer_cert(ca) != NULL && sk_X509_num(ca_chain(ca)) == 2);
	CHECK(ca_open(&ca_conf[1], s, &bad, &e) != 0);
	CHECK_CONTAINS(e.text, "does not exist; run \"smimesync ca init\"");

	make_csr("alice@example.org", &key, &csr);
	memset(&req, 0, sizeof(req));
	req.mail = "alice@example.org";
	req.validity = 365 * (int64_t)DAY;
	CHECK_INTEQ(ca_submit(ca, csr, &req, &res), CA_ISSUED);
	CHECK(res.cert != NULL && X509_verify(res.cert, X509_get0_pubkey(ca_issuer_cert(ca))) == 1);
	CHECK(res.cert != NULL && X509_check_email(res.cert, "alice@example.org", 0, 0) == 1);
	CHECK(res.cert != NULL && X509_check_private_key(res.cert, key) == 1);
	CHECK(res.chain != NULL && sk_X509_num(res.chain) == 2);
	ca_result_clear(&res);
	/* The child's refusals come through with their outcome and reason. */
	req.validity = 900 * (int64_t)DAY;
	CHECK_INTEQ(ca_submit(ca, csr, &req, &res), CA_REJECTED);
	CHECK_CONTAINS(res.reason, "825 days");
	ca_result_clear(&res);

	CHECK_INTEQ(ca_make_crl(ca, &ent, 1, 7, time(NULL), 7 * DAY, &der, &der_len, &e), 0);
	p = der;
	crl = d2i_X509_CRL(NULL, &p, (long)der_len);
	CHECK(crl != NULL && X509_CRL_verify(crl, X509_get0_pubkey(ca_issuer_cert(ca))) == 1);
	CHECK(crl != NULL && sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)) == 1);
	X509_CRL_free(crl);
	free(der);
	CHECK(ca_make_crl(ca, &ent, 1, 7, time(NULL), 11 * DAY, &der, &der_len, &e) != 0);
	CHECK_CONTAINS(e.text, "10 days");

	/* The master key: a handle, no bytes here. */
	CHECK_INTEQ(master_key_load(cfg.service.master_key_file, s, &k, &e), 0);
	CHECK(k.signer == s && all_zero(k.bytes, sizeof(k.bytes)));
	CHECK_INTEQ(escrow_seal(&k, "key:cert=1", (const unsigned char *)secret, sizeof(secret),
	    &sealed, &sealed_len, &e), 0);
	CHECK_INTEQ(escrow_open(&k, "key:cert=1", sealed, sealed_len, &plain, &plain_len, &e), 0);
	CHECK(plain_len == sizeof(secret) && memcmp(plain, secret, sizeof(secret)) == 0);
	secret_free(plain, plain_len + 1);
	CHECK(escrow_open(&k, "key:cert=2", sealed, sealed_len, &plain, &plain_len, &e) != 0);
	CHECK_CONTAINS(e.text, "cannot decrypt: the master key does not match");
	CHECK(master_key_load("/etc/passwd", s, &k, &e) != 0);
	CHECK_CONTAINS(e.text, "not a master key of this configuration");

	/* No rotation in progress, then the signer makes the successor itself. */
	{
		char *np = xasprintf("%s.new", cfg.service.master_key_file);
		struct stat st;

		CHECK(master_key_load(np, s, &next, &e) != 0);
		CHECK_CONTAINS(e.text, "no master key rotation is in progress");
		CHECK(master_key_create("/tmp/elsewhere.key", s, &e) != 0);
		CHECK_CONTAINS(e.text, "creates only");
		CHECK_INTEQ(master_key_create(np, s, &e), 0);
		CHECK(stat(np, &st) == 0 && (st.st_mode & 07777) == 0600);
		CHECK_INTEQ(master_key_load(np, s, &next, &e), 0);
		CHECK(next.signer == s && next.slot == SIGNER_SLOT_NEXT);
		CHECK(escrow_open(&next, "key:cert=1", sealed, sealed_len, &plain, &plain_len, &e) != 0);
		unlink(np);
		free(np);
	}
	ca_close(ca);
	signer_stop(s);
	s = NULL;

	/* What the signer sealed opens in-process with the key from the file: same format. */
	CHECK_INTEQ(master_key_load(cfg.service.master_key_file, NULL, &direct, &e), 0);
	CHECK(direct.signer == NULL && !all_zero(direct.bytes, sizeof(direct.bytes)));
	CHECK_INTEQ(escrow_open(&direct, "key:cert=1", sealed, sealed_len, &plain, &plain_len, &e), 0);
	CHECK(plain_len == sizeof(secret) && memcmp(plain, secret, sizeof(secret)) == 0);
	secret_free(plain, plain_len + 1);
	master_key_wipe(&direct);
	free(sealed);
	X509_REQ_free(csr);
	EVP_PKEY_free(key);
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
	make_csr("bob@example.org", &key, &csr);
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

/* Send b on fd; the refusal's message (new), or NULL if the child said OK. */
static char *
refusal(int fd, const struct buf *b)
{
	unsigned char *reply = NULL;
	size_t len = 0;
	struct sp_reader r;
	char *msg = NULL;

	CHECK_INTEQ(sp_send(fd, b), 0);
	CHECK_INTEQ(sp_recv(fd, &reply, &len, -1), 0);
	sp_reader_init(&r, reply, len);
	if (sp_get_u32(&r) == SIGNER_ERR)
		msg = sp_get_str(&r);
	free(reply);
	return msg;
}

/* The request in b is refused with a message containing want; b is reset. */
#define CHECK_REFUSED(fd, b, want)                                                \
	do {                                                                     \
		char *check_m_ = refusal((fd), (b));                             \
		CHECK_CONTAINS(check_m_, (want));                                \
		free(check_m_);                                                  \
		buf_reset(b);                                                    \
	} while (0)

/* The child on a raw socket: hostile requests get refusals, not crashes. */
static void
test_raw_requests(void)
{
	int sv[2];
	pid_t pid;
	struct buf b;
	unsigned char *reply = NULL;
	size_t len = 0;
	int st = 0;

	CHECK_INTEQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		signer_child_main(sv[1], &cfg);
	}
	close(sv[1]);
	buf_init(&b, 0);

	/* An op the signer does not have: no way to ask it for a key. */
	sp_put_u32(&b, 99);
	CHECK_REFUSED(sv[0], &b, "does not answer request 99");
	/* A truncated seal request, and a string holding a NUL. */
	sp_put_u32(&b, SIGNER_OP_SEAL);
	sp_put_u32(&b, SIGNER_SLOT_CURRENT);
	sp_put_u32(&b, 1000); /* aad length, but no bytes follow */
	CHECK_REFUSED(sv[0], &b, "malformed seal request");
	sp_put_u32(&b, SIGNER_OP_CA_CHAIN);
	sp_put_bytes(&b, "good\0x", 6);
	CHECK_REFUSED(sv[0], &b, "malformed request");
	/* A CRL request claiming four billion entries allocates nothing. */
	sp_put_u32(&b, SIGNER_OP_SIGN_CRL);
	sp_put_str(&b, "good");
	sp_put_u32(&b, 0xfffffff0u);
	CHECK_REFUSED(sv[0], &b, "malformed CRL request");
	/* A slot that does not exist, and a CA it does not hold. */
	sp_put_u32(&b, SIGNER_OP_KEY_STATUS);
	sp_put_u32(&b, 7);
	CHECK_REFUSED(sv[0], &b, "no master key slot 7");
	sp_put_u32(&b, SIGNER_OP_CA_CHAIN);
	sp_put_str(&b, "elsewhere");
	CHECK_REFUSED(sv[0], &b, "holds no local CA of that name");
	/* The CA that failed to load says why, each time it is asked. */
	sp_put_u32(&b, SIGNER_OP_CA_CHAIN);
	sp_put_str(&b, "missing");
	CHECK_REFUSED(sv[0], &b, "does not exist");

	/* A length over the maximum: the child gives up on the stream and exits 1. */
	{
		unsigned char hdr[4] = { 0xff, 0xff, 0xff, 0xff };

		CHECK_INTEQ(write(sv[0], hdr, sizeof(hdr)), 4);
		CHECK_INTEQ(waitpid(pid, &st, 0), pid);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 1);
		CHECK_INTEQ(sp_recv(sv[0], &reply, &len, -1), 1);
	}
	close(sv[0]);
	buf_free(&b);
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

int
main(void)
{
	setup();
	test_proto();
	test_through_signer();
	test_dead_signer();
	test_raw_requests();
	teardown();
	ERR_clear_error();
	return check_finish();
}
