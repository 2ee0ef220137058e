/* SPDX-License-Identifier: ISC */
/*
 * One LDAP connection: connect, TLS, bind (simple, SASL, Kerberos with a
 * keytab), and the check that base_dn exists, for both LDAP backends.
 *
 * TLS options are set on the handle, never globally, and take effect
 * through LDAP_OPT_X_TLS_NEWCTX, so two directories with different CAs can
 * live in one process. Referrals are never chased: a referral would send
 * our credentials to a server nobody configured.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

#include <ldap.h>
#include <sasl/sasl.h>

#include "common/log.h"
#include "common/xalloc.h"
#include "directory/ldap.h"


/* What the SASL interaction callback answers with. */
struct sasl_defaults {
	const char *authcid; /* borrowed */
	const char *passwd;  /* borrowed */
	const char *authzid; /* borrowed; "" for EXTERNAL: act as ourselves */
};

static int
sasl_interact(LDAP *ld, unsigned flags, void *defaults, void *interact)
{
	struct sasl_defaults *d = defaults;
	sasl_interact_t *in = interact;

	for (; in->id != SASL_CB_LIST_END; in++) {
		const char *v = NULL;

		switch (in->id) {
		case SASL_CB_USER:
			v = d->authzid;
			break;
		case SASL_CB_AUTHNAME:
			v = d->authcid;
			break;
		case SASL_CB_PASS:
			v = d->passwd;
			break;
		default:
			v = in->defresult;
			break;
		}
		if (v == NULL)
			v = in->defresult != NULL ? in->defresult : "";
		in->result = v;
		in->len = (unsigned)strlen(v);
	}
	return LDAP_SUCCESS;
}

/*
 * GSSAPI with keytab_file: MIT Kerberos (1.11 and later) gets initial
 * credentials from the client keytab named by KRB5_CLIENT_KTNAME by
 * itself when the ticket cache holds none. A private in-memory cache per
 * directory keeps our tickets out of the user's cache and theirs out of
 * our bind. Both are environment variables, read when the SASL plugin
 * creates its Kerberos context, so they are set right before each bind.
 */
static enum dir_status
setup_kerberos(struct dir_ldap *dl, struct errbuf *e)
{
	const struct conf_directory *conf = dl->conf;
	char *cc = NULL;
	int rc;

	if (conf->keytab_file == NULL)
		return DIR_OK;
	cc = xasprintf("MEMORY:smimesync-%s", conf->name != NULL ? conf->name : "directory");
	rc = setenv("KRB5_CLIENT_KTNAME", conf->keytab_file, 1);
	if (rc == 0)
		rc = setenv("KRB5CCNAME", cc, 1);
	free(cc);
	if (rc != 0) {
		err_set(e, "%s: cannot point Kerberos at keytab_file %s (setenv failed)", dl->uri,
		    conf->keytab_file);
		return DIR_FAILED;
	}
	return DIR_OK;
}

/* With principal set, the GSSAPI bind must have authenticated as exactly that. */
static enum dir_status
check_principal(struct dir_ldap *dl, struct errbuf *e)
{
	const struct conf_directory *conf = dl->conf;
	char *who = NULL;
	enum dir_status st = DIR_OK;

	if (conf->principal == NULL)
		return DIR_OK;
	if (ldap_get_option(dl->ld, LDAP_OPT_X_SASL_USERNAME, &who) != LDAP_OPT_SUCCESS ||
	    who == NULL) {
		err_set(e, "%s: the GSSAPI bind does not say which principal it used; cannot "
		    "check principal = %s", dl->uri, conf->principal);
		return DIR_AUTH_FAILED;
	}
	if (strcasecmp(who, conf->principal) != 0) {
		err_set(e, "%s: the GSSAPI bind authenticated as %s, not as principal = %s; "
		    "Kerberos takes the first principal of the keytab (klist -k %s): export a "
		    "keytab that holds only %s", dl->uri, who, conf->principal,
		    conf->keytab_file != NULL ? conf->keytab_file : "KEYTAB", conf->principal);
		st = DIR_AUTH_FAILED;
	}
	ldap_memfree(who);
	return st;
}

