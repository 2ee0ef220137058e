/* SPDX-License-Identifier: ISC */
/* The hash-chained signing log (signer/signlog.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "common/fileutil.h"
#include "common/log.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "signer/signlog.h"
#include "smime/signer_proto.h"

#define CHUNK 65536
#define PREV_MISMATCH "prev mismatch"

struct signlog {
	char *path;
	int fd;
	dev_t dev;
	ino_t ino;
	off_t done;                 /* bytes of whole lines applied */
	uint64_t lines;
	unsigned char (*hashes)[SHA256_DIGEST_LENGTH]; /* of every line, for signlog_check() */
	size_t cap;
	char *broken;
	bool locked;
	bool quiet;                 /* verify-log: messages go to its output, not the log */
	signlog_apply_fn apply;
	void *arg;
};

static void
hex32(const unsigned char *h, char out[65])
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 0; i < SHA256_DIGEST_LENGTH; i++) {
		out[2 * i] = digits[h[i] >> 4];
		out[2 * i + 1] = digits[h[i] & 15];
	}
	out[64] = '\0';
}

/* The hash line n (1-based) is chained to: that of line n - 1, zeros for line 1. */
static void
prev_hex(const unsigned char (*hashes)[SHA256_DIGEST_LENGTH], uint64_t lines, char out[65])
{
	static const unsigned char zero[SHA256_DIGEST_LENGTH];

	hex32(lines == 0 ? zero : hashes[lines - 1], out);
}

/*
 * Check one line (len bytes, no newline) against the chain so far and
 * return its event (new) and time; NULL with why set when it does not fit.
 */
static json_t *
check_line(const char *line, size_t len, uint64_t lines, const char *want_prev,
    time_t *when, char *why, size_t why_size)
{
	json_error_t jerr;
	json_t *ev = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	json_t *seq, *prev, *time_v, *event;

	if (ev == NULL || !json_is_object(ev)) {
		snprintf(why, why_size, "not a JSON object (%s)", ev == NULL ? jerr.text : "");
		json_decref(ev);
		return NULL;
	}
	seq = json_object_get(ev, "seq");
	prev = json_object_get(ev, "prev");
	time_v = json_object_get(ev, "time");
	event = json_object_get(ev, "event");
	if (!json_is_integer(seq) || json_integer_value(seq) != (json_int_t)(lines + 1)) {
		snprintf(why, why_size, "seq is %lld where %llu belongs: %s",
		    json_is_integer(seq) ? (long long)json_integer_value(seq) : -1LL,
		    (unsigned long long)(lines + 1),
		    json_is_integer(seq) && json_integer_value(seq) > (json_int_t)(lines + 1) ?
		    "the line that was here was removed" : "a line was added or moved here");
		goto bad;
	}
	if (!json_is_string(prev) || strcmp(json_string_value(prev), want_prev) != 0) {
		/* The line before is the one that changed: name it (the caller knows). */
		snprintf(why, why_size, "%s", PREV_MISMATCH);
		goto bad;
	}
	if (!json_is_string(time_v) || parse_time_utc(json_string_value(time_v), when) != 0 ||
	    !json_is_string(event)) {
		snprintf(why, why_size, "no valid time or event");
		goto bad;
	}
	return ev;
bad:
	json_decref(ev);
	return NULL;
}

static void
keep_hash(struct signlog *l, const unsigned char *h)
{
	if (l->lines == l->cap) {
		l->cap = l->cap == 0 ? 1024 : l->cap * 2;
		l->hashes = xrealloc(l->hashes, l->cap * sizeof(*l->hashes));
	}
	memcpy(l->hashes[l->lines], h, SHA256_DIGEST_LENGTH);
	l->lines++;
}

static void
set_broken(struct signlog *l, const char *fmt, ...) PRINTF_LIKE(2, 3);

