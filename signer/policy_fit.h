/* SPDX-License-Identifier: ISC */
/*
 * Room signer/: does a signer policy (signer/policy.h) allow what a
 * configuration asks for? check-config (cli/cmd_config.c) reads the
 * signer's policy when it can and asks this, so that the operator learns
 * at check time, not at the first issuance, that the signer would refuse
 * a group's certificates.
 *
 * For every [group] of an internal CA, the policy's [ca] for that CA (the
 * one with the same cert_file, else the one of the same name) must allow
 * the group's profile, key type and validity, its O= and
 * organizationIdentifier (organization-* profiles), and every mail domain
 * the group may certify (its allowed_domains, else [service]
 * mail_domains). Key usage and extended key usage follow from the profile
 * (smime/profile.c), so the profile check covers them.
 *
 * Each mismatch is one line naming both places and the fix:
 *   smimesync.conf:LINE: [group G] ..., but signer.conf:LINE: [ca C] ...
 *
 *   char *msgs = NULL;
 *   size_t n = policy_fit(policy, cfg, &msgs);   // msgs: new, or NULL when n == 0
 */
#ifndef SMIMESYNC_SIGNER_POLICY_FIT_H
#define SMIMESYNC_SIGNER_POLICY_FIT_H

#include <stddef.h>

#include "conf/conf.h"
#include "signer/policy.h"

/* How many mismatches; *out is a new string of newline-separated messages, or NULL. */
size_t policy_fit(const struct policy *p, const struct config *cfg, char **out);

#endif
