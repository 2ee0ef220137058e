/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "common/fileutil.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "smime/ca.h"
#include "sync/engine.h"
#include "sync/crl_update.h"
#include "store/revocation.h"

int
crl_update(struct engine *en, const struct conf_ca *conf, uint64_t *number_out,
    size_t *entries_out, struct errbuf *e)
{
	struct ca *ca = NULL;
	struct store_revoked *rev = NULL;
	struct crl_entry *ent = NULL;
	unsigned char *der = NULL;
	size_t n = 0, len = 0;
	uint64_t number = 0;
	char detail[256];
	int rc = -1;

	if (conf->crl_file == NULL) {
		err_set(e, "[ca %s] has no crl_file: set crl_file = /path/to/file.crl (the file "
		    "served at crl_url)", conf->name);
		return -1;
	}
	if (engine_ca(en, conf, &ca, e) != 0 ||
	    store_revoked_for_ca(en->store, conf->name, &rev, &n, e) != 0)
		goto out;
	ent = xcalloc(n + 1, sizeof(*ent));
	for (size_t i = 0; i < n; i++) {
		ent[i].serial = rev[i].serial;
		ent[i].revoked_at = rev[i].revoked_at;
		ent[i].reason = rev[i].reason;
	}
	if (store_begin(en->store, e) != 0)
		goto out;
	if (store_crl_next_number(en->store, conf->name, en->now, &number, e) != 0)
		goto rollback;
	snprintf(detail, sizeof(detail), "ca=%s number=%llu entries=%zu file=%s", conf->name,
	    (unsigned long long)number, n, conf->crl_file);
	if (store_audit(en->store, en->run_id, NULL, "crl-signed", detail, e) != 0)
		goto rollback;
	if (store_commit(en->store, e) != 0)
		goto out;
	if (ca_make_crl(ca, ent, n, number, en->now, conf->crl_validity, &der, &len, e) != 0) {
		err_prefix(e, "[ca %s]", conf->name);
		goto out;
	}
	if (file_write_atomic(conf->crl_file, der, len, 0644, e) != 0) {
		err_prefix(e, "[ca %s] crl_file", conf->name);
		goto out;
	}
	log_info("wrote CRL number %llu of [ca %s] with %zu revoked certificate%s to %s",
	    (unsigned long long)number, conf->name, n, n == 1 ? "" : "s", conf->crl_file);
	if (number_out != NULL)
		*number_out = number;
	if (entries_out != NULL)
		*entries_out = n;
	rc = 0;
	goto out;
rollback:
	store_rollback(en->store);
out:
	free(der);
	free(ent);
	store_revoked_free(rev, n);
	return rc;
}

int
crl_refresh_all(struct engine *en, bool force, struct errbuf *e)
{
	int written = 0;

	for (size_t i = 0; i < en->cfg->n_cas; i++) {
		const struct conf_ca *c = &en->cfg->cas[i];
		uint64_t number = 0;
		time_t issued = 0;
		int found;

		if (c->crl_file == NULL)
			continue;
		found = store_crl_last(en->store, c->name, &number, &issued, e);
		if (found < 0)
			return -1;
		/* Re-sign at half-life: a missed daemon cycle still leaves a valid CRL. */
		if (!force && found == 1 && file_exists(c->crl_file) &&
		    (int64_t)(en->now - issued) < c->crl_validity / 2)
			continue;
		if (crl_update(en, c, NULL, NULL, e) != 0)
			return -1;
		written++;
	}
	return written;
}

void
crl_refresh_after_run(const struct config *cfg)
{
	struct engine en;
	struct errbuf e;
	bool any = false;

	for (size_t i = 0; i < cfg->n_cas; i++)
		if (cfg->cas[i].crl_file != NULL)
			any = true;
	if (!any)
		return;
	if (engine_open_command(&en, cfg, false, &e) != 0) {
		log_error("cannot re-sign the CRLs: %s", e.text);
		return;
	}
	if (crl_refresh_all(&en, false, &e) < 0)
		log_error("cannot re-sign a CRL: %s; relying parties will reject certificates "
		    "once its nextUpdate passes", e.text);
	engine_close_command(&en);
}
