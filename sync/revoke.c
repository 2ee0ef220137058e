/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "smime/crl.h"
#include "sync/publish.h"
#include "sync/revoke.h"

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
	    store_audit(en->store, en->run_id, c.user_id, "certificate-revoked", detail, e) != 0) {
		store_rollback(en->store);
		goto out;
	}
	if (store_commit(en->store, e) != 0)
		goto out;
	log_info("revoked serial %s (reason %s)", c.serial, crl_reason_name((int)reason));
	if (dn != NULL && target != NULL) {
		memset(&who, 0, sizeof(who));
		who.dn = (char *)dn;
		who.mail = c.mail; /* the address the certificate was published for */
		if (publish_locate(en, source, target, &who, &dc, &where, e) != 0 ||
		    publish_remove(dc, where, &c, e) != 0) {
			err_prefix(e, "revoked serial %s, but could not remove it from %s", c.serial,
			    where != NULL ? where : dn);
			goto out;
		}
	}
	rc = 0;
out:
	free(where);
	store_cert_clear(&c);
	return rc;
}
