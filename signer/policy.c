/* SPDX-License-Identifier: ISC */
/* The signer's policy file: parsing and who may write it (signer/policy.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/errbuf.h"
#include "common/log.h"
#include "common/mailaddr.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "conf/options.h"
#include "signer/policy.h"
#include "smime/credential.h"
#include "smime/types.h"

#define POLICY_MAX_BYTES ((size_t)1 << 20)

struct parser {
	const char *origin;
	struct buf errs;
	size_t n_errs;
	struct policy *p;
	struct policy_ca *ca; /* the [ca] section being read, or NULL in [signer] */
	bool in_signer;
	bool seen_signer;
	/* Keys given in the current section (non-repeatable ones only once). */
	char seen[16][32];
	size_t n_seen;
};

static void
perr(struct parser *ps, int line, const char *fmt, ...) PRINTF_LIKE(3, 4);

static void
perr(struct parser *ps, int line, const char *fmt, ...)
{
	va_list ap;
	int rc;

	if (ps->errs.len > 0 && buf_putc(&ps->errs, '\n') != 0)
		fatal("out of memory");
	rc = line > 0 ? buf_printf(&ps->errs, "%s:%d: ", ps->origin, line) :
	    buf_printf(&ps->errs, "%s: ", ps->origin);
	va_start(ap, fmt);
	if (rc != 0 || buf_vprintf(&ps->errs, fmt, ap) != 0)
		fatal("out of memory");
	va_end(ap);
	ps->n_errs++;
}

static void
push(char ***v, size_t *n, const char *s)
{
	*v = xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[(*n)++] = xstrdup(s);
}

/* Split a comma list into trimmed words; calls f for each non-empty one. */
static void
each_word(struct parser *ps, int line, const char *key, const char *value,
    void (*f)(struct parser *, int, const char *))
{
	char *copy = xstrdup(value);
	char *save = NULL;
	size_t n = 0;

	for (char *w = strtok_r(copy, ",", &save); w != NULL; w = strtok_r(NULL, ",", &save)) {
		char *t = str_trim(w);

		if (t[0] == '\0')
			continue;
		f(ps, line, t);
		n++;
	}
	if (n == 0)
		perr(ps, line, "%s is empty; name at least one value", key);
	free(copy);
}

