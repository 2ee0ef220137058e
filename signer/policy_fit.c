/* SPDX-License-Identifier: ISC */
/* A signer policy against a configuration (signer/policy_fit.h). */
#include "config.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "signer/policy_fit.h"
#include "smime/types.h"

struct fit {
	const struct config *cfg;
	const struct policy *p;
	struct buf msgs;
	size_t n;
};

static void
say(struct fit *f, const char *fmt, ...) PRINTF_LIKE(2, 3);

static void
say(struct fit *f, const char *fmt, ...)
{
	va_list ap;
	int rc;

	if (f->msgs.len > 0 && buf_putc(&f->msgs, '\n') != 0)
		fatal("out of memory");
	va_start(ap, fmt);
	rc = buf_vprintf(&f->msgs, fmt, ap);
	va_end(ap);
	if (rc != 0)
		fatal("out of memory");
	f->n++;
}

static bool
same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	if (a == NULL || b == NULL)
		return false;
	if (strcmp(a, b) == 0)
		return true;
	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	    sa.st_ino == sb.st_ino;
}

/* The policy's [ca] that signs for ca: the same cert_file, else the same name; or NULL. */
static const struct policy_ca *
find_ca(const struct policy *p, const struct conf_ca *ca)
{
	for (size_t i = 0; i < p->n_cas; i++)
		if (same_file(p->cas[i].cert_file, ca->cert_file))
			return &p->cas[i];
	for (size_t i = 0; i < p->n_cas; i++)
		if (strcmp(p->cas[i].name, ca->name) == 0)
			return &p->cas[i];
	return NULL;
}

/* "file:line" of a rule of pc, or of its section header when the rule is not given. */
static int
pline(const struct policy_ca *pc, int line)
{
	return line > 0 ? line : pc->line;
}

