/* SPDX-License-Identifier: ISC */
/*
 * The signer process's request handling (smime/signer_child.c) on
 * arbitrary request bodies: what a compromised smimesync could send it.
 * Properties: every reply is a well-formed OK or a refusal with a message,
 * and no reply holds the master key or the CA's private key.
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
#include "smime/ca.h"
#include "smime/escrow.h"
#include "smime/key.h"
#include "smime/signer_child.h"
#include "smime/signer_proto.h"
#include "tests/fuzz/fuzz.h"

static struct config cfg;
static struct conf_ca ca;
static struct signer_child *child;
static struct master_key mkey;   /* the same key, read in this process to look for it */
static unsigned char *ca_key_der; /* the CA's private key as PKCS#8 */
static size_t ca_key_len;

static void
setup(void)
{
	const char *d = fuzz_scratch_dir();
	struct ca_init_params init = { 0 };
	char *root_key = NULL;
	struct errbuf e;
	EVP_PKEY *k = NULL;

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
	cfg.cas = &ca;
	cfg.n_cas = 1;
	cfg.service.master_key_file = xasprintf("%s/master.key", d);
	init.root_key_out = root_key = xasprintf("%s/offline-root.key", d);
	init.profiles = CERT_PROFILE_BIT(PROFILE_MAILBOX_STRICT);
	if (ca_init(&ca, &init, &e) != 0 || master_key_create(cfg.service.master_key_file, NULL, &e) != 0 ||
	    master_key_load(cfg.service.master_key_file, NULL, &mkey, &e) != 0 ||
	    key_load_pem_file(ca.key_file, &k, &e) != 0 ||
	    key_to_pkcs8_der(k, &ca_key_der, &ca_key_len, &e) != 0) {
		fprintf(stderr, "fuzz_signer setup: %s\n", e.text);
		abort();
	}
	EVP_PKEY_free(k);
	free(root_key);
	child = signer_child_new(&cfg);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf out;
	struct sp_reader r;

	if (child == NULL)
		setup();
	buf_init(&out, 0);
	signer_child_serve(child, data, size, &out);
	sp_reader_init(&r, out.data, out.len);
	switch (sp_get_u32(&r)) {
	case SIGNER_OK:
		break;
	case SIGNER_ERR: {
		char *msg = sp_get_str(&r);

		FUZZ_ASSERT(msg != NULL && msg[0] != '\0');
		FUZZ_ASSERT(sp_reader_done(&r));
		free(msg);
		break;
	}
	default:
		FUZZ_ASSERT(!"a reply starts with OK or ERR");
	}
	FUZZ_ASSERT(!r.bad);
	FUZZ_ASSERT(memmem(out.data, out.len, mkey.bytes, sizeof(mkey.bytes)) == NULL);
	FUZZ_ASSERT(memmem(out.data, out.len, ca_key_der, ca_key_len) == NULL);
	buf_free(&out);
	return 0;
}
