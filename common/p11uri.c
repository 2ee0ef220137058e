/* SPDX-License-Identifier: ISC */
/*
 * RFC 7512 PKCS#11 URIs, the subset that names one private key
 * (p11uri.h says which and why so strict).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/p11uri.h"
#include "common/strutil.h"
#include "common/xalloc.h"

#define SCHEME "pkcs11:"
#define SCHEME_LEN 7

bool
p11_uri_is(const char *text)
{
	return text != NULL && strncasecmp(text, SCHEME, SCHEME_LEN) == 0;
}

/*
 * Percent-decode s[0..len) into a new buffer (NUL-terminated, *out_len
 * without it). RFC 7512 2.3: any byte may be %XX; unreserved characters
 * and a few sub-delimiters may appear as they are.
 */
static int
pct_decode(const char *name, const char *s, size_t len, unsigned char **out, size_t *out_len,
    struct errbuf *e)
{
	unsigned char *buf = xmalloc(len + 1);
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '%') {
			int hi = i + 2 < len ? hex_value(s[i + 1]) : -1;
			int lo = i + 2 < len ? hex_value(s[i + 2]) : -1;

			if (hi < 0 || lo < 0) {
				err_set(e, "%s: \"%%\" must be followed by two hex digits (RFC 7512 "
				    "percent-encoding)", name);
				free(buf);
				return -1;
			}
			buf[n++] = (unsigned char)(hi << 4 | lo);
			i += 2;
			continue;
		}
		/* RFC 3986 unreserved, plus what RFC 7512's pchar allows unescaped. */
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr("-._~:[]@!$'()*+,=/|", c) != NULL) {
			buf[n++] = c;
			continue;
		}
		err_set(e, "%s: character '%c' must be percent-encoded (%%%02X)", name,
		    c >= 0x20 && c < 0x7f ? c : '?', c);
		free(buf);
		return -1;
	}
	buf[n] = '\0';
	*out = buf;
	*out_len = n;
	return 0;
}

/* A decoded text value: UTF-8, no NUL, no control characters. */
static int
text_value(const char *name, const char *s, size_t len, char **out, struct errbuf *e)
{
	unsigned char *v = NULL;
	size_t n = 0;

	if (pct_decode(name, s, len, &v, &n, e) != 0)
		return -1;
	if (n == 0 || memchr(v, '\0', n) != NULL || !str_is_utf8((char *)v, n) ||
	    str_has_control((char *)v)) {
		err_set(e, "%s: the value must be non-empty UTF-8 text without control characters",
		    name);
		free(v);
		return -1;
	}
	*out = (char *)v;
	return 0;
}

static int
set_once(const char *name, char **field, const char *s, size_t len, struct errbuf *e)
{
	if (*field != NULL) {
		err_set(e, "%s appears twice", name);
		return -1;
	}
	return text_value(name, s, len, field, e);
}

/* One "name=value" of the path. */
static int
path_attr(struct p11_uri *u, const char *a, size_t len, struct errbuf *e)
{
	const char *eq = memchr(a, '=', len);
	size_t nlen;
	const char *v;
	size_t vlen;

	if (eq == NULL) {
		err_set(e, "\"%.*s\" is not name=value", (int)(len > 64 ? 64 : len), a);
		return -1;
	}
	nlen = (size_t)(eq - a);
	v = eq + 1;
	vlen = len - nlen - 1;
#define IS(s) (nlen == sizeof(s) - 1 && memcmp(a, s, nlen) == 0)
	if (IS("token"))
		return set_once("token", &u->token, v, vlen, e);
	if (IS("serial"))
		return set_once("serial", &u->serial, v, vlen, e);
	if (IS("manufacturer"))
		return set_once("manufacturer", &u->manufacturer, v, vlen, e);
	if (IS("model"))
		return set_once("model", &u->model, v, vlen, e);
	if (IS("object"))
		return set_once("object", &u->object, v, vlen, e);
	if (IS("id")) {
		if (u->id != NULL) {
			err_set(e, "id appears twice");
			return -1;
		}
		if (pct_decode("id", v, vlen, &u->id, &u->id_len, e) != 0)
			return -1;
		if (u->id_len == 0) {
			err_set(e, "id: the value is empty");
			return -1;
		}
		return 0;
	}
	if (IS("type")) {
		if (vlen != 7 || memcmp(v, "private", 7) != 0) {
			err_set(e, "type=%.*s: smimesync needs a private key here (type=private, or "
			    "leave type out)", (int)(vlen > 32 ? 32 : vlen), v);
			return -1;
		}
		return 0;
	}
	if (IS("pin-value") || IS("pin-source")) {
		err_set(e, "%.*s: the PIN never goes into a URI in the configuration; put it in "
		    "a file only the signer can read and name it with pin_file (or "
		    "pin_credential under systemd)", (int)nlen, a);
		return -1;
	}
#undef IS
	err_set(e, "attribute \"%.*s\" is not one smimesync uses (token, serial, manufacturer, "
	    "model, object, id, type; module-path after \"?\")", (int)(nlen > 64 ? 64 : nlen), a);
	return -1;
}

