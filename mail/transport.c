/* SPDX-License-Identifier: ISC */
/*
 * mail/transport.h for both transports: [mail] transport = smtp (the
 * default, smtp.c) or graph (graph_mail.c). The messages are the same
 * bytes either way; only the way out differs.
 */
#include "config.h"

#include <stdlib.h>

#include "common/xalloc.h"
#include "mail/transport_impl.h"

struct mail_transport {
	struct smtp_transport *smtp; /* exactly one of the two is set */
	struct graph_mail *graph;
};

int
mail_transport_open(const struct conf_mail *conf, const char *password,
    struct mail_transport **out, struct errbuf *e)
{
	struct mail_transport *t = xcalloc(1, sizeof(*t));
	int rc;

	*out = NULL;
	if (conf->transport == MAIL_TRANSPORT_GRAPH)
		rc = graph_mail_open(conf, &t->graph, e);
	else
		rc = smtp_transport_open(conf, password, &t->smtp, e);
	if (rc != 0) {
		free(t);
		return -1;
	}
	*out = t;
	return 0;
}

void
mail_transport_close(struct mail_transport *t)
{
	if (t == NULL)
		return;
	smtp_transport_close(t->smtp);
	graph_mail_close(t->graph);
	free(t);
}

void
mail_send_batch(struct mail_transport *t, struct mail_job *jobs, size_t n)
{
	if (t->graph != NULL)
		graph_mail_send_batch(t->graph, jobs, n);
	else
		smtp_send_batch(t->smtp, jobs, n);
}
