/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/errbuf.h"
#include "common/xalloc.h"
#include "mail/mime.h"
#include "mail/transport.h"
#include "tests/unit/check.h"

static const char long_name[] = "Jürgen Müller-Lüdenscheidt-Ørsted von Königsberg-Straße "
    "Ελληνικά 日本語の名前 Ĳsselmeer";
static const char subject_utf8[] = "Ihr S/MIME-Zertifikat für jürgen@example.org — gültig "
    "bis 2027, bitte sofort installieren und aufbewahren";

/* Every line ends in CRLF; no bare CR or LF anywhere. */
static bool
crlf_only(const char *m, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (m[i] == '\n' && (i == 0 || m[i - 1] != '\r'))
			return false;
		if (m[i] == '\r' && (i + 1 >= len || m[i + 1] != '\n'))
			return false;
	}
	return len >= 2 && m[len - 2] == '\r' && m[len - 1] == '\n';
}

static size_t
longest_line(const char *from, const char *to)
{
	size_t max = 0;

	while (from < to) {
		const char *nl = strstr(from, "\r\n");
		size_t l;

		if (nl == NULL || nl > to)
			nl = to;
		l = (size_t)(nl - from);
		if (l > max)
			max = l;
		from = nl + 2;
	}
	return max;
}

/* Unfolded value of header name (new), or NULL. */
static char *
header_value(const char *msg, const char *name)
{
	size_t nlen = strlen(name);
	const char *p = msg;

	while (p != NULL && strncmp(p, "\r\n", 2) != 0) {
		if (strncmp(p, name, nlen) == 0 && p[nlen] == ':') {
			const char *v = p + nlen + 2;
			char *out = xmalloc(strlen(v) + 1);
			size_t o = 0;

			for (;;) {
				const char *eol = strstr(v, "\r\n");

				memcpy(out + o, v, (size_t)(eol - v));
				o += (size_t)(eol - v);
				if (eol[2] != ' ' && eol[2] != '\t')
					break;
				v = eol + 2;
			}
			out[o] = '\0';
			return out;
		}
		p = strstr(p, "\r\n");
		if (p != NULL)
			p += 2;
	}
	return NULL;
}

/*
 * Check each encoded word of an unfolded header value (<= 75 chars) and
 * return the decoded text of all words (new): a tiny RFC 2047 decoder for
 * the B encoding we produce.
 */
static char *
decode_words(const char *v, bool *all_short)
{
	char *out = xcalloc(1, strlen(v) + 1);
	size_t o = 0;
	const char *p = v;

	*all_short = true;
	while ((p = strstr(p, "=?UTF-8?B?")) != NULL) {
		const char *b = p + 10;
		const char *end = strstr(b, "?=");
		unsigned char dec[128];
		int n, pad = 0;

		if (end == NULL)
			break;
		if ((size_t)(end + 2 - p) > 75)
			*all_short = false;
		if (end - b > 0 && end[-1] == '=')
			pad++;
		if (end - b > 1 && end[-2] == '=')
			pad++;
		n = EVP_DecodeBlock(dec, (const unsigned char *)b, (int)(end - b));
		if (n > 0) {
			memcpy(out + o, dec, (size_t)(n - pad));
			o += (size_t)(n - pad);
		}
		p = end + 2;
	}
	out[o] = '\0';
	return out;
}

