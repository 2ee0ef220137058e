/* SPDX-License-Identifier: ISC */
/*
 * What the external CA connectors share: sending a request with the
 * section's TLS settings and limits, turning HTTP statuses and transport
 * failures into CA outcomes, recording each exchange for the audit log,
 * and reading certificates out of whatever encoding a CA answers in.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509v3.h>

#include "common/buf.h"
#include "common/fileutil.h"
#include "common/log.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "smime/ca_backend.h"
#include "smime/cert.h"

/* How much of each answer the audit log keeps: enough for any error body. */
#define EXCHANGE_BODY_MAX 2048

void
ca_exchange_add(struct ca_result *out, const char *fmt, ...)
{
	struct buf b;
	va_list ap;

	buf_init(&b, 0);
	if (out->exchange != NULL && (buf_puts(&b, out->exchange) != 0 || buf_putc(&b, '\n') != 0))
		fatal("out of memory");
	va_start(ap, fmt);
	if (buf_vprintf(&b, fmt, ap) != 0)
		fatal("out of memory");
	va_end(ap);
	free(out->exchange);
	out->exchange = buf_steal(&b, NULL);
}

void
ca_body_excerpt(const char *body, size_t len, char *out, size_t size)
{
	size_t j = 0;

	for (size_t i = 0; i < len && j + 4 < size; i++) {
		unsigned char c = (unsigned char)body[i];

		out[j++] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
	}
	if (j + 4 >= size && len > j) {
		out[j++] = '.';
		out[j++] = '.';
		out[j++] = '.';
	}
	out[j] = '\0';
	/* Trailing white space says nothing. */
	while (j > 0 && out[j - 1] == ' ')
		out[--j] = '\0';
}

void
ca_rest_tls(const struct conf_ca *conf, struct http_tls *tls)
{
	tls->ca_file = conf->tls_ca_file;
	tls->verify = conf->tls_verify;
	tls->cert_file = conf->tls_cert_file;
	tls->key_file = conf->tls_key_file;
}

int
ca_rest_send(const struct conf_ca *conf, const char *method, const char *url,
    const char *const *headers, const char *body, const char *audit_body,
    struct http_response *rs, struct ca_result *out)
{
	struct http_tls tls;
	struct http_request rq;
	struct errbuf e;
	char excerpt[EXCHANGE_BODY_MAX];

	ca_rest_tls(conf, &tls);
	memset(&rq, 0, sizeof(rq));
	rq.method = method;
	rq.url = url;
	rq.headers = headers;
	rq.content_type = body != NULL ? "application/json" : NULL;
	rq.body = body;
	rq.body_len = body != NULL ? strlen(body) : 0;
	rq.timeout = (long)conf->timeout;
	rq.max_response = CA_MAX_RESPONSE;
	rq.tls = &tls;
	err_clear(&e);
	ca_exchange_add(out, "%s %s%s%s", method, url, audit_body != NULL ? " " : "",
	    audit_body != NULL ? audit_body : "");
	switch (http_exchange(&rq, rs, &e)) {
	case HTTP_DONE:
		ca_body_excerpt(rs->body.data, rs->body.len, excerpt, sizeof(excerpt));
		ca_exchange_add(out, "-> HTTP %ld %s", rs->status, excerpt);
		return 0;
	case HTTP_NO_ANSWER:
		ca_exchange_add(out, "-> no answer: %s", e.text);
		return ca_fail(out, CA_UNREACHABLE, "[ca %s] %s", conf->name, e.text);
	case HTTP_BAD_SETUP:
		break;
	}
	ca_exchange_add(out, "-> failed: %s", e.text);
	return ca_fail(out, CA_MISCONFIGURED, "[ca %s] %s", conf->name, e.text);
}

enum ca_outcome
ca_rest_status(const struct conf_ca *conf, const struct http_response *rs, const char *detail,
    struct ca_result *out)
{
	long st = rs->status;
	enum ca_outcome o = CA_REJECTED;
	const char *hint = "";

	if (st == 401 || st == 403) {
		o = CA_MISCONFIGURED;
		hint = "; check the credentials and what this account may do at the CA";
	} else if (st == 404 || st == 405) {
		o = CA_MISCONFIGURED;
		hint = "; check url (the CA has no such endpoint)";
	} else if (st == 408 || st == 429 || st >= 500) {
		o = CA_UNREACHABLE;
		if (rs->retry_after >= 0)
			out->retry_after = rs->retry_after;
	} else if (st < 400) {
		/* A 1xx/3xx where an answer was due: redirects are not followed on purpose. */
		o = CA_MISCONFIGURED;
		hint = "; smimesync does not follow redirects: point url at the final address";
	}
	return ca_fail(out, o, "[ca %s] HTTP %ld: %s%s", conf->name, st,
	    detail != NULL && detail[0] != '\0' ? detail : "(no detail in the answer)", hint);
}

static int
push_all(STACK_OF(X509) *dst, STACK_OF(X509) *src)
{
	for (int i = 0; src != NULL && i < sk_X509_num(src); i++) {
		X509 *x = sk_X509_value(src, i);

		if (X509_up_ref(x) != 1 || sk_X509_push(dst, x) == 0)
			fatal("out of memory");
	}
	return 0;
}

static STACK_OF(X509) *
pkcs7_certs(PKCS7 *p7)
{
	if (p7 == NULL || !PKCS7_type_is_signed(p7) || p7->d.sign == NULL)
		return NULL;
	return p7->d.sign->cert;
}

