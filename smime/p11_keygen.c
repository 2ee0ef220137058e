/* SPDX-License-Identifier: ISC */
/*
 * "ca init --pkcs11": a key pair generated inside the token (p11.h).
 *
 * libp11 0.4 can only generate RSA keys, and the default CA key is P-384,
 * so this file talks to the module directly: dlopen the library,
 * C_Initialize, find the token, log in, look for the key the URI names,
 * and C_GenerateKeyPair only when there is none (a key ceremony may have
 * made it already). The private key is created private, sensitive and
 * never extractable: it exists nowhere but in the token. Then C_Finalize
 * and dlclose, so that libp11 (p11_token.c) starts from a clean module.
 * Called before any key of the same module is opened in this process;
 * when the module is initialised already, it is left so.
 */
#include "config.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <p11-kit/pkcs11.h>

#include <openssl/rand.h>

#include "common/p11uri.h"
#include "common/xalloc.h"
#include "smime/p11.h"

/* The return values an administrator may meet, by name (PKCS#11 v2.40 5.1). */
static const char *
rv_name(CK_RV rv)
{
	switch (rv) {
	case CKR_OK: return "CKR_OK";
	case CKR_GENERAL_ERROR: return "CKR_GENERAL_ERROR";
	case CKR_FUNCTION_FAILED: return "CKR_FUNCTION_FAILED";
	case CKR_ARGUMENTS_BAD: return "CKR_ARGUMENTS_BAD";
	case CKR_ATTRIBUTE_VALUE_INVALID: return "CKR_ATTRIBUTE_VALUE_INVALID";
	case CKR_DEVICE_ERROR: return "CKR_DEVICE_ERROR";
	case CKR_DEVICE_MEMORY: return "CKR_DEVICE_MEMORY";
	case CKR_DEVICE_REMOVED: return "CKR_DEVICE_REMOVED";
	case CKR_MECHANISM_INVALID: return "CKR_MECHANISM_INVALID (the token cannot make this key type)";
	case CKR_PIN_INCORRECT: return "CKR_PIN_INCORRECT (wrong PIN)";
	case CKR_PIN_LOCKED: return "CKR_PIN_LOCKED (too many wrong PINs: the security officer must unlock it)";
	case CKR_PIN_EXPIRED: return "CKR_PIN_EXPIRED";
	case CKR_SESSION_HANDLE_INVALID: return "CKR_SESSION_HANDLE_INVALID";
	case CKR_TEMPLATE_INCONSISTENT: return "CKR_TEMPLATE_INCONSISTENT";
	case CKR_TOKEN_NOT_PRESENT: return "CKR_TOKEN_NOT_PRESENT";
	case CKR_TOKEN_WRITE_PROTECTED: return "CKR_TOKEN_WRITE_PROTECTED";
	case CKR_USER_NOT_LOGGED_IN: return "CKR_USER_NOT_LOGGED_IN";
	case CKR_USER_PIN_NOT_INITIALIZED: return "CKR_USER_PIN_NOT_INITIALIZED (set the user PIN first)";
	case CKR_CRYPTOKI_NOT_INITIALIZED: return "CKR_CRYPTOKI_NOT_INITIALIZED";
	default: return NULL;
	}
}

static void
set_rv(struct errbuf *e, const char *what, CK_RV rv)
{
	const char *n = rv_name(rv);

	if (n != NULL)
		err_set(e, "%s: %s", what, n);
	else
		err_set(e, "%s: PKCS#11 error 0x%lx", what, (unsigned long)rv);
}

/* A blank-padded CK_TOKEN_INFO field equal to want? */
static bool
field_is(const unsigned char *field, size_t size, const char *want)
{
	size_t n = size;

	if (want == NULL)
		return true;
	while (n > 0 && (field[n - 1] == ' ' || field[n - 1] == '\0'))
		n--;
	return strlen(want) == n && memcmp(field, want, n) == 0;
}

struct gen {
	void *lib;
	CK_FUNCTION_LIST_PTR f;
	bool initialized;   /* by us: finalize at the end */
	CK_SESSION_HANDLE session;
	bool logged_in;
};

