/* SPDX-License-Identifier: ISC */
/*
 * Commands that open escrowed keys, each through the signer, which holds
 * the master key and opens an escrowed key only for a key recovery under
 * the operator's credential (its policy's recovery_credential):
 *
 *   recover USER --out FILE   every escrowed key of USER, current and
 *                             past, in one PKCS#12 the signer builds, with
 *                             a fresh password (printed on stdout, nowhere
 *                             else), so old mail stays readable; audited
 *                             here and in the signer's log.
 *   resend USER               a fresh collection mail and password mail
 *                             for the current certificate: it hands the
 *                             private key out again, so it is a key
 *                             recovery too, with the same credential.
 *   master-key rotate         re-seal every escrowed key, queued mail and
 *                             action key under a new master key in one
 *                             transaction, then replace the key file; the
 *                             signer re-seals, nothing is opened here.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "common/actor.h"
#include "common/fileutil.h"
#include "common/log.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "conf/conf.h"
#include "smime/cert.h"
#include "smime/escrow.h"
#include "smime/key.h"
#include "smime/pkcs12.h"
#include "smime/signer.h"
#include "sync/engine.h"
#include "sync/collection_mail.h"
#include "cli/commands.h"
#include "sync/outbox.h"
#include "store/sealed.h"

static int
find_user(struct engine *en, const char *key, struct store_user *u)
{
	struct errbuf e;
	int found = store_user_find(en->store, key, u, &e);

	if (found < 0)
		fprintf(stderr, "smimesync: %s\n", e.text);
	else if (found == 0)
		fprintf(stderr, "smimesync: no user \"%s\" in the store (give the mail address or "
		    "id smimesync status shows)\n", key);
	return found == 1 ? 0 : -1;
}

/* The certificates of a PEM string (new stack; empty when pem is NULL). */
static STACK_OF(X509) *
chain_from_pem(const char *pem)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	BIO *bio = NULL;
	X509 *x;

	if (sk == NULL)
		fatal("out of memory");
	if (pem == NULL)
		return sk;
	bio = BIO_new_mem_buf(pem, -1);
	if (bio == NULL)
		fatal("out of memory");
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL)
		if (sk_X509_push(sk, x) == 0)
			fatal("out of memory");
	ERR_clear_error();
	BIO_free(bio);
	return sk;
}

