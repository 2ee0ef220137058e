/* SPDX-License-Identifier: ISC */
/*
 * smimesync-signer: the program that alone holds the CA keys and the
 * master key (signer/sctx.h), enforces its own policy (signer/policy.h)
 * and keeps the signing log (signer/signlog.h). smimesync-signer(8).
 *
 * Before anything else it turns core dumps off and makes itself
 * undumpable, so neither a crash nor a process of the same user can read
 * the keys out of its memory.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <termios.h>
#include <unistd.h>

#include "common/fileutil.h"
#include "common/log.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "signer/listen.h"
#include "signer/policy.h"
#include "signer/sctx.h"
#include "signer/signlog.h"
#include "smime/credential.h"

/* Where smimesync hands a started signer its socket (smime/signer.c). */
#define CHILD_FD 3
#define DEFAULT_POLICY SMIMESYNC_SYSCONFDIR "/signer.conf"
#define EXIT_USAGE 2

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: smimesync-signer COMMAND [OPTIONS]\n"
	    "\n"
	    "Holds the CA keys and the master key of smimesync, signs only what its\n"
	    "policy allows and keeps a hash-chained log of everything it signs.\n"
	    "\n"
	    "Commands:\n"
	    "  serve [--policy FILE] [--socket PATH] [-v]\n"
	    "                     answer smimesync on the socket systemd passes\n"
	    "                     (smimesync-signer.socket), or on PATH\n"
	    "  check [--policy FILE]\n"
	    "                     check the policy and load every key it names\n"
	    "  verify-log [FILE] [--policy FILE] [--head LINE:SHA256]\n"
	    "                     check the signing log's chain; name the first bad line\n"
	    "  credential [--new] FILE\n"
	    "                     print the recovery_credential line for the credential in\n"
	    "                     FILE (- : standard input); --new: write a new one to FILE\n"
	    "\n"
	    "The policy defaults to %s. See smimesync-signer(8).\n", DEFAULT_POLICY);
}

/* No core dumps, no ptrace or /proc/PID/mem by the same user: the memory holds keys. */
static void
seal_process(void)
{
	struct rlimit none = { 0, 0 };

	(void)setrlimit(RLIMIT_CORE, &none);
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

static int
load_policy(const char *path, enum policy_owner owner, struct policy **out)
{
	char *errors = NULL;

	if (policy_load(path, owner, out, &errors) != 0) {
		fprintf(stderr, "%s\nsmimesync-signer: the policy is not usable; nothing was done\n",
		    errors);
		free(errors);
		return -1;
	}
	return 0;
}

static void
warn_policy(const struct policy *p)
{
	char *w = policy_warnings(p);

	if (w != NULL) {
		char *save = NULL;

		for (char *line = strtok_r(w, "\n", &save); line != NULL;
		    line = strtok_r(NULL, "\n", &save))
			log_warn("%s", line);
	}
	free(w);
}

/* started by smimesync over a socketpair on fd 3 */
static int
cmd_child(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "syslog", no_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	struct policy *pol = NULL;
	struct sctx *c = NULL;
	struct errbuf e;
	const char *policy = NULL;
	char *errors = NULL;
	int64_t level = LOGL_INFO;
	int ch, devnull, rc;
	bool use_syslog = false;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (ch == 'p')
			policy = optarg;
		else if (ch == 'l' && parse_int64(optarg, LOGL_ERROR, LOGL_DEBUG, &level) == 0)
			;
		else if (ch == 's')
			use_syslog = true;
		else
			return EXIT_USAGE;
	}
	log_init("smimesync-signer", (enum log_level)level);
	if (use_syslog)
		log_to_syslog(LOGF_DAEMON);
	/* The socket stays; stdin and stdout are smimesync's, not ours. */
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull < 0 || dup2(devnull, STDIN_FILENO) < 0 || dup2(devnull, STDOUT_FILENO) < 0)
		fatal("cannot open /dev/null: %s", strerror(errno));
	if (devnull > CHILD_FD)
		close(devnull);
	(void)close_range(CHILD_FD + 1, ~0U, 0);
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (getppid() == 1)
		return 1; /* smimesync died before we could follow it */
	/* smimesync decides when to stop: a Ctrl-C lets it finish the person in hand. */
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGUSR1, SIG_IGN);
	signal(SIGUSR2, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	if (policy != NULL && policy_load(policy, POLICY_ROOT_OR_SELF, &pol, &errors) != 0) {
		c = sctx_failed(errors);
		free(errors);
	} else if (sctx_new(pol, &c, &e) != 0) {
		log_error("%s", e.text);
	}
	if (pol != NULL)
		warn_policy(pol);
	rc = listen_child(CHILD_FD, c);
	sctx_free(c);
	return rc;
}

