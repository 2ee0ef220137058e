/* SPDX-License-Identifier: ISC */
/*
 * Is what an external CA issued what we asked for, and does it chain to
 * a root we trust? Nothing from outside is stored, published or mailed
 * before this says yes. Refused, with the reason reported like any CA
 * rejection:
 *   - a different key than the request's;
 *   - a SAN entry that is not a requested mailbox (rfc822Name or
 *     SmtpUTF8Mailbox): a UPN, DNS name, URI, IP address, directoryName
 *     or other otherName could log the person on to Windows, a web server
 *     or a VPN that trusts the same CA; and a subject emailAddress that
 *     was not requested;
 *   - no keyUsage, or a bit beyond the S/MIME BR table for the key type
 *     (keyCertSign and cRLSign always);
 *   - basicConstraints CA:TRUE or any pathLenConstraint;
 *   - no emailProtection; for a strict profile any other extendedKeyUsage;
 *     for a multipurpose one serverAuth, codeSigning, timeStamping,
 *     OCSPSigning or anyExtendedKeyUsage;
 *   - a validity longer than the group's plus a day (CAs round up and
 *     backdate), and never beyond the BR's 825 days;
 *   - certificatePolicies naming a CA/B Forum S/MIME policy of another
 *     profile, or not the requested one (a certificate without the
 *     extension makes no claim and passes: many private CAs omit it);
 *   - a chain that does not verify against trust_anchor_file.
 */
#include "config.h"

#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "common/log.h"
#include "smime/ca_backend.h"
#include "smime/smime_internal.h"

/*
 * Addresses compare without regard to case, as everywhere in smimesync: a
 * CA that lower-cases "Ada.Lovelace@" still names the same mailbox.
 */
static bool
same_addr(const char *want, const char *addr, size_t len)
{
	return strlen(want) == len && strncasecmp(want, addr, len) == 0;
}

static bool
requested(const struct ca_request *req, const char *addr, size_t len)
{
	if (same_addr(req->mail, addr, len))
		return true;
	for (size_t i = 0; req->alt_mails != NULL && i < req->n_alt_mails; i++)
		if (same_addr(req->alt_mails[i], addr, len))
			return true;
	return false;
}

/*
 * The mailbox a SAN entry names: an rfc822Name, or the SmtpUTF8Mailbox
 * otherName (RFC 9598) a CA uses for a non-ASCII local part. NULL for
 * anything else. Borrowed from g.
 */
static const unsigned char *
san_mailbox(const GENERAL_NAME *g, int *len)
{
	const ASN1_TYPE *v;

	if (g->type == GEN_EMAIL) {
		*len = ASN1_STRING_length(g->d.rfc822Name);
		return ASN1_STRING_get0_data(g->d.rfc822Name);
	}
	if (g->type != GEN_OTHERNAME || OBJ_obj2nid(g->d.otherName->type_id) !=
	    NID_id_on_SmtpUTF8Mailbox)
		return NULL;
	v = g->d.otherName->value;
	if (v == NULL || v->type != V_ASN1_UTF8STRING)
		return NULL;
	*len = ASN1_STRING_length(v->value.utf8string);
	return ASN1_STRING_get0_data(v->value.utf8string);
}

/* Does the SAN name want? */
static bool
san_has(const GENERAL_NAMES *gens, const char *want)
{
	for (int i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		const unsigned char *d;
		int n = 0;

		d = san_mailbox(sk_GENERAL_NAME_value(gens, i), &n);
		if (d != NULL && same_addr(want, (const char *)d, (size_t)n))
			return true;
	}
	return false;
}

