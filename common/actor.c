/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/actor.h"

/* A name fit for a log line: printable ASCII without spaces, else empty. */
static void
copy_name(char *dst, size_t size, const char *src)
{
	size_t n = 0;

	dst[0] = '\0';
	if (src == NULL)
		return;
	for (; src[n] != '\0'; n++)
		if (src[n] <= ' ' || src[n] > '~' || n + 1 >= size)
			return;
	memcpy(dst, src, n + 1);
}

void
actor_of_process(struct actor *out)
{
	uid_t uid = getuid();
	struct passwd pw, *res = NULL;
	char buf[4096];

	memset(out, 0, sizeof(*out));
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) == 0 && res != NULL)
		copy_name(out->name, sizeof(out->name), res->pw_name);
	if (out->name[0] == '\0')
		snprintf(out->name, sizeof(out->name), "uid %lu", (unsigned long)uid);
	if (uid == 0)
		copy_name(out->sudo_user, sizeof(out->sudo_user), getenv("SUDO_USER"));
}
