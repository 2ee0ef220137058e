/* SPDX-License-Identifier: ISC */
/*
 * Sending through Microsoft Graph, for tenants where SMTP AUTH is off:
 *
 *   POST /v1.0/users/{sender}/sendMail
 *   Content-Type: text/plain
 *   <the complete MIME message, base64-encoded>
 *
 * Graph answers 202 Accepted. It takes the recipients from the message's
 * own To/Cc/Bcc headers (ours name exactly the job's recipient), sends as
 * the sender mailbox and keeps a copy in its Sent Items. The application
 * needs the Mail.Send application permission; an Exchange Online
 * application access policy can (and should) confine it to the sender.
 *
 * Outcomes (mail/transport.h):
 *   202                      MAIL_SENT
 *   no answer, 429/503 after Retry-After, 5xx       MAIL_RETRY
 *   401/403 (token, Mail.Send missing), 404 (no such sender mailbox):
 *                            MAIL_RETRY: the operator's fix, not the
 *                            recipient's fault; nothing is dropped
 *   any other 4xx (the message was refused)         MAIL_FAILED
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "net/graph.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "mail/transport_impl.h"

/* sendMail takes at most 4 MB per request (Graph's request size limit). */
#define SENDMAIL_MAX_BODY (4u << 20)

struct graph_mail {
	struct graph *graph;
	char *path; /* /v1.0/users/{sender}/sendMail (new) */
	char *label;
};

int
graph_mail_open(const struct conf_mail *conf, struct graph_mail **out, struct errbuf *e)
{
	const struct conf_directory *d = conf->graph_directory;
	struct graph_params p;
	struct graph_mail *t;
	char *esc;

	*out = NULL;
	/* config_load() resolves graph_directory only to a directory with an Entra app. */
	if (d == NULL || conf->sender == NULL) {
		err_set(e, "[mail] transport = graph needs directory = a [directory] with "
		    "type = graph, and a sender");
		return -1;
	}
	/* No default here: the option table's is in every loaded configuration. */
	if (conf->timeout <= 0) {
		err_set(e, "[mail] timeout must be at least 1s");
		return -1;
	}
	t = xcalloc(1, sizeof(*t));
	t->label = xasprintf("[mail] transport = graph ([directory %s])", d->name);
	/* The [directory]'s application sends: its credentials, our label and timeout. */
	p = (struct graph_params){ .label = t->label, .tenant_id = d->tenant_id,
	    .client_id = d->client_id, .secret_file = d->client_secret_file,
	    .cert_file = d->client_cert_file, .key_file = d->client_key_file,
	    .authority_host = d->authority_host, .graph_host = d->graph_host,
	    .tls_ca_file = d->tls_ca_file, .tls_verify = d->tls_verify,
	    .timeout = conf->timeout };
	if (graph_open(&p, &t->graph, e) != GRAPH_OK) {
		graph_mail_close(t);
		return -1;
	}
	esc = graph_url_escape(conf->sender);
	t->path = xasprintf("/v1.0/users/%s/sendMail", esc);
	free(esc);
	*out = t;
	return 0;
}

void
graph_mail_close(struct graph_mail *t)
{
	if (t == NULL)
		return;
	graph_close(t->graph);
	free(t->path);
	free(t->label);
	free(t);
}

static void
send_one(struct graph_mail *t, struct mail_job *job)
{
	struct graph_reply r;
	struct errbuf e;
	char *b64 = NULL;
	size_t b64_len = 4 * ((job->len + 2) / 3);
	enum graph_status st;

	memset(&r, 0, sizeof(r));
	err_clear(&e);
	if (b64_len > SENDMAIL_MAX_BODY) {
		job->outcome = MAIL_FAILED;
		snprintf(job->reason, sizeof(job->reason), "the message is %zu bytes, more than "
		    "Graph's sendMail takes (4 MB base64-encoded)", job->len);
		return;
	}
	b64 = xmalloc(b64_len + 1);
	EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)job->data, (int)job->len);
	st = graph_call(t->graph, "POST", t->path, NULL, "text/plain", b64, b64_len, &r, &e);
	/* The body is the message: it may hold a PKCS#12 or a password. */
	memset(b64, 0, b64_len);
	free(b64);
	if (st == GRAPH_OK && r.http_status == 202) {
		job->outcome = MAIL_SENT;
		snprintf(job->reason, sizeof(job->reason), "202 Accepted by Graph sendMail");
	} else if (st == GRAPH_OK) {
		job->outcome = MAIL_RETRY;
		snprintf(job->reason, sizeof(job->reason), "sendMail answered HTTP %ld instead of "
		    "202 Accepted; trying again later", r.http_status);
	} else if (st == GRAPH_FAILED) {
		job->outcome = MAIL_FAILED;
		snprintf(job->reason, sizeof(job->reason), "%s", e.text);
	} else {
		job->outcome = MAIL_RETRY;
		snprintf(job->reason, sizeof(job->reason), "%s", e.text);
	}
	graph_reply_clear(&r);
}

void
graph_mail_send_batch(struct graph_mail *t, struct mail_job *jobs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		send_one(t, &jobs[i]);
}
