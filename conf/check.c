/* SPDX-License-Identifier: ISC */
/*
 * config_check_files(): what check-config verifies beyond syntax (STYLE
 * 8, 9). Secret files must exist and be private to their owner; CA files
 * must exist (else "smimesync ca init" has not been run); CA bundles and
 * the template directory must be readable; the state directory must exist
 * or be creatable. Nothing is created or changed here: check-config only
 * looks. Each message points at the directive (file:line).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fileutil.h"
#include "common/p11uri.h"
#include "common/xalloc.h"
#include "conf/conf_internal.h"

struct checker {
	const struct config *cfg;
	struct conf_errlist el;
};

static void
problem(struct checker *c, const void *base, enum conf_kind kind, const char *name,
    const char *key, const char *text)
{
	char *label = conf_section_label(kind, name);

	conf_err_add(&c->el, conf_source_line(c->cfg, base, key), "%s %s: %s", label, key, text);
	free(label);
}

static void
check_secret(struct checker *c, const void *base, enum conf_kind kind, const char *name,
    const char *key, const char *path, const char *how_to_create)
{
	struct errbuf e;

	if (path == NULL)
		return;
	err_clear(&e);
	if (how_to_create != NULL && !file_exists(path)) {
		err_set(&e, "%s does not exist; %s", path, how_to_create);
		problem(c, base, kind, name, key, e.text);
		return;
	}
	if (file_check_secret(path, &e) != 0)
		problem(c, base, kind, name, key, e.text);
}

static void
check_readable(struct checker *c, const void *base, enum conf_kind kind, const char *name,
    const char *key, const char *path, bool want_dir, const char *how_to_create)
{
	struct errbuf e;
	struct stat st;

	if (path == NULL)
		return;
	err_clear(&e);
	if (stat(path, &st) != 0) {
		if (errno == ENOENT && how_to_create != NULL)
			err_set(&e, "%s does not exist; %s", path, how_to_create);
		else
			err_set(&e, "%s: %s", path, strerror(errno));
	} else if (want_dir && !S_ISDIR(st.st_mode)) {
		err_set(&e, "%s is not a directory", path);
	} else if (!want_dir && S_ISDIR(st.st_mode)) {
		err_set(&e, "%s is a directory; name a file", path);
	} else if (access(path, want_dir ? (R_OK | X_OK) : R_OK) != 0) {
		err_set(&e, "%s is not readable by this user: %s", path, strerror(errno));
	} else {
		return;
	}
	problem(c, base, kind, name, key, e.text);
}

/* The state directory exists and is writable, or its nearest parent is. */
static void
check_state_dir(struct checker *c)
{
	const struct conf_service *sv = &c->cfg->service;
	struct errbuf e;
	struct stat st;
	char *dir = NULL;

	if (sv->state_dir == NULL)
		return;
	err_clear(&e);
	if (stat(sv->state_dir, &st) == 0) {
		if (!S_ISDIR(st.st_mode))
			err_set(&e, "%s is not a directory", sv->state_dir);
		else if (access(sv->state_dir, W_OK | X_OK) != 0)
			err_set(&e, "%s is not writable by this user: %s; run smimesync as the "
			    "directory's owner or fix its ownership", sv->state_dir, strerror(errno));
		else if (file_check_private_dir(sv->state_dir, &e) == 0)
			return;
		problem(c, sv, CONF_SERVICE, NULL, "state_dir", e.text);
		return;
	}
	dir = xstrdup(sv->state_dir);
	for (;;) {
		char *slash = strrchr(dir, '/');

		if (slash == NULL || slash == dir) {
			dir[slash == dir ? 1 : 0] = '\0';
			if (dir[0] == '\0') {
				free(dir);
				dir = xstrdup(".");
			}
			break;
		}
		*slash = '\0';
		if (stat(dir, &st) == 0)
			break;
	}
	if (access(dir, W_OK | X_OK) != 0) {
		err_set(&e, "%s does not exist and cannot be created: %s is not writable by this "
		    "user; create it, owned by the user smimesync runs as", sv->state_dir, dir);
		problem(c, sv, CONF_SERVICE, NULL, "state_dir", e.text);
	}
	free(dir);
}

/*
 * A key on a PKCS#11 token: the library the URI names must be there, and
 * the PIN file private. (The token itself is the signer's to reach:
 * check-config contacts nothing.)
 */
static void
check_token_key(struct checker *c, const void *base, enum conf_kind kind, const char *name,
    const char *uri_key, const char *uri, const char *pin_key, const char *pin_file)
{
	struct p11_uri u;
	struct errbuf e;

	if (uri == NULL)
		return;
	err_clear(&e);
	if (p11_uri_parse(uri, &u, &e) == 0) {
		if (access(u.module_path, R_OK) != 0) {
			err_set(&e, "the PKCS#11 library %s cannot be read: %s; install the HSM's "
			    "client software or correct module-path", u.module_path, strerror(errno));
			problem(c, base, kind, name, uri_key, e.text);
		}
		p11_uri_clear(&u);
	}
	check_secret(c, base, kind, name, pin_key, pin_file, "put the token's user PIN in it "
	    "(one line), readable only by the user the signer runs as (chmod 600)");
}

