/* SPDX-License-Identifier: ISC */
/*
 * libcurl behind net/http.h. One easy handle per exchange: CA and
 * Graph calls are few per run, and a fresh handle cannot carry state
 * (cookies, credentials) from one call into the next.
 */
#include "config.h"

#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "net/http.h"
#include "common/log.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void
curl_start(void)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		fatal("cannot initialise libcurl");
}

struct sink {
	struct http_response *rs;
	bool too_big;
};

static size_t
on_body(char *data, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;

	if (buf_append(&s->rs->body, data, size * n) != 0) {
		s->too_big = true;
		return 0; /* makes curl stop with CURLE_WRITE_ERROR */
	}
	return size * n;
}

/* Retry-After: delay-seconds only; an HTTP-date is rare from APIs and left unparsed. */
static size_t
on_header(char *data, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;
	size_t len = size * n;
	static const char name[] = "retry-after:";

	if (len > sizeof(name) - 1 && strncasecmp(data, name, sizeof(name) - 1) == 0) {
		const char *p = data + sizeof(name) - 1;
		long v = 0;

		while (p < data + len && (*p == ' ' || *p == '\t'))
			p++;
		if (p < data + len && isdigit((unsigned char)*p)) {
			for (; p < data + len && isdigit((unsigned char)*p) && v < 86400 * 30; p++)
				v = v * 10 + (*p - '0');
			s->rs->retry_after = v;
		}
	}
	return len;
}

static enum http_outcome
classify(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return HTTP_NO_ANSWER;
	default:
		return HTTP_BAD_SETUP;
	}
}

enum http_outcome
http_exchange(const struct http_request *rq, struct http_response *rs, struct errbuf *e)
{
	static const struct http_tls default_tls = { NULL, true, NULL, NULL };
	const struct http_tls *tls = rq->tls != NULL ? rq->tls : &default_tls;
	struct curl_slist *hdrs = NULL, *tmp;
	char curl_err[CURL_ERROR_SIZE] = "";
	struct sink sink = { rs, false };
	enum http_outcome out = HTTP_BAD_SETUP;
	CURL *c = NULL;
	CURLcode rc;

	memset(rs, 0, sizeof(*rs));
	buf_init(&rs->body, rq->max_response);
	rs->retry_after = -1;
	pthread_once(&curl_once, curl_start);
	if ((c = curl_easy_init()) == NULL)
		fatal("out of memory");
	for (const char *const *h = rq->headers; h != NULL && *h != NULL; h++) {
		if ((tmp = curl_slist_append(hdrs, *h)) == NULL)
			fatal("out of memory");
		hdrs = tmp;
	}
	if (rq->content_type != NULL) {
		char line[128];

		snprintf(line, sizeof(line), "Content-Type: %s", rq->content_type);
		if ((tmp = curl_slist_append(hdrs, line)) == NULL)
			fatal("out of memory");
		hdrs = tmp;
	}
	/* curl would send "Expect: 100-continue" for bodies over 1 KiB: one round trip less. */
	if ((tmp = curl_slist_append(hdrs, "Expect:")) == NULL)
		fatal("out of memory");
	hdrs = tmp;

	curl_easy_setopt(c, CURLOPT_URL, rq->url);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_err);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, rq->timeout > 0 ? rq->timeout : 30L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, rq->timeout > 0 ? rq->timeout : 30L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_USERAGENT, PACKAGE_NAME "/" PACKAGE_VERSION);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &sink);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, tls->verify ? 1L : 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, tls->verify ? 2L : 0L);
	curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (tls->ca_file != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, tls->ca_file);
	if (tls->cert_file != NULL) {
		curl_easy_setopt(c, CURLOPT_SSLCERT, tls->cert_file);
		curl_easy_setopt(c, CURLOPT_SSLKEY, tls->key_file);
	}
	if (strcmp(rq->method, "POST") == 0) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, rq->body != NULL ? rq->body : "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)(rq->body != NULL ? rq->body_len : 0));
	} else if (strcmp(rq->method, "GET") != 0) {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, rq->method);
	}

	log_debug("%s %s", rq->method, rq->url);
	rc = curl_easy_perform(c);
	if (sink.too_big) {
		err_set(e, "%s %s: the answer is larger than %zu bytes; refusing to read more",
		    rq->method, rq->url, rq->max_response);
		goto out;
	}
	if (rc != CURLE_OK) {
		out = classify(rc);
		err_set(e, "%s %s: %s%s%s", rq->method, rq->url, curl_easy_strerror(rc),
		    curl_err[0] != '\0' ? ": " : "", curl_err);
		if (rc == CURLE_PEER_FAILED_VERIFICATION)
			err_prefix(e, "the server's TLS certificate is not trusted (set tls_ca_file "
			    "to the CA that issued it)");
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &rs->status);
	log_debug("%s %s: HTTP %ld, %zu bytes", rq->method, rq->url, rs->status, rs->body.len);
	out = HTTP_DONE;
out:
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	return out;
}

void
http_response_clear(struct http_response *rs)
{
	buf_free(&rs->body);
	memset(rs, 0, sizeof(*rs));
}
