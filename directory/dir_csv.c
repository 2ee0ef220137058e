/* SPDX-License-Identifier: ISC */
/*
 * The CSV backend (type = csv): a file as a directory, for people outside
 * any LDAP or AD (external staff, pilots). The file is read whole at every
 * run; every row is a member of the groups that use this directory. It
 * holds no entries, so nothing can be published to it.
 *
 * Format (smimesync.conf(5), CSV DIRECTORIES): a header line naming the
 * columns name, mail, designation, alt_mails (order free, case ignored),
 * RFC 4180 fields, # comments and blank lines skipped. A row with an error
 * becomes a user with .problem naming file and line: it is reported and
 * skipped, the good rows still sync. A file that cannot be read or has an
 * unusable header fails the whole read (DIR_BAD_CONFIG), so a broken file
 * retires nobody.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/buf.h"
#include "common/fileutil.h"
#include "common/log.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "directory/backend.h"

/* Largest file we read (STYLE 13): about a million people. */
#define CSV_MAX_BYTES (256u << 20)
#define CSV_MAX_FIELDS 16

enum csv_col { COL_NAME, COL_MAIL, COL_DESIGNATION, COL_ALT_MAILS, COL_COUNT };
static const char *const col_names[COL_COUNT] = { "name", "mail", "designation", "alt_mails" };

struct csv_record {
	char *fields[CSV_MAX_FIELDS];
	size_t n;
	bool too_many;
	int line; /* where the record starts */
};

static void
record_clear(struct csv_record *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->fields[i]);
	memset(r, 0, sizeof(*r));
}

/*
 * Read one record starting at *p (RFC 4180: quoted fields may hold commas,
 * doubled quotes and line breaks). Advances *p and *line. Returns false at
 * the end of the data; *bad is set for an unterminated quote.
 */
static bool
next_record(const char **p, const char *end, int *line, struct csv_record *r, bool *bad)
{
	struct buf field;
	const char *s = *p;

	memset(r, 0, sizeof(*r));
	*bad = false;
	/* Skip blank lines and comments. */
	for (;;) {
		if (s >= end)
			return false;
		if (*s == '\n' || (*s == '\r' && s + 1 < end && s[1] == '\n')) {
			s += *s == '\r' ? 2 : 1;
			(*line)++;
			continue;
		}
		if (*s == '#') {
			while (s < end && *s != '\n')
				s++;
			continue;
		}
		break;
	}
	r->line = *line;
	buf_init(&field, 0);
	for (;;) {
		bool quoted = s < end && *s == '"';

		buf_reset(&field);
		if (quoted) {
			s++;
			for (;;) {
				if (s >= end) {
					*bad = true;
					break;
				}
				if (*s == '"' && s + 1 < end && s[1] == '"') {
					(void)!buf_putc(&field, '"');
					s += 2;
				} else if (*s == '"') {
					s++;
					break;
				} else {
					if (*s == '\n')
						(*line)++;
					(void)!buf_putc(&field, *s++);
				}
			}
		}
		while (s < end && *s != ',' && *s != '\n' && *s != '\r')
			(void)!buf_putc(&field, *s++);
		if (r->n < CSV_MAX_FIELDS)
			r->fields[r->n++] = buf_steal(&field, NULL);
		else
			r->too_many = true;
		if (s < end && *s == ',') {
			s++;
			continue;
		}
		break;
	}
	if (s < end && *s == '\r')
		s++;
	if (s < end && *s == '\n') {
		s++;
		(*line)++;
	}
	buf_free(&field);
	*p = s;
	return true;
}

/* The backend's state: nothing but the section, the file is read at every run. */
struct csv_dir {
	const struct conf_directory *conf; /* borrowed */
};

static enum dir_status
csv_open(const struct conf_directory *conf, const char *bind_password, void **state,
    struct errbuf *e)
{
	struct csv_dir *cd = NULL;

	*state = NULL;
	if (conf->file == NULL) {
		err_set(e, "[directory %s]: type = csv needs file = /path/to/people.csv", conf->name);
		return DIR_BAD_CONFIG;
	}
	cd = xcalloc(1, sizeof(*cd));
	cd->conf = conf;
	*state = cd;
	return DIR_OK;
}

static void
csv_close(void *state)
{
	free(state);
}

/* Map the header's columns; -1 with e set when it is unusable. */
static int
map_header(const char *path, const struct csv_record *h, int map[COL_COUNT], struct errbuf *e)
{
	for (int c = 0; c < COL_COUNT; c++)
		map[c] = -1;
	for (size_t i = 0; i < h->n; i++) {
		char *name = str_trim(h->fields[i]);
		int c;

		for (c = 0; c < COL_COUNT; c++)
			if (strcasecmp(name, col_names[c]) == 0)
				break;
		if (c == COL_COUNT) {
			err_set(e, "%s:%d: unknown column \"%s\"; the columns are name, mail, "
			    "designation and alt_mails", path, h->line, name);
			return -1;
		}
		if (map[c] >= 0) {
			err_set(e, "%s:%d: column \"%s\" appears twice", path, h->line, col_names[c]);
			return -1;
		}
		map[c] = (int)i;
	}
	if (map[COL_NAME] < 0 || map[COL_MAIL] < 0) {
		err_set(e, "%s:%d: the first line must name the columns, at least name and mail "
		    "(e.g. name,mail,designation,alt_mails)", path, h->line);
		return -1;
	}
	return 0;
}

