/* SPDX-License-Identifier: ISC */
/*
 * smimesync's side of the signer (signer.h): reaching it (a Unix socket,
 * or a child started with fork and exec), the greeting, and one function
 * per request (signer_internal.h). The wire format is signer_proto.c; the
 * program that answers is signer/.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/fileutil.h"
#include "common/log.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "smime/cert.h"
#include "smime/key.h"
#include "smime/signer_internal.h"
#include "smime/signer_policy.h"
#include "smime/signer_proto.h"

/* Where the socketpair end sits in the child; signer/main.c expects it there. */
#define CHILD_FD 3

struct signer {
	pid_t pid;         /* the child, or -1 when reached over a socket */
	int fd;
	int timeout_ms;
	char *where;       /* "the signer process" / "the signer at PATH", for messages */
	char *description; /* what HELLO said */
	char *requester;   /* the run id for the signing log */
	char *master_path; /* [service] master_key_file: slot CURRENT */
	char *next_path;   /* master_key_file + ".new": slot NEXT */
	pthread_mutex_t lock; /* one request at a time on fd */
	bool dead;
	char why_dead[768]; /* set with dead: said for every later request */
};

pid_t
signer_pid(const struct signer *s)
{
	return s->pid;
}

const char *
signer_description(const struct signer *s)
{
	return s->description != NULL ? s->description : "";
}

void
signer_set_requester(struct signer *s, const char *run_id)
{
	if (s == NULL)
		return;
	free(s->requester);
	s->requester = xstrdup_or_null(run_id);
}

static int
timeout_ms(void)
{
#ifdef SMIMESYNC_FAULT_INJECTION
	/* Tests of a silent signer must not wait two minutes. */
	const char *t = getenv("SMIMESYNC_SIGNER_TIMEOUT_S");
	long v = t != NULL ? strtol(t, NULL, 10) : 0;

	if (v > 0 && v < 86400)
		return (int)v * 1000;
#endif
	return SIGNER_TIMEOUT_S * 1000;
}

char *
signer_program_path(void)
{
	const char *env = getenv("SMIMESYNC_SIGNER_PROGRAM");
	char self[PATH_MAX];
	ssize_t n;

	/* A build tree keeps both programs side by side: the pair built together. */
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		char *slash, *sibling;

		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash != NULL) {
			*slash = '\0';
			sibling = xasprintf("%s/smimesync-signer", self);
			if (access(sibling, X_OK) == 0)
				return sibling;
			free(sibling);
		}
	}
	if (env != NULL && env[0] != '\0')
		return xstrdup(env);
	return xstrdup(SMIMESYNC_LIBEXECDIR "/smimesync-signer");
}

char *
signer_ca_id(X509 *ca_cert)
{
	const ASN1_OCTET_STRING *ski = ca_cert != NULL ? X509_get0_subject_key_id(ca_cert) : NULL;

	if (ski == NULL)
		return NULL;
	return hex_encode(ASN1_STRING_get0_data(ski), (size_t)ASN1_STRING_length(ski));
}

static struct signer *
signer_new(const struct config *cfg, pid_t pid, int fd, const char *where)
{
	struct signer *s = xcalloc(1, sizeof(*s));

	s->pid = pid;
	s->fd = fd;
	s->timeout_ms = timeout_ms();
	s->where = xstrdup(where);
	s->master_path = xstrdup_or_null(cfg->service.master_key_file);
	s->next_path = cfg->service.master_key_file != NULL ?
	    xasprintf("%s.new", cfg->service.master_key_file) : NULL;
	if (pthread_mutex_init(&s->lock, NULL) != 0)
		fatal("cannot initialize a mutex");
	return s;
}

static void
signer_free(struct signer *s)
{
	pthread_mutex_destroy(&s->lock);
	free(s->where);
	free(s->description);
	free(s->requester);
	free(s->master_path);
	free(s->next_path);
	free(s);
}

/*
 * The child between fork and exec: the socket on CHILD_FD, nothing else
 * open but stdin/stdout/stderr, and death with the parent.
 */
static void NORETURN
exec_child(int fd, const char *program, char *const argv[])
{
	int moved = fcntl(fd, F_DUPFD, CHILD_FD + 1);

	if (moved < 0 || dup2(moved, CHILD_FD) < 0) {
		dprintf(STDERR_FILENO, "smimesync: cannot hand the signer its socket: %s\n",
		    strerror(errno));
		_exit(127);
	}
	(void)close_range(CHILD_FD + 1, ~0U, 0);
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	execv(program, argv);
	dprintf(STDERR_FILENO, "smimesync: cannot run the signer %s: %s; install "
	    "smimesync-signer there, or set [service] signer_socket\n", program, strerror(errno));
	_exit(127);
}

