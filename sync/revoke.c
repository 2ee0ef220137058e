/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "sync/publish.h"
#include "sync/revoke.h"

int
revoke_cert(struct engine *en, int64_t cert_id, const char *dn, enum revoke_reason reason,
    const struct conf_directory *dir, struct errbuf *e)
{
	struct store_cert c;
	struct dir_conn *dc = NULL;
	char detail[256];
	int rc = -1;

	memset(&c, 0, sizeof(c));
	if (store_cert_get(en->store, cert_id, &c, e) != 0)
		return -1;
	snprintf(detail, sizeof(detail), "serial=%s reason=%d", c.serial, (int)reason);
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
	log_info("revoked serial %s (reason %d)", c.serial, (int)reason);
	if (dn != NULL && dir != NULL) {
		if (engine_dir(en, dir, &dc, e) != DIR_OK || publish_remove(dc, dn, &c, e) != 0) {
			err_prefix(e, "revoked serial %s, but could not remove it from %s", c.serial, dn);
			goto out;
		}
	}
	rc = 0;
out:
	store_cert_clear(&c);
	return rc;
}
