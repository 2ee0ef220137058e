/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "smime/escrow.h"
#include "sync/mail_queue.h"

const char *
mailq_safe_name(const char *name, const char *whose)
{
	if (name == NULL)
		return NULL;
	if (str_has_control(name)) {
		/* Someone is trying to add headers: address the mail without a name. */
		log_warn("%s: display name holds control characters (CR/LF?); "
		    "addressing the mail without a name", whose);
		return NULL;
	}
	return name;
}

char *
mailq_aad(int64_t action_id, const char *kind, const char *recipient)
{
	return xasprintf("mail:action=%lld:%s:%s", (long long)action_id, kind, recipient);
}

int
mailq_sender_vars(struct engine *en, struct tmpl_vars *vars, struct errbuf *e)
{
	char *name = NULL, *addr = NULL;

	if (mail_parse_mailbox(en->cfg->mail.from, &name, &addr, e) != 0) {
		err_prefix(e, "[mail] from");
		return -1;
	}
	tmpl_vars_set(vars, "organization", name ? name : addr);
	tmpl_vars_set(vars, "from_address", addr);
	tmpl_vars_set(vars, "reply_address", addr);
	tmpl_vars_set(vars, "verify_at", en->cfg->mail.verify_at);
	tmpl_vars_set(vars, "run_id", en->run_id);
	free(name);
	free(addr);
	/* One address for every question: the one replies go to. */
	if (en->cfg->mail.reply_to != NULL) {
		if (mail_parse_mailbox(en->cfg->mail.reply_to, &name, &addr, e) != 0) {
			err_prefix(e, "[mail] reply_to");
			return -1;
		}
		tmpl_vars_set(vars, "reply_address", addr);
		free(name);
		free(addr);
	}
	return 0;
}

void
mailq_language(struct engine *en, const struct conf_group *g, const char *preferred,
    char *out, size_t size)
{
	const struct conf_mail *mc = &en->cfg->mail;

	template_pick_language(mc->template_dir, preferred,
	    g != NULL && g->language != NULL ? g->language : mc->language, out, size);
}

int
mailq_render(struct engine *en, const char *name, const struct tmpl_vars *vars,
    const struct mailq_to *to, const struct mail_attachment *att, size_t n_att, char **out,
    size_t *len, struct errbuf *e)
{
	const struct conf_mail *mc = &en->cfg->mail;
	struct rendered_mail rm;
	struct mail_spec spec;
	int rc = -1;

	memset(&rm, 0, sizeof(rm));
	if (template_render(mc->template_dir, to->lang != NULL ? to->lang : mc->language, name,
	    vars, &rm, e) != 0)
		goto out;
	memset(&spec, 0, sizeof(spec));
	spec.from = mc->from;
	spec.reply_to = mc->reply_to;
	spec.to_name = mailq_safe_name(to->name, to->addr);
	spec.to_addr = to->addr;
	spec.subject = rm.subject;
	spec.text = rm.text;
	spec.html = rm.html;
	spec.attachments = att;
	spec.n_attachments = n_att;
	spec.date = en->now;
	if (mime_build(&spec, out, len, e) != 0)
		goto out;
	rc = 0;
out:
	if (rc != 0)
		err_prefix(e, "%s mail for %s", name, to->addr);
	rendered_mail_clear(&rm);
	return rc;
}

int
mailq_add(struct engine *en, const char *kind, const struct mailq_to *to, const char *data,
    size_t len, struct errbuf *e)
{
	struct store_mail m;
	char *aad = mailq_aad(to->action_id, kind, to->addr);
	unsigned char *sealed = NULL;
	size_t sealed_len = 0;
	int64_t id;
	int rc = -1;

	if (escrow_seal(&en->master_key, aad, (const unsigned char *)data, len, &sealed,
	    &sealed_len, e) != 0)
		goto out;
	memset(&m, 0, sizeof(m));
	m.action_id = to->action_id;
	m.user_id = (char *)to->user_id;
	m.kind = (char *)kind;
	m.recipient = (char *)to->addr;
	m.aad = aad;
	m.sealed = sealed;
	m.sealed_len = sealed_len;
	m.next_attempt = en->now;
	rc = store_outbox_add(en->store, &m, &id, e);
out:
	free(sealed);
	free(aad);
	return rc;
}
