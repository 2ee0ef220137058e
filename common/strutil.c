/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/strutil.h"
#include "common/xalloc.h"

bool
str_has_control(const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f)
			return true;
	}
	return false;
}

bool
str_is_utf8(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		unsigned char c = p[i];
		size_t n;
		uint32_t cp;

		if (c == 0)
			return false;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		for (size_t k = 1; k <= n; k++) {
			if (i + k >= len || (p[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n + 1;
	}
	return true;
}

char *
str_trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

bool
str_starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool
str_eq_nocase(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

char *
hex_encode(const unsigned char *data, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	char *out = xmalloc(len * 2 + 1);

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[data[i] >> 4];
		out[2 * i + 1] = digits[data[i] & 0xf];
	}
	out[len * 2] = '\0';
	return out;
}

char *
hex_encode_colons(const unsigned char *data, size_t len)
{
	static const char digits[] = "0123456789ABCDEF";
	char *out = xmalloc(len == 0 ? 1 : len * 3);

	for (size_t i = 0; i < len; i++) {
		out[3 * i] = digits[data[i] >> 4];
		out[3 * i + 1] = digits[data[i] & 0xf];
		out[3 * i + 2] = i + 1 < len ? ':' : '\0';
	}
	if (len == 0)
		out[0] = '\0';
	return out;
}

char *
hex_to_colons(const char *hex)
{
	size_t len = strlen(hex), k = 0;
	char *out = xmalloc(len + len / 2 + 1);

	for (size_t i = 0; i < len; i++) {
		if (i > 0 && i % 2 == 0)
			out[k++] = ':';
		out[k++] = (char)toupper((unsigned char)hex[i]);
	}
	out[k] = '\0';
	return out;
}

int
parse_int64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	char *end = NULL;
	long long v;

	if (s == NULL || *s == '\0' || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int
parse_duration(const char *s, int64_t *seconds_out)
{
	char *end = NULL;
	long long v;
	int64_t unit = 1;

	if (s == NULL || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0)
		return -1;
	switch (*end) {
	case '\0':
		/* "30" could mean anything: only nothing needs no unit. */
		if (v != 0)
			return -1;
		break;
	case 's':
		unit = 1;
		break;
	case 'm':
		unit = 60;
		break;
	case 'h':
		unit = 3600;
		break;
	case 'd':
		unit = 86400;
		break;
	case 'w':
		unit = 7 * 86400;
		break;
	default:
		return -1;
	}
	if (*end != '\0' && end[1] != '\0')
		return -1;
	if (v > INT64_MAX / unit)
		return -1;
	*seconds_out = (int64_t)v * unit;
	return 0;
}

bool
duration_missing_unit(const char *s)
{
	if (s == NULL || *s == '\0')
		return false;
	for (const char *p = s; *p != '\0'; p++)
		if (!isdigit((unsigned char)*p))
			return false;
	return true;
}

void
format_duration(int64_t seconds, char *out, size_t size)
{
	if (seconds != 0 && seconds % 86400 == 0)
		snprintf(out, size, "%lldd", (long long)(seconds / 86400));
	else if (seconds != 0 && seconds % 3600 == 0)
		snprintf(out, size, "%lldh", (long long)(seconds / 3600));
	else if (seconds != 0 && seconds % 60 == 0)
		snprintf(out, size, "%lldm", (long long)(seconds / 60));
	else
		snprintf(out, size, "%llds", (long long)seconds);
}

void
format_time_utc(time_t t, char *out, size_t size)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int
parse_time_utc(const char *s, time_t *out)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (end == NULL || *end != '\0')
		return -1;
	*out = timegm(&tm);
	return 0;
}

int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}
