/* SPDX-License-Identifier: ISC */
/*
 * check-config and ca init: the commands an administrator runs before the
 * first sync.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fileutil.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "conf/conf.h"
#include "mail/template.h"
#include "smime/ca.h"
#include "smime/escrow.h"
#include "cli/commands.h"

struct config *
commands_load_config(const struct cli_options *cli)
{
	struct conf_errors errs = { NULL, 0 };
	struct config *cfg = NULL;

	if (config_load(cli->conf_path, &cfg, &errs) != 0) {
		for (size_t i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msgs[i]);
		fprintf(stderr, "smimesync: %zu error%s in %s; nothing was done\n", errs.n,
		    errs.n == 1 ? "" : "s", cli->conf_path);
		conf_errors_free(&errs);
		return NULL;
	}
	conf_errors_free(&errs);
	/* -v on the command line wins over the configured level. */
	if (!cli->verbose)
		log_set_level((enum log_level)cfg->service.log_level);
	if (cfg->service.log_syslog)
		log_init("smimesync", log_get_level(), 1);
	return cfg;
}

static void
report_template_problem(const char *msg, void *arg)
{
	size_t *count = arg;

	fprintf(stderr, "%s\n", msg);
	(*count)++;
}

/*
 * Every language a mail may be written in: [mail] language, each group's,
 * and every language directory a person's preferredLanguage could pick.
 */
static void
check_templates(const struct config *cfg, size_t *problems)
{
	char **langs = template_languages(cfg->mail.template_dir);
	size_t n = 0;

	while (langs[n] != NULL)
		n++;
	langs = xreallocarray(langs, n + cfg->n_groups + 2, sizeof(*langs));
	langs[n++] = xstrdup(cfg->mail.language);
	for (size_t i = 0; i < cfg->n_groups; i++)
		if (cfg->groups[i].language != NULL)
			langs[n++] = xstrdup(cfg->groups[i].language);
	langs[n] = NULL;
	for (size_t i = 0; i < n; i++) {
		bool seen = false;

		for (size_t k = 0; k < i && !seen; k++)
			seen = strcmp(langs[k], langs[i]) == 0;
		if (!seen)
			(void)template_check_all(cfg->mail.template_dir, langs[i],
			    report_template_problem, problems);
	}
	template_languages_free(langs);
}

int
cmd_check_config(int argc, char **argv, const struct cli_options *cli)
{
	struct conf_errors errs = { NULL, 0 };
	struct config *cfg = NULL;
	size_t problems = 0;
	bool verbose = false;
	int ch;

	while ((ch = getopt(argc, argv, "v")) != -1) {
		if (ch != 'v')
			return cli_usage_error("check-config", NULL);
		verbose = true;
	}
	cfg = commands_load_config(cli);
	if (cfg == NULL)
		return 1;
	problems = config_check_files(cfg, &errs);
	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "%s\n", errs.msgs[i]);
	conf_errors_free(&errs);
	if (cfg->has_mail)
		check_templates(cfg, &problems);
	if (verbose)
		config_dump(cfg, stdout);
	config_free(cfg);
	if (problems > 0) {
		fprintf(stderr, "smimesync: %zu problem%s found in %s\n", problems,
		    problems == 1 ? "" : "s", cli->conf_path);
		return 1;
	}
	printf("configuration OK\n");
	return 0;
}

static const struct conf_ca *
pick_ca(const struct config *cfg, const char *name)
{
	if (name != NULL)
		return config_find_ca(cfg, name);
	for (size_t i = 0; i < cfg->n_cas; i++)
		if (cfg->cas[i].type == CA_TYPE_LOCAL)
			return &cfg->cas[i];
	/* Only external CAs: "ca init" still has the master key to make. */
	return cfg->n_cas > 0 ? &cfg->cas[0] : NULL;
}

int
cmd_ca(int argc, char **argv, const struct cli_options *cli)
{
	static const struct option longopts[] = {
		{ "ca", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	const char *name = NULL;
	const struct conf_ca *ca;
	struct config *cfg = NULL;
	struct errbuf e;
	int ch, rc = 1;

	if (argc < 2 || strcmp(argv[1], "init") != 0)
		return cli_usage_error("ca", argc < 2 ? "say what to do: init" :
		    "unknown subcommand \"%s\" (init)", argc < 2 ? "" : argv[1]);
	argc--;
	argv++;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (ch != 'n')
			return cli_usage_error("ca", NULL);
		name = optarg;
	}
	cfg = commands_load_config(cli);
	if (cfg == NULL)
		return 1;
	ca = pick_ca(cfg, name);
	if (ca == NULL) {
		fprintf(stderr, "smimesync: %s: no [ca%s%s] section to initialise\n",
		    cli->conf_path, name ? " " : "", name ? name : "");
		goto out;
	}
	err_clear(&e);
	/* No signer: making the first keys is this command's whole job. */
	if (!file_exists(cfg->service.master_key_file)) {
		if (master_key_create(cfg->service.master_key_file, NULL, &e) != 0) {
			fprintf(stderr, "smimesync: %s\n", e.text);
			goto out;
		}
		printf("created master key %s (mode 0600): back it up; without it escrowed "
		    "keys and queued mails cannot be read\n", cfg->service.master_key_file);
	}
	if (ca->type != CA_TYPE_LOCAL) {
		printf("[ca %s] is an external CA (type %s): it keeps its own keys, so there is "
		    "nothing more to create here\n", ca->name, ca_type_name(ca->type));
		rc = 0;
		goto out;
	}
	if (ca_init(ca, &e) != 0) {
		fprintf(stderr, "smimesync: [ca %s] %s\n", ca->name, e.text);
		goto out;
	}
	printf("created [ca %s]:\n  issuing certificate %s\n  issuing key         %s (mode 0600)\n"
	    "  chain               %s\n", ca->name, ca->cert_file, ca->key_file, ca->chain_file);
	rc = 0;
out:
	config_free(cfg);
	return rc;
}
