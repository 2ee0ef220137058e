# SPDX-License-Identifier: ISC
"""Events: what happens to the organisation and to smimesync, one at a time.

An event is one line of text, so a failing sequence can be printed and
replayed exactly ("join p7 staff; run crash=published; revoke p7; run"):

  people and groups (the directory changes; made when it can take writes)
    join P G | leave P G          membership of group G
    mail P ADDR                   P's primary address becomes ADDR
    alias+ P ADDR | alias- P ADDR another mail value of P
    claim P Q                     P adds Q's primary address to his own entry
    lock P | unlock P             pwdAccountLockedTime (ppolicy): disabled
  the servers
    dir normal|down|readonly|acl|sizelimit
    smtp ok|421|451|550|data451
    ca issue|late:S|drop|stall|never|busy
  time
    clock +Nd                     smimesync's (and the CAs') clock moves on
  smimesync
    run [allow] [crash=STEP] [kill=MS]
                                  one `smimesync run`; allow adds
                                  --allow-mass-retire (and --allow-mass-issue
                                  where known); crash=STEP uses the crashy
                                  build's crash point after STEP; kill=MS
                                  sends SIGKILL after MS milliseconds
    revoke P | issue P | ignore P | unignore P
                                  the admin commands, naming P by DN

Every event applies in every state: one whose precondition does not hold
(leave a group P is not in) changes nothing. That is what lets the shrinker
drop any subset of a sequence and replay the rest.
"""
import random

from . import people

CRASH_STEPS = ["planned", "key_made", "ca_asked", "cert_stored", "published", "done"]
DIR_MODES = ["normal", "down", "readonly", "acl", "sizelimit"]
SMTP_MODES = ["ok", "421", "451", "550", "data451"]
CA_MODES = ["issue", "late:1", "late:4", "drop", "stall", "never", "busy"]


class Model:
    """What the simulation knows of the world it made: the truth the oracle
    compares smimesync with."""

    def __init__(self):
        self.mail = {p: people.primary(p) for p in people.PEOPLE}
        self.aliases = {p: [] for p in people.PEOPLE}
        self.locked = set()
        self.groups = {g: set(m) for g, m in people.INITIAL.items()}
        self.ignored = set()
        self.dir_mode, self.smtp_mode, self.ca_mode = "normal", "ok", "issue"
        self.clock_days = 0
        # Bumped whenever what decides P's certificate changes (membership,
        # addresses, lock): a revocation needs such a change or an admin.
        self.changes = {p: 0 for p in people.PEOPLE}

    def addresses(self, p):
        return [self.mail[p]] + self.aliases[p]

    def member_groups(self, p):
        return [g for g in people.GROUPS if p in self.groups[g]]

    def governing_group(self, p):
        gs = self.member_groups(p)
        return gs[0] if gs else None

    def eligible(self, p):
        """Should hold a certificate, or be reported: a member, enabled."""
        return bool(self.member_groups(p)) and p not in self.locked

    def claimants(self, addr):
        a = addr.lower()
        return [p for p in people.PEOPLE if a in (x.lower() for x in self.addresses(p))]

    def mail_ldif(self, p):
        vals = "".join("mail: %s\n" % a for a in self.addresses(p))
        return "dn: %s\nchangetype: modify\nreplace: mail\n%s" % (people.dn(p), vals)


def parse(text):
    """'a; b; c' -> ['a', 'b', 'c'] (whitespace normalised)."""
    return [" ".join(e.split()) for e in text.replace("\n", ";").split(";") if e.strip()]


def fmt(events):
    return "; ".join(events)


class Generator:
    """Random events, weighted so that trouble comes and goes again."""

    def __init__(self, seed):
        self.rng = random.Random(seed)

    def next(self, m):
        r = self.rng
        ps = people.PEOPLE
        degraded = (m.dir_mode != "normal") + (m.smtp_mode != "ok") + (m.ca_mode != "issue")
        choices = [
            (30 + 10 * degraded, self.run),
            (10, lambda m: "join %s %s" % (r.choice(ps), r.choice(people.GROUPS))),
            (8, lambda m: self.leave(m)),
            (4, lambda m: "mail %s %s" % self.new_address(m)),
            (4, lambda m: "alias+ %s %s" % self.new_address(m)),
            (3, lambda m: self.alias_del(m)),
            (3, lambda m: "claim %s %s" % tuple(r.sample(ps, 2))),
            (3, lambda m: "lock %s" % r.choice(ps)),
            (3, lambda m: "unlock %s" % (r.choice(sorted(m.locked)) if m.locked else r.choice(ps))),
            (4, lambda m: "revoke %s" % self.holder(m)),
            (3, lambda m: "issue %s" % self.holder(m)),
            (1, lambda m: "ignore %s" % self.holder(m)),
            (1, lambda m: "unignore %s" % (r.choice(sorted(m.ignored)) if m.ignored
                                           else r.choice(ps))),
            (5, lambda m: "dir %s" % ("normal" if m.dir_mode != "normal" and r.random() < 0.6
                                      else r.choice(DIR_MODES))),
            (4, lambda m: "smtp %s" % ("ok" if m.smtp_mode != "ok" and r.random() < 0.6
                                       else r.choice(SMTP_MODES))),
            (4, lambda m: "ca %s" % ("issue" if m.ca_mode != "issue" and r.random() < 0.6
                                     else r.choice(CA_MODES))),
            (6, lambda m: "clock +%dd" % r.choice([1, 2, 3, 8, 15, 25, 40, 75])),
        ]
        total = sum(w for w, _ in choices)
        x = r.uniform(0, total)
        for w, f in choices:
            x -= w
            if x <= 0:
                return f(m)
        return "run"

    def run(self, m):
        r = self.rng
        x = r.random()
        if x < 0.15:
            return "run crash=%s" % r.choice(CRASH_STEPS)
        if x < 0.20:
            return "run kill=%d" % r.choice([50, 150, 300, 600, 1000])
        if x < 0.25:
            return "run allow"
        return "run"

    def holder(self, m):
        members = [p for p in people.PEOPLE if m.member_groups(p)]
        return self.rng.choice(members or people.PEOPLE)

    def leave(self, m):
        pairs = [(p, g) for g in people.GROUPS for p in sorted(m.groups[g])]
        if not pairs:
            return "leave p0 staff"
        return "leave %s %s" % self.rng.choice(pairs)

    def new_address(self, m):
        p = self.rng.choice(people.PEOPLE)
        n = self.rng.randrange(1, 5)
        x = self.rng.random()
        # example.net: allowed for staff and sales only; example.com: never.
        dom = "example.com" if x < 0.12 else "example.net" if x < 0.25 else "example.org"
        return p, "%s.v%d@%s" % (p, n, dom)

    def alias_del(self, m):
        pairs = [(p, a) for p in people.PEOPLE for a in m.aliases[p]]
        if not pairs:
            return "alias- p0 p0.v1@example.org"
        return "alias- %s %s" % self.rng.choice(pairs)


