/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/xalloc.h"
#include "smime/cert.h"
#include "sync/publish.h"

/*
 * Classify one value already in the directory: is it our current
 * certificate (keep), one of our older ones (delete) or somebody else's
 * (leave alone)?
 */
enum value_kind {
	VALUE_FOREIGN = 0,
	VALUE_CURRENT,
	VALUE_OURS_OLD,
};

static int
classify(struct engine *en, X509 *cert, const struct store_cert *current, enum value_kind *kind,
    struct errbuf *e)
{
	struct cert_info ci;
	int ours;

	memset(&ci, 0, sizeof(ci));
	*kind = VALUE_FOREIGN;
	if (cert_info_get(cert, &ci, e) != 0)
		return -1;
	if (strcmp(ci.fingerprint, current->fingerprint) == 0) {
		*kind = VALUE_CURRENT;
	} else {
		ours = store_cert_is_ours(en->store, ci.issuer, ci.serial, NULL, e);
		if (ours < 0) {
			cert_info_clear(&ci);
			return -1;
		}
		if (ours)
			*kind = VALUE_OURS_OLD;
	}
	cert_info_clear(&ci);
	return 0;
}

int
publish_locate(struct engine *en, const struct conf_directory *source,
    const struct conf_directory *target, const struct user *u, struct dir_conn **dc,
    char **dn, struct errbuf *e)
{
	*dc = NULL;
	*dn = NULL;
	if (target == NULL)
		return 0;
	if (engine_dir(en, target, dc, e) != DIR_OK)
		return -1;
	if (target == source) {
		*dn = xstrdup(u->dn);
		return 0;
	}
	if (dir_find_person(*dc, u, dn, e) != DIR_OK) {
		err_prefix(e, "publish_to");
		*dc = NULL;
		return -1;
	}
	log_debug("%s is %s in [directory %s]", u->dn, *dn, target->name);
	return 0;
}

const struct conf_directory *
publish_dir_of(const struct config *cfg, const char *group_name,
    const struct conf_directory *source)
{
	for (size_t i = 0; group_name != NULL && i < cfg->n_groups; i++)
		if (strcmp(cfg->groups[i].name, group_name) == 0 && cfg->groups[i].directory == source)
			return cfg->groups[i].publish;
	if (source != NULL && conf_directory_publishable(source))
		return source;
	return NULL;
}

const char *
publish_nowhere_text(const struct conf_group *g)
{
	const char *note = g->directory != NULL ? conf_directory_unpublished(g->directory) : NULL;

	return note != NULL ? note : "certificates are published nowhere; they are only mailed "
	    "to their owners";
}

