/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "conf/conf.h"
#include "conf/options.h"

/* Index = enum value (conf/conf.h, smime/types.h); keep both in the same order. */
const char *const conf_key_type_names[] = KEY_TYPE_NAMES;
const char *const conf_pkcs12_names[] = PKCS12_PROFILE_NAMES;
const char *const conf_leave_policy_names[] = {"stop-renewing", "keep", "revoke", NULL};
const char *const conf_mail_change_names[] = {"keep", "revoke", NULL};
const char *const conf_tls_mode_names[] = {"required", "off", NULL};
const char *const conf_dir_type_names[] = {"ldap", "ad", "csv", "graph", NULL};
const char *const conf_mail_transport_names[] = {"smtp", "graph", NULL};
const char *const conf_incremental_names[] = {"auto", "yes", "no", NULL};
const char *const conf_ad_changes_names[] = {"usn", "dirsync", NULL};
const char *const conf_ca_type_names[] = {"local", "cfssl", "ejbca", "sectigo", "helper", NULL};
const char *const conf_cert_profile_names[] = CERT_PROFILE_NAMES;

/* Enum fields are written through an int: make sure that is their size. */
_Static_assert(sizeof(enum key_type) == sizeof(int), "enum key_type is not int-sized");
_Static_assert(sizeof(enum pkcs12_profile) == sizeof(int), "enum pkcs12_profile is not int-sized");
_Static_assert(sizeof(enum tls_mode) == sizeof(int), "enum tls_mode is not int-sized");
_Static_assert(sizeof(enum dir_type) == sizeof(int), "enum dir_type is not int-sized");
_Static_assert(sizeof(enum ca_type) == sizeof(int), "enum ca_type is not int-sized");
_Static_assert(sizeof(enum cert_profile) == sizeof(int), "enum cert_profile is not int-sized");
_Static_assert(sizeof(enum mail_transport_type) == sizeof(int),
    "enum mail_transport_type is not int-sized");
_Static_assert(sizeof(enum incremental_mode) == sizeof(int), "enum incremental_mode is not int-sized");
_Static_assert(sizeof(enum ad_changes_mode) == sizeof(int), "enum ad_changes_mode is not int-sized");

#define DAY INT64_C(86400)

/*
 * The table. Columns: kind, key, type, offset, default, env, flags, min,
 * max, enum names, over_max reason, check, doc. Where the key differs from
 * the field ([ca] key_type -> init_key_type) the row spells both.
 */
