/* SPDX-License-Identifier: ISC */
/*
 * Publishing a person's current certificate in the directory.
 *
 * The directory entry ends up holding our current certificate once in
 * userCertificate and once (as PKCS#7 with its chain) in
 * userSMIMECertificate. Values we issued earlier (found in the store by
 * issuer and serial) are removed: superseded, expired or revoked ones must
 * not shadow the new one in Outlook. Values we did not issue, or cannot
 * parse, are never touched.
 */
#ifndef SMIMESYNC_SYNC_PUBLISH_H
#define SMIMESYNC_SYNC_PUBLISH_H

#include <openssl/x509.h>

#include "directory/directory.h"
#include "sync/engine.h"

/*
 * Where a person's certificates go: target is the group's publish
 * directory (conf_group.publish), source the directory the person was read
 * from. The same directory: their own entry, u->dn. Another (publish_to):
 * their entry there, found by dir_find_person(). On 0, *dc is the open
 * target connection (borrowed from the engine) and *dn a new string; with
 * target NULL (the group publishes nowhere) both are NULL.
 */
int publish_locate(struct engine *en, const struct conf_directory *source,
    const struct conf_directory *target, const struct user *u, struct dir_conn **dc,
    char **dn, struct errbuf *e) MUST_USE;

/*
 * The publish directory of a person last seen in group group_name (NULL
 * when unknown) whose source is source: that group's publish setting, else
 * source itself when certificates can be written to it
 * (conf_directory_publishable()), else NULL (nowhere).
 */
const struct conf_directory *publish_dir_of(const struct config *cfg, const char *group_name,
    const struct conf_directory *source);

/* The sentence the report and the log give for a group that publishes nowhere (static). */
const char *publish_nowhere_text(const struct conf_group *g);

int publish_current(struct engine *en, struct dir_conn *dc, const char *dn,
    const struct store_cert *current, STACK_OF(X509) *chain, struct errbuf *e) MUST_USE;

/*
 * Remove one of our certificates from an entry: its userCertificate value
 * and every userSMIMECertificate value whose first certificate it is.
 * An entry that no longer exists has nothing to remove: that is success.
 */
int publish_remove(struct dir_conn *dc, const char *dn, const struct store_cert *cert,
    struct errbuf *e) MUST_USE;

#endif
