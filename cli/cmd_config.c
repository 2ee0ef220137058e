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
 * Which change stream each directory would follow (issue #17). check-config
 * stays offline: whether the server really offers it is said when the
 * daemon starts following it (and with incremental = yes, not offered
 * stops it).
 */
static void
print_streams(const struct config *cfg)
{
	for (size_t i = 0; i < cfg->n_directories; i++) {
		const struct conf_directory *d = &cfg->directories[i];
		const char *stream = conf_directory_stream(d);

		if (stream == NULL && d->incremental == INCREMENTAL_NO)
			printf("[directory %s] changes: incremental = no: every group is read whole "
			    "at every run\n", d->name);
		else if (stream == NULL)
			printf("[directory %s] changes: %s has no change stream: every group is read "
			    "whole at every run\n", d->name, conf_directory_title(d));
		else
			printf("[directory %s] changes: %s; %s\n", d->name, stream,
			    d->incremental == INCREMENTAL_YES ? "the daemon checks at start that the "
			    "server offers it, and refuses to start without it" : "the daemon checks "
			    "at start that the server offers it, and reads everything at every run "
			    "where it does not");
	}
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
		if (ch != 'v') {
			fprintf(stderr, "usage: smimesync check-config [-v]\n");
			return EXIT_USAGE;
		}
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
		template_check_all(cfg->mail.template_dir, cfg->mail.language,
		    report_template_problem, &problems);
	if (verbose)
		config_dump(cfg, stdout);
	if (problems == 0)
		print_streams(cfg);
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

	if (argc < 2 || strcmp(argv[1], "init") != 0) {
		fprintf(stderr, "usage: smimesync ca init [--ca NAME]\n");
		return EXIT_USAGE;
	}
	argc--;
	argv++;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (ch != 'n') {
			fprintf(stderr, "usage: smimesync ca init [--ca NAME]\n");
			return EXIT_USAGE;
		}
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