int
cmd_recover(int argc, char **argv, const struct cli_options *cli)
{
	static const struct option longopts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "pkcs12", required_argument, NULL, 'p' },
		{ "credential", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	struct config *cfg = NULL;
	struct engine en;
	struct errbuf e;
	struct store_user u;
	struct store_sealed *sealed = NULL;
	struct store_cert *certs = NULL;
	struct signer_recovery_item *items = NULL;
	struct signer_recovery rq;
	X509 **x509s = NULL;
	char **names = NULL;
	STACK_OF(X509) *chain = NULL;
	const struct conf_group *g;
	const char *out = NULL, *profile_arg = NULL, *cred_file = NULL;
	enum pkcs12_profile profile;
	char *password = NULL, *credential = NULL;
	char detail[768];
	struct actor who;
	unsigned char *der = NULL;
	size_t n = 0, len = 0;
	bool opened = false, written = false;
	int64_t iterations = 0, profile_index = 0;
	int ch, rc = 1;

	memset(&u, 0, sizeof(u));
	memset(&rq, 0, sizeof(rq));
	optind = 0; /* full getopt reset: options may follow USER */
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (ch == 'o')
			out = optarg;
		else if (ch == 'p')
			profile_arg = optarg;
		else if (ch == 'c')
			cred_file = optarg;
		else
			goto usage;
	}
	if (optind + 1 != argc || out == NULL)
		goto usage;
	if (profile_arg != NULL && strcmp(profile_arg, "modern") != 0 &&
	    strcmp(profile_arg, "compat") != 0)
		goto usage;
	if (file_exists(out)) {
		fprintf(stderr, "smimesync recover: %s already exists; choose a new file name\n", out);
		return 1;
	}
	cfg = commands_load_config(cli);
	if (cfg == NULL)
		goto out;
	if (commands_read_credential(cred_file, &credential) != 0)
		goto out;
	if (engine_open_command(&en, cfg, true, &e) != 0) {
		fprintf(stderr, "smimesync: %s\n", e.text);
		goto out;
	}
	opened = true;
	if (find_user(&en, argv[optind], &u) != 0)
		goto out;
	/* A group that has left the configuration: the option table's [group] defaults. */
	g = config_find_group(cfg, u.group_name);
	if (g != NULL) {
		profile_index = g->pkcs12;
		iterations = g->pkcs12_iterations;
	} else if (conf_default_number("group", "pkcs12", &profile_index) != 0 ||
	    conf_default_number("group", "pkcs12_iterations", &iterations) != 0) {
		err_set(&e, "internal error: the option table has no [group] pkcs12 default");
		goto fail;
	}
	profile = (enum pkcs12_profile)profile_index;
	if (profile_arg != NULL)
		profile = strcmp(profile_arg, "compat") == 0 ? PKCS12_COMPAT : PKCS12_MODERN;
	if (store_sealed_list(en.store, SEALED_ESCROW, u.id, &sealed, &n, &e) != 0)
		goto fail;
	if (n == 0) {
		fprintf(stderr, "smimesync: no escrowed key of %s in the store (never issued, or "
		    "its group has escrow = no)\n", u.mail ? u.mail : u.id);
		goto out;
	}
	items = xcalloc(n, sizeof(*items));
	x509s = xcalloc(n, sizeof(*x509s));
	names = xcalloc(n, sizeof(*names));
	certs = xcalloc(n, sizeof(*certs));
	for (size_t i = 0; i < n; i++) {
		char until[32];

		if (store_cert_get(en.store, sealed[i].id, &certs[i], &e) != 0 ||
		    cert_from_der(certs[i].der, certs[i].der_len, &x509s[i], &e) != 0)
			goto fail;
		format_time_utc(certs[i].not_after, until, sizeof(until));
		until[10] = '\0'; /* the date is enough for a name */
		names[i] = xasprintf("S/MIME %s until %s (%s)", certs[i].mail, until,
		    cert_status_name(certs[i].status));
		items[i].aad = sealed[i].aad;
		items[i].sealed = sealed[i].sealed;
		items[i].sealed_len = sealed[i].sealed_len;
		items[i].cert = x509s[i];
		items[i].name = names[i];
	}
	chain = chain_from_pem(certs[0].chain_pem);
	actor_of_process(&who);
	rq.credential = credential;
	rq.user = who.name;
	rq.sudo_user = who.sudo_user[0] != '\0' ? who.sudo_user : NULL;
	rq.items = items;
	rq.n_items = n;
	rq.chain = chain;
	rq.profile = profile;
	rq.iterations = (int)iterations;
	/* The signer opens the keys, builds the file and logs who asked; this process never opens them. */
	if (signer_recover_pkcs12(en.signer, &rq, &der, &len, &password, &e) != 0)
		goto fail;
	/* Never replace a file that appeared since the check above. */
	if (file_create_atomic(out, der, len, 0600, &e) != 0)
		goto fail;
	written = true;
	snprintf(detail, sizeof(detail), "keys=%zu file=%s pkcs12=%s user=%s%s%s", n, out,
	    pkcs12_profile_name(profile), who.name, rq.sudo_user != NULL ? " sudo_user=" : "",
	    rq.sudo_user != NULL ? rq.sudo_user : "");
	if (store_begin(en.store, &e) != 0)
		goto fail;
	if (store_audit(en.store, en.run_id, u.id, "keys-recovered", detail, &e) != 0) {
		store_rollback(en.store);
		goto fail;
	}
	if (store_commit(en.store, &e) != 0)
		goto fail;
	fprintf(stderr, "smimesync: wrote %zu key%s of %s to %s; the password follows on "
	    "standard output\n", n, n == 1 ? "" : "s", u.mail ? u.mail : u.id, out);
	printf("%s\n", password);
	rc = 0;
	goto out;
