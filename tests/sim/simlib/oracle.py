# SPDX-License-Identifier: ISC
"""The invariants, checked from outside after every step.

tests/sim/README defines each check precisely (its id, what it reads, when
it applies, and which transient states it allows); the ids here are the
same. A check returns violations as (id, text); the text names the step,
the person and the certificate (serial) so that a reader can go and look.
"""
from . import people
from .observe import Cert

# Certificates expiring this close to the check's clock count as either.
EXPIRY_MARGIN = 3600

# Every group's leave_grace (people.config): a leaver's certificates may stay
# valid this long after the first full run that saw him gone (plus a margin);
# after it staff's are revoked, and so is anyone's that was never delivered.
LEAVE_GRACE = 2 * 86400 + EXPIRY_MARGIN


class Step:
    """One step as the oracle sees it."""

    def __init__(self, index, event, before, after, outcome, snap, now, seen=None):
        self.index, self.event = index, event
        self.before, self.after = before, after      # Model copies
        # The people as the directory held them after the step (changes made
        # while it was down or read-only wait, and the run read it without them).
        self.seen = seen if seen is not None else after
        self.outcome = outcome                       # world.Outcome or None
        self.snap, self.now = snap, now
        w = event.split()
        self.op = w[0]
        self.arg = w[1] if len(w) > 1 else None
        self.command = self.op in ("run", "revoke", "issue", "ignore", "unignore")
        self.killed = bool(outcome and outcome.killed)
        self.report = outcome.report() if outcome and not self.killed else None
        self.dir_ok = before.dir_mode == "normal"
        self.smtp_ok = before.smtp_mode == "ok"
        self.ca_ok = before.ca_mode == "issue"

    @property
    def full_run(self):
        """A run that finished, whose every group was read."""
        r = self.report
        return (self.op == "run" and not self.killed and r is not None and self.dir_ok
                and all(g.get("status") == "ok" for g in r.get("groups", [])))

    def conflict_reported(self, addr, holder, others):
        """Does an error of the report name addr with the holder's DN and another
        claimant's (an address claimed by two is reported once, not per person)?"""
        a, h = addr.lower(), people.dn(holder).lower()
        for x in (self.report or {}).get("errors", []):
            text = (x.get("message") or "").lower()
            if a in text and h in text and any(people.dn(o).lower() in text for o in others):
                return True
        return False

    def retire_held(self):
        """Did the mass-retire valve hold this run's leavers (an error says so,
        and names run --allow-mass-retire)? I1 allows "held by a valve"."""
        return any((x.get("message") or "").startswith("safety valve:")
                   for x in (self.report or {}).get("errors", []))

    def reported(self, pid):
        """The report's entries for pid that are not 'done' (the report says why not)."""
        if not self.report:
            return []
        dn = people.dn(pid).lower()
        return [u for u in self.report.get("users", [])
                if (u.get("dn") or "").lower() == dn and u.get("outcome") != "done"]


