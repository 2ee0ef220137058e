/* SPDX-License-Identifier: ISC */
/*
 * The master key's requests: sealing, opening, rotation, escrow, closing a
 * subscriber key, and key recovery.
 *
 * What is sealed with associated data "escrow:..." is an escrowed key:
 * ESCROW alone makes such blobs and RECOVER alone opens them, and only with
 * the operator credential the policy names (after five wrong ones in an
 * hour, not even with the right one until the hour is over). "key:..."
 * blobs are subscriber keys on their way through provisioning: UNSEAL opens
 * them until CLOSE_KEY records that the provisioning of that key is over,
 * and refuses every blob holding that key from then on. Every recovery,
 * refused or not, is in the signing log with who asked.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "common/fileutil.h"
#include "common/log.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "signer/sctx_internal.h"
#include "smime/cert.h"
#include "smime/credential.h"
#include "smime/escrow_seal.h"
#include "smime/key.h"
#include "smime/pkcs12.h"

#define HOUR 3600
#define MAX_WRONG_CREDENTIALS 5
#define MAX_RECOVERY_ITEMS 10000

static bool
is_escrow(const char *aad)
{
	return str_starts_with(aad, SIGNER_ESCROW_AAD_PREFIX);
}

static bool
is_key(const char *aad)
{
	return str_starts_with(aad, SIGNER_KEY_AAD_PREFIX);
}

/* Open sealed with slot's key; *plain is new and secret (len + 1 bytes). */
static int
open_blob(struct sctx *c, uint32_t slot, const char *aad, const unsigned char *sealed,
    size_t len, unsigned char **plain, size_t *plain_len, struct answer *a)
{
	const unsigned char *k = sctx_master_key(c, slot, a);

	if (k == NULL)
		return -1;
	if (escrow_open_with(k, aad, sealed, len, plain, plain_len, &a->e) != 0) {
		a->status = SIGNER_ERR;
		return -1;
	}
	return 0;
}

/* The closed-key mark of a PKCS#8 subscriber key (new), or NULL if it is no key. */
static char *
key_mark(const unsigned char *der, size_t len)
{
	EVP_PKEY *key = NULL;
	char *mark;

	if (key_from_pkcs8_der(der, len, &key, NULL) != 0) {
		ERR_clear_error();
		return NULL;
	}
	mark = spki_hash(key);
	EVP_PKEY_free(key);
	return mark;
}

void
op_seal(struct sctx *c, struct sconn *conn, struct sp_reader *r, struct buf *res,
    struct answer *a)
{
	uint32_t slot = sp_get_u32(r);
	char *aad = sp_get_str(r);
	size_t len = 0;
	const unsigned char *in = sp_get_bytes(r, &len);
	const unsigned char *k;
	unsigned char *out = NULL;
	size_t out_len = 0;

	(void)conn;
	if (!sp_reader_done(r) || aad == NULL) {
		answer_err(a, SIGNER_ERR, "malformed seal request");
		goto done;
	}
	if (is_escrow(aad)) {
		answer_err(a, SIGNER_REFUSED, "escrowed keys are made by escrowing a provisioned "
		    "key, never sealed directly");
		goto done;
	}
	if ((k = sctx_master_key(c, slot, a)) == NULL)
		goto done;
	if (escrow_seal_with(k, aad, in, len, &out, &out_len, &a->e) != 0) {
		a->status = SIGNER_ERR;
		goto done;
	}
	sp_put_bytes(res, out, out_len);
done:
	free(out);
	free(aad);
}

void
op_unseal(struct sctx *c, struct sconn *conn, struct sp_reader *r, struct buf *res,
    struct answer *a)
{
	uint32_t slot = sp_get_u32(r);
	char *aad = sp_get_str(r);
	size_t len = 0, plain_len = 0;
	const unsigned char *in = sp_get_bytes(r, &len);
	unsigned char *plain = NULL;
	char *mark = NULL;

