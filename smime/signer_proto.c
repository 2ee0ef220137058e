/* SPDX-License-Identifier: ISC */
/* The signer's wire format: fields and framing (signer_proto.h). */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "common/log.h"
#include "common/xalloc.h"
#include "smime/signer_proto.h"

#define NULL_STR UINT32_MAX

static void
put(struct buf *b, const void *p, size_t n)
{
	if (buf_append(b, p, n) != 0)
		fatal("out of memory");
}

void
sp_put_u32(struct buf *b, uint32_t v)
{
	unsigned char x[4] = { (unsigned char)(v >> 24), (unsigned char)(v >> 16),
		(unsigned char)(v >> 8), (unsigned char)v };

	put(b, x, sizeof(x));
}

void
sp_put_u64(struct buf *b, uint64_t v)
{
	sp_put_u32(b, (uint32_t)(v >> 32));
	sp_put_u32(b, (uint32_t)v);
}

void
sp_put_bytes(struct buf *b, const void *p, size_t n)
{
	if (n >= NULL_STR)
		fatal("signer message field of %zu bytes", n);
	sp_put_u32(b, (uint32_t)n);
	if (n > 0)
		put(b, p, n);
}

void
sp_put_str(struct buf *b, const char *s)
{
	if (s == NULL)
		sp_put_u32(b, NULL_STR);
	else
		sp_put_bytes(b, s, strlen(s));
}

void
sp_reader_init(struct sp_reader *r, const void *body, size_t len)
{
	r->p = body;
	r->left = len;
	r->bad = 0;
}

static const unsigned char *
take(struct sp_reader *r, size_t n)
{
	const unsigned char *p;

	if (r->bad || r->left < n) {
		r->bad = 1;
		return NULL;
	}
	p = r->p;
	r->p += n;
	r->left -= n;
	return p;
}

uint32_t
sp_get_u32(struct sp_reader *r)
{
	const unsigned char *p = take(r, 4);

	if (p == NULL)
		return 0;
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

uint64_t
sp_get_u64(struct sp_reader *r)
{
	uint64_t hi = sp_get_u32(r);

	return hi << 32 | sp_get_u32(r);
}

const unsigned char *
sp_get_bytes(struct sp_reader *r, size_t *len)
{
	uint32_t n = sp_get_u32(r);
	const unsigned char *p;

	*len = 0;
	if (r->bad || n == NULL_STR) {
		r->bad = 1;
		return NULL;
	}
	p = take(r, n);
	if (p != NULL)
		*len = n;
	return p;
}

char *
sp_get_str(struct sp_reader *r)
{
	uint32_t n;
	const unsigned char *p;

	n = sp_get_u32(r);
	if (r->bad || n == NULL_STR)
		return NULL;
	p = take(r, n);
	if (p == NULL)
		return NULL;
	if (memchr(p, '\0', n) != NULL) {
		r->bad = 1;
		return NULL;
	}
	return xstrndup((const char *)p, n);
}

void
sp_put_blob(struct buf *b, uint32_t slot, const char *aad, const void *data, size_t len)
{
	sp_put_u32(b, slot);
	sp_put_str(b, aad != NULL ? aad : "");
	sp_put_bytes(b, data, len);
}

void
sp_get_blob(struct sp_reader *r, struct sp_blob *out)
{
	out->slot = sp_get_u32(r);
	out->aad = sp_get_str(r);
	out->data = sp_get_bytes(r, &out->len);
	if (out->aad == NULL)
		r->bad = 1;
}

void
sp_blob_clear(struct sp_blob *b)
{
	free(b->aad);
	memset(b, 0, sizeof(*b));
}

int
sp_reader_done(const struct sp_reader *r)
{
	return !r->bad && r->left == 0;
}

static int
send_all(int fd, const unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int
sp_send(int fd, const struct buf *body)
{
	unsigned char hdr[4];

	if (body->len > SIGNER_MSG_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	hdr[0] = (unsigned char)(body->len >> 24);
	hdr[1] = (unsigned char)(body->len >> 16);
	hdr[2] = (unsigned char)(body->len >> 8);
	hdr[3] = (unsigned char)body->len;
	if (send_all(fd, hdr, sizeof(hdr)) != 0)
		return -1;
	return send_all(fd, (const unsigned char *)body->data, body->len);
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read exactly n bytes before deadline (ms, < 0: none). 0, 1 on EOF, -2 timeout, -1. */
static int
recv_all(int fd, unsigned char *p, size_t n, int64_t deadline)
{
	while (n > 0) {
		ssize_t r;

		if (deadline >= 0) {
			struct pollfd pfd = { .fd = fd, .events = POLLIN };
			int64_t wait = deadline - now_ms();
			int pr;

			if (wait < 0)
				wait = 0;
			pr = poll(&pfd, 1, (int)(wait > 86400000 ? 86400000 : wait));
			if (pr < 0) {
				if (errno == EINTR)
					continue;
				return -1;
			}
			if (pr == 0)
				return -2;
		}
		r = read(fd, p, n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			return 1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

int
sp_recv(int fd, unsigned char **body, size_t *len_out, int timeout_ms)
{
	unsigned char hdr[4];
	unsigned char *p = NULL;
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	size_t len;
	int rc;

	*body = NULL;
	*len_out = 0;
	rc = recv_all(fd, hdr, sizeof(hdr), deadline);
	if (rc != 0)
		return rc;
	len = (size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 | (size_t)hdr[2] << 8 | hdr[3];
	if (len > SIGNER_MSG_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	/* Read in place, one allocation: a secret body leaves no stale copies. */
	p = xmalloc(len + 1);
	rc = recv_all(fd, p, len, deadline);
	if (rc != 0) {
		OPENSSL_cleanse(p, len + 1);
		free(p);
		return rc;
	}
	p[len] = '\0';
	*body = p;
	*len_out = len;
	return 0;
}
