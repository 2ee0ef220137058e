/* SPDX-License-Identifier: ISC */
/*
 * Room conf/: the configuration model, its one typed option table, the
 * parser and check-config. Every other room reads this model; conf/ reads
 * nothing of theirs but smime/types.h (the names of key types and profiles).
 *
 * The configuration model: what smimesync.conf says, validated and typed.
 *
 * config_load() parses a file with the one typed option table
 * (conf/options.c), applies defaults, checks bounds and cross-references
 * ([group] directory = and ca = must name existing sections) and collects
 * every error as "file:line: message" before refusing. Nothing else in
 * smimesync parses configuration text.
 *
 * Ownership: config_load() returns a new struct config; config_free()
 * releases it and everything inside. All strings inside are owned by the
 * config; other rooms borrow pointers for as long as the config lives.
 * Pointer members that are optional are NULL when not set.
 *
 * Other rooms read this model and nothing else from conf/.
 */
#ifndef SMIMESYNC_CONF_CONF_H
#define SMIMESYNC_CONF_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "common/attrs.h"
#include "smime/types.h" /* key types, certificate and PKCS#12 profiles */

enum dir_type {
	DIR_TYPE_LDAP = 0, /* OpenLDAP and other RFC 4519 directories */
	DIR_TYPE_AD,       /* Active Directory (and Samba AD): in-chain membership */
	DIR_TYPE_CSV,      /* a CSV file of people outside any directory */
	DIR_TYPE_GRAPH,    /* Microsoft Entra ID through Microsoft Graph v1.0 */
};

/* [mail] transport = smtp | graph. */
enum mail_transport_type {
	MAIL_TRANSPORT_SMTP = 0, /* libESMTP to smtp_host */
	MAIL_TRANSPORT_GRAPH,    /* POST /users/{sender}/sendMail with a Graph directory's app */
};

/* starttls = required | off (for ldap:// and SMTP). */
enum tls_mode {
	TLS_MODE_REQUIRED = 0,
	TLS_MODE_OFF,
};

/* [directory] incremental = auto | yes | no: follow the directory's own change stream. */
enum incremental_mode {
	INCREMENTAL_AUTO = 0, /* wherever the server offers a stream */
	INCREMENTAL_YES,      /* refuse to start without one, saying why */
	INCREMENTAL_NO,       /* full reads only */
};

/* [directory] ad_changes = usn | dirsync: how an Active Directory's changes are read. */
enum ad_changes_mode {
	AD_CHANGES_USN = 0, /* uSNChanged polling of one named DC, deletions with show-deleted */
	AD_CHANGES_DIRSYNC, /* the DirSync control (needs Replicating Directory Changes) */
};

/* on_leave = stop-renewing | keep | revoke (what happens to a leaver's certificate). */
enum leave_policy {
	LEAVE_STOP_RENEWING = 0, /* not renewed; reminders say so and whom to ask */
	LEAVE_KEEP,              /* not renewed, and no mail about it */
	LEAVE_REVOKE,            /* revoked and unpublished after leave_grace */
};

/* on_mail_change = keep | revoke (the certificate for the old address). */
enum mail_change_policy {
	MAIL_CHANGE_KEEP = 0,    /* superseded: left to expire */
	MAIL_CHANGE_REVOKE,      /* revoked once the new one is published */
};

enum ca_type {
	CA_TYPE_LOCAL = 0, /* the internal CA: key and certificate in files */
	CA_TYPE_CFSSL,     /* a cfssl server: sign or authsign */
	CA_TYPE_EJBCA,     /* EJBCA REST pkcs10enroll, client-certificate TLS */
	CA_TYPE_SECTIGO,   /* Sectigo Certificate Manager REST S/MIME enrolment */
	CA_TYPE_HELPER,    /* a program following certmonger's CA helper contract */
};

/* Where an option or section came from, for error messages. */
struct conf_origin {
	const char *file; /* borrowed from struct config.path */
	int line;
};

