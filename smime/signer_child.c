/* SPDX-License-Identifier: ISC */
/*
 * The signer process itself (signer.h): it loads the keys, shuts every
 * door it does not need, and answers the requests of signer_proto.h until
 * smimesync closes the socket.
 *
 * It holds the local CAs' issuing keys (issuer.h) and the master key in
 * slots (current, and the successor a rotation makes; escrow_seal.h), and
 * signs and seals with them itself: nothing here goes through the CA
 * interface or the signer's client side. Keys that fail to load are not
 * fatal here: the message is kept and given as the answer to the request
 * that needs that key, so a broken CA nobody uses stops nothing, exactly
 * as without a signer.
 *
 * It ignores the terminal's and the service manager's signals (INT, TERM,
 * HUP): smimesync decides when to stop and then closes the socket, so a
 * Ctrl-C that lets the current user finish cleanly does not take the keys
 * away mid-run. If smimesync dies, the kernel kills the signer
 * (PR_SET_PDEATHSIG) and the closed socket would end it anyway.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "common/fileutil.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "smime/cert.h"
#include "smime/escrow_seal.h"
#include "smime/issuer.h"
#include "smime/signer_child.h"
#include "smime/signer_proto.h"

/* Where the socket lives in the child; every fd above it is closed. */
#define CHILD_FD 3
#define MAX_ALT_MAILS 4096
#define MAX_CRL_ENTRIES 10000000u

struct held_ca {
	const struct conf_ca *conf;
	struct issuer *issuer; /* NULL when it failed to open: error says why */
	char *error;
};

struct held_key {
	unsigned char key[MASTER_KEY_LEN];
	bool loaded;
	char *error;
};

struct signer_child {
	const struct config *cfg;
	struct held_ca *cas;
	size_t n_cas;
	struct held_key keys[SIGNER_N_SLOTS];
	char *next_path;
};

static void
child_fault(const char *op)
{
#ifdef SMIMESYNC_FAULT_INJECTION
	/* SMIMESYNC_SIGNER_FAULT=die:OP or hang:OP, OP a request name below. */
	const char *f = getenv("SMIMESYNC_SIGNER_FAULT");

	if (f == NULL)
		return;
	if (strncmp(f, "die:", 4) == 0 && strcmp(f + 4, op) == 0) {
		log_warn("fault injection: the signer process kills itself on %s", op);
		raise(SIGKILL);
	}
	if (strncmp(f, "hang:", 5) == 0 && strcmp(f + 5, op) == 0) {
		log_warn("fault injection: the signer process stops answering at %s", op);
		for (;;)
			pause();
	}
#else
	(void)op;
#endif
}

/* Nothing but the socket and stderr (for fatal()) stays open. */
static void
shut_doors(int fd)
{
	/* Out of the way first: with stdin closed, the socket may be fd 0. */
	int sock = fcntl(fd, F_DUPFD_CLOEXEC, CHILD_FD + 1);
	int devnull;

	if (sock < 0 || dup2(sock, CHILD_FD) < 0)
		fatal("signer: cannot move its socket: %s", strerror(errno));
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull < 0 || dup2(devnull, STDIN_FILENO) < 0 || dup2(devnull, STDOUT_FILENO) < 0)
		fatal("signer: cannot open /dev/null: %s", strerror(errno));
	if (close_range(CHILD_FD + 1, ~0U, 0) != 0)
		fatal("signer: cannot close inherited file descriptors: %s", strerror(errno));
	/* No core dumps and no ptrace by the same user: the memory holds keys. */
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGUSR1, SIG_IGN);
	signal(SIGUSR2, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
}

