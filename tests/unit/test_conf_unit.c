/* SPDX-License-Identifier: ISC */
/*
 * conf/unit: the systemd unit as check-config reads it. User=, Group= and
 * the -c of ExecStart=; what ProtectSystem=strict, ProtectHome=,
 * PrivateTmp=, ReadWritePaths=, ReadOnlyPaths= and StateDirectory= leave
 * the service; drop-ins in name order with systemd's empty-assignment
 * reset; quoting, line continuation and the %S specifier.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "common/errbuf.h"
#include "conf/unit.h"

static char tmpdir[] = "/tmp/test_conf_unit.XXXXXX";

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0) {
		perror(path);
		exit(99);
	}
}

/* The unit as conf/smimesync.service.in has it (paths filled in). */
static const char shipped[] =
    "[Unit]\n"
    "Description=smimesync\n"
    "# User=root in a comment changes nothing\n"
    "[Service]\n"
    "Type=notify\n"
    "User=smimesync\n"
    "Group=smimesync\n"
    "ExecStart=/usr/sbin/smimesync -c /etc/smimesync/smimesync.conf daemon\n"
    "StateDirectory=smimesync\n"
    "StateDirectoryMode=0700\n"
    "ReadWritePaths=-/var/lib/smimesync\n"
    "ProtectSystem=strict\n"
    "ProtectHome=yes\n"
    "PrivateTmp=yes\n"
    "[Install]\n"
    "User=nobody\n";

/* Allowed (NULL) or not; the reason must name want_in_reason. */
static void
expect(const struct unit_sandbox *u, const char *path, bool write, const char *want_in_reason,
    int line)
{
	char *why = unit_sandbox_denies(u, path, write);

	check_count++;
	if (want_in_reason == NULL ? why != NULL :
	    (why == NULL || strstr(why, want_in_reason) == NULL)) {
		check_failures++;
		fprintf(stderr, "%s:%d: %s %s: got \"%s\", want %s%s\n", __FILE__, line,
		    write ? "write" : "read", path, why ? why : "(allowed)",
		    want_in_reason ? "a reason with " : "allowed", want_in_reason ? want_in_reason : "");
	}
	free(why);
}
#define ALLOWED(u, p, w) expect(u, p, w, NULL, __LINE__)
#define DENIED(u, p, w, reason) expect(u, p, w, reason, __LINE__)

static void
test_shipped(void)
{
	char path[256];
	struct unit_sandbox *u = NULL;
	struct errbuf e;

	snprintf(path, sizeof(path), "%s/smimesync.service", tmpdir);
	write_file(path, shipped);
	CHECK(unit_sandbox_load(path, &u, &e) == 0 && u != NULL);
	if (u == NULL)
		return;
	CHECK_STREQ(unit_sandbox_file(u), path);
	CHECK_STREQ(unit_sandbox_user(u), "smimesync");
	CHECK_STREQ(unit_sandbox_group(u), "smimesync");
	CHECK_STREQ(unit_sandbox_config(u), "/etc/smimesync/smimesync.conf");
	ALLOWED(u, "/var/lib/smimesync", true);
	ALLOWED(u, "/var/lib/smimesync/ca", true);
	ALLOWED(u, "/etc/smimesync/ldap.secret", false);
	DENIED(u, "/etc/smimesync", true, "ProtectSystem=strict");
	DENIED(u, "/var/www/pki", true, "ReadWritePaths=/var/www/pki");
	/* A sibling that shares a prefix is not covered. */
	DENIED(u, "/var/lib/smimesync-other", true, "ProtectSystem=strict");
	ALLOWED(u, "/var/www/pki/smime.crl", false);
	DENIED(u, "/home/alice/ldap.secret", false, "ProtectHome=yes");
	DENIED(u, "/root/ldap.secret", false, "ProtectHome=yes");
	DENIED(u, "/tmp/ldap.secret", false, "PrivateTmp=yes");
	DENIED(u, "/tmp", true, "private");
	DENIED(u, "/var/tmp/x", false, "PrivateTmp=yes");
	unit_sandbox_free(u);
}

