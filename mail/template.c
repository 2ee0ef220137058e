/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <ctype.h>
#include <dirent.h>
#include <sys/stat.h>

#include "common/buf.h"
#include "common/fileutil.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "mail/encode.h"
#include "mail/template.h"

/*
 * Template variables (documented for operators in smimesync-templates(5)).
 *
 *   variable        message      value
 *   display_name    all          the user's display name from the directory
 *   given_name      all          given name (may be empty)
 *   surname         all          surname (may be empty)
 *   mail            all          the address the certificate is for
 *   group           all          the [group] section that governs the user
 *   organization    all          display name of [mail] from
 *   from_address    all          address of [mail] from
 *   reply_address   all          where replies go: [mail] reply_to's address, else
 *                                from's (the one address every mail names)
 *   serial          all          certificate serial number, hex
 *   fingerprint     all          SHA-256 fingerprint, colon-separated hex
 *   not_before      all          start of validity, "2027-11-23 18:50 UTC"
 *   not_after       all          end of validity, same format
 *   issuer          all          issuer DN of the certificate
 *   subject         all          subject DN of the certificate
 *   key_type        all          rsa2048, rsa3072, rsa4096, p256 or p384
 *   p12_filename    all          name of the attached PKCS#12 file
 *   pkcs12_profile  all          modern or compat
 *   run_id          all          the run that sent the mail
 *   password        password     the PKCS#12 password
 *
 * {{password}} is known only to the "password" message: the password must
 * never travel in the same mail as the key (SBR 6.1.2), so a collection
 * template that asks for it is refused when it is loaded, long before a
 * password exists.
 */
static const char *const common_vars[] = {
	"display_name", "given_name", "surname", "mail", "group", "organization",
	"from_address", "reply_address", "serial", "fingerprint", "not_before", "not_after",
	"issuer", "subject", "key_type", "p12_filename", "pkcs12_profile", "run_id", NULL,
};

/*
 * Variables only some messages know, beyond the common ones:
 *
 *   collection        renewal (not empty when this certificate replaces an
 *                     earlier one of the person), previous_serial,
 *                     previous_not_after, previous_mail (only when the
 *                     address changed), root_name, root_sha1 (as Windows
 *                     shows a thumbprint), root_sha256 (colon hex): the root
 *                     a client is asked to trust, verify_at ([mail]
 *                     verify_at: where to check the fingerprints)
 *   password          renewal
 *   reminder-renew    renew_date (when the automatic renewal happens),
 *                     days_left
 *   reminder-leaver   days_left, left_reason (why it is not renewed),
 *                     contact (whom to ask: the group's notify address or
 *                     from_address)
 *   reminder-install  days_left (of the old certificate), new_serial,
 *                     new_not_after (the renewed one)
 *   notice            status (ok/partial/failed), summary (the report's
 *                     summary lines), errors (one line per error, or
 *                     "none"); sent to admins, user variables are empty
 */
static const char *const collection_vars[] = { "renewal", "previous_serial",
	"previous_not_after", "previous_mail", "root_name", "root_sha1", "root_sha256",
	"verify_at", NULL };
static const char *const password_vars[] = { "password", "renewal", NULL };
static const char *const renew_vars[] = { "renew_date", "days_left", NULL };
static const char *const leaver_vars[] = { "days_left", "left_reason", "contact", NULL };
static const char *const install_vars[] = { "days_left", "new_serial", "new_not_after", NULL };
static const char *const notice_vars[] = { "status", "summary", "errors", NULL };

static const struct {
	const char *message;
	const char *const *extra;
} message_vars[] = {
	{ "collection", collection_vars },
	{ "password", password_vars },
	{ "reminder-renew", renew_vars },
	{ "reminder-leaver", leaver_vars },
	{ "reminder-install", install_vars },
	{ "notice", notice_vars },
};

