/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fileutil.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "mail/mime.h"
#include "mail/template.h"
#include "smime/cert.h"
#include "smime/escrow.h"
#include "smime/pkcs12.h"
#include "sync/collection_mail.h"
#include "sync/mail_queue.h"

void
collected_clear(struct collected *c)
{
	free(c->recipient);
	secret_free(c->collection, c->collection_len);
	secret_free(c->password_mail, c->password_mail_len);
	memset(c, 0, sizeof(*c));
}

static void
human_time(time_t t, char *out, size_t size)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, size, "%Y-%m-%d %H:%M UTC", &tm);
}

/* "alice@example.org" -> "alice@example.org.p12", anything odd -> '_'. */
static char *
p12_filename(const char *mail)
{
	char *name = xasprintf("%s.p12", mail);

	for (char *p = name; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && strchr("@._-+", *p) == NULL)
			*p = '_';
	return name;
}

int
collect_build(struct engine *en, const struct conf_group *g, const struct user *u,
    const struct store_cert *cert, EVP_PKEY *key, STACK_OF(X509) *chain,
    struct collected *out, struct errbuf *e)
{
	struct tmpl_vars *vars = tmpl_vars_new();
	/*
	 * Address the mail to the address in the certificate: if the
	 * directory changed it meanwhile, the next run re-issues anyway.
	 */
	const char *mail = cert->mail;
	const char *name = mailq_safe_name(u->display_name, u->dn);
	struct mailq_to to = { mail, u->display_name, u->id, 0 };
	char *password = NULL, *filename = NULL;
	unsigned char *p12 = NULL;
	size_t p12_len = 0;
	X509 *leaf = NULL;
	struct cert_info ci;
	struct mail_attachment att;
	char nb[40], na[40];
	int rc = -1;

	memset(&ci, 0, sizeof(ci));
	if (mailq_sender_vars(en, vars, e) != 0)
		goto out;
	if (cert_from_der(cert->der, cert->der_len, &leaf, e) != 0 ||
	    cert_info_get(leaf, &ci, e) != 0)
		goto out;
	filename = p12_filename(mail);
	password = password_generate();
	if (pkcs12_build(key, leaf, chain, name ? name : mail, password, g->pkcs12,
	    (int)g->pkcs12_iterations, &p12, &p12_len, e) != 0)
		goto out;

	human_time(cert->not_before, nb, sizeof(nb));
	human_time(cert->not_after, na, sizeof(na));
	tmpl_vars_set(vars, "display_name", name ? name : mail);
	tmpl_vars_set(vars, "given_name", u->given_name);
	tmpl_vars_set(vars, "surname", u->surname);
	tmpl_vars_set(vars, "mail", mail);
	tmpl_vars_set(vars, "group", g->name);
	tmpl_vars_set(vars, "serial", cert->serial);
	tmpl_vars_set(vars, "fingerprint", cert->fingerprint);
	tmpl_vars_set(vars, "not_before", nb);
	tmpl_vars_set(vars, "not_after", na);
	tmpl_vars_set(vars, "issuer", ci.issuer);
	tmpl_vars_set(vars, "subject", ci.subject);
	tmpl_vars_set(vars, "key_type", cert->key_type);
	tmpl_vars_set(vars, "p12_filename", filename);
	tmpl_vars_set(vars, "pkcs12_profile", pkcs12_profile_name(g->pkcs12));

	att.filename = filename;
	att.content_type = "application/pkcs12";
	att.data = p12;
	att.len = p12_len;
	if (mailq_render(en, "collection", vars, &to, &att, 1, &out->collection,
	    &out->collection_len, e) != 0)
		goto out;
	/* Only the password mail's variables ever hold the password. */
	tmpl_vars_set(vars, "password", password);
	if (mailq_render(en, "password", vars, &to, NULL, 0, &out->password_mail,
	    &out->password_mail_len, e) != 0)
		goto out;
	out->recipient = xstrdup(mail);
	rc = 0;
out:
	if (rc != 0)
		collected_clear(out);
	tmpl_vars_free(vars); /* wipes the values: one is the password */
	secret_free_str(password);
	secret_free(p12, p12_len);
	cert_info_clear(&ci);
	X509_free(leaf);
	free(filename);
	return rc;
}

int
collect_queue(struct engine *en, int64_t action_id, const char *user_id,
    const struct collected *c, struct errbuf *e)
{
	struct mailq_to to = { c->recipient, NULL, user_id, action_id };

	/* Collection first: the password mail waits in the outbox until it is sent. */
	if (mailq_add(en, "collection", &to, c->collection, c->collection_len, e) != 0 ||
	    mailq_add(en, "password", &to, c->password_mail, c->password_mail_len, e) != 0)
		return -1;
	return store_audit(en->store, en->run_id, user_id, "mails-queued",
	    "collection and password mails queued", e);
}