static void
add_domain(struct parser *ps, int line, const char *d)
{
	char *probe;
	char *lower;

	if (strcmp(d, "*") == 0) {
		ps->ca->any_domain = true;
		return;
	}
	probe = xasprintf("x@%s", d);
	if (!mailaddr_valid(probe, strlen(probe), MAILADDR_DOTTED))
		perr(ps, line, "mail_domains: \"%s\" is not a domain name (letters, digits, '-' "
		    "and dots, at least two labels), nor *", d);
	free(probe);
	lower = xstrdup(d);
	for (char *c = lower; *c != '\0'; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	push(&ps->ca->domains, &ps->ca->n_domains, lower);
	free(lower);
}

static void
add_profile(struct parser *ps, int line, const char *w)
{
	static const char *const names[] = CERT_PROFILE_NAMES;

	for (int i = 0; names[i] != NULL; i++) {
		if (strcmp(names[i], w) == 0) {
			ps->ca->profiles |= 1u << i;
			return;
		}
	}
	perr(ps, line, "profiles: \"%s\" is not a profile (mailbox-strict, mailbox-multipurpose, "
	    "organization-strict, organization-multipurpose)", w);
}

static void
add_key_type(struct parser *ps, int line, const char *w)
{
	static const char *const names[] = KEY_TYPE_NAMES;

	for (int i = 0; names[i] != NULL; i++) {
		if (strcmp(names[i], w) == 0) {
			ps->ca->key_types |= 1u << i;
			return;
		}
	}
	perr(ps, line, "key_types: \"%s\" is not a key type (rsa2048, rsa3072, rsa4096, p256, "
	    "p384)", w);
}

/* Is key already given in this section? Records it. */
static bool
repeated(struct parser *ps, const char *key)
{
	for (size_t i = 0; i < ps->n_seen; i++)
		if (strcmp(ps->seen[i], key) == 0)
			return true;
	if (ps->n_seen < sizeof(ps->seen) / sizeof(ps->seen[0]))
		snprintf(ps->seen[ps->n_seen++], sizeof(ps->seen[0]), "%s", key);
	return false;
}

static void
set_str(struct parser *ps, int line, const char *key, char **field, const char *value)
{
	if (repeated(ps, key)) {
		perr(ps, line, "%s is given twice in this section", key);
		return;
	}
	if (value[0] == '\0') {
		perr(ps, line, "%s is empty", key);
		return;
	}
	free(*field);
	*field = xstrdup(value);
}

/* A PKCS#11 URI naming a private key (ca_key.h), checked as smimesync.conf does. */
static void
check_uri(struct parser *ps, int line, const char *key, const char *value)
{
	struct errbuf why;

	if (value != NULL && conf_check_pkcs11_uri(value, &why) != 0)
		perr(ps, line, "%s: %s", key, why.text);
}

static void
check_credential(struct parser *ps, int line, const char *key, const char *value)
{
	struct errbuf why;

	if (value != NULL && conf_check_credential_name(value, &why) != 0)
		perr(ps, line, "%s: %s", key, why.text);
}

static void
signer_key(struct parser *ps, int line, const char *key, const char *value)
{
	struct policy *p = ps->p;

	if (strcmp(key, "state_dir") == 0) {
		set_str(ps, line, key, &p->state_dir, value);
	} else if (strcmp(key, "master_key_file") == 0) {
		set_str(ps, line, key, &p->master_key_file, value);
	} else if (strcmp(key, "master_key_uri") == 0) {
		set_str(ps, line, key, &p->master_key_uri, value);
		check_uri(ps, line, key, p->master_key_uri);
	} else if (strcmp(key, "master_key_pin_file") == 0) {
		set_str(ps, line, key, &p->master_key_pin_file, value);
	} else if (strcmp(key, "master_key_pin_credential") == 0) {
		set_str(ps, line, key, &p->master_key_pin_credential, value);
		check_credential(ps, line, key, p->master_key_pin_credential);
	} else if (strcmp(key, "client_user") == 0) {
		set_str(ps, line, key, &p->client_user, value);
	} else if (strcmp(key, "max_certificates_per_hour") == 0) {
		if (repeated(ps, key))
			perr(ps, line, "%s is given twice in this section", key);
		else if (parse_int64(value, 0, 100000000, &p->max_per_hour) != 0)
			perr(ps, line, "max_certificates_per_hour: \"%s\" is not a number from 0 to "
			    "100000000", value);
	} else if (strcmp(key, "recovery_credential") == 0) {
		struct errbuf e;

		set_str(ps, line, key, &p->recovery_credential, value);
		if (p->recovery_credential != NULL &&
		    credential_verifier_check(p->recovery_credential, &e) != 0)
			perr(ps, line, "recovery_credential: %s", e.text);
	} else {
		perr(ps, line, "[signer] has no key \"%s\" (state_dir, master_key_file, "
		    "master_key_uri, master_key_pin_file, master_key_pin_credential, client_user, "
		    "max_certificates_per_hour, recovery_credential)", key);
	}
}

static void
ca_key(struct parser *ps, int line, const char *key, const char *value)
{
	struct policy_ca *ca = ps->ca;
	static const struct {
		const char *key;
		size_t off;
	} paths[] = {
		{"cert_file", offsetof(struct policy_ca, cert_file)},
		{"key_file", offsetof(struct policy_ca, key_file)},
		{"pin_file", offsetof(struct policy_ca, pin_file)},
		{"pin_credential", offsetof(struct policy_ca, pin_credential)},
		{"chain_file", offsetof(struct policy_ca, chain_file)},
		{"crl_url", offsetof(struct policy_ca, crl_url)},
		{"aia_url", offsetof(struct policy_ca, aia_url)},
	};

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		if (strcmp(key, paths[i].key) == 0) {
			set_str(ps, line, key, (char **)((char *)ca + paths[i].off), value);
			if (strcmp(key, "key_file") == 0 && ca->key_file != NULL &&
			    strncmp(ca->key_file, "pkcs11:", 7) == 0)
				check_uri(ps, line, key, ca->key_file);
			else if (strcmp(key, "pin_credential") == 0)
				check_credential(ps, line, key, ca->pin_credential);
			return;
		}
	}
	if (strcmp(key, "organization") == 0) {
		push(&ca->organizations, &ca->n_organizations, value);
	} else if (strcmp(key, "organization_identifier") == 0) {
		push(&ca->organization_ids, &ca->n_organization_ids, value);
	} else if (strcmp(key, "mail_domains") == 0 || strcmp(key, "profiles") == 0 ||
	    strcmp(key, "key_types") == 0) {
		if (repeated(ps, key)) {
			perr(ps, line, "%s is given twice in this section; list every value on "
			    "one line, separated by commas", key);
			return;
		}
		each_word(ps, line, key, value, key[0] == 'm' ? add_domain :
		    key[0] == 'p' ? add_profile : add_key_type);
	} else if (strcmp(key, "max_validity") == 0) {
		int64_t v = 0;

		if (repeated(ps, key))
			perr(ps, line, "%s is given twice in this section", key);
		else if (parse_duration(value, &v) != 0 || v <= 0)
			perr(ps, line, "max_validity: \"%s\" is not a duration such as 365d", value);
		else if (v > POLICY_MAX_VALIDITY)
			perr(ps, line, "max_validity: %s is longer than 825 days, the S/MIME BR "
			    "maximum", value);
		else
			ca->max_validity = v;
	} else {
		perr(ps, line, "[ca %s] has no key \"%s\" (cert_file, key_file, pin_file, "
		    "pin_credential, chain_file, "
		    "crl_url, aia_url, mail_domains, profiles, key_types, organization, "
		    "organization_identifier, max_validity)", ca->name, key);
	}
}

