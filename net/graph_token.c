/* SPDX-License-Identifier: ISC */
/*
 * The application's access token (OAuth 2.0 client credentials grant at
 * the Microsoft identity platform, v2.0 endpoint):
 *
 *   POST {authority_host}/{tenant}/oauth2/v2.0/token
 *   client_id, scope={graph_host}/.default, grant_type=client_credentials,
 *   and client_secret, or client_assertion_type=urn:ietf:params:oauth:
 *   client-assertion-type:jwt-bearer with client_assertion = a JWT signed
 *   by the app's certificate key.
 *
 * The assertion follows Microsoft's "certificate credentials" page: header
 * alg PS256, typ JWT, x5t#S256 (base64url SHA-256 of the certificate's
 * DER); claims aud (the token URL), iss = sub = client id, a random jti,
 * nbf = iat = now, exp ten minutes later; RSASSA-PSS with SHA-256 and a
 * salt as long as the digest.
 *
 * There is no refresh token in this grant: a token about to expire is
 * replaced by asking again, TOKEN_MARGIN seconds before expires_in ends.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "common/fileutil.h"
#include "net/graph_internal.h"
#include "common/log.h"
#include "common/xalloc.h"

#define TOKEN_MARGIN 300     /* renew this many seconds before expiry */
#define ASSERTION_LIFETIME 600
#define MAX_CRED_FILE (64 * 1024)
#define MAX_TOKEN_LEN (32 * 1024)

char *
graph_b64url(const unsigned char *data, size_t len)
{
	char *out = xmalloc(4 * ((len + 2) / 3) + 1);
	int n = EVP_EncodeBlock((unsigned char *)out, data, (int)len);

	while (n > 0 && out[n - 1] == '=')
		n--;
	out[n] = '\0';
	for (char *p = out; *p != '\0'; p++) {
		if (*p == '+')
			*p = '-';
		else if (*p == '/')
			*p = '_';
	}
	return out;
}

static enum graph_status
load_certificate(struct graph *g, struct errbuf *e)
{
	X509 *cert = NULL;
	unsigned char *der = NULL, md[32];
	char *pem = NULL;
	size_t pem_len = 0;
	unsigned md_len = 0;
	int der_len;
	BIO *bio = NULL;
	enum graph_status st = GRAPH_BAD_CONFIG;

	if (file_read_all(g->p.cert_file, MAX_CRED_FILE, &pem, &pem_len, e) != 0) {
		err_prefix(e, "%s client_cert_file", g->p.label);
		goto out;
	}
	bio = BIO_new_mem_buf(pem, (int)pem_len);
	if (bio == NULL || (cert = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL) {
		err_set(e, "%s client_cert_file: %s holds no PEM certificate; give the certificate "
		    "you uploaded to the app registration (-----BEGIN CERTIFICATE-----)",
		    g->p.label, g->p.cert_file);
		err_add_openssl(e);
		goto out;
	}
	BIO_free(bio);
	bio = NULL;
	secret_free(pem, pem_len);
	pem = NULL;
	if (file_read_secret(g->p.key_file, MAX_CRED_FILE, &pem, &pem_len, e) != 0) {
		err_prefix(e, "%s client_key_file", g->p.label);
		goto out;
	}
	bio = BIO_new_mem_buf(pem, (int)pem_len);
	if (bio == NULL || (g->key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)) == NULL) {
		err_set(e, "%s client_key_file: %s holds no unencrypted PEM private key",
		    g->p.label, g->p.key_file);
		err_add_openssl(e);
		goto out;
	}
	if (!EVP_PKEY_is_a(g->key, "RSA")) {
		err_set(e, "%s client_key_file: the key is not an RSA key; Entra ID signs client "
		    "assertions with RSA (PS256): register an RSA certificate", g->p.label);
		goto out;
	}
	if (X509_check_private_key(cert, g->key) != 1) {
		err_set(e, "%s: client_key_file %s is not the key of client_cert_file %s",
		    g->p.label, g->p.key_file, g->p.cert_file);
		ERR_clear_error();
		goto out;
	}
	der_len = i2d_X509(cert, &der);
	if (der_len <= 0 || EVP_Digest(der, (size_t)der_len, md, &md_len, EVP_sha256(), NULL) != 1) {
		err_set(e, "%s client_cert_file: cannot encode the certificate", g->p.label);
		err_add_openssl(e);
		goto out;
	}
	g->x5t_s256 = graph_b64url(md, md_len);
	st = GRAPH_OK;
out:
	BIO_free(bio);
	secret_free(pem, pem_len);
	OPENSSL_free(der);
	X509_free(cert);
	return st;
}

