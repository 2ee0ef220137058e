/* SPDX-License-Identifier: ISC */
/*
 * config_load(): file -> conf_doc (parser.c) -> struct config, one table
 * row at a time (value.c), then defaults, derived defaults and the checks
 * that involve more than one key or section. Every error is collected;
 * only a configuration without any error is handed out.
 *
 * The section arrays are allocated once, at their final size, before any
 * group is resolved: conf_group.directory and .ca point into them.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/dn.h"
#include "common/fileutil.h"
#include "common/mailaddr.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "conf/conf_internal.h"

/* A configuration file is a few kilobytes; anything this big is a mistake. */
#define CONF_MAX_SIZE (1024 * 1024)

struct loader {
	struct config *cfg;
	struct conf_errlist *el;
	const char *basedir; /* absolute directory of the config file */
	const char *cwd;     /* for paths from the environment */
};

/* One section being loaded: which keys were set where, and which were bad. */
struct sec_load {
	enum conf_kind kind;
	void *base;
	char *label; /* "[group sales]" */
	int header_line;
	int *lines;  /* per table row; 0 = not in the file */
	bool *bad;   /* per table row: the value was rejected */
};

static char *
absolute_dir_of(const char *path, const char *cwd)
{
	char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	char *abs = NULL;

	if (slash == dir)
		dir[1] = '\0';
	else if (slash != NULL)
		*slash = '\0';
	else
		dir[0] = '\0';
	if (dir[0] == '/')
		return dir;
	if (cwd == NULL)
		abs = xstrdup(dir[0] == '\0' ? "." : dir);
	else if (dir[0] == '\0')
		abs = xstrdup(cwd);
	else
		abs = xasprintf("%s/%s", cwd, dir);
	free(dir);
	return abs;
}

static int
row_of(enum conf_kind kind, const char *key)
{
	int i = conf_option_find(kind, key);

	/* Keys named by the checks below are in the table: a miss is a bug. */
	if (i < 0)
		abort();
	return i;
}

static int
line_of(const struct sec_load *s, const char *key)
{
	int line = s->lines[row_of(s->kind, key)];

	return line > 0 ? line : s->header_line;
}

static bool
is_set_ok(const struct sec_load *s, const char *key)
{
	int i = row_of(s->kind, key);

	return !s->bad[i] && *CONF_FIELD(s->base, &conf_options[i], char *) != NULL;
}

static bool
is_bad(const struct sec_load *s, const char *key)
{
	return s->bad[row_of(s->kind, key)];
}

static void
apply_entries(struct loader *ld, struct sec_load *s, const struct conf_section *sec)
{
	struct errbuf why;

	for (size_t j = 0; sec != NULL && j < sec->n_entries; j++) {
		const struct conf_entry *en = &sec->entries[j];
		int i = conf_option_find(s->kind, en->key);

		if (i < 0) {
			const char *near = conf_option_suggest(s->kind, en->key);

			if (near != NULL)
				conf_err_add(ld->el, en->line, "%s %s: unknown key; did you mean \"%s\"?",
				    s->label, en->key, near);
			else
				conf_err_add(ld->el, en->line, "%s %s: unknown key; see smimesync.conf(5) "
				    "for the keys of [%s]", s->label, en->key, conf_kind_name(s->kind));
			continue;
		}
		if (s->lines[i] != 0) {
			conf_err_add(ld->el, en->line, "%s %s: duplicate key (first set on line %d); "
			    "keep only one", s->label, en->key, s->lines[i]);
			continue;
		}
		s->lines[i] = en->line;
		err_clear(&why);
		if (conf_value_parse(&conf_options[i], en->value, ld->basedir, s->base, &why) != 0) {
			s->bad[i] = true;
			conf_err_add(ld->el, en->line, "%s %s: %s", s->label, en->key, why.text);
		}
	}
}

static void
apply_defaults(struct loader *ld, struct sec_load *s)
{
	struct errbuf why;

	for (size_t i = 0; i < conf_options_count; i++) {
		const struct conf_option *o = &conf_options[i];
		const char *env = o->env != NULL ? getenv(o->env) : NULL;
		const char *value = o->def;

		if (o->kind != s->kind || s->lines[i] != 0)
			continue;
		if (o->flags & OPTF_REQUIRED) {
			conf_err_add(ld->el, s->header_line, "%s: missing required key \"%s\": %s",
			    s->label, o->key, o->doc);
			s->bad[i] = true;
			continue;
		}
		if (env != NULL && *env != '\0')
			value = env;
		if (value == NULL)
			continue;
		err_clear(&why);
		if (conf_value_parse(o, value, ld->cwd, s->base, &why) != 0) {
			s->bad[i] = true;
			if (value == env)
				conf_err_add(ld->el, 0, "environment variable %s (default of %s %s): %s",
				    o->env, s->label, o->key, why.text);
			else
				conf_err_add(ld->el, 0, "built-in default of %s %s: %s", s->label,
				    o->key, why.text);
		}
	}
}

/*
 * Where a PKCS#11 key's PIN comes from: a file or a systemd credential,
 * at most one, and only with a URI to log in for. label is "[ca X]" or
 * "[service]"; the keys are named with prefix ("" or "master_key_").
 */
