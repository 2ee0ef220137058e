/* SPDX-License-Identifier: ISC */
/*
 * Reading the systemd unit for check-config (conf/unit.h): a small parser
 * of the unit file syntax (sections, Key=Value, backslash continuation,
 * quoted words) and a model of the file system the sandbox leaves: each
 * setting becomes a rule on a path prefix, and the longest prefix that
 * covers a path decides, as systemd mounts deeper paths over shallower
 * ones.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/fileutil.h"
#include "common/xalloc.h"
#include "conf/unit.h"

#ifndef SMIMESYNC_UNITDIR
#define SMIMESYNC_UNITDIR ""
#endif

#define UNIT_NAME "smimesync.service"
#define UNIT_MAX_BYTES (256 * 1024)

enum rule_kind {
	RULE_RW,      /* writable (ReadWritePaths=, StateDirectory= ...) */
	RULE_RO,      /* read-only (ProtectSystem=, ReadOnlyPaths=, ProtectHome=read-only) */
	RULE_TMP,     /* PrivateTmp=: an empty directory of the service's own */
	RULE_HIDDEN,  /* InaccessiblePaths=, ProtectHome=yes|tmpfs */
};

struct rule {
	enum rule_kind kind;
	char *path;   /* absolute, no trailing slash ("/" for the root) */
	char *origin; /* "ProtectSystem=strict", "ReadOnlyPaths=/x": for messages */
};

struct pathlist {
	char **v;
	size_t n;
};

struct unit_sandbox {
	char *file;
	char *user;
	char *group;
	char *exec_start;
	char *config;
	char *protect_system; /* no, yes, full, strict */
	char *protect_home;   /* no, yes, read-only, tmpfs */
	bool private_tmp;
	struct pathlist rw, ro, hidden, state, cache, logs, runtime;
	struct rule *rules;
	size_t n_rules;
};

static void
pathlist_clear(struct pathlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static void
pathlist_add(struct pathlist *l, const char *s)
{
	l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
	l->v[l->n++] = xstrdup(s);
}

/* The next word of a list value: whitespace-separated, "..." or '...' quoted. */
static char *
next_word(const char **p)
{
	const char *s = *p, *start;
	char *w;

	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '\0') {
		*p = s;
		return NULL;
	}
	if (*s == '"' || *s == '\'') {
		char q = *s++;

		start = s;
		while (*s != '\0' && *s != q)
			s++;
		w = xstrndup(start, (size_t)(s - start));
		if (*s == q)
			s++;
	} else {
		start = s;
		while (*s != '\0' && *s != ' ' && *s != '\t')
			s++;
		w = xstrndup(start, (size_t)(s - start));
	}
	*p = s;
	return w;
}

/* The few specifiers a path in our unit could use: %S %C %L %t %%. */
static char *
expand_specifiers(const char *s)
{
	struct buf b;
	char *out;

	buf_init(&b, PATH_MAX * 4);
	for (; *s != '\0'; s++) {
		const char *rep = NULL;

		if (*s == '%' && s[1] != '\0') {
			switch (s[1]) {
			case 'S': rep = "/var/lib"; break;
			case 'C': rep = "/var/cache"; break;
			case 'L': rep = "/var/log"; break;
			case 't': rep = "/run"; break;
			case '%': rep = "%"; break;
			default: break;
			}
		}
		if (rep != NULL ? buf_puts(&b, rep) != 0 : buf_putc(&b, *s) != 0)
			break; /* longer than any path: the truncated one matches nothing real */
		if (rep != NULL)
			s++;
	}
	out = buf_steal(&b, NULL);
	return out;
}