enum graph_status
graph_load_credentials(struct graph *g, struct errbuf *e)
{
	if (g->p.secret_file != NULL) {
		if (file_read_password(g->p.secret_file, &g->secret, e) != 0) {
			err_prefix(e, "%s client_secret_file", g->p.label);
			return GRAPH_BAD_CONFIG;
		}
		if (g->secret[0] == '\0') {
			err_set(e, "%s client_secret_file: %s is empty; put the secret's Value (not its "
			    "Secret ID) from the app registration in it", g->p.label,
			    g->p.secret_file);
			return GRAPH_BAD_CONFIG;
		}
		return GRAPH_OK;
	}
	if (g->p.cert_file != NULL && g->p.key_file != NULL)
		return load_certificate(g, e);
	err_set(e, "%s: no credential; set client_secret_file, or client_cert_file and "
	    "client_key_file", g->p.label);
	return GRAPH_BAD_CONFIG;
}

/* A random UUID (version 4) for jti. */
static void
uuid4(char out[37])
{
	unsigned char r[16];

	if (RAND_bytes(r, sizeof(r)) != 1) {
		fprintf(stderr, "smimesync: fatal: no random numbers for a JWT id\n");
		abort();
	}
	r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
	r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
	    r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13],
	    r[14], r[15]);
}

/* base64url of a JSON object's compact text (new). */
static char *
b64_json(json_t *obj)
{
	char *text = json_dumps(obj, JSON_COMPACT);
	char *b64;

	if (text == NULL) {
		fprintf(stderr, "smimesync: fatal: out of memory (JSON)\n");
		abort();
	}
	b64 = graph_b64url((const unsigned char *)text, strlen(text));
	free(text);
	return b64;
}

/* The signed client assertion (new), or NULL with e set. */
static char *
client_assertion(struct graph *g, const char *token_url, struct errbuf *e)
{
	json_t *hdr = NULL, *claims = NULL;
	char *h64 = NULL, *c64 = NULL, *input = NULL, *s64 = NULL, *jwt = NULL;
	unsigned char *sig = NULL;
	size_t sig_len = 0;
	EVP_MD_CTX *md = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	time_t now = time(NULL);
	char jti[37];

	uuid4(jti);
	hdr = json_pack("{s:s, s:s, s:s}", "alg", "PS256", "typ", "JWT", "x5t#S256", g->x5t_s256);
	claims = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I}", "aud", token_url,
	    "iss", g->p.client_id, "sub", g->p.client_id, "jti", jti, "nbf", (json_int_t)now,
	    "iat", (json_int_t)now, "exp", (json_int_t)(now + ASSERTION_LIFETIME));
	if (hdr == NULL || claims == NULL) {
		err_set(e, "%s: cannot build the client assertion (client_id is not UTF-8?)",
		    g->p.label);
		goto out;
	}
	h64 = b64_json(hdr);
	c64 = b64_json(claims);
	input = xasprintf("%s.%s", h64, c64);
	md = EVP_MD_CTX_new();
	if (md == NULL || EVP_DigestSignInit(md, &pctx, EVP_sha256(), NULL, g->key) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1 ||
	    EVP_DigestSign(md, NULL, &sig_len, (const unsigned char *)input, strlen(input)) != 1) {
		err_set(e, "%s: cannot sign the client assertion with client_key_file", g->p.label);
		err_add_openssl(e);
		goto out;
	}
	sig = xmalloc(sig_len);
	if (EVP_DigestSign(md, sig, &sig_len, (const unsigned char *)input, strlen(input)) != 1) {
		err_set(e, "%s: cannot sign the client assertion with client_key_file", g->p.label);
		err_add_openssl(e);
		goto out;
	}
	s64 = graph_b64url(sig, sig_len);
	jwt = xasprintf("%s.%s", input, s64);
