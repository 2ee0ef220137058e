/* SPDX-License-Identifier: ISC */
/*
 * config_check_files(): what check-config verifies beyond syntax (STYLE
 * 8, 9). Secret files must exist, be private to their owner, readable and
 * not empty; CA files must exist (else "smimesync ca init" has not been
 * run); CA bundles, the template directory and its files must be readable;
 * the state directory must exist or be creatable; the CRL and metrics
 * files must land in directories this user may write. Every file that
 * steers smimesync (secrets, CA files, templates, the helper program) must
 * belong to root or to this user and not be writable by everybody: whoever
 * can change it can make smimesync sign, trust or mail what they like.
 *
 * "This user" is the process's effective user: check-config switches to
 * the service's user before calling these (cli/cmd_config.c), so every
 * answer is the one the service will get. config_check_sandbox() adds what
 * the unit's systemd sandbox hides or keeps read-only (conf/unit.h).
 * Nothing is created or changed here: check-config only looks. Each
 * message points at the directive (file:line) and says what to do.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fileutil.h"
#include "common/p11uri.h"
#include "common/xalloc.h"
#include "conf/conf_internal.h"
#include "conf/unit.h"

struct checker {
	const struct config *cfg;
	struct conf_errlist el;
	char user[64]; /* the effective user's name: the one whose rights are checked */
	uid_t service_uid; /* this process's user; for root, the state directory's owner */
	char service[64]; /* its name, for "who may own this" */
	const struct unit_sandbox *unit; /* config_check_sandbox() only */
};

/* The effective user's name ("uid 1234" when it has none). */
static void
who_am_i(char *out, size_t size)
{
	struct passwd *pw = getpwuid(geteuid());

	if (pw != NULL)
		snprintf(out, size, "%s", pw->pw_name);
	else
		snprintf(out, size, "uid %ld", (long)geteuid());
}

static void
owner_name(uid_t uid, char *out, size_t size)
{
	struct passwd *pw = getpwuid(uid);

	if (pw != NULL)
		snprintf(out, size, "%s", pw->pw_name);
	else
		snprintf(out, size, "uid %ld", (long)uid);
}

/* The directory a file lives in ("." for a bare name). New. */
static char *
dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return xstrdup(".");
	return xstrndup(path, slash == path ? 1 : (size_t)(slash - path));
}

/*
 * Who may change the file at path (st): root or this user, nobody else.
 * Returns 0, or -1 with a sentence in e.
 */
static int
check_owner(const char *service, uid_t service_uid, const char *path, const struct stat *st,
    struct errbuf *e)
{
	char owner[64];

	if (st->st_uid != 0 && st->st_uid != geteuid() && st->st_uid != service_uid) {
		owner_name(st->st_uid, owner, sizeof(owner));
		err_set(e, "%s belongs to %s, who could change it: only root or %s (the user "
		    "smimesync runs as) may own it; run: chown root %s", path, owner, service, path);
		return -1;
	}
	if ((st->st_mode & S_IWOTH) != 0 && !(S_ISDIR(st->st_mode) && (st->st_mode & S_ISVTX))) {
		err_set(e, "%s is writable by everybody (mode %04o); run: chmod o-w %s", path,
		    (unsigned)(st->st_mode & 07777), path);
		return -1;
	}
	return 0;
}

/*
 * A file this user must be able to read: say who owns it and how to let
 * the user in. "secret" picks the fix that keeps it private.
 */
