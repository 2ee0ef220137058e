/* SPDX-License-Identifier: ISC */
/*
 * Room sync/: the engine of one run: the pure planner (plan.h), the
 * provisioning state machine (provision.h), publishing, revocation,
 * leavers, reminders and the outbox, over the rooms below.
 *
 * What one run carries around: configuration, store, master key, report,
 * and the connections it opened (one per directory, one per CA), opened
 * on first use and closed by engine_close().
 *
 * Everything here is borrowed from the engine for the life of the run.
 */
#ifndef SMIMESYNC_SYNC_ENGINE_H
#define SMIMESYNC_SYNC_ENGINE_H

#include <stdbool.h>
#include <time.h>

#include "common/errbuf.h"
#include "conf/conf.h"
#include "directory/directory.h"
#include "mail/transport.h"
#include "smime/ca.h"
#include "smime/escrow.h"
#include "smime/signer.h"
#include "report/progress.h"
#include "report/report.h"
#include "store/store.h"

struct engine {
	const struct config *cfg;
	struct store *store;
	struct master_key master_key;
	char run_id[64];
	time_t now;
	struct report *report;
	struct ca **cas;         /* parallel to cfg->cas; NULL until opened */
	struct dir_conn **dirs;  /* parallel to cfg->directories */
	/*
	 * The mail transport, opened by the first outbox flush and kept for the
	 * run: a Graph transport keeps its token across the flushes of a run.
	 */
	struct mail_transport *mail;
	char *mail_password;     /* [mail] smtp_password_file, read once (new, wiped) */
	/*
	 * Holds the CA and master keys; NULL until started (a dry run starts
	 * none and needs no key). engine_ca() and the master key loads pass
	 * it on, so no key is read into this process.
	 */
	struct signer *signer;
	/*
	 * Progress (report/progress.h): the run's hook, NULL for none, and the
	 * phase being counted. engine_progress() calls the hook.
	 */
	void (*progress)(const struct run_progress *p, void *arg);
	void *progress_arg;
	struct run_progress phase;
};

void engine_init(struct engine *en, const struct config *cfg);
void engine_close(struct engine *en);
/*
 * The engine for a one-shot admin command (revoke, crl, recover, resend,
 * master-key rotate): the signer started, the store opened for writing and
 * locked against a concurrent run, the master key loaded when the command
 * needs it, a fresh id for the audit log, and the current time. Close it
 * with engine_close_command(), which also closes the store.
 */
int engine_open_command(struct engine *en, const struct config *cfg, bool need_master_key,
    struct errbuf *e) MUST_USE;
void engine_close_command(struct engine *en);
/*
 * Start the signer process (signer.h) into en->signer before anything
 * needs a key: engine_ca() and the master key loads hand it on. Call it
 * before the store is opened and before any thread starts.
 */
int engine_start_signer(struct engine *en, struct errbuf *e) MUST_USE;
int engine_ca(struct engine *en, const struct conf_ca *conf, struct ca **out,
    struct errbuf *e) MUST_USE;
/* The run's mail transport (borrowed from the engine), opened on first use. */
int engine_mail(struct engine *en, struct mail_transport **out, struct errbuf *e) MUST_USE;
enum dir_status engine_dir(struct engine *en, const struct conf_directory *conf,
    struct dir_conn **out, struct errbuf *e) MUST_USE;
/*
 * The chain to hand out with certificate c (new; sk_X509_pop_free it): the
 * one stored when c was issued, else the CA's configured chain.
 */
int engine_cert_chain(struct engine *en, const struct conf_ca *conf, const struct store_cert *c,
    STACK_OF(X509) **out, struct errbuf *e) MUST_USE;
/*
 * Progress: engine_phase() starts a phase of total items (0: unknown),
 * engine_progress() counts items done in it (done is the new count, not an
 * increment). Both call en->progress when set; cheap otherwise.
 */
void engine_phase(struct engine *en, enum run_phase phase, uint64_t total);
void engine_progress(struct engine *en, uint64_t done);
/* A run id: UTC time plus 4 random hex digits, e.g. 20261123T185000Z-3fa9. */
void engine_new_run_id(char *out, size_t size, time_t now);

#endif
