#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""The randomized lifecycle simulation of smimesync (issue #15, DESIGN.md I1-I6).

  tests/sim/sim.py --builddir BUILD [--seeds N] [--first-seed S] [--events M]
  tests/sim/sim.py --builddir BUILD --replay "join p7 staff; run; revoke p7; run"

Against a real slapd, the SMTP sink, smimesync's internal CA and an EJBCA
stand-in (all on loopback, started here and stopped by pid), each seed
draws M events (tests/sim/simlib/events.py: joins, leaves, address changes,
claims, locked accounts, admin revocations, the directory down or refusing,
SMTP refusals, a CA that answers late or never or issues and drops the
answer, crashes at every provisioning step, SIGKILL at a random moment, the
clock moving across renewal and expiry) and after every step checks the
invariants from outside (tests/sim/README says exactly how).

A violation stops the seed; the sequence up to it is shrunk (delta
debugging, every candidate replayed in a fresh world) to the shortest one
that still breaks the same invariant, and printed with the command that
replays it. Violations listed in tests/sim/known-violations are counted and
printed but do not fail the run (--strict makes them fail).

Exit status: 0 no violation (known ones aside), 1 a violation, 2 usage or
setup failure. The last line reads "sim: N passed, N failed".
"""
import argparse
import copy
import os
import shutil
import signal
import sys
import tempfile
import time

# No __pycache__ in the source tree (it may be read-only, as in distcheck).
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from simlib import events, people  # noqa: E402
from simlib.observe import observe  # noqa: E402
from simlib.oracle import Oracle, Step  # noqa: E402
from simlib.world import World  # noqa: E402


class Paths:
    def __init__(self, srcdir, builddir):
        self.srcdir = os.path.abspath(srcdir)
        self.builddir = os.path.abspath(builddir)
        self.smimesync = os.path.join(self.builddir, "smimesync")
        self.crashy = os.path.join(self.builddir, "tests/tools/smimesync-crashy")


def load_known(path):
    known = {}
    try:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line and not line.startswith("#"):
                    k, _, why = line.partition(" ")
                    known[k] = why.strip()
    except FileNotFoundError:
        pass
    return known


def issuers(world):
    """{issuer DN (RFC 4514): "internal" | "ext"} of our two CAs."""
    from cryptography import x509
    out = {}
    for name, path in (("internal", os.path.join(world.work, "ca", "issuing.pem")),
                       ("ext", os.path.join(world.ext.pki, "issuing.pem"))):
        with open(path, "rb") as f:
            out[x509.load_pem_x509_certificate(f.read()).subject.rfc4514_string()] = name
    return out


class Result:
    def __init__(self):
        self.violations = []   # (step, id, text, known)
        self.fail_step = None
        self.steps = 0
        self.commands = 0
        self.time = {}         # phase -> seconds (where the time goes)

    def clock(self, phase, since):
        now = time.time()
        self.time[phase] = self.time.get(phase, 0.0) + now - since
        return now


def tolerated(vid, known, strict, only):
    """Does a violation of vid let the seed go on?"""
    if only:
        return vid not in only
    return vid in known and not strict


def execute(world, seq, known, strict=False, trace=None, only=None, keep_going=False):
    """Run seq in a fresh world, checking after every step. Stops at the first
    step with a violation that is not tolerated (known, or outside --only)."""
    res = Result()
    t = time.time()
    world.reset()
    model = events.Model()
    # The people as the directory holds them: the model without the changes
    # that wait for a directory that is down or read-only.
    seen = copy.deepcopy(model)
    oracle = Oracle(issuers(world), {p: people.foreign_values(p) for p in people.FOREIGN})
    t = res.clock("reset", t)
    for i, e in enumerate(seq):
        before = copy.deepcopy(model)
        w = e.split()
        op = w[0]
        outcome = None
        if events.apply_to_model(model, e):
            world.ldap_modify(events.directory_change(model, e))
        elif op == "dir":
            world.set_dir_mode(model.dir_mode)
        elif op == "smtp":
            world.set_smtp_mode(model.smtp_mode)
        elif op == "ca":
            world.set_ca_mode(model.ca_mode)
        elif op == "clock":
            world.ext.set_clock(model.clock_days * 86400)
        if op == "run":
            args, crash, kill = events.run_args(e, world.features)
            outcome = world.sync(args, model.clock_days, crash=crash, kill_ms=kill)
            if before.ca_mode.startswith("late:"):
                # Let the CA finish what it does after the client gave up,
                # so that what it issued late is in its book when we look.
                time.sleep(max(0.0, float(before.ca_mode[5:]) - 1.5))
        elif op in ("revoke", "issue", "ignore", "unignore") and len(w) > 1 and w[1] in people.PEOPLE:
            dn = people.dn(w[1])
            args = {"revoke": ["revoke", dn, "--reason", "keyCompromise"],
                    "issue": ["issue", dn], "ignore": ["user", dn, "ignore"],
                    "unignore": ["user", dn, "unignore"]}[op]
            outcome = world.smimesync(args, model.clock_days)
        # --engine incremental: the daemon acts on directory changes by itself.
        world.settle()
        command = outcome is not None
        t = res.clock("command" if command else "world", t)
        if command:
            res.commands += 1
            crl = world.smimesync(["crl"], model.clock_days)
            t = res.clock("crl", t)
        if not world.slapd.pending:
            seen = copy.deepcopy(model)
        snap = observe(world, oracle.seen_mail, with_crl=command)
        t = res.clock("observe", t)
        st = Step(i, e, before, model, outcome, snap, time.time() + model.clock_days * 86400,
                  seen)
        found = oracle.check(st)
        if command and crl.rc != 0:
            # The CRL checks below would judge an old CRL as a new one.
            found.append(("I3-crl-command", "`smimesync crl` exited %s: %s" % (
                crl.rc, crl.err.strip().splitlines()[-1] if crl.err.strip() else "(no message)")))
        t = res.clock("check", t)
        res.steps = i + 1
        if trace:
            rc = "" if outcome is None else " -> %s%s" % (
                "ran" if outcome.rc is None else "exit %s" % outcome.rc,
                " (killed)" if outcome.killed else "")
            trace("  %3d %s%s" % (i, e, rc))
        stop = False
        shown = {}
        for vid, text in found:
            k = tolerated(vid, known, strict, only)
            res.violations.append((i, vid, text, k))
            shown[vid] = shown.get(vid, 0) + 1
            if trace and shown[vid] <= 2:
                trace("      %s %s: %s" % ("known" if k else "VIOLATION", vid, text))
            stop = stop or not k
        if stop and res.fail_step is None:
            res.fail_step = i
        if stop and not keep_going:
            break
    return res


def shrink(world, seq, target, known, budget, log, strict=False, only=None):
    """Delta debugging (ddmin): the shortest subsequence of seq whose replay
    still violates target. Every candidate runs in a fresh world."""
    tries = [0]

    def fails(cand):
        """The candidate cut after its failing step, or None when it does not fail."""
        if tries[0] >= budget:
            return None
        tries[0] += 1
        r = execute(world, cand, known, strict, only=only)
        if any(vid == target and not k for _, vid, _, k in r.violations):
            return cand[:r.fail_step + 1]
        return None

    n = 2
    while len(seq) >= 2 and tries[0] < budget:
        chunk = max(1, len(seq) // n)
        reduced = False
        for start in range(0, len(seq), chunk):
            cand = seq[:start] + seq[start + chunk:]
            cut = fails(cand) if cand else None
            if cut:
                seq = cut
                n = max(n - 1, 2)
                reduced = True
                log("    shrunk to %d events (%d replays)" % (len(seq), tries[0]))
                break
        if not reduced:
            if chunk == 1:
                break
            n = min(len(seq), n * 2)
    # Then plainer events where they do as well: "run" for "run crash=...",
    # one clock step for two in a row.
    for i in range(len(seq)):
        if i < len(seq) and seq[i].startswith("run ") and tries[0] < budget:
            cut = fails(seq[:i] + ["run"] + seq[i + 1:])
            if cut:
                seq = cut
        if i + 1 < len(seq) and seq[i].startswith("clock +") and \
                seq[i + 1].startswith("clock +") and tries[0] < budget:
            days = int(seq[i][7:-1]) + int(seq[i + 1][7:-1])
            cut = fails(seq[:i] + ["clock +%dd" % days] + seq[i + 2:])
            if cut:
                seq = cut
    return seq, tries[0]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--srcdir", default=os.path.dirname(os.path.dirname(here)))
    ap.add_argument("--builddir", default=os.environ.get("top_builddir", "build"))
    ap.add_argument("--seeds", type=int, default=1)
    ap.add_argument("--first-seed", type=int, default=1)
    ap.add_argument("--events", type=int, default=100)
    ap.add_argument("--replay", help="events separated by ';' instead of random ones")
    ap.add_argument("--known", default=os.path.join(here, "known-violations"))
    ap.add_argument("--strict", action="store_true", help="known violations fail too")
    ap.add_argument("--only", default="",
                    help="comma-separated check ids: only these fail (others are tolerated)")
    ap.add_argument("--first-failure", action="store_true",
                    help="stop after the first seed that fails")
    ap.add_argument("--keep-going", action="store_true",
                    help="check every step to the end, whatever fails (with -v: see all)")
    ap.add_argument("--shrink-budget", type=int, default=80,
                    help="at most this many replays to shrink a failure (0: do not shrink)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--engine", choices=["run", "daemon", "incremental"], default="run",
                    help="how smimesync syncs: one `smimesync run` per run event, or a "
                    "`smimesync daemon` woken by SIGUSR1; incremental: the daemon also "
                    "follows slapd's syncprov stream and acts on every directory change "
                    "by itself (each step waits until it has)")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every step")
    a = ap.parse_args()

    paths = Paths(a.srcdir, a.builddir)
    for f in (paths.smimesync, paths.crashy):
        if not os.access(f, os.X_OK):
            print("sim: %s is missing: build first (make; make check builds the crashy "
                  "one, or make tests/tools/smimesync-crashy)" % f, file=sys.stderr)
            return 2
    for tool in ("slapd", "slapcat", "ldapmodify", "faketime", "openssl"):
        if not shutil.which(tool, path=os.environ["PATH"] + ":/usr/sbin"):
            print("sim: SKIP: %s is not installed (tools/install-deps)" % tool)
            return 77
    os.environ["PATH"] += ":/usr/sbin"
    known = load_known(a.known)
    only = set(x for x in a.only.split(",") if x)
    work = tempfile.mkdtemp(prefix="smimesync-sim.")
    log = lambda s: print(s, flush=True)
    t0 = time.time()
    # SIGTERM (make, timeout) ends us through the finally below, which stops
    # every server this run started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    world = None
    passed = failed = 0
    total_events = total_cmds = 0
    known_seen = {}
    replay_cmd = "%s --builddir %s%s" % (os.path.join(here, "sim.py"), paths.builddir,
                                          " --engine " + a.engine if a.engine != "run" else "")
    try:
        world = World(paths, work, a.engine)
        log("sim: %s; optional features it knows: %s" % (
            paths.smimesync, ", ".join(sorted(world.features)) or "none"))
        if a.replay:
            runs = [("replay", events.parse(a.replay))]
        else:
            runs = [(s, events.sequence(s, a.events))
                    for s in range(a.first_seed, a.first_seed + a.seeds)]
        for seed, seq in runs:
            ts = time.time()
            r = execute(world, seq, known, a.strict, trace=log if a.verbose else None, only=only,
                        keep_going=a.keep_going)
            total_events += r.steps
            total_cmds += r.commands
            if a.verbose:
                log("  time: " + ", ".join("%s %.1f s" % kv for kv in sorted(r.time.items())))
            for step, vid, text, k in r.violations:
                if k:
                    known_seen.setdefault(vid, (seed, step, text))
            if r.fail_step is None:
                passed += 1
                log("ok: seed %s: %d events, %d commands, %.0f s%s" % (
                    seed, r.steps, r.commands, time.time() - ts,
                    "" if not any(k for *_, k in r.violations) else
                    ", known: " + ", ".join(sorted({v for _, v, _, k in r.violations if k}))))
                continue
            failed += 1
            bad = [(vid, text) for step, vid, text, k in r.violations
                   if step == r.fail_step and not k]
            log("FAIL: seed %s, step %d (%s):" % (seed, r.fail_step, seq[r.fail_step]))
            for j, (vid, text) in enumerate(bad):
                if j < 5:
                    log("  %s: %s" % (vid, text))
            if len(bad) > 5:
                log("  ... and %d more" % (len(bad) - 5))
            prefix = seq[:r.fail_step + 1]
            target = bad[0][0]
            if a.shrink_budget > 0:
                log("  shrinking %d events for %s..." % (len(prefix), target))
                small, tries = shrink(world, prefix, target, known, a.shrink_budget, log,
                                      a.strict, only)
            else:
                small, tries = prefix, 0
            log("  shortest sequence found (%d of %d events, %d replays):" % (
                len(small), len(prefix), tries))
            for e in small:
                log("    %s" % e)
            log("  replay: %s --replay '%s'" % (replay_cmd, events.fmt(small)))
            if seed != "replay":
                log("  whole seed: %s --first-seed %s --events %d -v" % (
                    replay_cmd, seed, len(seq)))
            if a.first_failure:
                break
    finally:
        if world is not None:
            world.close()
        if a.keep or failed:
            log("sim: work directory kept: %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    for vid, (seed, step, text) in sorted(known_seen.items()):
        log("known violation %s (%s): first at seed %s step %d: %s" % (
            vid, known.get(vid, ""), seed, step, text))
    log("sim: %d seeds, %d events, %d smimesync commands in %.0f s" % (
        passed + failed, total_events, total_cmds, time.time() - t0))
    log("sim: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
