/* SPDX-License-Identifier: ISC */
/*
 * The parent's side of the signer process (signer.h): starting and
 * stopping the child, and one function per request it answers
 * (signer_internal.h). The child's side is signer_child.c; the wire
 * format signer_proto.c.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "common/log.h"
#include "common/xalloc.h"
#include "smime/cert.h"
#include "smime/signer_child.h"
#include "smime/signer_internal.h"
#include "smime/signer_proto.h"

struct signer {
	pid_t pid;
	int fd;
	int timeout_ms;
	char *master_path; /* [service] master_key_file: slot CURRENT */
	char *next_path;   /* master_key_file + ".new": slot NEXT */
	pthread_mutex_t lock; /* one request at a time on fd */
	bool dead;
	char why_dead[512]; /* set with dead: said for every later request */
};

pid_t
signer_pid(const struct signer *s)
{
	return s->pid;
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

int
signer_start(const struct config *cfg, struct signer **out, struct errbuf *e)
{
	struct signer *s = NULL;
	int sv[2];
	pid_t pid;

	/* Starting over a running signer would lose it, child and all. */
	if (*out != NULL) {
		err_set(e, "a signer process is already running (pid %ld)", (long)(*out)->pid);
		return -1;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		err_set(e, "cannot create the socket pair for the signer process: %s",
		    strerror(errno));
		return -1;
	}
	/* Nothing buffered may be written twice, once by each process. */
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		err_set(e, "cannot start the signer process: fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		close(sv[0]);
		signer_child_main(sv[1], cfg);
	}
	close(sv[1]);
	s = xcalloc(1, sizeof(*s));
	s->pid = pid;
	s->fd = sv[0];
	s->timeout_ms = timeout_ms();
	s->master_path = xstrdup_or_null(cfg->service.master_key_file);
	s->next_path = cfg->service.master_key_file != NULL ?
	    xasprintf("%s.new", cfg->service.master_key_file) : NULL;
	if (pthread_mutex_init(&s->lock, NULL) != 0)
		fatal("cannot initialize a mutex");
	log_debug("signer process %ld started; it alone holds the CA and master keys", (long)pid);
	*out = s;
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
	/* The child exits when it reads the end of its socket. */
	close(s->fd);
	if (s->pid > 0) {
		reap(s, what, sizeof(what));
		log_debug("signer process stopped: it %s", what);
	}
	pthread_mutex_destroy(&s->lock);
	free(s->master_path);
	free(s->next_path);
	free(s);
}

/* The child is of no more use: kill it if needed, reap it, and remember why. */
static void
mark_dead(struct signer *s, bool timed_out, const char *detail)
{
	char what[256];

	if (s->pid > 0 && timed_out) {
		kill(s->pid, SIGKILL);
		reap(s, what, sizeof(what));
		snprintf(s->why_dead, sizeof(s->why_dead), "the signer process, which holds the "
		    "CA and master keys, did not answer within %d s and was killed; nothing "
		    "was signed or sealed. The next run or command starts a new one; if this "
		    "repeats, look for a stuck file system under the key files",
		    s->timeout_ms / 1000);
	} else {
		if (s->pid > 0)
			kill(s->pid, SIGKILL);
		if (s->pid > 0)
			reap(s, what, sizeof(what));
		else
			snprintf(what, sizeof(what), "is gone");
		snprintf(s->why_dead, sizeof(s->why_dead), "the signer process, which holds the "
		    "CA and master keys, %s%s%s; nothing was signed or sealed. The next run "
		    "or command starts a new one; if this repeats, see the log lines before "
		    "this one",
		    what, detail != NULL ? ": " : "", detail != NULL ? detail : "");
	}
	s->dead = true;
	log_error("%s", s->why_dead);
}

/*
 * Send req, wait for the reply. On 0, *reply is new (cleanse and free it)
 * and r reads it from after the status; on -1, e says why (the child's
 * message, or that it died or went silent).
 */
static int
request(struct signer *s, const struct buf *req, unsigned char **reply, size_t *reply_len,
    struct sp_reader *r, struct errbuf *e)
{
	int rc = -1;
	int got;

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
	if (sp_get_u32(r) != SIGNER_OK) {
		char *msg = sp_get_str(r);

		err_set(e, "%s", msg != NULL ? msg : "the signer process refused the request");
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
	err_set(e, "the signer process sent a malformed reply; this is a bug in smimesync");
	return -1;
}

int
signer_ca_chain(struct signer *s, const char *ca_name, STACK_OF(X509) **chain, struct errbuf *e)
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
	sp_put_str(&req, ca_name);
	if (request(s, &req, &reply, &reply_len, &r, e) != 0)
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
signer_sign_cert(struct signer *s, const char *ca_name, X509_REQ *csr,
    const struct ca_request *req, STACK_OF(X509) *chain, struct ca_result *out)
{
	struct buf b;
	struct sp_reader r;
	struct errbuf e;
	unsigned char *reply = NULL, *csr_der = NULL;
	size_t reply_len = 0;
	char *reason = NULL;
	const unsigned char *der;
	size_t der_len = 0;
	int csr_len;
	uint32_t oc;
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
	sp_put_str(&b, ca_name);
	sp_put_bytes(&b, csr_der, (size_t)csr_len);
	sp_put_str(&b, req->mail);
	sp_put_u32(&b, req->alt_mails != NULL ? (uint32_t)req->n_alt_mails : 0);
	for (size_t i = 0; req->alt_mails != NULL && i < req->n_alt_mails; i++)
		sp_put_str(&b, req->alt_mails[i]);
	sp_put_u64(&b, (uint64_t)req->validity);
	sp_put_u64(&b, (uint64_t)(int64_t)req->now);
	sp_put_u32(&b, (uint32_t)req->profile);
	sp_put_str(&b, req->organization);
	sp_put_str(&b, req->organization_identifier);
	sp_put_str(&b, req->country);
	if (request(s, &b, &reply, &reply_len, &r, &e) != 0) {
		/* Nothing came back: the CA could not be asked, which is worth retrying. */
		rc = s->dead ? CA_UNREACHABLE : CA_MISCONFIGURED;
		goto out;
	}
	oc = sp_get_u32(&r);
	reason = sp_get_str(&r);
	der = sp_get_bytes(&r, &der_len);
	if (!sp_reader_done(&r) || oc > CA_MISCONFIGURED) {
		(void)malformed(&e);
		goto out;
	}
	rc = (enum ca_outcome)oc;
	if (rc != CA_ISSUED) {
		snprintf(out->reason, sizeof(out->reason), "%s", reason != NULL ? reason : "");
		goto done;
	}
	if (cert_from_der(der, der_len, &out->cert, &e) != 0) {
		rc = CA_MISCONFIGURED;
		goto out;
	}
	out->chain = X509_chain_up_ref(chain);
	if (out->chain == NULL)
		fatal("out of memory");
	goto done;
out:
	snprintf(out->reason, sizeof(out->reason), "%s", e.text);
done:
	OPENSSL_free(csr_der);
	free(reason);
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

	if (request(s, req, &reply, &reply_len, &r, e) != 0)
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
signer_sign_crl(struct signer *s, const char *ca_name, const struct crl_entry *entries, size_t n,
    uint64_t number, time_t now, int64_t lifetime, unsigned char **der, size_t *len,
    struct errbuf *e)
{
	struct buf b;
	int rc;

	buf_init(&b, 0);
	sp_put_u32(&b, SIGNER_OP_SIGN_CRL);
	sp_put_str(&b, ca_name);
	sp_put_u32(&b, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		sp_put_str(&b, entries[i].serial);
		sp_put_u64(&b, (uint64_t)(int64_t)entries[i].revoked_at);
		sp_put_u32(&b, (uint32_t)entries[i].reason);
	}
	sp_put_u64(&b, number);
	sp_put_u64(&b, (uint64_t)(int64_t)now);
	sp_put_u64(&b, (uint64_t)lifetime);
	rc = bytes_request(s, &b, der, len, e);
	if (rc == 0 && *len == 0) {
		free(*der);
		*der = NULL;
		rc = malformed(e);
	}
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
	err_set(e, "%s: not a master key of this configuration; the signer process holds "
	    "only [service] master_key_file (%s) and its rotation successor",
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
	rc = request(s, &b, &reply, &reply_len, &r, e);
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
		err_set(e, "%s: the signer process creates only %s, the successor of the "
		    "master key", path, s->next_path != NULL ? s->next_path : "(unset)");
		return -1;
	}
	return simple_request(s, SIGNER_OP_NEW_MASTER_KEY, SIGNER_SLOT_NEXT, e);
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
	if (b.data != NULL)
		OPENSSL_cleanse(b.data, b.cap);
	buf_free(&b);
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