static int
spawn(const struct config *cfg, struct signer **out, char **policy_text, struct errbuf *e)
{
	char *program = signer_program_path();
	char *policy = NULL;
	char level[16];
	char *argv[10];
	int argc = 0, sv[2], rc = -1;
	pid_t pid;

	*policy_text = NULL;
	if (signer_policy_file(cfg, &policy, e) != 0)
		goto out;
	snprintf(level, sizeof(level), "%d", (int)log_get_level());
	argv[argc++] = (char *)"smimesync-signer";
	argv[argc++] = (char *)"child";
	argv[argc++] = (char *)"--log-level";
	argv[argc++] = level;
	if (cfg->service.log_syslog)
		argv[argc++] = (char *)"--syslog";
	if (policy != NULL) {
		argv[argc++] = (char *)"--policy";
		argv[argc++] = policy;
	}
	argv[argc] = NULL;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		err_set(e, "cannot create the socket pair for the signer process: %s",
		    strerror(errno));
		goto out;
	}
	/* Nothing buffered may be written twice, once by each process. */
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		err_set(e, "cannot start the signer process: fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		goto out;
	}
	if (pid == 0)
		exec_child(sv[1], program, argv);
	close(sv[1]);
	*out = signer_new(cfg, pid, sv[0], "the signer process");
	if (policy == NULL)
		*policy_text = signer_policy_derive(cfg);
	log_debug("signer process %ld started (%s%s); it alone holds the CA and master keys",
	    (long)pid, program, policy != NULL ? ", policy " : ", policy derived from the "
	    "configuration");
	rc = 0;
out:
	free(policy);
	free(program);
	return rc;
}

static int
connect_socket(const struct config *cfg, struct signer **out, struct errbuf *e)
{
	const char *path = cfg->service.signer_socket;
	struct sockaddr_un sa;
	char *where;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		err_set(e, "[service] signer_socket %s is longer than a Unix socket path may be "
		    "(%zu bytes)", path, sizeof(sa.sun_path) - 1);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err_set(e, "cannot create a socket for the signer: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		err_set(e, "cannot reach the signer at %s ([service] signer_socket): %s; is "
		    "smimesync-signer.socket running (systemctl status smimesync-signer.socket)?",
		    path, strerror(errno));
		close(fd);
		return -1;
	}
	where = xasprintf("the signer at %s", path);
	*out = signer_new(cfg, -1, fd, where);
	free(where);
	return 0;
}

/* Reap the child and say how it ended. */
static void
reap(struct signer *s, char *what, size_t size)
{
	int st = 0;
	pid_t r;

	do
		r = waitpid(s->pid, &st, 0);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		snprintf(what, size, "ended (%s)", strerror(errno));
	else if (WIFSIGNALED(st))
		snprintf(what, size, "was killed by signal %d (%s)", WTERMSIG(st),
		    strsignal(WTERMSIG(st)));
	else
		snprintf(what, size, "exited with status %d", WEXITSTATUS(st));
	s->pid = -1;
}

void
signer_stop(struct signer *s)
{
	char what[128];

	if (s == NULL)
		return;
	/* The signer ends the connection (and a child exits) when it reads the end. */
	close(s->fd);
	if (s->pid > 0) {
		reap(s, what, sizeof(what));
		log_debug("signer process stopped: it %s", what);
	}
	signer_free(s);
}

/* The signer is of no more use: kill a child if needed, reap it, and remember why. */
static void
mark_dead(struct signer *s, bool timed_out, const char *detail)
{
	char what[256];

	if (timed_out) {
		/* A child is ours to kill; a service is left to its manager. */
		bool child = s->pid > 0;

		if (child) {
			kill(s->pid, SIGKILL);
			reap(s, what, sizeof(what));
		}
		snprintf(s->why_dead, sizeof(s->why_dead), "%s, which holds the CA and master "
		    "keys, did not answer within %d s and was %s; nothing was signed or sealed. "
		    "The next run or command starts afresh; if this repeats, look for a stuck "
		    "file system under the key files or the signer's state directory", s->where,
		    s->timeout_ms / 1000, child ? "killed" : "left to its service manager");
	} else {
		if (s->pid > 0)
			kill(s->pid, SIGKILL);
		if (s->pid > 0)
			reap(s, what, sizeof(what));
		else
			snprintf(what, sizeof(what), "closed the connection");
		snprintf(s->why_dead, sizeof(s->why_dead), "%s, which holds the CA and master "
		    "keys, %s%s%s; nothing was signed or sealed. The next run or command starts "
		    "afresh; if this repeats, see the signer's log lines before this one", s->where,
		    what, detail != NULL ? ": " : "", detail != NULL ? detail : "");
	}
	s->dead = true;
	log_error("%s", s->why_dead);
}

