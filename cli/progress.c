/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common/log.h"
#include "report/metrics.h"
#include "cli/progress.h"
#include "cli/sdnotify.h"

/* How often each audience is told: a terminal redraw, systemd, the metrics file. */
#define DRAW_EVERY 0.1
#define NOTIFY_EVERY 1.0
#define METRICS_EVERY 10.0

static void
format_line(const struct cli_progress *cp, const struct run_progress *p, bool final, char *out,
    size_t size)
{
	size_t n;

	progress_format(p, out, size);
	n = strlen(out);
	if (final && n + 1 < size) {
		double took = p->now - p->started;
		unsigned long s = (unsigned long)(took + 0.5);

		if (took >= 1)
			snprintf(out + n, size - n, ", done in %lu:%02lu", s / 60, s % 60);
		else
			snprintf(out + n, size - n, ", done");
	}
	/* One screen line: a wrapped line cannot be rewritten in place. */
	if (cp->width > 1 && strlen(out) >= (size_t)cp->width)
		out[cp->width - 1] = '\0';
}

static void
draw(struct cli_progress *cp, const struct run_progress *p, bool final)
{
	char line[256];

	format_line(cp, p, final, line, sizeof(line));
	fprintf(stderr, "\r%s\033[K%s", line, final ? "\n" : "");
	fflush(stderr);
	cp->shown = !final;
	cp->drawn = p->now;
}

/* Log hooks: clear the unfinished line before a log line, draw it again after. */
static void
before_log(void *arg)
{
	struct cli_progress *cp = arg;

	if (cp->shown)
		fputs("\r\033[K", stderr);
}

static void
after_log(void *arg)
{
	struct cli_progress *cp = arg;

	if (cp->shown)
		draw(cp, &cp->last, false);
}

void
cli_progress_start(struct cli_progress *cp, const struct config *cfg, bool tty, bool notify)
{
	struct winsize ws;

	memset(cp, 0, sizeof(*cp));
	cp->cfg = cfg;
	cp->tty = tty;
	cp->notify = notify;
	cp->phase = PHASE_DONE;
	cp->width = 80;
	if (tty && ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20)
		cp->width = ws.ws_col;
	if (tty)
		log_set_stderr_hooks(before_log, after_log, cp);
}

void
cli_progress_stop(struct cli_progress *cp)
{
	if (cp->tty) {
		if (cp->shown)
			draw(cp, &cp->last, true);
		log_set_stderr_hooks(NULL, NULL, NULL);
	}
}

void
cli_progress_hook(const struct run_progress *p, void *arg)
{
	struct cli_progress *cp = arg;
	bool new_phase = p->phase != cp->phase;
	bool complete = p->total > 0 && p->done >= p->total;

	if (cp->tty) {
		/* The phase that ended stays on the screen with its total and time. */
		if (new_phase && cp->shown)
			draw(cp, &cp->last, true);
		cp->last = *p;
		if (p->phase != PHASE_DONE &&
		    (new_phase || complete || p->now - cp->drawn >= DRAW_EVERY))
			draw(cp, p, false);
	}
	cp->last = *p;
	cp->phase = p->phase;
	if (cp->notify && (new_phase || p->now - cp->notified >= NOTIFY_EVERY)) {
		char line[256];

		progress_format(p, line, sizeof(line));
		if (p->phase != PHASE_DONE)
			(void)sd_notifyf("STATUS=running: %s%s%s", line,
			    cp->status_suffix[0] ? "; " : "", cp->status_suffix);
		cp->notified = p->now;
	}
	if (cp->cfg != NULL && cp->cfg->service.metrics_file != NULL && p->phase != PHASE_DONE &&
	    (new_phase || p->now - cp->metrics_written >= METRICS_EVERY)) {
		struct errbuf e;

		if (metrics_write_progress(cp->cfg, p, &e) != 0)
			log_debug("metrics during the run: %s", e.text);
		cp->metrics_written = p->now;
	}
}