static void
test_full_message(void)
{
	unsigned char blob[3000];
	struct mail_attachment att = { "juergen@example.org.p12", "application/pkcs12", blob,
		sizeof(blob) };
	struct mail_spec spec;
	struct errbuf e;
	char *m = NULL, *v, *dec, *att_start, *att_end;
	size_t len = 0;
	bool all_short;

	for (size_t i = 0; i < sizeof(blob); i++)
		blob[i] = (unsigned char)(i * 7 + 3);
	memset(&spec, 0, sizeof(spec));
	spec.from = "Example PKI <pki@example.org>";
	spec.to_name = long_name;
	spec.to_addr = "juergen@example.org";
	spec.subject = subject_utf8;
	spec.text = "Hello Jürgen,\n\n.leading dot\nFrom here\ntrailing space \n"
	    "A very long line that goes on and on and on and on and on and on and on and on and on "
	    "and on and on and on and on and on and on = with equals and ümlauts ümlauts ümlauts.\n";
	spec.html = "<p>Hello J&uuml;rgen</p>\n";
	spec.attachments = &att;
	spec.n_attachments = 1;
	spec.date = 0;
	CHECK_INTEQ(mime_build(&spec, &m, &len, &e), 0);
	if (m == NULL)
		return;
	CHECK(strlen(m) == len);
	CHECK(crlf_only(m, len));
	CHECK(longest_line(m, m + len) <= 78);

	v = header_value(m, "Date");
	CHECK_STREQ(v, "Thu, 01 Jan 1970 00:00:00 +0000");
	free(v);
	v = header_value(m, "From");
	CHECK_STREQ(v, "Example PKI <pki@example.org>");
	free(v);
	v = header_value(m, "Message-ID");
	CHECK(v != NULL && v[0] == '<' && strstr(v, "@example.org>") != NULL);
	free(v);
	v = header_value(m, "MIME-Version");
	CHECK_STREQ(v, "1.0");
	free(v);

	v = header_value(m, "Subject");
	dec = decode_words(v, &all_short);
	CHECK(all_short);
	CHECK_STREQ(dec, subject_utf8);
	free(dec);
	free(v);

	v = header_value(m, "To");
	CHECK_CONTAINS(v, " <juergen@example.org>");
	dec = decode_words(v, &all_short);
	CHECK(all_short);
	CHECK_STREQ(dec, long_name);
	free(dec);
	free(v);

	CHECK_CONTAINS(m, "Content-Type: multipart/mixed;");
	CHECK_CONTAINS(m, "Content-Type: multipart/alternative;");
	CHECK_CONTAINS(m, "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n");
	CHECK_CONTAINS(m, "Content-Type: text/html; charset=utf-8\r\n");
	CHECK_CONTAINS(m, "Content-Disposition: attachment; filename=\"juergen@example.org.p12\"");
	CHECK_CONTAINS(m, "\r\n=2Eleading dot\r\n");
	CHECK_CONTAINS(m, "\r\n=46rom here\r\n");
	CHECK_CONTAINS(m, "\r\ntrailing space=20\r\n");
	CHECK_CONTAINS(m, "Hello J=C3=BCrgen,");
	CHECK_CONTAINS(m, "=3D with equals");

	/* base64 body: lines of at most 76 characters, all but the last exactly 76. */
	att_start = strstr(m, "filename=\"juergen@example.org.p12\"\r\n\r\n");
	CHECK(att_start != NULL);
	if (att_start != NULL) {
		att_start = strstr(att_start, "\r\n\r\n") + 4;
		att_end = strstr(att_start, "\r\n--");
		CHECK(att_end != NULL);
		if (att_end != NULL) {
			CHECK_INTEQ(longest_line(att_start, att_end), 76);
			CHECK(memchr(att_start, '=', (size_t)(att_end - att_start)) == NULL ||
			    att_end[-1] == '=');
		}
	}
	free(m);
}

static void
test_plain_and_errors(void)
{
	struct mail_spec spec;
	struct errbuf e;
	char *m = NULL;
	size_t len = 0;

	memset(&spec, 0, sizeof(spec));
	spec.from = "pki@example.org";
	spec.to_addr = "bob@example.org";
	spec.to_name = "Example, Bob";
	spec.subject = "Plain subject";
	spec.text = "hi";
	spec.date = 1700000000;
	spec.message_id = "<fixed.1@example.org>";
	CHECK_INTEQ(mime_build(&spec, &m, &len, &e), 0);
	CHECK_CONTAINS(m, "\r\nTo: \"Example, Bob\" <bob@example.org>\r\n");
	CHECK_CONTAINS(m, "\r\nSubject: Plain subject\r\n");
	CHECK_CONTAINS(m, "\r\nMessage-ID: <fixed.1@example.org>\r\n");
	CHECK_CONTAINS(m, "Content-Type: text/plain; charset=utf-8\r\n");
	CHECK(strstr(m, "multipart") == NULL);
	CHECK(crlf_only(m, len));
	free(m);
	m = NULL;

	spec.to_name = "Bob\r\nBcc: victim@example.org";
	CHECK(mime_build(&spec, &m, &len, &e) != 0);
	CHECK_CONTAINS(e.text, "display name of bob@example.org contains a line break; "
	    "refusing to build a header from it");
	CHECK(m == NULL);

	spec.to_name = "Bob\tTab";
	CHECK(mime_build(&spec, &m, &len, &e) != 0);
	CHECK_CONTAINS(e.text, "control character");

	spec.to_name = NULL;
	spec.subject = "Hello\nBcc: victim@example.org";
	CHECK(mime_build(&spec, &m, &len, &e) != 0);
	CHECK_CONTAINS(e.text, "subject of the mail to bob@example.org contains a line break");

	spec.subject = "ok";
	spec.to_addr = "bob@example.org\r\nRCPT TO:<x@example.org>";
	CHECK(mime_build(&spec, &m, &len, &e) != 0);
	CHECK_CONTAINS(e.text, "line break");

	spec.to_addr = "jürgen@example.org";
	CHECK(mime_build(&spec, &m, &len, &e) != 0);
	CHECK_CONTAINS(e.text, "SMTPUTF8");

	spec.to_addr = "bob@example.org";
	spec.from = "Evil\r\n <pki@example.org>";
	CHECK(mime_build(&spec, &m, &len, &e) != 0);

	spec.from = "pki@example.org";
	spec.message_id = "no-brackets";
	CHECK(mime_build(&spec, &m, &len, &e) != 0);
	CHECK_CONTAINS(e.text, "Message-ID");
	spec.message_id = NULL;

	{
		struct mail_attachment bad = { "a\"b.p12", "application/pkcs12",
			(const unsigned char *)"x", 1 };

		spec.attachments = &bad;
		spec.n_attachments = 1;
		CHECK(mime_build(&spec, &m, &len, &e) != 0);
		CHECK_CONTAINS(e.text, "attachment file name");
	}
	CHECK(m == NULL);
}