/* Key=a b c: add each word to l; an empty value empties l (systemd's reset). */
static void
list_assign(struct pathlist *l, const char *value, bool is_path)
{
	const char *p = value;
	char *w;

	if (*value == '\0') {
		pathlist_clear(l);
		return;
	}
	while ((w = next_word(&p)) != NULL) {
		char *v = w;
		char *x;

		if (is_path) {
			/* "-": no error if missing; "+": relative to RootDirectory=. */
			while (*v == '-' || *v == '+')
				v++;
		} else {
			/* StateDirectory=name:alias -> name */
			char *colon = strchr(v, ':');

			if (colon != NULL)
				*colon = '\0';
		}
		x = expand_specifiers(v);
		if (*x != '\0')
			pathlist_add(l, x);
		free(x);
		free(w);
	}
}

static void
set_string(char **field, const char *value)
{
	free(*field);
	*field = *value != '\0' ? xstrdup(value) : NULL;
}

static bool
parse_bool(const char *v)
{
	return strcmp(v, "yes") == 0 || strcmp(v, "true") == 0 || strcmp(v, "on") == 0 ||
	    strcmp(v, "1") == 0;
}

/* "yes"/"true"/... -> "yes", "no"/"false"/... -> "no", others as written. */
static void
set_tristate(char **field, const char *value)
{
	if (parse_bool(value))
		set_string(field, "yes");
	else if (strcmp(value, "no") == 0 || strcmp(value, "false") == 0 ||
	    strcmp(value, "off") == 0 || strcmp(value, "0") == 0 || *value == '\0')
		set_string(field, "no");
	else
		set_string(field, value);
}

static void
apply_setting(struct unit_sandbox *u, const char *key, const char *value)
{
	if (strcmp(key, "User") == 0)
		set_string(&u->user, value);
	else if (strcmp(key, "Group") == 0)
		set_string(&u->group, value);
	else if (strcmp(key, "ExecStart") == 0)
		set_string(&u->exec_start, value);
	else if (strcmp(key, "ProtectSystem") == 0)
		set_tristate(&u->protect_system, value);
	else if (strcmp(key, "ProtectHome") == 0)
		set_tristate(&u->protect_home, value);
	else if (strcmp(key, "PrivateTmp") == 0)
		u->private_tmp = parse_bool(value);
	else if (strcmp(key, "ReadWritePaths") == 0)
		list_assign(&u->rw, value, true);
	else if (strcmp(key, "ReadOnlyPaths") == 0)
		list_assign(&u->ro, value, true);
	else if (strcmp(key, "InaccessiblePaths") == 0)
		list_assign(&u->hidden, value, true);
	else if (strcmp(key, "StateDirectory") == 0)
		list_assign(&u->state, value, false);
	else if (strcmp(key, "CacheDirectory") == 0)
		list_assign(&u->cache, value, false);
	else if (strcmp(key, "LogsDirectory") == 0)
		list_assign(&u->logs, value, false);
	else if (strcmp(key, "RuntimeDirectory") == 0)
		list_assign(&u->runtime, value, false);
}

/* One unit file or drop-in; only its [Service] section counts. */
static int
read_unit_file(struct unit_sandbox *u, const char *path, struct errbuf *e)
{
	char *text = NULL, *line, *next;
	bool in_service = false;
	size_t len = 0;

	if (file_read_all(path, UNIT_MAX_BYTES, &text, &len, e) != 0)
		return -1;
	for (line = text; line != NULL && *line != '\0'; line = next) {
		char *eq, *key, *value;
		size_t n;

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		/* A trailing backslash continues the line on the next one. */
		while (next != NULL && (n = strlen(line)) > 0 && line[n - 1] == '\\') {
			char *after = strchr(next, '\n');

			line[n - 1] = ' ';
			if (after != NULL)
				*after++ = '\0';
			if (*next != '#' && *next != ';')
				memmove(line + n, next, strlen(next) + 1);
			else
				line[n] = '\0';
			next = after;
		}
		while (*line == ' ' || *line == '\t')
			line++;
		if (*line == '\0' || *line == '#' || *line == ';')
			continue;
		if (*line == '[') {
			in_service = strncmp(line, "[Service]", 9) == 0;
			continue;
		}
		if (!in_service || (eq = strchr(line, '=')) == NULL)
			continue;
		*eq = '\0';
		key = line;
		value = eq + 1;
		n = strlen(key);
		while (n > 0 && (key[n - 1] == ' ' || key[n - 1] == '\t'))
			key[--n] = '\0';
		while (*value == ' ' || *value == '\t')
			value++;
		n = strlen(value);
		while (n > 0 && (value[n - 1] == ' ' || value[n - 1] == '\t' || value[n - 1] == '\r'))
			value[--n] = '\0';
		apply_setting(u, key, value);
	}
	free(text);
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* *.conf file names in dir, added to names unless already there. */
static void
collect_dropins(const char *dir, struct pathlist *names, struct pathlist *paths)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);
		bool seen = false;
		char *full;

		if (n <= 5 || strcmp(de->d_name + n - 5, ".conf") != 0)
			continue;
		for (size_t i = 0; i < names->n; i++)
			seen = seen || strcmp(names->v[i], de->d_name) == 0;
		if (seen)
			continue;
		full = xasprintf("%s/%s", dir, de->d_name);
		pathlist_add(names, de->d_name);
		pathlist_add(paths, full);
		free(full);
	}
	closedir(d);
}

