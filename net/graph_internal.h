/* SPDX-License-Identifier: ISC */
/*
 * Private to the Graph client (net/graph_*.c): the handle, the
 * throttling rules over net/http.c's exchange (graph_call.c) and the
 * token (graph_token.c). Everything else uses net/graph.h.
 */
#ifndef SMIMESYNC_NET_GRAPH_INTERNAL_H
#define SMIMESYNC_NET_GRAPH_INTERNAL_H

#include <time.h>

#include <openssl/evp.h>

#include "net/graph.h"
#include "net/http.h"

struct graph {
	struct graph_params p; /* strings borrowed from the configuration */
	struct http_tls tls;   /* from p: the CA file and whether to verify */
	char *authority;       /* authority_host without a trailing '/' (new) */
	char *base;            /* graph_host without a trailing '/' (new) */
	char *secret;          /* client secret (new, wiped on close), or NULL */
	EVP_PKEY *key;         /* certificate credential: private key ... */
	char *x5t_s256;        /* ... and base64url SHA-256 of the certificate's DER */
	char *token;           /* bearer token (new, wiped), or NULL */
	struct timespec token_renew; /* CLOCK_MONOTONIC: fetch a new token from then on */
	unsigned n_tokens;
};

/*
 * Seconds to wait before the next try of a throttled request: Retry-After
 * (delta-seconds) when given, else 2^(attempt+1); capped at
 * GRAPH_MAX_RETRY_WAIT.
 */
unsigned graph_retry_wait(const struct http_response *rs, unsigned attempt);

/*
 * One HTTPS exchange (net/http.c) sitting out 429 and 503 answers (Retry-After), as the
 * header of net/graph.h describes; with_token, each try carries a token
 * that graph_token_get() has just found fresh. Returns GRAPH_OK when an
 * answer other than those came back (any status), GRAPH_UNREACHABLE with e
 * set when none did or the server stayed throttled, or the token's failure.
 */
enum graph_status graph_send_patiently(struct graph *g, const char *method, const char *url,
    const char *const *headers, bool with_token, const char *content_type,
    const char *body, size_t body_len, struct http_response *rs, struct errbuf *e) MUST_USE;

/* Read the credential files named in g->p (graph_token.c). */
enum graph_status graph_load_credentials(struct graph *g, struct errbuf *e) MUST_USE;
/* Make sure g->token is fresh; force fetches a new one in any case. */
enum graph_status graph_token_get(struct graph *g, bool force, struct errbuf *e) MUST_USE;
void graph_token_drop(struct graph *g);

/* base64url without padding (RFC 7515 2) of data (new). */
char *graph_b64url(const unsigned char *data, size_t len);

#endif
