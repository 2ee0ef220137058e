/* SPDX-License-Identifier: ISC */
/*
 * mail-send: drive mail/ end to end for the integration tests.
 *
 *   mail-send --host H --port P [--ca FILE] [--no-starttls] [--no-verify]
 *             [--user U --password P] [--from "Name <addr>"] [--name NAME]
 *             [--subject S] [--html] [--attach FILE] [--save DIR] RCPT...
 *
 * Builds one message per recipient with mime_build() (text, optional HTML
 * part, optional attachment, display name NAME), saves each built message
 * as DIR/N.eml (N from 1) when --save is given, sends them all in one
 * mail_send_batch() and prints one line per job:
 *
 *   RCPT <TAB> sent|retry|failed <TAB> reason
 *
 * Exit status 0 when the batch ran, 2 on usage or setup errors.
 */
#include "config.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/fileutil.h"
#include "common/log.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "conf/conf.h"
#include "mail/mime.h"
#include "mail/transport.h"

static void
usage(void)
{
	fprintf(stderr, "usage: mail-send --host H --port P [--ca FILE] [--no-starttls] "
	    "[--no-verify] [--user U --password P] [--from MAILBOX] [--name NAME] "
	    "[--subject S] [--html] [--attach FILE] [--save DIR] RCPT...\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "host", required_argument, NULL, 'h' },
		{ "port", required_argument, NULL, 'p' },
		{ "ca", required_argument, NULL, 'c' },
		{ "no-starttls", no_argument, NULL, 'N' },
		{ "no-verify", no_argument, NULL, 'V' },
		{ "user", required_argument, NULL, 'u' },
		{ "password", required_argument, NULL, 'P' },
		{ "from", required_argument, NULL, 'f' },
		{ "name", required_argument, NULL, 'n' },
		{ "subject", required_argument, NULL, 's' },
		{ "html", no_argument, NULL, 'H' },
		{ "attach", required_argument, NULL, 'a' },
		{ "save", required_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	struct conf_mail conf;
	struct mail_transport *t = NULL;
	struct mail_job *jobs = NULL;
	struct mail_attachment att;
	struct errbuf e;
	const char *password = NULL, *from = "Example PKI <pki@example.org>";
	const char *name = NULL, *subject = NULL, *attach = NULL, *save = NULL;
	char *from_name = NULL, *from_addr = NULL, *att_data = NULL;
	size_t att_len = 0, n;
	int html = 0, c;
	int64_t port = 0;

	memset(&conf, 0, sizeof(conf));
	conf.tls_verify = true;
	conf.timeout = 30;
	conf.starttls = TLS_MODE_REQUIRED;
	log_init("mail-send", LOGL_INFO);
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'h': conf.smtp_host = optarg; break;
		case 'p':
			if (parse_int64(optarg, 1, 65535, &port) != 0)
				usage();
			conf.smtp_port = port;
			break;
		case 'c': conf.tls_ca_file = optarg; break;
		case 'N': conf.starttls = TLS_MODE_OFF; break;
		case 'V': conf.tls_verify = false; break;
		case 'u': conf.smtp_user = optarg; break;
		case 'P': password = optarg; break;
		case 'f': from = optarg; break;
		case 'n': name = optarg; break;
		case 's': subject = optarg; break;
		case 'H': html = 1; break;
		case 'a': attach = optarg; break;
		case 'S': save = optarg; break;
		default: usage();
		}
	}
	if (conf.smtp_host == NULL || port == 0 || optind >= argc)
		usage();
	n = (size_t)(argc - optind);
	if (mail_parse_mailbox(from, &from_name, &from_addr, &e) != 0) {
		fprintf(stderr, "mail-send: %s\n", e.text);
		return 2;
	}
	if (attach != NULL && file_read_all(attach, 16 << 20, &att_data, &att_len, &e) != 0) {
		fprintf(stderr, "mail-send: %s\n", e.text);
		return 2;
	}
	att.filename = "certificate.p12";
	att.content_type = "application/pkcs12";
	att.data = (const unsigned char *)att_data;
	att.len = att_len;

	jobs = xcalloc(n, sizeof(*jobs));
	for (size_t i = 0; i < n; i++) {
		struct mail_spec spec;
		char *subj = subject != NULL ? xstrdup(subject) :
		    xasprintf("Test message %zu", i + 1);
		char *msg = NULL;
		size_t len = 0;

		memset(&spec, 0, sizeof(spec));
		spec.from = from;
		spec.to_name = name;
		spec.to_addr = argv[optind + (int)i];
		spec.subject = subj;
		spec.text = "Hello,\n\nthis is a test message from mail-send.\n"
		    ".a line starting with a dot\nFrom the start of a line\n";
		spec.html = html ? "<p>Hello,</p>\n<p>this is a <b>test</b> message.</p>\n" : NULL;
		spec.attachments = attach != NULL ? &att : NULL;
		spec.n_attachments = attach != NULL ? 1 : 0;
		spec.date = time(NULL);
		if (mime_build(&spec, &msg, &len, &e) != 0) {
			fprintf(stderr, "mail-send: %s\n", e.text);
			return 2;
		}
		if (save != NULL) {
			char *path = xasprintf("%s/%zu.eml", save, i + 1);

			if (file_write_atomic(path, msg, len, 0644, &e) != 0) {
				fprintf(stderr, "mail-send: %s\n", e.text);
				return 2;
			}
			free(path);
		}
		jobs[i].envelope_from = from_addr;
		jobs[i].rcpt = spec.to_addr;
		jobs[i].data = msg;
		jobs[i].len = len;
		free(subj);
	}
	if (mail_transport_open(&conf, password, &t, &e) != 0) {
		fprintf(stderr, "mail-send: %s\n", e.text);
		return 2;
	}
	mail_send_batch(t, jobs, n);
	for (size_t i = 0; i < n; i++) {
		printf("%s\t%s\t%s\n", jobs[i].rcpt, mail_outcome_name(jobs[i].outcome),
		    jobs[i].reason);
		free((char *)jobs[i].data);
	}
	mail_transport_close(t);
	free(jobs);
	free(from_name);
	free(from_addr);
	free(att_data);
	return 0;
}