static void
unreadable(struct errbuf *e, const char *user, const char *path, const struct stat *st,
    bool secret)
{
	char owner[64];

	owner_name(st->st_uid, owner, sizeof(owner));
	if (secret)
		err_set(e, "%s is not readable by user %s (owner %s, mode %04o), the user smimesync "
		    "runs as; run: chown %s %s", path, user, owner, (unsigned)(st->st_mode & 07777),
		    user, path);
	else
		err_set(e, "%s is not readable by user %s (owner %s, mode %04o), the user smimesync "
		    "runs as; let it read the file and the directories above it, e.g. chmod o+r %s",
		    path, user, owner, (unsigned)(st->st_mode & 07777), path);
}

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
	struct stat st;

	if (path == NULL)
		return;
	err_clear(&e);
	if (how_to_create != NULL && !file_exists(path)) {
		err_set(&e, "%s does not exist; %s", path, how_to_create);
		problem(c, base, kind, name, key, e.text);
		return;
	}
	/* Not readable by the user checked as: say whose it is and the chown that fixes it. */
	if (stat(path, &st) == 0 && access(path, R_OK) != 0 && errno == EACCES) {
		unreadable(&e, c->user, path, &st, true);
		problem(c, base, kind, name, key, e.text);
		return;
	}
	if (geteuid() == 0 && c->service_uid != (uid_t)-1 && st.st_uid == c->service_uid &&
	    st.st_uid != 0) {
		/*
		 * Root checks for the service: a file of the service's user is
		 * rightly its. The other secret rules still hold; the file rules
		 * of the service's own open (no link, private mode) are checked
		 * here, since file_check_secret() would want it to be root's.
		 */
		struct stat lst;

		if (lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode))
			err_set(&e, "%s: secret file is a symbolic link; refusing to follow it (name "
			    "the real file: %s = $(readlink -f %s))", path, key, path);
		else if (!S_ISREG(st.st_mode))
			err_set(&e, "%s: secret file is not a regular file", path);
		else if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
			err_set(&e, "%s: secret file is accessible by group or others (mode %04o); "
			    "run: chmod 600 %s", path, (unsigned)(st.st_mode & 07777), path);
		if (e.text[0] != '\0') {
			problem(c, base, kind, name, key, e.text);
			return;
		}
	} else if (file_check_secret(path, &e) != 0) {
		problem(c, base, kind, name, key, e.text);
		return;
	}
	if (stat(path, &st) != 0)
		return; /* file_check_secret() said it */
	if (check_owner(c->service, c->service_uid, path, &st, &e) == 0 && st.st_size == 0)
		err_set(&e, "%s is empty; put the secret in it", path);
	if (e.text[0] != '\0')
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
		unreadable(&e, c->user, path, &st, false);
	} else if (check_owner(c->service, c->service_uid, path, &st, &e) == 0) {
		if (want_dir || st.st_size > 0)
			return;
		err_set(&e, "%s is empty", path);
	}
	problem(c, base, kind, name, key, e.text);
}

/* Every file of the template directory (LANG/NAME): who may change the mails. */
static void
check_template_files(struct checker *c, const struct conf_mail *m)
{
	DIR *top = m->template_dir != NULL ? opendir(m->template_dir) : NULL;
	struct dirent *lang;

	if (top == NULL)
		return; /* check_readable() said why */
	while ((lang = readdir(top)) != NULL) {
		char *sub;
		DIR *d;
		struct dirent *f;

		if (lang->d_name[0] == '.')
			continue;
		sub = xasprintf("%s/%s", m->template_dir, lang->d_name);
		d = opendir(sub);
		while (d != NULL && (f = readdir(d)) != NULL) {
			char *path;
			struct stat st;
			struct errbuf e;

			if (f->d_name[0] == '.')
				continue;
			path = xasprintf("%s/%s", sub, f->d_name);
			err_clear(&e);
			if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
				if (access(path, R_OK) != 0)
					unreadable(&e, c->user, path, &st, false);
				else
					(void)check_owner(c->service, c->service_uid, path, &st, &e);
				if (e.text[0] != '\0')
					problem(c, m, CONF_MAIL, NULL, "template_dir", e.text);
			}
			free(path);
		}
		if (d != NULL)
			closedir(d);
		free(sub);
	}
	closedir(top);
}

/*
 * A file smimesync writes by replacing it (a temporary file in the same
 * directory, then rename): the directory must exist and be writable.
 */