const struct conf_option conf_options[] = {
	/* [service] */
	{CONF_SERVICE, "state_dir", OPT_PATH, offsetof(struct conf_service, state_dir),
	    SMIMESYNC_STATEDIR, "SMIMESYNC_STATE_DIR", 0, 0, 0, NULL, NULL, NULL,
	    "directory holding the store (SQLite), run reports and the outbox"},
	{CONF_SERVICE, "master_key_file", OPT_SECRET_PATH,
	    offsetof(struct conf_service, master_key_file), NULL, NULL, OPTF_DERIVED, 0, 0, NULL,
	    NULL, NULL,
	    "secret file with the key that encrypts escrowed keys and queued passwords "
	    "(default <state_dir>/master.key)"},
	{CONF_SERVICE, "master_key_uri", OPT_STRING, offsetof(struct conf_service, master_key_uri),
	    NULL, NULL, 0, 0, 0, NULL, NULL, conf_check_pkcs11_uri,
	    "PKCS#11 URI (RFC 7512) of an RSA key on a token that seals master_key_file: the "
	    "file alone then opens nothing"},
	{CONF_SERVICE, "master_key_pin_file", OPT_SECRET_PATH,
	    offsetof(struct conf_service, master_key_pin_file), NULL, NULL, 0, 0, 0, NULL, NULL,
	    NULL, "secret file with the user PIN of master_key_uri's token"},
	{CONF_SERVICE, "master_key_pin_credential", OPT_STRING,
	    offsetof(struct conf_service, master_key_pin_credential), NULL, NULL, 0, 0, 0, NULL,
	    NULL, conf_check_credential_name,
	    "systemd credential (LoadCredential=NAME:...) with that PIN, instead of a file"},
	{CONF_SERVICE, "log_level", OPT_LOG_LEVEL, offsetof(struct conf_service, log_level), "info",
	    NULL, 0, 0, 0, NULL, NULL, NULL, "least severe level that is logged"},
	{CONF_SERVICE, "log", OPT_LOG_TARGET, offsetof(struct conf_service, log_syslog), "stderr",
	    NULL, 0, 0, 0, NULL, NULL, NULL, "where log lines go: stderr (the journal) or syslog"},
	{CONF_SERVICE, "log_facility", OPT_ENUM, offsetof(struct conf_service, log_facility),
	    "daemon", NULL, 0, 0, 0, log_facility_names, NULL, NULL,
	    "syslog facility of the lines when log = syslog: daemon, user, authpriv or local0 to "
	    "local7"},
	{CONF_SERVICE, "max_retire", OPT_INT, offsetof(struct conf_service, max_retire), "50", NULL,
	    0, 0, 10000000, NULL, NULL, NULL,
	    "safety valve: a run that would retire more leavers than this retires nobody"},
	{CONF_SERVICE, "max_retire_percent", OPT_INT,
	    offsetof(struct conf_service, max_retire_percent), "20", NULL, 0, 0, 100, NULL, NULL, NULL,
	    "safety valve: ... or more than this percentage of one group"},
	{CONF_SERVICE, "interval", OPT_DURATION, offsetof(struct conf_service, interval), "1h",
	    NULL, 0, 1, 7 * DAY, NULL, NULL, NULL, "time between two runs of smimesync daemon"},
	{CONF_SERVICE, "jitter", OPT_DURATION, offsetof(struct conf_service, jitter), NULL, NULL,
	    OPTF_DERIVED, 0, 7 * DAY, NULL, NULL, NULL,
	    "random delay of up to this much added to each interval (default a tenth of interval)"},
	{CONF_SERVICE, "full_sync_interval", OPT_DURATION,
	    offsetof(struct conf_service, full_sync_interval), "1d", NULL, 0, 60, 30 * DAY, NULL,
	    NULL, NULL,
	    "daemon: time between two full reads of every group, which find whatever a "
	    "directory's change stream missed (between them the daemon follows the streams)"},
	{CONF_SERVICE, "signer_socket", OPT_PATH, offsetof(struct conf_service, signer_socket),
	    NULL, NULL, 0, 0, 0, NULL, NULL, NULL,
	    "Unix socket of smimesync-signer running as a service under its own user; unset: "
	    "smimesync starts the signer itself"},
	{CONF_SERVICE, "signer_policy", OPT_PATH, offsetof(struct conf_service, signer_policy),
	    NULL, NULL, OPTF_DERIVED, 0, 0, NULL, NULL, NULL,
	    "policy file of the signer smimesync starts itself (default signer.conf beside this "
	    "file when it exists, else a policy derived from this configuration)"},
	{CONF_SERVICE, "metrics_file", OPT_PATH, offsetof(struct conf_service, metrics_file), NULL,
	    NULL, 0, 0, 0, NULL, NULL, NULL,
	    "Prometheus text file rewritten after each run (node_exporter textfile collector)"},
	{CONF_SERVICE, "mail_domains", OPT_STRING, offsetof(struct conf_service, mail_domains),
	    NULL, NULL, 0, 0, 0, NULL, NULL, conf_check_domain_list,
	    "domains (comma-separated; .example.org: every subdomain) that certified addresses may "
	    "have, for groups without allowed_domains"},
	{CONF_SERVICE, "max_new_per_run", OPT_INT, offsetof(struct conf_service, max_new_per_run),
	    NULL, NULL, OPTF_DERIVED, 0, 10000000, NULL, NULL, NULL,
	    "mass-issuance valve: a run that would issue more new certificates than this issues "
	    "none of them (default, or 0: the larger of 50 and 10 % of the current holders)"},

	/* [directory NAME] */
	{CONF_DIRECTORY, "type", OPT_ENUM, offsetof(struct conf_directory, type), "ldap", NULL, 0,
	    0, 0, conf_dir_type_names, NULL, NULL,
	    "kind of directory: ldap (OpenLDAP, RFC 4519), ad (Active Directory), csv "
	    "(a file of people outside any directory) or graph (Entra ID through Microsoft Graph)"},
	{CONF_DIRECTORY, "uri", OPT_URI_LDAP, offsetof(struct conf_directory, uri), NULL, NULL,
	    0, 0, 0, NULL, NULL, NULL,
	    "LDAP server URI(s), space separated: ldap://, ldaps:// or ldapi:// (ldap and ad)"},
	{CONF_DIRECTORY, "file", OPT_PATH, offsetof(struct conf_directory, file), NULL, NULL,
	    0, 0, 0, NULL, NULL, NULL,
	    "type = csv: the CSV file of people (columns name, mail, designation, alt_mails)"},
	{CONF_DIRECTORY, "starttls", OPT_ENUM, offsetof(struct conf_directory, starttls),
	    "required", NULL, 0, 0, 0, conf_tls_mode_names, NULL, NULL,
	    "StartTLS on ldap:// connections"},
	{CONF_DIRECTORY, "bind_dn", OPT_STRING, offsetof(struct conf_directory, bind_dn), NULL,
	    NULL, 0, 0, 0, NULL, NULL, conf_check_bind_name,
	    "DN for a simple bind (with type = ad also a user principal name, user@domain); "
	    "unset: SASL (sasl_mech) or anonymous"},
	{CONF_DIRECTORY, "bind_password_file", OPT_SECRET_PATH,
	    offsetof(struct conf_directory, bind_password_file), NULL, NULL, 0, 0, 0, NULL, NULL,
	    NULL, "secret file holding the bind password (required with bind_dn)"},
	{CONF_DIRECTORY, "sasl_mech", OPT_STRING, offsetof(struct conf_directory, sasl_mech), NULL,
	    NULL, 0, 0, 0, NULL, NULL, conf_check_sasl_mech,
	    "SASL mechanism, e.g. EXTERNAL over ldapi://"},
	{CONF_DIRECTORY, "keytab_file", OPT_SECRET_PATH,
	    offsetof(struct conf_directory, keytab_file), NULL, NULL, 0, 0, 0, NULL, NULL, NULL,
	    "Kerberos keytab for sasl_mech = GSSAPI (unset: the ticket cache in KRB5CCNAME)"},
	{CONF_DIRECTORY, "principal", OPT_STRING, offsetof(struct conf_directory, principal), NULL,
	    NULL, 0, 0, 0, NULL, NULL, conf_check_principal,
	    "Kerberos principal the GSSAPI bind must authenticate as, e.g. "
	    "svc-smimesync@EXAMPLE.ORG"},
	{CONF_DIRECTORY, "base_dn", OPT_DN, offsetof(struct conf_directory, base_dn), NULL, NULL,
	    0, 0, 0, NULL, NULL, NULL, "search base for users and groups (ldap and ad)"},
	{CONF_DIRECTORY, "tls_ca_file", OPT_PATH, offsetof(struct conf_directory, tls_ca_file),
	    NULL, NULL, 0, 0, 0, NULL, NULL, NULL,
	    "PEM file of CAs trusted for the server certificate (unset: system store)"},
	{CONF_DIRECTORY, "tls_verify", OPT_BOOL, offsetof(struct conf_directory, tls_verify), "yes",
	    NULL, 0, 0, 0, NULL, NULL, NULL, "verify the server certificate (no is logged loudly)"},
	{CONF_DIRECTORY, "global_catalog", OPT_BOOL,
	    offsetof(struct conf_directory, global_catalog), "no", NULL, 0, 0, 0, NULL, NULL, NULL,
	    "(ad) uri is a global catalog (port 3268, or 3269 with ldaps://): groups and people "
	    "of every domain in the forest, read-only"},
	{CONF_DIRECTORY, "page_size", OPT_INT, offsetof(struct conf_directory, page_size), "500",
	    NULL, 0, 1, 1000, NULL, NULL, NULL, "entries per page of a paged search"},
	{CONF_DIRECTORY, "scan_threshold", OPT_INT, offsetof(struct conf_directory, scan_threshold),
	    "10000", NULL, 0, 1, 100000000, NULL, NULL, NULL,
	    "members read at once from which a group is expanded by one subtree scan of the people under base_dn instead of reading each member by DN (ldap)"},
	{CONF_DIRECTORY, "timeout", OPT_DURATION, offsetof(struct conf_directory, timeout), "30s",
	    NULL, 0, 1, 3600, NULL, NULL, NULL, "network and operation timeout"},
	{CONF_DIRECTORY, "user_filter", OPT_STRING, offsetof(struct conf_directory, user_filter),
	    NULL, NULL, OPTF_DERIVED, 0, 0, NULL, NULL, conf_check_ldap_filter,
	    "LDAP filter selecting which group members are people (default "
	    "(objectClass=inetOrgPerson); with type = ad "
	    "(&(objectCategory=person)(objectClass=user)))"},
	{CONF_DIRECTORY, "mail_attribute", OPT_STRING,
	    offsetof(struct conf_directory, mail_attribute), "mail", NULL, 0, 0, 0, NULL, NULL,
	    conf_check_attribute, "attribute holding a user's primary mail address"},
	{CONF_DIRECTORY, "alt_mail_attribute", OPT_STRING,
	    offsetof(struct conf_directory, alt_mail_attribute), NULL, NULL, 0, 0, 0, NULL, NULL,
	    conf_check_attribute,
	    "attribute holding alternative addresses put in the subjectAltName, besides the "
	    "further values of mail_attribute"},
	{CONF_DIRECTORY, "incremental", OPT_ENUM, offsetof(struct conf_directory, incremental),
	    "auto", NULL, 0, 0, 0, conf_incremental_names, NULL, NULL,
	    "follow the directory's own change stream between full reads (OpenLDAP syncprov, "
	    "AD uSNChanged or DirSync, Graph delta queries): auto wherever the server offers "
	    "one, yes refuses to start without one, no reads everything every run"},
	{CONF_DIRECTORY, "ad_changes", OPT_ENUM, offsetof(struct conf_directory, ad_changes), "usn",
	    NULL, 0, 0, 0, conf_ad_changes_names, NULL, NULL,
	    "(ad) how changes are read: usn polls uSNChanged on the one domain controller in uri; "
	    "dirsync uses the DirSync control, which needs the Replicating Directory Changes right"},
	{CONF_DIRECTORY, "poll_interval", OPT_DURATION, offsetof(struct conf_directory, poll_interval),
	    "15s", NULL, 0, 1, 3600, NULL, NULL, NULL,
	    "how often a change stream that cannot notify is asked for news (AD, Graph, or "
	    "OpenLDAP when a persistent search is refused)"},
	{CONF_DIRECTORY, "accesslog_base", OPT_DN, offsetof(struct conf_directory, accesslog_base),
	    NULL, NULL, 0, 0, 0, NULL, NULL, NULL,
	    "(ldap) suffix of slapd's accesslog database (e.g. cn=accesslog): a live member "
	    "change of a watched group is read from the log, not from the group's member list"},
	{CONF_DIRECTORY, "tenant_id", OPT_STRING, offsetof(struct conf_directory, tenant_id), NULL,
	    NULL, 0, 0, 0, NULL, NULL, conf_check_tenant,
	    "type = graph: the Entra tenant, as its id (a GUID) or a verified domain"},
	{CONF_DIRECTORY, "client_id", OPT_STRING, offsetof(struct conf_directory, client_id), NULL,
	    NULL, 0, 0, 0, NULL, NULL, conf_check_guid,
	    "type = graph: the application (client) id of smimesync's app registration"},
	{CONF_DIRECTORY, "client_secret_file", OPT_SECRET_PATH,
	    offsetof(struct conf_directory, client_secret_file), NULL, NULL, 0, 0, 0, NULL, NULL,
	    NULL, "type = graph: secret file holding the app's client secret (its Value)"},
	{CONF_DIRECTORY, "client_cert_file", OPT_PATH,
	    offsetof(struct conf_directory, client_cert_file), NULL, NULL, 0, 0, 0, NULL, NULL, NULL,
	    "type = graph: PEM certificate registered with the app, instead of a client secret"},
	{CONF_DIRECTORY, "client_key_file", OPT_SECRET_PATH,
	    offsetof(struct conf_directory, client_key_file), NULL, NULL, 0, 0, 0, NULL, NULL, NULL,
	    "type = graph: the RSA private key of client_cert_file (PEM, secret file)"},
	{CONF_DIRECTORY, "authority_host", OPT_STRING,
	    offsetof(struct conf_directory, authority_host), "https://login.microsoftonline.com",
	    NULL, 0, 0, 0, NULL, NULL, conf_check_https_host,
	    "type = graph: the identity platform that issues tokens (national clouds differ)"},
	{CONF_DIRECTORY, "graph_host", OPT_STRING, offsetof(struct conf_directory, graph_host),
	    "https://graph.microsoft.com", NULL, 0, 0, 0, NULL, NULL, conf_check_https_host,
	    "type = graph: the Microsoft Graph endpoint of the same cloud"},

	/* [ca NAME] */
	{CONF_CA, "type", OPT_ENUM, offsetof(struct conf_ca, type), "local", NULL, 0, 0, 0,
	    conf_ca_type_names, NULL, NULL,
	    "kind of CA: local is the internal CA; cfssl, ejbca and sectigo are REST CAs; "
	    "helper runs a certmonger CA helper program"},
	/* Which type needs which key is checked in conf/config.c (ca_keys[]). */
	{CONF_CA, "cert_file", OPT_PATH, offsetof(struct conf_ca, cert_file), NULL, NULL,
	    0, 0, 0, NULL, NULL, NULL, "issuing CA certificate (PEM)"},
	{CONF_CA, "key_file", OPT_SECRET_PATH, offsetof(struct conf_ca, key_file), NULL, NULL,
	    0, 0, 0, NULL, NULL, NULL, "issuing CA private key (PEM, secret file); or key_uri"},
	{CONF_CA, "key_uri", OPT_STRING, offsetof(struct conf_ca, key_uri), NULL, NULL, 0, 0, 0,
	    NULL, NULL, conf_check_pkcs11_uri,
	    "issuing CA private key on a PKCS#11 token (RFC 7512 URI with module-path); "
	    "instead of key_file"},
	{CONF_CA, "pin_file", OPT_SECRET_PATH, offsetof(struct conf_ca, pin_file), NULL, NULL, 0,
	    0, 0, NULL, NULL, NULL, "secret file with the user PIN of key_uri's token"},
	{CONF_CA, "pin_credential", OPT_STRING, offsetof(struct conf_ca, pin_credential), NULL,
	    NULL, 0, 0, 0, NULL, NULL, conf_check_credential_name,
	    "systemd credential (LoadCredential=NAME:...) with that PIN, instead of pin_file"},
	{CONF_CA, "chain_file", OPT_PATH, offsetof(struct conf_ca, chain_file), NULL, NULL,
	    0, 0, 0, NULL, NULL, NULL,
	    "issuing CA up to and including the root (PEM)"},
	{CONF_CA, "crl_url", OPT_URL_HTTP, offsetof(struct conf_ca, crl_url), NULL, NULL,
	    0, 0, 0, NULL, NULL, NULL,
	    "http:// URL put in cRLDistributionPoints of every certificate"},
	{CONF_CA, "aia_url", OPT_URL_HTTP, offsetof(struct conf_ca, aia_url), NULL, NULL, 0, 0, 0,
	    NULL, NULL, NULL, "http:// URL of the issuing CA certificate (caIssuers)"},
	{CONF_CA, "key_type", OPT_ENUM, offsetof(struct conf_ca, init_key_type), "p384", NULL, 0, 0,
	    0, conf_key_type_names, NULL, NULL, "key type of the CA keys made by ca init"},
	{CONF_CA, "organization", OPT_STRING, offsetof(struct conf_ca, organization), "smimesync",
	    NULL, 0, 0, 0, NULL, NULL, NULL, "O= of the CA subjects made by ca init"},
	{CONF_CA, "root_common_name", OPT_STRING, offsetof(struct conf_ca, root_common_name), NULL,
	    NULL, OPTF_DERIVED, 0, 0, NULL, NULL, NULL,
	    "CN= of the root made by ca init (default \"<organization> S/MIME Root CA\")"},
	{CONF_CA, "issuing_common_name", OPT_STRING,
	    offsetof(struct conf_ca, issuing_common_name), NULL, NULL, OPTF_DERIVED, 0, 0, NULL,
	    NULL, NULL,
	    "CN= of the issuing CA made by ca init (default \"<organization> S/MIME Issuing CA\")"},
	{CONF_CA, "country", OPT_STRING, offsetof(struct conf_ca, country), NULL, NULL, 0, 0, 0,
	    NULL, NULL, conf_check_country, "C= of the CA subjects: two capital letters"},
	{CONF_CA, "root_validity", OPT_DURATION, offsetof(struct conf_ca, root_validity), "7300d",
	    NULL, 0, DAY, 10950 * DAY, NULL, NULL, NULL, "validity of the root made by ca init"},
	{CONF_CA, "issuing_validity", OPT_DURATION, offsetof(struct conf_ca, issuing_validity),
	    "3650d", NULL, 0, DAY, 10950 * DAY, NULL, NULL, NULL,
	    "validity of the issuing CA made by ca init (at most root_validity)"},
	{CONF_CA, "crl_file", OPT_PATH, offsetof(struct conf_ca, crl_file), NULL, NULL, 0, 0, 0,
	    NULL, NULL, NULL,
	    "where smimesync crl and smimesync revoke write the DER CRL (publish it at crl_url)"},
	{CONF_CA, "crl_validity", OPT_DURATION, offsetof(struct conf_ca, crl_validity), "7d", NULL,
	    0, 3600, 10 * DAY, NULL, "the 10 days the S/MIME Baseline Requirements allow", NULL,
	    "time from a CRL's thisUpdate to its nextUpdate; sign a new CRL before it runs out"},
	/* External CAs (type = cfssl, ejbca, sectigo, helper). */
	{CONF_CA, "url", OPT_STRING, offsetof(struct conf_ca, url), NULL, NULL, 0, 0, 0, NULL,
	    NULL, conf_check_ca_url, "base URL of the CA's REST API (https://; http:// only for cfssl)"},
	{CONF_CA, "trust_anchor_file", OPT_PATH, offsetof(struct conf_ca, trust_anchor_file), NULL,
	    NULL, 0, 0, 0, NULL, NULL, NULL,
	    "root certificates (PEM) every issued chain must lead to before it is stored"},
	{CONF_CA, "tls_ca_file", OPT_PATH, offsetof(struct conf_ca, tls_ca_file), NULL, NULL, 0, 0,
	    0, NULL, NULL, NULL, "PEM file of CAs trusted for the CA server's TLS certificate "
	    "(unset: system store)"},
	{CONF_CA, "tls_verify", OPT_BOOL, offsetof(struct conf_ca, tls_verify), "yes", NULL, 0, 0,
	    0, NULL, NULL, NULL, "verify the CA server's TLS certificate and name (no is logged loudly)"},
	{CONF_CA, "tls_cert_file", OPT_PATH, offsetof(struct conf_ca, tls_cert_file), NULL, NULL,
	    0, 0, 0, NULL, NULL, NULL, "client certificate (PEM) smimesync authenticates with (ejbca)"},
	{CONF_CA, "tls_key_file", OPT_SECRET_PATH, offsetof(struct conf_ca, tls_key_file), NULL,
	    NULL, 0, 0, 0, NULL, NULL, NULL, "private key of tls_cert_file (PEM, secret file)"},
	{CONF_CA, "timeout", OPT_DURATION, offsetof(struct conf_ca, timeout), "30s", NULL, 0, 1,
	    3600, NULL, NULL, NULL, "longest wait for one CA request, connection included"},
	{CONF_CA, "retry_interval", OPT_DURATION, offsetof(struct conf_ca, retry_interval), "5m",
	    NULL, 0, 0, DAY, NULL, NULL, NULL,
	    "first wait before asking an unreachable CA again; doubles each time, up to 64 times this"},
	{CONF_CA, "profile", OPT_STRING, offsetof(struct conf_ca, profile), NULL, NULL, 0, 0, 0,
	    NULL, NULL, NULL, "cfssl signing profile (unset: the server's default)"},
	{CONF_CA, "auth_key_file", OPT_SECRET_PATH, offsetof(struct conf_ca, auth_key_file), NULL,
	    NULL, 0, 0, 0, NULL, NULL, NULL,
	    "cfssl: secret file with the hex HMAC key of authsign (unset: plain sign)"},
	{CONF_CA, "certificate_profile", OPT_STRING, offsetof(struct conf_ca, certificate_profile),
	    NULL, NULL, 0, 0, 0, NULL, NULL, NULL, "EJBCA certificate profile name"},
	{CONF_CA, "end_entity_profile", OPT_STRING, offsetof(struct conf_ca, end_entity_profile),
	    NULL, NULL, 0, 0, 0, NULL, NULL, NULL, "EJBCA end entity profile name"},
	{CONF_CA, "certificate_authority", OPT_STRING,
	    offsetof(struct conf_ca, certificate_authority), NULL, NULL, 0, 0, 0, NULL, NULL, NULL,
	    "name of the issuing CA inside EJBCA"},
	{CONF_CA, "customer_uri", OPT_STRING, offsetof(struct conf_ca, customer_uri), NULL, NULL, 0,
	    0, 0, NULL, NULL, NULL, "Sectigo Certificate Manager customer URI"},
	{CONF_CA, "login", OPT_STRING, offsetof(struct conf_ca, login), NULL, NULL, 0, 0, 0, NULL,
	    NULL, NULL, "Sectigo Certificate Manager API administrator login"},
	{CONF_CA, "password_file", OPT_SECRET_PATH, offsetof(struct conf_ca, password_file), NULL,
	    NULL, 0, 0, 0, NULL, NULL, NULL, "secret file with the password of login (sectigo)"},
	{CONF_CA, "org_id", OPT_INT, offsetof(struct conf_ca, org_id), NULL, NULL, 0, 1, INT32_MAX,
	    NULL, NULL, NULL, "Sectigo organization (or department) id the certificates belong to"},
	{CONF_CA, "cert_type", OPT_INT, offsetof(struct conf_ca, cert_type), NULL, NULL, 0, 1,
	    INT32_MAX, NULL, NULL, NULL, "Sectigo S/MIME certificate type id (GET /api/smime/v1/types)"},
	{CONF_CA, "term", OPT_INT, offsetof(struct conf_ca, term), "365", NULL, 0, 1, 825, NULL,
	    "the 825 days the S/MIME Baseline Requirements allow", NULL,
	    "Sectigo certificate term in days (one the certificate type offers)"},
	{CONF_CA, "command", OPT_PATH, offsetof(struct conf_ca, command), NULL, NULL, 0, 0, 0, NULL,
	    NULL, NULL, "helper: the certmonger CA helper program to run"},
	{CONF_CA, "pass_environment", OPT_STRING, offsetof(struct conf_ca, pass_environment), NULL,
	    NULL, 0, 0, 0, NULL, NULL, conf_check_env_names,
	    "helper: names of variables of smimesync's environment the helper also gets"},

	/* [mail] */
	{CONF_MAIL, "transport", OPT_ENUM, offsetof(struct conf_mail, transport), "smtp", NULL, 0,
	    0, 0, conf_mail_transport_names, NULL, NULL,
	    "how mail leaves: smtp (a relay) or graph (Microsoft Graph sendMail, for tenants "
	    "without SMTP AUTH)"},
	{CONF_MAIL, "directory", OPT_STRING, offsetof(struct conf_mail, directory_name), NULL, NULL,
	    0, 0, 0, NULL, NULL, conf_check_name,
	    "transport = graph: the [directory] (type = graph) whose app registration sends"},
	{CONF_MAIL, "sender", OPT_STRING, offsetof(struct conf_mail, sender), NULL, NULL,
	    OPTF_DERIVED, 0, 0, NULL, NULL, conf_check_address,
	    "transport = graph: the mailbox that sends (default: the address in from)"},
	{CONF_MAIL, "smtp_host", OPT_STRING, offsetof(struct conf_mail, smtp_host), NULL, NULL,
	    0, 0, 0, NULL, NULL, conf_check_hostname,
	    "SMTP relay host name (required with transport = smtp)"},
	{CONF_MAIL, "smtp_port", OPT_INT, offsetof(struct conf_mail, smtp_port), "587", NULL, 0, 1,
	    65535, NULL, NULL, NULL, "SMTP relay port (submission)"},
	{CONF_MAIL, "starttls", OPT_ENUM, offsetof(struct conf_mail, starttls), "required", NULL, 0,
	    0, 0, conf_tls_mode_names, NULL, NULL, "STARTTLS before anything else is sent"},
	{CONF_MAIL, "smtp_user", OPT_STRING, offsetof(struct conf_mail, smtp_user), NULL, NULL, 0,
	    0, 0, NULL, NULL, NULL, "SMTP AUTH user name (only after STARTTLS)"},
	{CONF_MAIL, "smtp_password_file", OPT_SECRET_PATH,
	    offsetof(struct conf_mail, smtp_password_file), NULL, NULL, 0, 0, 0, NULL, NULL, NULL,
	    "secret file holding the SMTP password (required with smtp_user)"},
	{CONF_MAIL, "tls_ca_file", OPT_PATH, offsetof(struct conf_mail, tls_ca_file), NULL, NULL, 0,
	    0, 0, NULL, NULL, NULL,
	    "PEM file of CAs trusted for the relay certificate (unset: system store)"},
	{CONF_MAIL, "tls_verify", OPT_BOOL, offsetof(struct conf_mail, tls_verify), "yes", NULL, 0,
	    0, 0, NULL, NULL, NULL, "verify the relay certificate (no is logged loudly)"},
	{CONF_MAIL, "from", OPT_STRING, offsetof(struct conf_mail, from), NULL, NULL,
	    OPTF_REQUIRED, 0, 0, NULL, NULL, conf_check_from,
	    "sender of every mail, e.g. Example PKI <pki@example.org>"},
	{CONF_MAIL, "template_dir", OPT_PATH, offsetof(struct conf_mail, template_dir), NULL, NULL,
	    0, 0, 0, NULL, NULL, NULL, "directory of templates overriding the built-in ones"},
	{CONF_MAIL, "language", OPT_STRING, offsetof(struct conf_mail, language), "en", NULL, 0, 0,
	    0, NULL, NULL, conf_check_language, "language of the mail templates, e.g. en or de"},
	{CONF_MAIL, "reply_to", OPT_STRING, offsetof(struct conf_mail, reply_to), NULL, NULL, 0, 0,
	    0, NULL, NULL, conf_check_reply_to,
	    "where replies to every mail go (Reply-To; unset: to from)"},
	{CONF_MAIL, "verify_at", OPT_STRING, offsetof(struct conf_mail, verify_at), NULL, NULL, 0,
	    0, 0, NULL, NULL, conf_check_verify_at,
	    "where people can check the fingerprints the collection mail shows: a URL or a place "
	    "on the intranet"},
	{CONF_MAIL, "timeout", OPT_DURATION, offsetof(struct conf_mail, timeout), "60s", NULL, 0, 1,
	    3600, NULL, NULL, NULL, "network timeout per SMTP command"},
	{CONF_MAIL, "max_attempts", OPT_INT, offsetof(struct conf_mail, max_attempts), "10", NULL, 0,
	    1, 1000, NULL, NULL, NULL,
	    "delivery attempts after temporary (4xx) failures before giving up"},
	{CONF_MAIL, "helo_name", OPT_STRING, offsetof(struct conf_mail, helo_name), NULL, NULL, 0, 0,
	    0, NULL, NULL, conf_check_hostname, "name sent in EHLO (unset: this host's name)"},

	/* [group NAME] */
	{CONF_GROUP, "directory", OPT_STRING, offsetof(struct conf_group, directory_name), NULL,
	    NULL, OPTF_REQUIRED, 0, 0, NULL, NULL, conf_check_name,
	    "name of the [directory] section the group lives in"},
	{CONF_GROUP, "group_dn", OPT_DN, offsetof(struct conf_group, group_dn), NULL, NULL,
	    0, 0, 0, NULL, NULL, NULL,
	    "DN of the group whose members get certificates (this or group is required)"},
	{CONF_GROUP, "group", OPT_STRING, offsetof(struct conf_group, group_name), NULL, NULL,
	    0, 0, 0, NULL, NULL, conf_check_sam_account_name,
	    "sAMAccountName of the group, instead of group_dn (type = ad only)"},
	{CONF_GROUP, "group_id", OPT_STRING, offsetof(struct conf_group, graph_group_id), NULL,
	    NULL, 0, 0, 0, NULL, NULL, conf_check_guid,
	    "object id of the Entra group (type = graph; this or group_name is required)"},
	{CONF_GROUP, "group_name", OPT_STRING, offsetof(struct conf_group, graph_group_name), NULL,
	    NULL, 0, 0, 0, NULL, NULL, conf_check_graph_group_name,
	    "display name of the Entra group, instead of group_id; must be unique in the tenant"},
	{CONF_GROUP, "publish_to", OPT_STRING, offsetof(struct conf_group, publish_to_name), NULL,
	    NULL, OPTF_DERIVED, 0, 0, NULL, NULL, conf_check_name,
	    "[directory] (ldap or ad) the certificates are published in (default: the group's "
	    "own directory; a graph or csv group publishes nowhere without it)"},
	{CONF_GROUP, "include_guests", OPT_BOOL, offsetof(struct conf_group, include_guests), "no",
	    NULL, 0, 0, 0, NULL, NULL, NULL,
	    "type = graph: guest accounts (userType Guest) in the group get certificates too"},
	{CONF_GROUP, "mail_from_upn", OPT_BOOL, offsetof(struct conf_group, mail_from_upn), "no",
	    NULL, 0, 0, 0, NULL, NULL, NULL,
	    "type = graph: a member without mail is certified for their userPrincipalName"},
	{CONF_GROUP, "ca", OPT_STRING, offsetof(struct conf_group, ca_name), NULL, NULL,
	    OPTF_REQUIRED, 0, 0, NULL, NULL, conf_check_name,
	    "name of the [ca] section that issues the certificates"},
	{CONF_GROUP, "sync", OPT_BOOL, offsetof(struct conf_group, enabled), "yes", NULL, 0, 0, 0,
	    NULL, NULL, NULL, "whether this group is synchronised at all"},
	{CONF_GROUP, "key_type", OPT_ENUM, offsetof(struct conf_group, key_type), "rsa2048", NULL, 0,
	    0, 0, conf_key_type_names, NULL, NULL, "key type of the users' keys"},
	{CONF_GROUP, "validity", OPT_DURATION, offsetof(struct conf_group, validity), "365d", NULL,
	    0, DAY, 825 * DAY, NULL, "the 825 days the S/MIME Baseline Requirements allow", NULL,
	    "validity of issued certificates"},
	{CONF_GROUP, "renew_before", OPT_DURATION, offsetof(struct conf_group, renew_before), "15d",
	    NULL, 0, 3600, 824 * DAY, NULL, NULL, NULL,
	    "renew this long before expiry (less than validity)"},
	{CONF_GROUP, "pkcs12", OPT_ENUM, offsetof(struct conf_group, pkcs12), "modern", NULL, 0, 0, 0,
	    conf_pkcs12_names, NULL, NULL,
	    "PKCS#12 profile: modern (AES-256, PBKDF2) or compat (3DES, SHA-1 MAC)"},
	{CONF_GROUP, "pkcs12_iterations", OPT_INT, offsetof(struct conf_group, pkcs12_iterations),
	    "10000", NULL, 0, 1000, 10000000, NULL, NULL, NULL,
	    "PBKDF2 and MAC iterations in the PKCS#12 file"},
	{CONF_GROUP, "profile", OPT_ENUM, offsetof(struct conf_group, profile), "mailbox-strict",
	    NULL, 0, 0, 0, conf_cert_profile_names, NULL, NULL,
	    "S/MIME BR certificate profile: mailbox-strict, mailbox-multipurpose (adds clientAuth), "
	    "organization-strict or organization-multipurpose (carry organization)"},
	{CONF_GROUP, "organization", OPT_STRING, offsetof(struct conf_group, organization), NULL,
	    NULL, 0, 0, 0, NULL, NULL, NULL,
	    "O= of the certificates; required by, and only allowed with, organization-* profiles"},
	{CONF_GROUP, "organization_identifier", OPT_STRING,
	    offsetof(struct conf_group, organization_identifier), NULL, NULL, 0, 0, 0, NULL, NULL,
	    conf_check_organization_identifier,
	    "organizationIdentifier of the certificates, e.g. VATDE-123456789 or NTRGB-12345678; "
	    "required by organization-* profiles"},
	{CONF_GROUP, "country", OPT_STRING, offsetof(struct conf_group, country), NULL, NULL, 0, 0,
	    0, NULL, NULL, conf_check_country,
	    "C= of the certificates (two capital letters); organization-* profiles only"},
	{CONF_GROUP, "escrow", OPT_BOOL, offsetof(struct conf_group, escrow), "yes", NULL, 0, 0, 0,
	    NULL, NULL, NULL,
	    "keep each user's private key, sealed under the master key, for recover and resend"},
	{CONF_GROUP, "reminders", OPT_STRING, offsetof(struct conf_group, reminders), "30d, 7d, 1d",
	    NULL, 0, 0, 0, NULL, NULL, conf_check_duration_list,
	    "before a certificate expires, remind its owner this long ahead (a list; \"none\" for none)"},
	{CONF_GROUP, "on_leave", OPT_ENUM, offsetof(struct conf_group, on_leave), "stop-renewing",
	    NULL, 0, 0, 0, conf_leave_policy_names, NULL, NULL,
	    "what happens when someone leaves the group or is disabled: stop-renewing, keep or revoke"},
	{CONF_GROUP, "leave_grace", OPT_DURATION, offsetof(struct conf_group, leave_grace), "7d",
	    NULL, 0, 0, 365 * DAY, NULL, NULL, NULL,
	    "with on_leave = revoke: wait this long after someone left before revoking"},
	{CONF_GROUP, "on_mail_change", OPT_ENUM, offsetof(struct conf_group, on_mail_change), "keep",
	    NULL, 0, 0, 0, conf_mail_change_names, NULL, NULL,
	    "when a primary mail changes, the old address's certificate is kept until it expires or revoked"},
	{CONF_GROUP, "language", OPT_STRING, offsetof(struct conf_group, language), NULL, NULL,
	    OPTF_DERIVED, 0, 0, NULL, NULL, conf_check_language,
	    "language of this group's mails (default [mail] language); a person's "
	    "preferredLanguage wins where templates exist for it"},
	{CONF_GROUP, "notify", OPT_STRING, offsetof(struct conf_group, notify), NULL, NULL, 0, 0, 0,
	    NULL, NULL, conf_check_address_list,
	    "addresses (comma-separated) that get a notice after each run that changed something or failed"},
	{CONF_GROUP, "allowed_domains", OPT_STRING, offsetof(struct conf_group, allowed_domains),
	    NULL, NULL, 0, 0, 0, NULL, NULL, conf_check_domain_list,
	    "domains (comma-separated; .example.org: every subdomain) that this group's certified "
	    "addresses may have (default [service] mail_domains)"},
	{CONF_GROUP, "use_other_mails", OPT_BOOL, offsetof(struct conf_group, use_other_mails), "no",
	    NULL, 0, 0, 0, NULL, NULL, NULL,
	    "Entra ID: certify the addresses in otherMails too (users can often set them themselves)"},
};

