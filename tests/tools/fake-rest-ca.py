#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Stand-ins for two commercial CAs that cannot run here, on loopback TLS.

  fake-rest-ca.py ejbca|sectigo --port P --pki DIR --log FILE [--behaviour FILE]
                 [--issued FILE] [--record FILE] [--clock FILE]

ejbca: EJBCA's REST API v1 as its published reference describes it:
  POST /ejbca/ejbca-rest-api/v1/certificate/pkcs10enroll, JSON body with
  certificate_request, certificate_profile_name, end_entity_profile_name,
  certificate_authority_name, username, password, include_chain, email,
  response_format. The client must present a TLS certificate issued by the
  test root (an RA administrator); others get 403. Success is 201 with
  certificate (base64 DER), serial_number, response_format and, with
  include_chain, certificate_chain (the CA certificates). Errors are
  {"error_code": n, "error_message": text}: 400 for a bad request, 404 for an
  unknown CA or profile, 202 when an approval profile holds the request.
  POST /ejbca/ejbca-rest-api/v1/certificate/search with {"max_number_of_results": n,
  "criteria": [{"property": "QUERY"|"STATUS", "value": v, "operation": "EQUAL"}]}
  answers {"certificates": [{"certificate", "serial_number", "response_format"}],
  "more_results": false}; QUERY matches the end entity's username or a SAN
  address, STATUS CERT_ACTIVE the unrevoked ones.
  PUT /ejbca/ejbca-rest-api/v1/certificate/{issuer_dn}/{serial_hex}/revoke?reason=R
  answers 200 {"issuer_dn", "serial_number", "revocation_reason", "revocation_date",
  "message": "Successfully revoked", "revoked": true}, 404 for an unknown
  certificate, 409 when it is revoked already, 400 for an unknown reason.
sectigo: Sectigo Certificate Manager's REST S/MIME API:
  POST /api/smime/v1/enroll with headers login, password, customerUri and a
  JSON body (orgId, firstName, lastName, email, secondaryEmails, csr,
  certType, term, ...), answered {"orderNumber": n, "backendCertId": "n"};
  GET /api/smime/v1/collect/{orderNumber}?format=x509 answers the PEM
  certificate followed by its chain, or 400 {"code": -183, "description":
  "Certificate is not collectable."} while it is not issued. Other errors
  are {"code": negative n, "description": text}; 401 for bad credentials;
  429 with Retry-After when throttling.
  GET /api/smime/v2?email=ADDR lists the orders for an address as
  [{"id", "orderNumber", "backendCertId", "email", "status", "serialNumber"}];
  POST /api/smime/v1/revoke/serial/{serial_hex} with {"reason": text}
  answers 204, or 400 {"code": -1404, ...} for an unknown serial.

Both sign with DIR/issuing.pem and DIR/issuing.key (extca-lib.sh). The
behaviour file (JSON, re-read on every request) maps an address to what
happens to it: "reject", "foreign" (an unrequested address in the SAN),
"busy" (503), "approval" (EJBCA 202), "throttle" (Sectigo 429),
"pending:N" (Sectigo: N collects answer -183 first), "collectbusy:N"
(Sectigo: N collects answer 503 first), "drop" (the request is carried out
-- EJBCA issues, Sectigo places the order -- but the connection is closed
without an answer, as a timeout or a dropped connection loses it); and
certificates a wrong CA profile would give: "upn" (a Windows logon name
otherName in the SAN), "dns" (a DNS name in the SAN), "ca" (basicConstraints
CA:TRUE), "serverauth" (serverAuth beside emailProtection), "certsign"
(keyUsage keyCertSign), "longlife" (valid 730 days). Every request is
appended to the log file as one JSON line, the password header replaced.
With --issued, every certificate the CA issued is listed in that file
(JSON: serial hex -> {"mails", "revoked", "reason"}), rewritten at each
change: the CA's own record, which tests read from outside.

For the lifecycle simulation (tests/sim/), EJBCA enrolment can also go
wrong the ways a real network does: "late:S" (wait S seconds, then issue
and answer: past the client's timeout the certificate exists but nobody
hears of it), "stall" (issue, then never answer), "never" (neither issue
nor answer). The key "*" in the behaviour file applies to every address
without a key of its own.