static int
cmd_serve(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "socket", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	const char *policy = DEFAULT_POLICY, *sock = NULL;
	struct policy *pol = NULL;
	struct sctx *c = NULL;
	struct errbuf e;
	char *desc;
	uid_t client_uid = 0;
	bool has_client = false;
	int ch, lfd = -1, rc;

	while ((ch = getopt_long(argc, argv, "v", longopts, NULL)) != -1) {
		if (ch == 'p')
			policy = optarg;
		else if (ch == 's')
			sock = optarg;
		else if (ch == 'v')
			log_set_level(LOGL_DEBUG);
		else
			return EXIT_USAGE;
	}
	if (optind != argc)
		return EXIT_USAGE;
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	if (load_policy(policy, POLICY_ROOT_ONLY, &pol) != 0)
		return 1;
	if (pol->client_user != NULL) {
		struct passwd *pw = getpwnam(pol->client_user);
		int64_t uid;

		if (pw != NULL) {
			client_uid = pw->pw_uid;
		} else if (parse_int64(pol->client_user, 0, INT32_MAX, &uid) == 0) {
			client_uid = (uid_t)uid;
		} else {
			fprintf(stderr, "%s: client_user %s: no such user; create it (useradd "
			    "--system %s) or name the user smimesync runs as\n", policy,
			    pol->client_user, pol->client_user);
			policy_free(pol);
			return 1;
		}
		has_client = true;
	}
	if (geteuid() == 0)
		log_warn("serving as root: run the signer as its own user (User=smimesync-signer), "
		    "so that only it can read the keys");
	warn_policy(pol);
	if (sctx_new(pol, &c, &e) != 0) {
		log_error("%s", e.text);
		sctx_free(c);
		return 1;
	}
	if (listen_socket(sock, &lfd, &e) != 0) {
		log_error("%s", e.text);
		sctx_free(c);
		return 1;
	}
	desc = sctx_describe(c);
	log_info("%s; serving%s%s", desc, has_client ? " root and uid " : " root only",
	    has_client ? pol->client_user : "");
	free(desc);
	rc = listen_serve(lfd, c, has_client, client_uid);
	close(lfd);
	sctx_free(c);
	return rc;
}

static int
cmd_check(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	const char *policy = DEFAULT_POLICY;
	struct policy *pol = NULL;
	struct sctx *c = NULL;
	struct errbuf e;
	char *desc;
	int ch;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (ch != 'p')
			return EXIT_USAGE;
		policy = optarg;
	}
	if (load_policy(policy, geteuid() == 0 ? POLICY_ROOT_ONLY : POLICY_ROOT_OR_SELF,
	    &pol) != 0)
		return 1;
	warn_policy(pol);
	if (sctx_new(pol, &c, &e) != 0) {
		fprintf(stderr, "smimesync-signer: %s\n", e.text);
		sctx_free(c);
		return 1;
	}
	desc = sctx_describe(c);
	printf("%s\n", desc);
	free(desc);
	sctx_free(c);
	printf("policy OK\n");
	return 0;
}

