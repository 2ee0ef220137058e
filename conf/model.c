/* SPDX-License-Identifier: ISC */
/*
 * The loaded model: freeing it, looking sections up, naming enum values,
 * and the default configuration path. Freeing walks the option table, so
 * a new string key is freed without touching this file.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/xalloc.h"
#include "conf/conf_internal.h"

static bool
is_string_type(enum opt_type t)
{
	return t == OPT_STRING || t == OPT_PATH || t == OPT_SECRET_PATH || t == OPT_URL_HTTP ||
	    t == OPT_URI_LDAP || t == OPT_DN;
}

static void
free_section(enum conf_kind kind, void *base)
{
	for (size_t i = 0; i < conf_options_count; i++) {
		const struct conf_option *o = &conf_options[i];

		if (o->kind == kind && is_string_type(o->type)) {
			free(*CONF_FIELD(base, o, char *));
			*CONF_FIELD(base, o, char *) = NULL;
		}
	}
}

void
conf_source_free(struct conf_source *src)
{
	if (src == NULL)
		return;
	for (size_t i = 0; i < src->n; i++)
		free(src->secs[i].lines);
	free(src->secs);
	free(src);
}

int
conf_source_line(const struct config *cfg, const void *base, const char *key)
{
	const struct conf_source *src = cfg->source;

	for (size_t i = 0; src != NULL && i < src->n; i++) {
		const struct conf_source_sec *s = &src->secs[i];
		int row;

		if (s->base != base)
			continue;
		row = conf_option_find(s->kind, key);
		if (row >= 0 && s->lines[row] > 0)
			return s->lines[row];
		return s->header_line;
	}
	return 0;
}

int
config_line(const struct config *cfg, const void *section, const char *key)
{
	return conf_source_line(cfg, section, key);
}

void
config_free(struct config *cfg)
{
	if (cfg == NULL)
		return;
	free_section(CONF_SERVICE, &cfg->service);
	free_section(CONF_MAIL, &cfg->mail);
	for (size_t i = 0; i < cfg->n_directories; i++) {
		free_section(CONF_DIRECTORY, &cfg->directories[i]);
		free(cfg->directories[i].name);
	}
	for (size_t i = 0; i < cfg->n_cas; i++) {
		free_section(CONF_CA, &cfg->cas[i]);
		free(cfg->cas[i].name);
	}
	for (size_t i = 0; i < cfg->n_groups; i++) {
		free_section(CONF_GROUP, &cfg->groups[i]);
		free(cfg->groups[i].name);
	}
	free(cfg->directories);
	free(cfg->cas);
	free(cfg->groups);
	conf_source_free(cfg->source);
	free(cfg->path);
	free(cfg);
}

const struct conf_directory *
config_find_directory(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_directories; i++)
		if (strcmp(cfg->directories[i].name, name) == 0)
			return &cfg->directories[i];
	return NULL;
}

const struct conf_ca *
config_find_ca(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_cas; i++)
		if (strcmp(cfg->cas[i].name, name) == 0)
			return &cfg->cas[i];
	return NULL;
}

ssize_t
config_group_index(const struct config *cfg, const char *name)
{
	for (size_t i = 0; name != NULL && i < cfg->n_groups; i++)
		if (strcmp(cfg->groups[i].name, name) == 0)
			return (ssize_t)i;
	return -1;
}

const struct conf_group *
config_find_group(const struct config *cfg, const char *name)
{
	ssize_t i = config_group_index(cfg, name);

	return i < 0 ? NULL : &cfg->groups[i];
}

int
conf_default_number(const char *section, const char *key, int64_t *out)
{
	/* Room for any section: the default is parsed as a loaded file's would be. */
	union {
		struct conf_service service;
		struct conf_directory directory;
		struct conf_ca ca;
		struct conf_mail mail;
		struct conf_group group;
	} scratch;
	const struct conf_option *o = NULL;
	enum conf_kind kind;
	int row;

	if (conf_kind_parse(section, &kind) != 0 || (row = conf_option_find(kind, key)) < 0)
		return -1;
	o = &conf_options[row];
	memset(&scratch, 0, sizeof(scratch));
	if (o->def == NULL || conf_value_parse(o, o->def, NULL, &scratch, NULL) != 0)
		return -1;
	switch (o->type) {
	case OPT_INT:
	case OPT_DURATION:
		*out = *CONF_FIELD(&scratch, o, int64_t);
		return 0;
	case OPT_ENUM:
	case OPT_LOG_LEVEL:
		*out = *CONF_FIELD(&scratch, o, int);
		return 0;
	case OPT_BOOL:
	case OPT_LOG_TARGET:
		*out = *CONF_FIELD(&scratch, o, bool) ? 1 : 0;
		return 0;
	default:
		/* A string-like key: conf_value_parse() gave the scratch a copy. */
		free(*CONF_FIELD(&scratch, o, char *));
		return -1;
	}
}

void
conf_directory_defaults(struct conf_directory *d, enum dir_type type)
{
	const struct conf_dir_traits *t = conf_dir_traits(type);

	memset(d, 0, sizeof(*d));
	for (size_t i = 0; i < conf_options_count; i++) {
		const struct conf_option *o = &conf_options[i];

		/* The table's own defaults parse: anything else is a bug in the table. */
		if (o->kind == CONF_DIRECTORY && o->def != NULL &&
		    conf_value_parse(o, o->def, NULL, d, NULL) != 0)
			fatal("conf: the built-in default of [directory] %s does not parse", o->key);
	}
	d->type = type;
	if (t != NULL && t->default_user_filter != NULL)
		d->user_filter = xstrdup(t->default_user_filter);
}

void
conf_directory_clear(struct conf_directory *d)
{
	free_section(CONF_DIRECTORY, d);
}

const char *
ca_type_name(enum ca_type t)
{
	return (unsigned)t <= CA_TYPE_HELPER ? conf_ca_type_names[t] : "?";
}

const char *
leave_policy_name(enum leave_policy p)
{
	return (unsigned)p <= LEAVE_REVOKE ? conf_leave_policy_names[p] : "?";
}

const char *
config_default_path(void)
{
	const char *env = getenv("SMIMESYNC_CONF");

	if (env != NULL && *env != '\0')
		return env;
	return SMIMESYNC_SYSCONFDIR "/smimesync.conf";
}
