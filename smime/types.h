/* SPDX-License-Identifier: ISC */
/*
 * What a certificate and its delivery are made of, as smime/ understands
 * them: the key types, the CA/B Forum S/MIME BR profiles and the PKCS#12
 * profiles, with the one spelling of each (the configuration's values and
 * the reports' words; conf/options.c parses with the same lists), and the
 * size of the master key that seals keys at rest.
 *
 * Header only and free of every other room, so that the configuration
 * model can name these types without smime/'s public headers having to
 * include the whole configuration model.
 */
#ifndef SMIMESYNC_SMIME_TYPES_H
#define SMIMESYNC_SMIME_TYPES_H

#include <stdbool.h>

enum key_type {
	KEY_TYPE_RSA2048 = 0,
	KEY_TYPE_RSA3072,
	KEY_TYPE_RSA4096,
	KEY_TYPE_P256,
	KEY_TYPE_P384,
};
/* Index = enum value, NULL-terminated. */
#define KEY_TYPE_NAMES { "rsa2048", "rsa3072", "rsa4096", "p256", "p384", NULL }

enum pkcs12_profile {
	PKCS12_MODERN = 0, /* PBES2 AES-256-CBC, PBKDF2-HMAC-SHA256, SHA-256 MAC */
	PKCS12_COMPAT,     /* 3DES key and cert bags, SHA-1 MAC (gpgsm 2.2, old Outlook) */
};
#define PKCS12_PROFILE_NAMES { "modern", "compat", NULL }

/* Certificate profile of the CA/B Forum S/MIME BR (profile = in [group]). */
enum cert_profile {
	PROFILE_MAILBOX_STRICT = 0,        /* 2.23.140.1.5.1.3 */
	PROFILE_MAILBOX_MULTIPURPOSE,      /* 2.23.140.1.5.1.2 */
	PROFILE_ORGANIZATION_STRICT,       /* 2.23.140.1.5.2.3 */
	PROFILE_ORGANIZATION_MULTIPURPOSE, /* 2.23.140.1.5.2.2 */
};
#define CERT_PROFILE_NAMES { "mailbox-strict", "mailbox-multipurpose", \
	"organization-strict", "organization-multipurpose", NULL }
/* A set of profiles as a bit mask: what an issuing CA must allow. */
#define CERT_PROFILE_BIT(p) (1u << (unsigned)(p))

/*
 * The master key: 32 random bytes, an AES-256 key. Both the sealing API
 * (escrow.h) and the code that holds the key (escrow_seal.h) use it.
 */
#define MASTER_KEY_LEN 32

static inline const char *
key_type_name(enum key_type t)
{
	static const char *const names[] = KEY_TYPE_NAMES;

	return (unsigned)t <= KEY_TYPE_P384 ? names[t] : "?";
}

static inline const char *
pkcs12_profile_name(enum pkcs12_profile p)
{
	static const char *const names[] = PKCS12_PROFILE_NAMES;

	return (unsigned)p <= PKCS12_COMPAT ? names[p] : "?";
}

static inline const char *
cert_profile_name(enum cert_profile p)
{
	static const char *const names[] = CERT_PROFILE_NAMES;

	return (unsigned)p <= PROFILE_ORGANIZATION_MULTIPURPOSE ? names[p] : "?";
}

/* Does the profile carry organization attributes (O, organizationIdentifier)? */
static inline bool
cert_profile_is_organization(enum cert_profile p)
{
	return p == PROFILE_ORGANIZATION_STRICT || p == PROFILE_ORGANIZATION_MULTIPURPOSE;
}

#endif