static int
query_attr(struct p11_uri *u, const char *a, size_t len, struct errbuf *e)
{
	const char *eq = memchr(a, '=', len);
	size_t nlen = eq != NULL ? (size_t)(eq - a) : len;

	if (eq != NULL && nlen == 11 && memcmp(a, "module-path", 11) == 0) {
		if (set_once("module-path", &u->module_path, eq + 1, len - nlen - 1, e) != 0)
			return -1;
		if (u->module_path[0] != '/') {
			err_set(e, "module-path \"%s\" must be an absolute path to the PKCS#11 "
			    "library", u->module_path);
			return -1;
		}
		return 0;
	}
	if ((nlen == 9 && memcmp(a, "pin-value", 9) == 0) ||
	    (nlen == 10 && memcmp(a, "pin-source", 10) == 0))
		return path_attr(u, a, len, e); /* the same refusal */
	err_set(e, "query attribute \"%.*s\" is not one smimesync uses (only module-path)",
	    (int)(nlen > 64 ? 64 : nlen), a);
	return -1;
}

/* Split s[0..len) at sep and hand each non-empty part to fn. */
static int
each_attr(struct p11_uri *u, const char *s, size_t len, char sep,
    int (*fn)(struct p11_uri *, const char *, size_t, struct errbuf *), struct errbuf *e)
{
	size_t start = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != sep)
			continue;
		if (i > start && fn(u, s + start, i - start, e) != 0)
			return -1;
		start = i + 1;
	}
	return 0;
}

int
p11_uri_parse(const char *text, struct p11_uri *out, struct errbuf *e)
{
	struct p11_uri u;
	const char *path;
	const char *q;
	size_t len;

	memset(&u, 0, sizeof(u));
	memset(out, 0, sizeof(*out));
	if (!p11_uri_is(text)) {
		err_set(e, "not a PKCS#11 URI: it must start with \"pkcs11:\" (RFC 7512)");
		return -1;
	}
	len = strlen(text);
	if (len > P11_URI_MAX) {
		err_set(e, "the PKCS#11 URI is %zu bytes long; at most %d are accepted", len,
		    P11_URI_MAX);
		return -1;
	}
	if (strchr(text, '#') != NULL) {
		err_set(e, "a PKCS#11 URI has no fragment: encode '#' as %%23");
		return -1;
	}
	path = text + SCHEME_LEN;
	q = strchr(path, '?');
	if (each_attr(&u, path, q != NULL ? (size_t)(q - path) : strlen(path), ';', path_attr,
	    e) != 0)
		goto fail;
	if (q != NULL && each_attr(&u, q + 1, strlen(q + 1), '&', query_attr, e) != 0)
		goto fail;
	if (u.token == NULL && u.serial == NULL) {
		err_set(e, "say which token holds the key: token=LABEL (or serial=...)");
		goto fail;
	}
	if (u.object == NULL && u.id == NULL) {
		err_set(e, "say which key on the token: object=LABEL (or id=...)");
		goto fail;
	}
	if (u.module_path == NULL) {
		err_set(e, "say which PKCS#11 library to load: add ?module-path=/path/to/module.so "
		    "(e.g. /usr/lib/softhsm/libsofthsm2.so for SoftHSM2)");
		goto fail;
	}
	*out = u;
	return 0;
fail:
	p11_uri_clear(&u);
	return -1;
}

void
p11_uri_clear(struct p11_uri *u)
{
	if (u == NULL)
		return;
	free(u->token);
	free(u->serial);
	free(u->manufacturer);
	free(u->model);
	free(u->object);
	free(u->id);
	free(u->module_path);
	memset(u, 0, sizeof(*u));
}
