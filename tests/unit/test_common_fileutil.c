/* SPDX-License-Identifier: ISC */
/*
 * Secret files and atomic writes (common/fileutil.c), tried as an attacker
 * with write access to a directory on the way would: a symbolic link where
 * a secret is expected, a file owned by someone else, a FIFO that would
 * hang the reader, a link planted where the temporary or the target goes;
 * and as a crash would: the writer killed in the middle of a write.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
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
#include "tests/unit/check.h"

static char *dir;

static char *
at(const char *name)
{
	return xasprintf("%s/%s", dir, name);
}

static void
put(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0 || chmod(path, mode) != 0) {
		perror(path);
		exit(1);
	}
}

static char *
slurp(const char *path)
{
	struct errbuf e;
	char *s = NULL;
	size_t len = 0;

	if (file_read_all(path, 1 << 24, &s, &len, &e) != 0)
		return NULL;
	return s;
}

static void
test_secret_reads(void)
{
	char *secret = at("secret"), *link = at("secret-link"), *fifo = at("fifo");
	char *loose = at("loose"), *sdir = at("state"), *sdir_link = at("state-link");
	char *s = NULL;
	size_t len = 0;
	struct errbuf e;

	put(secret, "hunter2\n", 0600);
	CHECK_INTEQ(file_read_password(secret, &s, &e), 0);
	CHECK_STREQ(s, "hunter2");
	secret_free_str(s);
	s = NULL;

	/* A symbolic link to a perfectly good secret is refused, not followed. */
	CHECK_INTEQ(symlink(secret, link), 0);
	CHECK(file_read_password(link, &s, &e) != 0);
	CHECK_CONTAINS(e.text, "secret-link: secret file is a symbolic link; refusing to follow it");
	CHECK(file_read_secret(link, 4096, &s, &len, &e) != 0);
	CHECK(file_check_secret(link, &e) != 0);
	CHECK_CONTAINS(e.text, "is a symbolic link");

	/* Loose modes, as before. */
	put(loose, "x\n", 0640);
	CHECK(file_read_password(loose, &s, &e) != 0);
	CHECK_CONTAINS(e.text, "accessible by group or others (mode 0640); run: chmod 600");

	/* A FIFO must not hang the reader (a writer-less FIFO blocks open()). */
	CHECK_INTEQ(mkfifo(fifo, 0600), 0);
	CHECK(file_read_password(fifo, &s, &e) != 0);
	CHECK_CONTAINS(e.text, "secret file is not a regular file");

	/* Owned by another user: refused; by us or root: fine. */
	if (geteuid() == 0) {
		CHECK_INTEQ(chown(secret, 65534, 65534), 0);
		CHECK(file_read_password(secret, &s, &e) != 0);
		CHECK_CONTAINS(e.text, "secret file is owned by uid 65534, not by the user "
		    "smimesync runs as (uid 0) or root; run: chown 0");
		CHECK(file_check_secret(secret, &e) != 0);
		CHECK_INTEQ(chown(secret, 0, 0), 0);
		CHECK_INTEQ(file_check_secret(secret, &e), 0);
	} else {
		fprintf(stderr, "not root: the foreign-owner case needs chown, skipped\n");
	}

	/* The state directory: a symlink, a foreign owner, loose modes. */
	CHECK_INTEQ(mkdir(sdir, 0700), 0);
	CHECK_INTEQ(file_check_private_dir(sdir, &e), 0);
	CHECK_INTEQ(symlink(sdir, sdir_link), 0);
	CHECK(file_check_private_dir(sdir_link, &e) != 0);
	CHECK_CONTAINS(e.text, "state directory is a symbolic link");
	CHECK(file_check_private_dir(secret, &e) != 0);
	CHECK_CONTAINS(e.text, "state directory is not a directory");
	if (geteuid() == 0) {
		CHECK_INTEQ(chown(sdir, 65534, 65534), 0);
		CHECK(file_check_private_dir(sdir, &e) != 0);
		CHECK_CONTAINS(e.text, "owned by uid 65534");
		CHECK_INTEQ(chown(sdir, 0, 0), 0);
	}
	CHECK_INTEQ(chmod(sdir, 0750), 0);
	CHECK(file_check_private_dir(sdir, &e) != 0);
	CHECK_CONTAINS(e.text, "run: chmod 700");

	free(secret);
	free(link);
	free(fifo);
	free(loose);
	free(sdir);
	free(sdir_link);
}