static void
set_broken(struct signlog *l, const char *fmt, ...)
{
	va_list ap;
	char msg[1024];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	free(l->broken);
	l->broken = xasprintf("the signing log %s cannot be trusted: %s. Nothing is signed until "
	    "an administrator has looked (smimesync-signer verify-log %s)", l->path, msg, l->path);
	if (!l->quiet)
		log_error("%s", l->broken);
}

/* Apply one whole line; false when the chain breaks there. */
static bool
take_line(struct signlog *l, const char *line, size_t len)
{
	unsigned char h[SHA256_DIGEST_LENGTH];
	char prev[65], why[512];
	time_t when = 0;
	json_t *ev;

	if (len > SIGNLOG_LINE_MAX) {
		set_broken(l, "line %llu is longer than any the signer writes",
		    (unsigned long long)(l->lines + 1));
		return false;
	}
	prev_hex(l->hashes, l->lines, prev);
	ev = check_line(line, len, l->lines, prev, &when, why, sizeof(why));
	if (ev == NULL && strcmp(why, PREV_MISMATCH) == 0 && l->lines == 0) {
		set_broken(l, "line 1: does not start a chain (its prev must be 64 zeros): lines "
		    "before it were removed, or it was changed");
		return false;
	}
	if (ev == NULL && strcmp(why, PREV_MISMATCH) == 0) {
		set_broken(l, "line %llu: was changed after it was written (line %llu holds the "
		    "SHA-256 of another text)", (unsigned long long)l->lines,
		    (unsigned long long)(l->lines + 1));
		return false;
	}
	if (ev == NULL) {
		set_broken(l, "line %llu: %s", (unsigned long long)(l->lines + 1), why);
		return false;
	}
	SHA256((const unsigned char *)line, len, h);
	keep_hash(l, h);
	if (l->apply != NULL)
		l->apply(l->arg, ev, l->lines, when);
	json_decref(ev);
	return true;
}

/* Read and apply every whole line after l->done. A torn last line is cut off when locked. */
static int
catch_up(struct signlog *l, struct errbuf *e)
{
	struct stat st, now;
	char *buf = NULL;
	size_t have = 0, cap = 0;
	off_t pos = l->done;

	if (l->broken != NULL)
		return 0;
	if (fstat(l->fd, &st) != 0) {
		err_set(e, "%s: %s", l->path, strerror(errno));
		return -1;
	}
	if (stat(l->path, &now) != 0 || now.st_dev != l->dev || now.st_ino != l->ino) {
		set_broken(l, "the file was removed or replaced while the signer was running");
		return 0;
	}
	if (st.st_size < l->done) {
		set_broken(l, "it became shorter (%lld bytes, %lld known) while the signer was "
		    "running: lines were removed", (long long)st.st_size, (long long)l->done);
		return 0;
	}
	while (pos < st.st_size) {
		ssize_t r;
		size_t start = 0;

		if (cap - have < CHUNK) {
			cap = cap == 0 ? 2 * CHUNK : cap * 2;
			if (cap > SIGNLOG_LINE_MAX * 4)
				cap = have + CHUNK;
			buf = xrealloc(buf, cap);
		}
		r = pread(l->fd, buf + have, cap - have, pos);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err_set(e, "cannot read %s: %s", l->path, strerror(errno));
			free(buf);
			return -1;
		}
		if (r == 0)
			break;
		pos += r;
		have += (size_t)r;
		for (;;) {
			char *nl = memchr(buf + start, '\n', have - start);

			if (nl == NULL)
				break;
			if (!take_line(l, buf + start, (size_t)(nl - (buf + start)))) {
				free(buf);
				return 0;
			}
			l->done += (off_t)(nl - (buf + start)) + 1;
			start = (size_t)(nl - buf) + 1;
		}
		memmove(buf, buf + start, have - start);
		have -= start;
		if (have > SIGNLOG_LINE_MAX) {
			set_broken(l, "line %llu is longer than any the signer writes",
			    (unsigned long long)(l->lines + 1));
			free(buf);
			return 0;
		}
	}
	free(buf);
	if (have > 0 && l->locked) {
		/* A crash between write() and its end: the request that wrote it failed. */
		log_warn("%s: removing a torn last line of %zu bytes, left by a signer that died "
		    "while writing it", l->path, have);
		if (ftruncate(l->fd, l->done) != 0) {
			err_set(e, "cannot cut the torn last line off %s: %s", l->path, strerror(errno));
			return -1;
		}
	}
	return 0;
}