static void
check_pin_source(struct loader *ld, struct sec_load *s, const char *prefix, bool have_uri)
{
	char file_key[64], cred_key[64], uri_key[64];
	bool file, cred;

	snprintf(file_key, sizeof(file_key), "%spin_file", prefix);
	snprintf(cred_key, sizeof(cred_key), "%spin_credential", prefix);
	snprintf(uri_key, sizeof(uri_key), "%s%s", prefix, prefix[0] != '\0' ? "uri" : "key_uri");
	file = is_set_ok(s, file_key) || is_bad(s, file_key);
	cred = is_set_ok(s, cred_key) || is_bad(s, cred_key);
	if (file && cred)
		conf_err_add(ld->el, line_of(s, cred_key), "%s %s: the PIN comes from %s or from a "
		    "systemd credential, not both; remove one", s->label, cred_key, file_key);
	else if ((is_set_ok(s, file_key) || is_set_ok(s, cred_key)) && !have_uri &&
	    !is_bad(s, uri_key))
		conf_err_add(ld->el, line_of(s, file ? file_key : cred_key), "%s %s: a PIN is only "
		    "used to log in to the token of %s; set %s or remove this", s->label,
		    file ? file_key : cred_key, uri_key, uri_key);
}

static void
check_service(struct loader *ld, struct sec_load *s)
{
	struct conf_service *sv = s->base;
	char iv[32], jt[32];

	if (sv->master_key_file == NULL && sv->state_dir != NULL)
		sv->master_key_file = xasprintf("%s/master.key", sv->state_dir);
	check_pin_source(ld, s, "master_key_", sv->master_key_uri != NULL);
	/* Durations are integers: "given" is whether the file had the key. */
	bool jitter_given = s->lines[row_of(CONF_SERVICE, "jitter")] != 0;

	if (!jitter_given)
		sv->jitter = sv->interval / 10;
	else if (!is_bad(s, "jitter") && !is_bad(s, "interval") && sv->jitter >= sv->interval) {
		/* Runs would bunch up or overlap their own schedule. */
		format_duration(sv->jitter, jt, sizeof(jt));
		format_duration(sv->interval, iv, sizeof(iv));
		conf_err_add(ld->el, line_of(s, "jitter"), "%s jitter: %s is not shorter than "
		    "interval (%s); use less than interval, e.g. a tenth of it", s->label, jt, iv);
	}
}

/* Keys only Graph directories use, and the LDAP keys they must not have. */
static const char *const graph_keys[] = { "tenant_id", "client_id", "client_secret_file",
	"client_cert_file", "client_key_file" };
/* (Not the keys with defaults, such as starttls: check-config -v prints those for every directory.) */
static const char *const ldap_only_keys[] = { "uri", "base_dn", "bind_dn", "bind_password_file",
	"sasl_mech", "keytab_file", "principal", "file" };

static void
check_directory_graph(struct loader *ld, struct sec_load *s)
{
	struct conf_directory *d = s->base;
	bool secret, cert, key;

	if (!conf_dir_traits(d->type)->graph_app) {
		for (size_t i = 0; i < ARRAY_LEN(graph_keys); i++)
			if (is_set_ok(s, graph_keys[i]))
				conf_err_add(ld->el, line_of(s, graph_keys[i]), "%s %s: only a "
				    "Microsoft Graph directory uses it; set type = graph or remove it",
				    s->label, graph_keys[i]);
		return;
	}
	for (size_t i = 0; i < ARRAY_LEN(ldap_only_keys); i++)
		if (s->lines[row_of(CONF_DIRECTORY, ldap_only_keys[i])] != 0)
			conf_err_add(ld->el, line_of(s, ldap_only_keys[i]), "%s %s: a Microsoft "
			    "Graph directory has no %s; remove it (tenant_id, client_id and a "
			    "credential say where and who)", s->label, ldap_only_keys[i],
			    ldap_only_keys[i]);
	for (size_t i = 0; i < 2; i++)
		if (!is_set_ok(s, graph_keys[i]) && !is_bad(s, graph_keys[i]))
			conf_err_add(ld->el, s->header_line, "%s: missing required key \"%s\": %s",
			    s->label, graph_keys[i],
			    conf_options[row_of(CONF_DIRECTORY, graph_keys[i])].doc);
	secret = is_set_ok(s, "client_secret_file") || is_bad(s, "client_secret_file");
	cert = is_set_ok(s, "client_cert_file") || is_bad(s, "client_cert_file");
	key = is_set_ok(s, "client_key_file") || is_bad(s, "client_key_file");
	if (secret && (cert || key))
		conf_err_add(ld->el, line_of(s, "client_secret_file"), "%s client_secret_file: "
		    "give either a client secret or a certificate (client_cert_file and "
		    "client_key_file), not both", s->label);
	else if (cert != key)
		conf_err_add(ld->el, line_of(s, cert ? "client_cert_file" : "client_key_file"),
		    "%s %s: a certificate credential needs both client_cert_file and "
		    "client_key_file", s->label, cert ? "client_cert_file" : "client_key_file");
	else if (!secret && !cert)
		conf_err_add(ld->el, s->header_line, "%s: no credential for the app registration; "
		    "add client_secret_file = /path/to/secret (mode 0600), or client_cert_file "
		    "and client_key_file (recommended)", s->label);
}

