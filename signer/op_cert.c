/* SPDX-License-Identifier: ISC */
/*
 * SIGN_CERT: the signer's policy on a certificate request, then the
 * certificate, dated by the signer's clock and logged before it leaves.
 *
 * What a request may not do, whoever sent it:
 *   - name an address that is not a mailbox, or whose domain the CA's
 *     mail_domains do not list;
 *   - carry a CSR asking for any subjectAltName but those mailboxes (no
 *     DNS, URI, IP, UPN or directory names);
 *   - ask for a profile, an O= or an organizationIdentifier the policy
 *     does not list, or a key type it does not allow;
 *   - ask for more validity than max_validity, or for a notBefore of its
 *     own (the signer's clock dates every certificate; notAfter never
 *     passes the issuing CA's);
 *   - come after max_certificates_per_hour others in the last hour.
 * A refusal is logged and answered SIGNER_REFUSED (SIGNER_BUSY for the
 * hourly limit) with the reason.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "common/log.h"
#include "common/mailaddr.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "signer/sctx_internal.h"
#include "smime/cert.h"
#include "smime/key.h"

/* More addresses than any person has; a bound on the request, not a policy. */
#define MAX_ADDRESSES 100
#define HOUR 3600
/* How far an asked notBefore may be from the signer's clock to count as "now". */
#define CLOCK_SLACK 300

struct cert_req {
	char *ca;
	char *requester;
	X509_REQ *csr;
	char *mail;
	char **alts;
	uint32_t n_alts;
	int64_t validity;
	uint64_t not_before;
	uint32_t profile;
	char *organization;
	char *organization_id;
	char *country;
};

static void
cert_req_clear(struct cert_req *q)
{
	X509_REQ_free(q->csr);
	for (uint32_t i = 0; q->alts != NULL && i < q->n_alts; i++)
		free(q->alts[i]);
	free(q->alts);
	free(q->ca);
	free(q->requester);
	free(q->mail);
	free(q->organization);
	free(q->organization_id);
	free(q->country);
}

static int
read_req(struct sp_reader *r, struct cert_req *q)
{
	size_t csr_len = 0;
	const unsigned char *csr_der;

	memset(q, 0, sizeof(*q));
	q->ca = sp_get_str(r);
	q->requester = sp_get_str(r);
	csr_der = sp_get_bytes(r, &csr_len);
	q->mail = sp_get_str(r);
	q->n_alts = sp_get_u32(r);
	/* Each address takes at least 4 bytes of request: no larger count fits. */
	if (q->n_alts > r->left / 4) {
		r->bad = 1;
		q->n_alts = 0;
	}
	q->alts = xcalloc((size_t)q->n_alts + 1, sizeof(*q->alts));
	for (uint32_t i = 0; i < q->n_alts && !r->bad; i++)
		q->alts[i] = sp_get_str(r);
	q->validity = (int64_t)sp_get_u64(r);
	q->not_before = sp_get_u64(r);
	q->profile = sp_get_u32(r);
	q->organization = sp_get_str(r);
	q->organization_id = sp_get_str(r);
	q->country = sp_get_str(r);
	if (!sp_reader_done(r) || q->mail == NULL || csr_der == NULL)
		return -1;
	for (uint32_t i = 0; i < q->n_alts; i++)
		if (q->alts[i] == NULL)
			return -1;
	{
		const unsigned char *p = csr_der;

		q->csr = d2i_X509_REQ(NULL, &p, (long)csr_len);
		if (q->csr == NULL || p != csr_der + csr_len) {
			ERR_clear_error();
			return -1;
		}
	}
	return 0;
}

static bool
domain_allowed(const struct policy_ca *p, const char *addr)
{
	const char *at = strrchr(addr, '@');

	if (p->any_domain)
		return true;
	for (size_t i = 0; at != NULL && i < p->n_domains; i++)
		if (strcasecmp(at + 1, p->domains[i]) == 0)
			return true;
	return false;
}

