/* SPDX-License-Identifier: ISC */
/*
 * RFC 7512 PKCS#11 URIs as smimesync takes them (common/p11uri.h): what
 * parses and into what, and every refusal with its reason.
 */
#include "config.h"

#include <string.h>

#include "common/p11uri.h"
#include "tests/unit/check.h"

#define LIB "?module-path=/usr/lib/softhsm/libsofthsm2.so"

static void
refused(const char *uri, const char *why)
{
	struct p11_uri u;
	struct errbuf e;

	err_clear(&e);
	CHECK(p11_uri_parse(uri, &u, &e) != 0);
	CHECK_CONTAINS(e.text, why);
}

int
main(void)
{
	struct p11_uri u;
	struct errbuf e;

	CHECK_INTEQ(p11_uri_parse("pkcs11:token=smimesync;object=issuing-ca" LIB, &u, &e), 0);
	CHECK_STREQ(u.token, "smimesync");
	CHECK_STREQ(u.object, "issuing-ca");
	CHECK_STREQ(u.module_path, "/usr/lib/softhsm/libsofthsm2.so");
	CHECK(u.id == NULL && u.serial == NULL);
	p11_uri_clear(&u);

	/* Percent-encoding, an id of raw bytes, type=private, the scheme in capitals. */
	CHECK_INTEQ(p11_uri_parse("PKCS11:serial=c9eb9c18;model=SoftHSM%20v2;"
	    "id=%00%ff%41;type=private;object=a%3Bb%20c" LIB, &u, &e), 0);
	CHECK_STREQ(u.serial, "c9eb9c18");
	CHECK_STREQ(u.model, "SoftHSM v2");
	CHECK_STREQ(u.object, "a;b c");
	CHECK(u.id_len == 3 && u.id != NULL && memcmp(u.id, "\x00\xff\x41", 3) == 0);
	p11_uri_clear(&u);
	CHECK(p11_uri_is("pkcs11:x") && !p11_uri_is("/etc/smimesync/ca.key") && !p11_uri_is(NULL));

	refused("/etc/smimesync/issuing.key", "pkcs11:");
	refused("pkcs11:token=t;object=o;pin-value=1234" LIB, "the PIN never goes into a URI");
	refused("pkcs11:token=t;object=o?pin-source=file:/pin&module-path=/m.so",
	    "the PIN never goes into a URI");
	refused("pkcs11:token=t;object=o", "module-path");
	refused("pkcs11:token=t;object=o?module-path=lib.so", "absolute path");
	refused("pkcs11:token=t;object=o;type=public" LIB, "private key");
	refused("pkcs11:token=t;object=o;slot-id=3" LIB, "slot-id");
	refused("pkcs11:token=t;object=o" LIB "&module-name=softhsm2", "module-name");
	refused("pkcs11:token=t;token=u;object=o" LIB, "twice");
	refused("pkcs11:token=t;object=o%4" LIB, "two hex digits");
	refused("pkcs11:token=t;object=o%00x" LIB, "control characters");
	refused("pkcs11:token=a b;object=o" LIB, "percent-encoded");
	refused("pkcs11:object=o" LIB, "which token");
	refused("pkcs11:token=t" LIB, "which key");
	refused("pkcs11:token=t;object=o" LIB "#frag", "fragment");
	refused("pkcs11:token=t;object" LIB, "name=value");
	return check_finish();
}
