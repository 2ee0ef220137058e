/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "common/fileutil.h"
#include "common/log.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "smime/cert.h"
#include "smime/key.h"
#include "sync/collection_mail.h"
#include "sync/provision.h"
#include "sync/publish.h"
#include "sync/revoke.h"
#include "store/ca_requests.h"
#include "store/sealed.h"

static const char *const prov_state_names[] = {
	[PROV_PLANNED] = "planned",
	[PROV_KEY_MADE] = "key_made",
	[PROV_CA_ASKED] = "ca_asked",
	[PROV_CERT_STORED] = "cert_stored",
	[PROV_PUBLISHED] = "published",
	[PROV_DONE] = "done",
	[PROV_FAILED] = "failed",
};

const char *
prov_state_name(enum prov_state s)
{
	return s <= PROV_FAILED ? prov_state_names[s] : "?";
}

int
prov_state_parse(const char *name, enum prov_state *out)
{
	for (size_t i = 0; i < ARRAY_LEN(prov_state_names); i++) {
		if (strcmp(name, prov_state_names[i]) == 0) {
			*out = (enum prov_state)i;
			return 0;
		}
	}
	return -1;
}

/*
 * Crash points for the kill-at-every-step tests: compiled in only with
 * --enable-fault-injection, never in production builds.
 */
static void
fault_point(enum prov_state reached)
{
#ifdef SMIMESYNC_FAULT_INJECTION
	const char *at = getenv("SMIMESYNC_CRASH_AFTER");

	if (at != NULL && strcmp(at, prov_state_name(reached)) == 0) {
		log_warn("fault injection: killing this process after step %s",
		    prov_state_name(reached));
		raise(SIGKILL);
	}
#else
	(void)reached;
#endif
}

/*
 * The one place a transition happens: record the new state inside the
 * caller's open transaction, commit, log by name, then the crash point.
 */
static int
prov_enter(struct engine *en, struct store_action *a, enum prov_state to, const char *error,
    struct errbuf *e)
{
	if (store_action_set_state(en->store, a->id, prov_state_name(to), error, e) != 0 ||
	    store_commit(en->store, e) != 0) {
		store_rollback(en->store);
		return -1;
	}
	/*
	 * Five lines a person: debug; the run's progress and report say the
	 * rest. A step that went wrong is the admin's news: a warning, with why.
	 */
	log_msg(error != NULL ? LOGL_WARN : LOGL_DEBUG, "%s #%lld: %s -> %s%s%s", a->kind,
	    (long long)a->id, a->state, prov_state_name(to), error ? ": " : "",
	    error ? error : "");
	free(a->state);
	a->state = xstrdup(prov_state_name(to));
	fault_point(to);
	return 0;
}

int
provision_create(struct engine *en, const struct plan_item *it, int64_t *action_id,
    struct errbuf *e)
{
	struct store_action a;

	memset(&a, 0, sizeof(a));
	a.run_id = en->run_id;
	a.user_id = it->user->id;
	a.kind = (char *)plan_action_name(it->action);
	a.state = (char *)prov_state_name(PROV_PLANNED);
	a.group_name = en->cfg->groups[it->group].name;
	a.mail = it->user->mail;
	a.old_cert_id = it->cert_id;
	if (store_action_create(en->store, &a, action_id, e) != 0)
		return -1;
	fault_point(PROV_PLANNED);
	return 0;
}

/*
 * I3: a request an external CA still holds (a cookie) is given up with
 * the action. Whatever the CA makes of it later is not ours: the admin is
 * told once, with the CA's reference, to cancel it there.
 */
static int
note_abandoned_request(struct engine *en, const struct store_action *a, struct errbuf *e)
{
	struct store_unwanted u;
	char why[512];

	snprintf(why, sizeof(why), "the request for %s pending at [ca %s] (reference %s) was "
	    "given up: cancel it at the CA, or revoke what it issues for it", a->mail,
	    a->ca_cookie_ca != NULL ? a->ca_cookie_ca : "?", a->ca_cookie);
	memset(&u, 0, sizeof(u));
	u.user_id = a->user_id;
	u.ca_name = a->ca_cookie_ca != NULL ? a->ca_cookie_ca : (char *)"?";
	u.why = why;
	u.reason = 5;
	u.state = "admin";
	return store_unwanted_add(en->store, &u, en->now, e);
}