int
signlog_open(const char *state_dir, signlog_apply_fn apply, void *arg, struct signlog **out,
    struct errbuf *e)
{
	struct signlog *l = xcalloc(1, sizeof(*l));
	struct stat st;

	l->fd = -1;
	l->apply = apply;
	l->arg = arg;
	l->path = xasprintf("%s/%s", state_dir, SIGNLOG_FILE);
	if (mkdir_p(state_dir, 0700, e) != 0 || file_check_private_dir(state_dir, e) != 0) {
		err_prefix(e, "the signer's state_dir");
		goto fail;
	}
	l->fd = open(l->path, O_RDWR | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (l->fd < 0 || fstat(l->fd, &st) != 0) {
		err_set(e, "cannot open the signing log %s: %s", l->path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		err_set(e, "the signing log %s is not a regular file", l->path);
		goto fail;
	}
	l->dev = st.st_dev;
	l->ino = st.st_ino;
	if (signlog_lock(l, e) != 0)
		goto fail;
	signlog_unlock(l);
	*out = l;
	return 0;
fail:
	signlog_close(l);
	return -1;
}

void
signlog_close(struct signlog *l)
{
	if (l == NULL)
		return;
	if (l->fd >= 0)
		close(l->fd);
	free(l->path);
	free(l->hashes);
	free(l->broken);
	free(l);
}

const char *
signlog_broken(const struct signlog *l)
{
	return l->broken;
}

int
signlog_lock(struct signlog *l, struct errbuf *e)
{
	while (flock(l->fd, LOCK_EX) != 0) {
		if (errno != EINTR) {
			err_set(e, "cannot lock the signing log %s: %s", l->path, strerror(errno));
			return -1;
		}
	}
	l->locked = true;
	if (catch_up(l, e) != 0) {
		signlog_unlock(l);
		return -1;
	}
	return 0;
}

void
signlog_unlock(struct signlog *l)
{
	if (l->locked)
		(void)flock(l->fd, LOCK_UN);
	l->locked = false;
}

int
signlog_append(struct signlog *l, json_t *event, time_t now, struct errbuf *e)
{
	json_t *line = json_object();
	const char *k;
	json_t *v;
	char prev[65], when[32];
	char *text = NULL;
	size_t len, off = 0;
	int rc = -1;

	if (line == NULL)
		fatal("out of memory");
	if (!l->locked)
		fatal("signlog_append() without the lock");
	if (l->broken != NULL) {
		err_set(e, "%s", l->broken);
		goto out;
	}
	prev_hex(l->hashes, l->lines, prev);
	format_time_utc(now, when, sizeof(when));
	if (json_object_set_new(line, "seq", json_integer((json_int_t)(l->lines + 1))) != 0 ||
	    json_object_set_new(line, "prev", json_string(prev)) != 0 ||
	    json_object_set_new(line, "time", json_string(when)) != 0)
		fatal("out of memory");
	json_object_foreach(event, k, v) {
		if (json_object_set(line, k, v) != 0)
			fatal("out of memory");
	}
	text = json_dumps(line, JSON_COMPACT);
	if (text == NULL)
		fatal("out of memory");
	len = strlen(text);
	text = xrealloc(text, len + 2);
	text[len] = '\n';
	text[len + 1] = '\0';
	while (off < len + 1) {
		ssize_t w = write(l->fd, text + off, len + 1 - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			err_set(e, "cannot write the signing log %s: %s; nothing was signed", l->path,
			    strerror(errno));
			/* A torn line is cut off by the next lock. */
			goto out;
		}
		off += (size_t)w;
	}
	if (fdatasync(l->fd) != 0) {
		err_set(e, "cannot make the signing log %s durable: %s; nothing was signed", l->path,
		    strerror(errno));
		goto out;
	}
	if (!take_line(l, text, len)) {
		err_set(e, "%s", l->broken);
		goto out;
	}
	l->done += (off_t)len + 1;
	rc = 0;
out:
	free(text);
	json_decref(line);
	return rc;
}

void
signlog_head(const struct signlog *l, uint64_t *lines, char hash[65])
{
	*lines = l->lines;
	if (l->lines == 0) {
		memset(hash, '0', 64);
		hash[64] = '\0';
	} else {
		hex32(l->hashes[l->lines - 1], hash);
	}
}

int
signlog_check(const struct signlog *l, uint64_t line, const char *hash)
{
	char have[65];

	if (line == 0 || hash == NULL)
		return SIGNER_HEAD_NOT_ASKED;
	if (line > l->lines)
		return SIGNER_HEAD_MISSING;
	hex32(l->hashes[line - 1], have);
	return strcmp(have, hash) == 0 ? SIGNER_HEAD_MATCHES : SIGNER_HEAD_DIFFERS;
}

int
signlog_verify_file(const char *path, uint64_t expect_line, const char *expect_hash, FILE *out)
{
	struct signlog l;
	struct stat st;
	char head[65];
	int check, rc;

	memset(&l, 0, sizeof(l));
	l.path = (char *)path;
	l.fd = open(path, O_RDONLY | O_CLOEXEC);
	if (l.fd < 0 || fstat(l.fd, &st) != 0) {
		fprintf(out, "%s: cannot read: %s\n", path, strerror(errno));
		if (l.fd >= 0)
			close(l.fd);
		return -1;
	}
	l.dev = st.st_dev;
	l.ino = st.st_ino;
	l.quiet = true;
	{
		struct errbuf e;

		if (catch_up(&l, &e) != 0) {
			fprintf(out, "%s\n", e.text);
			close(l.fd);
			free(l.hashes);
			free(l.broken);
			return -1;
		}
	}
	close(l.fd);
	rc = 0;
	if (l.broken != NULL) {
		/* "the signing log P cannot be trusted: line N: why. ..." -> "P:N: why" */
		const char *p = strstr(l.broken, "trusted: line ");
		unsigned long long n = 0;
		int used = 0;

		if (p != NULL && sscanf(p, "trusted: line %llu: %n", &n, &used) == 1) {
			const char *why = p + used;
			const char *end = strstr(why, ". Nothing is signed");

			fprintf(out, "%s:%llu: %.*s\n", path, n, (int)(end != NULL ? end - why :
			    (long)strlen(why)), why);
		} else {
			fprintf(out, "%s\n", l.broken);
		}
		rc = 1;
	} else if (st.st_size > l.done) {
		fprintf(out, "%s:%llu: the last line is incomplete (%lld bytes without a newline)\n",
		    path, (unsigned long long)(l.lines + 1), (long long)(st.st_size - l.done));
		rc = 1;
	}
	check = signlog_check(&l, expect_line, expect_hash);
	if (rc == 0 && check == SIGNER_HEAD_MISSING) {
		fprintf(out, "%s: has %llu lines, but line %llu was recorded: lines at the end were "
		    "removed\n", path, (unsigned long long)l.lines, (unsigned long long)expect_line);
		rc = 1;
	} else if (rc == 0 && check == SIGNER_HEAD_DIFFERS) {
		fprintf(out, "%s:%llu: its SHA-256 is not the one recorded (%s): the log was "
		    "rewritten up to there\n", path, (unsigned long long)expect_line, expect_hash);
		rc = 1;
	}
	if (rc == 0) {
		signlog_head(&l, &(uint64_t){0}, head);
		fprintf(out, "%s: %llu line%s, chain intact%s, head sha256:%s\n", path,
		    (unsigned long long)l.lines, l.lines == 1 ? "" : "s",
		    check == SIGNER_HEAD_MATCHES ? ", recorded line present" : "", head);
	}
	free(l.hashes);
	free(l.broken);
	return rc;
}
