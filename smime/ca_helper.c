/* SPDX-License-Identifier: ISC */
/*
 * A CA behind a helper program that follows certmonger's CA helper
 * contract (certmonger doc/submit.txt), so helpers written for certmonger
 * work here unchanged.
 *
 * The program runs with the operation and the request in its environment:
 *   CERTMONGER_OPERATION   SUBMIT or POLL
 *   CERTMONGER_CSR         the PEM certificate request
 *   CERTMONGER_CA_COOKIE   POLL only: what an earlier "wait" printed
 *   CERTMONGER_REQ_SUBJECT CN=<mail>
 *   CERTMONGER_REQ_EMAIL   the requested addresses, one per line
 *   CERTMONGER_CA_PROFILE  [ca] profile, when set
 *   CERTMONGER_CA_NICKNAME the [ca] section's name
 *   CERTMONGER_KEY_TYPE    RSA or EC
 * and answers with its exit status and standard output:
 *   0  issued: the certificate (PEM, DER or PKCS#7, chain allowed)
 *   1  wait: a cookie to poll with
 *   2  rejected: why         3  unreachable: why
 *   4  underconfigured: why  5  wait: a delay in seconds, a newline, a cookie
 *   6  operation not supported; 16/17 SCEP data / rekeying needed (unsupported)
 * Its standard error goes to smimesync's. A helper that runs longer than
 * [ca] timeout is killed and counts as unreachable.
 *
 * Besides the contract's variables it gets a small fixed environment, not
 * the daemon's (which may hold credentials, LD_* or proxy settings meant
 * for smimesync alone): PATH (HELPER_PATH), LANG=C and LC_ALL=C (messages
 * we can quote), and HOME, TZ and TMPDIR as smimesync has them; plus the
 * variables [ca] pass_environment names, when smimesync has them.
 * smimesync.conf(5) lists the same.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "smime/ca_backend.h"

struct helper {
	const struct conf_ca *conf; /* borrowed: the config outlives the CA handle */
};

static int
helper_open(const struct conf_ca *conf, struct signer *signer, void **out,
    struct errbuf *e)
{
	struct helper *h;

	(void)signer; /* an external CA keeps its keys itself */
	if (access(conf->command, X_OK) != 0) {
		err_set(e, "[ca %s] command %s cannot be run: %s", conf->name, conf->command,
		    strerror(errno));
		return -1;
	}
	h = xcalloc(1, sizeof(*h));
	h->conf = conf;
	*out = h;
	return 0;
}

static void
helper_close(void *state)
{
	free(state);
}

struct run {
	int status;     /* exit status, or -1 when killed or not started */
	bool timed_out;
	struct buf out; /* standard output */
};

/* The PATH every helper gets: the system's directories, none a user can write. */
#define HELPER_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* Set name=value in env (k entries), replacing an earlier name=. */
static void
env_put(char **env, size_t *k, const char *name, size_t name_len, const char *value)
{
	char *entry = xasprintf("%.*s=%s", (int)name_len, name, value);

	for (size_t i = 0; i < *k; i++) {
		if (strncmp(env[i], entry, name_len + 1) == 0) {
			free(env[i]);
			env[i] = entry;
			return;
		}
	}
	env[(*k)++] = entry;
}

/*
 * The helper's environment (new; free with env_free): the fixed one the
 * header describes, the variables [ca] pass_environment names, then the
 * contract's. Built before fork(): the child of a process with threads
 * (key generation runs beside the CA calls) may only make
 * async-signal-safe calls, so no setenv() there.
 */
static char **
helper_env(const struct helper *h, const char *op, const char *csr, const char *cookie,
    const char *mails, const char *subject, const char *key_type)
{
	const char *const ours[][2] = {
		{ "CERTMONGER_OPERATION", op },
		{ "CERTMONGER_CSR", csr },
		{ "CERTMONGER_REQ_SUBJECT", subject },
		{ "CERTMONGER_REQ_EMAIL", mails },
		{ "CERTMONGER_CA_NICKNAME", h->conf->name },
		{ "CERTMONGER_KEY_TYPE", key_type },
		{ "CERTMONGER_CA_COOKIE", cookie },
		{ "CERTMONGER_CA_PROFILE", h->conf->profile },
	};
	static const char *const inherited[] = { "HOME", "TZ", "TMPDIR" };
	const char *pass = h->conf->pass_environment;
	size_t cap, k = 0;
	char **env;

	/* Each passed name takes at least two characters of the list ("A "). */
	cap = 3 + ARRAY_LEN(inherited) + (pass != NULL ? strlen(pass) / 2 + 1 : 0) +
	    ARRAY_LEN(ours) + 1;
	env = xcalloc(cap, sizeof(*env));
	env_put(env, &k, "PATH", 4, HELPER_PATH);
	env_put(env, &k, "LANG", 4, "C");
	env_put(env, &k, "LC_ALL", 6, "C");
	for (size_t i = 0; i < ARRAY_LEN(inherited); i++) {
		const char *v = getenv(inherited[i]);

		if (v != NULL)
			env_put(env, &k, inherited[i], strlen(inherited[i]), v);
	}
	/* Names were checked at load: letters, digits, _; never CERTMONGER_. */
	for (const char *p = pass; p != NULL && *p != '\0';) {
		size_t len;
		char *name;
		const char *v;

		p += strspn(p, " \t");
		len = strcspn(p, " \t");
		if (len == 0)
			break;
		name = xstrndup(p, len);
		v = getenv(name);
		if (v != NULL)
			env_put(env, &k, p, len, v);
		free(name);
		p += len;
	}
	for (size_t i = 0; i < ARRAY_LEN(ours); i++)
		if (ours[i][1] != NULL)
			env_put(env, &k, ours[i][0], strlen(ours[i][0]), ours[i][1]);
	return env;
}