/* A SAN entry we never ask for, in words an operator can act on. */
static void
describe_foreign(const GENERAL_NAME *g, char *buf, size_t size)
{
	const ASN1_STRING *str = NULL;
	const char *kind = "an entry";
	char oid[80];

	switch (g->type) {
	case GEN_OTHERNAME:
		if (OBJ_obj2nid(g->d.otherName->type_id) == NID_ms_upn) {
			kind = "a Windows logon name (UPN otherName)";
			if (g->d.otherName->value != NULL &&
			    g->d.otherName->value->type == V_ASN1_UTF8STRING)
				str = g->d.otherName->value->value.utf8string;
		} else {
			OBJ_obj2txt(oid, sizeof(oid), g->d.otherName->type_id, 1);
			snprintf(buf, size, "an otherName of type %s", oid);
			return;
		}
		break;
	case GEN_EMAIL:
		kind = "an rfc822Name";
		str = g->d.rfc822Name;
		break;
	case GEN_DNS:
		kind = "a DNS name";
		str = g->d.dNSName;
		break;
	case GEN_URI:
		kind = "a URI";
		str = g->d.uniformResourceIdentifier;
		break;
	case GEN_IPADD:
		kind = "an IP address";
		break;
	case GEN_DIRNAME: {
		char name[256];

		X509_NAME_oneline(g->d.directoryName, name, sizeof(name));
		snprintf(buf, size, "a directoryName %s", name);
		return;
	}
	case GEN_RID:
		kind = "a registeredID";
		break;
	case GEN_X400:
		kind = "an X.400 address";
		break;
	case GEN_EDIPARTY:
		kind = "an EDI party name";
		break;
	default:
		break;
	}
	if (str != NULL)
		snprintf(buf, size, "%s %.*s", kind, ASN1_STRING_length(str) > 200 ? 200 :
		    ASN1_STRING_length(str), (const char *)ASN1_STRING_get0_data(str));
	else
		snprintf(buf, size, "%s", kind);
}

/*
 * The SAN must name every requested address and nothing else: no other
 * mailbox, and no name of any other kind. The subject's emailAddress
 * values, which some clients match on too, must be requested addresses.
 */
static int
check_san(X509 *cert, const struct ca_request *req, struct errbuf *e)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	const X509_NAME *subject = X509_get_subject_name(cert);
	char what[400];
	int rc = -1;

	if (gens == NULL) {
		err_set(e, "the certificate has no subjectAltName, so mail clients cannot match "
		    "it to %s", req->mail);
		goto out;
	}
	for (int i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		const unsigned char *d;
		int n = 0;

		d = san_mailbox(g, &n);
		if (d == NULL) {
			describe_foreign(g, what, sizeof(what));
			err_set(e, "its subjectAltName holds %s, which smimesync never requests: "
			    "an S/MIME certificate names mailboxes only (a logon name, host or "
			    "URI in it could authenticate %s elsewhere); check the certificate "
			    "profile at the CA", what, req->mail);
			goto out;
		}
		if (!requested(req, (const char *)d, (size_t)n)) {
			err_set(e, "its subjectAltName holds %.*s, which was not requested (the "
			    "directory vouches only for %s%s)", n, (const char *)d, req->mail,
			    req->n_alt_mails > 0 ? " and its alternative addresses" : "");
			goto out;
		}
	}
	if (!san_has(gens, req->mail)) {
		err_set(e, "its subjectAltName lacks the requested address %s", req->mail);
		goto out;
	}
	for (size_t i = 0; req->alt_mails != NULL && i < req->n_alt_mails; i++) {
		if (!san_has(gens, req->alt_mails[i])) {
			err_set(e, "its subjectAltName lacks the requested address %s",
			    req->alt_mails[i]);
			goto out;
		}
	}
	for (int i = -1; (i = X509_NAME_get_index_by_NID(subject, NID_pkcs9_emailAddress,
	    i)) >= 0;) {
		const ASN1_STRING *v = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i));
		int n = ASN1_STRING_length(v);

		if (!requested(req, (const char *)ASN1_STRING_get0_data(v), (size_t)n)) {
			err_set(e, "its subject emailAddress is %.*s, which was not requested",
			    n > 200 ? 200 : n, (const char *)ASN1_STRING_get0_data(v));
			goto out;
		}
	}
	rc = 0;
out:
	GENERAL_NAMES_free(gens);
	return rc;
}

static bool
is_multipurpose(enum cert_profile p)
{
	return p == PROFILE_MAILBOX_MULTIPURPOSE || p == PROFILE_ORGANIZATION_MULTIPURPOSE;
}

