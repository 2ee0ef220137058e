/* SPDX-License-Identifier: ISC */
/*
 * The one typed option table of smimesync.conf (STYLE 6).
 *
 * Every key of every section is one row of conf_options[]: the section
 * kind it belongs to, its name, its type, where it lives in the section
 * struct of conf/conf.h (offsetof), its default as text, whether it is
 * required, its bounds and a one-line description. The same rows drive
 * parsing (conf_value_parse), defaults, config_dump() (check-config -v),
 * "conf-lint --list-options" and, through that, the test that checks the
 * man page documents every key. Adding a key means adding one row here and
 * one entry to doc/smimesync.conf.5; nothing else.
 *
 * Private to conf/: other rooms read struct config only.
 */
#ifndef SMIMESYNC_CONF_OPTIONS_H
#define SMIMESYNC_CONF_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/attrs.h"
#include "common/errbuf.h"
#include "common/mailaddr.h"

enum conf_kind {
	CONF_SERVICE = 0, /* [service], at most once */
	CONF_DIRECTORY,   /* [directory NAME] */
	CONF_CA,          /* [ca NAME] */
	CONF_MAIL,        /* [mail], at most once */
	CONF_GROUP,       /* [group NAME] */
	CONF_KIND_COUNT,
};

enum opt_type {
	OPT_STRING,      /* free text without control characters; check() may narrow it */
	OPT_PATH,        /* a file or directory; relative to the config file's directory */
	OPT_SECRET_PATH, /* a path to a secret file: only the path is ever shown */
	OPT_URL_HTTP,    /* http:// URL (S/MIME BR: CRL and AIA are plain HTTP) */
	OPT_URI_LDAP,    /* one or more ldap://, ldaps://, ldapi:// URIs */
	OPT_DN,          /* an LDAP distinguished name: dn_valid() (common/dn.h) */
	OPT_ENUM,        /* one of enum_names; stored as int (the index) */
	OPT_BOOL,        /* yes/no/true/false/on/off */
	OPT_INT,         /* decimal integer within [min, max]; stored as int64_t */
	OPT_DURATION,    /* parse_duration() within [min, max] seconds; int64_t */
	OPT_LOG_LEVEL,   /* error, warn, info, debug; stored as int */
	OPT_LOG_TARGET,  /* stderr | syslog; stored as bool (true = syslog) */
};

/* Row flags. */
#define OPTF_REQUIRED 0x1 /* missing key is an error at the section header */
#define OPTF_DERIVED 0x2  /* default computed from other keys (see doc) */

struct conf_option {
	enum conf_kind kind;
	const char *key;
	enum opt_type type;
	size_t offset;            /* offsetof() into the section struct */
	const char *def;          /* default as text; NULL: none (or OPTF_DERIVED) */
	const char *env;          /* environment variable overriding the default, or NULL */
	unsigned flags;
	int64_t min, max;         /* OPT_INT and OPT_DURATION */
	const char *const *enum_names; /* OPT_ENUM: NULL-terminated, index = stored value */
	const char *over_max;     /* OPT_DURATION/INT: why the maximum exists, or NULL */
	/* Extra validation; returns 0 or -1 with the reason in why. */
	int (*check)(const char *value, struct errbuf *why);
	const char *doc;          /* one line, also used in "missing required key" */
};

extern const struct conf_option conf_options[];
extern const size_t conf_options_count;

extern const char *const conf_key_type_names[];
extern const char *const conf_pkcs12_names[];
extern const char *const conf_cert_profile_names[];
extern const char *const conf_tls_mode_names[];
extern const char *const conf_leave_policy_names[];
extern const char *const conf_mail_change_names[];
extern const char *const conf_dir_type_names[];
extern const char *const conf_ca_type_names[];
extern const char *const conf_mail_transport_names[];
extern const char *const conf_incremental_names[];
extern const char *const conf_ad_changes_names[];

/* "service", "directory", ... */
const char *conf_kind_name(enum conf_kind k);
/* Returns 0 and sets *out for a known section word, -1 otherwise. */
int conf_kind_parse(const char *word, enum conf_kind *out) MUST_USE;
/* True for [directory], [ca] and [group], which carry a name. */
bool conf_kind_named(enum conf_kind k);

