/* SPDX-License-Identifier: ISC */
/*
 * The master key handle and sealing through it (escrow.h): the key is in
 * this process (escrow_seal.c) or in the signer process
 * (signer_internal.h), as the caller said when it loaded the key.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

#include "smime/ca_key.h"
#include "smime/escrow.h"
#include "common/fileutil.h"
#include "common/xalloc.h"
#include "smime/escrow_seal.h"
#include "smime/key.h"
#include "smime/signer_internal.h"
#include "smime/signer_proto.h"

int
master_key_load(const char *path, struct signer *signer, struct master_key *out,
    struct errbuf *e)
{
	memset(out, 0, sizeof(*out));
	if (signer == NULL)
		return escrow_key_read(path, NULL, out->bytes, e);
	if (signer_master_key(signer, path, &out->slot, e) != 0)
		return -1;
	out->signer = signer;
	return 0;
}

int
master_key_create(const char *path, struct signer *signer, struct errbuf *e)
{
	if (signer == NULL)
		return escrow_key_create(path, NULL, e);
	return signer_new_master_key(signer, path, e);
}

int
master_key_create_for(const struct conf_service *sv, const char *path, struct errbuf *e)
{
	bool created = false;
	char *pin = NULL;
	int rc;

	if (sv->master_key_uri != NULL) {
		/* The sealing key lives in the token: make it there unless it is. */
		if (ca_key_pin_path(sv->master_key_pin_file, sv->master_key_pin_credential, &pin,
		    e) != 0)
			return -1;
		rc = ca_key_token_make(sv->master_key_uri, pin, KEY_TYPE_RSA3072, true, &created,
		    e);
		free(pin);
		if (rc != 0) {
			err_prefix(e, "[service] master_key_uri");
			return -1;
		}
	}
	return escrow_key_create(path, sv, e);
}

int
master_key_commit(const char *path, struct signer *signer, struct errbuf *e)
{
	char *next;
	int rc;

	if (signer != NULL)
		return signer_rotate(signer, SIGNER_ROTATE_COMMIT, e);
	next = xasprintf("%s.new", path);
	rc = file_replace_durably(next, path, e);
	free(next);
	return rc;
}

int
master_key_discard_next(const char *path, struct signer *signer, struct errbuf *e)
{
	char *next;
	int rc = 0;

	if (signer != NULL)
		return signer_rotate(signer, SIGNER_ROTATE_DISCARD, e);
	next = xasprintf("%s.new", path);
	if (unlink(next) != 0 && errno != ENOENT) {
		err_set(e, "cannot remove the unused %s: %s", next, strerror(errno));
		rc = -1;
	}
	free(next);
	return rc;
}

void
master_key_wipe(struct master_key *k)
{
	if (k != NULL) {
		OPENSSL_cleanse(k->bytes, sizeof(k->bytes));
		k->signer = NULL;
		k->slot = 0;
	}
}

int
escrow_seal(const struct master_key *k, const char *aad, const unsigned char *plain,
    size_t len, unsigned char **out, size_t *out_len, struct errbuf *e)
{
	if (k->signer != NULL)
		return signer_seal(k->signer, k->slot, aad, plain, len, out, out_len, e);
	return escrow_seal_with(k->bytes, aad, plain, len, out, out_len, e);
}

int
escrow_open(const struct master_key *k, const char *aad, const unsigned char *sealed,
    size_t len, unsigned char **out, size_t *out_len, struct errbuf *e)
{
	if (k->signer != NULL)
		return signer_unseal(k->signer, k->slot, aad, sealed, len, out, out_len, e);
	return escrow_open_with(k->bytes, aad, sealed, len, out, out_len, e);
}

int
escrow_reseal(const struct master_key *from, const struct master_key *to, const char *aad,
    const unsigned char *sealed, size_t len, unsigned char **out, size_t *out_len,
    struct errbuf *e)
{
	unsigned char *plain = NULL;
	size_t plain_len = 0;
	int rc;

	if (from->signer != to->signer) {
		err_set(e, "cannot re-seal between a key in the signer and a key in this process");
		return -1;
	}
	if (from->signer != NULL)
		return signer_reseal(from->signer, from->slot, to->slot, aad, sealed, len, out,
		    out_len, e);
	if (escrow_open_with(from->bytes, aad, sealed, len, &plain, &plain_len, e) != 0)
		return -1;
	rc = escrow_seal_with(to->bytes, aad, plain, plain_len, out, out_len, e);
	secret_free(plain, plain_len + 1);
	return rc;
}

int
escrow_probe(const struct master_key *k, const char *aad, const unsigned char *sealed,
    size_t len, struct errbuf *e)
{
	unsigned char *plain = NULL;
	size_t plain_len = 0;

	if (k->signer != NULL)
		return signer_probe(k->signer, k->slot, aad, sealed, len, e);
	if (escrow_open_with(k->bytes, aad, sealed, len, &plain, &plain_len, NULL) != 0)
		return 0;
	secret_free(plain, plain_len + 1);
	return 1;
}

int
escrow_for_recovery(const struct master_key *k, const char *key_aad,
    const unsigned char *sealed, size_t len, X509 *cert, const char *escrow_aad,
    unsigned char **out, size_t *out_len, struct errbuf *e)
{
	unsigned char *plain = NULL;
	size_t plain_len = 0;
	EVP_PKEY *key = NULL;
	int rc = -1;

	if (k->signer != NULL)
		return signer_escrow(k->signer, k->slot, key_aad, sealed, len, cert, escrow_aad, out,
		    out_len, e);
	if (escrow_open_with(k->bytes, key_aad, sealed, len, &plain, &plain_len, e) != 0 ||
	    key_from_pkcs8_der(plain, plain_len, &key, e) != 0)
		goto out;
	if (X509_check_private_key(cert, key) != 1) {
		ERR_clear_error();
		err_set(e, "the key sealed as %s is not the key of the certificate to escrow", key_aad);
		goto out;
	}
	rc = escrow_seal_with(k->bytes, escrow_aad, plain, plain_len, out, out_len, e);
out:
	EVP_PKEY_free(key);
	if (plain != NULL)
		secret_free(plain, plain_len + 1);
	return rc;
}

int
escrow_close_key(const struct master_key *k, const char *key_aad, const unsigned char *sealed,
    size_t len, struct errbuf *e)
{
	if (k->signer != NULL)
		return signer_close_key(k->signer, k->slot, key_aad, sealed, len, e);
	return 0;
}