struct conf_service {
	char *state_dir;       /* default SMIMESYNC_STATEDIR, env SMIMESYNC_STATE_DIR overrides */
	char *master_key_file; /* 32 random bytes as 64 hex digits; secret */
	char *master_key_uri;  /* RSA key on a token that seals master_key_file, or NULL */
	char *master_key_pin_file;       /* its token's user PIN (secret file) */
	char *master_key_pin_credential; /* or the systemd credential holding it */
	int log_level;         /* enum log_level from common/log.h */
	bool log_syslog;       /* log = stderr | syslog */
	int log_facility;      /* enum log_facility from common/log.h (log = syslog) */
	int64_t max_retire;    /* safety valve: most leavers one run may retire */
	int64_t max_retire_percent; /* ... and most percent of one group */
	int64_t interval;      /* daemon: seconds between runs */
	int64_t full_sync_interval; /* daemon: seconds between full reads of every group */
	int64_t jitter;        /* daemon: up to this many seconds added at random (default interval/10) */
	char *metrics_file;    /* Prometheus textfile written after each run, or NULL */
	char *mail_domains;    /* domains certified addresses may have (list), or NULL */
	int64_t max_new_per_run; /* mass-issuance valve; 0 (the default): the larger of 50
	                            and 10 % of the current holders */
	char *signer_socket;   /* smimesync-signer as a service, or NULL: start it here */
	char *signer_policy;   /* the started signer's policy file, or NULL: see smime/signer.h */
};

struct conf_directory {
	char *name;
	struct conf_origin origin;
	enum dir_type type;
	char *uri;                /* ldap://, ldaps://, ldapi:// */
	char *file;               /* type = csv: the file of people */
	enum tls_mode starttls;   /* only meaningful for ldap:// */
	char *bind_dn;            /* NULL: SASL (sasl_mech) or anonymous */
	char *bind_password_file; /* secret; required with bind_dn */
	char *sasl_mech;          /* e.g. "EXTERNAL" over ldapi:// */
	char *keytab_file;        /* GSSAPI: client keytab (secret); NULL: the ticket cache */
	char *principal;          /* GSSAPI: the keytab principal we must be, or NULL */
	char *base_dn;
	char *tls_ca_file;
	bool tls_verify;          /* default true; false is logged loudly */
	int64_t page_size;        /* paged results, 1..1000, default 500 */
	int64_t scan_threshold;   /* members from which a people scan beats reads by DN */
	bool global_catalog;      /* ad: uri is a (read-only) global catalog */
	int64_t timeout;          /* seconds, network and operation timeout */
	char *user_filter;        /* which member entries are people; default by type */
	char *mail_attribute;     /* default "mail" */
	char *alt_mail_attribute; /* alternative addresses; NULL: more values of mail_attribute */
	enum incremental_mode incremental; /* follow the change stream (default auto) */
	enum ad_changes_mode ad_changes;   /* ad: uSNChanged polling or DirSync */
	int64_t poll_interval;    /* seconds between asking a directory that cannot notify */
	char *accesslog_base;     /* ldap: slapd's accesslog suffix, or NULL: not read */
	/* type = graph (Entra ID); tls_ca_file, tls_verify and timeout apply too. */
	char *tenant_id;          /* directory (tenant) id, or a verified domain */
	char *client_id;          /* application (client) id */
	char *client_secret_file; /* secret; or the two below */
	char *client_cert_file;   /* certificate registered with the app (PEM) */
	char *client_key_file;    /* its private key (PEM, secret) */
	char *authority_host;     /* default https://login.microsoftonline.com */
	char *graph_host;         /* default https://graph.microsoft.com */
};

