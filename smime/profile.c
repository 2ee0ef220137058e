/* SPDX-License-Identifier: ISC */
/*
 * The leaf profiles of the local CA: CA/B Forum S/MIME Baseline
 * Requirements, mailbox- and organization-validated, Strict and
 * Multipurpose generations (7.1.2.3, 7.1.4.2, 7.1.6.1).
 *
 * A mailbox subject holds only CN = the primary mail (omitted when the
 * address is longer than a CN may be; the SAN is then critical, RFC 5280
 * 4.2.1.6). An organization subject adds O, organizationIdentifier and
 * optionally C; the CN stays the mailbox, which 7.1.4.2.2 a allows. Strict
 * allows only emailProtection in the EKU; Multipurpose adds clientAuth,
 * the one other purpose the BR keep allowing after July 2027. Key usage is
 * the same for both (dual use). Every mailbox goes in the SAN: rfc822Name when all-ASCII, an
 * id-on-SmtpUTF8Mailbox otherName (RFC 9598) when the local part is not.
 * Non-ASCII domains would need IDNA A-label conversion for rfc822Name and
 * IDNA2008 validation of U-labels for SmtpUTF8Mailbox; we do neither, so
 * such addresses are rejected with a reason that says what to do.
 *
 * Sponsor- and individual-validated profiles need verified personal names,
 * which a directory does not vouch for; they are not offered.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "common/mailaddr.h"
#include "common/strutil.h"
#include "smime/smime_internal.h"

#define POLICY_MAILBOX_STRICT "2.23.140.1.5.1.3"
#define POLICY_MAILBOX_MULTIPURPOSE "2.23.140.1.5.1.2"
#define POLICY_ORGANIZATION_STRICT "2.23.140.1.5.2.3"
#define POLICY_ORGANIZATION_MULTIPURPOSE "2.23.140.1.5.2.2"
/* RFC 5280 ub-organization-name, ub-organization-identifier (X.520). */
#define ORG_MAX_CHARS 64
#define OID_SMTP_UTF8_MAILBOX "1.3.6.1.5.5.7.8.9"

enum ca_outcome
profile_check_key(EVP_PKEY *key, struct errbuf *e)
{
	char group[64];
	size_t glen = 0;
	int bits;

	if (key == NULL) {
		err_set(e, "the CSR holds no public key");
		return CA_REJECTED;
	}
	bits = EVP_PKEY_get_bits(key);
	switch (EVP_PKEY_get_base_id(key)) {
	case EVP_PKEY_RSA:
		/* SBR 6.1.5: modulus >= 2048 bits and divisible by 8. */
		if (bits >= 2048 && bits % 8 == 0)
			return CA_ISSUED;
		err_set(e, "RSA key of %d bits: the S/MIME profile needs at least 2048 bits, "
		    "a multiple of 8", bits);
		return CA_REJECTED;
	case EVP_PKEY_EC:
		if (EVP_PKEY_get_group_name(key, group, sizeof(group), &glen) == 1 &&
		    (strcmp(group, "prime256v1") == 0 || strcmp(group, "secp384r1") == 0 ||
		    strcmp(group, "secp521r1") == 0))
			return CA_ISSUED;
		err_set(e, "EC key on curve %s: the S/MIME profile allows only P-256, P-384 "
		    "and P-521", glen > 0 ? group : "(unknown)");
		return CA_REJECTED;
	default:
		err_set(e, "%s key: the local CA issues for RSA and EC keys only",
		    EVP_PKEY_get0_type_name(key) ? EVP_PKEY_get0_type_name(key) : "unknown");
		return CA_REJECTED;
	}
}

/*
 * Check one mailbox by the one address rule (common/mailaddr.h), as the
 * directory reads addresses: a UTF-8 local part is certified as an
 * SmtpUTF8Mailbox, the domain is ASCII with a dot. Sets *ascii_local when
 * the local part is plain ASCII (rfc822Name).
 */