usage:
	return cli_usage_error("recover", NULL);
fail:
	fprintf(stderr, "smimesync: %s\n", e.text);
	/* No audit entry, no file: a recovery nobody can account for must not exist. */
	if (written && unlink(out) != 0)
		fprintf(stderr, "smimesync: could not remove %s: %s; delete it\n", out,
		    strerror(errno));
out:
	if (opened)
		engine_close_command(&en);
	for (size_t i = 0; x509s != NULL && i < n; i++) {
		X509_free(x509s[i]);
		free(names[i]);
		store_cert_clear(&certs[i]);
	}
	free(items);
	free(x509s);
	free(names);
	free(certs);
	sk_X509_pop_free(chain, X509_free);
	if (der != NULL)
		secret_free(der, len);
	secret_free_str(password);
	secret_free_str(credential);
	store_sealed_free(sealed, n);
	store_user_clear(&u);
	config_free(cfg);
	return rc;
}

/* ---- master-key rotate ---- */

static const char *const table_names[] = {
	[SEALED_ESCROW] = "escrowed key",
	[SEALED_OUTBOX] = "queued mail",
	[SEALED_ACTIONS] = "action key",
};

/*
 * Does some sealed blob open with k? 1 yes, 0 none does (or there are no
 * blobs), -1 error.
 */
static int
any_opens_with(struct engine *en, const struct master_key *k, struct errbuf *e)
{
	for (int t = SEALED_ESCROW; t <= SEALED_ACTIONS; t++) {
		struct store_sealed *v = NULL;
		size_t n = 0;
		int hit = 0;

		if (store_sealed_list(en->store, (enum store_sealed_table)t, NULL, &v, &n, e) != 0)
			return -1;
		for (size_t i = 0; i < n && !hit; i++) {
			int opens = escrow_probe(k, v[i].aad, v[i].sealed, v[i].sealed_len, e);

			if (opens < 0) {
				store_sealed_free(v, n);
				return -1;
			}
			hit = opens;
		}
		store_sealed_free(v, n);
		if (hit)
			return 1;
	}
	return 0;
}

/* Re-seal every blob of every table from old to new inside the caller's transaction. */
static int
reseal_all(struct engine *en, const struct master_key *nk, size_t counts[3], struct errbuf *e)
{
	for (int t = SEALED_ESCROW; t <= SEALED_ACTIONS; t++) {
		struct store_sealed *v = NULL;
		size_t n = 0;

		if (store_sealed_list(en->store, (enum store_sealed_table)t, NULL, &v, &n, e) != 0)
			return -1;
		for (size_t i = 0; i < n; i++) {
			unsigned char *resealed = NULL;
			size_t rlen = 0;
			int rc;

			/* Opened and sealed again inside the signer: no plaintext comes here. */
			if (escrow_reseal(&en->master_key, nk, v[i].aad, v[i].sealed, v[i].sealed_len,
			    &resealed, &rlen, e) != 0) {
				err_prefix(e, "%s #%lld does not open with the current master key; "
				    "nothing was changed", table_names[t], (long long)v[i].id);
				store_sealed_free(v, n);
				return -1;
			}
			rc = store_sealed_replace(en->store, (enum store_sealed_table)t, v[i].id,
			    resealed, rlen, e);
			free(resealed);
			if (rc != 0) {
				store_sealed_free(v, n);
				return -1;
			}
		}
		counts[t] = n;
		store_sealed_free(v, n);
	}
	return 0;
}

