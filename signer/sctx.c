/* SPDX-License-Identifier: ISC */
/*
 * The signer at work (signer/sctx.h): loading what the policy names,
 * dispatching requests, and the small requests answered here (HELLO, the
 * CA chain, the master key's status and successor, the log's head).
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include "common/fileutil.h"
#include "common/log.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "signer/sctx_internal.h"
#include "smime/cert.h"
#include "smime/escrow_seal.h"
#include "smime/signer.h"

void
answer_err(struct answer *a, uint32_t status, const char *fmt, ...)
{
	va_list ap;

	a->status = status;
	va_start(ap, fmt);
	vsnprintf(a->e.text, sizeof(a->e.text), fmt, ap);
	va_end(ap);
}

void
sctx_fault(const char *op)
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

char *
spki_hash(EVP_PKEY *key)
{
	unsigned char *der = NULL, h[SHA256_DIGEST_LENGTH];
	int len = i2d_PUBKEY(key, &der);
	char *hex;

	if (len <= 0)
		return NULL;
	SHA256(der, (size_t)len, h);
	OPENSSL_free(der);
	hex = hex_encode(h, sizeof(h));
	return hex;
}

/* Load every CA and master key the policy names; failures are kept per key. */
static int
configure(struct sctx *c, struct policy *pol, struct errbuf *e)
{
	const char *mk;

	c->pol = pol;
	c->cas = xcalloc(pol->n_cas + 1, sizeof(*c->cas));
	for (size_t i = 0; i < pol->n_cas; i++) {
		const struct policy_ca *p = &pol->cas[i];
		struct held_ca *h = &c->cas[c->n_cas++];
		struct conf_ca conf;
		STACK_OF(X509) *certs = NULL;
		struct errbuf ke;

		h->pol = p;
		memset(&conf, 0, sizeof(conf));
		conf.name = p->name;
		conf.type = CA_TYPE_LOCAL;
		conf.cert_file = p->cert_file;
		/* key_file names a file or a key on a token (ca_key.h). */
		if (strncmp(p->key_file, "pkcs11:", 7) == 0)
			conf.key_uri = p->key_file;
		else
			conf.key_file = p->key_file;
		conf.pin_file = p->pin_file;
		conf.pin_credential = p->pin_credential;
		conf.chain_file = p->chain_file;
		conf.crl_url = p->crl_url;
		conf.aia_url = p->aia_url;
		/* The certificate alone names the CA, even when its key fails to load. */
		if (cert_load_pem_file(p->cert_file, &certs, &ke) == 0) {
			h->cert = sk_X509_shift(certs);
			h->id = signer_ca_id(h->cert);
		}
		sk_X509_pop_free(certs, X509_free);
		if (issuer_open(&conf, &h->issuer, &ke) != 0)
			h->error = xasprintf("[ca %s] in %s: %s", p->name, pol->origin, ke.text);
		else if (h->id == NULL)
			h->error = xasprintf("[ca %s]: %s has no subjectKeyIdentifier", p->name,
			    p->cert_file);
		if (h->error != NULL)
			log_warn("%s", h->error);
	}
	mk = pol->master_key_file;
	c->seal.master_key_uri = pol->master_key_uri;
	c->seal.master_key_pin_file = pol->master_key_pin_file;
	c->seal.master_key_pin_credential = pol->master_key_pin_credential;
	c->next_path = mk != NULL ? xasprintf("%s.new", mk) : NULL;
	if (mk == NULL) {
		c->keys[SIGNER_SLOT_CURRENT].error = xasprintf("%s names no master_key_file",
		    pol->origin);
	} else if (escrow_key_read(mk, &c->seal, c->keys[SIGNER_SLOT_CURRENT].key, e) != 0) {
		c->keys[SIGNER_SLOT_CURRENT].error = xstrdup(e->text);
	} else {
		c->keys[SIGNER_SLOT_CURRENT].loaded = true;
	}
	/* The successor exists only between the two halves of a rotation. */
	if (c->next_path != NULL && file_exists(c->next_path)) {
		if (escrow_key_read(c->next_path, &c->seal, c->keys[SIGNER_SLOT_NEXT].key, e) != 0)
			c->keys[SIGNER_SLOT_NEXT].error = xstrdup(e->text);
		else
			c->keys[SIGNER_SLOT_NEXT].loaded = true;
	} else {
		c->keys[SIGNER_SLOT_NEXT].error = xasprintf("%s: no master key rotation is in "
		    "progress", c->next_path != NULL ? c->next_path : "master_key_file.new");
	}
	if (signlog_open(pol->state_dir, state_apply, &c->st, &c->log, e) != 0) {
		err_prefix(e, "%s", pol->origin);
		return -1;
	}
	return 0;
}

