/* SPDX-License-Identifier: ISC */
/*
 * Publishing certificates: read the certificate attributes of one entry
 * and change them value by value.
 *
 * OpenLDAP wants userCertificate transferred as "userCertificate;binary"
 * (RFC 4523) and refuses the bare name on writes, Active Directory refuses
 * the option (error 16): the backend's dialect names the attribute.
 * userSMIMECertificate has binary syntax and takes no option. A read
 * accepts either form. Both backends put these two functions in their row.
 *
 * dir_ldap_apply_certs() is idempotent: it reads the current values first and
 * sends only the adds that are missing and the deletes that are present,
 * all in one modify, so the server never answers "value exists" or "no
 * such value" and the entry never shows half a change. If another writer
 * changes the entry between our read and our modify, the server does give
 * one of those answers; we then read again and retry a few times. Values we
 * were not asked to delete (another CA's certificates) are never touched.
 * userSMIMECertificate has no equality rule on OpenLDAP, so a delete there,
 * or an add next to values already present, is sent as a replace with the
 * values that must remain (see smime_replacement). A replace would drop a
 * value another writer added between our read and our modify, so it
 * carries an assertion (RFC 4528) that the entry's entryCSN is still the
 * one we read: if it is not, the server refuses the modify and we read
 * again. Active Directory can match the values (an octet string): there we
 * delete ours and add ours, as for userCertificate, and never replace.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ldap.h>

#include "common/log.h"
#include "common/xalloc.h"
#include "directory/ldap.h"

#define ATTR_SMIME "userSMIMECertificate"
#define APPLY_ATTEMPTS 3

/* The name userCertificate is written (and requested) under: the dialect's. */
static char *
cert_attr(const struct dir_ldap *dl)
{
	return (char *)dl->dialect->cert_attr;
}

/* The first value of attr as text (new), if it is short and printable, else NULL. */
static char *
first_text(struct dir_ldap *dl, LDAPMessage *entry, const char *attr)
{
	struct berval **vals = ldap_get_values_len(dl->ld, entry, attr);
	char *t = NULL;

	if (vals != NULL && vals[0] != NULL && vals[0]->bv_len > 0 && vals[0]->bv_len < 128 &&
	    memchr(vals[0]->bv_val, '\0', vals[0]->bv_len) == NULL)
		t = xstrndup(vals[0]->bv_val, vals[0]->bv_len);
	ldap_value_free_len(vals);
	return t;
}

/* Append copies of the values of attribute attr (not yet present) to *v. */
static enum dir_status
take_values(struct dir_ldap *dl, LDAPMessage *entry, const char *attr, const char *dn,
    struct dir_value **v, size_t *n, struct errbuf *e)
{
	struct berval **vals = ldap_get_values_len(dl->ld, entry, attr);
	enum dir_status st = DIR_OK;

	for (size_t i = 0; vals != NULL && vals[i] != NULL; i++) {
		const struct berval *bv = vals[i];

		if (bv->bv_len == 0 || bv->bv_len > DIR_MAX_CERT_LEN) {
			err_set(e, "%s: %s of %s holds a value of %lu bytes; we accept 1 to %d: "
			    "remove it or fix it by hand", dl->uri, attr, dn,
			    (unsigned long)bv->bv_len, DIR_MAX_CERT_LEN);
			st = DIR_FAILED;
			break;
		}
		if (dir_value_in(*v, *n, bv->bv_val, bv->bv_len))
			continue;
		if (*n >= DIR_MAX_CERT_VALUES) {
			err_set(e, "%s: %s of %s holds more than %d values: clean it up first",
			    dl->uri, attr, dn, DIR_MAX_CERT_VALUES);
			st = DIR_FAILED;
			break;
		}
		*v = xreallocarray(*v, *n + 1, sizeof(**v));
		(*v)[*n].data = xmemdup(bv->bv_val, bv->bv_len);
		(*v)[*n].len = bv->bv_len;
		(*n)++;
	}
	ldap_value_free_len(vals);
	return st;
}