/* Required keys of the section that just ended. */
static void
finish_section(struct parser *ps)
{
	struct policy_ca *ca = ps->ca;

	if (ps->in_signer && ps->p->state_dir == NULL)
		perr(ps, 0, "[signer] has no state_dir; name the directory of the signing log");
	if (ca == NULL)
		return;
	if (ca->cert_file == NULL)
		perr(ps, ca->line, "[ca %s] has no cert_file", ca->name);
	if (ca->key_file == NULL)
		perr(ps, ca->line, "[ca %s] has no key_file", ca->name);
	if (!ca->any_domain && ca->n_domains == 0)
		perr(ps, ca->line, "[ca %s] has no mail_domains: list the domains it may certify "
		    "(or * for any)", ca->name);
	if (ca->any_domain && ca->n_domains > 0)
		perr(ps, ca->line, "[ca %s]: mail_domains lists * and domains; give either", ca->name);
}

static void
section(struct parser *ps, int line, char *head)
{
	char *close = strchr(head, ']');
	char *name, *rest;

	finish_section(ps);
	ps->ca = NULL;
	ps->in_signer = false;
	ps->n_seen = 0;
	if (close == NULL || str_trim(close + 1)[0] != '\0') {
		perr(ps, line, "a section header is [signer] or [ca NAME]");
		return;
	}
	*close = '\0';
	name = str_trim(head + 1);
	if (strcmp(name, "signer") == 0) {
		if (ps->seen_signer)
			perr(ps, line, "[signer] is given twice");
		ps->seen_signer = true;
		ps->in_signer = true;
		return;
	}
	if (strncmp(name, "ca", 2) != 0 || (name[2] != ' ' && name[2] != '\t')) {
		perr(ps, line, "unknown section [%s]: a section header is [signer] or [ca NAME]", name);
		return;
	}
	rest = str_trim(name + 3);
	if (rest[0] == '\0' || strpbrk(rest, " \t") != NULL) {
		perr(ps, line, "[ca NAME] needs one word as NAME");
		return;
	}
	for (size_t i = 0; i < ps->p->n_cas; i++) {
		if (strcmp(ps->p->cas[i].name, rest) == 0) {
			perr(ps, line, "[ca %s] is given twice", rest);
			return;
		}
	}
	ps->p->cas = xrealloc(ps->p->cas, (ps->p->n_cas + 1) * sizeof(*ps->p->cas));
	ps->ca = &ps->p->cas[ps->p->n_cas++];
	memset(ps->ca, 0, sizeof(*ps->ca));
	ps->ca->name = xstrdup(rest);
	ps->ca->line = line;
	ps->ca->max_validity = POLICY_MAX_VALIDITY;
}