struct signer_child *
signer_child_new(const struct config *cfg)
{
	struct signer_child *c = xcalloc(1, sizeof(*c));
	struct errbuf e;
	const char *mk = cfg->service.master_key_file;

	c->cfg = cfg;

	c->cas = xcalloc(c->cfg->n_cas + 1, sizeof(*c->cas));
	for (size_t i = 0; i < c->cfg->n_cas; i++) {
		const struct conf_ca *conf = &c->cfg->cas[i];

		if (conf->type != CA_TYPE_LOCAL)
			continue;
		c->cas[c->n_cas].conf = conf;
		if (issuer_open(conf, &c->cas[c->n_cas].issuer, &e) != 0)
			c->cas[c->n_cas].error = xstrdup(e.text);
		c->n_cas++;
	}
	c->next_path = mk != NULL ? xasprintf("%s.new", mk) : NULL;
	if (mk == NULL) {
		c->keys[SIGNER_SLOT_CURRENT].error = xstrdup("[service] master_key_file is not set");
	} else if (escrow_key_read(mk, &cfg->service, c->keys[SIGNER_SLOT_CURRENT].key, &e) != 0) {
		c->keys[SIGNER_SLOT_CURRENT].error = xstrdup(e.text);
	} else {
		c->keys[SIGNER_SLOT_CURRENT].loaded = true;
	}
	/* The successor exists only between the two halves of a rotation. */
	if (c->next_path != NULL && file_exists(c->next_path)) {
		if (escrow_key_read(c->next_path, &cfg->service, c->keys[SIGNER_SLOT_NEXT].key,
		    &e) != 0)
			c->keys[SIGNER_SLOT_NEXT].error = xstrdup(e.text);
		else
			c->keys[SIGNER_SLOT_NEXT].loaded = true;
	} else {
		c->keys[SIGNER_SLOT_NEXT].error = xasprintf("%s: no master key rotation is "
		    "in progress", c->next_path != NULL ? c->next_path : "master_key_file.new");
	}
	return c;
}

void
signer_child_free(struct signer_child *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n_cas; i++) {
		issuer_close(c->cas[i].issuer);
		free(c->cas[i].error);
	}
	free(c->cas);
	for (int i = 0; i < SIGNER_N_SLOTS; i++) {
		OPENSSL_cleanse(c->keys[i].key, sizeof(c->keys[i].key));
		free(c->keys[i].error);
	}
	free(c->next_path);
	free(c);
}

static struct held_ca *
find_ca(struct signer_child *c, const char *name, struct errbuf *e)
{
	for (size_t i = 0; name != NULL && i < c->n_cas; i++) {
		if (strcmp(c->cas[i].conf->name, name) != 0)
			continue;
		if (c->cas[i].issuer == NULL) {
			err_set(e, "%s", c->cas[i].error);
			return NULL;
		}
		return &c->cas[i];
	}
	err_set(e, "[ca %s]: the signer process holds no local CA of that name",
	    name != NULL ? name : "");
	return NULL;
}

static const unsigned char *
find_key(struct signer_child *c, uint32_t slot, struct errbuf *e)
{
	if (slot >= SIGNER_N_SLOTS) {
		err_set(e, "no master key slot %u", slot);
		return NULL;
	}
	if (!c->keys[slot].loaded) {
		err_set(e, "%s", c->keys[slot].error);
		return NULL;
	}
	return c->keys[slot].key;
}

static int
do_ca_chain(struct signer_child *c, struct sp_reader *r, struct buf *out, struct errbuf *e)
{
	char *name = sp_get_str(r);
	struct held_ca *h = NULL;
	STACK_OF(X509) *chain;
	int rc = -1;

	if (!sp_reader_done(r)) {
		err_set(e, "malformed request");
		goto out;
	}
	if ((h = find_ca(c, name, e)) == NULL)
		goto out;
	chain = issuer_chain(h->issuer);
	sp_put_u32(out, (uint32_t)sk_X509_num(chain));
	for (int i = 0; i < sk_X509_num(chain); i++) {
		unsigned char *der = NULL;
		size_t len = 0;

		if (cert_to_der(sk_X509_value(chain, i), &der, &len, e) != 0)
			goto out;
		sp_put_bytes(out, der, len);
		free(der);
	}
	rc = 0;
out:
	free(name);
	return rc;
}