	(void)conn;
	if (!sp_reader_done(r) || aad == NULL) {
		answer_err(a, SIGNER_ERR, "malformed unseal request");
		goto done;
	}
	if (is_escrow(aad)) {
		answer_err(a, SIGNER_REFUSED, "an escrowed key opens only for key recovery "
		    "(smimesync recover, or resend), under the operator's credential");
		goto done;
	}
	if (open_blob(c, slot, aad, in, len, &plain, &plain_len, a) != 0)
		goto done;
	if (is_key(aad) && (mark = key_mark(plain, plain_len)) != NULL) {
		if (sctx_lock(c, a) != 0)
			goto done;
		if (strset_has(&c->st.closed_keys, mark))
			answer_err(a, SIGNER_REFUSED, "the provisioning of this key (%s) is over: it "
			    "opens only for key recovery (smimesync recover), under the operator's "
			    "credential", aad);
		sctx_unlock(c);
		if (a->status != SIGNER_OK)
			goto done;
	}
	sp_put_bytes(res, plain, plain_len);
done:
	if (plain != NULL)
		secret_free(plain, plain_len + 1);
	free(mark);
	free(aad);
}

void
op_reseal(struct sctx *c, struct sconn *conn, struct sp_reader *r, struct buf *res,
    struct answer *a)
{
	uint32_t from = sp_get_u32(r), to = sp_get_u32(r);
	char *aad = sp_get_str(r);
	size_t len = 0, plain_len = 0, out_len = 0;
	const unsigned char *in = sp_get_bytes(r, &len);
	const unsigned char *k;
	unsigned char *plain = NULL, *out = NULL;

	(void)conn;
	if (!sp_reader_done(r) || aad == NULL) {
		answer_err(a, SIGNER_ERR, "malformed re-seal request");
		goto done;
	}
	if (open_blob(c, from, aad, in, len, &plain, &plain_len, a) != 0 ||
	    (k = sctx_master_key(c, to, a)) == NULL)
		goto done;
	if (escrow_seal_with(k, aad, plain, plain_len, &out, &out_len, &a->e) != 0) {
		a->status = SIGNER_ERR;
		goto done;
	}
	sp_put_bytes(res, out, out_len);
done:
	if (plain != NULL)
		secret_free(plain, plain_len + 1);
	free(out);
	free(aad);
}

void
op_probe(struct sctx *c, struct sconn *conn, struct sp_reader *r, struct buf *res,
    struct answer *a)
{
	uint32_t slot = sp_get_u32(r);
	char *aad = sp_get_str(r);
	size_t len = 0, plain_len = 0;
	const unsigned char *in = sp_get_bytes(r, &len);
	const unsigned char *k;
	unsigned char *plain = NULL;

	(void)conn;
	if (!sp_reader_done(r) || aad == NULL) {
		answer_err(a, SIGNER_ERR, "malformed probe request");
		goto done;
	}
	if ((k = sctx_master_key(c, slot, a)) == NULL)
		goto done;
	if (escrow_open_with(k, aad, in, len, &plain, &plain_len, NULL) == 0) {
		secret_free(plain, plain_len + 1);
		sp_put_u32(res, 1);
	} else {
		sp_put_u32(res, 0);
	}
done:
	free(aad);
}

void
op_escrow(struct sctx *c, struct sconn *conn, struct sp_reader *r, struct buf *res,
    struct answer *a)
{
	uint32_t slot = sp_get_u32(r);
	char *key_aad = sp_get_str(r);
	size_t len = 0, cert_len = 0, plain_len = 0, out_len = 0;
	const unsigned char *in = sp_get_bytes(r, &len);
	const unsigned char *cert_der = sp_get_bytes(r, &cert_len);
	char *escrow_aad = sp_get_str(r);
	const unsigned char *k;
	unsigned char *plain = NULL, *out = NULL;
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;

	(void)conn;
	if (!sp_reader_done(r) || key_aad == NULL || escrow_aad == NULL || cert_der == NULL) {
		answer_err(a, SIGNER_ERR, "malformed escrow request");
		goto done;
	}
	if (!is_key(key_aad) || !is_escrow(escrow_aad)) {
		answer_err(a, SIGNER_REFUSED, "escrow takes a provisioned key (\"%s...\") to an "
		    "escrowed one (\"%s...\")", SIGNER_KEY_AAD_PREFIX, SIGNER_ESCROW_AAD_PREFIX);
		goto done;
	}
	if (cert_from_der(cert_der, cert_len, &cert, &a->e) != 0) {
		a->status = SIGNER_ERR;
		goto done;
	}
	if (open_blob(c, slot, key_aad, in, len, &plain, &plain_len, a) != 0)
		goto done;
	if (key_from_pkcs8_der(plain, plain_len, &key, &a->e) != 0) {
		a->status = SIGNER_ERR;
		goto done;
	}
	if (X509_check_private_key(cert, key) != 1) {
		ERR_clear_error();
		answer_err(a, SIGNER_REFUSED, "the key sealed as %s is not the key of the "
		    "certificate to escrow it for", key_aad);
		goto done;
	}
	if ((k = sctx_master_key(c, slot, a)) == NULL)
		goto done;
	if (escrow_seal_with(k, escrow_aad, plain, plain_len, &out, &out_len, &a->e) != 0) {
		a->status = SIGNER_ERR;
		goto done;
	}
	sp_put_bytes(res, out, out_len);
done:
	if (plain != NULL)
		secret_free(plain, plain_len + 1);
	EVP_PKEY_free(key);
	X509_free(cert);
	free(out);
	free(key_aad);
	free(escrow_aad);
}

