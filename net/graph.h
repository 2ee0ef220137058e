/* SPDX-License-Identifier: ISC */
/*
 * Microsoft Graph v1.0 as an application (OAuth 2.0 client credentials),
 * shared by the Entra ID source (directory/dir_graph.c) and the Graph
 * mail transport (mail/graph_mail.c). Only HTTPS, through net/http.c, with the
 * server certificate and host name verified unless tls_verify is off.
 *
 * Usage:
 *
 *   struct graph_params p = { .label = "[directory entra]", .tenant_id = ..., ... };
 *   struct graph *g = NULL;
 *   struct graph_reply r;
 *
 *   if (graph_open(&p, &g, &e) != GRAPH_OK) ... e.text ...
 *   st = graph_call(g, "GET", "/v1.0/groups/ID?$select=id", NULL, NULL, 0, &r, &e);
 *   ... r.json (a JSON object) when st == GRAPH_OK ...
 *   graph_reply_clear(&r);
 *   graph_close(g);
 *
 * graph_open() reads the credential files (the client secret, or the
 * certificate and key of a signed client assertion) and asks for no token
 * yet. Every graph_call() makes sure a token is at hand: one is fetched
 * from {authority_host}/{tenant}/oauth2/v2.0/token on first use and renewed
 * five minutes before it expires (client credentials get no refresh token,
 * so renewing is asking again).
 *
 * Faults, the same for every call (graph_call.c):
 *   429 and 503  wait as long as Retry-After says (or back off 2, 4, 8 s
 *                without one), at most GRAPH_MAX_THROTTLED times per
 *                call and never longer than GRAPH_MAX_RETRY_WAIT at once;
 *   401          the token is fetched anew and the call repeated once;
 *   other 4xx/5xx end the call: e says which request, the HTTP status and
 *                Graph's error code and message from its JSON error body
 *                ({"error":{"code","message","innerError":{"request-id"}}}).
 *
 * Ownership: graph_params strings are borrowed for the life of the handle
 * (they live in the configuration), except secret, which graph_open()
 * reads itself. graph_reply owns its JSON (jansson: a new reference).
 */
#ifndef SMIMESYNC_NET_GRAPH_H
#define SMIMESYNC_NET_GRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/attrs.h"
#include "common/errbuf.h"

/* Largest Graph or token response we read (STYLE 13): a page of 999 users is ~1 MB. */
#define GRAPH_MAX_BODY (16u << 20)
/* Throttled answers (429/503) one call sits out before it gives up. */
#define GRAPH_MAX_THROTTLED 6
/* The longest single Retry-After wait we honour, in seconds. */
#define GRAPH_MAX_RETRY_WAIT 300

enum graph_status {
	GRAPH_OK = 0,
	GRAPH_UNREACHABLE, /* no connection, TLS failure, timeout, still throttled, 5xx */
	GRAPH_AUTH_FAILED, /* the token was refused, or the app lacks a permission (401/403) */
	GRAPH_BAD_CONFIG,  /* unreadable credential files, or 404: no such group or user */
	GRAPH_FAILED,      /* any other refusal; e carries Graph's code and message */
};

struct graph_params {
	const char *label;          /* "[directory entra]": starts every message */
	const char *tenant_id;      /* directory (tenant) id or a verified domain */
	const char *client_id;      /* application (client) id */
	const char *secret_file;    /* client secret (secret file), or NULL ... */
	const char *cert_file;      /* ... the certificate (PEM) registered with the app */
	const char *key_file;       /* and its private key (PEM, secret file) */
	const char *authority_host; /* https://login.microsoftonline.com */
	const char *graph_host;     /* https://graph.microsoft.com */
	const char *tls_ca_file;    /* NULL: the system's trust store */
	bool tls_verify;
	int64_t timeout;            /* seconds for connecting, and for a whole request */
};

struct graph_reply {
	long http_status;
	json_t *json; /* new; NULL when the body was empty (202, 204) */
	char *error_code; /* new: Graph's error code ("syncStateNotFound") of a failed
	                     call whose body had one, else NULL */
};

struct graph;

enum graph_status graph_open(const struct graph_params *p, struct graph **out,
    struct errbuf *e) MUST_USE;
void graph_close(struct graph *g);

/*
 * One request: path is either a path under graph_host ("/v1.0/...") or a
 * complete URL on graph_host (an @odata.nextLink, followed verbatim).
 * headers is NULL or a NULL-terminated list of extra "Name: value" lines;
 * body (borrowed) is sent with content_type when not NULL. On GRAPH_OK
 * *r holds the 2xx status and the parsed body.
 */
enum graph_status graph_call(struct graph *g, const char *method, const char *path,
    const char *const *headers, const char *content_type, const char *body, size_t body_len,
    struct graph_reply *r, struct errbuf *e) MUST_USE;
void graph_reply_clear(struct graph_reply *r);

/* Tokens fetched so far (the tests check the renewal). */
unsigned graph_token_count(const struct graph *g);

const char *graph_status_name(enum graph_status st);

/* Percent-encode s for a URL path segment or query value (new). */
char *graph_url_escape(const char *s);

#endif