static enum dir_status
do_bind(struct dir_ldap *dl, const char *password, struct errbuf *e)
{
	const struct conf_directory *conf = dl->conf;
	int rc;

	if (conf->sasl_mech != NULL) {
		struct sasl_defaults d = { conf->bind_dn, password, NULL };

		bool gssapi = strcasecmp(conf->sasl_mech, "GSSAPI") == 0;

		if (strcasecmp(conf->sasl_mech, "EXTERNAL") == 0)
			d.authzid = "";
		if (gssapi) {
			enum dir_status kst = setup_kerberos(dl, e);

			if (kst != DIR_OK)
				return kst;
		}
		rc = ldap_sasl_interactive_bind_s(dl->ld, NULL, conf->sasl_mech, NULL, NULL,
		    LDAP_SASL_QUIET, sasl_interact, &d);
		if (rc != LDAP_SUCCESS) {
			char *op = xasprintf("SASL %s bind", conf->sasl_mech);
			const char *hint = NULL;
			enum dir_status st;

			if (gssapi && rc != LDAP_SERVER_DOWN && rc != LDAP_CONNECT_ERROR &&
			    rc != LDAP_STRONG_AUTH_REQUIRED)
				hint = "check keytab_file and principal (klist -k KEYTAB), that "
				       "the host name in uri is the DC's (its ldap/HOST service "
				       "principal must exist), the realm and KDC in krb5.conf "
				       "(KRB5_CONFIG), and that the clocks agree within 5 minutes";
			st = dir_ldap_fail(dl, rc, op, conf->bind_dn, hint, e);
			free(op);
			/* A SASL failure is never a network outage once connected. */
			if (st == DIR_FAILED || st == DIR_BAD_CONFIG)
				st = DIR_AUTH_FAILED;
			return st;
		}
		return gssapi ? check_principal(dl, e) : DIR_OK;
	}
	if (conf->bind_dn != NULL) {
		struct berval cred;

		if (password == NULL || password[0] == '\0') {
			/* RFC 4513 5.1.2: a DN with an empty password is an
			 * unauthenticated bind that "succeeds" as anonymous. */
			err_set(e, "%s: bind as %s: no password given; put the service "
			    "account's password in bind_password_file", dl->uri, conf->bind_dn);
			return DIR_BAD_CONFIG;
		}
		cred.bv_val = (char *)password;
		cred.bv_len = strlen(password);
		rc = ldap_sasl_bind_s(dl->ld, conf->bind_dn, LDAP_SASL_SIMPLE, &cred, NULL,
		    NULL, NULL);
		if (rc != LDAP_SUCCESS) {
			enum dir_status st = dir_ldap_fail(dl, rc, "bind as", conf->bind_dn, NULL, e);

			if (st == DIR_BAD_CONFIG || st == DIR_FAILED)
				st = DIR_AUTH_FAILED;
			return st;
		}
		return DIR_OK;
	}
	log_debug("%s: no bind_dn and no sasl_mech: reading anonymously", dl->uri);
	return DIR_OK;
}

static int
set_opt(struct dir_ldap *dl, int opt, const void *value, const char *name,
    struct errbuf *e)
{
	int rc = ldap_set_option(dl->ld, opt, value);

	if (rc != LDAP_OPT_SUCCESS) {
		char *diag = dir_ldap_diag(dl->ld);

		err_set(e, "%s: cannot set LDAP option %s%s%s%s", dl->uri, name,
		    diag != NULL ? " (" : "", diag != NULL ? diag : "", diag != NULL ? ")" : "");
		free(diag);
		return -1;
	}
	return 0;
}

static enum dir_status
setup_tls(struct dir_ldap *dl, struct errbuf *e)
{
	const struct conf_directory *conf = dl->conf;
	int reqcert = conf->tls_verify ? LDAP_OPT_X_TLS_DEMAND : LDAP_OPT_X_TLS_ALLOW;
	int minproto = LDAP_OPT_X_TLS_PROTOCOL_TLS1_2;
	int newctx = 0;
	int rc;

	if (conf->tls_ca_file != NULL &&
	    set_opt(dl, LDAP_OPT_X_TLS_CACERTFILE, conf->tls_ca_file, "tls_ca_file", e) != 0)
		return DIR_BAD_CONFIG;
	if (!conf->tls_verify)
		log_warn("[directory %s] %s: tls_verify = no: the server certificate is NOT "
		    "checked; anyone on the network path can read and change directory "
		    "traffic, including the bind password", conf->name != NULL ? conf->name : "",
		    dl->uri);
	if (set_opt(dl, LDAP_OPT_X_TLS_REQUIRE_CERT, &reqcert, "TLS_REQCERT", e) != 0 ||
	    set_opt(dl, LDAP_OPT_X_TLS_PROTOCOL_MIN, &minproto, "TLS_PROTOCOL_MIN", e) != 0)
		return DIR_FAILED;
	rc = ldap_set_option(dl->ld, LDAP_OPT_X_TLS_NEWCTX, &newctx);
	if (rc != LDAP_OPT_SUCCESS) {
		char *diag = dir_ldap_diag(dl->ld);

		err_set(e, "%s: cannot set up TLS with tls_ca_file %s%s%s%s; check that the "
		    "file exists, is readable and holds PEM certificates", dl->uri,
		    conf->tls_ca_file != NULL ? conf->tls_ca_file : "(system default)",
		    diag != NULL ? " (" : "", diag != NULL ? diag : "", diag != NULL ? ")" : "");
		free(diag);
		return DIR_BAD_CONFIG;
	}
	return DIR_OK;
}

