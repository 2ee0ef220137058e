/* SPDX-License-Identifier: ISC */
/*
 * One LDAP connection: connect, TLS, bind, the search helpers every other
 * file of this room uses, and the mapping from LDAP result codes to typed
 * errors with messages an administrator can act on.
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
#include "common/strutil.h"
#include "common/xalloc.h"
#include "directory/dir_internal.h"
#include "directory/directory.h"

#define DEFAULT_TIMEOUT 30
#define DEFAULT_PAGE_SIZE 500
#define DEFAULT_USER_FILTER "(objectClass=person)"
#define DEFAULT_AD_USER_FILTER "(&(objectCategory=person)(objectClass=user))"

char *
dir_ldap_diag(LDAP *ld)
{
	char *msg = NULL;
	char *out = NULL;

	if (ld == NULL)
		return NULL;
	if (ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &msg) != LDAP_OPT_SUCCESS ||
	    msg == NULL)
		return NULL;
	if (*msg != '\0')
		out = dir_printable(msg, strlen(msg), 512);
	ldap_memfree(msg);
	return out;
}

static const char *
default_hint(const struct dir_conn *dc, int rc, enum dir_status *st)
{
	switch (rc) {
	case LDAP_SERVER_DOWN:
	case LDAP_CONNECT_ERROR:
	case LDAP_TIMEOUT:
	case LDAP_UNAVAILABLE:
	case LDAP_BUSY:
		*st = DIR_UNREACHABLE;
		return "check that the server runs and is reachable at this URI; for a TLS "
		       "error check tls_ca_file and that the server certificate names this host";
	case LDAP_INVALID_CREDENTIALS:
		*st = DIR_AUTH_FAILED;
		if (dc->conf->sasl_mech != NULL)
			return "the server refused the SASL identity; check sasl_mech and the "
			       "server's authz-regexp mapping";
		return "check bind_dn and the password in bind_password_file";
	case LDAP_INAPPROPRIATE_AUTH:
		*st = DIR_AUTH_FAILED;
		return "the server does not allow this kind of bind for this DN; check bind_dn "
		       "and the password file, or use sasl_mech";
	case LDAP_STRONG_AUTH_REQUIRED:
	case LDAP_CONFIDENTIALITY_REQUIRED:
		*st = DIR_AUTH_FAILED;
		if (dc->conf->type == DIR_TYPE_AD)
			return "the domain controller refuses simple binds without TLS "
			       "(ldap server requires strong auth): use ldaps:// (port 636) or "
			       "ldap:// with starttls = required, or a GSSAPI bind (sasl_mech = "
			       "GSSAPI)";
		return "the server requires a protected connection: use ldaps:// or "
		       "starttls = required (StartTLS)";
	case LDAP_AUTH_UNKNOWN:
	case LDAP_AUTH_METHOD_NOT_SUPPORTED:
		*st = DIR_AUTH_FAILED;
		return "the SASL mechanism is not available on the client or the server; "
		       "check sasl_mech and that the Cyrus SASL module is installed";
	case LDAP_REFERRAL:
		*st = DIR_BAD_CONFIG;
		return "the server answered with a referral, which is never followed (it "
		       "would send our credentials elsewhere): set base_dn and group_dn inside "
		       "a naming context this server holds";
	case LDAP_NO_SUCH_OBJECT:
		*st = DIR_BAD_CONFIG;
		return "the entry does not exist (or the service account may not see it); "
		       "check base_dn and group_dn";
	case LDAP_INVALID_DN_SYNTAX:
		*st = DIR_BAD_CONFIG;
		return "this is not a valid DN; check base_dn, bind_dn and group_dn";
	case LDAP_FILTER_ERROR:
		*st = DIR_BAD_CONFIG;
		return "check user_filter (RFC 4515 syntax, in parentheses)";
	case LDAP_INSUFFICIENT_ACCESS:
		*st = DIR_FAILED;
		return "the service account lacks the access rights for this operation";
	case LDAP_SIZELIMIT_EXCEEDED:
	case LDAP_ADMINLIMIT_EXCEEDED:
		*st = DIR_FAILED;
		if (dc->conf->type == DIR_TYPE_AD)
			return "Active Directory limits the entries per page (MaxPageSize, "
			       "1000 by default) and per search: keep page_size at or below "
			       "MaxPageSize, or raise the LDAP policy limits (ntdsutil) for the "
			       "service account";
		return "the server limits how many entries we may read; lower page_size or "
		       "raise the size limit for the service account";
	case LDAP_TIMELIMIT_EXCEEDED:
		*st = DIR_FAILED;
		return "the server ran out of time; raise timeout or the server's time limit";
	default:
		*st = DIR_FAILED;
		return NULL;
	}
}

enum dir_status
dir_ldap_fail(struct dir_conn *dc, int rc, const char *op, const char *dn,
    const char *hint, struct errbuf *e)
{
	enum dir_status st = DIR_FAILED;
	const char *dhint = default_hint(dc, rc, &st);
	char *diag = dir_ldap_diag(dc->ld);
	char *tls_hint = NULL;

	if (hint == NULL && rc == LDAP_INVALID_CREDENTIALS)
		hint = dir_ad_bind_hint(diag);
	if (hint == NULL)
		hint = dhint;
	/*
	 * With GnuTLS underneath, libldap reports a failed handshake or an
	 * unverifiable certificate only as "(unknown error code)": say what it
	 * almost always means instead of passing that on.
	 */
	if (diag != NULL && strcmp(diag, "(unknown error code)") == 0 && dc->tls &&
	    (rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR)) {
		free(diag);
		diag = xstrdup("TLS handshake failed");
		tls_hint = xasprintf("the server certificate is usually not signed by a CA "
		    "in tls_ca_file (%s), does not name the host in uri, or has expired; "
		    "check with: openssl s_client -connect HOST:PORT%s -CAfile %s",
		    dc->conf->tls_ca_file != NULL ? dc->conf->tls_ca_file : "system default",
		    strncasecmp(dc->uri, "ldaps:", 6) == 0 ? "" : " -starttls ldap",
		    dc->conf->tls_ca_file != NULL ? dc->conf->tls_ca_file : "CAFILE");
		hint = tls_hint;
	}
	err_set(e, "%s: %s%s%s: %s%s%s%s%s%s", dc->uri, op, dn != NULL && dn[0] != '\0' ?
	    " " : "", dn != NULL ? dn : "", ldap_err2string(rc), diag != NULL ? " (" : "",
	    diag != NULL ? diag : "", diag != NULL ? ")" : "", hint != NULL ? "; " : "",
	    hint != NULL ? hint : "");
	free(diag);
	free(tls_hint);
	return st;
}

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
setup_kerberos(struct dir_conn *dc, struct errbuf *e)
{
	const struct conf_directory *conf = dc->conf;
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
		err_set(e, "%s: cannot point Kerberos at keytab_file %s (setenv failed)", dc->uri,
		    conf->keytab_file);
		return DIR_FAILED;
	}
	return DIR_OK;
}

