/* SPDX-License-Identifier: ISC */
/*
 * The MIME header encoder and message builder on hostile display names and
 * subjects. Input fields, separated by NUL bytes: display name, subject,
 * text body. Properties: the encoded phrase and every header line of a
 * built message hold no CR or LF except the CRLF line ends, no control
 * characters, and no line of the header is longer than RFC 5322's 998.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/errbuf.h"
#include "mail/mime.h"
#include "tests/fuzz/fuzz.h"

static void
check_phrase(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
		FUZZ_ASSERT(*p >= 0x20 && *p < 0x7f);
}

static void
check_headers(const char *msg, size_t len)
{
	const char *end = msg + len, *line = msg;
	const char *body = NULL;

	for (const char *p = msg; p + 3 < end; p++) {
		if (memcmp(p, "\r\n\r\n", 4) == 0) {
			body = p + 2;
			break;
		}
	}
	FUZZ_ASSERT(body != NULL);
	while (line < body) {
		const char *crlf = memchr(line, '\r', (size_t)(body - line));

		FUZZ_ASSERT(crlf != NULL && crlf[1] == '\n');
		FUZZ_ASSERT(crlf - line <= 998);
		for (const char *p = line; p < crlf; p++)
			FUZZ_ASSERT((unsigned char)*p >= 0x20 || *p == '\t');
		for (const char *p = line; p < crlf; p++)
			FUZZ_ASSERT((unsigned char)*p < 0x80);
		line = crlf + 2;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *f[3];
	char *phrase = NULL, *msg = NULL;
	size_t len = 0;
	struct errbuf e;
	struct mail_spec spec = { 0 };

	fuzz_fields(data, size, f, 3);
	err_clear(&e);
	if (mime_encode_phrase(f[0], &phrase, &e) == 0) {
		check_phrase(phrase);
		free(phrase);
	} else {
		FUZZ_ASSERT(e.text[0] != '\0');
	}

	spec.from = "Example PKI <pki@example.org>";
	spec.to_name = f[0];
	spec.to_addr = "alice@example.org";
	spec.subject = f[1];
	spec.text = f[2];
	spec.date = 1700000000;
	spec.message_id = "<fuzz@example.org>";
	err_clear(&e);
	if (mime_build(&spec, &msg, &len, &e) == 0) {
		FUZZ_ASSERT(strlen(msg) == len);
		check_headers(msg, len);
		free(msg);
	} else {
		FUZZ_ASSERT(e.text[0] != '\0');
	}
	fuzz_fields_free(f, 3);
	return 0;
}
