/* SPDX-License-Identifier: ISC */
/*
 * A page of Microsoft Graph's transitiveMembers answer on arbitrary bytes
 * (directory/dir_graph.c). The first byte picks the group's policy
 * (include_guests, mail_from_upn); the rest is parsed as JSON the way
 * graph_call() does and handed to the member reader. Properties: every
 * member returned without a problem has a valid address and alternative
 * addresses, names without control characters, and an id; a refused page
 * says why.
 */
#include "config.h"

#include <string.h>

#include <jansson.h>

#include "common/errbuf.h"
#include "common/strutil.h"
#include "conf/conf.h"
#include "directory/backend.h"
#include "directory/directory.h"
#include "tests/fuzz/fuzz.h"

static void
check_text(const char *s)
{
	if (s != NULL)
		FUZZ_ASSERT(!str_has_control(s));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char name[] = "staff";
	struct conf_group g;
	struct graph_page_reader r;
	struct user_list users = { 0 };
	const char *next = NULL;
	struct errbuf e;
	json_t *page;

	if (size < 1)
		return 0;
	memset(&g, 0, sizeof(g));
	g.name = name;
	g.include_guests = (data[0] & 1) != 0;
	g.mail_from_upn = (data[0] & 2) != 0;
	page = json_loadb((const char *)data + 1, size - 1, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(page)) {
		json_decref(page);
		return 0;
	}
	err_clear(&e);
	dir_graph_reader_init(&r, "entra", &g, &users);
	if (dir_graph_take_page(&r, page, &next, &e) == DIR_OK) {
		for (size_t i = 0; i < users.n; i++) {
			const struct user *u = &users.v[i];

			FUZZ_ASSERT(u->id != NULL && u->dn != NULL);
			check_text(u->display_name);
			check_text(u->given_name);
			check_text(u->surname);
			check_text(u->dn);
			if (u->problem != NULL)
				continue;
			FUZZ_ASSERT(u->enabled);
			FUZZ_ASSERT(u->mail != NULL && dir_mail_valid(u->mail, strlen(u->mail)));
			for (size_t k = 0; k < u->n_alt_mails; k++)
				FUZZ_ASSERT(dir_mail_valid(u->alt_mails[k], strlen(u->alt_mails[k])));
		}
	} else {
		FUZZ_ASSERT(e.text[0] != '\0');
	}
	dir_graph_reader_free(&r);
	user_list_free(&users);
	json_decref(page);
	return 0;
}