int
provision_abandon(struct engine *en, int64_t action_id, const char *why, struct errbuf *e)
{
	struct store_action a;
	int rc = -1;

	memset(&a, 0, sizeof(a));
	if (store_action_get(en->store, action_id, &a, e) != 0)
		return -1;
	if (store_begin(en->store, e) != 0)
		goto out;
	/*
	 * The key of a certificate that was never delivered decrypts nothing:
	 * its escrow goes too, whatever the group's escrow says.
	 */
	if (store_action_forget_key(en->store, a.id, e) != 0 ||
	    (a.cert_id != 0 && store_escrow_delete(en->store, a.cert_id, e) != 0) ||
	    (a.ca_cookie != NULL && note_abandoned_request(en, &a, e) != 0) ||
	    store_audit(en->store, en->run_id, a.user_id, "action-abandoned", why, e) != 0) {
		store_rollback(en->store);
		goto out;
	}
	if (prov_enter(en, &a, PROV_FAILED, why, e) != 0)
		goto out;
	rc = 0;
out:
	store_action_clear(&a);
	return rc;
}

static char *
action_aad(const struct store_action *a)
{
	return xasprintf("key:action=%lld", (long long)a->id);
}

static int
step_make_key(struct engine *en, struct store_action *a, const struct conf_group *g,
    EVP_PKEY *key, struct errbuf *e)
{
	unsigned char *der = NULL, *sealed = NULL;
	size_t der_len = 0, sealed_len = 0;
	char *aad = action_aad(a);
	int rc = -1;

	if (key == NULL && key_generate(g->key_type, &key, e) != 0)
		goto out_nokey;
	if (key_to_pkcs8_der(key, &der, &der_len, e) != 0 ||
	    escrow_seal(&en->master_key, aad, der, der_len, &sealed, &sealed_len, e) != 0)
		goto out;
	if (store_begin(en->store, e) != 0)
		goto out;
	if (store_action_set_key(en->store, a->id, sealed, sealed_len, e) != 0) {
		store_rollback(en->store);
		goto out;
	}
	if (prov_enter(en, a, PROV_KEY_MADE, NULL, e) != 0)
		goto out;
	a->sealed_key = sealed;
	a->sealed_key_len = sealed_len;
	sealed = NULL;
	rc = 0;
out:
	EVP_PKEY_free(key);
out_nokey:
	secret_free(der, der_len);
	free(sealed);
	free(aad);
	return rc;
}

static int
unseal_key(struct engine *en, const struct store_action *a, EVP_PKEY **key, struct errbuf *e)
{
	unsigned char *der = NULL;
	size_t len = 0;
	char *aad = action_aad(a);
	int rc = -1;

	if (a->sealed_key == NULL) {
		err_set(e, "no sealed key recorded for action #%lld", (long long)a->id);
		goto out;
	}
	if (escrow_open(&en->master_key, aad, a->sealed_key, a->sealed_key_len, &der, &len, e) != 0 ||
	    key_from_pkcs8_der(der, len, key, e) != 0)
		goto out;
	rc = 0;
out:
	secret_free(der, len);
	free(aad);
	return rc;
}

static char *
chain_to_pem(STACK_OF(X509) *chain)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data = NULL, *copy;
	long len;

	for (int i = 0; bio != NULL && chain != NULL && i < sk_X509_num(chain); i++)
		PEM_write_bio_X509(bio, sk_X509_value(chain, i));
	len = bio ? BIO_get_mem_data(bio, &data) : 0;
	copy = xstrndup(data ? data : "", (size_t)(len > 0 ? len : 0));
	BIO_free(bio);
	return copy;
}

/* What came back from the CA must be what we asked for, or we refuse it. */
static int
check_issued(X509 *cert, EVP_PKEY *key, const char *mail, struct errbuf *e)
{
	if (X509_check_private_key(cert, key) != 1) {
		ERR_clear_error();
		err_set(e, "the CA returned a certificate for a different key; refusing it");
		return -1;
	}
	if (X509_check_email(cert, mail, 0, 0) != 1) {
		err_set(e, "the CA returned a certificate without %s in its subjectAltName; "
		    "refusing it", mail);
		return -1;
	}
	return 0;
}

/* What the CA is asked for: the same on the first submission and every poll. */
static void
build_request(struct engine *en, const struct store_action *a, const struct conf_group *g,
    const struct user *u, struct ca_request *req)
{
	memset(req, 0, sizeof(*req));
	req->mail = a->mail;
	/*
	 * Every further address the directory vouches for (more values of
	 * mail, alt_mail_attribute, AD proxyAddresses, the CSV alt_mails)
	 * goes into the SAN, so clients match the person on any of them.
	 */
	if (u != NULL && u->mail != NULL && strcasecmp(u->mail, a->mail) == 0) {
		req->alt_mails = (const char *const *)u->alt_mails;
		req->n_alt_mails = u->n_alt_mails;
	}
	req->validity = g->validity;
	req->now = en->now;
	req->profile = g->profile;
	req->organization = g->organization;
	req->organization_identifier = g->organization_identifier;
	req->country = g->country;
	if (u != NULL) {
		req->given_name = u->given_name;
		req->surname = u->surname;
		req->display_name = u->display_name;
	}
}