out:
	json_decref(hdr);
	json_decref(claims);
	EVP_MD_CTX_free(md);
	free(h64);
	free(c64);
	free(input);
	free(sig);
	free(s64);
	return jwt;
}

/* "key=escaped(value)" appended to form with '&' as needed. */
static void
form_add(struct buf *form, const char *key, const char *value)
{
	char *esc = graph_url_escape(value);

	if (buf_printf(form, "%s%s=%s", form->len > 0 ? "&" : "", key, esc) != 0) {
		fprintf(stderr, "smimesync: fatal: out of memory (token request)\n");
		abort();
	}
	secret_free_str(esc); /* may be the secret */
}

/* First line of the token endpoint's error_description, for one-line messages. */
static void
first_line(const char *s, char *out, size_t size)
{
	size_t n = strcspn(s, "\r\n");

	if (n >= size)
		n = size - 1;
	memcpy(out, s, n);
	out[n] = '\0';
}

/* What to check for the token endpoint's error codes we know. */
static const char *
token_hint(const char *error, const char *desc)
{
	if (strstr(desc, "AADSTS7000215") != NULL || strstr(desc, "AADSTS7000222") != NULL)
		return "the client secret is wrong or expired: create a new one under "
		    "Certificates & secrets and put its Value in client_secret_file";
	if (strstr(desc, "AADSTS700027") != NULL || strstr(desc, "AADSTS700024") != NULL)
		return "the client assertion was refused: upload client_cert_file to the app "
		    "registration (Certificates & secrets) and check this machine's clock";
	if (strstr(desc, "AADSTS700016") != NULL)
		return "no application with this client_id in this tenant: check client_id "
		    "and tenant_id";
	if (strstr(desc, "AADSTS90002") != NULL)
		return "no such tenant: check tenant_id";
	if (strcmp(error, "invalid_scope") == 0)
		return "the scope was refused: graph_host must be the Graph endpoint of "
		    "authority_host's cloud";
	return "check tenant_id, client_id and the credential in the app registration";
}

static enum graph_status
token_failed(struct graph *g, const char *url, const struct http_response *h,
    struct errbuf *e)
{
	json_t *doc = json_loadb(h->body.data, h->body.len, 0, NULL);
	const char *error = NULL, *desc = NULL;
	char line[600];

	if (json_is_object(doc)) {
		error = json_string_value(json_object_get(doc, "error"));
		desc = json_string_value(json_object_get(doc, "error_description"));
	}
	first_line(desc != NULL ? desc : "", line, sizeof(line));
	if (error != NULL) {
		err_set(e, "%s: token request to %s: HTTP %ld %s: %s; %s", g->p.label, url,
		    h->status, error, line[0] != '\0' ? line : "(no description)",
		    token_hint(error, line));
	} else {
		first_line(h->body.data != NULL ? h->body.data : "", line, 200);
		err_set(e, "%s: token request to %s: HTTP %ld without an OAuth error body: %s",
		    g->p.label, url, h->status, line[0] != '\0' ? line : "(empty)");
	}
	json_decref(doc);
	if (h->status >= 500)
		return GRAPH_UNREACHABLE;
	return h->status == 400 || h->status == 401 ? GRAPH_AUTH_FAILED : GRAPH_FAILED;
}