static enum ca_outcome
mail_check(const char *mail, int *ascii_local, struct errbuf *e)
{
	const char *at = NULL;
	size_t len;

	if (mail == NULL || mail[0] == '\0') {
		err_set(e, "empty mail address");
		return CA_REJECTED;
	}
	len = strlen(mail);
	if (len > MAILADDR_MAX || !str_is_utf8(mail, len)) {
		err_set(e, "mail address \"%.80s\" is longer than %d bytes or not UTF-8",
		    mail, MAILADDR_MAX);
		return CA_REJECTED;
	}
	at = strrchr(mail, '@');
	for (const char *p = at != NULL ? at + 1 : mail + len; *p != '\0'; p++) {
		if ((unsigned char)*p >= 0x80) {
			err_set(e, "mail address \"%s\" has a non-ASCII domain: IDNA is not "
			    "implemented; store the domain in its xn-- (A-label) form in the "
			    "directory", mail);
			return CA_REJECTED;
		}
	}
	if (!mailaddr_valid(mail, len, MAILADDR_UTF8_LOCAL | MAILADDR_DOTTED)) {
		err_set(e, "\"%s\" is not a mail address the S/MIME profile takes: a dot-atom "
		    "local part (ASCII or UTF-8), one @ and a domain name with a dot", mail);
		return CA_REJECTED;
	}
	*ascii_local = 1;
	for (const char *p = mail; p < at; p++)
		if ((unsigned char)*p >= 0x80)
			*ascii_local = 0;
	return CA_ISSUED;
}

/* Append one mailbox to gens as rfc822Name or SmtpUTF8Mailbox. */
static int
add_mailbox(GENERAL_NAMES *gens, const char *mail, int ascii_local, struct errbuf *e)
{
	GENERAL_NAME *gn = NULL;
	ASN1_STRING *s = NULL;
	ASN1_OBJECT *oid = NULL;
	ASN1_TYPE *val = NULL;
	int rc = -1;

	gn = GENERAL_NAME_new();
	if (gn == NULL)
		goto fail;
	if (ascii_local) {
		s = ASN1_IA5STRING_new();
		if (s == NULL || ASN1_STRING_set(s, mail, (int)strlen(mail)) != 1)
			goto fail;
		GENERAL_NAME_set0_value(gn, GEN_EMAIL, s);
		s = NULL;
	} else {
		s = ASN1_UTF8STRING_new();
		oid = OBJ_txt2obj(OID_SMTP_UTF8_MAILBOX, 1);
		val = ASN1_TYPE_new();
		if (s == NULL || oid == NULL || val == NULL ||
		    ASN1_STRING_set(s, mail, (int)strlen(mail)) != 1)
			goto fail;
		ASN1_TYPE_set(val, V_ASN1_UTF8STRING, s);
		s = NULL;
		if (GENERAL_NAME_set0_othername(gn, oid, val) != 1)
			goto fail;
		oid = NULL;
		val = NULL;
	}
	if (sk_GENERAL_NAME_push(gens, gn) == 0)
		goto fail;
	gn = NULL;
	rc = 0;
	goto out;
fail:
	err_set(e, "cannot put %s in the subjectAltName", mail);
	err_add_openssl(e);
out:
	ASN1_STRING_free(s);
	ASN1_OBJECT_free(oid);
	ASN1_TYPE_free(val);
	GENERAL_NAME_free(gn);
	return rc;
}

static int
already_listed(const struct leaf_params *p, size_t upto, const char *mail)
{
	if (str_eq_nocase(p->mail, mail))
		return 1;
	for (size_t i = 0; i < upto; i++) {
		if (p->alt_mails[i] != NULL && str_eq_nocase(p->alt_mails[i], mail))
			return 1;
	}
	return 0;
}

/* Own copies of the conf/ helpers: smime/ links without conf/. */
static bool
is_organization(enum cert_profile p)
{
	return p == PROFILE_ORGANIZATION_STRICT || p == PROFILE_ORGANIZATION_MULTIPURPOSE;
}