static void
test_dropins(void)
{
	char path[256], dir[300], f[400];
	struct unit_sandbox *u = NULL;
	struct errbuf e;

	snprintf(path, sizeof(path), "%s/d.service", tmpdir);
	write_file(path, shipped);
	snprintf(dir, sizeof(dir), "%s.d", path);
	mkdir(dir, 0755);
	snprintf(f, sizeof(f), "%s/10-web.conf", dir);
	write_file(f, "[Service]\nReadWritePaths=/var/www/pki\n");
	CHECK(unit_sandbox_load(path, &u, &e) == 0 && u != NULL);
	ALLOWED(u, "/var/www/pki", true);
	ALLOWED(u, "/var/lib/smimesync", true);
	unit_sandbox_free(u);

	/* 20- comes after 10-: its empty assignment clears the list, then adds. */
	snprintf(f, sizeof(f), "%s/20-reset.conf", dir);
	write_file(f, "[Service]\nReadWritePaths=\nReadWritePaths=\"/srv/with space\" \\\n"
	    "  /srv/crl %S/other\nReadOnlyPaths=/srv/crl/ro\nUser=pki\n"
	    "ExecStart=\nExecStart=/usr/sbin/smimesync -v --config=/srv/conf/s.conf daemon\n");
	snprintf(f, sizeof(f), "%s/not-a-dropin.txt", dir);
	write_file(f, "[Service]\nReadWritePaths=/nowhere\n");
	u = NULL;
	CHECK(unit_sandbox_load(path, &u, &e) == 0 && u != NULL);
	if (u == NULL)
		return;
	DENIED(u, "/var/www/pki", true, "ProtectSystem=strict");
	DENIED(u, "/nowhere", true, "ProtectSystem=strict");
	ALLOWED(u, "/srv/with space", true);
	ALLOWED(u, "/srv/crl", true);
	ALLOWED(u, "/var/lib/other", true);
	/* StateDirectory= was not reset by the drop-in. */
	ALLOWED(u, "/var/lib/smimesync", true);
	/* Deeper wins: read-only inside a writable tree. */
	DENIED(u, "/srv/crl/ro", true, "ReadOnlyPaths=/srv/crl/ro");
	ALLOWED(u, "/srv/crl/ro", false);
	CHECK_STREQ(unit_sandbox_user(u), "pki");
	CHECK_STREQ(unit_sandbox_config(u), "/srv/conf/s.conf");
	unit_sandbox_free(u);
}

static void
test_exec_forms(void)
{
	static const struct {
		const char *exec;
		const char *config;
	} cases[] = {
		{"/usr/sbin/smimesync daemon", NULL},
		{"/usr/sbin/smimesync -c /a.conf daemon", "/a.conf"},
		{"-/usr/sbin/smimesync -v -c/b.conf daemon", "/b.conf"},
		{"/usr/sbin/smimesync --config /c.conf daemon", "/c.conf"},
		{"/usr/sbin/smimesync daemon -c /not-global.conf", NULL},
	};
	char path[256], text[512];

	snprintf(path, sizeof(path), "%s/e.service", tmpdir);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct unit_sandbox *u = NULL;
		struct errbuf e;

		snprintf(text, sizeof(text), "[Service]\nExecStart=%s\n", cases[i].exec);
		write_file(path, text);
		CHECK(unit_sandbox_load(path, &u, &e) == 0 && u != NULL);
		if (u == NULL)
			continue;
		if (cases[i].config == NULL)
			CHECK(unit_sandbox_config(u) == NULL);
		else
			CHECK_STREQ(unit_sandbox_config(u), cases[i].config);
		/* No sandbox settings: everything allowed, and no user (root). */
		ALLOWED(u, "/etc/smimesync", true);
		CHECK(unit_sandbox_user(u) == NULL);
		unit_sandbox_free(u);
	}
}

static void
test_missing(void)
{
	struct unit_sandbox *u = NULL;
	struct errbuf e;
	char path[256];

	snprintf(path, sizeof(path), "%s/none.service", tmpdir);
	err_clear(&e);
	CHECK(unit_sandbox_load(path, &u, &e) != 0);
	CHECK(u == NULL);
	CHECK_CONTAINS(e.text, "none.service");
}

int
main(void)
{
	char cmd[300];
	int rc;

	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 99;
	}
	test_shipped();
	test_dropins();
	test_exec_forms();
	test_missing();
	rc = check_finish();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	return rc;
}
