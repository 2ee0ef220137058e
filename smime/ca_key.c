/* SPDX-License-Identifier: ISC */
/*
 * CA keys from files or tokens (ca_key.h): the dispatch, the PIN, and the
 * one retry after a token failed.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "common/fileutil.h"
#include "common/log.h"
#include "common/p11uri.h"
#include "common/xalloc.h"
#include "smime/ca_key.h"
#include "smime/key.h"
#include "smime/p11.h"

struct ca_key {
	char *ref;
	EVP_PKEY *file_key;    /* a key from a PEM file, or NULL */
	struct p11_key *token; /* a key on a token, or NULL */
};

/* Systemd's credential names: no slash, nothing hidden (systemd.exec(5)). */
static bool
credential_name_ok(const char *s)
{
	if (s[0] == '\0' || s[0] == '.' || strlen(s) > 255)
		return false;
	for (const char *p = s; *p != '\0'; p++)
		if (*p == '/' || (unsigned char)*p < 0x20)
			return false;
	return true;
}

int
ca_key_pin_path(const char *pin_file, const char *pin_credential, char **out, struct errbuf *e)
{
	const char *dir;

	*out = NULL;
	if (pin_file != NULL) {
		*out = xstrdup(pin_file);
		return 0;
	}
	if (pin_credential == NULL)
		return 0;
	if (!credential_name_ok(pin_credential)) {
		err_set(e, "pin_credential \"%s\" is not a credential name", pin_credential);
		return -1;
	}
	dir = getenv("CREDENTIALS_DIRECTORY");
	if (dir == NULL || dir[0] != '/') {
		err_set(e, "pin_credential = %s needs the PIN as a systemd credential, but "
		    "CREDENTIALS_DIRECTORY is not set: add LoadCredential=%s:/path/to/pin to the "
		    "service unit, or use pin_file", pin_credential, pin_credential);
		return -1;
	}
	*out = xasprintf("%s/%s", dir, pin_credential);
	return 0;
}

static int
read_pin(const char *pin_file, char **pin, struct errbuf *e)
{
	*pin = NULL;
	if (pin_file == NULL)
		return 0;
	if (file_read_password(pin_file, pin, e) != 0) {
		err_prefix(e, "the token PIN");
		return -1;
	}
	return 0;
}

int
ca_key_load(const char *key_ref, const char *pin_file, struct ca_key **out, struct errbuf *e)
{
	struct ca_key *k = NULL;
	char *pin = NULL;
	int rc = -1;

	if (key_ref == NULL) {
		err_set(e, "no key given (key_file or key_uri)");
		return -1;
	}
	k = xcalloc(1, sizeof(*k));
	k->ref = xstrdup(key_ref);
	if (p11_uri_is(key_ref)) {
		if (read_pin(pin_file, &pin, e) != 0 || p11_key_open(key_ref, pin, &k->token, e) != 0)
			goto out;
	} else if (key_load_pem_file(key_ref, &k->file_key, e) != 0) {
		goto out;
	}
	*out = k;
	k = NULL;
	rc = 0;
out:
	secret_free_str(pin);
	ca_key_free(k);
	return rc;
}

void
ca_key_free(struct ca_key *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->file_key);
	p11_key_close(k->token);
	free(k->ref);
	free(k);
}

EVP_PKEY *
ca_key_pkey(const struct ca_key *k)
{
	return k->token != NULL ? p11_key_pkey(k->token) : k->file_key;
}

bool
ca_key_on_token(const struct ca_key *k)
{
	return k->token != NULL;
}

const char *
ca_key_ref(const struct ca_key *k)
{
	return k->ref;
}

int
ca_key_reconnect(struct ca_key *k, struct errbuf *e)
{
	if (k->token == NULL) {
		err_set(e, "%s is a key file: there is nothing to reconnect", k->ref);
		return -1;
	}
	return p11_key_reconnect(k->token, e);
}

int
ca_key_use(struct ca_key *k, int (*op)(void *arg, EVP_PKEY *key, struct errbuf *e), void *arg,
    bool *token_down, struct errbuf *e)
{
	struct errbuf again;
	EVP_PKEY *key = ca_key_pkey(k);

	if (token_down != NULL)
		*token_down = false;
	if (key != NULL && op(arg, key, e) == 0)
		return 0;
	if (k->token == NULL)
		return -1;
	/*
	 * A token key that failed (or went stale when another key of its
	 * module reconnected): reload, log in, try once more. The first
	 * failure's reason goes to the log; the caller sees the last one.
	 */
	if (key != NULL)
		log_warn("PKCS#11 key %s: %s", k->ref, e != NULL ? e->text : "operation failed");
	ERR_clear_error();
	err_clear(&again);
	if (p11_key_reconnect(k->token, &again) != 0) {
		err_set(e, "the token of %s cannot be reached: %s", k->ref, again.text);
		if (token_down != NULL)
			*token_down = true;
		return -1;
	}
	return op(arg, ca_key_pkey(k), e);
}

int
ca_key_token_make(const char *uri, const char *pin_file, enum key_type type, bool wrap,
    bool *created, struct errbuf *e)
{
	char *pin = NULL;
	int rc;

	if (read_pin(pin_file, &pin, e) != 0)
		return -1;
	rc = p11_key_generate(uri, pin, type, wrap, created, e);
	secret_free_str(pin);
	return rc;
}