const size_t conf_options_count = ARRAY_LEN(conf_options);

static const char *const kind_names[CONF_KIND_COUNT] = {
	[CONF_SERVICE] = "service",
	[CONF_DIRECTORY] = "directory",
	[CONF_CA] = "ca",
	[CONF_MAIL] = "mail",
	[CONF_GROUP] = "group",
};

const char *
conf_kind_name(enum conf_kind k)
{
	return k < CONF_KIND_COUNT ? kind_names[k] : "?";
}

int
conf_kind_parse(const char *word, enum conf_kind *out)
{
	for (int k = 0; k < CONF_KIND_COUNT; k++) {
		if (strcmp(word, kind_names[k]) == 0) {
			*out = (enum conf_kind)k;
			return 0;
		}
	}
	return -1;
}

bool
conf_kind_named(enum conf_kind k)
{
	return k == CONF_DIRECTORY || k == CONF_CA || k == CONF_GROUP;
}

int
conf_option_find(enum conf_kind kind, const char *key)
{
	for (size_t i = 0; i < conf_options_count; i++)
		if (conf_options[i].kind == kind && strcmp(conf_options[i].key, key) == 0)
			return (int)i;
	return -1;
}

/* Levenshtein distance; keys are short, so the O(n*m) row is fine. */
size_t
conf_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t *row = xcalloc(lb + 1, sizeof(*row));
	size_t d;

	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] == b[j - 1] ? 0 : 1);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	d = row[lb];
	free(row);
	return d;
}