/* How a request ended besides OK: the signer's status, for callers that tell them apart. */
struct answer {
	uint32_t status;
	uint64_t retry_after;
};

/*
 * Send req, wait for the reply. On 0, *reply is new (cleanse and free it)
 * and r reads it from after the status; on -1, e says why (the signer's
 * message, or that it died or went silent) and ans (may be NULL) says
 * which kind of no it was.
 */
static int
request(struct signer *s, const struct buf *req, unsigned char **reply, size_t *reply_len,
    struct sp_reader *r, struct answer *ans, struct errbuf *e)
{
	struct answer dummy;
	uint32_t status;
	int rc = -1;
	int got;

	if (ans == NULL)
		ans = &dummy;
	ans->status = SIGNER_ERR;
	ans->retry_after = 0;
	*reply = NULL;
	*reply_len = 0;
	if (req->len > SIGNER_MSG_MAX) {
		err_set(e, "a request of %zu bytes is larger than the signer accepts (%zu)",
		    req->len, SIGNER_MSG_MAX);
		return -1;
	}
	pthread_mutex_lock(&s->lock);
	if (s->dead) {
		err_set(e, "%s", s->why_dead);
		goto out;
	}
	if (sp_send(s->fd, req) != 0) {
		mark_dead(s, false, errno == EPIPE || errno == ECONNRESET ? NULL : strerror(errno));
		err_set(e, "%s", s->why_dead);
		goto out;
	}
	got = sp_recv(s->fd, reply, reply_len, s->timeout_ms);
	if (got != 0) {
		if (got == -2)
			mark_dead(s, true, NULL);
		else
			mark_dead(s, false, got == 1 || errno == ECONNRESET ? NULL : strerror(errno));
		err_set(e, "%s", s->why_dead);
		goto out;
	}
	sp_reader_init(r, *reply, *reply_len);
	status = sp_get_u32(r);
	if (status != SIGNER_OK) {
		char *msg;

		ans->status = status;
		if (status == SIGNER_BUSY)
			ans->retry_after = sp_get_u64(r);
		msg = sp_get_str(r);
		if (status == SIGNER_REFUSED || status == SIGNER_BUSY)
			err_set(e, "refused by the signer: %s", msg != NULL ? msg : "(no reason given)");
		else
			err_set(e, "%s", msg != NULL ? msg : "the signer refused the request");
		free(msg);
		goto out;
	}
	rc = 0;
out:
	pthread_mutex_unlock(&s->lock);
	if (rc != 0 && *reply != NULL) {
		OPENSSL_cleanse(*reply, *reply_len);
		free(*reply);
		*reply = NULL;
	}
	return rc;
}

static void
reply_free(unsigned char *reply, size_t len)
{
	if (reply != NULL) {
		OPENSSL_cleanse(reply, len);
		free(reply);
	}
}

static int
malformed(struct errbuf *e)
{
	err_set(e, "the signer sent a malformed reply; this is a bug in smimesync");
	return -1;
}

static void
buf_wipe(struct buf *b)
{
	if (b->data != NULL)
		OPENSSL_cleanse(b->data, b->cap);
	buf_free(b);
}

/* The greeting: the same protocol on both sides, and the policy when we send it. */
static int
hello(struct signer *s, const char *policy_text, struct errbuf *e)
{
	struct buf b;
	struct sp_reader r;
	unsigned char *reply = NULL;
	size_t reply_len = 0;
	uint32_t version;
	int rc = -1;

	buf_init(&b, 0);
	sp_put_u32(&b, SIGNER_OP_HELLO);
	sp_put_u32(&b, SIGNER_PROTO_VERSION);
	sp_put_str(&b, policy_text);
	if (request(s, &b, &reply, &reply_len, &r, NULL, e) != 0)
		goto out;
	version = sp_get_u32(&r);
	s->description = sp_get_str(&r);
	if (!sp_reader_done(&r) || s->description == NULL) {
		rc = malformed(e);
		goto out;
	}
	if (version != SIGNER_PROTO_VERSION) {
		err_set(e, "%s speaks protocol version %u, this smimesync %u: install both "
		    "programs from the same release", s->where, version, SIGNER_PROTO_VERSION);
		goto out;
	}
	rc = 0;
out:
	reply_free(reply, reply_len);
	buf_free(&b);
	return rc;
}

