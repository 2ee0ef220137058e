/* SPDX-License-Identifier: ISC */
/*
 * The signer: smimesync's side of smimesync-signer, the separate program
 * that alone holds the local CAs' private keys and the master key, enforces
 * its own policy on what it signs and keeps a hash-chained log of it
 * (signer/ is the program; smime/signer_proto.h the wire format).
 *
 * signer_start() reaches it one of two ways:
 *
 *   - [service] signer_socket set: connect to that Unix socket, where the
 *     signer runs as a service under its own user (smimesync-signer.socket
 *     and .service). This process then cannot read any key file at all.
 *   - otherwise: start the program itself with fork and exec (no memory
 *     of this process is inherited) over a socketpair, under this user.
 *     Its policy is [service] signer_policy, else signer.conf beside the
 *     configuration file when it exists, else one derived from this
 *     configuration (smime/signer_policy.c) and sent in the greeting.
 *
 * Either way the greeting (HELLO) checks that both sides speak the same
 * protocol, and a signer that cannot load its policy says why there.
 *
 * The handle is passed wherever a key is used, and nothing finds it any
 * other way: ca_open(conf, s, ...) of a local CA takes the chain from the
 * signer and makes ca_submit() and ca_make_crl() requests to it;
 * master_key_load(path, s, ...) returns a handle to a key the signer
 * holds, and escrow_seal()/escrow_open() with that handle are requests.
 * Given NULL instead, the same calls read the key files into this
 * process, which only "ca init" and unit tests do.
 *
 *   struct signer *s = NULL;
 *   if (signer_start(cfg, &s, &e) != 0) ... no signer: fatal for the run ...
 *   signer_set_requester(s, run_id);
 *   ... ca_open(conf, s, &ca, &e), master_key_load(path, s, &k, &e) ...
 *   ca_close(ca); master_key_wipe(&k);
 *   signer_stop(s);
 *
 * When the signer dies or does not answer within SIGNER_TIMEOUT_S, the
 * request in flight fails with a message that says so (a certificate
 * request is CA_UNREACHABLE: nothing was issued and the next run tries
 * again), and so does every later request; a child is killed and reaped.
 * Requests from several threads are serialized.
 *
 * Refusals of the signer's policy come back as such: a certificate request
 * is CA_REJECTED with "refused by the signer: <why>", other requests fail
 * with that text in e. The hourly limit of certificates gives
 * CA_UNREACHABLE with the time to wait in retry_after.
 *
 * Ownership: signer_start() returns a new handle in *out, which must be
 * NULL: starting over a running signer is refused, since it would be lost.
 * signer_stop() ends the connection (and the child) and frees it (NULL is
 * fine); CA and master key handles that borrowed it must be closed or
 * wiped first.
 */
#ifndef SMIMESYNC_SMIME_SIGNER_H
#define SMIMESYNC_SMIME_SIGNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/attrs.h"
#include "common/errbuf.h"
#include "conf/conf.h"
#include "smime/types.h"

/*
 * Signing a leaf takes milliseconds and a CRL of 100,000 entries a few
 * seconds: a signer silent for two minutes is stuck, not busy.
 */
#define SIGNER_TIMEOUT_S 120

struct signer;

int signer_start(const struct config *cfg, struct signer **out, struct errbuf *e) MUST_USE;
void signer_stop(struct signer *s);
/* The child's process id, or -1 for a signer reached over signer_socket. */
pid_t signer_pid(const struct signer *s);
/* What the signer said of itself in the greeting: its policy, its log (borrowed). */
const char *signer_description(const struct signer *s);
/* The run id every later request names in the signing log (copied). */
void signer_set_requester(struct signer *s, const char *run_id);

/*
 * The program smimesync starts when no signer_socket is set:
 * smimesync-signer beside this program (a build tree, where both were
 * built together), else the SMIMESYNC_SIGNER_PROGRAM environment variable
 * (tests, development), else $(libexecdir)/smimesync/smimesync-signer.
 * New string.
 */
char *signer_program_path(void);

/* A CA's name on the wire: lowercase hex of its subjectKeyIdentifier (new), or NULL. */
char *signer_ca_id(X509 *ca_cert);

/*
 * Add cert to its CA's revocation list in the signer, for an RFC 5280
 * reason. The signer refuses a certificate none of its CAs issued and a
 * reason a subscriber certificate cannot have. *already says whether it
 * was on the list before (not an error: revoking twice changes nothing).
 */
int signer_revoke(struct signer *s, X509 *cert, int reason, bool *already,
    struct errbuf *e) MUST_USE;
/* The serials (uppercase hex, new array of new strings) on ca_id's list. */
int signer_revoked_serials(struct signer *s, const char *ca_id, char ***serials, size_t *n,
    struct errbuf *e) MUST_USE;
void signer_serials_free(char **serials, size_t n);

/*
 * The head of the signing log: its number of lines and the SHA-256 (hex)
 * of the last one. Given a line and hash recorded earlier (check_line > 0),
 * check says whether that line is still in the log with that hash.
 */
enum signer_head_check {
	SIGNER_HEAD_NOT_ASKED = 0,
	SIGNER_HEAD_MATCHES = 1, /* that line is still there with that hash */
	SIGNER_HEAD_DIFFERS = 2, /* that line has another hash: the log was edited */
	SIGNER_HEAD_MISSING = 3, /* the log is shorter: lines were removed */
};

struct signer_log_head {
	uint64_t lines;
	char hash[65];
	int check; /* enum signer_head_check */
};
int signer_log_head(struct signer *s, uint64_t check_line, const char *check_hash,
    struct signer_log_head *out, struct errbuf *e) MUST_USE;
/* "matches", "differs", "missing" or "not asked" (static). */
const char *signer_head_check_name(int check);

/*
 * Key recovery: the signer opens escrowed keys only for this, only with
 * the operator's credential its policy names, and logs who asked.
 */
struct signer_recovery_item {
	const char *aad;             /* what the blob was sealed with */
	const unsigned char *sealed;
	size_t sealed_len;
	X509 *cert;                  /* the certificate of that key */
	const char *name;            /* PKCS#12 friendly name */
};

struct signer_recovery {
	const char *credential;      /* the operator's credential (borrowed secret) */
	const char *user;            /* who runs the command (login name) */
	const char *sudo_user;       /* SUDO_USER, or NULL */
	const struct signer_recovery_item *items;
	size_t n_items;
	STACK_OF(X509) *chain;       /* issuing CA up to the root, for the PKCS#12 */
	enum pkcs12_profile profile;
	int iterations;
};

/*
 * Every item's key in one PKCS#12 under a fresh password, built by the
 * signer (smimesync recover). *p12 (secret_free) and *password
 * (secret_free_str) are new.
 */
int signer_recover_pkcs12(struct signer *s, const struct signer_recovery *r,
    unsigned char **p12, size_t *len, char **password, struct errbuf *e) MUST_USE;
/* The one item's key (smimesync resend), new: EVP_PKEY_free(). */
int signer_recover_key(struct signer *s, const struct signer_recovery *r, EVP_PKEY **key,
    struct errbuf *e) MUST_USE;

#endif
