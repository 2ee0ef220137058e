/* SPDX-License-Identifier: ISC */
/*
 * Hostile input across rooms (issue #9): invalid UTF-8 in every shape,
 * NUL bytes inside values, huge values, and values that try to smuggle
 * syntax into the next layer (template variables, headers, filters).
 * The rule everywhere: refuse or encode, never truncate silently, never
 * let a value become syntax.
 */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/errbuf.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "directory/dir_internal.h"
#include "directory/directory.h"
#include "mail/mime.h"
#include "mail/template.h"
#include "tests/unit/check.h"

#define S(lit) (lit), (sizeof(lit) - 1)

static void
test_utf8(void)
{
	CHECK(str_is_utf8(S("J\xc3\xbcrgen \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x94\x91")));
	CHECK(str_is_utf8(S("")));
	CHECK(str_is_utf8(S("\xf4\x8f\xbf\xbf")));       /* U+10FFFF, the last one */
	CHECK(!str_is_utf8(S("\xc0\xaf")));               /* overlong '/' */
	CHECK(!str_is_utf8(S("\xc1\xbf")));
	CHECK(!str_is_utf8(S("\xe0\x80\xaf")));           /* overlong, 3 bytes */
	CHECK(!str_is_utf8(S("\xf0\x80\x80\xaf")));       /* overlong, 4 bytes */
	CHECK(!str_is_utf8(S("\xed\xa0\x80")));           /* UTF-16 surrogate */
	CHECK(!str_is_utf8(S("\xed\xbf\xbf")));
	CHECK(!str_is_utf8(S("\xf4\x90\x80\x80")));       /* beyond U+10FFFF */
	CHECK(!str_is_utf8(S("\xf5\x80\x80\x80")));
	CHECK(!str_is_utf8(S("\xff")));
	CHECK(!str_is_utf8(S("\x80")));                   /* lone continuation */
	CHECK(!str_is_utf8(S("ok \xc3")));                /* cut at the end */
	CHECK(!str_is_utf8(S("\xe6\x97 x")));             /* cut in the middle */
	CHECK(!str_is_utf8(S("nul\0inside")));            /* a NUL is never text */
	CHECK(str_has_control("tab\there"));
	CHECK(str_has_control("del\x7f"));
	CHECK(str_has_control("cr\r"));
	CHECK(!str_has_control("J\xc3\xbcrgen"));
}

static void
test_directory_values(void)
{
	char *p, *esc;
	size_t huge = 4 * 1024 * 1024;
	char *big = xmalloc(huge);

	/* A NUL inside a mail value is not an address, whatever follows. */
	CHECK(!dir_mail_valid(S("alice@example.org\0")));
	CHECK(!dir_mail_valid(S("alice\0@example.org")));
	CHECK(!dir_mail_valid(S("al\xffice@example.org")));
	CHECK(!dir_mail_valid(S("al\xc0\xafice@example.org")));
	CHECK(dir_mail_valid(S("j\xc3\xbcrgen@example.org")));

	/* Printable copies of hostile values for logs: never a control, never
	 * half a UTF-8 sequence, never the whole of a huge value. */
	p = dir_printable(S("a\0b\r\nc\x1b[31m"), 64);
	CHECK(p != NULL && !str_has_control(p) && strlen(p) == 11);
	free(p);
	p = dir_printable(S("\xff\xfe bad"), 64);
	CHECK(p != NULL && str_is_utf8(p, strlen(p)));
	free(p);
	p = dir_printable(S("\xc3\xbc\xc3\xbc\xc3\xbc"), 3);
	CHECK(p != NULL && str_is_utf8(p, strlen(p)));
	free(p);
	memset(big, 'A', huge);
	p = dir_printable(big, huge, 120);
	CHECK(p != NULL && strlen(p) < 200);
	free(p);

	/* A huge value is escaped whole (the filter is bounded elsewhere by
	 * MAILADDR_MAX), and stays free of metacharacters. */
	memset(big, '*', huge);
	esc = dir_filter_escape(big, huge);
	CHECK(strlen(esc) == 3 * huge);
	CHECK(strchr(esc, '*') == NULL);
	free(esc);
	esc = dir_filter_escape(S("x\0*)(|(uid=*"));
	CHECK_STREQ(esc, "x\\00\\2a\\29\\28|\\28uid=\\2a");
	free(esc);
	free(big);

	/* DNs with hostile values: invalid UTF-8 and NULs stay distinct. */
	{
		char *a = dir_dn_normalize("cn=a\\00b,dc=x"), *b = dir_dn_normalize("cn=a,dc=x");

		CHECK(a == NULL || b == NULL || strcmp(a, b) != 0);
		free(a);
		free(b);
	}
}

