/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/errbuf.h"
#include "common/fileutil.h"
#include "common/xalloc.h"
#include "mail/template.h"
#include "tests/unit/check.h"

static char *tmpdir;

static void
write_file(const char *rel, const char *content)
{
	struct errbuf e;
	char *path = xasprintf("%s/%s", tmpdir, rel);
	char *dir = xstrdup(path);

	*strrchr(dir, '/') = '\0';
	if (mkdir_p(dir, 0755, &e) != 0 ||
	    file_write_atomic(path, content, strlen(content), 0644, &e) != 0) {
		fprintf(stderr, "cannot write %s: %s\n", path, e.text);
		exit(99);
	}
	free(dir);
	free(path);
}

static void
collect(const char *msg, void *arg)
{
	int *n = arg;

	fprintf(stderr, "template problem: %s\n", msg);
	(*n)++;
}

static struct tmpl_vars *
sample_vars(void)
{
	struct tmpl_vars *v = tmpl_vars_new();

	tmpl_vars_set(v, "display_name", "<script>alert(1)</script> & \"Co\"");
	tmpl_vars_set(v, "mail", "alice@example.org");
	tmpl_vars_set(v, "p12_filename", "alice@example.org.p12");
	tmpl_vars_set(v, "organization", "Example PKI");
	tmpl_vars_set(v, "from_address", "pki@example.org");
	tmpl_vars_set(v, "not_after", "2027-11-23 18:50 UTC");
	tmpl_vars_set(v, "password", "SECRET-PASSWORD-XYZ");
	return v;
}

static void
test_builtin(void)
{
	struct tmpl_vars *v = sample_vars();
	struct rendered_mail r = { NULL, NULL, NULL };
	struct errbuf e;
	int problems = 0;

	CHECK_INTEQ(template_check_all(NULL, "en", collect, &problems), 0);
	CHECK_INTEQ(problems, 0);

	/* The collection mail never carries the password, even if the
	 * caller put it in the variables. */
	CHECK_INTEQ(template_render(NULL, "en", "collection", v, &r, &e), 0);
	CHECK_CONTAINS(r.subject, "alice@example.org");
	CHECK_CONTAINS(r.text, "alice@example.org.p12");
	CHECK_CONTAINS(r.text, "2027-11-23 18:50 UTC");
	CHECK(r.html != NULL);
	CHECK(r.text != NULL && strstr(r.text, "SECRET-PASSWORD-XYZ") == NULL);
	CHECK(r.html != NULL && strstr(r.html, "SECRET-PASSWORD-XYZ") == NULL);
	CHECK(r.html != NULL && strstr(r.html, "<script>") == NULL);
	CHECK_CONTAINS(r.html, "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Co&quot;");
	CHECK_CONTAINS(r.text, "<script>alert(1)</script> & \"Co\"");
	rendered_mail_clear(&r);

	CHECK_INTEQ(template_render(NULL, "en", "password", v, &r, &e), 0);
	CHECK_CONTAINS(r.text, "SECRET-PASSWORD-XYZ");
	CHECK_CONTAINS(r.text, "alice@example.org.p12");
	rendered_mail_clear(&r);

	CHECK(template_render(NULL, "xx", "collection", v, &r, &e) != 0);
	CHECK_CONTAINS(e.text, "no template \"collection\" for language \"xx\"");
	CHECK(template_render(NULL, "../en", "collection", v, &r, &e) != 0);
	tmpl_vars_free(v);
}

static void
test_override(void)
{
	struct tmpl_vars *v = sample_vars();
	struct rendered_mail r = { NULL, NULL, NULL };
	struct errbuf e;
	char *dir = xasprintf("%s/ok", tmpdir);
	int problems = 0;

	write_file("ok/en/collection.txt",
	    "Subject: Hi {{ display_name }}\r\n\r\nDear {{display_name}},\r\nyour file: "
	    "{{p12_filename}}\r\n");
	CHECK_INTEQ(template_render(dir, "en", "collection", v, &r, &e), 0);
	CHECK_STREQ(r.subject, "Hi <script>alert(1)</script> & \"Co\"");
	CHECK_STREQ(r.text, "Dear <script>alert(1)</script> & \"Co\",\nyour file: "
	    "alice@example.org.p12\n");
	/* The HTML part comes from the same directory as the text: none here. */
	CHECK(r.html == NULL);
	rendered_mail_clear(&r);

	write_file("ok/en/collection.html", "<p>{{display_name}}</p>\n");
	CHECK_INTEQ(template_render(dir, "en", "collection", v, &r, &e), 0);
	CHECK_STREQ(r.html, "<p>&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Co&quot;</p>\n");
	rendered_mail_clear(&r);

	/* Not overridden: the built-in password template is used. */
	CHECK_INTEQ(template_render(dir, "en", "password", v, &r, &e), 0);
	CHECK_CONTAINS(r.subject, "Password for your S/MIME certificate");
	rendered_mail_clear(&r);
	CHECK_INTEQ(template_check_all(dir, "en", collect, &problems), 0);
	free(dir);
	tmpl_vars_free(v);
}

