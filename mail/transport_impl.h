/* SPDX-License-Identifier: ISC */
/*
 * Private to mail/: the two implementations behind mail/transport.h,
 * chosen by [mail] transport in transport.c. Each keeps the contract of
 * transport.h: every job of a batch gets its own outcome.
 */
#ifndef SMIMESYNC_MAIL_TRANSPORT_IMPL_H
#define SMIMESYNC_MAIL_TRANSPORT_IMPL_H

#include "mail/transport.h"

/* SMTP through libESMTP (smtp.c); password borrowed for the transport's life. */
struct smtp_transport;
int smtp_transport_open(const struct conf_mail *conf, const char *password,
    struct smtp_transport **out, struct errbuf *e) MUST_USE;
void smtp_transport_close(struct smtp_transport *t);
void smtp_send_batch(struct smtp_transport *t, struct mail_job *jobs, size_t n);

/* Microsoft Graph sendMail (graph_mail.c), with conf->graph_directory's app. */
struct graph_mail;
int graph_mail_open(const struct conf_mail *conf, struct graph_mail **out,
    struct errbuf *e) MUST_USE;
void graph_mail_close(struct graph_mail *t);
void graph_mail_send_batch(struct graph_mail *t, struct mail_job *jobs, size_t n);

#endif