static void
test_template_values(void)
{
	struct tmpl_vars *v = tmpl_vars_new();
	struct rendered_mail m = { 0 };
	struct errbuf e;
	size_t huge = 1024 * 1024;
	char *big = xmalloc(huge + 1);

	/* A value that looks like a variable is text, not a second expansion:
	 * nobody smuggles {{password}} into the collection mail by name. */
	tmpl_vars_set(v, "display_name", "{{password}} <script>x</script>");
	tmpl_vars_set(v, "mail", "alice@example.org");
	tmpl_vars_set(v, "p12_filename", "alice@example.org.p12");
	tmpl_vars_set(v, "password", "s3cret-never-here");
	err_clear(&e);
	CHECK_INTEQ(template_render(NULL, "en", "collection", v, &m, &e), 0);
	CHECK_CONTAINS(m.text, "{{password}} <script>");
	CHECK(strstr(m.text, "s3cret-never-here") == NULL);
	if (m.html != NULL) {
		CHECK(strstr(m.html, "<script>x") == NULL);
		CHECK(strstr(m.html, "s3cret-never-here") == NULL);
	}
	rendered_mail_clear(&m);

	/* A megabyte display name renders; it cannot end up in a header. */
	memset(big, 'x', huge);
	big[huge] = '\0';
	tmpl_vars_set(v, "display_name", big);
	err_clear(&e);
	CHECK_INTEQ(template_render(NULL, "en", "collection", v, &m, &e), 0);
	CHECK(m.text != NULL && strlen(m.text) > huge);
	rendered_mail_clear(&m);

	/* CR/LF in a value that reaches the subject: the mail is refused. */
	tmpl_vars_set(v, "mail", "alice@example.org\r\nBcc: victim@example.org");
	err_clear(&e);
	if (template_render(NULL, "en", "collection", v, &m, &e) == 0) {
		struct mail_spec spec = { 0 };
		char *msg = NULL;
		size_t len = 0;

		spec.from = "PKI <pki@example.org>";
		spec.to_addr = "alice@example.org";
		spec.subject = m.subject;
		spec.text = m.text;
		spec.date = 1700000000;
		CHECK(mime_build(&spec, &msg, &len, &e) != 0);
		CHECK(msg == NULL);
		CHECK_CONTAINS(e.text, "line break");
		free(msg);
	}
	rendered_mail_clear(&m);
	tmpl_vars_free(v);
	free(big);
}

static void
test_mail_values(void)
{
	struct mail_spec spec = { 0 };
	char *msg = NULL, *phrase = NULL;
	size_t len = 0;
	struct errbuf e;

	spec.from = "PKI <pki@example.org>";
	spec.to_addr = "alice@example.org";
	spec.subject = "Your certificate";
	spec.text = "Hello\n";
	spec.date = 1700000000;

	/* Display names: invalid UTF-8 is refused, not repaired. */
	spec.to_name = "Alice \xc3\x28";
	CHECK(mime_build(&spec, &msg, &len, &e) != 0);
	spec.to_name = "Alice\xc2\x85" "Bcc"; /* U+0085 NEL: valid UTF-8, encoded, not a break */
	err_clear(&e);
	CHECK_INTEQ(mime_build(&spec, &msg, &len, &e), 0);
	CHECK(msg != NULL && strstr(msg, "Bcc") == NULL);
	free(msg);
	msg = NULL;
	/* Addresses: quotes, comments, NUL-less tricks are not addresses. */
	CHECK(!mail_address_valid("\"a@b\"@example.org"));
	CHECK(!mail_address_valid("alice@example.org>"));
	CHECK(!mail_address_valid("alice@example.org\r\nRCPT TO:<x@y>"));
	CHECK(!mail_address_valid("alice(comment)@example.org"));
	CHECK(!mail_address_valid("alice@[127.0.0.1]"));
	CHECK(!mail_address_valid(""));
	/* Encoded-word lookalikes in the subject are encoded too. */
	spec.to_name = NULL;
	spec.subject = "=?UTF-8?B?PGV2aWw+?=";
	err_clear(&e);
	CHECK_INTEQ(mime_build(&spec, &msg, &len, &e), 0);
	CHECK(msg != NULL && strstr(msg, "Subject: =?UTF-8?B?PGV2aWw+?=") == NULL);
	free(msg);
	CHECK_INTEQ(mime_encode_phrase("", &phrase, &e), 0);
	free(phrase);
}

int
main(void)
{
	test_utf8();
	test_directory_values();
	test_template_values();
	test_mail_values();
	return check_finish();
}
