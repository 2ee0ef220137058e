/* SPDX-License-Identifier: ISC */
/*
 * A CA's private key, wherever it lives: the one way the signer (and "ca
 * init") loads a CA key or the key that seals the master key.
 *
 * key_ref is either the path of a PEM file (a secret file: mode 0600 or
 * refused), or an RFC 7512 PKCS#11 URI naming a private key on a token
 * (common/p11uri.h), e.g.
 *
 *   pkcs11:token=smimesync;object=issuing-ca?module-path=/usr/lib/softhsm/libsofthsm2.so
 *
 * For a token the PIN comes from pin_file (a secret file, one line); it is
 * kept in this process's memory to log in again after the token forgot
 * the session. The private key never leaves the token: ca_key_pkey()
 * returns an OpenSSL key (through libp11's PKCS11_* API) whose private
 * operations are C_Sign/C_Decrypt calls, so signing with OpenSSL works as
 * for a file key: RSA PKCS#1 v1.5 and PSS, ECDSA P-256/P-384.
 *
 *   struct ca_key *k = NULL;
 *   if (ca_key_load(conf->key_uri ? conf->key_uri : conf->key_file, pin_file, &k, &e) != 0) ...
 *   rc = ca_key_use(k, sign_something, &arg, &token_down, &e);
 *   ca_key_free(k);
 *
 * A token can fail under a running process: the HSM restarts, the USB
 * token is pulled and put back, a SoftHSM token directory is re-created,
 * the session is closed (CKR_USER_NOT_LOGGED_IN, CKR_SESSION_HANDLE_INVALID,
 * CKR_OBJECT_HANDLE_INVALID, CKR_DEVICE_REMOVED ...). ca_key_use() then
 * reconnects once: it unloads the PKCS#11 module (C_Finalize), loads it
 * again (C_Initialize: the module forgets every stale handle), finds the
 * token and the key again, logs in with the kept PIN, and repeats the
 * operation. Only when that fails too is the operation failed, with
 * *token_down set: the CA is unreachable for now, not misconfigured.
 *
 * The known traps of PKCS#11 in a daemon, and how this module avoids them:
 * - fork: a module must not be used by a child forked after C_Initialize.
 *   Only the signer process (started with a fresh exec) and "ca init"
 *   load modules, and neither forks afterwards.
 * - one module, one initialisation per process (C_Initialize is
 *   process-wide; a second handle onto the same library would finalize
 *   the first): keys of the same module share one libp11 context, kept in
 *   a small registry in p11_token.c. This is the one place process-wide
 *   state is kept on purpose, because the PKCS#11 library keeps it anyway.
 * - sessions: libp11 serialises its session pool; smimesync calls from one
 *   thread at a time (the signer answers requests one by one), so one
 *   session does all the work.
 * - libp11 0.4.12 waits forever when C_OpenSession fails on a vanished
 *   token: a reconnect therefore re-enumerates the slots of a freshly
 *   initialised module and logs in only on a slot whose token is present.
 *
 * Callers: issuer_open() (issuer.c), in smimesync-signer with the policy's
 * [ca] key_file, pin_file and pin_credential (signer/sctx.c) and in-process
 * for unit tests; escrow_key_read() for the key that seals the master key
 * (the signer, with its policy's master_key_uri); "ca init" (ca_init.c,
 * escrow.c) to make or find the keys.
 *
 * Ownership: ca_key_load() returns a new handle; ca_key_free() frees it
 * (NULL is fine), wiping the PIN and unloading the module when it was the
 * last key of it. ca_key_pkey() is borrowed until the next ca_key_use(),
 * ca_key_reconnect() or ca_key_free(); it may be NULL after another key of
 * the same module reconnected (ca_key_use() handles that).
 */
#ifndef SMIMESYNC_SMIME_CA_KEY_H
#define SMIMESYNC_SMIME_CA_KEY_H

#include <stdbool.h>

#include <openssl/evp.h>

#include "common/attrs.h"
#include "common/errbuf.h"
#include "smime/types.h"

struct ca_key;

int ca_key_load(const char *key_ref, const char *pin_file, struct ca_key **out,
    struct errbuf *e) MUST_USE;
void ca_key_free(struct ca_key *k);
EVP_PKEY *ca_key_pkey(const struct ca_key *k);
/* Is the key on a PKCS#11 token (true), or from a file? */
bool ca_key_on_token(const struct ca_key *k);
/* key_ref as given (borrowed), for messages. */
const char *ca_key_ref(const struct ca_key *k);

/*
 * Run op(arg, key) with the key; on failure with a token key, reconnect
 * once and run it again (see above). *token_down (may be NULL) is set when
 * the token could not be reached again. Returns op's 0, or -1 with e.
 */
int ca_key_use(struct ca_key *k, int (*op)(void *arg, EVP_PKEY *key, struct errbuf *e),
    void *arg, bool *token_down, struct errbuf *e) MUST_USE;
/* Reload the module, log in and find the key again (ca_key_use() does this itself). */
int ca_key_reconnect(struct ca_key *k, struct errbuf *e) MUST_USE;

/*
 * Where a token PIN is read from: pin_file, or $CREDENTIALS_DIRECTORY/NAME
 * for pin_credential = NAME (systemd LoadCredential=NAME:...). *out is new.
 * Both NULL: *out is NULL (a token without login).
 */
int ca_key_pin_path(const char *pin_file, const char *pin_credential, char **out,
    struct errbuf *e) MUST_USE;

/*
 * For "ca init": make sure the token named by uri holds the private key it
 * names. If it does (a key ceremony made it), *created is false and the
 * key is kept as it is; otherwise a key pair of type is generated on the
 * token (C_GenerateKeyPair: private, sensitive, never extractable, label
 * and id from the URI), *created true. wrap: the key will unwrap the
 * master key (decrypt) instead of signing. The private key is never
 * outside the token.
 */
int ca_key_token_make(const char *uri, const char *pin_file, enum key_type type, bool wrap,
    bool *created, struct errbuf *e) MUST_USE;

#endif
