/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <stdbool.h>
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

/* Render one inline template ("Subject: ...\n\nbody") with vars; NULL on error (e set). */
static char *
render_inline(const char *name, const char *body, const struct tmpl_vars *v, struct errbuf *e)
{
	struct rendered_mail r = { NULL, NULL, NULL };
	char *dir = xasprintf("%s/sections", tmpdir);
	char *rel = xasprintf("sections/en/%s.txt", name);
	char *out = NULL;

	write_file(rel, body);
	if (template_render(dir, "en", name, v, &r, e) == 0) {
		out = xasprintf("%s|%s", r.subject, r.text);
		rendered_mail_clear(&r);
	}
	free(rel);
	free(dir);
	return out;
}

/* {{#name}}...{{/name}} and {{^name}}...{{/name}}: shown by whether name is empty. */
static void
test_sections(void)
{
	struct tmpl_vars *v = tmpl_vars_new();
	struct errbuf e;
	char *got;

	tmpl_vars_set(v, "renewal", "yes");
	tmpl_vars_set(v, "mail", "a@example.org");
	tmpl_vars_set(v, "previous_mail", "");
	got = render_inline("collection", "Subject: Your {{#renewal}}renewed {{/renewal}}cert"
	    "{{^renewal}} (new){{/renewal}}\n\nA\n{{#renewal}}\nrenewed for {{mail}}\n"
	    "{{#previous_mail}}\nold {{previous_mail}}\n{{/previous_mail}}\n{{/renewal}}\n"
	    "{{^renewal}}\nfirst\n{{/renewal}}\nZ\n", v, &e);
	/* Lines holding only a section tag leave nothing behind, not even a newline. */
	CHECK_STREQ(got, "Your renewed cert|A\nrenewed for a@example.org\nZ\n");
	free(got);
	tmpl_vars_set(v, "renewal", NULL);
	tmpl_vars_set(v, "previous_mail", "b@example.org");
	got = render_inline("collection", "Subject: Your {{#renewal}}renewed {{/renewal}}cert"
	    "{{^renewal}} (new){{/renewal}}\n\nA\n{{#renewal}}\nrenewed for {{mail}}\n"
	    "{{#previous_mail}}\nold {{previous_mail}}\n{{/previous_mail}}\n{{/renewal}}\n"
	    "{{^renewal}}\nfirst\n{{/renewal}}\nZ\n", v, &e);
	CHECK_STREQ(got, "Your cert (new)|A\nfirst\nZ\n");
	free(got);
	/* Inline sections may span lines; a hidden newline goes with them. */
	got = render_inline("collection", "Subject: s\n\nx {{#renewal}}long\n{{/renewal}}y\n", v,
	    &e);
	CHECK_STREQ(got, "s|x y\n");
	free(got);

	/* Errors name file, line and what to write. */
	CHECK(render_inline("collection", "Subject: s\n\n{{#renewal}}\nx\n", v, &e) == NULL);
	CHECK_CONTAINS(e.text, "collection.txt:3: section {{#renewal}} in template \"collection\" "
	    "is never closed; end it with {{/renewal}}");
	CHECK(render_inline("collection", "Subject: s\n\n{{#renewal}}\n{{/mail}}\n", v, &e) == NULL);
	CHECK_CONTAINS(e.text, "collection.txt:4: {{/mail}} in template \"collection\" where "
	    "{{/renewal}} must close the section opened on line 3");
	CHECK(render_inline("collection", "Subject: s\n\nx {{/renewal}}\n", v, &e) == NULL);
	CHECK_CONTAINS(e.text, "collection.txt:3: {{/renewal}} in template \"collection\" closes no "
	    "section");
	/* A typo in a section that is not shown is an error all the same. */
	CHECK(render_inline("collection", "Subject: s\n\n{{#renewal}}{{mial}}{{/renewal}}\n", v,
	    &e) == NULL);
	CHECK_CONTAINS(e.text, "collection.txt:3: unknown variable {{mial}}");
	/* The password stays out of sections of the collection mail too. */
	CHECK(render_inline("collection", "Subject: s\n\n{{#password}}x{{/password}}\n", v,
	    &e) == NULL);
	CHECK_CONTAINS(e.text, "unknown variable {{password}}");
	/* Nesting has a limit. */
	CHECK(render_inline("collection", "Subject: s\n\n{{#mail}}{{#mail}}{{#mail}}{{#mail}}"
	    "{{#mail}}{{#mail}}{{#mail}}{{#mail}}{{#mail}}x\n", v, &e) == NULL);
	CHECK_CONTAINS(e.text, "nest deeper than 8");
	tmpl_vars_free(v);
}

