/* SPDX-License-Identifier: ISC */
/*
 * smimesync's side of the signer's policy file (signer.conf, whose grammar
 * and meaning signer/policy.h and smimesync-signer(8) describe): which file
 * a signer that smimesync starts itself reads, and the policy that follows
 * from a configuration, for "smimesync ca init" to write and for the
 * signer to use when there is no file.
 *
 * A derived policy allows each local [ca] exactly what the groups using it
 * ask for: their profiles, organizations and organizationIdentifiers, key
 * types and longest validity, and any mail domain (the configuration does
 * not say which domains are ours); the administrator reviews and narrows
 * it. Strings returned are new.
 */
#ifndef SMIMESYNC_SMIME_SIGNER_POLICY_H
#define SMIMESYNC_SMIME_SIGNER_POLICY_H

#include "common/attrs.h"
#include "common/errbuf.h"
#include "conf/conf.h"

/* [service] signer_policy, else signer.conf in the directory of cfg->path. */
char *signer_policy_path(const struct config *cfg);
/*
 * The file a started signer reads: *path is [service] signer_policy (which
 * must then exist), or the default when it exists, or NULL (derive).
 */
int signer_policy_file(const struct config *cfg, char **path, struct errbuf *e) MUST_USE;
/* The policy text cfg implies, without a recovery credential. */
char *signer_policy_derive(const struct config *cfg);
/*
 * "ca init": write the derived policy to path (mode 0644, never over an
 * existing file) with a new recovery credential, whose verifier goes into
 * the policy and which itself goes to credential_path (mode 0600).
 */
int signer_policy_write(const struct config *cfg, const char *path, const char *credential_path,
    struct errbuf *e) MUST_USE;

#endif