class Oracle:
    def __init__(self, our_issuers, foreign):
        self.our = dict(our_issuers)    # issuer DN (RFC 4514) -> "internal" | "ext"
        self.foreign = foreign          # pid -> (userCertificate DER, userSMIMECertificate DER)
        self.certs = {}                 # fp -> Cert, every certificate of ours ever seen
        self.first = {}                 # fp -> (step, holder pid, holder's change count)
        self.dead = {}                  # fp -> step it was first seen revoked or superseded
        self.gone = {}                  # fp -> step it was first seen dead and not published
        self.ever_published = set()     # fp of every certificate ever seen in the directory
        self.mail_steps = {}            # (fp, kind) -> [steps]
        self.kill_steps = []
        self.seen_mail = set()
        self.crl_number = None
        self.crl_serials = set()
        self.domain_reported = set()
        self.admin_revoked = {}         # pid -> [steps]
        self.actions_seen = set()       # action ids in the store before this step
        self.resumed_owner = {}         # fp -> step: I5-owner-resumed found for it
        self.gone_since = {}            # pid -> clock of the first full run that saw him
                                        # no longer an enabled member

    # ---- helpers -----------------------------------------------------------
    def cert(self, der_or_cert):
        c = der_or_cert if isinstance(der_or_cert, Cert) else Cert(der_or_cert)
        return self.certs.setdefault(c.fp, c)

    def ours(self, c):
        return c.issuer in self.our

    def by_serial(self, serial):
        return [c for c in self.certs.values() if c.serial == serial]

    # ---- the check ---------------------------------------------------------
    def check(self, st):
        v = []
        s = st.snap
        store = s.store
        if st.killed:
            self.kill_steps.append(st.index)
        if st.op == "revoke" and st.outcome and st.outcome.rc == 0:
            self.admin_revoked.setdefault(st.arg, []).append(st.index)
        if st.outcome is not None and st.outcome.hung:
            v.append(("hang", "%s did not end within %d s and was killed" % (
                " ".join(st.outcome.argv[-3:]), 600)))
        if st.command and not st.killed and st.report is None and st.op == "run":
            v.append(("run-report", "the run (exit %s) printed no JSON report: %s" %
                      (st.outcome.rc, st.outcome.err.strip().splitlines()[-1:])))

        store_by_fp = {}
        if store.ok:
            if store.integrity != "ok":
                v.append(("S-integrity", "PRAGMA integrity_check: %s" % store.integrity))
            for c in store.certs:
                store_by_fp[c["fp"]] = c
                self.cert(c["der"])
        v += self.check_store_certs(st, store, store_by_fp)
        v += self.check_foreign(st)
        v += self.check_seen_known(st, store, store_by_fp)
        v += self.check_domains(st)
        v += self.check_dead(st, store, store_by_fp)
        v += self.check_mail(st, store, store_by_fp)
        v += self.check_crl(st, store)
        # Gone since the first full run after he was last a member: a member
        # at any step in between (a join and a leave while the directory took
        # no writes, say) starts the grace again at the next full run.
        # A run whose leavers the mass-retire valve held retired nobody and
        # recorded nobody as gone: grace begins at the run that lets them go.
        held = st.full_run and st.retire_held()
        for pid in people.PEOPLE:
            if st.before.eligible(pid) or st.after.eligible(pid) or held:
                self.gone_since.pop(pid, None)
            elif st.full_run:
                self.gone_since.setdefault(pid, st.now)
        if st.full_run:
            v += self.check_i1(st, store)
            v += self.check_i2_exact(st, store)
            v += self.check_i5_current(st, store)
            if st.smtp_ok:
                v += self.check_i6_delivered(st, store, store_by_fp)
            v += self.check_i6_sealed(st, store)
        if st.op == "run" and not st.killed and st.dir_ok and st.ca_ok and st.report:
            v += self.check_i3_ca(st, store, store_by_fp)
        if st.op == "revoke" and st.outcome and st.outcome.rc == 0 and st.dir_ok:
            v += self.check_revoke_unpublished(st, store)
        self.actions_seen |= set(store.actions)
        return v

    @staticmethod
    def rivals(model, addr, holder):
        """Who else claims addr: enabled people only (the engine's rule: a disabled
        account claims nothing, its address may already be a successor's);
        and whether one of them is a member of a synced group (else the id
        gets "-outsider": the engine reads only members)."""
        others = [p for p in model.claimants(addr) if p != holder and p not in model.locked]
        return others, any(model.member_groups(p) for p in others)

    # I1: at most one current certificate per person; new ones for the right person.
    def check_store_certs(self, st, store, by_fp):
        v = []
        valid = {}
        for c in store.certs:
            if c["status"] == "valid":
                valid.setdefault(c["user_id"], []).append(c)
            if c["fp"] in self.first:
                continue
            holder = store.pid_of(c["user_id"])
            self.first[c["fp"]] = (st.index, holder, st.before.changes.get(holder, 0),
                                   c["status"])
            # I5 at issuance: every address was the holder's, and only his, when the run began.
            # The directory as the run saw it is the one after the step's event: a run
            # step changes nothing in it, and with --engine incremental the run that a
            # directory event starts (the daemon following the stream) sees the change;
            # a change still waiting for a read-only or stopped directory it did not see.
            if c["status"] == "valid" and holder is not None:
                cert = self.certs[c["fp"]]
                for a in cert.sans:
                    own = [x.lower() for x in st.seen.addresses(holder)]
                    others, member = self.rivals(st.seen, a, holder)
                    if a not in own:
                        # "-resumed": made by an action an earlier step had begun.
                        resumed = c["action_id"] in self.actions_seen
                        if resumed:
                            self.resumed_owner[c["fp"]] = st.index
                        v.append(("I5-owner" + ("-resumed" if resumed else ""),
                                  "serial %s was issued to %s for %s, which is not one of his "
                                  "addresses (%s)%s" % (cert.serial, holder, a, ", ".join(own),
                                                        ", by an action begun earlier"
                                                        if resumed else "")))
                    elif others:
                        v.append(("I5-claimed" + ("" if member else "-outsider"),
                                  "serial %s was issued to %s for %s, which %s claims too%s" % (
                                      cert.serial, holder, a, ", ".join(others),
                                      "" if member else " (in no synced group)")))
        for uid, cs in valid.items():
            # A renewal in flight (its action not done yet) holds the old and
            # the new one: allowed until the action finishes.
            open_ = [c for c in cs if c["action_id"] in store.actions
                     and store.actions[c["action_id"]]["state"] not in ("done", "failed")]
            if len(cs) - min(len(open_), 1) > 1:
                v.append(("I1-one", "%s holds %d valid certificates in the store: %s" % (
                    store.pid_of(uid) or uid, len(cs), ", ".join(c["serial"] for c in cs))))
        return v

    # I2: other issuers' values untouched, whatever happened.
    def check_foreign(self, st):
        v = []
        for pid, (ucert, smime) in self.foreign.items():
            raw = st.snap.ldap_raw.get(pid, {"ucert": [], "smime": []})
            if raw["ucert"].count(ucert) != 1:
                v.append(("I2-foreign", "%s: the foreign userCertificate value is gone or doubled"
                          % pid))
            if raw["smime"].count(smime) != 1:
                v.append(("I2-foreign", "%s: the foreign userSMIMECertificate value is gone or "
                          "doubled" % pid))
        return v

    # I3: every certificate of ours seen outside is one the store knows.
    def check_seen_known(self, st, store, by_fp):
        v = []
        if not store.ok:
            return v
        for pid, e in st.snap.ldap.items():
            for c in e["ucert"] + e["smime"]:
                if self.ours(c) and c.fp not in by_fp:
                    v.append(("I3-unknown", "%s's entry holds serial %s of %s, which the store "
                              "does not know" % (pid, c.serial, c.issuer)))
        for m in st.snap.mails:
            if m.kind == "collection" and m.fp_text and m.fp_text not in by_fp:
                v.append(("I3-unknown", "mail %s to %s carries a certificate (%s) the store does "
                          "not know" % (m.name, m.rcpt, m.fp_text[:16])))
        return v

    # I5: no address outside the allowed domains in anything any CA issued for us
    # (the domains depend on the group, hence on the CA: people.ALLOWED_DOMAINS).
    def check_domains(self, st):
        v = []

        def outside(ca, addr):
            doms = people.ALLOWED_DOMAINS[ca]
            return addr.lower().rpartition("@")[2] not in doms, ", ".join(doms)

        cands = [c for c in self.certs.values() if self.ours(c)]
        for pid, e in st.snap.ldap.items():
            cands += [self.cert(c) for c in e["ucert"] if self.ours(c)]
        for c in cands:
            ca = self.our[c.issuer]
            for a in c.sans:
                bad, doms = outside(ca, a)
                if bad and (c.fp, a) not in self.domain_reported:
                    self.domain_reported.add((c.fp, a))
                    v.append(("I5-domain", "serial %s of the %s CA certifies %s, outside %s" % (
                        c.serial, ca, a, doms)))
        for serial, e in st.snap.ca_issued.items():
            for a in e.get("mails", []):
                bad, doms = outside("ext", a)
                if bad and (serial, a) not in self.domain_reported:
                    self.domain_reported.add((serial, a))
                    v.append(("I5-domain", "the external CA issued serial %s for %s, outside %s"
                              % (serial, a, doms)))
        return v

    def is_dead(self, st, c, store_row):
        if store_row is not None and store_row["status"] in ("revoked", "superseded"):
            return True
        snap = st.snap
        if snap.crl_serials is not None and c.serial in snap.crl_serials and \
                store_row is not None and store_row["ca_name"] == "internal":
            return True
        return c.serial in snap.ca_revoked

    # I4 (directory): once dead and taken out, never published again;
    # R: nothing is revoked without a reason in the world.
    def check_dead(self, st, store, by_fp):
        v = []
        published = set()
        for pid, e in st.snap.ldap.items():
            for c in e["ucert"] + e["smime"]:
                if self.ours(c):
                    published.add(c.fp)
        self.ever_published |= published
        written = [(pid, self.cert(c)) for pid, c in st.snap.written if self.ours(c)]
        self.ever_published |= {c.fp for _, c in written}
        for f, c in list(self.certs.items()):
            row = by_fp.get(f)
            if f not in self.dead and self.is_dead(st, c, row):
                self.dead[f] = st.index
                v += self.check_revocation_reason(st, c, row)
            if f in self.dead:
                if f not in published:
                    self.gone.setdefault(f, st.index)
                elif f in self.gone:
                    v.append(("I4-republished", "serial %s, dead since step %d and out of the "
                              "directory since step %d, is published again" % (
                                  c.serial, self.dead[f], self.gone[f])))
        # The journal: written during this step, even if taken out again before it ended.
        for pid, c in written:
            if c.fp in self.dead and self.dead[c.fp] < st.index:
                v.append(("I4-republished", "serial %s, dead since step %d, was written to %s's "
                          "entry during this step" % (c.serial, self.dead[c.fp], pid)))
        return v

    def check_revocation_reason(self, st, c, row):
        revoked = (row is not None and row["status"] == "revoked") or \
            c.serial in st.snap.ca_revoked or \
            (st.snap.crl_serials is not None and c.serial in st.snap.crl_serials)
        if not revoked or c.fp not in self.first:
            return []
        step, holder, changes, status = self.first[c.fp]
        if holder is None or status != "valid":
            return []
        if st.op == "revoke" and st.arg == holder:
            return []
        if st.after.changes.get(holder, 0) != changes or self.admin_revoked.get(holder):
            return []
        # A leaver's certificate that never reached him is revoked whatever
        # on_leave keeps (I3), also when he left before it was made (a
        # change that waited while the directory took no writes).
        if not st.after.eligible(holder) and c.fp not in self.ever_published and \
                not any(self.mail_steps.get((c.fp, k)) for k in ("collection", "password")):
            return []
        prior = [f for f, (s2, h2, _, _) in self.first.items() if h2 == holder and s2 >= step
                 and f != c.fp]
        if prior:   # a newer certificate for the same person: superseded, then revoked
            return []
        return [("R-spurious", "serial %s of %s was revoked at step %d, but %s stayed an "
                 "enabled member with the same addresses and no admin revoked it" % (
                     c.serial, holder, st.index, holder))]

    # I4 (mail) and I6 (exactly once).
    def check_mail(self, st, store, by_fp):
        v = []
        serial_fp = {c.serial: f for f, c in self.certs.items()}
        for m in st.snap.mails:
            self.seen_mail.add(m.name)
            f = m.fp_text if m.kind == "collection" else serial_fp.get(m.serial)
            if m.kind not in ("collection", "password") or f is None:
                continue
            if f in self.dead and self.dead[f] < st.index:
                v.append(("I4-mailed", "%s mail %s to %s carries serial %s, revoked or "
                          "superseded since step %d" % (m.kind, m.name, m.rcpt,
                                                         self.certs[f].serial, self.dead[f])))
            steps = self.mail_steps.setdefault((f, m.kind), [])
            # Each resend needs its own kill since the send before it.
            if steps and not any(steps[-1] <= k < st.index for k in self.kill_steps):
                v.append(("I6-twice", "%s mail for serial %s to %s again (before at step %d), "
                          "with no interrupted command in between" % (
                              m.kind, self.certs[f].serial, m.rcpt, steps[-1])))
            steps.append(st.index)
            c = self.certs.get(f)
            if c is not None and m.rcpt not in c.sans:
                v.append(("I6-recipient", "%s mail for serial %s went to %s, not an address in "
                          "the certificate" % (m.kind, c.serial, m.rcpt)))
        return v

    # I3 (CRL): every revoked certificate of the internal CA is on its CRL;
    # CRL numbers strictly increase; nothing leaves the CRL before it expires.
    def check_crl(self, st, store):
        v = []
        serials, number = st.snap.crl_serials, st.snap.crl_number
        if serials is None:
            return v
        if number is not None and self.crl_number is not None and number <= self.crl_number:
            v.append(("I3-crl-number", "CRL number %d after %d" % (number, self.crl_number)))
        if number is not None:
            self.crl_number = number
        for s in self.crl_serials - serials:
            cs = self.by_serial(s)
            if cs and all(c.not_after > st.now + EXPIRY_MARGIN for c in cs):
                v.append(("I3-crl-dropped", "serial %s left the CRL before it expired" % s))
        self.crl_serials = set(serials)
        for c in store.certs:
            if c["ca_name"] == "internal" and c["status"] == "revoked" and \
                    c["not_after"] > st.now + EXPIRY_MARGIN and c["serial"] not in serials:
                v.append(("I3-crl-missing", "serial %s (%s) is revoked in the store but not on "
                          "the CRL" % (c["serial"], c["mail"])))
        return v

    def current(self, st, store, pid):
        """The store's current certificates of pid: valid and unexpired (fp -> row),
        and those too close to expiry to tell."""
        cur, unsure = {}, set()
        dn = people.dn(pid).lower()
        for c in store.certs:
            u = store.users.get(c["user_id"])
            if c["status"] != "valid" or u is None or (u["dn"] or "").lower() != dn:
                continue
            if abs(c["not_after"] - st.now) <= EXPIRY_MARGIN:
                unsure.add(c["fp"])
            elif c["not_after"] > st.now:
                cur[c["fp"]] = c
        return cur, unsure

    # I1: every eligible member holds a current certificate, or the report says why not.
    def check_i1(self, st, store):
        v = []
        for pid in people.PEOPLE:
            if not st.before.eligible(pid):
                continue
            cur, unsure = self.current(st, store, pid)
            if cur or unsure or st.reported(pid):
                continue
            dn = people.dn(pid).lower()
            done = [u for u in (st.report or {}).get("users", [])
                    if (u.get("dn") or "").lower() == dn and u.get("outcome") == "done"]
            if done:
                v.append(("I1-false-done", "the report says %s for %s (%s), who holds no current "
                          "certificate" % (done[0].get("action"), pid,
                                           done[0].get("serial") or "no serial")))
                continue
            v.append(("I1-missing", "%s is an enabled member of %s without a current "
                      "certificate, and the report does not say why" % (
                          pid, ", ".join(st.before.member_groups(pid)))))
        return v

    # I2: after a run that reached the directory, each entry holds exactly our current ones.
    def check_i2_exact(self, st, store):
        v = []
        for pid in people.PEOPLE:
            cur, unsure = self.current(st, store, pid)
            e = st.snap.ldap.get(pid, {"ucert": [], "smime": []})
            for attr in ("ucert", "smime"):
                have = [c.fp for c in e[attr] if self.ours(c)]
                name = "userCertificate" if attr == "ucert" else "userSMIMECertificate"
                if len(have) != len(set(have)):
                    v.append(("I2-doubled", "%s's %s holds one of our certificates twice" % (
                        pid, name)))
                extra = set(have) - set(cur) - unsure
                missing = set(cur) - set(have) - unsure
                rows = {x["fp"]: x for x in store.certs}
                for f in sorted(extra):
                    c = self.certs.get(f)
                    row = rows.get(f)
                    if row is None:
                        kind = "unknown"
                    elif row["status"] != "valid":
                        kind = row["status"]
                    else:
                        kind = "expired" if row["not_after"] < st.now else "not-current"
                    v.append(("I2-stale-" + kind, "%s's %s still holds serial %s (%s in the store%s)"
                              % (pid, name, c.serial if c else f[:16], row["status"] if row else
                                 "unknown", ", expired" if row and row["not_after"] < st.now
                                 else "")))
                for f in sorted(missing):
                    if not st.before.eligible(pid) and f not in self.ever_published and \
                            not any(self.mail_steps.get((f, k)) for k in ("collection", "password")):
                        if st.now - self.gone_since.get(pid, st.now) < LEAVE_GRACE:
                            continue    # a leaver's certificates live out the grace
                        v.append(("I3-abandoned", "%s is no longer an enabled member, and his "
                                  "serial %s, never published nor mailed, stays valid" % (
                                      pid, cur[f]["serial"])))
                        continue
                    v.append(("I2-unpublished", "%s's current serial %s is not in his %s" % (
                        pid, cur[f]["serial"], name)))
        return v

    # I5: a current certificate certifies only addresses that are its holder's now.
    def check_i5_current(self, st, store):
        v = []
        for pid in people.PEOPLE:
            if not st.before.eligible(pid):
                continue
            cur, _ = self.current(st, store, pid)
            own = [a.lower() for a in st.before.addresses(pid)]
            for f, row in cur.items():
                c = self.certs[f]
                for a in c.sans:
                    others, member = self.rivals(st.before, a, pid)
                    if a not in own and not st.reported(pid):
                        # Made in this very step by a resumed action: that finding's.
                        same = self.resumed_owner.get(f) == st.index
                        v.append(("I5-stale" + ("-resumed" if same else ""),
                                  "%s's current serial %s certifies %s, no longer one of his "
                                  "addresses, and the report says nothing" % (pid, c.serial, a)))
                    elif a in own and others and not st.reported(pid) and \
                            not any(st.reported(o) for o in others) and \
                            not st.conflict_reported(a, pid, others) and \
                            (member or self.first.get(f, (st.index,))[0] == st.index):
                        # An outsider (in no synced group) is looked up when a
                        # certificate is requested, one search per address, not
                        # every run: his later claim on an address a member's
                        # certificate already names is judged at its renewal.
                        v.append(("I5-contested" + ("" if member else "-outsider"),
                                  "%s's current serial %s certifies %s, which %s claims too, "
                                  "and the report says nothing" % (
                                      pid, c.serial, a, ", ".join(others))))
        return v

    # I6: every certificate handed out was mailed (both mails), or its mail waits or failed.
    def check_i6_delivered(self, st, store, by_fp):
        v = []
        for c in store.certs:
            if c["status"] != "valid" or c["action_id"] is None:
                continue
            a = store.actions.get(c["action_id"])
            if a is None or a["state"] != "done":
                continue
            for kind in ("collection", "password"):
                if self.mail_steps.get((c["fp"], kind)):
                    continue
                rows = [o for o in store.outbox if o["action_id"] == c["action_id"]
                        and o["kind"] == kind and o["state"] in ("queued", "failed")]
                if not rows:
                    v.append(("I6-lost", "%s mail for serial %s (%s) never arrived, and the "
                              "outbox holds none queued or failed" % (kind, c["serial"],
                                                                      c["mail"])))
        return v

    def check_i6_sealed(self, st, store):
        v = []
        for o in store.outbox:
            if o["state"] in ("sent", "failed") and o["sealed_len"]:
                v.append(("I6-sealed", "outbox row %d (%s to %s) is %s but still holds its sealed "
                          "payload (%d bytes)" % (o["id"], o["kind"], o["recipient"], o["state"],
                                                  o["sealed_len"])))
        return v

    # I3 (external CA): what it issued is in the store or revoked there; what we revoked, it did.
    def check_i3_ca(self, st, store, by_fp):
        v = []
        known = {c["serial"] for c in store.certs if c["ca_name"] == "ext"}
        for serial, e in st.snap.ca_issued.items():
            if serial not in known and serial not in st.snap.ca_revoked:
                v.append(("I3-orphan", "the external CA issued serial %s (%s) that the store "
                          "does not know and that is not revoked at the CA" % (
                              serial, ", ".join(e.get("mails", [])))))
        for c in store.certs:
            if c["ca_name"] == "ext" and c["status"] == "revoked" and \
                    c["serial"] not in st.snap.ca_revoked and c["not_after"] > st.now:
                v.append(("I3-not-revoked-at-ca", "serial %s (%s) is revoked in the store but "
                          "not at the external CA" % (c["serial"], c["mail"])))
        return v

    # I4: an admin's revocation takes the certificate out of the directory at once.
    def check_revoke_unpublished(self, st, store):
        v = []
        e = st.snap.ldap.get(st.arg, {"ucert": [], "smime": []})
        for c in e["ucert"] + e["smime"]:
            row = {x["fp"]: x for x in store.certs}.get(c.fp)
            if self.ours(c) and row is not None and row["status"] == "revoked":
                v.append(("I4-revoke-unpublished", "revoke %s succeeded but serial %s is still in "
                          "the directory" % (st.arg, c.serial)))
        return v