static bool
listed(char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; s != NULL && i < n; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

static bool
is_requested(const struct cert_req *q, const char *addr, size_t len)
{
	if (strlen(q->mail) == len && strncasecmp(q->mail, addr, len) == 0)
		return true;
	for (uint32_t i = 0; i < q->n_alts; i++)
		if (strlen(q->alts[i]) == len && strncasecmp(q->alts[i], addr, len) == 0)
			return true;
	return false;
}

static const char *
general_name_kind(int type)
{
	switch (type) {
	case GEN_OTHERNAME:
		return "otherName (such as a UPN)";
	case GEN_DNS:
		return "dNSName";
	case GEN_X400:
		return "x400Address";
	case GEN_DIRNAME:
		return "directoryName";
	case GEN_EDIPARTY:
		return "ediPartyName";
	case GEN_URI:
		return "uniformResourceIdentifier";
	case GEN_IPADD:
		return "iPAddress";
	case GEN_RID:
		return "registeredID";
	default:
		return "unknown name";
	}
}

/* The CSR's own subjectAltName request: mailboxes of the request, nothing else. */
static int
check_csr_sans(const struct cert_req *q, struct answer *a)
{
	STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(q->csr);
	GENERAL_NAMES *names = NULL;
	int rc = 0;

	for (int i = 0; exts != NULL && i < sk_X509_EXTENSION_num(exts) && rc == 0; i++) {
		X509_EXTENSION *ext = sk_X509_EXTENSION_value(exts, i);

		if (OBJ_obj2nid(X509_EXTENSION_get_object(ext)) != NID_subject_alt_name)
			continue;
		names = X509V3_EXT_d2i(ext);
		if (names == NULL) {
			answer_err(a, SIGNER_REFUSED, "the CSR's subjectAltName request does not parse");
			rc = -1;
			break;
		}
		for (int k = 0; k < sk_GENERAL_NAME_num(names) && rc == 0; k++) {
			GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, k);
			const unsigned char *s = NULL;
			int len = 0;

			if (gn->type == GEN_EMAIL) {
				s = ASN1_STRING_get0_data(gn->d.rfc822Name);
				len = ASN1_STRING_length(gn->d.rfc822Name);
			} else if (gn->type == GEN_OTHERNAME &&
			    OBJ_obj2nid(gn->d.otherName->type_id) == NID_id_on_SmtpUTF8Mailbox &&
			    gn->d.otherName->value->type == V_ASN1_UTF8STRING) {
				s = ASN1_STRING_get0_data(gn->d.otherName->value->value.utf8string);
				len = ASN1_STRING_length(gn->d.otherName->value->value.utf8string);
			} else {
				answer_err(a, SIGNER_REFUSED, "the CSR asks for a %s in the "
				    "subjectAltName; this signer certifies mailboxes only",
				    general_name_kind(gn->type));
				rc = -1;
				break;
			}
			if (!is_requested(q, (const char *)s, (size_t)len)) {
				answer_err(a, SIGNER_REFUSED, "the CSR asks for the address %.*s, which "
				    "the request does not name", len > 254 ? 254 : len, s);
				rc = -1;
			}
		}
		GENERAL_NAMES_free(names);
		names = NULL;
	}
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	return rc;
}

/* The policy's verdict on the request: 0 allowed, -1 refused (a says why). */
static int
enforce(const struct policy *pol, const struct policy_ca *p, const struct cert_req *q,
    struct answer *a)
{
	const char *where = pol->origin;

	static const char *const key_names[] = KEY_TYPE_NAMES;
	const char *kt;
	char limit[32];
	int k;

	if (q->not_before != 0) {
		time_t now = time(NULL);
		int64_t off = (int64_t)q->not_before - (int64_t)now;
		char asked[32];

		if (off < -CLOCK_SLACK || off > CLOCK_SLACK) {
			format_time_utc((time_t)q->not_before, asked, sizeof(asked));
			answer_err(a, SIGNER_REFUSED, "the request asks for notBefore %s; the signer "
			    "dates every certificate by its own clock and backdates or postdates "
			    "none", asked);
			return -1;
		}
	}
	if (q->n_alts + 1 > MAX_ADDRESSES) {
		answer_err(a, SIGNER_REFUSED, "%u addresses in one certificate; at most %d",
		    q->n_alts + 1, MAX_ADDRESSES);
		return -1;
	}
	for (uint32_t i = 0; i <= q->n_alts; i++) {
		const char *addr = i == 0 ? q->mail : q->alts[i - 1];
		struct errbuf e;

		if (mailaddr_check(addr, MAILADDR_UTF8_LOCAL | MAILADDR_DOTTED, &e) != 0) {
			answer_err(a, SIGNER_REFUSED, "\"%.254s\" is not a mailbox address (%s); the "
			    "signer certifies nothing else", addr, e.text);
			return -1;
		}
		if (!domain_allowed(p, addr)) {
			answer_err(a, SIGNER_REFUSED, "%s is outside the mail domains [ca %s] may "
			    "certify; if it should, add its domain to mail_domains in %s", addr,
			    p->name, where);
			return -1;
		}
	}
	if (check_csr_sans(q, a) != 0)
		return -1;
	if (q->profile > PROFILE_ORGANIZATION_MULTIPURPOSE ||
	    (p->profiles & (1u << q->profile)) == 0) {
		answer_err(a, SIGNER_REFUSED, "profile %s is not one [ca %s] may sign (profiles in "
		    "%s)", cert_profile_name((enum cert_profile)q->profile), p->name, where);
		return -1;
	}
	if (cert_profile_is_organization((enum cert_profile)q->profile)) {
		if (!listed(p->organizations, p->n_organizations, q->organization)) {
			answer_err(a, SIGNER_REFUSED, "O=\"%.200s\" is not an organization [ca %s] may "
			    "certify (organization in %s)",
			    q->organization != NULL ? q->organization : "", p->name, where);
			return -1;
		}
		if (!listed(p->organization_ids, p->n_organization_ids, q->organization_id)) {
			answer_err(a, SIGNER_REFUSED, "organizationIdentifier \"%.200s\" is not one "
			    "[ca %s] may certify (organization_identifier in %s)",
			    q->organization_id != NULL ? q->organization_id : "", p->name, where);
			return -1;
		}
	} else if (q->organization != NULL || q->organization_id != NULL || q->country != NULL) {
		answer_err(a, SIGNER_REFUSED, "a %s certificate names no organization; the request "
		    "gives O, organizationIdentifier or C",
		    cert_profile_name((enum cert_profile)q->profile));
		return -1;
	}
	kt = key_describe(X509_REQ_get0_pubkey(q->csr));
	for (k = 0; key_names[k] != NULL; k++)
		if (strcmp(key_names[k], kt) == 0)
			break;
	if (key_names[k] == NULL || (p->key_types & (1u << k)) == 0) {
		answer_err(a, SIGNER_REFUSED, "a %s key is not one [ca %s] may certify (key_types in "
		    "%s)", kt, p->name, where);
		return -1;
	}
	if (q->validity <= 0 || q->validity > p->max_validity) {
		format_duration(p->max_validity, limit, sizeof(limit));
		answer_err(a, SIGNER_REFUSED, "a validity of %lld seconds is outside what [ca %s] may "
		    "sign (1 second to max_validity = %s in %s)", (long long)q->validity, p->name,
		    limit, where);
		return -1;
	}
	return 0;
}