int
signer_start(const struct config *cfg, struct signer **out, struct errbuf *e)
{
	struct signer *s = NULL;
	char *policy_text = NULL;
	int rc;

	/* Starting over a running signer would lose it, child and all. */
	if (*out != NULL) {
		err_set(e, "a signer is already running (pid %ld)", (long)(*out)->pid);
		return -1;
	}
	if (cfg->service.signer_socket != NULL)
		rc = connect_socket(cfg, &s, e);
	else
		rc = spawn(cfg, &s, &policy_text, e);
	if (rc != 0)
		return -1;
	rc = hello(s, policy_text, e);
	free(policy_text);
	if (rc != 0) {
		signer_stop(s);
		return -1;
	}
	log_debug("signer: %s", s->description);
	*out = s;
	return 0;
}

int
signer_ca_chain(struct signer *s, const char *ca_id, STACK_OF(X509) **chain, struct errbuf *e)
{
	struct buf req;
	struct sp_reader r;
	unsigned char *reply = NULL;
	size_t reply_len = 0;
	STACK_OF(X509) *sk = NULL;
	uint32_t n;
	int rc = -1;

	buf_init(&req, 0);
	sp_put_u32(&req, SIGNER_OP_CA_CHAIN);
	sp_put_str(&req, ca_id);
	if (request(s, &req, &reply, &reply_len, &r, NULL, e) != 0)
		goto out;
	sk = sk_X509_new_null();
	if (sk == NULL)
		fatal("out of memory");
	n = sp_get_u32(&r);
	for (uint32_t i = 0; i < n && !r.bad; i++) {
		size_t len = 0;
		const unsigned char *der = sp_get_bytes(&r, &len);
		X509 *x = NULL;

		if (der == NULL || cert_from_der(der, len, &x, e) != 0)
			goto bad;
		if (sk_X509_push(sk, x) == 0)
			fatal("out of memory");
	}
	if (n == 0 || !sp_reader_done(&r))
		goto bad;
	*chain = sk;
	sk = NULL;
	rc = 0;
	goto out;
bad:
	rc = malformed(e);
out:
	sk_X509_pop_free(sk, X509_free);
	reply_free(reply, reply_len);
	buf_free(&req);
	return rc;
}

enum ca_outcome
signer_sign_cert(struct signer *s, const char *ca_id, X509_REQ *csr,
    const struct ca_request *req, STACK_OF(X509) *chain, struct ca_result *out)
{
	struct buf b;
	struct sp_reader r;
	struct answer ans;
	struct errbuf e;
	unsigned char *reply = NULL, *csr_der = NULL;
	size_t reply_len = 0;
	const unsigned char *der;
	size_t der_len = 0;
	int csr_len;
	enum ca_outcome rc = CA_MISCONFIGURED;

	memset(out, 0, sizeof(*out));
	err_clear(&e);
	buf_init(&b, 0);
	csr_len = i2d_X509_REQ(csr, &csr_der);
	if (csr_len <= 0) {
		err_set(&e, "cannot encode the CSR");
		err_add_openssl(&e);
		goto out;
	}
	sp_put_u32(&b, SIGNER_OP_SIGN_CERT);
	sp_put_str(&b, ca_id);
	sp_put_str(&b, s->requester);
	sp_put_bytes(&b, csr_der, (size_t)csr_len);
	sp_put_str(&b, req->mail);
	sp_put_u32(&b, req->alt_mails != NULL ? (uint32_t)req->n_alt_mails : 0);
	for (size_t i = 0; req->alt_mails != NULL && i < req->n_alt_mails; i++)
		sp_put_str(&b, req->alt_mails[i]);
	sp_put_u64(&b, (uint64_t)req->validity);
	/* The signer dates certificates by its own clock: we ask for none. */
	sp_put_u64(&b, 0);
	sp_put_u32(&b, (uint32_t)req->profile);
	sp_put_str(&b, req->organization);
	sp_put_str(&b, req->organization_identifier);
	sp_put_str(&b, req->country);
	if (request(s, &b, &reply, &reply_len, &r, &ans, &e) != 0) {
		switch (ans.status) {
		case SIGNER_REFUSED:
			rc = CA_REJECTED;
			break;
		case SIGNER_BUSY:
			rc = CA_UNREACHABLE;
			out->retry_after = (int64_t)ans.retry_after;
			break;
		default:
			/* Nothing came back: the CA could not be asked, which is worth retrying. */
			rc = s->dead ? CA_UNREACHABLE : CA_MISCONFIGURED;
			break;
		}
		goto out;
	}
	der = sp_get_bytes(&r, &der_len);
	if (!sp_reader_done(&r) || der == NULL) {
		(void)malformed(&e);
		goto out;
	}
	if (cert_from_der(der, der_len, &out->cert, &e) != 0)
		goto out;
	out->chain = X509_chain_up_ref(chain);
	if (out->chain == NULL)
		fatal("out of memory");
	rc = CA_ISSUED;
	goto done;
out:
	snprintf(out->reason, sizeof(out->reason), "%s", e.text);
done:
	OPENSSL_free(csr_der);
	reply_free(reply, reply_len);
	buf_free(&b);
	return rc;
}