/*
 * The -c/--config argument of ExecStart=, or NULL: the words after the
 * program up to the command name (the first one not starting with "-").
 */
static char *
exec_config(const char *exec_start)
{
	const char *p = exec_start;
	char *w = next_word(&p), *found = NULL;

	free(w); /* the program */
	while (found == NULL && (w = next_word(&p)) != NULL) {
		if (strcmp(w, "-c") == 0 || strcmp(w, "--config") == 0) {
			free(w);
			w = next_word(&p);
			found = w;
			break;
		}
		if (strncmp(w, "--config=", 9) == 0)
			found = xstrdup(w + 9);
		else if (strncmp(w, "-c", 2) == 0 && w[2] != '\0' && w[1] != '-')
			found = xstrdup(w + 2);
		else if (w[0] != '-') {
			free(w);
			break;
		}
		free(w);
	}
	return found;
}

static void
add_rule(struct unit_sandbox *u, enum rule_kind kind, const char *path, const char *origin)
{
	struct rule *r;
	size_t n;

	u->rules = xreallocarray(u->rules, u->n_rules + 1, sizeof(*u->rules));
	r = &u->rules[u->n_rules++];
	r->kind = kind;
	r->path = xstrdup(path);
	n = strlen(r->path);
	while (n > 1 && r->path[n - 1] == '/')
		r->path[--n] = '\0';
	r->origin = xstrdup(origin);
}

static void
add_list_rules(struct unit_sandbox *u, enum rule_kind kind, const struct pathlist *l,
    const char *key, const char *base)
{
	for (size_t i = 0; i < l->n; i++) {
		char *path = base != NULL ? xasprintf("%s/%s", base, l->v[i]) : xstrdup(l->v[i]);
		char *origin = xasprintf("%s=%s", key, l->v[i]);

		if (path[0] == '/')
			add_rule(u, kind, path, origin);
		free(origin);
		free(path);
	}
}

