/* SPDX-License-Identifier: ISC */
/*
 * What the signer remembers, rebuilt from its signing log (signlog.h) by
 * state_apply() on every line, replayed or just written: there is no
 * other state to keep in step with the log.
 *
 *   revocations   per CA (by key identifier): serial, time, reason
 *   CRL numbers   the last one signed per CA
 *   certificates  the times of those signed in the last hour (rate limit)
 *   alarms        when the rate limit last raised one
 *   recoveries    the times of refused recovery credentials (lockout)
 *   closed keys   SHA-256 of the public key of every subscriber key whose
 *                 provisioning ended: UNSEAL refuses them from then on
 */
#ifndef SMIMESYNC_SIGNER_STATE_H
#define SMIMESYNC_SIGNER_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

struct strset {
	char **slots;
	size_t cap; /* a power of two, or 0 */
	size_t n;
};

struct revoked {
	char *serial;
	time_t when;
	int reason;
};

struct ca_state {
	char *id;
	struct revoked *revoked;
	size_t n_revoked;
	struct strset serials;
	uint64_t last_crl; /* 0: none signed yet */
};

struct times {
	time_t *v;
	size_t n;
};

struct signer_state {
	struct ca_state *cas;
	size_t n_cas;
	struct times certificates;
	struct times refused_recoveries;
	time_t last_alarm;
	struct strset closed_keys;
};

/* signlog_apply_fn: arg is the struct signer_state. */
void state_apply(void *arg, const json_t *event, uint64_t seq, time_t when);
void state_free(struct signer_state *st);
/* The state of CA id, created empty when create is set (else NULL). */
struct ca_state *state_ca(struct signer_state *st, const char *id, bool create);
bool state_is_revoked(const struct ca_state *ca, const char *serial);
/* How many of t fall in (now - window, now]; older ones are dropped. *oldest: the first of those. */
size_t times_recent(struct times *t, time_t now, int64_t window, time_t *oldest);

bool strset_has(const struct strset *s, const char *key);
/* Adds a copy; false when it was there already. */
bool strset_add(struct strset *s, const char *key);
void strset_free(struct strset *s);

#endif