int
cmd_master_key(int argc, char **argv, const struct cli_options *cli)
{
	struct config *cfg = NULL;
	struct engine en;
	struct errbuf e;
	struct master_key nk;
	char *newpath = NULL;
	char detail[256];
	size_t counts[3] = { 0, 0, 0 };
	bool opened = false;
	int rc = 1;

	memset(&nk, 0, sizeof(nk));
	if (argc != 2 || strcmp(argv[1], "rotate") != 0)
		return cli_usage_error("master-key", NULL);
	cfg = commands_load_config(cli);
	if (cfg == NULL)
		goto out;
	if (engine_open_command(&en, cfg, true, &e) != 0) {
		fprintf(stderr, "smimesync: %s\n", e.text);
		goto out;
	}
	opened = true;
	newpath = xasprintf("%s.new", cfg->service.master_key_file);
	/*
	 * The signer holds <master_key_file>.new only between the two halves
	 * of a rotation (it may be another user's file: ask, do not look).
	 */
	if (master_key_load(newpath, en.signer, &nk, NULL) == 0) {
		/*
		 * A rotation stopped between its commit and the rename: if the
		 * store opens with the new key, finish it; otherwise the new key
		 * was never used and goes.
		 */
		int hit = any_opens_with(&en, &nk, &e);

		if (hit < 0)
			goto fail;
		if (hit == 1 && any_opens_with(&en, &en.master_key, &e) == 0) {
			if (master_key_commit(cfg->service.master_key_file, en.signer, &e) != 0)
				goto fail;
			printf("completed an interrupted rotation: %s is the new master key\n",
			    cfg->service.master_key_file);
			rc = 0;
			goto out;
		}
		if (master_key_discard_next(cfg->service.master_key_file, en.signer, &e) != 0)
			goto fail;
		master_key_wipe(&nk);
	}
	if (master_key_create(newpath, en.signer, &e) != 0 ||
	    master_key_load(newpath, en.signer, &nk, &e) != 0)
		goto fail;
	if (store_begin(en.store, &e) != 0)
		goto fail_unlink;
	if (reseal_all(&en, &nk, counts, &e) != 0) {
		store_rollback(en.store);
		goto fail_unlink;
	}
	snprintf(detail, sizeof(detail), "escrowed_keys=%zu queued_mails=%zu action_keys=%zu",
	    counts[SEALED_ESCROW], counts[SEALED_OUTBOX], counts[SEALED_ACTIONS]);
	if (store_audit(en.store, en.run_id, NULL, "master-key-rotated", detail, &e) != 0) {
		store_rollback(en.store);
		goto fail_unlink;
	}
	if (store_commit(en.store, &e) != 0)
		goto fail_unlink;
	/* The store is sealed under the new key now; the file must follow. */
	if (master_key_commit(cfg->service.master_key_file, en.signer, &e) != 0) {
		fprintf(stderr, "smimesync: the store is sealed under %s now, but %s; run "
		    "smimesync master-key rotate again to finish\n", newpath, e.text);
		goto out;
	}
	printf("rotated the master key: re-sealed %zu escrowed key%s, %zu queued mail%s and "
	    "%zu action key%s; the old key no longer opens anything\n", counts[SEALED_ESCROW],
	    counts[SEALED_ESCROW] == 1 ? "" : "s", counts[SEALED_OUTBOX],
	    counts[SEALED_OUTBOX] == 1 ? "" : "s", counts[SEALED_ACTIONS],
	    counts[SEALED_ACTIONS] == 1 ? "" : "s");
	rc = 0;
	goto out;
fail_unlink:
	{
		struct errbuf e2;

		if (master_key_discard_next(cfg->service.master_key_file, en.signer, &e2) != 0)
			fprintf(stderr, "smimesync: %s\n", e2.text);
	}
fail:
	fprintf(stderr, "smimesync: %s\n", e.text);
out:
	master_key_wipe(&nk);
	if (opened)
		engine_close_command(&en);
	free(newpath);
	config_free(cfg);
	return rc;
}

/* ---- resend ---- */