/*
 * The alternative addresses the certificate was asked for, lowercased,
 * one a line, as certs.alt_mails keeps them (new; NULL for none).
 */
static char *
join_alt_mails(const struct ca_request *req)
{
	size_t len = 0, k = 0;
	char *out;

	if (req->n_alt_mails == 0)
		return NULL;
	for (size_t i = 0; i < req->n_alt_mails; i++)
		len += strlen(req->alt_mails[i]) + 1;
	out = xmalloc(len + 1);
	for (size_t i = 0; i < req->n_alt_mails; i++) {
		if (i > 0)
			out[k++] = '\n';
		for (const char *p = req->alt_mails[i]; *p != '\0'; p++)
			out[k++] = *p >= 'A' && *p <= 'Z' ? (char)(*p - 'A' + 'a') : *p;
	}
	out[k] = '\0';
	return out;
}

/*
 * After the n-th "unreachable" in a row: retry_interval, doubling, at
 * most 64 times retry_interval; longer if the CA asked for it.
 */
static time_t
backoff(const struct conf_ca *conf, int failures, int64_t ca_asked)
{
	int64_t wait = conf->retry_interval;

	for (int i = 1; i < failures && i < 7; i++)
		wait *= 2;
	return (time_t)(ca_asked > wait ? ca_asked : wait);
}

/* Record the CA's non-ISSUED answer; returns what the report calls it. */
static const char *
record_not_issued(struct engine *en, struct store_action *a, const struct conf_group *g,
    enum ca_outcome oc, struct ca_result *res, const char *exchange,
    struct errbuf *e)
{
	const struct conf_ca *conf = g->ca;
	char when[32];
	char *msg = NULL;
	const char *said = "failed";
	time_t next = 0;
	int failures = a->ca_failures;
	/* A cookie the CA just gave (an order placed, then not collected) wins. */
	const char *cookie = res->cookie != NULL ? res->cookie : a->ca_cookie;
	enum prov_state to = PROV_FAILED;
	struct errbuf e2;

	switch (oc) {
	case CA_PENDING:
		failures = 0;
		/* The CA's word, else retry_interval (0: at the next run). */
		next = en->now + (res->retry_after > 0 ? (time_t)res->retry_after :
		    (time_t)conf->retry_interval);
		to = PROV_CA_ASKED;
		said = "pending";
		break;
	case CA_UNREACHABLE:
		/* Still "failed" for the report: an unreachable CA is news for the admin. */
		failures++;
		next = en->now + backoff(conf, failures, res->retry_after);
		to = PROV_CA_ASKED;
		break;
	case CA_MISCONFIGURED:
		/* A request the CA holds must not be forgotten over our config mistake. */
		if (cookie != NULL) {
			failures++;
			next = en->now + backoff(conf, failures, 0);
			to = PROV_CA_ASKED;
		}
		break;
	case CA_REJECTED:
	case CA_ISSUED:
		break;
	}
	{
		/* Connectors name their section already; say it once. */
		char *prefix = xasprintf("[ca %s] ", conf->name);
		const char *why = strncmp(res->reason, prefix, strlen(prefix)) == 0 ?
		    res->reason + strlen(prefix) : res->reason;

		format_time_utc(next, when, sizeof(when));
		msg = xasprintf("%s%s: %s%s%s%s", prefix, ca_outcome_name(oc), why,
		    to == PROV_CA_ASKED ? " (next attempt after " : "",
		    to == PROV_CA_ASKED ? when : "", to == PROV_CA_ASKED ? ")" : "");
		free(prefix);
	}
	err_set(e, "%s", msg);
	if (store_begin(en->store, &e2) != 0)
		goto out;
	if (store_action_set_ca(en->store, a->id, conf->name, to == PROV_CA_ASKED ? cookie : NULL,
	    next, failures, &e2) != 0 ||
	    (exchange != NULL && store_audit(en->store, en->run_id, a->user_id, "ca-exchange",
	    exchange, &e2) != 0) ||
	    (oc == CA_REJECTED && (store_user_set_ca_hold(en->store, a->user_id, res->reason,
	    &e2) != 0 || store_audit(en->store, en->run_id, a->user_id, "certificate-rejected",
	    msg, &e2) != 0))) {
		store_rollback(en->store);
		goto out;
	}
	(void)prov_enter(en, a, to, msg, &e2);
out:
	free(msg);
	return said;
}

/* SHA-256 of the key's SubjectPublicKeyInfo, hex (new): how a request and a
 * certificate are matched whatever the CA did to the rest. */
static char *
key_id_of(EVP_PKEY *key)
{
	unsigned char *der = NULL, md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int len = i2d_PUBKEY(key, &der);
	char *hex;

	if (len <= 0 || EVP_Digest(der, (size_t)len, md, &mdlen, EVP_sha256(), NULL) != 1)
		fatal("cannot hash a public key");
	OPENSSL_free(der);
	hex = hex_encode(md, mdlen);
	return hex;
}