/* With principal set, the GSSAPI bind must have authenticated as exactly that. */
static enum dir_status
check_principal(struct dir_conn *dc, struct errbuf *e)
{
	const struct conf_directory *conf = dc->conf;
	char *who = NULL;
	enum dir_status st = DIR_OK;

	if (conf->principal == NULL)
		return DIR_OK;
	if (ldap_get_option(dc->ld, LDAP_OPT_X_SASL_USERNAME, &who) != LDAP_OPT_SUCCESS ||
	    who == NULL) {
		err_set(e, "%s: the GSSAPI bind does not say which principal it used; cannot "
		    "check principal = %s", dc->uri, conf->principal);
		return DIR_AUTH_FAILED;
	}
	if (strcasecmp(who, conf->principal) != 0) {
		err_set(e, "%s: the GSSAPI bind authenticated as %s, not as principal = %s; "
		    "Kerberos takes the first principal of the keytab (klist -k %s): export a "
		    "keytab that holds only %s", dc->uri, who, conf->principal,
		    conf->keytab_file != NULL ? conf->keytab_file : "KEYTAB", conf->principal);
		st = DIR_AUTH_FAILED;
	}
	ldap_memfree(who);
	return st;
}

static enum dir_status
do_bind(struct dir_conn *dc, const char *password, struct errbuf *e)
{
	const struct conf_directory *conf = dc->conf;
	int rc;

	if (conf->sasl_mech != NULL) {
		struct sasl_defaults d = { conf->bind_dn, password, NULL };

		bool gssapi = strcasecmp(conf->sasl_mech, "GSSAPI") == 0;

		if (strcasecmp(conf->sasl_mech, "EXTERNAL") == 0)
			d.authzid = "";
		if (gssapi) {
			enum dir_status kst = setup_kerberos(dc, e);

			if (kst != DIR_OK)
				return kst;
		}
		rc = ldap_sasl_interactive_bind_s(dc->ld, NULL, conf->sasl_mech, NULL, NULL,
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
			st = dir_ldap_fail(dc, rc, op, conf->bind_dn, hint, e);
			free(op);
			/* A SASL failure is never a network outage once connected. */
			if (st == DIR_FAILED || st == DIR_BAD_CONFIG)
				st = DIR_AUTH_FAILED;
			return st;
		}
		return gssapi ? check_principal(dc, e) : DIR_OK;
	}
	if (conf->bind_dn != NULL) {
		struct berval cred;

		if (password == NULL || password[0] == '\0') {
			/* RFC 4513 5.1.2: a DN with an empty password is an
			 * unauthenticated bind that "succeeds" as anonymous. */
			err_set(e, "%s: bind as %s: no password given; put the service "
			    "account's password in bind_password_file", dc->uri, conf->bind_dn);
			return DIR_BAD_CONFIG;
		}
		cred.bv_val = (char *)password;
		cred.bv_len = strlen(password);
		rc = ldap_sasl_bind_s(dc->ld, conf->bind_dn, LDAP_SASL_SIMPLE, &cred, NULL,
		    NULL, NULL);
		if (rc != LDAP_SUCCESS) {
			enum dir_status st = dir_ldap_fail(dc, rc, "bind as", conf->bind_dn, NULL, e);

			if (st == DIR_BAD_CONFIG || st == DIR_FAILED)
				st = DIR_AUTH_FAILED;
			return st;
		}
		return DIR_OK;
	}
	log_debug("%s: no bind_dn and no sasl_mech: reading anonymously", dc->uri);
	return DIR_OK;
}

