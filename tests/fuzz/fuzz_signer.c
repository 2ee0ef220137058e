/* SPDX-License-Identifier: ISC */
/*
 * The signer's request handling (signer/sctx.h) on arbitrary request
 * bodies after the greeting: what a compromised smimesync could send it.
 * Properties: every reply is a well-formed OK, error, refusal or busy
 * answer with a message; no reply holds the master key or the CA's
 * private key (unless the request itself carried it: libFuzzer learns the
 * bytes this very check compares, and a refusal quoting a request leaks
 * nothing); and the signing log's chain stays intact whatever was asked.
 *
 * The CA's key identifier is random per run: the 40 hex digits
 * 00000000000000000000000000000000000000ca in an input stand for it, so
 * the seeds in tests/fuzz/corpus/fuzz_signer reach the CA.
 */
#include "config.h"

#define _GNU_SOURCE 1 /* memmem */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/buf.h"
#include "common/errbuf.h"
#include "common/xalloc.h"
#include "signer/policy.h"
#include "signer/sctx.h"
#include "signer/signlog.h"
#include "smime/ca.h"
#include "smime/cert.h"
#include "smime/credential.h"
#include "smime/escrow.h"
#include "smime/key.h"
#include "smime/signer.h"
#include "smime/signer_proto.h"
#include "tests/fuzz/fuzz.h"

#define PLACEHOLDER "00000000000000000000000000000000000000ca"

static struct conf_ca ca;
static struct sctx *signer;
static struct sconn conn;
static struct master_key mkey;    /* the same key, read in this process to look for it */
static unsigned char *ca_key_der; /* the CA's private key as PKCS#8 */
static size_t ca_key_len;
static char *ca_id;
static char *log_path;
static FILE *devnull;

static void
setup(void)
{
	const char *d = fuzz_scratch_dir();
	struct ca_init_params init = { 0 };
	char *root_key = NULL;
	struct errbuf e;
	EVP_PKEY *k = NULL;
	STACK_OF(X509) *certs = NULL;
	struct policy *pol = NULL;
	char *text, *errors = NULL, *verifier, *mk;

	ca.name = "internal";
	ca.type = CA_TYPE_LOCAL;
	ca.cert_file = xasprintf("%s/ca/issuing.pem", d);
	ca.key_file = xasprintf("%s/private/issuing.key", d);
	ca.chain_file = xasprintf("%s/ca/chain.pem", d);
	ca.crl_url = "http://pki.example.org/issuing.crl";
	ca.init_key_type = KEY_TYPE_P256;
	ca.organization = "Example";
	ca.root_validity = (int64_t)3650 * 86400;
	ca.issuing_validity = (int64_t)1825 * 86400;
	mk = xasprintf("%s/master.key", d);
	init.root_key_out = root_key = xasprintf("%s/offline-root.key", d);
	init.profiles = CERT_PROFILE_BIT(PROFILE_MAILBOX_STRICT) |
	    CERT_PROFILE_BIT(PROFILE_ORGANIZATION_STRICT);
	if (ca_init(&ca, &init, &e) != 0 || master_key_create(mk, NULL, &e) != 0 ||
	    master_key_load(mk, NULL, &mkey, &e) != 0 ||
	    key_load_pem_file(ca.key_file, &k, &e) != 0 ||
	    key_to_pkcs8_der(k, &ca_key_der, &ca_key_len, &e) != 0 ||
	    cert_load_pem_file(ca.cert_file, &certs, &e) != 0) {
		fprintf(stderr, "fuzz_signer setup: %s\n", e.text);
		abort();
	}
	ca_id = signer_ca_id(sk_X509_value(certs, 0));
	FUZZ_ASSERT(ca_id != NULL && strlen(ca_id) == strlen(PLACEHOLDER));
	sk_X509_pop_free(certs, X509_free);
	EVP_PKEY_free(k);
	free(root_key);
	verifier = credential_verifier("fuzz");
	text = xasprintf("[signer]\nstate_dir = %s/signer\nmaster_key_file = %s\n"
	    "recovery_credential = %s\n[ca internal]\ncert_file = %s\nkey_file = %s\n"
	    "chain_file = %s\ncrl_url = %s\nmail_domains = example.org\n"
	    "profiles = mailbox-strict, organization-strict\nkey_types = p256, rsa2048\n"
	    "organization = Example Org\norganization_identifier = VATDE-123456789\n", d, mk,
	    verifier, ca.cert_file, ca.key_file, ca.chain_file, ca.crl_url);
	if (policy_parse(text, strlen(text), "fuzz", &pol, &errors) != 0 ||
	    sctx_new(pol, &signer, &e) != 0) {
		fprintf(stderr, "fuzz_signer setup: %s\n", errors != NULL ? errors : e.text);
		abort();
	}
	log_path = xasprintf("%s/signer/%s", d, SIGNLOG_FILE);
	conn.greeted = true;
	devnull = fopen("/dev/null", "w");
	FUZZ_ASSERT(devnull != NULL);
	free(text);
	free(verifier);
	free(mk);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf out;
	struct sp_reader r;
	unsigned char *body;
	uint32_t status;

	if (signer == NULL)
		setup();
	body = xmalloc(size + 1);
	memcpy(body, data, size);
	for (unsigned char *p = body; size >= strlen(PLACEHOLDER) &&
	    (p = memmem(p, size - (size_t)(p - body), PLACEHOLDER, strlen(PLACEHOLDER))) != NULL;
	    p += strlen(PLACEHOLDER))
		memcpy(p, ca_id, strlen(PLACEHOLDER));
	buf_init(&out, 0);
	sctx_serve(signer, &conn, body, size, &out);
	sp_reader_init(&r, out.data, out.len);
	status = sp_get_u32(&r);
	switch (status) {
	case SIGNER_OK:
		break;
	case SIGNER_BUSY:
		(void)sp_get_u64(&r);
		/* fall through */
	case SIGNER_ERR:
	case SIGNER_REFUSED: {
		char *msg = sp_get_str(&r);

		FUZZ_ASSERT(msg != NULL && msg[0] != '\0');
		FUZZ_ASSERT(sp_reader_done(&r));
		free(msg);
		break;
	}
	default:
		FUZZ_ASSERT(!"a reply starts with OK, ERR, REFUSED or BUSY");
	}
	FUZZ_ASSERT(!r.bad);
	/* A refusal may quote the request: only a key the request did not carry is a leak. */
	if (memmem(data, size, mkey.bytes, sizeof(mkey.bytes)) == NULL)
		FUZZ_ASSERT(memmem(out.data, out.len, mkey.bytes, sizeof(mkey.bytes)) == NULL);
	if (memmem(data, size, ca_key_der, ca_key_len) == NULL)
		FUZZ_ASSERT(memmem(out.data, out.len, ca_key_der, ca_key_len) == NULL);
	/* Whatever was asked, the log is still a chain. */
	if (status == SIGNER_OK)
		FUZZ_ASSERT(signlog_verify_file(log_path, 0, NULL, devnull) == 0);
	buf_free(&out);
	free(body);
	return 0;
}