int
sctx_new(struct policy *policy, struct sctx **out, struct errbuf *e)
{
	struct sctx *c = xcalloc(1, sizeof(*c));

	*out = c;
	if (policy == NULL) {
		c->policy_from_peer = true;
		return 0;
	}
	if (configure(c, policy, e) != 0) {
		c->start_error = xstrdup(e->text);
		return -1;
	}
	return 0;
}

struct sctx *
sctx_failed(const char *msg)
{
	struct sctx *c = xcalloc(1, sizeof(*c));

	c->start_error = xstrdup(msg);
	return c;
}

void
sctx_free(struct sctx *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n_cas; i++) {
		issuer_close(c->cas[i].issuer);
		X509_free(c->cas[i].cert);
		free(c->cas[i].id);
		free(c->cas[i].error);
	}
	free(c->cas);
	for (int i = 0; i < SIGNER_N_SLOTS; i++) {
		OPENSSL_cleanse(c->keys[i].key, sizeof(c->keys[i].key));
		free(c->keys[i].error);
	}
	free(c->next_path);
	free(c->start_error);
	signlog_close(c->log);
	state_free(&c->st);
	policy_free(c->pol);
	free(c);
}

char *
sctx_describe(const struct sctx *c)
{
	uint64_t lines = 0;
	char head[65];
	size_t ok = 0;

	if (c->pol == NULL)
		return xstrdup("smimesync-signer " PACKAGE_VERSION ", waiting for its policy");
	for (size_t i = 0; i < c->n_cas; i++)
		if (c->cas[i].error == NULL)
			ok++;
	signlog_head(c->log, &lines, head);
	return xasprintf("smimesync-signer %s (pid %ld, uid %ld), policy %s, %zu of %zu CA "
	    "key%s loaded, signing log %s/%s: %llu line%s, head sha256:%s", PACKAGE_VERSION,
	    (long)getpid(), (long)geteuid(), c->pol->origin, ok, c->n_cas,
	    c->n_cas == 1 ? "" : "s", c->pol->state_dir, SIGNLOG_FILE,
	    (unsigned long long)lines, lines == 1 ? "" : "s", head);
}

struct held_ca *
sctx_find_ca(struct sctx *c, const char *id, struct answer *a)
{
	for (size_t i = 0; id != NULL && i < c->n_cas; i++) {
		if (c->cas[i].id == NULL || strcmp(c->cas[i].id, id) != 0)
			continue;
		if (c->cas[i].error != NULL) {
			answer_err(a, SIGNER_ERR, "%s", c->cas[i].error);
			return NULL;
		}
		return &c->cas[i];
	}
	{
		struct buf names;

		buf_init(&names, 0);
		for (size_t i = 0; i < c->n_cas; i++)
			if (buf_printf(&names, "%s[ca %s]%s%s", i > 0 ? ", " : "",
			    c->cas[i].pol->name, c->cas[i].error != NULL ? ": " : "",
			    c->cas[i].error != NULL ? c->cas[i].error : "") != 0)
				fatal("out of memory");
		answer_err(a, SIGNER_ERR, "the signer holds no CA with key identifier %.64s (policy %s "
		    "names %s); put the [ca] whose cert_file has that key in the signer's policy",
		    id == NULL ? "(none)" : id[strspn(id, "0123456789abcdef")] != '\0' ? "(not hex)" :
		    id, c->pol->origin, names.len > 0 ? names.data : "none");
		buf_free(&names);
	}
	return NULL;
}