/*
 * A request whose reply is one bytes field: *out is a new copy with a NUL
 * after it (text plaintext is then a C string, as escrow_open() gives).
 */
static int
bytes_request(struct signer *s, const struct buf *req, unsigned char **out, size_t *out_len,
    struct errbuf *e)
{
	struct sp_reader r;
	unsigned char *reply = NULL;
	size_t reply_len = 0, l = 0;
	const unsigned char *p;
	int rc = -1;

	if (request(s, req, &reply, &reply_len, &r, NULL, e) != 0)
		goto out;
	p = sp_get_bytes(&r, &l);
	if (!sp_reader_done(&r)) {
		rc = malformed(e);
		goto out;
	}
	*out = xmalloc(l + 1);
	if (l > 0)
		memcpy(*out, p, l);
	(*out)[l] = '\0';
	*out_len = l;
	rc = 0;
out:
	reply_free(reply, reply_len);
	return rc;
}

int
signer_sign_crl(struct signer *s, const char *ca_id, uint64_t number_floor, int64_t lifetime,
    uint64_t *number, size_t *entries, unsigned char **der, size_t *len, struct errbuf *e)
{
	struct buf b;
	struct sp_reader r;
	unsigned char *reply = NULL;
	size_t reply_len = 0, l = 0;
	const unsigned char *p;
	uint64_t num;
	uint32_t n;
	int rc = -1;

	buf_init(&b, 0);
	sp_put_u32(&b, SIGNER_OP_SIGN_CRL);
	sp_put_str(&b, ca_id);
	sp_put_str(&b, s->requester);
	sp_put_u64(&b, number_floor);
	sp_put_u64(&b, (uint64_t)lifetime);
	if (request(s, &b, &reply, &reply_len, &r, NULL, e) != 0)
		goto out;
	num = sp_get_u64(&r);
	n = sp_get_u32(&r);
	p = sp_get_bytes(&r, &l);
	if (!sp_reader_done(&r) || l == 0) {
		rc = malformed(e);
		goto out;
	}
	*der = xmalloc(l);
	memcpy(*der, p, l);
	*len = l;
	*number = num;
	*entries = n;
	rc = 0;
out:
	reply_free(reply, reply_len);
	buf_free(&b);
	return rc;
}

int
signer_revoke(struct signer *s, X509 *cert, int reason, bool *already, struct errbuf *e)
{
	struct buf b;
	struct sp_reader r;
	unsigned char *reply = NULL, *der = NULL;
	size_t reply_len = 0, der_len = 0;
	char *serial = NULL;
	int rc = -1;

	buf_init(&b, 0);
	if (cert_to_der(cert, &der, &der_len, e) != 0)
		goto out;
	sp_put_u32(&b, SIGNER_OP_REVOKE);
	sp_put_str(&b, s->requester);
	sp_put_bytes(&b, der, der_len);
	sp_put_u32(&b, (uint32_t)reason);
	if (request(s, &b, &reply, &reply_len, &r, NULL, e) != 0)
		goto out;
	*already = sp_get_u32(&r) != 0;
	serial = sp_get_str(&r);
	if (!sp_reader_done(&r) || serial == NULL) {
		rc = malformed(e);
		goto out;
	}
	rc = 0;
out:
	free(serial);
	free(der);
	reply_free(reply, reply_len);
	buf_free(&b);
	return rc;
}