static void
check_output(struct checker *c, const void *base, enum conf_kind kind, const char *name,
    const char *key, const char *path)
{
	char *dir = NULL;
	char owner[64];
	struct errbuf e;
	struct stat st;

	if (path == NULL)
		return;
	err_clear(&e);
	dir = dir_of(path);
	if (stat(dir, &st) != 0) {
		err_set(&e, "%s cannot be written: its directory %s: %s; create it, writable by "
		    "user %s", path, dir, strerror(errno), c->user);
	} else if (!S_ISDIR(st.st_mode)) {
		err_set(&e, "%s cannot be written: %s is not a directory", path, dir);
	} else if (access(dir, W_OK | X_OK) != 0) {
		owner_name(st.st_uid, owner, sizeof(owner));
		err_set(&e, "%s cannot be written: user %s may not create files in %s (owner %s, "
		    "mode %04o), and the file is replaced by renaming a new one over it; e.g. "
		    "chown %s %s", path, c->user, dir, owner, (unsigned)(st.st_mode & 07777),
		    c->user, dir);
	}
	if (e.text[0] != '\0')
		problem(c, base, kind, name, key, e.text);
	free(dir);
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
			err_set(&e, "%s is not writable by user %s: %s; run smimesync as the "
			    "directory's owner or fix its ownership (chown -R %s %s)", sv->state_dir,
			    c->user, strerror(errno), c->user, sv->state_dir);
		else if (geteuid() == 0 && st.st_uid == c->service_uid && st.st_uid != 0) {
			/* Root checks for the service, whose directory this rightly is. */
			if ((st.st_mode & (S_IRWXG | S_IRWXO)) == 0)
				return;
			err_set(&e, "%s: state directory is accessible by group or others (mode "
			    "%04o); run: chmod 700 %s", sv->state_dir, (unsigned)(st.st_mode & 07777),
			    sv->state_dir);
		} else if (file_check_private_dir(sv->state_dir, &e) == 0)
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
		err_set(&e, "%s does not exist and cannot be created: %s is not writable by user "
		    "%s; create it, owned by the user smimesync runs as (install -d -m 700 -o %s "
		    "%s)", sv->state_dir, dir, c->user, c->user, sv->state_dir);
		problem(c, sv, CONF_SERVICE, NULL, "state_dir", e.text);
	}
	free(dir);
}

/* How the service uses a file the configuration names. */
enum file_use {
	USE_SECRET,   /* reads it; it must be private to its owner */
	USE_READ,     /* reads it */
	USE_READ_DIR, /* reads the directory and what is in it */
	USE_RUN,      /* runs it */
	USE_WRITE,    /* replaces it: a temporary file in its directory, then rename */
	USE_STATE,    /* the state directory: creates, writes and locks in it */
	USE_P11,      /* a PKCS#11 URI (key_uri): the library it names is loaded */
};

struct file_ref {
	const void *base; /* the section's struct, for the directive's line */
	enum conf_kind kind;
	const char *name; /* section name, or NULL */
	const char *key;
	const char *path; /* NULL: not set, nothing to check */
	enum file_use use;
	const char *hint; /* how to create it when missing, or NULL */
};

typedef void file_fn(struct checker *c, const struct file_ref *f);

#define PIN_HINT "put the token's user PIN in it (one line), readable only by the user the " \
	"signer runs as (chmod 600)"