/* Row index of (kind, key), or -1. */
int conf_option_find(enum conf_kind kind, const char *key);
/* Closest key of this kind within edit distance 2, or NULL (borrowed). */
const char *conf_option_suggest(enum conf_kind kind, const char *key);
size_t conf_edit_distance(const char *a, const char *b);

/* The stored field of row o inside a section struct. */
#define CONF_FIELD(base, o, type) ((type *)(void *)((char *)(base) + (o)->offset))

/* Human-readable type for docs: "duration (1d..825d)", "rsa2048 | p256 ...". (new) */
char *conf_option_type_text(const struct conf_option *o);

/*
 * Parse value for row o and store it into the section struct at base.
 * Relative paths are made absolute against basedir. On error returns -1,
 * leaves the field as it was and writes the reason (without any
 * "file:line: [section] key:" prefix) into why.
 */
int conf_value_parse(const struct conf_option *o, const char *value, const char *basedir,
    void *base, struct errbuf *why) MUST_USE;
/* Validators used by the table (conf/validate.c): 0, or -1 and a reason. */
int conf_check_name(const char *value, struct errbuf *why);
int conf_check_hostname(const char *value, struct errbuf *why);
int conf_check_from(const char *value, struct errbuf *why);
int conf_check_reply_to(const char *value, struct errbuf *why);
int conf_check_verify_at(const char *value, struct errbuf *why);
int conf_check_language(const char *value, struct errbuf *why);
int conf_check_country(const char *value, struct errbuf *why);
int conf_check_ca_url(const char *value, struct errbuf *why);
/* A PKCS#11 URI naming a private key (common/p11uri.h). */
int conf_check_pkcs11_uri(const char *value, struct errbuf *why);
/* A systemd credential name: no "/", not hidden. */
int conf_check_credential_name(const char *value, struct errbuf *why);
int conf_check_duration_list(const char *value, struct errbuf *why);
/*
 * Parse a duration list ("30d, 7d, 1d") into out[], largest first; returns
 * the count (at most max), or -1 on bad syntax. config_load() fills
 * conf_group.reminder_thresholds with it, so nothing after load parses.
 */
int conf_parse_durations(const char *list, int64_t *out, size_t max);
int conf_check_address_list(const char *value, struct errbuf *why);
int conf_check_domain_list(const char *value, struct errbuf *why);
int conf_check_organization_identifier(const char *value, struct errbuf *why);
int conf_check_ldap_filter(const char *value, struct errbuf *why);
int conf_check_attribute(const char *value, struct errbuf *why);
int conf_check_sasl_mech(const char *value, struct errbuf *why);
/* Environment variable names, space-separated; none the helper contract sets itself. */
int conf_check_env_names(const char *value, struct errbuf *why);
int conf_check_sam_account_name(const char *value, struct errbuf *why);
/* A Kerberos principal: name[/instance]@REALM, no spaces or control characters. */
int conf_check_principal(const char *value, struct errbuf *why);
/* bind_dn: a DN, or a user principal name (user@domain, Active Directory). */
int conf_check_bind_name(const char *value, struct errbuf *why);
/* An Entra object or application id: a GUID, 8-4-4-4-12 hex digits. */
int conf_check_guid(const char *value, struct errbuf *why);
/* tenant_id: a GUID or a domain name (contoso.onmicrosoft.com). */
int conf_check_tenant(const char *value, struct errbuf *why);
/* authority_host, graph_host: https://host[:port] with no path. */
int conf_check_https_host(const char *value, struct errbuf *why);
/* group_name: a display name, which must not itself look like an object id. */
int conf_check_graph_group_name(const char *value, struct errbuf *why);
/* sender: one bare mail address. */
int conf_check_address(const char *value, struct errbuf *why);
/*
 * The address rule (common/mailaddr.h) for every address in the file:
 * from, sender and notify name mailboxes that mail is sent from or to, so
 * ASCII (what the mail room sends), and on a domain with a dot.
 */
#define CONF_MAILADDR_FLAGS MAILADDR_DOTTED
bool conf_guid_valid(const char *s);
/* Section names: letters, digits, '-', '_', '.'. */
bool conf_name_valid(const char *name);

/* The effective value of row o at base as config text (new), or NULL if unset. */
char *conf_value_format(const struct conf_option *o, const void *base);

#endif
