/* SPDX-License-Identifier: ISC */
/*
 * The planner: pure functions of (members, stored state, policy, now)
 * that decide everything a run changes, each decision with a one-line
 * reason for people. They read nothing and write nothing, so `run
 * --dry-run` reports exactly the plan and tests need no servers. The
 * executors (run.c, provision.c, retire.c, remind.c) carry decisions out
 * and report them; they decide nothing themselves.
 *
 * A plan is made in two steps, because the second looks at the
 * certificates that the first step's work produced (a renewal done in
 * this run supersedes a certificate; a new one may need a reminder):
 *
 * Step 1, plan_build(): one plan_item per person read from the directory.
 *
 *   issue      no valid certificate in the store
 *   renew      the current certificate expires within the group's renew_before
 *   reissue    the directory's mail differs from the certificate's
 *   resume     an earlier run left this person's provisioning unfinished
 *              (never when the certificate it made, or the person's
 *              certificate, was revoked or superseded since: then the
 *              unfinished action is closed, plan_item.abandon, and the
 *              person is skipped as revoked -- invariant I4)
 *   republish  the certificate is valid but not (yet) in the directory
 *   nothing    valid, published, not due
 *   skip       not provisioned, with the reason: no usable mail, disabled,
 *              ignored by an admin, revoked (an admin must ask for a new
 *              one), or the group that governed this person could not be
 *              read in this run (a failed read changes nothing)
 *
 *   A person in several synced groups is planned once, under the first
 *   group in configuration order; plan_item.also_in names the others.
 *
 *   Addresses (sync/plan_mail.c, invariant I5): a certificate carries the
 *   primary address and the alternative addresses in plan_item.alt_mails,
 *   only those within the group's allowed_domains (or [service]
 *   mail_domains) and claimed by nobody else; a person whose primary
 *   address fails a rule is skipped with the reason, and every address
 *   claimed by two people is listed in plan.conflicts with both of them.
 *   A certificate that carries an address the person may no longer have
 *   is re-issued. Everyone read in this run is compared here; entries in
 *   no synced group are asked about in step 1c.
 *
 *   An unfinished provisioning whose addresses are no longer the
 *   person's (the primary address changed, or its certificate names one
 *   the person may no longer carry) is not resumed: it is closed
 *   (abandon), its certificate revoked (revoke_open), and a new
 *   certificate is planned for the current addresses (reissue).
 *
 * Step 1b, plan_issue_valve(): the mass-issuance valve. When more people
 *   would get a new certificate (issue, not forced by an admin) than
 *   [service] max_new_per_run -- by default the larger of 50 and 10 % of
 *   the people holding a current certificate -- none of them is issued in
 *   this run: they are skipped ("held by the mass-issuance valve") and
 *   plan.issue_valve says why, unless the admin confirmed with `smimesync
 *   run --allow-mass-issue` (then plan.issue_valve says so, as a notice:
 *   opened on purpose, it is not an error).
 *
 * Step 1c, plan_outsiders(): the engine has asked the directory who
 *   holds each address of every certificate about to be requested
 *   (plan_item.check_holders; one search per address, so the cost follows
 *   issuance, not the number of people); an address that an entry in no
 *   synced group holds too is certified for neither.
 *
 * Step 2, plan_holders(): over every live certificate in the store
 * (store_holders(), read after step 1's work is done).
 *
 *   Leavers (plan_leaver): people who hold a current certificate but are
 *   no longer members of any synced group, or whose account is disabled
 *   or expired. Only groups read successfully in this run are judged: a
 *   directory that is down or a group that failed to read retires nobody.
 *   In an incremental run, people looked up alone with all their
 *   memberships (known) are judged as well, whatever was read.
 *   Newly seen leavers are recorded (users.left_at); under on_leave =
 *   revoke they are revoked once leave_grace has passed. Someone recorded
 *   as gone who is a member again is simply a member again.
 *
 *   The safety valve (plan.valve): when more than [service] max_retire
 *   people, or more than max_retire_percent of one group (and at least 3
 *   people), would newly leave in one run, nobody is retired and the
 *   report says why, unless the admin confirmed with `smimesync run
 *   --allow-mass-retire`.
 *
 *   Reminders (plan_reminder), per the group's reminder thresholds. Each
 *   threshold is sent at most once per certificate; after downtime only
 *   the nearest due threshold goes out and the larger ones are marked as
 *   passed. What the mail says depends on what will happen:
 *
 *     reminder-renew    a member's current certificate: renewed
 *                       automatically at renew_at, nothing to do (none
 *                       once renewal is due: the renewal mail says it all)
 *     reminder-leaver   a recorded leaver's or disabled person's
 *                       certificate: not renewed, whom to ask (none with
 *                       on_leave = keep)
 *     reminder-install  a certificate superseded by a renewal: install
 *                       the new one before the old one expires
 *     passed-at-renewal no mail: thresholds already passed when the
 *                       renewal happened are not news (the renewal mail
 *                       just arrived); they are only marked
 *
 *   Nobody is reminded without a [mail] section, whose group could not be
 *   read in this run, who is ignored, or whose notifications are
 *   suspended. Reminders are planned on the store as the planned
 *   retirement leaves it: a new leaver is already a leaver, one who came
 *   back is a member, a certificate being revoked gets no reminder.
 */
