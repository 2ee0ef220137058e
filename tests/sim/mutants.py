#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Show that the lifecycle simulation fails when the engine breaks an invariant.

  tests/sim/mutants.py --srcdir SRC [--work DIR] [--keep] [--shrink-budget N] [NAME ...]

Copies the source tree (tracked files, as they are in the work tree) to a
scratch directory, builds it once, then for each planted bug below: makes
the change (one line, or two guards that back each other up), rebuilds,
runs the simulation with --only the checks that must catch it, and undoes
the change. A mutant is "caught" when a seed fails on one of its checks,
"MISSED" otherwise, "STALE" when its text is no longer in the source (the
code moved on: update the mutant). Exit status 0 when every mutant was
caught. Each takes 2 to 8 minutes on 2 cores (a rebuild, the seeds until
one fails, the shrinking); not in CI. Name mutants to run only those.
"""
import argparse
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile

# name, [(file, text to find exactly once, replacement), ...], checks that
# must catch it, simulation arguments. Most are one change; a few switch off
# two guards that back each other up (the planner closes a stale action, the
# step refuses it again), since either alone keeps the invariant.
MUTANTS = [
    ("publish-keeps-superseded", [("sync/publish.c",
     "\t\tif (ours)\n\t\t\t*kind = VALUE_OURS_OLD;\n", "\t\t(void)ours;\n")],
     "I2-stale-superseded", "--first-seed 1 --seeds 4 --events 80"),
    ("publish-removes-foreign", [("sync/publish.c",
     "\t*kind = VALUE_FOREIGN;\n\tif (cert_info_get(cert, &ci, e) != 0)",
     "\t*kind = VALUE_OURS_OLD;\n\tif (cert_info_get(cert, &ci, e) != 0)")],
     "I2-foreign", "--first-seed 1 --seeds 1 --events 20"),
    ("revoke-keeps-published", [("sync/revoke.c",
     "\tif (dn != NULL && target != NULL) {", "\tif (dn != NULL && target != NULL && 0) {")],
     "I4-revoke-unpublished,I4-republished", "--first-seed 1 --seeds 4 --events 80"),
    ("crl-forgets-revocations", [("sync/crl_update.c",
     "ca_make_crl(ca, ent, n, number", "ca_make_crl(ca, ent, 0, number")],
     "I3-crl-missing", "--first-seed 1 --seeds 4 --events 80"),
    ("crl-number-stuck", [("sync/crl_update.c",
     "&number, e) != 0)\n\t\tgoto rollback;\n",
     "&number, e) != 0)\n\t\tgoto rollback;\n\tnumber = 1;\n")],
     "I3-crl-number", "--first-seed 1 --seeds 1 --events 20"),
    ("mail-sent-stays-queued", [("sync/outbox.c",
     "\t\tstate = \"sent\";\n", "\t\tstate = \"queued\";\n")],
     "I6-twice", "--replay 'run; clock +1d; run; clock +1d; run'"),
    ("password-mail-never-queued", [("sync/collection_mail.c",
     "\t    mailq_add(en, \"password\", &to, c->password_mail, c->password_mail_len, e) != 0)",
     "\t    (0 && mailq_add(en, \"password\", &to, c->password_mail, c->password_mail_len, e)))")],
     "I6-lost", "--first-seed 1 --seeds 1 --events 20"),
    ("expired-not-reissued", [("sync/plan.c",
     "st->not_after <= now) {\n\t\tit->action = PLAN_ISSUE;",
     "st->not_after <= now) {\n\t\tit->action = st != NULL && st->cert_id != 0 ? "
     "PLAN_NOTHING : PLAN_ISSUE;")],
     "I1-missing", "--first-seed 1 --seeds 6 --events 100"),
    ("unread-group-judged", [("sync/plan_holders.c",
     "judged[gi] = cfg->groups[gi].enabled && (group_failed == NULL || !group_failed[gi]);",
     "judged[gi] = cfg->groups[gi].enabled;")],
     "R-spurious,I1-missing", "--first-seed 1 --seeds 8 --events 120"),
    # The paths issue #15 added (invariants I2-I6 enforced), each shown with
    # the shortest sequence that walks its path: the engine without the bug
    # passes each of these with --strict (no violation of any check).
    ("resume-publishes-revoked", [
        ("sync/plan.c", "\tif (st != NULL && st->open_action != 0 &&\n"
         "\t    stale_open_action(st, it->reason, sizeof(it->reason))) {",
         "\tif (0 && stale_open_action(st, it->reason, sizeof(it->reason))) {"),
        ("sync/provision.c", "\tif (cert_gone(en, a, &cur, \"published\", e))\n\t\tgoto out;\n",
         "")],
     "I4-republished", "--replay 'run crash=cert_stored; revoke p0; run'"),
    ("outbox-sends-revoked", [("sync/outbox.c",
     "\tif (m->cert_status != NULL && strcmp(m->cert_status, \"valid\") != 0 &&",
     "\tif (0 && m->cert_status != NULL && strcmp(m->cert_status, \"valid\") != 0 &&")],
     "I4-mailed", "--replay 'smtp 451; run; revoke p0; smtp ok; clock +1d; run'"),
    ("removal-not-queued", [("sync/revoke.c",
     "(dn != NULL && target != NULL && store_removal_add(",
     "(0 && store_removal_add(")],
     "I2-stale-revoked", "--replay 'run; dir readonly; revoke p0; dir normal; run'"),
    ("domain-unchecked", [("sync/plan_mail.c",
     "\tif (domains != NULL && !conf_domain_allowed(domains, domain_of(u->mail))) {",
     "\tif (0) {")],
     "I5-domain", "--replay 'mail p0 p0@example.com; run'"),
    ("allowed-domains-ignored", [("sync/plan_mail.c",
     "g->allowed_domains != NULL ? g->allowed_domains :", "")],
     "I5-domain", "--replay 'mail p5 p5@example.net; run'"),
    ("claimed-address-certified", [("sync/plan_mail.c",
     "\tif ((other = other_claimant(claims, u->mail, self)) != SIZE_MAX) {", "\tif (0) {")],
     "I5-claimed,I5-contested", "--replay 'mail p1 p0@example.org; run'"),
    ("lost-answer-resubmitted", [("sync/provision.c",
     "looked = external && !polling && reconcile_lost(",
     "looked = external && !polling && 0 && reconcile_lost(")],
     "I3-orphan", "--replay 'ca drop; run; ca issue; run'"),
    ("not-revoked-at-external-ca", [("sync/revoke.c",
     "\tif (conf == NULL || conf->type == CA_TYPE_LOCAL)\n\t\treturn 0;",
     "\tif (conf != NULL)\n\t\treturn 0;")],
     "I3-not-revoked-at-ca", "--replay 'run; revoke p5; run'"),
    ("sealed-kept-after-send", [("store/outbox.c",
     "sealed = CASE WHEN ?1 = 'queued' THEN sealed ELSE X'' END", "sealed = sealed")],
     "I6-sealed", "--replay run"),
]

def run(cmd, cwd, log):
    with open(log, "a") as f:
        f.write("$ %s\n" % " ".join(cmd))
        f.flush()
        return subprocess.run(cmd, cwd=cwd, stdout=f, stderr=subprocess.STDOUT).returncode


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--srcdir", default=os.path.dirname(os.path.dirname(here)))
    ap.add_argument("--builddir", help="ignored: the mutants are built in a copy")
    ap.add_argument("--work", help="scratch directory (default: a new one in /tmp)")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--shrink-budget", type=int, default=15,
                    help="replays to shrink each caught failure (0: print the whole prefix)")
    ap.add_argument("names", nargs="*")
    a = ap.parse_args()
    # SIGTERM ends us through the finally that undoes the current mutant.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    todo = [m for m in MUTANTS if not a.names or m[0] in a.names]
    work = a.work or tempfile.mkdtemp(prefix="smimesync-mutants.")
    tree, build = os.path.join(work, "src"), os.path.join(work, "src", "build")
    log = os.path.join(work, "build.log")
    print("mutants: copying and building the tree in %s (log: %s)" % (tree, log), flush=True)
    if not os.path.exists(os.path.join(build, "smimesync")):
        os.makedirs(tree, exist_ok=True)
        files = subprocess.run(["git", "ls-files", "-z"], cwd=a.srcdir, capture_output=True,
                               check=True).stdout.split(b"\0")
        for f in filter(None, files):
            f = f.decode()
            src = os.path.join(a.srcdir, f)
            if os.path.isfile(src):
                os.makedirs(os.path.dirname(os.path.join(tree, f)), exist_ok=True)
                shutil.copy2(src, os.path.join(tree, f))
        os.makedirs(build, exist_ok=True)
        if run(["./autogen.sh"], tree, log) or run(["../configure"], build, log) or \
                run(["make", "-j2", "smimesync", "tests/tools/smimesync-crashy"], build, log):
            print("mutants: the unmodified tree does not build; see %s" % log)
            return 2
    # The simulation itself always as it is now in the source tree.
    shutil.rmtree(os.path.join(tree, "tests", "sim"), ignore_errors=True)
    shutil.copytree(os.path.join(a.srcdir, "tests", "sim"), os.path.join(tree, "tests", "sim"),
                    ignore=shutil.ignore_patterns("__pycache__"))
    for tool in ("smtp-sink.py", "fake-rest-ca.py"):
        shutil.copy2(os.path.join(a.srcdir, "tests", "tools", tool),
                     os.path.join(tree, "tests", "tools", tool))
    results = []
    for name, edits, checks, args in todo:
        # The originals from the source tree: a run stopped half-way may have
        # left a mutant in the copy.
        origs = {}
        for path, _, _ in edits:
            with open(os.path.join(a.srcdir, path)) as fh:
                origs[path] = fh.read()
        changed = dict(origs)
        stale = None
        for path, find, repl in edits:
            if changed[path].count(find) != 1:
                stale = path
                break
            changed[path] = changed[path].replace(find, repl)
        if stale:
            print("STALE: %s: the text to change is not in %s once; update the mutant" % (
                name, stale), flush=True)
            results.append((name, "STALE"))
            continue
        try:
            for path, text in changed.items():
                with open(os.path.join(tree, path), "w") as fh:
                    fh.write(text)
            if run(["make", "-j2", "smimesync", "tests/tools/smimesync-crashy"], build, log):
                print("STALE: %s: does not build (see %s)" % (name, log), flush=True)
                results.append((name, "STALE"))
                continue
            out = os.path.join(work, name + ".log")
            cmd = ["/usr/bin/python3", os.path.join(tree, "tests/sim/sim.py"), "--srcdir", tree,
                   "--builddir", build, "--only", checks, "--shrink-budget", str(a.shrink_budget),
                   "--first-failure"] + shlex.split(args)
            with open(out, "w") as fh:
                rc = subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT).returncode
            with open(out) as fh:
                text = fh.read()
            caught = rc == 1 and any(line.startswith("FAIL: seed") for line in text.splitlines())
            verdict = "caught" if caught else "MISSED"
            print("%s: %s (%s): %s" % (verdict, name, checks, out), flush=True)
            if caught:
                lines = text.splitlines()
                i = next(j for j, line in enumerate(lines) if line.startswith("FAIL: seed"))
                print("\n".join("    " + line for line in lines[i:i + 2]))
                for line in lines:
                    if line.startswith("  replay:"):
                        print("    replay: --replay" + line.split("--replay", 1)[1])
            results.append((name, verdict))
        finally:
            for path, text in origs.items():
                with open(os.path.join(tree, path), "w") as fh:
                    fh.write(text)
    missed = [n for n, v in results if v != "caught"]
    print("mutants: %d caught, %d missed or stale" % (len(results) - len(missed), len(missed)))
    if not a.keep and not missed:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