static const char *
profile_name(enum cert_profile p)
{
	switch (p) {
	case PROFILE_MAILBOX_STRICT:
		return "mailbox-strict";
	case PROFILE_MAILBOX_MULTIPURPOSE:
		return "mailbox-multipurpose";
	case PROFILE_ORGANIZATION_STRICT:
		return "organization-strict";
	case PROFILE_ORGANIZATION_MULTIPURPOSE:
		return "organization-multipurpose";
	}
	return "unknown";
}

const char *
profile_policy_oid(enum cert_profile profile)
{
	switch (profile) {
	case PROFILE_MAILBOX_STRICT:
		return POLICY_MAILBOX_STRICT;
	case PROFILE_MAILBOX_MULTIPURPOSE:
		return POLICY_MAILBOX_MULTIPURPOSE;
	case PROFILE_ORGANIZATION_STRICT:
		return POLICY_ORGANIZATION_STRICT;
	case PROFILE_ORGANIZATION_MULTIPURPOSE:
		return POLICY_ORGANIZATION_MULTIPURPOSE;
	}
	return NULL;
}

static bool
profile_multipurpose(enum cert_profile p)
{
	return p == PROFILE_MAILBOX_MULTIPURPOSE || p == PROFILE_ORGANIZATION_MULTIPURPOSE;
}

int
profile_issuing_extensions(X509 *x, X509 *issuer, unsigned profiles, struct errbuf *e)
{
	const char *oids[PROFILE_ORGANIZATION_MULTIPURPOSE + 1];
	size_t n = 0;
	bool client_auth = false;

	for (int p = PROFILE_MAILBOX_STRICT; p <= PROFILE_ORGANIZATION_MULTIPURPOSE; p++) {
		if ((profiles & CERT_PROFILE_BIT(p)) == 0)
			continue;
		oids[n++] = profile_policy_oid((enum cert_profile)p);
		if (profile_multipurpose((enum cert_profile)p))
			client_auth = true;
	}
	if (n == 0) {
		err_set(e, "no certificate profile given for the issuing CA");
		return -1;
	}
	if (smime_add_ext_conf(x, issuer, NID_ext_key_usage,
	    client_auth ? "emailProtection,clientAuth" : "emailProtection", e) != 0)
		return -1;
	return smime_add_policies(x, oids, n, e);
}

int
profile_issuer_allows(X509 *issuing, enum cert_profile p, struct errbuf *e)
{
	CERTIFICATEPOLICIES *pols = NULL;
	EXTENDED_KEY_USAGE *eku = NULL;
	const char *oid = profile_policy_oid(p);
	bool policy_ok = false;
	bool email_ok = true;
	bool client_ok = true;
	char want[96];
	int crit = 0;
	int rc = -1;

	pols = X509_get_ext_d2i(issuing, NID_certificate_policies, &crit, NULL);
	for (int i = 0; pols != NULL && i < sk_POLICYINFO_num(pols) && !policy_ok; i++) {
		const ASN1_OBJECT *id = sk_POLICYINFO_value(pols, i)->policyid;
		char txt[80];

		if (OBJ_obj2nid(id) == NID_any_policy)
			policy_ok = true;
		else if (OBJ_obj2txt(txt, sizeof(txt), id, 1) > 0 && strcmp(txt, oid) == 0)
			policy_ok = true;
	}
	/* No EKU in a CA certificate restricts nothing; anyExtendedKeyUsage neither. */
	eku = X509_get_ext_d2i(issuing, NID_ext_key_usage, &crit, NULL);
	if (eku != NULL) {
		bool any = false, email = false, client = false;

		for (int i = 0; i < sk_ASN1_OBJECT_num(eku); i++) {
			int nid = OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, i));

			any = any || nid == NID_anyExtendedKeyUsage;
			email = email || nid == NID_email_protect;
			client = client || nid == NID_client_auth;
		}
		email_ok = any || email;
		client_ok = any || client || !profile_multipurpose(p);
	}
	ERR_clear_error();
	if (policy_ok && email_ok && client_ok) {
		rc = 0;
		goto out;
	}
	want[0] = '\0';
	if (!policy_ok)
		snprintf(want, sizeof(want), "the certificatePolicies OID %s", oid);
	err_set(e, "the issuing CA certificate lacks %s%s%s%s%s, which %s certificates claim",
	    want, !policy_ok && !email_ok ? " and " : "",
	    email_ok ? "" : "the emailProtection EKU",
	    (!policy_ok || !email_ok) && !client_ok ? " and " : "",
	    client_ok ? "" : "the clientAuth EKU", cert_profile_name(p));