/* Print what became of the mails of action_id; 0 when every one was accepted. */
static int
resend_outcome(struct engine *en, const char *user_id, const char *who, int64_t action_id)
{
	struct store_mail *v = NULL;
	size_t n = 0, sent = 0, mine = 0;
	struct errbuf e;

	if (store_outbox_for_user(en->store, user_id, 64, &v, &n, &e) != 0) {
		fprintf(stderr, "smimesync: cannot read back the outbox: %s\n", e.text);
		return 1;
	}
	/* Oldest first: the collection mail, then the password mail. */
	for (size_t k = n; k-- > 0;) {
		char *what;

		if (v[k].action_id != action_id)
			continue;
		mine++;
		what = status_mail_explain(&v[k], en->cfg->mail.max_attempts);
		if (strcmp(v[k].state, "sent") == 0) {
			sent++;
			printf("%s mail to %s: %s\n", v[k].kind, v[k].recipient, what);
		} else {
			fprintf(stderr, "smimesync: %s mail to %s: %s\n", v[k].kind,
			    v[k].recipient, what);
		}
		free(what);
	}
	store_mails_free(v, n);
	if (mine > 0 && sent == mine)
		return 0;
	fprintf(stderr, "smimesync: %zu of %zu mails went out; the rest stay queued and the "
	    "next run (or the daemon) tries again; smimesync status %s shows them\n", sent, mine,
	    who);
	return 1;
}

