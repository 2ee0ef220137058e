/* SPDX-License-Identifier: ISC */
/*
 * The directory dispatcher: one struct dir_conn for every [directory]
 * type, forwarding each public dir_* call to the backend of that type
 * (dir_ldap.c, dir_ad.c, dir_graph.c, dir_csv.c). This is the only place
 * that looks at the type; what a backend cannot do is an empty slot in its
 * row, and the error for it is made here, once.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "directory/backend.h"

/* Index = enum dir_type. */
static const struct dir_backend *const backends[] = {
	[DIR_TYPE_LDAP] = &dir_ldap_backend,
	[DIR_TYPE_AD] = &dir_ad_backend,
	[DIR_TYPE_CSV] = &dir_csv_backend,
	[DIR_TYPE_GRAPH] = &dir_graph_backend,
};

const struct dir_backend *
dir_backend_of(enum dir_type type)
{
	return (size_t)type < ARRAY_LEN(backends) ? backends[type] : NULL;
}

enum dir_status
dir_open(const struct conf_directory *conf, const char *bind_password,
    struct dir_conn **out, struct errbuf *e)
{
	const struct dir_backend *be = dir_backend_of(conf->type);
	struct dir_conn *dc = NULL;
	enum dir_status st;

	*out = NULL;
	if (be == NULL) {
		err_set(e, "[directory %s]: unknown type", conf->name != NULL ? conf->name : "");
		return DIR_BAD_CONFIG;
	}
	dc = xcalloc(1, sizeof(*dc));
	dc->be = be;
	dc->conf = conf;
	dc->label = xasprintf("[directory %s]", conf->name != NULL ? conf->name : "");
	st = dc->be->open(conf, bind_password, &dc->state, e);
	if (st != DIR_OK) {
		dir_close(dc);
		return st;
	}
	*out = dc;
	return DIR_OK;
}

void
dir_close(struct dir_conn *dc)
{
	if (dc == NULL)
		return;
	if (dc->state != NULL)
		dc->be->close(dc->state);
	free(dc->label);
	free(dc);
}

enum dir_status
dir_group_members(struct dir_conn *dc, const char *group_dn, struct user_list *out,
    struct errbuf *e)
{
	if (dc->be->group_members == NULL) {
		err_set(e, "%s: a %s group is read with its [group] policy (dir_read_group)",
		    dc->label, dc->be->title);
		return DIR_BAD_CONFIG;
	}
	return dc->be->group_members(dc->state, group_dn, out, e);
}

enum dir_status
dir_read_group(struct dir_conn *dc, const struct conf_group *g, struct user_list *out,
    struct errbuf *e)
{
	if (dc->be->read_group != NULL)
		return dc->be->read_group(dc->state, g, out, e);
	return dir_group_members(dc, g->group_dn, out, e);
}

/* Callers route publishing elsewhere (publish_to); this is the guard. */
static enum dir_status
cannot_publish(const struct dir_conn *dc, struct errbuf *e)
{
	err_set(e, "%s: %s", dc->label, dc->be->cannot_publish);
	return DIR_BAD_CONFIG;
}

enum dir_status
dir_find_person(struct dir_conn *dc, const struct user *u, char **dn_out, struct errbuf *e)
{
	*dn_out = NULL;
	if (dc->be->find_person == NULL)
		return cannot_publish(dc, e);
	return dc->be->find_person(dc->state, u, dn_out, e);
}

enum dir_status
dir_read_certs(struct dir_conn *dc, const char *dn, struct dir_cert_values *out,
    struct errbuf *e)
{
	memset(out, 0, sizeof(*out));
	if (dc->be->read_certs == NULL)
		return cannot_publish(dc, e);
	return dc->be->read_certs(dc->state, dn, out, e);
}

static bool
lists_overlap(const struct dir_value *a, size_t na, const struct dir_value *b, size_t nb)
{
	for (size_t i = 0; i < na; i++) {
		if (dir_value_in(b, nb, a[i].data, a[i].len))
			return true;
	}
	return false;
}

enum dir_status
dir_apply_certs(struct dir_conn *dc, const char *dn, const struct dir_cert_change *change,
    struct errbuf *e)
{
	if (change->n_add_user_cert + change->n_del_user_cert + change->n_add_smime +
	    change->n_del_smime == 0)
		return DIR_OK;
	if (dc->be->apply_certs == NULL)
		return cannot_publish(dc, e);
	if (lists_overlap(change->add_user_cert, change->n_add_user_cert,
	    change->del_user_cert, change->n_del_user_cert) ||
	    lists_overlap(change->add_smime, change->n_add_smime, change->del_smime,
	    change->n_del_smime)) {
		err_set(e, "certificates of %s: the same value is both to add and to delete; "
		    "refusing an ambiguous change", dn);
		return DIR_FAILED;
	}
	return dc->be->apply_certs(dc->state, dn, change, e);
}

enum dir_status
dir_address_holders(struct dir_conn *dc, const char *addr, struct dir_holders *out,
    struct errbuf *e)
{
	enum dir_status st;

	memset(out, 0, sizeof(*out));
	if (dc->be->address_holders == NULL) {
		err_set(e, "%s: a %s directory cannot say who holds an address", dc->label,
		    dc->be->title);
		return DIR_BAD_CONFIG;
	}
	st = dc->be->address_holders(dc->state, addr, out, e);
	if (st != DIR_OK)
		dir_holders_free(out); /* all or nothing */
	return st;
}

enum dir_status
dir_read_person(struct dir_conn *dc, const char *ref, const struct conf_group *const *groups,
    size_t n_groups, struct user *out, bool *in, bool *found, struct errbuf *e)
{
	enum dir_status st;

	memset(out, 0, sizeof(*out));
	memset(in, 0, n_groups * sizeof(*in));
	*found = false;
	if (dc->be->read_person == NULL) {
		err_set(e, "%s: a %s directory cannot look people up one by one; their groups "
		    "are read whole", dc->label, dc->be->title);
		return DIR_UNSUPPORTED;
	}
	st = dc->be->read_person(dc->state, ref, groups, n_groups, out, in, found, e);
	if (st != DIR_OK || !*found) {
		/* All or nothing. */
		user_free_fields(out);
		memset(out, 0, sizeof(*out));
		memset(in, 0, n_groups * sizeof(*in));
		*found = false;
	}
	return st;
}

bool
dir_reads_person(const struct conf_directory *conf)
{
	const struct dir_backend *be = dir_backend_of(conf->type);

	return be != NULL && be->read_person != NULL;
}

const char *
dir_person_ref(const struct conf_directory *conf, const char *id, const char *dn)
{
	const struct dir_backend *be = dir_backend_of(conf->type);

	return be != NULL && be->person_by_dn ? dn : id;
}
