/* SPDX-License-Identifier: ISC */
/*
 * What each [directory] type is, needs and can do: the one table of
 * directory-type traits, indexed by enum dir_type. config_load()'s checks
 * read it (which keys a type needs or refuses, how its groups are named,
 * whether certificates can be published to it, its default user_filter),
 * and other rooms ask it questions instead of comparing types. A new type
 * is one row here (and one backend in directory/).
 */
#include "config.h"

#include <stdlib.h>

#include "conf/conf_internal.h"

/* RFC 4519 people; also what check-config -v shows for types without a filter. */
#define LDAP_PEOPLE "(objectClass=inetOrgPerson)"

/* Index = enum dir_type. */
static const struct conf_dir_traits traits[] = {
	[DIR_TYPE_LDAP] = {
		.title = "an LDAP directory",
		.ldap = true,
		.groups = GROUPS_BY_DN,
		.warn_unpublished = true,
		.default_user_filter = LDAP_PEOPLE,
		.stream = "RFC 4533 content synchronisation (slapd's syncprov overlay): a "
		    "persistent search, or one refresh every poll_interval where that is refused",
		.accesslog = true,
	},
	[DIR_TYPE_AD] = {
		.title = "an Active Directory",
		.ldap = true,
		.upn_bind = true,
		.global_catalog = true,
		.groups = GROUPS_BY_DN,
		.group_by_account = true,
		.warn_unpublished = true,
		/* AD users are user objects that are people: not contacts, not computers. */
		.default_user_filter = "(&(objectCategory=person)(objectClass=user))",
		.stream = "uSNChanged polling of the domain controller in uri every poll_interval, "
		    "deletions through the show-deleted control",
		.dirsync = true,
	},
	[DIR_TYPE_CSV] = {
		.title = "a CSV file",
		.file = true,
		.groups = GROUPS_NONE,
		.default_user_filter = LDAP_PEOPLE,
		.not_a_target = "which cannot hold certificates; name an ldap or ad directory",
		.unpublished = "certificates are published nowhere (a csv directory holds no "
		    "entries; set publish_to to publish them); they are only mailed to their owners",
	},
	[DIR_TYPE_GRAPH] = {
		.title = "Microsoft Graph",
		.graph_app = true,
		.groups = GROUPS_BY_ENTRA,
		.warn_unpublished = true,
		.default_user_filter = LDAP_PEOPLE,
		.not_a_target = "which cannot store S/MIME certificates for Exchange Online's "
		    "address list; publish to the on-premises AD that Entra Connect synchronises "
		    "(type = ad), or to an LDAP address book",
		.unpublished = "certificates are published nowhere: Microsoft Graph cannot store "
		    "them for Exchange Online's address list and the group has no publish_to; they "
		    "are only mailed to their owners",
		.stream = "delta queries on /users and /groups every poll_interval (a delta link "
		    "lives seven days: a full read comes before six are up)",
	},
};

/* A global catalog is a read-only view of a whole forest, whatever its type says. */
#define GC_TITLE "a global catalog"
#define GC_NOT_A_TARGET "which refuses writes; name a [directory] for a domain controller " \
	"(global_catalog = no)"
#define GC_UNPUBLISHED "certificates are published nowhere: the group is read from a global " \
	"catalog, which refuses writes, and has no publish_to naming a domain controller; they " \
	"are only mailed to their owners"

const struct conf_dir_traits *
conf_dir_traits(enum dir_type type)
{
	/* The option table accepts only the names of these rows: anything else is a bug. */
	if ((size_t)type >= ARRAY_LEN(traits) || traits[type].title == NULL)
		abort();
	return &traits[type];
}

static bool
is_global_catalog(const struct conf_directory *d)
{
	return conf_dir_traits(d->type)->global_catalog && d->global_catalog;
}

const char *
conf_directory_title(const struct conf_directory *d)
{
	return is_global_catalog(d) ? GC_TITLE : conf_dir_traits(d->type)->title;
}

const char *
conf_directory_not_a_target(const struct conf_directory *d)
{
	return is_global_catalog(d) ? GC_NOT_A_TARGET : conf_dir_traits(d->type)->not_a_target;
}

bool
conf_directory_publishable(const struct conf_directory *d)
{
	return conf_directory_not_a_target(d) == NULL;
}

const char *
conf_directory_unpublished(const struct conf_directory *d)
{
	return is_global_catalog(d) ? GC_UNPUBLISHED : conf_dir_traits(d->type)->unpublished;
}

const char *
conf_directory_stream(const struct conf_directory *d)
{
	const struct conf_dir_traits *t = conf_dir_traits(d->type);

	if (d->incremental == INCREMENTAL_NO || t->stream == NULL)
		return NULL;
	if (t->dirsync && d->ad_changes == AD_CHANGES_DIRSYNC)
		return "the DirSync control every poll_interval (the service account needs the "
		    "Replicating Directory Changes right on the domain)";
	return t->stream;
}
