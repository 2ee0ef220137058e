/* SPDX-License-Identifier: ISC */
/*
 * Message templates.
 *
 * A message NAME (e.g. "collection", "password") in language LANG is made
 * of up to two files found first in the override directory
 * ([mail] template_dir), then in the built-in directory
 * (SMIMESYNC_DATADIR/templates, or $SMIMESYNC_TEMPLATES_DIR):
 *
 *   LANG/NAME.txt   required. Starts with header lines ("Subject: ...")
 *                   up to the first blank line; the rest is the text body.
 *   LANG/NAME.html  optional HTML body (no header block).
 *
 * Variables are written {{name}}. In the HTML part values are
 * HTML-escaped. An unknown variable, an unterminated {{ or an unknown
 * header line is an error naming the file and line. The variables each
 * message may use are listed in smimesync-templates(5) and in
 * template_known_vars[].
 *
 * Ownership: tmpl_vars copies what it is given. rendered_mail's strings
 * are new; rendered_mail_clear() frees them.
 */
#ifndef SMIMESYNC_MAIL_TEMPLATE_H
#define SMIMESYNC_MAIL_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/attrs.h"
#include "common/errbuf.h"

struct tmpl_vars;

struct tmpl_vars *tmpl_vars_new(void);
void tmpl_vars_free(struct tmpl_vars *v);
/* Set (or replace) a variable; value NULL means the empty string. */
void tmpl_vars_set(struct tmpl_vars *v, const char *name, const char *value);

struct rendered_mail {
	char *subject; /* UTF-8, not yet encoded */
	char *text;    /* UTF-8 text body, LF line ends */
	char *html;    /* NULL when the template has no HTML part */
};

void rendered_mail_clear(struct rendered_mail *m);

/*
 * Render message name in language lang. override_dir may be NULL.
 * Returns 0, or -1 with "path:line: message" in e.
 */
int template_render(const char *override_dir, const char *lang, const char *name,
    const struct tmpl_vars *vars, struct rendered_mail *out, struct errbuf *e) MUST_USE;

/*
 * Check that every template smimesync uses exists and renders with the
 * documented variables (check-config). Returns the number of problems,
 * each appended through report(msg, arg).
 */
size_t template_check_all(const char *override_dir, const char *lang,
    void (*report)(const char *msg, void *arg), void *arg);

/*
 * The language to write to one person in: the first of their preferred
 * languages for which every message exists (in override_dir or built in),
 * tried as written ("pt-BR") and as its primary language ("pt"); else
 * fallback (the group's language). preferred is the directory's
 * preferredLanguage, an Accept-Language list ("fr-CH, de;q=0.5"), or NULL.
 * out gets a plain name (letters, digits, -) of at most 16 characters.
 */
void template_pick_language(const char *override_dir, const char *preferred,
    const char *fallback, char *out, size_t size);

/*
 * Every language directory in override_dir and the built-in directory
 * (new, NULL-terminated; template_languages_free()), for check-config.
 */
char **template_languages(const char *override_dir);
void template_languages_free(char **v);

/* The built-in template directory. */
const char *template_builtin_dir(void);

/* Messages smimesync sends, and the variables each may use (NULL-terminated). */
extern const char *const template_messages[];
extern const char *const template_known_vars[];

/*
 * May template `message` use {{var}}? Every known variable except
 * "password", which only the "password" message may use: the password
 * never travels with the PKCS#12 file.
 */
bool template_var_allowed(const char *message, const char *var);

#endif