int
cmd_resend(int argc, char **argv, const struct cli_options *cli)
{
	static const struct option longopts[] = {
		{ "credential", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	struct signer_recovery_item item;
	struct signer_recovery rq;
	const char *cred_file = NULL;
	char *credential = NULL;
	struct actor who;
	X509 *leaf = NULL;
	int ch;
	struct config *cfg = NULL;
	struct engine en;
	struct errbuf e;
	struct store_user u;
	struct store_cert *certs = NULL;
	struct store_sealed *sealed = NULL;
	struct store_action act;
	struct collected mails;
	struct user du;
	const struct store_cert *cur = NULL;
	const struct store_sealed *ks = NULL;
	const struct conf_group *g = NULL;
	STACK_OF(X509) *chain = NULL;
	EVP_PKEY *key = NULL;
	size_t n_certs = 0, n_sealed = 0;
	int64_t action_id = 0;
	bool opened = false;
	char detail[512];
	int rc = 1;

	memset(&u, 0, sizeof(u));
	memset(&mails, 0, sizeof(mails));
	memset(&du, 0, sizeof(du));
	memset(&act, 0, sizeof(act));
	memset(&item, 0, sizeof(item));
	memset(&rq, 0, sizeof(rq));
	optind = 0; /* see cmd_recover */
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (ch != 'c')
			goto usage;
		cred_file = optarg;
	}
	if (optind + 1 != argc)
		goto usage;
	cfg = commands_load_config(cli);
	if (cfg == NULL)
		goto out;
	if (!cfg->has_mail) {
		fprintf(stderr, "smimesync resend: the configuration has no [mail] section\n");
		goto out;
	}
	/* A new collection mail hands the private key out again: a key recovery. */
	if (commands_read_credential(cred_file, &credential) != 0)
		goto out;
	if (engine_open_command(&en, cfg, true, &e) != 0) {
		fprintf(stderr, "smimesync: %s\n", e.text);
		goto out;
	}
	opened = true;
	en.report = report_new(en.run_id, en.now, false);
	if (find_user(&en, argv[optind], &u) != 0)
		goto out;
	if (store_certs_for_user(en.store, u.id, true, &certs, &n_certs, &e) != 0)
		goto fail;
	for (size_t i = 0; i < n_certs && cur == NULL; i++)
		if (certs[i].status == CERT_VALID && certs[i].not_after > en.now)
			cur = &certs[i];
	if (cur == NULL) {
		fprintf(stderr, "smimesync: %s has no valid certificate to send again; issue one "
		    "with smimesync issue\n", u.mail ? u.mail : u.id);
		goto out;
	}
	if (store_sealed_list(en.store, SEALED_ESCROW, u.id, &sealed, &n_sealed, &e) != 0)
		goto fail;
	for (size_t i = 0; i < n_sealed && ks == NULL; i++)
		if (sealed[i].id == cur->id)
			ks = &sealed[i];
	if (ks == NULL) {
		fprintf(stderr, "smimesync: the key of serial %s was not kept (escrow = no): it "
		    "cannot be sent again; issue a new certificate with smimesync issue %s "
		    "--force\n", cur->serial, u.mail ? u.mail : u.id);
		goto out;
	}
	g = config_find_group(cfg, cur->group_name);
	if (g == NULL) {
		fprintf(stderr, "smimesync: group %s of serial %s is no longer configured\n",
		    cur->group_name, cur->serial);
		goto out;
	}
	if (cert_from_der(cur->der, cur->der_len, &leaf, &e) != 0 ||
	    engine_cert_chain(&en, g->ca, cur, &chain, &e) != 0)
		goto fail;
	actor_of_process(&who);
	item.aad = ks->aad;
	item.sealed = ks->sealed;
	item.sealed_len = ks->sealed_len;
	item.cert = leaf;
	item.name = cur->mail;
	rq.credential = credential;
	rq.user = who.name;
	rq.sudo_user = who.sudo_user[0] != '\0' ? who.sudo_user : NULL;
	rq.items = &item;
	rq.n_items = 1;
	rq.profile = g->pkcs12;
	rq.iterations = (int)g->pkcs12_iterations;
	if (signer_recover_key(en.signer, &rq, &key, &e) != 0)
		goto fail;
	du.id = u.id;
	du.dn = u.dn;
	du.mail = cur->mail;
	du.display_name = u.display_name;
	du.language = u.language;
	du.enabled = true;
	if (collect_build(&en, g, &du, cur, key, chain, &mails, &e) != 0)
		goto fail;
	/* Its own (finished) action ties the two mails together in the outbox. */
	act.run_id = en.run_id;
	act.user_id = u.id;
	act.kind = (char *)"resend";
	act.state = (char *)"done";
	act.group_name = g->name;
	act.mail = cur->mail;
	snprintf(detail, sizeof(detail), "serial=%s mail=%s user=%s%s%s", cur->serial, cur->mail,
	    who.name, rq.sudo_user != NULL ? " sudo_user=" : "",
	    rq.sudo_user != NULL ? rq.sudo_user : "");
	if (store_begin(en.store, &e) != 0)
		goto fail;
	if (store_action_create(en.store, &act, &action_id, &e) != 0 ||
	    collect_queue(&en, action_id, u.id, &mails, &e) != 0 ||
	    store_audit(en.store, en.run_id, u.id, "collection-resent", detail, &e) != 0) {
		store_rollback(en.store);
		goto fail;
	}
	if (store_commit(en.store, &e) != 0)
		goto fail;
	printf("queued a new collection mail and password mail for serial %s to %s\n",
	    cur->serial, cur->mail);
	/* Deliver now; what cannot go out stays queued for the next run. */
	if (outbox_flush(&en, &e) != 0)
		fprintf(stderr, "smimesync: the mails are queued but were not sent: %s\n", e.text);
	/*
	 * Say what became of these two mails, from their outbox rows: the
	 * flush also delivered other people's due mail, whose troubles are
	 * not this person's.
	 */
	rc = resend_outcome(&en, u.id, u.mail ? u.mail : u.id, action_id);
	goto out;
usage:
	return cli_usage_error("resend", NULL);
fail:
	fprintf(stderr, "smimesync: %s\n", e.text);
out:
	secret_free_str(credential);
	X509_free(leaf);
	EVP_PKEY_free(key);
	sk_X509_pop_free(chain, X509_free);
	collected_clear(&mails);
	store_sealed_free(sealed, n_sealed);
	store_certs_free(certs, n_certs);
	store_user_clear(&u);
	if (opened) {
		report_free(en.report);
		en.report = NULL;
		engine_close_command(&en);
	}
	config_free(cfg);
	return rc;
}
