/* SPDX-License-Identifier: ISC */
/*
 * What smime/ca.c needs from each kind of CA, and the tools external
 * connectors share. Private to smime/.
 *
 * A backend opens from its [ca] section into a state of its own, answers
 * submit (and poll, if it can answer PENDING) with one of the outcomes of
 * ca.h, and closes. It fills out->cert and out->chain on ISSUED (the
 * dispatcher verifies them for external CAs), out->reason otherwise,
 * out->cookie and out->retry_after on PENDING, and appends what it sent
 * and received to out->exchange (ca_exchange_add) without secrets.
 * Backends never log secrets: passwords, HMAC keys, client keys.
 */
#ifndef SMIMESYNC_SMIME_CA_BACKEND_H
#define SMIMESYNC_SMIME_CA_BACKEND_H

#include <openssl/x509.h>

#include "common/attrs.h"
#include "common/errbuf.h"
#include "net/http.h"
#include "conf/conf.h"
#include "smime/ca_result.h"
#include "smime/crl.h"

struct signer;

struct ca_backend {
	/*
	 * signer (borrowed, may be NULL) is the signer process the caller of
	 * ca_open() passed: a backend whose key lives there sends its
	 * signatures to it; the others ignore it.
	 */
	int (*open)(const struct conf_ca *conf, struct signer *signer, void **state,
	    struct errbuf *e);
	enum ca_outcome (*submit)(void *state, X509_REQ *csr, const struct ca_request *req,
	    struct ca_result *out);
	/* NULL when the backend never answers PENDING. */
	enum ca_outcome (*poll)(void *state, X509_REQ *csr, const struct ca_request *req,
	    const char *cookie, struct ca_result *out);
	/*
	 * Reconciliation after a lost answer (invariant I3): does the CA hold
	 * a certificate for the CSR's key? CA_ISSUED with out->cert (and what
	 * chain it has) when it does, CA_REJECTED when it holds none, else a
	 * transient outcome. NULL when the CA offers no way to look it up.
	 */
	enum ca_outcome (*lookup)(void *state, X509_REQ *csr, const struct ca_request *req,
	    struct ca_result *out);
	/*
	 * Revoke a certificate this CA issued, for an RFC 5280 reason code: 0,
	 * or -1 with out->reason. NULL when the CA offers no revocation call.
	 */
	int (*revoke)(void *state, X509 *cert, int reason, struct ca_result *out);
	/* The backend's own issuing chain (borrowed), or NULL. */
	STACK_OF(X509) *(*chain)(void *state);
	/* ca_make_crl(); NULL when the CA publishes its own CRLs (every external CA). */
	int (*make_crl)(void *state, uint64_t number_floor, int64_t lifetime, struct ca_crl *out,
	    struct errbuf *e);
	void (*close)(void *state);
};

extern const struct ca_backend ca_local_backend;
extern const struct ca_backend ca_cfssl_backend;
extern const struct ca_backend ca_ejbca_backend;
extern const struct ca_backend ca_sectigo_backend;
extern const struct ca_backend ca_helper_backend;

/*
 * The local CA's issuing certificate and, when this process holds it (no
 * signer), its key; borrowed. For ca_issuer_cert() and ca_issuer_key().
 */
X509 *ca_local_issuer_cert(void *state);
EVP_PKEY *ca_local_issuer_key(void *state);

/* ---- shared by the external connectors (smime/ca_rest.c) ---- */

/* Largest answer any CA may send: a chain of a few certificates in JSON or PEM. */
#define CA_MAX_RESPONSE (256 * 1024)

/* Append one line to out->exchange (the audit record). */
void ca_exchange_add(struct ca_result *out, const char *fmt, ...) PRINTF_LIKE(2, 3);

/* The TLS settings of a [ca] section (borrowed from conf). */
void ca_rest_tls(const struct conf_ca *conf, struct http_tls *tls);

/*
 * Send one request to a REST CA. On an answer (any status) returns 0 with
 * rs filled and the exchange recorded; otherwise returns the outcome
 * (UNREACHABLE or MISCONFIGURED) with out->reason set. audit_body is what
 * the audit log may see of the request body (secrets removed), or NULL.
 */
int ca_rest_send(const struct conf_ca *conf, const char *method, const char *url,
    const char *const *headers, const char *body, const char *audit_body,
    struct http_response *rs, struct ca_result *out) MUST_USE;

