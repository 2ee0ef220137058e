/* SPDX-License-Identifier: ISC */
/*
 * PKCS#11 URIs ([ca] key_uri, [service] master_key_uri, ca init --pkcs11)
 * on arbitrary bytes. Properties: a URI that parses names a token, a key
 * and an absolute library path; every value is UTF-8 text without control
 * characters (the id excepted: it is bytes); a refused one says why.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/errbuf.h"
#include "common/p11uri.h"
#include "common/strutil.h"
#include "tests/fuzz/fuzz.h"

static void
check_text(const char *s)
{
	if (s == NULL)
		return;
	FUZZ_ASSERT(s[0] != '\0');
	FUZZ_ASSERT(!str_has_control(s));
	FUZZ_ASSERT(str_is_utf8(s, strlen(s)));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct p11_uri u;
	struct errbuf e;
	char *text = malloc(size + 1);

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	err_clear(&e);
	if (p11_uri_parse(text, &u, &e) == 0) {
		FUZZ_ASSERT(p11_uri_is(text));
		FUZZ_ASSERT(u.token != NULL || u.serial != NULL);
		FUZZ_ASSERT(u.object != NULL || (u.id != NULL && u.id_len > 0));
		FUZZ_ASSERT(u.module_path != NULL && u.module_path[0] == '/');
		check_text(u.token);
		check_text(u.serial);
		check_text(u.manufacturer);
		check_text(u.model);
		check_text(u.object);
		check_text(u.module_path);
		p11_uri_clear(&u);
	} else {
		FUZZ_ASSERT(e.text[0] != '\0');
	}
	free(text);
	return 0;
}