static int
set_opt(struct dir_conn *dc, int opt, const void *value, const char *name,
    struct errbuf *e)
{
	int rc = ldap_set_option(dc->ld, opt, value);

	if (rc != LDAP_OPT_SUCCESS) {
		char *diag = dir_ldap_diag(dc->ld);

		err_set(e, "%s: cannot set LDAP option %s%s%s%s", dc->uri, name,
		    diag != NULL ? " (" : "", diag != NULL ? diag : "", diag != NULL ? ")" : "");
		free(diag);
		return -1;
	}
	return 0;
}

static enum dir_status
setup_tls(struct dir_conn *dc, struct errbuf *e)
{
	const struct conf_directory *conf = dc->conf;
	int reqcert = conf->tls_verify ? LDAP_OPT_X_TLS_DEMAND : LDAP_OPT_X_TLS_ALLOW;
	int minproto = LDAP_OPT_X_TLS_PROTOCOL_TLS1_2;
	int newctx = 0;
	int rc;

	if (conf->tls_ca_file != NULL &&
	    set_opt(dc, LDAP_OPT_X_TLS_CACERTFILE, conf->tls_ca_file, "tls_ca_file", e) != 0)
		return DIR_BAD_CONFIG;
	if (!conf->tls_verify)
		log_warn("[directory %s] %s: tls_verify = no: the server certificate is NOT "
		    "checked; anyone on the network path can read and change directory "
		    "traffic, including the bind password", conf->name != NULL ? conf->name : "",
		    dc->uri);
	if (set_opt(dc, LDAP_OPT_X_TLS_REQUIRE_CERT, &reqcert, "TLS_REQCERT", e) != 0 ||
	    set_opt(dc, LDAP_OPT_X_TLS_PROTOCOL_MIN, &minproto, "TLS_PROTOCOL_MIN", e) != 0)
		return DIR_FAILED;
	rc = ldap_set_option(dc->ld, LDAP_OPT_X_TLS_NEWCTX, &newctx);
	if (rc != LDAP_OPT_SUCCESS) {
		char *diag = dir_ldap_diag(dc->ld);

		err_set(e, "%s: cannot set up TLS with tls_ca_file %s%s%s%s; check that the "
		    "file exists, is readable and holds PEM certificates", dc->uri,
		    conf->tls_ca_file != NULL ? conf->tls_ca_file : "(system default)",
		    diag != NULL ? " (" : "", diag != NULL ? diag : "", diag != NULL ? ")" : "");
		free(diag);
		return DIR_BAD_CONFIG;
	}
	return DIR_OK;
}

