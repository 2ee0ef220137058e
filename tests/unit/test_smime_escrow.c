/* SPDX-License-Identifier: ISC */
/*
 * Sealing under the master key, the master key file, and PKCS#12
 * passwords.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fileutil.h"
#include "common/xalloc.h"
#include "smime/escrow.h"
#include "smime/pkcs12.h"
#include "tests/unit/check.h"

#define DECRYPT_MSG "cannot decrypt: the master key does not match the store or the data was altered"
#define ALPHABET "abcdefghijkmnpqrstuvwxyz23456789"

static char *tmpdir;

static int
write_file(const char *path, const char *text, mode_t mode)
{
	struct errbuf e;

	return file_write_atomic(path, text, strlen(text), mode, &e);
}

static void
test_master_key(struct master_key *k1, struct master_key *k2)
{
	struct errbuf e;
	char *p1 = xasprintf("%s/master1.key", tmpdir);
	char *p2 = xasprintf("%s/master2.key", tmpdir);
	char *bad = xasprintf("%s/bad.key", tmpdir);
	struct stat st;
	struct master_key k;

	CHECK_INTEQ(master_key_create(p1, NULL, &e), 0);
	CHECK_INTEQ(stat(p1, &st), 0);
	CHECK_INTEQ(st.st_mode & 07777, 0600);
	CHECK_INTEQ(st.st_size, 65); /* 64 hex digits and a newline */
	CHECK(master_key_create(p1, NULL, &e) != 0);
	CHECK_CONTAINS(e.text, "already exists");
	CHECK_INTEQ(master_key_load(p1, NULL, k1, &e), 0);
	CHECK_INTEQ(master_key_create(p2, NULL, &e), 0);
	CHECK_INTEQ(master_key_load(p2, NULL, k2, &e), 0);
	CHECK(memcmp(k1->bytes, k2->bytes, MASTER_KEY_LEN) != 0);

	/* A known value, without a trailing newline. */
	CHECK_INTEQ(write_file(bad, "000102030405060708090a0b0c0d0e0f"
	    "101112131415161718191A1B1C1D1E1F", 0600), 0);
	CHECK_INTEQ(master_key_load(bad, NULL, &k, &e), 0);
	CHECK(k.bytes[0] == 0x00 && k.bytes[10] == 0x0a && k.bytes[31] == 0x1f);
	master_key_wipe(&k);
	CHECK(k.bytes[31] == 0);

	/* Loose mode refused with the fix in the message. */
	CHECK_INTEQ(chmod(p1, 0640), 0);
	CHECK(master_key_load(p1, NULL, &k, &e) != 0);
	CHECK_CONTAINS(e.text, "chmod 600");
	CHECK_INTEQ(chmod(p1, 0600), 0);

	/* Wrong length, not hex, missing. */
	CHECK_INTEQ(unlink(bad), 0);
	CHECK_INTEQ(write_file(bad, "abcd\n", 0600), 0);
	CHECK(master_key_load(bad, NULL, &k, &e) != 0);
	CHECK_CONTAINS(e.text, "64 hex digits");
	CHECK_INTEQ(unlink(bad), 0);
	CHECK_INTEQ(write_file(bad, "zz0102030405060708090a0b0c0d0e0f"
	    "101112131415161718191a1b1c1d1e1f\n", 0600), 0);
	CHECK(master_key_load(bad, NULL, &k, &e) != 0);
	CHECK_CONTAINS(e.text, "not a hex digit");
	CHECK_INTEQ(unlink(bad), 0);
	CHECK(master_key_load(bad, NULL, &k, &e) != 0);
	CHECK_CONTAINS(e.text, bad);

	free(p1);
	free(p2);
	free(bad);
}

/*
 * Killed while writing a new master key (the file size limit stops it after
 * 10 bytes with SIGXFSZ): no half key is left at the path, which would make
 * every later start fail and ca init refuse to make a new one.
 */
static void
test_master_key_crash(void)
{
	char *p = xasprintf("%s/crashed.key", tmpdir);
	struct master_key k;
	struct errbuf e;
	int status = 0;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		struct rlimit rl = { 10, 10 };

		signal(SIGXFSZ, SIG_DFL);
		setrlimit(RLIMIT_FSIZE, &rl);
		(void)!master_key_create(p, NULL, &e);
		_exit(0);
	}
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGXFSZ);
	CHECK(access(p, F_OK) != 0);
	/* And the next attempt makes a whole one. */
	CHECK_INTEQ(master_key_create(p, NULL, &e), 0);
	CHECK_INTEQ(master_key_load(p, NULL, &k, &e), 0);
	master_key_wipe(&k);
	free(p);
}

