/* SPDX-License-Identifier: ISC */
/*
 * smimesync.conf syntax: lines of "key = value" under "[kind]" or
 * "[kind NAME]" headers. A '#' or ';' at the start of a line or after
 * whitespace starts a comment, so values may contain '=', '#' and ';'
 * elsewhere (URLs, DNs). This file knows the syntax only; it records each
 * header and entry with its line number for conf/config.c.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "common/strutil.h"
#include "common/xalloc.h"
#include "conf/conf_internal.h"

static void
strip_comment(char *line)
{
	for (char *p = line; *p != '\0'; p++) {
		if ((*p == '#' || *p == ';') && (p == line || isspace((unsigned char)p[-1]))) {
			*p = '\0';
			return;
		}
	}
}

static struct conf_section *
add_section(struct conf_doc *doc, enum conf_kind kind, const char *name, int line, bool skip)
{
	struct conf_section *s;

	doc->secs = xreallocarray(doc->secs, doc->n + 1, sizeof(*doc->secs));
	s = &doc->secs[doc->n++];
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->name = xstrdup_or_null(name);
	s->line = line;
	s->skip = skip;
	return s;
}

static const char *
closest_kind(const char *word)
{
	for (int k = 0; k < CONF_KIND_COUNT; k++)
		if (conf_edit_distance(word, conf_kind_name((enum conf_kind)k)) <= 2 &&
		    strlen(word) > 2)
			return conf_kind_name((enum conf_kind)k);
	return NULL;
}

/* inner: text between '[' and ']', trimmed. Returns the new section. */
static struct conf_section *
parse_header(char *inner, int line, struct conf_doc *doc, struct conf_errlist *el)
{
	char *word = inner;
	char *name = NULL;
	char *sp;
	enum conf_kind kind;

	sp = word + strcspn(word, " \t");
	if (*sp != '\0') {
		*sp = '\0';
		name = str_trim(sp + 1);
		if (*name == '\0')
			name = NULL;
	}
	if (*word == '\0') {
		conf_err_add(el, line, "empty section header []; write [service], [mail], "
		    "[directory NAME], [ca NAME] or [group NAME]");
		return add_section(doc, CONF_SERVICE, NULL, line, true);
	}
	if (conf_kind_parse(word, &kind) != 0) {
		const char *near = closest_kind(word);

		if (near != NULL)
			conf_err_add(el, line, "unknown section [%s%s%s]; did you mean [%s%s%s]?",
			    word, name ? " " : "", name ? name : "", near, name ? " " : "",
			    name ? name : "");
		else
			conf_err_add(el, line, "unknown section [%s]; expected [service], [mail], "
			    "[directory NAME], [ca NAME] or [group NAME]", word);
		return add_section(doc, CONF_SERVICE, NULL, line, true);
	}
	if (conf_kind_named(kind) && name == NULL) {
		conf_err_add(el, line, "section [%s] needs a name, e.g. [%s main]", word, word);
		return add_section(doc, kind, NULL, line, true);
	}
	if (!conf_kind_named(kind) && name != NULL) {
		conf_err_add(el, line, "section [%s] takes no name; write [%s]", word, word);
		return add_section(doc, kind, NULL, line, true);
	}
	if (name != NULL && !conf_name_valid(name)) {
		conf_err_add(el, line, "[%s %s]: invalid section name \"%s\"; use letters, digits, "
		    "\"-\", \"_\" and \".\"", word, name, name);
		return add_section(doc, kind, NULL, line, true);
	}
	return add_section(doc, kind, name, line, false);
}

static void
add_entry(struct conf_section *s, const char *key, const char *value, int line)
{
	struct conf_entry *en;

	s->entries = xreallocarray(s->entries, s->n_entries + 1, sizeof(*s->entries));
	en = &s->entries[s->n_entries++];
	en->key = xstrdup(key);
	en->value = xstrdup(value);
	en->line = line;
}

static void
parse_line(char *raw, int line, struct conf_doc *doc, struct conf_section **cur,
    struct conf_errlist *el)
{
	char *text;
	char *eq;

	strip_comment(raw);
	text = str_trim(raw);
	if (*text == '\0')
		return;
	if (*text == '[') {
		char *close = strchr(text, ']');

		if (close == NULL) {
			conf_err_add(el, line, "syntax error: section header is missing \"]\"");
			/* Keys below belong to no valid section: do not report each one. */
			*cur = add_section(doc, CONF_SERVICE, NULL, line, true);
			return;
		}
		if (*str_trim(close + 1) != '\0') {
			conf_err_add(el, line, "syntax error: unexpected text after \"]\"");
			*cur = add_section(doc, CONF_SERVICE, NULL, line, true);
			return;
		}
		*close = '\0';
		*cur = parse_header(str_trim(text + 1), line, doc, el);
		return;
	}
	eq = strchr(text, '=');
	if (eq == NULL) {
		conf_err_add(el, line, "syntax error: expected \"key = value\", a [section] header "
		    "or a comment");
		return;
	}
	*eq = '\0';
	text = str_trim(text);
	if (*text == '\0') {
		conf_err_add(el, line, "syntax error: no key before \"=\"");
		return;
	}
	if (*cur == NULL) {
		conf_err_add(el, line, "%s: key outside any section; put it under a header such "
		    "as [service]", text);
		return;
	}
	if ((*cur)->skip)
		return;
	add_entry(*cur, text, str_trim(eq + 1), line);
}

void
conf_parse(const char *text, size_t len, struct conf_doc *doc, struct conf_errlist *el)
{
	struct conf_section *cur = NULL;
	const char *p = text;
	const char *end = text + len;
	int line = 0;

	memset(doc, 0, sizeof(*doc));
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		char *raw = NULL;

		line++;
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (memchr(p, '\0', n) != NULL) {
			conf_err_add(el, line, "line contains a NUL byte; is this a text file?");
		} else if (!str_is_utf8(p, n)) {
			conf_err_add(el, line, "line is not valid UTF-8; save the file as UTF-8");
		} else {
			raw = xstrndup(p, n);
			parse_line(raw, line, doc, &cur, el);
			free(raw);
		}
		p = nl != NULL ? nl + 1 : end;
	}
}

void
conf_doc_free(struct conf_doc *doc)
{
	for (size_t i = 0; i < doc->n; i++) {
		struct conf_section *s = &doc->secs[i];

		for (size_t j = 0; j < s->n_entries; j++) {
			free(s->entries[j].key);
			free(s->entries[j].value);
		}
		free(s->entries);
		free(s->name);
	}
	free(doc->secs);
	memset(doc, 0, sizeof(*doc));
}

char *
conf_section_label(enum conf_kind kind, const char *name)
{
	if (name == NULL)
		return xasprintf("[%s]", conf_kind_name(kind));
	return xasprintf("[%s %s]", conf_kind_name(kind), name);
}
