/* SPDX-License-Identifier: ISC */
/*
 * dir-probe: drive the directory room from the command line, for the
 * integration tests (tests/integration/directory_ldap.sh) and for poking at
 * a real directory by hand.
 *
 *   dir-probe --uri U --base B [--bind-dn D --password-file F] [--sasl MECH]
 *             [--keytab KEYTAB] [--principal NAME@REALM]
 *             [--ca-file C] [--starttls required|off] [--no-verify]
 *             [--global-catalog] [--page-size N] [--scan-threshold N] [--timeout S] [--user-filter F]
 *             [--mail-attribute A] [--alt-mail-attribute A] [--type ldap|ad]
 *             [--debug]  COMMAND ARGS
 *
 *   members GROUP_DN        one line per person: id|dn|mail|display_name|problem
 *   members-full GROUP      id|dn|mail|alt,mails|upn|given|sn|enabled|problem
 *                           (GROUP: a DN, or a sAMAccountName with --type ad)
 *   member-values DN STEP   every member value of the group, one per line,
 *                           read in ranges of STEP values (0: as the server sends)
 *   read-certs DN           "userCertificate SHA256" / "userSMIMECertificate SHA256"
 *   holders ADDR            every entry that holds the address: DN|id
 *   add-cert DN FILE.der    add a DER value to userCertificate;binary
 *   del-cert DN FILE.der    delete it
 *   add-smime DN FILE.der   add a DER PKCS#7 value to userSMIMECertificate
 *   del-smime DN FILE.der   delete it
 *
 * The configuration is built by hand, not parsed: it starts from what
 * config_load() fills in for "type = ..." (conf_directory_defaults: the
 * option table's defaults and the type's user_filter). Exit status: 0 ok, 1 usage, 2 directory error (stderr
 * says "dir-probe: STATUS: message" with STATUS from dir_status_name()).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/errbuf.h"
#include "common/fileutil.h"
#include "common/log.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "directory/backend.h"
#include "directory/directory.h"
#include "directory/ldap.h"

static void
usage(void)
{
	fprintf(stderr, "usage: dir-probe --uri URI --base DN [--bind-dn DN --password-file F] "
	    "[--sasl MECH] [--keytab F] [--principal P] [--ca-file F] [--starttls required|off] [--no-verify] "
	    "[--global-catalog] [--page-size N] [--scan-threshold N] [--timeout S] [--user-filter F] [--mail-attribute A] "
	    "[--alt-mail-attribute A] "
	    "[--type ldap|ad] [--debug] "
	    "members GROUP_DN | members-full GROUP | member-values DN STEP | read-certs DN | holders ADDR | add-cert|del-cert|add-smime|del-smime DN FILE\n");
	exit(1);
}

static const char *
nz(const char *s)
{
	return s != NULL ? s : "";
}

static int
fail(enum dir_status st, const struct errbuf *e)
{
	fprintf(stderr, "dir-probe: %s: %s\n", dir_status_name(st), e->text);
	return 2;
}

static void
print_member(void *arg, const struct berval *v)
{
	(void)arg;
	printf("%.*s\n", (int)v->bv_len, v->bv_val);
}

static void
print_values(const char *attr, const struct dir_value *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char md[EVP_MAX_MD_SIZE];
		unsigned int mdlen = 0;
		char *hex;

		if (EVP_Digest(v[i].data, v[i].len, md, &mdlen, EVP_sha256(), NULL) != 1)
			fatal("SHA-256 failed");
		hex = hex_encode(md, mdlen);
		printf("%s %s\n", attr, hex);
		free(hex);
	}
}

/* Replace a string of the section (new copy; the old one is freed). */
static void
set_str(char **field, const char *val)
{
	free(*field);
	*field = xstrdup(val);
}