void
graph_token_drop(struct graph *g)
{
	secret_free_str(g->token);
	g->token = NULL;
}

static bool
token_fresh(const struct graph *g)
{
	struct timespec now;

	if (g->token == NULL)
		return false;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec < g->token_renew.tv_sec;
}

enum graph_status
graph_token_get(struct graph *g, bool force, struct errbuf *e)
{
	struct http_response h;
	struct buf form;
	char *url = NULL, *scope = NULL, *assertion = NULL;
	json_t *doc = NULL, *exp;
	const char *token, *type;
	json_int_t expires_in = 0;
	enum graph_status st;
	struct timespec now;

	if (!force && token_fresh(g))
		return GRAPH_OK;
	graph_token_drop(g);
	memset(&h, 0, sizeof(h));
	buf_init(&form, 0);
	url = xasprintf("%s/%s/oauth2/v2.0/token", g->authority, g->p.tenant_id);
	scope = xasprintf("%s/.default", g->base);
	form_add(&form, "client_id", g->p.client_id);
	form_add(&form, "scope", scope);
	form_add(&form, "grant_type", "client_credentials");
	if (g->secret != NULL) {
		form_add(&form, "client_secret", g->secret);
	} else {
		if ((assertion = client_assertion(g, url, e)) == NULL) {
			st = GRAPH_BAD_CONFIG;
			goto out;
		}
		form_add(&form, "client_assertion_type",
		    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
		form_add(&form, "client_assertion", assertion);
	}
	st = graph_send_patiently(g, "POST", url, NULL, false,
	    "application/x-www-form-urlencoded", form.data, form.len, &h, e);
	if (st != GRAPH_OK) {
		err_prefix(e, "%s: token request", g->p.label);
		goto out;
	}
	if (h.status != 200) {
		st = token_failed(g, url, &h, e);
		goto out;
	}
	doc = json_loadb(h.body.data, h.body.len, 0, NULL);
	token = json_string_value(json_object_get(doc, "access_token"));
	type = json_string_value(json_object_get(doc, "token_type"));
	exp = json_object_get(doc, "expires_in");
	if (json_is_integer(exp))
		expires_in = json_integer_value(exp);
	else if (json_is_string(exp))
		expires_in = strtoll(json_string_value(exp), NULL, 10);
	if (token == NULL || *token == '\0' || strlen(token) > MAX_TOKEN_LEN ||
	    strspn(token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/=") !=
	    strlen(token) || type == NULL || strcasecmp(type, "Bearer") != 0 || expires_in <= 0) {
		err_set(e, "%s: the token endpoint %s answered 200 without a usable bearer token "
		    "(access_token, token_type Bearer, expires_in); is authority_host the identity "
		    "platform?", g->p.label, url);
		st = GRAPH_FAILED;
		goto out;
	}
	g->token = xstrdup(token);
	g->n_tokens++;
	clock_gettime(CLOCK_MONOTONIC, &now);
	/* Short-lived tokens (tests) are renewed at half their life instead. */
	g->token_renew.tv_sec = now.tv_sec + (expires_in > 2 * TOKEN_MARGIN ?
	    expires_in - TOKEN_MARGIN : expires_in / 2);
	log_debug("%s: new access token, valid for %lld s", g->p.label, (long long)expires_in);
	st = GRAPH_OK;
out:
	/*
	 * The answer held the token: wipe the bytes we received. (jansson's
	 * parsed copy is freed without wiping; the token lives an hour at most.)
	 */
	json_decref(doc);
	if (h.body.data != NULL)
		memset(h.body.data, 0, h.body.len);
	http_response_clear(&h);
	if (form.data != NULL)
		memset(form.data, 0, form.len); /* held the secret or the assertion */
	buf_free(&form);
	secret_free_str(assertion);
	free(url);
	free(scope);
	return st;
}