void
op_close_key(struct sctx *c, struct sconn *conn, struct sp_reader *r, struct buf *res,
    struct answer *a)
{
	uint32_t slot = sp_get_u32(r);
	char *aad = sp_get_str(r);
	size_t len = 0, plain_len = 0;
	const unsigned char *in = sp_get_bytes(r, &len);
	char *requester = sp_get_str(r);
	unsigned char *plain = NULL;
	char *mark = NULL;
	json_t *ev;

	(void)res;
	if (!sp_reader_done(r) || aad == NULL || !is_key(aad)) {
		answer_err(a, SIGNER_ERR, "malformed close request");
		goto done;
	}
	if (open_blob(c, slot, aad, in, len, &plain, &plain_len, a) != 0)
		goto done;
	if ((mark = key_mark(plain, plain_len)) == NULL) {
		answer_err(a, SIGNER_ERR, "%s does not hold a private key", aad);
		goto done;
	}
	if (sctx_lock(c, a) != 0)
		goto done;
	if (!strset_has(&c->st.closed_keys, mark)) {
		ev = sctx_event("key-closed", requester, conn);
		if (json_object_set_new(ev, "key", sctx_str(mark)) != 0 ||
		    json_object_set_new(ev, "as", sctx_str(aad)) != 0)
			fatal("out of memory");
		if (sctx_log(c, ev, a) != 0)
			log_error("%s", a->e.text);
	}
	sctx_unlock(c);
done:
	if (plain != NULL)
		secret_free(plain, plain_len + 1);
	free(mark);
	free(aad);
	free(requester);
}

/* ---- key recovery ---- */

struct recovery {
	char *requester, *user, *sudo_user;
	char *credential;
	uint32_t purpose, n, n_chain, profile, iterations;
	char **aads, **names;
	EVP_PKEY **keys;
	X509 **certs;
	STACK_OF(X509) *chain;
	const unsigned char **sealed;
	size_t *sealed_len;
};

static void
recovery_clear(struct recovery *q)
{
	for (uint32_t i = 0; i < q->n; i++) {
		if (q->aads != NULL)
			free(q->aads[i]);
		if (q->names != NULL)
			free(q->names[i]);
		if (q->keys != NULL)
			EVP_PKEY_free(q->keys[i]);
		if (q->certs != NULL)
			X509_free(q->certs[i]);
	}
	free(q->aads);
	free(q->names);
	free(q->keys);
	free(q->certs);
	free(q->sealed);
	free(q->sealed_len);
	sk_X509_pop_free(q->chain, X509_free);
	secret_free_str(q->credential);
	free(q->requester);
	free(q->user);
	free(q->sudo_user);
}