/*
 * I3: a certificate the CA issued that we refused (wrong SAN, EKU,
 * chain) is recorded, in the caller's transaction, to be revoked at the
 * CA by sync/unwanted.c -- or, when the CA has no revocation call,
 * reported to the admin once with its serial.
 */
static int
record_refused(struct engine *en, const struct store_action *a, struct ca *ca,
    const struct ca_result *res, const char *key_id, struct errbuf *e)
{
	struct store_unwanted u;
	struct cert_info ci;
	unsigned char *der = NULL;
	size_t der_len = 0;
	int rc = -1;

	memset(&u, 0, sizeof(u));
	memset(&ci, 0, sizeof(ci));
	if (cert_info_get(res->refused, &ci, e) != 0 ||
	    cert_to_der(res->refused, &der, &der_len, e) != 0)
		goto out;
	u.user_id = a->user_id;
	u.ca_name = (char *)ca_name(ca);
	u.serial = ci.serial;
	u.issuer = ci.issuer;
	u.key_id = (char *)key_id;
	u.der = der;
	u.der_len = der_len;
	u.why = (char *)res->reason;
	u.reason = 5; /* cessationOfOperation: never used */
	u.state = ca_can_revoke(ca) ? "pending" : "admin";
	if (store_unwanted_add(en->store, &u, en->now, e) != 0 ||
	    store_audit(en->store, en->run_id, a->user_id, "certificate-refused", ci.serial, e) != 0)
		goto out;
	log_warn("[ca %s] issued serial %s, which smimesync refused; it is %s", ca_name(ca),
	    ci.serial, ca_can_revoke(ca) ? "revoked at the CA" : "reported for revocation by hand");
	rc = 0;
out:
	free(der);
	cert_info_clear(&ci);
	return rc;
}

/*
 * I3: the request is recorded -- in the transaction that enters ca_asked,
 * committed before it leaves -- with the CSR, the key id and a request id
 * of our own.
 */
static int
record_request(struct engine *en, const struct store_action *a, struct ca *ca, X509_REQ *csr,
    const char *key_id, int64_t *id, struct errbuf *e)
{
	struct store_ca_request r;
	unsigned char rnd[16];
	char *pem = NULL;
	BIO *bio = BIO_new(BIO_s_mem());
	char *data = NULL;
	long len;
	int rc;

	if (bio == NULL || PEM_write_bio_X509_REQ(bio, csr) != 1 || RAND_bytes(rnd, sizeof(rnd)) != 1)
		fatal("cannot write a CSR");
	len = BIO_get_mem_data(bio, &data);
	pem = xstrndup(data, (size_t)len);
	BIO_free(bio);
	memset(&r, 0, sizeof(r));
	r.action_id = a->id;
	r.ca_name = (char *)ca_name(ca);
	r.request_id = hex_encode(rnd, sizeof(rnd));
	r.key_id = (char *)key_id;
	r.created = en->now;
	rc = store_ca_request_add(en->store, &r, pem, id, e);
	free(r.request_id);
	free(pem);
	return rc;
}

/*
 * I3, before anything is sent again: the last request of this action to
 * an external CA is still "sent" -- its answer never arrived (timeout,
 * dropped connection, a kill in between). A CA that can be asked
 * (ca_lookup) is asked whether it holds a certificate for our key: *oc and
 * res then carry its answer and true is returned, nothing is submitted.
 * A CA that cannot be asked gets the request again (same key); the lost
 * one is recorded for the admin once, with the key id, since that CA may
 * hold a certificate smimesync never saw. Returns false when a new
 * request must be sent.
 */
static bool
reconcile_lost(struct engine *en, const struct store_action *a, struct ca *ca, X509_REQ *csr,
    const struct ca_request *req, const char *key_id, enum ca_outcome *oc,
    struct ca_result *res, int64_t *request)
{
	struct store_ca_request last;
	struct store_unwanted u;
	struct errbuf e;
	char why[512];
	bool answered = false;
	int found;

