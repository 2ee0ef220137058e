/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "common/buf.h"
#include "common/fileutil.h"
#include "common/xalloc.h"

/* Read fd to its end into a new NUL-terminated buffer; path names it in messages. */
static int
read_fd_all(int fd, const char *path, size_t max, char **out, size_t *len_out, struct errbuf *e)
{
	struct buf b;
	char chunk[8192];
	ssize_t n;
	int rc = -1;

	buf_init(&b, max);
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err_set(e, "%s: cannot read: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if (buf_append(&b, chunk, (size_t)n) != 0) {
			err_set(e, "%s: file is larger than the limit of %zu bytes", path, max);
			goto out;
		}
	}
	*out = buf_steal(&b, len_out);
	rc = 0;
out:
	OPENSSL_cleanse(chunk, sizeof(chunk));
	if (b.data != NULL) {
		OPENSSL_cleanse(b.data, b.cap);
		buf_free(&b);
	}
	return rc;
}

int
file_read_all(const char *path, size_t max, char **out, size_t *len_out, struct errbuf *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc;

	if (fd < 0) {
		err_set(e, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	rc = read_fd_all(fd, path, max, out, len_out, e);
	close(fd);
	return rc;
}

/*
 * Who may own a secret or the state directory: the user we run as, or root.
 * Root can read every file anyway, so a root-owned 0600 file (an admin's
 * keys under /etc, a systemd credential) adds nobody who could not already
 * read it. Any other owner could rewrite or swap the file under us.
 */
static bool
owner_ok(uid_t owner)
{
	return owner == geteuid() || owner == 0;
}

/*
 * Open path without following a symbolic link in its last component, then
 * judge the descriptor (fstat), never the name: what we check is what we
 * read, whatever happens to the name in between. Refuse it unless it is of
 * the wanted kind, owned by us or root, and closed to group and others.
 * what names it in messages; fix is the chmod mode. On success *fd_out is a
 * new descriptor (close it).
 */
static int
open_private(const char *path, bool want_dir, const char *what, const char *fix, int *fd_out,
    struct errbuf *e)
{
	struct stat st;
	int flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY;
	int fd = -1;

	/* O_NONBLOCK: a FIFO planted at the path must not hang us in open(). */
	fd = open(path, flags | (want_dir ? O_DIRECTORY : O_NONBLOCK));
	if (fd < 0) {
		struct stat lst;

		/* O_DIRECTORY|O_NOFOLLOW on a link says ENOTDIR; lstat only words it. */
		if (errno == ELOOP || (errno == ENOTDIR && want_dir && lstat(path, &lst) == 0 &&
		    S_ISLNK(lst.st_mode)))
			err_set(e, "%s: %s is a symbolic link; refusing to follow it (name "
			    "the real file: %s = $(readlink -f %s))", path, what,
			    want_dir ? "state_dir" : "the option", path);
		else if (errno == ENOTDIR && want_dir)
			err_set(e, "%s: %s is not a directory", path, what);
		else
			err_set(e, "%s: cannot read %s: %s", path, what, strerror(errno));
		goto fail;
	}
	if (fstat(fd, &st) != 0) {
		err_set(e, "%s: cannot read %s: %s", path, what, strerror(errno));
		goto fail;
	}
	if (want_dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)) {
		err_set(e, "%s: %s is not a %s", path, what, want_dir ? "directory" : "regular file");
		goto fail;
	}
	if (!owner_ok(st.st_uid)) {
		err_set(e, "%s: %s is owned by uid %ld, not by the user smimesync runs as "
		    "(uid %ld) or root; run: chown %ld %s", path, what, (long)st.st_uid,
		    (long)geteuid(), (long)geteuid(), path);
		goto fail;
	}
	if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		err_set(e, "%s: %s is accessible by group or others (mode %04o); run: chmod %s %s",
		    path, what, (unsigned)(st.st_mode & 07777), fix, path);
		goto fail;
	}
	if (!want_dir) {
		/* Reads block as usual from here on. */
		int fl = fcntl(fd, F_GETFL);

		if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0) {
			err_set(e, "%s: cannot read %s: %s", path, what, strerror(errno));
			goto fail;
		}
	}
	*fd_out = fd;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	return -1;
}

static int
check_private(const char *path, bool want_dir, const char *what, const char *fix,
    struct errbuf *e)
{
	int fd = -1;

	if (open_private(path, want_dir, what, fix, &fd, e) != 0)
		return -1;
	close(fd);
	return 0;
}

int
file_check_secret(const char *path, struct errbuf *e)
{
	return check_private(path, false, "secret file", "600", e);
}

int
file_reserve(const char *path, off_t bytes, struct errbuf *e)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	int err;

	if (fd < 0) {
		err_set(e, "%s: cannot create: %s", path, strerror(errno));
		return -1;
	}
	/* posix_fallocate returns the error instead of setting errno. */
	err = posix_fallocate(fd, 0, bytes);
	if (err == 0 && fsync(fd) != 0)
		err = errno;
	close(fd);
	if (err != 0) {
		unlink(path);
		err_set(e, "%s: cannot set aside %lld bytes: %s", path, (long long)bytes,
		    strerror(err));
		return -1;
	}
	return 0;
}

int
file_check_private_dir(const char *path, struct errbuf *e)
{
	/* It holds the store with the sealed keys, and by default the master key. */
	return check_private(path, true, "state directory", "700", e);
}