static int
do_sign_cert(struct signer_child *c, struct sp_reader *r, struct buf *out, struct errbuf *e)
{
	char *name = sp_get_str(r);
	size_t csr_len = 0;
	const unsigned char *csr_der = sp_get_bytes(r, &csr_len);
	char **alts = NULL;
	uint32_t n_alts, profile;
	struct ca_request req;
	struct ca_result res;
	struct held_ca *h;
	X509_REQ *csr = NULL;
	unsigned char *der = NULL;
	size_t der_len = 0;
	enum ca_outcome oc;
	int rc = -1;

	memset(&req, 0, sizeof(req));
	memset(&res, 0, sizeof(res));
	req.mail = sp_get_str(r);
	n_alts = sp_get_u32(r);
	if (n_alts > MAX_ALT_MAILS)
		r->bad = 1;
	else
		alts = xcalloc((size_t)n_alts + 1, sizeof(*alts));
	for (uint32_t i = 0; i < n_alts && !r->bad; i++)
		alts[i] = sp_get_str(r);
	req.alt_mails = (const char *const *)alts;
	req.n_alt_mails = n_alts;
	req.validity = (int64_t)sp_get_u64(r);
	req.now = (time_t)(int64_t)sp_get_u64(r);
	profile = sp_get_u32(r);
	if (profile > PROFILE_ORGANIZATION_MULTIPURPOSE)
		r->bad = 1;
	req.profile = r->bad ? PROFILE_MAILBOX_STRICT : (enum cert_profile)profile;
	req.organization = sp_get_str(r);
	req.organization_identifier = sp_get_str(r);
	req.country = sp_get_str(r);
	if (!sp_reader_done(r) || req.mail == NULL || csr_der == NULL) {
		err_set(e, "malformed certificate request");
		goto out;
	}
	if ((h = find_ca(c, name, e)) == NULL)
		goto out;
	{
		const unsigned char *p = csr_der;

		csr = d2i_X509_REQ(NULL, &p, (long)csr_len);
		if (csr == NULL || p != csr_der + csr_len) {
			err_set(e, "the CSR sent to the signer is not valid DER");
			goto out;
		}
	}
	child_fault("sign-cert");
	oc = issuer_sign_leaf(h->issuer, csr, &req, &res);
	if (oc == CA_ISSUED && cert_to_der(res.cert, &der, &der_len, e) != 0)
		goto out;
	sp_put_u32(out, (uint32_t)oc);
	sp_put_str(out, oc == CA_ISSUED ? "" : res.reason);
	sp_put_bytes(out, der, der_len);
	rc = 0;
out:
	free(der);
	X509_REQ_free(csr);
	ca_result_clear(&res);
	for (uint32_t i = 0; alts != NULL && i < n_alts; i++)
		free(alts[i]);
	free(alts);
	free((char *)req.mail);
	free((char *)req.organization);
	free((char *)req.organization_identifier);
	free((char *)req.country);
	free(name);
	return rc;
}

static int
do_sign_crl(struct signer_child *c, struct sp_reader *r, struct buf *out, struct errbuf *e)
{
	char *name = sp_get_str(r);
	uint32_t n = sp_get_u32(r);
	struct crl_entry *ents = NULL;
	struct held_ca *h;
	unsigned char *der = NULL;
	size_t len = 0;
	uint64_t number;
	time_t now;
	int64_t lifetime;
	int rc = -1;

	/* Each entry takes at least 16 bytes of request: no larger count fits. */
	if (n > MAX_CRL_ENTRIES || n > r->left / 16)
		r->bad = 1;
	else
		ents = xcalloc((size_t)n + 1, sizeof(*ents));
	for (uint32_t i = 0; i < n && !r->bad; i++) {
		ents[i].serial = sp_get_str(r);
		ents[i].revoked_at = (time_t)(int64_t)sp_get_u64(r);
		ents[i].reason = (int)sp_get_u32(r);
	}
	number = sp_get_u64(r);
	now = (time_t)(int64_t)sp_get_u64(r);
	lifetime = (int64_t)sp_get_u64(r);
	if (!sp_reader_done(r)) {
		err_set(e, "malformed CRL request");
		goto out;
	}
	if ((h = find_ca(c, name, e)) == NULL)
		goto out;
	child_fault("sign-crl");
	if (issuer_sign_crl(h->issuer, ents, n, number, now, lifetime, &der, &len, e) != 0)
		goto out;
	sp_put_bytes(out, der, len);
	rc = 0;
out:
	for (uint32_t i = 0; ents != NULL && i < n; i++)
		free((char *)ents[i].serial);
	free(ents);
	free(der);
	free(name);
	return rc;
}

