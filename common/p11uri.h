/* SPDX-License-Identifier: ISC */
/*
 * The one rule for a PKCS#11 URI (RFC 7512) naming a private key on a
 * token, as [ca] key_uri, [service] master_key_uri and "ca init --pkcs11"
 * take it:
 *
 *   pkcs11:token=smimesync;object=issuing-ca?module-path=/usr/lib/softhsm/libsofthsm2.so
 *
 * Path attributes (";"-separated) say which key: token (its label) and/or
 * serial, optionally manufacturer and model, then object (the key's label)
 * and/or id (its CKA_ID, percent-encoded bytes), and type, which may only
 * be "private". The query ("&"-separated) names the PKCS#11 library with
 * module-path; smimesync loads no library it was not told about.
 *
 * Stricter than the RFC on purpose: an attribute smimesync does not use is
 * refused rather than ignored, so a URI that matches more (or other) keys
 * than its author thought cannot slip through; pin-value and pin-source
 * are refused because a PIN never belongs in the configuration (the PIN
 * comes from pin_file or a systemd credential). Values are percent-decoded
 * and must be UTF-8 without control characters.
 *
 *   struct p11_uri u;
 *   if (p11_uri_parse(text, &u, &e) != 0) ... e says which attribute ...
 *   ... u.token, u.object, u.id/u.id_len, u.module_path ...
 *   p11_uri_clear(&u);
 *
 * Ownership: every field is new after a successful parse (NULL when the
 * URI does not have it); p11_uri_clear() frees them. On failure nothing
 * needs freeing. Pure libc: conf/ validates with it, smime/ finds keys.
 */
#ifndef SMIMESYNC_COMMON_P11URI_H
#define SMIMESYNC_COMMON_P11URI_H

#include <stdbool.h>
#include <stddef.h>

#include "common/attrs.h"
#include "common/errbuf.h"

/* Longest URI accepted: labels are 32 bytes, paths a few hundred. */
#define P11_URI_MAX 4096

struct p11_uri {
	char *token;        /* token label (CK_TOKEN_INFO.label, blanks trimmed) */
	char *serial;       /* token serial number */
	char *manufacturer; /* token manufacturerID */
	char *model;        /* token model */
	char *object;       /* the key's CKA_LABEL */
	unsigned char *id;  /* the key's CKA_ID */
	size_t id_len;
	char *module_path;  /* the PKCS#11 library to load */
};

/* Does text start with "pkcs11:" (case-insensitive scheme)? */
bool p11_uri_is(const char *text);
int p11_uri_parse(const char *text, struct p11_uri *out, struct errbuf *e) MUST_USE;
void p11_uri_clear(struct p11_uri *u);

#endif