void
signer_serials_free(char **serials, size_t n)
{
	for (size_t i = 0; serials != NULL && i < n; i++)
		free(serials[i]);
	free(serials);
}

int
signer_revoked_serials(struct signer *s, const char *ca_id, char ***serials, size_t *n_out,
    struct errbuf *e)
{
	struct buf b;
	struct sp_reader r;
	unsigned char *reply = NULL;
	size_t reply_len = 0;
	char **v = NULL;
	uint32_t n = 0, i = 0;
	int rc = -1;

	buf_init(&b, 0);
	sp_put_u32(&b, SIGNER_OP_REVOKED);
	sp_put_str(&b, ca_id);
	if (request(s, &b, &reply, &reply_len, &r, NULL, e) != 0)
		goto out;
	n = sp_get_u32(&r);
	/* Each serial takes at least 5 bytes of reply. */
	if (n > r.left / 5) {
		rc = malformed(e);
		goto out;
	}
	v = xcalloc((size_t)n + 1, sizeof(*v));
	for (i = 0; i < n && !r.bad; i++)
		v[i] = sp_get_str(&r);
	if (!sp_reader_done(&r)) {
		rc = malformed(e);
		goto out;
	}
	*serials = v;
	*n_out = n;
	v = NULL;
	rc = 0;
out:
	signer_serials_free(v, i);
	reply_free(reply, reply_len);
	buf_free(&b);
	return rc;
}

const char *
signer_head_check_name(int check)
{
	switch (check) {
	case SIGNER_HEAD_MATCHES:
		return "matches";
	case SIGNER_HEAD_DIFFERS:
		return "differs";
	case SIGNER_HEAD_MISSING:
		return "missing";
	default:
		return "not asked";
	}
}

int
signer_log_head(struct signer *s, uint64_t check_line, const char *check_hash,
    struct signer_log_head *out, struct errbuf *e)
{
	struct buf b;
	struct sp_reader r;
	unsigned char *reply = NULL;
	size_t reply_len = 0;
	char *hash = NULL;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	buf_init(&b, 0);
	sp_put_u32(&b, SIGNER_OP_LOG_HEAD);
	sp_put_u64(&b, check_line);
	sp_put_str(&b, check_hash);
	if (request(s, &b, &reply, &reply_len, &r, NULL, e) != 0)
		goto out;
	out->lines = sp_get_u64(&r);
	hash = sp_get_str(&r);
	out->check = (int)sp_get_u32(&r);
	if (!sp_reader_done(&r) || hash == NULL || strlen(hash) != 64) {
		rc = malformed(e);
		goto out;
	}
	memcpy(out->hash, hash, 65);
	rc = 0;
out:
	free(hash);
	reply_free(reply, reply_len);
	buf_free(&b);
	return rc;
}

static int
slot_of(const struct signer *s, const char *path, struct errbuf *e)
{
	if (path != NULL && s->master_path != NULL && strcmp(path, s->master_path) == 0)
		return SIGNER_SLOT_CURRENT;
	if (path != NULL && s->next_path != NULL && strcmp(path, s->next_path) == 0)
		return SIGNER_SLOT_NEXT;
	err_set(e, "%s: not a master key of this configuration; the signer holds only "
	    "[service] master_key_file (%s) and its rotation successor",
	    path != NULL ? path : "(none)", s->master_path != NULL ? s->master_path : "unset");
	return -1;
}

/* A request whose reply is just the status. */
static int
simple_request(struct signer *s, uint32_t op, int slot, struct errbuf *e)
{
	struct buf b;
	struct sp_reader r;
	unsigned char *reply = NULL;
	size_t reply_len = 0;
	int rc;

	buf_init(&b, 0);
	sp_put_u32(&b, op);
	sp_put_u32(&b, (uint32_t)slot);
	rc = request(s, &b, &reply, &reply_len, &r, NULL, e);
	if (rc == 0 && !sp_reader_done(&r))
		rc = malformed(e);
	reply_free(reply, reply_len);
	buf_free(&b);
	return rc;
}

int
signer_master_key(struct signer *s, const char *path, int *slot, struct errbuf *e)
{
	int held = slot_of(s, path, e);

	if (held < 0 || simple_request(s, SIGNER_OP_KEY_STATUS, held, e) != 0)
		return -1;
	*slot = held;
	return 0;
}