static void
check_directory(struct loader *ld, struct sec_load *s)
{
	struct conf_directory *d = s->base;
	const struct conf_dir_traits *t = conf_dir_traits(d->type);

	if (is_set_ok(s, "bind_dn") && d->bind_password_file == NULL &&
	    !is_bad(s, "bind_password_file"))
		conf_err_add(ld->el, line_of(s, "bind_dn"), "%s bind_dn: a simple bind needs a "
		    "password; add bind_password_file = /path/to/file (mode 0600)", s->label);
	if (is_set_ok(s, "bind_password_file") && d->bind_dn == NULL && !is_bad(s, "bind_dn"))
		conf_err_add(ld->el, line_of(s, "bind_password_file"), "%s bind_password_file: "
		    "set without bind_dn; add the bind_dn the password belongs to, or remove it",
		    s->label);
	if (is_set_ok(s, "sasl_mech") && is_set_ok(s, "bind_dn"))
		conf_err_add(ld->el, line_of(s, "sasl_mech"), "%s sasl_mech: cannot be combined "
		    "with bind_dn (a simple bind); remove one of them", s->label);
	if (is_set_ok(s, "bind_dn") && !is_bad(s, "type") && !t->upn_bind &&
	    !dn_valid(d->bind_dn))
		conf_err_add(ld->el, line_of(s, "bind_dn"), "%s bind_dn: \"%s\" is a user "
		    "principal name, which only Active Directory accepts; give the service "
		    "account's DN, or set type = ad", s->label, d->bind_dn);
	if ((is_set_ok(s, "keytab_file") || is_set_ok(s, "principal")) && !is_bad(s, "sasl_mech") &&
	    (d->sasl_mech == NULL || strcmp(d->sasl_mech, "GSSAPI") != 0))
		conf_err_add(ld->el, line_of(s, is_set_ok(s, "keytab_file") ? "keytab_file" :
		    "principal"), "%s %s: only used by a Kerberos bind; add sasl_mech = GSSAPI "
		    "or remove it", s->label, is_set_ok(s, "keytab_file") ? "keytab_file" :
		    "principal");
	if (is_set_ok(s, "global_catalog") && d->global_catalog && !is_bad(s, "type") &&
	    !t->global_catalog)
		conf_err_add(ld->el, line_of(s, "global_catalog"), "%s global_catalog: only Active "
		    "Directory has a global catalog; set type = ad or remove it", s->label);
	/* Change streams (directory/watch.c): which types have one, and how AD's is read. */
	/* (Enums: is_set_ok() reads a string field; their defaults are never yes/dirsync.) */
	if (!is_bad(s, "incremental") && d->incremental == INCREMENTAL_YES && !is_bad(s, "type") &&
	    t->stream == NULL)
		conf_err_add(ld->el, line_of(s, "incremental"), "%s incremental: %s has no change "
		    "stream to follow; every run reads it whole: set incremental = no or remove it",
		    s->label, t->title);
	if (!is_bad(s, "ad_changes") && d->ad_changes == AD_CHANGES_DIRSYNC && !is_bad(s, "type")) {
		if (!t->dirsync)
			conf_err_add(ld->el, line_of(s, "ad_changes"), "%s ad_changes: only Active "
			    "Directory has DirSync; set type = ad or remove it", s->label);
		else if (d->global_catalog)
			conf_err_add(ld->el, line_of(s, "ad_changes"), "%s ad_changes: DirSync reads "
			    "one domain from a domain controller, not from a global catalog; use "
			    "ad_changes = usn, or point uri at a domain controller", s->label);
	}
	/* slapd's accesslog: only an OpenLDAP stream reads it. */
	if (is_set_ok(s, "accesslog_base") && !is_bad(s, "type") && !t->accesslog)
		conf_err_add(ld->el, line_of(s, "accesslog_base"), "%s accesslog_base: only an "
		    "OpenLDAP directory (type = ldap) has slapd's accesslog; remove it", s->label);
	/* What each type needs: a server and a base, a file, or a tenant and an app. */
	if (!is_bad(s, "type"))
		check_directory_graph(ld, s);
	if (!is_bad(s, "type") && !t->graph_app) {
		static const char *const ldap_keys[] = { "uri", "base_dn" };

		if (t->file && d->file == NULL && !is_bad(s, "file"))
			conf_err_add(ld->el, s->header_line, "%s: missing required key \"file\": "
			    "type = csv reads its people from a CSV file; add file = /path/to/people.csv",
			    s->label);
		for (size_t i = 0; t->ldap && i < ARRAY_LEN(ldap_keys); i++) {
			int row = conf_option_find(CONF_DIRECTORY, ldap_keys[i]);

			if (is_set_ok(s, ldap_keys[i]) || is_bad(s, ldap_keys[i]))
				continue;
			conf_err_add(ld->el, s->header_line, "%s: missing required key \"%s\": %s",
			    s->label, ldap_keys[i], conf_options[row].doc);
		}
		if (!t->file && is_set_ok(s, "file"))
			conf_err_add(ld->el, line_of(s, "file"), "%s file: only type = csv reads a "
			    "file; remove it or set type = csv", s->label);
	}
	/* The default depends on type (dir_types.c); the directory room trusts it. */
	if (d->user_filter == NULL && !is_bad(s, "user_filter") && t->default_user_filter != NULL)
		d->user_filter = xstrdup(t->default_user_filter);
}

/*
 * Which [ca] keys each type reads, and which it cannot do without. A key
 * set for a type that ignores it is an error: it is almost always a
 * section copied from another CA, and silently ignoring it would leave
 * the admin believing, say, that a chain or a profile is in force.
 */
#define CAT(t) (1u << (t))
#define CA_LOCAL CAT(CA_TYPE_LOCAL)
#define CA_CFSSL CAT(CA_TYPE_CFSSL)
#define CA_EJBCA CAT(CA_TYPE_EJBCA)
#define CA_SECTIGO CAT(CA_TYPE_SECTIGO)
#define CA_HELPER CAT(CA_TYPE_HELPER)
#define CA_REST (CA_CFSSL | CA_EJBCA | CA_SECTIGO)
#define CA_EXTERNAL (CA_REST | CA_HELPER)

