/* SPDX-License-Identifier: ISC */
/*
 * config_warnings(): combinations that load and run, but hurt the people
 * who receive the certificates. check-config prints them (and still says
 * "configuration OK"); each names the directive (file:line), what breaks
 * for whom, and the fix. Facts measured on Debian 12's gpgsm 2.2.40 and
 * NSS 3.87 (the library of Thunderbird).
 */
#include "config.h"

#include "conf/conf_internal.h"

static bool
is_ec(enum key_type t)
{
	return t == KEY_TYPE_P256 || t == KEY_TYPE_P384;
}

size_t
config_warnings(const struct config *cfg, struct conf_errors *out)
{
	struct conf_errlist el = { cfg->path, NULL, 0 };
	size_t n;

	for (size_t i = 0; i < cfg->n_groups; i++) {
		const struct conf_group *g = &cfg->groups[i];
		const char *kt = key_type_name(g->key_type);

		if (!is_ec(g->key_type))
			continue;
		/*
		 * compat exists for gpgsm 2.2 (and old Outlook, macOS); gpgsm
		 * crashes on any PKCS#12 that holds an EC key, whatever its
		 * encryption.
		 */
		if (g->pkcs12 == PKCS12_COMPAT)
			conf_err_add(&el, conf_source_line(cfg, g, "pkcs12"), "warning: [group %s] "
			    "pkcs12 = compat with key_type = %s: gpgsm 2.2, the reason for compat, "
			    "crashes importing any PKCS#12 that holds an EC key; use key_type = "
			    "rsa2048 (or rsa3072) for this group, or pkcs12 = modern if nobody in it "
			    "uses gpgsm", g->name, kt);
		/* NSS 3.87: cmsutil -E to an EC certificate fails, SEC_ERROR_INVALID_ALGORITHM. */
		conf_err_add(&el, conf_source_line(cfg, g, "key_type"), "warning: [group %s] "
		    "key_type = %s: Thunderbird (NSS 3.87) cannot encrypt mail to an EC "
		    "certificate, so its users cannot send these members encrypted mail; use "
		    "key_type = rsa2048 (or rsa3072) if they must receive it", g->name, kt);
	}
	n = el.n;
	conf_errlist_finish(&el, out);
	return n;
}