static const char *
field(const struct csv_record *r, const int map[COL_COUNT], enum csv_col c)
{
	return map[c] >= 0 && (size_t)map[c] < r->n ? r->fields[map[c]] : NULL;
}

static void
fill_alt_mails(struct user *u, const char *path, int line, const char *list)
{
	char *copy = xstrdup(list), *save = NULL, *tok;

	for (tok = strtok_r(copy, " ;\t", &save); tok != NULL; tok = strtok_r(NULL, " ;\t", &save)) {
		if (!dir_mail_valid(tok, strlen(tok))) {
			dir_add_problem(u, "%s:%d: alt_mails: \"%s\" is not a valid address", path, line,
			    tok);
			break;
		}
		dir_add_alt_mail(u, tok, strlen(tok));
	}
	free(copy);
	if (u->n_alt_over > 0) {
		char *what = xasprintf("%s:%d: alt_mails", path, line);

		dir_check_alt_mails(u, what);
		free(what);
	}
}

/* Turn one data record into a user (problems included) appended to out. */
static void
add_row(const struct conf_directory *conf, const char *path, const struct csv_record *r,
    size_t columns, const int map[COL_COUNT], struct strset *seen, struct user_list *out)
{
	struct user *u = user_list_push(out);
	const char *name = field(r, map, COL_NAME);
	const char *mail = field(r, map, COL_MAIL);
	const char *alt = field(r, map, COL_ALT_MAILS);
	char *key;

	u->source = conf->name;
	u->enabled = true;
	u->dn = xasprintf("%s:%d", path, r->line);
	if (r->too_many || r->n != columns) {
		dir_add_problem(u, "%s:%d: %s%zu fields, but the header names %zu columns", path,
		    r->line, r->too_many ? "more than " : "", r->n, columns);
		return;
	}
	for (size_t i = 0; i < r->n; i++) {
		if (!str_is_utf8(r->fields[i], strlen(r->fields[i])) ||
		    str_has_control(r->fields[i])) {
			dir_add_problem(u, "%s:%d: field %zu is not valid UTF-8 text", path, r->line,
			    i + 1);
			return;
		}
	}
	if (mail == NULL || *str_trim((char *)mail) == '\0') {
		dir_add_problem(u, "%s:%d: no mail", path, r->line);
		return;
	}
	if (!dir_mail_valid(mail, strlen(mail))) {
		dir_add_problem(u, "%s:%d: mail \"%s\" is not a valid address", path, r->line, mail);
		return;
	}
	key = xasprintf("csv:%s", mail);
	for (char *p = key; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	if (!strset_add(seen, key)) {
		dir_add_problem(u, "%s:%d: mail %s appears on an earlier line too; each person once",
		    path, r->line, mail);
		free(key);
		return;
	}
	u->id = key;
	u->mail = xstrdup(mail);
	if (name != NULL && *str_trim((char *)name) != '\0')
		u->display_name = xstrdup(str_trim((char *)name));
	if (alt != NULL && *alt != '\0')
		fill_alt_mails(u, path, r->line, alt);
	(void)field(r, map, COL_DESIGNATION); /* shown by reports via the name; not certified */
}

/* Every row is a member, whichever group asks: ref names none. */
static enum dir_status
csv_members(void *state, const char *ref, struct user_list *out, struct errbuf *e)
{
	const struct conf_directory *conf = ((struct csv_dir *)state)->conf;
	const char *path = conf->file;
	char *data = NULL;
	size_t len = 0, columns;
	const char *p, *end;
	struct csv_record r;
	struct strset seen;
	int map[COL_COUNT];
	int line = 1;
	bool bad;
	enum dir_status st = DIR_BAD_CONFIG;

	strset_init(&seen);
	memset(&r, 0, sizeof(r));
	if (file_read_all(path, CSV_MAX_BYTES, &data, &len, e) != 0) {
		err_prefix(e, "[directory %s]", conf->name);
		goto out;
	}
	p = data;
	end = data + len;
	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3; /* a UTF-8 byte order mark from a spreadsheet */
	if (!next_record(&p, end, &line, &r, &bad)) {
		err_set(e, "%s: the file is empty; it needs a header line (name,mail,...)", path);
		goto out;
	}
	if (bad || r.too_many || map_header(path, &r, map, e) != 0) {
		if (bad || r.too_many)
			err_set(e, "%s:%d: the header line cannot be read", path, r.line);
		goto out;
	}
	columns = r.n;
	record_clear(&r);
	while (next_record(&p, end, &line, &r, &bad)) {
		if (bad) {
			struct user *u = user_list_push(out);

			u->source = conf->name;
			u->dn = xasprintf("%s:%d", path, r.line);
			dir_add_problem(u, "%s:%d: a quoted field is not closed; the rest of the "
			    "file is ignored", path, r.line);
			record_clear(&r);
			break;
		}
		add_row(conf, path, &r, columns, map, &seen, out);
		record_clear(&r);
	}
	log_debug("[directory %s] %s: %zu rows", conf->name, path, out->n);
	st = DIR_OK;
out:
	record_clear(&r);
	strset_free(&seen);
	free(data);
	return st;
}

const struct dir_backend dir_csv_backend = {
	.title = "CSV",
	.open = csv_open,
	.close = csv_close,
	.group_members = csv_members,
	.cannot_publish = "a CSV file cannot hold certificates; publish_to must name an ldap "
	    "or ad directory",
};