/* Every file and directory the configuration makes the service touch, once. */
static void
each_file(struct checker *c, file_fn *fn)
{
	const struct config *cfg = c->cfg;
	const struct conf_service *sv = &cfg->service;

#define REF(b, k, n, key, p, u, h) fn(c, &(const struct file_ref){b, k, n, key, p, u, h})
	REF(sv, CONF_SERVICE, NULL, "state_dir", sv->state_dir, USE_STATE, NULL);
	REF(sv, CONF_SERVICE, NULL, "metrics_file", sv->metrics_file, USE_WRITE, NULL);
	/*
	 * Behind signer_socket the keys (and a token's PIN) are the signer's:
	 * this user must not even see them.
	 */
	if (sv->signer_socket == NULL) {
		REF(sv, CONF_SERVICE, NULL, "master_key_file", sv->master_key_file, USE_SECRET,
		    "run: smimesync ca init (it creates the master key)");
		REF(sv, CONF_SERVICE, NULL, "master_key_uri", sv->master_key_uri, USE_P11, NULL);
		REF(sv, CONF_SERVICE, NULL, "master_key_pin_file", sv->master_key_pin_file,
		    USE_SECRET, PIN_HINT);
	}
	for (size_t i = 0; i < cfg->n_directories; i++) {
		const struct conf_directory *d = &cfg->directories[i];

		REF(d, CONF_DIRECTORY, d->name, "file", d->file, USE_READ, NULL);
		REF(d, CONF_DIRECTORY, d->name, "bind_password_file", d->bind_password_file,
		    USE_SECRET, NULL);
		REF(d, CONF_DIRECTORY, d->name, "keytab_file", d->keytab_file, USE_SECRET,
		    "export the service account's keys, e.g. samba-tool domain exportkeytab or "
		    "ktpass on Windows");
		REF(d, CONF_DIRECTORY, d->name, "tls_ca_file", d->tls_ca_file, USE_READ, NULL);
		REF(d, CONF_DIRECTORY, d->name, "client_secret_file", d->client_secret_file,
		    USE_SECRET, "create a client secret under Certificates & secrets of the app "
		    "registration and put its Value in this file");
		REF(d, CONF_DIRECTORY, d->name, "client_cert_file", d->client_cert_file, USE_READ,
		    "give the certificate (PEM) you uploaded to the app registration");
		REF(d, CONF_DIRECTORY, d->name, "client_key_file", d->client_key_file, USE_SECRET,
		    NULL);
	}
	for (size_t i = 0; i < cfg->n_cas; i++) {
		const struct conf_ca *ca = &cfg->cas[i];
		char *ca_init = xasprintf("run: smimesync ca init --ca %s --root-key-out "
		    "/path/to/offline/root.key", ca->name);

		if (ca->type == CA_TYPE_LOCAL) {
			REF(ca, CONF_CA, ca->name, "cert_file", ca->cert_file, USE_READ, ca_init);
			if (sv->signer_socket == NULL) {
				REF(ca, CONF_CA, ca->name, "key_file", ca->key_file, USE_SECRET,
				    ca_init);
				REF(ca, CONF_CA, ca->name, "key_uri", ca->key_uri, USE_P11, NULL);
				REF(ca, CONF_CA, ca->name, "pin_file", ca->pin_file, USE_SECRET,
				    PIN_HINT);
			}
			REF(ca, CONF_CA, ca->name, "chain_file", ca->chain_file, USE_READ, ca_init);
			REF(ca, CONF_CA, ca->name, "crl_file", ca->crl_file, USE_WRITE, NULL);
		} else {
			/* An external CA: what its connector reads, and the helper it runs. */
			REF(ca, CONF_CA, ca->name, "trust_anchor_file", ca->trust_anchor_file,
			    USE_READ, NULL);
			REF(ca, CONF_CA, ca->name, "chain_file", ca->chain_file, USE_READ, NULL);
			REF(ca, CONF_CA, ca->name, "tls_ca_file", ca->tls_ca_file, USE_READ, NULL);
			REF(ca, CONF_CA, ca->name, "tls_cert_file", ca->tls_cert_file, USE_READ, NULL);
			REF(ca, CONF_CA, ca->name, "tls_key_file", ca->tls_key_file, USE_SECRET, NULL);
			REF(ca, CONF_CA, ca->name, "auth_key_file", ca->auth_key_file, USE_SECRET,
			    NULL);
			REF(ca, CONF_CA, ca->name, "password_file", ca->password_file, USE_SECRET,
			    NULL);
			REF(ca, CONF_CA, ca->name, "command", ca->command, USE_RUN, NULL);
		}
		free(ca_init);
	}
	if (cfg->has_mail) {
		const struct conf_mail *m = &cfg->mail;

		REF(m, CONF_MAIL, NULL, "smtp_password_file", m->smtp_password_file, USE_SECRET,
		    NULL);
		REF(m, CONF_MAIL, NULL, "tls_ca_file", m->tls_ca_file, USE_READ, NULL);
		REF(m, CONF_MAIL, NULL, "template_dir", m->template_dir, USE_READ_DIR, NULL);
	}
#undef REF
}

static void
check_run(struct checker *c, const struct file_ref *f)
{
	struct errbuf e;
	struct stat st;

	err_clear(&e);
	if (access(f->path, X_OK) != 0)
		err_set(&e, "%s cannot be run by user %s: %s", f->path, c->user, strerror(errno));
	else if (stat(f->path, &st) == 0)
		(void)check_owner(c->service, c->service_uid, f->path, &st, &e);
	if (e.text[0] != '\0')
		problem(c, f->base, f->kind, f->name, f->key, e.text);
}

/*
 * A key on a PKCS#11 token: the library the URI names must be there. (The
 * token itself is the signer's to reach: check-config contacts nothing.)
 */
static void
check_p11(struct checker *c, const struct file_ref *f)
{
	struct p11_uri u;
	struct errbuf e;

	err_clear(&e);
	if (p11_uri_parse(f->path, &u, &e) != 0)
		return; /* the option's own check reported it */
	if (access(u.module_path, R_OK) != 0) {
		err_set(&e, "the PKCS#11 library %s cannot be read: %s; install the HSM's client "
		    "software or correct module-path", u.module_path, strerror(errno));
		problem(c, f->base, f->kind, f->name, f->key, e.text);
	}
	p11_uri_clear(&u);
}