	memset(&last, 0, sizeof(last));
	found = store_ca_request_last(en->store, a->id, &last, &e);
	if (found != 1 || strcmp(last.state, "sent") != 0 ||
	    strcmp(last.ca_name, ca_name(ca)) != 0)
		goto out;
	if (ca_can_lookup(ca)) {
		*oc = ca_lookup(ca, csr, req, res);
		log_info("[ca %s] the answer to request %s was lost; asked the CA: %s",
		    ca_name(ca), last.request_id, *oc == CA_REJECTED && res->refused == NULL ?
		    "it holds no certificate for our key" : ca_outcome_name(*oc));
		if (*oc == CA_REJECTED && res->refused == NULL) {
			ca_result_clear(res);
			if (store_ca_request_set(en->store, last.id, "lost", "none at the CA", NULL,
			    en->now, &e) != 0)
				log_error("%s", e.text);
			goto out;
		}
		answered = true;
		*request = last.id;
		goto out;
	}
	snprintf(why, sizeof(why), "the answer of [ca %s] to request %s (key SHA-256 %s) was "
	    "lost, and this CA cannot be asked what it issued: smimesync asked again with the "
	    "same key; if the CA issued twice, revoke there every certificate for this key but "
	    "the one smimesync records", ca_name(ca), last.request_id, key_id);
	memset(&u, 0, sizeof(u));
	u.user_id = a->user_id;
	u.ca_name = (char *)ca_name(ca);
	u.key_id = (char *)key_id;
	u.why = why;
	u.reason = 4;
	u.state = "admin";
	if (store_begin(en->store, &e) != 0)
		goto out;
	if (store_ca_request_set(en->store, last.id, "lost", NULL, NULL, en->now, &e) != 0 ||
	    store_unwanted_add(en->store, &u, en->now, &e) != 0 || store_commit(en->store, &e) != 0) {
		store_rollback(en->store);
		log_error("%s", e.text);
	}
out:
	store_ca_request_clear(&last);
	return answered;
}

