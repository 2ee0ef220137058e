/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

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

char *
collect_p12_filename(const char *mail, time_t not_before, const char *serial)
{
	char day[16];
	struct tm tm;
	char *name;

	gmtime_r(&not_before, &tm);
	strftime(day, sizeof(day), "%Y-%m-%d", &tm);
	name = xasprintf("%s-%s-%.8s.p12", mail, day, serial != NULL ? serial : "");
	for (char *p = name; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && strchr("@._-+", *p) == NULL)
			*p = '_';
	return name;
}

/*
 * The root a mail client is asked to trust: the chain's last certificate
 * when it is self-signed. Its common name, and its SHA-1 thumbprint as
 * Windows shows it ("Thumbprint (sha1): 0563B8...") and its SHA-256 in
 * colon form as macOS and Firefox do. Nothing when the chain has no root.
 */
static void
root_vars(STACK_OF(X509) *chain, struct tmpl_vars *vars)
{
	X509 *root = chain != NULL && sk_X509_num(chain) > 0 ?
	    sk_X509_value(chain, sk_X509_num(chain) - 1) : NULL;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	char cn[256];
	char *hex;

	if (root == NULL || X509_check_issued(root, root) != X509_V_OK) {
		ERR_clear_error();
		return;
	}
	if (X509_NAME_get_text_by_NID(X509_get_subject_name(root), NID_commonName, cn,
	    sizeof(cn)) > 0 && str_is_utf8(cn, strlen(cn)) && !str_has_control(cn))
		tmpl_vars_set(vars, "root_name", cn);
	if (X509_digest(root, EVP_sha1(), md, &len) == 1) {
		hex = hex_encode_colons(md, len);
		/* Windows writes the thumbprint without separators. */
		for (char *r = hex, *w = hex;; r++) {
			if (*r != ':')
				*w++ = *r;
			if (*r == '\0')
				break;
		}
		tmpl_vars_set(vars, "root_sha1", hex);
		free(hex);
	}
	if (X509_digest(root, EVP_sha256(), md, &len) == 1) {
		hex = hex_encode_colons(md, len);
		tmpl_vars_set(vars, "root_sha256", hex);
		free(hex);
	}
	ERR_clear_error();
}

/*
 * Is cert a renewal or replacement? Then renewal is set and the earlier
 * certificate (the newest other one of this person that began before)
 * is named, with its address when that was another one.
 */
static int
previous_vars(struct engine *en, const struct store_cert *cert, struct tmpl_vars *vars,
    struct errbuf *e)
{
	struct store_cert *all = NULL;
	size_t n = 0;

	if (store_certs_for_user(en->store, cert->user_id, false, &all, &n, e) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char na[40];
		struct tm tm;

		if (all[i].id == cert->id || all[i].not_before > cert->not_before)
			continue;
		gmtime_r(&all[i].not_after, &tm);
		strftime(na, sizeof(na), "%Y-%m-%d %H:%M UTC", &tm);
		tmpl_vars_set(vars, "renewal", "yes");
		tmpl_vars_set(vars, "previous_serial", all[i].serial);
		tmpl_vars_set(vars, "previous_not_after", na);
		if (strcasecmp(all[i].mail, cert->mail) != 0)
			tmpl_vars_set(vars, "previous_mail", all[i].mail);
		break;
	}
	store_certs_free(all, n);
	return 0;
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
	struct mailq_to to = { mail, u->display_name, u->id, 0, NULL };
	char *password = NULL, *filename = NULL, *fingerprint = NULL;
	char lang[32];
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
	    cert_info_get(leaf, &ci, e) != 0 || previous_vars(en, cert, vars, e) != 0)
		goto out;
	/* Both mails in the person's language, when every template exists in it. */
	mailq_language(en, g, u->language, lang, sizeof(lang));
	to.lang = lang;
	/* Dated and with the serial: a renewal never overwrites last year's file. */
	filename = collect_p12_filename(mail, cert->not_before, cert->serial);
	fingerprint = hex_to_colons(cert->fingerprint);
	root_vars(chain, vars);
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
	tmpl_vars_set(vars, "fingerprint", fingerprint);
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
	free(fingerprint);
	return rc;
}

int
collect_queue(struct engine *en, int64_t action_id, const char *user_id,
    const struct collected *c, struct errbuf *e)
{
	struct mailq_to to = { c->recipient, NULL, user_id, action_id, NULL };

	/* Collection first: the password mail waits in the outbox until it is sent. */
	if (mailq_add(en, "collection", &to, c->collection, c->collection_len, e) != 0 ||
	    mailq_add(en, "password", &to, c->password_mail, c->password_mail_len, e) != 0)
		return -1;
	return store_audit(en->store, en->run_id, user_id, "mails-queued",
	    "collection and password mails queued", e);
}
