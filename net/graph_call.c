/* SPDX-License-Identifier: ISC */
/*
 * graph_call(): one Graph request with a valid token, throttling sat out
 * and Graph's JSON error turned into one sentence for the report. See
 * net/graph.h for the rules; net/http.c does the bytes, graph_token.c
 * the token.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fileutil.h"
#include "net/graph_internal.h"
#include "common/log.h"
#include "common/strutil.h"
#include "common/xalloc.h"

static const char *const status_names[] = {
	[GRAPH_OK] = "ok",
	[GRAPH_UNREACHABLE] = "unreachable",
	[GRAPH_AUTH_FAILED] = "auth-failed",
	[GRAPH_BAD_CONFIG] = "bad-config",
	[GRAPH_FAILED] = "failed",
};

const char *
graph_status_name(enum graph_status st)
{
	return (size_t)st < ARRAY_LEN(status_names) ? status_names[st] : "?";
}

/* Copy of url without a trailing '/' (new). */
static char *
trim_slash(const char *url)
{
	char *s = xstrdup(url);
	size_t n = strlen(s);

	while (n > 0 && s[n - 1] == '/')
		s[--n] = '\0';
	return s;
}

enum graph_status
graph_open(const struct graph_params *p, struct graph **out, struct errbuf *e)
{
	struct graph *g = xcalloc(1, sizeof(*g));
	enum graph_status st;

	*out = NULL;
	g->p = *p;
	g->tls.ca_file = p->tls_ca_file;
	g->tls.verify = p->tls_verify;
	g->authority = trim_slash(p->authority_host);
	g->base = trim_slash(p->graph_host);
	if (!p->tls_verify)
		log_warn("%s: tls_verify = no: the Graph and token servers' certificates are NOT "
		    "checked; anybody on the path can read the token and the directory",
		    p->label);
	st = graph_load_credentials(g, e);
	if (st != GRAPH_OK) {
		graph_close(g);
		return st;
	}
	*out = g;
	return GRAPH_OK;
}

void
graph_close(struct graph *g)
{
	if (g == NULL)
		return;
	graph_token_drop(g);
	secret_free_str(g->secret);
	EVP_PKEY_free(g->key);
	free(g->x5t_s256);
	free(g->authority);
	free(g->base);
	free(g);
}

unsigned
graph_token_count(const struct graph *g)
{
	return g->n_tokens;
}

void
graph_reply_clear(struct graph_reply *r)
{
	json_decref(r->json);
	free(r->error_code);
	memset(r, 0, sizeof(*r));
}

char *
graph_url_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = xmalloc(3 * strlen(s) + 1), *o = out;

	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~", *p) != NULL) {
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

unsigned
graph_retry_wait(const struct http_response *rs, unsigned attempt)
{
	unsigned wait = 1u << (attempt < 8 ? attempt + 1 : 8);

	/* Graph sends delta-seconds; without them (or with an HTTP date): back off. */
	if (rs->retry_after >= 0)
		wait = rs->retry_after > GRAPH_MAX_RETRY_WAIT ? GRAPH_MAX_RETRY_WAIT :
		    (unsigned)rs->retry_after;
	return wait > GRAPH_MAX_RETRY_WAIT ? GRAPH_MAX_RETRY_WAIT : wait;
}

/* Caller's headers plus Accept and, with a token, Authorization (the array is new). */
static const char **
request_headers(const char *const *headers, const char *bearer_line)
{
	size_t n = 0, k = 0;
	const char **all;

	while (headers != NULL && headers[n] != NULL)
		n++;
	all = xcalloc(n + 3, sizeof(*all));
	for (; k < n; k++)
		all[k] = headers[k];
	all[k++] = "Accept: application/json";
	if (bearer_line != NULL)
		all[k++] = bearer_line;
	return all;
}

enum graph_status
graph_send_patiently(struct graph *g, const char *method, const char *url,
    const char *const *headers, bool with_token, const char *content_type,
    const char *body, size_t body_len, struct http_response *rs, struct errbuf *e)
{
	struct http_request rq;

	memset(&rq, 0, sizeof(rq));
	rq.method = method;
	rq.url = url;
	rq.content_type = content_type;
	rq.body = body;
	rq.body_len = body_len;
	rq.timeout = (long)g->p.timeout;
	rq.max_response = GRAPH_MAX_BODY;
	rq.tls = &g->tls;
	for (unsigned attempt = 0;; attempt++) {
		enum graph_status st;
		enum http_outcome out;
		char *bearer = NULL;
		const char **all;
		unsigned wait;

		/* Every try, for a wait may have outlived the token. */
		if (with_token && (st = graph_token_get(g, false, e)) != GRAPH_OK)
			return st;
		if (with_token)
			bearer = xasprintf("Authorization: Bearer %s", g->token);
		all = request_headers(headers, bearer);
		rq.headers = all;
		http_response_clear(rs);
		out = http_exchange(&rq, rs, e);
		free(all);
		secret_free_str(bearer);
		if (out == HTTP_NO_ANSWER)
			return GRAPH_UNREACHABLE;
		if (out != HTTP_DONE)
			return GRAPH_BAD_CONFIG; /* TLS trust, an oversized answer: ours to fix */
		if (rs->status != 429 && rs->status != 503)
			return GRAPH_OK;
		if (attempt + 1 >= GRAPH_MAX_THROTTLED) {
			err_set(e, "%s %s: still HTTP %ld (%s) after %u tries; Graph is throttling "
			    "this application: the next run tries again", method, url, rs->status,
			    rs->status == 429 ? "Too Many Requests" : "Service Unavailable",
			    GRAPH_MAX_THROTTLED);
			return GRAPH_UNREACHABLE;
		}
		wait = graph_retry_wait(rs, attempt);
		log_info("%s %s: HTTP %ld: waiting %u s (Retry-After %s)", method, url, rs->status,
		    wait, rs->retry_after >= 0 ? "given" : "not given: backing off");
		if (wait > 0)
			sleep(wait);
	}
}

