/* SPDX-License-Identifier: ISC */
/*
 * Options whose value is a comma-separated list: durations (reminders),
 * mail addresses (notify) and mail domains (allowed_domains, mail_domains).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <stdio.h>

#include "common/strutil.h"
#include "common/xalloc.h"
#include "conf/conf.h"
#include "conf/options.h"

#define MAX_LIST CONF_MAX_REMINDERS

static int
cmp_desc(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

int
conf_parse_durations(const char *list, int64_t *out, size_t max)
{
	char *copy = xstrdup(list), *save = NULL, *tok;
	size_t n = 0;
	int rc = -1;

	if (strcmp(str_trim(copy), "none") == 0) {
		rc = 0;
		goto out;
	}
	for (tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		int64_t v;

		if (n == max || parse_duration(str_trim(tok), &v) != 0 || v <= 0)
			goto out;
		for (size_t i = 0; i < n; i++)
			if (out[i] == v)
				goto out;
		out[n++] = v;
	}
	if (n == 0)
		goto out;
	qsort(out, n, sizeof(*out), cmp_desc);
	rc = (int)n;
out:
	free(copy);
	return rc;
}

int
conf_check_duration_list(const char *value, struct errbuf *why)
{
	int64_t v[MAX_LIST];

	if (conf_parse_durations(value, v, MAX_LIST) < 0) {
		err_set(why, "\"%s\" is not a list of durations; write e.g. \"30d, 7d, 1d\" "
		    "(each with its unit, at most %d, no repeats) or \"none\"", value, MAX_LIST);
		return -1;
	}
	return 0;
}

/* One address of a list, by the rule of every address in the file. */
static bool
plain_address(const char *a)
{
	return mailaddr_valid(a, strlen(a), CONF_MAILADDR_FLAGS);
}

int
conf_check_address_list(const char *value, struct errbuf *why)
{
	char *copy = xstrdup(value), *save = NULL, *tok;
	int rc = 0, n = 0;

	for (tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		tok = str_trim(tok);
		n++;
		if (!plain_address(tok)) {
			err_set(why, "\"%s\" is not a mail address; give plain addresses separated "
			    "by commas, e.g. pki-team@example.org, it-security@example.org", tok);
			rc = -1;
			break;
		}
	}
	if (rc == 0 && n == 0) {
		err_set(why, "no address given");
		rc = -1;
	}
	free(copy);
	return rc;
}

int
conf_check_address(const char *value, struct errbuf *why)
{
	if (plain_address(value))
		return 0;
	err_set(why, "\"%s\" is not a mail address; give one plain address, e.g. "
	    "pki@example.org", value);
	return -1;
}

/*
 * One entry of a domain list: "example.org" is that domain only;
 * ".example.org" or "*.example.org" is every domain below it (not the
 * domain itself). LDH labels, at least two of them.
 */
static bool
domain_entry_valid(const char *d)
{
	char probe[300];

	if (strncmp(d, "*.", 2) == 0)
		d += 2;
	else if (d[0] == '.')
		d += 1;
	/* The one rule for domains: that of an address's domain part. */
	if (strlen(d) > 253)
		return false;
	snprintf(probe, sizeof(probe), "x@%s", d);
	return mailaddr_valid(probe, strlen(probe), MAILADDR_DOTTED);
}

int
conf_check_domain_list(const char *value, struct errbuf *why)
{
	char *copy = xstrdup(value), *save = NULL, *tok;
	int rc = 0, n = 0;

	for (tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		tok = str_trim(tok);
		n++;
		if (!domain_entry_valid(tok)) {
			err_set(why, "\"%s\" is not a mail domain; give domains separated by commas, "
			    "e.g. example.org, .example.org (a leading dot: every subdomain)", tok);
			rc = -1;
			break;
		}
	}
	if (rc == 0 && n == 0) {
		err_set(why, "no domain given");
		rc = -1;
	}
	free(copy);
	return rc;
}

bool
conf_domain_allowed(const char *list, const char *domain)
{
	size_t dlen = strlen(domain);
	const char *p = list;

	/* Walks the list in place: the planner calls this for every address. */
	while (p != NULL && *p != '\0') {
		const char *end = strchr(p, ',');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
		bool sub = false;

		while (len > 0 && (*p == ' ' || *p == '\t'))
			p++, len--;
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len > 2 && p[0] == '*' && p[1] == '.')
			p += 1, len -= 1;
		if (len > 1 && p[0] == '.')
			sub = true;
		if (sub ? dlen > len && strncasecmp(domain + dlen - len, p, len) == 0 :
		    dlen == len && strncasecmp(domain, p, len) == 0)
			return true;
		p = end != NULL ? end + 1 : NULL;
	}
	return false;
}