static int
find_token(struct gen *g, const struct p11_uri *u, CK_SLOT_ID *slot, struct errbuf *e)
{
	CK_SLOT_ID *ids = NULL;
	CK_ULONG n = 0;
	CK_RV rv;
	int found = 0;

	rv = g->f->C_GetSlotList(CK_TRUE, NULL, &n);
	if (rv == CKR_OK && n > 0) {
		ids = xcalloc(n, sizeof(*ids));
		rv = g->f->C_GetSlotList(CK_TRUE, ids, &n);
	}
	if (rv != CKR_OK) {
		set_rv(e, "C_GetSlotList", rv);
		free(ids);
		return -1;
	}
	for (CK_ULONG i = 0; i < n; i++) {
		CK_TOKEN_INFO ti;

		if (g->f->C_GetTokenInfo(ids[i], &ti) != CKR_OK ||
		    (ti.flags & CKF_TOKEN_INITIALIZED) == 0)
			continue;
		if (field_is(ti.label, sizeof(ti.label), u->token) &&
		    field_is(ti.serialNumber, sizeof(ti.serialNumber), u->serial) &&
		    field_is(ti.manufacturerID, sizeof(ti.manufacturerID), u->manufacturer) &&
		    field_is(ti.model, sizeof(ti.model), u->model)) {
			*slot = ids[i];
			found++;
		}
	}
	free(ids);
	if (found == 1)
		return 0;
	err_set(e, found == 0 ? "no initialised token \"%s\" is present; initialise it first "
	    "(softhsm2-util --init-token, or the HSM's own tools)" :
	    "several tokens match \"%s\"; add serial= to the URI",
	    u->token != NULL ? u->token : u->serial);
	return -1;
}

/* How many private keys match the URI's label and id. */
static int
count_keys(struct gen *g, const struct p11_uri *u, CK_ULONG *count, struct errbuf *e)
{
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE t[3];
	CK_ULONG nt = 0;
	CK_OBJECT_HANDLE h[2];
	CK_RV rv;

	t[nt++] = (CK_ATTRIBUTE){ CKA_CLASS, &cls, sizeof(cls) };
	if (u->object != NULL)
		t[nt++] = (CK_ATTRIBUTE){ CKA_LABEL, u->object, strlen(u->object) };
	if (u->id != NULL)
		t[nt++] = (CK_ATTRIBUTE){ CKA_ID, u->id, u->id_len };
	rv = g->f->C_FindObjectsInit(g->session, t, nt);
	if (rv == CKR_OK) {
		rv = g->f->C_FindObjects(g->session, h, 2, count);
		(void)g->f->C_FindObjectsFinal(g->session);
	}
	if (rv != CKR_OK) {
		set_rv(e, "C_FindObjects", rv);
		return -1;
	}
	return 0;
}

static int
generate(struct gen *g, const struct p11_uri *u, enum key_type type, bool wrap,
    struct errbuf *e)
{
	/* DER OIDs of the curves, as CKA_EC_PARAMS wants them. */
	static const unsigned char p256[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03,
	    0x01, 0x07 };
	static const unsigned char p384[] = { 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22 };
	static const unsigned char f4[] = { 0x01, 0x00, 0x01 };
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ULONG bits = 0;
	CK_MECHANISM mech = { CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0 };
	CK_ATTRIBUTE pub[8], priv[12];
	CK_ULONG np = 0, nq = 0;
	CK_OBJECT_HANDLE hpub, hpriv;
	unsigned char id[20];
	const unsigned char *idp = u->id;
	size_t id_len = u->id_len;
	const char *label = u->object != NULL ? u->object : "smimesync CA key";
	CK_RV rv;