/*
 * The certificate attributes of dn, and with csn not NULL its entryCSN
 * (new; NULL when the server does not show one to us).
 */
static enum dir_status
read_certs(struct dir_ldap *dl, const char *dn, struct dir_cert_values *out, char **csn,
    struct errbuf *e)
{
	char *attrs[] = { cert_attr(dl), ATTR_SMIME, csn != NULL ? "entryCSN" : NULL, NULL };
	LDAPMessage *res = NULL, *entry = NULL;
	BerElement *ber = NULL;
	enum dir_status st;
	char *a;

	memset(out, 0, sizeof(*out));
	st = dir_ldap_read(dl, dn, NULL, attrs, &res, &entry, e);
	if (st != DIR_OK)
		return st;
	if (entry == NULL) {
		err_set(e, "%s: read certificates of %s: the entry does not exist (renamed or "
		    "deleted since the members were read?)", dl->uri, dn);
		return DIR_FAILED;
	}
	for (a = ldap_first_attribute(dl->ld, entry, &ber); a != NULL && st == DIR_OK;
	    a = ldap_next_attribute(dl->ld, entry, ber)) {
		size_t base = strcspn(a, ";");

		if (base == strlen("userCertificate") && strncasecmp(a, "userCertificate", base) == 0)
			st = take_values(dl, entry, a, dn, &out->user_cert, &out->n_user_cert, e);
		else if (base == strlen(ATTR_SMIME) && strncasecmp(a, ATTR_SMIME, base) == 0)
			st = take_values(dl, entry, a, dn, &out->smime, &out->n_smime, e);
		else if (csn != NULL && *csn == NULL && strcasecmp(a, "entryCSN") == 0)
			*csn = first_text(dl, entry, a);
		ldap_memfree(a);
	}
	ldap_memfree(a);
	ber_free(ber, 0);
	ldap_msgfree(res);
	if (st != DIR_OK) {
		dir_cert_values_free(out);
		if (csn != NULL) {
			free(*csn);
			*csn = NULL;
		}
	}
	return st;
}

enum dir_status
dir_ldap_read_certs(void *state, const char *dn, struct dir_cert_values *out,
    struct errbuf *e)
{
	return read_certs(state, dn, out, NULL, e);
}

/* One attribute's part of a modify: the values are borrowed. */
struct value_sel {
	struct berval *bv;   /* array */
	struct berval **ptr; /* NULL-terminated pointers into bv */
	size_t n;
	bool replace;        /* send as LDAP_MOD_REPLACE with exactly these values */
};

static void
value_sel_free(struct value_sel *m)
{
	free(m->bv);
	free(m->ptr);
	memset(m, 0, sizeof(*m));
}

/*
 * Keep from want[] the values whose presence in have[] equals
 * keep_if_present, each once.
 */
static void
select_values(struct value_sel *m, const struct dir_value *want, size_t n_want,
    const struct dir_value *have, size_t n_have, bool keep_if_present)
{
	memset(m, 0, sizeof(*m));
	if (n_want == 0)
		return;
	m->bv = xcalloc(n_want, sizeof(*m->bv));
	m->ptr = xcalloc(n_want + 1, sizeof(*m->ptr));
	for (size_t i = 0; i < n_want; i++) {
		bool present = dir_value_in(have, n_have, want[i].data, want[i].len);
		bool dup = false;

		for (size_t k = 0; k < m->n && !dup; k++)
			dup = m->bv[k].bv_len == want[i].len &&
			    memcmp(m->bv[k].bv_val, want[i].data, want[i].len) == 0;
		if (present != keep_if_present || dup)
			continue;
		m->bv[m->n].bv_val = (char *)want[i].data;
		m->bv[m->n].bv_len = want[i].len;
		m->n++;
	}
	for (size_t i = 0; i < m->n; i++)
		m->ptr[i] = &m->bv[i];
}