static void
fit_domains(struct fit *f, const struct conf_group *g, const struct policy_ca *pc)
{
	const struct config *cfg = f->cfg;
	const char *list = g->allowed_domains != NULL ? g->allowed_domains :
	    cfg->service.mail_domains;
	int line = g->allowed_domains != NULL || cfg->service.mail_domains == NULL ?
	    config_line(cfg, g, "allowed_domains") :
	    config_line(cfg, &cfg->service, "mail_domains");
	char *copy, *save = NULL;

	if (pc->any_domain)
		return;
	if (list == NULL) {
		say(f, "%s:%d: [group %s] may certify any domain (no allowed_domains, no [service] "
		    "mail_domains), but %s:%d: [ca %s] mail_domains allows fewer: the signer will "
		    "refuse addresses outside them; set allowed_domains to the domains it lists",
		    cfg->path, line, g->name, f->p->origin, pline(pc, pc->lines.mail_domains),
		    pc->name);
		return;
	}
	copy = xstrdup(list);
	for (char *t = strtok_r(copy, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
		const char *d = str_trim(t);

		/* "*.x" in smimesync.conf is ".x" in the signer's terms. */
		if (d[0] == '\0' || policy_domain_covers(pc, d[0] == '*' ? d + 1 : d))
			continue;
		say(f, "%s:%d: [group %s] may certify %s%s, but %s:%d: [ca %s] mail_domains does "
		    "not allow it: the signer will refuse those addresses; add it there (as root) "
		    "or remove it from %s", cfg->path, line, g->name, d,
		    d[0] == '.' || d[0] == '*' ? " (every domain below)" : "", f->p->origin,
		    pline(pc, pc->lines.mail_domains), pc->name,
		    g->allowed_domains != NULL ? "allowed_domains" : "[service] mail_domains");
	}
	free(copy);
}

static void
fit_group(struct fit *f, const struct conf_group *g, const struct policy_ca *pc)
{
	const struct config *cfg = f->cfg;
	const char *origin = f->p->origin;
	char have[32], max[32];

	if ((pc->profiles & (1u << g->profile)) == 0)
		say(f, "%s:%d: [group %s] profile = %s, but %s:%d: [ca %s] profiles does not list "
		    "it: the signer will refuse this group's certificates; add it there (as root) "
		    "or use a profile it lists", cfg->path, config_line(cfg, g, "profile"), g->name,
		    cert_profile_name(g->profile), origin, pline(pc, pc->lines.profiles), pc->name);
	if ((pc->key_types & (1u << g->key_type)) == 0)
		say(f, "%s:%d: [group %s] key_type = %s, but %s:%d: [ca %s] key_types does not list "
		    "it: the signer will refuse this group's certificates; add it there (as root) "
		    "or use a key type it lists", cfg->path, config_line(cfg, g, "key_type"),
		    g->name, key_type_name(g->key_type), origin, pline(pc, pc->lines.key_types),
		    pc->name);
	if (g->validity > pc->max_validity) {
		format_duration(g->validity, have, sizeof(have));
		format_duration(pc->max_validity, max, sizeof(max));
		say(f, "%s:%d: [group %s] validity = %s, but %s:%d: [ca %s] max_validity = %s: the "
		    "signer will refuse this group's certificates; raise max_validity there (as "
		    "root, at most 825d) or shorten validity", cfg->path,
		    config_line(cfg, g, "validity"), g->name, have, origin,
		    pline(pc, pc->lines.max_validity), pc->name, max);
	}
	if (cert_profile_is_organization(g->profile)) {
		if (g->organization != NULL &&
		    !policy_listed(pc->organizations, pc->n_organizations, g->organization))
			say(f, "%s:%d: [group %s] organization = %s, but %s:%d: [ca %s] lists no "
			    "such organization: the signer will refuse this group's certificates; "
			    "add \"organization = %s\" there (as root)", cfg->path,
			    config_line(cfg, g, "organization"), g->name, g->organization, origin,
			    pline(pc, pc->lines.organization), pc->name, g->organization);
		if (g->organization_identifier != NULL &&
		    !policy_listed(pc->organization_ids, pc->n_organization_ids,
		    g->organization_identifier))
			say(f, "%s:%d: [group %s] organization_identifier = %s, but %s:%d: [ca %s] "
			    "lists no such organization_identifier: the signer will refuse this "
			    "group's certificates; add \"organization_identifier = %s\" there (as "
			    "root)", cfg->path, config_line(cfg, g, "organization_identifier"),
			    g->name, g->organization_identifier, origin,
			    pline(pc, pc->lines.organization_identifier), pc->name,
			    g->organization_identifier);
	}
	fit_domains(f, g, pc);
}

size_t
policy_fit(const struct policy *p, const struct config *cfg, char **out)
{
	struct fit f;

	memset(&f, 0, sizeof(f));
	f.cfg = cfg;
	f.p = p;
	buf_init(&f.msgs, 0);
	for (size_t i = 0; i < cfg->n_groups; i++) {
		const struct conf_group *g = &cfg->groups[i];
		const struct policy_ca *pc;

		if (g->ca == NULL || g->ca->type != CA_TYPE_LOCAL)
			continue;
		if ((pc = find_ca(p, g->ca)) == NULL) {
			say(&f, "%s:%d: [group %s] uses [ca %s], but %s has no [ca] with its "
			    "cert_file %s, nor one named %s: the signer will refuse every "
			    "certificate of this group; add the section (smimesync ca policy prints "
			    "it)", cfg->path, config_line(cfg, g, "ca"), g->name, g->ca->name,
			    p->origin, g->ca->cert_file != NULL ? g->ca->cert_file : "(none)",
			    g->ca->name);
			continue;
		}
		fit_group(&f, g, pc);
	}
	*out = f.n > 0 ? buf_steal(&f.msgs, NULL) : NULL;
	if (f.n == 0)
		buf_free(&f.msgs);
	return f.n;
}
