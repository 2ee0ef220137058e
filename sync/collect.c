/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fileutil.h"
#include "common/log.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "mail/mime.h"
#include "mail/template.h"
#include "smime/cert.h"
#include "smime/escrow.h"
#include "smime/pkcs12.h"
#include "sync/collect.h"

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

/*
 * The directory's display name, if it can go into a header: a name with
 * CR, LF or other control characters is someone trying to add headers.
 * We address that person by mail address alone and say so in the log.
 */
static const char *
header_safe_name(const struct user *u)
{
	if (u->display_name == NULL)
		return NULL;
	if (str_has_control(u->display_name)) {
		log_warn("%s: display name holds control characters (CR/LF?); "
		    "addressing the mail without a name", u->dn);
		return NULL;
	}
	return u->display_name;
}

static int
render_one(struct engine *en, const char *message, const struct tmpl_vars *vars,
    const struct user *u, const struct mail_attachment *att, size_t n_att, char **out,
    size_t *len, struct errbuf *e)
{
	const struct conf_mail *mc = &en->cfg->mail;
	struct rendered_mail rm;
	struct mail_spec spec;
	int rc = -1;

	memset(&rm, 0, sizeof(rm));
	if (template_render(mc->template_dir, mc->language, message, vars, &rm, e) != 0)
		goto out;
	memset(&spec, 0, sizeof(spec));
	spec.from = mc->from;
	spec.to_name = header_safe_name(u);
	spec.to_addr = u->mail;
	spec.subject = rm.subject;
	spec.text = rm.text;
	spec.html = rm.html;
	spec.attachments = att;
	spec.n_attachments = n_att;
	spec.date = en->now;
	if (mime_build(&spec, out, len, e) != 0)
		goto out;
	rc = 0;
out:
	if (rc != 0)
		err_prefix(e, "%s mail for %s", message, u->mail);
	rendered_mail_clear(&rm);
	return rc;
}

int
collect_build(struct engine *en, const struct conf_group *g, const struct user *u,
    const struct store_cert *cert, EVP_PKEY *key, STACK_OF(X509) *chain,
    struct collected *out, struct errbuf *e)
{
	struct tmpl_vars *vars = tmpl_vars_new();
	char *password = NULL, *from_name = NULL, *from_addr = NULL, *filename = NULL;
	const char *name;
	unsigned char *p12 = NULL;
	size_t p12_len = 0;
	X509 *leaf = NULL;
	struct cert_info ci;
	struct mail_attachment att;
	char nb[40], na[40];
	int rc = -1;

	memset(&ci, 0, sizeof(ci));
	if (mail_parse_mailbox(en->cfg->mail.from, &from_name, &from_addr, e) != 0) {
		err_prefix(e, "[mail] from");
		goto out;
	}
	if (cert_from_der(cert->der, cert->der_len, &leaf, e) != 0 ||
	    cert_info_get(leaf, &ci, e) != 0)
		goto out;
	filename = p12_filename(u->mail);
	password = password_generate();
	name = header_safe_name(u);
	if (pkcs12_build(key, leaf, chain, name ? name : u->mail, password,
	    g->pkcs12, (int)g->pkcs12_iterations, &p12, &p12_len, e) != 0)
		goto out;

	human_time(cert->not_before, nb, sizeof(nb));
	human_time(cert->not_after, na, sizeof(na));
	tmpl_vars_set(vars, "display_name", name ? name : u->mail);
	tmpl_vars_set(vars, "given_name", u->given_name);
	tmpl_vars_set(vars, "surname", u->surname);
	tmpl_vars_set(vars, "mail", u->mail);
	tmpl_vars_set(vars, "group", g->name);
	tmpl_vars_set(vars, "organization", from_name ? from_name : from_addr);
	tmpl_vars_set(vars, "from_address", from_addr);
	tmpl_vars_set(vars, "serial", cert->serial);
	tmpl_vars_set(vars, "fingerprint", cert->fingerprint);
	tmpl_vars_set(vars, "not_before", nb);
	tmpl_vars_set(vars, "not_after", na);
	tmpl_vars_set(vars, "issuer", ci.issuer);
	tmpl_vars_set(vars, "subject", ci.subject);
	tmpl_vars_set(vars, "key_type", cert->key_type);
	tmpl_vars_set(vars, "p12_filename", filename);
	tmpl_vars_set(vars, "pkcs12_profile", pkcs12_profile_name(g->pkcs12));
	tmpl_vars_set(vars, "run_id", en->run_id);

	att.filename = filename;
	att.content_type = "application/pkcs12";
	att.data = p12;
	att.len = p12_len;
	if (render_one(en, "collection", vars, u, &att, 1, &out->collection,
	    &out->collection_len, e) != 0)
		goto out;
	/* Only the password mail's variables ever hold the password. */
	tmpl_vars_set(vars, "password", password);
	if (render_one(en, "password", vars, u, NULL, 0, &out->password_mail,
	    &out->password_mail_len, e) != 0)
		goto out;
	out->recipient = xstrdup(u->mail);
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
	free(from_name);
	free(from_addr);
	return rc;
}

static int
queue_one(struct engine *en, int64_t action_id, const char *user_id, const char *kind,
    const char *recipient, const char *data, size_t len, struct errbuf *e)
{
	struct store_mail m;
	char *aad = xasprintf("mail:action=%lld:%s", (long long)action_id, kind);
	unsigned char *sealed = NULL;
	size_t sealed_len = 0;
	int64_t id;
	int rc = -1;

	if (escrow_seal(&en->master_key, aad, (const unsigned char *)data, len, &sealed,
	    &sealed_len, e) != 0)
		goto out;
	memset(&m, 0, sizeof(m));
	m.action_id = action_id;
	m.user_id = (char *)user_id;
	m.kind = (char *)kind;
	m.recipient = (char *)recipient;
	m.aad = aad;
	m.sealed = sealed;
	m.sealed_len = sealed_len;
	m.next_attempt = en->now;
	rc = store_outbox_add(en->store, &m, &id, e);
out:
	free(sealed);
	free(aad);
	return rc;
}

int
collect_queue(struct engine *en, int64_t action_id, const char *user_id,
    const struct collected *c, struct errbuf *e)
{
	/* Collection first: the outbox sends in id order. */
	if (queue_one(en, action_id, user_id, "collection", c->recipient, c->collection,
	    c->collection_len, e) != 0 ||
	    queue_one(en, action_id, user_id, "password", c->recipient, c->password_mail,
	    c->password_mail_len, e) != 0)
		return -1;
	report_count(en->report, "mails_queued", 2);
	return store_audit(en->store, en->run_id, user_id, "mails-queued",
	    "collection and password mails queued", e);
}