static const struct {
	const char *key;
	unsigned used_by;
	unsigned required_by;
	const char *why; /* what the key is for, when a type needs it */
} ca_keys[] = {
	{"cert_file", CA_LOCAL, CA_LOCAL, "the issuing CA certificate"},
	{"key_file", CA_LOCAL, 0, NULL}, /* or key_uri: check_ca_key_source() */
	{"key_uri", CA_LOCAL, 0, NULL},
	{"pin_file", CA_LOCAL, 0, NULL},
	{"pin_credential", CA_LOCAL, 0, NULL},
	{"chain_file", CA_LOCAL | CA_EXTERNAL, CA_LOCAL | CA_CFSSL,
	    "the issuing CA up to the root (cfssl answers with the certificate alone)"},
	{"crl_url", CA_LOCAL, CA_LOCAL, "the CRL location put in every certificate"},
	{"aia_url", CA_LOCAL, 0, NULL},
	{"key_type", CA_LOCAL, 0, NULL},
	{"organization", CA_LOCAL, 0, NULL},
	{"root_common_name", CA_LOCAL, 0, NULL},
	{"issuing_common_name", CA_LOCAL, 0, NULL},
	{"country", CA_LOCAL, 0, NULL},
	{"root_validity", CA_LOCAL, 0, NULL},
	{"issuing_validity", CA_LOCAL, 0, NULL},
	{"crl_file", CA_LOCAL, 0, NULL},
	{"crl_validity", CA_LOCAL, 0, NULL},
	{"url", CA_REST, CA_REST, "where the CA's REST API answers"},
	{"trust_anchor_file", CA_EXTERNAL, CA_EXTERNAL,
	    "the roots an issued chain must lead to before anything is stored"},
	{"tls_ca_file", CA_REST, 0, NULL},
	{"tls_verify", CA_REST, 0, NULL},
	{"tls_cert_file", CA_REST, CA_EJBCA, "the client certificate EJBCA authenticates"},
	{"tls_key_file", CA_REST, CA_EJBCA, "the key of tls_cert_file"},
	{"timeout", CA_EXTERNAL, 0, NULL},
	/* local: the wait after the key's token could not be reached (key_uri). */
	{"retry_interval", CA_EXTERNAL | CA_LOCAL, 0, NULL},
	{"profile", CA_CFSSL, 0, NULL},
	{"auth_key_file", CA_CFSSL, 0, NULL},
	{"certificate_profile", CA_EJBCA, CA_EJBCA, "the EJBCA certificate profile"},
	{"end_entity_profile", CA_EJBCA, CA_EJBCA, "the EJBCA end entity profile"},
	{"certificate_authority", CA_EJBCA, CA_EJBCA, "the CA name inside EJBCA"},
	{"customer_uri", CA_SECTIGO, CA_SECTIGO, "the Certificate Manager customer URI"},
	{"login", CA_SECTIGO, CA_SECTIGO, "the API administrator login"},
	{"password_file", CA_SECTIGO, CA_SECTIGO, "the file with that administrator's password"},
	{"org_id", CA_SECTIGO, CA_SECTIGO, "the organization the certificates belong to"},
	{"cert_type", CA_SECTIGO, CA_SECTIGO, "the S/MIME certificate type id"},
	{"term", CA_SECTIGO, 0, NULL},
	{"command", CA_HELPER, CA_HELPER, "the CA helper program to run"},
	{"pass_environment", CA_HELPER, 0, NULL},
};

bool
conf_ca_key_used(enum ca_type type, const char *key)
{
	for (size_t i = 0; i < ARRAY_LEN(ca_keys); i++)
		if (strcmp(ca_keys[i].key, key) == 0)
			return (ca_keys[i].used_by & CAT(type)) != 0;
	return true; /* "type" itself, and any key every type reads */
}

static void
check_ca_keys(struct loader *ld, struct sec_load *s)
{
	struct conf_ca *ca = s->base;
	const char *type = ca_type_name(ca->type);
	unsigned me = CAT(ca->type);

	for (size_t i = 0; i < ARRAY_LEN(ca_keys); i++) {
		bool set = s->lines[row_of(CONF_CA, ca_keys[i].key)] != 0;

		if (set && (ca_keys[i].used_by & me) == 0)
			conf_err_add(ld->el, line_of(s, ca_keys[i].key), "%s %s: type = %s does "
			    "not use it; remove it, or set the type it belongs to", s->label,
			    ca_keys[i].key, type);
		else if (!set && (ca_keys[i].required_by & me) != 0)
			conf_err_add(ld->el, s->header_line, "%s: missing required key \"%s\": "
			    "type = %s needs %s", s->label, ca_keys[i].key, type, ca_keys[i].why);
	}
	/* cfssl's HMAC protects the request only: anything but loopback wants TLS. */
	if (is_set_ok(s, "url") && ca->type != CA_TYPE_CFSSL && strncmp(ca->url, "http://", 7) == 0)
		conf_err_add(ld->el, line_of(s, "url"), "%s url: type = %s sends credentials, so "
		    "it must use https://", s->label, type);
	if (is_set_ok(s, "tls_cert_file") != is_set_ok(s, "tls_key_file") &&
	    !is_bad(s, "tls_cert_file") && !is_bad(s, "tls_key_file"))
		conf_err_add(ld->el, line_of(s, is_set_ok(s, "tls_cert_file") ? "tls_cert_file" :
		    "tls_key_file"), "%s %s: a client certificate needs both tls_cert_file and "
		    "tls_key_file; add the other one", s->label,
		    is_set_ok(s, "tls_cert_file") ? "tls_cert_file" : "tls_key_file");
}

/* A local CA's issuing key is a file or a key on a token: exactly one. */
static void
check_ca_key_source(struct loader *ld, struct sec_load *s)
{
	struct conf_ca *ca = s->base;
	bool file = is_set_ok(s, "key_file") || is_bad(s, "key_file");
	bool uri = is_set_ok(s, "key_uri") || is_bad(s, "key_uri");

	if (ca->type != CA_TYPE_LOCAL)
		return;
	if (file && uri)
		conf_err_add(ld->el, line_of(s, "key_uri"), "%s key_uri: the issuing key is either "
		    "in key_file or on a token (key_uri), not both; remove one", s->label);
	else if (!file && !uri)
		conf_err_add(ld->el, s->header_line, "%s: missing required key \"key_file\": type = "
		    "local needs the issuing CA key (or key_uri for a key on a PKCS#11 token)",
		    s->label);
	check_pin_source(ld, s, "", uri);
}

