/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fileutil.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "mail/mime.h"
#include "mail/transport.h"
#include "sync/mail_queue.h"
#include "sync/outbox.h"

/*
 * Mails per SMTP session. A crash between the server's "250" and our
 * record of it sends that mail again on the next run (delivery is at least
 * once); smaller batches narrow that window, larger ones save handshakes.
 * A full disk does not open that window (reserve_for_batch below).
 */
#define OUTBOX_BATCH 50

/*
 * Two checks before a queued mail is opened, each ending it as "failed"
 * with the reason in the report (invariants I4 and I6):
 *
 *  - A collection or password mail whose certificate was revoked or
 *    superseded since it was queued is cancelled: its key must not reach
 *    anyone after that moment.
 *  - The label the payload is opened with is computed again from the
 *    row's action, kind and recipient, never read from the row: a row
 *    whose recipient was edited in the store does not open, so nobody can
 *    redirect an old key mail to another address.
 */
static const char *
mail_refused(const struct store_mail *m, char **aad)
{
	*aad = mailq_aad(m->action_id, m->kind, m->recipient);
	if (m->cert_status != NULL && strcmp(m->cert_status, "valid") != 0 &&
	    (strcmp(m->kind, "collection") == 0 || strcmp(m->kind, "password") == 0))
		return m->cert_status[0] == 'r' ? "cancelled: the certificate it carries was "
		    "revoked after the mail was queued; it is not sent" : "cancelled: the "
		    "certificate it carries was superseded after the mail was queued; it is not sent";
	if (m->aad == NULL || strcmp(m->aad, *aad) != 0)
		return "refused: the stored row does not match what the mail was sealed for "
		    "(its recipient, kind or action was changed in the store); it is not sent";
	return NULL;
}

/*
 * Space the store needs to record the outcome of one batch: per mail, one
 * transaction of a few 4 kB pages in the write-ahead log (outbox row,
 * index, audit row), with room to spare for a checkpoint.
 */
#define RESERVE_BASE ((off_t)256 << 10)
#define RESERVE_PER_MAIL ((off_t)32 << 10)

/*
 * A mail the server accepted but the store could not record would go out
 * again on the next run. The usual cause is a full disk, so no batch goes
 * out unless the space to record it is there: a reserve file in the state
 * directory is made before each batch and removed right after the SMTP
 * session, handing its space to the records. When it cannot be made, the
 * mails stay queued and the run says why.
 */
static int
reserve_for_batch(struct engine *en, const char *path, size_t n, struct errbuf *e)
{
	if (file_reserve(path, RESERVE_BASE + RESERVE_PER_MAIL * (off_t)n, e) == 0)
		return 0;
	err_prefix(e, "not sending the next %zu queued mail%s: the store could not record that they "
	    "went out; free space in %s and run again (the mails stay queued)", n,
	    n == 1 ? "" : "s", en->cfg->service.state_dir);
	return -1;
}

static int
record_outcome(struct engine *en, const struct store_mail *m, const struct mail_job *job,
    bool cancelled, struct errbuf *e)
{
	const struct conf_mail *mc = &en->cfg->mail;
	int attempts = m->attempts + 1;
	const char *state = "queued";
	time_t next = 0;

	switch (job->outcome) {
	case MAIL_SENT:
		state = "sent";
		report_count(en->report, "mails_sent", 1);
		break;
	case MAIL_RETRY:
		if (attempts >= mc->max_attempts) {
			state = "failed";
			report_count(en->report, "mails_failed", 1);
			report_error(en->report, m->recipient, "mail",
			    "%s mail not delivered after %d attempts, giving up: %s", m->kind,
			    attempts, job->reason);
		} else {
			next = en->now + mail_retry_delay(attempts);
			report_error(en->report, m->recipient, "mail",
			    "%s mail deferred (attempt %d of %lld, will retry): %s", m->kind,
			    attempts, (long long)mc->max_attempts, job->reason);
		}
		break;
	case MAIL_FAILED:
		state = "failed";
		if (cancelled) {
			report_count(en->report, "mails_cancelled", 1);
			report_error(en->report, m->recipient, "mail", "%s mail %s", m->kind,
			    job->reason);
			break;
		}
		report_count(en->report, "mails_failed", 1);
		report_error(en->report, m->recipient, "mail",
		    "%s mail refused by the server, not retried: %s", m->kind, job->reason);
		break;
	}
	/* One line per mail is for debugging; the run's summary counts them. */
	log_msg(job->outcome == MAIL_SENT ? LOGL_DEBUG : LOGL_WARN, "%s mail to %s: %s%s%s",
	    m->kind, m->recipient, mail_outcome_name(job->outcome), job->reason[0] ? ": " : "",
	    job->reason);
	/* One transaction per mail: a later store error cannot undo a "sent". */
	if (store_begin(en->store, e) != 0)
		return -1;
	if (store_outbox_update(en->store, m->id, state, attempts, next, job->reason, en->now,
	    e) != 0 ||
	    store_audit(en->store, en->run_id, m->user_id,
	    job->outcome == MAIL_SENT ? "mail-sent" : cancelled ? "mail-cancelled" :
	    "mail-not-sent", m->kind, e) != 0)
		goto fail;
	if (strcmp(state, "failed") == 0 && strcmp(m->kind, "collection") == 0 &&
	    m->action_id != 0) {
		int n = store_outbox_fail_siblings(en->store, m->action_id, cancelled ?
		    "cancelled with the certificate mail it belongs to" :
		    "not sent: the certificate mail it belongs to could not be delivered", en->now, e);

		if (n < 0)
			goto fail;
		if (n > 0 && cancelled) {
			report_count(en->report, "mails_cancelled", n);
		} else if (n > 0) {
			report_count(en->report, "mails_failed", n);
			report_error(en->report, m->recipient, "mail",
			    "password mail withheld: its certificate mail was not delivered; "
			    "fix the address, then smimesync issue %s --force", m->recipient);
		}
	}
	return store_commit(en->store, e);
fail:
	store_rollback(en->store);
	return -1;
}