const unsigned char *
sctx_master_key(struct sctx *c, uint32_t slot, struct answer *a)
{
	if (slot >= SIGNER_N_SLOTS) {
		answer_err(a, SIGNER_ERR, "no master key slot %u", slot);
		return NULL;
	}
	if (!c->keys[slot].loaded) {
		answer_err(a, SIGNER_ERR, "%s", c->keys[slot].error);
		return NULL;
	}
	return c->keys[slot].key;
}

int
sctx_lock(struct sctx *c, struct answer *a)
{
	if (signlog_lock(c->log, &a->e) != 0) {
		a->status = SIGNER_ERR;
		return -1;
	}
	if (signlog_broken(c->log) != NULL) {
		answer_err(a, SIGNER_ERR, "%s", signlog_broken(c->log));
		signlog_unlock(c->log);
		return -1;
	}
	return 0;
}

void
sctx_unlock(struct sctx *c)
{
	signlog_unlock(c->log);
}

int
sctx_log(struct sctx *c, json_t *event, struct answer *a)
{
	int rc = signlog_append(c->log, event, time(NULL), &a->e);

	json_decref(event);
	if (rc != 0)
		a->status = SIGNER_ERR;
	return rc;
}

json_t *
sctx_str(const char *s)
{
	json_t *j;
	struct buf b;

	if (s == NULL)
		return json_null();
	if ((j = json_string(s)) != NULL)
		return j;
	buf_init(&b, 0);
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
		if ((*p < 0x80 && *p >= 0x20 ? buf_putc(&b, (char)*p) :
		    buf_printf(&b, "\\x%02x", *p)) != 0)
			fatal("out of memory");
	j = json_string(b.data != NULL ? b.data : "");
	buf_free(&b);
	if (j == NULL)
		fatal("out of memory");
	return j;
}

json_t *
sctx_event(const char *name, const char *requester, const struct sconn *conn)
{
	json_t *ev = json_object();

	if (ev == NULL || json_object_set_new(ev, "event", json_string(name)) != 0)
		fatal("out of memory");
	if (requester != NULL && requester[0] != '\0' &&
	    json_object_set_new(ev, "requester", sctx_str(requester)) != 0)
		fatal("out of memory");
	if (conn != NULL && conn->has_uid &&
	    json_object_set_new(ev, "client_uid", json_integer((json_int_t)conn->uid)) != 0)
		fatal("out of memory");
	return ev;
}

static void
op_hello(struct sctx *c, struct sconn *conn, struct sp_reader *r, struct buf *res,
    struct answer *a)
{
	uint32_t version = sp_get_u32(r);
	char *text = sp_get_str(r);
	bool bad = !sp_reader_done(r);
	char *desc = NULL;

	if (bad) {
		answer_err(a, SIGNER_ERR, "malformed greeting");
		goto out;
	}
	if (text != NULL) {
		struct policy *pol = NULL;
		char *errors = NULL;
		struct errbuf e;

		if (!c->policy_from_peer || c->pol != NULL) {
			answer_err(a, SIGNER_REFUSED, "this signer keeps its own policy (%s); it "
			    "takes none from its client", c->pol != NULL ? c->pol->origin : "its file");
			goto out;
		}
		if (policy_parse(text, strlen(text), "derived from smimesync's configuration", &pol,
		    &errors) != 0) {
			answer_err(a, SIGNER_ERR, "%s", errors);
			free(errors);
			goto out;
		}
		if (configure(c, pol, &e) != 0) {
			answer_err(a, SIGNER_ERR, "%s", e.text);
			c->start_error = xstrdup(e.text);
			goto out;
		}
	} else if (c->pol == NULL) {
		answer_err(a, SIGNER_ERR, "this signer was started without a policy and the "
		    "greeting brought none");
		goto out;
	}
	conn->greeted = version == SIGNER_PROTO_VERSION;
	desc = sctx_describe(c);
	sp_put_u32(res, SIGNER_PROTO_VERSION);
	sp_put_str(res, desc);
out:
	free(desc);
	free(text);
}

static void
op_ca_chain(struct sctx *c, struct sconn *conn, struct sp_reader *r, struct buf *res,
    struct answer *a)
{
	char *id = sp_get_str(r);
	struct held_ca *h;
	STACK_OF(X509) *chain;
	struct errbuf e;