static void
check_ca(struct loader *ld, struct sec_load *s)
{
	struct conf_ca *ca = s->base;

	if (!is_bad(s, "type")) {
		check_ca_keys(ld, s);
		check_ca_key_source(ld, s);
	}

	if (ca->organization != NULL && ca->root_common_name == NULL)
		ca->root_common_name = xasprintf("%s S/MIME Root CA", ca->organization);
	if (ca->organization != NULL && ca->issuing_common_name == NULL)
		ca->issuing_common_name = xasprintf("%s S/MIME Issuing CA", ca->organization);
	if (!is_bad(s, "root_validity") && !is_bad(s, "issuing_validity") &&
	    ca->issuing_validity > ca->root_validity) {
		char iv[32], rv[32];

		format_duration(ca->issuing_validity, iv, sizeof(iv));
		format_duration(ca->root_validity, rv, sizeof(rv));
		conf_err_add(ld->el, line_of(s, "issuing_validity"), "%s issuing_validity: %s is "
		    "longer than root_validity (%s); the issuing CA cannot outlive its root",
		    s->label, iv, rv);
	}
}

static void
check_mail(struct loader *ld, struct sec_load *s)
{
	struct conf_mail *m = s->base;
	static const char *const smtp_keys[] = { "smtp_host", "smtp_user", "smtp_password_file",
		"helo_name" };

	if (!is_bad(s, "transport") && m->transport == MAIL_TRANSPORT_GRAPH) {
		if (m->directory_name == NULL && !is_bad(s, "directory"))
			conf_err_add(ld->el, line_of(s, "transport"), "%s transport: graph sends "
			    "with the app of a Microsoft Graph directory; add directory = NAME of a "
			    "[directory] with type = graph", s->label);
		for (size_t i = 0; i < ARRAY_LEN(smtp_keys); i++)
			if (s->lines[row_of(CONF_MAIL, smtp_keys[i])] != 0)
				conf_err_add(ld->el, line_of(s, smtp_keys[i]), "%s %s: only "
				    "transport = smtp uses it; remove it", s->label, smtp_keys[i]);
		if (m->sender == NULL && m->from != NULL && !is_bad(s, "from")) {
			/* The address in from, split as conf_check_from() split it. */
			char *name = NULL;

			if (mailaddr_parse_mailbox(m->from, CONF_MAILADDR_FLAGS, &name,
			    &m->sender, NULL) == 0)
				free(name);
		}
		return;
	}
	if (!is_bad(s, "transport")) {
		if (m->smtp_host == NULL && !is_bad(s, "smtp_host"))
			conf_err_add(ld->el, s->header_line, "%s: missing required key "
			    "\"smtp_host\": the SMTP relay (or set transport = graph to send "
			    "through Microsoft Graph)", s->label);
		if (is_set_ok(s, "directory") || is_set_ok(s, "sender"))
			conf_err_add(ld->el, line_of(s, is_set_ok(s, "directory") ? "directory" :
			    "sender"), "%s %s: only transport = graph uses it; set transport = graph "
			    "or remove it", s->label, is_set_ok(s, "directory") ? "directory" :
			    "sender");
	}

	if (is_set_ok(s, "smtp_user") && m->smtp_password_file == NULL &&
	    !is_bad(s, "smtp_password_file"))
		conf_err_add(ld->el, line_of(s, "smtp_user"), "%s smtp_user: SMTP AUTH needs a "
		    "password; add smtp_password_file = /path/to/file (mode 0600)", s->label);
	if (is_set_ok(s, "smtp_password_file") && m->smtp_user == NULL && !is_bad(s, "smtp_user"))
		conf_err_add(ld->el, line_of(s, "smtp_password_file"), "%s smtp_password_file: "
		    "set without smtp_user; add the smtp_user it belongs to, or remove it", s->label);
	if (is_set_ok(s, "smtp_user") && !is_bad(s, "starttls") && m->starttls == TLS_MODE_OFF)
		conf_err_add(ld->el, line_of(s, "smtp_user"), "%s smtp_user: SMTP AUTH is only done "
		    "after STARTTLS; set starttls = required (the password would cross the "
		    "network in clear)", s->label);
}

/*
 * Organization-validated profiles need O and organizationIdentifier (S/MIME
 * BR 7.1.4.2.2); mailbox-validated ones must carry no organization
 * attribute at all, so setting one there is a mistake worth naming.
 */
static void
check_group_profile(struct loader *ld, struct sec_load *s)
{
	struct conf_group *g = s->base;
	static const char *const org_keys[] = {"organization", "organization_identifier", "country"};

	if (is_bad(s, "profile"))
		return;
	if (cert_profile_is_organization(g->profile)) {
		if (g->organization == NULL && !is_bad(s, "organization"))
			conf_err_add(ld->el, line_of(s, "profile"), "%s profile: %s certificates "
			    "carry the organization's name; add organization = (the legal name)",
			    s->label, cert_profile_name(g->profile));
		if (g->organization_identifier == NULL && !is_bad(s, "organization_identifier"))
			conf_err_add(ld->el, line_of(s, "profile"), "%s profile: %s certificates "
			    "need organization_identifier = (e.g. VATDE-123456789)", s->label,
			    cert_profile_name(g->profile));
		return;
	}
	for (size_t i = 0; i < sizeof(org_keys) / sizeof(org_keys[0]); i++)
		if (is_set_ok(s, org_keys[i]))
			conf_err_add(ld->el, line_of(s, org_keys[i]), "%s %s: only organization-* "
			    "profiles carry it (the %s profile allows no organization attributes); "
			    "set profile = organization-strict or remove %s", s->label, org_keys[i],
			    cert_profile_name(g->profile), org_keys[i]);
}

