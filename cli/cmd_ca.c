/* SPDX-License-Identifier: ISC */
/*
 * The internal CA's life, run by an administrator:
 *
 *   ca init [--ca NAME] --root-key-out FILE [--pkcs11 URI]
 *       the master key, a root and an issuing CA; the root key goes to
 *       FILE only (offline from then on); with a token (key_uri), the
 *       issuing key is made inside it or one already there is used.
 *   ca renew-issuing [--ca NAME] --root-key FILE
 *       a new certificate for the same issuing key, with what the groups
 *       need now, signed by the root key brought back for that moment.
 *   ca policy [--write]
 *       the signer's policy this configuration asks for (ca init writes
 *       it beside the configuration when there is none).
 *
 * Neither starts the signer: making and certifying CA keys is their whole
 * job, and the root key must never reach a long-running process.
 */
#include "config.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fileutil.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "conf/conf.h"
#include "smime/ca.h"
#include "smime/escrow.h"
#include "smime/signer_policy.h"
#include "cli/commands.h"

#define CA_USAGE "usage: smimesync ca init [--ca NAME] --root-key-out FILE [--pkcs11 URI]\n" \
	"       smimesync ca renew-issuing [--ca NAME] --root-key FILE\n" \
	"       smimesync ca policy [--write]\n"

static const struct conf_ca *
pick_ca(const struct config *cfg, const char *name)
{
	if (name != NULL)
		return config_find_ca(cfg, name);
	for (size_t i = 0; i < cfg->n_cas; i++)
		if (cfg->cas[i].type == CA_TYPE_LOCAL)
			return &cfg->cas[i];
	/* Only external CAs: "ca init" still has the master key to make. */
	return cfg->n_cas > 0 ? &cfg->cas[0] : NULL;
}

/* "mailbox-strict, organization-multipurpose" (static buffer of the caller). */
static void
profiles_text(unsigned mask, char *out, size_t size)
{
	size_t used = 0;

	out[0] = '\0';
	for (int p = PROFILE_MAILBOX_STRICT; p <= PROFILE_ORGANIZATION_MULTIPURPOSE; p++) {
		if ((mask & CERT_PROFILE_BIT(p)) == 0 || used >= size)
			continue;
		used += (size_t)snprintf(out + used, size - used, "%s%s", used > 0 ? ", " : "",
		    cert_profile_name((enum cert_profile)p));
	}
}

/*
 * The signer's policy beside the configuration, when there is none yet:
 * derived from the configuration, with a new recovery credential.
 */
static int
write_policy(const struct config *cfg, bool from_init)
{
	char *path = signer_policy_path(cfg);
	char *cred = NULL, *dir = NULL, *slash;
	struct errbuf e;
	int rc = 0;

	if (file_exists(path)) {
		printf("the signer's policy %s exists: it was left as it is; a new [ca] must be "
		    "added to it by hand (smimesync ca policy prints what this configuration "
		    "asks for)\n", path);
		goto out;
	}
	slash = strrchr(path, '/');
	dir = slash != NULL ? xasprintf("%.*s", (int)(slash - path), path) : xstrdup(".");
	/*
	 * The packaged layout: ca init runs as the service's user, and the
	 * configuration's directory belongs to root. That is right (a policy the
	 * service could edit would bind nothing), so leave the policy to root.
	 */
	if (from_init && access(dir, W_OK) != 0) {
		printf("the signer's policy %s was not written: this user cannot write to %s "
		    "(root's, as it should be). Until it exists the signer enforces the policy "
		    "derived from this configuration (smimesync ca policy prints it). To pin it "
		    "and create the recovery credential that recover and resend need, run as "
		    "root: smimesync ca policy --write\n", path, dir);
		goto out;
	}
	cred = slash != NULL ? xasprintf("%.*s/recovery.credential", (int)(slash - path), path) :
	    xstrdup("recovery.credential");
	if (signer_policy_write(cfg, path, cred, &e) != 0) {
		fprintf(stderr, "smimesync: the signer's policy: %s\n", e.text);
		rc = -1;
		goto out;
	}
	printf("wrote the signer's policy %s: review it (mail_domains = * allows any domain: "
	    "list yours); behind [service] signer_socket it must belong to root\n", path);
	printf("wrote the recovery credential %s (mode 0600): smimesync recover and resend need "
	    "it (--credential FILE); keep it with the operators, away from smimesync's user\n",
	    cred);
out:
	free(dir);
	free(cred);
	free(path);
	return rc;
}

