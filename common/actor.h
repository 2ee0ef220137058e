/* SPDX-License-Identifier: ISC */
/*
 * Who runs this process, for the audit log: the login name of the real
 * user id (or "uid N" when it has no name), and under sudo the user who
 * called sudo. SUDO_USER is believed only when the real user is root, as
 * sudo leaves it: any other user could set it to anything.
 *
 *   struct actor a;
 *   actor_of_process(&a);       a.name "root", a.sudo_user "alice" (or "")
 */
#ifndef SMIMESYNC_COMMON_ACTOR_H
#define SMIMESYNC_COMMON_ACTOR_H

struct actor {
	char name[64];      /* login name of getuid(), or "uid N" */
	char sudo_user[64]; /* SUDO_USER when root runs us through sudo, else "" */
};

void actor_of_process(struct actor *out);

#endif
