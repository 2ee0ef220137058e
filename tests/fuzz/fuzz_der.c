/* SPDX-License-Identifier: ISC */
/*
 * DER parsing the publisher does on values read back from the directory
 * (userCertificate;binary and userSMIMECertificate): cert_from_der and
 * cert_pkcs7_first, then the summary the store keeps (cert_info_get).
 * Property: a certificate or an error message, never a crash or a leak;
 * a parsed certificate re-encodes to DER that parses again.
 */
#include "config.h"

#include <stdlib.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "common/errbuf.h"
#include "smime/cert.h"
#include "tests/fuzz/fuzz.h"

static void
inspect(X509 *x)
{
	struct cert_info ci = { 0 };
	unsigned char *der = NULL;
	size_t len = 0;
	X509 *back = NULL;
	struct errbuf e;

	err_clear(&e);
	if (cert_info_get(x, &ci, &e) == 0) {
		FUZZ_ASSERT(ci.serial != NULL && ci.fingerprint != NULL);
		cert_info_clear(&ci);
	}
	err_clear(&e);
	if (cert_to_der(x, &der, &len, &e) == 0) {
		err_clear(&e);
		FUZZ_ASSERT(cert_from_der(der, len, &back, &e) == 0);
		X509_free(back);
		free(der);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	X509 *x = NULL;
	struct errbuf e;

	err_clear(&e);
	if (cert_from_der(data, size, &x, &e) == 0) {
		FUZZ_ASSERT(x != NULL);
		inspect(x);
		X509_free(x);
	} else {
		FUZZ_ASSERT(x == NULL && e.text[0] != '\0');
	}
	x = NULL;
	err_clear(&e);
	if (cert_pkcs7_first(data, size, &x, &e) == 0) {
		FUZZ_ASSERT(x != NULL);
		inspect(x);
		X509_free(x);
	} else {
		FUZZ_ASSERT(x == NULL && e.text[0] != '\0');
	}
	ERR_clear_error();
	return 0;
}