static void
build_rules(struct unit_sandbox *u)
{
	static const char *const home[] = {"/home", "/root", "/run/user"};
	const char *ps = u->protect_system != NULL ? u->protect_system : "no";
	const char *ph = u->protect_home != NULL ? u->protect_home : "no";
	char *origin;

	origin = xasprintf("ProtectSystem=%s", ps);
	if (strcmp(ps, "strict") == 0) {
		add_rule(u, RULE_RO, "/", origin);
	} else if (strcmp(ps, "yes") == 0 || strcmp(ps, "full") == 0) {
		add_rule(u, RULE_RO, "/usr", origin);
		add_rule(u, RULE_RO, "/boot", origin);
		add_rule(u, RULE_RO, "/efi", origin);
		if (strcmp(ps, "full") == 0)
			add_rule(u, RULE_RO, "/etc", origin);
	}
	free(origin);
	origin = xasprintf("ProtectHome=%s", ph);
	for (size_t i = 0; i < sizeof(home) / sizeof(home[0]); i++) {
		if (strcmp(ph, "read-only") == 0)
			add_rule(u, RULE_RO, home[i], origin);
		else if (strcmp(ph, "yes") == 0 || strcmp(ph, "tmpfs") == 0)
			add_rule(u, RULE_HIDDEN, home[i], origin);
	}
	free(origin);
	if (u->private_tmp) {
		add_rule(u, RULE_TMP, "/tmp", "PrivateTmp=yes");
		add_rule(u, RULE_TMP, "/var/tmp", "PrivateTmp=yes");
	}
	add_list_rules(u, RULE_RW, &u->rw, "ReadWritePaths", NULL);
	add_list_rules(u, RULE_RW, &u->state, "StateDirectory", "/var/lib");
	add_list_rules(u, RULE_RW, &u->cache, "CacheDirectory", "/var/cache");
	add_list_rules(u, RULE_RW, &u->logs, "LogsDirectory", "/var/log");
	add_list_rules(u, RULE_RW, &u->runtime, "RuntimeDirectory", "/run");
	add_list_rules(u, RULE_RO, &u->ro, "ReadOnlyPaths", NULL);
	add_list_rules(u, RULE_HIDDEN, &u->hidden, "InaccessiblePaths", NULL);
}

int
unit_sandbox_load(const char *file, struct unit_sandbox **out, struct errbuf *e)
{
	static const char *const dirs[] = {"/etc/systemd/system", "/run/systemd/system",
	    SMIMESYNC_UNITDIR, "/usr/lib/systemd/system", "/lib/systemd/system"};
	struct pathlist names = {NULL, 0}, dropins = {NULL, 0};
	struct unit_sandbox *u = NULL;
	char *main_file = NULL;
	int rc = -1;

	*out = NULL;
	if (file != NULL) {
		char *d = xasprintf("%s.d", file);

		main_file = xstrdup(file);
		collect_dropins(d, &names, &dropins);
		free(d);
	} else {
		for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
			char *f, *d;

			if (dirs[i][0] == '\0')
				continue;
			f = xasprintf("%s/" UNIT_NAME, dirs[i]);
			d = xasprintf("%s/" UNIT_NAME ".d", dirs[i]);
			if (main_file == NULL && file_exists(f))
				main_file = xstrdup(f);
			collect_dropins(d, &names, &dropins);
			free(f);
			free(d);
		}
		if (main_file == NULL) {
			rc = 0; /* not installed */
			goto out;
		}
	}
	u = xcalloc(1, sizeof(*u));
	u->file = main_file;
	main_file = NULL;
	if (read_unit_file(u, u->file, e) != 0)
		goto out;
	/* Drop-ins apply in the order of their names, whichever directory they are in. */
	{
		char **sorted = xcalloc(dropins.n + 1, sizeof(*sorted));

		for (size_t i = 0; i < names.n; i++)
			sorted[i] = xasprintf("%s\n%s", names.v[i], dropins.v[i]);
		qsort(sorted, names.n, sizeof(*sorted), cmp_str);
		for (size_t i = 0; i < names.n && rc != -2; i++) {
			if (read_unit_file(u, strchr(sorted[i], '\n') + 1, e) != 0)
				rc = -2;
		}
		for (size_t i = 0; i < names.n; i++)
			free(sorted[i]);
		free(sorted);
		if (rc == -2) {
			rc = -1;
			goto out;
		}
	}
	if (u->exec_start != NULL)
		u->config = exec_config(u->exec_start);
	build_rules(u);
	*out = u;
	u = NULL;
	rc = 0;
out:
	unit_sandbox_free(u);
	free(main_file);
	pathlist_clear(&names);
	pathlist_clear(&dropins);
	return rc;
}