static void
check_group(struct loader *ld, struct sec_load *s)
{
	struct conf_group *g = s->base;
	char vb[32], rb[32];

	check_group_profile(ld, s);
	/* Parsed here once, so that no run parses the list again. */
	if (g->reminders != NULL && !is_bad(s, "reminders")) {
		int n = conf_parse_durations(g->reminders, g->reminder_thresholds,
		    CONF_MAX_REMINDERS);

		g->n_reminder_thresholds = n > 0 ? (size_t)n : 0;
	}
	/* A missing group_dn is judged in resolve_groups(): csv directories need none. */
	if (g->group_dn != NULL && g->group_name != NULL)
		conf_err_add(ld->el, line_of(s, "group"), "%s group: cannot be combined with "
		    "group_dn; keep one of them", s->label);
	/* group = NAME travels in group_dn; the directory room resolves it (AD only). */
	if (g->group_dn == NULL && g->group_name != NULL)
		g->group_dn = xstrdup(g->group_name);
	/* So do an Entra group's id or display name (type = graph). */
	if (g->graph_group_id != NULL && g->graph_group_name != NULL)
		conf_err_add(ld->el, line_of(s, "group_name"), "%s group_name: cannot be combined "
		    "with group_id; keep one of them (the id never changes)", s->label);
	if ((g->graph_group_id != NULL || g->graph_group_name != NULL) &&
	    (g->group_dn != NULL || is_bad(s, "group_dn") || is_bad(s, "group")))
		conf_err_add(ld->el, line_of(s, g->graph_group_id ? "group_id" : "group_name"),
		    "%s %s: group_dn and group name LDAP and AD groups; an Entra group is named "
		    "by group_id or group_name alone", s->label,
		    g->graph_group_id ? "group_id" : "group_name");
	else if (g->graph_group_id != NULL)
		g->group_dn = xstrdup(g->graph_group_id);
	else if (g->graph_group_name != NULL) {
		g->group_dn = xstrdup(g->graph_group_name);
		g->graph_by_name = true;
	}
	if (is_bad(s, "validity") || is_bad(s, "renew_before") || g->renew_before < g->validity)
		return;
	format_duration(g->validity, vb, sizeof(vb));
	format_duration(g->renew_before, rb, sizeof(rb));
	if (s->lines[row_of(CONF_GROUP, "renew_before")] != 0)
		conf_err_add(ld->el, line_of(s, "renew_before"), "%s renew_before: %s is not "
		    "shorter than validity (%s); certificates would be renewed as soon as they are "
		    "issued: lower renew_before", s->label, rb, vb);
	else
		conf_err_add(ld->el, line_of(s, "validity"), "%s validity: %s is not longer than "
		    "renew_before (%s, the default); raise validity or set a smaller renew_before",
		    s->label, vb, rb);
}

static void
load_section(struct loader *ld, struct conf_source_sec *src, enum conf_kind kind, void *base,
    const struct conf_section *sec)
{
	struct sec_load s = {0};

	s.kind = kind;
	s.base = base;
	s.header_line = sec != NULL ? sec->line : 0;
	s.label = conf_section_label(kind, sec != NULL ? sec->name : NULL);
	s.lines = xcalloc(conf_options_count, sizeof(*s.lines));
	s.bad = xcalloc(conf_options_count, sizeof(*s.bad));
	apply_entries(ld, &s, sec);
	apply_defaults(ld, &s);
	switch (kind) {
	case CONF_SERVICE:
		check_service(ld, &s);
		break;
	case CONF_DIRECTORY:
		check_directory(ld, &s);
		break;
	case CONF_CA:
		check_ca(ld, &s);
		break;
	case CONF_MAIL:
		check_mail(ld, &s);
		break;
	case CONF_GROUP:
		check_group(ld, &s);
		break;
	case CONF_KIND_COUNT:
		break;
	}
	src->base = base;
	src->kind = kind;
	src->header_line = s.header_line;
	src->lines = s.lines; /* stolen */
	free(s.bad);
	free(s.label);
}

static char *
names_of(const struct config *cfg, enum conf_kind kind)
{
	size_t n = kind == CONF_DIRECTORY ? cfg->n_directories : cfg->n_cas;
	char *acc = xstrdup("");

	for (size_t i = 0; i < n; i++) {
		const char *name = kind == CONF_DIRECTORY ? cfg->directories[i].name : cfg->cas[i].name;
		char *next = xasprintf("%s%s%s", acc, i > 0 ? ", " : "", name);

		free(acc);
		acc = next;
	}
	return acc;
}

static void
missing_ref(struct loader *ld, const struct conf_group *g, const char *key, enum conf_kind kind,
    const char *name)
{
	char *label = conf_section_label(CONF_GROUP, g->name);
	char *names = names_of(ld->cfg, kind);
	int line = conf_source_line(ld->cfg, g, key);

	if (*names == '\0')
		conf_err_add(ld->el, line, "%s %s: there is no [%s %s] section; add one",
		    label, key, conf_kind_name(kind), name);
	else
		conf_err_add(ld->el, line, "%s %s: there is no [%s %s] section; defined: %s",
		    label, key, conf_kind_name(kind), name, names);
	free(names);
	free(label);
}

/* Was key written in the section at all (even with a rejected value)? */
static bool
key_written(const struct config *cfg, const void *base, const char *key)
{
	/* An unknown key answers with the section's header line. */
	return conf_source_line(cfg, base, key) != conf_source_line(cfg, base, "\001");
}