static int
cmd_verify_log(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "head", required_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *policy = DEFAULT_POLICY, *head = NULL;
	char *path = NULL, hash[65] = "";
	unsigned long long line = 0;
	int ch, used = 0, rc;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (ch == 'p')
			policy = optarg;
		else if (ch == 'h')
			head = optarg;
		else
			return EXIT_USAGE;
	}
	if (optind + 1 < argc)
		return EXIT_USAGE;
	if (head != NULL && (sscanf(head, "%llu:%64[0-9a-f]%n", &line, hash, &used) != 2 ||
	    head[used] != '\0' || strlen(hash) != 64 || line == 0)) {
		fprintf(stderr, "smimesync-signer verify-log: --head takes LINE:SHA256, as the run "
		    "report shows the signing log's head\n");
		return EXIT_USAGE;
	}
	if (optind < argc) {
		path = xstrdup(argv[optind]);
	} else {
		struct policy *pol = NULL;

		if (load_policy(policy, POLICY_ROOT_OR_SELF, &pol) != 0)
			return 1;
		path = xasprintf("%s/%s", pol->state_dir, SIGNLOG_FILE);
		policy_free(pol);
	}
	rc = signlog_verify_file(path, line, head != NULL ? hash : NULL, stdout);
	free(path);
	return rc < 0 ? 1 : rc;
}

/* The credential in path ("-": standard input), first line (new, secret). */
static char *
read_credential(const char *path)
{
	char *text = NULL, *nl;
	size_t len = 0;
	struct errbuf e;

	if (strcmp(path, "-") == 0) {
		char line[1024];

		if (fgets(line, sizeof(line), stdin) == NULL)
			return NULL;
		text = xstrdup(line);
	} else if (file_read_secret(path, 4096, &text, &len, &e) != 0) {
		fprintf(stderr, "smimesync-signer: %s\n", e.text);
		return NULL;
	}
	nl = strpbrk(text, "\r\n");
	if (nl != NULL)
		*nl = '\0';
	return text;
}

static int
cmd_credential(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "new", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	char *cred = NULL, *verifier;
	bool fresh = false;
	int ch;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (ch != 'n')
			return EXIT_USAGE;
		fresh = true;
	}
	if (optind + 1 != argc)
		return EXIT_USAGE;
	if (fresh) {
		char *line;
		struct errbuf e;
		int fd;

		cred = credential_generate();
		line = xasprintf("%s\n", cred);
		fd = open(argv[optind], O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0 || write(fd, line, strlen(line)) != (ssize_t)strlen(line) ||
		    fsync(fd) != 0 || close(fd) != 0) {
			err_set(&e, "cannot write %s: %s", argv[optind], strerror(errno));
			fprintf(stderr, "smimesync-signer: %s\n", e.text);
			secret_free_str(line);
			secret_free_str(cred);
			return 1;
		}
		secret_free_str(line);
		fprintf(stderr, "wrote a new recovery credential to %s (mode 0600): give it to the "
		    "operators who may recover keys, and keep it away from smimesync's user\n",
		    argv[optind]);
	} else if ((cred = read_credential(argv[optind])) == NULL || cred[0] == '\0') {
		fprintf(stderr, "smimesync-signer: no credential in %s\n", argv[optind]);
		secret_free_str(cred);
		return 1;
	}
	verifier = credential_verifier(cred);
	printf("recovery_credential = %s\n", verifier);
	free(verifier);
	secret_free_str(cred);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *cmd;
	int rc;

	seal_process();
	log_init("smimesync-signer", LOGL_INFO);
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd = argv[1];
	if (strcmp(cmd, "--version") == 0) {
		printf("smimesync-signer %s\n", PACKAGE_VERSION);
		return 0;
	}
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
		usage(stdout);
		return 0;
	}
	argc--;
	argv++;
	optind = 0;
	if (strcmp(cmd, "child") == 0)
		rc = cmd_child(argc, argv);
	else if (strcmp(cmd, "serve") == 0)
		rc = cmd_serve(argc, argv);
	else if (strcmp(cmd, "check") == 0)
		rc = cmd_check(argc, argv);
	else if (strcmp(cmd, "verify-log") == 0)
		rc = cmd_verify_log(argc, argv);
	else if (strcmp(cmd, "credential") == 0)
		rc = cmd_credential(argc, argv);
	else {
		usage(stderr);
		fprintf(stderr, "smimesync-signer: unknown command \"%s\"\n", cmd);
		return EXIT_USAGE;
	}
	if (rc == EXIT_USAGE)
		usage(stderr);
	return rc;
}
