/* SPDX-License-Identifier: ISC */
/* The signer policy a configuration implies (smime/signer_policy.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/fileutil.h"
#include "common/log.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "smime/credential.h"
#include "smime/signer_policy.h"
#include "smime/types.h"

char *
signer_policy_path(const struct config *cfg)
{
	const char *slash;

	if (cfg->service.signer_policy != NULL)
		return xstrdup(cfg->service.signer_policy);
	slash = cfg->path != NULL ? strrchr(cfg->path, '/') : NULL;
	if (slash == NULL)
		return xstrdup("signer.conf");
	return xasprintf("%.*s/signer.conf", (int)(slash - cfg->path), cfg->path);
}

int
signer_policy_file(const struct config *cfg, char **path, struct errbuf *e)
{
	char *p = signer_policy_path(cfg);

	*path = NULL;
	if (file_exists(p)) {
		*path = p;
		return 0;
	}
	if (cfg->service.signer_policy != NULL) {
		err_set(e, "[service] signer_policy %s does not exist; write it with \"smimesync "
		    "ca policy --write\" and review it, or remove the line to let the signer use a "
		    "policy derived from this configuration", p);
		free(p);
		return -1;
	}
	free(p);
	return 0;
}

static void
put(struct buf *b, const char *fmt, ...) PRINTF_LIKE(2, 3);

static void
put(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = buf_vprintf(b, fmt, ap);
	va_end(ap);
	if (rc != 0)
		fatal("out of memory");
}

static bool
seen(const char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

/* The [ca NAME] section for conf from the groups that use it. */
static void
derive_ca(struct buf *b, const struct config *cfg, const struct conf_ca *ca)
{
	const char **orgs = xcalloc(cfg->n_groups + 1, sizeof(*orgs));
	const char **ids = xcalloc(cfg->n_groups + 1, sizeof(*ids));
	size_t n_orgs = 0, n_ids = 0;
	unsigned profiles = 0, key_types = 0;
	int64_t longest = 0;
	char dur[32];
	bool first;

	for (size_t i = 0; i < cfg->n_groups; i++) {
		const struct conf_group *g = &cfg->groups[i];

		if (g->ca != ca)
			continue;
		profiles |= 1u << g->profile;
		key_types |= 1u << g->key_type;
		if (g->validity > longest)
			longest = g->validity;
		if (g->organization != NULL && !seen(orgs, n_orgs, g->organization))
			orgs[n_orgs++] = g->organization;
		if (g->organization_identifier != NULL &&
		    !seen(ids, n_ids, g->organization_identifier))
			ids[n_ids++] = g->organization_identifier;
	}
	put(b, "\n[ca %s]\n", ca->name);
	put(b, "cert_file = %s\n", ca->cert_file != NULL ? ca->cert_file : "");
	/* A key on a token: the signer loads it by URI and reads the PIN itself. */
	put(b, "key_file = %s\n", ca->key_uri != NULL ? ca->key_uri :
	    ca->key_file != NULL ? ca->key_file : "");
	if (ca->key_uri != NULL && ca->pin_file != NULL)
		put(b, "pin_file = %s\n", ca->pin_file);
	if (ca->key_uri != NULL && ca->pin_credential != NULL)
		put(b, "pin_credential = %s\n", ca->pin_credential);
	if (ca->chain_file != NULL)
		put(b, "chain_file = %s\n", ca->chain_file);
	if (ca->crl_url != NULL)
		put(b, "crl_url = %s\n", ca->crl_url);
	if (ca->aia_url != NULL)
		put(b, "aia_url = %s\n", ca->aia_url);
	put(b, "# REVIEW: any domain. List the domains this CA may certify, e.g.\n"
	    "# mail_domains = example.org, example.com\n");
	put(b, "mail_domains = *\n");
	if (profiles == 0) {
		put(b, "# No group uses this CA: it signs CRLs, and no certificate.\n");
		goto lists;
	}
	put(b, "profiles =");
	first = true;
	for (int p = PROFILE_MAILBOX_STRICT; p <= PROFILE_ORGANIZATION_MULTIPURPOSE; p++) {
		if (profiles & (1u << p)) {
			put(b, "%s %s", first ? "" : ",", cert_profile_name((enum cert_profile)p));
			first = false;
		}
	}
	put(b, "\nkey_types =");
	first = true;
	for (int k = KEY_TYPE_RSA2048; k <= KEY_TYPE_P384; k++) {
		if (key_types & (1u << k)) {
			put(b, "%s %s", first ? "" : ",", key_type_name((enum key_type)k));
			first = false;
		}
	}
	put(b, "\n");
lists:
	for (size_t i = 0; i < n_orgs; i++)
		put(b, "organization = %s\n", orgs[i]);
	for (size_t i = 0; i < n_ids; i++)
		put(b, "organization_identifier = %s\n", ids[i]);
	if (longest > 0) {
		format_duration(longest, dur, sizeof(dur));
		put(b, "max_validity = %s\n", dur);
	}
	free(orgs);
	free(ids);
}

