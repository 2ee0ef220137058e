/* SPDX-License-Identifier: ISC */
/*
 * Sectigo Certificate Manager (SCM) as CA, through its REST S/MIME API:
 *   POST <url>/api/smime/v1/enroll            -> {"orderNumber": n, "backendCertId": ...}
 *   GET  <url>/api/smime/v1/collect/<n>?format=x509  -> the PEM certificate and chain
 * Every call carries the headers login, password and customerUri; the
 * password comes from password_file and is never logged or audited.
 *
 * Enrolment answers with an order number; the certificate is collected
 * once issued. We collect right after enrolling (SCM often issues at
 * once); when it is not ready SCM answers 400 with {"code": -183,
 * "description": "Certificate is not collectable."} and the order number
 * becomes the cookie that later runs poll with. Other errors carry
 * {"code": negative n, "description": text}.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/fileutil.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "smime/ca_backend.h"

/* SCM's "not issued yet" on collect. */
#define SCM_NOT_COLLECTABLE (-183)

struct sectigo {
	const struct conf_ca *conf; /* borrowed: the config outlives the CA handle */
	char *base;                 /* url without trailing '/' */
	char *headers[4];           /* login, password, customerUri, NULL */
};

static void sectigo_close(void *state);

static int
sectigo_open(const struct conf_ca *conf, struct signer *signer, void **out,
    struct errbuf *e)
{
	struct sectigo *c = xcalloc(1, sizeof(*c));
	size_t blen = strlen(conf->url);
	char *password = NULL;

	(void)signer; /* an external CA keeps its keys itself */
	while (blen > 0 && conf->url[blen - 1] == '/')
		blen--;
	c->conf = conf;
	c->base = xstrndup(conf->url, blen);
	if (ca_read_secret(conf, "password_file", conf->password_file, &password, e) != 0) {
		sectigo_close(c);
		return -1;
	}
	if (strpbrk(password, "\r\n") != NULL || strpbrk(conf->login, "\r\n") != NULL ||
	    strpbrk(conf->customer_uri, "\r\n") != NULL) {
		err_set(e, "[ca %s] login, customer_uri and the password must be one line each",
		    conf->name);
		secret_free_str(password);
		sectigo_close(c);
		return -1;
	}
	c->headers[0] = xasprintf("login: %s", conf->login);
	c->headers[1] = xasprintf("password: %s", password);
	c->headers[2] = xasprintf("customerUri: %s", conf->customer_uri);
	secret_free_str(password);
	*out = c;
	return 0;
}

static void
sectigo_close(void *state)
{
	struct sectigo *c = state;

	if (c == NULL)
		return;
	free(c->base);
	free(c->headers[0]);
	secret_free_str(c->headers[1]);
	free(c->headers[2]);
	free(c);
}

/* firstName/lastName are required by SCM: the directory's, else the address's local part. */
static void
person_names(const struct ca_request *req, char **first, char **last)
{
	const char *at = strchr(req->mail, '@');
	char *local = xstrndup(req->mail, at != NULL ? (size_t)(at - req->mail) : strlen(req->mail));

	if (req->given_name != NULL && req->given_name[0] != '\0' && req->surname != NULL &&
	    req->surname[0] != '\0') {
		*first = xstrdup(req->given_name);
		*last = xstrdup(req->surname);
		free(local);
		return;
	}
	*first = xstrdup(req->display_name != NULL && req->display_name[0] != '\0' ?
	    req->display_name : local);
	*last = xstrdup(req->surname != NULL && req->surname[0] != '\0' ? req->surname : local);
	free(local);
}

/* "description (SCM code n)", or the body itself. */
static void
scm_error(const struct http_response *rs, json_t *root, char *out, size_t size)
{
	const char *d = json_string_value(json_object_get(root, "description"));
	json_t *code = json_object_get(root, "code");

	if (d != NULL && json_is_integer(code))
		snprintf(out, size, "%s (SCM code %lld)", d, (long long)json_integer_value(code));
	else
		ca_body_excerpt(rs->body.data, rs->body.len, out, size);
}

enum ca_outcome
ca_sectigo_collect_answer(const struct conf_ca *conf, const struct http_response *rs,
    X509_REQ *csr, const char *order, struct ca_result *out)
{
	json_t *root = NULL;
	char detail[1024];
	enum ca_outcome o;

	if (rs->status == 200) {
		snprintf(detail, sizeof(detail), "collecting order %s", order);
		return ca_issued_from(rs->body.data, rs->body.len, csr, conf->name, CA_REJECTED,
		    detail, out);
	}
	root = json_loadb(rs->body.data, rs->body.len, 0, NULL);
	if (rs->status == 400 &&
	    json_integer_value(json_object_get(root, "code")) == SCM_NOT_COLLECTABLE) {
		o = ca_fail(out, CA_PENDING, "[ca %s] order %s is not issued yet", conf->name, order);
	} else {
		scm_error(rs, root, detail, sizeof(detail));
		o = ca_rest_status(conf, rs, detail, out);
	}
	/* Unless SCM refused it, the order stands: keep its number to ask again. */
	if (o != CA_REJECTED)
		out->cookie = xstrdup(order);
	json_decref(root);
	return o;
}