/* The vars a collection mail gets, with a name and organization in lang's script. */
static struct tmpl_vars *
collection_vars(const char *name, bool renewal)
{
	struct tmpl_vars *v = tmpl_vars_new();

	tmpl_vars_set(v, "display_name", name);
	tmpl_vars_set(v, "mail", "juergen.mueller@example.org");
	tmpl_vars_set(v, "group", "smime-vertrieb");
	tmpl_vars_set(v, "organization", "Société Générale d'Exemple <PKI>");
	tmpl_vars_set(v, "from_address", "pki@example.org");
	tmpl_vars_set(v, "reply_address", "pki-hilfe@example.org");
	tmpl_vars_set(v, "p12_filename", "juergen.mueller@example.org-2026-11-23-4F1A2B3C.p12");
	tmpl_vars_set(v, "serial", "4F1A2B3C4D5E6F708192A3B4C5D6E7F8");
	tmpl_vars_set(v, "fingerprint", "AB:CD:EF:01");
	tmpl_vars_set(v, "not_before", "2026-11-23 18:50 UTC");
	tmpl_vars_set(v, "not_after", "2027-11-23 18:50 UTC");
	tmpl_vars_set(v, "issuer", "CN=Exemple Émetteur");
	tmpl_vars_set(v, "root_name", "Exemple Racine S/MIME");
	tmpl_vars_set(v, "root_sha1", "0563B8630D62D75ABBC8AB1E4BDFB5A899B24D43");
	tmpl_vars_set(v, "root_sha256", "11:22:33");
	tmpl_vars_set(v, "verify_at", "https://intranet.example.org/pki?a=1&b=2");
	tmpl_vars_set(v, "run_id", "20261123T185000Z-ab12");
	if (renewal) {
		tmpl_vars_set(v, "renewal", "yes");
		tmpl_vars_set(v, "previous_serial", "3E0B");
		tmpl_vars_set(v, "previous_not_after", "2026-12-08 18:50 UTC");
	}
	return v;
}

/*
 * German and French mails render, text and HTML, with non-ASCII names
 * intact (UTF-8 in, UTF-8 out, HTML-escaped where markup), say why the
 * person gets them, how to check they are genuine, what the Windows root
 * prompt means, and say "renewal" when they are one.
 */