/* Check that base_dn exists: everything else is searched under it. */
static enum dir_status
check_base(struct dir_ldap *dl, struct errbuf *e)
{
	char *attrs[] = { LDAP_NO_ATTRS, NULL };
	LDAPMessage *res = NULL, *entry = NULL;
	enum dir_status st;

	st = dir_ldap_read(dl, dl->base_dn, NULL, attrs, &res, &entry, e);
	if (st != DIR_OK)
		return st;
	ldap_msgfree(res);
	if (entry == NULL) {
		err_set(e, "%s: base_dn %s does not exist or is not a valid DN (or the service "
		    "account %s may not read it); check base_dn in [directory %s]", dl->uri, dl->base_dn,
		    dl->conf->bind_dn != NULL ? dl->conf->bind_dn : "(anonymous)",
		    dl->conf->name != NULL ? dl->conf->name : "");
		return DIR_BAD_CONFIG;
	}
	return DIR_OK;
}

bool
dir_ldap_cleartext_bind(const struct conf_directory *conf, const char **what)
{
	/* The SASL mechanisms that put the password itself on the wire. */
	static const char *const cleartext_mechs[] = { "PLAIN", "LOGIN" };

	*what = NULL;
	if (conf->uri == NULL || strncasecmp(conf->uri, "ldap://", 7) != 0 ||
	    conf->starttls == TLS_MODE_REQUIRED)
		return false;
	if (conf->sasl_mech == NULL) {
		if (conf->bind_dn == NULL)
			return false; /* anonymous: no password at all */
		*what = "simple bind";
		return true;
	}
	for (size_t i = 0; i < ARRAY_LEN(cleartext_mechs); i++) {
		if (strcasecmp(conf->sasl_mech, cleartext_mechs[i]) == 0) {
			*what = strcasecmp(cleartext_mechs[i], "PLAIN") == 0 ? "SASL PLAIN bind" :
			    "SASL LOGIN bind";
			return true;
		}
	}
	return false;
}