static void
check_one(struct checker *c, const struct file_ref *f)
{
	if (f->path == NULL)
		return;
	switch (f->use) {
	case USE_SECRET:
		check_secret(c, f->base, f->kind, f->name, f->key, f->path, f->hint);
		break;
	case USE_READ:
	case USE_READ_DIR:
		check_readable(c, f->base, f->kind, f->name, f->key, f->path,
		    f->use == USE_READ_DIR, f->hint);
		if (f->use == USE_READ_DIR && f->base == &c->cfg->mail)
			check_template_files(c, &c->cfg->mail);
		break;
	case USE_RUN:
		check_run(c, f);
		break;
	case USE_WRITE:
		check_output(c, f->base, f->kind, f->name, f->key, f->path);
		break;
	case USE_STATE:
		check_state_dir(c);
		break;
	case USE_P11:
		check_p11(c, f);
		break;
	}
}

/* fn on every file the configuration names; the problems go to errs. */
static size_t
check_each(const struct config *cfg, const struct unit_sandbox *unit, file_fn *fn,
    struct conf_errors *errs)
{
	struct checker c = {cfg, {cfg->path, NULL, 0}, "", geteuid(), "", unit};
	struct stat st;
	size_t n;

	/*
	 * Root checking without --as-user: the state directory's owner is the
	 * service's user, so the files it owns are rightly its (its name goes
	 * in the messages, which then say who must be able to change what).
	 */
	if (c.service_uid == 0 && cfg->service.state_dir != NULL &&
	    stat(cfg->service.state_dir, &st) == 0 && st.st_uid != 0)
		c.service_uid = st.st_uid;
	who_am_i(c.user, sizeof(c.user));
	owner_name(c.service_uid, c.service, sizeof(c.service));
	each_file(&c, fn);
	n = c.el.n;
	conf_errlist_finish(&c.el, errs);
	return n;
}

size_t
config_check_files(const struct config *cfg, struct conf_errors *errs)
{
	return check_each(cfg, NULL, check_one, errs);
}

/* What the unit's sandbox would hide from the service or keep read-only. */
static void
check_sandboxed(struct checker *c, const struct file_ref *f)
{
	bool write = f->use == USE_WRITE || f->use == USE_STATE;
	char *dir = NULL, *why = NULL;

	/* A PKCS#11 URI is no path; the signer loads its library (KEYS ON A TOKEN). */
	if (f->path == NULL || f->use == USE_P11)
		return;
	/* A replaced file is renamed in its directory: that must be writable. */
	if (f->use == USE_WRITE)
		dir = dir_of(f->path);
	why = unit_sandbox_denies(c->unit, dir != NULL ? dir : f->path, write);
	if (why != NULL && dir != NULL) {
		char *text = xasprintf("%s cannot be written by the service: %s", f->path, why);

		problem(c, f->base, f->kind, f->name, f->key, text);
		free(text);
	} else if (why != NULL) {
		problem(c, f->base, f->kind, f->name, f->key, why);
	}
	free(why);
	free(dir);
}

size_t
config_check_sandbox(const struct config *cfg, const struct unit_sandbox *unit,
    struct conf_errors *errs)
{
	return check_each(cfg, unit, check_sandboxed, errs);
}

size_t
config_check_conf_file(const char *path, struct conf_errors *errs)
{
	struct conf_errlist el = {path, NULL, 0};
	char user[64];
	char *dir = NULL;
	struct errbuf e;
	struct stat st;
	size_t n;

	who_am_i(user, sizeof(user));
	err_clear(&e);
	if (stat(path, &st) != 0) {
		if (errno == EACCES)
			err_set(&e, "user %s cannot reach %s: a directory above it is closed to it",
			    user, path);
		else
			err_set(&e, "%s: %s", path, strerror(errno));
	} else if (access(path, R_OK) != 0) {
		char owner[64];

		owner_name(st.st_uid, owner, sizeof(owner));
		err_set(&e, "%s is not readable by user %s (owner %s, mode %04o), the user smimesync "
		    "runs as, so the service could not even start; run: chgrp %s %s && chmod 640 %s",
		    path, user, owner, (unsigned)(st.st_mode & 07777), user, path, path);
	} else if (check_owner(user, geteuid(), path, &st, &e) == 0) {
		/* Whoever may replace the file in its directory may replace the configuration. */
		dir = dir_of(path);
		if (stat(dir, &st) == 0)
			(void)check_owner(user, geteuid(), dir, &st, &e);
	}
	if (e.text[0] != '\0')
		conf_err_add(&el, 0, "%s", e.text);
	free(dir);
	n = el.n;
	conf_errlist_finish(&el, errs);
	return n;
}
