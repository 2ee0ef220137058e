/* SPDX-License-Identifier: ISC */
/*
 * EJBCA as CA, through its REST API v1:
 *   POST <url>/ejbca/ejbca-rest-api/v1/certificate/pkcs10enroll
 * authenticated by a TLS client certificate (tls_cert_file/tls_key_file)
 * that EJBCA knows as an RA administrator. The request names the
 * certificate profile, end entity profile and CA from the config; the end
 * entity is the person's address (username and email) with a fresh random
 * enrolment code each time, which nobody needs to know afterwards.
 *
 * Success is 201 (200 from older releases) with {"certificate": base64
 * DER, "certificate_chain": [base64 DER...], "serial_number", ...};
 * errors carry {"error_code": n, "error_message": text}. EJBCA answers 202
 * when an approval profile holds the request: v1 offers no way to collect
 * such a certificate later for a PKCS#10 enrolment, so that is reported as
 * a configuration to change rather than polled forever.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/fileutil.h"
#include "common/log.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "smime/ca_backend.h"

#define API_PATH "/ejbca/ejbca-rest-api/v1/certificate"
#define ENROLL_PATH API_PATH "/pkcs10enroll"

struct ejbca {
	const struct conf_ca *conf; /* borrowed: the config outlives the CA handle */
	char *endpoint;
	char *api;                  /* .../v1/certificate */
};

static int
ejbca_open(const struct conf_ca *conf, struct signer *signer, void **out,
    struct errbuf *e)
{
	struct ejbca *c = xcalloc(1, sizeof(*c));
	size_t blen = strlen(conf->url);

	(void)signer; /* an external CA keeps its keys itself */
	(void)e;
	while (blen > 0 && conf->url[blen - 1] == '/')
		blen--;
	c->conf = conf;
	c->endpoint = xasprintf("%.*s" ENROLL_PATH, (int)blen, conf->url);
	c->api = xasprintf("%.*s" API_PATH, (int)blen, conf->url);
	*out = c;
	return 0;
}

static void
ejbca_close(void *state)
{
	struct ejbca *c = state;

	if (c == NULL)
		return;
	free(c->endpoint);
	free(c->api);
	free(c);
}

static json_t *
enroll_body(const struct ejbca *c, X509_REQ *csr, const struct ca_request *req,
    const char *password)
{
	char *pem = ca_csr_pem(csr);
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:s, s:s}",
	    "certificate_request", pem,
	    "certificate_profile_name", c->conf->certificate_profile,
	    "end_entity_profile_name", c->conf->end_entity_profile,
	    "certificate_authority_name", c->conf->certificate_authority,
	    "username", req->mail,
	    "password", password,
	    "include_chain", 1,
	    "email", req->mail,
	    "response_format", "DER");

	if (o == NULL)
		fatal("out of memory");
	free(pem);
	return o;
}

static char *
dump(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);

	if (s == NULL)
		fatal("out of memory");
	return s;
}

static int
push_der_b64(STACK_OF(X509) *sk, const char *b64, struct errbuf *e)
{
	size_t len = strlen(b64);
	unsigned char *der = xmalloc(len / 4 * 3 + 3);
	const unsigned char *p = der;
	int n = EVP_DecodeBlock(der, (const unsigned char *)b64, (int)len);
	X509 *x;

	/* EVP_DecodeBlock counts the '=' padding as zero bytes: d2i stops at the end anyway. */
	x = n > 0 ? d2i_X509(NULL, &p, n) : NULL;
	free(der);
	if (x == NULL) {
		err_set(e, "a certificate in EJBCA's answer is not base64 DER");
		return -1;
	}
	if (sk_X509_push(sk, x) == 0)
		fatal("out of memory");
	return 0;
}

enum ca_outcome
ca_ejbca_answer(const struct conf_ca *conf, const struct http_response *rs, X509_REQ *csr,
    struct ca_result *out)
{
	json_t *root = json_loadb(rs->body.data, rs->body.len, 0, NULL), *v;
	STACK_OF(X509) *certs = NULL;
	const char *cert;
	char detail[1024];
	struct errbuf e;
	size_t i;
	enum ca_outcome rc;

