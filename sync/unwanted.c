/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "smime/cert.h"
#include "store/ca_requests.h"
#include "sync/unwanted.h"

/* Revoke one at its CA: 0 done, -1 left pending (why in e). */
static int
revoke_at_ca(struct engine *en, const struct store_unwanted *u, struct errbuf *e)
{
	const struct conf_ca *conf = config_find_ca(en->cfg, u->ca_name);
	struct ca *ca = NULL;
	struct ca_result res;
	X509 *x = NULL;
	int rc = -1;

	memset(&res, 0, sizeof(res));
	if (conf == NULL) {
		err_set(e, "[ca %s] is no longer in the configuration", u->ca_name);
		return -1;
	}
	if (u->der == NULL || cert_from_der(u->der, u->der_len, &x, e) != 0)
		goto out;
	if (engine_ca(en, conf, &ca, e) != 0)
		goto out;
	if (ca_revoke(ca, x, u->reason, &res) != 0) {
		err_set(e, "%s", res.reason);
		goto out;
	}
	rc = 0;
out:
	if (res.exchange != NULL && store_audit(en->store, en->run_id, u->user_id, "ca-exchange",
	    res.exchange, NULL) != 0)
		log_warn("the exchange with [ca %s] could not be added to the audit log", u->ca_name);
	ca_result_clear(&res);
	X509_free(x);
	return rc;
}

void
unwanted_work(struct engine *en, bool dry_run)
{
	struct store_unwanted *v = NULL;
	size_t n = 0;
	struct errbuf e;

	if (en->store == NULL)
		return;
	if (store_unwanted_todo(en->store, &v, &n, &e) != 0) {
		report_error(en->report, NULL, "unwanted", "%s", e.text);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const struct store_unwanted *u = &v[i];
		char detail[160];
		struct errbuf e2;

		err_clear(&e);
		if (dry_run) {
			report_count(en->report, "unwanted_pending", 1);
			continue;
		}
		if (strcmp(u->state, "admin") == 0) {
			/* Said once; the store keeps the row for the audit. */
			if (u->serial != NULL)
				report_error(en->report, u->user_id, "unwanted", "[ca %s] issued serial "
				    "%s (issuer %s), which smimesync does not keep (%s), and the CA "
				    "offers no revocation call smimesync can use: revoke it at the CA by "
				    "hand", u->ca_name, u->serial, u->issuer ? u->issuer : "?", u->why);
			else
				report_error(en->report, u->user_id, "unwanted", "%s", u->why);
			if (store_unwanted_reported(en->store, u->id, &e2) != 0)
				log_error("%s", e2.text);
			continue;
		}
		if (revoke_at_ca(en, u, &e) == 0) {
			snprintf(detail, sizeof(detail), "serial=%s ca=%s", u->serial ? u->serial : "?",
			    u->ca_name);
			if (store_begin(en->store, &e2) != 0 ||
			    store_unwanted_set(en->store, u->id, "revoked", NULL, en->now, &e2) != 0 ||
			    store_audit(en->store, en->run_id, u->user_id, "certificate-revoked-at-ca",
			    detail, &e2) != 0 || store_commit(en->store, &e2) != 0) {
				store_rollback(en->store);
				report_error(en->report, u->user_id, "unwanted", "%s", e2.text);
				continue;
			}
			log_info("[ca %s] revoked serial %s at the CA (%s)", u->ca_name,
			    u->serial ? u->serial : "?", u->why);
			report_count(en->report, "revoked_at_ca", 1);
			continue;
		}
		if (store_unwanted_set(en->store, u->id, NULL, e.text, en->now, &e2) != 0)
			log_error("%s", e2.text);
		report_count(en->report, "unwanted_pending", 1);
		report_error(en->report, u->user_id, "unwanted", "[ca %s] serial %s must be revoked "
		    "at the CA (%s), which failed: %s; retried at every run (attempt %d)",
		    u->ca_name, u->serial ? u->serial : "?", u->why, e.text, u->attempts + 1);
	}
	store_unwanted_free(v, n);
}
