/* SPDX-License-Identifier: ISC */
/*
 * check-config: what an administrator runs before the first sync (and ca
 * init, in cmd_ca.c).
 *
 * check-config looks at every file with the rights of the user the service
 * runs as: --as-user USER, or, when root checks the configuration the
 * installed smimesync.service starts with, that unit's User=. It forks,
 * the child becomes that user for good (initgroups, setgid, setuid) and
 * does the whole check, so every "permission denied" is the kernel's own
 * answer, not a guess from mode bits. The unit's sandbox (conf/unit.h) is
 * checked too: a CRL in a read-only /var/www, a secret under ProtectHome.
 * Beyond the files it says whether each internal CA's issuing certificate
 * allows the profiles of the groups that use it, and warns about
 * combinations that work but hurt the people who get the certificates.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fileutil.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "conf/conf.h"
#include "conf/unit.h"
#include "mail/template.h"
#include "signer/policy_fit.h"
#include "smime/ca.h"
#include "smime/signer.h"
#include "smime/signer_policy.h"
#include "cli/commands.h"

/*
 * Root about to write into a state directory that belongs to the service's
 * user? Files root creates there (the run lock, the daemon lock, CA files,
 * the master key) would be root's, mode 0600, and the service would fail
 * on them at its next start. Reading is harmless (SQLite hands the files it
 * makes for a reader to the database's owner), so status, report and audit
 * stay allowed. Returns 0 when the command may go on.
 */
static int
refuse_root_in_service_state(const struct config *cfg, const struct cli_options *cli)
{
	static const char *const readers[] = {"check-config", "status", "report", "audit", NULL};
	struct passwd *pw = NULL;
	struct stat st;
	bool other_conf;

	if (geteuid() != 0 || cli->command == NULL || cfg->service.state_dir == NULL ||
	    stat(cfg->service.state_dir, &st) != 0 || st.st_uid == 0)
		return 0;
	for (size_t i = 0; readers[i] != NULL; i++)
		if (strcmp(cli->command, readers[i]) == 0)
			return 0;
	/* "ca policy" writes beside the configuration, root's place, never into the state. */
	if (strcmp(cli->command, "ca") == 0 && cli->args != NULL && cli->args[0] != NULL &&
	    cli->args[1] != NULL && strcmp(cli->args[1], "policy") == 0)
		return 0;
	pw = getpwuid(st.st_uid);
	if (pw == NULL) {
		fprintf(stderr, "smimesync: %s belongs to uid %ld, not root; run \"%s\" as that "
		    "user, so that the files it writes there stay readable for the service\n",
		    cfg->service.state_dir, (long)st.st_uid, cli->command);
		return -1;
	}
	other_conf = strcmp(cli->conf_path, SMIMESYNC_SYSCONFDIR "/smimesync.conf") != 0;
	fprintf(stderr, "smimesync: %s belongs to user %s: run as root, \"%s\" would leave "
	    "files there that the service cannot open. Run it as that user:\n"
	    "    sudo -u %s smimesync%s%s", cfg->service.state_dir, pw->pw_name,
	    cli->command, pw->pw_name, other_conf ? " -c " : "", other_conf ? cli->conf_path : "");
	for (char *const *a = cli->args; a != NULL && *a != NULL; a++)
		fprintf(stderr, strpbrk(*a, " \t'\"$") != NULL ? " '%s'" : " %s", *a);
	fputc('\n', stderr);
	return -1;
}

struct config *
commands_load_config(const struct cli_options *cli)
{
	struct config *cfg = commands_load_config_only(cli);

	if (cfg != NULL && refuse_root_in_service_state(cfg, cli) != 0) {
		config_free(cfg);
		return NULL;
	}
	return cfg;
}

