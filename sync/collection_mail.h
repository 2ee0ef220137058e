/* SPDX-License-Identifier: ISC */
/*
 * The two mails a person gets for a new certificate: the collection mail
 * with the PKCS#12 attached, and a separate password mail. The password
 * is generated here, used once to encrypt the PKCS#12, put in the
 * password mail and then wiped: it never appears in the collection mail,
 * in the store unsealed, or in a log.
 *
 * collect_build() renders both (new buffers in struct collected);
 * collect_queue() seals them under the master key and adds them to the
 * outbox inside the caller's transaction.
 */
#ifndef SMIMESYNC_SYNC_COLLECTION_MAIL_H
#define SMIMESYNC_SYNC_COLLECTION_MAIL_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "directory/directory.h"
#include "sync/engine.h"

struct collected {
	char *recipient;
	char *collection;
	size_t collection_len;
	char *password_mail;
	size_t password_mail_len;
};

void collected_clear(struct collected *c);
/*
 * The PKCS#12 file's name (new): "alice@example.org-2026-11-23-4F1A2B3C.p12"
 * (address, day of issue, the serial's first 8 digits), so that a renewed
 * file saved next to last year's never replaces it.
 */
char *collect_p12_filename(const char *mail, time_t not_before, const char *serial);
int collect_build(struct engine *en, const struct conf_group *g, const struct user *u,
    const struct store_cert *cert, EVP_PKEY *key, STACK_OF(X509) *chain,
    struct collected *out, struct errbuf *e) MUST_USE;
int collect_queue(struct engine *en, int64_t action_id, const char *user_id,
    const struct collected *c, struct errbuf *e) MUST_USE;

#endif