const char *const template_known_vars[] = {
	"display_name", "given_name", "surname", "mail", "group", "organization",
	"from_address", "reply_address", "serial", "fingerprint", "not_before", "not_after",
	"issuer", "subject", "key_type", "p12_filename", "pkcs12_profile", "run_id", "password",
	"renewal", "previous_serial", "previous_not_after", "previous_mail", "root_name",
	"root_sha1", "root_sha256", "verify_at",
	"renew_date", "days_left", "left_reason", "contact", "new_serial", "new_not_after",
	"status", "summary", "errors", NULL,
};

const char *const template_messages[] = {
	"collection", "password", "reminder-renew", "reminder-leaver", "reminder-install",
	"notice", NULL,
};

static const char *const *
extra_vars(const char *message)
{
	for (size_t i = 0; i < ARRAY_LEN(message_vars); i++)
		if (strcmp(message_vars[i].message, message) == 0)
			return message_vars[i].extra;
	return NULL;
}

/* Largest template file we read (STYLE 13). */
#define TEMPLATE_MAX (256 * 1024)

struct tmpl_var {
	char *name;
	char *value;
};

struct tmpl_vars {
	struct tmpl_var *v;
	size_t n;
};

struct tmpl_vars *
tmpl_vars_new(void)
{
	return xcalloc(1, sizeof(struct tmpl_vars));
}

void
tmpl_vars_free(struct tmpl_vars *v)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < v->n; i++) {
		free(v->v[i].name);
		/* A value may be the PKCS#12 password: wipe it. */
		secret_free_str(v->v[i].value);
	}
	free(v->v);
	free(v);
}

void
tmpl_vars_set(struct tmpl_vars *v, const char *name, const char *value)
{
	const char *val = value != NULL ? value : "";

	for (size_t i = 0; i < v->n; i++) {
		if (strcmp(v->v[i].name, name) == 0) {
			secret_free_str(v->v[i].value);
			v->v[i].value = xstrdup(val);
			return;
		}
	}
	v->v = xreallocarray(v->v, v->n + 1, sizeof(*v->v));
	v->v[v->n].name = xstrdup(name);
	v->v[v->n].value = xstrdup(val);
	v->n++;
}

static const char *
vars_get(const struct tmpl_vars *v, const char *name)
{
	for (size_t i = 0; v != NULL && i < v->n; i++)
		if (strcmp(v->v[i].name, name) == 0)
			return v->v[i].value;
	return "";
}

void
rendered_mail_clear(struct rendered_mail *m)
{
	free(m->subject);
	free(m->text);
	free(m->html);
	m->subject = m->text = m->html = NULL;
}

const char *
template_builtin_dir(void)
{
	const char *env = getenv("SMIMESYNC_TEMPLATES_DIR");

	if (env != NULL && *env != '\0')
		return env;
	return SMIMESYNC_DATADIR "/templates";
}

bool
template_var_allowed(const char *message, const char *var)
{
	const char *const *extra = extra_vars(message);

	for (size_t i = 0; common_vars[i] != NULL; i++)
		if (strcmp(common_vars[i], var) == 0)
			return true;
	for (size_t i = 0; extra != NULL && extra[i] != NULL; i++)
		if (strcmp(extra[i], var) == 0)
			return true;
	return false;
}

static void
list_known(struct buf *b, const char *message)
{
	const char *const *extra = extra_vars(message);

	for (size_t i = 0; common_vars[i] != NULL; i++)
		mb_printf(b, "%s%s", i > 0 ? ", " : "", common_vars[i]);
	for (size_t i = 0; extra != NULL && extra[i] != NULL; i++)
		mb_printf(b, ", %s", extra[i]);
}

static void
put_html_escaped(struct buf *out, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '&': mb_puts(out, "&amp;"); break;
		case '<': mb_puts(out, "&lt;"); break;
		case '>': mb_puts(out, "&gt;"); break;
		case '"': mb_puts(out, "&quot;"); break;
		case '\'': mb_puts(out, "&#39;"); break;
		default: mb_put(out, s, 1); break;
		}
	}
}