/*
 * userSMIMECertificate has no equality matching rule in OpenLDAP's
 * inetorgperson schema, so the server can neither delete one value of it
 * nor add one to an attribute that has values ("inappropriate matching").
 * Either change therefore becomes a replace with the
 * values that should remain: the new ones first (Outlook takes the first
 * valid one), then the current ones minus those to delete. It is still one
 * modify operation. Turns del into that replace and empties add.
 */
static void
smime_replacement(struct value_sel *del, struct value_sel *add,
    const struct dir_value *cur, size_t n_cur)
{
	struct value_sel r;

	memset(&r, 0, sizeof(r));
	r.replace = true;
	r.bv = xcalloc(add->n + n_cur + 1, sizeof(*r.bv));
	r.ptr = xcalloc(add->n + n_cur + 1, sizeof(*r.ptr));
	for (size_t i = 0; i < add->n; i++)
		r.bv[r.n++] = add->bv[i];
	for (size_t i = 0; i < n_cur; i++) {
		bool gone = false;

		for (size_t k = 0; k < del->n && !gone; k++)
			gone = del->bv[k].bv_len == cur[i].len &&
			    memcmp(del->bv[k].bv_val, cur[i].data, cur[i].len) == 0;
		if (gone)
			continue;
		r.bv[r.n].bv_val = (char *)cur[i].data;
		r.bv[r.n].bv_len = cur[i].len;
		r.n++;
	}
	for (size_t i = 0; i < r.n; i++)
		r.ptr[i] = &r.bv[i];
	value_sel_free(del);
	value_sel_free(add);
	*del = r;
}

/*
 * An assertion control (RFC 4528, critical) that the entry's entryCSN is
 * still csn (new), or NULL when libldap cannot make one.
 */
static LDAPControl *
unchanged_since(struct dir_ldap *dl, const char *csn)
{
	char *esc = dir_filter_escape(csn, strlen(csn));
	char *filter = xasprintf("(entryCSN=%s)", esc);
	LDAPControl *c = NULL;

	if (ldap_create_assertion_control(dl->ld, filter, 1, &c) != LDAP_SUCCESS)
		c = NULL;
	free(esc);
	free(filter);
	return c;
}