/* The policy without its recovery_credential line, which the caller adds. */
static char *
derive(const struct config *cfg, const char *credential_line)
{
	struct buf b;
	char *state = cfg->service.state_dir != NULL ?
	    xasprintf("%s/signer", cfg->service.state_dir) : xstrdup("signer");

	buf_init(&b, 0);
	put(&b, "# Policy of smimesync-signer, derived from %s.\n"
	    "# The signer signs nothing this file does not allow; see smimesync-signer(8).\n"
	    "# Behind [service] signer_socket it must belong to root and be writable by\n"
	    "# nobody else.\n"
	    "[signer]\n", cfg->path != NULL ? cfg->path : "the configuration");
	put(&b, "state_dir = %s\n", cfg->service.signer_socket != NULL ?
	    SMIMESYNC_SIGNER_STATEDIR : state);
	if (cfg->service.master_key_file != NULL)
		put(&b, "master_key_file = %s\n", cfg->service.master_key_file);
	if (cfg->service.master_key_uri != NULL)
		put(&b, "master_key_uri = %s\n", cfg->service.master_key_uri);
	if (cfg->service.master_key_pin_file != NULL)
		put(&b, "master_key_pin_file = %s\n", cfg->service.master_key_pin_file);
	if (cfg->service.master_key_pin_credential != NULL)
		put(&b, "master_key_pin_credential = %s\n", cfg->service.master_key_pin_credential);
	if (cfg->service.signer_socket != NULL)
		put(&b, "client_user = smimesync\n");
	put(&b, "max_certificates_per_hour = 10000\n");
	if (credential_line != NULL)
		put(&b, "%s", credential_line);
	else
		put(&b, "# No recovery_credential: smimesync recover and resend are refused.\n");
	for (size_t i = 0; i < cfg->n_cas; i++)
		if (cfg->cas[i].type == CA_TYPE_LOCAL)
			derive_ca(&b, cfg, &cfg->cas[i]);
	free(state);
	return buf_steal(&b, NULL);
}

char *
signer_policy_derive(const struct config *cfg)
{
	return derive(cfg, NULL);
}

/* Create path with mode, refusing to replace anything (O_EXCL), and write all of data. */
static int
write_new(const char *path, const char *data, mode_t mode, struct errbuf *e)
{
	size_t len = strlen(data), off = 0;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);

	if (fd < 0) {
		err_set(e, "cannot create %s: %s", path, strerror(errno));
		return -1;
	}
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			err_set(e, "cannot write %s: %s", path, strerror(errno));
			close(fd);
			(void)unlink(path);
			return -1;
		}
		off += (size_t)w;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		err_set(e, "cannot write %s: %s", path, strerror(errno));
		(void)unlink(path);
		return -1;
	}
	return 0;
}

int
signer_policy_write(const struct config *cfg, const char *path, const char *credential_path,
    struct errbuf *e)
{
	char *credential = NULL, *verifier = NULL, *line = NULL, *text = NULL, *cred_text = NULL;
	int rc = -1;

	if (file_exists(path)) {
		err_set(e, "%s already exists", path);
		return -1;
	}
	credential = credential_generate();
	verifier = credential_verifier(credential);
	line = xasprintf("# The operator credential smimesync recover and resend need (its "
	    "verifier;\n# the credential itself is in %s).\nrecovery_credential = %s\n",
	    credential_path, verifier);
	text = derive(cfg, line);
	cred_text = xasprintf("%s\n", credential);
	if (write_new(credential_path, cred_text, 0600, e) != 0)
		goto out;
	if (write_new(path, text, 0644, e) != 0) {
		(void)unlink(credential_path);
		goto out;
	}
	rc = 0;
out:
	secret_free_str(credential);
	secret_free_str(cred_text);
	free(verifier);
	free(line);
	free(text);
	return rc;
}
