/* SPDX-License-Identifier: ISC */
/*
 * The leaf profile of the local CA: CA/B Forum S/MIME Baseline
 * Requirements, mailbox-validated, Strict generation (2.23.140.1.5.1.3).
 *
 * The subject holds only CN = the primary mail (omitted when the address
 * is longer than a CN may be; the SAN is then critical, RFC 5280
 * 4.2.1.6). Every mailbox goes in the SAN: rfc822Name when all-ASCII, an
 * id-on-SmtpUTF8Mailbox otherName (RFC 9598) when the local part is not.
 * Non-ASCII domains would need IDNA A-label conversion for rfc822Name and
 * IDNA2008 validation of U-labels for SmtpUTF8Mailbox; we do neither, so
 * such addresses are rejected with a reason that says what to do.
 *
 * Other profiles (organization- or sponsor-validated, multipurpose) belong
 * in files of their own next to this one.
 */
#include "config.h"

#include <string.h>

#include <openssl/x509v3.h>

#include "common/strutil.h"
#include "smime/smime_internal.h"

#define POLICY_MAILBOX_STRICT "2.23.140.1.5.1.3"
#define OID_SMTP_UTF8_MAILBOX "1.3.6.1.5.5.7.8.9"
/* RFC 5321 path limit minus the brackets. */
#define MAIL_MAX 254

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
 * Check one mailbox. Sets *ascii_local when the local part is plain
 * ASCII (rfc822Name) rather than UTF-8 (SmtpUTF8Mailbox).
 */
static enum ca_outcome
mail_check(const char *mail, int *ascii_local, struct errbuf *e)
{
	const char *at;
	size_t len;

	if (mail == NULL || mail[0] == '\0') {
		err_set(e, "empty mail address");
		return CA_REJECTED;
	}
	len = strlen(mail);
	if (len > MAIL_MAX || !str_is_utf8(mail, len)) {
		err_set(e, "mail address \"%.80s\" is longer than %d bytes or not UTF-8",
		    mail, MAIL_MAX);
		return CA_REJECTED;
	}
	at = strrchr(mail, '@');
	if (at == NULL || at == mail || at[1] == '\0') {
		err_set(e, "\"%s\" is not a mail address (local@domain)", mail);
		return CA_REJECTED;
	}
	*ascii_local = 1;
	for (const char *p = mail; p < at; p++) {
		unsigned char c = (unsigned char)*p;

		if (c >= 0x80) {
			*ascii_local = 0;
			continue;
		}
		/* Dot-atom only: quoted local parts are not supported. */
		if (c <= 0x20 || c == 0x7f || strchr("\"(),:;<>@[\\]", c) != NULL) {
			err_set(e, "mail address \"%s\" has a character the S/MIME profile "
			    "does not take in its local part (0x%02x)", mail, c);
			return CA_REJECTED;
		}
	}
	if (mail[0] == '.' || at[-1] == '.' || strstr(mail, "..") != NULL) {
		err_set(e, "mail address \"%s\" has a misplaced dot", mail);
		return CA_REJECTED;
	}
	for (const char *p = at + 1; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (c >= 0x80) {
			err_set(e, "mail address \"%s\" has a non-ASCII domain: IDNA is not "
			    "implemented; store the domain in its xn-- (A-label) form in the "
			    "directory", mail);
			return CA_REJECTED;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.')) {
			err_set(e, "mail address \"%s\" has an invalid domain", mail);
			return CA_REJECTED;
		}
	}
	if (at[1] == '.' || mail[len - 1] == '.') {
		err_set(e, "mail address \"%s\" has an invalid domain", mail);
		return CA_REJECTED;
	}
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

enum ca_outcome
profile_mailbox_strict(X509 *leaf, X509 *issuer, const struct leaf_params *p, struct errbuf *e)
{
	X509_NAME *subject = NULL;
	GENERAL_NAMES *gens = NULL;
	EVP_PKEY *pub = X509_get0_pubkey(leaf);
	enum ca_outcome rc = CA_MISCONFIGURED;
	int ascii_local = 1;
	int empty_subject;
	const char *ku;

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
	empty_subject = smime_utf8_chars(p->mail) > SMIME_CN_MAX_CHARS;
	if (!empty_subject && smime_name_add(subject, "CN", p->mail, e) != 0)
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
	    smime_add_ext_conf(leaf, issuer, NID_ext_key_usage, "emailProtection", e) != 0)
		goto out;
	if (X509_add1_ext_i2d(leaf, NID_subject_alt_name, gens, empty_subject,
	    X509V3_ADD_DEFAULT) != 1) {
		err_set(e, "cannot add the subjectAltName");
		err_add_openssl(e);
		goto out;
	}
	if (smime_add_policy(leaf, POLICY_MAILBOX_STRICT, e) != 0)
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