/* Check that base_dn exists: everything else is searched under it. */
static enum dir_status
check_base(struct dir_conn *dc, struct errbuf *e)
{
	char *attrs[] = { LDAP_NO_ATTRS, NULL };
	LDAPMessage *res = NULL, *entry = NULL;
	enum dir_status st;

	st = dir_ldap_read(dc, dc->base_dn, NULL, attrs, &res, &entry, e);
	if (st != DIR_OK)
		return st;
	ldap_msgfree(res);
	if (entry == NULL) {
		err_set(e, "%s: base_dn %s does not exist or is not a valid DN (or the service "
		    "account %s may not read it); check base_dn in [directory %s]", dc->uri, dc->base_dn,
		    dc->conf->bind_dn != NULL ? dc->conf->bind_dn : "(anonymous)",
		    dc->conf->name != NULL ? dc->conf->name : "");
		return DIR_BAD_CONFIG;
	}
	return DIR_OK;
}

enum dir_status
dir_open(const struct conf_directory *conf, const char *bind_password,
    struct dir_conn **out, struct errbuf *e)
{
	struct dir_conn *dc = NULL;
	enum dir_status st = DIR_FAILED;
	int version = LDAP_VERSION3;
	struct timeval tv;
	bool is_ldap, is_ldaps, is_ldapi;
	int rc;