static void
test_seal(const struct master_key *k1, const struct master_key *k2)
{
	struct errbuf e;
	const char *secret = "-----BEGIN PRIVATE KEY----- not really";
	unsigned char *sealed = NULL;
	unsigned char *sealed2 = NULL;
	unsigned char *plain = NULL;
	size_t slen = 0;
	size_t slen2 = 0;
	size_t plen = 0;

	CHECK_INTEQ(escrow_seal(k1, "key:cert=42", (const unsigned char *)secret, strlen(secret),
	    &sealed, &slen, &e), 0);
	CHECK_INTEQ(slen, 3 + 12 + strlen(secret) + 16);
	CHECK(sealed != NULL && memcmp(sealed, "SS1", 3) == 0);
	CHECK(memmem(sealed, slen, "PRIVATE", 7) == NULL);

	/* Round trip. */
	CHECK_INTEQ(escrow_open(k1, "key:cert=42", sealed, slen, &plain, &plen, &e), 0);
	CHECK(plain != NULL && plen == strlen(secret) && memcmp(plain, secret, plen) == 0);
	secret_free(plain, plen);
	plain = NULL;

	/* Fresh nonce: sealing the same data twice differs. */
	CHECK_INTEQ(escrow_seal(k1, "key:cert=42", (const unsigned char *)secret, strlen(secret),
	    &sealed2, &slen2, &e), 0);
	CHECK(slen2 == slen && memcmp(sealed, sealed2, slen) != 0);
	free(sealed2);

	/* Wrong AAD, other key, every flipped region. */
	CHECK(escrow_open(k1, "key:cert=43", sealed, slen, &plain, &plen, &e) != 0);
	CHECK_STREQ(e.text, DECRYPT_MSG);
	CHECK(plain == NULL);
	CHECK(escrow_open(k2, "key:cert=42", sealed, slen, &plain, &plen, &e) != 0);
	CHECK_STREQ(e.text, DECRYPT_MSG);
	{
		size_t where[] = { 3, 3 + 11, 3 + 12, slen - 17, slen - 1 };

		for (size_t i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
			sealed[where[i]] ^= 0x01;
			CHECK(escrow_open(k1, "key:cert=42", sealed, slen, &plain, &plen, &e) != 0);
			CHECK_STREQ(e.text, DECRYPT_MSG);
			sealed[where[i]] ^= 0x01;
		}
	}
	/* Truncated and bad magic. */
	CHECK(escrow_open(k1, "key:cert=42", sealed, slen - 1, &plain, &plen, &e) != 0);
	CHECK(escrow_open(k1, "key:cert=42", sealed, 10, &plain, &plen, &e) != 0);
	sealed[0] = 'X';
	CHECK(escrow_open(k1, "key:cert=42", sealed, slen, &plain, &plen, &e) != 0);
	CHECK_CONTAINS(e.text, "SS1");
	free(sealed);

	/* Empty plaintext works too. */
	CHECK_INTEQ(escrow_seal(k1, "mail:7", (const unsigned char *)"", 0, &sealed, &slen, &e), 0);
	CHECK_INTEQ(slen, 31);
	CHECK_INTEQ(escrow_open(k1, "mail:7", sealed, slen, &plain, &plen, &e), 0);
	CHECK_INTEQ(plen, 0);
	secret_free(plain, 1);
	free(sealed);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
test_passwords(void)
{
	enum { N = 1000 };
	char *pw[N];
	int counts[32] = { 0 };
	int dup = 0;
	int shape_ok = 1;

	for (int i = 0; i < N; i++) {
		pw[i] = password_generate();
		if (strlen(pw[i]) != 29) {
			shape_ok = 0;
			continue;
		}
		for (int j = 0; j < 29; j++) {
			const char *at;

			if (j % 5 == 4) {
				shape_ok &= pw[i][j] == '-';
				continue;
			}
			at = strchr(ALPHABET, pw[i][j]);
			if (at == NULL || pw[i][j] == '\0')
				shape_ok = 0;
			else
				counts[at - ALPHABET]++;
		}
	}
	CHECK(shape_ok);
	CHECK_INTEQ(strlen(ALPHABET), 32);
	CHECK(strpbrk(ALPHABET, "01lIoO") == NULL);
	qsort(pw, N, sizeof(pw[0]), cmp_str);
	for (int i = 1; i < N; i++)
		dup += strcmp(pw[i - 1], pw[i]) == 0;
	CHECK_INTEQ(dup, 0);
	/*
	 * 24000 symbols, 750 expected per symbol (sd ~27): every symbol is
	 * used, and none wildly over- or under-used (a bias check that a
	 * correct generator fails with negligible probability).
	 */
	for (int s = 0; s < 32; s++)
		CHECK(counts[s] > 550 && counts[s] < 950);
	for (int i = 0; i < N; i++)
		secret_free_str(pw[i]);
}

int
main(void)
{
	char tmpl[] = "/tmp/smime-escrow-test-XXXXXX";
	struct master_key k1;
	struct master_key k2;
	char *cmd;

	if (mkdtemp(tmpl) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	tmpdir = tmpl;
	test_master_key(&k1, &k2);
	test_master_key_crash();
	test_seal(&k1, &k2);
	test_passwords();
	master_key_wipe(&k1);
	master_key_wipe(&k2);
	cmd = xasprintf("rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	free(cmd);
	return check_finish();
}