int
policy_parse(const char *text, size_t len, const char *origin, struct policy **out,
    char **errors)
{
	struct parser ps;
	char *copy = NULL, *save = NULL;
	int line = 0;

	*out = NULL;
	*errors = NULL;
	memset(&ps, 0, sizeof(ps));
	buf_init(&ps.errs, 0);
	ps.origin = origin;
	ps.p = xcalloc(1, sizeof(*ps.p));
	ps.p->origin = xstrdup(origin);
	ps.p->max_per_hour = POLICY_DEFAULT_PER_HOUR;
	if (memchr(text, '\0', len) != NULL || !str_is_utf8(text, len)) {
		perr(&ps, 0, "the file holds a NUL byte or is not UTF-8");
		goto done;
	}
	copy = xstrndup(text, len);
	/* strtok_r would skip empty lines and lose the count: split by hand. */
	for (char *p = copy; p != NULL; p = save) {
		char *nl = strchr(p, '\n');
		char *t, *eq;

		save = nl != NULL ? nl + 1 : NULL;
		if (nl != NULL)
			*nl = '\0';
		line++;
		t = str_trim(p);
		if (t[0] == '\0' || t[0] == '#')
			continue;
		if (str_has_control(t)) {
			perr(&ps, line, "control character in the line");
			continue;
		}
		if (t[0] == '[') {
			section(&ps, line, t);
			continue;
		}
		eq = strchr(t, '=');
		if (eq == NULL) {
			perr(&ps, line, "expected \"key = value\", a [section] or a # comment");
			continue;
		}
		*eq = '\0';
		if (ps.in_signer)
			signer_key(&ps, line, str_trim(t), str_trim(eq + 1));
		else if (ps.ca != NULL)
			ca_key(&ps, line, str_trim(t), str_trim(eq + 1));
		else if (!ps.seen_signer && ps.p->n_cas == 0)
			perr(&ps, line, "\"%s\" outside a section: start with [signer]", str_trim(t));
	}
	finish_section(&ps);
	if (!ps.seen_signer)
		perr(&ps, 0, "no [signer] section");
done:
	free(copy);
	if (ps.n_errs > 0) {
		*errors = buf_steal(&ps.errs, NULL);
		policy_free(ps.p);
		return -1;
	}
	buf_free(&ps.errs);
	*out = ps.p;
	return 0;
}

static void
free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
policy_free(struct policy *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->n_cas; i++) {
		struct policy_ca *ca = &p->cas[i];

		free(ca->name);
		free(ca->cert_file);
		free(ca->key_file);
		free(ca->pin_file);
		free(ca->pin_credential);
		free(ca->chain_file);
		free(ca->crl_url);
		free(ca->aia_url);
		free_list(ca->domains, ca->n_domains);
		free_list(ca->organizations, ca->n_organizations);
		free_list(ca->organization_ids, ca->n_organization_ids);
	}
	free(p->cas);
	free(p->origin);
	free(p->state_dir);
	free(p->master_key_file);
	free(p->master_key_uri);
	free(p->master_key_pin_file);
	free(p->master_key_pin_credential);
	free(p->client_user);
	free(p->recovery_credential);
	free(p);
}