/* Is url on base (the same scheme, host and port, then a path)? */
static bool
on_host(const char *url, const char *base)
{
	size_t n = strlen(base);

	return strncmp(url, base, n) == 0 && (url[n] == '/' || url[n] == '?');
}

/* Graph's error sentence for a non-2xx answer, and the status it means; *code new or NULL. */
static enum graph_status
graph_failed(const char *method, const char *url, const struct http_response *h,
    char **code_out, struct errbuf *e)
{
	json_t *doc = json_loadb(h->body.data, h->body.len, 0, NULL);
	json_t *err = json_object_get(doc, "error");
	const char *code = json_string_value(json_object_get(err, "code"));
	const char *msg = json_string_value(json_object_get(err, "message"));
	const char *rid = json_string_value(json_object_get(json_object_get(err, "innerError"),
	    "request-id"));
	const char *hint = "";
	enum graph_status st = GRAPH_FAILED;
	char shown[300];

	if (h->status == 401) {
		st = GRAPH_AUTH_FAILED;
		hint = "; the token was refused twice: check tenant_id, and graph_host against "
		    "authority_host's cloud";
	} else if (h->status == 403) {
		st = GRAPH_AUTH_FAILED;
		hint = "; grant the application permission this needs (GroupMember.Read.All, "
		    "User.Read.All, Mail.Send) and an administrator's consent";
	} else if (h->status == 404) {
		st = GRAPH_BAD_CONFIG;
	} else if (h->status >= 500) {
		st = GRAPH_UNREACHABLE;
	}
	if (code != NULL && strlen(code) < 128)
		*code_out = xstrdup(code);
	if (code != NULL) {
		snprintf(shown, sizeof(shown), "%s", msg != NULL ? msg : "(no message)");
		for (char *p = shown; *p != '\0'; p++)
			if ((unsigned char)*p < 0x20)
				*p = ' ';
		err_set(e, "%s %s: HTTP %ld %s: %s%s%s%s%s", method, url, h->status, code, shown,
		    rid != NULL ? " (request-id " : "", rid != NULL ? rid : "",
		    rid != NULL ? ")" : "", hint);
	} else {
		size_t n = h->body.len < 200 ? h->body.len : 200;

		snprintf(shown, sizeof(shown), "%.*s", (int)n, h->body.data != NULL ?
		    h->body.data : "");
		for (char *p = shown; *p != '\0'; p++)
			if ((unsigned char)*p < 0x20)
				*p = ' ';
		err_set(e, "%s %s: HTTP %ld without a Graph error body: %s%s", method, url,
		    h->status, shown[0] != '\0' ? shown : "(empty)", hint);
	}
	json_decref(doc);
	return st;
}

enum graph_status
graph_call(struct graph *g, const char *method, const char *path, const char *const *headers,
    const char *content_type, const char *body, size_t body_len, struct graph_reply *r,
    struct errbuf *e)
{
	struct http_response h;
	char *url = NULL;
	enum graph_status st;
	json_error_t jerr;
	bool renewed = false;

	memset(r, 0, sizeof(*r));
	memset(&h, 0, sizeof(h));
	if (path[0] == '/') {
		url = xasprintf("%s%s", g->base, path);
	} else if (on_host(path, g->base)) {
		url = xstrdup(path);
	} else {
		/* A nextLink elsewhere would get our token: refuse it. */
		err_set(e, "%s: Graph sent a link to %.200s, which is not on graph_host %s; "
		    "refusing to send the token there", g->p.label, path, g->base);
		st = GRAPH_FAILED;
		goto out;
	}
	for (;;) {
		st = graph_send_patiently(g, method, url, headers, true, content_type, body,
		    body_len, &h, e);
		if (st != GRAPH_OK) {
			/* A token problem already names the directory. */
			if (!str_starts_with(e->text, g->p.label))
				err_prefix(e, "%s", g->p.label);
			goto out;
		}
		if (h.status != 401 || renewed)
			break;
		/* Expired or revoked before we thought: one new token, one more try. */
		log_info("%s %s: HTTP 401: fetching a new token and trying once more", method, url);
		graph_token_drop(g);
		renewed = true;
	}
	r->http_status = h.status;
	if (h.status < 200 || h.status > 299) {
		st = graph_failed(method, url, &h, &r->error_code, e);
		err_prefix(e, "%s", g->p.label);
		goto out;
	}
	if (h.body.len > 0) {
		r->json = json_loadb(h.body.data, h.body.len, JSON_REJECT_DUPLICATES, &jerr);
		if (!json_is_object(r->json)) {
			err_set(e, "%s: %s %s: HTTP %ld with a body that is not a JSON object "
			    "(line %d: %s)", g->p.label, method, url, h.status, jerr.line,
			    r->json == NULL ? jerr.text : "not an object");
			json_decref(r->json);
			r->json = NULL;
			st = GRAPH_FAILED;
			goto out;
		}
	}
	st = GRAPH_OK;
out:
	http_response_clear(&h);
	free(url);
	return st;
}
