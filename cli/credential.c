/* SPDX-License-Identifier: ISC */
/*
 * The operator's side of key recovery: the credential the signer's policy
 * asks for (read from a file or typed at the terminal, never an argument
 * that ps would show). Who is asking comes from common/actor.h, as in the
 * audit log.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "common/fileutil.h"
#include "common/xalloc.h"
#include "cli/commands.h"

/* A line from the terminal with echo off (new, secret), or NULL. */
static char *
prompt(const char *what)
{
	struct termios old, quiet;
	char line[1024];
	char *nl, *out = NULL;
	FILE *tty = fopen("/dev/tty", "r+e");
	bool echo_off = false;

	if (tty == NULL)
		return NULL;
	fprintf(tty, "%s: ", what);
	fflush(tty);
	if (tcgetattr(fileno(tty), &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		echo_off = tcsetattr(fileno(tty), TCSAFLUSH, &quiet) == 0;
	}
	if (fgets(line, sizeof(line), tty) != NULL) {
		nl = strpbrk(line, "\r\n");
		if (nl != NULL)
			*nl = '\0';
		out = xstrdup(line);
	}
	if (echo_off)
		(void)tcsetattr(fileno(tty), TCSAFLUSH, &old);
	fputc('\n', tty);
	fclose(tty);
	memset(line, 0, sizeof(line));
	return out;
}

int
commands_read_credential(const char *file, char **out)
{
	struct errbuf e;

	*out = NULL;
	if (file != NULL) {
		if (file_read_password(file, out, &e) != 0) {
			fprintf(stderr, "smimesync: the recovery credential: %s\n", e.text);
			return -1;
		}
		return 0;
	}
	if (!isatty(STDIN_FILENO) || (*out = prompt("Recovery credential")) == NULL ||
	    (*out)[0] == '\0') {
		secret_free_str(*out);
		*out = NULL;
		fprintf(stderr, "smimesync: key recovery needs the operator's recovery credential: "
		    "give --credential FILE, or run this at a terminal to type it\n");
		return -1;
	}
	return 0;
}
