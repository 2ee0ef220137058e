/* SPDX-License-Identifier: ISC */
/*
 * A cfssl server as CA: POST /api/v1/cfssl/authsign when auth_key_file
 * holds the server's HMAC key, else the unauthenticated /api/v1/cfssl/sign.
 *
 * authsign wraps the sign request: {"token": base64(HMAC-SHA256(key,
 * request)), "request": base64(request)}, where request is the JSON of a
 * plain sign call and key is the hex key of the server's auth_keys entry,
 * decoded. The answer is cfssl's envelope: {"success": bool, "result":
 * {"certificate": PEM}, "errors": [{"code": n, "message": text}]}. cfssl
 * returns the leaf alone, so the chain comes from chain_file. cfssl signs
 * at once or not at all: it never answers "pending".
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "common/buf.h"
#include "common/fileutil.h"
#include "common/log.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "smime/ca_backend.h"

struct cfssl {
	const struct conf_ca *conf; /* borrowed: the config outlives the CA handle */
	unsigned char *key;         /* HMAC key, NULL for plain sign */
	size_t key_len;
	char *endpoint;
	char *revoke_url;           /* .../api/v1/cfssl/revoke */
};

static int
hex_decode(const char *hex, unsigned char **out, size_t *len)
{
	size_t n = strlen(hex);
	unsigned char *b;

	if (n == 0 || n % 2 != 0)
		return -1;
	b = xmalloc(n / 2);
	for (size_t i = 0; i < n / 2; i++) {
		int hi = OPENSSL_hexchar2int((unsigned char)hex[2 * i]);
		int lo = OPENSSL_hexchar2int((unsigned char)hex[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			secret_free(b, n / 2);
			return -1;
		}
		b[i] = (unsigned char)(hi << 4 | lo);
	}
	*out = b;
	*len = n / 2;
	return 0;
}

static void cfssl_close(void *state);

static int
cfssl_open(const struct conf_ca *conf, struct signer *signer, void **out,
    struct errbuf *e)
{
	struct cfssl *c = xcalloc(1, sizeof(*c));
	const char *base = conf->url;
	size_t blen = strlen(base);
	char *hex = NULL;

	(void)signer; /* an external CA keeps its keys itself */
	c->conf = conf;
	while (blen > 0 && base[blen - 1] == '/')
		blen--;
	if (conf->auth_key_file != NULL) {
		if (ca_read_secret(conf, "auth_key_file", conf->auth_key_file, &hex, e) != 0)
			goto fail;
		if (hex_decode(hex, &c->key, &c->key_len) != 0) {
			err_set(e, "[ca %s] auth_key_file %s does not hold a hex key (the \"key\" of "
			    "the server's auth_keys entry, e.g. 32 hex digits)", conf->name,
			    conf->auth_key_file);
			goto fail;
		}
	}
	c->endpoint = xasprintf("%.*s/api/v1/cfssl/%s", (int)blen, base,
	    c->key != NULL ? "authsign" : "sign");
	c->revoke_url = xasprintf("%.*s/api/v1/cfssl/revoke", (int)blen, base);
	secret_free_str(hex);
	*out = c;
	return 0;
fail:
	secret_free_str(hex);
	cfssl_close(c);
	return -1;
}

static void
cfssl_close(void *state)
{
	struct cfssl *c = state;

	if (c == NULL)
		return;
	secret_free(c->key, c->key_len);
	free(c->endpoint);
	free(c->revoke_url);
	free(c);
}

static char *
b64(const unsigned char *data, size_t len)
{
	char *out = xmalloc(4 * ((len + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	return out;
}

/* The sign request: the CSR, the profile, and the addresses as hosts (cfssl puts
 * an address-shaped host into the SAN as rfc822Name). */
static char *
sign_request(const struct cfssl *c, X509_REQ *csr, const struct ca_request *req)
{
	json_t *o = json_object(), *hosts = json_array();
	char *pem = ca_csr_pem(csr);
	char *s;

	json_array_append_new(hosts, json_string(req->mail));
	for (size_t i = 0; req->alt_mails != NULL && i < req->n_alt_mails; i++)
		json_array_append_new(hosts, json_string(req->alt_mails[i]));
	json_object_set_new(o, "certificate_request", json_string(pem));
	json_object_set_new(o, "hosts", hosts);
	if (c->conf->profile != NULL)
		json_object_set_new(o, "profile", json_string(c->conf->profile));
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	if (s == NULL)
		fatal("out of memory");
	json_decref(o);
	free(pem);
	return s;
}

static char *
authsign_wrap(const struct cfssl *c, const char *request)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;
	char *token, *body, *req64;
	json_t *o;

	if (HMAC(EVP_sha256(), c->key, (int)c->key_len, (const unsigned char *)request,
	    strlen(request), mac, &mac_len) == NULL)
		fatal("HMAC-SHA256 is not available");
	token = b64(mac, mac_len);
	req64 = b64((const unsigned char *)request, strlen(request));
	o = json_pack("{s:s, s:s}", "token", token, "request", req64);
	if (o == NULL || (body = json_dumps(o, JSON_COMPACT)) == NULL)
		fatal("out of memory");
	json_decref(o);
	free(token);
	free(req64);
	return body;
}

/* "code 5300: message; ..." from cfssl's errors array. */
static void
cfssl_errors(json_t *root, char *out, size_t size)
{
	json_t *errs = json_object_get(root, "errors"), *v;
	size_t i, used = 0;

	out[0] = '\0';
	json_array_foreach(errs, i, v) {
		const char *msg = json_string_value(json_object_get(v, "message"));
		json_int_t code = json_integer_value(json_object_get(v, "code"));
		int n = snprintf(out + used, size - used, "%s%s (cfssl code %lld)",
		    used > 0 ? "; " : "", msg != NULL ? msg : "?", (long long)code);

		if (n < 0 || (size_t)n >= size - used)
			break;
		used += (size_t)n;
	}
}

/*
 * cfssl codes are category * 1000 + reason: 5xxx are policy (an unknown
 * profile, a profile that needs authentication), 9xxx a bad CSR. Codes
 * below 1000 are HTTP statuses: authsign answers a token made with the
 * wrong key with 400 "invalid token". Policy and token failures are ours
 * to fix; the rest is the CA saying no.
 */
static enum ca_outcome
cfssl_error_outcome(json_t *root)
{
	json_t *first = json_array_get(json_object_get(root, "errors"), 0);
	json_int_t code = json_integer_value(json_object_get(first, "code"));
	const char *msg = json_string_value(json_object_get(first, "message"));

	if (code >= 5000 && code < 6000)
		return CA_MISCONFIGURED;
	if (code < 1000 && msg != NULL && strstr(msg, "token") != NULL)
		return CA_MISCONFIGURED;
	if (code >= 7000 && code < 8000)
		return CA_MISCONFIGURED; /* the API did not understand us */
	return CA_REJECTED;
}

enum ca_outcome
ca_cfssl_answer(const struct conf_ca *conf, bool authsign, const struct http_response *rs,
    X509_REQ *csr, struct ca_result *out)
{
	json_t *root = NULL;
	json_error_t jerr;
	char detail[1024];
	const char *pem;
	enum ca_outcome o;

	root = json_loadb(rs->body.data, rs->body.len, 0, &jerr);
	if (root != NULL && json_is_false(json_object_get(root, "success"))) {
		cfssl_errors(root, detail, sizeof(detail));
		if (rs->status >= 500 || rs->status == 429)
			o = ca_rest_status(conf, rs, detail, out);
		else
			o = ca_fail(out, cfssl_error_outcome(root), "[ca %s] cfssl refused: %s%s",
			    conf->name, detail, cfssl_error_outcome(root) == CA_MISCONFIGURED &&
			    authsign ? "; check that auth_key_file holds the key of the "
			    "profile's auth_key on the server" : "");
		goto out;
	}
	if (rs->status < 200 || rs->status > 299 || root == NULL) {
		ca_body_excerpt(rs->body.data, rs->body.len, detail, sizeof(detail));
		o = rs->status >= 200 && rs->status <= 299 ?
		    ca_fail(out, CA_MISCONFIGURED, "[ca %s] the answer is not cfssl's JSON (%s at "
		    "byte %d): %s; is url a cfssl server?", conf->name, jerr.text, jerr.position,
		    detail) : ca_rest_status(conf, rs, detail, out);
		goto out;
	}
	pem = json_string_value(json_object_get(json_object_get(root, "result"), "certificate"));
	if (pem == NULL) {
		o = ca_fail(out, CA_MISCONFIGURED, "[ca %s] cfssl said success but sent no "
		    "result.certificate", conf->name);
		goto out;
	}
	o = ca_issued_from(pem, strlen(pem), csr, conf->name, CA_REJECTED,
	    "cfssl's result.certificate", out);
out:
	json_decref(root);
	return o;
}

static enum ca_outcome
cfssl_submit(void *state, X509_REQ *csr, const struct ca_request *req, struct ca_result *out)
{
	struct cfssl *c = state;
	struct http_response rs;
	char *request = sign_request(c, csr, req);
	char *body = c->key != NULL ? authsign_wrap(c, request) : xstrdup(request);
	enum ca_outcome o;

	memset(&rs, 0, sizeof(rs));
	/* The audit log gets the sign request itself: the token is derived from a secret. */
	if ((o = ca_rest_send(c->conf, "POST", c->endpoint, NULL, body, request, &rs, out)) == 0)
		o = ca_cfssl_answer(c->conf, c->key != NULL, &rs, csr, out);
	http_response_clear(&rs);
	free(request);
	free(body);
	return o;
}

/*
 * cfssl's revoke call (POST /api/v1/cfssl/revoke, served when the server
 * has a certificate database): serial in decimal, the authority key
 * identifier in lowercase hex, the reason by name.
 */
static int
cfssl_revoke(void *state, X509 *cert, int reason, struct ca_result *out)
{
	struct cfssl *c = state;
	struct ca_cert_ids ids;
	struct http_response rs;
	json_t *o = NULL, *root = NULL;
	char *body = NULL, detail[1024];
	int rc = -1;

	memset(&rs, 0, sizeof(rs));
	if (ca_cert_ids(cert, &ids, out) != 0)
		return -1;
	/*
	 * The database row is keyed by serial and authority key identifier.
	 * cfssl 1.2 (Debian 12's) records an empty identifier, later versions
	 * the certificate's: when the real one finds nothing, the empty one is
	 * tried.
	 */
	for (int pass = 0; pass < 2; pass++) {
		json_decref(o);
		json_decref(root);
		free(body);
		root = NULL;
		http_response_clear(&rs);
		o = json_pack("{s:s, s:s, s:s}", "serial", ids.serial_dec, "authority_key_id",
		    pass == 0 ? ids.aki : "", "reason", ca_reason_name(reason));
		if (o == NULL || (body = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
			fatal("out of memory");
		if (ca_rest_send(c->conf, "POST", c->revoke_url, NULL, body, body, &rs, out) != 0)
			goto out;
		root = json_loadb(rs.body.data, rs.body.len, 0, NULL);
		if (rs.status >= 200 && rs.status <= 299 &&
		    json_is_true(json_object_get(root, "success"))) {
			rc = 0;
			goto out;
		}
		if (ids.aki[0] == '\0' || rs.status != 400 || rs.body.data == NULL ||
		    strstr(rs.body.data, "not found") == NULL)
			break;
	}
	if (root != NULL && json_object_get(root, "errors") != NULL)
		cfssl_errors(root, detail, sizeof(detail));
	else
		ca_body_excerpt(rs.body.data, rs.body.len, detail, sizeof(detail));
	(void)ca_rest_status(c->conf, &rs, detail, out);
	if (rs.status == 404)
		snprintf(out->reason, sizeof(out->reason), "[ca %s] HTTP 404 from %s: the cfssl "
		    "server has no revoke endpoint; start it with -db-config so that it keeps a "
		    "certificate database", c->conf->name, c->revoke_url);
out:
	json_decref(o);
	json_decref(root);
	http_response_clear(&rs);
	free(body);
	ca_cert_ids_clear(&ids);
	return rc;
}

const struct ca_backend ca_cfssl_backend = {
	.open = cfssl_open,
	.submit = cfssl_submit,
	.revoke = cfssl_revoke,
	.poll = NULL,
	.chain = NULL,
	.close = cfssl_close,
};