/* Where we are, for "path:line:" in messages. */
struct tpos {
	const char *path;
	const char *message;
	int line;
};

static bool
is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

/* Sections nest at most this deep: templates are prose, not programs. */
#define MAX_SECTIONS 8

/* An open {{#name}} or {{^name}}. */
struct section {
	char name[48];
	bool on;   /* its own condition holds */
	int line;  /* where it was opened, for "never closed" */
};

/* What sits between {{ and }}. */
enum tag_kind {
	TAG_VAR = 0, /* {{name}}: the value */
	TAG_IF,      /* {{#name}}: what follows up to {{/name}} only when name is not empty */
	TAG_UNLESS,  /* {{^name}}: ... only when it is empty */
	TAG_END,     /* {{/name}} */
};

/*
 * Read the tag that starts at src[j] ("{{"): its kind, its name (new) and
 * the index after "}}". Whitespace inside the braces is allowed
 * ("{{ mail }}", "{{# renewal }}"). Unknown variables are errors even in
 * a section that is not shown, so a typo never hides until the day the
 * section is.
 */
static int
parse_tag(const char *src, size_t len, size_t j, struct tpos *pos, enum tag_kind *kind,
    char **name, size_t *end, struct errbuf *e)
{
	size_t k = j + 2, name_start, name_end;
	struct buf known;

	*kind = TAG_VAR;
	while (k < len && src[k] == ' ')
		k++;
	if (k < len && (src[k] == '#' || src[k] == '^' || src[k] == '/')) {
		*kind = src[k] == '#' ? TAG_IF : src[k] == '^' ? TAG_UNLESS : TAG_END;
		k++;
		while (k < len && src[k] == ' ')
			k++;
	}
	name_start = k;
	while (k < len && is_name_char(src[k]))
		k++;
	name_end = k;
	while (k < len && src[k] == ' ')
		k++;
	if (k + 1 >= len || src[k] != '}' || src[k + 1] != '}') {
		size_t stop = j;

		while (stop < len && stop < j + 30 && src[stop] != '\n')
			stop++;
		err_set(e, "%s:%d: unterminated or malformed variable \"%.*s\" in "
		    "template \"%s\"; write variables as {{name}} and sections as "
		    "{{#name}}...{{/name}} (lower-case letters, digits and _)", pos->path, pos->line,
		    (int)(stop - j), src + j, pos->message);
		return -1;
	}
	if (name_end == name_start) {
		err_set(e, "%s:%d: empty variable {{}} in template \"%s\"", pos->path,
		    pos->line, pos->message);
		return -1;
	}
	*name = xstrndup(src + name_start, name_end - name_start);
	if (!template_var_allowed(pos->message, *name)) {
		buf_init(&known, 0);
		list_known(&known, pos->message);
		err_set(e, "%s:%d: unknown variable {{%s}} in template \"%s\"; known "
		    "variables are: %s%s", pos->path, pos->line, *name, pos->message,
		    known.data, strcmp(*name, "password") == 0 ?
		    " (the password is only sent in the separate \"password\" mail, "
		    "never together with the PKCS#12 file)" : "");
		buf_free(&known);
		free(*name);
		*name = NULL;
		return -1;
	}
	*end = k + 2;
	return 0;
}

