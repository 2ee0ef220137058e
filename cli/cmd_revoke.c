/* SPDX-License-Identifier: ISC */
/*
 * revoke: revoke a person's current certificate (or one by serial) for an
 * RFC 5280 reason, take it out of the directory at once and sign a new
 * CRL when the CA has a crl_file. crl: sign and write the CRLs.
 */
#include "config.h"

#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "conf/conf.h"
#include "smime/ca.h"
#include "sync/engine.h"
#include "sync/publish.h"
#include "cli/commands.h"
#include "sync/crl_update.h"
#include "sync/revoke.h"
#include "store/revocation.h"

/* "0a:1B:..." -> "0A1B...", as struct cert_info writes serials; NULL if not hex. */
static char *
normalize_serial(const char *in)
{
	char *out = xmalloc(strlen(in) + 1);
	size_t k = 0;

	for (const char *p = in; *p != '\0'; p++) {
		if (*p == ':')
			continue;
		if (!isxdigit((unsigned char)*p)) {
			free(out);
			return NULL;
		}
		out[k++] = (char)toupper((unsigned char)*p);
	}
	out[k] = '\0';
	/* cert_info drops leading zeros (BN_bn2hex keeps whole bytes). */
	while (k > 2 && out[0] == '0' && out[1] == '0') {
		memmove(out, out + 2, k - 1);
		k -= 2;
	}
	if (k == 0) {
		free(out);
		return NULL;
	}
	return out;
}

/* Revoke one certificate; prints what happened. */
static int
revoke_one(struct engine *en, int64_t cert_id, int reason, bool *crl_cas)
{
	struct store_cert c;
	struct store_user u;
	const struct conf_directory *dir = NULL, *target = NULL;
	struct errbuf e;
	int rc = -1;

	memset(&c, 0, sizeof(c));
	memset(&u, 0, sizeof(u));
	if (store_cert_get(en->store, cert_id, &c, &e) != 0)
		goto fail;
	if (c.status == CERT_REVOKED) {
		fprintf(stderr, "smimesync: serial %s (%s) is already revoked\n", c.serial, c.mail);
		goto out;
	}
	if (store_user_find(en->store, c.user_id, &u, &e) == 1 && u.source != NULL)
		dir = config_find_directory(en->cfg, u.source);
	target = publish_dir_of(en->cfg, u.group_name, dir);
	if (dir == NULL)
		fprintf(stderr, "smimesync: warning: the directory of %s is no longer configured; "
		    "remove serial %s from its entry by hand\n", c.mail, c.serial);
	else if (target == NULL)
		fprintf(stderr, "smimesync: note: the certificate was published nowhere (%s, no "
		    "publish_to): no directory to remove it from\n", conf_directory_title(dir));
	if (revoke_cert(en, cert_id, dir != NULL ? u.dn : NULL, (enum revoke_reason)reason, dir,
	    dir != NULL ? target : NULL, &e) != 0) {
		/* The revocation itself may be recorded: say what happened. */
		fprintf(stderr, "smimesync: %s\n", e.text);
		goto mark;
	}
	printf("revoked serial %s of %s (reason %s)%s\n", c.serial, c.mail,
	    crl_reason_name(reason), target != NULL ? "; removed from the directory" : "");
	rc = 0;
mark:
	for (size_t i = 0; i < en->cfg->n_cas; i++)
		if (strcmp(en->cfg->cas[i].name, c.ca_name) == 0)
			crl_cas[i] = true;
	goto out;
fail:
	fprintf(stderr, "smimesync: %s\n", e.text);
out:
	store_user_clear(&u);
	store_cert_clear(&c);
	return rc;
}