static int
do_crypt(struct signer_child *c, uint32_t op, struct sp_reader *r, struct buf *out, struct errbuf *e)
{
	uint32_t slot = sp_get_u32(r);
	char *aad = sp_get_str(r);
	size_t len = 0;
	const unsigned char *in = sp_get_bytes(r, &len);
	const unsigned char *k;
	unsigned char *res = NULL;
	size_t res_len = 0;
	int rc = -1;

	if (!sp_reader_done(r) || aad == NULL) {
		err_set(e, "malformed %s request", op == SIGNER_OP_SEAL ? "seal" : "unseal");
		goto out;
	}
	if ((k = find_key(c, slot, e)) == NULL)
		goto out;
	child_fault(op == SIGNER_OP_SEAL ? "seal" : "unseal");
	if (op == SIGNER_OP_SEAL)
		rc = escrow_seal_with(k, aad, in, len, &res, &res_len, e);
	else
		rc = escrow_open_with(k, aad, in, len, &res, &res_len, e);
	if (rc == 0)
		sp_put_bytes(out, res, res_len);
	if (res != NULL)
		secret_free(res, res_len + (op == SIGNER_OP_SEAL ? 0 : 1));
out:
	free(aad);
	return rc;
}

static int
do_new_master_key(struct signer_child *c, struct sp_reader *r, struct errbuf *e)
{
	struct held_key *next = &c->keys[SIGNER_SLOT_NEXT];

	(void)sp_get_u32(r);
	if (!sp_reader_done(r) || c->next_path == NULL) {
		err_set(e, "malformed request");
		return -1;
	}
	if (escrow_key_create(c->next_path, &c->cfg->service, e) != 0)
		return -1;
	OPENSSL_cleanse(next->key, sizeof(next->key));
	free(next->error);
	next->error = NULL;
	next->loaded = false;
	if (escrow_key_read(c->next_path, &c->cfg->service, next->key, e) != 0) {
		next->error = xstrdup(e->text);
		return -1;
	}
	next->loaded = true;
	return 0;
}

void
signer_child_serve(struct signer_child *c, const unsigned char *body, size_t len, struct buf *out)
{
	struct sp_reader r;
	struct buf res;
	struct errbuf e;
	uint32_t op;
	int rc = -1;

	err_clear(&e);
	buf_init(&res, 0);
	sp_reader_init(&r, body, len);
	op = sp_get_u32(&r);
	switch (op) {
	case SIGNER_OP_CA_CHAIN:
		child_fault("ca-chain");
		rc = do_ca_chain(c, &r, &res, &e);
		break;
	case SIGNER_OP_SIGN_CERT:
		rc = do_sign_cert(c, &r, &res, &e);
		break;
	case SIGNER_OP_SIGN_CRL:
		rc = do_sign_crl(c, &r, &res, &e);
		break;
	case SIGNER_OP_KEY_STATUS: {
		uint32_t slot = sp_get_u32(&r);

		if (!sp_reader_done(&r))
			err_set(&e, "malformed request");
		else if (find_key(c, slot, &e) != NULL)
			rc = 0;
		break;
	}
	case SIGNER_OP_SEAL:
	case SIGNER_OP_UNSEAL:
		rc = do_crypt(c, op, &r, &res, &e);
		break;
	case SIGNER_OP_NEW_MASTER_KEY:
		rc = do_new_master_key(c, &r, &e);
		break;
	default:
		err_set(&e, "the signer process does not answer request %u", op);
		break;
	}
	if (rc == 0) {
		sp_put_u32(out, SIGNER_OK);
		if (res.len > 0 && buf_append(out, res.data, res.len) != 0)
			fatal("out of memory");
	} else {
		sp_put_u32(out, SIGNER_ERR);
		sp_put_str(out, e.text);
	}
	if (res.data != NULL)
		OPENSSL_cleanse(res.data, res.cap);
	buf_free(&res);
}

void
signer_child_main(int fd, const struct config *cfg)
{
	struct signer_child *c;
	struct buf out;
	int status = 0;

	shut_doors(fd);
	child_fault("start");
	c = signer_child_new(cfg);
	buf_init(&out, 0);
	for (;;) {
		unsigned char *body = NULL;
		size_t len = 0;
		int got = sp_recv(CHILD_FD, &body, &len, -1);

		if (got == 1)
			break; /* smimesync closed the socket: done */
		if (got != 0) {
			log_error("signer: cannot read a request: %s", strerror(errno));
			status = 1;
			break;
		}
		buf_reset(&out);
		signer_child_serve(c, body, len, &out);
		OPENSSL_cleanse(body, len);
		free(body);
		if (sp_send(CHILD_FD, &out) != 0) {
			log_error("signer: cannot send a reply: %s", strerror(errno));
			status = 1;
			break;
		}
		if (out.data != NULL)
			OPENSSL_cleanse(out.data, out.cap);
	}
	buf_free(&out);
	signer_child_free(c);
	_exit(status);
}