static int
step_ask_ca(struct engine *en, struct store_action *a, const struct conf_group *g,
    const struct user *u, struct prov_outcome *out, struct errbuf *e)
{
	EVP_PKEY *key = NULL;
	X509_REQ *csr = NULL;
	struct ca *ca = NULL;
	struct ca_result res;
	struct ca_request req;
	struct cert_info ci;
	struct store_cert c;
	unsigned char *der = NULL;
	size_t der_len = 0;
	char *aad = action_aad(a);
	char *alt = NULL;
	char detail[512];
	enum ca_outcome oc = CA_MISCONFIGURED;
	int64_t cert_id = 0, request = 0;
	char *key_id = NULL;
	bool polling, external, looked;
	int rc = -1;

	memset(&res, 0, sizeof(res));
	memset(&ci, 0, sizeof(ci));
	memset(&c, 0, sizeof(c));
	/*
	 * A cookie from another [ca] (the group's ca = was changed) means
	 * nothing to this one, nor does that CA's wait: the request is left
	 * behind there and this CA is asked afresh now.
	 */
	if (a->ca_cookie != NULL && (a->ca_cookie_ca == NULL ||
	    strcmp(a->ca_cookie_ca, g->ca->name) != 0)) {
		log_warn("the request pending at [ca %s] is left there: group %s now uses [ca %s], "
		    "which is asked afresh", a->ca_cookie_ca ? a->ca_cookie_ca : "?", g->name,
		    g->ca->name);
		free(a->ca_cookie);
		a->ca_cookie = NULL;
		a->ca_next_try = 0;
		a->ca_failures = 0;
	}
	/* Not yet: the CA asked us to wait, or is being given a rest. */
	if (a->ca_next_try > en->now) {
		char when[32];

		format_time_utc(a->ca_next_try, when, sizeof(when));
		err_set(e, "%s", a->last_error != NULL ? a->last_error : "waiting for the CA");
		if (strstr(e->text, when) == NULL)
			err_prefix(e, "waiting until %s", when);
		/* Waiting on the CA's word is normal; waiting out a failure is not. */
		out->outcome = a->ca_cookie != NULL && a->ca_failures == 0 ? "pending" : "failed";
		goto out;
	}
	if (engine_ca(en, g->ca, &ca, e) != 0)
		goto out;
	build_request(en, a, g, u, &req);
	if (unseal_key(en, a, &key, e) != 0 ||
	    csr_make_smime(key, a->mail, req.alt_mails, req.n_alt_mails,
	    g->profile == PROFILE_MAILBOX_MULTIPURPOSE ||
	    g->profile == PROFILE_ORGANIZATION_MULTIPURPOSE, &csr, e) != 0)
		goto out;
	/* A request the CA already holds is asked about, never sent again. */
	polling = a->ca_cookie != NULL;
	external = ca_type(ca) != CA_TYPE_LOCAL;
	key_id = key_id_of(key);
	/* An answer that never arrived: ask the CA before sending the request again (I3). */
	looked = external && !polling && reconcile_lost(en, a, ca, csr, &req, key_id, &oc, &res,
	    &request);
	if (store_begin(en->store, e) != 0)
		goto out;
	if (store_action_bump_attempts(en->store, a->id, e) != 0 ||
	    (external && !polling && !looked && record_request(en, a, ca, csr, key_id, &request,
	    e) != 0)) {
		store_rollback(en->store);
		goto out;
	}
	if (prov_enter(en, a, PROV_CA_ASKED, NULL, e) != 0)
		goto out;

	if (!looked)
		oc = polling ? ca_poll(ca, csr, &req, a->ca_cookie, &res) :
		    ca_submit(ca, csr, &req, &res);
	/*
	 * "Unreachable" may hide an answer lost after the CA acted (a timeout,
	 * a dropped connection): the request stays "sent", and the next
	 * attempt reconciles first.
	 */
	if (oc == CA_UNREACHABLE)
		request = 0;
	if (res.refused != NULL || request != 0) {
		struct cert_info got;
		struct errbuf e2;

		memset(&got, 0, sizeof(got));
		if (oc == CA_ISSUED && cert_info_get(res.cert, &got, &e2) != 0)
			log_error("%s", e2.text);
		if (store_begin(en->store, &e2) == 0) {
			if ((request != 0 && store_ca_request_set(en->store, request, "answered",
			    ca_outcome_name(oc), got.serial, en->now, &e2) != 0) ||
			    (res.refused != NULL && record_refused(en, a, ca, &res, key_id, &e2) != 0) ||
			    store_commit(en->store, &e2) != 0) {
				store_rollback(en->store);
				log_error("%s", e2.text);
			}
		}
		cert_info_clear(&got);
	}
	/* An external CA's answer was checked more closely by ca_submit/ca_poll. */
	if (oc == CA_ISSUED && ca_type(ca) == CA_TYPE_LOCAL &&
	    check_issued(res.cert, key, a->mail, e) != 0)
		oc = CA_REJECTED, snprintf(res.reason, sizeof(res.reason), "%s", e->text);
	if (oc != CA_ISSUED) {
		out->outcome = record_not_issued(en, a, g, oc, &res, res.exchange, e);
		goto out;
	}

	if (cert_info_get(res.cert, &ci, e) != 0 || cert_to_der(res.cert, &der, &der_len, e) != 0)
		goto out;
	c.user_id = a->user_id;
	c.action_id = a->id;
	c.group_name = a->group_name;
	c.ca_name = g->ca->name;
	c.serial = ci.serial;
	c.issuer = ci.issuer;
	c.fingerprint = ci.fingerprint;
	c.mail = a->mail;
	c.key_type = (char *)key_type_name(g->key_type);
	c.not_before = ci.not_before;
	c.not_after = ci.not_after;
	c.status = CERT_VALID;
	c.der = der;
	c.der_len = der_len;
	c.chain_pem = chain_to_pem(res.chain);
	c.created = en->now;
	alt = join_alt_mails(&req);
	c.alt_mails = alt;
	snprintf(detail, sizeof(detail), "serial=%s fingerprint=%s mail=%s group=%s ca=%s",
	    ci.serial, ci.fingerprint, a->mail, a->group_name, g->ca->name);
	if (store_begin(en->store, e) != 0)
		goto out;
	if (store_cert_insert(en->store, &c, &cert_id, e) != 0 ||
	    store_escrow_put(en->store, cert_id, aad, a->sealed_key, a->sealed_key_len, e) != 0 ||
	    store_action_set_cert(en->store, a->id, cert_id, e) != 0 ||
	    store_action_set_ca(en->store, a->id, g->ca->name, NULL, 0, 0, e) != 0 ||
	    (res.exchange != NULL && store_audit(en->store, en->run_id, a->user_id, "ca-exchange",
	    res.exchange, e) != 0) ||
	    store_audit(en->store, en->run_id, a->user_id, "certificate-issued", detail, e) != 0) {
		store_rollback(en->store);
		goto out;
	}
	if (prov_enter(en, a, PROV_CERT_STORED, NULL, e) != 0)
		goto out;
	a->cert_id = cert_id;
	rc = 0;
out:
	free(key_id);
	free(alt);
	free(c.chain_pem);
	free(der);
	cert_info_clear(&ci);
	ca_result_clear(&res);
	X509_REQ_free(csr);
	EVP_PKEY_free(key);
	free(aad);
	return rc;
}

/*
 * I4, where it is carried out: a certificate that was revoked or
 * superseded while its provisioning was unfinished is never published or
 * mailed. The action is closed as failed, and true returned with why in e.
 */
static bool
cert_gone(struct engine *en, struct store_action *a, const struct store_cert *c,
    const char *what, struct errbuf *e)
{
	struct errbuf e2;

	if (c->status == CERT_VALID)
		return false;
	err_set(e, "serial %s was %s before it was %s: it is not %s, and this provisioning "
	    "is closed", c->serial, c->status == CERT_REVOKED ? "revoked" : "superseded", what,
	    what);
	if (provision_abandon(en, a->id, e->text, &e2) != 0)
		log_error("%s", e2.text);
	return true;
}

