#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""sbr-lint: check one S/MIME leaf against the CA/B Forum S/MIME Baseline
Requirements profile smimesync claims to issue (standards.md 1.2-1.4).

    sbr-lint.py CERT.pem --profile mailbox-strict [--issuer CA.pem]
        [--mail ADDR ...] [--organization O] [--organization-identifier ID]
        [--country C] [--max-days N]

It is independent of smimesync's C code on purpose: it reads the DER with
asn1crypto and checks every rule with its own tables, so a regression in
smime/profile.c fails `make check`. Every finding is printed as
"sbr-lint: FILE: error: ..."; a SHOULD of the BR that we always meet is
checked as strictly as a SHALL. Exit 0 clean, 1 findings, 2 usage/parse.
"""

import argparse
import sys

from asn1crypto import core, pem, x509
from cryptography import x509 as cx509

from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

PROFILES = {
    # name: (policy OID, organization?, multipurpose?)
    "mailbox-strict": ("2.23.140.1.5.1.3", False, False),
    "mailbox-multipurpose": ("2.23.140.1.5.1.2", False, True),
    "organization-strict": ("2.23.140.1.5.2.3", True, False),
    "organization-multipurpose": ("2.23.140.1.5.2.2", True, True),
}

OID = {
    "cp": "2.5.29.32", "cdp": "2.5.29.31", "aia": "1.3.6.1.5.5.7.1.1",
    "bc": "2.5.29.19", "ku": "2.5.29.15", "eku": "2.5.29.37", "aki": "2.5.29.35",
    "san": "2.5.29.17", "ski": "2.5.29.14", "smimecaps": "1.2.840.113549.1.9.15",
    "qc": "1.3.6.1.5.5.7.1.3",
}
PROHIBITED_EXT = {
    "2.5.29.9": "subjectDirectoryAttributes",
    "1.3.6.1.4.1.52266.1": "legal entity identifier",
    "1.3.6.1.4.1.52266.2": "role",
    "1.2.840.113583.1.1.9.1": "Adobe time-stamp",
    "1.2.840.113583.1.1.9.2": "Adobe archive revocation info",
}
EMAIL_PROTECTION = "1.3.6.1.5.5.7.3.4"
CLIENT_AUTH = "1.3.6.1.5.5.7.3.2"
SMTP_UTF8_MAILBOX = "1.3.6.1.5.5.7.8.9"
SPKI_ALG = {
    "300d06092a864886f70d0101010500": "rsa",
    "301306072a8648ce3d020106082a8648ce3d030107": "p256",
    "301006072a8648ce3d020106052b81040022": "p384",
    "301006072a8648ce3d020106052b81040023": "p521",
}
# Signature AlgorithmIdentifier DER -> (CA key kind(s), name)
SIG_ALG = {
    "300d06092a864886f70d01010b0500": ({"rsa"}, "sha256WithRSAEncryption"),
    "300d06092a864886f70d01010c0500": ({"rsa"}, "sha384WithRSAEncryption"),
    "300d06092a864886f70d01010d0500": ({"rsa"}, "sha512WithRSAEncryption"),
    "300a06082a8648ce3d040302": ({"p256"}, "ecdsa-with-SHA256"),
    "300a06082a8648ce3d040303": ({"p384"}, "ecdsa-with-SHA384"),
    "300a06082a8648ce3d040304": ({"p521"}, "ecdsa-with-SHA512"),
}
# Subject attributes allowed per validation type (SBR 7.1.4.2.2).
CN, SERIAL, EMAIL = "2.5.4.3", "2.5.4.5", "1.2.840.113549.1.9.1"
O, OU, ORGID, C, L, ST = "2.5.4.10", "2.5.4.11", "2.5.4.97", "2.5.4.6", "2.5.4.7", "2.5.4.8"
SUBJECT_ALLOWED = {
    False: {CN, SERIAL, EMAIL},
    True: {CN, SERIAL, EMAIL, O, OU, ORGID, C, L, ST},
}
MAX_DAYS = 825

class Lint:
    def __init__(self, path):
        self.path = path
        self.findings = []

    def err(self, msg):
        self.findings.append(msg)

    def check(self, cond, msg):
        if not cond:
            self.err(msg)
        return cond

def load(path):
    with open(path, "rb") as f:
        data = f.read()
    if pem.detect(data):
        _, _, data = pem.unarmor(data)
    return data, x509.Certificate.load(data)

def key_kind(spki_alg_der):
    return SPKI_ALG.get(spki_alg_der.hex())

def dir_string(value):
    """A DirectoryString or similar attribute value as text."""
    native = value.native
    return native if isinstance(native, str) else str(native)

def check_subject(lint, cert, prof, args, san_mails):
    org = PROFILES[prof][1]
    seen = {}
    for rdn in cert.subject.chosen:
        lint.check(len(rdn) == 1, "subject: multi-valued RDN")
        for atv in rdn:
            oid = atv["type"].dotted
            val = dir_string(atv["value"])
            seen.setdefault(oid, []).append(val)
            lint.check(oid in SUBJECT_ALLOWED[org],
                       "subject: attribute %s (%s) is not allowed in %s" % (atv["type"].native, oid, prof))
            lint.check(val.strip(" .-") != "", "subject: %s value %r is metadata only" % (oid, val))
    for oid, vals in seen.items():
        lint.check(len(vals) == 1, "subject: %s appears %d times" % (oid, len(vals)))
    if CN in seen:
        cn = seen[CN][0]
        lint.check(len(cn) <= 64, "subject: CN longer than 64 characters")
        allowed_cn = cn in san_mails or (org and O in seen and cn == seen[O][0])
        lint.check(allowed_cn, "subject: CN %r is neither a mailbox of the SAN%s" %
                   (cn, " nor the organizationName" if org else ""))
    if EMAIL in seen:
        lint.check(seen[EMAIL][0] in san_mails, "subject: emailAddress not repeated in the SAN")
    if org:
        lint.check(O in seen, "subject: organizationName missing (organization-validated)")
        lint.check(ORGID in seen, "subject: organizationIdentifier missing (organization-validated)")
        if args.organization is not None:
            lint.check(seen.get(O, [None])[0] == args.organization,
                       "subject: O is %r, expected %r" % (seen.get(O, [None])[0], args.organization))
        if args.organization_identifier is not None:
            lint.check(seen.get(ORGID, [None])[0] == args.organization_identifier,
                       "subject: organizationIdentifier is %r, expected %r" %
                       (seen.get(ORGID, [None])[0], args.organization_identifier))
        if ORGID in seen:
            oi = seen[ORGID][0]
            lint.check(len(oi) >= 5 and oi[:3] in ("NTR", "VAT", "PSD", "LEI", "GOV", "INT")
                       and oi[3:5].isalpha() and oi[3:5].isupper(),
                       "subject: organizationIdentifier %r has no registration scheme" % oi)
    if C in seen:
        lint.check(len(seen[C][0]) == 2 and seen[C][0].isupper(), "subject: C is not two capitals")
    if args.country is not None:
        lint.check(seen.get(C, [None])[0] == args.country, "subject: C is %r, expected %r" %
                   (seen.get(C, [None])[0], args.country))
    return len(seen) == 0

def check_san(lint, ext, prof):
    mails = []
    for gn in ext["extn_value"].parsed:
        if gn.name == "rfc822_name":
            m = gn.chosen.native
            lint.check(all(ord(ch) < 128 for ch in m) and "@" in m and not m.startswith("@"),
                       "SAN: rfc822Name %r is not an ASCII mailbox" % m)
            mails.append(m)
        elif gn.name == "other_name" and gn.chosen["type_id"].dotted == SMTP_UTF8_MAILBOX:
            inner = gn.chosen["value"]
            try:
                m = inner.parse(core.UTF8String).native
            except Exception as exc:  # noqa: BLE001 - any parse failure is a finding
                lint.err("SAN: SmtpUTF8Mailbox is not a UTF8String (%s)" % exc)
                continue
            local = m.rpartition("@")[0]
            lint.check(any(ord(ch) >= 128 for ch in local),
                       "SAN: SmtpUTF8Mailbox %r has an ASCII local part (RFC 9598: use rfc822Name)" % m)
            lint.check(all(ord(ch) < 128 for ch in m.rpartition("@")[2]),
                       "SAN: SmtpUTF8Mailbox %r has a U-label domain" % m)
            mails.append(m)
        else:
            lint.err("SAN: %s entry is not allowed in %s as smimesync issues it" % (gn.name, prof))
    lint.check(len(mails) > 0, "SAN: no rfc822Name or SmtpUTF8Mailbox")
    lower = [m.lower() for m in mails]
    lint.check(len(set(lower)) == len(lower), "SAN: a mailbox is listed twice")
    return mails

def check_extensions(lint, cert, prof, args, ca):
    policy, org, multi = PROFILES[prof]
    tbs = cert["tbs_certificate"]
    exts = {}
    for ext in tbs["extensions"] or []:
        oid = ext["extn_id"].dotted
        lint.check(oid not in exts, "extension %s appears twice" % oid)
        exts[oid] = ext
    for oid, name in PROHIBITED_EXT.items():
        lint.check(oid not in exts, "%s extension is prohibited" % name)
    known = set(OID.values())
    for oid in exts:
        lint.check(oid in known or oid in PROHIBITED_EXT, "unexpected extension %s" % oid)

    def need(key, name):
        if not lint.check(OID[key] in exts, "%s missing" % name):
            return None
        return exts[OID[key]]

    # certificatePolicies: exactly one reserved S/MIME BR OID, the profile's.
    e = need("cp", "certificatePolicies")
    if e is not None:
        lint.check(not e["critical"].native, "certificatePolicies is critical")
        br = []
        for pi in e["extn_value"].parsed:
            oid = pi["policy_identifier"].dotted
            if oid.startswith("2.23.140.1.5."):
                br.append(oid)
            for q in pi["policy_qualifiers"] or []:
                qid = q["policy_qualifier_id"].dotted
                if qid == "1.3.6.1.5.5.7.2.1":
                    lint.check(q["qualifier"].native.startswith(("http://", "https://")),
                               "certificatePolicies: CPS qualifier is not an http(s) URL")
                elif qid == "1.3.6.1.5.5.7.2.2":
                    lint.check(q["qualifier"]["notice_ref"].native is None,
                               "certificatePolicies: user notice uses noticeRef")
        lint.check(br == [policy], "certificatePolicies: BR policies %s, expected exactly [%s]" %
                   (br, policy))

    # cRLDistributionPoints: http:// fullName URIs only.
    e = need("cdp", "cRLDistributionPoints")
    if e is not None:
        lint.check(not e["critical"].native, "cRLDistributionPoints is critical")
        uris = []
        for dp in e["extn_value"].parsed:
            lint.check(dp["reasons"].native is None and dp["crl_issuer"].native is None,
                       "cRLDistributionPoints: reasons or cRLIssuer present")
            name = dp["distribution_point"]
            if not lint.check(name.name == "full_name", "cRLDistributionPoints: not a fullName"):
                continue
            for gn in name.chosen:
                lint.check(gn.name == "uniform_resource_identifier",
                           "cRLDistributionPoints: %s is not a URI" % gn.name)
                uris.append(gn.native)
        lint.check(len(uris) > 0, "cRLDistributionPoints: no URI")
        for u in uris:
            lint.check(u.startswith("http://"), "cRLDistributionPoints: %s is not http://" % u)

    # authorityInfoAccess: http:// caIssuers / OCSP only.
    e = need("aia", "authorityInfoAccess")
    if e is not None:
        lint.check(not e["critical"].native, "authorityInfoAccess is critical")
        for ad in e["extn_value"].parsed:
            lint.check(ad["access_method"].dotted in ("1.3.6.1.5.5.7.48.1", "1.3.6.1.5.5.7.48.2"),
                       "authorityInfoAccess: method %s" % ad["access_method"].dotted)
            loc = ad["access_location"]
            lint.check(loc.name == "uniform_resource_identifier" and loc.native.startswith("http://"),
                       "authorityInfoAccess: %s is not an http:// URI" % loc.native)

    e = exts.get(OID["bc"])
    if e is not None:
        bc = e["extn_value"].parsed
        lint.check(not bc["ca"].native and bc["path_len_constraint"].native is None,
                   "basicConstraints: cA TRUE or pathLenConstraint present")

    # keyUsage: exact dual-use set by key type, critical.
    kind = key_kind(tbs["subject_public_key_info"]["algorithm"].dump())
    e = need("ku", "keyUsage")
    if e is not None:
        lint.check(e["critical"].native, "keyUsage is not critical")
        ku = set(e["extn_value"].parsed.native)
        want = {"digital_signature", "key_encipherment"} if kind == "rsa" else \
            {"digital_signature", "key_agreement"}
        lint.check(ku == want, "keyUsage %s, expected exactly %s" % (sorted(ku), sorted(want)))

    e = need("eku", "extKeyUsage")
    if e is not None:
        lint.check(not e["critical"].native, "extKeyUsage is critical")
        eku = [p.dotted for p in e["extn_value"].parsed]
        want = [EMAIL_PROTECTION, CLIENT_AUTH] if multi else [EMAIL_PROTECTION]
        lint.check(sorted(eku) == sorted(want), "extKeyUsage %s, expected %s for %s" % (eku, want, prof))

    e = need("aki", "authorityKeyIdentifier")
    if e is not None:
        lint.check(not e["critical"].native, "authorityKeyIdentifier is critical")
        aki = e["extn_value"].parsed
        lint.check(aki["key_identifier"].native is not None, "authorityKeyIdentifier: no keyIdentifier")
        lint.check(aki["authority_cert_issuer"].native is None and
                   aki["authority_cert_serial_number"].native is None,
                   "authorityKeyIdentifier: has issuer/serial, keyIdentifier only allowed")
        if ca is not None:
            lint.check(aki["key_identifier"].native == ca.key_identifier,
                       "authorityKeyIdentifier does not match the CA's subjectKeyIdentifier")

    e = need("ski", "subjectKeyIdentifier")
    if e is not None:
        lint.check(not e["critical"].native, "subjectKeyIdentifier is critical")

    e = need("san", "subjectAltName")
    mails = check_san(lint, e, prof) if e is not None else []
    return exts, mails

def check_key_and_signature(lint, der, cert, ca, ca_der):
    tbs = cert["tbs_certificate"]
    spki = tbs["subject_public_key_info"]
    kind = key_kind(spki["algorithm"].dump())
    if not lint.check(kind is not None, "SPKI AlgorithmIdentifier %s is not a byte-exact BR encoding" %
                      spki["algorithm"].dump().hex()):
        return
    if kind == "rsa":
        pub = spki["public_key"].parsed
        n, e = pub["modulus"].native, pub["public_exponent"].native
        lint.check(n.bit_length() >= 2048 and n.bit_length() % 8 == 0,
                   "RSA modulus of %d bits (>= 2048, multiple of 8)" % n.bit_length())
        lint.check(e % 2 == 1 and e >= 65537, "RSA public exponent %d" % e)
    sig_outer = cert["signature_algorithm"].dump()
    lint.check(sig_outer == tbs["signature"].dump(), "signature algorithm differs inside and outside TBS")
    entry = SIG_ALG.get(sig_outer.hex())
    if not lint.check(entry is not None, "signature algorithm %s is not allowed" % sig_outer.hex()):
        return
    if ca is None:
        return
    ca_kind = key_kind(ca["tbs_certificate"]["subject_public_key_info"]["algorithm"].dump())
    lint.check(ca_kind in entry[0], "signature %s does not match the CA key (%s)" % (entry[1], ca_kind))
    lint.check(tbs["issuer"].dump() == ca["tbs_certificate"]["subject"].dump(),
               "issuer DN is not byte-identical to the CA subject")
    c_leaf = cx509.load_der_x509_certificate(der)
    c_ca = cx509.load_der_x509_certificate(ca_der)
    pub = c_ca.public_key()
    try:
        if isinstance(pub, rsa.RSAPublicKey):
            pub.verify(c_leaf.signature, c_leaf.tbs_certificate_bytes, padding.PKCS1v15(),
                       c_leaf.signature_hash_algorithm)
        elif isinstance(pub, ec.EllipticCurvePublicKey):
            pub.verify(c_leaf.signature, c_leaf.tbs_certificate_bytes,
                       ec.ECDSA(c_leaf.signature_hash_algorithm))
        else:
            lint.err("CA key type is not RSA or EC")
    except Exception:  # noqa: BLE001 - InvalidSignature and friends
        lint.err("signature does not verify with the CA key")

def lint_cert(path, args):
    lint = Lint(path)
    der, cert = load(path)
    ca = ca_der = None
    if args.issuer:
        ca_der, ca = load(args.issuer)
    tbs = cert["tbs_certificate"]
    lint.check(tbs["version"].native == "v3", "not an X.509 v3 certificate")

    serial_int = tbs["serial_number"]
    serial = serial_int.native
    octets = len(serial_int.contents)
    lint.check(serial > 0, "serial is not positive")
    lint.check(serial.bit_length() >= 64, "serial of %d bits: needs 64 bits of CSPRNG output" %
               serial.bit_length())
    lint.check(octets <= 20 and serial < 2 ** 159, "serial longer than 20 octets / 2^159")

    nb = tbs["validity"]["not_before"].native
    na = tbs["validity"]["not_after"].native
    secs = (na - nb).total_seconds() + 1  # SBR 6.3.2 counts both ends
    lint.check(secs > 0, "notAfter is before notBefore")
    lint.check(secs <= MAX_DAYS * 86400, "validity of %.5f days exceeds the BR's %d days" %
               (secs / 86400, MAX_DAYS))
    if args.max_days:
        # The configured validity, plus up to an hour of notBefore backdating.
        lint.check(secs <= args.max_days * 86400 + 3600, "validity of %.2f days exceeds the "
                   "configured %d days" % (secs / 86400, args.max_days))
    for t, name in ((tbs["validity"]["not_before"], "notBefore"), (tbs["validity"]["not_after"], "notAfter")):
        year = t.native.year
        lint.check((t.name == "utc_time") == (year < 2050), "%s uses the wrong time type for %d" % (name, year))
    if ca is not None:
        lint.check(ca["tbs_certificate"]["validity"]["not_after"].native >= na,
                   "leaf outlives its issuing CA")

    exts, mails = check_extensions(lint, cert, args.profile, args, ca)
    empty = check_subject(lint, cert, args.profile, args, mails)
    san = exts.get(OID["san"])
    if san is not None:
        lint.check(bool(san["critical"].native) == empty,
                   "subjectAltName must be critical exactly when the subject is empty")
    for m in args.mail or []:
        lint.check(m in mails, "SAN lacks %s (has %s)" % (m, mails))
    check_key_and_signature(lint, der, cert, ca, ca_der)
    return lint

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("certs", nargs="+", metavar="CERT")
    ap.add_argument("--profile", required=True, choices=sorted(PROFILES))
    ap.add_argument("--issuer", help="issuing CA certificate (checks signature, AKI, issuer DN)")
    ap.add_argument("--mail", action="append", help="address that must be in the SAN (repeatable)")
    ap.add_argument("--organization")
    ap.add_argument("--organization-identifier")
    ap.add_argument("--country")
    ap.add_argument("--max-days", type=int, help="configured validity in days (backdating allowed)")
    args = ap.parse_args()
    bad = 0
    for path in args.certs:
        try:
            lint = lint_cert(path, args)
        except Exception as exc:  # noqa: BLE001 - a certificate we cannot parse is a finding
            print("sbr-lint: %s: error: cannot parse: %s" % (path, exc))
            bad += 1
            continue
        for f in lint.findings:
            print("sbr-lint: %s: error: %s" % (path, f))
        if lint.findings:
            bad += 1
        else:
            print("sbr-lint: %s: ok (%s)" % (path, args.profile))
    return 1 if bad else 0

if __name__ == "__main__":
    sys.exit(main())