const char *
conf_option_suggest(enum conf_kind kind, const char *key)
{
	const char *best = NULL;
	size_t best_d = 3;

	for (size_t i = 0; i < conf_options_count; i++) {
		size_t d;

		if (conf_options[i].kind != kind)
			continue;
		/* Lengths further apart than best_d cannot beat it: skip the
		 * quadratic work (a garbage line may be kilobytes long). */
		d = strlen(key);
		if (d > strlen(conf_options[i].key) + best_d ||
		    d + best_d < strlen(conf_options[i].key))
			continue;
		d = conf_edit_distance(key, conf_options[i].key);
		if (d < best_d) {
			best_d = d;
			best = conf_options[i].key;
		}
	}
	return best;
}

char *
conf_option_type_text(const struct conf_option *o)
{
	char lo[32], hi[32];
	char *s = NULL;

	switch (o->type) {
	case OPT_STRING:
		s = xstrdup("string");
		break;
	case OPT_PATH:
		s = xstrdup("path");
		break;
	case OPT_SECRET_PATH:
		s = xstrdup("path to a secret file (mode 0600 or stricter)");
		break;
	case OPT_URL_HTTP:
		s = xstrdup("http:// URL");
		break;
	case OPT_URI_LDAP:
		s = xstrdup("LDAP URI list");
		break;
	case OPT_DN:
		s = xstrdup("DN");
		break;
	case OPT_ENUM: {
		size_t n = 0;
		char *acc = xstrdup("");

		for (const char *const *p = o->enum_names; *p != NULL; p++, n++) {
			char *next = xasprintf("%s%s%s", acc, n > 0 ? " | " : "", *p);

			free(acc);
			acc = next;
		}
		s = acc;
		break;
	}
	case OPT_BOOL:
		s = xstrdup("yes | no");
		break;
	case OPT_INT:
		s = xasprintf("integer, %lld to %lld", (long long)o->min, (long long)o->max);
		break;
	case OPT_DURATION:
		format_duration(o->min, lo, sizeof(lo));
		format_duration(o->max, hi, sizeof(hi));
		s = xasprintf("duration, %s to %s", lo, hi);
		break;
	case OPT_LOG_LEVEL:
		s = xstrdup("error | warn | info | debug");
		break;
	case OPT_LOG_TARGET:
		s = xstrdup("stderr | syslog");
		break;
	}
	return s;
}
