/* SPDX-License-Identifier: ISC */
/*
 * Room signer/: the smimesync-signer program. This file: its policy, the
 * one file that decides what it signs (signer.conf, smimesync-signer(8)).
 *
 *   # comment
 *   [signer]
 *   state_dir = /var/lib/smimesync-signer     signing log (required)
 *   master_key_file = /var/lib/smimesync-signer/master.key
 *   master_key_uri = pkcs11:token=...;object=...   RSA key of a token that
 *                                         seals master_key_file (ca_key.h)
 *   master_key_pin_file = ...             its PIN (or master_key_pin_credential
 *                                         = NAME: $CREDENTIALS_DIRECTORY/NAME)
 *   client_user = smimesync                   serve: who may connect (and root)
 *   max_certificates_per_hour = 10000         more are refused, with an alarm
 *   recovery_credential = scrypt$15$8$1$..$.. unset: no key recovery at all
 *
 *   [ca NAME]                                 one per CA key held
 *   cert_file = /etc/smimesync/ca/issuing.pem (required)
 *   key_file = /var/lib/smimesync-signer/issuing.key   (required; ca_key.h)
 *              or pkcs11:token=...;object=...?module-path=...  (RFC 7512)
 *   pin_file = ...                            PIN of a PKCS#11 key_file
 *   pin_credential = NAME                     or $CREDENTIALS_DIRECTORY/NAME
 *   chain_file, crl_url, aia_url              as in smimesync.conf(5)
 *   mail_domains = example.org, example.com   or *; required
 *   profiles = mailbox-strict, ...            none given: no certificate
 *   key_types = rsa2048, p256, ...            none given: no certificate
 *   organization = Example Org                one allowed O= per line
 *   organization_identifier = VATDE-123456789 one per line
 *   max_validity = 365d                       default and at most 825d
 *
 * Values run from after "=" to the end of the line, trimmed; lists are
 * comma-separated. Every error is "FILE:LINE: message", all of them are
 * collected, and a policy with any error is not used.
 *
 * policy_load() also checks who may change the file: serving behind a
 * socket (POLICY_ROOT_ONLY), it and its directory must belong to root and
 * be writable by nobody else; started by smimesync (POLICY_ROOT_OR_SELF),
 * they may belong to this user instead.
 *
 * Ownership: *out is new (policy_free()); *errors is a new string of
 * newline-separated messages (free()), set when the call fails.
 */
#ifndef SMIMESYNC_SIGNER_POLICY_H
#define SMIMESYNC_SIGNER_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/attrs.h"

#define POLICY_DEFAULT_PER_HOUR 10000
#define POLICY_MAX_VALIDITY ((int64_t)825 * 86400)

struct policy_ca {
	char *name;
	int line;
	char *cert_file;
	char *key_file;
	char *pin_file;          /* the token's PIN, for a PKCS#11 key_file */
	char *pin_credential;    /* or the systemd credential holding it */
	char *chain_file;
	char *crl_url;
	char *aia_url;
	bool any_domain;         /* mail_domains = * */
	char **domains;          /* lowercase */
	size_t n_domains;
	unsigned profiles;       /* bit (1u << enum cert_profile) */
	unsigned key_types;      /* bit (1u << enum key_type) */
	char **organizations;
	size_t n_organizations;
	char **organization_ids;
	size_t n_organization_ids;
	int64_t max_validity;    /* seconds */
};

struct policy {
	char *origin;            /* the file, or where the text came from */
	char *state_dir;
	char *master_key_file;   /* NULL: no sealing */
	char *master_key_uri;    /* a token's RSA key sealing master_key_file, or NULL */
	char *master_key_pin_file;
	char *master_key_pin_credential;
	char *client_user;       /* NULL: only root may connect */
	uid_t client_uid;        /* resolved client_user */
	int64_t max_per_hour;
	char *recovery_credential; /* scrypt verifier, or NULL */
	struct policy_ca *cas;
	size_t n_cas;
};

enum policy_owner {
	POLICY_ROOT_ONLY,
	POLICY_ROOT_OR_SELF,
};

/* Parse text; origin names it in messages. */
int policy_parse(const char *text, size_t len, const char *origin, struct policy **out,
    char **errors) MUST_USE;
int policy_load(const char *path, enum policy_owner owner, struct policy **out, char **errors)
    MUST_USE;
void policy_free(struct policy *p);
/* Lines worth a warning at start ("mail_domains = * lets ..."), newline-separated, or NULL (new). */
char *policy_warnings(const struct policy *p);

#endif
