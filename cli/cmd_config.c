/* SPDX-License-Identifier: ISC */
/*
 * check-config: what an administrator runs before the first sync (and ca
 * init, in cmd_ca.c). Beyond the configuration itself it checks secret
 * files, templates, and whether each internal CA's issuing certificate
 * allows the profiles of the groups that use it.
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
#include "smime/signer.h"
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
 * A group whose profile its internal CA's issuing certificate does not
 * allow would get certificates that fail explicit-policy or clientAuth
 * validation: refused here with the fix (the signer refuses them too).
 */
static size_t
check_issuing_fits(const struct config *cfg)
{
	size_t n = 0;

	for (size_t i = 0; i < cfg->n_groups; i++) {
		const struct conf_group *g = &cfg->groups[i];
		struct errbuf e;

		if (g->ca == NULL || g->ca->type != CA_TYPE_LOCAL || g->ca->cert_file == NULL ||
		    !file_exists(g->ca->cert_file))
			continue; /* config_check_files() reports a missing CA */
		err_clear(&e);
		if (ca_issuing_fits(g->ca, g->profile, &e) == 0)
			continue;
		fprintf(stderr, "%s:%d: [group %s] profile = %s: %s (%s); re-certify it for every "
		    "profile its groups use: smimesync ca renew-issuing --ca %s --root-key "
		    "/path/to/offline/root.key\n", cfg->path, config_line(cfg, g, "profile"),
		    g->name, cert_profile_name(g->profile), e.text, g->ca->cert_file, g->ca->name);
		n++;
	}
	return n;
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
	/* Warnings: printed, never counted as problems. */
	(void)config_warnings(cfg, &errs);
	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "%s\n", errs.msgs[i]);
	conf_errors_free(&errs);
	if (cfg->has_mail)
		template_check_all(cfg->mail.template_dir, cfg->mail.language,
		    report_template_problem, &problems);
	problems += check_issuing_fits(cfg);
	/* A signer running as a service: it must answer, with its own policy. */
	if (cfg->service.signer_socket != NULL) {
		struct signer *s = NULL;
		struct errbuf e;

		if (signer_start(cfg, &s, &e) != 0) {
			fprintf(stderr, "%s: [service] signer_socket: %s\n", cfg->path, e.text);
			problems++;
		} else if (verbose) {
			printf("signer: %s\n", signer_description(s));
		}
		signer_stop(s);
	}
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