/* Names of keyUsage bits, for the message. */
static void
ku_names(uint32_t bits, char *buf, size_t size)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} names[] = {
		{ KU_DIGITAL_SIGNATURE, "digitalSignature" },
		{ KU_NON_REPUDIATION, "nonRepudiation" },
		{ KU_KEY_ENCIPHERMENT, "keyEncipherment" },
		{ KU_DATA_ENCIPHERMENT, "dataEncipherment" },
		{ KU_KEY_AGREEMENT, "keyAgreement" },
		{ KU_KEY_CERT_SIGN, "keyCertSign" },
		{ KU_CRL_SIGN, "cRLSign" },
		{ KU_ENCIPHER_ONLY, "encipherOnly" },
		{ KU_DECIPHER_ONLY, "decipherOnly" },
	};
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if ((bits & names[i].bit) == 0)
			continue;
		int n = snprintf(buf + off, size - off, "%s%s", off > 0 ? ", " : "",
		    names[i].name);

		if (n < 0 || (size_t)n >= size - off)
			break;
		off += (size_t)n;
	}
}

/*
 * keyUsage present and within the S/MIME BR table (section 7.1.2.3 e) for
 * the key's type; an end-entity certificate that may sign certificates
 * or CRLs is a CA in all but name.
 */
static int
check_key_usage(X509 *cert, const struct ca_request *req, struct errbuf *e)
{
	uint32_t allowed = KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION;
	uint32_t ku, extra;
	char names[160];
	const char *kind = "this";

	switch (EVP_PKEY_get_base_id(X509_get0_pubkey(cert))) {
	case EVP_PKEY_RSA:
		kind = "an RSA";
		allowed |= KU_KEY_ENCIPHERMENT;
		if (is_multipurpose(req->profile))
			allowed |= KU_DATA_ENCIPHERMENT;
		break;
	case EVP_PKEY_EC:
		kind = "an EC";
		allowed |= KU_KEY_AGREEMENT | KU_ENCIPHER_ONLY | KU_DECIPHER_ONLY;
		break;
	default:
		break;
	}
	if ((X509_get_extension_flags(cert) & EXFLAG_KUSAGE) == 0) {
		err_set(e, "it has no keyUsage, so its key could be used for anything, signing "
		    "certificates included; the S/MIME Baseline Requirements make keyUsage "
		    "mandatory: check the certificate profile at the CA");
		return -1;
	}
	ku = X509_get_key_usage(cert);
	extra = ku & ~allowed;
	if (extra != 0) {
		ku_names(extra, names, sizeof(names));
		err_set(e, "its keyUsage allows %s, which %s key of a %s certificate must not "
		    "have; check the certificate profile at the CA", names, kind,
		    cert_profile_name(req->profile));
		return -1;
	}
	return 0;
}

static int
check_basic_constraints(X509 *cert, struct errbuf *e)
{
	if ((X509_get_extension_flags(cert) & EXFLAG_CA) != 0) {
		err_set(e, "it is a CA certificate (basicConstraints CA:TRUE): whoever holds "
		    "the key could issue certificates in the name of your CA's hierarchy");
		return -1;
	}
	if (X509_get_pathlen(cert) != -1) {
		err_set(e, "its basicConstraints carries a pathLenConstraint, which only a CA "
		    "certificate may have");
		return -1;
	}
	return 0;
}

/* Extended key usages a certificate of the profile may carry besides emailProtection. */
static int
check_eku(X509 *cert, const struct ca_request *req, struct errbuf *e)
{
	/* Never in an S/MIME certificate (BR 7.1.2.3 f), OCSPSigning: never outside a responder. */
	static const int forbidden[] = {
		NID_server_auth, NID_code_sign, NID_time_stamp, NID_OCSP_sign,
		NID_anyExtendedKeyUsage,
	};
	EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(cert, NID_ext_key_usage, NULL, NULL);
	bool strict = !is_multipurpose(req->profile);
	bool smime = false;
	char num[80], oid[160];
	int rc = -1;

	/* Missing emailProtection first: it is the likelier mistake and its fix differs. */
	for (int i = 0; eku != NULL && i < sk_ASN1_OBJECT_num(eku); i++)
		smime = smime || OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, i)) == NID_email_protect;
	if (!smime) {
		err_set(e, "its extendedKeyUsage does not allow emailProtection, so mail clients "
		    "would refuse it for S/MIME; check the certificate profile at the CA");
		goto out;
	}
	for (int i = 0; i < sk_ASN1_OBJECT_num(eku); i++) {
		const ASN1_OBJECT *o = sk_ASN1_OBJECT_value(eku, i);
		int nid = OBJ_obj2nid(o);
		bool bad = false;

		if (nid == NID_email_protect)
			continue;
		for (size_t j = 0; j < sizeof(forbidden) / sizeof(forbidden[0]); j++)
			bad = bad || nid == forbidden[j];
		if (!bad && !strict)
			continue;
		OBJ_obj2txt(num, sizeof(num), o, 1);
		if (nid != NID_undef)
			snprintf(oid, sizeof(oid), "%s (%s)", OBJ_nid2sn(nid), num);
		else
			snprintf(oid, sizeof(oid), "%s", num);
		if (bad)
			err_set(e, "its extendedKeyUsage allows %s, which no S/MIME certificate may "
			    "carry; check the certificate profile at the CA", oid);
		else
			err_set(e, "its extendedKeyUsage allows %s besides emailProtection, but the "
			    "group's profile %s allows emailProtection only (use a multipurpose "
			    "profile if this usage is wanted)", oid, cert_profile_name(req->profile));
		goto out;
	}
	rc = 0;
