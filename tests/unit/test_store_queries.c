/* SPDX-License-Identifier: ISC */
/*
 * Read-only store queries: users by state, expiry buckets at their
 * boundaries, tallies, the last runs in order, audit filters, the live
 * certificates with the reminders sent for each, and the --since parser.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "store/store.h"
#include "store/queries.h"
#include "tests/unit/check.h"

#define DAY 86400
#define NOW 1800000000

static void
add_user(struct store *st, const char *id, const char *group)
{
	struct store_user u;
	char mail[64];
	struct errbuf e;

	snprintf(mail, sizeof(mail), "%s@example.org", id);
	memset(&u, 0, sizeof(u));
	u.id = (char *)id;
	u.source = "corp";
	u.mail = mail;
	u.group_name = (char *)group;
	u.last_seen = NOW;
	CHECK(store_user_upsert(st, &u, &e) == 0);
}

static void
add_cert(struct store *st, const char *user, const char *group, const char *key_type,
    time_t not_after, enum cert_status status)
{
	static int serial;
	static unsigned char der[] = { 0x30, 0x03, 0x02, 0x01, 0x01 };
	struct store_cert c;
	char ser[16], fp[16];
	int64_t id = 0;
	struct errbuf e;

	snprintf(ser, sizeof(ser), "%04X", ++serial);
	snprintf(fp, sizeof(fp), "fp%d", serial);
	memset(&c, 0, sizeof(c));
	c.user_id = (char *)user;
	c.group_name = (char *)group;
	c.ca_name = "internal";
	c.serial = ser;
	c.issuer = "CN=Test CA";
	c.fingerprint = fp;
	c.mail = "x@example.org";
	c.key_type = (char *)key_type;
	c.not_after = not_after;
	c.der = der;
	c.der_len = sizeof(der);
	CHECK(store_cert_insert(st, &c, &id, &e) == 0);
	if (status != CERT_VALID)
		CHECK(store_cert_set_status(st, id, status, &e) == 0);
}

static void
test_counts(struct store *st)
{
	struct store_counts c;
	struct store_tally *t = NULL;
	size_t n = 0;
	struct errbuf e;

	CHECK(store_query_counts(st, NOW, &c, &e) == 0);
	CHECK_INTEQ(c.users_total, 8);
	CHECK_INTEQ(c.users_valid, 6);
	CHECK_INTEQ(c.users_expired, 1);
	CHECK_INTEQ(c.users_none, 1);
	CHECK_INTEQ(c.expiring_7d, 1);   /* u7d */
	CHECK_INTEQ(c.expiring_30d, 2);  /* u7d, u30 */
	CHECK_INTEQ(c.expiry[EXPIRY_EXPIRED], 1);
	CHECK_INTEQ(c.expiry[EXPIRY_30], 2);
	CHECK_INTEQ(c.expiry[EXPIRY_60], 1);
	CHECK_INTEQ(c.expiry[EXPIRY_90], 0);
	CHECK_INTEQ(c.expiry[EXPIRY_180], 1);
	CHECK_INTEQ(c.expiry[EXPIRY_LATER], 2);

	CHECK(store_query_certs_by(st, "key_type", NOW, &t, &n, &e) == 0);
	CHECK_INTEQ(n, 2);
	if (n == 2) {
		CHECK_STREQ(t[0].label, "p256");
		CHECK_INTEQ(t[0].n, 4);
		CHECK_STREQ(t[1].label, "rsa2048");
		CHECK_INTEQ(t[1].n, 2);
	}
	store_tally_free(t, n);
	CHECK(store_query_certs_by(st, "group_name", NOW, &t, &n, &e) == 0);
	CHECK_INTEQ(n, 2);
	store_tally_free(t, n);
	/* Only the two known columns: nothing from outside reaches the SQL. */
	CHECK(store_query_certs_by(st, "1; DROP TABLE certs", NOW, &t, &n, &e) == -1);
}

static void
test_runs_and_audit(struct store *st)
{
	struct store_run_row *r = NULL;
	struct store_audit_row *a = NULL;
	size_t n = 0;
	struct errbuf e;

	CHECK(store_run_start(st, "r1", NOW - 3 * DAY, &e) == 0);
	CHECK(store_run_finish(st, "r1", NOW - 3 * DAY + 5, "ok", "{\"id\":\"r1\"}", &e) == 0);
	CHECK(store_run_start(st, "r2", NOW - 2 * DAY, &e) == 0);
	CHECK(store_run_start(st, "r3", NOW - DAY, &e) == 0);
	CHECK(store_run_finish(st, "r3", NOW - DAY + 5, "partial", "{\"id\":\"r3\"}", &e) == 0);

	CHECK(store_query_runs(st, 0, 0, &r, &n, &e) == 0);
	CHECK_INTEQ(n, 3);
	if (n == 3) {
		CHECK_STREQ(r[0].id, "r1");
		CHECK_STREQ(r[2].id, "r3");
		CHECK(r[1].report == NULL && r[1].status == NULL && r[1].finished == 0);
	}
	store_run_rows_free(r, n);
	/* The limit keeps the newest, still oldest first. */
	CHECK(store_query_runs(st, 0, 2, &r, &n, &e) == 0);
	CHECK_INTEQ(n, 2);
	if (n == 2) {
		CHECK_STREQ(r[0].id, "r2");
		CHECK_STREQ(r[1].id, "r3");
	}
	store_run_rows_free(r, n);
	CHECK(store_query_runs(st, NOW - DAY - 1, 0, &r, &n, &e) == 0);
	CHECK_INTEQ(n, 1);
	store_run_rows_free(r, n);

	CHECK(store_audit(st, "r1", "u7d", "certificate-issued", "serial 1", &e) == 0);
	CHECK(store_audit(st, "r1", "u30", "certificate-issued", "serial 2", &e) == 0);
	CHECK(store_query_audit(st, NULL, 0, &a, &n, &e) == 0);
	CHECK_INTEQ(n, 2);
	store_audit_rows_free(a, n);
	CHECK(store_query_audit(st, "U7D@example.org", 0, &a, &n, &e) == 0);
	CHECK_INTEQ(n, 1);
	if (n == 1) {
		CHECK_STREQ(a[0].user_id, "u7d");
		CHECK_STREQ(a[0].mail, "u7d@example.org");
		CHECK_STREQ(a[0].event, "certificate-issued");
	}
	store_audit_rows_free(a, n);
	CHECK(store_query_audit(st, "u30", time(NULL) + 3600, &a, &n, &e) == 0);
	CHECK_INTEQ(n, 0);
	store_audit_rows_free(a, n);
}