out:
	CERTIFICATEPOLICIES_free(pols);
	EXTENDED_KEY_USAGE_free(eku);
	return rc;
}

/* A subject attribute value from the configuration: no metadata-only values. */
static enum ca_outcome
org_value_check(const char *what, const char *v, size_t max, struct errbuf *e)
{
	size_t len;

	if (v == NULL || v[0] == '\0') {
		err_set(e, "the %s is missing: organization-* profiles need it in the subject; set "
		    "it in the group's configuration", what);
		return CA_MISCONFIGURED;
	}
	len = strlen(v);
	if (!str_is_utf8(v, len) || smime_utf8_chars(v) > max ||
	    strspn(v, " .-") == len) {
		err_set(e, "the %s \"%.80s\" is not a usable subject value (UTF-8, at most %zu "
		    "characters, not only dots, dashes or spaces)", what, v, max);
		return CA_MISCONFIGURED;
	}
	for (const char *q = v; *q != '\0'; q++) {
		if ((unsigned char)*q < 0x20 || *q == 0x7f) {
			err_set(e, "the %s has a control character", what);
			return CA_MISCONFIGURED;
		}
	}
	return CA_ISSUED;
}

/* The organization attributes, in the order of X.520's hierarchy: C, O, orgId. */
static enum ca_outcome
add_org_subject(X509_NAME *subject, const struct leaf_params *p, struct errbuf *e)
{
	enum ca_outcome rc;

	if ((rc = org_value_check("organization", p->organization, ORG_MAX_CHARS, e)) !=
	    CA_ISSUED ||
	    (rc = org_value_check("organization_identifier", p->organization_identifier,
	    ORG_MAX_CHARS, e)) != CA_ISSUED)
		return rc;
	if (p->country != NULL && (strlen(p->country) != 2 ||
	    p->country[0] < 'A' || p->country[0] > 'Z' || p->country[1] < 'A' ||
	    p->country[1] > 'Z')) {
		err_set(e, "the country \"%.20s\" is not two capital letters (ISO 3166)",
		    p->country);
		return CA_MISCONFIGURED;
	}
	if (p->country != NULL && smime_name_add(subject, "C", p->country, e) != 0)
		return CA_MISCONFIGURED;
	if (smime_name_add(subject, "O", p->organization, e) != 0 ||
	    smime_name_add(subject, "organizationIdentifier", p->organization_identifier,
	    e) != 0)
		return CA_MISCONFIGURED;
	return CA_ISSUED;
}

enum ca_outcome
profile_mailbox_strict(X509 *leaf, X509 *issuer, const struct leaf_params *p, struct errbuf *e)
{
	struct leaf_params strict = *p;

	strict.profile = PROFILE_MAILBOX_STRICT;
	strict.organization = NULL;
	strict.organization_identifier = NULL;
	strict.country = NULL;
	return profile_leaf(leaf, issuer, &strict, e);
}

