/* SPDX-License-Identifier: ISC */
/* Escrowed keys of older releases, put under recovery control (sync/escrow_upgrade.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/xalloc.h"
#include "smime/cert.h"
#include "smime/escrow.h"
#include "store/sealed.h"
#include "sync/escrow_upgrade.h"

void
escrow_upgrade(struct engine *en)
{
	struct store_legacy_escrow *v = NULL;
	struct errbuf e;
	size_t n = 0, done = 0;

	if (en->signer == NULL || store_escrow_legacy(en->store, ESCROW_UPGRADE_BATCH, &v, &n,
	    &e) != 0) {
		if (en->signer != NULL)
			log_warn("cannot list the escrowed keys to upgrade: %s", e.text);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		char *aad = xasprintf("escrow:%s", v[i].aad);
		unsigned char *sealed = NULL;
		size_t len = 0;
		X509 *x = NULL;

		if (cert_from_der(v[i].der, v[i].der_len, &x, &e) != 0 ||
		    escrow_for_recovery(&en->master_key, v[i].aad, v[i].sealed, v[i].sealed_len, x, aad,
		    &sealed, &len, &e) != 0 ||
		    store_begin(en->store, &e) != 0) {
			log_warn("escrowed key of certificate #%lld stays as it was: %s",
			    (long long)v[i].cert_id, e.text);
			goto next;
		}
		if (store_escrow_put(en->store, v[i].cert_id, aad, sealed, len, &e) != 0 ||
		    (v[i].action_id != 0 && store_action_forget_key(en->store, v[i].action_id, &e) != 0)) {
			store_rollback(en->store);
			log_warn("escrowed key of certificate #%lld stays as it was: %s",
			    (long long)v[i].cert_id, e.text);
			goto next;
		}
		if (store_commit(en->store, &e) != 0) {
			log_warn("escrowed key of certificate #%lld: %s", (long long)v[i].cert_id, e.text);
			goto next;
		}
		done++;
		/* Stored first: the old blob may still sit in a backup, and now it opens for no one. */
		if (escrow_close_key(&en->master_key, v[i].aad, v[i].sealed, v[i].sealed_len, &e) != 0)
			log_warn("certificate #%lld: the signer could not close its old key: %s",
			    (long long)v[i].cert_id, e.text);
next:
		X509_free(x);
		free(sealed);
		free(aad);
	}
	if (done > 0)
		log_info("put %zu escrowed key%s of an older release under the signer's recovery "
		    "control%s", done, done == 1 ? "" : "s", n == ESCROW_UPGRADE_BATCH ?
		    "; more follow in the next run" : "");
	store_legacy_escrow_free(v, n);
}
