/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fileutil.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "smime/ca.h"
#include "smime/cert.h"
#include "smime/signer.h"
#include "sync/engine.h"
#include "sync/crl_update.h"
#include "store/revocation.h"

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Every revocation the store holds for conf that the signer's list lacks
 * (a signer that could not be told at the time, revocations from before
 * the signer kept its own list), handed over now. Refusals are logged: the
 * signer decides what its CRL lists.
 */
static int
hand_over(struct engine *en, const struct conf_ca *conf, const char *ca_id, struct errbuf *e)
{
	struct store_revoked *rev = NULL;
	char **have = NULL;
	size_t n = 0, n_have = 0, handed = 0;
	int rc = -1;

	if (store_revoked_for_ca(en->store, conf->name, &rev, &n, e) != 0 ||
	    signer_revoked_serials(en->signer, ca_id, &have, &n_have, e) != 0)
		goto out;
	qsort(have, n_have, sizeof(*have), cmp_str);
	for (size_t i = 0; i < n; i++) {
		const char *key = rev[i].serial;
		int64_t ids[8];
		size_t n_ids = 0;

		if (bsearch(&key, have, n_have, sizeof(*have), cmp_str) != NULL)
			continue;
		if (store_cert_ids_by_serial(en->store, rev[i].serial, ids, 8, &n_ids, e) != 0)
			goto out;
		for (size_t k = 0; k < n_ids; k++) {
			struct store_cert c;
			struct errbuf e2;
			X509 *x = NULL;
			bool already = false;

			memset(&c, 0, sizeof(c));
			if (store_cert_get(en->store, ids[k], &c, &e2) != 0 ||
			    cert_from_der(c.der, c.der_len, &x, &e2) != 0 ||
			    signer_revoke(en->signer, x, rev[i].reason, &already, &e2) != 0)
				log_warn("[ca %s]: serial %s is revoked here, but the signer did not "
				    "take it: %s", conf->name, rev[i].serial, e2.text);
			else if (!already)
				handed++;
			X509_free(x);
			store_cert_clear(&c);
		}
	}
	if (handed > 0)
		log_info("[ca %s]: handed %zu revocation%s to the signer before signing the CRL",
		    conf->name, handed, handed == 1 ? "" : "s");
	rc = 0;
out:
	signer_serials_free(have, n_have);
	store_revoked_free(rev, n);
	return rc;
}

int
crl_update(struct engine *en, const struct conf_ca *conf, uint64_t *number_out,
    size_t *entries_out, struct errbuf *e)
{
	struct ca *ca = NULL;
	struct ca_crl crl;
	STACK_OF(X509) *chain;
	char *ca_id = NULL;
	uint64_t floor = 0;
	char detail[256];
	int rc = -1;

	memset(&crl, 0, sizeof(crl));
	if (conf->crl_file == NULL) {
		err_set(e, "[ca %s] has no crl_file: set crl_file = /path/to/file.crl (the file "
		    "served at crl_url)", conf->name);
		return -1;
	}
	if (conf->type != CA_TYPE_LOCAL || en->signer == NULL) {
		err_set(e, "[ca %s] is not a local CA: its CRL is the CA's to sign", conf->name);
		return -1;
	}
	if (engine_ca(en, conf, &ca, e) != 0)
		goto out;
	chain = ca_chain(ca);
	ca_id = signer_ca_id(chain != NULL && sk_X509_num(chain) > 0 ? sk_X509_value(chain, 0) :
	    NULL);
	if (ca_id == NULL) {
		err_set(e, "[ca %s]: the CA certificate has no subjectKeyIdentifier", conf->name);
		goto out;
	}
	if (hand_over(en, conf, ca_id, e) != 0)
		goto out;
	/*
	 * The store's count is only a floor for the signer's first CRL of this
	 * CA (numbers signed before the signer kept them); after that the
	 * signer's own count decides, whatever the section is called.
	 */
	if (store_begin(en->store, e) != 0)
		goto out;
	if (store_crl_next_number(en->store, conf->name, en->now, &floor, e) != 0) {
		store_rollback(en->store);
		goto out;
	}
	if (store_commit(en->store, e) != 0)
		goto out;
	if (ca_make_crl(ca, floor, conf->crl_validity, &crl, e) != 0) {
		err_prefix(e, "[ca %s]", conf->name);
		goto out;
	}
	snprintf(detail, sizeof(detail), "ca=%s number=%llu entries=%zu file=%s", conf->name,
	    (unsigned long long)crl.number, crl.entries, conf->crl_file);
	if (store_begin(en->store, e) != 0)
		goto out;
	if (store_audit(en->store, en->run_id, NULL, "crl-signed", detail, e) != 0) {
		store_rollback(en->store);
		goto out;
	}
	if (store_commit(en->store, e) != 0)
		goto out;
	if (file_write_atomic(conf->crl_file, crl.der, crl.len, 0644, e) != 0) {
		err_prefix(e, "[ca %s] crl_file", conf->name);
		goto out;
	}
	log_info("wrote CRL number %llu of [ca %s] with %zu revoked certificate%s to %s",
	    (unsigned long long)crl.number, conf->name, crl.entries, crl.entries == 1 ? "" : "s",
	    conf->crl_file);
	if (number_out != NULL)
		*number_out = crl.number;
	if (entries_out != NULL)
		*entries_out = crl.entries;
	rc = 0;
out:
	free(ca_id);
	free(crl.der);
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