static int
read_recovery(struct sp_reader *r, struct recovery *q)
{
	size_t cred_len = 0;
	const unsigned char *cred;

	memset(q, 0, sizeof(*q));
	q->requester = sp_get_str(r);
	q->user = sp_get_str(r);
	q->sudo_user = sp_get_str(r);
	cred = sp_get_bytes(r, &cred_len);
	if (cred != NULL && memchr(cred, '\0', cred_len) == NULL)
		q->credential = xstrndup((const char *)cred, cred_len);
	q->purpose = sp_get_u32(r);
	q->n = sp_get_u32(r);
	/* Each item takes at least 16 bytes of request. */
	if (q->n > MAX_RECOVERY_ITEMS || q->n > r->left / 16) {
		q->n = 0;
		return -1;
	}
	q->aads = xcalloc((size_t)q->n + 1, sizeof(*q->aads));
	q->names = xcalloc((size_t)q->n + 1, sizeof(*q->names));
	q->keys = xcalloc((size_t)q->n + 1, sizeof(*q->keys));
	q->certs = xcalloc((size_t)q->n + 1, sizeof(*q->certs));
	q->sealed = xcalloc((size_t)q->n + 1, sizeof(*q->sealed));
	q->sealed_len = xcalloc((size_t)q->n + 1, sizeof(*q->sealed_len));
	for (uint32_t i = 0; i < q->n && !r->bad; i++) {
		size_t len = 0;
		const unsigned char *der;

		q->aads[i] = sp_get_str(r);
		q->sealed[i] = sp_get_bytes(r, &q->sealed_len[i]);
		der = sp_get_bytes(r, &len);
		q->names[i] = sp_get_str(r);
		if (der == NULL || q->aads[i] == NULL || q->names[i] == NULL ||
		    cert_from_der(der, len, &q->certs[i], NULL) != 0)
			return -1;
	}
	q->n_chain = sp_get_u32(r);
	if (q->n_chain > 16)
		return -1;
	q->chain = sk_X509_new_null();
	if (q->chain == NULL)
		fatal("out of memory");
	for (uint32_t i = 0; i < q->n_chain && !r->bad; i++) {
		size_t len = 0;
		const unsigned char *der = sp_get_bytes(r, &len);
		X509 *x = NULL;

		if (der == NULL || cert_from_der(der, len, &x, NULL) != 0)
			return -1;
		if (sk_X509_push(q->chain, x) == 0)
			fatal("out of memory");
	}
	q->profile = sp_get_u32(r);
	q->iterations = sp_get_u32(r);
	if (!sp_reader_done(r) || q->n == 0 || q->credential == NULL ||
	    (q->purpose != SIGNER_RECOVER_PKCS12 && q->purpose != SIGNER_RECOVER_RESEND) ||
	    (q->purpose == SIGNER_RECOVER_RESEND && q->n != 1) || q->profile > PKCS12_COMPAT ||
	    q->iterations < 1 || q->iterations > 10000000)
		return -1;
	return 0;
}

static const char *
purpose_name(uint32_t p)
{
	return p == SIGNER_RECOVER_RESEND ? "resend" : "recover";
}

static json_t *
recovery_event(const char *name, const struct recovery *q, struct sconn *conn)
{
	json_t *ev = sctx_event(name, q->requester, conn);

	if (json_object_set_new(ev, "purpose", sctx_str(purpose_name(q->purpose))) != 0 ||
	    json_object_set_new(ev, "user", sctx_str(q->user != NULL ? q->user : "")) != 0 ||
	    (q->sudo_user != NULL &&
	    json_object_set_new(ev, "sudo_user", sctx_str(q->sudo_user)) != 0))
		fatal("out of memory");
	return ev;
}

/* The credential and the lockout, under the lock: 0 go on, -1 refused (and logged). */
static int
check_credential(struct sctx *c, struct sconn *conn, const struct recovery *q, struct answer *a)
{
	time_t now = time(NULL), oldest = now;
	size_t wrong = times_recent(&c->st.refused_recoveries, now, HOUR, &oldest);
	struct errbuf e;
	json_t *ev;
	char until[32];

	if (c->pol->recovery_credential == NULL) {
		answer_err(a, SIGNER_REFUSED, "the signer's policy %s names no recovery_credential: "
		    "key recovery is off", c->pol->origin);
		return -1;
	}
	if (wrong >= MAX_WRONG_CREDENTIALS) {
		format_time_utc(oldest + HOUR, until, sizeof(until));
		answer_err(a, SIGNER_REFUSED, "%zu wrong recovery credentials in the last hour: key "
		    "recovery is locked until %s", wrong, until);
		return -1;
	}
	if (credential_check(c->pol->recovery_credential, q->credential, &e) == 0)
		return 0;
	answer_err(a, SIGNER_REFUSED, "%s; key recovery refused", e.text);
	log_warn("refused a key recovery (%s) asked by %s%s%s: %s", purpose_name(q->purpose),
	    q->user != NULL ? q->user : "?", q->sudo_user != NULL ? " via sudo from " : "",
	    q->sudo_user != NULL ? q->sudo_user : "", e.text);
	ev = recovery_event("recovery-refused", q, conn);
	if (json_object_set_new(ev, "reason", sctx_str(e.text)) != 0)
		fatal("out of memory");
	{
		struct answer la;

		memset(&la, 0, sizeof(la));
		if (sctx_log(c, ev, &la) != 0)
			log_error("%s", la.e.text);
	}
	return -1;
}