out:
	EXTENDED_KEY_USAGE_free(eku);
	return rc;
}

/* The S/MIME BR's longest subscriber validity (section 6.3.2), in days. */
#define BR_MAX_DAYS 825
/* What a CA may add to the validity asked for: rounding to whole days, backdating. */
#define VALIDITY_GRACE 86400

static int
check_validity(X509 *cert, const struct ca_request *req, struct errbuf *e)
{
	const int64_t br_max = (int64_t)BR_MAX_DAYS * 86400;
	bool by_group = req->validity > 0 && req->validity + VALIDITY_GRACE < br_max;
	int64_t max = by_group ? req->validity + VALIDITY_GRACE : br_max;
	int64_t span;
	int days = 0, secs = 0;

	if (ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(cert),
	    X509_get0_notAfter(cert)) != 1) {
		ERR_clear_error();
		err_set(e, "its validity dates cannot be read");
		return -1;
	}
	span = (int64_t)days * 86400 + secs;
	if (span <= max)
		return 0;
	if (by_group)
		err_set(e, "it is valid for %lld days, longer than the group's validity of %lld "
		    "days (a day of grace allowed); set the CA's certificate term to the group's "
		    "validity, or raise the group's validity", (long long)(span / 86400),
		    (long long)(req->validity / 86400));
	else
		err_set(e, "it is valid for %lld days, longer than the %d days the S/MIME "
		    "Baseline Requirements allow; check the certificate term at the CA",
		    (long long)(span / 86400), BR_MAX_DAYS);
	return -1;
}

/* A CA/B Forum S/MIME policy OID: 2.23.140.1.5.x.y. */
static bool
is_smime_br_policy(const char *oid)
{
	return strncmp(oid, "2.23.140.1.5.", 13) == 0;
}

static int
check_policies(X509 *cert, const struct ca_request *req, struct errbuf *e)
{
	CERTIFICATEPOLICIES *pols = X509_get_ext_d2i(cert, NID_certificate_policies, NULL, NULL);
	const char *want = profile_policy_oid(req->profile);
	bool found = false;
	char oid[80];
	int rc = -1;

	if (pols == NULL) {
		rc = 0;
		goto out;
	}
	for (int i = 0; i < sk_POLICYINFO_num(pols); i++) {
		const POLICYINFO *pi = sk_POLICYINFO_value(pols, i);

		OBJ_obj2txt(oid, sizeof(oid), pi->policyid, 1);
		if (strcmp(oid, want) == 0) {
			found = true;
			continue;
		}
		if (is_smime_br_policy(oid) || OBJ_obj2nid(pi->policyid) == NID_any_policy) {
			err_set(e, "its certificatePolicies names %s, but the group asked for %s "
			    "(%s); check the certificate profile at the CA", oid,
			    cert_profile_name(req->profile), want);
			goto out;
		}
	}
	if (!found) {
		err_set(e, "its certificatePolicies does not name %s, the policy of the "
		    "requested profile %s; check the certificate profile at the CA", want,
		    cert_profile_name(req->profile));
		goto out;
	}
	rc = 0;
out:
	CERTIFICATEPOLICIES_free(pols);
	return rc;
}

