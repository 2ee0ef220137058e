/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "smime/cert.h"
#include "smime/crl.h"
#include "smime/signer.h"
#include "sync/publish.h"
#include "sync/revoke.h"
#include "store/ca_requests.h"
#include "store/removals.h"

int
revoke_at_external_ca(struct engine *en, const struct store_cert *c, enum revoke_reason reason,
    struct errbuf *e)
{
	const struct conf_ca *conf = config_find_ca(en->cfg, c->ca_name);
	struct store_unwanted u;
	char why[128];

	if (conf == NULL || conf->type == CA_TYPE_LOCAL)
		return 0;
	snprintf(why, sizeof(why), "revoked by smimesync (reason %s)", crl_reason_name((int)reason));
	memset(&u, 0, sizeof(u));
	u.user_id = c->user_id;
	u.ca_name = c->ca_name;
	u.serial = c->serial;
	u.issuer = c->issuer;
	u.der = c->der;
	u.der_len = c->der_len;
	u.why = why;
	u.reason = (int)reason;
	u.state = conf->type == CA_TYPE_HELPER ? "admin" : "pending";
	return store_unwanted_add(en->store, &u, en->now, e);
}

/*
 * The signer keeps the revocation list the CRL is made of: tell it now.
 * If it cannot take it, the revocation stands in the store, and the next
 * CRL (crl_update) hands it over before it is signed.
 */
static void
tell_signer(struct engine *en, const struct store_cert *c, enum revoke_reason reason)
{
	const struct conf_ca *conf = config_find_ca(en->cfg, c->ca_name);
	struct errbuf e;
	X509 *x = NULL;
	bool already = false;

	/* An external CA's certificate is its business; a renamed [ca] section is still ours. */
	if (en->signer == NULL || (conf != NULL && conf->type != CA_TYPE_LOCAL))
		return;
	if (cert_from_der(c->der, c->der_len, &x, &e) != 0 ||
	    signer_revoke(en->signer, x, (int)reason, &already, &e) != 0)
		log_warn("serial %s is revoked here, but the signer has not taken it yet (%s); the "
		    "next CRL hands it over", c->serial, e.text);
	X509_free(x);
}

int
revoke_cert(struct engine *en, int64_t cert_id, const char *dn, enum revoke_reason reason,
    const struct conf_directory *source, const struct conf_directory *target,
    struct errbuf *e)
{
	struct store_cert c;
	struct dir_conn *dc = NULL;
	struct user who;
	char *where = NULL;
	char detail[256];
	int64_t removal = 0;
	struct errbuf e2;
	int rc = -1;

	memset(&c, 0, sizeof(c));
	if (store_cert_get(en->store, cert_id, &c, e) != 0)
		return -1;
	/* By name: an auditor reads "keyCompromise", not RFC 5280's number 1. */
	snprintf(detail, sizeof(detail), "serial=%s reason=%s", c.serial,
	    crl_reason_name((int)reason));
	if (store_begin(en->store, e) != 0)
		goto out;
	if (store_cert_set_revoked(en->store, cert_id, en->now, (int)reason, e) != 0 ||
	    store_cert_set_published(en->store, cert_id, false, e) != 0 ||
	    store_audit(en->store, en->run_id, c.user_id, "certificate-revoked", detail, e) != 0 ||
	    /* I2: queued before the directory is touched, done only once it is out. */
	    (dn != NULL && target != NULL && store_removal_add(en->store, cert_id, c.user_id,
	    "revoked", en->now, e) != 0) ||
	    revoke_at_external_ca(en, &c, reason, e) != 0) {
		store_rollback(en->store);
		goto out;
	}
	if (store_commit(en->store, e) != 0)
		goto out;
	if (dn != NULL && target != NULL &&
	    (removal = store_removal_pending_for(en->store, cert_id, e)) < 0)
		goto out;
	log_info("revoked serial %s (reason %s)", c.serial, crl_reason_name((int)reason));
	tell_signer(en, &c, reason);
	if (dn != NULL && target != NULL) {
		memset(&who, 0, sizeof(who));
		who.dn = (char *)dn;
		who.mail = c.mail; /* the address the certificate was published for */
		if (publish_locate(en, source, target, &who, &dc, &where, e) != 0 ||
		    publish_remove(dc, where, &c, e) != 0) {
			if (removal > 0 && store_removal_failed(en->store, removal, e->text, en->now,
			    &e2) != 0)
				log_error("%s", e2.text);
			err_prefix(e, "revoked serial %s, but could not remove it from %s yet (the "
			    "removal is queued and retried at every run until it is done)", c.serial,
			    where != NULL ? where : dn);
			goto out;
		}
		if (removal > 0 && store_removal_done(en->store, removal, en->now, e) != 0)
			goto out;
	}
	rc = 0;
out:
	free(where);
	store_cert_clear(&c);
	return rc;
}
