/* SPDX-License-Identifier: ISC */
/*
 * REVOKE, REVOKED and SIGN_CRL: the signer's own revocation lists and the
 * CRLs it builds from them.
 *
 * A certificate is revoked only if one of the signer's CAs signed it (its
 * signature is checked, so certificates from before the signing log count
 * too), only for a reason a subscriber certificate may have under RFC 5280
 * and the S/MIME BR, and only once. A CRL lists the signer's list (never
 * entries a client sends), is dated by the signer's clock, and gets the
 * next number of its CA, written to the log before the CRL is signed: a
 * number is never used twice, even by a signer that dies right after.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "common/log.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "signer/sctx_internal.h"
#include "smime/cert.h"
#include "smime/crl.h"

#define DAY 86400
/* S/MIME BR 4.9.7: nextUpdate at most 10 days after thisUpdate. */
#define CRL_MAX_LIFETIME (10 * DAY)
#define CRL_MIN_LIFETIME 3600
/* Far below 2^63: a floor is a continuation of real numbers, not a way to use them up. */
#define CRL_FLOOR_MAX ((uint64_t)1 << 40)

/*
 * RFC 5280 5.3.1 defines 0-10 but 7; of those a subscriber certificate is
 * revoked for unspecified, keyCompromise, affiliationChanged, superseded,
 * cessationOfOperation or privilegeWithdrawn (S/MIME BR 4.9.1.1).
 * certificateHold would need un-revoking, removeFromCRL delta CRLs, and
 * the two CA compromises name a CA, not a mailbox.
 */
static bool
reason_allowed(uint32_t reason)
{
	switch (reason) {
	case 0:
	case 1:
	case 3:
	case 4:
	case 5:
	case 9:
		return true;
	default:
		return false;
	}
}

/* The held CA whose key signed cert, or NULL. */
static struct held_ca *
issuer_of(struct sctx *c, X509 *cert)
{
	for (size_t i = 0; i < c->n_cas; i++) {
		struct held_ca *h = &c->cas[i];
		EVP_PKEY *pub = h->cert != NULL ? X509_get0_pubkey(h->cert) : NULL;

		if (pub == NULL || X509_check_issued(h->cert, cert) != X509_V_OK)
			continue;
		if (X509_verify(cert, pub) == 1)
			return h;
		ERR_clear_error();
	}
	return NULL;
}

void
op_revoke(struct sctx *c, struct sconn *conn, struct sp_reader *r, struct buf *res,
    struct answer *a)
{
	char *requester = sp_get_str(r);
	size_t len = 0;
	const unsigned char *der = sp_get_bytes(r, &len);
	uint32_t reason = sp_get_u32(r);
	struct cert_info ci;
	struct held_ca *h;
	struct ca_state *cs;
	X509 *cert = NULL;
	json_t *ev;
	bool already;

	memset(&ci, 0, sizeof(ci));
	if (!sp_reader_done(r) || der == NULL || cert_from_der(der, len, &cert, &a->e) != 0 ||
	    cert_info_get(cert, &ci, &a->e) != 0) {
		answer_err(a, SIGNER_ERR, "malformed revocation request");
		goto out;
	}
	if (!reason_allowed(reason)) {
		answer_err(a, SIGNER_REFUSED, "reason code %u is not one a subscriber certificate "
		    "may be revoked for (RFC 5280 and the S/MIME BR: 0 unspecified, 1 keyCompromise, "
		    "3 affiliationChanged, 4 superseded, 5 cessationOfOperation, 9 "
		    "privilegeWithdrawn)", reason);
		goto out;
	}
	if ((h = issuer_of(c, cert)) == NULL) {
		answer_err(a, SIGNER_REFUSED, "serial %s (issuer %s) was not issued by any CA this "
		    "signer holds; revoke it at the CA that issued it", ci.serial, ci.issuer);
		goto out;
	}
	if (sctx_lock(c, a) != 0)
		goto out;
	cs = state_ca(&c->st, h->id, false);
	already = state_is_revoked(cs, ci.serial);
	if (!already) {
		ev = sctx_event("revocation", requester, conn);
		if (json_object_set_new(ev, "ca", sctx_str(h->id)) != 0 ||
		    json_object_set_new(ev, "ca_name", sctx_str(h->pol->name)) != 0 ||
		    json_object_set_new(ev, "serial", sctx_str(ci.serial)) != 0 ||
		    json_object_set_new(ev, "subject", sctx_str(ci.subject)) != 0 ||
		    json_object_set_new(ev, "reason", json_integer(reason)) != 0 ||
		    json_object_set_new(ev, "reason_name", sctx_str(crl_reason_name((int)reason)))
		    != 0)
			fatal("out of memory");
		if (sctx_log(c, ev, a) != 0) {
			sctx_unlock(c);
			goto out;
		}
		log_info("revoked serial %s of [ca %s] (%s) for %s", ci.serial, h->pol->name,
		    crl_reason_name((int)reason), requester != NULL ? requester : "an unnamed requester");
	}
	sctx_unlock(c);
	sp_put_u32(res, already ? 1 : 0);
	sp_put_str(res, ci.serial);
out:
	X509_free(cert);
	cert_info_clear(&ci);
	free(requester);
}