static void
test_languages(void)
{
	static const struct {
		const char *lang, *name, *why, *genuine, *windows, *renewed_subject, *first_subject,
		    *renewed_word, *outlook;
	} want[] = {
		{ "en", "Jürgen Müller", "you are a member of the group \u201csmime-vertrieb\u201d",
		    "Is this mail genuine?", "If Windows asks about a root certificate",
		    "Your renewed S/MIME certificate for juergen.mueller@example.org",
		    "Your S/MIME certificate for juergen.mueller@example.org", "RENEWED",
		    "New Outlook for Windows" },
		{ "de", "Jürgen Müller", "weil Sie Mitglied der Gruppe \u201esmime-vertrieb\u201c sind",
		    "Ist diese Nachricht echt?", "Wenn Windows nach einem Stammzertifikat fragt",
		    "Ihr erneuertes S/MIME-Zertifikat für juergen.mueller@example.org",
		    "Ihr S/MIME-Zertifikat für juergen.mueller@example.org", "ERNEUERT",
		    "Neues Outlook für Windows" },
		{ "fr", "Françoise Lefèvre-Ørsted",
		    "parce que vous êtes membre du groupe «\u00a0smime-vertrieb\u00a0»",
		    "Ce message est-il authentique\u00a0?",
		    "Si Windows vous interroge sur un certificat racine",
		    "Votre certificat S/MIME renouvelé pour juergen.mueller@example.org",
		    "Votre certificat S/MIME pour juergen.mueller@example.org", "RENOUVELÉ",
		    "Nouvel Outlook pour Windows" },
	};
	int problems = 0;

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		struct tmpl_vars *v = collection_vars(want[i].name, false);
		struct rendered_mail r = { NULL, NULL, NULL };
		struct errbuf e;

		CHECK_INTEQ(template_check_all(NULL, want[i].lang, collect, &problems), 0);
		CHECK_INTEQ(template_render(NULL, want[i].lang, "collection", v, &r, &e), 0);
		CHECK_STREQ(r.subject, want[i].first_subject);
		CHECK_CONTAINS(r.text, want[i].name);
		CHECK_CONTAINS(r.html, want[i].name);
		{
			/* The text is wrapped at 72 columns: read it as one line. */
			char *flat = xstrdup(r.text);

			for (char *c = flat; *c != '\0'; c++)
				if (*c == '\n')
					*c = ' ';
			CHECK_CONTAINS(flat, want[i].why);
			free(flat);
		}
		CHECK_CONTAINS(r.text, want[i].genuine);
		CHECK_CONTAINS(r.text, want[i].windows);
		CHECK_CONTAINS(r.text, "0563B8630D62D75ABBC8AB1E4BDFB5A899B24D43");
		CHECK_CONTAINS(r.text, "https://intranet.example.org/pki?a=1&b=2");
		CHECK_CONTAINS(r.html, "https://intranet.example.org/pki?a=1&amp;b=2");
		CHECK_CONTAINS(r.text, want[i].outlook);
		CHECK_CONTAINS(r.text, "Thunderbird");
		CHECK_CONTAINS(r.text, "Android");
		CHECK_CONTAINS(r.html, "Soci\u00e9t\u00e9 G\u00e9n\u00e9rale d&#39;Exemple &lt;PKI&gt;");
		CHECK_CONTAINS(r.html, "mailto:pki-hilfe@example.org");
		CHECK(strstr(r.text, want[i].renewed_word) == NULL);
		CHECK(strstr(r.html, "{{") == NULL && strstr(r.text, "{{") == NULL);
		rendered_mail_clear(&r);
		tmpl_vars_free(v);

		v = collection_vars(want[i].name, true);
		CHECK_INTEQ(template_render(NULL, want[i].lang, "collection", v, &r, &e), 0);
		CHECK_STREQ(r.subject, want[i].renewed_subject);
		CHECK_CONTAINS(r.text, want[i].renewed_word);
		CHECK_CONTAINS(r.html, want[i].renewed_word);
		CHECK_CONTAINS(r.text, "3E0B");
		rendered_mail_clear(&r);
		/* Every message exists in every language, as text and HTML. */
		for (size_t m = 0; template_messages[m] != NULL; m++) {
			tmpl_vars_set(v, "password", "SECRET-1234");
			CHECK_INTEQ(template_render(NULL, want[i].lang, template_messages[m], v, &r,
			    &e), 0);
			CHECK(r.html != NULL);
			rendered_mail_clear(&r);
		}
		tmpl_vars_free(v);
	}
	CHECK_INTEQ(problems, 0);
}

/* preferredLanguage (an Accept-Language list) picks a language templates exist for. */
static void
test_pick_language(void)
{
	static const struct {
		const char *preferred, *fallback, *want;
	} cases[] = {
		{ NULL, "en", "en" },
		{ "de", "en", "de" },
		{ "de-CH", "en", "de" },
		{ "DE-de", "en", "de" },
		{ "fr_CA", "de", "fr" },
		{ "pt-BR", "de", "de" },
		{ "pt-BR, fr;q=0.7, de;q=0.9", "en", "de" },
		{ "da, en-gb;q=0.8, en;q=0.7", "fr", "en" },
		{ "de;q=0, fr", "en", "fr" },
		{ "../../etc", "en", "en" },
		{ "German", "fr", "fr" },
		{ "", "fr", "fr" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char got[32];

		template_pick_language(NULL, cases[i].preferred, cases[i].fallback, got, sizeof(got));
		if (strcmp(got, cases[i].want) != 0)
			fprintf(stderr, "preferred \"%s\": got %s\n", cases[i].preferred ?
			    cases[i].preferred : "(null)", got);
		CHECK_STREQ(got, cases[i].want);
	}
	/* A language in the override directory counts only when it has every message. */
	write_file("partial/it/collection.txt", "Subject: Il certificato\n\nCiao\n");
	{
		char *dir = xasprintf("%s/partial", tmpdir);
		char got[32];
		char **langs = template_languages(dir);
		bool it = false, de = false;

		template_pick_language(dir, "it", "en", got, sizeof(got));
		CHECK_STREQ(got, "en");
		for (size_t i = 0; langs[i] != NULL; i++) {
			it = it || strcmp(langs[i], "it") == 0;
			de = de || strcmp(langs[i], "de") == 0;
		}
		/* check-config is asked to check it, and the built-in ones. */
		CHECK(it && de);
		template_languages_free(langs);
		free(dir);
	}
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
	test_sections();
	test_languages();
	test_pick_language();
	{
		char *cmd = xasprintf("rm -rf '%s'", tmpdir);

		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", tmpdir);
		free(cmd);
	}
	return check_finish();
}
