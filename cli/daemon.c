/* SPDX-License-Identifier: ISC */
/*
 * smimesync daemon: a full sync at start and every [service] interval (plus
 * jitter), in the foreground, as systemd wants it; in between, each
 * directory's change stream is followed (cli/daemon_watch.h) and a change
 * is acted on within seconds by an incremental run (sync/run.h, struct
 * run_scope).
 *
 * The daemon holds an exclusive flock on state_dir/daemon.lock for its
 * whole life, so a second daemon on the same state directory refuses to
 * start (a manual "smimesync run" still works between the daemon's runs:
 * it takes the per-run store lock, which the daemon only holds while it
 * runs). Signal handlers only set flags; the main loop waits in ppoll()
 * with every handled signal blocked except while waiting, so no signal is
 * lost between looking at the flags and going to sleep:
 *   SIGHUP   load and validate the configuration again; an invalid one is
 *            logged and the running one kept
 *   SIGTERM, SIGINT  set run_stop_requested: the user being processed
 *            finishes its current step, nobody else starts, the report says
 *            "interrupted"; then exit 0
 *   SIGUSR1  run now (during a run: once more right after it)
 * Under systemd (Type=notify) it reports READY, RELOADING, STOPPING and a
 * STATUS line with the last run and the next one (cli/sdnotify.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "common/fileutil.h"
#include "common/log.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "conf/conf.h"
#include "cli/commands.h"
#include "sync/crl_update.h"
#include "report/metrics.h"
#include "sync/run.h"
#include "cli/sdnotify.h"
#include "cli/progress.h"
#include "cli/daemon_watch.h"

/* Set by the signal handler, which can reach nothing but file-scope flags. */
static volatile sig_atomic_t got_hup, got_term, got_usr1;

/* What the daemon carries from start to stop. */
struct daemon {
	const struct cli_options *cli;
	struct config *cfg; /* replaced by each valid reload */
	char last_run[160]; /* the last recorded run, for systemctl status (STATUS=) */
	char prev_run[160]; /* the same while a run is going on (last_run is refilled) */
	struct daemon_watches *watches; /* the change streams followed (daemon_watch.h) */
	bool reloaded;      /* SIGHUP: the next run says so */
};

/* A run's finished hook (arg: the daemon): metrics, and the run for the status line. */
static void
daemon_run_hook(const struct config *cfg, const char *report_json, void *arg)
{
	struct daemon *d = arg;
	json_t *doc = json_loads(report_json, 0, NULL);
	const char *id = json_string_value(json_object_get(doc, "id"));
	const char *status = json_string_value(json_object_get(doc, "status"));

	metrics_run_hook(cfg, report_json, NULL);
	snprintf(d->last_run, sizeof(d->last_run), "last run %s: %s", id ? id : "?",
	    status ? status : "?");
	json_decref(doc);
}

static void
on_signal(int sig)
{
	switch (sig) {
	case SIGHUP:
		got_hup = 1;
		break;
	case SIGTERM:
	case SIGINT:
		got_term = 1;
		run_stop_requested = 1;
		break;
	case SIGUSR1:
		got_usr1 = 1;
		break;
	default:
		break;
	}
}

/*
 * Take state_dir/daemon.lock for the life of the process. The lock file
 * holds our pid so that the refusal can name the daemon already running.
 */
static int
daemon_lock(const char *state_dir, int *fd_out, struct errbuf *e)
{
	char *path = xasprintf("%s/daemon.lock", state_dir);
	char pid[32], other[32];
	ssize_t got;
	int fd = -1, rc = -1;

	if (mkdir_p(state_dir, 0700, e) != 0)
		goto out;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		err_set(e, "%s: cannot open the daemon lock: %s", path, strerror(errno));
		goto out;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno != EWOULDBLOCK) {
			err_set(e, "%s: cannot lock: %s", path, strerror(errno));
			goto out;
		}
		got = pread(fd, other, sizeof(other) - 1, 0);
		other[got > 0 ? got : 0] = '\0';
		str_trim(other);
		err_set(e, "another smimesync daemon%s%s already runs on state directory %s "
		    "(it holds %s); stop it first (systemctl stop smimesync), or give this one "
		    "a configuration with its own state_dir", other[0] ? " with pid " : "", other,
		    state_dir, path);
		goto out;
	}
	snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, strlen(pid), 0) < 0) {
		err_set(e, "%s: cannot write our pid: %s", path, strerror(errno));
		goto out;
	}
	*fd_out = fd;
	fd = -1;
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(path);
	return rc;
}