enum dir_status
dir_ldap_connect(const struct conf_directory *conf, const char *bind_password,
    const struct dir_ldap_dialect *dialect, struct dir_ldap **out, struct errbuf *e)
{
	struct dir_ldap *dl = NULL;
	enum dir_status st = DIR_FAILED;
	int version = LDAP_VERSION3;
	int keepalive_idle = 60, keepalive_probes = 3, keepalive_interval = 20;
	struct timeval tv;
	bool is_ldap, is_ldaps, is_ldapi;
	const char *what = NULL;
	int rc;

	*out = NULL;
	if (conf->uri == NULL || conf->base_dn == NULL) {
		err_set(e, "[directory %s]: uri and base_dn are required",
		    conf->name != NULL ? conf->name : "");
		return DIR_BAD_CONFIG;
	}
	/* conf's load gives every directory its type's default filter. */
	if (conf->user_filter == NULL || conf->user_filter[0] == '\0') {
		err_set(e, "[directory %s]: user_filter is not set",
		    conf->name != NULL ? conf->name : "");
		return DIR_BAD_CONFIG;
	}
	is_ldap = strncasecmp(conf->uri, "ldap://", 7) == 0;
	is_ldaps = strncasecmp(conf->uri, "ldaps://", 8) == 0;
	is_ldapi = strncasecmp(conf->uri, "ldapi://", 8) == 0;
	if (!is_ldap && !is_ldaps && !is_ldapi) {
		err_set(e, "[directory %s]: uri %s: use ldap://, ldaps:// or ldapi://",
		    conf->name != NULL ? conf->name : "", conf->uri);
		return DIR_BAD_CONFIG;
	}

	dl = xcalloc(1, sizeof(*dl));
	dl->conf = conf;
	dl->dialect = dialect;
	dl->uri = xstrdup(conf->uri);
	dl->base_dn = xstrdup(conf->base_dn);
	/* Within the option table's bounds: config_load() checked them. */
	dl->timeout = (int)conf->timeout;
	dl->page_size = (int)conf->page_size;
	if (conf->user_filter[0] == '(')
		dl->user_filter = xstrdup(conf->user_filter);
	else
		dl->user_filter = xasprintf("(%s)", conf->user_filter);

	rc = ldap_initialize(&dl->ld, conf->uri);
	if (rc != LDAP_SUCCESS) {
		err_set(e, "[directory %s]: uri %s is not a usable LDAP URI: %s",
		    conf->name != NULL ? conf->name : "", conf->uri, ldap_err2string(rc));
		st = DIR_BAD_CONFIG;
		goto out;
	}
	tv.tv_sec = dl->timeout;
	tv.tv_usec = 0;
	/*
	 * TCP keepalive: a server or network that died without a word ends a
	 * long wait (a change stream's persistent search) within about two
	 * minutes instead of never. Set before the first operation connects.
	 */
	if (set_opt(dl, LDAP_OPT_X_KEEPALIVE_IDLE, &keepalive_idle, "KEEPALIVE_IDLE", e) != 0 ||
	    set_opt(dl, LDAP_OPT_X_KEEPALIVE_PROBES, &keepalive_probes, "KEEPALIVE_PROBES",
	    e) != 0 ||
	    set_opt(dl, LDAP_OPT_X_KEEPALIVE_INTERVAL, &keepalive_interval, "KEEPALIVE_INTERVAL",
	    e) != 0) {
		st = DIR_FAILED;
		goto out;
	}
	if (set_opt(dl, LDAP_OPT_PROTOCOL_VERSION, &version, "PROTOCOL_VERSION", e) != 0 ||
	    set_opt(dl, LDAP_OPT_NETWORK_TIMEOUT, &tv, "NETWORK_TIMEOUT", e) != 0 ||
	    set_opt(dl, LDAP_OPT_TIMEOUT, &tv, "TIMEOUT", e) != 0 ||
	    set_opt(dl, LDAP_OPT_REFERRALS, LDAP_OPT_OFF, "REFERRALS", e) != 0 ||
	    /* Kerberos: ldap/<host in uri>, never a name from (spoofable) reverse DNS. */
	    set_opt(dl, LDAP_OPT_X_SASL_NOCANON, LDAP_OPT_ON, "SASL_NOCANON", e) != 0) {
		st = DIR_FAILED;
		goto out;
	}
	if (is_ldaps || (is_ldap && conf->starttls == TLS_MODE_REQUIRED)) {
		dl->tls = true;
		st = setup_tls(dl, e);
		if (st != DIR_OK)
			goto out;
	}
	if (is_ldap && conf->starttls == TLS_MODE_REQUIRED) {
		rc = ldap_start_tls_s(dl->ld, NULL, NULL);
		if (rc != LDAP_SUCCESS) {
			(void)dir_ldap_fail(dl, rc, "StartTLS", "", "check that the server "
			    "offers StartTLS, that tls_ca_file holds the CA that signed the server "
			    "certificate and that the certificate names the host in uri", e);
			st = DIR_UNREACHABLE;
			goto out;
		}
	} else if (dir_ldap_cleartext_bind(conf, &what)) {
		char *whose = conf->bind_dn != NULL ? xasprintf("the password of %s",
		    conf->bind_dn) : xstrdup("its password");

		log_warn("[directory %s] %s: starttls = off: the %s sends %s in clear text, "
		    "readable by anyone on the network path; set starttls = required or use "
		    "ldaps://", conf->name != NULL ? conf->name : "", dl->uri, what, whose);
		free(whose);
	}
	st = do_bind(dl, bind_password, e);
	if (st != DIR_OK)
		goto out;
	st = check_base(dl, e);
	if (st != DIR_OK)
		goto out;
	*out = dl;
	dl = NULL;
out:
	dir_ldap_close(dl);
	return st;
}

void
dir_ldap_close(void *state)
{
	struct dir_ldap *dl = state;

	if (dl == NULL)
		return;
	if (dl->ld != NULL)
		ldap_unbind_ext_s(dl->ld, NULL, NULL);
	free(dl->uri);
	free(dl->base_dn);
	free(dl->user_filter);
	free(dl);
}