/*
 * The Entra keys of a group, and where its certificates go: publish_to,
 * else its own directory when that is LDAP or AD; never into Graph, which
 * has no writable S/MIME certificate property.
 */
static void
resolve_graph_group(struct loader *ld, struct conf_group *g)
{
	struct config *cfg = ld->cfg;
	bool graph = g->directory != NULL &&
	    conf_dir_traits(g->directory->type)->groups == GROUPS_BY_ENTRA;
	/* The two booleans only when turned on: check-config -v prints "= no" everywhere. */
	const bool on[] = { true, true, g->include_guests, g->mail_from_upn };
	static const char *const graph_only[] = { "group_id", "group_name", "include_guests",
		"mail_from_upn" };

	for (size_t k = 0; g->directory != NULL && !graph && k < ARRAY_LEN(graph_only); k++)
		if (key_written(cfg, g, graph_only[k]) && on[k])
			conf_err_add(ld->el, conf_source_line(cfg, g, graph_only[k]), "[group %s] %s: "
			    "only groups of a Microsoft Graph directory (type = graph) use it; "
			    "remove it", g->name, graph_only[k]);
	if (graph && (key_written(cfg, g, "group_dn") || key_written(cfg, g, "group")))
		conf_err_add(ld->el, conf_source_line(cfg, g, key_written(cfg, g, "group_dn") ?
		    "group_dn" : "group"), "[group %s] %s: an Entra group is named by group_id "
		    "(its object id) or group_name (its display name)", g->name,
		    key_written(cfg, g, "group_dn") ? "group_dn" : "group");
	if (g->publish_to_name == NULL) {
		/* Graph, CSV and a global catalog publish only through publish_to. */
		if (g->directory != NULL && conf_directory_publishable(g->directory))
			g->publish = g->directory;
		return;
	}
	g->publish = (struct conf_directory *)config_find_directory(cfg, g->publish_to_name);
	if (g->publish == NULL) {
		missing_ref(ld, g, "publish_to", CONF_DIRECTORY, g->publish_to_name);
	} else if (!conf_directory_publishable(g->publish)) {
		conf_err_add(ld->el, conf_source_line(cfg, g, "publish_to"), "[group %s] "
		    "publish_to: [directory %s] is %s, %s", g->name, g->publish->name,
		    conf_directory_title(g->publish), conf_directory_not_a_target(g->publish));
		g->publish = NULL;
	}
}

/* [mail] directory = must be a Graph directory (transport = graph). */
static void
resolve_mail(struct loader *ld)
{
	struct config *cfg = ld->cfg;
	struct conf_mail *m = &cfg->mail;
	int line;

	if (!cfg->has_mail || m->transport != MAIL_TRANSPORT_GRAPH || m->directory_name == NULL)
		return;
	line = conf_source_line(cfg, m, "directory");
	m->graph_directory = (struct conf_directory *)config_find_directory(cfg,
	    m->directory_name);
	if (m->graph_directory == NULL) {
		char *names = names_of(cfg, CONF_DIRECTORY);

		conf_err_add(ld->el, line, "[mail] directory: there is no [directory %s] section%s%s",
		    m->directory_name, *names ? "; defined: " : "; add one with type = graph",
		    names);
		free(names);
	} else if (!conf_dir_traits(m->graph_directory->type)->graph_app) {
		conf_err_add(ld->el, line, "[mail] directory: [directory %s] is not a Microsoft "
		    "Graph directory; transport = graph sends with the app of a directory with "
		    "type = graph", m->directory_name);
		m->graph_directory = NULL;
	}
}

static void
resolve_groups(struct loader *ld)
{
	struct config *cfg = ld->cfg;

	for (size_t i = 0; i < cfg->n_groups; i++) {
		struct conf_group *g = &cfg->groups[i];

		bool named = key_written(cfg, g, "group_dn") || key_written(cfg, g, "group") ||
		    key_written(cfg, g, "group_id") || key_written(cfg, g, "group_name");

		if (g->directory_name != NULL) {
			g->directory = (struct conf_directory *)config_find_directory(cfg,
			    g->directory_name);
			if (g->directory != NULL &&
			    conf_dir_traits(g->directory->type)->groups == GROUPS_NONE &&
			    (key_written(cfg, g, "group_dn") || key_written(cfg, g, "group")))
				conf_err_add(ld->el, conf_source_line(cfg, g, g->group_dn ? "group_dn" :
				    "group"), "[group %s] %s: a csv directory has no groups: every row "
				    "of its file is a member; remove it", g->name,
				    key_written(cfg, g, "group_dn") ? "group_dn" : "group");
			if (g->directory == NULL)
				missing_ref(ld, g, "directory", CONF_DIRECTORY, g->directory_name);
			else if (g->group_name != NULL &&
			    !conf_dir_traits(g->directory->type)->group_by_account)
				conf_err_add(ld->el, conf_source_line(cfg, g, "group"), "[group %s] "
				    "group: a group can be named by sAMAccountName only in an Active "
				    "Directory (type = ad); give group_dn instead", g->name);
		}
		if (!named && g->directory != NULL &&
		    conf_dir_traits(g->directory->type)->groups == GROUPS_BY_ENTRA)
			conf_err_add(ld->el, g->origin.line, "[group %s]: which group? add group_id = "
			    "the Entra group's object id (or group_name = its display name)",
			    g->name);
		else if (!named && (g->directory == NULL ||
		    conf_dir_traits(g->directory->type)->groups != GROUPS_NONE))
			conf_err_add(ld->el, g->origin.line, "[group %s]: which group? add group_dn = "
			    "DN of the group (or, for an Active Directory, group = its "
			    "sAMAccountName)", g->name);
		resolve_graph_group(ld, g);
		/* The derived default: the language [mail] gives every group. */
		if (g->language == NULL && cfg->has_mail && cfg->mail.language != NULL)
			g->language = xstrdup(cfg->mail.language);
		if (g->ca_name != NULL) {
			g->ca = (struct conf_ca *)config_find_ca(cfg, g->ca_name);
			if (g->ca == NULL)
				missing_ref(ld, g, "ca", CONF_CA, g->ca_name);
		}
	}
	resolve_mail(ld);
	if (cfg->n_groups > 0 && !cfg->has_mail)
		conf_err_add(ld->el, cfg->groups[0].origin.line, "[group %s]: group members get "
		    "their certificates by mail, but there is no [mail] section; add [mail] with "
		    "smtp_host and from", cfg->groups[0].name);
}