int
signer_new_master_key(struct signer *s, const char *path, struct errbuf *e)
{
	if (slot_of(s, path, e) != SIGNER_SLOT_NEXT) {
		err_set(e, "%s: the signer creates only %s, the successor of the master key", path,
		    s->next_path != NULL ? s->next_path : "(unset)");
		return -1;
	}
	return simple_request(s, SIGNER_OP_NEW_MASTER_KEY, SIGNER_SLOT_NEXT, e);
}

int
signer_rotate(struct signer *s, int what, struct errbuf *e)
{
	struct buf b;
	struct sp_reader r;
	unsigned char *reply = NULL;
	size_t reply_len = 0;
	int rc;

	buf_init(&b, 0);
	sp_put_u32(&b, SIGNER_OP_ROTATE);
	sp_put_u32(&b, (uint32_t)what);
	sp_put_str(&b, s->requester);
	rc = request(s, &b, &reply, &reply_len, &r, NULL, e);
	if (rc == 0 && !sp_reader_done(&r))
		rc = malformed(e);
	reply_free(reply, reply_len);
	buf_free(&b);
	return rc;
}

/* Seal or unseal: one bytes field out, one back. */
static int
crypt_request(struct signer *s, uint32_t op, int slot, const char *aad,
    const unsigned char *in, size_t len, unsigned char **out, size_t *out_len, struct errbuf *e)
{
	struct buf b;
	int rc;

	buf_init(&b, 0);
	sp_put_u32(&b, op);
	sp_put_u32(&b, (uint32_t)slot);
	sp_put_str(&b, aad != NULL ? aad : "");
	sp_put_bytes(&b, in, len);
	rc = bytes_request(s, &b, out, out_len, e);
	/* The request may hold a plaintext secret (seal). */
	buf_wipe(&b);
	return rc;
}

int
signer_seal(struct signer *s, int slot, const char *aad, const unsigned char *plain, size_t len,
    unsigned char **out, size_t *out_len, struct errbuf *e)
{
	return crypt_request(s, SIGNER_OP_SEAL, slot, aad, plain, len, out, out_len, e);
}

int
signer_unseal(struct signer *s, int slot, const char *aad, const unsigned char *sealed,
    size_t len, unsigned char **out, size_t *out_len, struct errbuf *e)
{
	return crypt_request(s, SIGNER_OP_UNSEAL, slot, aad, sealed, len, out, out_len, e);
}

int
signer_reseal(struct signer *s, int from, int to, const char *aad, const unsigned char *sealed,
    size_t len, unsigned char **out, size_t *out_len, struct errbuf *e)
{
	struct buf b;
	int rc;

	buf_init(&b, 0);
	sp_put_u32(&b, SIGNER_OP_RESEAL);
	sp_put_u32(&b, (uint32_t)from);
	sp_put_u32(&b, (uint32_t)to);
	sp_put_str(&b, aad != NULL ? aad : "");
	sp_put_bytes(&b, sealed, len);
	rc = bytes_request(s, &b, out, out_len, e);
	buf_free(&b);
	return rc;
}

int
signer_probe(struct signer *s, int slot, const char *aad, const unsigned char *sealed,
    size_t len, struct errbuf *e)
{
	struct buf b;
	struct sp_reader r;
	unsigned char *reply = NULL;
	size_t reply_len = 0;
	uint32_t opens;
	int rc = -1;

	buf_init(&b, 0);
	sp_put_u32(&b, SIGNER_OP_PROBE);
	sp_put_u32(&b, (uint32_t)slot);
	sp_put_str(&b, aad != NULL ? aad : "");
	sp_put_bytes(&b, sealed, len);
	if (request(s, &b, &reply, &reply_len, &r, NULL, e) != 0)
		goto out;
	opens = sp_get_u32(&r);
	rc = sp_reader_done(&r) ? opens != 0 : malformed(e);
out:
	reply_free(reply, reply_len);
	buf_free(&b);
	return rc;
}

int
signer_escrow(struct signer *s, int slot, const char *key_aad, const unsigned char *sealed,
    size_t len, X509 *cert, const char *escrow_aad, unsigned char **out, size_t *out_len,
    struct errbuf *e)
{
	struct buf b;
	unsigned char *der = NULL;
	size_t der_len = 0;
	int rc = -1;

	buf_init(&b, 0);
	if (cert_to_der(cert, &der, &der_len, e) != 0)
		goto out;
	sp_put_u32(&b, SIGNER_OP_ESCROW);
	sp_put_u32(&b, (uint32_t)slot);
	sp_put_str(&b, key_aad);
	sp_put_bytes(&b, sealed, len);
	sp_put_bytes(&b, der, der_len);
	sp_put_str(&b, escrow_aad);
	rc = bytes_request(s, &b, out, out_len, e);
out:
	free(der);
	buf_free(&b);
	return rc;
}

