/* SPDX-License-Identifier: ISC */
/*
 * Queueing a templated mail: render the template, build the MIME message,
 * seal it under the master key (it may hold a key or a password) and add
 * it to the outbox inside the caller's transaction. The outbox delivers.
 *
 * The sealing label binds the blob to its action, kind and recipient, so a
 * sealed mail moved to another row or recipient in the database does not
 * open.
 */
#ifndef SMIMESYNC_SYNC_MAIL_QUEUE_H
#define SMIMESYNC_SYNC_MAIL_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "mail/mime.h"
#include "mail/template.h"
#include "sync/engine.h"

struct mailq_to {
	const char *addr;
	const char *name;     /* display name, or NULL; refused if it has control characters */
	const char *user_id;  /* store user, or NULL for admin notices */
	int64_t action_id;    /* 0 when not part of a provisioning action */
	const char *lang;     /* the language to write in (mailq_language()); NULL: [mail]'s */
};

/*
 * The language of a mail to a person of group g whose directory entry
 * says preferred (preferredLanguage, may be NULL): theirs when every
 * template exists in it, else the group's. out holds at least 17 bytes.
 */
void mailq_language(struct engine *en, const struct conf_group *g, const char *preferred,
    char *out, size_t size);

/* Render message `name` with vars into a complete MIME message (new). */
int mailq_render(struct engine *en, const char *name, const struct tmpl_vars *vars,
    const struct mailq_to *to, const struct mail_attachment *att, size_t n_att, char **out,
    size_t *len, struct errbuf *e) MUST_USE;

/* Seal and add an already rendered message to the outbox as `kind`. */
int mailq_add(struct engine *en, const char *kind, const struct mailq_to *to, const char *data,
    size_t len, struct errbuf *e) MUST_USE;

/* The label a queued mail is sealed with (new). */
char *mailq_aad(int64_t action_id, const char *kind, const char *recipient);

/* A display name fit for a header, or NULL (logs why). */
const char *mailq_safe_name(const char *name, const char *whose);

/*
 * Common template variables about the sender: organization, from_address,
 * reply_address, verify_at, run_id.
 */
int mailq_sender_vars(struct engine *en, struct tmpl_vars *vars, struct errbuf *e) MUST_USE;

#endif
