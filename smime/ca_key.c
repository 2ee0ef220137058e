/* SPDX-License-Identifier: ISC */
/* Loading a CA's private key by reference (smime/ca_key.h). */
#include "config.h"

#include <stddef.h>

#include "smime/ca_key.h"
#include "smime/key.h"

int
ca_key_load(const char *key_ref, const char *pin_file, EVP_PKEY **out, struct errbuf *e)
{
	(void)pin_file; /* only a token needs a PIN */
	if (key_ref == NULL || key_ref[0] == '\0') {
		err_set(e, "no CA key is named (key_file is empty)");
		return -1;
	}
	return key_load_pem_file(key_ref, out, e);
}