static void
log_refusal(struct sctx *c, struct sconn *conn, const struct cert_req *q, const char *ca_name,
    struct answer *a)
{
	struct answer la;
	json_t *ev = sctx_event("refused", q->requester, conn);

	memset(&la, 0, sizeof(la));
	if (json_object_set_new(ev, "request", sctx_str("certificate")) != 0 ||
	    json_object_set_new(ev, "ca", sctx_str(q->ca)) != 0 ||
	    json_object_set_new(ev, "ca_name", sctx_str(ca_name)) != 0 ||
	    json_object_set_new(ev, "mail", sctx_str(q->mail)) != 0 ||
	    json_object_set_new(ev, "reason", sctx_str(a->e.text)) != 0)
		fatal("out of memory");
	log_warn("refused a certificate for %s from %s: %s", q->mail,
	    q->requester != NULL ? q->requester : "an unnamed requester", a->e.text);
	if (sctx_lock(c, &la) != 0) {
		json_decref(ev);
		return;
	}
	if (sctx_log(c, ev, &la) != 0)
		log_error("%s", la.e.text);
	sctx_unlock(c);
}

/* Under the lock: is there room in this hour? If not, a BUSY answer (and an alarm once). */
static int
rate_ok(struct sctx *c, struct answer *a)
{
	time_t now = time(NULL), oldest = now;
	size_t n = times_recent(&c->st.certificates, now, HOUR, &oldest);
	int64_t wait;
	char until[32];

	if ((int64_t)n < c->pol->max_per_hour)
		return 0;
	wait = (int64_t)(oldest + HOUR - now);
	if (wait < 1)
		wait = 1;
	format_time_utc(now + (time_t)wait, until, sizeof(until));
	if (c->st.last_alarm < oldest || c->st.last_alarm > now) {
		struct answer la;
		json_t *ev = sctx_event("alarm", NULL, NULL);
		char *what = xasprintf("%zu certificates signed in the last hour reach "
		    "max_certificates_per_hour (%lld) of %s: no more until %s", n,
		    (long long)c->pol->max_per_hour, c->pol->origin, until);

		memset(&la, 0, sizeof(la));
		log_error("ALARM: %s; if this was not planned, smimesync may be compromised", what);
		if (json_object_set_new(ev, "what", sctx_str(what)) != 0)
			fatal("out of memory");
		if (sctx_log(c, ev, &la) != 0)
			log_error("%s", la.e.text);
		free(what);
	}
	a->status = SIGNER_BUSY;
	a->retry_after = (uint64_t)wait;
	snprintf(a->e.text, sizeof(a->e.text), "the hourly limit of %lld certificates "
	    "(max_certificates_per_hour) is reached; the next one can be signed after %s",
	    (long long)c->pol->max_per_hour, until);
	return -1;
}

