/* SPDX-License-Identifier: ISC */
/*
 * The store's change stream table (store/stream.c): a position is kept per
 * [directory], replaced whole, survives a reopen, rolls back with the
 * transaction it was written in, and forgetting it keeps the time of the
 * last full read.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"
#include "tests/unit/check.h"

int
main(void)
{
	char dir[] = "/tmp/smimesync-stream-XXXXXX";
	char path[256], cmd[320];
	struct store *st = NULL;
	struct store_stream s, got;
	struct errbuf e;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/state", dir);
	CHECK(store_open(path, &st, &e) == 0);
	memset(&got, 0, sizeof(got));
	CHECK(store_stream_get(st, "corp", &got, &e) == 0);

	memset(&s, 0, sizeof(s));
	s.directory = "corp";
	s.kind = "ad-usn";
	s.state = "{\"v\":1}";
	s.server = "dc1.example.test";
	s.server_id = "6d1c3a2e-0000-4000-8000-000000000001";
	s.position = "12345";
	s.issued = 0;
	s.last_full_read = 1000;
	CHECK(store_begin(st, &e) == 0);
	CHECK(store_stream_put(st, &s, 2000, &e) == 0);
	CHECK(store_commit(st, &e) == 0);
	CHECK(store_stream_get(st, "corp", &got, &e) == 1);
	CHECK_STREQ(got.kind, "ad-usn");
	CHECK_STREQ(got.state, "{\"v\":1}");
	CHECK_STREQ(got.server, "dc1.example.test");
	CHECK_STREQ(got.position, "12345");
	CHECK_INTEQ(got.last_full_read, 1000);
	CHECK_INTEQ(got.updated, 2000);
	store_stream_clear(&got);

	/* The position is written with what it describes: a rollback undoes both. */
	s.position = "12399";
	CHECK(store_begin(st, &e) == 0);
	CHECK(store_stream_put(st, &s, 3000, &e) == 0);
	store_rollback(st);
	CHECK(store_stream_get(st, "corp", &got, &e) == 1);
	CHECK_STREQ(got.position, "12345");
	store_stream_clear(&got);

	/* A full read is recorded without touching the position ... */
	CHECK(store_stream_full_read(st, "corp", 4000, &e) == 0);
	CHECK(store_stream_get(st, "corp", &got, &e) == 1);
	CHECK_INTEQ(got.last_full_read, 4000);
	CHECK_STREQ(got.state, "{\"v\":1}");
	store_stream_clear(&got);
	/* ... and for a directory without a stream, too. */
	CHECK(store_stream_full_read(st, "people-csv", 4100, &e) == 0);
	CHECK(store_stream_get(st, "people-csv", &got, &e) == 1);
	CHECK(got.state == NULL && got.kind == NULL);
	CHECK_INTEQ(got.last_full_read, 4100);
	store_stream_clear(&got);

	/* Forgetting drops the position, not when the last full read was. */
	CHECK_INTEQ(store_stream_forget(st, "corp", &e), 1);
	CHECK_INTEQ(store_stream_forget(st, "nowhere", &e), 0);
	CHECK(store_stream_get(st, "corp", &got, &e) == 1);
	CHECK(got.state == NULL && got.server == NULL && got.position == NULL);
	CHECK_INTEQ(got.last_full_read, 4000);
	store_stream_clear(&got);

	/* It survives a reopen (the migration is applied once). */
	CHECK(store_stream_put(st, &s, 5000, &e) == 0);
	store_close(st);
	st = NULL;
	CHECK(store_open(path, &st, &e) == 0);
	CHECK(store_stream_get(st, "corp", &got, &e) == 1);
	CHECK_STREQ(got.position, "12399");
	store_stream_clear(&got);
	store_close(st);

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK(system(cmd) == 0);
	return check_finish();
}
