/* SPDX-License-Identifier: ISC */
/*
 * Private plumbing of conf/: the error list, the parsed document and the
 * record of where each key was set.
 *
 * Errors are collected as (line, message) and sorted by line at the end
 * (stable: same-line errors keep the order they were found in), so the
 * user reads them in file order however the checks were ordered.
 *
 * The parser (conf/parser.c) turns text into a struct conf_doc: sections
 * with their header line and raw key = value entries. It reports syntax
 * only; types, defaults and cross-references are conf/config.c's job.
 */
#ifndef SMIMESYNC_CONF_CONF_INTERNAL_H
#define SMIMESYNC_CONF_CONF_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "common/attrs.h"
#include "conf/conf.h"
#include "conf/options.h"

struct conf_err {
	int line; /* 0: the message is about the whole file */
	size_t seq;
	char *msg;
};

struct conf_errlist {
	const char *path; /* borrowed */
	struct conf_err *v;
	size_t n;
};

/* Adds "path:line: text" (or "path: text" when line is 0). */
void conf_err_add(struct conf_errlist *el, int line, const char *fmt, ...) PRINTF_LIKE(3, 4);
/* Sort by line and move every message to errs (appending). el is emptied. */
void conf_errlist_finish(struct conf_errlist *el, struct conf_errors *errs);
void conf_errlist_free(struct conf_errlist *el);

struct conf_entry {
	char *key;
	char *value;
	int line;
};

struct conf_section {
	enum conf_kind kind;
	char *name; /* NULL for [service] and [mail] */
	int line;
	bool skip;  /* header was wrong: its keys are not checked (no error cascade) */
	struct conf_entry *entries;
	size_t n_entries;
};

struct conf_doc {
	struct conf_section *secs;
	size_t n;
};

/* Parse text (NUL-terminated); syntax errors go to el. Always fills doc. */
void conf_parse(const char *text, size_t len, struct conf_doc *doc, struct conf_errlist *el);
void conf_doc_free(struct conf_doc *doc);

/* Does a [ca] of this type read key? (check-config -v prints only those.) */
bool conf_ca_key_used(enum ca_type type, const char *key);

/* NULL when certificates can be written to d, else why not, after "is <title>, " (static). */
const char *conf_directory_not_a_target(const struct conf_directory *d);

/* "[service]", "[group sales]" (new). */
char *conf_section_label(enum conf_kind kind, const char *name);

/* Where each section and key of a loaded config came from. */
struct conf_source_sec {
	const void *base; /* the section struct inside struct config */
	enum conf_kind kind;
	int header_line;  /* 0 when the section was absent ([service] may be) */
	int *lines;       /* per conf_options[] row: line of the key, 0 if defaulted */
};

struct conf_source {
	struct conf_source_sec *secs;
	size_t n;
};

void conf_source_free(struct conf_source *src);
/* Line where key of the section at base was set, else its header line. */
int conf_source_line(const struct config *cfg, const void *base, const char *key);

#endif
