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
 *             [--mail-attribute A] [--alt-mail-attribute A] [--type ldap|ad|graph]
 *             [--poll-interval S] [--ad-changes usn|dirsync]
 *             [--tenant T --client-id ID --secret-file F --graph-url URL] (graph)
 *             [--debug]  COMMAND ARGS
 *
 *   members GROUP_DN        one line per person: id|dn|mail|display_name|problem
 *   members-full GROUP      id|dn|mail|alt,mails|upn|given|sn|enabled|problem
 *                           (GROUP: a DN, or a sAMAccountName with --type ad,
 *                           or an object id with --type graph; read as
 *                           dir_read_group() reads a [group] of defaults)
 *   person REF GROUP...     the person at REF (a DN; a user id with --type
 *                           graph) looked up alone: their members-full line
 *                           and "in GROUP yes|no" per group, or "not found"
 *   member-values DN STEP   every member value of the group, one per line,
 *                           read in ranges of STEP values (0: as the server sends)
 *   read-certs DN           "userCertificate SHA256" / "userSMIMECertificate SHA256"
 *   holders ADDR            every entry that holds the address: DN|id
 *   add-cert DN FILE.der    add a DER value to userCertificate;binary
 *   del-cert DN FILE.der    delete it
 *   add-smime DN FILE.der   add a DER PKCS#7 value to userSMIMECertificate
 *   del-smime DN FILE.der   delete it
 *   watch [--state FILE] [--group NAME=REF]... [--polls N] [--timeout S]
 *         [--commit N] [--no-persist] [--quiet-stop] [--keep-going]
 *                           follow the change stream (directory.h): N polls
 *                           (default 1) of at most S seconds (default 0), one
 *                           line per change:
 *                             person ID|DN|MAIL|enabled|PROBLEM
 *                             gone ID|DN
 *                             groups NAME,NAME|DN
 *                             full REASON|WHY
 *                           then "commit POSITION" when the batch's state is
 *                           written to FILE (read at start; the first N
 *                           batches with changes only, with --commit: the
 *                           process "crashes" after that). --quiet-stop
 *                           ends after the first poll that brings nothing
 *                           once something came; --keep-going prints
 *                           "error STATUS|MESSAGE" for a failed poll and
 *                           polls on. Exit 3: no stream
 *                           (DIR_UNSUPPORTED), the reason on stderr.
 *
 * The configuration is built by hand, not parsed: it starts from what
 * config_load() fills in for "type = ..." (conf_directory_defaults: the
 * option table's defaults and the type's user_filter). Exit status: 0 ok, 1 usage, 2 directory error (stderr
 * says "dir-probe: STATUS: message" with STATUS from dir_status_name()).
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
	    "[--type ldap|ad|graph] [--accesslog-base DN] [--poll-interval S] [--ad-changes usn|dirsync] "
	    "[--tenant T --client-id ID --secret-file F --graph-url URL] [--debug] "
	    "members GROUP_DN | members-full GROUP | person REF GROUP... | member-values DN STEP | read-certs DN | holders ADDR | add-cert|del-cert|add-smime|del-smime DN FILE | "
	    "watch [--state F] [--group NAME=REF]... [--polls N] [--timeout S] [--commit N] [--no-persist] [--quiet-stop] [--keep-going]\n");
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

static void
print_change(const struct dir_change *c)
{
	switch (c->kind) {
	case DIR_CHANGE_PERSON:
		printf("person %s|%s|%s|%s|%s\n", nz(c->user.id), nz(c->user.dn), nz(c->user.mail),
		    c->user.enabled ? "enabled" : "disabled", nz(c->user.problem));
		break;
	case DIR_CHANGE_GONE:
		printf("gone %s|%s\n", nz(c->id), nz(c->dn));
		break;
	case DIR_CHANGE_GROUPS:
		printf("groups ");
		for (size_t i = 0; i < c->n_groups; i++)
			printf("%s%s", i > 0 ? "," : "", c->groups[i]->name);
		printf("|%s\n", nz(c->dn));
		break;
	case DIR_CHANGE_FULL_READ:
		printf("full %s|%s\n", dir_full_reason_name(c->reason), nz(c->why));
		break;
	}
}

/*
 * The watch command: follow the stream as the daemon would, committing
 * each batch's state to a file.
 */
/* A [group] whose group_dn (or id, or sAMAccountName) is ref, every policy at its default. */
static void
probe_group(struct conf_group *g, const char *ref)
{
	memset(g, 0, sizeof(*g));
	g->name = (char *)ref;
	g->group_dn = (char *)ref;
	g->enabled = true;
}