static void
env_free(char **env)
{
	for (size_t i = 0; env != NULL && env[i] != NULL; i++)
		free(env[i]);
	free(env);
}

/* The child: stdin from /dev/null, stdout into the pipe, then exec. */
static void NORETURN
child(const char *command, int out_fd, char *const *env)
{
	static const char failed[] = "smimesync: cannot run the CA helper command\n";
	char *const argv[] = { (char *)command, NULL };
	int null_fd = open("/dev/null", O_RDONLY);

	/* Its own process group: a timeout kills whatever it started, too. */
	if (null_fd < 0 || dup2(null_fd, 0) < 0 || dup2(out_fd, 1) < 0 || setpgid(0, 0) != 0)
		_exit(127);
	if (null_fd > 2)
		close(null_fd);
	execve(command, argv, env);
	(void)!write(2, failed, sizeof(failed) - 1);
	_exit(127);
}

static int
run_helper(const struct helper *h, const char *op, X509_REQ *csr, const struct ca_request *req,
    const char *cookie, struct run *r, struct errbuf *e)
{
	char *csr_text = ca_csr_pem(csr);
	char *subject = xasprintf("CN=%s", req->mail);
	struct buf mails;
	char **env = NULL;
	int fds[2] = { -1, -1 };
	struct timespec start, now;
	pid_t pid;
	int rc = -1;
	bool too_big = false;

	buf_init(&mails, 0);
	if (buf_puts(&mails, req->mail) != 0)
		fatal("out of memory");
	for (size_t i = 0; req->alt_mails != NULL && i < req->n_alt_mails; i++)
		if (buf_printf(&mails, "\n%s", req->alt_mails[i]) != 0)
			fatal("out of memory");
	r->status = -1;
	r->timed_out = false;
	buf_init(&r->out, CA_MAX_RESPONSE);
	if (pipe2(fds, O_CLOEXEC) != 0) {
		err_set(e, "cannot make a pipe for %s: %s", h->conf->command, strerror(errno));
		goto out;
	}
	env = helper_env(h, op, csr_text, cookie, mails.data, subject,
	    EVP_PKEY_get_base_id(X509_REQ_get0_pubkey(csr)) == EVP_PKEY_RSA ? "RSA" : "EC");
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		err_set(e, "cannot start %s: %s", h->conf->command, strerror(errno));
		goto out;
	}
	if (pid == 0)
		child(h->conf->command, fds[1], env);
	(void)setpgid(pid, pid); /* as the child does: whichever runs first */
	close(fds[1]);
	fds[1] = -1;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		struct pollfd p = { fds[0], POLLIN, 0 };
		char chunk[4096];
		long left_ms;
		ssize_t n;

		clock_gettime(CLOCK_MONOTONIC, &now);
		left_ms = (long)h->conf->timeout * 1000 - ((now.tv_sec - start.tv_sec) * 1000 +
		    (now.tv_nsec - start.tv_nsec) / 1000000);
		if (left_ms <= 0) {
			r->timed_out = true;
			break;
		}
		if (poll(&p, 1, (int)left_ms) < 0 && errno != EINTR)
			break;
		if (p.revents == 0)
			continue;
		n = read(fds[0], chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (buf_append(&r->out, chunk, (size_t)n) != 0) {
			too_big = true;
			break;
		}
	}
	if (r->timed_out || too_big)
		kill(-pid, SIGKILL);
	/* A helper may close its output and go on running: the timeout still holds. */
	for (;;) {
		int st;
		pid_t got = waitpid(pid, &st, WNOHANG);

		if (got == 0) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			if (now.tv_sec - start.tv_sec >= h->conf->timeout && !r->timed_out) {
				r->timed_out = true;
				kill(-pid, SIGKILL);
			}
			nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
			continue;
		}
		if (got < 0) {
			if (errno == EINTR)
				continue;
			err_set(e, "waiting for %s: %s", h->conf->command, strerror(errno));
			goto out;
		}
		if (WIFEXITED(st))
			r->status = WEXITSTATUS(st);
		else if (!r->timed_out && !too_big)
			err_set(e, "%s was killed by signal %d", h->conf->command, WTERMSIG(st));
		break;
	}
	if (too_big) {
		err_set(e, "%s printed more than %d bytes; that is no certificate", h->conf->command,
		    CA_MAX_RESPONSE);
		goto out;
	}
	rc = 0;