struct config *
commands_load_config_only(const struct cli_options *cli)
{
	struct conf_errors errs = { NULL, 0 };
	struct config *cfg = NULL;

	if (config_load(cli->conf_path, &cfg, &errs) != 0) {
		for (size_t i = 0; i < errs.n; i++)
			log_plain(LOGL_ERROR, "%s", errs.msgs[i]);
		log_plain(LOGL_ERROR, "smimesync: %zu error%s in %s; nothing was done", errs.n,
		    errs.n == 1 ? "" : "s", cli->conf_path);
		conf_errors_free(&errs);
		return NULL;
	}
	conf_errors_free(&errs);
	commands_apply_logging(cfg, cli);
	return cfg;
}

void
commands_apply_logging(const struct config *cfg, const struct cli_options *cli)
{
	/* -v on the command line wins over the configured level. */
	if (!cli->verbose)
		log_set_level((enum log_level)cfg->service.log_level);
	if (cfg->service.log_syslog)
		log_to_syslog((enum log_facility)cfg->service.log_facility);
	else
		log_init("smimesync", log_get_level());
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

/* What check-config looks at, and as whom. */
struct check_ctx {
	const struct cli_options *cli;
	bool verbose;
	const struct unit_sandbox *unit; /* the service's sandbox, or NULL */
	const char *as_user;             /* checking as this user (switched to), or NULL */
};

/* Is path the file the unit's ExecStart loads (-c, else the built-in default)? */
static bool
same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	if (stat(a, &sa) != 0 || stat(b, &sb) != 0)
		return strcmp(a, b) == 0;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static void
print_errors(struct conf_errors *errs)
{
	for (size_t i = 0; i < errs->n; i++)
		fprintf(stderr, "%s\n", errs->msgs[i]);
	conf_errors_free(errs);
}

/* " (checked as user X, in the sandbox of UNIT)", or "" (static buffer). */
static const char *
checked_as(const struct check_ctx *x)
{
	static char text[512];

	if (x->as_user != NULL && x->unit != NULL)
		snprintf(text, sizeof(text), " (checked as user %s, in the sandbox of %s)",
		    x->as_user, unit_sandbox_file(x->unit));
	else if (x->as_user != NULL)
		snprintf(text, sizeof(text), " (checked as user %s)", x->as_user);
	else if (x->unit != NULL)
		snprintf(text, sizeof(text), " (checked in the sandbox of %s)",
		    unit_sandbox_file(x->unit));
	else if (geteuid() == 0)
		snprintf(text, sizeof(text), " (checked as root, who may read every file: "
		    "--as-user USER checks as the user the service runs as)");
	else
		text[0] = '\0';
	return text;
}

/* Everything check-config looks at, with the rights of the current user. */
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

/*
 * The signer's policy file, when there is one and this user can read it:
 * each group whose certificates the signer would refuse, named in both
 * files (signer/policy_fit.h). Without a file the signer enforces the
 * policy derived from this configuration, which fits by construction; a
 * file this user cannot read is said, not counted (the signer checks it
 * at its start, and root's check-config can read it).
 */
static size_t
check_signer_policy(const struct config *cfg)
{
	char *path = NULL, *text = NULL, *errors = NULL, *msgs = NULL;
	struct policy *p = NULL;
	struct errbuf e;
	size_t len = 0, n = 0;
	bool local = false;

	for (size_t i = 0; i < cfg->n_cas; i++)
		local = local || cfg->cas[i].type == CA_TYPE_LOCAL;
	if (!local)
		return 0;
	if (signer_policy_file(cfg, &path, &e) != 0) {
		fprintf(stderr, "%s:%d: %s\n", cfg->path,
		    config_line(cfg, &cfg->service, "signer_policy"), e.text);
		return 1;
	}
	if (path == NULL)
		goto out;
	if (file_read_all(path, POLICY_MAX_BYTES, &text, &len, &e) != 0) {
		printf("note: the signer's policy was not compared with the groups: %s\n", e.text);
		goto out;
	}
	if (policy_parse(text, len, path, &p, &errors) != 0) {
		fprintf(stderr, "%s\n%s: the signer does not start with this policy\n", errors, path);
		n = 1;
		goto out;
	}
	n = policy_fit(p, cfg, &msgs);
	if (msgs != NULL)
		fprintf(stderr, "%s\n", msgs);
out:
	policy_free(p);
	free(msgs);
	free(errors);
	free(text);
	free(path);
	return n;
}

static int
check_as_me(const struct check_ctx *x)
{
	struct conf_errors errs = { NULL, 0 };
	struct config *cfg = NULL;
	size_t problems = 0;

	problems = config_check_conf_file(x->cli->conf_path, &errs);
	print_errors(&errs);
	if (problems > 0) {
		fprintf(stderr, "smimesync: %zu problem%s found in %s%s\n", problems,
		    problems == 1 ? "" : "s", x->cli->conf_path, checked_as(x));
		return 1;
	}
	cfg = commands_load_config_only(x->cli);
	if (cfg == NULL)
		return 1;
	problems = config_check_files(cfg, &errs);
	print_errors(&errs);
	/* Warnings: printed, never counted as problems. */
	(void)config_warnings(cfg, &errs);
	print_errors(&errs);
	if (x->unit != NULL) {
		problems += config_check_sandbox(cfg, x->unit, &errs);
		print_errors(&errs);
	}
	if (cfg->has_mail)
		check_templates(cfg, &problems);
	/* I5: without a domain rule, any address the directory holds is certified. */
	for (size_t i = 0; cfg->service.mail_domains == NULL && i < cfg->n_groups; i++)
		if (cfg->groups[i].allowed_domains == NULL)
			fprintf(stderr, "%s:%d: warning: [group %s] has no allowed_domains and "
			    "[service] has no mail_domains: any address in the directory, also one "
			    "a user added to their own entry, ends up in a certificate; set "
			    "allowed_domains = example.org (the domains this group's addresses may "
			    "have)\n", cfg->groups[i].origin.file, cfg->groups[i].origin.line, cfg->groups[i].name);
	problems += check_issuing_fits(cfg);
	problems += check_signer_policy(cfg);
	/* A signer running as a service: it must answer, with its own policy. */
	if (cfg->service.signer_socket != NULL) {
		struct signer *s = NULL;
		struct errbuf e;

		if (signer_start(cfg, &s, &e) != 0) {
			fprintf(stderr, "%s: [service] signer_socket: %s\n", cfg->path, e.text);
			problems++;
		} else if (x->verbose) {
			printf("signer: %s\n", signer_description(s));
		}
		signer_stop(s);
	}
	if (x->verbose)
		config_dump(cfg, stdout);
	if (problems == 0)
		print_streams(cfg);
	config_free(cfg);
	if (problems > 0) {
		fprintf(stderr, "smimesync: %zu problem%s found in %s%s\n", problems,
		    problems == 1 ? "" : "s", x->cli->conf_path, checked_as(x));
		return 1;
	}
	printf("configuration OK%s\n", checked_as(x));
	return 0;
}

/*
 * Become pw (and group gid) for good, in a child, and check there: the
 * child gets exactly the answers the service will get from the kernel.
 */
static int
check_as_user(const struct check_ctx *x, const struct passwd *pw, gid_t gid,
    struct unit_sandbox *unit)
{
	pid_t pid;
	int status = 0;

	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "smimesync: check-config: fork: %s\n", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		if (initgroups(pw->pw_name, gid) != 0 || setgid(gid) != 0 ||
		    setuid(pw->pw_uid) != 0 || (pw->pw_uid != 0 && setuid(0) == 0)) {
			fprintf(stderr, "smimesync: check-config: cannot become user %s: %s\n",
			    pw->pw_name, strerror(errno));
			_exit(1);
		}
		status = check_as_me(x);
		/* The parent's: freed here too so that the child ends clean under ASan. */
		unit_sandbox_free(unit);
		exit(status);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			fprintf(stderr, "smimesync: check-config: waitpid: %s\n", strerror(errno));
			return 1;
		}
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	fprintf(stderr, "smimesync: check-config: the check as user %s died (signal %d)\n",
	    pw->pw_name, WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	return 1;
}

int
cmd_check_config(int argc, char **argv, const struct cli_options *cli)
{
	static const struct option longopts[] = {
		{ "as-user", required_argument, NULL, 'u' },
		{ "unit", required_argument, NULL, 'U' },
		{ NULL, 0, NULL, 0 },
	};
	struct check_ctx x = { cli, false, NULL, NULL };
	struct unit_sandbox *unit = NULL;
	const char *as_user = NULL, *unit_file = NULL;
	struct passwd *pw = NULL;
	char name[256];
	struct errbuf e;
	gid_t gid;
	int ch, rc = 1;

	while ((ch = getopt_long(argc, argv, "v", longopts, NULL)) != -1) {
		switch (ch) {
		case 'v':
			x.verbose = true;
			break;
		case 'u':
			as_user = optarg;
			break;
		case 'U':
			unit_file = optarg;
			break;
		default:
			return cli_usage_error("check-config", NULL);
		}
	}
	if (optind < argc)
		return cli_usage_error("check-config", "unexpected argument \"%s\"", argv[optind]);
	err_clear(&e);
	if (unit_sandbox_load(unit_file, &unit, &e) != 0) {
		fprintf(stderr, "smimesync: check-config: %s\n", e.text);
		goto out;
	}
	/*
	 * The installed unit speaks for the configuration it starts the
	 * service with; a test or scratch configuration is checked as it is.
	 */
	if (unit != NULL && unit_file == NULL) {
		const char *served = unit_sandbox_config(unit);

		if (!same_file(served != NULL ? served : SMIMESYNC_SYSCONFDIR "/smimesync.conf",
		    cli->conf_path)) {
			unit_sandbox_free(unit);
			unit = NULL;
		}
	}
	x.unit = unit;
	if (as_user == NULL && unit != NULL && geteuid() == 0)
		as_user = unit_sandbox_user(unit);
	if (as_user == NULL) {
		rc = check_as_me(&x);
		goto out;
	}
	pw = getpwnam(as_user);
	if (pw == NULL) {
		fprintf(stderr, "smimesync: check-config: there is no user %s on this system%s%s%s\n",
		    as_user, unit != NULL ? " (User= of " : "", unit != NULL ?
		    unit_sandbox_file(unit) : "", unit != NULL ? "): install the package again, "
		    "or create it: useradd --system --home-dir /var/lib/smimesync --shell "
		    "/usr/sbin/nologin smimesync" : "");
		goto out;
	}
	/* A copy: the checks call getpwuid(), whose static buffer may be getpwnam()'s. */
	snprintf(name, sizeof(name), "%s", pw->pw_name);
	x.as_user = name;
	if (pw->pw_uid == geteuid()) {
		rc = check_as_me(&x);
		goto out;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "smimesync: check-config --as-user %s: only root can look at the "
		    "files with another user's rights; run it with sudo, or as %s\n", as_user,
		    as_user);
		rc = EXIT_USAGE;
		goto out;
	}
	gid = pw->pw_gid;
	/* The unit's Group= when we check as the unit's user. */
	if (unit != NULL && unit_sandbox_group(unit) != NULL && unit_sandbox_user(unit) != NULL &&
	    strcmp(unit_sandbox_user(unit), pw->pw_name) == 0) {
		struct group *gr = getgrnam(unit_sandbox_group(unit));

		if (gr == NULL) {
			fprintf(stderr, "smimesync: check-config: there is no group %s (Group= of %s)\n",
			    unit_sandbox_group(unit), unit_sandbox_file(unit));
			goto out;
		}
		gid = gr->gr_gid;
	}
	rc = check_as_user(&x, pw, gid, unit);
out:
	unit_sandbox_free(unit);
	return rc;
}