static enum ca_outcome
collect(struct sectigo *c, X509_REQ *csr, const char *order, struct ca_result *out)
{
	struct http_response rs;
	char *url = xasprintf("%s/api/smime/v1/collect/%s?format=x509", c->base, order);
	enum ca_outcome o;

	memset(&rs, 0, sizeof(rs));
	if ((o = ca_rest_send(c->conf, "GET", url, (const char *const *)c->headers, NULL, NULL,
	    &rs, out)) == 0)
		o = ca_sectigo_collect_answer(c->conf, &rs, csr, order, out);
	else
		out->cookie = xstrdup(order); /* not reached: the order stands */
	http_response_clear(&rs);
	free(url);
	return o;
}

int
ca_sectigo_enroll_answer(const struct conf_ca *conf, const struct http_response *rs,
    char *order, size_t size, enum ca_outcome *failed, struct ca_result *out)
{
	json_t *root = json_loadb(rs->body.data, rs->body.len, 0, NULL), *num;
	char detail[1024];
	int rc = -1;

	if (rs->status != 200 && rs->status != 201) {
		scm_error(rs, root, detail, sizeof(detail));
		*failed = ca_rest_status(conf, rs, detail, out);
		goto out;
	}
	num = json_object_get(root, "orderNumber");
	if (!json_is_integer(num) || json_integer_value(num) <= 0) {
		*failed = ca_fail(out, CA_MISCONFIGURED, "[ca %s] SCM accepted the enrolment but "
		    "sent no orderNumber; is url the Certificate Manager?", conf->name);
		goto out;
	}
	snprintf(order, size, "%lld", (long long)json_integer_value(num));
	rc = 0;
out:
	json_decref(root);
	return rc;
}