static const char *
verify_hint(int err)
{
	switch (err) {
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
		return "; the CA sent no path to trust_anchor_file (add the intermediates to "
		    "chain_file, or check that trust_anchor_file holds this CA's root)";
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
		return "; the chain ends in a root that is not in trust_anchor_file";
	case X509_V_ERR_CERT_NOT_YET_VALID:
	case X509_V_ERR_CERT_HAS_EXPIRED:
		return "; check this machine's clock and the CA's";
	default:
		return "";
	}
}

/* How far ahead of ours a CA's clock may run. */
#define CLOCK_SKEW 600

/* Verify cert at time at (0: now); on success *path is the chain (new). */
static int
verify_at(X509_STORE *anchors, X509 *cert, STACK_OF(X509) *untrusted, time_t at,
    STACK_OF(X509) **path, int *err)
{
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int rc = -1;

	if (ctx == NULL || X509_STORE_CTX_init(ctx, anchors, cert, untrusted) != 1)
		fatal("out of memory");
	if (at != 0)
		X509_STORE_CTX_set_time(ctx, 0, at);
	if (X509_verify_cert(ctx) == 1) {
		if ((*path = X509_STORE_CTX_get1_chain(ctx)) == NULL)
			fatal("out of memory");
		rc = 0;
	} else {
		*err = X509_STORE_CTX_get_error(ctx);
	}
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	return rc;
}

int
ca_verify_issued(X509_STORE *anchors, STACK_OF(X509) *extra, X509_REQ *csr,
    const struct ca_request *req, struct ca_result *out, struct errbuf *e)
{
	STACK_OF(X509) *untrusted = NULL, *path = NULL;
	EVP_PKEY *want = X509_REQ_get0_pubkey(csr);
	X509 *cert = out->cert;
	int err = X509_V_OK;
	int rc = -1;

	if (want == NULL || EVP_PKEY_eq(X509_get0_pubkey(cert), want) != 1) {
		ERR_clear_error();
		err_set(e, "the certificate is for a different public key than the request's");
		return -1;
	}
	if (X509_get_extension_flags(cert) & EXFLAG_INVALID) {
		err_set(e, "one of its extensions cannot be decoded");
		return -1;
	}
	if (check_eku(cert, req, e) != 0 || check_san(cert, req, e) != 0 ||
	    check_key_usage(cert, req, e) != 0 || check_basic_constraints(cert, e) != 0 ||
	    check_validity(cert, req, e) != 0 || check_policies(cert, req, e) != 0)
		return -1;

	/* The chain the CA sent, then chain_file: intermediates, never anchors. */
	if ((untrusted = sk_X509_new_null()) == NULL)
		fatal("out of memory");
	for (int pass = 0; pass < 2; pass++) {
		STACK_OF(X509) *src = pass == 0 ? out->chain : extra;

		for (int i = 0; src != NULL && i < sk_X509_num(src); i++)
			if (!X509_add_cert(untrusted, sk_X509_value(src, i), X509_ADD_FLAG_UP_REF))
				fatal("out of memory");
	}
	/*
	 * At the present time (not the run's start: the CA signed just now). A
	 * CA whose clock runs a little ahead, notBefore up to CLOCK_SKEW in our
	 * future, is checked at its notBefore rather than refused.
	 */
	if (verify_at(anchors, cert, untrusted, 0, &path, &err) != 0) {
		time_t soon = time(NULL) + CLOCK_SKEW;

		if (err != X509_V_ERR_CERT_NOT_YET_VALID ||
		    X509_cmp_time(X509_get0_notBefore(cert), &soon) > 0 ||
		    verify_at(anchors, cert, untrusted, soon, &path, &err) != 0) {
			err_set(e, "its chain does not verify against trust_anchor_file: %s%s",
			    X509_verify_cert_error_string(err), verify_hint(err));
			goto out;
		}
	}
	/* The verified path without the leaf: issuing CA first, the anchor last. */
	X509_free(sk_X509_shift(path));
	sk_X509_pop_free(out->chain, X509_free);
	out->chain = path;
	rc = 0;
out:
	sk_X509_pop_free(untrusted, X509_free);
	return rc;
}
