/* SPDX-License-Identifier: ISC */
/*
 * Token keys through libp11 (p11.h, ca_key.h): one loaded module per
 * library path and process, the keys found on it, and the reconnect that
 * reloads the module when a token stopped answering.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <libp11.h>
#include <openssl/err.h>

#include "common/fileutil.h"
#include "common/log.h"
#include "common/p11uri.h"
#include "common/xalloc.h"
#include "smime/p11.h"

struct p11_module {
	char *path;
	PKCS11_CTX *ctx;        /* NULL while a reload failed */
	PKCS11_SLOT *slots;
	unsigned n_slots;
	unsigned generation;    /* counts loads: a key found under another is stale */
	struct p11_key *keys;   /* every open key of this module */
	struct p11_module *next;
};

struct p11_key {
	struct p11_module *mod;
	struct p11_uri uri;
	char *uri_text;
	char *pin;              /* secret; NULL: the token needs no login */
	EVP_PKEY *pkey;         /* NULL while stale */
	unsigned generation;    /* mod->generation when pkey was found */
	struct p11_key *next;
};

/*
 * The modules this process has loaded. PKCS#11 initialises a library once
 * per process (C_Initialize), so keys of one library must share one
 * context; see ca_key.h. Held only while the registry or a module changes.
 */
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct p11_module *registry;

static void
module_unload(struct p11_module *m)
{
	/* The keys first: they hold references into the slots and the context. */
	for (struct p11_key *k = m->keys; k != NULL; k = k->next) {
		EVP_PKEY_free(k->pkey);
		k->pkey = NULL;
	}
	if (m->ctx != NULL) {
		if (m->slots != NULL)
			PKCS11_release_all_slots(m->ctx, m->slots, m->n_slots);
		PKCS11_CTX_unload(m->ctx);
		PKCS11_CTX_free(m->ctx);
	}
	m->ctx = NULL;
	m->slots = NULL;
	m->n_slots = 0;
}

static int
module_load(struct p11_module *m, struct errbuf *e)
{
	PKCS11_CTX *ctx = PKCS11_CTX_new();

	if (ctx == NULL)
		fatal("out of memory");
	if (PKCS11_CTX_load(ctx, m->path) != 0) {
		err_set(e, "cannot load the PKCS#11 library %s (module-path of the URI); is the "
		    "HSM's client software installed?", m->path);
		err_add_openssl(e);
		PKCS11_CTX_free(ctx);
		return -1;
	}
	m->ctx = ctx;
	if (PKCS11_enumerate_slots(ctx, &m->slots, &m->n_slots) != 0) {
		err_set(e, "%s: cannot list the slots of the PKCS#11 library", m->path);
		err_add_openssl(e);
		m->slots = NULL;
		m->n_slots = 0;
		module_unload(m);
		return -1;
	}
	m->generation++;
	return 0;
}

static void module_release(struct p11_module *m);

/* The registry's module for path, loaded (new in the registry if need be). */
static struct p11_module *
module_get(const char *path, struct errbuf *e)
{
	struct p11_module *m;

	for (m = registry; m != NULL; m = m->next)
		if (strcmp(m->path, path) == 0)
			break;
	if (m == NULL) {
		m = xcalloc(1, sizeof(*m));
		m->path = xstrdup(path);
		m->next = registry;
		registry = m;
	}
	if (m->ctx == NULL && module_load(m, e) != 0) {
		module_release(m); /* unless keys of it wait for a reconnect */
		return NULL;
	}
	return m;
}

/* Drop m from the registry when no key uses it any more. */
static void
module_release(struct p11_module *m)
{
	struct p11_module **pp;

	if (m == NULL || m->keys != NULL)
		return;
	module_unload(m);
	for (pp = &registry; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == m) {
			*pp = m->next;
			break;
		}
	}
	free(m->path);
	free(m);
}

static bool
token_matches(const PKCS11_TOKEN *t, const struct p11_uri *u)
{
	return (u->token == NULL || (t->label != NULL && strcmp(t->label, u->token) == 0)) &&
	    (u->serial == NULL || (t->serialnr != NULL && strcmp(t->serialnr, u->serial) == 0)) &&
	    (u->manufacturer == NULL ||
	    (t->manufacturer != NULL && strcmp(t->manufacturer, u->manufacturer) == 0)) &&
	    (u->model == NULL || (t->model != NULL && strcmp(t->model, u->model) == 0));
}

static const char *
token_name(const struct p11_uri *u)
{
	return u->token != NULL ? u->token : u->serial;
}

/* The one slot whose present, initialised token the URI names. */
static PKCS11_SLOT *
find_slot(struct p11_module *m, const struct p11_uri *u, struct errbuf *e)
{
	PKCS11_SLOT *found = NULL;
	char seen[512];
	size_t used = 0;
	int n = 0;

	seen[0] = '\0';
	for (unsigned i = 0; i < m->n_slots; i++) {
		PKCS11_TOKEN *t = m->slots[i].token;

		if (t == NULL || !t->initialized)
			continue;
		if (used + 1 < sizeof(seen)) {
			int w = snprintf(seen + used, sizeof(seen) - used, "%s\"%s\"",
			    used > 0 ? ", " : "", t->label != NULL ? t->label : "");

			if (w > 0)
				used += (size_t)w < sizeof(seen) - used ? (size_t)w : sizeof(seen) - used - 1;
		}
		if (!token_matches(t, u))
			continue;
		found = &m->slots[i];
		n++;
	}
	if (n == 1)
		return found;
	if (n > 1)
		err_set(e, "%d tokens match token=%s; add serial= to the URI to say which", n,
		    token_name(u));
	else
		err_set(e, "no token \"%s\" is present (%s%s); is the HSM connected and the "
		    "token initialised?", token_name(u), used > 0 ? "present: " : "no token at all",
		    seen);
	return NULL;
}

