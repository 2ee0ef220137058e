/* SPDX-License-Identifier: ISC */
/*
 * config_dump(): every option of every section with its effective value,
 * defaults included, in config syntax, straight from the option table
 * (check-config -v). Secret files are paths in the model, never contents,
 * so nothing secret can be printed here. Unset optional keys are printed
 * as comments so the output still parses as a configuration.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "conf/conf_internal.h"

static void
dump_section(FILE *out, enum conf_kind kind, const char *name, const void *base)
{
	char *label = conf_section_label(kind, name);

	fprintf(out, "%s\n", label);
	for (size_t i = 0; i < conf_options_count; i++) {
		const struct conf_option *o = &conf_options[i];
		char *v = NULL;

		if (o->kind != kind)
			continue;
		/*
		 * group = NAME, group_id and group_name are carried in group_dn
		 * too (config.c); print each once, under its own key.
		 */
		if (kind == CONF_GROUP && strcmp(o->key, "group_dn") == 0 &&
		    (((const struct conf_group *)base)->group_name != NULL ||
		    ((const struct conf_group *)base)->graph_group_id != NULL ||
		    ((const struct conf_group *)base)->graph_group_name != NULL))
			continue;
		/* A key the CA's type ignores would be an error when read back. */
		if (kind == CONF_CA && !conf_ca_key_used(((const struct conf_ca *)base)->type, o->key))
			continue;
		v = conf_value_format(o, base);
		if (v == NULL)
			fprintf(out, "# %s is not set\n", o->key);
		else
			fprintf(out, "%s = %s\n", o->key, v);
		free(v);
	}
	free(label);
}

void
config_dump(const struct config *cfg, FILE *out)
{
	dump_section(out, CONF_SERVICE, NULL, &cfg->service);
	for (size_t i = 0; i < cfg->n_directories; i++) {
		fputc('\n', out);
		dump_section(out, CONF_DIRECTORY, cfg->directories[i].name, &cfg->directories[i]);
	}
	for (size_t i = 0; i < cfg->n_cas; i++) {
		fputc('\n', out);
		dump_section(out, CONF_CA, cfg->cas[i].name, &cfg->cas[i]);
	}
	if (cfg->has_mail) {
		fputc('\n', out);
		dump_section(out, CONF_MAIL, NULL, &cfg->mail);
	}
	for (size_t i = 0; i < cfg->n_groups; i++) {
		fputc('\n', out);
		dump_section(out, CONF_GROUP, cfg->groups[i].name, &cfg->groups[i]);
	}
}
