/* SPDX-License-Identifier: ISC */
/*
 * One value, one row of the option table: text in, typed field out, and
 * back (for config_dump). Every "unknown value" message lists the values
 * that are allowed; every out-of-range message gives the range.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/dn.h"
#include "common/log.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "conf/options.h"

static void
set_string(void *base, const struct conf_option *o, char *v)
{
	char **field = CONF_FIELD(base, o, char *);

	free(*field);
	*field = v;
}

static char *
enum_list(const char *const *names)
{
	char *acc = xstrdup("");

	for (size_t i = 0; names[i] != NULL; i++) {
		char *next = xasprintf("%s%s%s", acc, i > 0 ? ", " : "", names[i]);

		free(acc);
		acc = next;
	}
	return acc;
}

static int
unknown_value(const char *value, const char *const *names, struct errbuf *why)
{
	char *list = enum_list(names);

	err_set(why, "unknown value \"%s\"; expected one of %s", value, list);
	free(list);
	return -1;
}

static int
uri_list_ok(const char *value, struct errbuf *why)
{
	static const char *const schemes[] = {"ldap://", "ldaps://", "ldapi://"};
	char *copy = xstrdup(value);
	char *save = NULL;
	int rc = 0;

	for (char *u = strtok_r(copy, " ", &save); u != NULL; u = strtok_r(NULL, " ", &save)) {
		bool known = false;

		for (size_t i = 0; i < ARRAY_LEN(schemes); i++)
			if (strncasecmp(u, schemes[i], strlen(schemes[i])) == 0)
				known = true;
		if (!known) {
			err_set(why, "\"%s\" is not an LDAP URI; use ldap://, ldaps:// or ldapi://", u);
			rc = -1;
			break;
		}
	}
	free(copy);
	return rc;
}

static int
range_error(const struct conf_option *o, const char *value, int64_t v, struct errbuf *why)
{
	char lo[32], hi[32];

	if (o->type == OPT_DURATION) {
		format_duration(o->min, lo, sizeof(lo));
		format_duration(o->max, hi, sizeof(hi));
	} else {
		snprintf(lo, sizeof(lo), "%lld", (long long)o->min);
		snprintf(hi, sizeof(hi), "%lld", (long long)o->max);
	}
	if (v > o->max && o->over_max != NULL)
		err_set(why, "%s exceeds %s; use %s or less", value, o->over_max, hi);
	else if (v > o->max)
		err_set(why, "%s is more than the maximum of %s; use %s to %s", value, hi, lo, hi);
	else
		err_set(why, "%s is less than the minimum of %s; use %s to %s", value, lo, lo, hi);
	return -1;
}

int
conf_value_parse(const struct conf_option *o, const char *value, const char *basedir,
    void *base, struct errbuf *why)
{
	int64_t n = 0;

	if (*value == '\0') {
		err_set(why, "empty value; give a value or remove the line");
		return -1;
	}
	if (str_has_control(value)) {
		err_set(why, "value contains a control character (a tab?); remove it");
		return -1;
	}
	switch (o->type) {
	case OPT_STRING:
		if (o->check != NULL && o->check(value, why) != 0)
			return -1;
		set_string(base, o, xstrdup(value));
		return 0;
	case OPT_PATH:
	case OPT_SECRET_PATH:
		if (value[0] == '/' || basedir == NULL)
			set_string(base, o, xstrdup(value));
		else
			set_string(base, o, xasprintf("%s/%s", basedir, value));
		return 0;
	case OPT_URL_HTTP:
		if (strncmp(value, "http://", 7) != 0 || value[7] == '\0' || value[7] == '/' ||
		    strchr(value, ' ') != NULL) {
			err_set(why, "\"%s\" is not an http:// URL; the S/MIME Baseline Requirements "
			    "require CRL and CA certificate URLs over plain http://", value);
			return -1;
		}
		set_string(base, o, xstrdup(value));
		return 0;
	case OPT_URI_LDAP:
		if (uri_list_ok(value, why) != 0)
			return -1;
		set_string(base, o, xstrdup(value));
		return 0;
	case OPT_DN:
		if (!dn_valid(value)) {
			err_set(why, "\"%s\" is not a DN; write attribute=value pairs separated by "
			    "commas, e.g. dc=example,dc=org", value);
			return -1;
		}
		set_string(base, o, xstrdup(value));
		return 0;
	case OPT_ENUM:
		for (int i = 0; o->enum_names[i] != NULL; i++) {
			if (strcmp(value, o->enum_names[i]) == 0) {
				*CONF_FIELD(base, o, int) = i;
				return 0;
			}
		}
		return unknown_value(value, o->enum_names, why);
	case OPT_BOOL: {
		static const char *const names[] = {"yes", "no", "true", "false", "on", "off", NULL};

		for (int i = 0; names[i] != NULL; i++) {
			if (strcmp(value, names[i]) == 0) {
				*CONF_FIELD(base, o, bool) = (i % 2) == 0;
				return 0;
			}
		}
		return unknown_value(value, names, why);
	}
	case OPT_INT:
		if (parse_int64(value, INT64_MIN, INT64_MAX, &n) != 0) {
			err_set(why, "\"%s\" is not a whole number; use %lld to %lld", value,
			    (long long)o->min, (long long)o->max);
			return -1;
		}
		if (n < o->min || n > o->max)
			return range_error(o, value, n, why);
		*CONF_FIELD(base, o, int64_t) = n;
		return 0;
	case OPT_DURATION:
		if (parse_duration(value, &n) != 0) {
			if (duration_missing_unit(value))
				err_set(why, "\"%s\" has no unit; write %ss, %sm, %sh, %sd or %sw "
				    "(a number alone is not read as seconds)", value, value, value,
				    value, value, value);
			else
				err_set(why, "\"%s\" is not a duration; write a number followed by s, "
				    "m, h, d or w, e.g. 30s or 365d", value);
			return -1;
		}
		if (n < o->min || n > o->max)
			return range_error(o, value, n, why);
		*CONF_FIELD(base, o, int64_t) = n;
		return 0;
	case OPT_LOG_LEVEL: {
		static const char *const names[] = {"error", "warn", "info", "debug", NULL};
		enum log_level l;

		if (log_level_parse(value, &l) != 0)
			return unknown_value(value, names, why);
		*CONF_FIELD(base, o, int) = (int)l;
		return 0;
	}
	case OPT_LOG_TARGET: {
		static const char *const names[] = {"stderr", "syslog", NULL};

		if (strcmp(value, "stderr") == 0)
			*CONF_FIELD(base, o, bool) = false;
		else if (strcmp(value, "syslog") == 0)
			*CONF_FIELD(base, o, bool) = true;
		else
			return unknown_value(value, names, why);
		return 0;
	}
	}
	err_set(why, "internal error: option type %d", (int)o->type);
	return -1;
}

char *
conf_value_format(const struct conf_option *o, const void *cbase)
{
	void *base = (void *)(uintptr_t)cbase;
	char tmp[32];

	switch (o->type) {
	case OPT_STRING:
	case OPT_PATH:
	case OPT_SECRET_PATH:
	case OPT_URL_HTTP:
	case OPT_URI_LDAP:
	case OPT_DN:
		return xstrdup_or_null(*CONF_FIELD(base, o, char *));
	case OPT_ENUM: {
		int v = *CONF_FIELD(base, o, int);
		size_t n = 0;

		while (o->enum_names[n] != NULL)
			n++;
		return xstrdup(v >= 0 && (size_t)v < n ? o->enum_names[v] : "?");
	}
	case OPT_BOOL:
		return xstrdup(*CONF_FIELD(base, o, bool) ? "yes" : "no");
	case OPT_INT:
		return xasprintf("%lld", (long long)*CONF_FIELD(base, o, int64_t));
	case OPT_DURATION:
		format_duration(*CONF_FIELD(base, o, int64_t), tmp, sizeof(tmp));
		return xstrdup(tmp);
	case OPT_LOG_LEVEL:
		return xstrdup(log_level_name((enum log_level)*CONF_FIELD(base, o, int)));
	case OPT_LOG_TARGET:
		return xstrdup(*CONF_FIELD(base, o, bool) ? "syslog" : "stderr");
	}
	return NULL;
}