	(void)conn;
	if (!sp_reader_done(r)) {
		answer_err(a, SIGNER_ERR, "malformed request");
		goto out;
	}
	if ((h = sctx_find_ca(c, id, a)) == NULL)
		goto out;
	chain = issuer_chain(h->issuer);
	sp_put_u32(res, (uint32_t)sk_X509_num(chain));
	for (int i = 0; i < sk_X509_num(chain); i++) {
		unsigned char *der = NULL;
		size_t len = 0;

		if (cert_to_der(sk_X509_value(chain, i), &der, &len, &e) != 0) {
			answer_err(a, SIGNER_ERR, "%s", e.text);
			goto out;
		}
		sp_put_bytes(res, der, len);
		free(der);
	}
out:
	free(id);
}

static void
op_key_status(struct sctx *c, struct sconn *conn, struct sp_reader *r, struct buf *res,
    struct answer *a)
{
	uint32_t slot = sp_get_u32(r);

	(void)conn;
	(void)res;
	if (!sp_reader_done(r))
		answer_err(a, SIGNER_ERR, "malformed request");
	else
		(void)sctx_master_key(c, slot, a);
}

static void
op_new_master_key(struct sctx *c, struct sconn *conn, struct sp_reader *r, struct buf *res,
    struct answer *a)
{
	struct held_key *next = &c->keys[SIGNER_SLOT_NEXT];

	(void)conn;
	(void)res;
	(void)sp_get_u32(r);
	if (!sp_reader_done(r) || c->next_path == NULL) {
		answer_err(a, SIGNER_ERR, "malformed request");
		return;
	}
	if (escrow_key_create(c->next_path, &c->seal, &a->e) != 0) {
		a->status = SIGNER_ERR;
		return;
	}
	OPENSSL_cleanse(next->key, sizeof(next->key));
	free(next->error);
	next->error = NULL;
	next->loaded = false;
	if (escrow_key_read(c->next_path, &c->seal, next->key, &a->e) != 0) {
		next->error = xstrdup(a->e.text);
		a->status = SIGNER_ERR;
		return;
	}
	next->loaded = true;
}

/* The two ends of a master key rotation, on the signer's own files. */
static void
op_rotate(struct sctx *c, struct sconn *conn, struct sp_reader *r, struct buf *res,
    struct answer *a)
{
	uint32_t what = sp_get_u32(r);
	char *requester = sp_get_str(r);
	struct held_key *cur = &c->keys[SIGNER_SLOT_CURRENT], *next = &c->keys[SIGNER_SLOT_NEXT];
	json_t *ev;

	(void)res;
	if (!sp_reader_done(r) || (what != SIGNER_ROTATE_COMMIT && what != SIGNER_ROTATE_DISCARD) ||
	    c->next_path == NULL) {
		answer_err(a, SIGNER_ERR, "malformed rotation request");
		goto out;
	}
	if (what == SIGNER_ROTATE_COMMIT) {
		if (!next->loaded) {
			answer_err(a, SIGNER_ERR, "%s", next->error);
			goto out;
		}
		if (sctx_lock(c, a) != 0)
			goto out;
		if (file_replace_durably(c->next_path, c->pol->master_key_file, &a->e) != 0) {
			a->status = SIGNER_ERR;
			sctx_unlock(c);
			goto out;
		}
		memcpy(cur->key, next->key, sizeof(cur->key));
		cur->loaded = true;
		free(cur->error);
		cur->error = NULL;
		ev = sctx_event("master-key-rotated", requester, conn);
		if (sctx_log(c, ev, a) != 0)
			log_error("%s", a->e.text);
		sctx_unlock(c);
	} else if (unlink(c->next_path) != 0 && errno != ENOENT) {
		answer_err(a, SIGNER_ERR, "cannot remove the unused %s: %s", c->next_path,
		    strerror(errno));
		goto out;
	}
	OPENSSL_cleanse(next->key, sizeof(next->key));
	next->loaded = false;
	free(next->error);
	next->error = xasprintf("%s: no master key rotation is in progress", c->next_path);
out:
	free(requester);
}

static void
op_log_head(struct sctx *c, struct sconn *conn, struct sp_reader *r, struct buf *res,
    struct answer *a)
{
	uint64_t line = sp_get_u64(r);
	char *hash = sp_get_str(r);
	uint64_t lines = 0;
	char head[65];
	int check;

