/* SPDX-License-Identifier: ISC */
/*
 * Room net/: the network clients below directory/, smime/ and mail/ (this
 * HTTPS exchange, and the Microsoft Graph client in graph.h). Plain
 * parameter structs only: nothing here knows the configuration model.
 *
 * One HTTP(S) exchange over libcurl, with the limits every network call
 * here must have: a timeout, TLS verification on by default, and a
 * maximum response size (STYLE 13).
 *
 *   struct http_request rq = { .method = "POST", .url = url, .body = json,
 *       .body_len = strlen(json), .content_type = "application/json",
 *       .timeout = 30, .max_response = 1 << 20, .tls = &tls };
 *   struct http_response rs;
 *   switch (http_exchange(&rq, &rs, &e)) { case HTTP_DONE: look at rs.status ... }
 *   http_response_clear(&rs);
 *
 * HTTP_DONE means the server answered, whatever the status. Everything in
 * a request borrows the caller's memory; the response owns its body.
 * Header values may be secrets (passwords, tokens): this module never logs
 * them, nor request bodies; it logs the method, URL and status at debug.
 *
 * curl_global_init() is called once, on first use, from the first thread
 * that uses the module; callers that start threads must make their first
 * exchange before that (smimesync's CA and Graph calls run on the main
 * thread).
 */
#ifndef SMIMESYNC_NET_HTTP_H
#define SMIMESYNC_NET_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "common/attrs.h"
#include "common/buf.h"
#include "common/errbuf.h"

struct http_tls {
	const char *ca_file;   /* CAs trusted for the server; NULL: the system store */
	bool verify;           /* false only when an admin said so (and it is logged) */
	const char *cert_file; /* client certificate (PEM), or NULL */
	const char *key_file;  /* its key (PEM), or NULL */
};

struct http_request {
	const char *method;          /* "GET" or "POST" */
	const char *url;
	const char *const *headers;  /* "Name: value" lines, NULL-terminated, or NULL */
	const char *content_type;    /* for a body, e.g. "application/json" */
	const char *body;            /* POST body, or NULL */
	size_t body_len;
	long timeout;                /* seconds, connection included; > 0 */
	size_t max_response;         /* bytes; a longer answer is an error */
	const struct http_tls *tls;  /* NULL: verify against the system store */
};

struct http_response {
	long status;
	struct buf body;   /* NUL-terminated */
	long retry_after;  /* seconds from a Retry-After header, -1 when none */
};

enum http_outcome {
	HTTP_DONE = 0,   /* the server answered (any status) */
	HTTP_NO_ANSWER,  /* could not connect, timed out, connection broke: transient */
	HTTP_BAD_SETUP,  /* our side: TLS verification failed, client certificate unusable,
	                    answer larger than max_response, bad URL */
};

enum http_outcome http_exchange(const struct http_request *rq, struct http_response *rs,
    struct errbuf *e) MUST_USE;
void http_response_clear(struct http_response *rs);

#endif