static int
step_publish(struct engine *en, struct store_action *a, const struct conf_group *g,
    const struct user *u, struct errbuf *e)
{
	struct store_cert cur;
	struct store_cert *all = NULL;
	size_t n_all = 0;
	struct dir_conn *dc = NULL;
	STACK_OF(X509) *chain = NULL;
	char *dn = NULL;
	int rc = -1;

	memset(&cur, 0, sizeof(cur));
	if (store_cert_get(en->store, a->cert_id, &cur, e) != 0)
		goto out;
	if (cert_gone(en, a, &cur, "published", e))
		goto out;
	if (engine_cert_chain(en, g->ca, &cur, &chain, e) != 0)
		goto out;
	if (publish_locate(en, g->directory, g->publish, u, &dc, &dn, e) != 0)
		goto out;
	if (dc == NULL)
		log_debug("serial %s not published: %s", cur.serial, publish_nowhere_text(g));
	else if (publish_current(en, dc, dn, &cur, chain, e) != 0)
		goto out;
	/* With DER: one revoked below is revoked at an external CA too (I3). */
	if (store_certs_for_user(en->store, a->user_id, true, &all, &n_all, e) != 0)
		goto out;
	if (store_begin(en->store, e) != 0)
		goto out;
	if (store_cert_set_published(en->store, cur.id, true, e) != 0)
		goto fail;
	/*
	 * The new certificate supersedes every earlier valid one of this
	 * person. One for an address they no longer have is revoked instead
	 * when the group says on_mail_change = revoke (publish_current has
	 * already taken it out of the directory).
	 */
	for (size_t i = 0; i < n_all; i++) {
		/* A re-issue is for a changed or lost address: on_mail_change applies (I5). */
		bool other_mail = strcasecmp(all[i].mail, cur.mail) != 0 ||
		    strcmp(a->kind, "reissue") == 0;

		if (all[i].id == cur.id || all[i].status != CERT_VALID)
			continue;
		if (other_mail && g->on_mail_change == MAIL_CHANGE_REVOKE) {
			if (store_cert_set_revoked(en->store, all[i].id, en->now, 4 /* superseded */,
			    e) != 0 || revoke_at_external_ca(en, &all[i], REVOKE_SUPERSEDED, e) != 0 ||
			    store_audit(en->store, en->run_id, a->user_id, "certificate-revoked",
			    "reason=superseded: mail changed; on_mail_change = revoke", e) != 0)
				goto fail;
			log_info("revoked serial %s for the old address %s (on_mail_change = revoke)",
			    all[i].serial, all[i].mail);
		} else if (store_cert_set_status(en->store, all[i].id, CERT_SUPERSEDED, e) != 0) {
			goto fail;
		}
		/* publish_current took every older value of ours out of this entry. */
		if (dc != NULL && store_cert_set_published(en->store, all[i].id, false, e) != 0)
			goto fail;
	}
	if (prov_enter(en, a, PROV_PUBLISHED, NULL, e) != 0)
		goto out;
	rc = 0;
	goto out;
fail:
	store_rollback(en->store);
out:
	store_certs_free(all, n_all);
	store_cert_clear(&cur);
	sk_X509_pop_free(chain, X509_free);
	free(dn);
	return rc;
}

/*
 * The key an action made, now that it is delivered: with escrow, sealed
 * again as an escrowed key, which opens only for key recovery under the
 * operator's credential (smime/escrow.h). *sealed is new, *aad_out too.
 */
static int
escrow_delivered_key(struct engine *en, const struct store_action *a, const struct store_cert *c,
    char **aad_out, unsigned char **sealed, size_t *len, struct errbuf *e)
{
	char *aad = action_aad(a);
	X509 *x = NULL;
	int rc = -1;

	*aad_out = xasprintf("escrow:%s", aad);
	if (a->sealed_key == NULL) {
		err_set(e, "no sealed key recorded for action #%lld", (long long)a->id);
		goto out;
	}
	if (cert_from_der(c->der, c->der_len, &x, e) != 0 ||
	    escrow_for_recovery(&en->master_key, aad, a->sealed_key, a->sealed_key_len, x,
	    *aad_out, sealed, len, e) != 0)
		goto out;
	rc = 0;
out:
	X509_free(x);
	free(aad);
	return rc;
}