	if (rs->status == 202) {
		rc = ca_fail(out, CA_MISCONFIGURED, "[ca %s] EJBCA holds the request for approval, "
		    "and its REST API cannot deliver an approved PKCS#10 enrolment later; use an "
		    "end entity profile without an approval profile for smimesync", conf->name);
		goto out;
	}
	if (rs->status != 200 && rs->status != 201) {
		const char *msg = json_string_value(json_object_get(root, "error_message"));

		if (rs->status == 404 && msg != NULL) {
			/* EJBCA's own 404: a CA or profile of that name does not exist. */
			rc = ca_fail(out, CA_MISCONFIGURED, "[ca %s] HTTP 404: %s; check "
			    "certificate_authority, certificate_profile and end_entity_profile",
			    conf->name, msg);
			goto out;
		}
		if (msg != NULL)
			snprintf(detail, sizeof(detail), "%s", msg);
		else
			ca_body_excerpt(rs->body.data, rs->body.len, detail, sizeof(detail));
		rc = ca_rest_status(conf, rs, detail, out);
		goto out;
	}
	cert = json_string_value(json_object_get(root, "certificate"));
	if (cert == NULL) {
		rc = ca_fail(out, CA_MISCONFIGURED, "[ca %s] EJBCA answered %ld without a "
		    "certificate; is url the EJBCA server?", conf->name, rs->status);
		goto out;
	}
	err_clear(&e);
	if ((certs = sk_X509_new_null()) == NULL)
		fatal("out of memory");
	if (push_der_b64(certs, cert, &e) != 0)
		goto bad;
	json_array_foreach(json_object_get(root, "certificate_chain"), i, v) {
		if (json_string_value(v) == NULL || push_der_b64(certs, json_string_value(v), &e) != 0)
			goto bad;
	}
	rc = ca_take_issued(certs, csr, conf->name, out);
	certs = NULL;
	goto out;
bad:
	rc = ca_fail(out, CA_REJECTED, "[ca %s] %s", conf->name, e.text);
out:
	sk_X509_pop_free(certs, X509_free);
	json_decref(root);
	return rc;
}

static enum ca_outcome
ejbca_submit(void *state, X509_REQ *csr, const struct ca_request *req, struct ca_result *out)
{
	struct ejbca *c = state;
	struct http_response rs;
	unsigned char rnd[16];
	char *password = NULL, *body = NULL, *audit = NULL;
	json_t *o = NULL;
	enum ca_outcome rc;

	memset(&rs, 0, sizeof(rs));
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		fatal("no randomness for the EJBCA enrolment code");
	password = hex_encode(rnd, sizeof(rnd));
	o = enroll_body(c, csr, req, password);
	body = dump(o);
	json_object_set_new(o, "password", json_string("(secret)"));
	audit = dump(o);
	if ((rc = ca_rest_send(c->conf, "POST", c->endpoint, NULL, body, audit, &rs, out)) == 0)
		rc = ca_ejbca_answer(c->conf, &rs, csr, out);
	json_decref(o);
	http_response_clear(&rs);
	secret_free_str(body);
	free(audit);
	secret_free_str(password);
	return rc;
}

/*
 * After a lost answer: EJBCA's certificate search (POST .../search) for
 * the active certificates of the end entity (username = the address), and
 * the one with the CSR's key among them.
 */