/* Every live certificate, newest first per person, with the thresholds reminded. */
static void
test_holders(struct store *st)
{
	struct store_holder *h = NULL;
	size_t n = 0;
	struct errbuf e;

	CHECK(store_holders(st, NOW, &h, &n, &e) == 0);
	/* u7d, u30, u31, u180, ulate (2), ulate2: not the expired or the revoked one */
	CHECK_INTEQ(n, 7);
	for (size_t i = 0; i < n; i++)
		CHECK_INTEQ(h[i].n_reminded, 0);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(h[i].user_id, "u30") == 0) {
			CHECK(store_reminder_record(st, h[i].cert_id, 7 * DAY, "reminder-renew", NOW,
			    &e) == 0);
			CHECK(store_reminder_record(st, h[i].cert_id, 30 * DAY, "reminder-renew", NOW,
			    &e) == 0);
		}
		if (strcmp(h[i].user_id, "ulate") == 0 && h[i].status == CERT_SUPERSEDED)
			CHECK(store_reminder_record(st, h[i].cert_id, DAY, "passed-at-renewal", NOW,
			    &e) == 0);
	}
	store_holders_free(h, n);

	CHECK(store_holders(st, NOW, &h, &n, &e) == 0);
	CHECK_INTEQ(n, 7);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(h[i].user_id, "u30") == 0) {
			CHECK_INTEQ(h[i].n_reminded, 2);
			if (h[i].n_reminded == 2) {
				CHECK_INTEQ(h[i].reminded[0], 30 * DAY);
				CHECK_INTEQ(h[i].reminded[1], 7 * DAY);
			}
		} else if (strcmp(h[i].user_id, "ulate") == 0) {
			/* newest first: the valid one, then the superseded one */
			CHECK(i + 1 < n && strcmp(h[i + 1].user_id, "ulate") == 0);
			CHECK_INTEQ(h[i].status, CERT_VALID);
			CHECK_INTEQ(h[i].n_reminded, 0);
			if (i + 1 < n) {
				CHECK_INTEQ(h[i + 1].status, CERT_SUPERSEDED);
				CHECK_INTEQ(h[i + 1].n_reminded, 1);
			}
			i++;
		} else {
			CHECK_INTEQ(h[i].n_reminded, 0);
		}
	}
	store_holders_free(h, n);
}

static void
test_since(void)
{
	time_t t = 0;

	CHECK(commands_parse_since("30d", NOW, &t) == 0);
	CHECK_INTEQ(t, NOW - 30 * DAY);
	CHECK(commands_parse_since("2026-11-01", NOW, &t) == 0);
	CHECK_INTEQ(t, 1793491200);
	CHECK(commands_parse_since("2026-11-01T12:00:00Z", NOW, &t) == 0);
	CHECK_INTEQ(t, 1793491200 + 12 * 3600);
	CHECK(commands_parse_since("yesterday", NOW, &t) == -1);
	CHECK(commands_parse_since("2026-11-01x", NOW, &t) == -1);
}

int
main(void)
{
	char dir[] = "/tmp/smimesync-query-XXXXXX";
	char path[256];
	struct store *st = NULL;
	struct errbuf e;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/state", dir);
	CHECK(store_open(path, &st, &e) == 0);
	add_user(st, "uexp", "sales");
	add_cert(st, "uexp", "sales", "p256", NOW - 1, CERT_VALID);
	add_user(st, "u7d", "sales");
	add_cert(st, "u7d", "sales", "p256", NOW + 7 * DAY, CERT_VALID);
	add_user(st, "u30", "sales");
	add_cert(st, "u30", "sales", "p256", NOW + 30 * DAY, CERT_VALID);
	add_user(st, "u31", "staff");
	add_cert(st, "u31", "staff", "p256", NOW + 31 * DAY, CERT_VALID);
	add_user(st, "u180", "staff");
	add_cert(st, "u180", "staff", "rsa2048", NOW + 180 * DAY, CERT_VALID);
	/* The newest valid certificate counts; a superseded one never does. */
	add_user(st, "ulate", "staff");
	add_cert(st, "ulate", "staff", "rsa2048", NOW + 5 * DAY, CERT_SUPERSEDED);
	add_cert(st, "ulate", "staff", "rsa2048", NOW + 181 * DAY, CERT_VALID);
	add_user(st, "ulate2", "staff");
	add_cert(st, "ulate2", "staff", "p256", NOW + 400 * DAY, CERT_VALID);
	add_user(st, "unone", "staff");
	add_cert(st, "unone", "staff", "p256", NOW + 9 * DAY, CERT_REVOKED);
	test_counts(st);
	test_runs_and_audit(st);
	test_holders(st);
	test_since();
	store_close(st);
	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		CHECK(system(cmd) == 0);
	}
	return check_finish();
}
