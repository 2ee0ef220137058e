/* SPDX-License-Identifier: ISC */
/*
 * The DN rule of common/dn.h: one pass over the string, attribute by
 * attribute. The character classes are spelled out (no locale).
 */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include "common/dn.h"

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool
is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool
is_ldh(char c)
{
	return is_alpha(c) || is_digit(c) || c == '-';
}

static const char *
skip_space(const char *p)
{
	while (is_space(*p))
		p++;
	return p;
}

/* An attribute type: a descriptor with optional options, or a numeric OID. */
static bool
attr_type(const char **pp)
{
	const char *p = *pp;

	if (is_digit(*p)) {
		for (;;) {
			if (!is_digit(*p))
				return false;
			while (is_digit(*p))
				p++;
			if (*p != '.')
				break;
			p++;
		}
	} else if (is_alpha(*p)) {
		while (is_ldh(*p))
			p++;
		/* Attribute options ("cn;lang-de"): RFC 4514 has none, libldap drops them. */
		if (*p == ';')
			while (is_ldh(*p) || *p == ';')
				p++;
	} else {
		return false;
	}
	*pp = p;
	return true;
}

/* A value up to the next unescaped ',' or '+' or the end. */
static bool
attr_value(const char **pp)
{
	const char *p = *pp;

	if (*p == '#') {
		size_t pairs = 0;

		for (p++; is_hex(p[0]) && is_hex(p[1]); p += 2)
			pairs++;
		p = skip_space(p);
		if (pairs == 0 || (*p != '\0' && *p != ',' && *p != '+'))
			return false;
		*pp = p;
		return true;
	}
	for (; *p != '\0' && *p != ',' && *p != '+'; p++) {
		if (*p == '\\') {
			p++;
			if (is_hex(p[0]) && is_hex(p[1]))
				p++;
			else if (*p == '\0' || strchr("\\,;+\"<>=# \t\r\n", *p) == NULL)
				return false;
		} else if (*p == ';' || *p == '"' || *p == '<' || *p == '>') {
			return false;
		}
	}
	*pp = p;
	return true;
}

bool
dn_valid(const char *s)
{
	const char *p = s;

	if (*p == '\0')
		return true;
	for (;;) {
		p = skip_space(p);
		if (!attr_type(&p))
			return false;
		p = skip_space(p);
		if (*p != '=')
			return false;
		p = skip_space(p + 1);
		if (!attr_value(&p))
			return false;
		if (*p == '\0')
			return true;
		p++; /* ',' or '+': another attribute must follow */
	}
}