static enum ca_outcome
ejbca_lookup(void *state, X509_REQ *csr, const struct ca_request *req, struct ca_result *out)
{
	struct ejbca *c = state;
	struct http_response rs;
	char *url = xasprintf("%s/search", c->api), *body = NULL;
	json_t *o = json_pack("{s:i, s:[{s:s, s:s, s:s}, {s:s, s:s, s:s}]}",
	    "max_number_of_results", 100, "criteria",
	    "property", "QUERY", "value", req->mail, "operation", "EQUAL",
	    "property", "STATUS", "value", "CERT_ACTIVE", "operation", "EQUAL");
	json_t *root = NULL, *v;
	STACK_OF(X509) *certs = NULL;
	struct errbuf e;
	char detail[1024];
	size_t i;
	enum ca_outcome rc;

	memset(&rs, 0, sizeof(rs));
	if (o == NULL || (body = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
		fatal("out of memory");
	if ((rc = ca_rest_send(c->conf, "POST", url, NULL, body, body, &rs, out)) != 0)
		goto out;
	root = json_loadb(rs.body.data, rs.body.len, 0, NULL);
	if (rs.status != 200) {
		const char *msg = json_string_value(json_object_get(root, "error_message"));

		if (msg != NULL)
			snprintf(detail, sizeof(detail), "%s", msg);
		else
			ca_body_excerpt(rs.body.data, rs.body.len, detail, sizeof(detail));
		rc = ca_rest_status(c->conf, &rs, detail, out);
		/* A search EJBCA refuses must not look like "issued nothing": ask again later. */
		if (rc == CA_REJECTED)
			rc = CA_MISCONFIGURED;
		goto out;
	}
	if ((certs = sk_X509_new_null()) == NULL)
		fatal("out of memory");
	err_clear(&e);
	json_array_foreach(json_object_get(root, "certificates"), i, v) {
		const char *b64 = json_string_value(json_object_get(v, "certificate"));

		if (b64 != NULL && push_der_b64(certs, b64, &e) != 0) {
			rc = ca_fail(out, CA_MISCONFIGURED, "[ca %s] certificate search: %s",
			    c->conf->name, e.text);
			goto out;
		}
	}
	ca_exchange_add(out, "search found %d active certificate%s for %s", sk_X509_num(certs),
	    sk_X509_num(certs) == 1 ? "" : "s", req->mail);
	rc = ca_take_issued(certs, csr, c->conf->name, out);
	certs = NULL;
	if (rc == CA_ISSUED) {
		/* Only the match: the other hits are the person's other certificates. */
		sk_X509_pop_free(out->chain, X509_free);
		if ((out->chain = sk_X509_new_null()) == NULL)
			fatal("out of memory");
	}
out:
	sk_X509_pop_free(certs, X509_free);
	json_decref(root);
	json_decref(o);
	http_response_clear(&rs);
	free(body);
	free(url);
	return rc;
}

/* EJBCA's names for the RFC 5280 reasons (its RevocationReasons enum). */
static const char *
ejbca_reason(int reason)
{
	static const char *const names[] = { "UNSPECIFIED", "KEY_COMPROMISE", "CA_COMPROMISE",
		"AFFILIATION_CHANGED", "SUPERSEDED", "CESSATION_OF_OPERATION", "CERTIFICATE_HOLD",
		"UNSPECIFIED", "REMOVE_FROM_CRL", "PRIVILEGES_WITHDRAWN", "AA_COMPROMISE" };

	return reason >= 0 && reason <= 10 ? names[reason] : "UNSPECIFIED";
}

/* PUT .../{issuer_dn}/{serial}/revoke?reason=NAME */
static int
ejbca_revoke(void *state, X509 *cert, int reason, struct ca_result *out)
{
	struct ejbca *c = state;
	struct ca_cert_ids ids;
	struct http_response rs;
	char *issuer = NULL, *url = NULL;
	json_t *root = NULL;
	char detail[1024];
	int rc = -1;

	memset(&rs, 0, sizeof(rs));
	if (ca_cert_ids(cert, &ids, out) != 0)
		return -1;
	issuer = ca_url_escape(ids.issuer);
	url = xasprintf("%s/%s/%s/revoke?reason=%s", c->api, issuer, ids.serial_hex,
	    ejbca_reason(reason));
	if (ca_rest_send(c->conf, "PUT", url, NULL, "", NULL, &rs, out) != 0)
		goto out;
	root = json_loadb(rs.body.data, rs.body.len, 0, NULL);
	if (rs.status == 200 || (rs.status == 409 && strstr(json_string_value(json_object_get(root,
	    "error_message")) ? json_string_value(json_object_get(root, "error_message")) : "",
	    "already revoked") != NULL)) {
		rc = 0;
		goto out;
	}
	if (json_string_value(json_object_get(root, "error_message")) != NULL)
		snprintf(detail, sizeof(detail), "%s",
		    json_string_value(json_object_get(root, "error_message")));
	else
		ca_body_excerpt(rs.body.data, rs.body.len, detail, sizeof(detail));
	(void)ca_rest_status(c->conf, &rs, detail, out);
out:
	json_decref(root);
	http_response_clear(&rs);
	ca_cert_ids_clear(&ids);
	free(issuer);
	free(url);
	return rc;
}

const struct ca_backend ca_ejbca_backend = {
	.open = ejbca_open,
	.submit = ejbca_submit,
	.lookup = ejbca_lookup,
	.revoke = ejbca_revoke,
	.poll = NULL,
	.chain = NULL,
	.close = ejbca_close,
};