/* One person as members-full prints them. */
static void
print_full(const struct user *u)
{
	printf("%s|%s|%s|", nz(u->id), nz(u->dn), nz(u->mail));
	for (size_t m = 0; m < u->n_alt_mails; m++)
		printf("%s%s", m > 0 ? "," : "", u->alt_mails[m]);
	printf("|%s|%s|%s|%s|%s\n", nz(u->upn), nz(u->given_name), nz(u->surname),
	    u->enabled ? "enabled" : "disabled", nz(u->problem));
}

/* person REF GROUP...: the person line, then "in GROUP yes|no" per group; or "not found". */
static int
person(struct dir_conn *dc, const char *ref, int argc, char **argv)
{
	struct conf_group *groups = xcalloc((size_t)argc + 1, sizeof(*groups));
	const struct conf_group **gp = xcalloc((size_t)argc + 1, sizeof(*gp));
	bool *in = xcalloc((size_t)argc + 1, sizeof(*in));
	bool found = false;
	struct user u;
	struct errbuf e;
	enum dir_status st;
	int rc = 0;

	err_clear(&e);
	for (int k = 0; k < argc; k++) {
		probe_group(&groups[k], argv[k]);
		gp[k] = &groups[k];
	}
	st = dir_read_person(dc, ref, gp, (size_t)argc, &u, in, &found, &e);
	if (st != DIR_OK) {
		rc = fail(st, &e);
	} else if (!found) {
		printf("not found\n");
	} else {
		print_full(&u);
		for (int k = 0; k < argc; k++)
			printf("in %s %s\n", argv[k], in[k] ? "yes" : "no");
		user_free_fields(&u);
	}
	free(in);
	free(gp);
	free(groups);
	return rc;
}

static int
watch(const struct conf_directory *conf, const char *password, int argc, char **argv)
{
	struct conf_group *groups = NULL;
	const struct conf_group **gp = NULL;
	size_t n_groups = 0;
	const char *state_file = NULL;
	char *state = NULL;
	int64_t polls = 1, timeout = 0, commits = -1;
	unsigned flags = 0;
	bool quiet_stop = false, seen = false, keep_going = false;
	struct dir_watch *w = NULL;
	struct errbuf e;
	enum dir_status st;
	int rc = 0;

	/*
	 * As the daemon does (cli/daemon.c): closing a connection the server
	 * dropped writes to it once more, and SIGPIPE would end the watcher
	 * silently in the middle of the restart test.
	 */
	signal(SIGPIPE, SIG_IGN);

	err_clear(&e);
	groups = xcalloc((size_t)argc + 1, sizeof(*groups));
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--no-persist") == 0) {
			flags |= DIR_WATCH_NO_PERSIST;
			continue;
		}
		if (strcmp(a, "--quiet-stop") == 0) {
			quiet_stop = true;
			continue;
		}
		if (strcmp(a, "--keep-going") == 0) {
			keep_going = true;
			continue;
		}
		if (v == NULL)
			usage();
		i++;
		if (strcmp(a, "--state") == 0) {
			state_file = v;
		} else if (strcmp(a, "--group") == 0 && strchr(v, '=') != NULL) {
			struct conf_group *g = &groups[n_groups++];

			g->name = xstrndup(v, (size_t)(strchr(v, '=') - v));
			g->group_dn = xstrdup(strchr(v, '=') + 1);
			g->enabled = true;
		} else if (strcmp(a, "--polls") == 0 && parse_int64(v, 1, 1000000, &polls) == 0) {
		} else if (strcmp(a, "--timeout") == 0 && parse_int64(v, 0, 3600, &timeout) == 0) {
		} else if (strcmp(a, "--commit") == 0 && parse_int64(v, 0, 1000000, &commits) == 0) {
		} else {
			usage();
		}
	}
	gp = xcalloc(n_groups + 1, sizeof(*gp));
	for (size_t i = 0; i < n_groups; i++)
		gp[i] = &groups[i];
	if (state_file != NULL && file_exists(state_file)) {
		size_t len = 0;

		if (file_read_all(state_file, 1 << 20, &state, &len, &e) != 0) {
			fprintf(stderr, "dir-probe: %s\n", e.text);
			rc = 1;
			goto out;
		}
	}
	st = dir_watch_open(conf, password, gp, n_groups, state, flags, &w, &e);
	if (st != DIR_OK) {
		rc = fail(st, &e);
		if (st == DIR_UNSUPPORTED)
			rc = 3;
		goto out;
	}
	for (int64_t p = 0; p < polls; p++) {
		struct dir_changes ch = { 0 };

		st = dir_watch_poll(w, (int)timeout, &ch, &e);
		if (st != DIR_OK && keep_going) {
			/* As the daemon would: say it, and ask again (the watch reconnects). */
			printf("error %s|%s\n", dir_status_name(st), e.text);
			fflush(stdout);
			sleep(1);
			continue;
		}
		if (st != DIR_OK) {
			rc = fail(st, &e);
			goto out;
		}
		for (size_t i = 0; i < ch.n; i++)
			print_change(&ch.v[i]);
		if (ch.n > 0 && commits == 0) {
			/* The "crash": what this batch said is never committed. */
			fflush(stdout);
			dir_changes_clear(&ch);
			goto out;
		}
		if (state_file != NULL && (state == NULL || strcmp(state, ch.state) != 0 || ch.n > 0)) {
			if (file_write_atomic(state_file, ch.state, strlen(ch.state), 0600, &e) != 0) {
				fprintf(stderr, "dir-probe: %s\n", e.text);
				dir_changes_clear(&ch);
				rc = 1;
				goto out;
			}
			free(state);
			state = xstrdup(ch.state);
			printf("commit %s\n", nz(ch.info.position));
		}
		if (ch.n > 0 && commits > 0)
			commits--;
		fflush(stdout);
		if (quiet_stop && seen && ch.n == 0) {
			dir_changes_clear(&ch);
			break;
		}
		seen = seen || ch.n > 0;
		dir_changes_clear(&ch);
	}