static enum dir_status
apply_once(struct dir_ldap *dl, const char *dn, const struct dir_cert_change *c,
    int *rc_out, struct errbuf *e)
{
	struct dir_cert_values cur;
	struct value_sel mv[4];
	LDAPMod mods[4], *modp[5];
	LDAPControl *assert_ctrl = NULL, *ctrls[2] = { NULL, NULL };
	enum dir_status st;
	size_t n = 0;
	bool cert = false, smime = false;
	char *csn = NULL;

	*rc_out = LDAP_SUCCESS;
	memset(mv, 0, sizeof(mv));
	st = read_certs(dl, dn, &cur, dl->dialect->smime_equality ? NULL : &csn, e);
	if (st != DIR_OK)
		return st;
	/* Deletes first, so a value can be replaced within one modify. */
	select_values(&mv[0], c->del_user_cert, c->n_del_user_cert, cur.user_cert,
	    cur.n_user_cert, true);
	select_values(&mv[1], c->add_user_cert, c->n_add_user_cert, cur.user_cert,
	    cur.n_user_cert, false);
	select_values(&mv[2], c->del_smime, c->n_del_smime, cur.smime, cur.n_smime, true);
	select_values(&mv[3], c->add_smime, c->n_add_smime, cur.smime, cur.n_smime, false);
	/* Without an equality rule the server can neither delete one value nor
	 * add one next to existing ones (it could not check for duplicates). */
	if (!dl->dialect->smime_equality && (mv[2].n > 0 || (mv[3].n > 0 && cur.n_smime > 0))) {
		smime_replacement(&mv[2], &mv[3], cur.smime, cur.n_smime);
		if (csn != NULL)
			assert_ctrl = unchanged_since(dl, csn);
		else
			log_debug("%s: no entryCSN readable on %s: %s is replaced without the check "
			    "that nobody wrote it meanwhile", dl->uri, dn, ATTR_SMIME);
	}
	for (size_t i = 0; i < 4; i++) {
		if (mv[i].n == 0 && !(i == 2 && mv[2].replace))
			continue;
		mods[n].mod_op = ((i % 2) == 0 ? LDAP_MOD_DELETE : LDAP_MOD_ADD) | LDAP_MOD_BVALUES;
		if (i == 2 && mv[2].replace)
			mods[n].mod_op = LDAP_MOD_REPLACE | LDAP_MOD_BVALUES;
		mods[n].mod_type = i < 2 ? cert_attr(dl) : ATTR_SMIME;
		mods[n].mod_bvalues = mv[i].ptr;
		modp[n] = &mods[n];
		n++;
		if (i < 2)
			cert = true;
		else
			smime = true;
	}
	modp[n] = NULL;
	if (n == 0) {
		log_debug("%s: certificates of %s already as wanted", dl->uri, dn);
		goto out;
	}
	ctrls[0] = assert_ctrl;
	*rc_out = ldap_modify_ext_s(dl->ld, dn, modp, assert_ctrl != NULL ? ctrls : NULL, NULL);
	if (*rc_out != LDAP_SUCCESS) {
		const char *hint = NULL;
		char *op = xasprintf("modify %s%s%s of", cert ? cert_attr(dl) : "",
		    cert && smime ? " and " : "", smime ? ATTR_SMIME : "");
		char *owned_hint = NULL;

		switch (*rc_out) {
		case LDAP_INSUFFICIENT_ACCESS:
			owned_hint = dl->dialect->write_access_hint(dl);
			hint = owned_hint;
			break;
		case LDAP_OBJECT_CLASS_VIOLATION:
		case LDAP_UNDEFINED_TYPE:
			hint = "the entry's object classes must allow userCertificate and "
			       "userSMIMECertificate (inetOrgPerson does)";
			break;
		case LDAP_INVALID_SYNTAX:
			hint = "the server refused a value: userCertificate;binary takes DER "
			       "X.509, userSMIMECertificate DER PKCS#7";
			break;
		case LDAP_CONSTRAINT_VIOLATION:
		case LDAP_ADMINLIMIT_EXCEEDED:
			hint = dl->dialect->value_limit_hint;
			break;
		default:
			break;
		}
		st = dir_ldap_fail(dl, *rc_out, op, dn, hint, e);
		free(op);
		free(owned_hint);
		goto out;
	}
	log_debug("%s: certificates of %s changed (%zu modification(s))", dl->uri, dn, n);
out:
	for (size_t i = 0; i < 4; i++)
		value_sel_free(&mv[i]);
	dir_cert_values_free(&cur);
	if (assert_ctrl != NULL)
		ldap_control_free(assert_ctrl);
	free(csn);
	return st;
}

enum dir_status
dir_ldap_apply_certs(void *state, const char *dn, const struct dir_cert_change *change,
    struct errbuf *e)
{
	struct dir_ldap *dl = state;
	enum dir_status st = DIR_OK;
	int rc = LDAP_SUCCESS;

	for (int attempt = 1; attempt <= APPLY_ATTEMPTS; attempt++) {
		st = apply_once(dl, dn, change, &rc, e);
		/* Someone else wrote the entry between our read and our modify. */
		if (st == DIR_OK || (rc != LDAP_TYPE_OR_VALUE_EXISTS &&
		    rc != LDAP_NO_SUCH_ATTRIBUTE && rc != LDAP_ASSERTION_FAILED))
			break;
		log_debug("%s: %s changed while we modified it (attempt %d): reading again",
		    dl->uri, dn, attempt);
	}
	return st;
}