/* ca policy [--write]: what the signer's policy must allow for this configuration. */
static int
ca_policy(int argc, char **argv, const struct cli_options *cli)
{
	struct config *cfg = NULL;
	bool write = false;
	int rc = 1;

	if (argc == 2 && strcmp(argv[1], "--write") == 0)
		write = true;
	else if (argc != 1) {
		fprintf(stderr, "usage: smimesync ca policy [--write]\n");
		return EXIT_USAGE;
	}
	cfg = commands_load_config(cli);
	if (cfg == NULL)
		return 1;
	if (write) {
		rc = write_policy(cfg, false) == 0 ? 0 : 1;
	} else {
		char *text = signer_policy_derive(cfg);

		fputs(text, stdout);
		free(text);
		rc = 0;
	}
	config_free(cfg);
	return rc;
}

static int
ca_init_cmd(struct config *cfg, const struct conf_ca *ca, const char *root_key_out,
    const char *pkcs11)
{
	struct ca_init_params p;
	struct errbuf e;
	char profiles[160];

	err_clear(&e);
	memset(&p, 0, sizeof(p));
	if (pkcs11 != NULL && ca->type == CA_TYPE_LOCAL &&
	    (ca->key_uri == NULL || strcmp(ca->key_uri, pkcs11) != 0)) {
		fprintf(stderr, "smimesync: [ca %s] must name the same key, or the signer will not "
		    "find it: put\n    key_uri = %s\n    pin_file = /etc/smimesync/token.pin   # or "
		    "pin_credential\ninto [ca %s] in %s (instead of key_file), then run ca init "
		    "again\n", ca->name, pkcs11, ca->name, cfg->path);
		return 1;
	}
	/* Fail before the master key exists if the CA would be refused anyway. */
	if (ca->type == CA_TYPE_LOCAL && root_key_out == NULL) {
		fprintf(stderr, "smimesync: ca init writes the root key only where you say: add "
		    "--root-key-out FILE (removable media, an offline machine's share), never "
		    "beside the issuing key\n" CA_USAGE);
		return EXIT_USAGE;
	}
	if (!file_exists(cfg->service.master_key_file)) {
		/* No signer: making the first keys is this command's whole job. */
		if (master_key_create_for(&cfg->service, cfg->service.master_key_file, &e) != 0) {
			fprintf(stderr, "smimesync: %s\n", e.text);
			return 1;
		}
		if (cfg->service.master_key_uri != NULL)
			printf("created master key %s, sealed under %s: the file opens nothing "
			    "without that token; back both up\n", cfg->service.master_key_file,
			    cfg->service.master_key_uri);
		else
			printf("created master key %s (mode 0600): back it up; without it escrowed "
			    "keys and queued mails cannot be read\n", cfg->service.master_key_file);
	}
	if (ca->type != CA_TYPE_LOCAL) {
		printf("[ca %s] is an external CA (type %s): it keeps its own keys, so there is "
		    "nothing more to create here\n", ca->name, ca_type_name(ca->type));
		return write_policy(cfg, true) == 0 ? 0 : 1;
	}
	p.root_key_out = root_key_out;
	p.profiles = ca_profiles_used(cfg, ca);
	p.state_dir = cfg->service.state_dir;
	p.master_key_file = cfg->service.master_key_file;
	if (ca_init(ca, &p, &e) != 0) {
		fprintf(stderr, "smimesync: [ca %s] %s\n", ca->name, e.text);
		return 1;
	}
	profiles_text(p.profiles, profiles, sizeof(profiles));
	printf("created [ca %s]:\n  issuing certificate %s (for %s)\n", ca->name, ca->cert_file,
	    profiles);
	if (ca->key_uri != NULL)
		printf("  issuing key         %s\n                      (%s inside the token; it "
		    "never leaves it)\n", ca->key_uri, p.token_key_created ? "generated" :
		    "found, as a key ceremony made it,");
	else
		printf("  issuing key         %s (mode 0600)\n", ca->key_file);
	printf("  chain               %s\n"
	    "  root key            %s (mode 0600)\n"
	    "\n"
	    "The root key is needed again only to re-certify the issuing CA (smimesync ca\n"
	    "renew-issuing --root-key FILE). Take it offline now:\n"
	    "  1. copy %s to two removable media (or an offline machine),\n"
	    "     encrypted, e.g. openssl pkey -aes256 -in FILE -out root-key.pem,\n"
	    "     and keep them in separate safes;\n"
	    "  2. check each copy: openssl pkey -in COPY -noout (it asks for the passphrase);\n"
	    "  3. destroy this one: shred -u %s\n"
	    "To renew the issuing CA, bring one copy back for that moment only.\n",
	    ca->chain_file, root_key_out, root_key_out, root_key_out);
	return write_policy(cfg, true) == 0 ? 0 : 1;
}