int
publish_current(struct engine *en, struct dir_conn *dc, const char *dn,
    const struct store_cert *current, STACK_OF(X509) *chain, struct errbuf *e)
{
	struct dir_cert_values have;
	struct dir_cert_change change;
	struct dir_value *del_uc = NULL, *del_sm = NULL;
	struct dir_value add_uc, add_sm;
	size_t n_del_uc = 0, n_del_sm = 0;
	bool have_uc = false, have_sm = false;
	X509 *leaf = NULL;
	enum value_kind kind;
	int rc = -1;

	memset(&have, 0, sizeof(have));
	memset(&change, 0, sizeof(change));
	memset(&add_sm, 0, sizeof(add_sm));
	if (dir_read_certs(dc, dn, &have, e) != DIR_OK)
		goto out;
	del_uc = xcalloc(have.n_user_cert + 1, sizeof(*del_uc));
	del_sm = xcalloc(have.n_smime + 1, sizeof(*del_sm));

	for (size_t i = 0; i < have.n_user_cert; i++) {
		X509 *x = NULL;

		if (cert_from_der(have.user_cert[i].data, have.user_cert[i].len, &x, NULL) != 0)
			continue; /* not ours to judge */
		if (classify(en, x, current, &kind, e) != 0) {
			X509_free(x);
			goto out;
		}
		X509_free(x);
		if (kind == VALUE_CURRENT)
			have_uc = true;
		else if (kind == VALUE_OURS_OLD)
			del_uc[n_del_uc++] = have.user_cert[i];
	}
	for (size_t i = 0; i < have.n_smime; i++) {
		X509 *x = NULL;

		if (cert_pkcs7_first(have.smime[i].data, have.smime[i].len, &x, NULL) != 0)
			continue;
		if (classify(en, x, current, &kind, e) != 0) {
			X509_free(x);
			goto out;
		}
		X509_free(x);
		if (kind == VALUE_CURRENT)
			have_sm = true;
		else if (kind == VALUE_OURS_OLD)
			del_sm[n_del_sm++] = have.smime[i];
	}

	add_uc.data = current->der;
	add_uc.len = current->der_len;
	if (!have_sm) {
		if (cert_from_der(current->der, current->der_len, &leaf, e) != 0 ||
		    cert_pkcs7_certs_only(leaf, chain, &add_sm.data, &add_sm.len, e) != 0)
			goto out;
	}
	change.add_user_cert = have_uc ? NULL : &add_uc;
	change.n_add_user_cert = have_uc ? 0 : 1;
	change.del_user_cert = del_uc;
	change.n_del_user_cert = n_del_uc;
	change.add_smime = have_sm ? NULL : &add_sm;
	change.n_add_smime = have_sm ? 0 : 1;
	change.del_smime = del_sm;
	change.n_del_smime = n_del_sm;
	if (change.n_add_user_cert + change.n_del_user_cert + change.n_add_smime +
	    change.n_del_smime == 0) {
		rc = 0;
		goto out;
	}
	if (dir_apply_certs(dc, dn, &change, e) != DIR_OK)
		goto out;
	log_debug("published serial %s in %s (removed %zu superseded value%s)", current->serial, dn,
	    n_del_uc + n_del_sm, n_del_uc + n_del_sm == 1 ? "" : "s");
	rc = 0;
out:
	X509_free(leaf);
	free(add_sm.data);
	free(del_uc);
	free(del_sm);
	dir_cert_values_free(&have);
	return rc;
}

int
publish_remove(struct dir_conn *dc, const char *dn, const struct store_cert *cert,
    struct errbuf *e)
{
	struct dir_cert_values have;
	struct dir_cert_change change;
	struct dir_value *del_uc = NULL, *del_sm = NULL;
	size_t n_uc = 0, n_sm = 0;
	enum dir_status st;
	int rc = -1;

	memset(&have, 0, sizeof(have));
	memset(&change, 0, sizeof(change));
	st = dir_read_certs(dc, dn, &have, e);
	if (st == DIR_BAD_CONFIG) {
		/* The entry is gone (deleted account): nothing left to remove. */
		log_info("%s: entry not found; nothing to unpublish for serial %s", dn, cert->serial);
		return 0;
	}
	if (st != DIR_OK)
		goto out;
	del_uc = xcalloc(have.n_user_cert + 1, sizeof(*del_uc));
	del_sm = xcalloc(have.n_smime + 1, sizeof(*del_sm));
	for (size_t i = 0; i < have.n_user_cert; i++) {
		if (have.user_cert[i].len == cert->der_len &&
		    memcmp(have.user_cert[i].data, cert->der, cert->der_len) == 0)
			del_uc[n_uc++] = have.user_cert[i];
	}
	for (size_t i = 0; i < have.n_smime; i++) {
		X509 *x = NULL;
		struct cert_info ci;

		memset(&ci, 0, sizeof(ci));
		if (cert_pkcs7_first(have.smime[i].data, have.smime[i].len, &x, NULL) == 0 &&
		    cert_info_get(x, &ci, NULL) == 0 && strcmp(ci.fingerprint, cert->fingerprint) == 0)
			del_sm[n_sm++] = have.smime[i];
		cert_info_clear(&ci);
		X509_free(x);
	}
	change.del_user_cert = del_uc;
	change.n_del_user_cert = n_uc;
	change.del_smime = del_sm;
	change.n_del_smime = n_sm;
	if (n_uc + n_sm > 0 && dir_apply_certs(dc, dn, &change, e) != DIR_OK)
		goto out;
	if (n_uc + n_sm > 0)
		log_info("removed serial %s from %s", cert->serial, dn);
	rc = 0;
out:
	free(del_uc);
	free(del_sm);
	dir_cert_values_free(&have);
	return rc;
}