static enum ca_outcome
sectigo_submit(void *state, X509_REQ *csr, const struct ca_request *req, struct ca_result *out)
{
	struct sectigo *c = state;
	struct http_response rs;
	json_t *o = NULL, *alts = json_array();
	char *first = NULL, *last = NULL, *pem = ca_csr_pem(csr), *body = NULL, *url = NULL;
	char order[32];
	enum ca_outcome rc;

	memset(&rs, 0, sizeof(rs));
	person_names(req, &first, &last);
	for (size_t i = 0; req->alt_mails != NULL && i < req->n_alt_mails; i++)
		json_array_append_new(alts, json_string(req->alt_mails[i]));
	o = json_pack("{s:I, s:s, s:s, s:s, s:o, s:s, s:I, s:I, s:s}",
	    "orgId", (json_int_t)c->conf->org_id,
	    "firstName", first,
	    "lastName", last,
	    "email", req->mail,
	    "secondaryEmails", alts,
	    "csr", pem,
	    "certType", (json_int_t)c->conf->cert_type,
	    "term", (json_int_t)c->conf->term,
	    "comments", "requested by smimesync");
	if (o == NULL || (body = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
		fatal("out of memory");
	url = xasprintf("%s/api/smime/v1/enroll", c->base);
	if ((rc = ca_rest_send(c->conf, "POST", url, (const char *const *)c->headers, body, body,
	    &rs, out)) != 0)
		goto out;
	if (ca_sectigo_enroll_answer(c->conf, &rs, order, sizeof(order), &rc, out) != 0)
		goto out;
	ca_exchange_add(out, "order %s", order);
	rc = collect(c, csr, order, out);
out:
	json_decref(o);
	http_response_clear(&rs);
	free(url);
	free(body);
	free(pem);
	free(first);
	free(last);
	return rc;
}

static enum ca_outcome
sectigo_poll(void *state, X509_REQ *csr, const struct ca_request *req, const char *cookie,
    struct ca_result *out)
{
	(void)req;
	for (const char *p = cookie; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return ca_fail(out, CA_MISCONFIGURED, "the stored order number \"%s\" is not "
			    "a number", cookie);
	}
	return collect(state, csr, cookie, out);
}

/*
 * After a lost enrolment answer the order number is unknown: SCM's list
 * of S/MIME certificates by address (GET /api/smime/v2?email=) gives the
 * orders; one whose certificate has the CSR's key is ours. An order that
 * is not issued yet cannot be matched by key: when exactly one such order
 * exists, it is taken as ours and waited for (CA_PENDING with its number),
 * which is what a second enrolment would have cost twice.
 */
static enum ca_outcome
sectigo_lookup(void *state, X509_REQ *csr, const struct ca_request *req, struct ca_result *out)
{
	struct sectigo *c = state;
	struct http_response rs;
	char *mail = ca_url_escape(req->mail);
	char *url = xasprintf("%s/api/smime/v2?email=%s", c->base, mail);
	char detail[1024], waiting[32] = "";
	json_t *root = NULL, *v;
	size_t i, n_waiting = 0;
	enum ca_outcome rc;

	memset(&rs, 0, sizeof(rs));
	if ((rc = ca_rest_send(c->conf, "GET", url, (const char *const *)c->headers, NULL, NULL,
	    &rs, out)) != 0)
		goto out;
	root = json_loadb(rs.body.data, rs.body.len, 0, NULL);
	if (rs.status != 200 || !json_is_array(root)) {
		scm_error(&rs, root, detail, sizeof(detail));
		rc = rs.status == 200 ? ca_fail(out, CA_MISCONFIGURED, "[ca %s] the certificate "
		    "list is not a JSON array: %s", c->conf->name, detail) :
		    ca_rest_status(c->conf, &rs, detail, out);
		if (rc == CA_REJECTED)
			rc = CA_MISCONFIGURED;
		goto out;
	}
	json_array_foreach(root, i, v) {
		json_t *num = json_object_get(v, "orderNumber");
		char order[32];
		struct ca_result one;
		enum ca_outcome o;

		if (!json_is_integer(num))
			continue;
		snprintf(order, sizeof(order), "%lld", (long long)json_integer_value(num));
		memset(&one, 0, sizeof(one));
		o = collect(c, csr, order, &one);
		if (o == CA_ISSUED) {
			ca_result_clear(out);
			*out = one;
			ca_exchange_add(out, "order %s, found by address, holds the certificate", order);
			rc = CA_ISSUED;
			goto out;
		}
		if (o == CA_PENDING) {
			snprintf(waiting, sizeof(waiting), "%s", order);
			n_waiting++;
		}
		ca_result_clear(&one);
	}
	if (n_waiting == 1) {
		out->cookie = xstrdup(waiting);
		rc = ca_fail(out, CA_PENDING, "[ca %s] order %s for %s, placed before the answer "
		    "was lost, is not issued yet", c->conf->name, waiting, req->mail);
	} else {
		rc = ca_fail(out, CA_REJECTED, "[ca %s] no certificate for the key of the request",
		    c->conf->name);
	}
out:
	json_decref(root);
	http_response_clear(&rs);
	free(url);
	free(mail);
	return rc;
}

/* POST /api/smime/v1/revoke/serial/{serial} with the reason in words. */
static int
sectigo_revoke(void *state, X509 *cert, int reason, struct ca_result *out)
{
	struct sectigo *c = state;
	struct ca_cert_ids ids;
	struct http_response rs;
	json_t *o = NULL, *root = NULL;
	char *url = NULL, *body = NULL, detail[1024];
	int rc = -1;

	memset(&rs, 0, sizeof(rs));
	if (ca_cert_ids(cert, &ids, out) != 0)
		return -1;
	url = xasprintf("%s/api/smime/v1/revoke/serial/%s", c->base, ids.serial_hex);
	o = json_pack("{s:s}", "reason", ca_reason_name(reason));
	if (o == NULL || (body = json_dumps(o, JSON_COMPACT)) == NULL)
		fatal("out of memory");
	if (ca_rest_send(c->conf, "POST", url, (const char *const *)c->headers, body, body, &rs,
	    out) != 0)
		goto out;
	if (rs.status >= 200 && rs.status <= 299) {
		rc = 0;
		goto out;
	}
	root = json_loadb(rs.body.data, rs.body.len, 0, NULL);
	scm_error(&rs, root, detail, sizeof(detail));
	(void)ca_rest_status(c->conf, &rs, detail, out);
out:
	json_decref(o);
	json_decref(root);
	http_response_clear(&rs);
	free(url);
	free(body);
	ca_cert_ids_clear(&ids);
	return rc;
}

const struct ca_backend ca_sectigo_backend = {
	.open = sectigo_open,
	.submit = sectigo_submit,
	.poll = sectigo_poll,
	.lookup = sectigo_lookup,
	.revoke = sectigo_revoke,
	.chain = NULL,
	.close = sectigo_close,
};