enum ca_outcome
profile_leaf(X509 *leaf, X509 *issuer, const struct leaf_params *p, struct errbuf *e)
{
	X509_NAME *subject = NULL;
	GENERAL_NAMES *gens = NULL;
	EVP_PKEY *pub = X509_get0_pubkey(leaf);
	enum ca_outcome rc = CA_MISCONFIGURED;
	int ascii_local = 1;
	int empty_subject;
	const char *ku;
	const char *policy = profile_policy_oid(p->profile);
	const bool org = is_organization(p->profile);
	const bool multipurpose = p->profile == PROFILE_MAILBOX_MULTIPURPOSE ||
	    p->profile == PROFILE_ORGANIZATION_MULTIPURPOSE;

	if (policy == NULL) {
		err_set(e, "unknown certificate profile %d", (int)p->profile);
		return CA_MISCONFIGURED;
	}
	if (!org && (p->organization != NULL || p->organization_identifier != NULL ||
	    p->country != NULL)) {
		err_set(e, "the %s profile allows no organization attributes in the subject; "
		    "choose an organization-* profile or drop organization, "
		    "organization_identifier and country", profile_name(p->profile));
		return CA_MISCONFIGURED;
	}

	/* Check every address before building anything: bad input is REJECTED. */
	if ((rc = mail_check(p->mail, &ascii_local, e)) != CA_ISSUED)
		goto out;
	for (size_t i = 0; i < p->n_alt_mails; i++) {
		int dummy;

		if (p->alt_mails[i] == NULL)
			continue;
		if ((rc = mail_check(p->alt_mails[i], &dummy, e)) != CA_ISSUED) {
			err_prefix(e, "alternative address");
			goto out;
		}
	}
	rc = CA_MISCONFIGURED;

	subject = X509_NAME_new();
	if (subject == NULL) {
		err_set(e, "cannot make a subject name");
		err_add_openssl(e);
		goto out;
	}
	if (org && (rc = add_org_subject(subject, p, e)) != CA_ISSUED)
		goto out;
	rc = CA_MISCONFIGURED;
	/* The SAN is critical only when the subject is empty (RFC 5280 4.2.1.6). */
	empty_subject = smime_utf8_chars(p->mail) > SMIME_CN_MAX_CHARS && !org;
	if (smime_utf8_chars(p->mail) <= SMIME_CN_MAX_CHARS &&
	    smime_name_add(subject, "CN", p->mail, e) != 0)
		goto out;
	if (X509_set_subject_name(leaf, subject) != 1) {
		err_set(e, "cannot set the subject name");
		err_add_openssl(e);
		goto out;
	}

	gens = GENERAL_NAMES_new();
	if (gens == NULL || add_mailbox(gens, p->mail, ascii_local, e) != 0)
		goto out;
	for (size_t i = 0; i < p->n_alt_mails; i++) {
		const char *m = p->alt_mails[i];

		if (m == NULL || already_listed(p, i, m))
			continue;
		(void)mail_check(m, &ascii_local, NULL);
		if (add_mailbox(gens, m, ascii_local, e) != 0)
			goto out;
	}

	/* SBR 7.1.2.3 e: dual use, by key type; no other bits. */
	if (EVP_PKEY_get_base_id(pub) == EVP_PKEY_RSA)
		ku = "critical,digitalSignature,keyEncipherment";
	else
		ku = "critical,digitalSignature,keyAgreement";

	if (smime_add_ext_conf(leaf, issuer, NID_basic_constraints, "critical,CA:FALSE", e) != 0 ||
	    smime_add_ext_conf(leaf, issuer, NID_key_usage, ku, e) != 0 ||
	    smime_add_ext_conf(leaf, issuer, NID_ext_key_usage,
	    multipurpose ? "emailProtection,clientAuth" : "emailProtection", e) != 0)
		goto out;
	if (X509_add1_ext_i2d(leaf, NID_subject_alt_name, gens, empty_subject,
	    X509V3_ADD_DEFAULT) != 1) {
		err_set(e, "cannot add the subjectAltName");
		err_add_openssl(e);
		goto out;
	}
	if (smime_add_policy(leaf, policy, e) != 0)
		goto out;
	if (p->crl_url != NULL && smime_add_crl_dp(leaf, p->crl_url, e) != 0)
		goto out;
	if (p->aia_url != NULL && smime_add_aia_ca_issuers(leaf, p->aia_url, e) != 0)
		goto out;
	/* "keyid:always" yields the key identifier only, as SBR 7.1.2.3 g asks. */
	if (smime_add_ext_conf(leaf, issuer, NID_subject_key_identifier, "hash", e) != 0 ||
	    smime_add_ext_conf(leaf, issuer, NID_authority_key_identifier, "keyid:always",
	    e) != 0)
		goto out;
	rc = CA_ISSUED;
out:
	GENERAL_NAMES_free(gens);
	X509_NAME_free(subject);
	return rc;
}
