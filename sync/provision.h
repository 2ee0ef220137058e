/* SPDX-License-Identifier: ISC */
/*
 * Provisioning one person: a persisted state machine.
 *
 * Each step is recorded in the store (table actions) BEFORE the next
 * external side effect, so a run killed at any point resumes at the right
 * step and never makes two certificates where one was meant:
 *
 *   planned      intent recorded.            Restart: generate the key.
 *   key_made     key sealed in the store.    Restart: ask the CA again with
 *                                            the same key.
 *   ca_asked     about to ask the CA, or waiting for it.
 *                                            Restart: with a cookie (an
 *                external CA said "pending"), poll with it once
 *                ca_next_try has passed: never submit again, so one intent
 *                never becomes two orders (the cookie is kept with the
 *                [ca] that gave it: after the group's ca = changed, the
 *                new CA is asked afresh). Without one, ask again: the
 *                local CA's earlier answer never left memory (not stored,
 *                published or mailed), so it does not exist for anyone. An
 *                external CA that was sent the request just before a crash
 *                may then see it twice, for the same key; that window is
 *                one HTTP exchange wide. "Unreachable" keeps the state and
 *                waits retry_interval, doubling up to 64 times that.
 *   cert_stored  certificate and escrowed key stored.
 *                                            Restart: publish (idempotent).
 *   published    in the directory; the certificate it replaces is marked
 *                superseded.                 Restart: queue the mails.
 *   done         both mails queued in the outbox in the same transaction
 *                that records "done"; the outbox delivers them.
 *   failed       the request is wrong or the CA refused it. A refusal
 *                (REJECTED) also holds the person back (users.ca_hold)
 *                until an admin runs smimesync issue; otherwise the next
 *                run's plan decides afresh.
 *
 * Transitions are logged by name from one function (prov_enter).
 */
#ifndef SMIMESYNC_SYNC_PROVISION_H
#define SMIMESYNC_SYNC_PROVISION_H

#include <stdint.h>

#include <openssl/evp.h>

#include "directory/directory.h"
#include "sync/engine.h"
#include "sync/plan.h"

enum prov_state {
	PROV_PLANNED = 0,
	PROV_KEY_MADE,
	PROV_CA_ASKED,
	PROV_CERT_STORED,
	PROV_PUBLISHED,
	PROV_DONE,
	PROV_FAILED,
};

const char *prov_state_name(enum prov_state s);
int prov_state_parse(const char *name, enum prov_state *out) MUST_USE;

/* What happened to one person, for the report. */
struct prov_outcome {
	const char *outcome;    /* "done", "pending", "failed" */
	char kind[16];          /* "issue", "renew", "reissue" from the action */
	char serial[80];
	time_t not_after;
	char step[24];          /* state in which it stopped */
	char error[1024];
};

/* Record the intent for a planned issue/renew/reissue; returns the action id. */
int provision_create(struct engine *en, const struct plan_item *it, int64_t *action_id,
    struct errbuf *e) MUST_USE;

/*
 * Close an unfinished action without finishing it (the planner's
 * plan_item.abandon, invariant I4): it goes to failed with why, its sealed
 * key is forgotten, and the audit log says so. Nothing it made is
 * published or mailed afterwards.
 */
int provision_abandon(struct engine *en, int64_t action_id, const char *why,
    struct errbuf *e) MUST_USE;

/*
 * Drive action_id as far as it goes. key is a pre-generated key (stolen;
 * may be NULL: then one is generated here if needed). Never fails as a
 * whole: the outcome says where it stopped and why.
 */
void provision_run(struct engine *en, int64_t action_id, const struct user *u, EVP_PKEY *key,
    struct prov_outcome *out);

#endif