	(void)conn;
	if (!sp_reader_done(r)) {
		answer_err(a, SIGNER_ERR, "malformed request");
		goto out;
	}
	/* Up to date with other signers; a broken log still has a head to show. */
	if (signlog_lock(c->log, &a->e) != 0) {
		a->status = SIGNER_ERR;
		goto out;
	}
	signlog_head(c->log, &lines, head);
	check = signlog_check(c->log, line, hash);
	signlog_unlock(c->log);
	sp_put_u64(res, lines);
	sp_put_str(res, head);
	sp_put_u32(res, (uint32_t)check);
out:
	free(hash);
}

typedef void (*op_fn)(struct sctx *, struct sconn *, struct sp_reader *, struct buf *,
    struct answer *);

static const struct {
	uint32_t op;
	const char *name; /* fault injection and log lines */
	op_fn fn;
} ops[] = {
	{ SIGNER_OP_HELLO, "hello", op_hello },
	{ SIGNER_OP_CA_CHAIN, "ca-chain", op_ca_chain },
	{ SIGNER_OP_SIGN_CERT, "sign-cert", op_sign_cert },
	{ SIGNER_OP_REVOKE, "revoke", op_revoke },
	{ SIGNER_OP_REVOKED, "revoked", op_revoked },
	{ SIGNER_OP_SIGN_CRL, "sign-crl", op_sign_crl },
	{ SIGNER_OP_KEY_STATUS, "key-status", op_key_status },
	{ SIGNER_OP_SEAL, "seal", op_seal },
	{ SIGNER_OP_UNSEAL, "unseal", op_unseal },
	{ SIGNER_OP_NEW_MASTER_KEY, "new-master-key", op_new_master_key },
	{ SIGNER_OP_RESEAL, "reseal", op_reseal },
	{ SIGNER_OP_PROBE, "probe", op_probe },
	{ SIGNER_OP_ESCROW, "escrow", op_escrow },
	{ SIGNER_OP_CLOSE_KEY, "close-key", op_close_key },
	{ SIGNER_OP_RECOVER, "recover", op_recover },
	{ SIGNER_OP_LOG_HEAD, "log-head", op_log_head },
	{ SIGNER_OP_ROTATE, "rotate", op_rotate },
};

void
sctx_serve(struct sctx *c, struct sconn *conn, const unsigned char *body, size_t len,
    struct buf *out)
{
	struct sp_reader r;
	struct buf res;
	struct answer a;
	uint32_t op;
	size_t i;

	memset(&a, 0, sizeof(a));
	a.status = SIGNER_OK;
	buf_init(&res, 0);
	sp_reader_init(&r, body, len);
	op = sp_get_u32(&r);
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (ops[i].op == op)
			break;
	if (i == sizeof(ops) / sizeof(ops[0]))
		answer_err(&a, SIGNER_ERR, "the signer does not answer request %u", op);
	else if (op != SIGNER_OP_HELLO && !conn->greeted)
		answer_err(&a, SIGNER_ERR, "the first request must be the greeting (protocol "
		    "version %d)", SIGNER_PROTO_VERSION);
	else if (op != SIGNER_OP_HELLO && c->start_error != NULL)
		answer_err(&a, SIGNER_ERR, "%s", c->start_error);
	else if (op == SIGNER_OP_HELLO && c->start_error != NULL && !c->policy_from_peer)
		answer_err(&a, SIGNER_ERR, "%s", c->start_error);
	else {
		sctx_fault(ops[i].name);
		ops[i].fn(c, conn, &r, &res, &a);
	}
	sp_put_u32(out, a.status);
	switch (a.status) {
	case SIGNER_OK:
		if (res.len > 0 && buf_append(out, res.data, res.len) != 0)
			fatal("out of memory");
		break;
	case SIGNER_BUSY:
		sp_put_u64(out, a.retry_after);
		/* fall through */
	default:
		sp_put_str(out, a.e.text[0] != '\0' ? a.e.text : "the signer refused the request");
		break;
	}
	if (res.data != NULL)
		OPENSSL_cleanse(res.data, res.cap);
	buf_free(&res);
}