struct conf_ca {
	char *name;
	struct conf_origin origin;
	enum ca_type type;
	char *cert_file;  /* issuing CA certificate (PEM) */
	char *key_file;   /* issuing CA key (PEM, secret); or key_uri */
	char *key_uri;    /* issuing CA key on a PKCS#11 token (RFC 7512 URI); or key_file */
	char *pin_file;   /* secret file with the token's user PIN (key_uri only) */
	char *pin_credential; /* or the systemd credential holding it (LoadCredential=) */
	char *chain_file; /* issuing CA up to and including the root (PEM) */
	char *crl_url;    /* http:// URL put in cRLDistributionPoints */
	char *aia_url;    /* http:// URL of the issuing CA cert (caIssuers) */
	/* Used by "ca init" only. */
	enum key_type init_key_type;  /* default p384 */
	char *organization;           /* O= of the CA subjects */
	char *root_common_name;       /* default "<organization> S/MIME Root CA" */
	char *issuing_common_name;    /* default "<organization> S/MIME Issuing CA" */
	char *country;                /* C=, optional two letters */
	int64_t root_validity;        /* seconds, default 20 years */
	int64_t issuing_validity;     /* seconds, default 10 years */
	char *crl_file;               /* where "smimesync crl" writes the DER CRL; optional */
	int64_t crl_validity;         /* nextUpdate - thisUpdate, seconds, default 7d, max 10d */
	/* External CAs: which type uses which key is ca_keys[] in conf/config.c. */
	char *url;                    /* REST base URL */
	char *trust_anchor_file;      /* roots issued chains must lead to (PEM) */
	char *tls_ca_file;            /* trusted for the server's TLS certificate; NULL: system */
	bool tls_verify;              /* default true */
	char *tls_cert_file;          /* TLS client certificate (ejbca) */
	char *tls_key_file;           /* its key (secret) */
	int64_t timeout;              /* seconds per request */
	int64_t retry_interval;       /* first back-off after "unreachable", seconds */
	char *profile;                /* cfssl signing profile */
	char *auth_key_file;          /* cfssl authsign HMAC key, hex (secret) */
	char *certificate_profile;    /* ejbca */
	char *end_entity_profile;     /* ejbca */
	char *certificate_authority;  /* ejbca: CA name inside EJBCA */
	char *customer_uri;           /* sectigo */
	char *login;                  /* sectigo */
	char *password_file;          /* sectigo (secret) */
	int64_t org_id;               /* sectigo */
	int64_t cert_type;            /* sectigo */
	int64_t term;                 /* sectigo, days */
	char *command;                /* helper program */
	char *pass_environment;       /* helper: names of variables it also gets */
};

struct conf_mail {
	enum mail_transport_type transport; /* default smtp */
	char *directory_name;       /* transport = graph: the [directory] whose app sends */
	struct conf_directory *graph_directory; /* resolved by config_load (graph only) */
	char *sender;               /* transport = graph: the mailbox sending (default: from's address) */
	char *smtp_host;            /* required with transport = smtp */
	int64_t smtp_port;          /* default 587 */
	enum tls_mode starttls;     /* default required */
	char *smtp_user;            /* optional; AUTH only after STARTTLS */
	char *smtp_password_file;   /* secret; required with smtp_user */
	char *tls_ca_file;
	bool tls_verify;            /* default true */
	char *from;                 /* "Example PKI <pki@example.org>" */
	char *template_dir;         /* override directory, optional */
	char *language;             /* default "en" */
	char *reply_to;             /* Reply-To of every mail, or NULL (replies go to from) */
	char *verify_at;            /* where the fingerprints can be checked (a URL or a
	                               place), for the collection mail; or NULL */
	int64_t timeout;            /* seconds */
	int64_t max_attempts;       /* give up after this many 4xx, default 10 */
	char *helo_name;            /* optional */
};

/* The most reminder thresholds a [group] may list. */
#define CONF_MAX_REMINDERS 16