--record FILE is the CA's book as an append-only journal: one JSON line
per certificate issued ({"event": "issued", "serial", "sha256", "mails",
"not_after", "username"}) and per revocation ({"event": "revoked",
"serial", "reason"}), written and flushed before the answer leaves.
--clock FILE holds a number of seconds added to this machine's clock when
signing (the simulation moves smimesync's clock with faketime; the CA's
moves with it).
"""
import argparse
import base64
import datetime
import http.server
import json
import os
import ssl
import sys
import threading
import time
import urllib.parse

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

SCM_LOGIN, SCM_PASSWORD, SCM_CUSTOMER = "api-admin", "s3cret-Passw0rd", "example"
SCM_ORG, SCM_TYPE = 4242, 1938
EJBCA_CA, EJBCA_CP, EJBCA_EEP = "Test Issuing CA", "SMIME_CP", "SMIME_EEP"


class CA:
    def __init__(self, pki, issued_file=None, record=None, clock=None):
        self.lock = threading.Lock()
        self.issued = {}
        self.issued_file = issued_file
        self.record_file = record
        self.clock_file = clock
        with open(os.path.join(pki, "issuing.pem"), "rb") as f:
            self.cert = x509.load_pem_x509_certificate(f.read())
        with open(os.path.join(pki, "issuing.key"), "rb") as f:
            self.key = serialization.load_pem_private_key(f.read(), None)
        with open(os.path.join(pki, "root.pem"), "rb") as f:
            self.root = x509.load_pem_x509_certificate(f.read())

    def now(self):
        now = datetime.datetime.now(datetime.timezone.utc)
        try:
            with open(self.clock_file) as f:
                now += datetime.timedelta(seconds=int(f.read().strip() or 0))
        except (OSError, TypeError, ValueError):
            pass
        return now

    def book(self, entry):
        """One line of the journal (--record), on disk before the answer leaves."""
        if self.record_file is None:
            return
        with open(self.record_file, "a") as f:
            f.write(json.dumps(entry) + "\n")
            f.flush()
            os.fsync(f.fileno())

    def sign(self, csr, addresses, username=None, what="issue"):
        cert = self._sign(csr, addresses, what)
        self.record(cert, addresses, username)
        return cert

    def record(self, cert, addresses, username=None):
        with self.lock:
            self.issued["%X" % cert.serial_number] = {
                "mails": addresses, "revoked": False, "reason": None, "cert": cert}
            self.save()
            self.book({"event": "issued", "serial": "%X" % cert.serial_number,
                       "sha256": cert.fingerprint(hashes.SHA256()).hex(),
                       "mails": list(addresses), "username": username,
                       "not_after": (getattr(cert, "not_valid_after_utc", None) or
                                     cert.not_valid_after).strftime("%Y-%m-%dT%H:%M:%SZ")})

    def save(self):
        if self.issued_file:
            out = {k: {"mails": v["mails"], "revoked": v["revoked"], "reason": v["reason"]}
                   for k, v in self.issued.items()}
            tmp = self.issued_file + ".tmp"
            with open(tmp, "w") as f:
                json.dump(out, f)
            os.replace(tmp, self.issued_file)

    def revoke(self, serial_hex, reason):
        with self.lock:
            entry = self.issued.get(serial_hex.upper().lstrip("0") or "0")
            if entry is None:
                return "unknown"
            if entry["revoked"]:
                return "already"
            entry["revoked"] = True
            entry["reason"] = reason
            self.save()
            self.book({"event": "revoked", "serial": serial_hex.upper().lstrip("0") or "0",
                       "reason": reason})
            return "ok"

    def _sign(self, csr, addresses, what="issue"):
        now = self.now()
        names = [x509.RFC822Name(a) for a in addresses]
        if what == "upn":
            names.append(x509.OtherName(x509.ObjectIdentifier("1.3.6.1.4.1.311.20.2.3"),
                                        b"\x0c\x12" + b"administrator@corp"))
        if what == "dns":
            names.append(x509.DNSName("login.example.org"))
        ekus = [ExtendedKeyUsageOID.EMAIL_PROTECTION]
        if what == "serverauth":
            ekus.append(ExtendedKeyUsageOID.SERVER_AUTH)
        days = 730 if what == "longlife" else 365
        b = (x509.CertificateBuilder()
             .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, addresses[0])]))
             .issuer_name(self.cert.subject)
             .public_key(csr.public_key())
             .serial_number(x509.random_serial_number())
             .not_valid_before(now - datetime.timedelta(minutes=1))
             .not_valid_after(now + datetime.timedelta(days=days))
             .add_extension(x509.BasicConstraints(ca=what == "ca", path_length=None), True)
             .add_extension(x509.KeyUsage(True, False, False, False, True,
                                          what == "certsign", False, False, False), True)
             .add_extension(x509.ExtendedKeyUsage(ekus), False)
             .add_extension(x509.SubjectAlternativeName(names), False))
        return b.sign(self.key, hashes.SHA256())


def csr_mails(csr):
    try:
        san = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        return san.value.get_values_for_type(x509.RFC822Name)
    except x509.ExtensionNotFound:
        return []


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def behaviour(self, address):
        try:
            with open(self.server.opts.behaviour) as f:
                b = json.load(f)
            return b.get(address, b.get("*", "issue"))
        except (OSError, ValueError, TypeError, AttributeError):
            return "issue"

    def record(self, body):
        headers = {k.lower(): v for k, v in self.headers.items()}
        if "password" in headers:
            headers["password"] = "ok" if headers["password"] == SCM_PASSWORD else "wrong"
        line = {"method": self.command, "path": self.path, "headers": headers, "body": body}
        with self.server.lock, open(self.server.opts.log, "a") as f:
            f.write(json.dumps(line) + "\n")

    def answer(self, status, obj, ctype="application/json", extra=None):
        data = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def read_json(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        try:
            return json.loads(raw or b"null")
        except ValueError:
            return raw.decode(errors="replace")

    # ---- EJBCA ------------------------------------------------------------
    def ejbca_error(self, status, msg):
        self.answer(status, {"error_code": status, "error_message": msg})

    def ejbca(self, body):
        api = "/ejbca/ejbca-rest-api/v1/certificate/"
        peer = self.connection.getpeercert()
        issuer = dict(x[0] for x in peer["issuer"]) if peer else {}
        if not peer or "External CA test root" not in issuer.get("commonName", ""):
            return self.ejbca_error(403, "Not authorized to resource /ca_functionality/"
                                    "create_certificate/.")
        if self.command == "POST" and self.path == api + "search":
            return self.ejbca_search(body)
        if self.command == "PUT" and self.path.startswith(api) and "/revoke" in self.path:
            return self.ejbca_revoke()
        if self.command != "POST" or self.path != api + "pkcs10enroll":
            return self.ejbca_error(404, "HTTP 404 Not Found")
        if not isinstance(body, dict):
            return self.ejbca_error(400, "Invalid JSON in request body.")
        if body.get("certificate_authority_name") != EJBCA_CA:
            return self.ejbca_error(404, "CA with name %s doesn't exist." %
                                    body.get("certificate_authority_name"))
        if body.get("certificate_profile_name") != EJBCA_CP:
            return self.ejbca_error(404, "Certificate profile %s doesn't exist." %
                                    body.get("certificate_profile_name"))
        if body.get("end_entity_profile_name") != EJBCA_EEP:
            return self.ejbca_error(404, "End entity profile %s doesn't exist." %
                                    body.get("end_entity_profile_name"))
        for k in ("username", "password", "certificate_request"):
            if not body.get(k):
                return self.ejbca_error(400, "Missing %s." % k)
        try:
            csr = x509.load_pem_x509_csr(body["certificate_request"].encode())
        except ValueError:
            return self.ejbca_error(400, "Invalid certificate request format.")
        if not csr.is_signature_valid:
            return self.ejbca_error(400, "Invalid CSR signature.")
        what = self.behaviour(body["username"])
        if what == "reject":
            return self.ejbca_error(400, "User %s: subjectAltName RFC822NAME is not allowed "
                                    "by end entity profile %s." % (body["username"], EJBCA_EEP))
        if what == "approval":
            return self.ejbca_error(202, "Request is awaiting approval by an administrator.")
        if what == "busy":
            return self.answer(503, b"<html><body>Service Unavailable</body></html>",
                               "text/html")
        if what == "never":
            time.sleep(3600)
            return self.drop()
        if what.startswith("late:"):
            time.sleep(float(what.split(":")[1]))
        mails = csr_mails(csr) or [body.get("email") or body["username"]]
        if what == "foreign":
            mails.append("mallory@example.net")
        cert = self.server.ca.sign(csr, mails, body["username"], what)
        self.server.ca.usernames["%X" % cert.serial_number] = body["username"]
        if what == "drop":
            return self.drop()
        if what == "stall":
            time.sleep(3600)
            return self.drop()
        der = lambda c: base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode()
        out = {"certificate": der(cert), "serial_number": "%X" % cert.serial_number,
               "response_format": "DER"}
        if body.get("include_chain"):
            out["certificate_chain"] = [der(self.server.ca.cert), der(self.server.ca.root)]
        self.answer(201, out)

    def drop(self):
        """Carried out, but the answer never arrives: close without a response."""
        self.close_connection = True

    def ejbca_search(self, body):
        if not isinstance(body, dict) or not isinstance(body.get("criteria"), list):
            return self.ejbca_error(400, "Invalid search request.")
        want, active = None, False
        for c in body["criteria"]:
            if c.get("property") == "QUERY":
                want = c.get("value")
            elif c.get("property") == "STATUS" and c.get("value") == "CERT_ACTIVE":
                active = True
        ca = self.server.ca
        found = []
        with ca.lock:
            for serial, e in ca.issued.items():
                if active and e["revoked"]:
                    continue
                if want is not None and want not in e["mails"] and \
                        ca.usernames.get(serial) != want:
                    continue
                found.append({"certificate": base64.b64encode(e["cert"].public_bytes(
                    serialization.Encoding.DER)).decode(), "serial_number": serial,
                    "response_format": "DER"})
        self.answer(200, {"certificates": found[:int(body.get("max_number_of_results") or 50)],
                          "more_results": False})

    # EJBCA's RevocationReasons names.
    REVOKE_REASONS = ("UNSPECIFIED", "KEY_COMPROMISE", "CA_COMPROMISE", "AFFILIATION_CHANGED",
                      "SUPERSEDED", "CESSATION_OF_OPERATION", "CERTIFICATE_HOLD",
                      "REMOVE_FROM_CRL", "PRIVILEGES_WITHDRAWN", "AA_COMPROMISE")

    def ejbca_revoke(self):
        path, _, query = self.path.partition("?")
        parts = path.split("/")
        # .../certificate/{issuer_dn}/{serial}/revoke
        serial, issuer_dn = parts[-2], urllib.parse.unquote(parts[-3])
        reason = urllib.parse.parse_qs(query).get("reason", ["UNSPECIFIED"])[0]
        if reason not in self.REVOKE_REASONS:
            return self.ejbca_error(400, "Invalid revocation reason.")
        if issuer_dn.replace(" ", "") != self.server.ca.cert.subject.rfc4514_string().replace(" ", ""):
            return self.ejbca_error(404, "Certificate with issuer %s not found." % issuer_dn)
        r = self.server.ca.revoke(serial, reason)
        if r == "unknown":
            return self.ejbca_error(404, "Certificate %s not found." % serial)
        if r == "already":
            return self.ejbca_error(409, "Certificate is already revoked.")
        self.answer(200, {"issuer_dn": issuer_dn, "serial_number": serial,
                          "revocation_reason": reason, "message": "Successfully revoked",
                          "revoked": True})

    # ---- Sectigo ----------------------------------------------------------
    def scm_error(self, status, code, msg, extra=None):
        self.answer(status, {"code": code, "description": msg}, extra=extra)

    def sectigo(self, body):
        h = self.headers
        if (h.get("login"), h.get("password"), h.get("customerUri")) != \
                (SCM_LOGIN, SCM_PASSWORD, SCM_CUSTOMER):
            return self.scm_error(401, -16, "Unknown user")
        srv = self.server
        if self.command == "POST" and self.path == "/api/smime/v1/enroll":
            if not isinstance(body, dict):
                return self.scm_error(400, -1, "Invalid JSON")
            if body.get("orgId") != SCM_ORG:
                return self.scm_error(400, -1007, "Organization with id %s not found" %
                                      body.get("orgId"))
            if body.get("certType") != SCM_TYPE:
                return self.scm_error(400, -1016, "Certificate type is not valid")
            for k in ("firstName", "lastName", "email", "csr"):
                if not body.get(k):
                    return self.scm_error(400, -1, "'%s' must not be empty" % k)
            what = self.behaviour(body["email"])
            if what == "reject":
                return self.scm_error(400, -1020, "Email %s is not allowed for the selected "
                                      "organization" % body["email"])
            if what == "throttle":
                return self.scm_error(429, -1, "Too many requests", {"Retry-After": "120"})
            if what == "busy":
                return self.answer(503, b"Service Unavailable", "text/plain")
            try:
                csr = x509.load_pem_x509_csr(body["csr"].encode())
            except ValueError:
                return self.scm_error(400, -3, "CSR is invalid")
            with srv.lock:
                srv.orders += 1
                n = srv.orders
                mails = [body["email"]] + list(body.get("secondaryEmails") or [])
                if what == "foreign":
                    mails.append("mallory@example.net")
                waits = int(what.split(":")[1]) if what.startswith("pending:") else 0
                busy = int(what.split(":")[1]) if what.startswith("collectbusy:") else 0
                srv.order_book[n] = {"csr": csr, "mails": mails, "waits": waits, "busy": busy}
            if what == "drop":
                return self.drop()
            return self.answer(200, {"orderNumber": n, "backendCertId": str(n)})
        if self.command == "GET" and self.path.startswith("/api/smime/v2?"):
            q = urllib.parse.parse_qs(self.path.partition("?")[2])
            email = q.get("email", [None])[0]
            out = []
            with srv.lock:
                for n, o in sorted(srv.order_book.items()):
                    if email is not None and o["mails"][0] != email:
                        continue
                    cert = o.get("cert")
                    out.append({"id": n, "orderNumber": n, "backendCertId": str(n),
                                "email": o["mails"][0],
                                "status": "Issued" if cert is not None else "Requested",
                                "serialNumber": "%X" % cert.serial_number if cert else None})
            return self.answer(200, out)
        if self.command == "POST" and self.path.startswith("/api/smime/v1/revoke/serial/"):
            serial = self.path.rsplit("/", 1)[1]
            r = srv.ca.revoke(serial, (body or {}).get("reason") if isinstance(body, dict)
                              else None)
            if r == "unknown":
                return self.scm_error(400, -1404, "Certificate with serial %s not found" % serial)
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        prefix = "/api/smime/v1/collect/"
        if self.command == "GET" and self.path.startswith(prefix):
            num, _, query = self.path[len(prefix):].partition("?")
            order = srv.order_book.get(int(num)) if num.isdigit() else None
            if order is None:
                return self.scm_error(400, -1404, "Certificate with order number %s not found"
                                      % num)
            if query != "format=x509":
                return self.scm_error(400, -1, "Unsupported format")
            with srv.lock:
                if order["busy"] > 0:
                    order["busy"] -= 1
                    return self.answer(503, b"Service Unavailable", "text/plain")
                if order["waits"] > 0:
                    order["waits"] -= 1
                    return self.scm_error(400, -183, "Certificate is not collectable.")
                if "cert" not in order:
                    order["cert"] = srv.ca.sign(order["csr"], order["mails"])
            pem = b"".join(c.public_bytes(serialization.Encoding.PEM)
                           for c in (order["cert"], srv.ca.cert, srv.ca.root))
            return self.answer(200, pem, "application/x-pem-file")
        return self.scm_error(404, -1, "Not found")

    def handle_any(self):
        body = self.read_json()
        logged = body
        if isinstance(body, dict) and "password" in body:
            logged = dict(body, password="(present)")
        self.record(logged)
        getattr(self, self.server.opts.product)(body)

    do_GET = do_POST = do_PUT = handle_any


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("product", choices=["ejbca", "sectigo"])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--pki", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--behaviour", default="/nonexistent")
    ap.add_argument("--issued")
    ap.add_argument("--record")
    ap.add_argument("--clock")
    opts = ap.parse_args()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(opts.pki, "server.pem"), os.path.join(opts.pki, "server.key"))
    if opts.product == "ejbca":
        # Like EJBCA: ask for a client certificate, decide on it after the handshake.
        ctx.verify_mode = ssl.CERT_OPTIONAL
        for ca in ("root.pem", "other-root.pem"):
            ctx.load_verify_locations(os.path.join(opts.pki, ca))
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", opts.port), Handler)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.opts = opts
    srv.ca = CA(opts.pki, opts.issued, opts.record, opts.clock)
    srv.ca.usernames = {}
    srv.lock = threading.Lock()
    srv.orders = 1000
    srv.order_book = {}
    print("listening on 127.0.0.1:%d" % opts.port, file=sys.stderr, flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