/* Seconds until the next run: interval plus a random share of jitter. */
static int64_t
next_delay(const struct config *cfg)
{
	uint64_t r = 0;

	if (cfg->service.jitter <= 0)
		return cfg->service.interval;
	if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
		r = (uint64_t)time(NULL) ^ (uint64_t)getpid();
	return cfg->service.interval + (int64_t)(r % (uint64_t)(cfg->service.jitter + 1));
}

/* SIGHUP: the new configuration replaces d->cfg only if it is valid. */
static void
reload(struct daemon *d)
{
	const char *conf_path = d->cli->conf_path;
	struct conf_errors errs = { NULL, 0 };
	struct config *fresh = NULL;
	struct errbuf e;

	sd_notifyf("RELOADING=1");
	if (config_load(conf_path, &fresh, &errs) != 0) {
		for (size_t i = 0; i < errs.n; i++)
			log_error("reload: %s", errs.msgs[i]);
		log_error("reload: %zu error%s in %s; keeping the running configuration",
		    errs.n, errs.n == 1 ? "" : "s", conf_path);
		conf_errors_free(&errs);
		sd_notifyf("READY=1\nSTATUS=reload refused: %s has errors (see the log); %s",
		    conf_path, d->last_run);
		return;
	}
	conf_errors_free(&errs);
	if (strcmp(fresh->service.state_dir, d->cfg->service.state_dir) != 0) {
		log_error("reload: state_dir changed from %s to %s; the daemon holds the lock on "
		    "the old one, so the running configuration is kept: restart the daemon to "
		    "move it", d->cfg->service.state_dir, fresh->service.state_dir);
		config_free(fresh);
		sd_notifyf("READY=1\nSTATUS=reload refused: state_dir changed; %s", d->last_run);
		return;
	}
	/* The watches borrow the configuration: close them first, open them anew. */
	watches_close(d->watches);
	d->watches = NULL;
	config_free(d->cfg);
	d->cfg = fresh;
	commands_apply_logging(d->cfg, d->cli);
	d->reloaded = true;
	if (watches_open(d->cfg, &d->watches, &e) != 0) {
		/* The daemon runs on: full reads at interval, the reason in the log. */
		log_error("reload: %s", e.text);
	}
	log_info("reload: configuration %s loaded (%zu groups, interval %llds)", conf_path,
	    d->cfg->n_groups, (long long)d->cfg->service.interval);
	sd_notifyf("READY=1\nSTATUS=configuration reloaded; %s", d->last_run);
}

static enum run_status
one_run(struct daemon *d, FILE *devnull, struct run_scope *scope)
{
	/* The report goes to the store and the log, not to a terminal. */
	struct run_options opt = {
		.dry_run = false,
		.format = REPORT_TEXT,
		.out = devnull,
		.finished = daemon_run_hook,
		.finished_arg = d,
		.progress = cli_progress_hook,
		.scope = scope,
	};
	struct cli_progress cp;
	enum run_status st;

	/* systemctl status and the metrics file follow the run; the journal does not. */
	cli_progress_start(&cp, d->cfg, false, true);
	snprintf(cp.status_suffix, sizeof(cp.status_suffix), "%s", d->prev_run);
	opt.progress_arg = &cp;
	st = run_sync(d->cfg, &opt);
	cli_progress_stop(&cp);

	/* Keep every CRL fresh (S/MIME BR: a new one at least weekly). */
	crl_refresh_after_run(d->cfg);
	return st;
}