static void
test_addresses(void)
{
	static const struct {
		const char *addr;
		bool ok;
	} table[] = {
		{ "alice@example.org", true },
		{ "first.last+tag@sub.example.co.uk", true },
		{ "a*b@example.org", true },
		{ "o'brien@example.org", true },
		{ "x{y}|z~=?^_`#$%&!/@example.org", true },
		{ "user@localhost", true },
		{ "a*)(uid=*@example.org", false },
		{ "a*)(uid=*", false },
		{ "", false },
		{ "@example.org", false },
		{ "alice@", false },
		{ "alice", false },
		{ "alice@@example.org", false },
		{ "a@b@example.org", false },
		{ ".alice@example.org", false },
		{ "alice.@example.org", false },
		{ "al..ice@example.org", false },
		{ "al ice@example.org", false },
		{ "\"alice\"@example.org", false },
		{ "alice@exa mple.org", false },
		{ "alice@-example.org", false },
		{ "alice@example-.org", false },
		{ "alice@example..org", false },
		{ "alice@example.org.", false },
		{ "alice@[127.0.0.1]", false },
		{ "alice@exa_mple.org", false },
		{ "alice<x>@example.org", false },
		{ "alice@example.org\r\n", false },
		{ "alice\n@example.org", false },
		{ "jürgen@example.org", false },
		{ "alice@bücher.example", false },
		{ "alice(comment)@example.org", false },
		{ "alice,bob@example.org", false },
		{ "alice;@example.org", false },
		{ "alice:@example.org", false },
		{ "alice\\@example.org", false },
		{ "12345678901234567890123456789012345678901234567890123456789012345@x.org",
		    false },
		{ "1234567890123456789012345678901234567890123456789012345678901234@x.org",
		    true },
	};
	struct errbuf e;
	char *name = NULL, *addr = NULL;

	for (size_t i = 0; i < ARRAY_LEN(table); i++) {
		bool got = mail_address_valid(table[i].addr);

		if (got != table[i].ok)
			fprintf(stderr, "address \"%s\": got %d\n", table[i].addr, got);
		CHECK(got == table[i].ok);
		CHECK((mail_address_check(table[i].addr, &e) == 0) == table[i].ok);
	}

	CHECK_INTEQ(mail_parse_mailbox("Example PKI <pki@example.org>", &name, &addr, &e), 0);
	CHECK_STREQ(name, "Example PKI");
	CHECK_STREQ(addr, "pki@example.org");
	free(name);
	free(addr);
	CHECK_INTEQ(mail_parse_mailbox("  pki@example.org ", &name, &addr, &e), 0);
	CHECK(name == NULL);
	CHECK_STREQ(addr, "pki@example.org");
	free(addr);
	CHECK_INTEQ(mail_parse_mailbox("\"PKI, \\\"Example\\\"\" <pki@example.org>", &name, &addr,
	    &e), 0);
	CHECK_STREQ(name, "PKI, \"Example\"");
	free(name);
	free(addr);
	CHECK_INTEQ(mail_parse_mailbox("<pki@example.org>", &name, &addr, &e), 0);
	CHECK(name == NULL);
	free(addr);
	CHECK(mail_parse_mailbox("PKI <pki@example.org", &name, &addr, &e) != 0);
	CHECK(mail_parse_mailbox("PKI <pki@example.org> x", &name, &addr, &e) != 0);
	CHECK(mail_parse_mailbox("PKI <pki(x)@example.org>", &name, &addr, &e) != 0);
	CHECK(mail_parse_mailbox("PKI\n <pki@example.org>", &name, &addr, &e) != 0);
	CHECK(name == NULL && addr == NULL);
}

