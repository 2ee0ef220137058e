/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "common/fileutil.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "smime/cert.h"
#include "sync/engine.h"

void
engine_init(struct engine *en, const struct config *cfg)
{
	memset(en, 0, sizeof(*en));
	en->cfg = cfg;
	en->cas = xcalloc(cfg->n_cas + 1, sizeof(*en->cas));
	en->dirs = xcalloc(cfg->n_directories + 1, sizeof(*en->dirs));
}

void
engine_close(struct engine *en)
{
	for (size_t i = 0; en->cas != NULL && i < en->cfg->n_cas; i++)
		ca_close(en->cas[i]);
	for (size_t i = 0; en->dirs != NULL && i < en->cfg->n_directories; i++)
		dir_close(en->dirs[i]);
	mail_transport_close(en->mail);
	en->mail = NULL;
	secret_free_str(en->mail_password);
	en->mail_password = NULL;
	free(en->cas);
	free(en->dirs);
	en->cas = NULL;
	en->dirs = NULL;
	master_key_wipe(&en->master_key);
	signer_stop(en->signer);
	en->signer = NULL;
}

void
engine_phase(struct engine *en, enum run_phase phase, uint64_t total)
{
	if (en->progress == NULL)
		return;
	en->phase.phase = phase;
	en->phase.done = 0;
	en->phase.total = total;
	en->phase.started = en->phase.now = progress_clock();
	en->progress(&en->phase, en->progress_arg);
}

void
engine_progress(struct engine *en, uint64_t done)
{
	if (en->progress == NULL)
		return;
	en->phase.done = done;
	en->phase.now = progress_clock();
	en->progress(&en->phase, en->progress_arg);
}

int
engine_open_command(struct engine *en, const struct config *cfg, bool need_master_key,
    struct errbuf *e)
{
	engine_init(en, cfg);
	en->now = time(NULL);
	engine_new_run_id(en->run_id, sizeof(en->run_id), en->now);
	if (engine_start_signer(en, e) != 0 ||
	    store_open(cfg->service.state_dir, &en->store, e) != 0 ||
	    store_lock(en->store, e) != 0)
		goto fail;
	if (need_master_key &&
	    master_key_load(cfg->service.master_key_file, en->signer, &en->master_key, e) != 0)
		goto fail;
	return 0;
fail:
	engine_close_command(en);
	return -1;
}

void
engine_close_command(struct engine *en)
{
	struct store *st = en->store;

	engine_close(en);
	store_close(st);
	en->store = NULL;
}

int
engine_start_signer(struct engine *en, struct errbuf *e)
{
	if (signer_start(en->cfg, &en->signer, e) != 0)
		return -1;
	/* The signing log names this run for everything done at its request. */
	signer_set_requester(en->signer, en->run_id);
	return 0;
}

int
engine_ca(struct engine *en, const struct conf_ca *conf, struct ca **out, struct errbuf *e)
{
	size_t i = (size_t)(conf - en->cfg->cas);

	if (en->cas[i] == NULL && ca_open(conf, en->signer, &en->cas[i], e) != 0) {
		err_prefix(e, "[ca %s]", conf->name);
		return -1;
	}
	*out = en->cas[i];
	return 0;
}

int
engine_mail(struct engine *en, struct mail_transport **out, struct errbuf *e)
{
	const struct conf_mail *mc = &en->cfg->mail;

	if (en->mail == NULL) {
		if (en->mail_password == NULL && mc->smtp_password_file != NULL &&
		    file_read_password(mc->smtp_password_file, &en->mail_password, e) != 0) {
			err_prefix(e, "[mail] smtp_password_file");
			return -1;
		}
		if (mail_transport_open(mc, en->mail_password, &en->mail, e) != 0)
			return -1;
	}
	*out = en->mail;
	return 0;
}

enum dir_status
engine_dir(struct engine *en, const struct conf_directory *conf, struct dir_conn **out,
    struct errbuf *e)
{
	size_t i = (size_t)(conf - en->cfg->directories);
	char *password = NULL;
	enum dir_status st = DIR_OK;

	if (en->dirs[i] == NULL) {
		if (conf->bind_password_file != NULL &&
		    file_read_password(conf->bind_password_file, &password, e) != 0) {
			err_prefix(e, "[directory %s] bind_password_file", conf->name);
			return DIR_BAD_CONFIG;
		}
		st = dir_open(conf, password, &en->dirs[i], e);
		secret_free_str(password);
		if (st != DIR_OK) {
			err_prefix(e, "[directory %s]", conf->name);
			return st;
		}
	}
	*out = en->dirs[i];
	return DIR_OK;
}

void
engine_new_run_id(char *out, size_t size, time_t now)
{
	unsigned char r[2] = { 0, 0 };
	struct tm tm;
	char stamp[32];

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	if (RAND_bytes(r, sizeof(r)) != 1)
		r[0] = r[1] = 0;
	snprintf(out, size, "%s-%02x%02x", stamp, r[0], r[1]);
}

int
engine_cert_chain(struct engine *en, const struct conf_ca *conf, const struct store_cert *c,
    STACK_OF(X509) **out, struct errbuf *e)
{
	struct ca *ca = NULL;

	/*
	 * An external CA's chain is the one verified when the certificate came
	 * in: the CA may change intermediates later, the certificate does not.
	 */
	if (c->chain_pem != NULL && c->chain_pem[0] != '\0')
		return cert_parse_pem("the stored chain", c->chain_pem, strlen(c->chain_pem), out, e);
	if (engine_ca(en, conf, &ca, e) != 0)
		return -1;
	if ((*out = X509_chain_up_ref(ca_chain(ca))) == NULL)
		fatal("out of memory");
	return 0;
}