void
op_revoked(struct sctx *c, struct sconn *conn, struct sp_reader *r, struct buf *res,
    struct answer *a)
{
	char *id = sp_get_str(r);
	struct held_ca *h;
	struct ca_state *cs;

	(void)conn;
	if (!sp_reader_done(r)) {
		answer_err(a, SIGNER_ERR, "malformed request");
		goto out;
	}
	if ((h = sctx_find_ca(c, id, a)) == NULL || sctx_lock(c, a) != 0)
		goto out;
	cs = state_ca(&c->st, h->id, false);
	sp_put_u32(res, cs != NULL ? (uint32_t)cs->n_revoked : 0);
	for (size_t i = 0; cs != NULL && i < cs->n_revoked; i++)
		sp_put_str(res, cs->revoked[i].serial);
	sctx_unlock(c);
out:
	free(id);
}

void
op_sign_crl(struct sctx *c, struct sconn *conn, struct sp_reader *r, struct buf *res,
    struct answer *a)
{
	char *id = sp_get_str(r);
	char *requester = sp_get_str(r);
	uint64_t floor = sp_get_u64(r);
	int64_t lifetime = (int64_t)sp_get_u64(r);
	struct crl_entry *ents = NULL;
	struct held_ca *h;
	struct ca_state *cs;
	unsigned char *der = NULL;
	size_t len = 0;
	uint64_t number;
	time_t now;
	char tu[32], nu[32];
	json_t *ev;
	bool locked = false;

	if (!sp_reader_done(r)) {
		answer_err(a, SIGNER_ERR, "malformed CRL request");
		goto out;
	}
	if (lifetime < CRL_MIN_LIFETIME || lifetime > CRL_MAX_LIFETIME) {
		answer_err(a, SIGNER_REFUSED, "a CRL lifetime of %lld seconds is outside 1 hour to "
		    "10 days (S/MIME BR 4.9.7 allow at most 10 days)", (long long)lifetime);
		goto out;
	}
	if ((h = sctx_find_ca(c, id, a)) == NULL || sctx_lock(c, a) != 0)
		goto out;
	locked = true;
	cs = state_ca(&c->st, h->id, true);
	/*
	 * The next number of this CA; a floor counts only for its first CRL
	 * here (numbers signed before the signer kept them), never after:
	 * asking for less cannot roll the number back, asking for more
	 * cannot use the numbers up.
	 */
	if (cs->last_crl > 0)
		number = cs->last_crl + 1;
	else
		number = floor > 1 && floor < CRL_FLOOR_MAX ? floor : 1;
	if (floor > number)
		log_info("[ca %s]: CRL number %llu, not %llu as asked: the signer's own count "
		    "decides", h->pol->name, (unsigned long long)number, (unsigned long long)floor);
	now = time(NULL);
	format_time_utc(now, tu, sizeof(tu));
	format_time_utc(now + (time_t)lifetime, nu, sizeof(nu));
	ev = sctx_event("crl", requester, conn);
	if (json_object_set_new(ev, "ca", sctx_str(h->id)) != 0 ||
	    json_object_set_new(ev, "ca_name", sctx_str(h->pol->name)) != 0 ||
	    json_object_set_new(ev, "number", json_integer((json_int_t)number)) != 0 ||
	    json_object_set_new(ev, "entries", json_integer((json_int_t)cs->n_revoked)) != 0 ||
	    json_object_set_new(ev, "this_update", sctx_str(tu)) != 0 ||
	    json_object_set_new(ev, "next_update", sctx_str(nu)) != 0)
		fatal("out of memory");
	/* The number is spent before it is used. */
	if (sctx_log(c, ev, a) != 0)
		goto out;
	/* The log line may have come from this very state: look the CA up again. */
	cs = state_ca(&c->st, h->id, true);
	ents = xcalloc(cs->n_revoked + 1, sizeof(*ents));
	for (size_t i = 0; i < cs->n_revoked; i++) {
		ents[i].serial = cs->revoked[i].serial;
		ents[i].revoked_at = cs->revoked[i].when;
		ents[i].reason = cs->revoked[i].reason;
	}
	if (issuer_sign_crl(h->issuer, ents, cs->n_revoked, number, now, lifetime, &der, &len,
	    &a->e) != 0) {
		a->status = SIGNER_ERR;
		goto out;
	}
	sp_put_u64(res, number);
	sp_put_u32(res, (uint32_t)cs->n_revoked);
	sp_put_bytes(res, der, len);
out:
	if (locked)
		sctx_unlock(c);
	free(der);
	free(ents);
	free(id);
	free(requester);
}