/* Open or close a section; *emit becomes whether text is shown after it. */
static int
section_tag(enum tag_kind kind, const char *name, const struct tmpl_vars *vars,
    struct section *stack, size_t *depth, bool *emit, struct tpos *pos, struct errbuf *e)
{
	if (kind == TAG_END) {
		if (*depth == 0) {
			err_set(e, "%s:%d: {{/%s}} in template \"%s\" closes no section", pos->path,
			    pos->line, name, pos->message);
			return -1;
		}
		if (strcmp(stack[*depth - 1].name, name) != 0) {
			err_set(e, "%s:%d: {{/%s}} in template \"%s\" where {{/%s}} must close "
			    "the section opened on line %d", pos->path, pos->line, name,
			    pos->message, stack[*depth - 1].name, stack[*depth - 1].line);
			return -1;
		}
		(*depth)--;
	} else {
		if (*depth == MAX_SECTIONS) {
			err_set(e, "%s:%d: sections in template \"%s\" nest deeper than %d",
			    pos->path, pos->line, pos->message, MAX_SECTIONS);
			return -1;
		}
		snprintf(stack[*depth].name, sizeof(stack[*depth].name), "%s", name);
		stack[*depth].on = (vars_get(vars, name)[0] != '\0') == (kind == TAG_IF);
		stack[*depth].line = pos->line;
		(*depth)++;
	}
	*emit = true;
	for (size_t i = 0; i < *depth; i++)
		*emit = *emit && stack[i].on;
	return 0;
}

/*
 * A line holding nothing but one section tag (and blanks) vanishes whole,
 * newline included, so that sections leave no empty lines behind. Returns
 * the index after that line, or 0 when the line at i is not such a line.
 */
static size_t
standalone_section(const char *src, size_t len, size_t i)
{
	size_t j = i, k;

	while (j < len && (src[j] == ' ' || src[j] == '\t'))
		j++;
	if (j + 2 >= len || src[j] != '{' || src[j + 1] != '{')
		return 0;
	for (k = j + 2; k < len && src[k] == ' '; k++)
		;
	if (k >= len || (src[k] != '#' && src[k] != '^' && src[k] != '/'))
		return 0;
	for (; k + 1 < len && src[k] != '\n'; k++)
		if (src[k] == '}' && src[k + 1] == '}')
			break;
	if (k + 1 >= len || src[k] != '}')
		return 0;
	for (k += 2; k < len && (src[k] == ' ' || src[k] == '\t'); k++)
		;
	if (k < len && src[k] != '\n')
		return 0;
	return k < len ? k + 1 : k;
}

/*
 * Expand src[0..len) into out: {{name}} is the value (HTML-escaped when
 * html), {{#name}}...{{/name}} shows what is inside only when name is not
 * empty, {{^name}}...{{/name}} only when it is. pos->line advances over
 * newlines so errors point at the right line.
 */
static int
expand(const char *src, size_t len, const struct tmpl_vars *vars, bool html,
    struct tpos *pos, struct buf *out, struct errbuf *e)
{
	struct section stack[MAX_SECTIONS];
	size_t depth = 0, i = 0;
	bool emit = true, line_start = true;

	while (i < len) {
		enum tag_kind kind;
		char *name = NULL;
		size_t j, end, skip;

		if (line_start && (skip = standalone_section(src, len, i)) != 0) {
			j = i;
			while (src[j] != '{')
				j++;
			if (parse_tag(src, len, j, pos, &kind, &name, &end, e) != 0 ||
			    section_tag(kind, name, vars, stack, &depth, &emit, pos, e) != 0) {
				free(name);
				return -1;
			}
			free(name);
			if (skip <= len && src[skip - 1] == '\n')
				pos->line++;
			i = skip;
			continue;
		}
		line_start = false;
		for (j = i; j < len && src[j] != '\n' && !(src[j] == '{' && j + 1 < len &&
		    src[j + 1] == '{'); j++)
			;
		if (emit)
			mb_put(out, src + i, j - i);
		if (j >= len)
			break;
		if (src[j] == '\n') {
			if (emit)
				mb_puts(out, "\n");
			pos->line++;
			i = j + 1;
			line_start = true;
			continue;
		}
		if (parse_tag(src, len, j, pos, &kind, &name, &end, e) != 0)
			return -1;
		if (kind == TAG_VAR) {
			if (emit && html)
				put_html_escaped(out, vars_get(vars, name));
			else if (emit)
				mb_puts(out, vars_get(vars, name));
		} else if (section_tag(kind, name, vars, stack, &depth, &emit, pos, e) != 0) {
			free(name);
			return -1;
		}
		free(name);
		i = end;
	}
	if (depth > 0) {
		err_set(e, "%s:%d: section {{#%s}} in template \"%s\" is never closed; end it "
		    "with {{/%s}}", pos->path, stack[depth - 1].line, stack[depth - 1].name,
		    pos->message, stack[depth - 1].name);
		return -1;
	}
	return 0;
}