/* May the owner of st, with its mode, be trusted with the policy? NULL yes, else why. */
static const char *
untrusted(const struct stat *st, enum policy_owner owner)
{
	if (st->st_uid != 0 && (owner == POLICY_ROOT_ONLY || st->st_uid != geteuid()))
		return owner == POLICY_ROOT_ONLY ? "does not belong to root" :
		    "belongs neither to root nor to this user";
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) != 0)
		return "is writable by its group or by others";
	return NULL;
}

int
policy_load(const char *path, enum policy_owner owner, struct policy **out, char **errors)
{
	struct stat st, dst;
	char *dir = NULL, *slash, *text = NULL;
	const char *why;
	size_t len = 0;
	ssize_t r;
	int fd = -1, rc = -1;

	*out = NULL;
	*errors = NULL;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		*errors = xasprintf("%s: cannot open the signer's policy: %s%s", path,
		    strerror(errno), errno == ELOOP ? " (a symbolic link is not accepted)" : "");
		goto out;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		*errors = xasprintf("%s: the signer's policy is not a regular file", path);
		goto out;
	}
	if ((why = untrusted(&st, owner)) != NULL) {
		*errors = xasprintf("%s %s: whoever can change the policy decides what the CA "
		    "signs; run: chown root:root %s && chmod 644 %s", path, why, path, path);
		goto out;
	}
	dir = xstrdup(path);
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else if (slash != NULL)
		*slash = '\0';
	else
		dir[0] = '.', dir[1] = '\0';
	if (stat(dir, &dst) != 0 || (why = untrusted(&dst, owner)) != NULL) {
		*errors = xasprintf("%s: its directory %s %s: anyone who can write there can replace "
		    "the policy; run: chown root %s && chmod go-w %s", path, dir,
		    why != NULL ? why : "cannot be checked", dir, dir);
		goto out;
	}
	if (st.st_size > (off_t)POLICY_MAX_BYTES) {
		*errors = xasprintf("%s: the signer's policy is larger than 1 MiB", path);
		goto out;
	}
	text = xmalloc((size_t)st.st_size + 1);
	while (len < (size_t)st.st_size) {
		r = read(fd, text + len, (size_t)st.st_size - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	text[len] = '\0';
	rc = policy_parse(text, len, path, out, errors);
out:
	if (fd >= 0)
		close(fd);
	free(dir);
	free(text);
	return rc;
}

char *
policy_warnings(const struct policy *p)
{
	struct buf b;

	buf_init(&b, 0);
	for (size_t i = 0; i < p->n_cas; i++) {
		if (p->cas[i].any_domain &&
		    buf_printf(&b, "%s[ca %s] allows any mail domain (mail_domains = *) in %s: list "
		    "the domains this CA may certify", b.len > 0 ? "\n" : "", p->cas[i].name,
		    p->origin) != 0)
			fatal("out of memory");
	}
	for (size_t i = 0; i < p->n_cas; i++) {
		if ((p->cas[i].profiles == 0 || p->cas[i].key_types == 0) &&
		    buf_printf(&b, "%s[ca %s] in %s signs no certificate (no profiles or no "
		    "key_types): only CRLs", b.len > 0 ? "\n" : "", p->cas[i].name, p->origin) != 0)
			fatal("out of memory");
	}
	if (p->recovery_credential == NULL &&
	    buf_printf(&b, "%sno recovery_credential in %s: smimesync recover and resend are "
	    "refused", b.len > 0 ? "\n" : "", p->origin) != 0)
		fatal("out of memory");
	if (b.len == 0) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b, NULL);
}