struct conf_group {
	char *name;
	struct conf_origin origin;
	char *directory_name;
	struct conf_directory *directory; /* resolved by config_load */
	char *group_dn;                   /* the group's DN; with group = NAME (AD only),
	                                     that sAMAccountName, resolved when read */
	char *group_name;                 /* group = sAMAccountName, or NULL */
	char *graph_group_id;             /* group_id = Entra object id (type = graph) */
	char *graph_group_name;           /* group_name = Entra display name (type = graph) */
	bool graph_by_name;               /* group_dn holds graph_group_name, not an id */
	char *publish_to_name;            /* publish_to = [directory] NAME, or NULL */
	struct conf_directory *publish;   /* where certificates are published: publish_to,
	                                     else the group's own ldap/ad directory; NULL:
	                                     nowhere (csv, graph without publish_to) */
	bool include_guests;              /* Entra guests (userType Guest) are members too */
	bool mail_from_upn;               /* no mail: use userPrincipalName (Entra only) */
	char *ca_name;
	struct conf_ca *ca;               /* resolved by config_load */
	bool enabled;                     /* sync = yes | no, default yes */
	enum key_type key_type;           /* default rsa2048 */
	int64_t validity;                 /* seconds, default 365d, max 825d */
	int64_t renew_before;             /* seconds, default 15d */
	enum pkcs12_profile pkcs12;       /* default modern */
	int64_t pkcs12_iterations;        /* PBKDF2 / MAC iterations */
	enum cert_profile profile;        /* default mailbox-strict */
	char *organization;               /* O=, organization-* profiles only */
	char *organization_identifier;    /* e.g. VATDE-123456789, organization-* only */
	char *country;                    /* C=, optional, organization-* only */
	bool escrow;                      /* keep users' keys (sealed) after delivery */
	char *reminders;                  /* as written, e.g. "30d, 7d, 1d" (check-config -v) */
	int64_t reminder_thresholds[CONF_MAX_REMINDERS]; /* the same list parsed once by
	                                     config_load: seconds before expiry, largest first */
	size_t n_reminder_thresholds;     /* 0 with reminders = none */
	enum leave_policy on_leave;       /* default stop-renewing */
	int64_t leave_grace;              /* seconds before a leaver is revoked */
	enum mail_change_policy on_mail_change; /* default keep */
	char *notify;                     /* admin addresses for run notices, comma-separated */
	char *language;                   /* the group's mail language: as written, else
	                                     [mail] language (filled in by config_load) */
	char *allowed_domains;            /* domains this group's addresses may have (list), or
	                                     NULL: [service] mail_domains */
	bool use_other_mails;             /* Entra ID: certify otherMails too (default no) */
};

struct config {
	char *path;
	struct conf_service service;
	struct conf_directory *directories;
	size_t n_directories;
	struct conf_ca *cas;
	size_t n_cas;
	struct conf_mail mail;
	bool has_mail;            /* a [mail] section was present */
	struct conf_group *groups; /* in file order: first match governs */
	size_t n_groups;
	/* Private to conf/: the line of every directive, for config_check_files(). */
	struct conf_source *source;
};

/* Every message is "file:line: text" (or "file: text" when no line applies). */
struct conf_errors {
	char **msgs;
	size_t n;
};

/*
 * Parse and validate. On success returns 0 and *out is new. On failure
 * returns -1, *out is NULL and errs holds every problem found, in file
 * order. errs must be zero-initialised; free it with conf_errors_free().
 */
int config_load(const char *path, struct config **out, struct conf_errors *errs) MUST_USE;
void config_free(struct config *cfg);
void conf_errors_free(struct conf_errors *errs);

/*
 * Deeper checks for check-config, with the rights of the calling process's
 * effective user (check-config switches to the service's user first):
 * secret files exist with safe modes, are readable and not empty; CA files
 * are present; state_dir is usable; the CRL and metrics files can be
 * replaced; files that steer smimesync belong to root or this user and are
 * not world-writable. Appends to errs; returns the number of problems found.
 */
size_t config_check_files(const struct config *cfg, struct conf_errors *errs);
/*
 * Combinations that work but hurt the people who get the certificates
 * (EC keys in a compat PKCS#12 that gpgsm crashes on; EC keys Thunderbird
 * cannot encrypt to): "file:line: warning: ..." with the fix, appended to
 * out. Returns how many. Nothing here stops a run.
 */
size_t config_warnings(const struct config *cfg, struct conf_errors *out);

/*
 * The line of section (a struct conf_ca, conf_group ... of cfg) where key
 * was set, else the section's header line: for messages about the
 * configuration from outside conf/.
 */
int config_line(const struct config *cfg, const void *section, const char *key);

/*
 * The same files against a systemd unit's sandbox (conf/unit.h): what it
 * hides (ProtectHome=, InaccessiblePaths=, PrivateTmp=) or keeps read-only
 * (ProtectSystem=, no ReadWritePaths=) although the service needs it.
 */
struct unit_sandbox;
size_t config_check_sandbox(const struct config *cfg, const struct unit_sandbox *unit,
    struct conf_errors *errs);
/*
 * The configuration file itself, before it is loaded: readable by this
 * user, owned by root or this user, neither it nor its directory writable
 * by everybody.
 */
size_t config_check_conf_file(const char *path, struct conf_errors *errs);

/* Print every option with its effective value (check-config -v). */
void config_dump(const struct config *cfg, FILE *out);

const struct conf_directory *config_find_directory(const struct config *cfg, const char *name);