/*
 * The outcome a non-success HTTP status means when the API gives it no
 * special meaning: 401/403/404 our configuration, 408/429/5xx transient
 * (retry_after from Retry-After), other 4xx the CA refusing the request.
 * Sets out->reason to "HTTP status: detail".
 */
enum ca_outcome ca_rest_status(const struct conf_ca *conf, const struct http_response *rs,
    const char *detail, struct ca_result *out);

/* The body, cut to fit a report line, with control characters replaced. */
void ca_body_excerpt(const char *body, size_t len, char *out, size_t size);

/*
 * Parse certificates from a CA's answer: PEM certificates, PEM or DER
 * PKCS#7 certs-only, or one DER certificate. *out is new.
 */
int ca_parse_certs(const void *data, size_t len, STACK_OF(X509) **out, struct errbuf *e)
    MUST_USE;

/*
 * Fill out->cert and out->chain from certs (stolen): the certificate
 * with the CSR's public key is the leaf, the rest the chain. Returns
 * CA_ISSUED, or CA_REJECTED when no certificate has the CSR's key.
 */
enum ca_outcome ca_take_issued(STACK_OF(X509) *certs, X509_REQ *csr, const char *ca_name,
    struct ca_result *out) MUST_USE;

/*
 * ca_parse_certs() then ca_take_issued(): the certificates of an answer
 * (data, len) as out->cert and out->chain. An answer without a readable
 * certificate gives the outcome unreadable, its reason starting with what.
 */
enum ca_outcome ca_issued_from(const void *data, size_t len, X509_REQ *csr, const char *ca_name,
    enum ca_outcome unreadable, const char *what, struct ca_result *out) MUST_USE;

/* Percent-encode s for a URL path segment or query value (new): all but A-Z a-z 0-9 - . _ ~. */
char *ca_url_escape(const char *s);

/*
 * What revoke calls need of a certificate (new strings): its serial in
 * uppercase hex and in decimal, its issuer as RFC 2253, and its authority
 * key identifier in lowercase hex ("" when it has none). Returns 0 or -1.
 */
struct ca_cert_ids {
	char *serial_hex;
	char *serial_dec;
	char *issuer;
	char *aki;
};
int ca_cert_ids(X509 *cert, struct ca_cert_ids *ids, struct ca_result *out) MUST_USE;
void ca_cert_ids_clear(struct ca_cert_ids *ids);

/* The RFC 5280 reason name (camelCase, "keyCompromise") of a reason code. */
const char *ca_reason_name(int reason);

/* The CSR in PEM (new). */
char *ca_csr_pem(X509_REQ *csr);

/* A file's content with trailing white space removed (secret files). */
int ca_read_secret(const struct conf_ca *conf, const char *key, const char *path, char **out,
    struct errbuf *e) MUST_USE;

/*
 * How each connector reads an answer, apart from the network so that the
 * fuzz target tests/fuzz/fuzz_ca_answer.c can feed them anything.
 */
enum ca_outcome ca_cfssl_answer(const struct conf_ca *conf, bool authsign,
    const struct http_response *rs, X509_REQ *csr, struct ca_result *out) MUST_USE;
enum ca_outcome ca_ejbca_answer(const struct conf_ca *conf, const struct http_response *rs,
    X509_REQ *csr, struct ca_result *out) MUST_USE;
/* 0 and the order number, or -1 with *failed the outcome and out->reason set. */
int ca_sectigo_enroll_answer(const struct conf_ca *conf, const struct http_response *rs,
    char *order, size_t size, enum ca_outcome *failed, struct ca_result *out) MUST_USE;
enum ca_outcome ca_sectigo_collect_answer(const struct conf_ca *conf,
    const struct http_response *rs, X509_REQ *csr, const char *order,
    struct ca_result *out) MUST_USE;
/* What a helper's exit status and output (text, len) mean for op. */
enum ca_outcome ca_helper_answer(const struct conf_ca *conf, const char *op, int status,
    char *text, size_t len, X509_REQ *csr, struct ca_result *out) MUST_USE;

/* ---- verification of what an external CA issued (smime/ca_verify.c) ---- */

/*
 * Check out->cert against the request and out->chain against anchors
 * (extra: more untrusted intermediates, may be NULL). On success replaces
 * out->chain by the verified path (issuing CA first, anchor last) and
 * returns 0; otherwise -1 with the reason in e.
 */
int ca_verify_issued(X509_STORE *anchors, STACK_OF(X509) *extra, X509_REQ *csr,
    const struct ca_request *req, struct ca_result *out, struct errbuf *e) MUST_USE;

#endif
