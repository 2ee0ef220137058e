/* SPDX-License-Identifier: ISC */
/*
 * PKCS#12 passwords people can read aloud and type.
 *
 * The alphabet has exactly 32 symbols, so each character is one uniformly
 * random 5-bit value (a random byte masked to 5 bits: 256 is a multiple of
 * 32, so there is no bias). Lower case only; left out are "l" (looks like 1
 * or I) and "o" (looks like 0), and 0 and 1 themselves.
 */
#include "config.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "common/log.h"
#include "common/xalloc.h"
#include "smime/pkcs12.h"

#define PW_CHARS 24
#define PW_GROUP 4

static const char alphabet[] = "abcdefghijkmnpqrstuvwxyz23456789";

_Static_assert(sizeof(alphabet) - 1 == 32, "the alphabet must have 32 symbols");

char *
password_generate(void)
{
	unsigned char rnd[PW_CHARS];
	char *pw = xmalloc(PW_CHARS + PW_CHARS / PW_GROUP);
	size_t o = 0;

	/* No error path in the contract: a CSPRNG that fails is a broken system. */
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		fatal("cannot draw random bytes for a password");
	for (size_t i = 0; i < PW_CHARS; i++) {
		if (i > 0 && i % PW_GROUP == 0)
			pw[o++] = '-';
		pw[o++] = alphabet[rnd[i] & 0x1f];
	}
	pw[o] = '\0';
	OPENSSL_cleanse(rnd, sizeof(rnd));
	return pw;
}