/*
 * Is domain in list (a comma-separated domain list as allowed_domains and
 * mail_domains take it: "example.org" that domain, ".example.org" every
 * domain below it)? Case-insensitive.
 */
bool conf_domain_allowed(const char *list, const char *domain);
const struct conf_ca *config_find_ca(const struct config *cfg, const char *name);
/* The [group] section of that name, or NULL (name may be NULL). */
const struct conf_group *config_find_group(const struct config *cfg, const char *name);
/* Index of the [group] of that name in cfg->groups, or -1 (name may be NULL). */
ssize_t config_group_index(const struct config *cfg, const char *name);

/*
 * The option table's default of a number-like key, as the model would hold
 * it: an integer or duration (seconds), an enum's index, a boolean as 0 or
 * 1. For a command that acts where no section applies, e.g. on a user
 * whose [group] has left the configuration: defaults are stated only in
 * the table. section is "service", "directory", "ca", "mail" or "group".
 * Returns 0, or -1 when there is no such key or it has no such default.
 */
int conf_default_number(const char *section, const char *key, int64_t *out) MUST_USE;

const char *ca_type_name(enum ca_type t);

/* How a [group] names its group in a directory of some type. */
enum conf_group_naming {
	GROUPS_BY_DN = 0, /* group_dn = DN of the group */
	GROUPS_BY_ENTRA,  /* group_id = object id, or group_name = display name */
	GROUPS_NONE,      /* no groups: every person of the directory is a member */
};

/*
 * What a [directory] type is, needs and can do (conf/dir_types.c, one row
 * per enum dir_type). conf's checks read it; other rooms ask it (and the
 * functions below) instead of comparing types.
 */
struct conf_dir_traits {
	const char *title;         /* in messages: "Microsoft Graph", "a CSV file" */
	bool ldap;                 /* an LDAP server: needs uri and base_dn */
	bool file;                 /* reads its people from file = */
	bool graph_app;            /* an Entra app registration (tenant_id, client_id, a
	                              credential): Graph reads, and can send mail */
	bool upn_bind;             /* bind_dn may be a user principal name */
	bool global_catalog;       /* may be a (read-only) global catalog */
	enum conf_group_naming groups;
	bool group_by_account;     /* group = sAMAccountName names a group too */
	bool warn_unpublished;     /* a group of it that publishes nowhere deserves a warning */
	const char *default_user_filter; /* user_filter when the section has none */
	const char *not_a_target;  /* NULL: certificates can be written to it; else why not,
	                              after "is <title>, " */
	const char *unpublished;   /* note on a group read from it that publishes nowhere */
	const char *stream;        /* its change stream, as a phrase; NULL: it has none */
	bool dirsync;              /* ad_changes = dirsync is possible */
	bool accesslog;            /* accesslog_base is possible (slapd's accesslog overlay) */
};

const struct conf_dir_traits *conf_dir_traits(enum dir_type type);
/* The directory's title, "a global catalog" for one (static). */
const char *conf_directory_title(const struct conf_directory *d);
/* Can certificates be written to d? (Not to Graph, CSV or a global catalog.) */
bool conf_directory_publishable(const struct conf_directory *d);
/* Why a group read from d publishes nowhere without publish_to (static), NULL if it need not. */
const char *conf_directory_unpublished(const struct conf_directory *d);
/*
 * The change stream d would follow, as a phrase for check-config and logs
 * ("RFC 4533 content synchronisation (slapd's syncprov overlay)", static),
 * or NULL when it follows none (type = csv, or incremental = no). Whether
 * the server really offers it is known only once connected.
 */
const char *conf_directory_stream(const struct conf_directory *d);

/*
 * A [directory] of type as a section with nothing but "type = ..." would
 * load: every default of the option table and the type's user_filter
 * (test tools build directories by hand this way). Strings in it are new;
 * conf_directory_clear() frees them (name is the caller's).
 */
void conf_directory_defaults(struct conf_directory *d, enum dir_type type);
void conf_directory_clear(struct conf_directory *d);

/* "stop-renewing", "keep", "revoke": as written in the configuration. */
const char *leave_policy_name(enum leave_policy p);

/* The path used when -c is not given: $SMIMESYNC_CONF, then the built-in one. */
const char *config_default_path(void);

#endif