def sequence(seed, n):
    """The n events of a seed (each drawn with the model of the world so far)."""
    gen, m, out = Generator(seed), Model(), []
    for _ in range(n):
        e = gen.next(m)
        out.append(e)
        apply_to_model(m, e)
    return out


def apply_to_model(m, event):
    """The model's part of an event; returns True when the directory changes."""
    w = event.split()
    op, args = w[0], w[1:]
    ps = people.PEOPLE
    if op in ("join", "leave") and len(args) == 2 and args[0] in ps and args[1] in m.groups:
        before = set(m.groups[args[1]])
        (m.groups[args[1]].add if op == "join" else m.groups[args[1]].discard)(args[0])
        if before != m.groups[args[1]]:
            m.changes[args[0]] += 1
            return True
    elif op == "mail" and len(args) == 2 and args[0] in ps:
        if m.mail[args[0]].lower() != args[1].lower():
            m.mail[args[0]] = args[1]
            m.aliases[args[0]] = [a for a in m.aliases[args[0]] if a.lower() != args[1].lower()]
            m.changes[args[0]] += 1
            return True
    elif op == "alias+" and len(args) == 2 and args[0] in ps:
        if args[1].lower() not in (a.lower() for a in m.addresses(args[0])):
            m.aliases[args[0]].append(args[1])
            m.changes[args[0]] += 1
            return True
    elif op == "alias-" and len(args) == 2 and args[0] in ps:
        if args[1] in m.aliases[args[0]]:
            m.aliases[args[0]].remove(args[1])
            m.changes[args[0]] += 1
            return True
    elif op == "claim" and len(args) == 2 and args[0] in ps and args[1] in ps:
        return apply_to_model(m, "alias+ %s %s" % (args[0], m.mail[args[1]]))
    elif op in ("lock", "unlock") and len(args) == 1 and args[0] in ps:
        if (args[0] in m.locked) != (op == "lock"):
            (m.locked.add if op == "lock" else m.locked.discard)(args[0])
            m.changes[args[0]] += 1
            return True
    elif op == "dir" and args and args[0] in DIR_MODES:
        m.dir_mode = args[0]
    elif op == "smtp" and args and args[0] in SMTP_MODES:
        m.smtp_mode = args[0]
    elif op == "ca" and args and args[0] in CA_MODES + ["issue"]:
        m.ca_mode = args[0]
    elif op == "clock" and args and args[0].startswith("+") and args[0].endswith("d"):
        m.clock_days += int(args[0][1:-1])
    elif op == "ignore" and args and args[0] in ps:
        m.ignored.add(args[0])
    elif op == "unignore" and args and args[0] in ps:
        m.ignored.discard(args[0])
    return False


def directory_change(m, event):
    """The LDIF that makes an event's change in the directory (after the model
    took it), or None."""
    w = event.split()
    op, args = w[0], w[1:]
    if op in ("join", "leave"):
        g, p = args[1], args[0]
        vals = "".join("member: %s\n" % people.dn(x) for x in sorted(m.groups[g]))
        return ("dn: %s\nchangetype: modify\nreplace: member\nmember: %s\n%s"
                % (people.group_dn(g), people.SVC_DN, vals))
    if op in ("mail", "alias+", "alias-", "claim"):
        return m.mail_ldif(args[0])
    if op == "lock":
        return ("dn: %s\nchangetype: modify\nreplace: pwdAccountLockedTime\n"
                "pwdAccountLockedTime: 000001010000Z\n" % people.dn(args[0]))
    if op == "unlock":
        return ("dn: %s\nchangetype: modify\ndelete: pwdAccountLockedTime\n"
                % people.dn(args[0]))
    return None


def run_args(event, features):
    """smimesync arguments and crash/kill of a run event."""
    args, crash, kill = ["run", "--format", "json"], None, None
    for w in event.split()[1:]:
        if w == "allow":
            args.append("--allow-mass-retire")
            if "allow_mass_issue" in features:
                args.append("--allow-mass-issue")
        elif w.startswith("crash=") and w[6:] in CRASH_STEPS:
            crash = w[6:]
        elif w.startswith("kill="):
            kill = int(w[5:])
    return args, crash, kill