/* Marks repeated sections as skipped and counts the rest. */
static void
count_sections(struct conf_doc *doc, struct conf_errlist *el, size_t count[CONF_KIND_COUNT])
{
	for (size_t i = 0; i < doc->n; i++) {
		struct conf_section *s = &doc->secs[i];

		if (s->skip)
			continue;
		for (size_t j = 0; j < i; j++) {
			const struct conf_section *t = &doc->secs[j];

			if (t->skip || t->kind != s->kind)
				continue;
			if (s->name == NULL) {
				conf_err_add(el, s->line, "duplicate section [%s] (first on line %d); "
				    "merge the two", conf_kind_name(s->kind), t->line);
				s->skip = true;
				break;
			}
			if (strcmp(s->name, t->name) == 0) {
				conf_err_add(el, s->line, "duplicate section [%s %s] (first on line "
				    "%d); rename or remove one", conf_kind_name(s->kind), s->name,
				    t->line);
				s->skip = true;
				break;
			}
		}
		if (!s->skip)
			count[s->kind]++;
	}
}

static void
build(struct loader *ld, struct conf_doc *doc)
{
	struct config *cfg = ld->cfg;
	size_t count[CONF_KIND_COUNT] = {0};
	struct conf_source *src = xcalloc(1, sizeof(*src));
	const struct conf_section *service = NULL;

	cfg->source = src;
	count_sections(doc, ld->el, count);
	cfg->directories = xcalloc(count[CONF_DIRECTORY], sizeof(*cfg->directories));
	cfg->cas = xcalloc(count[CONF_CA], sizeof(*cfg->cas));
	cfg->groups = xcalloc(count[CONF_GROUP], sizeof(*cfg->groups));
	/* +1: [service] gets a record even when absent from the file. */
	src->secs = xcalloc(doc->n + 1, sizeof(*src->secs));

	for (size_t i = 0; i < doc->n; i++)
		if (!doc->secs[i].skip && doc->secs[i].kind == CONF_SERVICE)
			service = &doc->secs[i];
	load_section(ld, &src->secs[src->n++], CONF_SERVICE, &cfg->service, service);

	for (size_t i = 0; i < doc->n; i++) {
		const struct conf_section *s = &doc->secs[i];
		struct conf_origin origin = {cfg->path, s->line};
		void *base = NULL;

		if (s->skip)
			continue;
		switch (s->kind) {
		case CONF_DIRECTORY: {
			struct conf_directory *d = &cfg->directories[cfg->n_directories++];

			d->name = xstrdup(s->name);
			d->origin = origin;
			base = d;
			break;
		}
		case CONF_CA: {
			struct conf_ca *ca = &cfg->cas[cfg->n_cas++];

			ca->name = xstrdup(s->name);
			ca->origin = origin;
			base = ca;
			break;
		}
		case CONF_GROUP: {
			struct conf_group *g = &cfg->groups[cfg->n_groups++];

			g->name = xstrdup(s->name);
			g->origin = origin;
			base = g;
			break;
		}
		case CONF_MAIL:
			cfg->has_mail = true;
			base = &cfg->mail;
			break;
		case CONF_SERVICE:
		case CONF_KIND_COUNT:
			break;
		}
		if (base != NULL)
			load_section(ld, &src->secs[src->n++], s->kind, base, s);
	}
	resolve_groups(ld);
}

int
config_load(const char *path, struct config **out, struct conf_errors *errs)
{
	struct conf_errlist el = {path, NULL, 0};
	struct conf_doc doc = {0};
	struct loader ld = {0};
	struct config *cfg = NULL;
	struct errbuf e;
	char *text = NULL;
	char *cwd = NULL;
	char *basedir = NULL;
	size_t len = 0;
	int rc = -1;

	*out = NULL;
	err_clear(&e);
	if (file_read_all(path, CONF_MAX_SIZE, &text, &len, &e) != 0) {
		/* Already "path: cannot open: reason". */
		errs->msgs = xreallocarray(errs->msgs, errs->n + 1, sizeof(*errs->msgs));
		errs->msgs[errs->n++] = xstrdup(e.text);
		goto out;
	}
	cwd = getcwd(NULL, 0); /* NULL (cwd removed): paths stay as written */
	basedir = absolute_dir_of(path, cwd);
	conf_parse(text, len, &doc, &el);

	cfg = xcalloc(1, sizeof(*cfg));
	cfg->path = xstrdup(path);
	el.path = cfg->path;
	ld.cfg = cfg;
	ld.el = &el;
	ld.basedir = basedir;
	ld.cwd = cwd;
	build(&ld, &doc);

	if (el.n > 0) {
		conf_errlist_finish(&el, errs);
		goto out;
	}
	*out = cfg;
	cfg = NULL;
	rc = 0;
out:
	config_free(cfg);
	conf_errlist_free(&el);
	conf_doc_free(&doc);
	free(text);
	free(basedir);
	free(cwd);
	return rc;
}
