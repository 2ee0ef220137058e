/* SPDX-License-Identifier: ISC */
/*
 * Private to the Graph client (common/graph_*.c): the handle, the raw
 * HTTPS exchange (graph_http.c) and the token (graph_token.c). Everything
 * else uses common/graph.h.
 */
#ifndef SMIMESYNC_COMMON_GRAPH_INTERNAL_H
#define SMIMESYNC_COMMON_GRAPH_INTERNAL_H

#include <time.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/buf.h"
#include "common/graph.h"

struct graph {
	struct graph_params p; /* strings borrowed from the configuration */
	char *authority;       /* authority_host without a trailing '/' (new) */
	char *base;            /* graph_host without a trailing '/' (new) */
	char *secret;          /* client secret (new, wiped on close), or NULL */
	EVP_PKEY *key;         /* certificate credential: private key ... */
	char *x5t_s256;        /* ... and base64url SHA-256 of the certificate's DER */
	CURL *curl;            /* reused: one TLS connection for many requests */
	char *token;           /* bearer token (new, wiped), or NULL */
	struct timespec token_renew; /* CLOCK_MONOTONIC: fetch a new token from then on */
	unsigned n_tokens;
};

/* One HTTP exchange as it came back. */
struct graph_http {
	long status;
	struct buf body;        /* at most GRAPH_MAX_BODY */
	char retry_after[32];   /* the Retry-After header, or "" */
	char request_id[80];    /* request-id or x-ms-request-id, or "" */
};

void graph_http_init(struct graph_http *h);
void graph_http_free(struct graph_http *h);

/*
 * Send one request to url and read the answer into h (reset first).
 * headers: NULL or a NULL-terminated list; bearer: NULL or a token.
 * Returns 0 whenever an HTTP answer came back, whatever its status, or -1
 * with e set ("url: reason") when none did.
 */
int graph_http_send(struct graph *g, const char *method, const char *url,
    const char *const *headers, const char *bearer, const char *content_type,
    const char *body, size_t body_len, struct graph_http *h, struct errbuf *e) MUST_USE;

/*
 * Seconds to wait before the next try of a throttled request: Retry-After
 * (delta-seconds) when given, else 2^attempt; capped at GRAPH_MAX_RETRY_WAIT.
 */
unsigned graph_retry_wait(const struct graph_http *h, unsigned attempt);

/*
 * graph_http_send() sitting out 429 and 503 answers (Retry-After), as the
 * header of common/graph.h describes; with_token, each try carries a token
 * that graph_token_get() has just found fresh. Returns GRAPH_OK when an
 * answer other than those came back (any status), GRAPH_UNREACHABLE with e
 * set when none did or the server stayed throttled, or the token's failure.
 */
enum graph_status graph_send_patiently(struct graph *g, const char *method, const char *url,
    const char *const *headers, bool with_token, const char *content_type,
    const char *body, size_t body_len, struct graph_http *h, struct errbuf *e) MUST_USE;

/* Read the credential files named in g->p (graph_token.c). */
enum graph_status graph_load_credentials(struct graph *g, struct errbuf *e) MUST_USE;
/* Make sure g->token is fresh; force fetches a new one in any case. */
enum graph_status graph_token_get(struct graph *g, bool force, struct errbuf *e) MUST_USE;
void graph_token_drop(struct graph *g);

/* base64url without padding (RFC 7515 2) of data (new). */
char *graph_b64url(const unsigned char *data, size_t len);

#endif
