/* SPDX-License-Identifier: ISC */
/*
 * What is asked of a CA and what it answers (DESIGN.md, Contracts: CA):
 * the values that the CA interface (ca.h), every backend (ca_backend.h),
 * the signer protocol and the engine hand each other.
 *
 * Values only, and the helpers that name, fill and free them: whoever
 * signs (the local CA's key, in the signer process) needs nothing of the
 * dispatcher in ca.c. ca.h includes this header; include ca.h.
 *
 * Ownership: ca_result owns cert, chain, cookie, exchange and refused;
 * ca_result_clear() frees them. ca_request only borrows.
 */
#ifndef SMIMESYNC_SMIME_CA_RESULT_H
#define SMIMESYNC_SMIME_CA_RESULT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>

#include "common/attrs.h"
#include "smime/types.h"

enum ca_outcome {
	CA_ISSUED = 0,
	CA_PENDING,       /* ask again later with the cookie */
	CA_REJECTED,      /* the CA said no: do not retry until an admin acts */
	CA_UNREACHABLE,   /* transient: retry with back-off */
	CA_MISCONFIGURED, /* our side is wrong: fix the config */
};

const char *ca_outcome_name(enum ca_outcome o);

struct ca_request {
	const char *mail;               /* primary address: CN and first SAN */
	const char *const *alt_mails;   /* more SAN rfc822Names, may be NULL */
	size_t n_alt_mails;
	int64_t validity;               /* seconds */
	time_t now;                     /* issuance time (tests use faketime) */
	/*
	 * Added for the S/MIME BR profiles. All zero means mailbox-strict.
	 * The organization fields are used by the organization-* profiles
	 * only (and required there: organization and organization_identifier);
	 * mailbox profiles refuse a request that sets them.
	 */
	enum cert_profile profile;
	const char *organization;            /* O= */
	const char *organization_identifier; /* e.g. VATDE-123456789 */
	const char *country;                 /* C=, may be NULL */
	/* The person, for CAs that record it (Sectigo's firstName/lastName); may be NULL. */
	const char *given_name;
	const char *surname;
	const char *display_name;
};

struct ca_result {
	X509 *cert;
	STACK_OF(X509) *chain; /* issuing CA up to the root */
	char *cookie;          /* PENDING only */
	int64_t retry_after;   /* PENDING/UNREACHABLE: seconds */
	char reason[1024];     /* why, for every outcome but ISSUED */
	char *exchange;        /* external CAs: what was asked and answered, no secrets; or NULL */
	/*
	 * REJECTED after issuance: the certificate an external CA issued and
	 * smimesync refused (wrong SAN, EKU, chain...), kept so that the
	 * caller records it and revokes it at the CA (invariant I3); or NULL.
	 */
	X509 *refused;
};

void ca_result_clear(struct ca_result *r);
/* Set out->reason and return o. */
enum ca_outcome ca_fail(struct ca_result *out, enum ca_outcome o, const char *fmt, ...)
    PRINTF_LIKE(3, 4);

#endif
