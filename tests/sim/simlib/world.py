# SPDX-License-Identifier: ISC
"""The world smimesync lives in during a simulation: real servers on loopback.

  world = World(paths, workdir)   # makes the PKIs, the directory snapshot, the CA
  world.reset()                   # a fresh world: directory, mail, CA, store
  world.ldap_modify(ldif)         # as the directory's admin (queued while it is down)
  world.set_dir_mode("down")      # normal | down | readonly | acl | sizelimit
  world.set_smtp_mode("451")      # ok | 421 | 451 | 550 | data451
  world.set_ca_mode("drop")       # issue | late:S | drop | stall | never | busy
  world.smimesync(args, clock_days, crash=None, kill_ms=None) -> Outcome
  world.close()                   # stops every server this world started

Servers (each started by recorded pid, stopped by that pid only):
  slapd     tests/tools/slapd-lib.sh prepares its configuration and TLS; we
            launch it ourselves so that it comes back on the same ports after
            "down", and rewrite its slapd.conf for the refusing modes:
              readonly   "readonly on": every write is refused (unwilling)
              acl        the service account may only read the certificate
                         attributes (insufficient access on publish)
              sizelimit  the service account sees at most 2 entries per search
  smtp      tests/tools/smtp-sink.py with a --control file (refusals on the fly)
  ext CA    tests/tools/fake-rest-ca.py ejbca, its own book in --record, its
            clock moved with smimesync's through --clock
The internal CA is smimesync's own (ca init once; every world starts from a
copy of its keys and master key).
"""
import base64
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time

from . import people

BASE = "dc=example,dc=org"
ADMIN_DN = "cn=admin," + BASE
SVC_DN = "cn=smimesync,ou=services," + BASE


FAKETIME_LIB = next((p for p in ("/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1",
                                  "/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1",
                                  "/usr/lib/faketime/libfaketimeMT.so.1")
                     if os.path.exists(p)), None)


# A command still running after this long is stuck (every network wait of
# smimesync has its own timeout of seconds): killed, and a violation.
HANG_SECONDS = 600


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, tries=300):
    for _ in range(tries):
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def sh(script, env=None, check=True):
    """Run a POSIX sh snippet (sourcing the test libraries); its stdout."""
    p = subprocess.run(["sh", "-c", script], env=env, capture_output=True, text=True)
    if check and p.returncode != 0:
        raise RuntimeError("sh failed (%d): %s\n%s%s" % (p.returncode, script, p.stdout, p.stderr))
    return p.stdout