#ifndef SMIMESYNC_SYNC_PLAN_H
#define SMIMESYNC_SYNC_PLAN_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "conf/conf.h"
#include "directory/directory.h"
#include "store/store.h"

enum plan_action {
	PLAN_NOTHING = 0,
	PLAN_ISSUE,
	PLAN_RENEW,
	PLAN_REISSUE,
	PLAN_RESUME,
	PLAN_REPUBLISH,
	PLAN_SKIP,
};

const char *plan_action_name(enum plan_action a);

/*
 * One member as read from a group: borrowed user, index into cfg->groups.
 * known: the person was looked up alone in this run (an incremental run,
 * dir_read_person()) with every membership they have in their directory,
 * so they are judged although their groups were not read whole.
 */
struct plan_member {
	const struct user *user;
	size_t group;
	bool known;
};

struct plan_item {
	const struct user *user;      /* borrowed */
	size_t group;                 /* index into cfg->groups: the governing group */
	enum plan_action action;
	char reason[512];             /* one line for people: why this action */
	int64_t cert_id;              /* current valid certificate, 0 if none */
	time_t not_after;             /* of that certificate */
	int64_t open_action;          /* unfinished action to resume, 0 if none */
	char also_in[256];            /* other synced groups this user is in */
	bool forced;                  /* issue requested by an admin (smimesync issue) */
	bool hold;                    /* governing group unread: touch nothing of theirs */
	bool known;                   /* looked up alone with all their memberships
	                                 (plan_member.known): judged though groups were held */
	int64_t abandon;              /* unfinished action to close unfinished (I4), 0 if none */
	const char **alt_mails;       /* new array of borrowed strings: the alternative addresses
	                                 the certificate may carry (I5) */
	size_t n_alt_mails;
	bool check_holders;           /* a certificate is about to be requested: who else in
	                                 the directory holds its addresses is asked first (I5,
	                                 plan_outsiders()) */
	int64_t revoke_open;          /* with abandon: the valid certificate that action made,
	                                 to revoke (its addresses are no longer the person's) */
};

/* An address claimed by two people: certified for neither (I5). */
struct plan_conflict {
	char addr[256];               /* lowercased */
	const struct user *a, *b;     /* borrowed: two of the people who claim it; b is NULL
	                                 when the other is an entry in no synced group */
	char *outsider;               /* new, with b NULL: that entry's DN */
};

/*
 * What the directory answered about one address of an item with
 * check_holders (plan_outsiders()). The engine asks, the planner decides.
 */
struct plan_holder_check {
	size_t item;                  /* index into plan.items */
	const char *addr;             /* borrowed: the address asked about */
	const char *other;            /* borrowed: the DN of an entry other than the person
	                                 (and not read in this run) that holds it, or NULL */
	const char *error;            /* borrowed: why the directory could not be asked, or NULL */
};

enum plan_leave {
	PLAN_LEAVE_BACK = 0, /* recorded as gone, an enabled member again: clear left_at */
	PLAN_LEAVE_KEEP,     /* newly gone, on_leave = keep | stop-renewing: record it; the
	                        certificate is not renewed and stays until it expires */
	PLAN_LEAVE_GRACE,    /* newly gone, on_leave = revoke: record it; revoked once
	                        leave_grace has passed, unless they come back */
	PLAN_LEAVE_REVOKE,   /* on_leave = revoke and leave_grace has passed: revoke and
	                        unpublish (recording the leaver first when newly gone) */
};

struct plan_leaver {
	const struct store_holder *h; /* borrowed: the person's current certificate */
	size_t group;                 /* index into cfg->groups: the group it was issued under */
	enum plan_leave action;
	bool fresh;                   /* first seen gone in this run: left_at becomes now */
	const char *left;             /* static: why they count as gone (users.left_reason) */
	char reason[512];             /* one line for people: what happens to the certificate */
	int64_t abandon;              /* PLAN_LEAVE_REVOKE of an undelivered certificate: the
	                                 unfinished provisioning to close after it, else 0 */
};

struct plan_valve {
	bool closed;  /* some limit was exceeded: why[] says which */
	bool held;    /* closed and not overridden: nobody is retired in this run (only
	                 PLAN_LEAVE_BACK is carried out) */
	char **why;   /* new: one line per limit exceeded, for the report */
	size_t n_why;
};