int
signer_close_key(struct signer *s, int slot, const char *key_aad, const unsigned char *sealed,
    size_t len, struct errbuf *e)
{
	struct buf b;
	struct sp_reader r;
	unsigned char *reply = NULL;
	size_t reply_len = 0;
	int rc;

	buf_init(&b, 0);
	sp_put_u32(&b, SIGNER_OP_CLOSE_KEY);
	sp_put_u32(&b, (uint32_t)slot);
	sp_put_str(&b, key_aad);
	sp_put_bytes(&b, sealed, len);
	sp_put_str(&b, s->requester);
	rc = request(s, &b, &reply, &reply_len, &r, NULL, e);
	if (rc == 0 && !sp_reader_done(&r))
		rc = malformed(e);
	reply_free(reply, reply_len);
	buf_free(&b);
	return rc;
}

/* The RECOVER request for r and purpose, in b. */
static int
put_recovery(struct signer *s, struct buf *b, const struct signer_recovery *r, uint32_t purpose,
    struct errbuf *e)
{
	int n_chain = r->chain != NULL ? sk_X509_num(r->chain) : 0;

	sp_put_u32(b, SIGNER_OP_RECOVER);
	sp_put_str(b, s->requester);
	sp_put_str(b, r->user);
	sp_put_str(b, r->sudo_user);
	sp_put_bytes(b, r->credential != NULL ? r->credential : "",
	    r->credential != NULL ? strlen(r->credential) : 0);
	sp_put_u32(b, purpose);
	sp_put_u32(b, (uint32_t)r->n_items);
	for (size_t i = 0; i < r->n_items; i++) {
		const struct signer_recovery_item *it = &r->items[i];
		unsigned char *der = NULL;
		size_t len = 0;

		if (cert_to_der(it->cert, &der, &len, e) != 0)
			return -1;
		sp_put_str(b, it->aad);
		sp_put_bytes(b, it->sealed, it->sealed_len);
		sp_put_bytes(b, der, len);
		sp_put_str(b, it->name != NULL ? it->name : "");
		free(der);
	}
	sp_put_u32(b, (uint32_t)n_chain);
	for (int i = 0; i < n_chain; i++) {
		unsigned char *der = NULL;
		size_t len = 0;

		if (cert_to_der(sk_X509_value(r->chain, i), &der, &len, e) != 0)
			return -1;
		sp_put_bytes(b, der, len);
		free(der);
	}
	sp_put_u32(b, (uint32_t)r->profile);
	sp_put_u32(b, (uint32_t)r->iterations);
	return 0;
}

int
signer_recover_pkcs12(struct signer *s, const struct signer_recovery *r, unsigned char **p12,
    size_t *len, char **password, struct errbuf *e)
{
	struct buf b;
	struct sp_reader rd;
	unsigned char *reply = NULL;
	size_t reply_len = 0, l = 0;
	const unsigned char *p;
	char *pw = NULL;
	int rc = -1;

	buf_init(&b, 0);
	if (put_recovery(s, &b, r, SIGNER_RECOVER_PKCS12, e) != 0 ||
	    request(s, &b, &reply, &reply_len, &rd, NULL, e) != 0)
		goto out;
	p = sp_get_bytes(&rd, &l);
	pw = sp_get_str(&rd);
	if (!sp_reader_done(&rd) || l == 0 || pw == NULL) {
		rc = malformed(e);
		goto out;
	}
	*p12 = xmalloc(l);
	memcpy(*p12, p, l);
	*len = l;
	*password = pw;
	pw = NULL;
	rc = 0;
out:
	secret_free_str(pw);
	reply_free(reply, reply_len);
	buf_wipe(&b);
	return rc;
}

int
signer_recover_key(struct signer *s, const struct signer_recovery *r, EVP_PKEY **key,
    struct errbuf *e)
{
	struct buf b;
	unsigned char *der = NULL;
	size_t len = 0;
	int rc = -1;

	buf_init(&b, 0);
	if (put_recovery(s, &b, r, SIGNER_RECOVER_RESEND, e) != 0 ||
	    bytes_request(s, &b, &der, &len, e) != 0)
		goto out;
	rc = key_from_pkcs8_der(der, len, key, e);
out:
	if (der != NULL)
		secret_free(der, len + 1);
	buf_wipe(&b);
	return rc;
}
