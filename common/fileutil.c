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

int
file_read_all(const char *path, size_t max, char **out, size_t *len_out, struct errbuf *e)
{
	struct buf b;
	char chunk[8192];
	ssize_t n;
	int fd = -1;
	int rc = -1;

	buf_init(&b, max);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err_set(e, "%s: cannot open: %s", path, strerror(errno));
		goto out;
	}
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
	if (fd >= 0)
		close(fd);
	if (b.data != NULL) {
		OPENSSL_cleanse(b.data, b.cap);
		buf_free(&b);
	}
	return rc;
}

/*
 * stat() path and refuse it unless it is of the wanted kind and closed to
 * group and others. what names it in messages; fix is the chmod mode.
 */
static int
check_private(const char *path, bool want_dir, const char *what, const char *fix,
    struct errbuf *e)
{
	struct stat st;

	if (stat(path, &st) != 0) {
		err_set(e, "%s: cannot read %s: %s", path, what, strerror(errno));
		return -1;
	}
	if (want_dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)) {
		err_set(e, "%s: %s is not a %s", path, what, want_dir ? "directory" : "regular file");
		return -1;
	}
	if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		err_set(e, "%s: %s is accessible by group or others (mode %04o); run: chmod %s %s",
		    path, what, (unsigned)(st.st_mode & 07777), fix, path);
		return -1;
	}
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
	if (file_check_secret(path, e) != 0)
		return -1;
	return file_read_all(path, max, out, len_out, e);
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

int
file_write_atomic(const char *path, const void *data, size_t len, mode_t mode, struct errbuf *e)
{
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	const char *p = data;
	size_t left = len;
	int fd = -1;
	int rc = -1;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0) {
		err_set(e, "%s: cannot create: %s", tmp, strerror(errno));
		goto out;
	}
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
	if (rename(tmp, path) != 0) {
		err_set(e, "%s: cannot rename into place: %s", path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (rc != 0)
		unlink(tmp);
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