/*
 * A run, and what the daemon says about it. full: every group read whole,
 * for trigger; else the changes the streams delivered.
 */
static void
daemon_run(struct daemon *d, FILE *devnull, const sigset_t *waitmask, const sigset_t *blocked,
    bool full, bool due, const char *trigger)
{
	struct run_scope sc;
	enum run_status rs;
	char why[600];

	memset(&sc, 0, sizeof(sc));
	snprintf(why, sizeof(why), "%s", trigger);
	if (full)
		(void)watches_poll(d->watches, 0); /* the newest positions: the full read covers them */
	watches_scope(d->watches, full, due, why, &sc);
	sd_notifyf("STATUS=running (%s); %s", why, d->last_run[0] ? d->last_run : "first run");
	/* The hook fills it again if this run is recorded. */
	snprintf(d->prev_run, sizeof(d->prev_run), "%s", d->last_run[0] ? d->last_run :
	    "first run");
	d->last_run[0] = '\0';
	log_info("%s run: %s", sc.kind, why);
	/* Unblocked while running: SIGTERM must reach run_stop_requested now. */
	sigprocmask(SIG_SETMASK, waitmask, NULL);
	rs = one_run(d, devnull, &sc);
	sigprocmask(SIG_SETMASK, blocked, NULL);
	watches_done(d->watches, &sc);
	if (!got_term)
		log_info("run ended (%s)", rs == RUN_OK ? "ok" : rs == RUN_PARTIAL ? "partial" :
		    "failed");
}

/* systemctl status after a run: the run, and when the next one is due. */
static void
status_after(const struct daemon *d, int64_t next_s)
{
	if (got_term)
		return;
	sd_notifyf("STATUS=%s; next run in %llds", d->last_run[0] ? d->last_run :
	    "the run was not recorded (see the log)", (long long)(next_s > 0 ? next_s : 0));
}

