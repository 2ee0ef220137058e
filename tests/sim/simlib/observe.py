# SPDX-License-Identifier: ISC
"""Looking at the world from outside after a step: what the directory
holds, what the mail sink received, what the CAs say they issued and
revoked, and what smimesync's store claims (read-only, for cross-checks).

  snap = observe(world, model, ctx)   # one Snapshot
Every certificate is named by the SHA-256 of its DER, in lower-case hex.
"""
import calendar
import email
import email.policy
import hashlib
import json
import os
import re
import sqlite3
import warnings

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, pkcs12, pkcs7

from . import people

FP_RE = re.compile(r"fingerprint:?\s*((?:[0-9A-Fa-f]{2}:?){32})", re.S)
SERIAL_RE = re.compile(r"[Ss]erial number:?\s*([0-9A-Fa-f:]+)")
PASSWORD_RE = re.compile(r"\b[A-Za-z0-9]{4}(?:-[A-Za-z0-9]{4}){5}\b")


def fp(der):
    return hashlib.sha256(der).hexdigest()


def norm_serial(s):
    return s.replace(":", "").upper().lstrip("0") or "0"


class Cert:
    """What one certificate says about itself."""

    def __init__(self, der):
        self.der = der
        self.fp = fp(der)
        c = x509.load_der_x509_certificate(der)
        self.issuer = c.issuer.rfc4514_string()
        self.serial = "%X" % c.serial_number
        # not_valid_after_utc from cryptography 42 on; Debian 12 has 38.
        na = getattr(c, "not_valid_after_utc", None) or c.not_valid_after
        self.not_after = calendar.timegm(na.utctimetuple())
        try:
            san = c.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            self.sans = [a.lower() for a in san.get_values_for_type(x509.RFC822Name)]
        except x509.ExtensionNotFound:
            self.sans = []


class Mail:
    def __init__(self, name, rcpt, kind, fp_text, serial, password, p12):
        self.name, self.rcpt, self.kind = name, rcpt, kind
        self.fp_text, self.serial, self.password, self.p12 = fp_text, serial, password, p12


def read_mail(sink_dir, name):
    with open(os.path.join(sink_dir, name + ".json")) as f:
        env = json.load(f)
    with open(os.path.join(sink_dir, name + ".eml"), "rb") as f:
        msg = email.message_from_bytes(f.read(), policy=email.policy.default)
    subject = str(msg["Subject"] or "").lower()
    texts, p12 = [], None
    for part in msg.walk():
        ct = part.get_content_type()
        if ct == "application/pkcs12":
            p12 = part.get_payload(decode=True)
        elif ct == "text/plain":
            texts.append(part.get_content())
    text = "\n".join(texts)
    if p12 is not None:
        kind = "collection"
    elif subject.startswith("password for"):
        kind = "password"
    elif "smimesync run" in subject:
        kind = "notice"
    else:
        kind = "reminder"
    m = FP_RE.search(text)
    s = SERIAL_RE.search(text)
    pw = PASSWORD_RE.search(text) if kind == "password" else None
    return Mail(name, (env.get("rcpt_tos") or [""])[0].lower(), kind,
                m.group(1).replace(":", "").lower() if m else None,
                norm_serial(s.group(1)) if s else None, pw.group(0) if pw else None, p12)


def p12_cert_fp(p12, password):
    """The fingerprint of the certificate inside a PKCS#12, or None."""
    try:
        _, cert, _ = pkcs12.load_key_and_certificates(p12, password.encode())
    except (ValueError, TypeError):
        return None
    return fp(cert.public_bytes(Encoding.DER)) if cert is not None else None