int
file_read_secret(const char *path, size_t max, char **out, size_t *len_out, struct errbuf *e)
{
	int fd = -1;
	int rc;

	/* One descriptor for the check and the read: no gap to swap the file in. */
	if (open_private(path, false, "secret file", "600", &fd, e) != 0)
		return -1;
	rc = read_fd_all(fd, path, max, out, len_out, e);
	close(fd);
	return rc;
}

int
file_read_password(const char *path, char **out, struct errbuf *e)
{
	char *s = NULL;
	size_t len = 0;

	if (file_read_secret(path, 4096, &s, &len, e) != 0)
		return -1;
	while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r'))
		s[--len] = '\0';
	if (len == 0 || memchr(s, '\0', len) != NULL) {
		secret_free(s, len);
		err_set(e, "%s: password file is empty or holds a NUL byte", path);
		return -1;
	}
	*out = s;
	return 0;
}

/* fsync the directory that holds path, so that a rename in it is durable. */
static void
sync_parent_dir(const char *path)
{
	char *copy = xstrdup(path);
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
	free(copy);
}

/*
 * Write data to a new temporary beside path: a random name created with
 * O_EXCL (mkostemp), so a symbolic link or file planted there is never
 * opened, only refused; the final mode is set before the first byte, so a
 * secret is never readable by others, not even for a moment. *tmp_out is
 * new (free it); on failure the temporary is gone.
 */
static int
write_temp(const char *path, const void *data, size_t len, mode_t mode, char **tmp_out,
    struct errbuf *e)
{
	char *copy = xstrdup(path);
	char *tmp = NULL;
	const char *p = data;
	size_t left = len;
	bool created = false;
	int fd = -1;
	int rc = -1;

	/* Hidden, in the same directory: rename() stays on one file system. */
	{
		char *slash = strrchr(copy, '/');

		if (slash == NULL)
			tmp = xasprintf(".%s.tmp.XXXXXX", copy);
		else {
			*slash = '\0';
			tmp = xasprintf("%s/.%s.tmp.XXXXXX", slash == copy ? "" : copy, slash + 1);
		}
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		err_set(e, "%s: cannot create a temporary file beside it: %s", path,
		    strerror(errno));
		goto out;
	}
	created = true;
	if (fchmod(fd, mode) != 0) {
		err_set(e, "%s: cannot set mode: %s", tmp, strerror(errno));
		goto out;
	}
	while (left > 0) {
		ssize_t n = write(fd, p, left);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			err_set(e, "%s: cannot write: %s", tmp, strerror(errno));
			goto out;
		}
		p += n;
		left -= (size_t)n;
	}
	if (fsync(fd) != 0) {
		err_set(e, "%s: cannot sync to disk: %s", tmp, strerror(errno));
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		err_set(e, "%s: cannot close: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	*tmp_out = tmp;
	tmp = NULL;
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (rc != 0 && created)
		unlink(tmp);
	free(tmp);
	free(copy);
	return rc;
}

int
file_write_atomic(const char *path, const void *data, size_t len, mode_t mode, struct errbuf *e)
{
	char *tmp = NULL;
	int rc = -1;

	if (write_temp(path, data, len, mode, &tmp, e) != 0)
		goto out;
	/* rename() replaces a symbolic link at path itself; it never follows it. */
	if (rename(tmp, path) != 0) {
		err_set(e, "%s: cannot rename into place: %s", path, strerror(errno));
		unlink(tmp);
		goto out;
	}
	sync_parent_dir(path);
	rc = 0;
out:
	free(tmp);
	return rc;
}

int
file_create_atomic(const char *path, const void *data, size_t len, mode_t mode,
    struct errbuf *e)
{
	char *tmp = NULL;
	int rc = -1;

	if (write_temp(path, data, len, mode, &tmp, e) != 0)
		goto out;
	/* link() fails with EEXIST on any name there, a dangling symlink included. */
	if (link(tmp, path) != 0) {
		if (errno == EEXIST)
			err_set(e, "%s: already exists; refusing to replace it", path);
		else
			err_set(e, "%s: cannot create: %s", path, strerror(errno));
		unlink(tmp);
		goto out;
	}
	unlink(tmp);
	sync_parent_dir(path);
	rc = 0;
out:
	free(tmp);
	return rc;
}

int
file_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

int
mkdir_p(const char *path, mode_t mode, struct errbuf *e)
{
	char *copy = xstrdup(path);
	char *p;
	int rc = -1;

	for (p = copy + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, 0755) != 0 && errno != EEXIST) {
			err_set(e, "%s: cannot create directory: %s", copy, strerror(errno));
			goto out;
		}
		*p = '/';
	}
	if (mkdir(copy, mode) != 0 && errno != EEXIST) {
		err_set(e, "%s: cannot create directory: %s", copy, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	free(copy);
	return rc;
}

void
secret_free(void *p, size_t len)
{
	if (p == NULL)
		return;
	OPENSSL_cleanse(p, len);
	free(p);
}

void
secret_free_str(char *s)
{
	if (s != NULL)
		secret_free(s, strlen(s));
}

int
file_replace_durably(const char *from, const char *to, struct errbuf *e)
{
	char *dir = xstrdup(to);
	char *slash = strrchr(dir, '/');
	int fd;

	if (rename(from, to) != 0) {
		err_set(e, "cannot rename %s to %s: %s", from, to, strerror(errno));
		free(dir);
		return -1;
	}
	if (slash == NULL)
		dir[0] = '.', dir[1] = '\0';
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
	free(dir);
	return 0;
}