def stop_pid(proc):
    """Stop a process we started (a Popen), by its pid only."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class Outcome:
    """What one smimesync command did: exit status, output, whether we killed it."""

    def __init__(self, argv, rc, out, err, killed):
        self.argv, self.rc, self.out, self.err, self.killed = argv, rc, out, err, killed
        self.hung = False

    def report(self):
        try:
            return json.loads(self.out)
        except ValueError:
            return None


class Slapd:
    def __init__(self, paths, work):
        self.work = work
        self.proc = None
        self.mode = "normal"
        os.makedirs(work, exist_ok=True)
        env = dict(os.environ, top_srcdir=paths.srcdir)
        out = sh('. "$top_srcdir/tests/tools/slapd-lib.sh"; slapd_require; '
                 'slapd_prepare "%s" >/dev/null; env' % work, env)
        self.env = dict(line.split("=", 1) for line in out.splitlines()
                        if line.startswith("SLAPD_"))
        self.env["PATH"] = os.environ["PATH"] + ":/usr/sbin"
        with open(os.path.join(work, "slapd.conf")) as f:
            self.base_conf = f.read()
        self.port, self.sport = free_port(), free_port()
        self.uri = "ldap://127.0.0.1:%d" % self.port
        self.env["SLAPD_URI"] = self.uri
        self.pending = []  # LDIF changes made while the directory could not take them
        self.journal_seen = 0
        self.syncprov = False  # --engine incremental: RFC 4533 content sync for the daemon

    def conf(self, mode):
        c = self.base_conf
        # ppolicy: pwdAccountLockedTime is how an OpenLDAP account is disabled.
        c = c.replace("moduleload back_mdb", "moduleload back_mdb\nmoduleload ppolicy\n"
                      "moduleload accesslog")
        # The accesslog overlay journals every write to the directory: the
        # oracle sees a value that was written and taken out again within one
        # run, which no look between steps can.
        c = c.replace("\ndatabase mdb\n", "\ndatabase mdb\nmaxsize 268435456\n"
                      "suffix cn=accesslog\ndirectory %s\nindex reqStart eq\n\n"
                      "database mdb\n" % os.path.join(self.work, "accesslog"), 1)
        extra = ["overlay ppolicy", "overlay accesslog", "logdb cn=accesslog",
                 "logops writes", "logsuccess TRUE"]
        if self.syncprov:
            # The change stream the daemon follows (doc/incremental.md).
            c = c.replace("moduleload back_mdb", "moduleload back_mdb\nmoduleload syncprov", 1)
            extra = ["index entryCSN,entryUUID eq", "overlay syncprov",
                     "syncprov-sessionlog 100", "syncprov-reloadhint TRUE"] + extra
        if mode == "readonly":
            extra.insert(0, "readonly on")
        if mode == "sizelimit":
            extra.insert(0, 'limits dn.exact="%s" size=2' % SVC_DN)
        if mode == "acl":
            c = c.replace('by dn.exact="%s" write' % SVC_DN, 'by dn.exact="%s" read' % SVC_DN)
        marker = "index mail eq\n"
        return c.replace(marker, marker + "\n".join(extra) + "\n", 1)

    def start(self, mode="normal"):
        with open(os.path.join(self.work, "slapd.conf"), "w") as f:
            f.write(self.conf(mode))
        self.mode = mode
        log = open(os.path.join(self.work, "slapd.log"), "a")
        uris = "%s ldaps://127.0.0.1:%d %s" % (self.uri, self.sport, self.env["SLAPD_LDAPI_URI"])
        for _ in range(3):
            self.proc = subprocess.Popen(["slapd", "-f", os.path.join(self.work, "slapd.conf"),
                                          "-h", uris, "-d", "0"], stdout=log, stderr=log,
                                         env=self.env)
            for _ in range(300):
                if self.proc.poll() is not None:
                    break
                r = subprocess.run(["ldapsearch", "-x", "-LLL", "-H", self.uri, "-b", "", "-s",
                                    "base", "namingContexts"], capture_output=True)
                if r.returncode == 0:
                    log.close()
                    return
                time.sleep(0.05)
            stop_pid(self.proc)
            time.sleep(0.5)  # a port still held by the slapd before: try again
        log.close()
        raise RuntimeError("slapd did not start; see %s/slapd.log" % self.work)

    def stop(self):
        stop_pid(self.proc)
        self.proc = None

    def up(self):
        return self.proc is not None and self.proc.poll() is None

    def admin_writable(self):
        return self.up() and self.mode != "readonly"

    def modify(self, ldif, add=False):
        cmd = ["ldapadd" if add else "ldapmodify", "-x", "-H", self.uri, "-D", ADMIN_DN, "-y",
               self.env["SLAPD_ADMIN_PW_FILE"]]
        r = subprocess.run(cmd, input=ldif, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("%s failed: %s\n%s" % (cmd[0], r.stderr, ldif))

    def reset_journal(self):
        shutil.rmtree(os.path.join(self.work, "accesslog"), ignore_errors=True)
        os.makedirs(os.path.join(self.work, "accesslog"))
        self.journal_seen = 0

    def journal(self):
        """Writes to people's certificate attributes since the last call, from the
        accesslog (read with slapcat, like entries()): [(dn, attribute, op,
        value)], op "+" added, "=" replaced with, "-" deleted, in order."""
        r = subprocess.run(["slapcat", "-f", os.path.join(self.work, "slapd.conf"), "-o",
                            "ldif-wrap=no", "-b", "cn=accesslog"], capture_output=True,
                           env=self.env)
        if r.returncode != 0:
            raise RuntimeError("slapcat of the accesslog failed: %s" %
                               r.stderr.decode(errors="replace"))
        blocks = [b for b in r.stdout.split(b"\n\n") if b"reqType: modify" in b or
                  b"reqType: add" in b]
        new, self.journal_seen = blocks[self.journal_seen:], len(blocks)
        out = []
        for block in new:
            dn, mods = None, []
            for line in block.split(b"\n"):
                k, sep, v = line.partition(b":")
                if not sep:
                    continue
                val = base64.b64decode(v[1:].strip()) if v.startswith(b":") else v[1:]
                if k == b"reqDN":
                    dn = val.decode(errors="replace").lower()
                elif k == b"reqMod":
                    mods.append(val)
            for m in mods:
                # "attribute:+ value", "attribute:= value", "attribute:-"
                attr, _, rest = m.partition(b":")
                op = rest[:1].decode(errors="replace")
                name = attr.decode(errors="replace").lower()
                if name in ("usercertificate;binary", "usercertificate",
                            "usersmimecertificate") and rest[1:2] == b" ":
                    out.append((dn, name, op, rest[2:]))
        return out

    def entries(self):
        """Every entry under ou=people, read with slapcat (works while slapd is down):
        {dn: {attribute: [bytes, ...]}}, attribute names lower-case."""
        r = subprocess.run(["slapcat", "-f", os.path.join(self.work, "slapd.conf"), "-o",
                            "ldif-wrap=no", "-b", BASE], capture_output=True, env=self.env)
        if r.returncode != 0:
            raise RuntimeError("slapcat failed: %s" % r.stderr.decode(errors="replace"))
        out = {}
        for block in r.stdout.split(b"\n\n"):
            attrs, dn = {}, None
            for line in block.split(b"\n"):
                if not line or line.startswith(b"#"):
                    continue
                k, sep, v = line.partition(b":")
                if not sep:
                    continue
                if v.startswith(b":"):
                    val = base64.b64decode(v[1:].strip())
                else:
                    val = v.strip()
                name = k.decode().lower()
                if name == "dn":
                    dn = val.decode()
                else:
                    attrs.setdefault(name, []).append(val)
            if dn and dn.lower().endswith(",ou=people," + BASE):
                out[dn.lower()] = attrs
        return out


class Sink:
    def __init__(self, paths, work):
        self.work = work
        self.dir = os.path.join(work, "mail")
        self.control = os.path.join(work, "control.json")
        os.makedirs(self.dir, exist_ok=True)
        env = dict(os.environ, top_srcdir=paths.srcdir)
        sh('. "$top_srcdir/tests/tools/smtp-lib.sh"; smtp_require; smtp_make_tls "%s/tls"' % work,
           env)
        self.ca_file = os.path.join(work, "tls", "ca.pem")
        self.port = free_port()
        self.set_control({})
        pidfile = os.path.join(work, "sink.pid")
        self.proc = subprocess.Popen(
            ["/usr/bin/python3", os.path.join(paths.srcdir, "tests/tools/smtp-sink.py"),
             "--host", "127.0.0.1", "--port", str(self.port), "--dir", self.dir,
             "--tls-cert", os.path.join(work, "tls/server.pem"),
             "--tls-key", os.path.join(work, "tls/server.key"), "--control", self.control,
             "--pidfile", pidfile],
            stdout=open(os.path.join(work, "sink.log"), "a"), stderr=subprocess.STDOUT)
        for _ in range(600):
            if os.path.exists(pidfile) or self.proc.poll() is not None:
                break
            time.sleep(0.05)
        if not os.path.exists(pidfile):
            raise RuntimeError("the SMTP sink did not start; see %s/sink.log" % work)

    def set_control(self, c):
        tmp = self.control + ".tmp"
        with open(tmp, "w") as f:
            json.dump(c, f)
        os.rename(tmp, self.control)

    def clear(self):
        for n in os.listdir(self.dir):
            os.unlink(os.path.join(self.dir, n))

    def names(self):
        """Stored messages in arrival order (their numbers keep growing across resets)."""
        return sorted(n[:-5] for n in os.listdir(self.dir) if n.endswith(".json"))

    def stop(self):
        stop_pid(self.proc)


class ExtCA:
    """The EJBCA stand-in: a PKI made once, a server started afresh for every world."""

    def __init__(self, paths, work):
        self.paths, self.work = paths, work
        self.pki = os.path.join(work, "pki")
        env = dict(os.environ, top_srcdir=paths.srcdir)
        sh('. "$top_srcdir/tests/tools/extca-lib.sh"; extca_make_pki "%s"' % self.pki, env)
        self.record = os.path.join(work, "record.jsonl")
        self.behaviour = os.path.join(work, "behaviour.json")
        self.clock = os.path.join(work, "clock")
        self.port = free_port()
        self.proc = None

    def start(self):
        for f in (self.record, self.behaviour, self.clock):
            if os.path.exists(f):
                os.unlink(f)
        self.set_mode("issue")
        self.set_clock(0)
        for _ in range(3):
            self.proc = subprocess.Popen(
                ["/usr/bin/python3", os.path.join(self.paths.srcdir, "tests/tools/fake-rest-ca.py"),
                 "ejbca", "--port", str(self.port), "--pki", self.pki,
                 "--log", os.path.join(self.work, "requests.jsonl"),
                 "--behaviour", self.behaviour, "--record", self.record, "--clock", self.clock],
                stdout=subprocess.DEVNULL, stderr=open(os.path.join(self.work, "fake.log"), "a"))
            if wait_port(self.port):
                return
            stop_pid(self.proc)
            self.port = free_port()
        raise RuntimeError("the EJBCA stand-in did not start; see %s/fake.log" % self.work)

    def set_mode(self, mode):
        with open(self.behaviour + ".tmp", "w") as f:
            json.dump({"*": mode}, f)
        os.rename(self.behaviour + ".tmp", self.behaviour)

    def set_clock(self, seconds):
        with open(self.clock + ".tmp", "w") as f:
            f.write("%d\n" % seconds)
        os.rename(self.clock + ".tmp", self.clock)

    def book(self):
        """The CA's own record: (issued {serial: entry}, revoked {serial: reason})."""
        issued, revoked = {}, {}
        try:
            with open(self.record) as f:
                for line in f:
                    e = json.loads(line)
                    if e["event"] == "issued":
                        issued[e["serial"].upper()] = e
                    elif e["event"] == "revoked":
                        revoked[e["serial"].upper()] = e["reason"]
        except FileNotFoundError:
            pass
        return issued, revoked

    def stop(self):
        stop_pid(self.proc)
        self.proc = None