static void
test_atomic_writes(void)
{
	char *target = at("out.pem"), *victim = at("victim"), *planted = NULL;
	char *tlink = at("linked.pem"), *newf = at("new.key");
	char *got = NULL;
	struct stat st;
	struct errbuf e;

	put(victim, "precious\n", 0644);
	put(target, "old\n", 0644);

	/*
	 * A link planted where the temporary used to go (a name anyone could
	 * predict: target.tmp.<pid>) neither redirects nor stops the write.
	 */
	planted = xasprintf("%s.tmp.%ld", target, (long)getpid());
	CHECK_INTEQ(symlink(victim, planted), 0);
	CHECK_INTEQ(file_write_atomic(target, "new\n", 4, 0600, &e), 0);
	got = slurp(target);
	CHECK_STREQ(got, "new\n");
	free(got);
	got = slurp(victim);
	CHECK_STREQ(got, "precious\n");
	free(got);
	/* The final mode, whatever the old file's was. */
	CHECK(stat(target, &st) == 0 && (st.st_mode & 07777) == 0600);

	/* A link at the target is replaced by the file, never written through. */
	CHECK_INTEQ(symlink(victim, tlink), 0);
	CHECK_INTEQ(file_write_atomic(tlink, "mine\n", 5, 0644, &e), 0);
	CHECK(lstat(tlink, &st) == 0 && S_ISREG(st.st_mode));
	got = slurp(victim);
	CHECK_STREQ(got, "precious\n");
	free(got);

	/* Create-only: never replaces a file, nor a link (even a dangling one). */
	CHECK_INTEQ(file_create_atomic(newf, "k\n", 2, 0600, &e), 0);
	CHECK(stat(newf, &st) == 0 && (st.st_mode & 07777) == 0600);
	CHECK(file_create_atomic(newf, "j\n", 2, 0600, &e) != 0);
	CHECK_CONTAINS(e.text, "already exists; refusing to replace it");
	got = slurp(newf);
	CHECK_STREQ(got, "k\n");
	free(got);
	CHECK_INTEQ(unlink(tlink), 0);
	CHECK_INTEQ(symlink("/nonexistent/smimesync-test", tlink), 0);
	CHECK(file_create_atomic(tlink, "j\n", 2, 0600, &e) != 0);
	CHECK_CONTAINS(e.text, "already exists");

	/* No temporary is left behind by a write that succeeded or failed. */
	{
		char *cmd = xasprintf("ls -A '%s' | grep -c '^\\..*\\.tmp\\.' >/dev/null", dir);

		CHECK(system(cmd) != 0);
		free(cmd);
	}

	free(target);
	free(victim);
	free(planted);
	free(tlink);
	free(newf);
}

/*
 * The writer dies in the middle (the file size limit kills it with
 * SIGXFSZ after 4 KiB of a 1 MiB write): the old file is whole.
 */
static void
test_crash_mid_write(void)
{
	char *target = at("report.html");
	size_t big = 1 << 20;
	char *data = xmalloc(big);
	char *got = NULL;
	int status = 0;
	pid_t pid;

	memset(data, 'n', big);
	put(target, "the old report\n", 0644);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		struct rlimit rl = { 4096, 4096 };
		struct errbuf e;

		signal(SIGXFSZ, SIG_DFL);
		setrlimit(RLIMIT_FSIZE, &rl);
		(void)!file_write_atomic(target, data, big, 0644, &e);
		_exit(0);
	}
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGXFSZ);
	got = slurp(target);
	CHECK_STREQ(got, "the old report\n");
	free(got);
	free(data);
	free(target);
}

int
main(void)
{
	char tmpl[] = "/tmp/smimesync-fileutil-XXXXXX";
	char *cmd;

	if (mkdtemp(tmpl) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	dir = tmpl;
	test_secret_reads();
	test_atomic_writes();
	test_crash_mid_write();
	cmd = xasprintf("rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	free(cmd);
	return check_finish();
}