static json_t *
cert_event(const struct held_ca *h, const struct cert_req *q, X509 *leaf, EVP_PKEY *pub,
    struct sconn *conn)
{
	json_t *ev = sctx_event("certificate", q->requester, conn);
	json_t *sans = json_array();
	struct cert_info ci;
	struct errbuf e;
	char nb[32], na[32];
	char *key = spki_hash(pub);

	memset(&ci, 0, sizeof(ci));
	if (sans == NULL || cert_info_get(leaf, &ci, &e) != 0)
		fatal("cannot describe a certificate just signed: %s", e.text);
	if (json_array_append_new(sans, sctx_str(q->mail)) != 0)
		fatal("out of memory");
	for (uint32_t i = 0; i < q->n_alts; i++)
		if (json_array_append_new(sans, sctx_str(q->alts[i])) != 0)
			fatal("out of memory");
	format_time_utc(ci.not_before, nb, sizeof(nb));
	format_time_utc(ci.not_after, na, sizeof(na));
	if (json_object_set_new(ev, "ca", sctx_str(h->id)) != 0 ||
	    json_object_set_new(ev, "ca_name", sctx_str(h->pol->name)) != 0 ||
	    json_object_set_new(ev, "serial", sctx_str(ci.serial)) != 0 ||
	    json_object_set_new(ev, "subject", sctx_str(ci.subject)) != 0 ||
	    json_object_set_new(ev, "sans", sans) != 0 ||
	    json_object_set_new(ev, "profile",
	    sctx_str(cert_profile_name((enum cert_profile)q->profile))) != 0 ||
	    json_object_set_new(ev, "key_type", sctx_str(key_describe(pub))) != 0 ||
	    json_object_set_new(ev, "key", sctx_str(key != NULL ? key : "")) != 0 ||
	    json_object_set_new(ev, "not_before", sctx_str(nb)) != 0 ||
	    json_object_set_new(ev, "not_after", sctx_str(na)) != 0 ||
	    json_object_set_new(ev, "fingerprint", sctx_str(ci.fingerprint)) != 0)
		fatal("out of memory");
	free(key);
	cert_info_clear(&ci);
	return ev;
}

void
op_sign_cert(struct sctx *c, struct sconn *conn, struct sp_reader *r, struct buf *res,
    struct answer *a)
{
	struct cert_req q;
	struct ca_request req;
	struct ca_result out;
	struct held_ca *h;
	unsigned char *der = NULL;
	size_t der_len = 0;
	enum ca_outcome oc;
	bool locked = false;

	memset(&out, 0, sizeof(out));
	if (read_req(r, &q) != 0) {
		answer_err(a, SIGNER_ERR, "malformed certificate request");
		goto out;
	}
	if ((h = sctx_find_ca(c, q.ca, a)) == NULL)
		goto out;
	if (enforce(c->pol, h->pol, &q, a) != 0) {
		log_refusal(c, conn, &q, h->pol->name, a);
		goto out;
	}
	memset(&req, 0, sizeof(req));
	req.mail = q.mail;
	req.alt_mails = (const char *const *)q.alts;
	req.n_alt_mails = q.n_alts;
	req.validity = q.validity;
	req.profile = (enum cert_profile)q.profile;
	req.organization = q.organization;
	req.organization_identifier = q.organization_id;
	req.country = q.country;
	if (sctx_lock(c, a) != 0)
		goto out;
	locked = true;
	if (rate_ok(c, a) != 0)
		goto out;
	/* The signer's clock, read now: the request carries none. */
	req.now = time(NULL);
	oc = issuer_sign_leaf(h->issuer, q.csr, &req, &out);
	if (oc == CA_UNREACHABLE) {
		/*
		 * The CA key's token is gone for now (unplugged, HSM restarting)
		 * even after a reconnect: the request stays open and is asked
		 * again after the client's own [ca] retry_interval (no wait of
		 * the signer's: it cannot know when the token is back).
		 */
		answer_err(a, SIGNER_BUSY, "%s", out.reason);
		a->retry_after = 0;
		goto out;
	}
	if (oc != CA_ISSUED) {
		answer_err(a, oc == CA_REJECTED ? SIGNER_REFUSED : SIGNER_ERR, "%s", out.reason);
		if (oc == CA_REJECTED) {
			sctx_unlock(c);
			locked = false;
			log_refusal(c, conn, &q, h->pol->name, a);
		}
		goto out;
	}
	if (cert_to_der(out.cert, &der, &der_len, &a->e) != 0) {
		a->status = SIGNER_ERR;
		goto out;
	}
	/* Logged first: a certificate the log does not know never leaves. */
	if (sctx_log(c, cert_event(h, &q, out.cert, X509_REQ_get0_pubkey(q.csr), conn), a) != 0)
		goto out;
	sp_put_bytes(res, der, der_len);
out:
	if (locked)
		sctx_unlock(c);
	free(der);
	ca_result_clear(&out);
	cert_req_clear(&q);
}