static void
expect_error(const char *name, const char *message, const char *content, const char *want)
{
	struct tmpl_vars *v = sample_vars();
	struct rendered_mail r = { NULL, NULL, NULL };
	struct errbuf e;
	char *rel = xasprintf("%s/en/%s.txt", name, message);
	char *dir = xasprintf("%s/%s", tmpdir, name);

	write_file(rel, content);
	err_clear(&e);
	CHECK(template_render(dir, "en", message, v, &r, &e) != 0);
	CHECK_CONTAINS(e.text, want);
	CHECK(r.subject == NULL && r.text == NULL && r.html == NULL);
	free(rel);
	free(dir);
	tmpl_vars_free(v);
}

static void
test_errors(void)
{
	char *want;

	want = xasprintf("%s/unk/en/collection.txt:4: unknown variable {{nosuch}} in "
	    "template \"collection\"; known variables are: display_name, given_name", tmpdir);
	expect_error("unk", "collection", "Subject: x\n\nline 3\nline {{nosuch}} 4\n", want);
	free(want);

	want = xasprintf("%s/pw/en/collection.txt:3: unknown variable {{password}} in "
	    "template \"collection\"; known variables are: display_name", tmpdir);
	expect_error("pw", "collection", "Subject: x\n\nYour password: {{password}}\n", want);
	free(want);
	CHECK(!template_var_allowed("collection", "password"));
	CHECK(template_var_allowed("password", "password"));
	CHECK(template_var_allowed("collection", "fingerprint"));
	CHECK(!template_var_allowed("password", "nosuch"));
	expect_error("pw2", "collection", "Subject: {{password}}\n\nx\n",
	    "unknown variable {{password}}");

	expect_error("hdr", "collection", "Subject: x\nFrom: evil@example.org\n\nbody\n",
	    "collection.txt:2: unknown header line \"From\"");
	expect_error("nosubj", "collection", "\nbody\n", "has no \"Subject: ...\" line");
	expect_error("noblank", "collection", "Subject: x\n", "ends inside its header block");
	expect_error("unterminated", "password", "Subject: x\n\nabc {{mail\n",
	    "password.txt:3: unterminated or malformed variable");
	expect_error("badname", "password", "Subject: x\n\n{{Mail}}\n",
	    "password.txt:3: unterminated or malformed variable");
	expect_error("empty", "password", "Subject: x\n\n{{}}\n", "empty variable");
	expect_error("utf8", "password", "Subject: x\n\n\xff\xfe\n", "not valid UTF-8");
	expect_error("dup", "password", "Subject: x\nsubject: y\n\nz\n", "second Subject:");

	/* password is fine in the password message. */
	{
		struct tmpl_vars *v = sample_vars();
		struct rendered_mail r = { NULL, NULL, NULL };
		struct errbuf e;
		char *dir = xasprintf("%s/pwok", tmpdir);

		write_file("pwok/en/password.txt", "Subject: pw\n\n{{password}}");
		CHECK_INTEQ(template_render(dir, "en", "password", v, &r, &e), 0);
		CHECK_STREQ(r.text, "SECRET-PASSWORD-XYZ");
		rendered_mail_clear(&r);
		free(dir);
		tmpl_vars_free(v);
	}
}

static void
test_check_all_reports(void)
{
	int problems = 0;
	char *dir = xasprintf("%s/broken", tmpdir);

	write_file("broken/en/collection.txt", "Subject: x\n\n{{password}}\n");
	CHECK_INTEQ(template_check_all(dir, "en", collect, &problems), 1);
	CHECK_INTEQ(problems, 1);
	free(dir);
}

int
main(void)
{
	char tmpl[] = "/tmp/test_mail_template.XXXXXX";

	if (getenv("SMIMESYNC_TEMPLATES_DIR") == NULL)
		setenv("SMIMESYNC_TEMPLATES_DIR", "templates", 1);
	tmpdir = mkdtemp(tmpl);
	if (tmpdir == NULL) {
		perror("mkdtemp");
		return 99;
	}
	test_builtin();
	test_override();
	test_errors();
	test_check_all_reports();
	{
		char *cmd = xasprintf("rm -rf '%s'", tmpdir);

		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", tmpdir);
		free(cmd);
	}
	return check_finish();
}