static int
daemon_loop(struct daemon *d, const sigset_t *waitmask, const sigset_t *blocked)
{
	FILE *devnull = fopen("/dev/null", "w");
	struct timespec now, due;
	const char *trigger = "daemon start"; /* a run at start, then every interval */

	if (devnull == NULL) {
		log_error("cannot open /dev/null: %s", strerror(errno));
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &due);
	for (;;) {
		const char *why = NULL;
		bool waited;

		/* Signals are blocked here: the flags cannot change under us. */
		if (got_term)
			break;
		if (got_hup) {
			got_hup = 0;
			reload(d);
		}
		if (got_usr1) {
			got_usr1 = 0;
			log_info("SIGUSR1: running now");
			trigger = "SIGUSR1 (run now)";
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (trigger == NULL && now.tv_sec >= due.tv_sec)
			trigger = "interval";
		if (trigger == NULL && watches_full_due(d->watches, &why))
			trigger = why;
		if (trigger != NULL) {
			int64_t delay;

			/*
			 * The time-driven work (renewals, reminders, the queues,
			 * the CRL) needs to know who is a member now. Where every
			 * directory is followed by a stream that can look people up
			 * alone, the run at the interval looks up only the people
			 * due by the clock; anything else is a full read.
			 */
			bool due_only = strcmp(trigger, "interval") == 0 &&
			    watches_follow_all(d->watches);

			daemon_run(d, devnull, waitmask, blocked, !due_only, due_only,
			    due_only ? "interval (the people due by the clock are looked up; the "
			    "streams follow everyone else)" : trigger);
			trigger = NULL;
			d->reloaded = false;
			delay = next_delay(d->cfg);
			clock_gettime(CLOCK_MONOTONIC, &due);
			due.tv_sec += (time_t)delay;
			if (!got_term)
				log_info("next run in %llds", (long long)delay);
			status_after(d, delay);
			continue;
		}
		if (watches_due(d->watches, &why)) {
			char buf[600];

			snprintf(buf, sizeof(buf), "%s%s", d->reloaded ? "SIGHUP (configuration "
			    "reloaded): " : "", why);
			d->reloaded = false;
			daemon_run(d, devnull, waitmask, blocked, false, false, buf);
			clock_gettime(CLOCK_MONOTONIC, &now);
			status_after(d, due.tv_sec - now.tv_sec);
			continue;
		}
		/* Signals stay blocked while a stream is polled: libldap is not interrupted. */
		waited = watches_poll(d->watches, 1);
		struct timespec left = { waited ? 0 : due.tv_sec - now.tv_sec, 0 };

		if (left.tv_sec < 0)
			left.tv_sec = 0;
		if (!waited && d->watches != NULL && left.tv_sec > 1)
			left.tv_sec = 1; /* a stream to reopen, or to poll again */
		if (left.tv_sec > 3600)
			left.tv_sec = 3600; /* wake hourly: clock changes cannot strand us */
		/* Atomically unblock and sleep: a signal either came before (flag
		 * set, ppoll returns at once) or wakes us. */
		if (ppoll(NULL, 0, &left, waitmask) < 0 && errno != EINTR) {
			log_error("ppoll: %s", strerror(errno));
			fclose(devnull);
			return 1;
		}
	}
	log_info("stopping on a signal");
	sd_notifyf("STOPPING=1");
	fclose(devnull);
	return 0;
}

int
cmd_daemon(int argc, char **argv, const struct cli_options *cli)
{
	static const int sigs[] = { SIGHUP, SIGTERM, SIGINT, SIGUSR1 };
	struct daemon d = { .cli = cli, .cfg = NULL, .last_run = "" };
	struct sigaction sa;
	sigset_t blocked, waitmask;
	struct errbuf e;
	int lock_fd = -1, rc = 1;

	(void)argv;
	if (argc > 1)
		return cli_usage_error("daemon", "takes no arguments");
	d.cfg = commands_load_config(cli);
	if (d.cfg == NULL)
		return 1;
	if (daemon_lock(d.cfg->service.state_dir, &lock_fd, &e) != 0) {
		log_error("%s", e.text);
		/* Logged to syslog: whoever started us still reads why. */
		if (d.cfg->service.log_syslog)
			fprintf(stderr, "smimesync daemon: %s\n", e.text);
		goto out;
	}
	sigemptyset(&blocked);
	for (size_t i = 0; i < ARRAY_LEN(sigs); i++)
		sigaddset(&blocked, sigs[i]);
	sigprocmask(SIG_BLOCK, &blocked, &waitmask);
	for (size_t i = 0; i < ARRAY_LEN(sigs); i++)
		sigdelset(&waitmask, sigs[i]);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* SA_RESTART: LDAP, SMTP and SQLite calls in a run resume after a
	 * signal instead of failing; ppoll() is interrupted all the same. */
	sa.sa_flags = SA_RESTART;
	for (size_t i = 0; i < ARRAY_LEN(sigs); i++)
		sigaction(sigs[i], &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* incremental = yes without a stream: refuse to start, saying what to configure. */
	if (watches_open(d.cfg, &d.watches, &e) != 0) {
		log_error("%s", e.text);
		if (d.cfg->service.log_syslog)
			fprintf(stderr, "smimesync daemon: %s\n", e.text);
		goto out;
	}
	log_info("daemon started (pid %ld, state_dir %s, interval %llds, jitter up to %llds)",
	    (long)getpid(), d.cfg->service.state_dir, (long long)d.cfg->service.interval,
	    (long long)d.cfg->service.jitter);
	/* Ready once the lock is ours: the first run may take long. */
	sd_notifyf("READY=1\nMAINPID=%ld\nSTATUS=first run starting", (long)getpid());
	rc = daemon_loop(&d, &waitmask, &blocked);
	log_info("daemon stopped");
out:
	watches_close(d.watches);
	if (lock_fd >= 0)
		close(lock_fd);
	config_free(d.cfg);
	return rc;
}