class Store:
    """smimesync's store, read-only: certs, users, outbox, actions."""

    def __init__(self, path):
        self.ok = os.path.exists(path)
        self.integrity = None
        self.certs, self.users, self.outbox, self.actions = [], {}, [], {}
        if not self.ok:
            return
        db = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=30)
        db.row_factory = sqlite3.Row
        try:
            self.integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
            self.certs = [dict(r) for r in db.execute(
                "SELECT id, user_id, action_id, group_name, ca_name, serial, status, der,"
                " not_after, mail FROM certs")]
            for c in self.certs:
                c["fp"] = fp(c["der"])
                c["serial"] = norm_serial(c["serial"])
            self.users = {r["id"]: dict(r) for r in db.execute(
                "SELECT id, dn, mail, ignored FROM users")}
            self.outbox = [dict(r) for r in db.execute(
                "SELECT id, action_id, kind, recipient, state, length(sealed) AS sealed_len"
                " FROM outbox")]
            self.actions = {r["id"]: dict(r) for r in db.execute(
                "SELECT id, user_id, kind, state, cert_id FROM actions")}
        finally:
            db.close()

    def pid_of(self, user_id):
        u = self.users.get(user_id)
        if u is None or not u["dn"]:
            return None
        dn = u["dn"].lower()
        for p in people.PEOPLE:
            if people.dn(p).lower() == dn:
                return p
        return None


class Snapshot:
    """Everything seen after one step."""

    def __init__(self):
        self.ldap = {}        # pid -> {"ucert": [Cert], "smime": [Cert first in each PKCS#7]}
        self.ldap_raw = {}    # pid -> {"ucert": [bytes], "smime": [bytes]}
        self.mails = []       # [Mail] that arrived during this step
        self.store = None
        self.ca_issued, self.ca_revoked = {}, {}
        self.crl_serials, self.crl_number = None, None
        self.written = []     # [(pid, Cert)] values added to a certificate attribute
                              # during the step (the accesslog), even if gone again


def read_ldap(world):
    out, raw = {}, {}
    for dn, attrs in world.slapd.entries().items():
        pid = dn.split(",")[0].split("=")[1]
        ucert = attrs.get("usercertificate;binary", []) + attrs.get("usercertificate", [])
        smime = attrs.get("usersmimecertificate", [])
        raw[pid] = {"ucert": ucert, "smime": smime}
        firsts = [c for c in (smime_first(v) for v in smime) if c is not None]
        out[pid] = {"ucert": [Cert(v) for v in ucert], "smime": firsts}
    return out, raw


def smime_first(v):
    """The first certificate of a userSMIMECertificate PKCS#7, as a Cert, or None."""
    try:
        with warnings.catch_warnings():
            # Newer cryptography warns (and parses as BER) when the SET OF
            # certificates is not in DER order; the values are smimesync's,
            # read as any client would.
            warnings.simplefilter("ignore")
            certs = pkcs7.load_der_pkcs7_certificates(v)
    except ValueError:
        certs = []
    return Cert(certs[0].public_bytes(Encoding.DER)) if certs else None


def read_written(world):
    out = []
    for dn, attr, op, value in world.slapd.journal():
        if op not in ("+", "=") or not dn.endswith(",ou=people," + people.BASE.lower()):
            continue
        pid = dn.split(",")[0].split("=")[1]
        try:
            c = smime_first(value) if attr == "usersmimecertificate" else Cert(value)
        except ValueError:
            c = None
        if c is not None:
            out.append((pid, c))
    return out


def read_crl(path):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return None, None
    crl = x509.load_der_x509_crl(data)
    try:
        number = crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    except x509.ExtensionNotFound:
        number = None
    return {"%X" % r.serial_number for r in crl}, number


def observe(world, seen_mail_names, with_crl):
    """A Snapshot; seen_mail_names: set of sink message names read before."""
    s = Snapshot()
    s.ldap, s.ldap_raw = read_ldap(world)
    for name in world.sink.names():
        if name not in seen_mail_names:
            s.mails.append(read_mail(world.sink.dir, name))
    s.store = Store(os.path.join(world.state, "smimesync.db"))
    s.ca_issued, s.ca_revoked = world.ext.book()
    if with_crl:
        # Only smimesync's commands write certificate attributes.
        s.crl_serials, s.crl_number = read_crl(world.crl_file)
        s.written = read_written(world)
    return s