/* Path names come from configuration; keep lang and name to one component. */
static bool
safe_component(const char *s)
{
	if (s == NULL || *s == '\0' || strlen(s) > 64)
		return false;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
			return false;
	return true;
}

/*
 * The directory holding LANG/NAME.txt: the override directory first, then
 * the built-in one. The HTML part is taken from the same directory as the
 * text part, never mixed: an operator who overrides only the text would
 * otherwise see the built-in HTML shown by every mail client that prefers
 * HTML, and wonder where their text went.
 */
static int
find_template(const char *override_dir, const char *lang, const char *name,
    char **txt_path, char **html_path, struct errbuf *e)
{
	const char *dirs[2] = { override_dir, template_builtin_dir() };
	char *tried[2] = { NULL, NULL };
	int rc = -1;

	*txt_path = *html_path = NULL;
	for (size_t i = 0; i < 2; i++) {
		char *html;

		if (dirs[i] == NULL || *dirs[i] == '\0')
			continue;
		tried[i] = xasprintf("%s/%s/%s.txt", dirs[i], lang, name);
		if (!file_exists(tried[i]))
			continue;
		*txt_path = tried[i];
		tried[i] = NULL;
		html = xasprintf("%s/%s/%s.html", dirs[i], lang, name);
		if (file_exists(html))
			*html_path = html;
		else
			free(html);
		rc = 0;
		goto out;
	}
	err_set(e, "no template \"%s\" for language \"%s\": looked for %s%s%s", name, lang,
	    tried[0] != NULL ? tried[0] : "", tried[0] != NULL ? " and " : "",
	    tried[1] != NULL ? tried[1] : "");
out:
	free(tried[0]);
	free(tried[1]);
	return rc;
}