static int
step_queue_mails(struct engine *en, struct store_action *a, const struct conf_group *g,
    const struct user *u, struct errbuf *e)
{
	struct store_cert cur;
	struct collected mails;
	STACK_OF(X509) *chain = NULL;
	EVP_PKEY *key = NULL;
	unsigned char *esc = NULL;
	size_t esc_len = 0;
	char *esc_aad = NULL;
	int rc = -1;

	memset(&cur, 0, sizeof(cur));
	memset(&mails, 0, sizeof(mails));
	if (store_cert_get(en->store, a->cert_id, &cur, e) != 0)
		goto out;
	if (cert_gone(en, a, &cur, "mailed", e))
		goto out;
	if (engine_cert_chain(en, g->ca, &cur, &chain, e) != 0 || unseal_key(en, a, &key, e) != 0)
		goto out;
	if (collect_build(en, g, u, &cur, key, chain, &mails, e) != 0)
		goto out;
	if (g->escrow && escrow_delivered_key(en, a, &cur, &esc_aad, &esc, &esc_len, e) != 0)
		goto out;
	if (store_begin(en->store, e) != 0)
		goto out;
	if (collect_queue(en, a->id, a->user_id, &mails, e) != 0) {
		store_rollback(en->store);
		goto out;
	}
	/*
	 * Once the mail is queued the action's key has done its job: it goes,
	 * and escrow = yes keeps only the escrowed copy; escrow = no, nothing.
	 */
	if ((g->escrow ? store_escrow_put(en->store, a->cert_id, esc_aad, esc, esc_len, e) :
	    store_escrow_delete(en->store, a->cert_id, e)) != 0 ||
	    store_action_forget_key(en->store, a->id, e) != 0) {
		store_rollback(en->store);
		goto out;
	}
	if (prov_enter(en, a, PROV_DONE, NULL, e) != 0)
		goto out;
	report_count(en->report, "mails_queued", 2);
	/* And the signer opens that key for no one but a key recovery from now on. */
	{
		char *aad = action_aad(a);
		struct errbuf e2;

		if (escrow_close_key(&en->master_key, aad, a->sealed_key, a->sealed_key_len, &e2) != 0)
			log_warn("%s #%lld: the signer could not close its key: %s", a->kind,
			    (long long)a->id, e2.text);
		free(aad);
	}
	rc = 0;
out:
	free(esc);
	free(esc_aad);
	collected_clear(&mails);
	EVP_PKEY_free(key);
	store_cert_clear(&cur);
	sk_X509_pop_free(chain, X509_free);
	return rc;
}

void
provision_run(struct engine *en, int64_t action_id, const struct user *u, EVP_PKEY *key,
    struct prov_outcome *out)
{
	struct store_action a;
	const struct conf_group *g;
	enum prov_state st;
	struct errbuf e;

	memset(&a, 0, sizeof(a));
	memset(out, 0, sizeof(*out));
	err_clear(&e);
	out->outcome = "failed";
	if (store_action_get(en->store, action_id, &a, &e) != 0)
		goto fail;
	snprintf(out->kind, sizeof(out->kind), "%s", a.kind);
	g = config_find_group(en->cfg, a.group_name);
	if (g == NULL) {
		/* Close it, so the next plan decides afresh under today's groups. */
		err_set(&e, "group %s is no longer in the configuration; the unfinished %s "
		    "#%lld is abandoned and the next run plans this person afresh", a.group_name,
		    a.kind, (long long)a.id);
		if (store_begin(en->store, NULL) == 0)
			(void)prov_enter(en, &a, PROV_FAILED, e.text, NULL);
		goto fail;
	}
	for (;;) {
		if (prov_state_parse(a.state, &st) != 0) {
			err_set(&e, "action #%lld has an unknown state \"%s\"", (long long)a.id, a.state);
			goto fail;
		}
		snprintf(out->step, sizeof(out->step), "%s", a.state);
		switch (st) {
		case PROV_PLANNED:
			if (step_make_key(en, &a, g, key, &e) != 0) {
				key = NULL;
				goto fail;
			}
			key = NULL; /* stolen by step_make_key */
			break;
		case PROV_KEY_MADE:
		case PROV_CA_ASKED:
			if (step_ask_ca(en, &a, g, u, out, &e) != 0) {
				if (strcmp(out->outcome, "failed") != 0)
					goto report;
				goto fail;
			}
			break;
		case PROV_CERT_STORED:
			if (step_publish(en, &a, g, u, &e) != 0)
				goto fail;
			break;
		case PROV_PUBLISHED:
			if (step_queue_mails(en, &a, g, u, &e) != 0)
				goto fail;
			break;
		case PROV_DONE:
			out->outcome = "done";
			goto report;
		case PROV_FAILED:
			if (a.last_error != NULL)
				err_set(&e, "%s", a.last_error);
			goto fail;
		}
	}
fail:
	out->outcome = "failed";
report:
	if (e.text[0] != '\0')
		snprintf(out->error, sizeof(out->error), "%s", e.text);
	if (a.cert_id != 0) {
		struct store_cert c;
		struct errbuf e2;

		memset(&c, 0, sizeof(c));
		if (store_cert_get(en->store, a.cert_id, &c, &e2) == 0) {
			snprintf(out->serial, sizeof(out->serial), "%s", c.serial);
			out->not_after = c.not_after;
		}
		store_cert_clear(&c);
	}
	EVP_PKEY_free(key);
	store_action_clear(&a);
}