/* Open item i with the current key, or the next one during a rotation. */
static int
open_item(struct sctx *c, struct recovery *q, uint32_t i, struct answer *a)
{
	unsigned char *plain = NULL;
	size_t plain_len = 0;
	int rc = -1;

	if (!is_escrow(q->aads[i]) && !is_key(q->aads[i])) {
		answer_err(a, SIGNER_REFUSED, "item %u (%s) is not a sealed key", i + 1, q->aads[i]);
		return -1;
	}
	for (uint32_t slot = 0; slot < SIGNER_N_SLOTS && rc != 0; slot++) {
		if (!c->keys[slot].loaded)
			continue;
		if (escrow_open_with(c->keys[slot].key, q->aads[i], q->sealed[i], q->sealed_len[i],
		    &plain, &plain_len, &a->e) == 0)
			rc = 0;
	}
	if (rc != 0) {
		a->status = SIGNER_ERR;
		return -1;
	}
	rc = key_from_pkcs8_der(plain, plain_len, &q->keys[i], &a->e);
	secret_free(plain, plain_len + 1);
	if (rc != 0) {
		a->status = SIGNER_ERR;
		return -1;
	}
	if (X509_check_private_key(q->certs[i], q->keys[i]) != 1) {
		ERR_clear_error();
		answer_err(a, SIGNER_REFUSED, "the escrowed key %s is not the key of the certificate "
		    "sent with it", q->aads[i]);
		return -1;
	}
	return 0;
}

void
op_recover(struct sctx *c, struct sconn *conn, struct sp_reader *r, struct buf *res,
    struct answer *a)
{
	struct recovery q;
	unsigned char *der = NULL;
	size_t len = 0;
	char *password = NULL;
	json_t *ev, *serials;
	bool locked = false;

	if (read_recovery(r, &q) != 0) {
		answer_err(a, SIGNER_ERR, "malformed recovery request");
		goto out;
	}
	if (sctx_lock(c, a) != 0)
		goto out;
	locked = true;
	if (check_credential(c, conn, &q, a) != 0)
		goto out;
	for (uint32_t i = 0; i < q.n; i++)
		if (open_item(c, &q, i, a) != 0)
			goto out;
	if (q.purpose == SIGNER_RECOVER_PKCS12) {
		password = password_generate();
		if (pkcs12_build_many(q.keys, q.certs, (const char *const *)q.names, q.n, q.chain,
		    password, (enum pkcs12_profile)q.profile, (int)q.iterations, &der, &len,
		    &a->e) != 0) {
			a->status = SIGNER_ERR;
			goto out;
		}
	} else if (key_to_pkcs8_der(q.keys[0], &der, &len, &a->e) != 0) {
		a->status = SIGNER_ERR;
		goto out;
	}
	ev = recovery_event("recovery", &q, conn);
	serials = json_array();
	if (serials == NULL)
		fatal("out of memory");
	for (uint32_t i = 0; i < q.n; i++) {
		struct cert_info ci;

		memset(&ci, 0, sizeof(ci));
		if (cert_info_get(q.certs[i], &ci, NULL) == 0 &&
		    json_array_append_new(serials, sctx_str(ci.serial)) != 0)
			fatal("out of memory");
		cert_info_clear(&ci);
	}
	if (json_object_set_new(ev, "serials", serials) != 0)
		fatal("out of memory");
	/* Logged before anything leaves. */
	if (sctx_log(c, ev, a) != 0)
		goto out;
	log_warn("key recovery (%s) of %u key%s for %s%s%s, run %s", purpose_name(q.purpose), q.n,
	    q.n == 1 ? "" : "s", q.user != NULL ? q.user : "?",
	    q.sudo_user != NULL ? " via sudo from " : "", q.sudo_user != NULL ? q.sudo_user : "",
	    q.requester != NULL ? q.requester : "?");
	sp_put_bytes(res, der, len);
	if (q.purpose == SIGNER_RECOVER_PKCS12)
		sp_put_str(res, password);
out:
	if (locked)
		sctx_unlock(c);
	if (der != NULL)
		secret_free(der, len);
	secret_free_str(password);
	recovery_clear(&q);
}