/* The files an external CA connector reads, and the helper it runs. */
static void
check_external_ca(struct checker *c, const struct conf_ca *ca)
{
	static const char *const readable[] = {"trust_anchor_file", "chain_file", "tls_ca_file",
	    "tls_cert_file"};
	const char *const paths[] = {ca->trust_anchor_file, ca->chain_file, ca->tls_ca_file,
	    ca->tls_cert_file};
	struct errbuf e;

	for (size_t i = 0; i < ARRAY_LEN(readable); i++)
		check_readable(c, ca, CONF_CA, ca->name, readable[i], paths[i], false, NULL);
	check_secret(c, ca, CONF_CA, ca->name, "tls_key_file", ca->tls_key_file, NULL);
	check_secret(c, ca, CONF_CA, ca->name, "auth_key_file", ca->auth_key_file, NULL);
	check_secret(c, ca, CONF_CA, ca->name, "password_file", ca->password_file, NULL);
	if (ca->command != NULL && access(ca->command, X_OK) != 0) {
		err_set(&e, "%s cannot be run by this user: %s", ca->command, strerror(errno));
		problem(c, ca, CONF_CA, ca->name, "command", e.text);
	}
}

size_t
config_check_files(const struct config *cfg, struct conf_errors *errs)
{
	struct checker c = {cfg, {cfg->path, NULL, 0}};
	size_t n;

	check_state_dir(&c);
	/*
	 * Behind signer_socket the keys (and a token's PIN) are the signer's:
	 * this user must not even see them.
	 */
	if (cfg->service.signer_socket == NULL) {
		check_secret(&c, &cfg->service, CONF_SERVICE, NULL, "master_key_file",
		    cfg->service.master_key_file, "run: smimesync ca init (it creates the master key)");
		check_token_key(&c, &cfg->service, CONF_SERVICE, NULL, "master_key_uri",
		    cfg->service.master_key_uri, "master_key_pin_file",
		    cfg->service.master_key_pin_file);
	}
	for (size_t i = 0; i < cfg->n_directories; i++) {
		const struct conf_directory *d = &cfg->directories[i];

		check_secret(&c, d, CONF_DIRECTORY, d->name, "bind_password_file",
		    d->bind_password_file, NULL);
		check_secret(&c, d, CONF_DIRECTORY, d->name, "keytab_file", d->keytab_file,
		    "export the service account's keys, e.g. samba-tool domain exportkeytab or "
		    "ktpass on Windows");
		check_readable(&c, d, CONF_DIRECTORY, d->name, "tls_ca_file", d->tls_ca_file, false,
		    NULL);
		check_secret(&c, d, CONF_DIRECTORY, d->name, "client_secret_file",
		    d->client_secret_file, "create a client secret under Certificates & secrets "
		    "of the app registration and put its Value in this file");
		check_readable(&c, d, CONF_DIRECTORY, d->name, "client_cert_file",
		    d->client_cert_file, false, "give the certificate (PEM) you uploaded to the app "
		    "registration");
		check_secret(&c, d, CONF_DIRECTORY, d->name, "client_key_file", d->client_key_file,
		    NULL);
	}
	for (size_t i = 0; i < cfg->n_cas; i++) {
		const struct conf_ca *ca = &cfg->cas[i];
		char *ca_init = xasprintf("run: smimesync ca init --ca %s", ca->name);

		if (ca->type != CA_TYPE_LOCAL) {
			check_external_ca(&c, ca);
			free(ca_init);
			continue;
		}
		check_readable(&c, ca, CONF_CA, ca->name, "cert_file", ca->cert_file, false, ca_init);
		if (cfg->service.signer_socket == NULL) {
			check_secret(&c, ca, CONF_CA, ca->name, "key_file", ca->key_file, ca_init);
			check_token_key(&c, ca, CONF_CA, ca->name, "key_uri", ca->key_uri, "pin_file",
			    ca->pin_file);
		}
		check_readable(&c, ca, CONF_CA, ca->name, "chain_file", ca->chain_file, false,
		    ca_init);
		free(ca_init);
	}
	if (cfg->has_mail) {
		const struct conf_mail *m = &cfg->mail;

		check_secret(&c, m, CONF_MAIL, NULL, "smtp_password_file", m->smtp_password_file,
		    NULL);
		check_readable(&c, m, CONF_MAIL, NULL, "tls_ca_file", m->tls_ca_file, false, NULL);
		check_readable(&c, m, CONF_MAIL, NULL, "template_dir", m->template_dir, true, NULL);
	}
	n = c.el.n;
	conf_errlist_finish(&c.el, errs);
	return n;
}