	*out = NULL;
	if (conf != NULL && conf->type == DIR_TYPE_CSV)
		return dir_csv_open(conf, out, e);
	if (conf != NULL && conf->type == DIR_TYPE_GRAPH)
		return dir_graph_open(conf, out, e);
	if (conf == NULL || conf->uri == NULL || conf->base_dn == NULL) {
		err_set(e, "[directory %s]: uri and base_dn are required",
		    conf != NULL && conf->name != NULL ? conf->name : "");
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

	dc = xcalloc(1, sizeof(*dc));
	dc->conf = conf;
	dc->uri = xstrdup(conf->uri);
	dc->base_dn = xstrdup(conf->base_dn);
	dc->timeout = conf->timeout > 0 && conf->timeout < 86400 ? (int)conf->timeout :
	    DEFAULT_TIMEOUT;
	dc->page_size = conf->page_size > 0 && conf->page_size <= 100000 ?
	    (int)conf->page_size : DEFAULT_PAGE_SIZE;
	if (conf->user_filter == NULL || conf->user_filter[0] == '\0')
		dc->user_filter = xstrdup(conf->type == DIR_TYPE_AD ? DEFAULT_AD_USER_FILTER :
		    DEFAULT_USER_FILTER);
	else if (conf->user_filter[0] == '(')
		dc->user_filter = xstrdup(conf->user_filter);
	else
		dc->user_filter = xasprintf("(%s)", conf->user_filter);

	rc = ldap_initialize(&dc->ld, conf->uri);
	if (rc != LDAP_SUCCESS) {
		err_set(e, "[directory %s]: uri %s is not a usable LDAP URI: %s",
		    conf->name != NULL ? conf->name : "", conf->uri, ldap_err2string(rc));
		st = DIR_BAD_CONFIG;
		goto out;
	}
	tv.tv_sec = dc->timeout;
	tv.tv_usec = 0;
	if (set_opt(dc, LDAP_OPT_PROTOCOL_VERSION, &version, "PROTOCOL_VERSION", e) != 0 ||
	    set_opt(dc, LDAP_OPT_NETWORK_TIMEOUT, &tv, "NETWORK_TIMEOUT", e) != 0 ||
	    set_opt(dc, LDAP_OPT_TIMEOUT, &tv, "TIMEOUT", e) != 0 ||
	    set_opt(dc, LDAP_OPT_REFERRALS, LDAP_OPT_OFF, "REFERRALS", e) != 0 ||
	    /* Kerberos: ldap/<host in uri>, never a name from (spoofable) reverse DNS. */
	    set_opt(dc, LDAP_OPT_X_SASL_NOCANON, LDAP_OPT_ON, "SASL_NOCANON", e) != 0) {
		st = DIR_FAILED;
		goto out;
	}
	if (is_ldaps || (is_ldap && conf->starttls == TLS_MODE_REQUIRED)) {
		dc->tls = true;
		st = setup_tls(dc, e);
		if (st != DIR_OK)
			goto out;
	}
	if (is_ldap && conf->starttls == TLS_MODE_REQUIRED) {
		rc = ldap_start_tls_s(dc->ld, NULL, NULL);
		if (rc != LDAP_SUCCESS) {
			(void)dir_ldap_fail(dc, rc, "StartTLS", "", "check that the server "
			    "offers StartTLS, that tls_ca_file holds the CA that signed the server "
			    "certificate and that the certificate names the host in uri", e);
			st = DIR_UNREACHABLE;
			goto out;
		}
	} else if (is_ldap && conf->bind_dn != NULL && conf->sasl_mech == NULL) {
		log_warn("[directory %s] %s: starttls = off: the bind password for %s travels "
		    "in clear text", conf->name != NULL ? conf->name : "", dc->uri, conf->bind_dn);
	}
	st = do_bind(dc, bind_password, e);
	if (st != DIR_OK)
		goto out;
	st = check_base(dc, e);
	if (st != DIR_OK)
		goto out;
	if (conf->type == DIR_TYPE_AD && conf->global_catalog) {
		st = dir_ad_gc_check(dc, e);
		if (st != DIR_OK)
			goto out;
	}
	*out = dc;
	dc = NULL;
out:
	dir_close(dc);
	return st;
}

void
dir_close(struct dir_conn *dc)
{
	if (dc == NULL)
		return;
	if (dc->ld != NULL)
		ldap_unbind_ext_s(dc->ld, NULL, NULL);
	dir_graph_close(dc);
	free(dc->uri);
	free(dc->base_dn);
	free(dc->user_filter);
	free(dc);
}

enum dir_status
dir_ldap_read(struct dir_conn *dc, const char *dn, const char *filter, char **attrs,
    LDAPMessage **res, LDAPMessage **entry, struct errbuf *e)
{
	struct timeval tv = { dc->timeout, 0 };
	LDAPMessage *r = NULL;
	int rc;

	*res = NULL;
	*entry = NULL;
	rc = ldap_search_ext_s(dc->ld, dn, LDAP_SCOPE_BASE,
	    filter != NULL ? filter : "(objectClass=*)", attrs, 0, NULL, NULL, &tv, 1, &r);
	/*
	 * A DN the server cannot parse (say, a member value naming an
	 * attribute type it does not know) names no entry either.
	 */
	if (rc == LDAP_NO_SUCH_OBJECT || rc == LDAP_INVALID_DN_SYNTAX) {
		ldap_msgfree(r);
		return DIR_OK;
	}
	if (rc != LDAP_SUCCESS) {
		ldap_msgfree(r);
		return dir_ldap_fail(dc, rc, "read", dn, NULL, e);
	}
	*entry = ldap_first_entry(dc->ld, r);
	if (*entry == NULL) {
		ldap_msgfree(r);
		return DIR_OK;
	}
	*res = r;
	return DIR_OK;
}

enum dir_status
dir_ldap_scan(struct dir_conn *dc, const char *filter, char **attrs, dir_entry_cb cb,
    void *arg, struct errbuf *e)
{
	struct timeval tv = { dc->timeout, 0 };
	struct berval *cookie = NULL;
	enum dir_status st = DIR_OK;
	size_t pages = 0;

	do {
		struct berval empty = { 0, NULL };
		LDAPControl *pctrl = NULL, *sctrls[2] = { NULL, NULL };
		LDAPControl **rctrls = NULL, *resp;
		LDAPMessage *res = NULL, *entry;
		int rc, err = LDAP_SUCCESS;

		rc = ldap_create_page_control(dc->ld, dc->page_size,
		    cookie != NULL ? cookie : &empty, 0, &pctrl);
		ber_bvfree(cookie);
		cookie = NULL;
		if (rc != LDAP_SUCCESS)
			return dir_ldap_fail(dc, rc, "build the paged results control for",
			    dc->base_dn, NULL, e);
		sctrls[0] = pctrl;
		rc = ldap_search_ext_s(dc->ld, dc->base_dn, LDAP_SCOPE_SUBTREE, filter, attrs, 0,
		    sctrls, NULL, &tv, LDAP_NO_LIMIT, &res);
		ldap_control_free(pctrl);
		if (rc != LDAP_SUCCESS) {
			ldap_msgfree(res);
			return dir_ldap_fail(dc, rc, "search", dc->base_dn, NULL, e);
		}
		pages++;
		for (entry = ldap_first_entry(dc->ld, res); entry != NULL;
		    entry = ldap_next_entry(dc->ld, entry)) {
			st = cb(dc, entry, arg, e);
			if (st != DIR_OK)
				break;
		}
		if (st == DIR_OK) {
			rc = ldap_parse_result(dc->ld, res, &err, NULL, NULL, NULL, &rctrls, 0);
			if (rc != LDAP_SUCCESS)
				st = dir_ldap_fail(dc, rc, "read the search result under",
				    dc->base_dn, NULL, e);
		}
		resp = st == DIR_OK ? ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, rctrls,
		    NULL) : NULL;
		if (resp != NULL) {
			struct berval next = { 0, NULL };
			ber_int_t estimate = 0;

			rc = ldap_parse_pageresponse_control(dc->ld, resp, &estimate, &next);
			if (rc != LDAP_SUCCESS)
				st = dir_ldap_fail(dc, rc, "parse the paged results control from",
				    dc->base_dn, NULL, e);
			else if (next.bv_len > 0)
				cookie = ber_bvdup(&next);
			ber_memfree(next.bv_val);
		}
		ldap_controls_free(rctrls);
		ldap_msgfree(res);
		if (st != DIR_OK)
			break;
	} while (cookie != NULL);
	ber_bvfree(cookie);
	if (st == DIR_OK)
		log_debug("%s: searched %s in %zu page(s) of %d", dc->uri, dc->base_dn, pages,
		    dc->page_size);
	return st;
}

bool
dir_entry_has_class(LDAP *ld, LDAPMessage *entry, const char *name)
{
	struct berval **vals = ldap_get_values_len(ld, entry, "objectClass");
	size_t len = strlen(name);
	bool found = false;

	for (size_t i = 0; vals != NULL && vals[i] != NULL && !found; i++)
		found = vals[i]->bv_len == len && strncasecmp(vals[i]->bv_val, name, len) == 0;
	ldap_value_free_len(vals);
	return found;
}