int
ca_parse_certs(const void *data, size_t len, STACK_OF(X509) **out, struct errbuf *e)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	BIO *bio = NULL;
	X509 *x = NULL;
	PKCS7 *p7 = NULL;
	int rc = -1;

	if (sk == NULL || len > INT32_MAX)
		fatal("out of memory");
	if (memmem(data, len, "-----BEGIN PKCS7-----", 21) != NULL) {
		bio = BIO_new_mem_buf(data, (int)len);
		p7 = bio != NULL ? PEM_read_bio_PKCS7(bio, NULL, NULL, NULL) : NULL;
		push_all(sk, pkcs7_certs(p7));
	} else if (memmem(data, len, "-----BEGIN CERTIFICATE-----", 27) != NULL) {
		sk_X509_free(sk);
		sk = NULL;
		if (cert_parse_pem("the CA's answer", data, len, &sk, e) != 0)
			goto out;
	} else {
		const unsigned char *p = data;

		/* DER: a certificate, or PKCS#7 certs-only. */
		x = d2i_X509(NULL, &p, (long)len);
		if (x != NULL && p == (const unsigned char *)data + len) {
			if (sk_X509_push(sk, x) == 0)
				fatal("out of memory");
			x = NULL;
		} else {
			p = data;
			p7 = d2i_PKCS7(NULL, &p, (long)len);
			push_all(sk, pkcs7_certs(p7));
		}
	}
	ERR_clear_error();
	if (sk_X509_num(sk) == 0) {
		err_set(e, "no certificate could be read from the CA's answer (%zu bytes); expected "
		    "PEM, DER or PKCS#7", len);
		goto out;
	}
	*out = sk;
	sk = NULL;
	rc = 0;
out:
	X509_free(x);
	PKCS7_free(p7);
	BIO_free(bio);
	sk_X509_pop_free(sk, X509_free);
	return rc;
}

enum ca_outcome
ca_take_issued(STACK_OF(X509) *certs, X509_REQ *csr, const char *ca_name, struct ca_result *out)
{
	EVP_PKEY *want = X509_REQ_get0_pubkey(csr);

	for (int i = 0; i < sk_X509_num(certs); i++) {
		X509 *x = sk_X509_value(certs, i);
		EVP_PKEY *pk = X509_get0_pubkey(x);

		if (pk != NULL && want != NULL && EVP_PKEY_eq(pk, want) == 1) {
			out->cert = sk_X509_delete(certs, i);
			out->chain = certs;
			return CA_ISSUED;
		}
	}
	ERR_clear_error();
	sk_X509_pop_free(certs, X509_free);
	return ca_fail(out, CA_REJECTED, "[ca %s] none of the certificates the CA sent is for "
	    "the key of the request; refusing the answer", ca_name);
}

enum ca_outcome
ca_issued_from(const void *data, size_t len, X509_REQ *csr, const char *ca_name,
    enum ca_outcome unreadable, const char *what, struct ca_result *out)
{
	STACK_OF(X509) *certs = NULL;
	struct errbuf e;

	err_clear(&e);
	if (ca_parse_certs(data, len, &certs, &e) != 0)
		return ca_fail(out, unreadable, "[ca %s] %s: %s", ca_name, what, e.text);
	return ca_take_issued(certs, csr, ca_name, out);
}

char *
ca_csr_pem(X509_REQ *csr)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data = NULL, *copy;
	long len;

	if (bio == NULL || PEM_write_bio_X509_REQ(bio, csr) != 1)
		fatal("out of memory");
	len = BIO_get_mem_data(bio, &data);
	copy = xstrndup(data, (size_t)len);
	BIO_free(bio);
	return copy;
}

int
ca_read_secret(const struct conf_ca *conf, const char *key, const char *path, char **out,
    struct errbuf *e)
{
	if (file_read_password(path, out, e) != 0) {
		err_prefix(e, "[ca %s] %s", conf->name, key);
		return -1;
	}
	return 0;
}

char *
ca_url_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = xmalloc(strlen(s) * 3 + 1), *o = out;

	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    *p == '-' || *p == '.' || *p == '_' || *p == '~') {
			*o++ = (char)*p;
		} else {
			*o++ = '%';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
		}
	}
	*o = '\0';
	return out;
}

void
ca_cert_ids_clear(struct ca_cert_ids *ids)
{
	free(ids->serial_hex);
	OPENSSL_free(ids->serial_dec);
	free(ids->issuer);
	free(ids->aki);
	memset(ids, 0, sizeof(*ids));
}

int
ca_cert_ids(X509 *cert, struct ca_cert_ids *ids, struct ca_result *out)
{
	struct cert_info ci;
	BIGNUM *bn = NULL;
	const ASN1_OCTET_STRING *kid = X509_get0_authority_key_id(cert);
	struct errbuf e;

	memset(ids, 0, sizeof(*ids));
	memset(&ci, 0, sizeof(ci));
	if (cert_info_get(cert, &ci, &e) != 0 ||
	    (bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL)) == NULL ||
	    (ids->serial_dec = BN_bn2dec(bn)) == NULL) {
		BN_free(bn);
		cert_info_clear(&ci);
		(void)ca_fail(out, CA_MISCONFIGURED, "cannot read the certificate to revoke");
		return -1;
	}
	BN_free(bn);
	ids->serial_hex = ci.serial;
	ids->issuer = ci.issuer;
	ci.serial = NULL;
	ci.issuer = NULL;
	cert_info_clear(&ci);
	ids->aki = kid != NULL ? hex_encode(ASN1_STRING_get0_data(kid), (size_t)ASN1_STRING_length(kid)) :
	    xstrdup("");
	return 0;
}

const char *
ca_reason_name(int reason)
{
	static const char *const names[] = { "unspecified", "keyCompromise", "cACompromise",
		"affiliationChanged", "superseded", "cessationOfOperation", "certificateHold",
		"unused", "removeFromCRL", "privilegeWithdrawn", "aACompromise" };

	return reason >= 0 && reason <= 10 ? names[reason] : "unspecified";
}