out:
	dir_watch_close(w);
	for (size_t i = 0; i < n_groups; i++) {
		free(groups[i].name);
		free(groups[i].group_dn);
	}
	free(groups);
	free(gp);
	free(state);
	return rc;
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
		if (strcmp(argv[i + 1], "graph") == 0)
			return DIR_TYPE_GRAPH;
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
		else if (strcmp(opt, "--password-file") == 0) {
			/* As config_load() leaves it: a change stream reads it again to reconnect. */
			password_file = val;
			set_str(&conf.bind_password_file, val);
		}
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
		else if (strcmp(opt, "--accesslog-base") == 0)
			set_str(&conf.accesslog_base, val);
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
		} else if (strcmp(opt, "--poll-interval") == 0) {
			if (parse_int64(val, 1, 3600, &n) != 0)
				usage();
			conf.poll_interval = n;
		} else if (strcmp(opt, "--ad-changes") == 0) {
			if (strcmp(val, "usn") == 0)
				conf.ad_changes = AD_CHANGES_USN;
			else if (strcmp(val, "dirsync") == 0)
				conf.ad_changes = AD_CHANGES_DIRSYNC;
			else
				usage();
		} else if (strcmp(opt, "--tenant") == 0) {
			set_str(&conf.tenant_id, val);
		} else if (strcmp(opt, "--client-id") == 0) {
			set_str(&conf.client_id, val);
		} else if (strcmp(opt, "--secret-file") == 0) {
			set_str(&conf.client_secret_file, val);
		} else if (strcmp(opt, "--graph-url") == 0) {
			set_str(&conf.graph_host, val);
			set_str(&conf.authority_host, val);
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
	if (i >= argc || (conf.type != DIR_TYPE_GRAPH && (conf.uri == NULL || conf.base_dn == NULL)))
		usage();
	if (password_file != NULL && file_read_password(password_file, &password, &e) != 0) {
		fprintf(stderr, "dir-probe: %s\n", e.text);
		return 1;
	}

	st = dir_open(&conf, password, &dc, &e);
	if (st != DIR_OK) {
		secret_free_str(password);
		return fail(st, &e);
	}

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
		struct conf_group g;

		probe_group(&g, argv[i + 1]);
		st = dir_read_group(dc, &g, &l, &e);
		if (st != DIR_OK)
			rc = fail(st, &e);
		for (size_t k = 0; st == DIR_OK && k < l.n; k++)
			print_full(&l.v[k]);
		user_list_free(&l);
	} else if (strcmp(argv[i], "person") == 0 && i + 2 <= argc) {
		rc = person(dc, argv[i + 1], argc - i - 2, argv + i + 2);
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
	} else if (strcmp(argv[i], "watch") == 0) {
		dir_close(dc);
		dc = NULL;
		rc = watch(&conf, password, argc - i - 1, argv + i + 1);
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
	secret_free_str(password);
	conf_directory_clear(&conf);
	return rc;
}