int
outbox_flush(struct engine *en, struct errbuf *e)
{
	const struct conf_mail *mc = &en->cfg->mail;
	struct mail_transport *tr = NULL;
	char *from_name = NULL, *from_addr = NULL;
	struct store_mail *mails = NULL;
	struct mail_job *jobs = NULL;
	unsigned char **plain = NULL;
	size_t *plain_len = NULL;
	bool *cancelled = NULL;
	size_t n = 0;
	char *reserve = xasprintf("%s/outbox.reserve", en->cfg->service.state_dir);
	int rc = -1;

	if (mail_parse_mailbox(mc->from, &from_name, &from_addr, e) != 0) {
		err_prefix(e, "[mail] from");
		goto out;
	}
	if (engine_mail(en, &tr, e) != 0)
		goto out;

	for (;;) {
		if (store_outbox_due(en->store, en->now, OUTBOX_BATCH, &mails, &n, e) != 0)
			goto out;
		if (n == 0)
			break;
		if (reserve_for_batch(en, reserve, n, e) != 0)
			goto out;
		jobs = xcalloc(n, sizeof(*jobs));
		plain = xcalloc(n, sizeof(*plain));
		plain_len = xcalloc(n, sizeof(*plain_len));
		cancelled = xcalloc(n, sizeof(*cancelled));
		for (size_t i = 0; i < n; i++) {
			char *aad = NULL;
			const char *refused = mail_refused(&mails[i], &aad);

			jobs[i].envelope_from = from_addr;
			jobs[i].rcpt = mails[i].recipient;
			if (refused != NULL) {
				jobs[i].outcome = MAIL_FAILED;
				cancelled[i] = true;
				snprintf(jobs[i].reason, sizeof(jobs[i].reason), "%s", refused);
				free(aad);
				continue;
			}
			if (escrow_open(&en->master_key, aad, mails[i].sealed,
			    mails[i].sealed_len, &plain[i], &plain_len[i], e) != 0) {
				/*
				 * The master key changed, or the row was altered so that
				 * it no longer matches its seal: fail this mail loudly.
				 */
				jobs[i].outcome = MAIL_FAILED;
				snprintf(jobs[i].reason, sizeof(jobs[i].reason), "%s", e->text);
				free(aad);
				continue;
			}
			free(aad);
			jobs[i].data = (const char *)plain[i];
			jobs[i].len = plain_len[i];
		}
		{
			/* Send only the jobs that opened; keep their order. */
			struct mail_job *send = xcalloc(n, sizeof(*send));
			size_t *map = xcalloc(n, sizeof(*map));
			size_t k = 0;

			for (size_t i = 0; i < n; i++) {
				if (jobs[i].data == NULL)
					continue;
				send[k] = jobs[i];
				map[k++] = i;
			}
			if (k > 0)
				mail_send_batch(tr, send, k);
			for (size_t j = 0; j < k; j++)
				jobs[map[j]] = send[j];
			free(send);
			free(map);
		}
		(void)unlink(reserve); /* its space is for the records below */
		for (size_t i = 0; i < n; i++)
			if (record_outcome(en, &mails[i], &jobs[i], cancelled[i], e) != 0)
				goto out;
		/* Counted only when delivery is the run's phase (not between issuing batches). */
		if (en->phase.phase == PHASE_MAILING)
			engine_progress(en, en->phase.done + n);
		for (size_t i = 0; i < n; i++)
			secret_free(plain[i], plain_len[i]);
		free(plain);
		free(plain_len);
		free(cancelled);
		free(jobs);
		cancelled = NULL;
		plain = NULL;
		plain_len = NULL;
		jobs = NULL;
		store_mails_free(mails, n);
		mails = NULL;
		n = 0;
	}
	rc = 0;
out:
	(void)unlink(reserve);
	free(reserve);
	for (size_t i = 0; plain != NULL && i < n; i++)
		secret_free(plain[i], plain_len[i]);
	free(plain);
	free(plain_len);
	free(cancelled);
	free(jobs);
	store_mails_free(mails, n);
	free(from_name);
	free(from_addr);
	return rc;
}