class World:
    def __init__(self, paths, work, engine="run"):
        self.paths, self.work = paths, work
        self.slapd = self.sink = self.ext = self.daemon = None
        self.state = os.path.join(work, "state")
        self.conf = os.path.join(work, "smimesync.conf")
        self.crl_file = os.path.join(work, "internal.crl")
        self.features = set()
        self.dir_mode = "normal"
        try:
            self.slapd = Slapd(paths, os.path.join(work, "slapd"))
            self.sink = Sink(paths, os.path.join(work, "smtp"))
            os.makedirs(os.path.join(work, "ext"), exist_ok=True)
            self.slapd.syncprov = engine == "incremental"
            self.ext = ExtCA(paths, os.path.join(work, "ext"))
            self.ext.start()
            self._build_directory()
            self._write_config()
            self._make_internal_ca()
            self._probe_features()
            if engine in ("daemon", "incremental"):
                self.daemon = Daemon(self)
        except BaseException:
            self.close()
            raise

    # ---- once per simulation process ---------------------------------------
    def _build_directory(self):
        s = self.slapd
        s.reset_journal()
        s.start()
        sh('. "$top_srcdir/tests/tools/slapd-lib.sh"; slapd_write_base; slapd_load "%s/base.ldif"'
           % s.work, dict(os.environ, top_srcdir=self.paths.srcdir, **s.env))
        s.modify(people.initial_ldif(BASE), add=True)
        s.stop()
        shutil.copytree(os.path.join(s.work, "db"), os.path.join(s.work, "db.snapshot"))
        s.reset_journal()

    def _write_config(self):
        ext = self.ext
        text = people.config(
            state=self.state, slapd_uri=self.slapd.uri, slapd_ca=self.slapd.env["SLAPD_CA_FILE"],
            svc_dn=SVC_DN, svc_pw=os.path.join(self.work, "ldap.secret"), base=BASE,
            ca_dir=os.path.join(self.work, "ca"), crl_file=self.crl_file,
            smtp_port=self.sink.port, smtp_ca=self.sink.ca_file,
            ext_url="https://127.0.0.1:%d" % ext.port, ext_pki=ext.pki)
        shutil.copy(self.slapd.env["SLAPD_SVC_PW_FILE"], os.path.join(self.work, "ldap.secret"))
        os.chmod(os.path.join(self.work, "ldap.secret"), 0o600)
        with open(self.conf, "w") as f:
            f.write(text)

    def _probe_features(self):
        """Keys and flags this smimesync may not know yet (issue #15 adds them):
        a key is kept only when check-config accepts it, and remembered as a
        feature. Runs after `ca init`: check-config wants the master key."""
        with open(self.conf) as f:
            text = f.read()
        r = subprocess.run([self.paths.smimesync, "-c", self.conf, "check-config"],
                           capture_output=True, text=True, env=self.env())
        if r.returncode != 0:
            raise RuntimeError("smimesync check-config refuses the simulation's configuration "
                               "%s:\n%s%s" % (self.conf, r.stdout, r.stderr))
        for key, line in people.OPTIONAL_KEYS:
            trial = text.replace("# optional: " + key, line)
            with open(self.conf + ".try", "w") as f:
                f.write(trial)
            r = subprocess.run([self.paths.smimesync, "-c", self.conf + ".try", "check-config"],
                               capture_output=True, text=True, env=self.env())
            if r.returncode == 0:
                text = trial
                self.features.add(key)
        os.unlink(self.conf + ".try")
        with open(self.conf, "w") as f:
            f.write(text)
        # Flags of `run` this smimesync may not know yet: its usage line says.
        r = subprocess.run([self.paths.smimesync, "-c", self.conf, "run", "--no-such-flag"],
                           capture_output=True, text=True, env=self.env())
        if "--allow-mass-issue" in r.stdout + r.stderr:
            self.features.add("allow_mass_issue")

    def _make_internal_ca(self):
        os.makedirs(self.state, mode=0o700, exist_ok=True)
        os.makedirs(os.path.join(self.work, "ca"), mode=0o700, exist_ok=True)
        # The root key goes where an admin would take it offline, never beside the CA.
        r = self.smimesync(["ca", "init", "--root-key-out",
                            os.path.join(self.work, "root-offline.key")], 0)
        if r.rc != 0:
            raise RuntimeError("smimesync ca init failed: %s" % r.err)
        shutil.copy(os.path.join(self.state, "master.key"), os.path.join(self.work, "master.key"))

    def env(self):
        return dict(os.environ, SMIMESYNC_CONF=self.conf,
                    SMIMESYNC_TEMPLATES_DIR=os.path.join(self.paths.srcdir, "templates"))

    # ---- every world --------------------------------------------------------
    def reset(self):
        if self.daemon is not None:
            self.daemon.stop()
        s = self.slapd
        s.stop()
        shutil.rmtree(os.path.join(s.work, "db"))
        shutil.copytree(os.path.join(s.work, "db.snapshot"), os.path.join(s.work, "db"))
        s.reset_journal()
        s.pending = []
        s.start("normal")
        self.dir_mode = "normal"
        self.sink.set_control({})
        self.sink.clear()
        self.ext.stop()
        self.ext.start()
        shutil.rmtree(self.state, ignore_errors=True)
        os.makedirs(self.state, mode=0o700)
        shutil.copy(os.path.join(self.work, "master.key"), os.path.join(self.state, "master.key"))
        os.chmod(os.path.join(self.state, "master.key"), 0o600)
        if os.path.exists(self.crl_file):
            os.unlink(self.crl_file)

    def ldap_modify(self, ldif):
        """A change people make in the directory; it waits while the directory is
        down or read-only and is made as soon as it can take it."""
        if self.slapd.admin_writable():
            self.slapd.modify(ldif)
        else:
            self.slapd.pending.append(ldif)

    def set_dir_mode(self, mode):
        if mode == self.dir_mode:
            return
        s = self.slapd
        s.stop()
        if s.pending:
            s.start("normal")
            for ldif in s.pending:
                s.modify(ldif)
            s.pending = []
            s.stop()
        if mode != "down":
            s.start(mode)
        self.dir_mode = mode

    def set_smtp_mode(self, mode):
        c = {}
        if mode == "421":
            c = {"mail": "421"}
        elif mode in ("451", "550"):
            c = {"rcpt": {"*": mode}}
        elif mode == "data451":
            c = {"data": "451"}
        self.sink.set_control(c)

    def set_ca_mode(self, mode):
        self.ext.set_mode(mode)

    def command(self, args, clock_days, crash=None):
        """argv and environment of a smimesync command at the simulated time."""
        argv = [self.paths.crashy if crash else self.paths.smimesync] + list(args)
        env = self.env()
        if crash:
            env["SMIMESYNC_CRASH_AFTER"] = crash
        if clock_days:
            # libfaketime preloaded directly: the faketime wrapper forks and
            # would hide a SIGKILL behind its own exit status.
            if FAKETIME_LIB:
                env.update(LD_PRELOAD=FAKETIME_LIB, FAKETIME="+%dd" % clock_days,
                           FAKETIME_DONT_FAKE_MONOTONIC="1")
            else:
                argv = ["faketime", "-f", "+%dd" % clock_days] + argv
        return argv, env

    def settle(self):
        """--engine incremental: let the daemon act on what the stream delivered
        (past its debounce, every run it started ended) before anyone looks."""
        if self.daemon is not None and self.slapd.syncprov:
            self.daemon.settle()

    def sync(self, args, clock_days, crash=None, kill_ms=None):
        """One sync: `smimesync run ARGS`, or with a daemon engine, a run of the daemon."""
        if self.daemon is not None:
            return self.daemon.sync(clock_days, crash, kill_ms)
        return self.smimesync(args, clock_days, crash, kill_ms)

    def smimesync(self, args, clock_days, crash=None, kill_ms=None):
        argv, env = self.command(args, clock_days, crash)
        # A session of its own, so a kill reaches the signer child too.
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                             start_new_session=True)
        killed = hung = False
        try:
            out, err = p.communicate(timeout=kill_ms / 1000.0 if kill_ms is not None
                                     else HANG_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            killed, hung = True, kill_ms is None
            out, err = p.communicate()
        if p.returncode in (-9, 137):
            killed = True
        o = Outcome(argv, p.returncode, out.decode(errors="replace"),
                    err.decode(errors="replace"), killed)
        o.hung = hung
        return o

    def close(self):
        for server in (self.daemon, self.slapd, self.sink, self.ext):
            if server is not None:
                server.stop()


class Daemon:
    """`smimesync daemon` as the engine that syncs (sim.py --engine daemon).

    It runs at start and on SIGUSR1 ([service] interval is an hour: it never
    runs on its own during a simulation); a run has ended when its log says
    "run ended" (after the run's report and the CRL refresh). The clock
    moves by starting it again under the new time; crash=STEP starts the
    crashy build, whose first run dies at that step; kill=MS kills it MS
    milliseconds after SIGUSR1. Admin commands run beside it (it holds the
    store only while running). With incremental sync (issue #17) a directory
    change would start a run by itself: sync() would then wait until the
    daemon is idle instead of sending SIGUSR1.
    """

    def __init__(self, world):
        self.w = world
        self.proc = None
        self.clock = None
        self.armed = None       # the crash point the running daemon was started with
        self.log_start = 0      # where the running daemon's part of the log begins
        self.log = os.path.join(world.work, "daemon.log")

    def ended(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read().count("run ended (")
        except FileNotFoundError:
            return 0

    def busy(self):
        """Has the running daemon started a run it has not ended? (Its own part
        of the log only: a daemon killed before left a run unended.)"""
        try:
            with open(self.log, errors="replace") as f:
                f.seek(self.log_start)
                text = f.read()
        except FileNotFoundError:
            return False
        return len(re.findall(r" (?:full|incremental) run: ", text)) > text.count("run ended (")

    def settle(self):
        """Wait past the daemon's debounce (2 s) until every run it started has
        ended; a daemon that is not running has nothing to settle."""
        if self.proc is None or self.proc.poll() is not None:
            return
        time.sleep(2.5)
        deadline = time.time() + HANG_SECONDS
        while self.proc.poll() is None and self.busy():
            if time.time() > deadline:
                break
            time.sleep(0.05)

    def report(self):
        import sqlite3
        db = sqlite3.connect("file:%s?mode=ro" % os.path.join(self.w.state, "smimesync.db"),
                             uri=True, timeout=30)
        try:
            row = db.execute("SELECT report FROM runs WHERE report IS NOT NULL"
                             " ORDER BY started DESC, rowid DESC LIMIT 1").fetchone()
        finally:
            db.close()
        return row[0] if row else ""

    def start(self, clock_days, crash=None):
        argv, env = self.w.command(["daemon"], clock_days, crash)
        with open(self.log, "a") as log:
            self.log_start = log.tell()
            self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=log, env=env,
                                         start_new_session=True)
        self.clock, self.armed = clock_days, crash

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(HANG_SECONDS)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None

    def sync(self, clock_days, crash=None, kill_ms=None):
        argv = ["smimesync", "daemon"]
        before = self.ended()
        if crash or self.armed or self.proc is None or self.proc.poll() is not None or \
                self.clock != clock_days:
            self.stop()
            self.start(clock_days, crash)   # it runs at start
        else:
            os.kill(self.proc.pid, signal.SIGUSR1)
        killed = hung = False
        deadline = time.time() + HANG_SECONDS
        if kill_ms is not None:
            time.sleep(kill_ms / 1000.0)
            if self.proc.poll() is None and self.ended() == before:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
                killed = True
        while not killed and self.ended() == before and self.proc.poll() is None:
            if time.time() > deadline:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
                killed = hung = True
                break
            time.sleep(0.05)
        if self.proc.poll() is not None and self.ended() == before:
            killed = True       # died in its run: a crash point or our kill
        if killed:
            self.proc = None
        o = Outcome(argv, None if not killed else -9, "" if killed else self.report(), "",
                    killed)
        o.hung = hung
        return o