static bool
key_matches(const PKCS11_KEY *key, const struct p11_uri *u)
{
	if (u->object != NULL && (key->label == NULL || strcmp(key->label, u->object) != 0))
		return false;
	if (u->id != NULL && (key->id_len != u->id_len || memcmp(key->id, u->id, u->id_len) != 0))
		return false;
	return key->isPrivate != 0;
}

/* Find k's key in its (loaded) module: slot, login, key object, EVP_PKEY. */
static int
find_key(struct p11_key *k, struct errbuf *e)
{
	struct p11_module *m = k->mod;
	PKCS11_SLOT *slot;
	PKCS11_KEY *keys = NULL;
	PKCS11_KEY *hit = NULL;
	unsigned n_keys = 0;
	int logged_in = 0;
	int n = 0;

	if (m->ctx == NULL) {
		err_set(e, "the PKCS#11 library %s is not loaded", m->path);
		return -1;
	}
	if ((slot = find_slot(m, &k->uri, e)) == NULL)
		return -1;
	if (slot->token->loginRequired) {
		if (k->pin == NULL) {
			err_set(e, "token \"%s\" needs its user PIN: set pin_file (or "
			    "pin_credential) next to the key's URI", slot->token->label);
			return -1;
		}
		if (PKCS11_is_logged_in(slot, 0, &logged_in) != 0)
			logged_in = 0;
		if (!logged_in && PKCS11_login(slot, 0, k->pin) != 0) {
			err_set(e, "cannot log in to token \"%s\" with the PIN from pin_file (a "
			    "wrong PIN counts against the token's retry limit)", slot->token->label);
			err_add_openssl(e);
			return -1;
		}
	}
	if (PKCS11_enumerate_keys(slot->token, &keys, &n_keys) != 0) {
		err_set(e, "cannot list the keys of token \"%s\"", slot->token->label);
		err_add_openssl(e);
		return -1;
	}
	for (unsigned i = 0; i < n_keys; i++) {
		if (key_matches(&keys[i], &k->uri)) {
			hit = &keys[i];
			n++;
		}
	}
	if (n != 1) {
		err_set(e, n == 0 ? "token \"%s\" holds no private key %s%s (run smimesync ca "
		    "init --pkcs11 to create it, or check object= and id=)" :
		    "token \"%s\" holds several private keys %s%s; add id= to the URI",
		    slot->token->label, k->uri.object != NULL ? "object=" : "with that id",
		    k->uri.object != NULL ? k->uri.object : "");
		return -1;
	}
	k->pkey = PKCS11_get_private_key(hit);
	if (k->pkey == NULL) {
		err_set(e, "token \"%s\": cannot use private key %s (only RSA and EC keys are "
		    "supported)", slot->token->label, k->uri.object != NULL ? k->uri.object : "");
		err_add_openssl(e);
		return -1;
	}
	k->generation = m->generation;
	return 0;
}

int
p11_key_open(const char *uri, const char *pin, struct p11_key **out, struct errbuf *e)
{
	struct p11_key *k = xcalloc(1, sizeof(*k));
	struct p11_module *m = NULL;
	int rc = -1;

	if (p11_uri_parse(uri, &k->uri, e) != 0) {
		free(k);
		return -1;
	}
	k->uri_text = xstrdup(uri);
	k->pin = pin != NULL ? xstrdup(pin) : NULL;
	pthread_mutex_lock(&registry_lock);
	if ((m = module_get(k->uri.module_path, e)) == NULL)
		goto out;
	k->mod = m;
	k->next = m->keys;
	m->keys = k;
	if (find_key(k, e) != 0)
		goto out;
	*out = k;
	k = NULL;
	rc = 0;
out:
	pthread_mutex_unlock(&registry_lock);
	p11_key_close(k);
	return rc;
}

void
p11_key_close(struct p11_key *k)
{
	struct p11_module *m;

	if (k == NULL)
		return;
	pthread_mutex_lock(&registry_lock);
	m = k->mod;
	EVP_PKEY_free(k->pkey);
	if (m != NULL) {
		for (struct p11_key **pp = &m->keys; *pp != NULL; pp = &(*pp)->next) {
			if (*pp == k) {
				*pp = k->next;
				break;
			}
		}
		module_release(m);
	}
	pthread_mutex_unlock(&registry_lock);
	p11_uri_clear(&k->uri);
	free(k->uri_text);
	secret_free_str(k->pin);
	free(k);
}

EVP_PKEY *
p11_key_pkey(const struct p11_key *k)
{
	return k->pkey;
}

int
p11_key_reconnect(struct p11_key *k, struct errbuf *e)
{
	struct p11_module *m = k->mod;
	int rc = -1;

	pthread_mutex_lock(&registry_lock);
	/*
	 * The module was loaded again since this key was found (for another
	 * key, or by an earlier reconnect of this one that found no token):
	 * its fresh handles may do. If not, the slots it listed are as old
	 * as that load (a token plugged in since is not among them): reload.
	 */
	if (m->ctx != NULL && k->generation != m->generation) {
		struct errbuf fresh;

		EVP_PKEY_free(k->pkey);
		k->pkey = NULL;
		err_clear(&fresh);
		if (find_key(k, &fresh) == 0)
			goto back;
	}
	log_warn("PKCS#11: reloading %s and logging in again to reach %s", m->path, k->uri_text);
	module_unload(m);
	if (module_load(m, e) != 0 || find_key(k, e) != 0)
		goto out;
back:
	log_info("PKCS#11: %s is back", k->uri_text);
	rc = 0;
out:
	pthread_mutex_unlock(&registry_lock);
	return rc;
}
