/* SPDX-License-Identifier: ISC */
/*
 * The store's side of revocation lists: the CRL number of each CA (only
 * ever grows, survives restarts), the revoked certificates a CRL must
 * list, and certificates by serial.
 *
 * Same conventions as store/store.h: 0 or -1 with a message in e; arrays
 * returned are new and freed with the matching _free().
 */
#ifndef SMIMESYNC_STORE_REVOCATION_H
#define SMIMESYNC_STORE_REVOCATION_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/attrs.h"
#include "common/errbuf.h"
#include "store/store.h"

/*
 * The next CRL number of ca_name (last + 1, starting at 1), recorded with
 * its signing time. Call inside a transaction; the number is used up even
 * if the CRL is never written, which keeps numbers increasing.
 */
int store_crl_next_number(struct store *st, const char *ca_name, time_t now, uint64_t *out,
    struct errbuf *e) MUST_USE;
/* When the last CRL of ca_name was signed: 1 found, 0 never, -1 error. */
int store_crl_last(struct store *st, const char *ca_name, uint64_t *number, time_t *issued,
    struct errbuf *e) MUST_USE;

struct store_revoked {
	char *serial;
	time_t revoked_at;
	int reason;
};

/* Every revoked certificate ca_name issued, oldest revocation first. */
int store_revoked_for_ca(struct store *st, const char *ca_name, struct store_revoked **out,
    size_t *n, struct errbuf *e) MUST_USE;
void store_revoked_free(struct store_revoked *v, size_t n);

/* Ids of the certificates with this serial (any issuer), at most max. */
int store_cert_ids_by_serial(struct store *st, const char *serial, int64_t *ids, size_t max,
    size_t *n, struct errbuf *e) MUST_USE;

#endif
