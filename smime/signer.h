/* SPDX-License-Identifier: ISC */
/*
 * The signer process: the local CAs' private keys and the master key live
 * in a child process of their own (privilege separation, STYLE 2).
 *
 * signer_start() forks the child before anything has read a key file. The
 * child loads the private key of every local [ca] and the master key (and
 * <master_key_file>.new when an interrupted rotation left one), closes
 * every other file descriptor and then answers only these requests over a
 * socketpair: the public chain of a CA, sign a certificate for a CSR in a
 * profile, sign a CRL, seal and unseal with the master key, and create the
 * next master key for master-key rotate. No request returns a private key.
 *
 * The handle is passed wherever a key is used, and nothing finds it any
 * other way: ca_open(conf, s, ...) of a local CA takes the chain from the
 * signer and makes ca_submit() and ca_make_crl() requests to it;
 * master_key_load(path, s, ...) returns a handle to a key the signer
 * holds, and escrow_seal()/escrow_open() with that handle are requests;
 * master_key_create(path, s, ...) has the signer make the rotation's
 * successor key. Given NULL instead, the same calls read the key files
 * into this process, which only the signer child, "ca init" and unit
 * tests do: the process that talks to directories, HTTP and SMTP servers
 * never has these keys in its memory.
 *
 *   struct signer *s = NULL;
 *   if (signer_start(cfg, &s, &e) != 0) ... cannot fork: fatal for the run ...
 *   ... ca_open(conf, s, &ca, &e), master_key_load(path, s, &k, &e) ...
 *   ... ca_submit(ca, ...), escrow_seal(&k, ...) ...
 *   ca_close(ca); master_key_wipe(&k);
 *   signer_stop(s);
 *
 * When the child dies or does not answer within SIGNER_TIMEOUT_S, the
 * request in flight fails with a message that says so (a certificate
 * request is CA_UNREACHABLE: nothing was issued and the next run tries
 * again), and so does every later request; the child is killed and reaped.
 * The next signer_start() begins afresh. Requests from several threads
 * are serialized.
 *
 * Ownership: signer_start() returns a new handle in *out, which must be
 * NULL: starting over a running signer is refused, since it would be lost.
 * signer_stop() ends the child and frees it (NULL is fine); CA and master
 * key handles that borrowed it must be closed or wiped first.
 */
#ifndef SMIMESYNC_SMIME_SIGNER_H
#define SMIMESYNC_SMIME_SIGNER_H

#include <sys/types.h>

#include "common/attrs.h"
#include "common/errbuf.h"
#include "conf/conf.h"

/*
 * Signing a leaf takes milliseconds and a CRL of 100,000 entries a few
 * seconds: a signer silent for two minutes is stuck, not busy.
 */
#define SIGNER_TIMEOUT_S 120

struct signer;

int signer_start(const struct config *cfg, struct signer **out, struct errbuf *e) MUST_USE;
void signer_stop(struct signer *s);
/* The child's process id (tests and log lines). */
pid_t signer_pid(const struct signer *s);

#endif