out:
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	env_free(env);
	buf_free(&mails);
	free(subject);
	free(csr_text);
	return rc;
}

/* Standard output as one report line. */
static const char *
said(const char *text, size_t len, char *line, size_t size)
{
	ca_body_excerpt(text, len, line, size);
	return line[0] != '\0' ? line : "(it printed nothing)";
}

enum ca_outcome
ca_helper_answer(const struct conf_ca *conf, const char *op, int status, char *text, size_t len,
    X509_REQ *csr, struct ca_result *out)
{
	const char *name = conf->name;
	char line[768];
	char *nl;
	enum ca_outcome o;

	switch (status) {
	case 0:
		snprintf(line, sizeof(line), "%s exited 0 (issued), but", conf->command);
		o = ca_issued_from(text, len, csr, name, CA_MISCONFIGURED, line, out);
		break;
	case 5: {
		char *end = NULL;
		long delay = strtol(text, &end, 10);

		nl = strchr(text, '\n');
		if (end == text || nl == NULL || delay < 0) {
			o = ca_fail(out, CA_MISCONFIGURED, "[ca %s] %s exited 5 (wait) without "
			    "\"delay<newline>cookie\" on its output", name, conf->command);
			break;
		}
		out->retry_after = delay;
		text = nl + 1;
	}
		/* FALLTHROUGH */
	case 1:
		/* The cookie is the rest of the output, its final newline removed. */
		nl = text + strlen(text);
		while (nl > text && (nl[-1] == '\n' || nl[-1] == '\r'))
			*--nl = '\0';
		out->cookie = xstrdup(text);
		o = ca_fail(out, CA_PENDING, "[ca %s] the CA is still working on the request", name);
		break;
	case 2:
		o = ca_fail(out, CA_REJECTED, "[ca %s] rejected: %s", name,
		    said(text, len, line, sizeof(line)));
		break;
	case 3:
		o = ca_fail(out, CA_UNREACHABLE, "[ca %s] the helper cannot reach the CA: %s", name,
		    said(text, len, line, sizeof(line)));
		break;
	case 4:
		o = ca_fail(out, CA_MISCONFIGURED, "[ca %s] the helper says it is not configured "
		    "well enough: %s", name, said(text, len, line, sizeof(line)));
		break;
	case 6:
		o = ca_fail(out, CA_MISCONFIGURED, "[ca %s] %s does not support the %s operation",
		    name, conf->command, op);
		break;
	case 16:
	case 17:
		o = ca_fail(out, CA_MISCONFIGURED, "[ca %s] %s asks for %s, which smimesync does "
		    "not provide; use a helper that needs neither", name, conf->command,
		    status == 16 ? "SCEP data" : "a new key");
		break;
	default:
		o = ca_fail(out, CA_MISCONFIGURED, "[ca %s] %s exited %d, which the certmonger "
		    "helper contract does not define: %s", name, conf->command, status,
		    said(text, len, line, sizeof(line)));
		break;
	}
	if (o != CA_ISSUED && o != CA_PENDING)
		ca_exchange_add(out, "-> %s", out->reason);
	return o;
}

static enum ca_outcome
helper_call(void *state, const char *op, X509_REQ *csr, const struct ca_request *req,
    const char *cookie, struct ca_result *out)
{
	const struct helper *h = state;
	const char *name = h->conf->name;
	struct run r;
	struct errbuf e;
	char empty[1] = "";
	enum ca_outcome o;

	err_clear(&e);
	memset(&r, 0, sizeof(r));
	ca_exchange_add(out, "%s CERTMONGER_OPERATION=%s%s", h->conf->command, op,
	    cookie != NULL ? " (with the cookie of the earlier answer)" : "");
	if (run_helper(h, op, csr, req, cookie, &r, &e) != 0) {
		o = ca_fail(out, CA_MISCONFIGURED, "[ca %s] %s", name, e.text);
		goto out;
	}
	if (r.timed_out) {
		o = ca_fail(out, CA_UNREACHABLE, "[ca %s] %s did not finish within %llds and was "
		    "killed", name, h->conf->command, (long long)h->conf->timeout);
		goto out;
	}
	if (r.status < 0) {
		o = ca_fail(out, CA_MISCONFIGURED, "[ca %s] %s", name, e.text);
		goto out;
	}
	ca_exchange_add(out, "-> exit %d", r.status);
	o = ca_helper_answer(h->conf, op, r.status, r.out.data != NULL ? r.out.data : empty,
	    r.out.len, csr, out);
out:
	buf_free(&r.out);
	return o;
}

static enum ca_outcome
helper_submit(void *state, X509_REQ *csr, const struct ca_request *req, struct ca_result *out)
{
	return helper_call(state, "SUBMIT", csr, req, NULL, out);
}

static enum ca_outcome
helper_poll(void *state, X509_REQ *csr, const struct ca_request *req, const char *cookie,
    struct ca_result *out)
{
	return helper_call(state, "POLL", csr, req, cookie, out);
}

const struct ca_backend ca_helper_backend = {
	.open = helper_open,
	.submit = helper_submit,
	.poll = helper_poll,
	.chain = NULL,
	.close = helper_close,
};