int
cmd_revoke(int argc, char **argv, const struct cli_options *cli)
{
	static const struct option longopts[] = {
		{ "serial", required_argument, NULL, 's' },
		{ "reason", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	struct config *cfg = NULL;
	struct engine en;
	struct errbuf e;
	struct store_user u;
	struct store_cert *certs = NULL;
	size_t n_certs = 0;
	const char *serial_arg = NULL, *reason_arg = NULL;
	char *serial = NULL;
	bool *crl_cas = NULL;
	bool opened = false;
	int64_t ids[8];
	size_t n_ids = 0, done = 0, failed = 0;
	int reason = 0;
	int ch, rc = 1;

	memset(&u, 0, sizeof(u));
	/*
	 * optind = 0 re-initialises glibc's getopt fully: main() parsed with
	 * "+" (stop at the first word), which would otherwise stick and leave
	 * "USER --reason R" unparsed.
	 */
	optind = 0;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (ch == 's')
			serial_arg = optarg;
		else if (ch == 'r')
			reason_arg = optarg;
		else
			goto usage;
	}
	if ((serial_arg != NULL) == (optind < argc) || optind + 1 < argc || reason_arg == NULL)
		goto usage;
	if (crl_reason_parse(reason_arg, &reason) != 0)
		return cli_usage_error("revoke", "\"%s\" is not a revocation reason", reason_arg);
	if (serial_arg != NULL && (serial = normalize_serial(serial_arg)) == NULL) {
		fprintf(stderr, "smimesync revoke: serial \"%s\" is not hexadecimal (as smimesync "
		    "status prints it)\n", serial_arg);
		return EXIT_USAGE;
	}
	cfg = commands_load_config(cli);
	if (cfg == NULL)
		goto out;
	if (engine_open_command(&en, cfg, false, &e) != 0) {
		fprintf(stderr, "smimesync: %s\n", e.text);
		goto out;
	}
	opened = true;
	crl_cas = xcalloc(cfg->n_cas + 1, sizeof(*crl_cas));
	if (serial != NULL) {
		if (store_cert_ids_by_serial(en.store, serial, ids, 8, &n_ids, &e) != 0) {
			fprintf(stderr, "smimesync: %s\n", e.text);
			goto out;
		}
		if (n_ids == 0) {
			fprintf(stderr, "smimesync: no certificate with serial %s in the store "
			    "(smimesync status lists them)\n", serial);
			goto out;
		}
		if (n_ids > 1) {
			fprintf(stderr, "smimesync: %zu certificates have serial %s (from different "
			    "CAs); revoke by user instead\n", n_ids, serial);
			goto out;
		}
	} else {
		int found = store_user_find(en.store, argv[optind], &u, &e);

		if (found != 1) {
			if (found < 0)
				fprintf(stderr, "smimesync: %s\n", e.text);
			else
				fprintf(stderr, "smimesync: no user \"%s\" in the store (give the "
				    "mail address or id smimesync status shows)\n", argv[optind]);
			goto out;
		}
		if (store_certs_for_user(en.store, u.id, false, &certs, &n_certs, &e) != 0) {
			fprintf(stderr, "smimesync: %s\n", e.text);
			goto out;
		}
		for (size_t i = 0; i < n_certs && n_ids < 8; i++)
			if (certs[i].status == CERT_VALID)
				ids[n_ids++] = certs[i].id;
		if (n_ids == 0) {
			fprintf(stderr, "smimesync: %s has no valid certificate to revoke; use "
			    "--serial to revoke a superseded one\n", u.mail ? u.mail : u.id);
			goto out;
		}
	}
	for (size_t i = 0; i < n_ids; i++) {
		if (revoke_one(&en, ids[i], reason, crl_cas) == 0)
			done++;
		else
			failed++;
	}
	/* A new CRL at once, so relying parties see the revocation now. */
	for (size_t i = 0; i < cfg->n_cas; i++) {
		uint64_t number = 0;
		size_t entries = 0;

		if (crl_cas[i] && cfg->cas[i].type != CA_TYPE_LOCAL) {
			/* Its CRL is the CA's to sign: smimesync has no revocation API for it. */
			if (cfg->cas[i].type == CA_TYPE_HELPER)
				fprintf(stderr, "smimesync: [ca %s] is an external CA (type helper): the "
				    "revocation is recorded here and the certificate is out of the "
				    "directory, but a CA helper has no revocation call: revoke it at the "
				    "CA as well, so that its CRL and OCSP say so\n", cfg->cas[i].name);
			else
				fprintf(stderr, "smimesync: [ca %s] is an external CA (type %s): the "
				    "revocation is recorded here, the certificate is out of the "
				    "directory, and the next run revokes it at the CA through its API "
				    "(the run report says when it is done)\n", cfg->cas[i].name,
				    ca_type_name(cfg->cas[i].type));
			continue;
		}
		if (!crl_cas[i] || cfg->cas[i].crl_file == NULL)
			continue;
		if (crl_update(&en, &cfg->cas[i], &number, &entries, &e) != 0) {
			fprintf(stderr, "smimesync: the revocation is recorded, but the CRL was not "
			    "written: %s; run smimesync crl once that is fixed\n", e.text);
			failed++;
			continue;
		}
		printf("wrote CRL number %llu of [ca %s] (%zu revoked) to %s\n",
		    (unsigned long long)number, cfg->cas[i].name, entries, cfg->cas[i].crl_file);
	}
	rc = failed == 0 && done > 0 ? 0 : 1;
	goto out;
usage:
	rc = cli_usage_error("revoke", NULL);
out:
	if (opened)
		engine_close_command(&en);
	free(crl_cas);
	free(serial);
	store_certs_free(certs, n_certs);
	store_user_clear(&u);
	config_free(cfg);
	return rc;
}

int
cmd_crl(int argc, char **argv, const struct cli_options *cli)
{
	static const struct option longopts[] = {
		{ "ca", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	struct config *cfg = NULL;
	struct engine en;
	struct errbuf e;
	const char *ca_name = NULL;
	bool opened = false;
	size_t written = 0;
	int ch, rc = 1;

	optind = 0; /* see cmd_revoke */
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (ch != 'c')
			goto usage;
		ca_name = optarg;
	}
	if (optind != argc)
		goto usage;
	cfg = commands_load_config(cli);
	if (cfg == NULL)
		goto out;
	if (ca_name != NULL && config_find_ca(cfg, ca_name) == NULL) {
		fprintf(stderr, "smimesync crl: no [ca %s] section in %s\n", ca_name, cfg->path);
		goto out;
	}
	if (engine_open_command(&en, cfg, false, &e) != 0) {
		fprintf(stderr, "smimesync: %s\n", e.text);
		goto out;
	}
	opened = true;
	for (size_t i = 0; i < cfg->n_cas; i++) {
		const struct conf_ca *c = &cfg->cas[i];
		uint64_t number = 0;
		size_t entries = 0;

		if (ca_name != NULL ? strcmp(c->name, ca_name) != 0 : c->crl_file == NULL)
			continue;
		if (crl_update(&en, c, &number, &entries, &e) != 0) {
			fprintf(stderr, "smimesync: %s\n", e.text);
			goto out;
		}
		printf("wrote CRL number %llu of [ca %s] (%zu revoked) to %s\n",
		    (unsigned long long)number, c->name, entries, c->crl_file);
		written++;
	}
	if (written == 0) {
		fprintf(stderr, "smimesync crl: no [ca] section has a crl_file; add crl_file = "
		    "/path/to/file.crl to the CA whose CRL you publish at its crl_url\n");
		goto out;
	}
	rc = 0;
	goto out;
usage:
	rc = cli_usage_error("crl", NULL);
out:
	if (opened)
		engine_close_command(&en);
	config_free(cfg);
	return rc;
}
