/* SPDX-License-Identifier: ISC */
/*
 * What an external CA sends back, on arbitrary bytes: the JSON of cfssl,
 * EJBCA and Sectigo (enrol and collect) under any HTTP status, and a CA
 * helper's output under any exit status. The first byte picks the reader
 * and the status; the rest is the body.
 * Properties: every answer becomes one of the five outcomes; ISSUED comes
 * with a certificate for the request's key, PENDING with a non-empty
 * cookie, anything else with a reason; nothing crashes or leaks.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "common/buf.h"
#include "common/errbuf.h"
#include "smime/ca.h"
#include "smime/ca_backend.h"
#include "smime/key.h"
#include "tests/fuzz/fuzz.h"

static const long statuses[] = { 200, 201, 202, 400, 401, 403, 404, 429, 500, 503 };

static X509_REQ *
the_csr(void)
{
	static X509_REQ *csr;
	EVP_PKEY *key = NULL;
	struct errbuf e;

	if (csr == NULL && (key_generate(KEY_TYPE_P256, &key, &e) != 0 ||
	    csr_make(key, "ada@example.org", &csr, &e) != 0))
		abort();
	EVP_PKEY_free(key);
	return csr;
}

static void
check_result(enum ca_outcome o, const struct ca_result *r, X509_REQ *csr, bool may_pend)
{
	FUZZ_ASSERT(o >= CA_ISSUED && o <= CA_MISCONFIGURED);
	if (o == CA_ISSUED) {
		FUZZ_ASSERT(r->cert != NULL);
		FUZZ_ASSERT(EVP_PKEY_eq(X509_get0_pubkey(r->cert), X509_REQ_get0_pubkey(csr)) == 1);
	} else {
		FUZZ_ASSERT(r->reason[0] != '\0');
	}
	if (o == CA_PENDING) {
		FUZZ_ASSERT(may_pend);
		FUZZ_ASSERT(r->cookie != NULL);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char name[] = "fuzz", command[] = "/usr/libexec/fuzz-helper";
	struct conf_ca conf;
	struct http_response rs;
	struct ca_result r;
	X509_REQ *csr = the_csr();
	char order[32];
	enum ca_outcome o = CA_MISCONFIGURED;
	char *text;

	if (size < 1)
		return 0;
	memset(&conf, 0, sizeof(conf));
	conf.name = name;
	conf.command = command;
	memset(&rs, 0, sizeof(rs));
	memset(&r, 0, sizeof(r));
	rs.status = statuses[(data[0] >> 3) % (sizeof(statuses) / sizeof(statuses[0]))];
	rs.retry_after = -1;
	buf_init(&rs.body, 0);
	if (buf_append(&rs.body, data + 1, size - 1) != 0)
		abort();
	switch (data[0] & 7) {
	case 0:
		o = ca_cfssl_answer(&conf, true, &rs, csr, &r);
		check_result(o, &r, csr, false);
		break;
	case 1:
		o = ca_ejbca_answer(&conf, &rs, csr, &r);
		check_result(o, &r, csr, false);
		break;
	case 2:
		if (ca_sectigo_enroll_answer(&conf, &rs, order, sizeof(order), &o, &r) == 0) {
			FUZZ_ASSERT(order[0] >= '1' && order[0] <= '9');
		} else {
			FUZZ_ASSERT(o != CA_ISSUED && o != CA_PENDING && r.reason[0] != '\0');
		}
		break;
	case 3:
		o = ca_sectigo_collect_answer(&conf, &rs, csr, "1001", &r);
		check_result(o, &r, csr, true);
		FUZZ_ASSERT(o == CA_ISSUED || o == CA_REJECTED || r.cookie != NULL);
		break;
	default:
		/* A helper: the body is its output, the status byte its exit status. */
		text = fuzz_cstr(data + 1, size - 1);
		o = ca_helper_answer(&conf, "SUBMIT", (int)(data[0] >> 3), text, size - 1, csr, &r);
		check_result(o, &r, csr, true);
		free(text);
		break;
	}
	ca_result_clear(&r);
	http_response_clear(&rs);
	ERR_clear_error();
	return 0;
}
