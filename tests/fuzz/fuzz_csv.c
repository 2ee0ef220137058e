/* SPDX-License-Identifier: ISC */
/*
 * The CSV people file (directory type = csv) on arbitrary bytes: quoting,
 * line ends, byte order marks, short and long rows, hostile values.
 * Properties: every member the reader returns without a problem has a
 * valid address and printable, valid UTF-8 names; a refused file says why.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/errbuf.h"
#include "common/strutil.h"
#include "conf/conf.h"
#include "directory/dir_internal.h"
#include "directory/directory.h"
#include "tests/fuzz/fuzz.h"

static void
check_text(const char *s)
{
	if (s == NULL)
		return;
	FUZZ_ASSERT(!str_has_control(s));
	FUZZ_ASSERT(str_is_utf8(s, strlen(s)));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[128], name[] = "people";
	struct conf_directory conf;
	struct dir_conn *dc = NULL;
	struct user_list users = { 0 };
	struct errbuf e;

	if (path[0] == '\0')
		snprintf(path, sizeof(path), "%s/people.csv", fuzz_scratch_dir());
	fuzz_write_file(path, data, size);
	memset(&conf, 0, sizeof(conf));
	conf.name = name;
	conf.type = DIR_TYPE_CSV;
	conf.file = path;
	err_clear(&e);
	FUZZ_ASSERT(dir_open(&conf, NULL, &dc, &e) == DIR_OK);
	/* A csv directory has no groups: every row is a member, whatever is asked. */
	if (dir_group_members(dc, "", &users, &e) == DIR_OK) {
		for (size_t i = 0; i < users.n; i++) {
			const struct user *u = &users.v[i];

			if (u->problem != NULL)
				continue;
			FUZZ_ASSERT(u->mail != NULL && dir_mail_valid(u->mail, strlen(u->mail)));
			for (size_t k = 0; k < u->n_alt_mails; k++)
				FUZZ_ASSERT(dir_mail_valid(u->alt_mails[k], strlen(u->alt_mails[k])));
			check_text(u->display_name);
			check_text(u->given_name);
			check_text(u->surname);
		}
	} else {
		FUZZ_ASSERT(e.text[0] != '\0');
	}
	user_list_free(&users);
	dir_close(dc);
	return 0;
}
