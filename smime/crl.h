/* SPDX-License-Identifier: ISC */
/*
 * Certificate revocation lists: the entries a CRL lists and the RFC 5280
 * reason codes with their names (smime/crl.c). ca_make_crl() (ca.h) signs
 * a CRL from such entries; ca.h includes this header.
 */
#ifndef SMIMESYNC_SMIME_CRL_H
#define SMIMESYNC_SMIME_CRL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/attrs.h"

/* A CRL the signer signed (ca_make_crl() in ca.h): der is new (free()). */
struct ca_crl {
	uint64_t number;
	size_t entries;
	unsigned char *der;
	size_t len;
};

struct crl_entry {
	const char *serial; /* uppercase hex, as in struct cert_info */
	time_t revoked_at;
	int reason;         /* RFC 5280 CRLReason code */
};

/*
 * RFC 5280 reason names a subscriber certificate may be revoked for:
 * unspecified, keyCompromise, affiliationChanged, superseded,
 * cessationOfOperation, privilegeWithdrawn (case and '-' ignored:
 * key-compromise works too). certificateHold is refused: the BR forbid it
 * for Strict certificates and smimesync never un-revokes.
 */
int crl_reason_parse(const char *name, int *code_out) MUST_USE;
/* The RFC 5280 name of a reason code ("keyCompromise"), or "unknown". */
const char *crl_reason_name(int code);

#endif
