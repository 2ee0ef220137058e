#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""A small SMTP server for tests: stores every accepted message as it came.

Run with Debian's /usr/bin/python3 (it has python3-aiosmtpd):

  smtp-sink.py --host 127.0.0.1 --port N --dir DIR
               [--tls-cert F --tls-key F] [--require-starttls] [--no-starttls]
               [--auth-user U --auth-password P] [--reject RCPT=CODE ...]
               [--control FILE] [--pidfile F]

Each accepted message becomes DIR/NNNNN.eml (the DATA bytes exactly, dot
transparency removed) and DIR/NNNNN.json ({"mail_from", "rcpt_tos", "tls",
"auth", "queue_id"}), numbered in arrival order and written atomically (temporary file,
then rename), the .json last, so a reader that sees the .json sees both.

STARTTLS is offered when --tls-cert/--tls-key are given, unless
--no-starttls. --require-starttls refuses mail before STARTTLS. With
--auth-user, AUTH (PLAIN, LOGIN; only after STARTTLS) is required.
--reject addr=451 answers RCPT TO:<addr> with that code (451 -> a
transient, 550 -> a permanent failure). The pid file is written once the
server accepts connections; SIGTERM stops it. An accepted message is
answered as Postfix does: "250 2.0.0 Ok: queued as QNNNNN".

--control FILE lets a test change the answers while the sink runs (the
lifecycle simulation does): a JSON object, re-read at every command,
missing or unreadable meaning "accept everything":
  {"mail": "421"}             MAIL FROM answered with that code (421: the
                              service is closing; nothing of the session is
                              accepted)
  {"rcpt": {"*": "451", "a@b": "550"}}
                              RCPT TO answered with the code of the address,
                              else of "*" (--reject entries come first)
  {"data": "451"}             the message is read, then refused and not stored
"""

import argparse
import json
import os
import signal
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def atomic_write(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, path)


def refusal(code, what):
    kind = "temporarily" if code.startswith("4") else "permanently"
    return "%s %s.%s %s refused %s by smtp-sink" % (
        code, code[0], "3.2" if code == "421" else "1.1", what, kind)


class Sink:
    def __init__(self, directory, rejects, control=None):
        self.dir = directory
        self.rejects = rejects
        self.control_file = control
        self.lock = threading.Lock()
        existing = [int(n[:-4]) for n in os.listdir(directory)
                    if n.endswith(".eml") and n[:-4].isdigit()]
        self.next = max(existing, default=0) + 1

    def control(self):
        if self.control_file is None:
            return {}
        try:
            with open(self.control_file) as f:
                c = json.load(f)
            return c if isinstance(c, dict) else {}
        except (OSError, ValueError):
            return {}

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        code = self.control().get("mail")
        if code:
            return refusal(code, "the service")
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        code = self.rejects.get(address.lower())
        if code is None:
            codes = self.control().get("rcpt") or {}
            code = codes.get(address.lower(), codes.get("*"))
        if code is not None:
            return refusal(code, "<%s>" % address)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        code = self.control().get("data")
        if code:
            return refusal(code, "the message")
        with self.lock:
            n = self.next
            self.next += 1
        base = os.path.join(self.dir, "%05d" % n)
        login = session.auth_data if session.authenticated else None
        # A queue id as Postfix words it, so a client can record which
        # message the server took ("status USER" shows it).
        queue_id = "Q%05d" % n
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "tls": session.ssl is not None,
            "auth": login,
            "queue_id": queue_id,
        }
        atomic_write(base + ".eml", envelope.original_content)
        atomic_write(base + ".json", json.dumps(meta, indent=1).encode() + b"\n")
        return "250 2.0.0 Ok: queued as %s" % queue_id


def main():
    p = argparse.ArgumentParser(description="SMTP sink for smimesync tests")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--require-starttls", action="store_true")
    p.add_argument("--no-starttls", action="store_true")
    p.add_argument("--auth-user")
    p.add_argument("--auth-password")
    p.add_argument("--reject", action="append", default=[], metavar="RCPT=CODE")
    p.add_argument("--control", metavar="FILE")
    p.add_argument("--pidfile")
    a = p.parse_args()

    rejects = {}
    for r in a.reject:
        addr, sep, code = r.rpartition("=")
        if not sep or not addr or len(code) != 3 or not code.isdigit() or code[0] not in "45":
            p.error("--reject wants RCPT=CODE with a 4xx or 5xx code, not %r" % r)
        rejects[addr.lower()] = code

    os.makedirs(a.dir, exist_ok=True)
    kwargs = {"decode_data": False}
    if a.tls_cert and not a.no_starttls:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(a.tls_cert, a.tls_key)
        kwargs["tls_context"] = ctx
        kwargs["require_starttls"] = a.require_starttls
    elif a.require_starttls and not a.no_starttls:
        p.error("--require-starttls needs --tls-cert and --tls-key")
    if a.auth_user is not None:
        user = a.auth_user.encode()
        password = (a.auth_password or "").encode()

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (isinstance(auth_data, LoginPassword) and auth_data.login == user
                  and auth_data.password == password)
            return AuthResult(success=ok, handled=False, auth_data=auth_data.login.decode("utf-8", "replace")
                              if ok else None)

        kwargs["authenticator"] = authenticator
        kwargs["auth_required"] = True
        kwargs["auth_require_tls"] = True

    controller = Controller(Sink(a.dir, rejects, a.control), hostname=a.host, port=a.port, **kwargs)
    controller.start()

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    if a.pidfile:
        atomic_write(a.pidfile, b"%d\n" % os.getpid())
    try:
        while not stop.is_set():
            stop.wait(1)
    finally:
        controller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