	if (idp == NULL) {
		/* libp11 pairs keys by CKA_ID: give the pair one of its own. */
		if (RAND_bytes(id, sizeof(id)) != 1) {
			err_set(e, "cannot draw random bytes for the key's CKA_ID");
			return -1;
		}
		idp = id;
		id_len = sizeof(id);
	}
	switch (type) {
	case KEY_TYPE_RSA2048:
		bits = 2048;
		break;
	case KEY_TYPE_RSA3072:
		bits = 3072;
		break;
	case KEY_TYPE_RSA4096:
		bits = 4096;
		break;
	case KEY_TYPE_P256:
	case KEY_TYPE_P384:
		mech.mechanism = CKM_EC_KEY_PAIR_GEN;
		break;
	}
	if (wrap && bits == 0) {
		err_set(e, "the key that seals the master key must be an RSA key (it unwraps "
		    "with RSA-OAEP)");
		return -1;
	}
	pub[np++] = (CK_ATTRIBUTE){ CKA_TOKEN, &yes, sizeof(yes) };
	pub[np++] = (CK_ATTRIBUTE){ CKA_LABEL, (void *)label, strlen(label) };
	pub[np++] = (CK_ATTRIBUTE){ CKA_ID, (void *)idp, id_len };
	pub[np++] = (CK_ATTRIBUTE){ wrap ? CKA_ENCRYPT : CKA_VERIFY, &yes, sizeof(yes) };
	if (bits != 0) {
		pub[np++] = (CK_ATTRIBUTE){ CKA_MODULUS_BITS, &bits, sizeof(bits) };
		pub[np++] = (CK_ATTRIBUTE){ CKA_PUBLIC_EXPONENT, (void *)f4, sizeof(f4) };
	} else if (type == KEY_TYPE_P256) {
		pub[np++] = (CK_ATTRIBUTE){ CKA_EC_PARAMS, (void *)p256, sizeof(p256) };
	} else {
		pub[np++] = (CK_ATTRIBUTE){ CKA_EC_PARAMS, (void *)p384, sizeof(p384) };
	}
	priv[nq++] = (CK_ATTRIBUTE){ CKA_TOKEN, &yes, sizeof(yes) };
	priv[nq++] = (CK_ATTRIBUTE){ CKA_PRIVATE, &yes, sizeof(yes) };
	priv[nq++] = (CK_ATTRIBUTE){ CKA_SENSITIVE, &yes, sizeof(yes) };
	priv[nq++] = (CK_ATTRIBUTE){ CKA_EXTRACTABLE, &no, sizeof(no) };
	priv[nq++] = (CK_ATTRIBUTE){ CKA_LABEL, (void *)label, strlen(label) };
	priv[nq++] = (CK_ATTRIBUTE){ CKA_ID, (void *)idp, id_len };
	/* One use per key: a CA key signs, the sealing key decrypts, nothing else. */
	priv[nq++] = (CK_ATTRIBUTE){ CKA_SIGN, wrap ? &no : &yes, sizeof(yes) };
	priv[nq++] = (CK_ATTRIBUTE){ CKA_DECRYPT, wrap ? &yes : &no, sizeof(yes) };
	priv[nq++] = (CK_ATTRIBUTE){ CKA_UNWRAP, &no, sizeof(no) };
	priv[nq++] = (CK_ATTRIBUTE){ CKA_DERIVE, &no, sizeof(no) };
	rv = g->f->C_GenerateKeyPair(g->session, &mech, pub, np, priv, nq, &hpub, &hpriv);
	if (rv != CKR_OK) {
		char what[160];

		snprintf(what, sizeof(what), "C_GenerateKeyPair (%s) on token \"%s\"",
		    key_type_name(type), u->token != NULL ? u->token : u->serial);
		set_rv(e, what, rv);
		return -1;
	}
	return 0;
}

int
p11_key_generate(const char *uri, const char *pin, enum key_type type, bool wrap,
    bool *created, struct errbuf *e)
{
	struct p11_uri u;
	struct gen g;
	CK_C_GetFunctionList getfl;
	CK_C_INITIALIZE_ARGS args;
	CK_SLOT_ID slot = 0;
	CK_ULONG count = 0;
	CK_RV rv;
	int rc = -1;

	memset(&g, 0, sizeof(g));
	g.session = CK_INVALID_HANDLE;
	*created = false;
	if (p11_uri_parse(uri, &u, e) != 0)
		return -1;
	g.lib = dlopen(u.module_path, RTLD_NOW | RTLD_LOCAL);
	if (g.lib == NULL) {
		err_set(e, "cannot load the PKCS#11 library %s: %s", u.module_path, dlerror());
		goto out;
	}
	getfl = (CK_C_GetFunctionList)dlsym(g.lib, "C_GetFunctionList");
	if (getfl == NULL || getfl(&g.f) != CKR_OK || g.f == NULL) {
		err_set(e, "%s is not a PKCS#11 library (no C_GetFunctionList)", u.module_path);
		goto out;
	}
	memset(&args, 0, sizeof(args));
	args.flags = CKF_OS_LOCKING_OK;
	rv = g.f->C_Initialize(&args);
	if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		set_rv(e, "C_Initialize", rv);
		goto out;
	}
	g.initialized = rv == CKR_OK;
	if (find_token(&g, &u, &slot, e) != 0)
		goto out;
	rv = g.f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &g.session);
	if (rv != CKR_OK) {
		g.session = CK_INVALID_HANDLE;
		set_rv(e, "C_OpenSession (read-write)", rv);
		goto out;
	}
	if (pin != NULL) {
		rv = g.f->C_Login(g.session, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin));
		if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
			set_rv(e, "C_Login with the PIN from pin_file", rv);
			goto out;
		}
		g.logged_in = rv == CKR_OK;
	}
	if (count_keys(&g, &u, &count, e) != 0)
		goto out;
	if (count > 1) {
		err_set(e, "token \"%s\" holds several private keys that match the URI; add id= "
		    "to say which", u.token != NULL ? u.token : u.serial);
		goto out;
	}
	if (count == 0) {
		if (generate(&g, &u, type, wrap, e) != 0)
			goto out;
		*created = true;
	}
	rc = 0;
out:
	if (g.logged_in)
		(void)g.f->C_Logout(g.session);
	if (g.session != CK_INVALID_HANDLE)
		(void)g.f->C_CloseSession(g.session);
	if (g.initialized)
		(void)g.f->C_Finalize(NULL);
	if (g.lib != NULL)
		dlclose(g.lib);
	p11_uri_clear(&u);
	return rc;
}