/* --type decides the defaults, so it is read before anything else. */
static enum dir_type
probe_type(int argc, char **argv)
{
	/* Options come before the command; values never start with "--type". */
	for (int i = 1; i + 1 < argc; i++) {
		if (strcmp(argv[i], "--type") != 0)
			continue;
		if (strcmp(argv[i + 1], "ldap") == 0)
			return DIR_TYPE_LDAP;
		if (strcmp(argv[i + 1], "ad") == 0)
			return DIR_TYPE_AD;
		usage();
	}
	return DIR_TYPE_LDAP;
}

int
main(int argc, char **argv)
{
	struct conf_directory conf;
	struct dir_conn *dc = NULL;
	struct errbuf e;
	enum dir_status st;
	char *password = NULL;
	const char *password_file = NULL;
	int i, rc = 0;
	int64_t n;

	/* What config_load() fills in for "type = ...": the option table's defaults. */
	conf_directory_defaults(&conf, probe_type(argc, argv));
	conf.name = "probe";
	log_init("dir-probe", LOGL_WARN);
	err_clear(&e);

	for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		const char *opt = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(opt, "--debug") == 0) {
			log_set_level(LOGL_DEBUG);
			continue;
		}
		if (strcmp(opt, "--no-verify") == 0) {
			conf.tls_verify = false;
			continue;
		}
		if (strcmp(opt, "--global-catalog") == 0) {
			conf.global_catalog = true;
			continue;
		}
		if (val == NULL)
			usage();
		i++;
		if (strcmp(opt, "--uri") == 0)
			set_str(&conf.uri, val);
		else if (strcmp(opt, "--base") == 0)
			set_str(&conf.base_dn, val);
		else if (strcmp(opt, "--bind-dn") == 0)
			set_str(&conf.bind_dn, val);
		else if (strcmp(opt, "--password-file") == 0)
			password_file = val;
		else if (strcmp(opt, "--ca-file") == 0)
			set_str(&conf.tls_ca_file, val);
		else if (strcmp(opt, "--sasl") == 0)
			set_str(&conf.sasl_mech, val);
		else if (strcmp(opt, "--keytab") == 0)
			set_str(&conf.keytab_file, val);
		else if (strcmp(opt, "--principal") == 0)
			set_str(&conf.principal, val);
		else if (strcmp(opt, "--user-filter") == 0) {
			set_str(&conf.user_filter, val);
		}
		else if (strcmp(opt, "--mail-attribute") == 0)
			set_str(&conf.mail_attribute, val);
		else if (strcmp(opt, "--alt-mail-attribute") == 0)
			set_str(&conf.alt_mail_attribute, val);
		else if (strcmp(opt, "--type") == 0) {
			/* Read by probe_type() before the defaults. */
		} else if (strcmp(opt, "--starttls") == 0) {
			if (strcmp(val, "required") == 0)
				conf.starttls = TLS_MODE_REQUIRED;
			else if (strcmp(val, "off") == 0)
				conf.starttls = TLS_MODE_OFF;
			else
				usage();
		} else if (strcmp(opt, "--scan-threshold") == 0) {
			if (parse_int64(val, 1, 100000000, &n) != 0)
				usage();
			conf.scan_threshold = n;
		} else if (strcmp(opt, "--page-size") == 0) {
			if (parse_int64(val, 1, 100000, &n) != 0)
				usage();
			conf.page_size = n;
		} else if (strcmp(opt, "--timeout") == 0) {
			if (parse_int64(val, 1, 3600, &n) != 0)
				usage();
			conf.timeout = n;
		} else {
			usage();
		}
	}
	if (i >= argc || conf.uri == NULL || conf.base_dn == NULL)
		usage();
	if (password_file != NULL && file_read_password(password_file, &password, &e) != 0) {
		fprintf(stderr, "dir-probe: %s\n", e.text);
		return 1;
	}

	st = dir_open(&conf, password, &dc, &e);
	secret_free_str(password);
	if (st != DIR_OK)
		return fail(st, &e);

	if (strcmp(argv[i], "members") == 0 && i + 2 == argc) {
		struct user_list l = { 0 };

		st = dir_group_members(dc, argv[i + 1], &l, &e);
		if (st != DIR_OK) {
			rc = fail(st, &e);
		} else {
			for (size_t k = 0; k < l.n; k++) {
				const struct user *u = &l.v[k];

				printf("%s|%s|%s|%s|%s\n", nz(u->id), nz(u->dn), nz(u->mail),
				    nz(u->display_name), nz(u->problem));
			}
		}
		user_list_free(&l);
	} else if (strcmp(argv[i], "members-full") == 0 && i + 2 == argc) {
		struct user_list l = { 0 };

		st = dir_group_members(dc, argv[i + 1], &l, &e);
		if (st != DIR_OK)
			rc = fail(st, &e);
		for (size_t k = 0; st == DIR_OK && k < l.n; k++) {
			const struct user *u = &l.v[k];

			printf("%s|%s|%s|", nz(u->id), nz(u->dn), nz(u->mail));
			for (size_t m = 0; m < u->n_alt_mails; m++)
				printf("%s%s", m > 0 ? "," : "", u->alt_mails[m]);
			printf("|%s|%s|%s|%s|%s\n", nz(u->upn), nz(u->given_name), nz(u->surname),
			    u->enabled ? "enabled" : "disabled", nz(u->problem));
		}
		user_list_free(&l);
	} else if (strcmp(argv[i], "member-values") == 0 && i + 3 == argc) {
		if (parse_int64(argv[i + 2], 0, 100000, &n) != 0)
			usage();
		/* The ldap and ad backends keep their LDAP connection as their state. */
		st = dir_member_values(dc->state, NULL, argv[i + 1], "member", (size_t)n,
		    print_member, NULL, &e);
		if (st != DIR_OK)
			rc = fail(st, &e);
	} else if (strcmp(argv[i], "holders") == 0 && i + 2 == argc) {
		struct dir_holders h = { 0 };

		st = dir_address_holders(dc, argv[i + 1], &h, &e);
		if (st != DIR_OK)
			rc = fail(st, &e);
		for (size_t k = 0; st == DIR_OK && k < h.n; k++)
			printf("%s|%s\n", nz(h.v[k].dn), nz(h.v[k].id));
		dir_holders_free(&h);
	} else if (strcmp(argv[i], "read-certs") == 0 && i + 2 == argc) {
		struct dir_cert_values v = { 0 };

		st = dir_read_certs(dc, argv[i + 1], &v, &e);
		if (st != DIR_OK) {
			rc = fail(st, &e);
		} else {
			print_values("userCertificate", v.user_cert, v.n_user_cert);
			print_values("userSMIMECertificate", v.smime, v.n_smime);
		}
		dir_cert_values_free(&v);
	} else if (i + 3 == argc && (strcmp(argv[i], "add-cert") == 0 ||
	    strcmp(argv[i], "del-cert") == 0 || strcmp(argv[i], "add-smime") == 0 ||
	    strcmp(argv[i], "del-smime") == 0)) {
		struct dir_cert_change c;
		struct dir_value val = { NULL, 0 };
		char *data = NULL;
		size_t len = 0;

		memset(&c, 0, sizeof(c));
		if (file_read_all(argv[i + 2], 1 << 20, &data, &len, &e) != 0) {
			fprintf(stderr, "dir-probe: %s\n", e.text);
			dir_close(dc);
			return 1;
		}
		val.data = (unsigned char *)data;
		val.len = len;
		if (strcmp(argv[i], "add-cert") == 0) {
			c.add_user_cert = &val;
			c.n_add_user_cert = 1;
		} else if (strcmp(argv[i], "del-cert") == 0) {
			c.del_user_cert = &val;
			c.n_del_user_cert = 1;
		} else if (strcmp(argv[i], "add-smime") == 0) {
			c.add_smime = &val;
			c.n_add_smime = 1;
		} else {
			c.del_smime = &val;
			c.n_del_smime = 1;
		}
		st = dir_apply_certs(dc, argv[i + 1], &c, &e);
		if (st != DIR_OK)
			rc = fail(st, &e);
		free(data);
	} else {
		dir_close(dc);
		usage();
	}
	dir_close(dc);
	conf_directory_clear(&conf);
	return rc;
}
