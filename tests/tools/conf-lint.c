/* SPDX-License-Identifier: ISC */
/*
 * conf-lint: a test driver for conf/ (not installed).
 *
 *   conf-lint FILE            config_load(); each error on stdout; exit 1 if any
 *   conf-lint --dump FILE     also print config_dump() when the file loads
 *   conf-lint --files FILE    also run config_check_files()
 *   conf-lint --warnings FILE also print config_warnings() (exit 0 if it loads)
 *   conf-lint --list-options  "section key" for every row of the option table
 *   conf-lint --describe      section, key, type, default, required, doc (TAB separated)
 *
 * tests/integration/config_errors.sh compares its output with golden
 * files; tests/integration/man_options.sh uses --list-options.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "conf/options.h"

static int
usage(void)
{
	fprintf(stderr, "usage: conf-lint [--dump] [--files] [--warnings] FILE\n"
	    "       conf-lint --list-options | --describe\n");
	return 2;
}

static void
describe(bool full)
{
	for (size_t i = 0; i < conf_options_count; i++) {
		const struct conf_option *o = &conf_options[i];
		char *type = NULL;

		if (!full) {
			printf("%s %s\n", conf_kind_name(o->kind), o->key);
			continue;
		}
		type = conf_option_type_text(o);
		printf("%s\t%s\t%s\t%s\t%s\t%s\n", conf_kind_name(o->kind), o->key, type,
		    o->def != NULL ? o->def : (o->flags & OPTF_DERIVED) ? "(derived)" : "-",
		    (o->flags & OPTF_REQUIRED) ? "required" : "optional", o->doc);
		free(type);
	}
}

int
main(int argc, char **argv)
{
	struct conf_errors errs = {0};
	struct config *cfg = NULL;
	bool dump = false, files = false, warnings = false;
	int i = 1;
	int rc = 1;

	if (argc == 2 && strcmp(argv[1], "--list-options") == 0) {
		describe(false);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "--describe") == 0) {
		describe(true);
		return 0;
	}
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--dump") == 0)
			dump = true;
		else if (strcmp(argv[i], "--files") == 0)
			files = true;
		else if (strcmp(argv[i], "--warnings") == 0)
			warnings = true;
		else
			return usage();
	}
	if (i + 1 != argc)
		return usage();
	if (config_load(argv[i], &cfg, &errs) == 0) {
		rc = 0;
		if (files && config_check_files(cfg, &errs) > 0)
			rc = 1;
		if (warnings)
			(void)config_warnings(cfg, &errs);
		if (dump)
			config_dump(cfg, stdout);
	}
	for (size_t k = 0; k < errs.n; k++)
		printf("%s\n", errs.msgs[k]);
	conf_errors_free(&errs);
	config_free(cfg);
	return rc;
}
