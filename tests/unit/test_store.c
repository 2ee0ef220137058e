/* SPDX-License-Identifier: ISC */
/* The store: migrations, certificates, actions, outbox, runs, audit. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/ca_requests.h"
#include "store/store.h"
#include "tests/unit/check.h"

int
main(void)
{
	char dir[] = "/tmp/smimesync-store-XXXXXX";
	char path[256];
	struct store *st = NULL, *st2 = NULL;
	struct errbuf e;
	struct store_user u;
	struct store_cert c, *certs = NULL;
	struct store_user_state *states = NULL;
	struct store_action a;
	struct store_mail m, *mails = NULL;
	size_t n = 0;
	int64_t cert_id = 0, action_id = 0, mail_id = 0;
	char *json = NULL;
	struct stat sb;
	unsigned char der[] = { 0x30, 0x03, 0x02, 0x01, 0x01 };

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/state", dir);
	CHECK(store_open(path, &st, &e) == 0);
	CHECK(stat(path, &sb) == 0 && (sb.st_mode & 077) == 0);
	CHECK(store_lock(st, &e) == 0);
	/* One writer: a second opener is refused before touching anything. */
	store_set_lock_wait(300);
	CHECK(store_open(path, &st2, &e) != 0);
	CHECK(st2 == NULL);
	CHECK_CONTAINS(e.text, "another smimesync process");
	CHECK_CONTAINS(e.text, "did not finish within 300 ms");
	/* Readers are welcome. */
	CHECK(store_open_readonly(path, &st2, &e) == 0);
	store_close(st2);

	memset(&u, 0, sizeof(u));
	u.id = "uuid-1";
	u.source = "corp";
	u.mail = "alice@example.org";
	u.group_name = "sales";
	u.last_seen = 100;
	CHECK(store_user_upsert(st, &u, &e) == 0);
	u.last_seen = 200;
	CHECK(store_user_upsert(st, &u, &e) == 0);
	/* Unchanged values: the row is not rewritten, last_seen waits a day. */
	{
		struct store_user got;

		memset(&got, 0, sizeof(got));
		CHECK(store_user_find(st, "uuid-1", &got, &e) == 1);
		CHECK(got.last_seen == 100 && got.first_seen == 100);
		store_user_clear(&got);
		u.last_seen = 100 + 86400;
		CHECK(store_user_upsert(st, &u, &e) == 0);
		CHECK(store_user_find(st, "uuid-1", &got, &e) == 1);
		CHECK(got.last_seen == 100 + 86400);
		store_user_clear(&got);
		/* A changed value is written at once, last_seen with it. */
		u.mail = "alice.new@example.org";
		u.last_seen = 100 + 86400 + 60;
		CHECK(store_user_upsert(st, &u, &e) == 0);
		CHECK(store_user_find(st, "uuid-1", &got, &e) == 1);
		CHECK(strcmp(got.mail, "alice.new@example.org") == 0);
		CHECK(got.last_seen == 100 + 86400 + 60);
		store_user_clear(&got);
		u.mail = "alice@example.org";
		CHECK(store_user_upsert(st, &u, &e) == 0);
	}

	memset(&c, 0, sizeof(c));
	c.user_id = "uuid-1";
	c.group_name = "sales";
	c.ca_name = "internal";
	c.serial = "0A1B";
	c.issuer = "CN=Test CA";
	c.fingerprint = "ff00";
	c.mail = "alice@example.org";
	c.key_type = "p256";
	c.not_after = 5000;
	c.der = der;
	c.der_len = sizeof(der);
	CHECK(store_cert_insert(st, &c, &cert_id, &e) == 0);
	/* The same issuer and serial twice is refused: never two certs with one identity. */
	c.fingerprint = "ff01";
	CHECK(store_cert_insert(st, &c, &cert_id, &e) != 0);
	CHECK(store_cert_is_ours(st, "CN=Test CA", "0A1B", NULL, &e) == 1);
	CHECK(store_cert_is_ours(st, "CN=Other CA", "0A1B", NULL, &e) == 0);

	memset(&a, 0, sizeof(a));
	a.run_id = "r1";
	a.user_id = "uuid-1";
	a.kind = "issue";
	a.state = "planned";
	a.group_name = "sales";
	a.mail = "alice@example.org";
	CHECK(store_action_create(st, &a, &action_id, &e) == 0);
	/* Rows read back through their column maps: every field, and cleared again. */
	{
		struct store_action got;
		struct store_ca_request rq, last;
		struct store_unwanted uw, *uws = NULL;
		size_t n_uw = 0;
		int64_t rq_id = 0;
		unsigned char sealed[] = { 's', 'e', 'c', 0, 'r' };

		CHECK(store_action_set_key(st, action_id, sealed, sizeof(sealed), &e) == 0);
		CHECK(store_action_set_ca(st, action_id, "ejbca", "cookie-7", 4242, 3, &e) == 0);
		memset(&got, 0, sizeof(got));
		CHECK(store_action_get(st, action_id, &got, &e) == 0);
		CHECK(got.id == action_id && got.attempts == 0 && got.cert_id == 0);
		CHECK_STREQ(got.run_id, "r1");
		CHECK_STREQ(got.user_id, "uuid-1");
		CHECK_STREQ(got.kind, "issue");
		CHECK_STREQ(got.state, "planned");
		CHECK_STREQ(got.group_name, "sales");
		CHECK_STREQ(got.mail, "alice@example.org");
		CHECK(got.sealed_key_len == sizeof(sealed) &&
		    memcmp(got.sealed_key, sealed, sizeof(sealed)) == 0);
		CHECK(got.last_error == NULL);
		CHECK_STREQ(got.ca_cookie, "cookie-7");
		CHECK_STREQ(got.ca_cookie_ca, "ejbca");
		CHECK(got.ca_next_try == 4242 && got.ca_failures == 3);
		store_action_clear(&got);
		CHECK(got.run_id == NULL && got.sealed_key == NULL && got.sealed_key_len == 0);
		CHECK(store_action_set_ca(st, action_id, "ejbca", NULL, 0, 0, &e) == 0);

		memset(&rq, 0, sizeof(rq));
		rq.action_id = action_id;
		rq.ca_name = "ejbca";
		rq.request_id = "00ff";
		rq.key_id = "abcd";
		rq.created = 777;
		CHECK(store_ca_request_add(st, &rq, "-----CSR-----", &rq_id, &e) == 0);
		CHECK_INTEQ(store_ca_request_last(st, action_id, &last, &e), 1);
		CHECK(last.id == rq_id && last.action_id == action_id && last.created == 777);
		CHECK_STREQ(last.ca_name, "ejbca");
		CHECK_STREQ(last.request_id, "00ff");
		CHECK_STREQ(last.key_id, "abcd");
		CHECK_STREQ(last.state, "sent");
		store_ca_request_clear(&last);
		CHECK_INTEQ(store_ca_request_last(st, action_id + 1000, &last, &e), 0);

		memset(&uw, 0, sizeof(uw));
		uw.user_id = "uuid-1";
		uw.ca_name = "ejbca";
		uw.serial = "0BAD";
		uw.issuer = "CN=Test CA";
		uw.key_id = "abcd";
		uw.der = der;
		uw.der_len = sizeof(der);
		uw.why = "a duplicate after a lost answer";
		uw.state = "pending";
		uw.reason = 4;
		CHECK(store_unwanted_add(st, &uw, 100, &e) == 0);
		CHECK(store_unwanted_pending(st, &uws, &n_uw, &e) == 0);
		CHECK_INTEQ(n_uw, 1);
		if (n_uw == 1) {
			CHECK(uws[0].id > 0 && uws[0].reason == 4 && uws[0].attempts == 0);
			CHECK_STREQ(uws[0].user_id, "uuid-1");
			CHECK_STREQ(uws[0].ca_name, "ejbca");
			CHECK_STREQ(uws[0].serial, "0BAD");
			CHECK_STREQ(uws[0].issuer, "CN=Test CA");
			CHECK_STREQ(uws[0].key_id, "abcd");
			CHECK(uws[0].der_len == sizeof(der) &&
			    memcmp(uws[0].der, der, sizeof(der)) == 0);
			CHECK_STREQ(uws[0].why, "a duplicate after a lost answer");
			CHECK_STREQ(uws[0].state, "pending");
			CHECK(store_unwanted_set(st, uws[0].id, "revoked", NULL, 101, &e) == 0);
		}
		store_unwanted_free(uws, n_uw);
		CHECK(store_unwanted_pending(st, &uws, &n_uw, &e) == 0);
		CHECK_INTEQ(n_uw, 0);
		store_unwanted_free(uws, n_uw);
	}

	CHECK(store_load_states(st, &states, &n, &e) == 0);
	CHECK_INTEQ(n, 1);
	CHECK_STREQ(states[0].user_id, "uuid-1");
	CHECK_INTEQ(states[0].cert_id, 1);
	CHECK_INTEQ(states[0].not_after, 5000);
	CHECK_INTEQ(states[0].open_action, action_id);
	store_states_free(states, n);

	CHECK(store_action_set_state(st, action_id, "done", NULL, &e) == 0);
	CHECK(store_cert_set_status(st, 1, CERT_SUPERSEDED, &e) == 0);
	CHECK(store_load_states(st, &states, &n, &e) == 0);
	/* Still known, but nothing valid and nothing open. */
	CHECK_INTEQ(n, 1);
	CHECK_INTEQ(states[0].cert_id, 0);
	CHECK_INTEQ(states[0].open_action, 0);
	CHECK(!states[0].revoked);
	store_states_free(states, n);
	/* A revoked newest certificate blocks automatic re-issue. */
	CHECK(store_cert_set_revoked(st, 1, 1234, 3, &e) == 0);
	CHECK(store_load_states(st, &states, &n, &e) == 0);
	CHECK(n == 1 && states[0].revoked);
	store_states_free(states, n);
	/* Admin switches: matched by mail, unknown users are not an error. */
	CHECK_INTEQ(store_user_set_switch(st, "alice@example.org", "force_issue", true, &e), 1);
	CHECK_INTEQ(store_user_set_switch(st, "nobody@example.org", "ignored", true, &e), 0);
	CHECK(store_user_set_switch(st, "alice@example.org", "bogus", true, &e) < 0);
	CHECK(store_load_states(st, &states, &n, &e) == 0);
	CHECK(n == 1 && states[0].force_issue && !states[0].ignored);
	store_states_free(states, n);
	/* Reminders are remembered per certificate and threshold. */
	CHECK_INTEQ(store_reminder_sent(st, 1, 86400, &e), 0);
	CHECK(store_reminder_record(st, 1, 86400, "reminder-renew", 10, &e) == 0);
	CHECK(store_reminder_record(st, 1, 86400, "reminder-renew", 11, &e) == 0);
	CHECK_INTEQ(store_reminder_sent(st, 1, 86400, &e), 1);
	CHECK_INTEQ(store_reminder_sent(st, 1, 7 * 86400, &e), 0);
	CHECK(store_certs_for_user(st, "uuid-1", true, &certs, &n, &e) == 0);
	CHECK_INTEQ(n, 1);
	CHECK_INTEQ(certs[0].status, CERT_REVOKED);
	CHECK_INTEQ(certs[0].der_len, sizeof(der));
	store_certs_free(certs, n);

	memset(&m, 0, sizeof(m));
	m.user_id = "uuid-1";
	m.kind = "collection";
	m.recipient = "alice@example.org";
	m.aad = "x";
	m.sealed = der;
	m.sealed_len = sizeof(der);
	m.next_attempt = 50;
	CHECK(store_outbox_add(st, &m, &mail_id, &e) == 0);
	CHECK(store_outbox_due(st, 49, 10, &mails, &n, &e) == 0);
	CHECK_INTEQ(n, 0);
	store_mails_free(mails, n);
	CHECK(store_outbox_due(st, 50, 10, &mails, &n, &e) == 0);
	CHECK_INTEQ(n, 1);
	store_mails_free(mails, n);
	CHECK(store_outbox_update(st, mail_id, "sent", 1, 0, NULL, 60, &e) == 0);
	CHECK(store_outbox_due(st, 1000, 10, &mails, &n, &e) == 0);
	CHECK_INTEQ(n, 0);
	store_mails_free(mails, n);

	CHECK(store_run_start(st, "r1", 10, &e) == 0);
	CHECK(store_run_report(st, NULL, &json, &e) == 0);
	CHECK(store_run_finish(st, "r1", 20, "ok", "{\"id\":\"r1\"}", &e) == 0);
	CHECK(store_run_report(st, NULL, &json, &e) == 1);
	CHECK_STREQ(json, "{\"id\":\"r1\"}");
	free(json);

	CHECK(store_audit(st, "r1", "uuid-1", "test", "detail", &e) == 0);
	CHECK(store_integrity_check(st, &e) == 0);
	store_close(st);

	/* Reopening applies no migration twice (and the lock was released). */
	CHECK(store_open(path, &st, &e) == 0);
	CHECK(store_integrity_check(st, &e) == 0);
	store_close(st);
	{
		char cmd[512];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		CHECK(system(cmd) == 0);
	}
	return check_finish();
}
