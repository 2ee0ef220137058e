/* SPDX-License-Identifier: ISC */
/*
 * The template engine on arbitrary template files. The input is the text
 * template (header block, blank line, body); after a NUL byte, if any, comes
 * the HTML part. Both are rendered as the "collection" message from an
 * override directory, with fixed variables that hold HTML metacharacters.
 * Properties: failure always comes with a message; the HTML part never
 * carries a variable's markup unescaped.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/errbuf.h"
#include "mail/template.h"
#include "tests/fuzz/fuzz.h"

static struct tmpl_vars *vars;
static char dir[128], txt[192], html[192];

static void
setup(void)
{
	char lang[160];

	snprintf(dir, sizeof(dir), "%s/tmpl", fuzz_scratch_dir());
	snprintf(lang, sizeof(lang), "%s/en", dir);
	if ((mkdir(dir, 0700) != 0 && access(dir, F_OK) != 0) ||
	    (mkdir(lang, 0700) != 0 && access(lang, F_OK) != 0))
		abort();
	snprintf(txt, sizeof(txt), "%s/collection.txt", lang);
	snprintf(html, sizeof(html), "%s/collection.html", lang);
	vars = tmpl_vars_new();
	tmpl_vars_set(vars, "display_name", "<b>Mallory</b> & \"Co\" {{password}}");
	tmpl_vars_set(vars, "mail", "mallory@example.org");
	tmpl_vars_set(vars, "organization", "Example <PKI>");
	tmpl_vars_set(vars, "from_address", "pki@example.org");
	tmpl_vars_set(vars, "p12_filename", "mallory@example.org.p12");
	tmpl_vars_set(vars, "serial", "0123456789ABCDEF");
	tmpl_vars_set(vars, "group", NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	struct rendered_mail m = { 0 };
	struct errbuf e;

	if (vars == NULL)
		setup();
	err_clear(&e);
	if (nul != NULL) {
		fuzz_write_file(txt, data, (size_t)(nul - data));
		fuzz_write_file(html, nul + 1, size - (size_t)(nul - data) - 1);
	} else {
		fuzz_write_file(txt, data, size);
		unlink(html);
	}
	if (template_render(dir, "en", "collection", vars, &m, &e) == 0) {
		FUZZ_ASSERT(m.subject != NULL && m.text != NULL);
		/* The variable's "<b>" must arrive escaped in HTML, unless the
		 * template itself carries that text. */
		if (m.html != NULL && memmem(data, size, "<b>Mallory", 10) == NULL)
			FUZZ_ASSERT(strstr(m.html, "<b>Mallory") == NULL);
	} else {
		FUZZ_ASSERT(e.text[0] != '\0');
	}
	rendered_mail_clear(&m);
	return 0;
}