static void
test_phrase(void)
{
	struct errbuf e;
	char *out = NULL;
	bool short_words;
	char *dec;

	CHECK_INTEQ(mime_encode_phrase("Alice Example", &out, &e), 0);
	CHECK_STREQ(out, "Alice Example");
	free(out);
	CHECK_INTEQ(mime_encode_phrase("Example, Alice (IT)", &out, &e), 0);
	CHECK_STREQ(out, "\"Example, Alice (IT)\"");
	free(out);
	CHECK_INTEQ(mime_encode_phrase("O\"Brien \\ Co", &out, &e), 0);
	CHECK_STREQ(out, "\"O\\\"Brien \\\\ Co\"");
	free(out);
	/*
	 * Encoded-word tricks (issue #9): a name that is itself an encoded
	 * word, or hides one, is encoded so that a client decodes it back to
	 * the literal text, never to what the word contains.
	 */
	{
		static const char *const tricks[] = { "=?UTF-8?B?QQ==?=",
			"=?UTF-8?B?Q0VPIDxjZW9AZXhhbXBsZS5vcmc+?=",
			"Bob =?ISO-8859-1?Q?=3Cceo=40example=2Eorg=3E?=",
			"\"=?utf-8?q?x?=\" <y@z>", "a=?b", NULL };

		for (size_t i = 0; tricks[i] != NULL; i++) {
			CHECK_INTEQ(mime_encode_phrase(tricks[i], &out, &e), 0);
			CHECK(strncmp(out, "=?UTF-8?B?", 10) == 0);
			dec = decode_words(out, &short_words);
			CHECK_STREQ(dec, tricks[i]);
			free(dec);
			free(out);
		}
	}
	/* A huge token cannot be folded: it is encoded in short words. */
	{
		char *huge = xmalloc(5001);

		memset(huge, 'x', 5000);
		huge[5000] = '\0';
		CHECK_INTEQ(mime_encode_phrase(huge, &out, &e), 0);
		dec = decode_words(out, &short_words);
		CHECK(short_words);
		CHECK_STREQ(dec, huge);
		free(dec);
		free(out);
		free(huge);
	}
	CHECK_INTEQ(mime_encode_phrase(long_name, &out, &e), 0);
	dec = decode_words(out, &short_words);
	CHECK(short_words);
	CHECK_STREQ(dec, long_name);
	free(dec);
	free(out);
	/* Split between characters only: 40 two-byte characters. */
	{
		char s[81];

		for (int i = 0; i < 40; i++)
			memcpy(s + 2 * i, "\xc3\xa4", 2);
		s[80] = '\0';
		CHECK_INTEQ(mime_encode_phrase(s, &out, &e), 0);
		dec = decode_words(out, &short_words);
		CHECK_STREQ(dec, s);
		free(dec);
		free(out);
	}
	CHECK(mime_encode_phrase("a\rb", &out, &e) != 0);
	CHECK(mime_encode_phrase("\xff", &out, &e) != 0);
	/* Invalid UTF-8 of every kind, and DEL, never reach a header. */
	CHECK(mime_encode_phrase("over\xc0\xaflong", &out, &e) != 0);
	CHECK(mime_encode_phrase("surrogate \xed\xa0\x80", &out, &e) != 0);
	CHECK(mime_encode_phrase("cut \xc3", &out, &e) != 0);
	CHECK(mime_encode_phrase("beyond \xf4\x90\x80\x80", &out, &e) != 0);
	CHECK(mime_encode_phrase("del\x7f", &out, &e) != 0);
	CHECK(mime_encode_phrase("tab\tname", &out, &e) != 0);
	CHECK(out == NULL);
}

static void
test_backoff(void)
{
	CHECK_INTEQ(mail_retry_delay(0), 60);
	CHECK_INTEQ(mail_retry_delay(1), 60);
	CHECK_INTEQ(mail_retry_delay(2), 120);
	CHECK_INTEQ(mail_retry_delay(3), 240);
	CHECK_INTEQ(mail_retry_delay(9), 15360);
	CHECK_INTEQ(mail_retry_delay(10), 21600);
	CHECK_INTEQ(mail_retry_delay(1000), 21600);
	CHECK_STREQ(mail_outcome_name(MAIL_SENT), "sent");
	CHECK_STREQ(mail_outcome_name(MAIL_RETRY), "retry");
	CHECK_STREQ(mail_outcome_name(MAIL_FAILED), "failed");
}

int
main(void)
{
	test_full_message();
	test_plain_and_errors();
	test_addresses();
	test_phrase();
	test_backoff();
	return check_finish();
}