static int
renew_cmd(struct config *cfg, const struct conf_ca *ca, const char *root_key)
{
	struct ca_renewal r;
	struct errbuf e;
	char profiles[160], was[32], until[32];
	unsigned mask;

	err_clear(&e);
	if (ca->type != CA_TYPE_LOCAL) {
		fprintf(stderr, "smimesync: [ca %s] is an external CA (type %s); its operator "
		    "renews it\n", ca->name, ca_type_name(ca->type));
		return 1;
	}
	mask = ca_profiles_used(cfg, ca);
	if (ca_renew_issuing(ca, root_key, mask, &r, &e) != 0) {
		fprintf(stderr, "smimesync: [ca %s] %s\n", ca->name, e.text);
		return 1;
	}
	profiles_text(mask, profiles, sizeof(profiles));
	format_time_utc(r.old_not_after, was, sizeof(was));
	format_time_utc(r.new_not_after, until, sizeof(until));
	printf("renewed the issuing CA of [ca %s] (same key, same name):\n"
	    "  new certificate  serial %s, valid until %s, for %s\n"
	    "  replaced         serial %s (valid until %s; not revoked: every certificate\n"
	    "                   it signed keeps validating with either)\n"
	    "  written          %s and %s\n"
	    "The root key was used in memory only: put %s back offline.\n",
	    ca->name, r.new_serial, until, profiles, r.old_serial, was, ca->cert_file,
	    ca->chain_file, root_key);
	return 0;
}

int
cmd_ca(int argc, char **argv, const struct cli_options *cli)
{
	static const struct option longopts[] = {
		{ "ca", required_argument, NULL, 'n' },
		{ "root-key-out", required_argument, NULL, 'o' },
		{ "root-key", required_argument, NULL, 'r' },
		{ "pkcs11", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	const char *name = NULL, *root_key_out = NULL, *root_key = NULL, *pkcs11 = NULL;
	const struct conf_ca *ca;
	struct config *cfg = NULL;
	bool init;
	int ch, rc = 1;

	if (argc >= 2 && strcmp(argv[1], "policy") == 0)
		return ca_policy(argc - 1, argv + 1, cli);
	if (argc < 2 || (strcmp(argv[1], "init") != 0 && strcmp(argv[1], "renew-issuing") != 0)) {
		fprintf(stderr, CA_USAGE);
		return EXIT_USAGE;
	}
	init = strcmp(argv[1], "init") == 0;
	argc--;
	argv++;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			name = optarg;
			break;
		case 'o':
			root_key_out = optarg;
			break;
		case 'r':
			root_key = optarg;
			break;
		case 'p':
			pkcs11 = optarg;
			break;
		default:
			fprintf(stderr, CA_USAGE);
			return EXIT_USAGE;
		}
	}
	if (optind != argc || (init && root_key != NULL) ||
	    (!init && (root_key_out != NULL || pkcs11 != NULL || root_key == NULL))) {
		fprintf(stderr, CA_USAGE);
		return EXIT_USAGE;
	}
	cfg = commands_load_config(cli);
	if (cfg == NULL)
		return 1;
	ca = pick_ca(cfg, name);
	if (ca == NULL) {
		fprintf(stderr, "smimesync: %s: no [ca%s%s] section to %s\n", cli->conf_path,
		    name ? " " : "", name ? name : "", init ? "initialise" : "renew");
		goto out;
	}
	rc = init ? ca_init_cmd(cfg, ca, root_key_out, pkcs11) : renew_cmd(cfg, ca, root_key);
out:
	config_free(cfg);
	return rc;
}