static int
read_template(const char *path, char **out, size_t *len, struct errbuf *e)
{
	if (file_read_all(path, TEMPLATE_MAX, out, len, e) != 0)
		return -1;
	if (!str_is_utf8(*out, *len)) {
		err_set(e, "%s: not valid UTF-8 (templates must be UTF-8 text)", path);
		free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

/* Remove CRs that precede LFs: templates written on Windows work too. */
static void
normalize_newlines(char *s, size_t *len)
{
	size_t o = 0;

	for (size_t i = 0; i < *len; i++) {
		if (s[i] == '\r' && i + 1 < *len && s[i + 1] == '\n')
			continue;
		s[o++] = s[i];
	}
	s[o] = '\0';
	*len = o;
}

static int
render_txt(const char *path, const char *message, const struct tmpl_vars *vars,
    struct rendered_mail *r, struct errbuf *e)
{
	char *src = NULL;
	size_t len = 0, i = 0;
	struct tpos pos = { path, message, 1 };
	struct buf subject, body;
	bool have_subject = false;
	int rc = -1;

	buf_init(&subject, 0);
	buf_init(&body, 0);
	if (read_template(path, &src, &len, e) != 0)
		goto out;
	normalize_newlines(src, &len);

	/* The header block: "Name: value" lines up to the first blank line. */
	for (;;) {
		const char *nl = memchr(src + i, '\n', len - i);
		size_t end = nl != NULL ? (size_t)(nl - src) : len;
		const char *line = src + i;
		size_t llen = end - i;
		const char *colon = memchr(line, ':', llen);

		if (llen == 0) {
			if (nl == NULL) {
				err_set(e, "%s:%d: template \"%s\" ends inside its header block; "
				    "put a blank line between \"Subject: ...\" and the text",
				    path, pos.line, message);
				goto out;
			}
			i = end + 1;
			pos.line++;
			break;
		}
		if (colon == NULL || (size_t)(colon - line) != 7 ||
		    strncasecmp(line, "Subject", 7) != 0) {
			err_set(e, "%s:%d: unknown header line \"%.*s\" in template \"%s\": only "
			    "\"Subject: ...\" may come before the first blank line", path,
			    pos.line, (int)(colon != NULL ? (size_t)(colon - line) :
			    (llen > 40 ? 40 : llen)), line, message);
			goto out;
		}
		if (have_subject) {
			err_set(e, "%s:%d: second Subject: line in template \"%s\"", path,
			    pos.line, message);
			goto out;
		}
		{
			const char *v = colon + 1;
			size_t vlen = (size_t)(line + llen - v);

			while (vlen > 0 && (*v == ' ' || *v == '\t'))
				v++, vlen--;
			while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
				vlen--;
			if (expand(v, vlen, vars, false, &pos, &subject, e) != 0)
				goto out;
		}
		have_subject = true;
		if (nl == NULL) {
			err_set(e, "%s:%d: template \"%s\" ends inside its header block; "
			    "put a blank line between \"Subject: ...\" and the text",
			    path, pos.line, message);
			goto out;
		}
		i = end + 1;
		pos.line++;
	}
	if (!have_subject) {
		err_set(e, "%s:1: template \"%s\" has no \"Subject: ...\" line; the file starts "
		    "with header lines, then a blank line, then the text", path, message);
		goto out;
	}
	if (expand(src + i, len - i, vars, false, &pos, &body, e) != 0)
		goto out;
	r->subject = buf_steal(&subject, NULL);
	r->text = buf_steal(&body, NULL);
	rc = 0;
out:
	buf_free(&subject);
	buf_free(&body);
	free(src);
	return rc;
}

static int
render_html(const char *path, const char *message, const struct tmpl_vars *vars,
    char **out, struct errbuf *e)
{
	char *src = NULL;
	size_t len = 0;
	struct tpos pos = { path, message, 1 };
	struct buf b;
	int rc = -1;

	buf_init(&b, 0);
	if (read_template(path, &src, &len, e) != 0)
		goto out;
	normalize_newlines(src, &len);
	if (expand(src, len, vars, true, &pos, &b, e) != 0)
		goto out;
	*out = buf_steal(&b, NULL);
	rc = 0;
out:
	buf_free(&b);
	free(src);
	return rc;
}

int
template_render(const char *override_dir, const char *lang, const char *name,
    const struct tmpl_vars *vars, struct rendered_mail *out, struct errbuf *e)
{
	char *txt_path = NULL, *html_path = NULL;
	struct rendered_mail r = { NULL, NULL, NULL };
	int rc = -1;

	out->subject = out->text = out->html = NULL;
	if (!safe_component(lang) || !safe_component(name)) {
		err_set(e, "template language \"%s\" or name \"%s\" is not a plain name "
		    "(letters, digits, - and _)", lang != NULL ? lang : "",
		    name != NULL ? name : "");
		goto out;
	}
	if (find_template(override_dir, lang, name, &txt_path, &html_path, e) != 0)
		goto out;
	if (render_txt(txt_path, name, vars, &r, e) != 0)
		goto out;
	if (html_path != NULL && render_html(html_path, name, vars, &r.html, e) != 0)
		goto out;
	*out = r;
	r.subject = r.text = r.html = NULL;
	rc = 0;
out:
	rendered_mail_clear(&r);
	free(txt_path);
	free(html_path);
	return rc;
}

/* Plausible values, so that check-config exercises every expansion. */
static void
set_dummy_vars(struct tmpl_vars *v, const char *message)
{
	static const char *const dummy[][2] = {
		{ "display_name", "Alice Example" },
		{ "given_name", "Alice" },
		{ "surname", "Example" },
		{ "mail", "alice@example.org" },
		{ "group", "staff" },
		{ "organization", "Example PKI" },
		{ "from_address", "pki@example.org" },
		{ "reply_address", "pki-help@example.org" },
		{ "serial", "4F1A2B3C4D5E6F708192A3B4C5D6E7F8" },
		{ "fingerprint", "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:"
		    "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89" },
		{ "not_before", "2026-11-23 18:50 UTC" },
		{ "not_after", "2027-11-23 18:50 UTC" },
		{ "issuer", "CN=Example S/MIME Issuing CA,O=Example" },
		{ "subject", "CN=alice@example.org" },
		{ "key_type", "rsa2048" },
		{ "p12_filename", "alice@example.org.p12" },
		{ "pkcs12_profile", "modern" },
		{ "run_id", "20261123-185000-ab12" },
	};

	for (size_t i = 0; i < ARRAY_LEN(dummy); i++)
		tmpl_vars_set(v, dummy[i][0], dummy[i][1]);
	static const char *const extra_dummy[][2] = {
		{ "password", "EXAMPLE-PASSWORD-1234" },
		{ "renewal", "yes" },
		{ "previous_serial", "3E1A2B3C4D5E6F708192A3B4C5D6E7F8" },
		{ "previous_not_after", "2026-11-23 18:50 UTC" },
		{ "previous_mail", "alice.old@example.org" },
		{ "root_name", "Example S/MIME Root CA" },
		{ "root_sha1", "0563B8630D62D75ABBC8AB1E4BDFB5A899B24D43" },
		{ "root_sha256", "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:"
		    "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89" },
		{ "verify_at", "https://intranet.example.org/pki" },
		{ "renew_date", "2027-11-08 18:50 UTC" },
		{ "days_left", "30" },
		{ "left_reason", "no longer a member of smime-sales" },
		{ "contact", "pki@example.org" },
		{ "new_serial", "5A1A2B3C4D5E6F708192A3B4C5D6E7F8" },
		{ "new_not_after", "2028-11-08 18:50 UTC" },
		{ "status", "ok" },
		{ "summary", "issued 3, renewed 1, errors 0" },
		{ "errors", "none" },
	};
	const char *const *extra = extra_vars(message);

	for (size_t i = 0; extra != NULL && extra[i] != NULL; i++)
		for (size_t k = 0; k < ARRAY_LEN(extra_dummy); k++)
			if (strcmp(extra_dummy[k][0], extra[i]) == 0)
				tmpl_vars_set(v, extra[i], extra_dummy[k][1]);
}

size_t
template_check_all(const char *override_dir, const char *lang,
    void (*report)(const char *msg, void *arg), void *arg)
{
	size_t problems = 0;

	for (size_t i = 0; template_messages[i] != NULL; i++) {
		struct tmpl_vars *v = tmpl_vars_new();
		struct rendered_mail r = { NULL, NULL, NULL };
		struct errbuf e;

		err_clear(&e);
		set_dummy_vars(v, template_messages[i]);
		if (template_render(override_dir, lang, template_messages[i], v, &r, &e) != 0) {
			problems++;
			report(e.text, arg);
		} else if (r.subject[0] == '\0') {
			char msg[300];

			snprintf(msg, sizeof(msg), "template \"%s\" for language \"%s\" renders "
			    "an empty Subject", template_messages[i], lang);
			problems++;
			report(msg, arg);
		}
		rendered_mail_clear(&r);
		tmpl_vars_free(v);
	}
	return problems;
}

/* Does lang have every message, in the override or the built-in directory? */
static bool
language_complete(const char *override_dir, const char *lang)
{
	const char *dirs[2] = { override_dir, template_builtin_dir() };

	if (!safe_component(lang))
		return false;
	for (size_t m = 0; template_messages[m] != NULL; m++) {
		bool found = false;

		for (size_t d = 0; d < 2 && !found; d++) {
			char *path;

			if (dirs[d] == NULL || *dirs[d] == '\0')
				continue;
			path = xasprintf("%s/%s/%s.txt", dirs[d], lang, template_messages[m]);
			found = file_exists(path);
			free(path);
		}
		if (!found)
			return false;
	}
	return true;
}

/* One language range of a preferredLanguage value, with its weight. */
struct lang_choice {
	char tag[17];
	double q;
	size_t order;
};

static int
cmp_choice(const void *a, const void *b)
{
	const struct lang_choice *x = a, *y = b;

	if (x->q != y->q)
		return x->q > y->q ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order ? 1 : 0;
}

void
template_pick_language(const char *override_dir, const char *preferred, const char *fallback,
    char *out, size_t size)
{
	struct lang_choice c[8];
	size_t n = 0;
	char *copy = preferred != NULL ? xstrdup(preferred) : NULL, *save = NULL, *tok;

	snprintf(out, size, "%s", fallback != NULL ? fallback : "en");
	/* RFC 2798: the value is an Accept-Language list, "da, en-gb;q=0.8, en;q=0.7". */
	for (tok = copy ? strtok_r(copy, ",", &save) : NULL; tok != NULL && n < ARRAY_LEN(c);
	    tok = strtok_r(NULL, ",", &save)) {
		char *semi = strchr(tok, ';');
		char *tag;
		double q = 1.0;

		if (semi != NULL) {
			char *qs = strstr(semi, "q=");

			*semi = '\0';
			if (qs != NULL)
				q = strtod(qs + 2, NULL);
		}
		tag = str_trim(tok);
		/* Graph and AD write "de-DE"; some directories "de_DE". */
		for (char *p = tag; *p != '\0'; p++)
			if (*p == '_')
				*p = '-';
		if (q <= 0 || !safe_component(tag) || strlen(tag) >= sizeof(c[n].tag))
			continue;
		snprintf(c[n].tag, sizeof(c[n].tag), "%s", tag);
		c[n].q = q;
		c[n].order = n;
		n++;
	}
	qsort(c, n, sizeof(c[0]), cmp_choice);
	for (size_t i = 0; i < n; i++) {
		char primary[17];
		char *dash;

		/* As written ("pt-BR"), then its primary language ("pt"), lower-case. */
		if (language_complete(override_dir, c[i].tag)) {
			snprintf(out, size, "%s", c[i].tag);
			break;
		}
		snprintf(primary, sizeof(primary), "%s", c[i].tag);
		dash = strchr(primary, '-');
		if (dash != NULL)
			*dash = '\0';
		for (char *p = primary; *p != '\0'; p++)
			*p = (char)tolower((unsigned char)*p);
		if (language_complete(override_dir, primary)) {
			snprintf(out, size, "%s", primary);
			break;
		}
	}
	free(copy);
}

/* Append the subdirectories of dir that look like languages to v. */
static void
add_languages(const char *dir, char ***v, size_t *n)
{
	DIR *d = dir != NULL && *dir != '\0' ? opendir(dir) : NULL;
	struct dirent *de;
	struct stat sb;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		char *probe;
		bool seen = false;

		if (de->d_name[0] == '.' || !safe_component(de->d_name))
			continue;
		probe = xasprintf("%s/%s", dir, de->d_name);
		if (stat(probe, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
			free(probe);
			continue;
		}
		free(probe);
		for (size_t i = 0; i < *n && !seen; i++)
			seen = strcmp((*v)[i], de->d_name) == 0;
		if (seen)
			continue;
		*v = xreallocarray(*v, *n + 2, sizeof(**v));
		(*v)[(*n)++] = xstrdup(de->d_name);
		(*v)[*n] = NULL;
	}
	closedir(d);
}

char **
template_languages(const char *override_dir)
{
	char **v = xcalloc(1, sizeof(*v));
	size_t n = 0;

	add_languages(override_dir, &v, &n);
	add_languages(template_builtin_dir(), &v, &n);
	return v;
}

void
template_languages_free(char **v)
{
	for (size_t i = 0; v != NULL && v[i] != NULL; i++)
		free(v[i]);
	free(v);
}