enum plan_remind {
	PLAN_REMIND_RENEW = 0, /* "reminder-renew" */
	PLAN_REMIND_LEAVER,    /* "reminder-leaver" */
	PLAN_REMIND_INSTALL,   /* "reminder-install" */
	PLAN_REMIND_PASSED,    /* "passed-at-renewal": mark[] only, no mail */
};

/* The template and the reminders.kind of k, as above. */
const char *plan_remind_name(enum plan_remind k);

struct plan_reminder {
	const struct store_holder *h;     /* borrowed: the certificate it is about */
	const struct store_holder *newer; /* borrowed, install and passed: its replacement */
	size_t group;                     /* index into cfg->groups: h's group */
	enum plan_remind kind;
	int64_t threshold;                /* the threshold now due, seconds before expiry */
	time_t renew_at;                  /* renew: when the certificate will be renewed */
	const char *left;                 /* leaver, static: why, as the mail tells them */
	int64_t mark[CONF_MAX_REMINDERS]; /* thresholds to record as done: the due one and
	                                     every larger one (never sent later) */
	size_t n_mark;
	char reason[256];                 /* one line for people */
};

struct plan {
	/* Step 1, plan_build(): one item per distinct member, in member order. */
	struct plan_item *items;
	size_t n_items;
	struct plan_conflict *conflicts;
	size_t n_conflicts;
	/* Step 1b, plan_issue_valve(). */
	struct plan_valve issue_valve;
	size_t n_new;                 /* new certificates this run would issue */
	size_t max_new;               /* the limit that applied */
	/* Step 2, plan_holders(), in the order of the holders list. */
	struct plan_leaver *leavers;
	size_t n_leavers;
	struct plan_valve valve;
	struct plan_reminder *reminders;
	size_t n_reminders;
};

/*
 * Step 1. members: in group order (all of group 0, then group 1 ...).
 * states: sorted by user_id (as store_load_states returns them).
 * group_failed: per cfg->groups index, true when that group's read failed
 * in this run (NULL: none failed). *out is set afresh; its items borrow
 * from members. Free it with plan_free().
 */
void plan_build(const struct config *cfg, const struct plan_member *members, size_t n_members,
    const struct store_user_state *states, size_t n_states, const bool *group_failed,
    time_t now, struct plan *out);

/*
 * Step 1b, on a plan from plan_build(): the mass-issuance valve. states as
 * for plan_build(); allow_mass_issue: the admin opened it for this run.
 */
void plan_issue_valve(const struct config *cfg, const struct store_user_state *states,
    size_t n_states, bool allow_mass_issue, time_t now, struct plan *p);

/*
 * Step 1c, after plan_issue_valve(): the answers of the directory about
 * the addresses of every item with check_holders, in item order. An
 * address that an entry outside the synced groups holds too is certified
 * for neither: the person is skipped over a primary address, an
 * alternative one is left out, and either goes to plan.conflicts. An
 * address the directory could not be asked about is never certified
 * unchecked: the person is skipped in this run, and the next run asks
 * again.
 */
void plan_outsiders(const struct plan_holder_check *v, size_t n, struct plan *p);

/*
 * Step 2, on a plan from plan_build(). holders: as store_holders()
 * returns them (ordered by user id, newest first), borrowed by the plan
 * until plan_free(). group_failed: as for plan_build(). known: user ids
 * (borrowed, any order) an incremental run looked up alone and found in
 * none of their directory's groups, or not at all: judged as leavers
 * although their groups were not read (the items with .known are judged
 * too). allow_mass_retire: the admin opened the safety valve for this run.
 */
void plan_holders(const struct config *cfg, const struct store_holder *holders,
    size_t n_holders, const bool *group_failed, const char *const *known, size_t n_known,
    bool allow_mass_retire, time_t now, struct plan *p);

/*
 * Who is due by the clock (plan_due.c): the user ids (borrowed from
 * states and holders; *out new, sorted, each once) whose plan at now may
 * differ from the last run's for a reason other than a change in the
 * directory: an admin's request, an unfinished provisioning, a member's
 * certificate expired, due for renewal or not yet published, a recorded
 * leaver's grace over, a reminder due. An interval run that follows change
 * streams looks up only these people (run.c) instead of reading every
 * group; the daily full read still reads everyone.
 */
void plan_due(const struct config *cfg, const struct store_user_state *states,
    size_t n_states, const struct store_holder *holders, size_t n_holders, time_t now,
    const char ***out, size_t *n_out);

void plan_free(struct plan *p);

/* Find a user's stored state in the sorted array, NULL if none. */
const struct store_user_state *plan_find_state(const struct store_user_state *states, size_t n,
    const char *user_id);

#endif