void
unit_sandbox_free(struct unit_sandbox *u)
{
	if (u == NULL)
		return;
	free(u->file);
	free(u->user);
	free(u->group);
	free(u->exec_start);
	free(u->config);
	free(u->protect_system);
	free(u->protect_home);
	pathlist_clear(&u->rw);
	pathlist_clear(&u->ro);
	pathlist_clear(&u->hidden);
	pathlist_clear(&u->state);
	pathlist_clear(&u->cache);
	pathlist_clear(&u->logs);
	pathlist_clear(&u->runtime);
	for (size_t i = 0; i < u->n_rules; i++) {
		free(u->rules[i].path);
		free(u->rules[i].origin);
	}
	free(u->rules);
	free(u);
}

const char *
unit_sandbox_file(const struct unit_sandbox *u)
{
	return u->file;
}

const char *
unit_sandbox_user(const struct unit_sandbox *u)
{
	return u->user;
}

const char *
unit_sandbox_group(const struct unit_sandbox *u)
{
	return u->group;
}

const char *
unit_sandbox_config(const struct unit_sandbox *u)
{
	return u->config;
}

/*
 * path made absolute with its existing part's symlinks resolved (the
 * sandbox is a set of mounts on real directories): /var/run/x -> /run/x.
 * New.
 */
static char *
real_path(const char *path)
{
	char *copy = xstrdup(path);
	char *rest = NULL, *out = NULL;
	char resolved[PATH_MAX];

	for (;;) {
		char *slash;

		if (realpath(copy, resolved) != NULL) {
			out = rest != NULL ? xasprintf("%s/%s", strcmp(resolved, "/") == 0 ? "" :
			    resolved, rest) : xstrdup(resolved);
			break;
		}
		slash = strrchr(copy, '/');
		if (slash == NULL || slash == copy) {
			out = xstrdup(path);
			break;
		}
		{
			char *r = rest != NULL ? xasprintf("%s/%s", slash + 1, rest) :
			    xstrdup(slash + 1);

			free(rest);
			rest = r;
		}
		*slash = '\0';
	}
	free(rest);
	free(copy);
	return out;
}

/* Does prefix cover path, component by component? */
static bool
covers(const char *prefix, const char *path)
{
	size_t n = strlen(prefix);

	if (strcmp(prefix, "/") == 0)
		return path[0] == '/';
	return strncmp(prefix, path, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

char *
unit_sandbox_denies(const struct unit_sandbox *u, const char *path, bool want_write)
{
	const struct rule *best = NULL;
	char *abs = real_path(path);
	char *why = NULL;

	for (size_t i = 0; i < u->n_rules; i++) {
		const struct rule *r = &u->rules[i];
		size_t len = strlen(r->path);

		if (!covers(r->path, abs))
			continue;
		/* Deeper wins; on the same path, hidden over read-only over writable. */
		if (best == NULL || len > strlen(best->path) ||
		    (len == strlen(best->path) && r->kind > best->kind))
			best = r;
	}
	if (best == NULL || best->kind == RULE_RW)
		goto out;
	switch (best->kind) {
	case RULE_HIDDEN:
		why = xasprintf("%s cannot be seen by the service: %s in %s hides %s; move the "
		    "file, or add a drop-in (systemctl edit smimesync) that lifts it", path,
		    best->origin, u->file, best->path);
		break;
	case RULE_TMP:
		why = xasprintf(want_write ? "%s would be written into the service's private "
		    "/tmp (%s in %s), which nobody else sees; choose a directory outside /tmp" :
		    "%s is in /tmp, which %s in %s replaces by an empty directory of the "
		    "service's own; move the file out of /tmp", path, best->origin, u->file);
		break;
	case RULE_RO:
		if (!want_write)
			break;
		why = xasprintf("%s is read-only for the service (%s in %s); allow it with a "
		    "drop-in: systemctl edit smimesync, then add [Service] ReadWritePaths=%s",
		    path, best->origin, u->file, path);
		break;
	case RULE_RW:
		break;
	}
out:
	free(abs);
	return why;
}
