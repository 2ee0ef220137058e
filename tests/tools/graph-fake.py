#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""A Microsoft Graph v1.0 and Entra ID token endpoint on loopback, for tests.

Graph cannot run here, so this stands in for it, following the published
API (learn.microsoft.com: "client credentials flow", "certificate
credentials", "group: list transitiveMembers", "Paging", "Throttling",
"Error responses", "user: sendMail" in MIME format) for exactly what
smimesync uses, including the errors:

  POST /{tenant}/oauth2/v2.0/token     client_credentials with client_secret
                                       or a client_assertion JWT (PS256 or RS256,
                                       x5t#S256 or x5t), both fully validated
  GET  /v1.0/groups/{id}?$select=...
  GET  /v1.0/groups?$filter=displayName eq '...'&$select=...
  GET  /v1.0/groups/{id}/transitiveMembers/microsoft.graph.user
       ?$select=...&$top=N&$count=true  (ConsistencyLevel: eventual), paged
       with @odata.nextLink
  GET  /v1.0/users?$filter=mail eq 'A' or proxyAddresses/any(p:p eq 'smtp:A')
       or otherMails/any(o:o eq 'A')&$select=...&$count=true
                                       (ConsistencyLevel: eventual): who holds A
  GET  /v1.0/groups/{id}/transitiveMemberOf/microsoft.graph.group?$select=id
  GET  /v1.0/users/{id}?$select=...
  POST /v1.0/users/{id}/checkMemberGroups   {"groupIds": [...]}: transitive
  GET  /v1.0/users/delta, /v1.0/groups/delta ("delta query"): the first
       request (its $select is baked into every token after it, as Graph
       does) or $deltatoken=latest ("sync from now": a deltaLink, no data);
       then the @odata.deltaLink, which answers what changed since its
       token was issued: new and changed objects (users: every selected
       property, or with "delta_changed_only" only the changed ones and
       id), removed ones as {"id", "@removed": {"reason": "changed" |
       "deleted"}} (per "removed_reason", default changed), groups with
       members@delta (added members, removed ones with @removed), a long
       members@delta split over several pages as Graph does; pages of
       "delta_page_size" (default 100) joined by @odata.nextLink
       ($skiptoken), the last with @odata.deltaLink ($deltatoken). Faults:
       "expire_delta": a token is answered 400 syncStateNotFound ("The sync
       state generation is not found. The delta token is expired and data
       must be synchronized again."), "resync": 410 Gone with a Location
       header holding the request with an empty $deltaToken ("Synchronization
       reset").
  POST /v1.0/users/{id|upn}/sendMail    text/plain body: base64 MIME, 202

usage: graph-fake.py --dir DIR --cert server.pem --key server.key

DIR/tenant.json (read again at every request, so a test can change it
between runs; its faults start afresh whenever it is rewritten) describes
the tenant:

  {"tenant": GUID, "page_size": 2, "token_lifetime": 3600,
   "clients": {CLIENT_ID: {"secret": S | null, "cert_file": PEM | null,
                           "permissions": ["GroupMember.Read.All", ...]}},
   "groups": {ID: {"displayName": ..., "members": [USER_ID | GROUP_ID | "device:X"]}},
   "users": {ID: {user properties}},
   "faults": {"throttle": [{"contains": TEXT, "times": N, "retry_after": S,
                            "status": 429|503}],
              "expire_token_after": N,       # a token dies after N Graph calls
              "fail": [{"contains": TEXT, "status": N, "code": C, "message": M}]}}

What changed is known by comparing tenant.json as it is now with how it
was when a token was issued (every version the server has seen is kept).

The server writes DIR/port once it listens, DIR/requests.jsonl (one line
per request: method, path, status, and what the test checks), and every
accepted sendMail as DIR/mail/NNNN.eml (the decoded MIME) with
NNNN.json beside it (its To addresses as "rcpt_tos", as the SMTP sink
writes them, so tests/tools/mailbox.py checks both alike) plus a line in
DIR/sent.jsonl.
"""
import argparse
import base64
import binascii
import copy
import datetime
import email
import email.policy
import email.utils
import hashlib
import json
import os
import re
import secrets
import ssl
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.serialization import Encoding

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
MAX_TOP = 999

lock = threading.Lock()
history = []         # every tenant.json seen: [(stamp, {"users", "groups"})], index = seq
skips = {}           # $skiptoken -> {"items": [...], "final": {...}}
tokens = {}          # token -> {"client", "expires", "calls"}
used_jti = set()
fault_counts = {}    # (kind, index) -> times used
mail_seq = [0]


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Fail(Exception):
    def __init__(self, status, body, headers=None):
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


def graph_error(status, code, message, headers=None):
    """Graph's error body (learn.microsoft.com/graph/errors)."""
    return Fail(status, {"error": {"code": code, "message": message, "innerError": {
        "date": datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%S"),
        "request-id": str(uuid.uuid4()), "client-request-id": str(uuid.uuid4())}}},
        headers)


def oauth_error(status, error, aadsts, text):
    """The identity platform's OAuth error body."""
    return Fail(status, {"error": error, "error_description":
                         "%s: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s" % (
                             aadsts, text, uuid.uuid4(), uuid.uuid4(),
                             datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M:%SZ")),
                         "error_codes": [int(aadsts[6:])], "trace_id": str(uuid.uuid4()),
                         "correlation_id": str(uuid.uuid4())})


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "graph-fake"

    def log_message(self, fmt, *args):
        pass

    # -- plumbing ---------------------------------------------------------

    def tenant(self):
        path = os.path.join(self.server.dir, "tenant.json")
        with lock:
            # A rewritten tenant.json starts its faults afresh.
            stamp = os.stat(path).st_mtime_ns
            if stamp != getattr(self.server, "tenant_stamp", None):
                self.server.tenant_stamp = stamp
                fault_counts.clear()
                for tok in tokens.values():
                    tok["calls"] = 0
            with open(path, encoding="utf-8") as f:
                t = json.load(f)
            # Each version is kept: a delta token names the one it was issued at.
            if not history or history[-1][0] != stamp:
                history.append((stamp, {"users": copy.deepcopy(t.get("users", {})),
                                        "groups": copy.deepcopy(t.get("groups", {}))}))
            self.seq = len(history) - 1
        return t

    def base(self):
        return "https://127.0.0.1:%d" % self.server.server_address[1]

    def record(self, status, extra):
        line = {"method": self.command, "path": self.path, "status": status}
        line.update(extra)
        with lock, open(os.path.join(self.server.dir, "requests.jsonl"), "a") as f:
            f.write(json.dumps(line) + "\n")

    def reply(self, status, body, headers=None, extra=None):
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("request-id", str(uuid.uuid4()))
        if data:
            self.send_header("Content-Type", "application/json")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        self.record(status, extra or {})

    def body(self):
        return self.request_body

    def dispatch(self, fn):
        # Read the whole body first, whatever the answer: a body left unread
        # would be taken for the next request on this kept-alive connection.
        n = int(self.headers.get("Content-Length", "0") or "0")
        self.request_body = self.rfile.read(n) if n > 0 else b""
        extra = {}
        try:
            status, body = fn(extra)
            self.reply(status, body, extra=extra)
        except Fail as f:
            if isinstance(f.body, dict) and isinstance(f.body.get("error"), dict):
                extra["code"] = f.body["error"]["code"]
            elif isinstance(f.body, dict):
                extra["code"] = f.body.get("error")
            self.reply(f.status, f.body, f.headers, extra)

    def do_GET(self):
        self.dispatch(self.graph_get)

    def do_POST(self):
        if "/oauth2/v2.0/token" in self.path:
            self.dispatch(self.token)
        elif self.path.endswith("/checkMemberGroups"):
            self.dispatch(self.member_groups)
        else:
            self.dispatch(self.send_mail)

    def member_groups(self, extra):
        t = self.tenant()
        self.authorize(t, extra)
        self.faults(t)
        m = re.fullmatch(r"/v1\.0/users/([^/]+)/checkMemberGroups",
                         urllib.parse.urlsplit(self.path).path)
        if m is None:
            raise graph_error(400, "BadRequest", "Resource not found for the segment.")
        return self.check_member_groups(t, m.group(1), extra)

    # -- the token endpoint -------------------------------------------------

    def token(self, extra):
        t = self.tenant()
        path = urllib.parse.urlsplit(self.path).path
        m = re.fullmatch(r"/([^/]+)/oauth2/v2\.0/token", path)
        if m is None or m.group(1) != t["tenant"]:
            raise oauth_error(400, "invalid_request", "AADSTS90002",
                              "Tenant '%s' not found." % (m.group(1) if m else "?"))
        if self.headers.get("Content-Type", "").split(";")[0] != \
                "application/x-www-form-urlencoded":
            raise oauth_error(400, "invalid_request", "AADSTS900144",
                              "The request body must contain the following parameter: "
                              "'grant_type'.")
        form = {k: v[0] for k, v in urllib.parse.parse_qs(self.body().decode()).items()}
        if form.get("grant_type") != "client_credentials":
            raise oauth_error(400, "unsupported_grant_type", "AADSTS70003",
                              "The app requested an unsupported grant type.")
        client = t["clients"].get(form.get("client_id", ""))
        if client is None:
            raise oauth_error(400, "unauthorized_client", "AADSTS700016",
                              "Application with identifier '%s' was not found in the "
                              "directory." % form.get("client_id"))
        if form.get("scope") != self.base() + "/.default":
            raise oauth_error(400, "invalid_scope", "AADSTS1002012",
                              "The provided value for scope %s is not valid." %
                              form.get("scope"))
        if "client_secret" in form and "client_assertion" in form:
            raise oauth_error(400, "invalid_request", "AADSTS700025",
                              "Client is public so neither 'client_assertion' nor "
                              "'client_secret' should be presented.")
        if "client_secret" in form:
            extra["auth"] = "secret"
            if client.get("secret") is None or \
                    not secrets.compare_digest(form["client_secret"], client["secret"]):
                raise oauth_error(401, "invalid_client", "AADSTS7000215",
                                  "Invalid client secret provided. Ensure the secret being "
                                  "sent in the request is the client secret value, not the "
                                  "client secret ID.")
        elif "client_assertion" in form:
            extra["auth"] = "assertion"
            if form.get("client_assertion_type") != ASSERTION_TYPE:
                raise oauth_error(400, "invalid_request", "AADSTS50027",
                                  "Invalid client_assertion_type.")
            self.check_assertion(t, form, client, extra)
        else:
            raise oauth_error(401, "invalid_client", "AADSTS7000218",
                              "The request body must contain the following parameter: "
                              "'client_assertion' or 'client_secret'.")
        token = "fake." + secrets.token_urlsafe(32)
        life = int(t.get("token_lifetime", 3600))
        with lock:
            tokens[token] = {"client": form["client_id"], "expires": time.time() + life,
                             "calls": 0}
        return 200, {"token_type": "Bearer", "expires_in": life, "ext_expires_in": life,
                     "access_token": token}

    def check_assertion(self, t, form, client, extra):
        def bad(text):
            raise oauth_error(401, "invalid_client", "AADSTS700027",
                              "Client assertion failed signature validation or is "
                              "malformed: %s" % text)
        parts = form["client_assertion"].split(".")
        if len(parts) != 3:
            bad("not a compact JWS")
        try:
            hdr = json.loads(b64url_decode(parts[0]))
            claims = json.loads(b64url_decode(parts[1]))
            sig = b64url_decode(parts[2])
        except (ValueError, binascii.Error):
            bad("undecodable header, claims or signature")
        if client.get("cert_file") is None:
            bad("no certificate is registered for this application")
        with open(client["cert_file"], "rb") as f:
            cert = x509.load_pem_x509_certificate(f.read())
        der = cert.public_bytes(Encoding.DER)
        extra["alg"] = hdr.get("alg")
        if hdr.get("typ") != "JWT":
            bad("typ must be JWT")
        if "x5t#S256" in hdr:
            if hdr["x5t#S256"] != b64url(hashlib.sha256(der).digest()):
                bad("x5t#S256 names no registered certificate")
        elif hdr.get("x5t") != b64url(hashlib.sha1(der).digest()):
            bad("x5t names no registered certificate")
        signing_input = (parts[0] + "." + parts[1]).encode()
        try:
            if hdr.get("alg") == "PS256":
                cert.public_key().verify(sig, signing_input, padding.PSS(
                    mgf=padding.MGF1(hashes.SHA256()), salt_length=32), hashes.SHA256())
            elif hdr.get("alg") == "RS256":
                cert.public_key().verify(sig, signing_input, padding.PKCS1v15(),
                                         hashes.SHA256())
            else:
                bad("alg must be PS256 or RS256")
        except InvalidSignature:
            bad("the signature does not verify with the registered certificate")
        now = time.time()
        want_aud = "%s/%s/oauth2/v2.0/token" % (self.base(), t["tenant"])
        if claims.get("aud") != want_aud:
            bad("aud is %r, not %r" % (claims.get("aud"), want_aud))
        if claims.get("iss") != form["client_id"] or claims.get("sub") != form["client_id"]:
            bad("iss and sub must be the client id")
        for k in ("jti", "nbf", "exp", "iat"):
            if k not in claims:
                bad("claim %s missing" % k)
        if not (claims["nbf"] <= now + 300 and claims["exp"] > now):
            raise oauth_error(401, "invalid_client", "AADSTS700024",
                              "Client assertion is not within its valid time range.")
        with lock:
            if claims["jti"] in used_jti:
                bad("jti replayed")
            used_jti.add(claims["jti"])

    # -- Graph --------------------------------------------------------------

    def authorize(self, t, extra):
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            raise graph_error(401, "InvalidAuthenticationToken",
                              "Access token is empty.")
        exp_after = t.get("faults", {}).get("expire_token_after")
        with lock:
            tok = tokens.get(auth[7:])
            if tok is None:
                raise graph_error(401, "InvalidAuthenticationToken",
                                  "IDX14100: JWT is not well formed.")
            tok["calls"] += 1
            if time.time() >= tok["expires"] or (exp_after and tok["calls"] > exp_after):
                extra["expired"] = True
                raise graph_error(401, "InvalidAuthenticationToken",
                                  "Lifetime validation failed, the token is expired.")
        return t["clients"][tok["client"]]

    def faults(self, t):
        f = t.get("faults", {})
        for i, rule in enumerate(f.get("throttle", [])):
            if rule["contains"] in self.path:
                with lock:
                    n = fault_counts.get(("throttle", i), 0)
                    if n >= rule.get("times", 1):
                        continue
                    fault_counts[("throttle", i)] = n + 1
                status = rule.get("status", 429)
                raise graph_error(status, "TooManyRequests" if status == 429 else
                                  "ServiceUnavailable",
                                  "Too many requests" if status == 429 else
                                  "Service unavailable",
                                  {"Retry-After": str(rule.get("retry_after", 1))})
        for rule in f.get("fail", []):
            if rule["contains"] in self.path:
                raise graph_error(rule["status"], rule["code"], rule["message"])

    def graph_get(self, extra):
        t = self.tenant()
        extra["consistency"] = self.headers.get("ConsistencyLevel")
        client = self.authorize(t, extra)
        self.faults(t)
        perms = set(client.get("permissions", []))
        url = urllib.parse.urlsplit(self.path)
        q = {k: v[0] for k, v in urllib.parse.parse_qs(url.query).items()}
        if url.path == "/v1.0/users":
            return 200, self.holders(t, q, perms, extra)
        if not perms & {"GroupMember.Read.All", "Group.Read.All", "Directory.Read.All"}:
            raise graph_error(403, "Authorization_RequestDenied",
                              "Insufficient privileges to complete the operation.")
        m = re.fullmatch(r"/v1\.0/(users|groups)/delta", url.path)
        if m:
            if m.group(1) == "users" and not perms & {"User.Read.All", "Directory.Read.All"}:
                raise graph_error(403, "Authorization_RequestDenied",
                                  "Insufficient privileges to complete the operation.")
            return 200, self.delta(t, m.group(1), q, extra)
        m = re.fullmatch(r"/v1\.0/groups/([^/]+)", url.path)
        if m:
            g = t["groups"].get(m.group(1))
            if g is None:
                raise self.not_found(m.group(1))
            return 200, self.select({"id": m.group(1), **g}, q)
        if url.path == "/v1.0/groups":
            m = re.fullmatch(r"displayName eq '((?:[^']|'')*)'", q.get("$filter", ""))
            if m is None:
                raise graph_error(400, "Request_UnsupportedQuery", "Unsupported Query.")
            name = m.group(1).replace("''", "'")
            hits = [self.select({"id": gid, **g}, q) for gid, g in t["groups"].items()
                    if g["displayName"] == name]
            return 200, {"@odata.context": self.base() + "/v1.0/$metadata#groups",
                         "value": hits}
        m = re.fullmatch(r"/v1\.0/groups/([^/]+)/transitiveMembers/microsoft\.graph\.user",
                         url.path)
        if m:
            return 200, self.members(t, m.group(1), q, perms, extra)
        m = re.fullmatch(r"/v1\.0/groups/([^/]+)/transitiveMemberOf/microsoft\.graph\.group",
                         url.path)
        if m:
            if m.group(1) not in t["groups"]:
                raise self.not_found(m.group(1))
            ids = sorted(self.ancestors(t, m.group(1)))
            return 200, {"@odata.context": self.base() + "/v1.0/$metadata#groups",
                         "value": [self.select({"id": g}, q) for g in ids]}
        m = re.fullmatch(r"/v1\.0/users/([^/]+)", url.path)
        if m:
            u = t["users"].get(m.group(1))
            if u is None:
                raise self.not_found(m.group(1))
            return 200, self.select({"id": m.group(1), **u}, q)
        raise graph_error(400, "BadRequest", "Resource not found for the segment '%s'." %
                          url.path.rsplit("/", 1)[-1])

    HOLDERS = re.compile(r"mail eq '((?:[^']|'')*)' or proxyAddresses/any\(p:p eq "
                         r"'smtp:((?:[^']|'')*)'\) or otherMails/any\(o:o eq "
                         r"'((?:[^']|'')*)'\)")

    def holders(self, t, q, perms, extra):
        """GET /v1.0/users?$filter=... : who holds an address. Only the one filter
        smimesync sends is understood; comparisons ignore case, as Entra's do."""
        if not perms & {"User.Read.All", "Directory.Read.All"}:
            raise graph_error(403, "Authorization_RequestDenied",
                              "Insufficient privileges to complete the operation.")
        m = self.HOLDERS.fullmatch(q.get("$filter", ""))
        if m is None or len({m.group(1), m.group(2), m.group(3)}) != 1:
            raise graph_error(400, "Request_UnsupportedQuery", "Unsupported Query.")
        # A lambda on proxyAddresses is an advanced query (learn.microsoft.com,
        # "Advanced query capabilities on Microsoft Entra ID objects").
        if self.headers.get("ConsistencyLevel") != "eventual" or q.get("$count") != "true":
            raise graph_error(400, "Request_UnsupportedQuery",
                              "Unsupported Query. (a lambda on proxyAddresses needs "
                              "ConsistencyLevel: eventual and $count=true)")
        addr = m.group(1).replace("''", "'").lower()
        extra["holders_of"] = addr
        hits = []
        for uid, u in t["users"].items():
            mails = [u.get("mail") or ""] + list(u.get("otherMails") or [])
            mails += [p[5:] for p in (u.get("proxyAddresses") or [])
                      if p.lower().startswith("smtp:")]
            if addr in (x.lower() for x in mails):
                hits.append(self.select({"id": uid, **u}, q))
        return {"@odata.context": self.base() + "/v1.0/$metadata#users",
                "@odata.count": len(hits), "value": hits}
    # -- delta queries ------------------------------------------------------

    @staticmethod
    def ancestors(t, oid):
        """Every group that has oid as a member, directly or through groups."""
        found, todo = set(), [oid]
        while todo:
            cur = todo.pop()
            for gid, g in t["groups"].items():
                if cur in g["members"] and gid not in found:
                    found.add(gid)
                    todo.append(gid)
        return found

    def delta_link(self, kind, sel, seq):
        tok = b64url(json.dumps({"r": kind, "sel": sel, "seq": seq}).encode())
        return "%s/v1.0/%s/delta?$deltatoken=%s" % (self.base(), kind, tok)

    def delta_items(self, t, kind, sel, old, new):
        """What changed from version old to version new, as delta objects."""
        items = []
        page_members = int(t.get("delta_members_page", 20))
        reasons = t.get("removed_reason", {})
        a, b = old[kind], new[kind]
        for oid in sorted(set(a) | set(b)):
            if oid not in b:
                items.append({"@odata.type": "#microsoft.graph.%s" % kind[:-1], "id": oid,
                              "@removed": {"reason": reasons.get(oid, "changed")}})
                continue
            if kind == "users":
                if oid in a and a[oid] == b[oid]:
                    continue
                obj = self.select({"id": oid, **b[oid]}, {"$select": sel} if sel else {})
                if oid in a and t.get("delta_changed_only"):
                    obj = {k: v for k, v in obj.items()
                           if k == "id" or a[oid].get(k) != b[oid].get(k)}
                items.append(obj)
                continue
            was = a.get(oid, {}).get("members", [])
            now = b[oid].get("members", [])
            props_changed = oid not in a or {k: v for k, v in a[oid].items() if k != "members"} != \
                {k: v for k, v in b[oid].items() if k != "members"}
            changes = [self.member_ref(new, m) for m in now if m not in was] + \
                [dict(self.member_ref(old, m), **{"@removed": {"reason": "deleted"}})
                 for m in was if m not in now]
            if not changes and not props_changed:
                continue
            base = self.select({"id": oid, **{k: v for k, v in b[oid].items() if k != "members"}},
                               {"$select": ",".join(x for x in (sel or "").split(",")
                                                    if x and x != "members")} if sel else {})
            base["id"] = oid
            # A long members@delta comes over several pages, the group repeated.
            for i in range(0, max(len(changes), 1), page_members):
                obj = dict(base)
                if changes:
                    obj["members@delta"] = changes[i:i + page_members]
                items.append(obj)
        return items

    @staticmethod
    def member_ref(version, mid):
        kind = "group" if mid in version["groups"] else "user"
        return {"@odata.type": "#microsoft.graph.%s" % kind, "id": mid}

    def delta(self, t, kind, q, extra):
        size = int(t.get("delta_page_size", 100))
        faults = t.get("faults", {})
        if "$skiptoken" in q:
            with lock:
                st = skips.get(q["$skiptoken"])
            if st is None:
                raise graph_error(400, "syncStateNotFound",
                                  "The sync state generation is not found. The delta token is "
                                  "expired and data must be synchronized again.")
        else:
            tok = q.get("$deltatoken")
            if tok is not None and tok != "latest":
                if faults.get("resync"):
                    raise graph_error(410, "resyncRequired",
                                      "Resync required. Replace any local cached data with "
                                      "the response data of a new, full delta request.",
                                      {"Location": "%s/v1.0/%s/delta?$deltaToken=" %
                                       (self.base(), kind)})
                try:
                    d = json.loads(b64url_decode(tok))
                    old = history[d["seq"]][1]
                except (ValueError, KeyError, IndexError, TypeError, binascii.Error):
                    d = None
                if d is None or d.get("r") != kind or faults.get("expire_delta"):
                    raise graph_error(400, "syncStateNotFound",
                                      "The sync state generation is not found. The delta "
                                      "token is expired and data must be synchronized again.")
                sel = d["sel"]
                extra["since"] = d["seq"]
            elif tok == "latest":
                sel = q.get("$select", "")
                extra["latest"] = True
                return {"@odata.context": self.base() + "/v1.0/$metadata#" + kind,
                        "@odata.deltaLink": self.delta_link(kind, sel, self.seq), "value": []}
            else:
                sel = q.get("$select", "")
                old = {"users": {}, "groups": {}}
            items = self.delta_items(t, kind, sel, old, history[self.seq][1])
            st = {"items": items, "final": {"kind": kind, "sel": sel, "seq": self.seq}}
        page, rest = st["items"][:size], st["items"][size:]
        body = {"@odata.context": self.base() + "/v1.0/$metadata#" + kind, "value": page}
        if rest:
            skip = secrets.token_urlsafe(12)
            with lock:
                skips[skip] = {"items": rest, "final": st["final"]}
            body["@odata.nextLink"] = "%s/v1.0/%s/delta?$skiptoken=%s" % (self.base(), kind, skip)
        else:
            f = st["final"]
            body["@odata.deltaLink"] = self.delta_link(f["kind"], f["sel"], f["seq"])
        extra["returned"] = len(page)
        return body

    def check_member_groups(self, t, uid, extra):
        if uid not in t["users"]:
            raise self.not_found(uid)
        try:
            asked = json.loads(self.body())["groupIds"]
        except (ValueError, KeyError, TypeError):
            raise graph_error(400, "Request_BadRequest", "Invalid request body.")
        if not isinstance(asked, list) or not all(isinstance(g, str) for g in asked):
            raise graph_error(400, "Request_BadRequest", "Invalid request body.")
        # Microsoft documents "up to 20 groups may be specified"; more is refused.
        if len(asked) > 20:
            raise graph_error(400, "Request_BadRequest",
                              "The number of groupIds in the request exceeds the limit of 20.")
        mine = self.ancestors(t, uid)
        return 200, {"@odata.context": self.base() + "/v1.0/$metadata#Collection(Edm.String)",
                     "value": [g for g in asked if g in mine]}

    def not_found(self, oid):
        return graph_error(404, "Request_ResourceNotFound",
                           "Resource '%s' does not exist or one of its queried "
                           "reference-property objects are not present." % oid)

    @staticmethod
    def select(obj, q):
        if "$select" not in q:
            return obj
        keys = q["$select"].split(",")
        return {k: obj.get(k) for k in keys}

    def members(self, t, gid, q, perms, extra):
        if gid not in t["groups"]:
            raise self.not_found(gid)
        # An OData cast on a directoryObject collection is an advanced query.
        if self.headers.get("ConsistencyLevel") != "eventual" or q.get("$count") != "true":
            raise graph_error(400, "Request_UnsupportedQuery",
                              "Unsupported Query. (the cast needs ConsistencyLevel: "
                              "eventual and $count=true)")
        top = int(q.get("$top", "100"))
        if not 1 <= top <= MAX_TOP:
            raise graph_error(400, "Request_BadRequest",
                              "Invalid page size specified: '%d'. Must be between 1 and "
                              "999 inclusive." % top)
        # Transitive: every user under the group, nested groups resolved, once each.
        order, seen, stack = [], set(), [gid]
        visited = set()
        while stack:
            g = stack.pop(0)
            if g in visited:
                continue
            visited.add(g)
            for mid in t["groups"][g]["members"]:
                if mid in t["groups"]:
                    stack.append(mid)
                elif mid in t["users"] and mid not in seen:
                    seen.add(mid)
                    order.append(mid)
        size = min(top, int(t.get("page_size", 100)))
        start = int(q.get("$skiptoken", "0"))
        page = order[start:start + size]
        can_read_users = bool(perms & {"User.Read.All", "Directory.Read.All"})
        value = []
        for uid in page:
            u = {"id": uid, **t["users"][uid]}
            value.append(self.select(u, q) if can_read_users else
                         {"@odata.type": "#microsoft.graph.user", "id": uid})
        body = {"@odata.context": self.base() + "/v1.0/$metadata#users",
                "@odata.count": len(order), "value": value}
        if start + size < len(order):
            nq = dict(q)
            nq["$skiptoken"] = str(start + size)
            body["@odata.nextLink"] = "%s%s?%s" % (self.base(), urllib.parse.urlsplit(
                self.path).path, urllib.parse.urlencode(nq, safe="$,"))
        extra["page"] = start // size + 1
        extra["returned"] = len(value)
        return body

    def send_mail(self, extra):
        t = self.tenant()
        client = self.authorize(t, extra)
        self.faults(t)
        url = urllib.parse.urlsplit(self.path)
        m = re.fullmatch(r"/v1\.0/users/([^/]+)/sendMail", url.path)
        if m is None:
            raise graph_error(400, "BadRequest", "Resource not found for the segment.")
        if "Mail.Send" not in client.get("permissions", []):
            raise graph_error(403, "ErrorAccessDenied",
                              "Access is denied. Check credentials and try again.")
        who = urllib.parse.unquote(m.group(1))
        mailbox = [u for uid, u in t["users"].items()
                   if uid == who or (u.get("userPrincipalName") or "").lower() == who.lower()
                   or (u.get("mail") or "").lower() == who.lower()]
        if not mailbox or not mailbox[0].get("mail"):
            raise graph_error(404, "ErrorInvalidUser",
                              "The requested user '%s' is invalid." % who)
        if self.headers.get("Content-Type", "").split(";")[0] != "text/plain":
            raise graph_error(400, "ErrorInvalidRequest",
                              "This test server takes MIME content (text/plain) only.")
        raw = self.body()
        try:
            mime = base64.b64decode(raw, validate=True)
        except binascii.Error:
            raise graph_error(400, "ErrorMimeContentInvalidBase64String",
                              "Invalid base64 string for MIME content.")
        msg = email.message_from_bytes(mime, policy=email.policy.default)
        if msg["To"] is None or msg["From"] is None or not msg.get_content_type():
            raise graph_error(400, "ErrorMimeContentInvalid",
                              "The MIME content is invalid.")
        with lock:
            mail_seq[0] += 1
            n = mail_seq[0]
        os.makedirs(os.path.join(self.server.dir, "mail"), exist_ok=True)
        path = os.path.join(self.server.dir, "mail", "%04d.eml" % n)
        with open(path, "wb") as f:
            f.write(mime)
        rcpts = [a for _, a in email.utils.getaddresses([str(msg["To"])])]
        # The same sidecar as tests/tools/smtp-sink.py, so mailbox.py reads both.
        with open(path[:-4] + ".json", "w") as f:
            json.dump({"mail_from": who, "rcpt_tos": rcpts}, f)
        with lock, open(os.path.join(self.server.dir, "sent.jsonl"), "a") as f:
            f.write(json.dumps({"sender": who, "to": str(msg["To"]),
                                "subject": str(msg["Subject"]), "file": path,
                                "base64_len": len(raw)}) + "\n")
        extra["to"] = str(msg["To"])
        return 202, None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    a = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.dir = a.dir
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(a.cert, a.key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    with open(os.path.join(a.dir, "port.tmp"), "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(os.path.join(a.dir, "port.tmp"), os.path.join(a.dir, "port"))
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
