/* SPDX-License-Identifier: ISC */
/*
 * The HTTPS exchange under the Graph client: one libcurl easy handle per
 * struct graph, reused so that a paged read keeps its TLS connection.
 * HTTPS only, redirects not followed (Graph and the token endpoint never
 * redirect an API call; following one could hand the token to another
 * host), the answer cut off at GRAPH_MAX_BODY.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/fileutil.h"
#include "common/graph_internal.h"
#include "common/log.h"
#include "common/xalloc.h"

void
graph_http_init(struct graph_http *h)
{
	memset(h, 0, sizeof(*h));
	buf_init(&h->body, GRAPH_MAX_BODY);
}

void
graph_http_free(struct graph_http *h)
{
	buf_free(&h->body);
	memset(h, 0, sizeof(*h));
}

/* curl_slist_append() fails only when out of memory: the policy of xalloc.h. */
static struct curl_slist *
slist_add(struct curl_slist *l, const char *line)
{
	struct curl_slist *n = curl_slist_append(l, line);

	if (n == NULL) {
		fprintf(stderr, "smimesync: fatal: out of memory (HTTP header list)\n");
		abort();
	}
	return n;
}

struct sink {
	struct graph_http *h;
	bool too_big;
};

static size_t
on_body(char *data, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;

	if (buf_append(&s->h->body, data, size * n) != 0) {
		s->too_big = true;
		return 0; /* makes libcurl stop with CURLE_WRITE_ERROR */
	}
	return size * n;
}

/* Copy a header's value, trimmed, when line is "name: value". */
static void
header_value(const char *line, size_t len, const char *name, char *out, size_t size)
{
	size_t nlen = strlen(name), v, end;

	if (len <= nlen || strncasecmp(line, name, nlen) != 0 || line[nlen] != ':')
		return;
	for (v = nlen + 1; v < len && (line[v] == ' ' || line[v] == '\t'); v++)
		;
	for (end = len; end > v && isspace((unsigned char)line[end - 1]); end--)
		;
	if (end - v >= size)
		end = v + size - 1;
	for (size_t i = v; i < end; i++)
		out[i - v] = isprint((unsigned char)line[i]) ? line[i] : '?';
	out[end - v] = '\0';
}

static size_t
on_header(char *line, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;
	size_t len = size * n;

	/* A new status line (after a 100 Continue): forget the earlier headers. */
	if (len >= 5 && strncmp(line, "HTTP/", 5) == 0) {
		s->h->retry_after[0] = '\0';
		s->h->request_id[0] = '\0';
	}
	header_value(line, len, "Retry-After", s->h->retry_after, sizeof(s->h->retry_after));
	header_value(line, len, "request-id", s->h->request_id, sizeof(s->h->request_id));
	if (s->h->request_id[0] == '\0')
		header_value(line, len, "x-ms-request-id", s->h->request_id,
		    sizeof(s->h->request_id));
	return len;
}

int
graph_http_send(struct graph *g, const char *method, const char *url,
    const char *const *headers, const char *bearer, const char *content_type,
    const char *body, size_t body_len, struct graph_http *h, struct errbuf *e)
{
	struct curl_slist *hl = NULL;
	struct sink sink = { h, false };
	char errtext[CURL_ERROR_SIZE] = "";
	char *line = NULL;
	CURLcode rc;
	int ret = -1;

	buf_reset(&h->body);
	h->status = 0;
	h->retry_after[0] = '\0';
	h->request_id[0] = '\0';
	if (g->curl == NULL && (g->curl = curl_easy_init()) == NULL) {
		err_set(e, "%s: cannot set up an HTTPS client (libcurl)", url);
		return -1;
	}
	curl_easy_reset(g->curl);
	for (size_t i = 0; headers != NULL && headers[i] != NULL; i++)
		hl = slist_add(hl, headers[i]);
	if (bearer != NULL) {
		line = xasprintf("Authorization: Bearer %s", bearer);
		hl = slist_add(hl, line);
		secret_free_str(line);
	}
	if (content_type != NULL) {
		line = xasprintf("Content-Type: %s", content_type);
		hl = slist_add(hl, line);
		free(line);
	}
	hl = slist_add(hl, "Accept: application/json");
	/* libcurl would otherwise add "Expect: 100-continue" to large bodies. */
	hl = slist_add(hl, "Expect:");

	curl_easy_setopt(g->curl, CURLOPT_URL, url);
	curl_easy_setopt(g->curl, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(g->curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(g->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(g->curl, CURLOPT_USERAGENT, PACKAGE_NAME "/" PACKAGE_VERSION);
	curl_easy_setopt(g->curl, CURLOPT_CONNECTTIMEOUT, (long)g->p.timeout);
	curl_easy_setopt(g->curl, CURLOPT_TIMEOUT, (long)g->p.timeout);
	curl_easy_setopt(g->curl, CURLOPT_SSL_VERIFYPEER, g->p.tls_verify ? 1L : 0L);
	curl_easy_setopt(g->curl, CURLOPT_SSL_VERIFYHOST, g->p.tls_verify ? 2L : 0L);
	curl_easy_setopt(g->curl, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (g->p.tls_ca_file != NULL)
		curl_easy_setopt(g->curl, CURLOPT_CAINFO, g->p.tls_ca_file);
	curl_easy_setopt(g->curl, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(g->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(g->curl, CURLOPT_WRITEDATA, &sink);
	curl_easy_setopt(g->curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(g->curl, CURLOPT_HEADERDATA, &sink);
	curl_easy_setopt(g->curl, CURLOPT_ERRORBUFFER, errtext);
	if (strcmp(method, "GET") == 0) {
		curl_easy_setopt(g->curl, CURLOPT_HTTPGET, 1L);
	} else {
		curl_easy_setopt(g->curl, CURLOPT_CUSTOMREQUEST, method);
		curl_easy_setopt(g->curl, CURLOPT_POSTFIELDS, body != NULL ? body : "");
		curl_easy_setopt(g->curl, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)(body != NULL ? body_len : 0));
	}

	rc = curl_easy_perform(g->curl);
	if (sink.too_big) {
		err_set(e, "%s: the answer is larger than %u bytes; refusing to read it", url,
		    GRAPH_MAX_BODY);
		goto out;
	}
	if (rc != CURLE_OK) {
		err_set(e, "%s: %s%s%s", url, errtext[0] != '\0' ? errtext : curl_easy_strerror(rc),
		    rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE ?
		    "; check tls_ca_file (the CA that signed this server's certificate) and the "
		    "host name in the URL" : "",
		    rc == CURLE_OPERATION_TIMEDOUT ? "; raise timeout if the network is slow" : "");
		goto out;
	}
	curl_easy_getinfo(g->curl, CURLINFO_RESPONSE_CODE, &h->status);
	ret = 0;
out:
	/* Neither may outlive this call inside the reused handle. */
	curl_easy_setopt(g->curl, CURLOPT_ERRORBUFFER, NULL);
	curl_easy_setopt(g->curl, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hl);
	return ret;
}

unsigned
graph_retry_wait(const struct graph_http *h, unsigned attempt)
{
	unsigned wait = 1u << (attempt < 8 ? attempt + 1 : 8);
	const char *p = h->retry_after;

	/* Graph sends delta-seconds; an HTTP date is rare and gets the back-off. */
	if (*p != '\0' && strspn(p, "0123456789") == strlen(p) && strlen(p) <= 6)
		wait = (unsigned)strtoul(p, NULL, 10);
	if (wait > GRAPH_MAX_RETRY_WAIT)
		wait = GRAPH_MAX_RETRY_WAIT;
	return wait;
}
